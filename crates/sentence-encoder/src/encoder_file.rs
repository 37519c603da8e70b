//! `encoder.safetensors`: a Hugging Face BERT checkpoint made small enough for a page. Every
//! matrix is int8 with one F32 scale per row (a quarter of the bytes), the vectors (biases,
//! LayerNorm) stay F32, and the checkpoint's `config.json` travels as the metadata key
//! `config`, so the file is the whole encoder.

use std::collections::{HashMap, HashSet};

use candle_transformers::models::bert::Config;
use model::safetensors_file::{check_format, open, read_weights, scale_name, serialize_tensors};
use model::tensor_codec::{f32_bytes, i8_bytes, quantize_rows};
use model::BundleError;
use safetensors::Dtype;

pub const ENCODER_FILE: &str = "encoder.safetensors";
/// Value of the `format` metadata key of an encoder file.
pub const ENCODER_FORMAT: &str = "bert-encoder-int8";

/// Tensors a sentence vector never reads: the pooler (a [CLS] layer for classification
/// fine-tuning) and integer position buffers.
fn is_unused(name: &str) -> bool {
    name.contains("pooler.") || name.ends_with("position_ids")
}

/// Parses a BERT `config.json`; errors name `file`.
pub fn parse_config(json: &str, file: &str) -> Result<Config, BundleError> {
    serde_json::from_str(json)
        .map_err(|e| BundleError::new(file, format!("not a BERT config.json ({e})")))
}

/// The encoder file for a checkpoint: `config_json` (its `config.json`) and `checkpoint` (its
/// `model.safetensors`, F32 or F16).
pub fn quantize(config_json: &str, checkpoint: &[u8]) -> Result<Vec<u8>, BundleError> {
    const CHECKPOINT: &str = "model.safetensors";
    parse_config(config_json, "config.json")?;
    let (_, st) = open(checkpoint, CHECKPOINT)?;
    let mut tensor_names: Vec<&str> = st.names();
    tensor_names.sort_unstable();
    let mut stored = Vec::new();
    for name in tensor_names.into_iter().filter(|n| !is_unused(n)) {
        let shape = st
            .tensor(name)
            .map_err(|e| BundleError::new(CHECKPOINT, format!("tensor `{name}`: {e}")))?
            .shape()
            .to_vec();
        let values = read_weights(&st, CHECKPOINT, name, &shape)?;
        if shape.len() == 2 {
            let (q, scales) = quantize_rows(&values, values.len() / shape[0].max(1));
            stored.push((name.to_string(), Dtype::I8, shape.clone(), i8_bytes(&q)));
            stored.push((
                scale_name(name),
                Dtype::F32,
                vec![shape[0]],
                f32_bytes(&scales),
            ));
        } else {
            stored.push((name.to_string(), Dtype::F32, shape, f32_bytes(&values)));
        }
    }
    let metadata = HashMap::from([
        ("format".to_string(), ENCODER_FORMAT.to_string()),
        ("config".to_string(), config_json.to_string()),
    ]);
    Ok(serialize_tensors(stored, metadata))
}

/// The config and every tensor of an encoder file, as f32 values with their shapes; the
/// values are checked finite and bounded.
#[allow(clippy::type_complexity)]
pub fn read(
    bytes: &[u8],
) -> Result<(Config, HashMap<String, (Vec<f32>, Vec<usize>)>), BundleError> {
    let err = |p: String| BundleError::new(ENCODER_FILE, p);
    let (metadata, st) = open(bytes, ENCODER_FILE)?;
    let metadata = metadata.unwrap_or_default();
    check_format(ENCODER_FILE, metadata.get("format"), ENCODER_FORMAT)?;
    let config = parse_config(
        metadata
            .get("config")
            .ok_or_else(|| err("metadata key `config` is missing".into()))?,
        ENCODER_FILE,
    )?;
    // Scales are read with their int8 matrix.
    let scales: HashSet<String> = st
        .tensors()
        .into_iter()
        .filter(|(_, view)| view.dtype() == Dtype::I8)
        .map(|(name, _)| scale_name(&name))
        .collect();
    let mut tensors = HashMap::new();
    for (name, view) in st.tensors() {
        if scales.contains(&name) {
            continue;
        }
        let shape = view.shape().to_vec();
        let values = read_weights(&st, ENCODER_FILE, &name, &shape)?;
        tensors.insert(name, (values, shape));
    }
    Ok((config, tensors))
}
