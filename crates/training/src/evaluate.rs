//! Metrics of a classifier on known and unknown sentences, and the threshold rule.
//! Unknown is the positive class for the known-vs-unknown figures; the energy score is
//! higher for unknown.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::data::Example;

/// One known sentence's outcome.
#[derive(Clone, Copy, Debug)]
pub struct KnownScore {
    pub label: usize,
    pub predicted: usize,
    pub energy: f32,
}

/// How the energy threshold is chosen on validation data.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "kebab-case")]
pub enum ThresholdRule {
    /// Accept 95% of known validation sentences.
    Tpr95,
    /// Best known-vs-unknown F1 on validation (needs validation negatives; falls back to tpr95).
    BestF1,
    /// Best mean of in-scope accuracy and unknown recall on validation: both kinds of
    /// mistake weigh the same (needs validation negatives; falls back to tpr95).
    Balanced,
    /// Best in-scope accuracy on validation while rejecting at least 75% of the validation
    /// negatives (needs validation negatives; falls back to tpr95).
    Recall75,
}

/// Energy at which a fraction `keep` of `known` energies is at or below.
pub fn quantile_threshold(known: &[f32], keep: f64) -> f32 {
    let mut e: Vec<f32> = known.iter().copied().filter(|v| v.is_finite()).collect();
    if e.is_empty() {
        return 0.0;
    }
    e.sort_by(f32::total_cmp);
    let idx = ((keep * e.len() as f64).ceil() as usize).clamp(1, e.len()) - 1;
    e[idx]
}

/// The candidate threshold (an observed energy) that maximises `score`.
fn best_threshold(known: &[f32], unknown: &[f32], score: impl Fn(f32) -> f64) -> f32 {
    let mut candidates: Vec<f32> = known
        .iter()
        .chain(unknown)
        .copied()
        .filter(|e| e.is_finite())
        .collect();
    candidates.sort_by(f32::total_cmp);
    candidates.dedup();
    let mut best = (f64::NEG_INFINITY, quantile_threshold(known, 0.95));
    for &t in &candidates {
        let s = score(t);
        if s > best.0 {
            best = (s, t);
        }
    }
    best.1
}

pub fn choose_threshold(rule: ThresholdRule, known: &[KnownScore], unknown: &[f32]) -> f32 {
    let known_e: Vec<f32> = known.iter().map(|s| s.energy).collect();
    match rule {
        ThresholdRule::Tpr95 => quantile_threshold(&known_e, 0.95),
        _ if unknown.is_empty() || known.is_empty() => quantile_threshold(&known_e, 0.95),
        ThresholdRule::BestF1 => {
            best_threshold(&known_e, unknown, |t| Binary::at(&known_e, unknown, t).f1)
        }
        ThresholdRule::Balanced | ThresholdRule::Recall75 => {
            // Sorting once makes each candidate O(log n) instead of a pass over both sets.
            let mut correct: Vec<f32> = known
                .iter()
                .filter(|s| s.predicted == s.label)
                .map(|s| s.energy)
                .collect();
            correct.sort_by(f32::total_cmp);
            let mut unknown_sorted: Vec<f32> = unknown.to_vec();
            unknown_sorted.sort_by(f32::total_cmp);
            let in_scope_accuracy =
                |t: f32| correct.partition_point(|&e| e <= t) as f64 / known.len() as f64;
            let unknown_recall = |t: f32| {
                (unknown_sorted.len() - unknown_sorted.partition_point(|&e| e <= t)) as f64
                    / unknown.len() as f64
            };
            best_threshold(&known_e, unknown, |t| match rule {
                ThresholdRule::Recall75 if unknown_recall(t) < 0.75 => f64::NEG_INFINITY,
                ThresholdRule::Recall75 => in_scope_accuracy(t),
                _ => (in_scope_accuracy(t) + unknown_recall(t)) / 2.0,
            })
        }
    }
}

/// Known-vs-unknown confusion figures at a threshold (unknown = positive).
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Binary {
    pub accuracy: f64,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
}

impl Binary {
    pub fn at(known: &[f32], unknown: &[f32], threshold: f32) -> Self {
        let tp = unknown.iter().filter(|&&e| e > threshold).count() as f64;
        let fn_ = unknown.len() as f64 - tp;
        let fp = known.iter().filter(|&&e| e > threshold).count() as f64;
        let tn = known.len() as f64 - fp;
        let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { 0.0 };
        let precision = ratio(tp, tp + fp);
        let recall = ratio(tp, tp + fn_);
        Self {
            accuracy: ratio(tp + tn, tp + tn + fp + fn_),
            precision,
            recall,
            f1: ratio(2.0 * precision * recall, precision + recall),
        }
    }
}

