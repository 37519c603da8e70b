//! `trainer train`: the training core (`training::train`) run from files, with a progress
//! bar, a metrics log, checkpoints and signals ([`Console`]), writing the bundle directory.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use candle_core::Device;
use model::bundle::{sha256_hex, MODEL_FILE, TABLE_FILE, TOKENIZER_FILE};
use serde::Serialize;
use training::finish::Evaluation;
pub use training::train::*;

use crate::checkpoint;
use crate::data::{DataArgs, Dataset};
use training::network::Network;
use training::optim::AdamW;

/// `trainer train`'s flags: where the data, table and bundle are, the run's [`TrainConfig`],
/// and what only the command line has (device, logs, checkpoints).
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
    #[command(flatten)]
    #[serde(flatten)]
    pub config: TrainConfig,
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

/// The token table and tokenizer of the directory `dir`.
pub fn load_embeddings(dir: &Path, max_len: usize) -> Result<Embeddings> {
    let read = |f: &str| {
        let p = dir.join(f);
        std::fs::read(&p).with_context(|| format!("cannot read {}", p.display()))
    };
    Embeddings::from_bytes(
        read(TABLE_FILE)?,
        read(TOKENIZER_FILE)?,
        max_len,
        &dir.display().to_string(),
    )
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
    fn resume(&mut self, network: &mut Network, optimizer: &mut AdamW) -> Result<Option<Progress>> {
        let Some(path) = self.args.checkpoint.as_deref().filter(|_| self.args.resume) else {
            return Ok(None);
        };
        let device = network.device.clone();
        let progress = checkpoint::load(path, network, optimizer, &self.settings, &device)?;
        eprintln!(
            "resuming after epoch {} from {}",
            progress.epochs_done,
            path.display()
        );
        Ok(Some(progress))
    }

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

/// Trains one model as the command line does ([`Console`]).
pub fn train(args: &TrainArgs, dataset: &Dataset, embeddings: &Embeddings) -> Result<Trained> {
    let mut console = Console::new(args, args.run_settings(embeddings)?);
    let device = device(&args.device)?;
    train_observed(&args.config, dataset, embeddings, &device, &mut console)
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

/// The epoch's line on stderr (only the last epoch's under `--quiet`).
fn print_epoch(args: &TrainArgs, entry: &EpochLog) {
    if !args.quiet || entry.epoch == args.config.epochs {
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

/// Where a signal stopped the loop, and what the checkpoint then holds.
fn interrupted_at(args: &TrainArgs, epoch: usize, step: usize, steps: usize) -> String {
    let place = format!(
        "in epoch {epoch} of {}, before step {} of {steps}",
        args.config.epochs,
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

/// The model's name in its card: the bundle directory's.
pub fn bundle_name(out: &Path) -> String {
    out.file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| "intent-classifier".into())
}

/// Writes the bundle directory atomically, plus its evaluation JSON, card and plots.
pub fn write_bundle(out: &Path, trained: &Trained, embeddings: &Embeddings) -> Result<()> {
    let files = trained.evaluation.bundle_files(
        [
            (MODEL_FILE, trained.model_bytes.clone()),
            (TABLE_FILE, embeddings.table_bytes.clone()),
            (TOKENIZER_FILE, embeddings.tokenizer_bytes.clone()),
        ],
        &trained.description(),
        &bundle_name(out),
        &[],
    )?;
    crate::output::write_dir_atomically(out, &files)
}

/// The validation and test reports and the calibration line, as both kinds print them.
pub fn print_reports(evaluation: &Evaluation) {
    print!(
        "{}",
        evaluation
            .val_report
            .render("validation (threshold chosen here)")
    );
    print!("{}", evaluation.test_report.render("test"));
    let calibration = &evaluation.metrics["calibration"];
    let figure = |split: &str, when: &str| calibration[split][when].as_f64().unwrap_or(f64::NAN);
    println!(
        "calibration: temperature {:.3}, ECE (15 bins) validation {:.4} -> {:.4}, test {:.4} -> {:.4}",
        evaluation.temperature,
        figure("validation", "before"),
        figure("validation", "after"),
        figure("test", "before"),
        figure("test", "after"),
    );
}

pub fn run(args: &TrainArgs) -> Result<()> {
    let dataset = args.data.load(args.config.seed)?;
    let embeddings = load_embeddings(&args.table, args.config.max_len)?;
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
    // Before training, so a table that cannot read the data is known before the wait.
    let unreadable =
        training::scripts::UnreadableReport::of(&embeddings.encoder, dataset.training_texts());
    eprintln!("{}", unreadable.summary());
    for warning in &unreadable.warnings {
        eprintln!("warning: {warning}");
    }
    let trained = train(args, &dataset, &embeddings)
        .and_then(|trained| {
            crate::interrupt::check(|| "after training, before writing the bundle".into())?;
            Ok(trained)
        })
        .map_err(|e| crate::interrupt::with_output_cleaned(e, &args.out))?;
    write_bundle(&args.out, &trained, &embeddings)?;
    print_reports(&trained.evaluation);
    println!("wrote {}", args.out.display());
    Ok(())
}
