//! Text → unit vector: the tokenizer, the BERT encoder, the mean of its output states over
//! every token (special tokens included, as sentence-transformers pools), L2-normalized.

use std::collections::HashMap;

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::BertModel;
use model::bundle::TOKENIZER_FILE;
use model::{BundleError, TextEncoder};

use crate::encoder_file::{self, ENCODER_FILE};

/// Tokens read per query: intents are short, and attention costs grow with the square of
/// the length.
pub const MAX_TOKENS: usize = 128;

/// Sentences of one length encoded per forward pass when embedding many at once.
const BATCH: usize = 64;

pub struct SentenceEncoder {
    bert: BertModel,
    text: TextEncoder,
    dim: usize,
}

impl SentenceEncoder {
    /// Loads the encoder file and the tokenizer, checking that every token id the tokenizer
    /// can produce has a row in the encoder's embedding.
    pub fn load(encoder: &[u8], tokenizer: &[u8]) -> Result<Self, BundleError> {
        let (config, values) = encoder_file::read(encoder)?;
        let text =
            TextEncoder::from_bytes(tokenizer, MAX_TOKENS.min(config.max_position_embeddings))?;
        if text.vocab_size() > config.vocab_size {
            return Err(BundleError::new(
                TOKENIZER_FILE,
                format!(
                    "vocabulary has {} tokens, but the encoder has embeddings for {}",
                    text.vocab_size(),
                    config.vocab_size
                ),
            ));
        }
        let device = Device::Cpu;
        let mut tensors = HashMap::with_capacity(values.len());
        for (name, (values, shape)) in values {
            let tensor = Tensor::from_vec(values, shape, &device)
                .map_err(|e| BundleError::new(ENCODER_FILE, format!("tensor `{name}`: {e}")))?;
            tensors.insert(name, tensor);
        }
        let vb = VarBuilder::from_tensors(tensors, DType::F32, &device);
        let bert = BertModel::load(vb, &config).map_err(|e| {
            BundleError::new(
                ENCODER_FILE,
                format!("not the BERT encoder its config describes ({e})"),
            )
        })?;
        Ok(Self {
            bert,
            text,
            dim: config.hidden_size,
        })
    }

    /// Length of the vectors.
    pub fn dim(&self) -> usize {
        self.dim
    }

    pub fn text(&self) -> &TextEncoder {
        &self.text
    }

    /// The unit vector of `text`. Text the tokenizer rejects reads as the empty query; a
    /// query of no tokens at all (a tokenizer without special tokens) is the zero vector.
    pub fn embed(&self, text: &str) -> candle_core::Result<Vec<f32>> {
        let ids = self.ids(text);
        Ok(self.embed_equal_length(&[ids.as_slice()])?.remove(0))
    }

    /// [`Self::embed`] for many texts, in order, each batch holding texts of one token
    /// length: no padding, so each vector is the one `embed` gives (up to the rounding of
    /// batched matrix products).
    pub fn embed_all(&self, texts: &[impl AsRef<str>]) -> candle_core::Result<Vec<Vec<f32>>> {
        let ids: Vec<Vec<u32>> = texts.iter().map(|t| self.ids(t.as_ref())).collect();
        let mut order: Vec<usize> = (0..ids.len()).collect();
        order.sort_by_key(|&i| ids[i].len());
        let mut out = vec![Vec::new(); ids.len()];
        for same_length in order.chunk_by(|&a, &b| ids[a].len() == ids[b].len()) {
            for batch in same_length.chunks(BATCH) {
                let rows: Vec<&[u32]> = batch.iter().map(|&i| ids[i].as_slice()).collect();
                for (&i, vector) in batch.iter().zip(self.embed_equal_length(&rows)?) {
                    out[i] = vector;
                }
            }
        }
        Ok(out)
    }

    /// Token ids of `text`; the empty query's when the tokenizer yields none.
    fn ids(&self, text: &str) -> Vec<u32> {
        match self.text.encode(text) {
            ids if ids.is_empty() => self.text.encode(""),
            ids => ids,
        }
    }

    fn embed_equal_length(&self, rows: &[&[u32]]) -> candle_core::Result<Vec<Vec<f32>>> {
        let len = rows[0].len();
        if len == 0 {
            return Ok(vec![vec![0.0; self.dim]; rows.len()]);
        }
        let flat: Vec<u32> = rows.iter().flat_map(|r| r.iter().copied()).collect();
        let ids = Tensor::from_vec(flat, (rows.len(), len), &Device::Cpu)?;
        let states = self.bert.forward(&ids, &ids.zeros_like()?, None)?;
        let pooled = states.mean(1)?;
        let norm = pooled
            .sqr()?
            .sum_keepdim(1)?
            .sqrt()?
            .clamp(1e-12, f64::MAX)?;
        pooled.broadcast_div(&norm)?.to_vec2::<f32>()
    }
}
