//! Training data in memory: the seed format (intents + negatives, split 80/20 with a seed)
//! and CLINC150's `data_full.json` layout (ready-made splits). Every error names its source
//! and, where serde_json knows it, the line and column. Reading files is the caller's.

use std::collections::{HashMap, HashSet};
use std::fmt;

use anyhow::{bail, Context, Result};
use rand::{seq::SliceRandom, SeedableRng};
use serde::de::{Deserializer, MapAccess, Visitor};
use serde::Deserialize;

/// Share of each intent held out for validation when the data has no validation split.
pub const DEFAULT_VAL_FRACTION: f64 = 0.2;

/// A labelled sentence: text and index into [`Dataset::labels`].
pub type Example = (String, usize);

/// Everything training and evaluation read, already split.
#[derive(Clone, Debug, Default)]
pub struct Dataset {
    pub labels: Vec<String>,
    pub train: Vec<Example>,
    /// Known sentences for choosing the threshold and early signals.
    pub val: Vec<Example>,
    /// Known sentences to report on (the validation split where no test split exists).
    pub test: Vec<Example>,
    /// Off-topic sentences used as training negatives.
    pub negatives_train: Vec<String>,
    pub negatives_val: Vec<String>,
    pub negatives_test: Vec<String>,
    /// Where the data came from, for reports.
    pub source: String,
    /// The validation and test splits were cut out of the training file (the seed format's
    /// 80/20 split), so they share its authors, templates and phrasing: figures measured on
    /// them are optimistic.
    pub split_from_training: bool,
}

impl Dataset {
    /// Every sentence training reads: the known ones, then the negatives.
    pub fn training_texts(&self) -> impl Iterator<Item = &str> {
        self.train
            .iter()
            .map(|(text, _)| text.as_str())
            .chain(self.negatives_train.iter().map(String::as_str))
    }
}

/// Intents in file order; duplicate keys are an error rather than silently merged.
struct IntentMap(Vec<(String, Vec<String>)>);

impl<'de> Deserialize<'de> for IntentMap {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct IntentVisitor;
        impl<'de> Visitor<'de> for IntentVisitor {
            type Value = IntentMap;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(r#"an object {"intent": ["sentence", ...]}"#)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<IntentMap, A::Error> {
                let mut seen = HashSet::new();
                let mut out = Vec::new();
                while let Some(key) = map.next_key::<String>()? {
                    if !seen.insert(key.clone()) {
                        return Err(serde::de::Error::custom(format!(
                            "intent `{key}` appears twice"
                        )));
                    }
                    let sentences: Vec<String> = map.next_value()?;
                    out.push((key, sentences));
                }
                Ok(IntentMap(out))
            }
        }
        deserializer.deserialize_map(IntentVisitor)
    }
}

/// Parses a seed-format `data.json` text: intents in file order with their sentences.
pub fn parse_intents(text: &str, file: &str) -> Result<Vec<(String, Vec<String>)>> {
    let IntentMap(intents) =
        serde_json::from_str(text).with_context(|| format!("{file}: malformed intents"))?;
    if intents.is_empty() {
        bail!("{file}: no intents");
    }
    for (intent, sentences) in &intents {
        if intent.trim().is_empty() {
            bail!("{file}: an intent has an empty name");
        }
        let kept = sentences.iter().filter(|s| !s.trim().is_empty()).count();
        if kept == 0 {
            bail!("{file}: intent `{intent}` has no sentences");
        }
        if kept < 2 {
            bail!("{file}: intent `{intent}` has {kept} sentence; at least 2 are needed (one to train, one to validate)");
        }
    }
    if intents.len() < 2 {
        bail!("{file}: only one intent; a classifier needs at least 2");
    }
    Ok(intents)
}

/// Parses a seed-format `noise.json` text: a list of off-topic sentences.
pub fn parse_noise(text: &str, file: &str) -> Result<Vec<String>> {
    let noise: Vec<String> = serde_json::from_str(text)
        .with_context(|| format!("{file}: malformed negatives (expected [\"sentence\", ...])"))?;
    Ok(noise.into_iter().filter(|s| !s.trim().is_empty()).collect())
}

/// Reports sentences filed under more than one intent (a warning, not an error).
pub fn cross_intent_duplicates(intents: &[(String, Vec<String>)]) -> Vec<String> {
    let mut owner: HashMap<&str, &str> = HashMap::new();
    let mut warnings = Vec::new();
    for (intent, sentences) in intents {
        for s in sentences {
            match owner.get(s.as_str()) {
                Some(&other) if other != intent => warnings.push(format!(
                    "sentence {s:?} is filed under both `{other}` and `{intent}`"
                )),
                _ => {
                    owner.insert(s, intent);
                }
            }
        }
    }
    warnings
}

/// Seed format: splits each intent and the negatives 80/20 with `seed`.
/// The seed format split with `seed`: `val_fraction` of each intent (and of the negatives)
/// for validation, which also serves as the test split. `source` names the data in errors
/// and reports.
pub fn split_seed_format(
    intents: Vec<(String, Vec<String>)>,
    negatives: Vec<String>,
    val_fraction: f64,
    seed: u64,
    source: &str,
) -> Result<Dataset> {
    if !(val_fraction > 0.0 && val_fraction < 1.0) {
        bail!("{source}: the validation fraction must be in (0, 1), not {val_fraction}");
    }
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut ds = Dataset {
        labels: intents.iter().map(|(l, _)| l.clone()).collect(),
        source: source.to_string(),
        split_from_training: true,
        ..Default::default()
    };
    for (label, (_, sentences)) in intents.into_iter().enumerate() {
        let mut sentences: Vec<String> = sentences
            .into_iter()
            .filter(|s| !s.trim().is_empty())
            .collect();
        sentences.shuffle(&mut rng);
        let n_val = split_count(sentences.len(), val_fraction);
        for (i, s) in sentences.into_iter().enumerate() {
            if i < n_val {
                ds.val.push((s, label));
            } else {
                ds.train.push((s, label));
            }
        }
    }
    let mut negatives = negatives;
    negatives.shuffle(&mut rng);
    let n_val = if negatives.len() >= 2 {
        split_count(negatives.len(), val_fraction)
    } else {
        0
    };
    ds.negatives_val = negatives[..n_val].to_vec();
    ds.negatives_train = negatives[n_val..].to_vec();
    ds.test = ds.val.clone();
    ds.negatives_test = ds.negatives_val.clone();
    Ok(ds)
}

