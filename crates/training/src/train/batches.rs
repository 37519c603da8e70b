//! What every step reads, computed once a run, and one step's rows: known sentences
//! (with typos), synthetic noise and negative sentences, embedded.

use std::borrow::Cow;

use anyhow::Result;
use candle_core::Device;
use model::{Architecture, EmbeddingTable, TextEncoder};
use rand::seq::SliceRandom;
use rand_chacha::ChaCha12Rng;
use rand_distr::{Distribution, Normal};

use super::config::{SyntheticNoise, TrainConfig};
use super::embeddings::{table_moments, Embeddings};
use super::losses::{inner, random_token_rows, spliced_rows};
use super::observer::Progress;
use crate::data::Dataset;
use crate::typos;

/// Token ids of every sentence, computed once.
pub(super) fn encode_all(
    encoder: &TextEncoder,
    texts: impl Iterator<Item = impl AsRef<str>>,
) -> Vec<Vec<u32>> {
    texts.map(|t| encoder.encode(t.as_ref())).collect()
}

/// What every step reads, computed once a run: the shape, the device, the token ids of
/// every split and the synthetic-noise source.
pub(super) struct Prepared<'a> {
    pub(super) arch: Architecture,
    pub(super) device: Device,
    pub(super) table: &'a EmbeddingTable,
    /// Re-encodes misspelt training sentences (`--typo-rate`).
    pub(super) encoder: &'a TextEncoder,
    pub(super) typo_rate: f64,
    pub(super) train_ids: Vec<Vec<u32>>,
    pub(super) negative_ids: Vec<Vec<u32>>,
    pub(super) val_ids: Vec<Vec<u32>>,
    pub(super) val_negative_ids: Vec<Vec<u32>>,
    pub(super) noise: NoiseSource,
}

/// Where a batch's synthetic unknown rows come from (`--synthetic`).
pub(super) struct NoiseSource {
    pub(super) kind: SyntheticNoise,
    /// Per-dimension mean and standard deviation of the Gaussian rows.
    pub(super) mean: Vec<f32>,
    pub(super) std: Vec<f32>,
    /// The inner tokens of every training sentence: drawing from it samples by frequency.
    pub(super) token_pool: Vec<u32>,
}

/// One step's rows in the order the loss reads them (known sentences, synthetic noise,
/// negative sentences), with the known rows' labels.
pub(super) struct StepRows {
    pub(super) embedded: Vec<Vec<f32>>,
    pub(super) lens: Vec<usize>,
    /// (first row, row count) of the known, noise and negative groups.
    pub(super) groups: [(usize, usize); 3],
    pub(super) targets: Vec<u32>,
}

impl<'a> Prepared<'a> {
    pub(super) fn new(
        config: &TrainConfig,
        dataset: &Dataset,
        embeddings: &'a Embeddings,
        arch: Architecture,
        device: &Device,
    ) -> Result<Self> {
        let device = device.clone();
        let encoder = &embeddings.encoder;
        let table = &embeddings.table;
        let train_ids = encode_all(encoder, dataset.train.iter().map(|(t, _)| t));
        let (mean, std) = match config.synthetic {
            SyntheticNoise::Table => table_moments(table),
            _ => (vec![0.0; table.dim], vec![config.noise_std; table.dim]),
        };
        let token_pool = if config.synthetic == SyntheticNoise::Tokens {
            train_ids
                .iter()
                .flat_map(|ids| inner(ids).iter().copied())
                .collect()
        } else {
            Vec::new()
        };
        Ok(Self {
            arch,
            device,
            table,
            encoder,
            typo_rate: config.typo_rate,
            negative_ids: encode_all(encoder, dataset.negatives_train.iter()),
            val_ids: encode_all(encoder, dataset.val.iter().map(|(t, _)| t)),
            val_negative_ids: encode_all(encoder, dataset.negatives_val.iter()),
            train_ids,
            noise: NoiseSource {
                kind: config.synthetic,
                mean,
                std,
                token_pool,
            },
        })
    }

