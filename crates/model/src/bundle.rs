//! The bundle: the three files a classifier needs, their tensor names and metadata keys,
//! and the checks that turn untrusted bytes into validated weights.
//!
//! `model.safetensors` holds the BatchNorm-folded TextCNN in PyTorch layouts
//! (`branches.{i}.weight` [channels, embed_dim, kernel], `branches.{i}.bias` [channels],
//! `classifier.weight` [labels, features], `classifier.bias` [labels]) and string metadata
//! ([`BundleMeta`]). `table.safetensors` is the compact token table ([`crate::table`]).
//! `tokenizer.json` is a Hugging Face tokenizer. Reading and writing safetensors in general
//! is [`crate::safetensors_file`].

use std::collections::HashMap;

use safetensors::Dtype;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::meta::{json, MetaReader, ModelMeta};
use crate::safetensors_file::{open, read_weights, scale_name, serialize_tensors};
use crate::tensor_codec::{f16_bytes, f32_bytes, i8_bytes, quantize_rows};
use crate::{Architecture, BundleError};

pub const MODEL_FILE: &str = "model.safetensors";
pub const TABLE_FILE: &str = "table.safetensors";
pub const TOKENIZER_FILE: &str = "tokenizer.json";

/// Value of the `format` metadata key of a model file.
pub const MODEL_FORMAT: &str = "textcnn-intent";
/// Bumped on any change a reader must know about. Version 2: product-quantized token
/// table and optional int8 weights; version 1 bundles (int8 table) must be retrained.
pub const FORMAT_VERSION: u32 = 2;

/// Tensor names: the parameter names of the network are the file format.
pub mod names {
    /// Folded conv weight of branch `i` in the bundle.
    pub fn branch_weight(i: usize) -> String {
        format!("branches.{i}.weight")
    }
    pub fn branch_bias(i: usize) -> String {
        format!("branches.{i}.bias")
    }
    pub const CLASSIFIER_WEIGHT: &str = "classifier.weight";
    pub const CLASSIFIER_BIAS: &str = "classifier.bias";
}

/// The raw bytes of a bundle's three files, as fetched or read from disk.
pub struct BundleFiles<'a> {
    pub model: &'a [u8],
    pub table: &'a [u8],
    pub tokenizer: &'a [u8],
}

/// Everything in `model.safetensors` besides the tensors: the TextCNN's own keys, and those
/// every kind writes ([`ModelMeta`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BundleMeta {
    pub format_version: u32,
    pub architecture: Architecture,
    pub table_sha256: String,
    /// Labels, threshold, temperature, tokenizer hash, provenance, words and scripts.
    pub shared: ModelMeta,
}

impl BundleMeta {
    /// The safetensors string map for this metadata.
    pub fn to_map(&self) -> HashMap<String, String> {
        let mut map = HashMap::from([
            ("format".into(), MODEL_FORMAT.into()),
            ("format_version".into(), self.format_version.to_string()),
            ("architecture".into(), json(&self.architecture)),
            ("table_sha256".into(), self.table_sha256.clone()),
        ]);
        self.shared.write(&mut map);
        map
    }

    /// Reads and checks the metadata map; errors name the key.
    pub fn from_map(map: &HashMap<String, String>) -> Result<Self, BundleError> {
        let meta = MetaReader::new(map, MODEL_FILE);
        let format = meta.text("format")?;
        if format != MODEL_FORMAT {
            return Err(meta.error(format!(
                "metadata `format` is `{format}`, expected `{MODEL_FORMAT}`"
            )));
        }
        let format_version: u32 = meta.number("format_version")?;
        if format_version < FORMAT_VERSION {
            return Err(meta.error(format!(
                "format version {format_version} is from an earlier release (this reader knows \
                 {FORMAT_VERSION}); retrain the bundle with `trainer train` on a current table \
                 (assets/*/table.safetensors, or one rebuilt with `trainer table`)"
            )));
        }
        if format_version != FORMAT_VERSION {
            return Err(meta.error(format!(
                "format version {format_version} is not supported (this reader knows \
                 {FORMAT_VERSION}); update the classifier"
            )));
        }
        let architecture: Architecture = meta.json("architecture")?;
        architecture
            .validate()
            .map_err(|e| meta.error(format!("metadata `architecture`: {e}")))?;
        Ok(Self {
            format_version,
            architecture,
            shared: ModelMeta::read(&meta)?,
            table_sha256: meta.text("table_sha256")?.to_string(),
        })
    }
}

/// The folded TextCNN's parameters, checked against the metadata's architecture.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelWeights {
    /// Per branch: weight [channels, embed_dim, kernel] (PyTorch Conv1d layout).
    pub branch_weights: Vec<Vec<f32>>,
    pub branch_biases: Vec<Vec<f32>>,
    /// [labels, features]
    pub classifier_weight: Vec<f32>,
    pub classifier_bias: Vec<f32>,
}

