//! `encoder.safetensors`: a Hugging Face BERT checkpoint made small enough for a page. Every
//! matrix is int8 with one F32 scale per row (a quarter of the bytes) or, when the file is
//! made with a [`Compression`] that asks for it, 4-bit with one F16 scale per 32 values (an
//! eighth); the vectors (biases, LayerNorm) stay F32, and the checkpoint's `config.json`
//! travels as the metadata key `config`, so the file is the whole encoder. A file may keep
//! only the first layers of the checkpoint; its config then says how many.

use std::collections::{HashMap, HashSet};

use candle_transformers::models::bert::Config;
use model::safetensors_file::{
    check_format, group_scale_name, open, read_weights, scale_name, serialize_tensors,
};
use model::tensor_codec::{
    f16_bytes, f32_bytes, i8_bytes, quantize_int4_groups, quantize_rows, INT4_GROUP,
};
use model::BundleError;
use safetensors::Dtype;

pub const ENCODER_FILE: &str = "encoder.safetensors";
/// Value of the `format` metadata key of an encoder file whose matrices are all int8 rows.
pub const ENCODER_FORMAT: &str = "bert-encoder-int8";
/// Value of the `format` metadata key of an encoder file with 4-bit matrices (each
/// tensor's dtype says its codec: I8 rows or U8-packed 4-bit groups).
pub const ENCODER_FORMAT_4BIT: &str = "bert-encoder-int4";

/// How [`quantize`] stores a matrix.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MatrixCodec {
    /// int8, one F32 scale per row.
    #[default]
    Int8Rows,
    /// 4-bit, one F16 scale per 32 values.
    Int4Groups,
}

/// What [`quantize`] keeps of a checkpoint, and how it stores it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Compression {
    /// The word-embedding matrix (vocabulary x hidden; half of MiniLM's weights).
    pub word_embeddings: MatrixCodec,
    /// The layers' feed-forward matrices (two thirds of a layer's weights).
    pub feed_forward: MatrixCodec,
    /// Every other matrix: attention, the position and token-type embeddings.
    pub matrices: MatrixCodec,
    /// Keep the first this many transformer layers (`None`: all of them).
    pub layers: Option<usize>,
}

impl Default for Compression {
    /// 4-bit word embeddings and feed-forward matrices, int8 attention, every layer: chosen
    /// on the few-shot sets' validation split with all-MiniLM-L6-v2 (bench/encoder_compression.sh;
    /// bench/results/fewshot.md). Two thirds of [`Compression::INT8`]'s bytes, within a point
    /// of its in-scope accuracy; 4-bit attention or fewer layers cost more than that.
    fn default() -> Self {
        Self {
            word_embeddings: MatrixCodec::Int4Groups,
            feed_forward: MatrixCodec::Int4Groups,
            matrices: MatrixCodec::Int8Rows,
            layers: None,
        }
    }
}

impl Compression {
    /// Every matrix int8, every layer: the encoder file before 4-bit matrices.
    pub const INT8: Self = Self {
        word_embeddings: MatrixCodec::Int8Rows,
        feed_forward: MatrixCodec::Int8Rows,
        matrices: MatrixCodec::Int8Rows,
        layers: None,
    };

    fn codec_of(&self, name: &str) -> MatrixCodec {
        if name.contains("word_embeddings") {
            self.word_embeddings
        } else if name.contains(".intermediate.dense")
            || (name.contains(".output.dense") && !name.contains(".attention."))
        {
            self.feed_forward
        } else {
            self.matrices
        }
    }

    /// Whether tensor `name` belongs to a layer past the ones kept.
    fn drops(&self, name: &str) -> bool {
        let Some(kept) = self.layers else {
            return false;
        };
        layer_index(name).is_some_and(|i| i >= kept)
    }
}

