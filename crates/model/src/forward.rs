//! Table rows → logits with the BatchNorm-folded TextCNN, one query at a time.

use serde::Serialize;

use crate::{Architecture, ModelWeights};
use kernels::{conv_max, ConvShape};

/// One pooled channel's share of a logit: its max-pool winner and what it adds.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChannelEvidence {
    pub branch: usize,
    pub channel: usize,
    /// Token positions of the winning window, `start..end`; they may reach into the
    /// zero padding (below 0 or past the last token).
    pub start: isize,
    pub end: isize,
    /// The pooled activation (after ReLU).
    pub activation: f32,
    /// activation × the classifier weight of this channel for the explained label.
    pub contribution: f32,
}

/// Why one logit is what it is: `bias + Σ channels[i].contribution == logit`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LogitEvidence {
    pub label: usize,
    pub logit: f32,
    pub bias: f32,
    pub channels: Vec<ChannelEvidence>,
    /// Per input token: the contributions of the channels whose window covers it, each
    /// shared equally among the real tokens of that window.
    pub token_contributions: Vec<f32>,
}

/// The folded network with conv weights in the kernels' layout.
#[derive(Clone, Debug)]
pub struct TextCnn {
    arch: Architecture,
    /// Per branch: [kernel·embed_dim, channels], row `tap·embed_dim + c`.
    window_weights: Vec<Vec<f32>>,
    biases: Vec<Vec<f32>>,
    /// [labels, features]
    classifier_weight: Vec<f32>,
    classifier_bias: Vec<f32>,
}

impl TextCnn {
    /// Re-lays the bundle's PyTorch-layout weights for the kernels. The weights must
    /// already be checked against `arch` ([`ModelWeights::parse`] does).
    pub fn new(arch: &Architecture, weights: &ModelWeights) -> Self {
        let (d, c) = (arch.embed_dim, arch.channels);
        let window_weights = arch
            .branches
            .iter()
            .zip(&weights.branch_weights)
            .map(|(b, w)| {
                let k = b.kernel;
                let mut out = vec![0f32; k * d * c];
                for o in 0..c {
                    for i in 0..d {
                        for tap in 0..k {
                            out[(tap * d + i) * c + o] = w[(o * d + i) * k + tap];
                        }
                    }
                }
                out
            })
            .collect();
        Self {
            arch: arch.clone(),
            window_weights,
            biases: weights.branch_biases.clone(),
            classifier_weight: weights.classifier_weight.clone(),
            classifier_bias: weights.classifier_bias.clone(),
        }
    }

    pub fn architecture(&self) -> &Architecture {
        &self.arch
    }

    /// Pooled features ([features], after ReLU) of `tokens` embedded rows
    /// (`embedded` is [tokens, embed_dim]); at most `max_len` rows are used.
    pub fn features(&self, embedded: &[f32], tokens: usize) -> Vec<f32> {
        let a = &self.arch;
        let d = a.embed_dim;
        let tokens = tokens.min(embedded.len() / d).min(a.max_len);
        let len = a.effective_len(tokens);
        // One zero-padded buffer serves every branch: branch b starts reading at row
        // (max_padding - padding_b), so its windows see exactly its own zero padding.
        let pad = a.max_padding();
        let mut padded = vec![0f32; (len + 2 * pad) * d];
        padded[pad * d..(pad + tokens) * d].copy_from_slice(&embedded[..tokens * d]);
        let mut features = vec![0f32; a.features()];
        for (i, b) in a.branches.iter().enumerate() {
            let shape = ConvShape {
                dim: d,
                taps: b.kernel,
                out_len: a.output_len(*b, len),
                channels: a.channels,
            };
            let start = (pad - b.padding) * d;
            let out = &mut features[i * a.channels..(i + 1) * a.channels];
            conv_max(
                shape,
                &padded[start..],
                &self.window_weights[i],
                &self.biases[i],
                out,
            );
        }
        // ReLU after the max-pool: max and ReLU commute, and this touches 384 values.
        for f in &mut features {
            *f = f.max(0.0);
        }
        features
    }

    /// Logits ([labels]) of `tokens` embedded rows.
    pub fn logits(&self, embedded: &[f32], tokens: usize) -> Vec<f32> {
        let features = self.features(embedded, tokens);
        let n = features.len();
        self.classifier_bias
            .iter()
            .enumerate()
            .map(|(l, &b)| {
                let row = &self.classifier_weight[l * n..(l + 1) * n];
                b + row.iter().zip(&features).map(|(w, f)| w * f).sum::<f32>()
            })
            .collect()
    }
}

