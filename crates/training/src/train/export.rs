//! The trained network as the bundle ships it, measured by the after-fit stages.

use anyhow::Result;
use model::bundle::{sha256_hex, BundleMeta, FORMAT_VERSION};
use model::{Architecture, BundleFiles, Classifier};

use super::config::{Spelling, TrainConfig};
use super::embeddings::Embeddings;
use crate::data::Dataset;
use crate::finish::{self, Evaluation, ModelDescription, ThresholdSetting};
use crate::model_card::CardKind;
use crate::network::Network;
use crate::scripts::UnreadableReport;

/// A trained model before it is written: network, metadata, figures and sources.
pub struct Trained {
    pub network: Network,
    pub meta: BundleMeta,
    pub model_bytes: Vec<u8>,
    /// Threshold, temperature, reports, metrics and plots, measured on the bundle as it ships.
    pub evaluation: Evaluation,
    /// The data's and the table's sources: for the model card.
    pub data_source: String,
    pub embedding_source: String,
    /// The training text's unknown word pieces by script, and the scripts read.
    pub unreadable: UnreadableReport,
}

/// The bundle's metadata before its threshold, temperature and metrics are known.
pub(super) fn bundle_meta(
    config: &TrainConfig,
    dataset: &Dataset,
    embeddings: &Embeddings,
    arch: &Architecture,
) -> BundleMeta {
    let mut training = finish::training_record(dataset);
    training.insert("config".into(), serde_json::json!(config));
    training.insert("train_sentences".into(), dataset.train.len().into());
    training.insert(
        "negative_sentences".into(),
        dataset.negatives_train.len().into(),
    );
    let repair = config.spelling == Spelling::Repair;
    BundleMeta {
        format_version: FORMAT_VERSION,
        architecture: arch.clone(),
        table_sha256: sha256_hex(&embeddings.table_bytes),
        shared: finish::model_meta(dataset, &embeddings.tokenizer_bytes, training, repair),
    }
}

/// The trained network as the bundle ships it. The bundle's own forward pass (folded,
/// quantized weights) is what the after-fit stages ([`finish`]) measure.
pub(super) fn export(
    config: &TrainConfig,
    dataset: &Dataset,
    embeddings: &Embeddings,
    network: Network,
    arch: &Architecture,
) -> Result<Trained> {
    let weights = network.folded()?;
    let dtype = config.weights_dtype.safetensors();
    let mut meta = bundle_meta(config, dataset, embeddings, arch);
    let classifier = Classifier::load(BundleFiles {
        model: &weights.serialize_as(&meta, dtype),
        table: &embeddings.table_bytes,
        tokenizer: &embeddings.tokenizer_bytes,
    })
    .map_err(|e| anyhow::anyhow!("the trained bundle does not load: {e}"))?;
    let setting = ThresholdSetting {
        fixed: config.threshold,
        rule: config.threshold_rule,
    };
    let evaluation = Evaluation::of(dataset, setting, |t| classifier.logits(t));
    evaluation.settle(&mut meta.shared);
    Ok(Trained {
        network,
        model_bytes: weights.serialize_as(&meta, dtype),
        meta,
        evaluation,
        data_source: dataset.source.clone(),
        embedding_source: embeddings.table_meta.source.clone(),
        unreadable: UnreadableReport::of(&embeddings.encoder, dataset.training_texts()),
    })
}

impl Trained {
    /// What the model card says of the model beside its figures.
    pub fn description(&self) -> ModelDescription<'_> {
        ModelDescription {
            kind: CardKind::TextCnn,
            labels: &self.meta.shared.labels,
            data_source: &self.data_source,
            embedding_source: &self.embedding_source,
            scripts_read: &self.unreadable.read,
        }
    }

    /// README.md for the bundle, `name` being the model's (the bundle directory's, on the
    /// command line).
    pub fn model_card(&self, name: &str) -> String {
        self.evaluation.model_card(&self.description(), name)
    }
}
