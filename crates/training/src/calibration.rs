//! Temperature scaling: one T, fitted on the known validation sentences by minimising the
//! negative log-likelihood of softmax(logits / T), so that the reported probability of the
//! top intent matches how often it is right. Expected calibration error (ECE) measures that,
//! before and after. Only the probabilities change: argmax and energy stay on raw logits.

use model::math::{argmax, logsumexp};
use serde::Serialize;

use crate::data::Example;

/// Bins of the expected calibration error (the usual 15 of Guo et al., 2017).
pub const ECE_BINS: usize = 15;

/// The search interval of ln T: T from e^-3 (0.05) to e^5 (148).
const LOG_T_RANGE: (f64, f64) = (-3.0, 5.0);
const GOLDEN_STEPS: usize = 60;

/// One sentence's logits and its true label.
pub type Scored = (Vec<f32>, usize);

/// Whether any sentence's top logit is not its label's.
fn has_mistakes(scored: &[Scored]) -> bool {
    scored
        .iter()
        .any(|(logits, label)| argmax(logits) != Some(*label))
}

/// Mean negative log-likelihood of the true labels under softmax(logits / t).
pub fn nll(scored: &[Scored], t: f64) -> f64 {
    if scored.is_empty() {
        return f64::NAN;
    }
    let total: f64 = scored
        .iter()
        .map(|(logits, label)| {
            let z: Vec<f64> = logits.iter().map(|&v| v as f64 / t).collect();
            logsumexp(&z) - z[*label]
        })
        .sum();
    total / scored.len() as f64
}

/// The temperature minimising [`nll`]: golden-section search on ln T. The NLL is convex in
/// 1/T, so it has one minimum along ln T too. No sentences, or no mistakes among them: 1.0
/// (no change): with every validation sentence right the NLL only falls as T shrinks, and
/// the fit would claim ~100% for every query, which is what calibration is meant to stop.
pub fn fit_temperature(scored: &[Scored]) -> f32 {
    if scored.is_empty() || !has_mistakes(scored) {
        return 1.0;
    }
    let f = |log_t: f64| nll(scored, log_t.exp());
    let ratio = (5f64.sqrt() - 1.0) / 2.0;
    let (mut a, mut b) = LOG_T_RANGE;
    let mut c = b - ratio * (b - a);
    let mut d = a + ratio * (b - a);
    let (mut fc, mut fd) = (f(c), f(d));
    for _ in 0..GOLDEN_STEPS {
        if fc <= fd {
            b = d;
            d = c;
            fd = fc;
            c = b - ratio * (b - a);
            fc = f(c);
        } else {
            a = c;
            c = d;
            fc = fd;
            d = a + ratio * (b - a);
            fd = f(d);
        }
    }
    let t = ((a + b) / 2.0).exp() as f32;
    if t.is_finite() && t > 0.0 {
        t
    } else {
        1.0
    }
}

/// Expected calibration error of the top probability at temperature `t`: sentences binned
/// by confidence into [`ECE_BINS`] equal-width bins, the gap |accuracy - mean confidence|
/// of each bin weighted by its share of sentences.
pub fn ece(scored: &[Scored], t: f32) -> f64 {
    if scored.is_empty() {
        return f64::NAN;
    }
    let mut bins = [(0usize, 0f64, 0usize); ECE_BINS]; // (count, sum of confidence, correct)
    for (logits, label) in scored {
        let p = model::decision::calibrated_softmax(logits, t);
        let (best, confidence) = argmax(&p).map_or((0, 0.0), |i| (i, p[i]));
        let bin = ((confidence as f64 * ECE_BINS as f64) as usize).min(ECE_BINS - 1);
        bins[bin].0 += 1;
        bins[bin].1 += confidence as f64;
        bins[bin].2 += usize::from(best == *label);
    }
    let n = scored.len() as f64;
    bins.iter()
        .filter(|b| b.0 > 0)
        .map(|&(count, confidence, correct)| {
            let k = count as f64;
            (k / n) * (correct as f64 / k - confidence / k).abs()
        })
        .sum()
}

/// ECE of one split before (T = 1) and after calibration.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct EceFigures {
    pub sentences: usize,
    pub before: f64,
    pub after: f64,
}

