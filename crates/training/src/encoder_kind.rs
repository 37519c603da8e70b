//! Training the sentence-encoder kind (`sentence_encoder`): the frozen encoder's vectors of
//! the training sentences fit the linear head; the after-fit stages are every kind's
//! ([`crate::finish`]). The encoder stays frozen, so this takes seconds to minutes, and it is
//! the better kind when an intent has only a handful of examples.

use std::collections::HashMap;

use anyhow::Result;
use model::bundle::sha256_hex;
use model::spelling::{vocabulary, ReadQuery, Speller};
use sentence_encoder::bundle::{self as encoder_bundle, EncoderBundleMeta};
use sentence_encoder::{head, EncoderBundleFiles, EncoderClassifier, SentenceEncoder};
use serde::{Deserialize, Serialize};

use crate::data::Dataset;
use crate::evaluate::ThresholdRule;
use crate::finish::{self, Evaluation, ModelDescription, ThresholdSetting};
use crate::model_card::CardKind;
use crate::scripts::UnreadableReport;
use crate::train::TrainConfig;

/// Sentences embedded per call: bounds the memory of one batch.
const EMBED_BATCH: usize = 512;

/// The options of a sentence-encoder fit: the TextCNN's options that apply to this kind,
/// with the same defaults ([`TrainConfig::default`]); the page passes them as it passes
/// the TextCNN's (`crate::page_input`).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EncoderConfig {
    /// Split seed (seed-format data without a validation split).
    pub seed: u64,
    /// How the threshold is chosen on the validation split.
    pub threshold_rule: ThresholdRule,
    /// A fixed energy threshold in place of the rule's.
    pub threshold: Option<f32>,
}

impl Default for EncoderConfig {
    fn default() -> Self {
        let textcnn = TrainConfig::default();
        Self {
            seed: textcnn.seed,
            threshold_rule: textcnn.threshold_rule,
            threshold: textcnn.threshold,
        }
    }
}

/// The encoder's files as a bundle carries them, and where they came from.
pub struct EncoderSource {
    pub encoder: Vec<u8>,
    pub tokenizer: Vec<u8>,
    /// Name and license, for the model card ("all-MiniLM-L6-v2 sentence encoder (Apache-2.0)").
    pub description: String,
}

/// A fitted bundle before it is written.
pub struct FittedEncoder {
    pub meta: EncoderBundleMeta,
    pub model_bytes: Vec<u8>,
    pub evaluation: Evaluation,
    /// The training text's unknown word pieces by script, and the scripts read.
    pub unreadable: UnreadableReport,
    data_source: String,
    encoder_source: String,
}

impl FittedEncoder {
    /// What the model card says of the model beside its figures.
    pub fn description(&self) -> ModelDescription<'_> {
        ModelDescription {
            kind: CardKind::SentenceEncoder,
            labels: &self.meta.shared.labels,
            data_source: &self.data_source,
            embedding_source: &self.encoder_source,
            scripts_read: &self.unreadable.read,
        }
    }

    /// README.md for the bundle, `name` being the model's.
    pub fn model_card(&self, name: &str) -> String {
        self.evaluation.model_card(&self.description(), name)
    }
}

/// Every distinct sentence of the dataset's evaluated and training splits, embedded once, in
/// batches, as the bundle will read it (typos toward the training words repaired:
/// [`ReadQuery`]); `progress(done, total)` after each batch.
pub fn embed_dataset<'a>(
    encoder: &SentenceEncoder,
    dataset: &'a Dataset,
    mut progress: impl FnMut(usize, usize),
) -> Result<HashMap<&'a str, Vec<f32>>> {
    let known = [&dataset.train, &dataset.val, &dataset.test];
    let unknown = [&dataset.negatives_val, &dataset.negatives_test];
    let mut texts: Vec<&str> = known
        .iter()
        .flat_map(|split| split.iter().map(|(t, _)| t.as_str()))
        .chain(unknown.iter().flat_map(|s| s.iter().map(String::as_str)))
        .collect();
    texts.sort_unstable();
    texts.dedup();
    // The bundle's training words (finish::model_meta) repair typos at inference; the
    // evaluation reads the sentences the same way.
    let words = Speller::new(&vocabulary(dataset.training_texts()));
    let mut vectors = HashMap::with_capacity(texts.len());
    for chunk in texts.chunks(EMBED_BATCH) {
        let read: Vec<String> = chunk
            .iter()
            .map(|t| ReadQuery::new(encoder.text(), &words, t).text().to_owned())
            .collect();
        for (text, vector) in chunk.iter().zip(encoder.embed_all(&read)?) {
            vectors.insert(*text, vector);
        }
        progress(vectors.len(), texts.len());
    }
    Ok(vectors)
}

/// The head on the training vectors, then the after-fit stages over the bundle's logits.
/// `vectors` holds every sentence of the dataset ([`embed_dataset`]).
pub fn fit(
    dataset: &Dataset,
    source: &EncoderSource,
    encoder: &SentenceEncoder,
    vectors: &HashMap<&str, Vec<f32>>,
    config: &EncoderConfig,
) -> Result<FittedEncoder> {
    let setting = ThresholdSetting {
        fixed: config.threshold,
        rule: config.threshold_rule,
    };
    let train_vectors: Vec<Vec<f32>> = dataset
        .train
        .iter()
        .map(|(t, _)| vectors[t.as_str()].clone())
        .collect();
    let train_labels: Vec<usize> = dataset.train.iter().map(|(_, l)| *l).collect();
    let head = head::fit(
        &train_vectors,
        &train_labels,
        dataset.labels.len(),
        encoder.dim(),
    )?;
    let evaluation = Evaluation::of(dataset, setting, |t| head.logits(&vectors[t]));
    let mut training = finish::training_record(dataset);
    training.insert("kind".into(), encoder_bundle::MODEL_FORMAT.into());
    training.insert("encoder".into(), source.description.clone().into());
    training.insert(
        "head".into(),
        "linear, trained from each intent's mean training vector".into(),
    );
    training.insert("threshold_rule".into(), serde_json::json!(setting.rule));
    training.insert("seed".into(), config.seed.into());
    let mut meta = EncoderBundleMeta {
        format_version: encoder_bundle::FORMAT_VERSION,
        dim: encoder.dim(),
        encoder_sha256: sha256_hex(&source.encoder),
        shared: finish::model_meta(dataset, &source.tokenizer, training, true),
    };
    evaluation.settle(&mut meta.shared);
    let model_bytes = encoder_bundle::serialize(&meta, &head);
    // What is written must load as a classifier, the page's way.
    EncoderClassifier::load(EncoderBundleFiles {
        model: &model_bytes,
        encoder: &source.encoder,
        tokenizer: &source.tokenizer,
    })
    .map_err(|e| anyhow::anyhow!("the fitted bundle does not load: {e}"))?;
    Ok(FittedEncoder {
        meta,
        model_bytes,
        evaluation,
        unreadable: UnreadableReport::of(encoder.text(), dataset.training_texts()),
        data_source: dataset.source.clone(),
        encoder_source: source.description.clone(),
    })
}
