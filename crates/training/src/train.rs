//! Training one model in memory: data → TextCNN with cross-entropy + energy loss →
//! threshold on validation → evaluation → bundle bytes. The loss pushes known sentences'
//! energy down and synthetic noise and negative sentences' energy up. Files, progress bars,
//! signals and checkpoints belong to the caller's [`Observer`].

use std::borrow::Cow;

use anyhow::{bail, Result};
use candle_core::{Device, Tensor};
use model::bundle::{sha256_hex, BundleMeta, FORMAT_VERSION};
use model::{Architecture, Branch, BundleFiles, Classifier, EmbeddingTable, TextEncoder};
use rand::{seq::SliceRandom, SeedableRng};
use rand_chacha::ChaCha12Rng;
use rand_distr::{Distribution, Normal};
use serde::{Deserialize, Serialize};
use web_time::Instant;

use crate::data::Dataset;
use crate::evaluate::{self, ThresholdRule};
use crate::finish::{self, Evaluation, ModelDescription, ThresholdSetting};
use crate::model_card::CardKind;
use crate::network::{energy, BnStats, Network, RowInput};
use crate::optim::AdamW;
use crate::scripts::UnreadableReport;
use crate::typos;

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "kebab-case")]
pub enum EnergyLoss {
    /// Squared hinges (Liu et al. 2020): relu(E_known - m_in)^2 + relu(m_out - E_unknown)^2.
    Hinge,
    /// The seed's form: mean(E_known) + relu(1 - E_unknown); unbounded below for known rows.
    Seed,
}

/// How the bundle stores the network's weights. Whatever is stored is what the threshold
/// and every reported figure are computed from.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "kebab-case")]
pub enum WeightsDtype {
    F32,
    /// Half the bytes.
    F16,
    /// A quarter of the bytes: int8 weight matrices with one scale per output row.
    Int8,
}

impl WeightsDtype {
    fn safetensors(self) -> safetensors::Dtype {
        match self {
            Self::F32 => safetensors::Dtype::F32,
            Self::F16 => safetensors::Dtype::F16,
            Self::Int8 => safetensors::Dtype::I8,
        }
    }
}

/// Synthetic inputs whose energy is pushed up, shaped like the padded known batch.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "kebab-case")]
pub enum SyntheticNoise {
    /// N(0, noise_std) in every dimension (the seed's choice, with std 1).
    Gaussian,
    /// N(mean, std) of the token table's own rows, per dimension.
    Table,
    /// Random token sequences: each as long as a known sentence of the batch, its first and
    /// last tokens (the special tokens) kept, the rest drawn from the training sentences'
    /// tokens by frequency.
    Tokens,
    /// Known sentences spliced across intents: the first half of a batch sentence joined to
    /// the second half of one from another intent.
    Spliced,
    None,
}

/// How the learning rate moves over a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "kebab-case")]
pub enum LrSchedule {
    /// --lr at every step.
    Constant,
    /// From --lr down to zero along half a cosine over the run's steps (Loshchilov & Hutter
    /// 2017, without restarts), so the last epochs settle instead of jittering.
    Cosine,
}

impl LrSchedule {
    /// The learning rate of step `step` (from 0) of `total`.
    pub fn lr(self, base: f64, step: usize, total: usize) -> f64 {
        match self {
            Self::Constant => base,
            Self::Cosine => {
                let progress = step as f64 / total.max(1) as f64;
                0.5 * base * (1.0 + (std::f64::consts::PI * progress.min(1.0)).cos())
            }
        }
    }
}

/// Whether a bundle repairs typos toward its training words ([`model::spelling`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "kebab-case")]
pub enum Spelling {
    /// A query word one edit from a word of the training sentences or negatives, and not a
    /// word the tokenizer knows whole, is read as that word. The words ship in the bundle.
    Repair,
    /// Queries are read as typed.
    Off,
}

