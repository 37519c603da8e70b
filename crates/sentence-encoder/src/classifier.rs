//! A loaded bundle of the sentence-encoder kind and `classify`, text to decision.

use model::bundle::{check_hash, TOKENIZER_FILE};
use model::decision::decide;
use model::familiar;
use model::spelling::Speller;
use model::{BundleError, Classification, ClassifyOptions};

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
        check_hash(TOKENIZER_FILE, files.tokenizer, &meta.tokenizer_sha256)?;
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
            words: Speller::new(&meta.words),
            meta,
            head,
        })
    }

    pub fn meta(&self) -> &EncoderBundleMeta {
        &self.meta
    }

    pub fn labels(&self) -> &[String] {
        &self.meta.labels
    }

    pub fn encoder(&self) -> &SentenceEncoder {
        &self.encoder
    }

    /// Logits in label order.
    pub fn logits(&self, text: &str) -> candle_core::Result<Vec<f32>> {
        Ok(self.logits_of_vector(&self.encoder.embed(text)?))
    }

    /// Logits of a vector the encoder made ([`SentenceEncoder::embed_all`] for many texts).
    pub fn logits_of_vector(&self, vector: &[f32]) -> Vec<f32> {
        self.head.logits(vector)
    }

    /// The decision for `text`: the best intent, or unknown above the threshold or when
    /// most of it is unknown word pieces or unfamiliar (the rules the TextCNN kind applies).
    pub fn classify(
        &self,
        text: &str,
        options: &ClassifyOptions,
    ) -> candle_core::Result<Classification> {
        let text_encoder = self.encoder.text();
        let unknown_share = text_encoder.unknown_pieces(text).share();
        let unfamiliar = familiar::is_unfamiliar(
            text_encoder.bounded(text),
            &self.meta.scripts,
            &self.words,
            |w| text_encoder.spells_whole(w),
        );
        Ok(decide(
            &self.logits(text)?,
            &self.meta.labels,
            options.threshold.unwrap_or(self.meta.threshold),
            options.top_k,
            self.meta.temperature,
        )
        .unless_unreadable(unknown_share)
        .unless_unfamiliar(unfamiliar))
    }
}