impl TextCnn {
    /// The slow, explainable twin of [`TextCnn::logits`]: the same network written as a
    /// direct convolution that also records each channel's max-pool winner, and the
    /// decomposition of logit `label` (out of range: the top logit) into channel and
    /// token contributions. Used only when evidence is asked for, so the fast path stays.
    pub fn explain(&self, embedded: &[f32], tokens: usize, label: Option<usize>) -> LogitEvidence {
        let a = &self.arch;
        // The same rows the fast path reads, so the winners are its pooled features.
        let tokens = tokens.min(embedded.len() / a.embed_dim).min(a.max_len);
        let mut channels = self.pooled_winners(embedded, tokens);
        let label = self.explained_label(&channels, label);
        let logit = self.logit_of(&channels, label);
        let token_contributions = self.attribute(&mut channels, label, tokens);
        LogitEvidence {
            label,
            logit,
            bias: self.classifier_bias[label],
            channels,
            token_contributions,
        }
    }

    /// Every pooled channel in feature order (branch by branch) with its max-pool winner;
    /// contributions are left at 0 until a label is chosen.
    fn pooled_winners(&self, embedded: &[f32], tokens: usize) -> Vec<ChannelEvidence> {
        let a = &self.arch;
        let len = a.effective_len(tokens);
        let mut channels = Vec::with_capacity(a.features());
        for (bi, b) in a.branches.iter().enumerate() {
            let best = self.branch_maxima(bi, embedded, tokens, a.output_len(*b, len));
            for (o, &(v, t)) in best.iter().enumerate() {
                // Output position t reads input rows t - padding .. t - padding + kernel.
                let start = t as isize - b.padding as isize;
                channels.push(ChannelEvidence {
                    branch: bi,
                    channel: o,
                    start,
                    end: start + b.kernel as isize,
                    activation: v.max(0.0),
                    contribution: 0.0,
                });
            }
        }
        channels
    }

    /// Per channel of branch `bi`: its largest pre-activation over the `out_len` output
    /// positions, and the first position that reaches it.
    fn branch_maxima(
        &self,
        bi: usize,
        embedded: &[f32],
        tokens: usize,
        out_len: usize,
    ) -> Vec<(f32, usize)> {
        let c = self.arch.channels;
        let mut best = vec![(f32::NEG_INFINITY, 0usize); c];
        let mut acc = vec![0f32; c];
        for t in 0..out_len {
            self.window_sums(bi, t, embedded, tokens, &mut acc);
            for (b, &v) in best.iter_mut().zip(&acc) {
                if v > b.0 {
                    *b = (v, t);
                }
            }
        }
        best
    }

    /// Branch `bi`'s channel pre-activations at output position `t` into `acc`: its bias
    /// plus the window's rows times the weights, rows outside the query counting as zero.
    fn window_sums(&self, bi: usize, t: usize, embedded: &[f32], tokens: usize, acc: &mut [f32]) {
        let (d, c) = (self.arch.embed_dim, self.arch.channels);
        let b = self.arch.branches[bi];
        let w = &self.window_weights[bi];
        acc.copy_from_slice(&self.biases[bi]);
        for tap in 0..b.kernel {
            let pos = t as isize + tap as isize - b.padding as isize;
            if pos < 0 || pos as usize >= tokens {
                continue; // zero padding or zero extension
            }
            let row = &embedded[pos as usize * d..(pos as usize + 1) * d];
            for (i, &x) in row.iter().enumerate() {
                let wrow = &w[(tap * d + i) * c..(tap * d + i + 1) * c];
                for (sum, &wv) in acc.iter_mut().zip(wrow) {
                    *sum += wv * x;
                }
            }
        }
    }

    /// Logit `label` from the winners' activations, which are the pooled features.
    fn logit_of(&self, channels: &[ChannelEvidence], label: usize) -> f32 {
        let n = channels.len();
        let row = &self.classifier_weight[label * n..(label + 1) * n];
        self.classifier_bias[label]
            + row
                .iter()
                .zip(channels)
                .map(|(w, ch)| w * ch.activation)
                .sum::<f32>()
    }

    /// The label to explain: the one asked for when it exists, else the top logit's (the
    /// first of equal ones).
    fn explained_label(&self, channels: &[ChannelEvidence], label: Option<usize>) -> usize {
        let labels = self.classifier_bias.len();
        label.filter(|&l| l < labels).unwrap_or_else(|| {
            (0..labels)
                .map(|l| (l, self.logit_of(channels, l)))
                .fold(
                    (0, f32::NEG_INFINITY),
                    |m, (l, z)| if z > m.1 { (l, z) } else { m },
                )
                .0
        })
    }