/// The flags that define a training run: what a seed and data make into one model, the same
/// from the command line (`trainer train`, which flattens this into its flags) and from a
/// page. Its `Default` is the one home of the defaults; the shape's are
/// `Architecture::default()`'s.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::Args))]
#[serde(default, deny_unknown_fields)]
pub struct TrainConfig {
    #[cfg_attr(feature = "clap", arg(long, default_value_t = TrainConfig::default().epochs))]
    pub epochs: usize,
    #[cfg_attr(feature = "clap", arg(long, default_value_t = TrainConfig::default().batch_size))]
    pub batch_size: usize,
    #[cfg_attr(feature = "clap", arg(long, default_value_t = TrainConfig::default().lr))]
    pub lr: f64,
    /// How the learning rate moves over the run's steps (its length is --epochs).
    #[cfg_attr(feature = "clap", arg(long, value_enum, default_value_t = TrainConfig::default().lr_schedule))]
    pub lr_schedule: LrSchedule,
    #[cfg_attr(feature = "clap", arg(long, default_value_t = TrainConfig::default().dropout))]
    pub dropout: f32,
    /// Output channels of each conv branch (of each member, with --members).
    #[cfg_attr(feature = "clap", arg(long, default_value_t = TrainConfig::default().channels))]
    pub channels: usize,
    /// Networks trained side by side from different initial weights and dropout, their
    /// logits averaged (an ensemble). The bundle stores them as one network with this many
    /// times the channels, so it costs as many times the conv weights and classify time.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = TrainConfig::default().members))]
    pub members: usize,
    /// Kernel sizes of the conv branches.
    #[cfg_attr(feature = "clap", arg(long, value_delimiter = ',',
        default_values_t = TrainConfig::default().kernels))]
    pub kernels: Vec<usize>,
    /// Zero padding of each branch, in the order of --kernels.
    #[cfg_attr(feature = "clap", arg(long, value_delimiter = ',',
        default_values_t = TrainConfig::default().paddings))]
    pub paddings: Vec<usize>,
    /// Most tokens per query, special tokens included.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = TrainConfig::default().max_len))]
    pub max_len: usize,
    #[cfg_attr(feature = "clap", arg(long, default_value_t = TrainConfig::default().seed))]
    pub seed: u64,
    #[cfg_attr(feature = "clap", arg(long, value_enum, default_value_t = TrainConfig::default().energy_loss))]
    pub energy_loss: EnergyLoss,
    /// Weight of the energy term next to cross-entropy.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = TrainConfig::default().energy_weight))]
    pub energy_weight: f64,
    /// Hinge margin for known sentences: energy above it is penalized.
    #[cfg_attr(feature = "clap", arg(long, allow_hyphen_values = true,
        default_value_t = TrainConfig::default().margin_in))]
    pub margin_in: f64,
    /// Hinge margin for noise and negatives: energy below it is penalized.
    #[cfg_attr(feature = "clap", arg(long, allow_hyphen_values = true,
        default_value_t = TrainConfig::default().margin_out))]
    pub margin_out: f64,
    #[cfg_attr(feature = "clap", arg(long, value_enum, default_value_t = TrainConfig::default().synthetic))]
    pub synthetic: SyntheticNoise,
    /// Standard deviation of --synthetic gaussian.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = TrainConfig::default().noise_std))]
    pub noise_std: f32,
    /// Share of the words of 4+ letters given one random character edit, drawn afresh each
    /// step, in the known and negative training sentences (0: none).
    #[cfg_attr(feature = "clap", arg(long, default_value_t = TrainConfig::default().typo_rate))]
    pub typo_rate: f64,
    /// Typo repair at classification time (`off`: queries are read as typed).
    #[cfg_attr(feature = "clap", arg(long, value_enum, default_value_t = TrainConfig::default().spelling))]
    pub spelling: Spelling,
    /// Label smoothing of the cross-entropy (0: none).
    #[cfg_attr(feature = "clap", arg(long, default_value_t = TrainConfig::default().label_smoothing))]
    pub label_smoothing: f64,
    #[cfg_attr(feature = "clap", arg(long, value_enum, default_value_t = TrainConfig::default().bn_stats))]
    pub bn_stats: BnStats,
    /// How the energy threshold is chosen on the validation split.
    #[cfg_attr(feature = "clap", arg(long, value_enum,
        default_value_t = TrainConfig::default().threshold_rule))]
    pub threshold_rule: ThresholdRule,
    /// How model.safetensors stores the weights.
    #[cfg_attr(feature = "clap", arg(long, value_enum,
        default_value_t = TrainConfig::default().weights_dtype))]
    pub weights_dtype: WeightsDtype,
    /// Use this energy threshold instead of choosing one.
    #[cfg_attr(feature = "clap", arg(long, allow_hyphen_values = true))]
    pub threshold: Option<f32>,
}

