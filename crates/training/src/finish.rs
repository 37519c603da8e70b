//! After the fit, the same stages for every model kind: the threshold on validation, the
//! reports, the temperature, the metrics, the plots, the model card and the bundle's file
//! list. A kind supplies only its shipped bundle's logits for a text, so what ships is what
//! is measured.

use model::bundle::sha256_hex;
use model::ModelMeta;

use crate::calibration;
use crate::data::Dataset;
use crate::evaluate::{self, KnownScore, Report, ThresholdRule};
use crate::model_card::{self, CardInputs, CardKind, ThresholdChoice};
use crate::plots;
use crate::scripts::Script;

/// The file of a bundle's metrics, beside the three a classifier loads.
pub const EVALUATION_FILE: &str = "evaluation.json";

/// How the threshold is set: a fixed value (`--threshold`), or a rule on validation.
#[derive(Clone, Copy, Debug)]
pub struct ThresholdSetting {
    pub fixed: Option<f32>,
    pub rule: ThresholdRule,
}

impl ThresholdSetting {
    fn choice(self) -> ThresholdChoice {
        match self.fixed {
            Some(_) => ThresholdChoice::Fixed,
            None => ThresholdChoice::Rule(self.rule),
        }
    }
}

/// What the after-fit stages measured: the bundle's threshold and temperature, and the
/// figures its card, metrics and plots show.
pub struct Evaluation {
    pub threshold: f32,
    pub threshold_choice: ThresholdChoice,
    pub temperature: f32,
    pub val_report: Report,
    pub test_report: Report,
    /// `{ validation, test, calibration }`: the bundle's `metrics` and `evaluation.json`.
    pub metrics: serde_json::Value,
    /// SVG plots of the test split (validation when there is no test split).
    pub plots: Vec<(&'static str, Vec<u8>)>,
}

impl Evaluation {
    /// Threshold on validation, reports on both splits, temperature, metrics and plots, from
    /// the logits of the bundle as it ships.
    pub fn of(
        dataset: &Dataset,
        setting: ThresholdSetting,
        logits: impl Fn(&str) -> Vec<f32>,
    ) -> Self {
        let (val_known, val_unknown) =
            evaluate::score(&dataset.val, &dataset.negatives_val, &logits);
        let threshold = setting
            .fixed
            .unwrap_or_else(|| evaluate::choose_threshold(setting.rule, &val_known, &val_unknown));
        let (test_known, test_unknown) =
            evaluate::score(&dataset.test, &dataset.negatives_test, &logits);
        let from_file = dataset.split_from_training;
        let report = |known: &[KnownScore], unknown: &[f32]| {
            evaluate::report(&dataset.labels, known, unknown, threshold, from_file)
        };
        let val_report = report(&val_known, &val_unknown);
        let test_report = report(&test_known, &test_unknown);
        let calibration = calibration::calibrate(
            &calibration::scored(&dataset.val, &logits),
            &calibration::scored(&dataset.test, &logits),
            from_file,
        );
        let plots = if test_known.is_empty() {
            plots::evaluation_plots(&val_known, &val_unknown, threshold, "validation")
        } else {
            plots::evaluation_plots(&test_known, &test_unknown, threshold, "test")
        };
        Self {
            threshold,
            threshold_choice: setting.choice(),
            temperature: calibration.temperature,
            metrics: serde_json::json!({
                "validation": val_report,
                "test": test_report,
                "calibration": calibration,
            }),
            val_report,
            test_report,
            plots,
        }
    }

    /// Writes the measured threshold, temperature and metrics into the bundle's metadata.
    pub fn settle(&self, meta: &mut ModelMeta) {
        meta.threshold = self.threshold;
        meta.temperature = self.temperature;
        meta.metrics = self.metrics.clone();
    }

    /// README.md for the bundle (model_card.rs), `name` being the model's.
    pub fn model_card(&self, model: &ModelDescription<'_>, name: &str) -> String {
        model_card::render(&CardInputs {
            kind: model.kind,
            name,
            labels: model.labels,
            threshold: self.threshold,
            choice: self.threshold_choice,
            data_source: model.data_source,
            embedding_source: model.embedding_source,
            splits: model_card::splits(&self.test_report, &self.val_report),
            scripts_read: model.scripts_read,
        })
    }

