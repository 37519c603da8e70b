//! `cargo run -p trainer --release -- <table|train|evaluate> ...`

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use std::collections::HashMap;

use model::bundle::{MODEL_FILE, TABLE_FILE, TOKENIZER_FILE};
use model::{BundleFiles, Classifier, ClassifyOptions, IntentModel};
use sentence_encoder::encoder_file::ENCODER_FILE;
use sentence_encoder::{EncoderBundleFiles, EncoderClassifier};
use trainer::interrupt::{self, Interrupted};
#[cfg(feature = "table")]
use trainer::table;
use trainer::{data, encoder, evaluate, train};

#[derive(Parser)]
#[command(
    version,
    about = "Train and evaluate the in-browser TextCNN intent classifier"
)]
struct Args {
    /// Worker threads for CPU math (default: all cores).
    #[arg(long, global = true)]
    threads: Option<usize>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Build a compact token table (PCA + product quantization) from a model's token embeddings.
    #[cfg(feature = "table")]
    Table(table::TableArgs),
    /// Build a compact token table: not in this build (it lacks the `table` feature).
    #[cfg(not(feature = "table"))]
    #[command(disable_help_flag = true)]
    Table {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Train a classifier and write its bundle.
    Train(Box<train::TrainArgs>),
    /// Make a bundle of the sentence-encoder kind: a pretrained encoder's vectors and a
    /// linear head trained over them, for intents with only a handful of examples each.
    Encoder(encoder::EncoderArgs),
    /// Evaluate a bundle on a dataset.
    Evaluate(EvaluateArgs),
    /// Write the bundle's token ids, logits and decision for each text of a JSON list.
    Logits(LogitsArgs),
}

#[derive(clap::Args)]
struct LogitsArgs {
    #[arg(long)]
    bundle: PathBuf,
    /// JSON list of strings.
    #[arg(long)]
    texts: PathBuf,
    #[arg(long)]
    out: PathBuf,
    /// Also write each text's pooled features (what the linear head reads).
    #[arg(long)]
    features: bool,
}

#[derive(clap::Args)]
struct EvaluateArgs {
    /// Bundle directory (model.safetensors and tokenizer.json, with table.safetensors or
    /// encoder.safetensors).
    #[arg(long)]
    bundle: PathBuf,
    #[command(flatten)]
    data: data::DataArgs,
    /// Split seed, as given to `train` (seed format only).
    #[arg(long, default_value_t = train::TrainConfig::default().seed)]
    seed: u64,
    /// Override the bundle's threshold.
    #[arg(long, allow_hyphen_values = true)]
    threshold: Option<f32>,
    /// Choose the threshold anew on the dataset's validation split with this rule
    /// (instead of the bundle's); test figures stay untouched by the choice.
    #[arg(long, value_enum, conflicts_with = "threshold")]
    threshold_rule: Option<evaluate::ThresholdRule>,
    /// Write the report as JSON here.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Where the energy histogram and the metrics-vs-threshold plot go (SVG; default: the
    /// bundle directory, where the demo page shows them).
    #[arg(long)]
    plots: Option<PathBuf>,
}

/// A bundle of either kind, loaded from `dir`: the model file's `format` names the kind.
fn load_bundle(dir: &Path) -> Result<Box<dyn IntentModel>> {
    let read = |f: &str| {
        let p = dir.join(f);
        std::fs::read(&p).with_context(|| format!("cannot read {}", p.display()))
    };
    let (model, tokenizer) = (read(MODEL_FILE)?, read(TOKENIZER_FILE)?);
    let is_encoder = sentence_encoder::bundle::model_format(&model).as_deref()
        == Some(sentence_encoder::bundle::MODEL_FORMAT);
    let loaded: Result<Box<dyn IntentModel>, _> = if is_encoder {
        EncoderClassifier::load(EncoderBundleFiles {
            model: &model,
            encoder: &read(ENCODER_FILE)?,
            tokenizer: &tokenizer,
        })
        .map(|c| Box::new(c) as Box<dyn IntentModel>)
    } else {
        Classifier::load(BundleFiles {
            model: &model,
            table: &read(TABLE_FILE)?,
            tokenizer: &tokenizer,
        })
        .map(|c| Box::new(c) as Box<dyn IntentModel>)
    };
    loaded.map_err(|e| anyhow::anyhow!("{}: {e}", dir.display()))
}

fn write_logits(args: &LogitsArgs) -> Result<()> {
    let bundle = load_bundle(&args.bundle)?;
    let text = std::fs::read_to_string(&args.texts)
        .with_context(|| format!("cannot read {}", args.texts.display()))?;
    let texts: Vec<String> = serde_json::from_str(&text)
        .with_context(|| format!("{}: expected a JSON list of strings", args.texts.display()))?;
    let rows: Vec<serde_json::Value> = texts
        .iter()
        .map(|t| -> Result<serde_json::Value> {
            let mut row = serde_json::json!({
                "text": t,
                "logits": bundle.logits(t)?,
                "result": bundle.classify(t, &ClassifyOptions::default())?,
                "ids": bundle.token_ids(t),
            });
            if args.features {
                let features = bundle.features(t).with_context(|| {
                    format!(
                        "--features: a {} bundle has no pooled features",
                        bundle.kind()
                    )
                })?;
                row["features"] = features.into();
            }
            Ok(row)
        })
        .collect::<Result<_>>()?;
    std::fs::write(&args.out, serde_json::to_vec(&rows)?)
        .with_context(|| format!("cannot write {}", args.out.display()))
}

fn evaluate_bundle(args: &EvaluateArgs) -> Result<()> {
    let bundle = load_bundle(&args.bundle)?;
    let ds = args.data.load(args.seed)?;
    anyhow::ensure!(
        ds.labels == bundle.labels(),
        "{} has other intents than the bundle",
        args.data.path.display()
    );
    // Validation is read only to choose a threshold anew.
    let (known, unknown) = match args.threshold_rule {
        Some(_) => (
            vec![&ds.val, &ds.test],
            vec![&ds.negatives_val, &ds.negatives_test],
        ),
        None => (vec![&ds.test], vec![&ds.negatives_test]),
    };
    let texts: Vec<&str> = known
        .iter()
        .flat_map(|split| split.iter().map(|(t, _)| t.as_str()))
        .chain(unknown.iter().flat_map(|s| s.iter().map(String::as_str)))
        .collect();
    let logits: HashMap<&str, Vec<f32>> = texts
        .iter()
        .copied()
        .zip(bundle.logits_of_many(&texts)?)
        .collect();
    let logits = |t: &str| logits[t].clone();
    let threshold = match args.threshold_rule {
        Some(rule) => {
            let (known, unknown) = evaluate::score(&ds.val, &ds.negatives_val, logits);
            evaluate::choose_threshold(rule, &known, &unknown)
        }
        None => args.threshold.unwrap_or(bundle.threshold()),
    };
    let (known, unknown) = evaluate::score(&ds.test, &ds.negatives_test, logits);
    let report = evaluate::report(
        &ds.labels,
        &known,
        &unknown,
        threshold,
        ds.split_from_training,
    );
    print!(
        "{}",
        report.render(&format!(
            "{} on {}",
            args.bundle.display(),
            args.data.path.display()
        ))
    );
    if let Some(path) = &args.json {
        trainer::output::write_file_atomically(path, &serde_json::to_vec_pretty(&report)?)?;
    }
    let plots_dir = args.plots.as_ref().unwrap_or(&args.bundle);
    let split = format!(
        "{} test",
        args.data
            .path
            .file_name()
            .map(|f| f.to_string_lossy())
            .unwrap_or_default()
    );
    for (file, svg) in trainer::plots::evaluation_plots(&known, &unknown, threshold, &split) {
        trainer::output::write_file_atomically(&plots_dir.join(file), &svg)?;
    }
    println!(
        "plots: {} and {} in {}",
        trainer::plots::HISTOGRAM_FILE,
        trainer::plots::CURVE_FILE,
        plots_dir.display()
    );
    Ok(())
}

fn main() -> Result<()> {
    let args = Args::parse();
    if let Some(n) = args.threads {
        // candle and rayon read this once, at first use.
        std::env::set_var("RAYON_NUM_THREADS", n.to_string());
    }
    if matches!(args.command, Command::Train(_)) && std::env::var_os("CANDLE_NUM_THREADS").is_none()
    {
        // Training's elementwise tensors are small (a batch's logits and features): candle's
        // pool for them costs more in hand-offs than it gains, while the matrix products keep
        // every thread (bench/results/train-speed.md: a long-sentence epoch's backward pass
        // 2.9 s with two threads there, 2.2 s with one). The encoder's large tensors keep it.
        std::env::set_var("CANDLE_NUM_THREADS", "1");
    }
    let result = match &args.command {
        #[cfg(feature = "table")]
        Command::Table(a) => table::run(a),
        #[cfg(not(feature = "table"))]
        Command::Table { .. } => Err(anyhow::anyhow!(
            "this trainer was built without the `table` feature, as ./build.sh builds it; \
             `cargo run -p trainer --release -- table ...` builds it with"
        )),
        Command::Train(a) => interrupt::install().and_then(|_| train::run(a)),
        Command::Encoder(a) => encoder::run(a),
        Command::Evaluate(a) => evaluate_bundle(a),
        Command::Logits(a) => write_logits(a),
    };
    if let Some(stopped) = result
        .as_ref()
        .err()
        .and_then(|e| e.downcast_ref::<Interrupted>())
    {
        eprintln!("{stopped}");
        std::process::exit(stopped.exit_code());
    }
    result
}