impl Default for TrainConfig {
    fn default() -> Self {
        let arch = Architecture::default();
        Self {
            epochs: 50,
            batch_size: 24,
            lr: 8e-4,
            lr_schedule: LrSchedule::Cosine,
            dropout: 0.5,
            channels: arch.channels,
            members: 1,
            kernels: arch.branches.iter().map(|b| b.kernel).collect(),
            paddings: arch.branches.iter().map(|b| b.padding).collect(),
            max_len: arch.max_len,
            seed: 42,
            energy_loss: EnergyLoss::Hinge,
            energy_weight: 0.1,
            margin_in: -8.0,
            margin_out: -2.0,
            synthetic: SyntheticNoise::Table,
            noise_std: 1.0,
            typo_rate: 0.0,
            spelling: Spelling::Repair,
            label_smoothing: 0.0,
            bn_stats: BnStats::Known,
            threshold_rule: ThresholdRule::Recall75,
            weights_dtype: WeightsDtype::Int8,
            threshold: None,
        }
    }
}

impl TrainConfig {
    pub fn architecture(&self) -> Result<Architecture> {
        if self.kernels.len() != self.paddings.len() {
            bail!(
                "--kernels has {} entries but --paddings has {}",
                self.kernels.len(),
                self.paddings.len()
            );
        }
        if self.members == 0 {
            bail!("--members must be at least 1");
        }
        // The members' branches side by side are one wider network (network.rs).
        let arch = Architecture {
            embed_dim: 0,
            channels: self.channels.saturating_mul(self.members),
            branches: self
                .kernels
                .iter()
                .zip(&self.paddings)
                .map(|(&kernel, &padding)| Branch { kernel, padding })
                .collect(),
            max_len: self.max_len,
        };
        Ok(arch)
    }
}

/// The token table and tokenizer a model is trained on.
pub struct Embeddings {
    pub encoder: TextEncoder,
    pub table: EmbeddingTable,
    /// The table's own description (its source names the model and license).
    pub table_meta: model::table::TableMeta,
    pub table_bytes: Vec<u8>,
    pub tokenizer_bytes: Vec<u8>,
}

impl Embeddings {
    /// The table and tokenizer files' bytes, checked to belong together; `source` names
    /// them in errors.
    pub fn from_bytes(
        table_bytes: Vec<u8>,
        tokenizer_bytes: Vec<u8>,
        max_len: usize,
        source: &str,
    ) -> Result<Self> {
        let (table, table_meta) =
            EmbeddingTable::parse(&table_bytes).map_err(|e| anyhow::anyhow!("{source}: {e}"))?;
        let encoder = TextEncoder::from_bytes(&tokenizer_bytes, max_len)
            .map_err(|e| anyhow::anyhow!("{source}: {e}"))?;
        if encoder.vocab_size() != table.rows {
            bail!(
                "{source}: tokenizer.json has {} tokens but table.safetensors has {} rows",
                encoder.vocab_size(),
                table.rows
            );
        }
        if table_meta.tokenizer_sha256 != sha256_hex(&tokenizer_bytes) {
            bail!("{source}: tokenizer.json is not the one table.safetensors was built for (sha256 differs)");
        }
        Ok(Self {
            encoder,
            table,
            table_meta,
            table_bytes,
            tokenizer_bytes,
        })
    }
}

/// Per-dimension mean and standard deviation of the table's rows.
fn table_moments(table: &EmbeddingTable) -> (Vec<f32>, Vec<f32>) {
    let rows = table.dequantize();
    let d = table.dim;
    let n = table.rows as f64;
    let mut mean = vec![0f64; d];
    let mut sq = vec![0f64; d];
    for row in rows.chunks_exact(d) {
        for j in 0..d {
            mean[j] += row[j] as f64;
            sq[j] += (row[j] as f64).powi(2);
        }
    }
    let mean: Vec<f64> = mean.iter().map(|m| m / n).collect();
    let std = sq
        .iter()
        .zip(&mean)
        .map(|(s, m)| ((s / n - m * m).max(0.0)).sqrt() as f32)
        .collect();
    (mean.iter().map(|&m| m as f32).collect(), std)
}

/// Cross-entropy of the known rows, with label smoothing `eps` (0: the plain form).
pub fn cross_entropy(logits: &Tensor, targets: &Tensor, eps: f64) -> Result<Tensor> {
    let ce = candle_nn::loss::cross_entropy(logits, targets)?;
    if eps == 0.0 {
        return Ok(ce);
    }
    // Smoothing spreads eps of the target mass evenly: add eps * mean over classes of -log p.
    let uniform = candle_nn::ops::log_softmax(logits, 1)?.mean_all()?.neg()?;
    Ok(((ce * (1.0 - eps))? + (uniform * eps)?)?)
}

/// A sentence's tokens without its first and last (the special tokens of BERT-style and
/// XLM-R-style tokenizers).
fn inner(ids: &[u32]) -> &[u32] {
    if ids.len() > 2 {
        &ids[1..ids.len() - 1]
    } else {
        &[]
    }
}