    /// The rows of the step over training sentences `batch`: as many negatives as known
    /// rows (cycling through a reshuffled order) and as many noise rows.
    pub(super) fn step_rows(
        &self,
        dataset: &Dataset,
        batch: &[usize],
        progress: &mut Progress,
    ) -> StepRows {
        let arch = &self.arch;
        let negatives = next_negatives(batch.len(), progress);
        let known_ids: Vec<Cow<[u32]>> = batch
            .iter()
            .map(|&i| {
                self.maybe_misspelt(&dataset.train[i].0, &self.train_ids[i], &mut progress.rng)
            })
            .collect();
        let negative_ids: Vec<Cow<[u32]>> = negatives
            .iter()
            .map(|&i| {
                let text = &dataset.negatives_train[i];
                self.maybe_misspelt(text, &self.negative_ids[i], &mut progress.rng)
            })
            .collect();
        let longest = known_ids
            .iter()
            .chain(&negative_ids)
            .map(|ids| arch.effective_len(ids.len()))
            .max()
            .unwrap_or(1);
        let (noise_rows, noise_lens) = self.noise_rows(dataset, batch, longest, &mut progress.rng);
        let mut embedded = Vec::with_capacity(3 * batch.len());
        let mut lens = Vec::with_capacity(3 * batch.len());
        for ids in &known_ids {
            embedded.push(self.table.lookup(ids));
            lens.push(arch.effective_len(ids.len()));
        }
        let noise_count = noise_rows.len();
        embedded.extend(noise_rows);
        lens.extend(noise_lens);
        for ids in &negative_ids {
            embedded.push(self.table.lookup(ids));
            lens.push(arch.effective_len(ids.len()));
        }
        let b = batch.len();
        StepRows {
            embedded,
            lens,
            groups: [(0, b), (b, noise_count), (b + noise_count, negatives.len())],
            targets: batch.iter().map(|&i| dataset.train[i].1 as u32).collect(),
        }
    }

    /// A training sentence's token ids, re-encoded with fresh typos under `--typo-rate`.
    /// Without typos nothing is drawn, so the random stream is the same as before the flag.
    fn maybe_misspelt<'s>(
        &self,
        text: &str,
        clean: &'s [u32],
        rng: &mut ChaCha12Rng,
    ) -> Cow<'s, [u32]> {
        if self.typo_rate <= 0.0 {
            return Cow::Borrowed(clean);
        }
        Cow::Owned(
            self.encoder
                .encode(&typos::misspell(text, self.typo_rate, rng)),
        )
    }

    /// One synthetic unknown row per known row of `batch` (none for `--synthetic none`).
    fn noise_rows(
        &self,
        dataset: &Dataset,
        batch: &[usize],
        longest: usize,
        rng: &mut ChaCha12Rng,
    ) -> (Vec<Vec<f32>>, Vec<usize>) {
        let noise = &self.noise;
        let d = self.table.dim;
        match noise.kind {
            SyntheticNoise::None => (Vec::new(), Vec::new()),
            SyntheticNoise::Gaussian | SyntheticNoise::Table => {
                let normal = Normal::new(0f32, 1f32).expect("unit normal");
                (0..batch.len())
                    .map(|_| {
                        let row = (0..longest * d)
                            .map(|k| noise.mean[k % d] + noise.std[k % d] * normal.sample(rng))
                            .collect();
                        (row, longest)
                    })
                    .unzip()
            }
            SyntheticNoise::Tokens | SyntheticNoise::Spliced => {
                let known: Vec<(&[u32], usize)> = batch
                    .iter()
                    .map(|&i| (self.train_ids[i].as_slice(), dataset.train[i].1))
                    .collect();
                let ids = if noise.kind == SyntheticNoise::Tokens {
                    random_token_rows(&known, &noise.token_pool, rng)
                } else {
                    spliced_rows(&known, rng)
                };
                ids.iter()
                    .map(|row| (self.table.lookup(row), self.arch.effective_len(row.len())))
                    .unzip()
            }
        }
    }
}

/// The next `count` negative sentences of the cycling order (none when there are none).
pub(super) fn next_negatives(count: usize, progress: &mut Progress) -> Vec<usize> {
    if progress.negative_order.is_empty() {
        return Vec::new();
    }
    (0..count)
        .map(|_| {
            if progress.next_negative == progress.negative_order.len() {
                progress.negative_order.shuffle(&mut progress.rng);
                progress.next_negative = 0;
            }
            progress.next_negative += 1;
            progress.negative_order[progress.next_negative - 1]
        })
        .collect()
}
