//! `trainer encoder`: a bundle of the sentence-encoder kind (`sentence_encoder`). The
//! encoder's vectors of the training sentences train the linear head, the validation split
//! gives the threshold and the temperature, as for the TextCNN. The encoder stays frozen, so
//! it takes seconds to minutes, and it is the better kind when an intent has only a handful
//! of examples.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use model::bundle::{sha256_hex, MODEL_FILE, TOKENIZER_FILE};
use sentence_encoder::bundle::{self as encoder_bundle, EncoderBundleMeta};
use sentence_encoder::encoder_file::{self, ENCODER_FILE};
use sentence_encoder::{head, EncoderBundleFiles, EncoderClassifier, SentenceEncoder};
use training::data::Dataset;
use training::evaluate::{self, KnownScore, Report, ThresholdRule};
use training::model_card::{self, CardInputs, ThresholdChoice};
use training::train::TrainConfig;

use crate::data::DataArgs;

#[derive(clap::Args, Clone, Debug)]
pub struct EncoderArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// The sentence encoder: a Hugging Face BERT directory (config.json, model.safetensors,
    /// tokenizer.json; e.g. all-MiniLM-L6-v2) or a bundle of this kind (encoder.safetensors,
    /// tokenizer.json).
    #[arg(long)]
    pub encoder: PathBuf,
    /// Bundle directory to write.
    #[arg(long)]
    pub out: PathBuf,
    /// Split seed (seed-format data without validation split).
    #[arg(long, default_value_t = TrainConfig::default().seed)]
    pub seed: u64,
    /// How the threshold is chosen on the validation split.
    #[arg(long, value_enum, default_value_t = TrainConfig::default().threshold_rule)]
    pub threshold_rule: ThresholdRule,
    /// Skip the progress bar.
    #[arg(long)]
    pub quiet: bool,
}

/// The encoder's files as a bundle carries them, read from `dir`, and where they came from.
struct EncoderSource {
    encoder: Vec<u8>,
    tokenizer: Vec<u8>,
    /// Name and license, for the model card ("all-MiniLM-L6-v2 sentence encoder (Apache-2.0)").
    description: String,
    /// LICENSE / NOTICE files to ship beside the weights.
    notices: Vec<(&'static str, Vec<u8>)>,
}

fn read(dir: &Path, file: &str) -> Result<Vec<u8>> {
    let path = dir.join(file);
    std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))
}

/// The license a LICENSE file states, when it is one of the common ones.
fn license_of(text: &str) -> Option<&'static str> {
    if text.contains("Apache License") && text.contains("Version 2.0") {
        Some("Apache-2.0")
    } else if text.contains("MIT License")
        || text.contains("Permission is hereby granted, free of charge")
    {
        Some("MIT")
    } else {
        None
    }
}

impl EncoderSource {
    fn read(dir: &Path) -> Result<Self> {
        let tokenizer = read(dir, TOKENIZER_FILE)?;
        let encoder = if dir.join(ENCODER_FILE).exists() {
            read(dir, ENCODER_FILE)?
        } else {
            let config = String::from_utf8(read(dir, "config.json")?)
                .with_context(|| format!("{}: config.json is not UTF-8", dir.display()))?;
            encoder_file::quantize(&config, &read(dir, MODEL_FILE)?)
                .map_err(|e| anyhow::anyhow!("{}: {e}", dir.display()))?
        };
        let notices: Vec<(&'static str, Vec<u8>)> = ["LICENSE", "NOTICE"]
            .into_iter()
            .filter_map(|f| std::fs::read(dir.join(f)).ok().map(|b| (f, b)))
            .collect();
        let name = std::fs::canonicalize(dir)
            .ok()
            .and_then(|p| p.file_name().map(|n| n.to_string_lossy().to_string()))
            .unwrap_or_else(|| dir.display().to_string());
        let license = notices
            .iter()
            .find(|(f, _)| *f == "LICENSE")
            .and_then(|(_, b)| license_of(&String::from_utf8_lossy(b)));
        let description = match license {
            Some(l) => format!("{name} sentence encoder ({l})"),
            None => format!("{name} sentence encoder"),
        };
        Ok(Self {
            encoder,
            tokenizer,
            description,
            notices,
        })
    }
}

/// A fitted bundle before it is written.
pub struct Fitted {
    pub meta: EncoderBundleMeta,
    pub model_bytes: Vec<u8>,
    pub val_report: Report,
    pub test_report: Report,
    pub plots: Vec<(&'static str, Vec<u8>)>,
}

/// Every distinct sentence of the dataset's splits, embedded once, in batches.
fn embed_dataset<'a>(
    encoder: &SentenceEncoder,
    dataset: &'a Dataset,
    quiet: bool,
) -> Result<HashMap<&'a str, Vec<f32>>> {
    let known = [&dataset.train, &dataset.val, &dataset.test];
    let unknown = [&dataset.negatives_val, &dataset.negatives_test];
    let mut texts: Vec<&str> = known
        .iter()
        .flat_map(|split| split.iter().map(|(t, _)| t.as_str()))
        .chain(unknown.iter().flat_map(|s| s.iter().map(String::as_str)))
        .collect();
    texts.sort_unstable();
    texts.dedup();
    let bar = if quiet {
        indicatif::ProgressBar::hidden()
    } else {
        indicatif::ProgressBar::new(texts.len() as u64)
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template("encoding {bar:30} {pos}/{len} sentences {eta}")
            .expect("valid template"),
    );
    let mut vectors = HashMap::with_capacity(texts.len());
    for chunk in texts.chunks(512) {
        for (text, vector) in chunk.iter().zip(encoder.embed_all(chunk)?) {
            vectors.insert(*text, vector);
        }
        bar.inc(chunk.len() as u64);
    }
    bar.finish_and_clear();
    Ok(vectors)
}