/// One random token sequence per known row: the row's length and first and last tokens,
/// inner tokens drawn from `pool`.
pub fn random_token_rows(
    known: &[(&[u32], usize)],
    pool: &[u32],
    rng: &mut ChaCha12Rng,
) -> Vec<Vec<u32>> {
    known
        .iter()
        .map(|(ids, _)| {
            let mut row = ids.to_vec();
            let n = row.len();
            if n > 2 && !pool.is_empty() {
                for t in &mut row[1..n - 1] {
                    *t = *pool.choose(rng).expect("non-empty pool");
                }
            }
            row
        })
        .collect()
}

/// One spliced sentence per known row that has a partner of another intent in the batch:
/// the row's first token and the first half of its inner tokens, then the second half of the
/// partner's inner tokens and its last token.
pub fn spliced_rows(known: &[(&[u32], usize)], rng: &mut ChaCha12Rng) -> Vec<Vec<u32>> {
    let mut rows = Vec::with_capacity(known.len());
    for (a, label_a) in known {
        let partners: Vec<&[u32]> = known
            .iter()
            .filter(|(_, label)| label != label_a)
            .map(|(ids, _)| *ids)
            .collect();
        let Some(b) = partners.choose(rng) else {
            continue;
        };
        let (Some(&first), Some(&last)) = (a.first(), b.last()) else {
            continue;
        };
        let (head, tail) = (inner(a), inner(b));
        let mut row = vec![first];
        row.extend_from_slice(&head[..head.len().div_ceil(2)]);
        row.extend_from_slice(&tail[tail.len() / 2..]);
        row.push(last);
        rows.push(row);
    }
    rows
}

/// The energy term for one step.
pub fn energy_loss(
    kind: EnergyLoss,
    known: &Tensor,
    unknown: &[Tensor],
    margin_in: f64,
    margin_out: f64,
) -> Result<Tensor> {
    let mut loss = match kind {
        EnergyLoss::Seed => known.mean_all()?,
        EnergyLoss::Hinge => (known - margin_in)?.relu()?.sqr()?.mean_all()?,
    };
    for e in unknown.iter().filter(|e| e.elem_count() > 0) {
        let term = match kind {
            EnergyLoss::Seed => e.affine(-1.0, 1.0)?.relu()?.mean_all()?,
            EnergyLoss::Hinge => e.affine(-1.0, margin_out)?.relu()?.sqr()?.mean_all()?,
        };
        loss = (loss + term)?;
    }
    Ok(loss)
}

/// One epoch's figures: the metrics log's line, and what an observer is shown.
#[derive(Clone, Debug, Serialize)]
pub struct EpochLog {
    pub epoch: usize,
    /// Means over the epoch's steps.
    pub loss: f64,
    pub cross_entropy: f64,
    pub energy_loss: f64,
    pub mean_energy_known: f64,
    pub mean_energy_unknown: f64,
    /// Eval-mode closed-set accuracy and AUROC on the validation split.
    pub val_accuracy: f64,
    pub val_auroc: f64,
    /// The whole epoch, training steps and validation pass.
    pub seconds: f64,
    /// The validation pass alone (eval-mode logits of the validation sentences and negatives).
    pub validation_seconds: f64,
}

/// What the training loop reports and asks as it runs, so that the loop touches no file,
/// terminal or signal itself. The command line's observer draws the progress bar, appends
/// the metrics log, saves and resumes checkpoints and stops on SIGTERM / SIGINT; the page's
/// posts each epoch's figures to the page.
pub trait Observer {
    /// Before the first epoch: the saved state of an earlier run to continue (its network and
    /// optimizer loaded into `network` and `optimizer`), or `None` to start afresh.
    fn resume(
        &mut self,
        _network: &mut Network,
        _optimizer: &mut AdamW,
    ) -> Result<Option<Progress>> {
        Ok(None)
    }
    /// Once, before the first epoch that runs (`epochs_done` were complete on resume).
    fn started(&mut self, _epochs_done: usize) -> Result<()> {
        Ok(())
    }
    /// Before each step: an error (a signal, a cancel) ends the run there.
    fn before_step(&mut self, _epoch: usize, _step: usize, _steps: usize) -> Result<()> {
        Ok(())
    }
    /// After each step, with the epoch's mean loss so far.
    fn after_step(&mut self, _mean_loss: f64) {}
    /// After each epoch and its validation, with the whole state (enough to resume).
    fn epoch_done(&mut self, _entry: &EpochLog, _state: TrainingState<'_>) -> Result<()> {
        Ok(())
    }
}