/// Area under the ROC curve of energy as an unknown-detector (ties count half).
pub fn auroc(known: &[f32], unknown: &[f32]) -> f64 {
    if known.is_empty() || unknown.is_empty() {
        return f64::NAN;
    }
    let mut all: Vec<(f32, bool)> = known
        .iter()
        .map(|&e| (e, false))
        .chain(unknown.iter().map(|&e| (e, true)))
        .collect();
    all.sort_by(|a, b| a.0.total_cmp(&b.0));
    // Mann-Whitney U with average ranks for ties.
    let mut rank_sum = 0.0;
    let mut i = 0;
    while i < all.len() {
        let mut j = i;
        while j < all.len() && all[j].0 == all[i].0 {
            j += 1;
        }
        let avg_rank = (i + 1 + j) as f64 / 2.0;
        rank_sum += avg_rank * all[i..j].iter().filter(|x| x.1).count() as f64;
        i = j;
    }
    let (n_u, n_k) = (unknown.len() as f64, known.len() as f64);
    (rank_sum - n_u * (n_u + 1.0) / 2.0) / (n_u * n_k)
}

/// Fraction of unknown sentences accepted at the threshold that accepts 95% of known ones.
pub fn fpr_at_95_tpr(known: &[f32], unknown: &[f32]) -> f64 {
    if unknown.is_empty() {
        return f64::NAN;
    }
    let t = quantile_threshold(known, 0.95);
    unknown.iter().filter(|&&e| e <= t).count() as f64 / unknown.len() as f64
}

#[derive(Clone, Debug, Serialize)]
pub struct Confusion {
    pub truth: String,
    pub predicted: String,
    pub count: usize,
}

/// Below this many sentences in an intent's share of a split, its figures are called optimistic.
pub const MIN_SENTENCES_PER_INTENT: usize = 30;

/// The split behind a report's figures, and whether they deserve trust.
#[derive(Clone, Debug, Serialize)]
pub struct SplitInfo {
    pub sentences: usize,
    pub intents: usize,
    pub negatives: usize,
    /// The smallest number of sentences of one intent in the split.
    pub min_sentences_per_intent: usize,
    /// Cut from the training file (the 80/20 split made when the data has no validation split).
    pub from_training_file: bool,
    /// The figures are likely better than on real users' queries.
    pub optimistic: bool,
    /// Why `optimistic` is set, for the model card; absent when it is not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl SplitInfo {
    pub fn of(
        labels: usize,
        known: &[KnownScore],
        negatives: usize,
        from_training_file: bool,
    ) -> Self {
        let mut per_intent = vec![0usize; labels];
        for s in known {
            per_intent[s.label] += 1;
        }
        let present: Vec<usize> = per_intent.into_iter().filter(|&n| n > 0).collect();
        let min_sentences_per_intent = present.iter().copied().min().unwrap_or(0);
        let mut reasons = Vec::new();
        if min_sentences_per_intent < MIN_SENTENCES_PER_INTENT {
            reasons.push(format!(
                "only {min_sentences_per_intent} sentences of the smallest intent (under {MIN_SENTENCES_PER_INTENT})"
            ));
        }
        if from_training_file {
            reasons.push("the split was cut from the training file".to_string());
        }
        Self {
            sentences: known.len(),
            intents: present.len(),
            negatives,
            min_sentences_per_intent,
            from_training_file,
            optimistic: !reasons.is_empty(),
            note: (!reasons.is_empty()).then(|| format!("optimistic: {}", reasons.join("; "))),
        }
    }
}

/// Everything `evaluate` reports.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// What the figures were measured on.
    pub split: SplitInfo,
    pub threshold: f32,
    pub known: usize,
    pub unknown: usize,
    /// Correct intent and accepted as known, over known sentences (Larson et al.'s in-scope accuracy).
    pub in_scope_accuracy: f64,
    /// Correct intent ignoring the threshold.
    pub closed_set_accuracy: f64,
    /// Unknown sentences rejected.
    pub oos_recall: f64,
    pub auroc: f64,
    pub fpr95: f64,
    /// Known-vs-unknown figures at the threshold, unknown as the positive class.
    pub binary: Binary,
    pub mean_energy_known: f64,
    pub mean_energy_unknown: f64,
    pub per_intent_accuracy: Vec<(String, f64)>,
    pub top_confusions: Vec<Confusion>,
}

fn mean(v: &[f32]) -> f64 {
    if v.is_empty() {
        f64::NAN
    } else {
        v.iter().map(|&x| x as f64).sum::<f64>() / v.len() as f64
    }
}