/// The transformer layer a tensor belongs to: `encoder.layer.{i}.`.
fn layer_index(name: &str) -> Option<usize> {
    let rest = &name[name.find("encoder.layer.")? + "encoder.layer.".len()..];
    rest.split('.').next()?.parse().ok()
}

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
/// `model.safetensors`, F32 or F16), stored as `compression` says.
pub fn quantize(
    config_json: &str,
    checkpoint: &[u8],
    compression: Compression,
) -> Result<Vec<u8>, BundleError> {
    const CHECKPOINT: &str = "model.safetensors";
    let config_json = kept_layers_config(config_json, compression.layers)?;
    let (_, st) = open(checkpoint, CHECKPOINT)?;
    let mut tensor_names: Vec<&str> = st.names();
    tensor_names.sort_unstable();
    let mut stored = Vec::new();
    for name in tensor_names
        .into_iter()
        .filter(|n| !is_unused(n) && !compression.drops(n))
    {
        let shape = st
            .tensor(name)
            .map_err(|e| BundleError::new(CHECKPOINT, format!("tensor `{name}`: {e}")))?
            .shape()
            .to_vec();
        let values = read_weights(&st, CHECKPOINT, name, &shape)?;
        stored.extend(stored_tensors(
            name,
            shape,
            &values,
            compression.codec_of(name),
        ));
    }
    let codecs = [
        compression.word_embeddings,
        compression.feed_forward,
        compression.matrices,
    ];
    let format = if codecs.iter().all(|&c| c == MatrixCodec::Int8Rows) {
        ENCODER_FORMAT
    } else {
        ENCODER_FORMAT_4BIT
    };
    let metadata = HashMap::from([
        ("format".to_string(), format.to_string()),
        ("config".to_string(), config_json),
    ]);
    Ok(serialize_tensors(stored, metadata))
}

/// `config.json` with `num_hidden_layers` cut to `layers` (unchanged for `None`).
fn kept_layers_config(config_json: &str, layers: Option<usize>) -> Result<String, BundleError> {
    let config = parse_config(config_json, "config.json")?;
    let Some(kept) = layers else {
        return Ok(config_json.to_string());
    };
    if kept == 0 || kept > config.num_hidden_layers {
        return Err(BundleError::new(
            "config.json",
            format!(
                "cannot keep {kept} of the encoder's {} layers",
                config.num_hidden_layers
            ),
        ));
    }
    let mut json: serde_json::Value = serde_json::from_str(config_json)
        .map_err(|e| BundleError::new("config.json", format!("not JSON ({e})")))?;
    json["num_hidden_layers"] = kept.into();
    Ok(json.to_string())
}

/// The tensors that store checkpoint tensor `name`: a matrix and its scales, or a vector.
fn stored_tensors(
    name: &str,
    shape: Vec<usize>,
    values: &[f32],
    codec: MatrixCodec,
) -> Vec<(String, Dtype, Vec<usize>, Vec<u8>)> {
    if shape.len() != 2 {
        return vec![(name.to_string(), Dtype::F32, shape, f32_bytes(values))];
    }
    let rows = shape[0];
    match codec {
        MatrixCodec::Int4Groups if shape[1].is_multiple_of(INT4_GROUP) => {
            let (packed, scales) = quantize_int4_groups(values);
            vec![
                (
                    name.to_string(),
                    Dtype::U8,
                    vec![rows, shape[1] / 2],
                    packed,
                ),
                (
                    group_scale_name(name),
                    Dtype::F16,
                    vec![scales.len()],
                    f16_bytes(&scales),
                ),
            ]
        }
        _ => {
            let (q, scales) = quantize_rows(values, values.len() / rows.max(1));
            vec![
                (name.to_string(), Dtype::I8, shape, i8_bytes(&q)),
                (scale_name(name), Dtype::F32, vec![rows], f32_bytes(&scales)),
            ]
        }
    }
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
    check_format(
        ENCODER_FILE,
        metadata.get("format"),
        &[ENCODER_FORMAT, ENCODER_FORMAT_4BIT],
    )?;
    let config = parse_config(
        metadata
            .get("config")
            .ok_or_else(|| err("metadata key `config` is missing".into()))?,
        ENCODER_FILE,
    )?;
    // Scales are read with their matrix.
    let scales: HashSet<String> = st
        .tensors()
        .into_iter()
        .filter_map(|(name, view)| match view.dtype() {
            Dtype::I8 => Some(scale_name(&name)),
            Dtype::U8 => Some(group_scale_name(&name)),
            _ => None,
        })
        .collect();
    let mut tensors = HashMap::new();
    for (name, view) in st.tensors() {
        if scales.contains(&name) {
            continue;
        }
        let mut shape = view.shape().to_vec();
        if view.dtype() == Dtype::U8 {
            // Two 4-bit values a byte: the matrix is twice as wide as its bytes.
            if let Some(cols) = shape.last_mut() {
                *cols = cols.saturating_mul(2);
            }
        }
        let values = read_weights(&st, ENCODER_FILE, &name, &shape)?;
        tensors.insert(name, (values, shape));
    }
    Ok((config, tensors))
}