/// Everything a run's next epoch depends on.
pub struct TrainingState<'a> {
    pub network: &'a Network,
    pub optimizer: &'a AdamW,
    pub progress: &'a Progress,
}

/// The loop's own state between epochs (a checkpoint saves and restores it).
pub struct Progress {
    pub epochs_done: usize,
    pub rng: ChaCha12Rng,
    pub order: Vec<usize>,
    pub negative_order: Vec<usize>,
    pub next_negative: usize,
}

/// A trained model before it is written: network, metadata, figures and sources.
pub struct Trained {
    pub network: Network,
    pub meta: BundleMeta,
    pub model_bytes: Vec<u8>,
    /// Threshold, temperature, reports, metrics and plots, measured on the bundle as it ships.
    pub evaluation: Evaluation,
    /// The data's and the table's sources: for the model card.
    pub data_source: String,
    pub embedding_source: String,
    /// The training text's unknown word pieces by script, and the scripts read.
    pub unreadable: UnreadableReport,
}

/// Token ids of every sentence, computed once.
fn encode_all(
    encoder: &TextEncoder,
    texts: impl Iterator<Item = impl AsRef<str>>,
) -> Vec<Vec<u32>> {
    texts.map(|t| encoder.encode(t.as_ref())).collect()
}

/// Candle eval-mode logits for token sequences, in batches.
pub fn candle_logits(
    network: &Network,
    table: &EmbeddingTable,
    ids: &[Vec<u32>],
) -> Result<Vec<Vec<f32>>> {
    let arch = &network.arch;
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(256) {
        let embedded: Vec<Vec<f32>> = chunk.iter().map(|s| table.lookup(s)).collect();
        let rows: Vec<RowInput> = chunk
            .iter()
            .zip(&embedded)
            .map(|(s, e)| RowInput {
                embedded: e,
                len: arch.effective_len(s.len()),
            })
            .collect();
        let batch = network.batch(&rows)?;
        out.extend(network.forward_eval(&batch)?.to_vec2::<f32>()?);
    }
    Ok(out)
}

/// Trains one model: the stages below, in order, reporting to `observer`. The random stream
/// (shuffles, negatives, noise, dropout) is drawn in one fixed order, so a seed and flags
/// give one model whatever observes it.
pub fn train_observed(
    config: &TrainConfig,
    dataset: &Dataset,
    embeddings: &Embeddings,
    device: &Device,
    observer: &mut dyn Observer,
) -> Result<Trained> {
    let arch = checked_architecture(config, dataset, embeddings)?;
    let prepared = Prepared::new(config, dataset, embeddings, arch, device)?;
    let mut network = Network::new(
        &prepared.arch,
        dataset.labels.len(),
        config.members,
        config.seed,
        &prepared.device,
    )?;
    let mut optimizer = AdamW::new(network.trainable(), config.lr, 0.0)?;
    let mut progress = start_or_resume(
        config,
        dataset,
        &prepared,
        &mut network,
        &mut optimizer,
        observer,
    )?;
    observer.started(progress.epochs_done)?;
    for epoch in progress.epochs_done + 1..=config.epochs {
        let started = Instant::now();
        let sums = train_epoch(
            config,
            dataset,
            &prepared,
            &mut network,
            &mut optimizer,
            &mut progress,
            epoch,
            observer,
        )?;
        let validation_started = Instant::now();
        let (val_accuracy, val_auroc) = validate(&network, &prepared, dataset)?;
        let entry = EpochLog {
            epoch,
            loss: sums.loss / sums.steps as f64,
            cross_entropy: sums.cross_entropy / sums.steps as f64,
            energy_loss: sums.energy_loss / sums.steps as f64,
            mean_energy_known: sums.known_energy / dataset.train.len() as f64,
            mean_energy_unknown: if sums.unknown_rows > 0 {
                sums.unknown_energy / sums.unknown_rows as f64
            } else {
                f64::NAN
            },
            val_accuracy,
            val_auroc,
            seconds: started.elapsed().as_secs_f64(),
            validation_seconds: validation_started.elapsed().as_secs_f64(),
        };
        progress.epochs_done = epoch;
        let state = TrainingState {
            network: &network,
            optimizer: &optimizer,
            progress: &progress,
        };
        observer.epoch_done(&entry, state)?;
    }
    export(config, dataset, embeddings, network, &prepared.arch)
}

