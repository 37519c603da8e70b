//! Logits → decision: energy E = -logsumexp(logits), the calibrated softmax confidence
//! softmax(logits / T) (T: the bundle's temperature, fitted on validation by the trainer),
//! and the known/unknown call against the bundle's threshold. The energy and the threshold
//! stay on the raw logits, so the temperature changes the probabilities shown, never the
//! decision. Text the tokenizer cannot read ([`MAX_UNKNOWN_SHARE`]), and text the model has
//! no grounds to judge ([`crate::familiar`]), are unknown whatever their energy.

use serde::Serialize;

/// The label reported when energy is above the threshold.
pub const UNKNOWN_INTENT: &str = "unknown";

/// Above this share of unknown word pieces a query is unknown whatever its energy. Such a
/// query reads as little more than repeats of one row, the unknown token's, and training
/// gives that row whatever meaning the unreadable training text had (an English table turns
/// Chinese sentences into runs of it), so its logits say nothing about the query. More
/// than half, so that one unreadable name among known words (`translate 你好 to english`, 2
/// of 5 pieces) is still read.
pub const MAX_UNKNOWN_SHARE: f32 = 0.5;

/// Why a result is unknown.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Reason {
    /// The energy is above the threshold: the text is unlike the training intents.
    Energy,
    /// Most of the text is word pieces the tokenizer cannot spell ([`MAX_UNKNOWN_SHARE`]).
    Unreadable,
    /// The text shows nothing the model knows: no word, mostly scripts its intents are not
    /// written in, or no word of its training data or its tokenizer ([`crate::familiar`]).
    Unfamiliar,
}

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
    /// Why the result is unknown; `None` when it is known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<Reason>,
}

impl Classification {
    /// The decision for a query of which `unknown_share` of the word pieces are the unknown
    /// token: unknown, as unreadable, above [`MAX_UNKNOWN_SHARE`]; otherwise unchanged. The
    /// energy and ranking stay as computed, for showing.
    pub fn unless_unreadable(self, unknown_share: f32) -> Self {
        if unknown_share > MAX_UNKNOWN_SHARE {
            self.unknown_because(Reason::Unreadable)
        } else {
            self
        }
    }

    /// The decision for a query [`crate::familiar::is_unfamiliar`] judged: unknown, as
    /// unfamiliar, when it is (an unreadable one keeps that reason, the more precise).
    pub fn unless_unfamiliar(self, unfamiliar: bool) -> Self {
        if unfamiliar && self.reason != Some(Reason::Unreadable) {
            self.unknown_because(Reason::Unfamiliar)
        } else {
            self
        }
    }

    fn unknown_because(mut self, reason: Reason) -> Self {
        self.known = false;
        self.intent = UNKNOWN_INTENT.to_string();
        self.reason = Some(reason);
        self
    }
}

/// -logsumexp(logits), computed stably.
pub fn energy(logits: &[f32]) -> f32 {
    -crate::math::logsumexp(logits)
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
        reason: (!known).then_some(Reason::Energy),
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
        assert_eq!(d.reason, Some(Reason::Energy));
    }

    #[test]
    fn mostly_unreadable_text_is_unknown_whatever_its_energy() {
        let labels = vec!["a".to_string(), "b".to_string()];
        let known = decide(&[0.0, 9.0], &labels, -2.0, 2, 1.0);
        assert_eq!((known.known, known.reason), (true, None));
        // At the bound the text is still read; past it, not.
        assert_eq!(known.clone().unless_unreadable(MAX_UNKNOWN_SHARE), known);
        let unreadable = known.clone().unless_unreadable(0.75);
        assert_eq!(
            (unreadable.known, unreadable.intent.as_str()),
            (false, UNKNOWN_INTENT)
        );
        assert_eq!(unreadable.reason, Some(Reason::Unreadable));
        assert_eq!(
            (unreadable.energy, &unreadable.top),
            (known.energy, &known.top)
        );
        let json = serde_json::to_value(&unreadable).unwrap();
        assert_eq!(json["reason"], "unreadable");
        assert!(serde_json::to_value(&known)
            .unwrap()
            .get("reason")
            .is_none());
    }

    #[test]
    fn unfamiliar_text_is_unknown_and_unreadable_keeps_its_reason() {
        let labels = vec!["a".to_string(), "b".to_string()];
        let known = decide(&[0.0, 9.0], &labels, -2.0, 2, 1.0);
        assert_eq!(known.clone().unless_unfamiliar(false), known);
        let unfamiliar = known.clone().unless_unfamiliar(true);
        assert_eq!(
            (
                unfamiliar.known,
                unfamiliar.intent.as_str(),
                unfamiliar.reason
            ),
            (false, UNKNOWN_INTENT, Some(Reason::Unfamiliar))
        );
        assert_eq!(
            serde_json::to_value(&unfamiliar).unwrap()["reason"],
            "unfamiliar"
        );
        // Above the threshold too, unfamiliar is the reason given.
        let high = decide(&[0.0, 2.0], &labels, -2.2, 1, 1.0).unless_unfamiliar(true);
        assert_eq!(high.reason, Some(Reason::Unfamiliar));
        let unreadable = known.unless_unreadable(1.0).unless_unfamiliar(true);
        assert_eq!(unreadable.reason, Some(Reason::Unreadable));
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