/// Validation share of `n` items: at least one, and at least one left to train on.
fn split_count(n: usize, fraction: f64) -> usize {
    ((n as f64 * fraction).round() as usize).clamp(1, n.saturating_sub(1).max(1))
}

#[derive(Deserialize)]
struct ClincFile {
    train: Vec<(String, String)>,
    val: Vec<(String, String)>,
    test: Vec<(String, String)>,
    #[serde(default)]
    oos_train: Vec<(String, String)>,
    #[serde(default)]
    oos_val: Vec<(String, String)>,
    #[serde(default)]
    oos_test: Vec<(String, String)>,
}

/// CLINC150 layout: `train/val/test` and `oos_train/oos_val/oos_test`, `[text, label]` pairs.
pub fn parse_clinc(text: &str, file: &str) -> Result<Dataset> {
    let raw: ClincFile = serde_json::from_str(text).with_context(|| {
        format!("{file}: not the CLINC150 layout (train/val/test lists of [text, label])")
    })?;
    let mut labels: Vec<String> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for (_, label) in &raw.train {
        if !index.contains_key(label) {
            index.insert(label.clone(), labels.len());
            labels.push(label.clone());
        }
    }
    let known = |split: Vec<(String, String)>, name: &str| -> Result<Vec<Example>> {
        split
            .into_iter()
            .map(|(text, label)| match index.get(&label) {
                Some(&i) => Ok((text, i)),
                None => bail!("{file}: `{name}` has label `{label}`, which `train` never uses"),
            })
            .collect()
    };
    let texts = |split: Vec<(String, String)>| split.into_iter().map(|(t, _)| t).collect();
    let ds = Dataset {
        train: known(raw.train, "train")?,
        val: known(raw.val, "val")?,
        test: known(raw.test, "test")?,
        negatives_train: texts(raw.oos_train),
        negatives_val: texts(raw.oos_val),
        negatives_test: texts(raw.oos_test),
        labels,
        source: file.to_string(),
        split_from_training: false,
    };
    if ds.labels.len() < 2 {
        bail!("{file}: `train` has fewer than 2 labels");
    }
    Ok(ds)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_json_names_file_and_line() {
        let err = parse_intents(
            "{\n\"a\": [\"x\", \"y\"],\n\"b\": [\"z\" \"w\"]\n}",
            "data.json",
        )
        .unwrap_err();
        let msg = format!("{err:#}");
        assert!(msg.contains("data.json") && msg.contains("line 3"), "{msg}");
    }

    #[test]
    fn empty_and_single_sentence_intents_are_refused() {
        let msg = format!(
            "{:#}",
            parse_intents(r#"{"a": [], "b": ["x","y"]}"#, "d.json").unwrap_err()
        );
        assert!(msg.contains("`a` has no sentences"), "{msg}");
        let msg = format!(
            "{:#}",
            parse_intents(r#"{"a": ["only"], "b": ["x","y"]}"#, "d.json").unwrap_err()
        );
        assert!(msg.contains("`a` has 1 sentence"), "{msg}");
    }

    #[test]
    fn duplicate_intent_keys_are_refused() {
        let msg = format!(
            "{:#}",
            parse_intents(r#"{"a": ["x","y"], "a": ["z","w"]}"#, "d.json").unwrap_err()
        );
        assert!(msg.contains("`a` appears twice"), "{msg}");
    }

    #[test]
    fn sentence_under_two_intents_is_warned() {
        let intents = parse_intents(r#"{"a": ["x","y"], "b": ["x","z"]}"#, "d.json").unwrap();
        let w = cross_intent_duplicates(&intents);
        assert_eq!(w.len(), 1);
        assert!(w[0].contains("`a` and `b`"));
    }

    #[test]
    fn noise_must_be_a_list_of_strings() {
        let msg = format!(
            "{:#}",
            parse_noise(r#"{"a": 1}"#, "noise.json").unwrap_err()
        );
        assert!(msg.contains("noise.json"), "{msg}");
    }

    #[test]
    fn clinc_layout_and_unknown_labels() {
        let ds = parse_clinc(
            r#"{"train": [["hi","greet"],["bye","leave"]], "val": [["hey","greet"]], "test": [["ciao","leave"]],
                "oos_train": [["what","oos"]], "oos_val": [], "oos_test": [["x","oos"]]}"#,
            "clinc.json",
        )
        .unwrap();
        assert_eq!(ds.labels, vec!["greet", "leave"]);
        assert_eq!(ds.test, vec![("ciao".to_string(), 1)]);
        assert_eq!(ds.negatives_train, vec!["what"]);
        let msg = format!(
            "{:#}",
            parse_clinc(
                r#"{"train": [["hi","greet"],["yo","leave"]], "val": [["hey","nope"]], "test": []}"#,
                "clinc.json"
            )
            .unwrap_err()
        );
        assert!(msg.contains("`val` has label `nope`"), "{msg}");
    }
}