/// The network's shape from the flags, refusing flags and data no run can use.
fn checked_architecture(
    config: &TrainConfig,
    dataset: &Dataset,
    embeddings: &Embeddings,
) -> Result<Architecture> {
    let mut arch = config.architecture()?;
    arch.embed_dim = embeddings.table.dim;
    arch.validate()
        .map_err(|e| anyhow::anyhow!("architecture flags: {e}"))?;
    if config.batch_size == 0 || config.epochs == 0 {
        bail!("--batch-size and --epochs must be positive");
    }
    if !(0.0..1.0).contains(&config.label_smoothing) {
        bail!(
            "--label-smoothing must be in [0, 1), not {}",
            config.label_smoothing
        );
    }
    if !(0.0..=1.0).contains(&config.typo_rate) {
        bail!("--typo-rate must be in [0, 1], not {}", config.typo_rate);
    }
    if dataset.train.is_empty() {
        bail!("{}: no training sentences", dataset.source);
    }
    Ok(arch)
}

/// What every step reads, computed once a run: the shape, the device, the token ids of
/// every split and the synthetic-noise source.
struct Prepared<'a> {
    arch: Architecture,
    device: Device,
    table: &'a EmbeddingTable,
    /// Re-encodes misspelt training sentences (`--typo-rate`).
    encoder: &'a TextEncoder,
    typo_rate: f64,
    train_ids: Vec<Vec<u32>>,
    negative_ids: Vec<Vec<u32>>,
    val_ids: Vec<Vec<u32>>,
    val_negative_ids: Vec<Vec<u32>>,
    noise: NoiseSource,
}

/// Where a batch's synthetic unknown rows come from (`--synthetic`).
struct NoiseSource {
    kind: SyntheticNoise,
    /// Per-dimension mean and standard deviation of the Gaussian rows.
    mean: Vec<f32>,
    std: Vec<f32>,
    /// The inner tokens of every training sentence: drawing from it samples by frequency.
    token_pool: Vec<u32>,
}

/// One step's rows in the order the loss reads them (known sentences, synthetic noise,
/// negative sentences), with the known rows' labels.
struct StepRows {
    embedded: Vec<Vec<f32>>,
    lens: Vec<usize>,
    /// (first row, row count) of the known, noise and negative groups.
    groups: [(usize, usize); 3],
    targets: Vec<u32>,
}