impl EceFigures {
    pub fn of(scored: &[Scored], temperature: f32) -> Self {
        Self {
            sentences: scored.len(),
            before: ece(scored, 1.0),
            after: ece(scored, temperature),
        }
    }
}

/// What the bundle's metrics say about calibration.
#[derive(Clone, Debug, Serialize)]
pub struct Calibration {
    pub method: &'static str,
    pub temperature: f32,
    pub bins: usize,
    /// The split T was fitted on: its "after" figure is not a held-out one.
    pub validation: EceFigures,
    pub test: EceFigures,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<&'static str>,
}

/// Logits and labels of known sentences, for [`calibrate`].
pub fn scored(known: &[Example], logits: impl Fn(&str) -> Vec<f32>) -> Vec<Scored> {
    known
        .iter()
        .map(|(text, label)| (logits(text), *label))
        .collect()
}

/// Fits T on `validation` and reports ECE on both splits. `test_is_validation`: the data had
/// no test split of its own, so the test figures are the fitted ones too.
pub fn calibrate(validation: &[Scored], test: &[Scored], test_is_validation: bool) -> Calibration {
    let temperature = fit_temperature(validation);
    Calibration {
        method: "temperature scaling (NLL on the known validation sentences)",
        temperature,
        bins: ECE_BINS,
        validation: EceFigures::of(validation, temperature),
        test: EceFigures::of(test, temperature),
        note: if !has_mistakes(validation) {
            Some("no validation sentence was misclassified, so there is nothing to calibrate against: T stays 1")
        } else if test_is_validation {
            Some("the test split is the validation split T was fitted on: `after` is optimistic")
        } else {
            None
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// Logits of an over-confident classifier: right 70% of the time, but with a margin so
    /// large that softmax says ~100%.
    fn overconfident(n: usize, seed: u64) -> Vec<Scored> {
        let mut rng = rand_chacha::ChaCha12Rng::seed_from_u64(seed);
        (0..n)
            .map(|_| {
                let label = rng.gen_range(0..4);
                let right = rng.gen_bool(0.7);
                let top = if right { label } else { (label + 1) % 4 };
                let mut logits: Vec<f32> = (0..4).map(|_| rng.gen_range(-1.0..1.0)).collect();
                logits[top] += rng.gen_range(8.0..14.0);
                (logits, label)
            })
            .collect()
    }

    #[test]
    fn calibration_lowers_ece_of_an_overconfident_model() {
        let val = overconfident(400, 1);
        let test = overconfident(400, 2);
        let c = calibrate(&val, &test, false);
        assert!(
            c.temperature.is_finite() && c.temperature > 1.0,
            "T = {}",
            c.temperature
        );
        // Before: ~100% confidence at ~70% accuracy.
        assert!(c.test.before > 0.25, "{:?}", c.test);
        assert!(c.test.after < c.test.before / 3.0, "{:?}", c.test);
        assert!(c.validation.after < c.validation.before);
        assert!(nll(&val, c.temperature as f64) < nll(&val, 1.0));
    }

    #[test]
    fn temperature_is_finite_and_positive_at_the_edges() {
        // All right with huge margins: the NLL falls toward T → 0; nothing to fit, T stays 1.
        let perfect: Vec<Scored> = vec![(vec![30.0, 0.0, 0.0], 0); 50];
        assert_eq!(fit_temperature(&perfect), 1.0);
        // Uninformative logits: nothing to sharpen or soften, still a usable T.
        let flat: Vec<Scored> = (0..30).map(|i| (vec![0.0, 0.0], i % 2)).collect();
        let t = fit_temperature(&flat);
        assert!(t.is_finite() && t > 0.0, "T = {t}");
        assert_eq!(fit_temperature(&[]), 1.0);
    }

    #[test]
    fn ece_by_hand() {
        // Two sentences at confidence ~0.88 (logits 0 and 2), one right one wrong:
        // one bin, |0.5 - 0.8808| = 0.3808.
        let scored = vec![(vec![0.0, 2.0], 1), (vec![0.0, 2.0], 0)];
        assert!((ece(&scored, 1.0) - 0.380_797).abs() < 1e-5);
    }
}
