//! Logits → decision: energy E = -logsumexp(logits), the calibrated softmax confidence
//! softmax(logits / T) (T: the bundle's temperature, fitted on validation by the trainer),
//! and the known/unknown call against the bundle's threshold. The energy and the threshold
//! stay on the raw logits, so the temperature changes the probabilities shown, never the
//! decision.

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
    /// Top calibrated probability, softmax(logits / temperature).
    pub confidence: f32,
    pub energy: f32,
    pub threshold: f32,
    pub top: Vec<Ranked>,
    /// The query as the model read it, when typos were repaired ([`crate::spelling`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repaired: Option<String>,
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

/// softmax(logits / temperature): the probabilities a calibrated bundle reports.
pub fn calibrated_softmax(logits: &[f32], temperature: f32) -> Vec<f32> {
    let scaled: Vec<f32> = logits.iter().map(|&z| z / temperature).collect();
    softmax(&scaled)
}

/// Turns logits into the decision for `labels` at `threshold`, with the `top_k` best and
/// probabilities at `temperature` (1.0: the plain softmax).
pub fn decide(
    logits: &[f32],
    labels: &[String],
    threshold: f32,
    top_k: usize,
    temperature: f32,
) -> Classification {
    let probabilities = calibrated_softmax(logits, temperature);
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
        repaired: None,
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
        let d = decide(&[0.0, 2.0], &labels, -2.0, 3, 1.0);
        assert!(d.known);
        assert_eq!(d.intent, "b");
        assert_eq!(d.top.len(), 2);
        let d = decide(&[0.0, 2.0], &labels, -2.2, 1, 1.0);
        assert!(!d.known);
        assert_eq!(d.intent, UNKNOWN_INTENT);
        assert_eq!(d.top[0].intent, "b");
        assert!((d.confidence - 0.880_797).abs() < 1e-5);
    }

    #[test]
    fn temperature_softens_probabilities_but_not_the_decision() {
        let labels = vec!["a".to_string(), "b".to_string()];
        let plain = decide(&[0.0, 2.0], &labels, -2.0, 2, 1.0);
        let warm = decide(&[0.0, 2.0], &labels, -2.0, 2, 2.0);
        // softmax([0, 1]) = 1 / (1 + e^-1) = 0.731059
        assert!((warm.confidence - 0.731_059).abs() < 1e-5);
        assert!((warm.top.iter().map(|r| r.probability).sum::<f32>() - 1.0).abs() < 1e-6);
        assert_eq!(
            (warm.known, &warm.intent, warm.energy),
            (plain.known, &plain.intent, plain.energy)
        );
    }
}
