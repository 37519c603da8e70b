//! What every kind's model file says of itself besides its own shape ([`ModelMeta`]), in the
//! one form both kinds write: flat safetensors metadata keys, JSON text for structured values,
//! read with the same checks. A kind adds its own keys (the TextCNN its architecture and
//! table hash, the sentence encoder its width and encoder hash) with the same [`MetaReader`].

use std::collections::HashMap;
use std::str::FromStr;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::script::Script;
use crate::BundleError;

/// The shared part of a model file's metadata.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelMeta {
    /// Intent names, in the order of the logits.
    pub labels: Vec<String>,
    /// Energy above this means "unknown".
    pub threshold: f32,
    /// Softmax temperature for reported probabilities (fitted on validation; optional when
    /// reading, absent means 1.0).
    pub temperature: f32,
    pub tokenizer_sha256: String,
    /// How the model was trained (flags, data, date): shown, never interpreted.
    pub training: serde_json::Value,
    /// Evaluation figures written by the trainer: shown, never interpreted.
    pub metrics: serde_json::Value,
    /// The training data's words, most frequent first ([`crate::spelling::vocabulary`]):
    /// what typos are repaired toward ([`crate::spelling`]) and what makes a query familiar
    /// ([`crate::familiar`]); empty (or absent from the file): neither. Key `spelling`.
    pub words: Vec<String>,
    /// The scripts the intents are written in ([`crate::script::written_in`]): a query
    /// mostly in others is unfamiliar ([`crate::familiar`]); empty (or absent): not judged.
    pub scripts: Vec<Script>,
}

pub(crate) fn json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("plain data serializes")
}

impl ModelMeta {
    /// Adds this metadata's keys to a model file's map.
    pub fn write(&self, map: &mut HashMap<String, String>) {
        map.extend([
            ("labels".into(), json(&self.labels)),
            ("threshold".into(), format!("{:?}", self.threshold)),
            ("temperature".into(), format!("{:?}", self.temperature)),
            ("tokenizer_sha256".into(), self.tokenizer_sha256.clone()),
            ("training".into(), json(&self.training)),
            ("metrics".into(), json(&self.metrics)),
            ("spelling".into(), json(&self.words)),
            ("scripts".into(), json(&self.scripts)),
        ]);
    }

    /// Reads and checks the shared keys; errors name the file and the key.
    pub fn read(meta: &MetaReader<'_>) -> Result<Self, BundleError> {
        let labels: Vec<String> = meta.json("labels")?;
        if labels.is_empty() {
            return Err(meta.error("metadata `labels` is empty"));
        }
        let threshold: f32 = meta.number("threshold")?;
        if !threshold.is_finite() {
            return Err(meta.error("metadata `threshold` is not finite"));
        }
        let temperature: f32 = if meta.has("temperature") {
            meta.number("temperature")?
        } else {
            1.0
        };
        if !(temperature.is_finite() && temperature > 0.0) {
            return Err(meta.error(format!(
                "metadata `temperature` is {temperature}, expected a finite number above 0"
            )));
        }
        let words: Vec<String> = meta.optional_json("spelling")?;
        if let Some(bad) = words.iter().find(|w| {
            w.len() < crate::spelling::MIN_TYPED_LEN || !w.bytes().all(|b| b.is_ascii_lowercase())
        }) {
            return Err(meta.error(format!(
                "metadata `spelling` holds {bad:?}; expected lowercase ASCII words of {} or more letters",
                crate::spelling::MIN_TYPED_LEN
            )));
        }
        Ok(Self {
            labels,
            threshold,
            temperature,
            words,
            scripts: meta.optional_json("scripts")?,
            tokenizer_sha256: meta.text("tokenizer_sha256")?.to_string(),
            training: meta.optional_json("training")?,
            metrics: meta.optional_json("metrics")?,
        })
    }
}

/// A model file's metadata map being read: every error names the file and the key.
pub struct MetaReader<'a> {
    map: &'a HashMap<String, String>,
    file: &'static str,
}

impl<'a> MetaReader<'a> {
    pub fn new(map: &'a HashMap<String, String>, file: &'static str) -> Self {
        Self { map, file }
    }

    pub fn error(&self, problem: impl Into<String>) -> BundleError {
        BundleError::new(self.file, problem)
    }

    pub fn has(&self, key: &str) -> bool {
        self.map.contains_key(key)
    }

    /// A required key's text.
    pub fn text(&self, key: &str) -> Result<&'a str, BundleError> {
        self.map
            .get(key)
            .map(String::as_str)
            .ok_or_else(|| self.error(format!("metadata key `{key}` is missing")))
    }

    /// A required key's number.
    pub fn number<T: FromStr>(&self, key: &str) -> Result<T, BundleError> {
        self.text(key)?
            .parse()
            .map_err(|_| self.error(format!("metadata `{key}` is not a number")))
    }

    /// A required key's JSON value.
    pub fn json<T: DeserializeOwned>(&self, key: &str) -> Result<T, BundleError> {
        self.parse(key, self.text(key)?)
    }

    /// An optional key's JSON value; absent: the type's default (`null`, empty).
    pub fn optional_json<T: DeserializeOwned + Default>(
        &self,
        key: &str,
    ) -> Result<T, BundleError> {
        match self.map.get(key) {
            Some(text) => self.parse(key, text),
            None => Ok(T::default()),
        }
    }

    fn parse<T: DeserializeOwned>(&self, key: &str, text: &str) -> Result<T, BundleError> {
        serde_json::from_str(text).map_err(|e| self.error(format!("metadata `{key}`: {e}")))
    }
}
