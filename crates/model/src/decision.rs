//! Logits → decision: energy E = -logsumexp(logits), softmax confidence, and the
//! known/unknown call against the bundle's threshold.

use serde::Serialize;

/// The label reported when energy is above the threshold.
pub const UNKNOWN_INTENT: &str = "unknown";

/// One ranked intent.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Ranked {
    pub intent: String,
    pub probability: f32,
}

/// What `classify` returns.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Classification {
    /// The best intent, or [`UNKNOWN_INTENT`] when `known` is false.
    pub intent: String,
    pub known: bool,
    /// Top softmax probability.
    pub confidence: f32,
    pub energy: f32,
    pub threshold: f32,
    pub top: Vec<Ranked>,
}

/// -logsumexp(logits), computed stably.
pub fn energy(logits: &[f32]) -> f32 {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let sum: f32 = logits.iter().map(|&z| (z - max).exp()).sum();
    -(max + sum.ln())
}

pub fn softmax(logits: &[f32]) -> Vec<f32> {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let exps: Vec<f32> = logits.iter().map(|&z| (z - max).exp()).collect();
    let sum: f32 = exps.iter().sum();
    exps.into_iter().map(|e| e / sum).collect()
}

/// Turns logits into the decision for `labels` at `threshold`, with the `top_k` best.
pub fn decide(logits: &[f32], labels: &[String], threshold: f32, top_k: usize) -> Classification {
    let probabilities = softmax(logits);
    let mut order: Vec<usize> = (0..logits.len()).collect();
    order.sort_by(|&a, &b| logits[b].total_cmp(&logits[a]));
    let best = order[0];
    let energy = energy(logits);
    let known = energy <= threshold;
    Classification {
        intent: if known {
            labels[best].clone()
        } else {
            UNKNOWN_INTENT.to_string()
        },
        known,
        confidence: probabilities[best],
        energy,
        threshold,
        top: order
            .iter()
            .take(top_k)
            .map(|&i| Ranked {
                intent: labels[i].clone(),
                probability: probabilities[i],
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn energy_by_hand() {
        // -ln(e^1 + e^2 + e^3) = -3.40760596
        assert!((energy(&[1.0, 2.0, 3.0]) + 3.407_606).abs() < 1e-5);
        // Large logits stay finite.
        assert!((energy(&[1000.0, 1000.0]) + 1000.0 + 2f32.ln()).abs() < 1e-3);
    }

    #[test]
    fn decision_flips_at_threshold() {
        let labels = vec!["a".to_string(), "b".to_string()];
        let d = decide(&[0.0, 2.0], &labels, -2.0, 3);
        assert!(d.known);
        assert_eq!(d.intent, "b");
        assert_eq!(d.top.len(), 2);
        let d = decide(&[0.0, 2.0], &labels, -2.2, 1);
        assert!(!d.known);
        assert_eq!(d.intent, UNKNOWN_INTENT);
        assert_eq!(d.top[0].intent, "b");
        assert!((d.confidence - 0.880_797).abs() < 1e-5);
    }
}
