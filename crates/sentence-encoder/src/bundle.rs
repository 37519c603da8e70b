//! A bundle of the sentence-encoder kind: `model.safetensors` holds the head (`head.weight`,
//! [labels, dim], and `head.bias`, [labels], F32) and its metadata ([`EncoderBundleMeta`], as
//! JSON under the key `meta`); `encoder.safetensors` is the encoder ([`crate::encoder_file`]);
//! `tokenizer.json` is the encoder's tokenizer. The `format` key tells this kind from the
//! TextCNN's ([`model::bundle::MODEL_FORMAT`]).

use std::collections::HashMap;

use model::bundle::MODEL_FILE;
use model::safetensors_file::{check_format, open, read_f32, serialize_tensors};
use model::script::Script;
use model::tensor_codec::f32_bytes;
use model::BundleError;
use safetensors::{Dtype, SafeTensors};
use serde::{Deserialize, Serialize};

use crate::head::Head;

/// Value of the `format` metadata key of this kind's model file.
pub const MODEL_FORMAT: &str = "sentence-encoder-intent";
/// Bumped on any change a reader must know about.
/// Version 2: the head gained a bias (a trained linear layer; version 1 was class means).
pub const FORMAT_VERSION: u32 = 2;
pub const HEAD_WEIGHT: &str = "head.weight";
pub const HEAD_BIAS: &str = "head.bias";

/// The raw bytes of the bundle's three files.
pub struct EncoderBundleFiles<'a> {
    pub model: &'a [u8],
    pub encoder: &'a [u8],
    pub tokenizer: &'a [u8],
}

/// Everything in `model.safetensors` besides the head.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EncoderBundleMeta {
    pub format_version: u32,
    /// Intent names, in the order of the head's rows.
    pub labels: Vec<String>,
    /// Length of the encoder's vectors (the head's columns).
    pub dim: usize,
    /// Energy above this means "unknown".
    pub threshold: f32,
    /// Softmax temperature for reported probabilities, fitted on validation.
    pub temperature: f32,
    pub tokenizer_sha256: String,
    pub encoder_sha256: String,
    /// How the model was made (flags, data, date): shown, never interpreted.
    pub training: serde_json::Value,
    /// Evaluation figures written by the trainer: shown, never interpreted.
    pub metrics: serde_json::Value,
    /// The training data's words, most frequent first ([`model::spelling::vocabulary`]):
    /// what makes a query familiar ([`model::familiar`]). Absent: not judged.
    #[serde(default)]
    pub words: Vec<String>,
    /// The scripts the intents are written in ([`model::script::written_in`]). Absent: not
    /// judged.
    #[serde(default)]
    pub scripts: Vec<Script>,
}

impl EncoderBundleMeta {
    fn check(&self) -> Result<(), String> {
        if self.format_version != FORMAT_VERSION {
            return Err(format!(
                "format version {} is not supported (this reader knows {FORMAT_VERSION}; \
                 `trainer encoder` refits it)",
                self.format_version
            ));
        }
        if self.labels.is_empty() {
            return Err("metadata `labels` is empty".into());
        }
        if self.dim == 0 {
            return Err("metadata `dim` is 0".into());
        }
        if !self.threshold.is_finite() {
            return Err("metadata `threshold` is not finite".into());
        }
        if !(self.temperature.is_finite() && self.temperature > 0.0) {
            return Err(format!(
                "metadata `temperature` is {}, expected a finite number above 0",
                self.temperature
            ));
        }
        Ok(())
    }
}

/// The `format` metadata value of a model file, if it has one: tells the two kinds apart.
pub fn model_format(model: &[u8]) -> Option<String> {
    let (_, header) = SafeTensors::read_metadata(model).ok()?;
    header.metadata().as_ref()?.get("format").cloned()
}

/// The model file's bytes for a head and its metadata.
pub fn serialize(meta: &EncoderBundleMeta, head: &Head) -> Vec<u8> {
    let metadata = HashMap::from([
        ("format".to_string(), MODEL_FORMAT.to_string()),
        (
            "meta".to_string(),
            serde_json::to_string(meta).expect("plain data serializes"),
        ),
    ]);
    serialize_tensors(
        vec![
            (
                HEAD_WEIGHT.to_string(),
                Dtype::F32,
                vec![meta.labels.len(), meta.dim],
                f32_bytes(&head.weight),
            ),
            (
                HEAD_BIAS.to_string(),
                Dtype::F32,
                vec![meta.labels.len()],
                f32_bytes(&head.bias),
            ),
        ],
        metadata,
    )
}

/// Reads and checks a model file of this kind: its metadata and head.
pub fn parse(model: &[u8]) -> Result<(EncoderBundleMeta, Head), BundleError> {
    let err = |p: String| BundleError::new(MODEL_FILE, p);
    let (metadata, st) = open(model, MODEL_FILE)?;
    let metadata = metadata.unwrap_or_default();
    check_format(MODEL_FILE, metadata.get("format"), MODEL_FORMAT)?;
    let meta_json = metadata
        .get("meta")
        .ok_or_else(|| err("metadata key `meta` is missing".into()))?;
    let meta: EncoderBundleMeta =
        serde_json::from_str(meta_json).map_err(|e| err(format!("metadata `meta`: {e}")))?;
    meta.check().map_err(err)?;
    let head = Head {
        weight: read_f32(&st, MODEL_FILE, HEAD_WEIGHT, &[meta.labels.len(), meta.dim])?,
        bias: read_f32(&st, MODEL_FILE, HEAD_BIAS, &[meta.labels.len()])?,
    };
    Ok((meta, head))
}
