//! A loaded bundle: tokenizer, token table and network checked against each other, and
//! `classify`, the whole pipeline from text to decision.

use serde::{Deserialize, Serialize};

use crate::bundle::{sha256_hex, TABLE_FILE, TOKENIZER_FILE};
use crate::decision::{decide, Classification};
use crate::forward::{ChannelEvidence, TextCnn};
use crate::table::TableMeta;
use crate::{BundleError, BundleFiles, BundleMeta, EmbeddingTable, ModelWeights, TextEncoder};

/// Per-call options of `classify`.
#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ClassifyOptions {
    /// How many ranked intents to return.
    pub top_k: usize,
    /// Overrides the bundle's energy threshold for this call.
    pub threshold: Option<f32>,
    /// Also explain the decision (see [`Classifier::evidence`]).
    pub evidence: bool,
}

impl Default for ClassifyOptions {
    fn default() -> Self {
        Self {
            top_k: 3,
            threshold: None,
            evidence: false,
        }
    }
}

/// One token of the query and how much it pushed the explained intent's logit.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenEvidence {
    pub token: String,
    /// UTF-16 offsets into the text (JavaScript string indices); equal for special tokens.
    pub start: usize,
    pub end: usize,
    pub contribution: f32,
}

/// Which tokens drove the decision toward `intent` (the top intent, known or not).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Evidence {
    pub intent: String,
    pub logit: f32,
    pub bias: f32,
    pub tokens: Vec<TokenEvidence>,
    /// Every pooled channel, with its winning window in token positions.
    pub channels: Vec<ChannelEvidence>,
}

pub struct Classifier {
    encoder: TextEncoder,
    table: EmbeddingTable,
    table_meta: TableMeta,
    network: TextCnn,
    meta: BundleMeta,
}

impl Classifier {
    /// Loads and cross-checks a bundle: hashes, table width, vocabulary size.
    pub fn load(files: BundleFiles<'_>) -> Result<Self, BundleError> {
        let (weights, meta) = ModelWeights::parse(files.model)?;
        let arch = &meta.architecture;
        let check_hash = |file: &str, bytes: &[u8], recorded: &str| {
            let actual = sha256_hex(bytes);
            if actual == recorded {
                Ok(())
            } else {
                Err(BundleError::new(
                    file,
                    format!(
                        "sha256 is {actual}, but model.safetensors records {recorded}: \
                         the file was changed or belongs to another model"
                    ),
                ))
            }
        };
        check_hash(TOKENIZER_FILE, files.tokenizer, &meta.tokenizer_sha256)?;
        check_hash(TABLE_FILE, files.table, &meta.table_sha256)?;
        let (table, table_meta) = EmbeddingTable::parse(files.table)?;
        if table.dim != arch.embed_dim {
            return Err(BundleError::new(
                TABLE_FILE,
                format!(
                    "rows have {} dims, the model expects {}",
                    table.dim, arch.embed_dim
                ),
            ));
        }
        let encoder = TextEncoder::from_bytes(files.tokenizer, arch.max_len)?;
        if encoder.vocab_size() != table.rows {
            return Err(BundleError::new(
                TOKENIZER_FILE,
                format!(
                    "vocabulary has {} tokens, but {TABLE_FILE} has {} rows",
                    encoder.vocab_size(),
                    table.rows
                ),
            ));
        }
        let network = TextCnn::new(arch, &weights);
        Ok(Self {
            encoder,
            table,
            table_meta,
            network,
            meta,
        })
    }

    pub fn meta(&self) -> &BundleMeta {
        &self.meta
    }

    pub fn table_meta(&self) -> &TableMeta {
        &self.table_meta
    }

    pub fn encoder(&self) -> &TextEncoder {
        &self.encoder
    }

    pub fn labels(&self) -> &[String] {
        &self.meta.labels
    }

    /// Logits of already-tokenized ids.
    pub fn logits_for_ids(&self, ids: &[u32]) -> Vec<f32> {
        let embedded = self.table.lookup(ids);
        self.network.logits(&embedded, ids.len())
    }

    pub fn logits(&self, text: &str) -> Vec<f32> {
        self.logits_for_ids(&self.encoder.encode(text))
    }

    /// The pooled features ([features], after ReLU) the linear head reads, for analysis.
    pub fn features(&self, text: &str) -> Vec<f32> {
        let ids = self.encoder.encode(text);
        self.network.features(&self.table.lookup(&ids), ids.len())
    }

    /// Explains the top logit of `text`: per channel its max-pool window and contribution,
    /// per token the sum of the shares of the windows covering it, with its offsets.
    pub fn evidence(&self, text: &str) -> Evidence {
        let text = match text.char_indices().nth(self.encoder.char_bound()) {
            Some((cut, _)) => &text[..cut],
            None => text,
        };
        let (ids, offsets) = match self.encoder.tokenizer().encode(text, true) {
            Ok(e) => (e.get_ids().to_vec(), e.get_offsets().to_vec()),
            Err(_) => (Vec::new(), Vec::new()),
        };
        let embedded = self.table.lookup(&ids);
        let explained = self.network.explain(&embedded, ids.len(), None);
        // Byte offsets → UTF-16 offsets, clamped onto char boundaries.
        let utf16 = |byte: usize| {
            let mut b = byte.min(text.len());
            while !text.is_char_boundary(b) {
                b -= 1;
            }
            text[..b].encode_utf16().count()
        };
        let tokens = ids
            .iter()
            .zip(&offsets)
            .zip(&explained.token_contributions)
            .map(|((&id, &(s, e)), &contribution)| TokenEvidence {
                token: self.encoder.tokenizer().id_to_token(id).unwrap_or_default(),
                start: utf16(s),
                end: utf16(e),
                contribution,
            })
            .collect();
        Evidence {
            intent: self.meta.labels[explained.label].clone(),
            logit: explained.logit,
            bias: explained.bias,
            tokens,
            channels: explained.channels,
        }
    }

    pub fn classify(&self, text: &str, options: &ClassifyOptions) -> Classification {
        let threshold = options
            .threshold
            .filter(|t| !t.is_nan())
            .unwrap_or(self.meta.threshold);
        decide(
            &self.logits(text),
            &self.meta.labels,
            threshold,
            options.top_k,
            self.meta.temperature,
        )
    }
}
