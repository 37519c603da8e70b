//! A bundle of the sentence-encoder kind: `model.safetensors` holds the head (`head.weight`,
//! [labels, dim], and `head.bias`, [labels], F32) and its metadata ([`EncoderBundleMeta`], in
//! the flat keys every kind writes); `encoder.safetensors` is the encoder ([`crate::encoder_file`]);
//! `tokenizer.json` is the encoder's tokenizer. The `format` key tells this kind from the
//! TextCNN's ([`model::bundle::MODEL_FORMAT`]).

use std::collections::HashMap;

use model::bundle::MODEL_FILE;
use model::meta::{MetaReader, ModelMeta};
use model::safetensors_file::{check_format, open, read_f32, serialize_tensors};
use model::tensor_codec::f32_bytes;
use model::BundleError;
use safetensors::{Dtype, SafeTensors};

use crate::head::Head;

/// Value of the `format` metadata key of this kind's model file.
pub const MODEL_FORMAT: &str = "sentence-encoder-intent";
/// Bumped on any change a reader must know about.
/// Version 2: the head gained a bias (a trained linear layer; version 1 was class means).
/// Version 3: the metadata in flat keys, as every kind writes it ([`model::meta`]); version 2
/// kept it as one JSON value under `meta`, and is still read.
pub const FORMAT_VERSION: u32 = 3;
/// The oldest version this reader reads.
const OLDEST_READ: u32 = 2;
pub const HEAD_WEIGHT: &str = "head.weight";
pub const HEAD_BIAS: &str = "head.bias";

/// The raw bytes of the bundle's three files.
pub struct EncoderBundleFiles<'a> {
    pub model: &'a [u8],
    pub encoder: &'a [u8],
    pub tokenizer: &'a [u8],
}

/// Everything in `model.safetensors` besides the head: this kind's own keys, and those every
/// kind writes ([`ModelMeta`]).
#[derive(Clone, Debug, PartialEq)]
pub struct EncoderBundleMeta {
    pub format_version: u32,
    /// Length of the encoder's vectors (the head's columns).
    pub dim: usize,
    pub encoder_sha256: String,
    /// Labels, threshold, temperature, tokenizer hash, provenance, words and scripts.
    pub shared: ModelMeta,
}

impl EncoderBundleMeta {
    fn to_map(&self) -> HashMap<String, String> {
        let mut map = HashMap::from([
            ("format".to_string(), MODEL_FORMAT.to_string()),
            ("format_version".into(), self.format_version.to_string()),
            ("dim".into(), self.dim.to_string()),
            ("encoder_sha256".into(), self.encoder_sha256.clone()),
        ]);
        self.shared.write(&mut map);
        map
    }

    fn from_map(map: &HashMap<String, String>) -> Result<Self, BundleError> {
        let meta = MetaReader::new(map, MODEL_FILE);
        let format_version: u32 = meta.number("format_version")?;
        if !(OLDEST_READ..=FORMAT_VERSION).contains(&format_version) {
            return Err(meta.error(format!(
                "format version {format_version} is not supported (this reader knows \
                 {OLDEST_READ} to {FORMAT_VERSION}; `trainer encoder` refits it)"
            )));
        }
        let dim: usize = meta.number("dim")?;
        if dim == 0 {
            return Err(meta.error("metadata `dim` is 0"));
        }
        Ok(Self {
            format_version,
            dim,
            encoder_sha256: meta.text("encoder_sha256")?.to_string(),
            shared: ModelMeta::read(&meta)?,
        })
    }
}

/// A version-2 model file's metadata, one JSON object under `meta`, as the flat keys of
/// version 3, so that one reader checks both.
fn flat_keys_of_version_2(meta_json: &str) -> Result<HashMap<String, String>, BundleError> {
    let err = |p: String| BundleError::new(MODEL_FILE, p);
    let object: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(meta_json).map_err(|e| err(format!("metadata `meta`: {e}")))?;
    Ok(object
        .into_iter()
        .map(|(key, value)| {
            let key = if key == "words" {
                "spelling".into()
            } else {
                key
            };
            let text = match value {
                serde_json::Value::String(text) => text,
                other => other.to_string(),
            };
            (key, text)
        })
        .collect())
}

/// The `format` metadata value of a model file, if it has one: tells the two kinds apart.
pub fn model_format(model: &[u8]) -> Option<String> {
    let (_, header) = SafeTensors::read_metadata(model).ok()?;
    header.metadata().as_ref()?.get("format").cloned()
}

/// The model file's bytes for a head and its metadata.
pub fn serialize(meta: &EncoderBundleMeta, head: &Head) -> Vec<u8> {
    let metadata = meta.to_map();
    let labels = meta.shared.labels.len();
    serialize_tensors(
        vec![
            (
                HEAD_WEIGHT.to_string(),
                Dtype::F32,
                vec![labels, meta.dim],
                f32_bytes(&head.weight),
            ),
            (
                HEAD_BIAS.to_string(),
                Dtype::F32,
                vec![labels],
                f32_bytes(&head.bias),
            ),
        ],
        metadata,
    )
}

/// Reads and checks a model file of this kind: its metadata and head.
pub fn parse(model: &[u8]) -> Result<(EncoderBundleMeta, Head), BundleError> {
    let (metadata, st) = open(model, MODEL_FILE)?;
    let metadata = metadata.unwrap_or_default();
    check_format(MODEL_FILE, metadata.get("format"), &[MODEL_FORMAT])?;
    let meta = match (
        metadata.get("meta"),
        metadata.contains_key("format_version"),
    ) {
        (Some(version_2), false) => {
            EncoderBundleMeta::from_map(&flat_keys_of_version_2(version_2)?)?
        }
        _ => EncoderBundleMeta::from_map(&metadata)?,
    };
    let labels = meta.shared.labels.len();
    let head = Head {
        weight: read_f32(&st, MODEL_FILE, HEAD_WEIGHT, &[labels, meta.dim])?,
        bias: read_f32(&st, MODEL_FILE, HEAD_BIAS, &[labels])?,
    };
    Ok((meta, head))
}