/// The figures of `known` and `unknown` at `threshold`; `from_training_file` says whether the
/// split was cut from the training file (see [`SplitInfo`]).
pub fn report(
    labels: &[String],
    known: &[KnownScore],
    unknown: &[f32],
    threshold: f32,
    from_training_file: bool,
) -> Report {
    let accepted = |s: &KnownScore| s.energy <= threshold;
    let n = known.len().max(1) as f64;
    let known_e: Vec<f32> = known.iter().map(|s| s.energy).collect();
    let mut per_intent: Vec<(usize, usize)> = vec![(0, 0); labels.len()];
    let mut confusions: HashMap<(usize, Option<usize>), usize> = HashMap::new();
    for s in known {
        per_intent[s.label].1 += 1;
        let got = if accepted(s) { Some(s.predicted) } else { None };
        if got == Some(s.label) {
            per_intent[s.label].0 += 1;
        } else {
            *confusions.entry((s.label, got)).or_default() += 1;
        }
    }
    let mut top: Vec<_> = confusions.into_iter().collect();
    top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    Report {
        split: SplitInfo::of(labels.len(), known, unknown.len(), from_training_file),
        threshold,
        known: known.len(),
        unknown: unknown.len(),
        in_scope_accuracy: known
            .iter()
            .filter(|s| accepted(s) && s.predicted == s.label)
            .count() as f64
            / n,
        closed_set_accuracy: known.iter().filter(|s| s.predicted == s.label).count() as f64 / n,
        oos_recall: if unknown.is_empty() {
            f64::NAN
        } else {
            unknown.iter().filter(|&&e| e > threshold).count() as f64 / unknown.len() as f64
        },
        auroc: auroc(&known_e, unknown),
        fpr95: fpr_at_95_tpr(&known_e, unknown),
        binary: Binary::at(&known_e, unknown, threshold),
        mean_energy_known: mean(&known_e),
        mean_energy_unknown: mean(unknown),
        per_intent_accuracy: labels
            .iter()
            .zip(&per_intent)
            .filter(|(_, c)| c.1 > 0)
            .map(|(l, c)| (l.clone(), c.0 as f64 / c.1 as f64))
            .collect(),
        top_confusions: top
            .into_iter()
            .take(10)
            .map(|((t, p), count)| Confusion {
                truth: labels[t].clone(),
                predicted: p.map_or(model::UNKNOWN_INTENT.to_string(), |p| labels[p].clone()),
                count,
            })
            .collect(),
    }
}

/// Scores sentences with a logits function (argmax and energy).
pub fn score(
    known: &[Example],
    unknown: &[String],
    logits: impl Fn(&str) -> Vec<f32>,
) -> (Vec<KnownScore>, Vec<f32>) {
    let argmax = |l: &[f32]| model::math::argmax(l).unwrap_or(0);
    let known = known
        .iter()
        .map(|(text, label)| {
            let l = logits(text);
            KnownScore {
                label: *label,
                predicted: argmax(&l),
                energy: model::decision::energy(&l),
            }
        })
        .collect();
    let unknown = unknown
        .iter()
        .map(|t| model::decision::energy(&logits(t)))
        .collect();
    (known, unknown)
}

