//! The model-kind seam: what a kind of model does at inference ([`IntentModel`]). Everything
//! on top of it is written once, for every kind: the decision ([`IntentModel::classify`]:
//! energy, threshold, top-k, calibrated probabilities, the unreadable and unfamiliar rules)
//! and the JSON a page exchanges ([`classify_json`], [`classify_batch_json`]).

use serde::Serialize;

use crate::classifier::{ClassifyOptions, Evidence};
use crate::decision::{decide, Classification};
use crate::meta::ModelMeta;
use crate::text::TextEncoder;

/// A query the model could not compute (a sentence encoder's tensor error). The TextCNN's
/// forward pass has none.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct InferenceError(pub String);

/// A query as a kind reads it: everything the decision needs.
pub struct Reading {
    pub logits: Vec<f32>,
    /// The share of the query's word pieces that are the unknown token.
    pub unknown_share: f32,
    /// [`crate::familiar::is_unfamiliar`]'s verdict on the query.
    pub unfamiliar: bool,
    /// The query as the model read it, when its typos were repaired.
    pub repaired: Option<String>,
}

/// One model kind at inference: its bundle's labels, threshold and temperature, and its
/// logits for a text. A new kind implements this and gets `classify`, the batch and JSON
/// surfaces, and the decision's rules.
pub trait IntentModel {
    /// The bundle's `format`, which names the kind (`info().kind` in a page).
    fn kind(&self) -> &'static str;
    /// What every kind's model file says of itself: labels, threshold, temperature, words.
    fn model_meta(&self) -> &ModelMeta;
    fn labels(&self) -> &[String] {
        &self.model_meta().labels
    }
    /// The bundle's energy threshold: known when energy <= threshold.
    fn threshold(&self) -> f32 {
        self.model_meta().threshold
    }
    /// The bundle's calibration temperature for the probabilities shown.
    fn temperature(&self) -> f32 {
        self.model_meta().temperature
    }
    /// The tokenizer the kind reads queries with.
    fn text_encoder(&self) -> &TextEncoder;
    /// Logits in label order.
    fn logits(&self, text: &str) -> Result<Vec<f32>, InferenceError>;
    /// Logits of many texts, in order (a kind may batch them).
    fn logits_of_many(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, InferenceError> {
        texts.iter().map(|t| self.logits(t)).collect()
    }
    /// Token ids the model reads for `text` (special tokens included).
    fn token_ids(&self, text: &str) -> Vec<u32>;
    /// The query read: logits, unknown share, the unfamiliar verdict, any repair.
    fn read(&self, text: &str) -> Result<Reading, InferenceError>;
    /// Whether [`IntentModel::evidence`] explains decisions (the TextCNN's windows do).
    fn explains(&self) -> bool {
        false
    }
    /// Which tokens drove the top intent; `None` where the kind does not [`explain`].
    ///
    /// [`explain`]: IntentModel::explains
    fn evidence(&self, _text: &str) -> Option<Evidence> {
        None
    }
    /// The pooled features its linear head reads, for analysis; `None`: the kind has none.
    fn features(&self, _text: &str) -> Option<Vec<f32>> {
        None
    }

    /// The decision for `text`: the best intent, or unknown above the threshold (the
    /// call's, else the bundle's; a NaN one is ignored), or when most of it is unreadable
    /// or it is unfamiliar.
    fn classify(
        &self,
        text: &str,
        options: &ClassifyOptions,
    ) -> Result<Classification, InferenceError> {
        Ok(self.decide(self.read(text)?, options))
    }

    /// The decision on a query already read ([`IntentModel::read`]).
    fn decide(&self, reading: Reading, options: &ClassifyOptions) -> Classification {
        let threshold = options
            .threshold
            .filter(|t| !t.is_nan())
            .unwrap_or(self.threshold());
        let mut classification = decide(
            &reading.logits,
            self.labels(),
            threshold,
            options.top_k,
            self.temperature(),
        )
        .unless_unreadable(reading.unknown_share)
        .unless_unfamiliar(reading.unfamiliar);
        classification.repaired = reading.repaired;
        classification
    }
}

#[derive(Serialize)]
struct WithEvidence {
    #[serde(flatten)]
    result: Classification,
    evidence: Evidence,
}

// Results and options cross the wasm boundary as JSON text (web/core.js parses and writes
// it): one string copy each way, and no per-field JavaScript calls or their glue.
fn to_json<T: Serialize>(value: &T) -> Result<String, String> {
    serde_json::to_string(value).map_err(|e| format!("cannot convert result: {e}"))
}

/// The options a page passed, refused when they ask what `model`'s kind cannot give.
fn options_for(model: &dyn IntentModel, json: Option<&str>) -> Result<ClassifyOptions, String> {
    let options = ClassifyOptions::from_json(json)?;
    if options.evidence && !model.explains() {
        return Err(format!(
            "classify options: `evidence` explains a TextCNN's decision; a {} model has none",
            model.kind()
        ));
    }
    Ok(options)
}

/// `classify` as a page calls it: `options` is JSON of `{ topK?, threshold?, evidence? }`,
/// the result JSON of [`Classification`], plus `evidence` when asked.
pub fn classify_json(
    model: &dyn IntentModel,
    text: &str,
    options: Option<&str>,
) -> Result<String, String> {
    let options = options_for(model, options)?;
    let result = model.classify(text, &options).map_err(|e| e.to_string())?;
    match options.evidence.then(|| model.evidence(text)).flatten() {
        Some(evidence) => to_json(&WithEvidence { result, evidence }),
        None => to_json(&result),
    }
}

/// [`classify_json`] for each text, in order, as one JSON list (without evidence).
pub fn classify_batch_json(
    model: &dyn IntentModel,
    texts: &[String],
    options: Option<&str>,
) -> Result<String, String> {
    let options = options_for(model, options)?;
    let results = texts
        .iter()
        .map(|t| model.classify(t, &options))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())?;
    to_json(&results)
}