    /// Every file of a bundle: the three a classifier loads (`loaded`: the model file, the
    /// kind's second file, the tokenizer), then the metrics, the card, the plots and
    /// `extra` (license notices).
    pub fn bundle_files(
        &self,
        loaded: [(&'static str, Vec<u8>); 3],
        model: &ModelDescription<'_>,
        name: &str,
        extra: &[(&'static str, Vec<u8>)],
    ) -> anyhow::Result<Vec<(&'static str, Vec<u8>)>> {
        let mut files = Vec::from(loaded);
        files.push((EVALUATION_FILE, serde_json::to_vec_pretty(&self.metrics)?));
        files.push((
            model_card::MODEL_CARD_FILE,
            self.model_card(model, name).into_bytes(),
        ));
        files.extend(self.plots.iter().cloned());
        files.extend(extra.iter().cloned());
        Ok(files)
    }
}

/// What a model card says of the model beside its figures.
pub struct ModelDescription<'a> {
    pub kind: CardKind,
    pub labels: &'a [String],
    /// The training data file, as the trainer recorded it.
    pub data_source: &'a str,
    /// The token table's or the encoder's source (model, license).
    pub embedding_source: &'a str,
    /// The scripts of the training text the tokenizer spells; empty: not counted.
    pub scripts_read: &'a [Script],
}

/// The metadata every kind's bundle carries ([`ModelMeta`]) for a model trained on
/// `dataset` with `tokenizer`: labels, the tokenizer's hash, the `training` record, the
/// training words (unless `words` is false) and scripts. Threshold, temperature and metrics
/// wait for [`Evaluation::settle`].
pub fn model_meta(
    dataset: &Dataset,
    tokenizer: &[u8],
    training: serde_json::Map<String, serde_json::Value>,
    words: bool,
) -> ModelMeta {
    ModelMeta {
        labels: dataset.labels.clone(),
        threshold: 0.0,
        temperature: 1.0,
        tokenizer_sha256: sha256_hex(tokenizer),
        training: training.into(),
        metrics: serde_json::Value::Null,
        words: if words {
            model::spelling::vocabulary(dataset.training_texts())
        } else {
            Vec::new()
        },
        scripts: model::script::written_in(dataset.train.iter().map(|(text, _)| text.as_str())),
    }
}

/// The part of a bundle's `training` record every kind writes: the data file, the suggested
/// queries and the time.
pub fn training_record(dataset: &Dataset) -> serde_json::Map<String, serde_json::Value> {
    let mut record = serde_json::Map::new();
    record.insert("data".into(), dataset.source.clone().into());
    record.insert("examples".into(), suggestions(dataset));
    record.insert(
        "unix_time".into(),
        web_time::SystemTime::now()
            .duration_since(web_time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
            .into(),
    );
    record
}

/// Sentences of each intent kept in the bundle, so a page can suggest queries that fit the
/// model (the demo's chips).
const SUGGESTIONS_PER_INTENT: usize = 2;
const SUGGESTED_NEGATIVES: usize = 4;

/// `{ "known": [[text, intent], ...], "unknown": [text, ...] }` from the training split.
pub fn suggestions(dataset: &Dataset) -> serde_json::Value {
    let mut taken = vec![0usize; dataset.labels.len()];
    let known: Vec<(&str, &str)> = dataset
        .train
        .iter()
        .filter(|(_, label)| {
            taken[*label] += 1;
            taken[*label] <= SUGGESTIONS_PER_INTENT
        })
        .map(|(text, label)| (text.as_str(), dataset.labels[*label].as_str()))
        .collect();
    let unknown: Vec<&str> = dataset
        .negatives_train
        .iter()
        .take(SUGGESTED_NEGATIVES)
        .map(String::as_str)
        .collect();
    serde_json::json!({ "known": known, "unknown": unknown })
}
