//! The classifier as JavaScript sees it: `new IntentClassifier(model, table, tokenizer)`
//! from the three bundle files' bytes, then `classify(text, options)`. Every failure is a
//! JavaScript `Error` naming the file; nothing here panics on any input.

use model::kind::{self, IntentModel};
use model::{BundleFiles, Classifier};
use serde::Serialize;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
pub struct IntentClassifier {
    inner: Classifier,
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
    architecture: &'a model::Architecture,
    max_chars: usize,
    vocab_size: usize,
    embedding: &'a model::table::TableMeta,
    training: &'a serde_json::Value,
    metrics: &'a serde_json::Value,
    kernel: &'static str,
}

#[wasm_bindgen]
impl IntentClassifier {
    /// Loads a bundle from the bytes of model.safetensors, table.safetensors and tokenizer.json.
    #[wasm_bindgen(constructor)]
    pub fn new(model: &[u8], table: &[u8], tokenizer: &[u8]) -> Result<IntentClassifier, JsError> {
        let inner = Classifier::load(BundleFiles {
            model,
            table,
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
    pub fn logits(&self, text: &str) -> Vec<f32> {
        self.inner.logits(text)
    }

    /// Logits for already-tokenized ids (table lookup and forward pass only).
    #[wasm_bindgen(js_name = logitsForIds)]
    pub fn logits_for_ids(&self, ids: Vec<u32>) -> Vec<f32> {
        self.inner.logits_for_ids(&ids)
    }

    /// Token ids the model sees for `text`.
    #[wasm_bindgen(js_name = tokenIds)]
    pub fn token_ids(&self, text: &str) -> Vec<u32> {
        self.inner.encode(text)
    }

    /// Labels, threshold, shape, embedding source, training settings and metrics.
    pub fn info(&self) -> Result<String, JsError> {
        let meta = self.inner.meta();
        to_json(&Info {
            kind: self.inner.kind(),
            explains: self.inner.explains(),
            labels: &meta.shared.labels,
            threshold: meta.shared.threshold,
            architecture: &meta.architecture,
            max_chars: self.inner.encoder().char_bound(),
            vocab_size: self.inner.encoder().vocab_size(),
            embedding: self.inner.table_meta(),
            training: &meta.shared.training,
            metrics: &meta.shared.metrics,
            kernel: model::kernels::kernel_name(),
        })
    }
}