/// The head, threshold, temperature and reports for `dataset`: the stages of `trainer
/// train`'s export, over the encoder's vectors.
fn fit(
    args: &EncoderArgs,
    dataset: &Dataset,
    source: &EncoderSource,
    encoder: &SentenceEncoder,
) -> Result<Fitted> {
    let vectors = embed_dataset(encoder, dataset, args.quiet)?;
    let train_vectors: Vec<Vec<f32>> = dataset
        .train
        .iter()
        .map(|(t, _)| vectors[t.as_str()].clone())
        .collect();
    let train_labels: Vec<usize> = dataset.train.iter().map(|(_, l)| *l).collect();
    let head = head::fit(
        &train_vectors,
        &train_labels,
        dataset.labels.len(),
        encoder.dim(),
    )?;
    let logits = |t: &str| head.logits(&vectors[t]);

    let (val_known, val_unknown) = evaluate::score(&dataset.val, &dataset.negatives_val, logits);
    let threshold = evaluate::choose_threshold(args.threshold_rule, &val_known, &val_unknown);
    let (test_known, test_unknown) =
        evaluate::score(&dataset.test, &dataset.negatives_test, logits);
    let from_file = dataset.split_from_training;
    let report = |known: &[KnownScore], unknown: &[f32]| {
        evaluate::report(&dataset.labels, known, unknown, threshold, from_file)
    };
    let (val_report, test_report) = (
        report(&val_known, &val_unknown),
        report(&test_known, &test_unknown),
    );
    let calibration = training::calibration::calibrate(
        &training::calibration::scored(&dataset.val, logits),
        &training::calibration::scored(&dataset.test, logits),
        from_file,
    );
    let meta = EncoderBundleMeta {
        format_version: encoder_bundle::FORMAT_VERSION,
        labels: dataset.labels.clone(),
        dim: encoder.dim(),
        threshold,
        temperature: calibration.temperature,
        tokenizer_sha256: sha256_hex(&source.tokenizer),
        encoder_sha256: sha256_hex(&source.encoder),
        training: serde_json::json!({
            "kind": encoder_bundle::MODEL_FORMAT,
            "data": dataset.source,
            "encoder": source.description,
            "head": "linear, trained from each intent's mean training vector",
            "threshold_rule": args.threshold_rule,
            "seed": args.seed,
            "unix_time": std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
            "examples": training::train::suggestions(dataset),
        }),
        metrics: serde_json::json!({
            "validation": val_report,
            "test": test_report,
            "calibration": calibration,
        }),
        words: model::spelling::vocabulary(dataset.training_texts()),
        scripts: model::script::written_in(dataset.train.iter().map(|(text, _)| text.as_str())),
    };
    let plots = if test_known.is_empty() {
        training::plots::evaluation_plots(&val_known, &val_unknown, threshold, "validation")
    } else {
        training::plots::evaluation_plots(&test_known, &test_unknown, threshold, "test")
    };
    Ok(Fitted {
        model_bytes: encoder_bundle::serialize(&meta, &head),
        meta,
        val_report,
        test_report,
        plots,
    })
}

/// The bundle's files: the three a classifier loads, then the card, figures and notices.
fn bundle_files(
    args: &EncoderArgs,
    fitted: &Fitted,
    source: &EncoderSource,
) -> Result<Vec<(&'static str, Vec<u8>)>> {
    let card = model_card::render(&CardInputs {
        kind: model_card::CardKind::SentenceEncoder,
        name: &args
            .out
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_else(|| "intent-classifier".into()),
        labels: &fitted.meta.labels,
        threshold: fitted.meta.threshold,
        choice: ThresholdChoice::Rule(args.threshold_rule),
        data_source: &args.data.path.display().to_string(),
        embedding_source: &source.description,
        splits: model_card::splits(&fitted.test_report, &fitted.val_report),
        scripts_read: &[],
    });
    let mut files = vec![
        (MODEL_FILE, fitted.model_bytes.clone()),
        (ENCODER_FILE, source.encoder.clone()),
        (TOKENIZER_FILE, source.tokenizer.clone()),
        (
            "evaluation.json",
            serde_json::to_vec_pretty(&fitted.meta.metrics)?,
        ),
        (model_card::MODEL_CARD_FILE, card.into_bytes()),
    ];
    files.extend(fitted.plots.iter().cloned());
    files.extend(source.notices.iter().cloned());
    Ok(files)
}

pub fn run(args: &EncoderArgs) -> Result<()> {
    let dataset = args.data.load(args.seed)?;
    let source = EncoderSource::read(&args.encoder)?;
    let encoder = SentenceEncoder::load(&source.encoder, &source.tokenizer)
        .map_err(|e| anyhow::anyhow!("{}: {e}", args.encoder.display()))?;
    eprintln!(
        "{} intents, {} training / {} validation / {} test sentences; encoder: {}",
        dataset.labels.len(),
        dataset.train.len(),
        dataset.val.len(),
        dataset.test.len(),
        source.description
    );
    let fitted = fit(args, &dataset, &source, &encoder)?;
    // What is written must load as a classifier, the page's way.
    EncoderClassifier::load(EncoderBundleFiles {
        model: &fitted.model_bytes,
        encoder: &source.encoder,
        tokenizer: &source.tokenizer,
    })
    .map_err(|e| anyhow::anyhow!("the fitted bundle does not load: {e}"))?;
    crate::output::write_dir_atomically(&args.out, &bundle_files(args, &fitted, &source)?)?;
    crate::train::print_reports(
        &fitted.val_report,
        &fitted.test_report,
        &fitted.meta.metrics["calibration"],
        fitted.meta.temperature,
    );
    println!("wrote {}", args.out.display());
    Ok(())
}
