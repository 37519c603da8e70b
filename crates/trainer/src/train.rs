//! `trainer train`: data → TextCNN with cross-entropy + energy loss → threshold on
//! validation → evaluation → bundle. The loss pushes known sentences' energy down and
//! synthetic noise and negative sentences' energy up.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use candle_core::{Device, Tensor};
use model::bundle::{
    sha256_hex, BundleMeta, FORMAT_VERSION, MODEL_FILE, TABLE_FILE, TOKENIZER_FILE,
};
use model::{Architecture, Branch, BundleFiles, Classifier, EmbeddingTable, TextEncoder};
use rand::{seq::SliceRandom, SeedableRng};
use rand_chacha::ChaCha12Rng;
use rand_distr::{Distribution, Normal};
use serde::Serialize;

use crate::calibration;
use crate::checkpoint::{self, Progress};
use crate::data::{DataArgs, Dataset};
use crate::evaluate::{self, ThresholdRule};
use crate::network::{energy, BnStats, Network, RowInput};
use crate::optim::AdamW;

#[derive(Clone, Copy, Debug, PartialEq, clap::ValueEnum, Serialize)]
pub enum EnergyLoss {
    /// Squared hinges (Liu et al. 2020): relu(E_known - m_in)^2 + relu(m_out - E_unknown)^2.
    Hinge,
    /// The seed's form: mean(E_known) + relu(1 - E_unknown); unbounded below for known rows.
    Seed,
}

/// How the bundle stores the network's weights. Whatever is stored is what the threshold
/// and every reported figure are computed from.
#[derive(Clone, Copy, Debug, PartialEq, clap::ValueEnum, Serialize)]
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
#[derive(Clone, Copy, Debug, PartialEq, clap::ValueEnum, Serialize)]
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

#[derive(clap::Args, Clone, Debug, Serialize)]
pub struct TrainArgs {
    #[command(flatten)]
    #[serde(flatten)]
    pub data: DataArgs,
    /// Directory with table.safetensors and its tokenizer.json.
    #[arg(long, default_value = "assets/minilm-l6-v2")]
    pub table: PathBuf,
    /// Bundle directory to write.
    #[arg(long)]
    pub out: PathBuf,
    #[arg(long, default_value_t = 50)]
    pub epochs: usize,
    #[arg(long, default_value_t = 24)]
    pub batch_size: usize,
    #[arg(long, default_value_t = 8e-4)]
    pub lr: f64,
    #[arg(long, default_value_t = 0.5)]
    pub dropout: f32,
    // The shape's defaults are `Architecture::default()`'s, the one home of the default model.
    /// Output channels of each conv branch.
    #[arg(long, default_value_t = Architecture::default().channels)]
    pub channels: usize,
    /// Kernel sizes of the conv branches.
    #[arg(long, value_delimiter = ',',
          default_values_t = Architecture::default().branches.into_iter().map(|b| b.kernel))]
    pub kernels: Vec<usize>,
    /// Zero padding of each branch, in the order of --kernels.
    #[arg(long, value_delimiter = ',',
          default_values_t = Architecture::default().branches.into_iter().map(|b| b.padding))]
    pub paddings: Vec<usize>,
    /// Most tokens per query, special tokens included.
    #[arg(long, default_value_t = Architecture::default().max_len)]
    pub max_len: usize,
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    #[arg(long, value_enum, default_value_t = EnergyLoss::Hinge)]
    pub energy_loss: EnergyLoss,
    /// Weight of the energy term next to cross-entropy.
    #[arg(long, default_value_t = 0.1)]
    pub energy_weight: f64,
    /// Hinge margin for known sentences: energy above it is penalized.
    #[arg(long, default_value_t = -8.0, allow_hyphen_values = true)]
    pub margin_in: f64,
    /// Hinge margin for noise and negatives: energy below it is penalized.
    #[arg(long, default_value_t = -2.0, allow_hyphen_values = true)]
    pub margin_out: f64,
    #[arg(long, value_enum, default_value_t = SyntheticNoise::Table)]
    pub synthetic: SyntheticNoise,
    /// Standard deviation of --synthetic gaussian.
    #[arg(long, default_value_t = 1.0)]
    pub noise_std: f32,
    /// Label smoothing of the cross-entropy (0: none).
    #[arg(long, default_value_t = 0.0)]
    pub label_smoothing: f64,
    #[arg(long, value_enum, default_value_t = BnStats::Known)]
    pub bn_stats: BnStats,
    /// How the energy threshold is chosen on the validation split.
    #[arg(long, value_enum, default_value_t = ThresholdRule::Recall75)]
    pub threshold_rule: ThresholdRule,
    /// How model.safetensors stores the weights.
    #[arg(long, value_enum, default_value_t = WeightsDtype::Int8)]
    pub weights_dtype: WeightsDtype,
    /// Use this energy threshold instead of choosing one.
    #[arg(long, allow_hyphen_values = true)]
    pub threshold: Option<f32>,
    /// cpu, or cuda (needs the `cuda` feature).
    #[arg(long, default_value = "cpu")]
    pub device: String,
    /// Per-epoch metrics as JSON lines (default: OUT.metrics.jsonl).
    #[arg(long)]
    pub metrics_log: Option<PathBuf>,
    /// Skip the progress bar (for logs).
    #[arg(long)]
    pub quiet: bool,
    /// Save the whole training state here after every epoch.
    #[arg(long)]
    pub checkpoint: Option<PathBuf>,
    /// Continue from --checkpoint (same flags; --epochs is the new total).
    #[arg(long, requires = "checkpoint")]
    pub resume: bool,
}

