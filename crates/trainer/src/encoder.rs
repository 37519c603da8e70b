//! `trainer encoder`: a bundle of the sentence-encoder kind, trained by the core's
//! `training::encoder_kind` from files, with a progress bar.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use model::bundle::{MODEL_FILE, TOKENIZER_FILE};
use sentence_encoder::encoder_file::{self, Compression, ENCODER_FILE};
use sentence_encoder::SentenceEncoder;
use training::data::Dataset;
use training::encoder_kind::{self, EncoderConfig, EncoderSource};
use training::evaluate::ThresholdRule;

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
    #[arg(long, default_value_t = EncoderConfig::default().seed)]
    pub seed: u64,
    /// How the threshold is chosen on the validation split.
    #[arg(long, value_enum, default_value_t = EncoderConfig::default().threshold_rule)]
    pub threshold_rule: ThresholdRule,
    /// A fixed energy threshold in place of the rule's.
    #[arg(long)]
    pub threshold: Option<f32>,
    /// Skip the progress bar.
    #[arg(long)]
    pub quiet: bool,
}

/// The encoder's files as a bundle carries them, and the LICENSE / NOTICE files to ship
/// beside the weights.
struct EncoderFiles {
    source: EncoderSource,
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

impl EncoderFiles {
    fn read(dir: &Path) -> Result<Self> {
        let tokenizer = read(dir, TOKENIZER_FILE)?;
        let encoder = if dir.join(ENCODER_FILE).exists() {
            read(dir, ENCODER_FILE)?
        } else {
            let config = String::from_utf8(read(dir, "config.json")?)
                .with_context(|| format!("{}: config.json is not UTF-8", dir.display()))?;
            encoder_file::quantize(&config, &read(dir, MODEL_FILE)?, Compression::default())
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
            source: EncoderSource {
                encoder,
                tokenizer,
                description,
            },
            notices,
        })
    }
}

fn embed_with_progress<'a>(
    encoder: &SentenceEncoder,
    dataset: &'a Dataset,
    quiet: bool,
) -> Result<HashMap<&'a str, Vec<f32>>> {
    let bar = if quiet {
        indicatif::ProgressBar::hidden()
    } else {
        indicatif::ProgressBar::new(0)
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template("encoding {bar:30} {pos}/{len} sentences {eta}")
            .expect("valid template"),
    );
    let vectors = encoder_kind::embed_dataset(encoder, dataset, |done, total| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    })?;
    bar.finish_and_clear();
    Ok(vectors)
}

pub fn run(args: &EncoderArgs) -> Result<()> {
    let dataset = args.data.load(args.seed)?;
    let files = EncoderFiles::read(&args.encoder)?;
    let source = &files.source;
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
    let vectors = embed_with_progress(&encoder, &dataset, args.quiet)?;
    let config = EncoderConfig {
        seed: args.seed,
        threshold_rule: args.threshold_rule,
        threshold: args.threshold,
    };
    let fitted = encoder_kind::fit(&dataset, source, &encoder, &vectors, &config)?;
    let bundle = fitted.evaluation.bundle_files(
        [
            (MODEL_FILE, fitted.model_bytes.clone()),
            (ENCODER_FILE, source.encoder.clone()),
            (TOKENIZER_FILE, source.tokenizer.clone()),
        ],
        &fitted.description(),
        &crate::train::bundle_name(&args.out),
        &files.notices,
    )?;
    crate::output::write_dir_atomically(&args.out, &bundle)?;
    crate::train::print_reports(&fitted.evaluation);
    println!("wrote {}", args.out.display());
    Ok(())
}
