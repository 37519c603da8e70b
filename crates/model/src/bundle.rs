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

use crate::safetensors_file::{open, read_weights, scale_name, serialize_tensors};
use crate::script::Script;
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

/// Everything in `model.safetensors` besides the tensors.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BundleMeta {
    pub format_version: u32,
    pub architecture: Architecture,
    /// Intent names, in the order of the classifier's output rows.
    pub labels: Vec<String>,
    /// Energy above this means "unknown".
    pub threshold: f32,
    /// Softmax temperature for reported probabilities (fitted on validation; optional when
    /// reading, absent means 1.0).
    pub temperature: f32,
    pub tokenizer_sha256: String,
    pub table_sha256: String,
    /// How the model was trained (flags, data, date): shown, never interpreted.
    pub training: serde_json::Value,
    /// Evaluation figures written by the trainer: shown, never interpreted.
    pub metrics: serde_json::Value,
    /// The training data's words, most frequent first, that typos are repaired toward
    /// ([`crate::spelling`]); empty (or absent from the file): no repair.
    pub spelling: Vec<String>,
    /// The scripts the intents are written in ([`crate::script::written_in`]): a query
    /// mostly in others is unfamiliar ([`crate::familiar`]); empty (or absent): not judged.
    pub scripts: Vec<Script>,
}

impl BundleMeta {
    /// The safetensors string map for this metadata.
    pub fn to_map(&self) -> HashMap<String, String> {
        HashMap::from([
            ("format".into(), MODEL_FORMAT.into()),
            ("format_version".into(), self.format_version.to_string()),
            ("architecture".into(), json(&self.architecture)),
            ("labels".into(), json(&self.labels)),
            ("threshold".into(), format!("{:?}", self.threshold)),
            ("temperature".into(), format!("{:?}", self.temperature)),
            ("tokenizer_sha256".into(), self.tokenizer_sha256.clone()),
            ("table_sha256".into(), self.table_sha256.clone()),
            ("training".into(), json(&self.training)),
            ("metrics".into(), json(&self.metrics)),
            ("spelling".into(), json(&self.spelling)),
            ("scripts".into(), json(&self.scripts)),
        ])
    }

    /// Reads and checks the metadata map; errors name the key.
    pub fn from_map(map: &HashMap<String, String>) -> Result<Self, BundleError> {
        let err = |p: String| BundleError::new(MODEL_FILE, p);
        let get = |key: &str| {
            map.get(key)
                .ok_or_else(|| err(format!("metadata key `{key}` is missing")))
        };
        let format = get("format")?;
        if format != MODEL_FORMAT {
            return Err(err(format!(
                "metadata `format` is `{format}`, expected `{MODEL_FORMAT}`"
            )));
        }
        let format_version: u32 = get("format_version")?
            .parse()
            .map_err(|_| err("metadata `format_version` is not a number".into()))?;
        if format_version < FORMAT_VERSION {
            return Err(err(format!(
                "format version {format_version} is from an earlier release (this reader knows \
                 {FORMAT_VERSION}); retrain the bundle with `trainer train` on a current table \
                 (assets/*/table.safetensors, or one rebuilt with `trainer table`)"
            )));
        }
        if format_version != FORMAT_VERSION {
            return Err(err(format!(
                "format version {format_version} is not supported (this reader knows \
                 {FORMAT_VERSION}); update the classifier"
            )));
        }
        fn parse<T: serde::de::DeserializeOwned>(key: &str, text: &str) -> Result<T, BundleError> {
            serde_json::from_str(text)
                .map_err(|e| BundleError::new(MODEL_FILE, format!("metadata `{key}`: {e}")))
        }
        let architecture: Architecture = parse("architecture", get("architecture")?)?;
        architecture
            .validate()
            .map_err(|e| err(format!("metadata `architecture`: {e}")))?;
        let labels: Vec<String> = parse("labels", get("labels")?)?;
        if labels.is_empty() {
            return Err(err("metadata `labels` is empty".into()));
        }
        let threshold: f32 = get("threshold")?
            .parse()
            .map_err(|_| err("metadata `threshold` is not a number".into()))?;
        if !threshold.is_finite() {
            return Err(err("metadata `threshold` is not finite".into()));
        }
        let temperature: f32 = match map.get("temperature") {
            None => 1.0,
            Some(text) => text
                .parse()
                .map_err(|_| err("metadata `temperature` is not a number".into()))?,
        };
        if !(temperature.is_finite() && temperature > 0.0) {
            return Err(err(format!(
                "metadata `temperature` is {temperature}, expected a finite number above 0"
            )));
        }
        let optional = |key: &str| match map.get(key) {
            Some(text) => parse::<serde_json::Value>(key, text),
            None => Ok(serde_json::Value::Null),
        };
        let spelling: Vec<String> = match map.get("spelling") {
            Some(text) => parse("spelling", text)?,
            None => Vec::new(),
        };
        if let Some(bad) = spelling.iter().find(|w| {
            w.len() < crate::spelling::MIN_TYPED_LEN || !w.bytes().all(|b| b.is_ascii_lowercase())
        }) {
            return Err(err(format!(
                "metadata `spelling` holds {bad:?}; expected lowercase ASCII words of {} or more letters",
                crate::spelling::MIN_TYPED_LEN
            )));
        }
        let scripts: Vec<Script> = match map.get("scripts") {
            Some(text) => parse("scripts", text)?,
            None => Vec::new(),
        };
        Ok(Self {
            format_version,
            architecture,
            labels,
            threshold,
            temperature,
            tokenizer_sha256: get("tokenizer_sha256")?.clone(),
            table_sha256: get("table_sha256")?.clone(),
            training: optional("training")?,
            metrics: optional("metrics")?,
            spelling,
            scripts,
        })
    }
}

fn json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("plain data serializes")
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
        let n_labels = meta.labels.len();
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
            vec![meta.labels.len(), a.features()],
            &self.classifier_weight,
        ));
        tensors.push((
            names::CLASSIFIER_BIAS.into(),
            vec![meta.labels.len()],
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
