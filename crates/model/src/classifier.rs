//! A loaded bundle: tokenizer, token table and network checked against each other, and
//! `classify`, the whole pipeline from text to decision.

use serde::{Deserialize, Serialize};

use crate::bundle::{check_hash, TABLE_FILE, TOKENIZER_FILE};
use crate::decision::Classification;
use crate::familiar;
use crate::forward::{ChannelEvidence, TextCnn};
use crate::kind::{InferenceError, IntentModel, Reading};
use crate::meta::ModelMeta;
use crate::spelling::{ReadQuery, Speller};
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

impl ClassifyOptions {
    /// The options as a page passes them, JSON of `{ topK?, threshold?, evidence? }`;
    /// `None`: the defaults.
    pub fn from_json(json: Option<&str>) -> Result<Self, String> {
        let Some(json) = json else {
            return Ok(Self::default());
        };
        serde_json::from_str(json).map_err(|e| {
            format!(
                "classify options: {e} (expected {{ topK?: number, threshold?: number, evidence?: boolean }})"
            )
        })
    }
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
    speller: Speller,
}

impl Classifier {
    /// Loads and cross-checks a bundle: hashes, table width, vocabulary size.
    pub fn load(files: BundleFiles<'_>) -> Result<Self, BundleError> {
        let (weights, meta) = ModelWeights::parse(files.model)?;
        let arch = &meta.architecture;
        check_hash(
            TOKENIZER_FILE,
            files.tokenizer,
            &meta.shared.tokenizer_sha256,
        )?;
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
            speller: Speller::new(&meta.shared.words),
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
        &self.meta.shared.labels
    }

    /// Logits of already-tokenized ids.
    pub fn logits_for_ids(&self, ids: &[u32]) -> Vec<f32> {
        let embedded = self.table.lookup(ids);
        self.network.logits(&embedded, ids.len())
    }

    /// `text` as the model reads it ([`ReadQuery`]: cut, typos repaired).
    fn read<'a>(&self, text: &'a str) -> ReadQuery<'a> {
        ReadQuery::new(&self.encoder, &self.speller, text)
    }

    /// Token ids the model reads for `text` (typos repaired, special tokens included).
    pub fn encode(&self, text: &str) -> Vec<u32> {
        self.encoder.encode(self.read(text).text())
    }

    pub fn logits(&self, text: &str) -> Vec<f32> {
        self.logits_for_ids(&self.encode(text))
    }

    /// The pooled features ([features], after ReLU) the linear head reads, for analysis.
    pub fn features(&self, text: &str) -> Vec<f32> {
        let ids = self.encode(text);
        self.network.features(&self.table.lookup(&ids), ids.len())
    }

    /// Explains the top logit of `text`: per channel its max-pool window and contribution,
    /// per token the sum of the shares of the windows covering it, with its offsets into
    /// `text` as typed (a repaired word's tokens point at the word as typed).
    pub fn evidence(&self, text: &str) -> Evidence {
        let read = self.read(text);
        let (ids, offsets) = match self.encoder.tokenizer().encode(read.text(), true) {
            Ok(e) => (e.get_ids().to_vec(), e.get_offsets().to_vec()),
            Err(_) => (Vec::new(), Vec::new()),
        };
        let typed = |offset: usize, is_end: bool| match &read.repaired {
            Some(r) => r.typed_offset(offset, is_end),
            None => offset,
        };
        let embedded = self.table.lookup(&ids);
        let explained = self.network.explain(&embedded, ids.len(), None);
        // Byte offsets → UTF-16 offsets, clamped onto char boundaries.
        let typed_text = read.bounded;
        let utf16 = |byte: usize| {
            let mut b = byte.min(typed_text.len());
            while !typed_text.is_char_boundary(b) {
                b -= 1;
            }
            typed_text[..b].encode_utf16().count()
        };
        let tokens = ids
            .iter()
            .zip(&offsets)
            .zip(&explained.token_contributions)
            .map(|((&id, &(s, e)), &contribution)| TokenEvidence {
                token: self.encoder.tokenizer().id_to_token(id).unwrap_or_default(),
                start: utf16(typed(s, false)),
                end: utf16(typed(e, true)),
                contribution,
            })
            .collect();
        Evidence {
            intent: self.meta.shared.labels[explained.label].clone(),
            logit: explained.logit,
            bias: explained.bias,
            tokens,
            channels: explained.channels,
        }
    }

    /// The query read: logits of the repaired text, unknown share, unfamiliar verdict.
    fn reading(&self, text: &str) -> Reading {
        let read = self.read(text);
        let (ids, unknown_share) = self.encoder.encode_with_unknown_share(read.text());
        Reading {
            logits: self.logits_for_ids(&ids),
            unknown_share,
            unfamiliar: familiar::is_unfamiliar(
                read.bounded,
                &self.meta.shared.scripts,
                &self.speller,
                |w| self.encoder.spells_whole(w),
            ),
            repaired: read.repaired.map(|r| r.text),
        }
    }

    /// [`IntentModel::classify`], which cannot fail for this kind.
    pub fn classify(&self, text: &str, options: &ClassifyOptions) -> Classification {
        self.decide(self.reading(text), options)
    }
}

impl IntentModel for Classifier {
    fn kind(&self) -> &'static str {
        crate::bundle::MODEL_FORMAT
    }

    fn model_meta(&self) -> &ModelMeta {
        &self.meta.shared
    }

    fn text_encoder(&self) -> &TextEncoder {
        &self.encoder
    }

    fn logits(&self, text: &str) -> Result<Vec<f32>, InferenceError> {
        Ok(Classifier::logits(self, text))
    }

    fn token_ids(&self, text: &str) -> Vec<u32> {
        self.encode(text)
    }

    fn read(&self, text: &str) -> Result<Reading, InferenceError> {
        Ok(self.reading(text))
    }

    fn explains(&self) -> bool {
        true
    }

    fn evidence(&self, text: &str) -> Option<Evidence> {
        Some(Classifier::evidence(self, text))
    }

    fn features(&self, text: &str) -> Option<Vec<f32>> {
        Some(Classifier::features(self, text))
    }
}