impl<'a> Prepared<'a> {
    fn new(
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
    fn step_rows(&self, dataset: &Dataset, batch: &[usize], progress: &mut Progress) -> StepRows {
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
fn next_negatives(count: usize, progress: &mut Progress) -> Vec<usize> {
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

/// A fresh run's starting point, or the saved one the observer resumes from.
fn start_or_resume(
    config: &TrainConfig,
    dataset: &Dataset,
    prepared: &Prepared,
    network: &mut Network,
    optimizer: &mut AdamW,
    observer: &mut dyn Observer,
) -> Result<Progress> {
    let Some(p) = observer.resume(network, optimizer)? else {
        let mut rng = ChaCha12Rng::seed_from_u64(config.seed);
        let mut negative_order: Vec<usize> = (0..prepared.negative_ids.len()).collect();
        negative_order.shuffle(&mut rng);
        return Ok(Progress {
            epochs_done: 0,
            rng,
            order: (0..dataset.train.len()).collect(),
            negative_order,
            next_negative: 0,
        });
    };
    if p.order.len() != dataset.train.len() || p.negative_order.len() != prepared.negative_ids.len()
    {
        bail!(
            "the saved run is for {} training and {} negative sentences, the data has {} and {}",
            p.order.len(),
            p.negative_order.len(),
            dataset.train.len(),
            prepared.negative_ids.len()
        );
    }
    if p.epochs_done > config.epochs {
        bail!(
            "the saved run is at epoch {}, past the {} epochs asked for",
            p.epochs_done,
            config.epochs
        );
    }
    Ok(p)
}

/// Sums of an epoch's step losses, for its log line.
#[derive(Default)]
struct EpochSums {
    steps: usize,
    loss: f64,
    cross_entropy: f64,
    energy_loss: f64,
    known_energy: f64,
    unknown_energy: f64,
    unknown_rows: usize,
}

/// One pass over the reshuffled training sentences, a step per batch. The observer may stop
/// it between steps.
#[allow(clippy::too_many_arguments)]
fn train_epoch(
    config: &TrainConfig,
    dataset: &Dataset,
    prepared: &Prepared,
    network: &mut Network,
    optimizer: &mut AdamW,
    progress: &mut Progress,
    epoch: usize,
    observer: &mut dyn Observer,
) -> Result<EpochSums> {
    progress.order.shuffle(&mut progress.rng);
    let order = progress.order.clone();
    let steps = order.len().div_ceil(config.batch_size);
    let mut sums = EpochSums {
        steps,
        ..EpochSums::default()
    };
    for (step, batch) in order.chunks(config.batch_size).enumerate() {
        observer.before_step(epoch, step, steps)?;
        let run_step = (epoch - 1) * steps + step;
        optimizer.lr = config
            .lr_schedule
            .lr(config.lr, run_step, config.epochs * steps);
        let rows = prepared.step_rows(dataset, batch, progress);
        train_step(
            config, prepared, network, optimizer, rows, progress, epoch, &mut sums,
        )?;
        observer.after_step(sums.loss / (step + 1) as f64);
    }
    Ok(sums)
}

/// Forward, loss (cross-entropy on the known rows plus the energy loss on all), backward
/// and update; adds the step's terms to `sums`.
#[allow(clippy::too_many_arguments)]
fn train_step(
    config: &TrainConfig,
    prepared: &Prepared,
    network: &mut Network,
    optimizer: &mut AdamW,
    rows: StepRows,
    progress: &mut Progress,
    epoch: usize,
    sums: &mut EpochSums,
) -> Result<()> {
    let inputs: Vec<RowInput> = rows
        .embedded
        .iter()
        .zip(&rows.lens)
        .map(|(embedded, &len)| RowInput { embedded, len })
        .collect();
    let batch = network.batch(&inputs)?;
    let logits = network.forward_train(
        &batch,
        &rows.groups,
        config.bn_stats,
        config.dropout,
        &mut progress.rng,
    )?;
    let [(_, known), (_, noise), (_, negatives)] = rows.groups;
    let targets = Tensor::from_vec(rows.targets, known, &prepared.device)?;
    // Each member learns from its own logits; the step's terms are the members' means.
    let mut terms = Vec::with_capacity(network.members);
    for m in 0..network.members {
        let logits = network.member_logits(&logits, m)?;
        let ce = cross_entropy(
            &logits.narrow(0, 0, known)?,
            &targets,
            config.label_smoothing,
        )?;
        let e = energy(&logits)?;
        let e_unknown = [
            e.narrow(0, known, noise)?,
            e.narrow(0, known + noise, negatives)?,
        ];
        let el = energy_loss(
            config.energy_loss,
            &e.narrow(0, 0, known)?,
            &e_unknown,
            config.margin_in,
            config.margin_out,
        )?;
        terms.push((ce, el, e));
    }
    let mean = |pick: fn(&(Tensor, Tensor, Tensor)) -> &Tensor| -> Result<Tensor> {
        let stacked = Tensor::stack(&terms.iter().map(pick).collect::<Vec<_>>(), 0)?;
        Ok(stacked.mean(0)?)
    };
    let (ce, el, e) = (mean(|t| &t.0)?, mean(|t| &t.1)?, mean(|t| &t.2)?);
    let e_known = e.narrow(0, 0, known)?;
    let loss = (&ce + (&el * config.energy_weight)?)?;
    optimizer.backward_step(&loss)?;
    let loss_v = loss.to_scalar::<f32>()? as f64;
    if !loss_v.is_finite() {
        bail!("training diverged at epoch {epoch}: loss is {loss_v}");
    }
    sums.loss += loss_v;
    sums.cross_entropy += ce.to_scalar::<f32>()? as f64;
    sums.energy_loss += el.to_scalar::<f32>()? as f64;
    sums.known_energy += e_known.sum_all()?.to_scalar::<f32>()? as f64;
    let e_all_unknown = e.narrow(0, known, e.dim(0)? - known)?;
    sums.unknown_energy += e_all_unknown.sum_all()?.to_scalar::<f32>()? as f64;
    sums.unknown_rows += e_all_unknown.elem_count();
    Ok(())
}

/// Eval-mode closed-set accuracy and AUROC (validation sentences against validation
/// negatives) after an epoch.
fn validate(network: &Network, prepared: &Prepared, dataset: &Dataset) -> Result<(f64, f64)> {
    let known_logits = candle_logits(network, prepared.table, &prepared.val_ids)?;
    let unknown_logits = candle_logits(network, prepared.table, &prepared.val_negative_ids)?;
    let energies = |logits: &[Vec<f32>]| -> Vec<f32> {
        logits.iter().map(|l| model::decision::energy(l)).collect()
    };
    let correct = known_logits
        .iter()
        .zip(&dataset.val)
        .filter(|(l, (_, y))| model::math::argmax(l) == Some(*y))
        .count();
    Ok((
        correct as f64 / dataset.val.len().max(1) as f64,
        evaluate::auroc(&energies(&known_logits), &energies(&unknown_logits)),
    ))
}

/// The bundle's metadata before its threshold, temperature and metrics are known.
fn bundle_meta(
    config: &TrainConfig,
    dataset: &Dataset,
    embeddings: &Embeddings,
    arch: &Architecture,
) -> BundleMeta {
    BundleMeta {
        format_version: FORMAT_VERSION,
        architecture: arch.clone(),
        labels: dataset.labels.clone(),
        threshold: 0.0,
        temperature: 1.0,
        tokenizer_sha256: sha256_hex(&embeddings.tokenizer_bytes),
        table_sha256: sha256_hex(&embeddings.table_bytes),
        training: {
            let mut record = finish::training_record(dataset);
            record.insert("config".into(), serde_json::json!(config));
            record.insert("train_sentences".into(), dataset.train.len().into());
            record.insert(
                "negative_sentences".into(),
                dataset.negatives_train.len().into(),
            );
            record.into()
        },
        metrics: serde_json::Value::Null,
        spelling: match config.spelling {
            Spelling::Repair => model::spelling::vocabulary(dataset.training_texts()),
            Spelling::Off => Vec::new(),
        },
        scripts: model::script::written_in(dataset.train.iter().map(|(text, _)| text.as_str())),
    }
}

/// The trained network as the bundle ships it. The bundle's own forward pass (folded,
/// quantized weights) is what the after-fit stages ([`finish`]) measure.
fn export(
    config: &TrainConfig,
    dataset: &Dataset,
    embeddings: &Embeddings,
    network: Network,
    arch: &Architecture,
) -> Result<Trained> {
    let weights = network.folded()?;
    let dtype = config.weights_dtype.safetensors();
    let mut meta = bundle_meta(config, dataset, embeddings, arch);
    let classifier = Classifier::load(BundleFiles {
        model: &weights.serialize_as(&meta, dtype),
        table: &embeddings.table_bytes,
        tokenizer: &embeddings.tokenizer_bytes,
    })
    .map_err(|e| anyhow::anyhow!("the trained bundle does not load: {e}"))?;
    let setting = ThresholdSetting {
        fixed: config.threshold,
        rule: config.threshold_rule,
    };
    let evaluation = Evaluation::of(dataset, setting, |t| classifier.logits(t));
    meta.threshold = evaluation.threshold;
    meta.temperature = evaluation.temperature;
    meta.metrics = evaluation.metrics.clone();
    Ok(Trained {
        network,
        model_bytes: weights.serialize_as(&meta, dtype),
        meta,
        evaluation,
        data_source: dataset.source.clone(),
        embedding_source: embeddings.table_meta.source.clone(),
        unreadable: UnreadableReport::of(&embeddings.encoder, dataset.training_texts()),
    })
}

impl Trained {
    /// What the model card says of the model beside its figures.
    pub fn description(&self) -> ModelDescription<'_> {
        ModelDescription {
            kind: CardKind::TextCnn,
            labels: &self.meta.labels,
            data_source: &self.data_source,
            embedding_source: &self.embedding_source,
            scripts_read: &self.unreadable.read,
        }
    }

    /// README.md for the bundle, `name` being the model's (the bundle directory's, on the
    /// command line).
    pub fn model_card(&self, name: &str) -> String {
        self.evaluation.model_card(&self.description(), name)
    }
}

#[cfg(test)]
mod tests {
    use super::LrSchedule;

    #[test]
    fn cosine_schedule_falls_from_the_base_rate_to_zero() {
        let lr = |step| LrSchedule::Cosine.lr(0.1, step, 100);
        assert_eq!(lr(0), 0.1);
        assert!((lr(50) - 0.05).abs() < 1e-12);
        assert!(lr(99) > 0.0 && lr(99) < 1e-3);
        assert!(lr(100).abs() < 1e-12);
        assert!((0..100).all(|s| lr(s + 1) <= lr(s)));
        assert_eq!(LrSchedule::Constant.lr(0.1, 70, 100), 0.1);
    }

    #[test]
    fn a_page_names_the_schedule_in_its_options() {
        let config: super::TrainConfig =
            serde_json::from_str(r#"{"lr_schedule": "constant"}"#).unwrap();
        assert_eq!(config.lr_schedule, LrSchedule::Constant);
        let err = serde_json::from_str::<super::TrainConfig>(r#"{"lr_schedule": "linear"}"#)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("unknown variant `linear`, expected `constant` or `cosine`"),
            "{err}"
        );
    }
}