impl Report {
    /// The human-readable table.
    pub fn render(&self, title: &str) -> String {
        use std::fmt::Write;
        let mut out = String::new();
        let pct = |v: f64| format!("{:>6.2}%", v * 100.0);
        let _ = writeln!(out, "{title}");
        if let Some(note) = &self.split.note {
            let _ = writeln!(out, "  NOTE                     {note}");
        }
        let _ = writeln!(
            out,
            "  known sentences          {:>7} ({} intents)",
            self.known, self.split.intents
        );
        let _ = writeln!(out, "  unknown sentences        {:>7}", self.unknown);
        let _ = writeln!(out, "  energy threshold         {:>7.3}", self.threshold);
        let _ = writeln!(
            out,
            "  in-scope accuracy        {}",
            pct(self.in_scope_accuracy)
        );
        let _ = writeln!(
            out,
            "  closed-set accuracy      {}",
            pct(self.closed_set_accuracy)
        );
        let _ = writeln!(out, "  out-of-scope recall      {}", pct(self.oos_recall));
        let _ = writeln!(out, "  AUROC (energy)           {:>7.4}", self.auroc);
        let _ = writeln!(out, "  FPR at 95% TPR           {:>7.4}", self.fpr95);
        let _ = writeln!(
            out,
            "  known-vs-unknown         acc {} prec {} rec {} F1 {}",
            pct(self.binary.accuracy),
            pct(self.binary.precision),
            pct(self.binary.recall),
            pct(self.binary.f1)
        );
        let _ = writeln!(
            out,
            "  mean energy              known {:.3}, unknown {:.3}",
            self.mean_energy_known, self.mean_energy_unknown
        );
        let mut worst = self.per_intent_accuracy.clone();
        worst.sort_by(|a, b| a.1.total_cmp(&b.1));
        let shown: Vec<String> = worst
            .iter()
            .take(5)
            .map(|(l, a)| format!("{l} {:.0}%", a * 100.0))
            .collect();
        let _ = writeln!(out, "  weakest intents          {}", shown.join(", "));
        for c in self.top_confusions.iter().take(5) {
            let _ = writeln!(
                out,
                "  confusion                {} -> {} ({})",
                c.truth, c.predicted, c.count
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_or_in_file_splits_are_called_optimistic() {
        let sentences = |per_intent: usize| -> Vec<KnownScore> {
            (0..2 * per_intent)
                .map(|i| KnownScore {
                    label: i % 2,
                    predicted: i % 2,
                    energy: -5.0,
                })
                .collect()
        };
        let labels = vec!["a".to_string(), "b".to_string()];
        let large = report(&labels, &sentences(30), &[1.0; 40], -1.0, false);
        assert_eq!(
            (
                large.split.sentences,
                large.split.intents,
                large.split.negatives
            ),
            (60, 2, 40)
        );
        assert!(!large.split.optimistic && large.split.note.is_none());
        let small = report(&labels, &sentences(29), &[1.0], -1.0, false).split;
        assert!(small.optimistic, "{small:?}");
        assert!(small.note.unwrap().contains("29 sentences"));
        let in_file = report(&labels, &sentences(40), &[1.0], -1.0, true).split;
        assert!(in_file.optimistic && in_file.from_training_file);
        assert!(in_file.note.unwrap().contains("training file"));
        // Serialized with the figures, so the bundle's metadata carries it.
        let json = serde_json::to_value(&large).unwrap();
        assert_eq!(json["split"]["optimistic"], false);
    }

    #[test]
    fn auroc_by_hand() {
        assert_eq!(auroc(&[0.0, 1.0], &[2.0, 3.0]), 1.0);
        assert_eq!(auroc(&[2.0, 3.0], &[0.0, 1.0]), 0.0);
        // One of four pairs ordered wrongly, one tie: (2 + 0.5 + 1 ... ) = (1 + 1 + 0.5 + 0)/4
        assert_eq!(auroc(&[0.0, 2.0], &[1.0, 2.0]), 0.625);
    }

    #[test]
    fn threshold_and_fpr95() {
        let known: Vec<f32> = (1..=100).map(|i| i as f32).collect();
        assert_eq!(quantile_threshold(&known, 0.95), 95.0);
        assert_eq!(fpr_at_95_tpr(&known, &[94.0, 96.0, 200.0, 300.0]), 0.25);
        let b = Binary::at(&known, &[96.0, 50.0], 95.0);
        assert!((b.recall - 0.5).abs() < 1e-12);
        assert!((b.precision - 1.0 / 6.0).abs() < 1e-12);
    }

    #[test]
    fn balanced_threshold_weighs_both_mistakes() {
        let known_at = |energy, correct: bool| KnownScore {
            label: 0,
            predicted: if correct { 0 } else { 1 },
            energy,
        };
        // Correct known at 1..=8, two wrong known at 9 and 10, unknown at 6.5, 11, 12.
        let mut known: Vec<KnownScore> = (1..=8).map(|e| known_at(e as f32, true)).collect();
        known.extend([known_at(9.0, false), known_at(10.0, false)]);
        let unknown = [6.5, 11.0, 12.0];
        // At 8: 8/10 correct accepted, 2/3 unknown rejected (0.733); at 6: 0.6 and 1.0 (0.8).
        let t = choose_threshold(ThresholdRule::Balanced, &known, &unknown);
        assert_eq!(t, 6.0);
        // Without negatives it falls back to accepting 95% of known sentences.
        assert_eq!(choose_threshold(ThresholdRule::Balanced, &known, &[]), 10.0);
        // Recall75 with unknown at 7.5, 11, 12, 13: up to 10 three of four are rejected; all
        // 8 correct sentences are accepted from 8 on (wrong ones add nothing): 8.
        let unknown = [7.5, 11.0, 12.0, 13.0, 2.0];
        assert_eq!(
            choose_threshold(ThresholdRule::Recall75, &known, &unknown[..4]),
            8.0
        );
        // With a fifth unknown at 2, 8 rejects only 3 of 5; 7 rejects 4 of 5 (80%): 7.
        assert_eq!(
            choose_threshold(ThresholdRule::Recall75, &known, &unknown),
            7.0
        );
    }
}