impl TrainArgs {
    pub fn architecture(&self) -> Result<Architecture> {
        if self.kernels.len() != self.paddings.len() {
            bail!(
                "--kernels has {} entries but --paddings has {}",
                self.kernels.len(),
                self.paddings.len()
            );
        }
        let arch = Architecture {
            embed_dim: 0,
            channels: self.channels,
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

    /// The flags that define a run; a checkpoint only resumes under the same ones.
    fn run_settings(&self, embeddings: &Embeddings) -> Result<serde_json::Value> {
        let mut settings = serde_json::to_value(self)?;
        let map = settings.as_object_mut().expect("TrainArgs is a struct");
        for not_defining in [
            "epochs",
            "out",
            "metrics_log",
            "quiet",
            "checkpoint",
            "resume",
            "device",
            "threshold",
            "threshold_rule",
            "weights_dtype",
        ] {
            map.remove(not_defining);
        }
        map.insert(
            "table_sha256".into(),
            sha256_hex(&embeddings.table_bytes).into(),
        );
        Ok(settings)
    }
}

pub fn device(name: &str) -> Result<Device> {
    match name {
        "cpu" => Ok(Device::Cpu),
        #[cfg(feature = "cuda")]
        "cuda" => crate::cuda::device(0),
        #[cfg(not(feature = "cuda"))]
        "cuda" => bail!("this build has no CUDA: rebuild with `--features cuda`"),
        other => bail!("unknown device `{other}` (cpu or cuda)"),
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
    pub fn load(dir: &Path, max_len: usize) -> Result<Self> {
        let read = |f: &str| {
            let p = dir.join(f);
            std::fs::read(&p).with_context(|| format!("cannot read {}", p.display()))
        };
        let table_bytes = read(TABLE_FILE)?;
        let tokenizer_bytes = read(TOKENIZER_FILE)?;
        let (table, table_meta) = EmbeddingTable::parse(&table_bytes)
            .map_err(|e| anyhow::anyhow!("{}: {e}", dir.display()))?;
        let encoder = TextEncoder::from_bytes(&tokenizer_bytes, max_len)
            .map_err(|e| anyhow::anyhow!("{}: {e}", dir.display()))?;
        if encoder.vocab_size() != table.rows {
            bail!(
                "{}: tokenizer.json has {} tokens but table.safetensors has {} rows",
                dir.display(),
                encoder.vocab_size(),
                table.rows
            );
        }
        if table_meta.tokenizer_sha256 != sha256_hex(&tokenizer_bytes) {
            bail!("{}: tokenizer.json is not the one table.safetensors was built for (sha256 differs)", dir.display());
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
    pub seconds: f64,
}

/// What the training loop reports and asks as it runs, so that the loop touches no file,
/// terminal or signal itself. The command line's [`Console`] draws the progress bar, appends
/// the metrics log, saves checkpoints and stops on SIGTERM / SIGINT; a page would post
/// progress and honour a cancel button instead.
pub trait Observer {
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

/// The command line's observer (see [`Observer`]).
pub struct Console<'a> {
    args: &'a TrainArgs,
    /// The flags a checkpoint is saved under (`TrainArgs::run_settings`).
    settings: serde_json::Value,
    log: Option<std::fs::File>,
    bar: indicatif::ProgressBar,
}

impl<'a> Console<'a> {
    pub fn new(args: &'a TrainArgs, settings: serde_json::Value) -> Self {
        Self {
            args,
            settings,
            log: None,
            bar: indicatif::ProgressBar::hidden(),
        }
    }
}

impl Observer for Console<'_> {
    fn started(&mut self, epochs_done: usize) -> Result<()> {
        self.log = Some(open_metrics_log(
            &metrics_log_path(self.args)?,
            epochs_done,
        )?);
        Ok(())
    }

    fn before_step(&mut self, epoch: usize, step: usize, steps: usize) -> Result<()> {
        if step == 0 {
            self.bar = epoch_bar(self.args.quiet, epoch, steps);
        }
        crate::interrupt::check(|| interrupted_at(self.args, epoch, step, steps))
    }

    fn after_step(&mut self, mean_loss: f64) {
        self.bar.inc(1);
        self.bar.set_message(format!("loss {mean_loss:.4}"));
    }

    fn epoch_done(&mut self, entry: &EpochLog, state: TrainingState<'_>) -> Result<()> {
        self.bar.finish_and_clear();
        if let Some(log) = &mut self.log {
            writeln!(log, "{}", serde_json::to_string(entry)?)?;
        }
        print_epoch(self.args, entry);
        if let Some(path) = &self.args.checkpoint {
            checkpoint::save(
                path,
                state.network,
                state.optimizer,
                state.progress,
                &self.settings,
            )?;
        }
        Ok(())
    }
}

/// A trained model before it is written: network, metadata, dataset and embeddings.
pub struct Trained {
    pub network: Network,
    pub meta: BundleMeta,
    pub model_bytes: Vec<u8>,
    pub val_report: evaluate::Report,
    pub test_report: evaluate::Report,
    /// SVG plots of the test split (validation when there is no test split).
    pub plots: Vec<(&'static str, Vec<u8>)>,
    /// README.md: the Hugging Face model card (model_card.rs).
    pub model_card: String,
}

/// The per-epoch log: a fresh file, or on resume the existing one cut to the epochs the
/// checkpoint holds (an interrupted epoch may have logged a line the checkpoint missed).
fn open_metrics_log(path: &Path, epochs_done: usize) -> Result<std::fs::File> {
    let kept: String = if epochs_done == 0 {
        String::new()
    } else {
        std::fs::read_to_string(path)
            .unwrap_or_default()
            .lines()
            .filter(|line| {
                serde_json::from_str::<serde_json::Value>(line)
                    .ok()
                    .and_then(|v| v["epoch"].as_u64())
                    .is_some_and(|e| e as usize <= epochs_done)
            })
            .map(|line| format!("{line}\n"))
            .collect()
    };
    std::fs::write(path, kept).with_context(|| format!("cannot write {}", path.display()))?;
    std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .with_context(|| format!("cannot write {}", path.display()))
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

/// Trains one model as the command line does ([`Console`]).
pub fn train(args: &TrainArgs, dataset: &Dataset, embeddings: &Embeddings) -> Result<Trained> {
    let mut console = Console::new(args, args.run_settings(embeddings)?);
    train_observed(args, dataset, embeddings, &mut console)
}

/// Trains one model: the stages below, in order, reporting to `observer`. The random stream
/// (shuffles, negatives, noise, dropout) is drawn in one fixed order, so a seed and flags
/// give one model whatever observes it.
pub fn train_observed(
    args: &TrainArgs,
    dataset: &Dataset,
    embeddings: &Embeddings,
    observer: &mut dyn Observer,
) -> Result<Trained> {
    let arch = checked_architecture(args, dataset, embeddings)?;
    let prepared = Prepared::new(args, dataset, embeddings, arch)?;
    let mut network = Network::new(
        &prepared.arch,
        dataset.labels.len(),
        args.seed,
        &prepared.device,
    )?;
    let mut optimizer = AdamW::new(network.trainable(), args.lr, 0.0)?;
    let mut progress = start_or_resume(
        args,
        dataset,
        embeddings,
        &prepared,
        &mut network,
        &mut optimizer,
    )?;
    observer.started(progress.epochs_done)?;
    for epoch in progress.epochs_done + 1..=args.epochs {
        let started = Instant::now();
        let sums = train_epoch(
            args,
            dataset,
            &prepared,
            &mut network,
            &mut optimizer,
            &mut progress,
            epoch,
            observer,
        )?;
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
        };
        progress.epochs_done = epoch;
        let state = TrainingState {
            network: &network,
            optimizer: &optimizer,
            progress: &progress,
        };
        observer.epoch_done(&entry, state)?;
    }
    export(args, dataset, embeddings, network, &prepared.arch)
}

/// The network's shape from the flags, refusing flags and data no run can use.
fn checked_architecture(
    args: &TrainArgs,
    dataset: &Dataset,
    embeddings: &Embeddings,
) -> Result<Architecture> {
    let mut arch = args.architecture()?;
    arch.embed_dim = embeddings.table.dim;
    arch.validate()
        .map_err(|e| anyhow::anyhow!("architecture flags: {e}"))?;
    if args.batch_size == 0 || args.epochs == 0 {
        bail!("--batch-size and --epochs must be positive");
    }
    if !(0.0..1.0).contains(&args.label_smoothing) {
        bail!(
            "--label-smoothing must be in [0, 1), not {}",
            args.label_smoothing
        );
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
        args: &TrainArgs,
        dataset: &Dataset,
        embeddings: &'a Embeddings,
        arch: Architecture,
    ) -> Result<Self> {
        let device = device(&args.device)?;
        let encoder = &embeddings.encoder;
        let table = &embeddings.table;
        let train_ids = encode_all(encoder, dataset.train.iter().map(|(t, _)| t));
        let (mean, std) = match args.synthetic {
            SyntheticNoise::Table => table_moments(table),
            _ => (vec![0.0; table.dim], vec![args.noise_std; table.dim]),
        };
        let token_pool = if args.synthetic == SyntheticNoise::Tokens {
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
            negative_ids: encode_all(encoder, dataset.negatives_train.iter()),
            val_ids: encode_all(encoder, dataset.val.iter().map(|(t, _)| t)),
            val_negative_ids: encode_all(encoder, dataset.negatives_val.iter()),
            train_ids,
            noise: NoiseSource {
                kind: args.synthetic,
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
        let longest = batch
            .iter()
            .map(|&i| arch.effective_len(self.train_ids[i].len()))
            .chain(
                negatives
                    .iter()
                    .map(|&i| arch.effective_len(self.negative_ids[i].len())),
            )
            .max()
            .unwrap_or(1);
        let (noise_rows, noise_lens) = self.noise_rows(dataset, batch, longest, &mut progress.rng);
        let mut embedded = Vec::with_capacity(3 * batch.len());
        let mut lens = Vec::with_capacity(3 * batch.len());
        for &i in batch {
            embedded.push(self.table.lookup(&self.train_ids[i]));
            lens.push(arch.effective_len(self.train_ids[i].len()));
        }
        let noise_count = noise_rows.len();
        embedded.extend(noise_rows);
        lens.extend(noise_lens);
        for &i in &negatives {
            embedded.push(self.table.lookup(&self.negative_ids[i]));
            lens.push(arch.effective_len(self.negative_ids[i].len()));
        }
        let b = batch.len();
        StepRows {
            embedded,
            lens,
            groups: [(0, b), (b, noise_count), (b + noise_count, negatives.len())],
            targets: batch.iter().map(|&i| dataset.train[i].1 as u32).collect(),
        }
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

/// A fresh run's starting point, or the checkpoint's under `--resume`.
fn start_or_resume(
    args: &TrainArgs,
    dataset: &Dataset,
    embeddings: &Embeddings,
    prepared: &Prepared,
    network: &mut Network,
    optimizer: &mut AdamW,
) -> Result<Progress> {
    if !args.resume {
        let mut rng = ChaCha12Rng::seed_from_u64(args.seed);
        let mut negative_order: Vec<usize> = (0..prepared.negative_ids.len()).collect();
        negative_order.shuffle(&mut rng);
        return Ok(Progress {
            epochs_done: 0,
            rng,
            order: (0..dataset.train.len()).collect(),
            negative_order,
            next_negative: 0,
        });
    }
    let path = args
        .checkpoint
        .as_deref()
        .expect("clap: --resume requires --checkpoint");
    let settings = args.run_settings(embeddings)?;
    let p = checkpoint::load(path, network, optimizer, &settings, &prepared.device)?;
    if p.order.len() != dataset.train.len() || p.negative_order.len() != prepared.negative_ids.len()
    {
        bail!(
            "{}: the checkpoint is for {} training and {} negative sentences, the data has {} and {}",
            path.display(),
            p.order.len(),
            p.negative_order.len(),
            dataset.train.len(),
            prepared.negative_ids.len()
        );
    }
    if p.epochs_done > args.epochs {
        bail!(
            "{}: the checkpoint is at epoch {}, past --epochs {}",
            path.display(),
            p.epochs_done,
            args.epochs
        );
    }
    eprintln!(
        "resuming after epoch {} from {}",
        p.epochs_done,
        path.display()
    );
    Ok(p)
}

/// `--metrics-log`, or `<out>.metrics.jsonl`, with its directory created.
fn metrics_log_path(args: &TrainArgs) -> Result<PathBuf> {
    let path = args
        .metrics_log
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("{}.metrics.jsonl", args.out.display())));
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    Ok(path)
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
    args: &TrainArgs,
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
    let steps = order.len().div_ceil(args.batch_size);
    let mut sums = EpochSums {
        steps,
        ..EpochSums::default()
    };
    for (step, batch) in order.chunks(args.batch_size).enumerate() {
        observer.before_step(epoch, step, steps)?;
        let rows = prepared.step_rows(dataset, batch, progress);
        train_step(
            args, prepared, network, optimizer, rows, progress, epoch, &mut sums,
        )?;
        observer.after_step(sums.loss / (step + 1) as f64);
    }
    Ok(sums)
}

fn epoch_bar(quiet: bool, epoch: usize, steps: usize) -> indicatif::ProgressBar {
    let bar = if quiet {
        indicatif::ProgressBar::hidden()
    } else {
        indicatif::ProgressBar::new(steps as u64)
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template("epoch {prefix:>3} [{bar:30}] {pos}/{len} {msg}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar.set_prefix(epoch.to_string());
    bar
}

/// Forward, loss (cross-entropy on the known rows plus the energy loss on all), backward
/// and update; adds the step's terms to `sums`.
#[allow(clippy::too_many_arguments)]
fn train_step(
    args: &TrainArgs,
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
        args.bn_stats,
        args.dropout,
        &mut progress.rng,
    )?;
    let [(_, known), (_, noise), (_, negatives)] = rows.groups;
    let targets = Tensor::from_vec(rows.targets, known, &prepared.device)?;
    let ce = cross_entropy(&logits.narrow(0, 0, known)?, &targets, args.label_smoothing)?;
    let e = energy(&logits)?;
    let e_known = e.narrow(0, 0, known)?;
    let e_unknown = [
        e.narrow(0, known, noise)?,
        e.narrow(0, known + noise, negatives)?,
    ];
    let el = energy_loss(
        args.energy_loss,
        &e_known,
        &e_unknown,
        args.margin_in,
        args.margin_out,
    )?;
    let loss = (&ce + (&el * args.energy_weight)?)?;
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
        .filter(|(l, (_, y))| {
            l.iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1))
                .map(|x| x.0)
                == Some(*y)
        })
        .count();
    Ok((
        correct as f64 / dataset.val.len().max(1) as f64,
        evaluate::auroc(&energies(&known_logits), &energies(&unknown_logits)),
    ))
}

/// The epoch's line on stderr (only the last epoch's under `--quiet`).
fn print_epoch(args: &TrainArgs, entry: &EpochLog) {
    if !args.quiet || entry.epoch == args.epochs {
        eprintln!(
            "epoch {:>3}  loss {:.4}  ce {:.4}  energy {:.4}  E(known) {:.2}  E(unknown) {:.2}  val acc {:.2}%  val AUROC {:.4}  {:.1}s",
            entry.epoch,
            entry.loss,
            entry.cross_entropy,
            entry.energy_loss,
            entry.mean_energy_known,
            entry.mean_energy_unknown,
            entry.val_accuracy * 100.0,
            entry.val_auroc,
            entry.seconds
        );
    }
}

/// The bundle's metadata before its threshold, temperature and metrics are known.
fn bundle_meta(
    args: &TrainArgs,
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
        training: serde_json::json!({
            "args": args,
            "data": dataset.source,
            "train_sentences": dataset.train.len(),
            "negative_sentences": dataset.negatives_train.len(),
            "examples": suggestions(dataset),
            "unix_time": std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0),
        }),
        metrics: serde_json::Value::Null,
    }
}

/// The trained network as the bundle ships it. The bundle's own forward pass (folded,
/// quantized weights) chooses the threshold and the temperature and is what the reports,
/// plots and card measure: what ships is what is measured.
fn export(
    args: &TrainArgs,
    dataset: &Dataset,
    embeddings: &Embeddings,
    network: Network,
    arch: &Architecture,
) -> Result<Trained> {
    let weights = network.folded()?;
    let dtype = args.weights_dtype.safetensors();
    let mut meta = bundle_meta(args, dataset, embeddings, arch);
    let classifier = Classifier::load(BundleFiles {
        model: &weights.serialize_as(&meta, dtype),
        table: &embeddings.table_bytes,
        tokenizer: &embeddings.tokenizer_bytes,
    })
    .map_err(|e| anyhow::anyhow!("the trained bundle does not load: {e}"))?;
    let logits = |t: &str| classifier.logits(t);
    let (val_known, val_unknown) = evaluate::score(&dataset.val, &dataset.negatives_val, logits);
    meta.threshold = match args.threshold {
        Some(t) => t,
        None => evaluate::choose_threshold(args.threshold_rule, &val_known, &val_unknown),
    };
    let (test_known, test_unknown) =
        evaluate::score(&dataset.test, &dataset.negatives_test, logits);
    let from_file = dataset.split_from_training;
    let report = |known: &[evaluate::KnownScore], unknown: &[f32]| {
        evaluate::report(&dataset.labels, known, unknown, meta.threshold, from_file)
    };
    let val_report = report(&val_known, &val_unknown);
    let test_report = report(&test_known, &test_unknown);
    let calibration = calibration::calibrate(
        &calibration::scored(&dataset.val, logits),
        &calibration::scored(&dataset.test, logits),
        from_file,
    );
    meta.temperature = calibration.temperature;
    meta.metrics = serde_json::json!({
        "validation": val_report,
        "test": test_report,
        "calibration": calibration,
    });
    let plots = if test_known.is_empty() {
        crate::plots::evaluation_plots(&val_known, &val_unknown, meta.threshold, "validation")
    } else {
        crate::plots::evaluation_plots(&test_known, &test_unknown, meta.threshold, "test")
    };
    let model_card = model_card(
        args,
        &meta,
        &dataset.source,
        embeddings,
        &val_report,
        &test_report,
    );
    Ok(Trained {
        network,
        model_bytes: weights.serialize_as(&meta, dtype),
        meta,
        val_report,
        test_report,
        plots,
        model_card,
    })
}

fn model_card(
    args: &TrainArgs,
    meta: &BundleMeta,
    data_source: &str,
    embeddings: &Embeddings,
    val: &evaluate::Report,
    test: &evaluate::Report,
) -> String {
    use crate::model_card::{render, CardInputs, Split, ThresholdChoice};
    let name = args
        .out
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| "intent-classifier".into());
    let mut splits = Vec::new();
    if test.known + test.unknown > 0 {
        splits.push(Split {
            name: "test",
            report: test,
        });
    }
    splits.push(Split {
        name: "validation",
        report: val,
    });
    render(&CardInputs {
        name: &name,
        labels: &meta.labels,
        threshold: meta.threshold,
        choice: match args.threshold {
            Some(_) => ThresholdChoice::Fixed,
            None => ThresholdChoice::Rule(args.threshold_rule),
        },
        data_source,
        embedding_source: &embeddings.table_meta.source,
        splits,
    })
}

/// Sentences of each intent kept in the bundle, so a page can suggest queries that fit the
/// model (the demo's chips).
const SUGGESTIONS_PER_INTENT: usize = 2;
const SUGGESTED_NEGATIVES: usize = 4;

/// `{ "known": [[text, intent], ...], "unknown": [text, ...] }` from the training split.
fn suggestions(dataset: &Dataset) -> serde_json::Value {
    let mut taken = vec![0usize; dataset.labels.len()];
    let known: Vec<(&str, &str)> = dataset
        .train
        .iter()
        .filter(|(_, label)| {
            taken[*label] += 1;
            taken[*label] <= SUGGESTIONS_PER_INTENT
        })
        .map(|(text, label)| (text.as_str(), dataset.labels[*label].as_str()))
        .collect();
    let unknown: Vec<&str> = dataset
        .negatives_train
        .iter()
        .take(SUGGESTED_NEGATIVES)
        .map(String::as_str)
        .collect();
    serde_json::json!({ "known": known, "unknown": unknown })
}

/// Where a signal stopped the loop, and what the checkpoint then holds.
fn interrupted_at(args: &TrainArgs, epoch: usize, step: usize, steps: usize) -> String {
    let place = format!(
        "in epoch {epoch} of {}, before step {} of {steps}",
        args.epochs,
        step + 1
    );
    match &args.checkpoint {
        None => place,
        Some(path) if epoch > 1 => format!(
            "{place}; {} holds epoch {}: --resume continues from there",
            path.display(),
            epoch - 1
        ),
        Some(path) => format!(
            "{place}; no epoch was complete, {} was not written",
            path.display()
        ),
    }
}

/// Writes the bundle directory atomically, plus its evaluation JSON and plots.
pub fn write_bundle(out: &Path, trained: &Trained, embeddings: &Embeddings) -> Result<()> {
    let metrics = serde_json::to_vec_pretty(&trained.meta.metrics)?;
    let mut files = vec![
        (MODEL_FILE, trained.model_bytes.clone()),
        (TABLE_FILE, embeddings.table_bytes.clone()),
        (TOKENIZER_FILE, embeddings.tokenizer_bytes.clone()),
        ("evaluation.json", metrics),
        (
            crate::model_card::MODEL_CARD_FILE,
            trained.model_card.clone().into_bytes(),
        ),
    ];
    files.extend(trained.plots.iter().cloned());
    crate::output::write_dir_atomically(out, &files)
}

pub fn run(args: &TrainArgs) -> Result<()> {
    let dataset = args.data.load(args.seed)?;
    let embeddings = Embeddings::load(&args.table, args.max_len)?;
    eprintln!(
        "{} intents, {} training / {} validation / {} test sentences, {} / {} / {} negatives",
        dataset.labels.len(),
        dataset.train.len(),
        dataset.val.len(),
        dataset.test.len(),
        dataset.negatives_train.len(),
        dataset.negatives_val.len(),
        dataset.negatives_test.len()
    );
    let trained = train(args, &dataset, &embeddings)
        .and_then(|trained| {
            crate::interrupt::check(|| "after training, before writing the bundle".into())?;
            Ok(trained)
        })
        .map_err(|e| crate::interrupt::with_output_cleaned(e, &args.out))?;
    write_bundle(&args.out, &trained, &embeddings)?;
    trained
        .val_report
        .print("validation (threshold chosen here)");
    trained.test_report.print("test");
    let c = &trained.meta.metrics["calibration"];
    println!(
        "calibration: temperature {:.3}, ECE (15 bins) validation {:.4} -> {:.4}, test {:.4} -> {:.4}",
        trained.meta.temperature,
        c["validation"]["before"].as_f64().unwrap_or(f64::NAN),
        c["validation"]["after"].as_f64().unwrap_or(f64::NAN),
        c["test"]["before"].as_f64().unwrap_or(f64::NAN),
        c["test"]["after"].as_f64().unwrap_or(f64::NAN),
    );
    println!("wrote {}", args.out.display());
    Ok(())
}
