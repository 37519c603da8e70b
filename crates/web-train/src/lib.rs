//! Training as JavaScript sees it (web/train-worker.js): `train(intents, negatives, table,
//! tokenizer, options, onEpoch)` runs the training core (`training::train`) on the page's
//! data and returns the bundle's model file and figures. It is its own wasm module so that a
//! page that only classifies never downloads it. Every failure is a JavaScript `Error`
//! naming the input; nothing here panics on any input.

use anyhow::{bail, Context, Result};
use candle_core::Device;
use training::data::{self, DEFAULT_VAL_FRACTION};
use training::train::{self, Embeddings, EpochLog, Observer, TrainConfig, Trained, TrainingState};
use wasm_bindgen::prelude::*;

/// The most text a page trains on: CLINC150's 150 intents are about 1 MB. Beyond this a
/// page would sit for many minutes; the command-line trainer has no such bound.
pub const MAX_TEXT_BYTES: usize = 4 << 20;

/// What a page's options add to [`TrainConfig`]'s fields.
const VAL_FRACTION_KEY: &str = "val_fraction";

/// The trained bundle's own file and figures; the table and tokenizer are the caller's.
#[wasm_bindgen]
pub struct TrainedBundle {
    trained: Trained,
    epochs: Vec<EpochLog>,
}

#[wasm_bindgen]
impl TrainedBundle {
    /// model.safetensors: weights, threshold, temperature, labels and metrics.
    pub fn model(&self) -> Vec<u8> {
        self.trained.model_bytes.clone()
    }

    /// README.md, the model card, for a model called `name`.
    #[wasm_bindgen(js_name = modelCard)]
    pub fn model_card(&self, name: &str) -> String {
        self.trained.model_card(name)
    }

    /// JSON of `{ threshold, temperature, metrics, epochs: [per-epoch figures], unreadable }`,
    /// `unreadable` being the training text's unknown word pieces by script
    /// (`{ pieces, unknown: [{ script, pieces, share }], read, warnings }`).
    pub fn summary(&self) -> Result<String, JsError> {
        let meta = &self.trained.meta;
        serde_json::to_string(&serde_json::json!({
            "threshold": meta.shared.threshold,
            "temperature": meta.shared.temperature,
            "metrics": meta.shared.metrics,
            "epochs": self.epochs,
            "unreadable": self.trained.unreadable,
        }))
        .map_err(|e| JsError::new(&format!("cannot convert the summary: {e}")))
    }
}

/// Reports each epoch to the page's callback: JSON of [`EpochLog`] and `epochs`, the run's
/// total.
struct PageObserver<'a> {
    on_epoch: &'a js_sys::Function,
    total_epochs: usize,
    epochs: Vec<EpochLog>,
}

impl Observer for PageObserver<'_> {
    fn epoch_done(&mut self, entry: &EpochLog, _state: TrainingState<'_>) -> Result<()> {
        self.epochs.push(entry.clone());
        let mut json = serde_json::to_value(entry)?;
        json["epochs"] = self.total_epochs.into();
        let json = json.to_string();
        self.on_epoch
            .call1(&JsValue::NULL, &JsValue::from_str(&json))
            .map_err(|e| anyhow::anyhow!("the progress callback failed: {e:?}"))?;
        Ok(())
    }
}

/// Trains a classifier.
/// - `intents`: JSON of `{ "intent": ["sentence", ...] }` (data.json).
/// - `negatives`: JSON of `["sentence", ...]` (noise.json).
/// - `table`, `tokenizer`: the bytes of table.safetensors and tokenizer.json.
/// - `options`: JSON of [`TrainConfig`]'s fields (snake_case) and `val_fraction`.
/// - `on_epoch`: called after each epoch with JSON of its figures.
#[wasm_bindgen]
pub fn train(
    intents: &str,
    negatives: &str,
    table: &[u8],
    tokenizer: &[u8],
    options: Option<String>,
    on_epoch: &js_sys::Function,
) -> Result<TrainedBundle, JsError> {
    run(
        intents,
        negatives,
        table,
        tokenizer,
        options.as_deref(),
        on_epoch,
    )
    .map_err(|e| JsError::new(&format!("{e:#}")))
}

fn run(
    intents: &str,
    negatives: &str,
    table: &[u8],
    tokenizer: &[u8],
    options: Option<&str>,
    on_epoch: &js_sys::Function,
) -> Result<TrainedBundle> {
    let (config, val_fraction) = parse_options(options.unwrap_or("{}"))?;
    let dataset = dataset(intents, negatives, val_fraction, config.seed)?;
    let embeddings = Embeddings::from_bytes(
        table.to_vec(),
        tokenizer.to_vec(),
        config.max_len,
        "the table and tokenizer",
    )?;
    let mut observer = PageObserver {
        on_epoch,
        total_epochs: config.epochs,
        epochs: Vec::new(),
    };
    let trained =
        train::train_observed(&config, &dataset, &embeddings, &Device::Cpu, &mut observer)?;
    Ok(TrainedBundle {
        trained,
        epochs: observer.epochs,
    })
}

/// The run's configuration (defaults for what `options` leaves out) and validation share.
pub fn parse_options(options: &str) -> Result<(TrainConfig, f64)> {
    let mut map: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(options).context("options: expected a JSON object")?;
    let val_fraction = match map.remove(VAL_FRACTION_KEY) {
        None => DEFAULT_VAL_FRACTION,
        Some(v) => v
            .as_f64()
            .with_context(|| format!("options.{VAL_FRACTION_KEY}: expected a number, got {v}"))?,
    };
    let config: TrainConfig =
        serde_json::from_value(serde_json::Value::Object(map)).context("options")?;
    Ok((config, val_fraction))
}

/// The seed format from the page's JSON, split as the command line splits data.json.
pub fn dataset(
    intents: &str,
    negatives: &str,
    val_fraction: f64,
    seed: u64,
) -> Result<data::Dataset> {
    let bytes = intents.len() + negatives.len();
    if bytes > MAX_TEXT_BYTES {
        bail!(
            "intents and negatives hold {:.1} MB of text; a page trains on at most {} MB (the command-line trainer takes more)",
            bytes as f64 / 1e6,
            MAX_TEXT_BYTES >> 20
        );
    }
    let intents = data::parse_intents(intents, "intents")?;
    let negatives = data::parse_noise(negatives, "negatives")?;
    data::split_seed_format(intents, negatives, val_fraction, seed, "intents")
}
