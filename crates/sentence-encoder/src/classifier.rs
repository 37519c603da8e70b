//! A loaded bundle of the sentence-encoder kind, and what it does at inference
//! ([`IntentModel`]; `classify` is every kind's).

use model::bundle::{check_hash, TOKENIZER_FILE};
use model::familiar;
use model::kind::{InferenceError, IntentModel, Reading};
use model::spelling::{ReadQuery, Speller};
use model::{BundleError, ModelMeta, TextEncoder};

use crate::bundle::{self, EncoderBundleFiles, EncoderBundleMeta};
use crate::encoder::SentenceEncoder;
use crate::encoder_file::ENCODER_FILE;
use crate::head::Head;

pub struct EncoderClassifier {
    encoder: SentenceEncoder,
    meta: EncoderBundleMeta,
    head: Head,
    words: Speller,
}

impl EncoderClassifier {
    /// Loads and cross-checks a bundle: hashes, and the encoder's width against the head's.
    pub fn load(files: EncoderBundleFiles<'_>) -> Result<Self, BundleError> {
        let (meta, head) = bundle::parse(files.model)?;
        check_hash(
            TOKENIZER_FILE,
            files.tokenizer,
            &meta.shared.tokenizer_sha256,
        )?;
        check_hash(ENCODER_FILE, files.encoder, &meta.encoder_sha256)?;
        let encoder = SentenceEncoder::load(files.encoder, files.tokenizer)?;
        if encoder.dim() != meta.dim {
            return Err(BundleError::new(
                ENCODER_FILE,
                format!(
                    "vectors have {} dims, the model's head expects {}",
                    encoder.dim(),
                    meta.dim
                ),
            ));
        }
        Ok(Self {
            encoder,
            words: Speller::new(&meta.shared.words),
            meta,
            head,
        })
    }

    pub fn meta(&self) -> &EncoderBundleMeta {
        &self.meta
    }

    pub fn labels(&self) -> &[String] {
        &self.meta.shared.labels
    }

    pub fn encoder(&self) -> &SentenceEncoder {
        &self.encoder
    }

    /// `text` as the model reads it ([`ReadQuery`]: cut, typos repaired), as a TextCNN reads it.
    fn read_query<'a>(&self, text: &'a str) -> ReadQuery<'a> {
        ReadQuery::new(self.encoder.text(), &self.words, text)
    }

    /// Logits in label order (typos repaired).
    pub fn logits(&self, text: &str) -> Result<Vec<f32>, InferenceError> {
        let read = self.read_query(text);
        Ok(self.logits_of_vector(&self.encoder.embed(read.text()).map_err(encoder_error)?))
    }

    /// Logits of a vector the encoder made ([`SentenceEncoder::embed_all`] for many texts).
    pub fn logits_of_vector(&self, vector: &[f32]) -> Vec<f32> {
        self.head.logits(vector)
    }
}

fn encoder_error(e: candle_core::Error) -> InferenceError {
    InferenceError(format!("sentence encoder: {e}"))
}

/// No evidence or features: the encoder reads the query whole. Typos are repaired toward
/// the bundle's training words as for a TextCNN.
impl IntentModel for EncoderClassifier {
    fn kind(&self) -> &'static str {
        bundle::MODEL_FORMAT
    }

    fn model_meta(&self) -> &ModelMeta {
        &self.meta.shared
    }

    fn text_encoder(&self) -> &TextEncoder {
        self.encoder.text()
    }

    fn logits(&self, text: &str) -> Result<Vec<f32>, InferenceError> {
        EncoderClassifier::logits(self, text)
    }

    /// The encoder embeds the texts in one batch.
    fn logits_of_many(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, InferenceError> {
        let read: Vec<String> = texts
            .iter()
            .map(|t| self.read_query(t).text().to_owned())
            .collect();
        let vectors = self.encoder.embed_all(&read).map_err(encoder_error)?;
        Ok(vectors.iter().map(|v| self.logits_of_vector(v)).collect())
    }

    fn token_ids(&self, text: &str) -> Vec<u32> {
        self.encoder.text().encode(self.read_query(text).text())
    }

    fn read(&self, text: &str) -> Result<Reading, InferenceError> {
        let text_encoder = self.encoder.text();
        let read = self.read_query(text);
        let vector = self.encoder.embed(read.text()).map_err(encoder_error)?;
        Ok(Reading {
            logits: self.logits_of_vector(&vector),
            unknown_share: text_encoder.unknown_pieces(read.text()).share(),
            unfamiliar: familiar::is_unfamiliar(
                read.bounded,
                &self.meta.shared.scripts,
                &self.words,
                |w| text_encoder.spells_whole(w),
            ),
            repaired: read.repaired.map(|r| r.text),
        })
    }
}
