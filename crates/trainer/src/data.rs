//! Reading training data from files: the seed format (`data.json` intents + `noise.json`
//! negatives) and CLINC150's `data_full.json`. Parsing and splitting are the training
//! core's (`training::data`); every error names the file.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::Serialize;
pub use training::data::*;

/// The data flags `train` and `evaluate` share: they must read and split a file alike.
#[derive(clap::Args, Clone, Debug, Serialize)]
pub struct DataArgs {
    /// Intents: a seed-format data.json or a CLINC150 data_full.json.
    #[arg(long = "data")]
    #[serde(rename = "data")]
    pub path: PathBuf,
    /// Negative sentences (noise.json: ["sentence", ...]).
    #[arg(long)]
    pub noise: Option<PathBuf>,
    /// Share of each intent held out for validation when the data has no validation split.
    #[arg(long, default_value_t = DEFAULT_VAL_FRACTION)]
    pub val_fraction: f64,
}

impl DataArgs {
    /// The dataset, split with `seed` where the file has no splits of its own.
    pub fn load(&self, seed: u64) -> Result<Dataset> {
        load(&self.path, self.noise.as_deref(), self.val_fraction, seed)
    }
}

fn read_text(path: &Path) -> Result<String> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    if bytes.is_empty() {
        bail!("{}: file is empty", path.display());
    }
    String::from_utf8(bytes).map_err(|e| {
        anyhow::anyhow!(
            "{}: not valid UTF-8 (byte {})",
            path.display(),
            e.utf8_error().valid_up_to()
        )
    })
}

pub fn load_seed_format(
    data_path: &Path,
    noise_path: Option<&Path>,
    val_fraction: f64,
    seed: u64,
) -> Result<Dataset> {
    let file = data_path.display().to_string();
    let intents = parse_intents(&read_text(data_path)?, &file)?;
    for warning in cross_intent_duplicates(&intents) {
        eprintln!("warning: {file}: {warning}");
    }
    let negatives = match noise_path {
        Some(p) => parse_noise(&read_text(p)?, &p.display().to_string())?,
        None => Vec::new(),
    };
    split_seed_format(intents, negatives, val_fraction, seed, &file)
}

pub fn load_clinc(path: &Path) -> Result<Dataset> {
    parse_clinc(&read_text(path)?, &path.display().to_string())
}

/// Loads either layout: CLINC150 when the file has a `train` list, the seed format otherwise.
pub fn load(data: &Path, noise: Option<&Path>, val_fraction: f64, seed: u64) -> Result<Dataset> {
    let text = read_text(data)?;
    let looks_clinc = serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| v.get("train").map(|t| t.is_array()))
        .unwrap_or(false);
    if looks_clinc {
        if noise.is_some() {
            eprintln!(
                "note: {} has its own out-of-scope splits; --noise adds to oos_train",
                data.display()
            );
        }
        let mut ds = parse_clinc(&text, &data.display().to_string())?;
        if let Some(p) = noise {
            ds.negatives_train
                .extend(parse_noise(&read_text(p)?, &p.display().to_string())?);
        }
        Ok(ds)
    } else {
        load_seed_format(data, noise, val_fraction, seed)
    }
}