impl ModelWeights {
    /// Parses `model.safetensors` bytes into weights and metadata, checking dtypes,
    /// shapes and that every value is finite.
    pub fn parse(bytes: &[u8]) -> Result<(Self, BundleMeta), BundleError> {
        let err = |p: String| BundleError::new(MODEL_FILE, p);
        let (meta_map, st) = open(bytes, MODEL_FILE)?;
        let meta_map =
            meta_map.ok_or_else(|| err("no metadata (labels, threshold, architecture)".into()))?;
        let meta = BundleMeta::from_map(&meta_map)?;
        let a = &meta.architecture;
        let n_labels = meta.shared.labels.len();
        let mut branch_weights = Vec::new();
        let mut branch_biases = Vec::new();
        for (i, b) in a.branches.iter().enumerate() {
            branch_weights.push(read_weights(
                &st,
                MODEL_FILE,
                &names::branch_weight(i),
                &[a.channels, a.embed_dim, b.kernel],
            )?);
            branch_biases.push(read_weights(
                &st,
                MODEL_FILE,
                &names::branch_bias(i),
                &[a.channels],
            )?);
        }
        let classifier_weight = read_weights(
            &st,
            MODEL_FILE,
            names::CLASSIFIER_WEIGHT,
            &[n_labels, a.features()],
        )?;
        let classifier_bias = read_weights(&st, MODEL_FILE, names::CLASSIFIER_BIAS, &[n_labels])?;
        Ok((
            Self {
                branch_weights,
                branch_biases,
                classifier_weight,
                classifier_bias,
            },
            meta,
        ))
    }

    /// The safetensors bytes for these weights and metadata, stored as F32.
    pub fn serialize(&self, meta: &BundleMeta) -> Vec<u8> {
        self.serialize_as(meta, Dtype::F32)
    }

    /// The same, stored as `dtype`: F32; F16 for half the bytes (values rounded to the
    /// nearest half); or I8 for a quarter, the weight matrices with one F32 scale per output
    /// row ([`scale_name`]) and the biases F32. The forward pass runs in f32 either way.
    pub fn serialize_as(&self, meta: &BundleMeta, dtype: Dtype) -> Vec<u8> {
        assert!(
            matches!(dtype, Dtype::F32 | Dtype::F16 | Dtype::I8),
            "weights are stored as F32, F16 or I8"
        );
        let a = &meta.architecture;
        let mut tensors: Vec<(String, Vec<usize>, &[f32])> = Vec::new();
        for (i, b) in a.branches.iter().enumerate() {
            tensors.push((
                names::branch_weight(i),
                vec![a.channels, a.embed_dim, b.kernel],
                &self.branch_weights[i],
            ));
            tensors.push((
                names::branch_bias(i),
                vec![a.channels],
                &self.branch_biases[i],
            ));
        }
        tensors.push((
            names::CLASSIFIER_WEIGHT.into(),
            vec![meta.shared.labels.len(), a.features()],
            &self.classifier_weight,
        ));
        tensors.push((
            names::CLASSIFIER_BIAS.into(),
            vec![meta.shared.labels.len()],
            &self.classifier_bias,
        ));
        let mut stored = Vec::new();
        for (name, shape, values) in &tensors {
            // Biases are a few hundred values: int8 would save nothing worth their precision.
            let is_bias = shape.len() == 1;
            match dtype {
                Dtype::I8 if !is_bias => {
                    let (q, scale) = quantize_rows(values, values.len() / shape[0].max(1));
                    stored.push((name.clone(), Dtype::I8, shape.clone(), i8_bytes(&q)));
                    stored.push((
                        scale_name(name),
                        Dtype::F32,
                        vec![shape[0]],
                        f32_bytes(&scale),
                    ));
                }
                Dtype::F16 => {
                    stored.push((name.clone(), Dtype::F16, shape.clone(), f16_bytes(values)))
                }
                _ => stored.push((name.clone(), Dtype::F32, shape.clone(), f32_bytes(values))),
            }
        }
        serialize_tensors(stored, meta.to_map())
    }
}

/// Fails unless `bytes` hash to what the model file recorded for `file`.
pub fn check_hash(file: &str, bytes: &[u8], recorded: &str) -> Result<(), BundleError> {
    let actual = sha256_hex(bytes);
    if actual == recorded {
        return Ok(());
    }
    Err(BundleError::new(
        file,
        format!(
            "sha256 is {actual}, but {MODEL_FILE} records {recorded}: \
             the file was changed or belongs to another model"
        ),
    ))
}

/// Lower-case hex sha256, the form hashes take in metadata.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit;

    #[test]
    fn int8_weights_round_trip_within_half_a_step_per_row() {
        let arch = testkit::tiny_architecture(8);
        let weights = testkit::tiny_weights(&arch, 2);
        let meta = testkit::tiny_meta(&arch, b"table", b"tokenizer");
        let (back, _) = ModelWeights::parse(&weights.serialize_as(&meta, Dtype::I8)).unwrap();
        let rows = arch.channels;
        for (a, b) in weights.branch_weights.iter().zip(&back.branch_weights) {
            for (row_a, row_b) in a.chunks(a.len() / rows).zip(b.chunks(b.len() / rows)) {
                let step = row_a.iter().fold(0f32, |m, v| m.max(v.abs())) / 127.0;
                for (x, y) in row_a.iter().zip(row_b) {
                    assert!((x - y).abs() <= step / 2.0 + 1e-6, "{x} vs {y}");
                }
            }
        }
        assert_eq!(back.branch_biases, weights.branch_biases);
    }

    #[test]
    fn an_earlier_format_version_is_refused_with_a_way_out() {
        let arch = testkit::tiny_architecture(8);
        let mut meta = testkit::tiny_meta(&arch, b"table", b"tokenizer");
        meta.format_version = 1;
        let bytes = testkit::tiny_weights(&arch, 2).serialize(&meta);
        let e = ModelWeights::parse(&bytes).unwrap_err().to_string();
        assert!(
            e.contains("model.safetensors") && e.contains("retrain"),
            "{e}"
        );
    }
}
