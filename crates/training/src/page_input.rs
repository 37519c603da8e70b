//! What a page hands the training core (`crates/web-train`, `crates/web-train-encoder`): the
//! intents and negatives as JSON text, and the options as one JSON object of a kind's
//! configuration fields plus the page's own `val_fraction`. Both training modules read them
//! here, so a page's options mean the same for either kind.

use anyhow::{bail, Context, Result};
use serde::de::{DeserializeOwned, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

use model::ModelMeta;

use crate::data::{self, DEFAULT_VAL_FRACTION};
use crate::scripts::UnreadableReport;
use crate::train::EpochLog;

/// The most text a page trains on: CLINC150's 150 intents are about 1 MB. Beyond this a
/// page would sit for many minutes; the command-line trainer has no such bound.
pub const MAX_TEXT_BYTES: usize = 4 << 20;

/// What a page's options add to a kind's configuration: the share of each intent's
/// sentences held out for validation (the command line takes it as a data flag).
pub const VAL_FRACTION_KEY: &str = "val_fraction";

/// A kind's configuration (its `Default` for what `options` leaves out) and the validation
/// share, from the page's JSON options. Unknown keys are errors that name them.
pub fn parse_options<Config: DeserializeOwned>(options: &str) -> Result<(Config, f64)> {
    let mut map: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(options).context("options: expected a JSON object")?;
    let val_fraction = match map.remove(VAL_FRACTION_KEY) {
        None => DEFAULT_VAL_FRACTION,
        Some(v) => v
            .as_f64()
            .with_context(|| format!("options.{VAL_FRACTION_KEY}: expected a number, got {v}"))?,
    };
    let config: Config =
        serde_json::from_value(serde_json::Value::Object(map)).context("options")?;
    Ok((config, val_fraction))
}

/// Every option key a page may pass for a kind whose configuration is `Config`: its fields
/// (snake_case, as serialized), in their declared order, and [`VAL_FRACTION_KEY`].
pub fn option_keys<Config: Serialize + Default>() -> Vec<String> {
    let json = serde_json::to_string(&Config::default()).expect("a configuration serializes");
    // Read back as keys in order: a `serde_json::Value` map would sort them.
    let KeysInOrder(mut keys) = serde_json::from_str(&json).expect("a configuration is a struct");
    keys.push(VAL_FRACTION_KEY.to_string());
    keys
}

/// The keys of a JSON object, in the order they are written.
struct KeysInOrder(Vec<String>);

impl<'de> Deserialize<'de> for KeysInOrder {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ObjectKeys;
        impl<'de> Visitor<'de> for ObjectKeys {
            type Value = KeysInOrder;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<KeysInOrder, A::Error> {
                let mut keys = Vec::new();
                while let Some((key, IgnoredAny)) = map.next_entry::<String, IgnoredAny>()? {
                    keys.push(key);
                }
                Ok(KeysInOrder(keys))
            }
        }
        deserializer.deserialize_map(ObjectKeys)
    }
}

/// A run's summary as both training modules return it to the page (`trainingSummary()`):
/// JSON of `{ threshold, temperature, metrics, epochs, unreadable }`, `epochs` empty for a
/// kind without epochs.
pub fn summary_json(
    meta: &ModelMeta,
    epochs: &[EpochLog],
    unreadable: &UnreadableReport,
) -> serde_json::Result<String> {
    serde_json::to_string(&serde_json::json!({
        "threshold": meta.threshold,
        "temperature": meta.temperature,
        "metrics": meta.metrics,
        "epochs": epochs,
        "unreadable": unreadable,
    }))
}

/// The seed format from the page's JSON, split as the command line splits data.json.
pub fn dataset(
    intents: &str,
    negatives: &str,
    val_fraction: f64,
    seed: u64,
) -> Result<data::Dataset> {
    let bytes = intents.len() + negatives.len();
    if bytes > MAX_TEXT_BYTES {
        bail!(
            "intents and negatives hold {:.1} MB of text; a page trains on at most {} MB (the command-line trainer takes more)",
            bytes as f64 / 1e6,
            MAX_TEXT_BYTES >> 20
        );
    }
    let intents = data::parse_intents(intents, "intents")?;
    let negatives = data::parse_noise(negatives, "negatives")?;
    data::split_seed_format(intents, negatives, val_fraction, seed, "intents")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::TrainConfig;

    #[test]
    fn options_take_the_validation_share_and_refuse_unknown_keys() {
        let (config, val): (TrainConfig, f64) =
            parse_options(r#"{"epochs": 3, "val_fraction": 0.25}"#).unwrap();
        assert_eq!((config.epochs, val), (3, 0.25));
        let (_, val): (TrainConfig, f64) = parse_options("{}").unwrap();
        assert_eq!(val, DEFAULT_VAL_FRACTION);
        let err = parse_options::<TrainConfig>(r#"{"epoch": 3}"#).unwrap_err();
        assert!(
            format!("{err:#}").contains("unknown field `epoch`"),
            "{err:#}"
        );
        let err = parse_options::<TrainConfig>(r#"{"val_fraction": "a"}"#).unwrap_err();
        assert!(
            format!("{err:#}").contains("options.val_fraction"),
            "{err:#}"
        );
    }

    #[test]
    fn option_keys_are_the_configuration_fields_and_the_validation_share() {
        let keys = option_keys::<TrainConfig>();
        assert_eq!(keys[..3], ["epochs", "batch_size", "lr"], "declared order");
        assert!(keys.contains(&"threshold".to_string()));
        assert_eq!(keys.last().map(String::as_str), Some(VAL_FRACTION_KEY));
    }
}
