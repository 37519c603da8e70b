//! Training as JavaScript sees it (web/train-worker.js): `train(intents, negatives, table,
//! tokenizer, options, onEpoch)` runs the training core (`training::train`) on the page's
//! data and returns the bundle's model file and figures. It is its own wasm module so that a
//! page that only classifies never downloads it. Every failure is a JavaScript `Error`
//! naming the input; nothing here panics on any input.

use anyhow::Result;
use candle_core::Device;
use training::page_input::{dataset, parse_options, summary_json};
use training::train::{self, Embeddings, EpochLog, Observer, TrainConfig, Trained, TrainingState};
use wasm_bindgen::prelude::*;

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
        summary_json(
            &self.trained.meta.shared,
            &self.epochs,
            &self.trained.unreadable,
        )
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
    let (config, val_fraction): (TrainConfig, f64) = parse_options(options.unwrap_or("{}"))?;
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