    /// Fills in each channel's contribution to logit `label` and returns the per-token
    /// contributions: each channel's share goes equally to the real tokens of its window,
    /// so a window wholly in the padding gives the tokens nothing.
    fn attribute(&self, channels: &mut [ChannelEvidence], label: usize, tokens: usize) -> Vec<f32> {
        let n = channels.len();
        let row = &self.classifier_weight[label * n..(label + 1) * n];
        let mut token_contributions = vec![0f32; tokens];
        for (ch, &w) in channels.iter_mut().zip(row) {
            ch.contribution = ch.activation * w;
            let lo = ch.start.max(0) as usize;
            let hi = (ch.end.max(0) as usize).min(tokens);
            if hi > lo {
                let share = ch.contribution / (hi - lo) as f32;
                token_contributions[lo..hi]
                    .iter_mut()
                    .for_each(|t| *t += share);
            }
        }
        token_contributions
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A direct, unfused Conv1d → ReLU → max-pool → linear, written from the definition.
    fn reference_logits(arch: &Architecture, w: &ModelWeights, x: &[f32], len: usize) -> Vec<f32> {
        let (d, c) = (arch.embed_dim, arch.channels);
        let mut feats = Vec::new();
        for (i, b) in arch.branches.iter().enumerate() {
            let out_len = arch.output_len(*b, len);
            for o in 0..c {
                let mut best = f32::NEG_INFINITY;
                for t in 0..out_len {
                    let mut acc = w.branch_biases[i][o];
                    for tap in 0..b.kernel {
                        let pos = t as isize + tap as isize - b.padding as isize;
                        if pos < 0 || pos as usize >= len {
                            continue;
                        }
                        for ch in 0..d {
                            acc += w.branch_weights[i][(o * d + ch) * b.kernel + tap]
                                * x[pos as usize * d + ch];
                        }
                    }
                    best = best.max(acc.max(0.0));
                }
                feats.push(best);
            }
        }
        let n = feats.len();
        (0..w.classifier_bias.len())
            .map(|l| {
                w.classifier_bias[l]
                    + (0..n)
                        .map(|j| w.classifier_weight[l * n + j] * feats[j])
                        .sum::<f32>()
            })
            .collect()
    }

    fn pseudo(seed: u32, n: usize) -> Vec<f32> {
        let mut s = seed;
        (0..n)
            .map(|_| {
                s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (s >> 8) as f32 / (1u32 << 24) as f32 - 0.5
            })
            .collect()
    }

    fn small_net() -> (Architecture, ModelWeights) {
        let arch = Architecture {
            embed_dim: 6,
            channels: 8,
            // The default model's branches, so the odd paddings are covered.
            branches: Architecture::default().branches,
            max_len: 12,
        };
        let labels = 5;
        let w = ModelWeights {
            branch_weights: arch
                .branches
                .iter()
                .enumerate()
                .map(|(i, b)| pseudo(i as u32, 8 * 6 * b.kernel))
                .collect(),
            branch_biases: (0..3).map(|i| pseudo(10 + i, 8)).collect(),
            classifier_weight: pseudo(20, labels * 24),
            classifier_bias: pseudo(21, labels),
        };
        (arch, w)
    }

    #[test]
    fn matches_the_definition_for_every_length() {
        let (arch, w) = small_net();
        let net = TextCnn::new(&arch, &w);
        for tokens in 1..=12 {
            let x = pseudo(100 + tokens as u32, tokens * 6);
            let got = net.logits(&x, tokens);
            // Below min_len the network zero-extends the query.
            let len = arch.effective_len(tokens);
            let mut xe = x.clone();
            xe.resize(len * 6, 0.0);
            let want = reference_logits(&arch, &w, &xe, len);
            for (g, r) in got.iter().zip(&want) {
                assert!((g - r).abs() < 1e-5, "tokens {tokens}: {g} vs {r}");
            }
        }
    }

    #[test]
    fn evidence_adds_up_to_the_logit() {
        let (arch, w) = small_net();
        let net = TextCnn::new(&arch, &w);
        for tokens in 1..=12 {
            let x = pseudo(200 + tokens as u32, tokens * 6);
            let logits = net.logits(&x, tokens);
            let top = crate::math::argmax(&logits).unwrap();
            let e = net.explain(&x, tokens, None);
            assert_eq!(e.label, top, "tokens {tokens}: explains the top label");
            // The winners' activations are the fast path's pooled features.
            for (c, f) in e.channels.iter().zip(net.features(&x, tokens)) {
                assert!((c.activation - f).abs() < 1e-5, "{} vs {f}", c.activation);
            }
            for label in [Some(e.label), Some(0), Some(4)] {
                let e = net.explain(&x, tokens, label);
                let l = e.label;
                assert!(
                    (e.logit - logits[l]).abs() < 1e-5,
                    "{} vs {}",
                    e.logit,
                    logits[l]
                );
                let sum: f32 = e.channels.iter().map(|c| c.contribution).sum();
                assert!((e.bias + sum - logits[l]).abs() < 1e-4, "tokens {tokens}");
                assert_eq!(e.token_contributions.len(), tokens);
                // What tokens carry plus what only padding windows carry is everything.
                let padding_only: f32 = e
                    .channels
                    .iter()
                    .filter(|c| c.end <= 0 || c.start >= tokens as isize)
                    .map(|c| c.contribution)
                    .sum();
                let on_tokens: f32 = e.token_contributions.iter().sum();
                assert!((on_tokens + padding_only - sum).abs() < 1e-4);
                // Each winner is a window the branch really has, and is its max.
                for c in &e.channels {
                    let b = arch.branches[c.branch];
                    assert_eq!(c.end - c.start, b.kernel as isize);
                    assert!(c.start >= -(b.padding as isize));
                    assert!(c.activation >= 0.0);
                }
            }
        }
    }
}
