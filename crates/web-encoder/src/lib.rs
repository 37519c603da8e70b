//! The sentence-encoder kind as JavaScript sees it: `new EncoderIntentClassifier(model,
//! encoder, tokenizer)` from the bundle's three files, then `classify(text, options)` with
//! the same options and result as the TextCNN's `IntentClassifier`. Every failure is a
//! JavaScript `Error` naming the file; nothing here panics on any input.

use model::kind::{self, IntentModel};
use sentence_encoder::{EncoderBundleFiles, EncoderClassifier};
use serde::Serialize;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
pub struct EncoderIntentClassifier {
    inner: EncoderClassifier,
}

fn to_json<T: Serialize>(value: &T) -> Result<String, JsError> {
    serde_json::to_string(value).map_err(|e| JsError::new(&format!("cannot convert result: {e}")))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Info<'a> {
    kind: &'static str,
    /// Whether `classify` can give token `evidence` ([`IntentModel::explains`]).
    explains: bool,
    labels: &'a [String],
    threshold: f32,
    dim: usize,
    max_chars: usize,
    vocab_size: usize,
    training: &'a serde_json::Value,
    metrics: &'a serde_json::Value,
}

#[wasm_bindgen]
impl EncoderIntentClassifier {
    /// Loads a bundle from the bytes of model.safetensors, encoder.safetensors and
    /// tokenizer.json.
    #[wasm_bindgen(constructor)]
    pub fn new(
        model: &[u8],
        encoder: &[u8],
        tokenizer: &[u8],
    ) -> Result<EncoderIntentClassifier, JsError> {
        let inner = EncoderClassifier::load(EncoderBundleFiles {
            model,
            encoder,
            tokenizer,
        })
        .map_err(|e| JsError::new(&e.to_string()))?;
        Ok(Self { inner })
    }

    /// JSON of `model::Classification` (plus `evidence` when asked, where the kind explains);
    /// `options`: JSON of `model::ClassifyOptions` (see `model::kind::classify_json`).
    pub fn classify(&self, text: &str, options: Option<String>) -> Result<String, JsError> {
        kind::classify_json(&self.inner, text, options.as_deref()).map_err(|e| JsError::new(&e))
    }

    /// `classify` for each text, in order.
    #[wasm_bindgen(js_name = classifyBatch)]
    pub fn classify_batch(
        &self,
        texts: Vec<String>,
        options: Option<String>,
    ) -> Result<String, JsError> {
        kind::classify_batch_json(&self.inner, &texts, options.as_deref())
            .map_err(|e| JsError::new(&e))
    }

    /// Raw logits, in label order.
    pub fn logits(&self, text: &str) -> Result<Vec<f32>, JsError> {
        self.inner
            .logits(text)
            .map_err(|e| JsError::new(&e.to_string()))
    }

    /// Token ids the encoder reads for `text`.
    #[wasm_bindgen(js_name = tokenIds)]
    pub fn token_ids(&self, text: &str) -> Vec<u32> {
        self.inner.token_ids(text)
    }

    /// Kind, labels, threshold, vector width, training settings and metrics.
    pub fn info(&self) -> Result<String, JsError> {
        let meta = self.inner.meta();
        let text = self.inner.encoder().text();
        to_json(&Info {
            kind: self.inner.kind(),
            explains: self.inner.explains(),
            labels: &meta.shared.labels,
            threshold: meta.shared.threshold,
            dim: meta.dim,
            max_chars: text.char_bound(),
            vocab_size: text.vocab_size(),
            training: &meta.shared.training,
            metrics: &meta.shared.metrics,
        })
    }
}
