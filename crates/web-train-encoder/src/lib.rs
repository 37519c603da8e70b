//! Training the sentence-encoder kind as JavaScript sees it (web/train-worker.js):
//! `trainEncoder(intents, negatives, encoder, tokenizer, options, description, onProgress)`
//! embeds every sentence with the frozen encoder, fits the linear head and measures it with
//! the core's `training::encoder_kind`, the command line's `trainer encoder` path. It is its
//! own wasm module: the TextCNN's training page never downloads the encoder's code, and this
//! one carries no TextCNN training loop. Every failure is a JavaScript `Error` naming the
//! input; nothing here panics on any input.

use anyhow::Result;
use sentence_encoder::SentenceEncoder;
use training::encoder_kind::{self, EncoderConfig, EncoderSource, FittedEncoder};
use training::page_input::{dataset, parse_options, summary_json};
use wasm_bindgen::prelude::*;

/// The fitted bundle's own file and figures; the encoder and tokenizer are the caller's.
#[wasm_bindgen]
pub struct TrainedEncoderBundle {
    fitted: FittedEncoder,
}

#[wasm_bindgen]
impl TrainedEncoderBundle {
    /// model.safetensors: head, threshold, temperature, labels and metrics.
    pub fn model(&self) -> Vec<u8> {
        self.fitted.model_bytes.clone()
    }

    /// README.md, the model card, for a model called `name`.
    #[wasm_bindgen(js_name = modelCard)]
    pub fn model_card(&self, name: &str) -> String {
        self.fitted.model_card(name)
    }

    /// JSON of `{ threshold, temperature, metrics, epochs: [], unreadable }`: the TextCNN
    /// summary's shape, with no epochs (the head's fit is one closed run).
    pub fn summary(&self) -> Result<String, JsError> {
        summary_json(&self.fitted.meta.shared, &[], &self.fitted.unreadable)
            .map_err(|e| JsError::new(&format!("cannot convert the summary: {e}")))
    }
}

/// Fits a sentence-encoder classifier.
/// - `intents`: JSON of `{ "intent": ["sentence", ...] }` (data.json).
/// - `negatives`: JSON of `["sentence", ...]` (noise.json).
/// - `encoder`, `tokenizer`: the bytes of encoder.safetensors and tokenizer.json.
/// - `options`: JSON of `EncoderConfig`'s fields (snake_case) and `val_fraction`.
/// - `description`: the encoder's name and license, for the model card.
/// - `on_progress`: called as sentences are embedded with JSON of
///   `{ "stage": "embedding", "done", "total" }`.
#[wasm_bindgen(js_name = trainEncoder)]
pub fn train_encoder(
    intents: &str,
    negatives: &str,
    encoder: Vec<u8>,
    tokenizer: Vec<u8>,
    options: Option<String>,
    description: String,
    on_progress: &js_sys::Function,
) -> Result<TrainedEncoderBundle, JsError> {
    let source = EncoderSource {
        encoder,
        tokenizer,
        description,
    };
    run(intents, negatives, &source, options.as_deref(), on_progress)
        .map(|fitted| TrainedEncoderBundle { fitted })
        .map_err(|e| JsError::new(&format!("{e:#}")))
}

fn run(
    intents: &str,
    negatives: &str,
    source: &EncoderSource,
    options: Option<&str>,
    on_progress: &js_sys::Function,
) -> Result<FittedEncoder> {
    let (config, val_fraction): (EncoderConfig, f64) = parse_options(options.unwrap_or("{}"))?;
    let dataset = dataset(intents, negatives, val_fraction, config.seed)?;
    let encoder = SentenceEncoder::load(&source.encoder, &source.tokenizer)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    // A callback that throws stops nothing mid-batch; its error is reported once at the end.
    let mut callback_error = None;
    let vectors = encoder_kind::embed_dataset(&encoder, &dataset, |done, total| {
        let json = serde_json::json!({ "stage": "embedding", "done": done, "total": total });
        if let Err(e) = on_progress.call1(&JsValue::NULL, &JsValue::from_str(&json.to_string())) {
            callback_error.get_or_insert(format!("{e:?}"));
        }
    })?;
    if let Some(e) = callback_error {
        anyhow::bail!("the progress callback failed: {e}");
    }
    encoder_kind::fit(&dataset, source, &encoder, &vectors, &config)
}
