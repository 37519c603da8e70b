//! Tiny valid bundles generated in code, for tests and fuzz targets that must not depend on
//! a trained model (models/default is a build output).

use crate::bundle::{sha256_hex, BundleMeta, FORMAT_VERSION};
use crate::table::TableMeta;
use crate::{Architecture, Branch, EmbeddingTable, ModelMeta, ModelWeights, TextEncoder};

/// A word-level tokenizer with six entries: small enough to embed anywhere.
pub const TINY_TOKENIZER: &str = r#"{"version":"1.0","truncation":null,"padding":null,"added_tokens":[],
  "normalizer":{"type":"Lowercase"},"pre_tokenizer":{"type":"Whitespace"},"post_processor":null,
  "decoder":null,"model":{"type":"WordLevel","unk_token":"[UNK]",
  "vocab":{"[UNK]":0,"weather":1,"today":2,"timer":3,"five":4,"minutes":5}}}"#;

/// Two conv branches, 4-dim embeddings, `max_len` tokens.
pub fn tiny_architecture(max_len: usize) -> Architecture {
    Architecture {
        embed_dim: 4,
        channels: 8,
        branches: vec![
            Branch {
                kernel: 3,
                padding: 1,
            },
            Branch {
                kernel: 4,
                padding: 1,
            },
        ],
        max_len,
    }
}

/// Deterministic, non-trivial weights for [`tiny_architecture`].
pub fn tiny_weights(arch: &Architecture, labels: usize) -> ModelWeights {
    let fill = |n: usize, k: f32| (0..n).map(|i| (i as f32 * k).sin() * 0.3).collect();
    ModelWeights {
        branch_weights: arch
            .branches
            .iter()
            .map(|b| fill(arch.channels * arch.embed_dim * b.kernel, 0.7))
            .collect(),
        branch_biases: arch
            .branches
            .iter()
            .map(|_| fill(arch.channels, 1.3))
            .collect(),
        classifier_weight: fill(labels * arch.features(), 0.9),
        classifier_bias: fill(labels, 2.1),
    }
}

/// A table of `rows` deterministic 4-dim rows made for `tokenizer`.
pub fn tiny_table(rows: usize, tokenizer: &[u8]) -> Vec<u8> {
    let values: Vec<f32> = (0..rows * 4).map(|i| (i as f32 * 0.37).cos()).collect();
    EmbeddingTable::quantize(&values, 4).serialize(&TableMeta {
        source: "test".into(),
        dim: 4,
        source_dim: 4,
        explained_variance: 1.0,
        tokenizer_sha256: sha256_hex(tokenizer),
    })
}

/// Metadata of a two-label bundle with `arch` over these table and tokenizer bytes.
pub fn tiny_meta(arch: &Architecture, table: &[u8], tokenizer: &[u8]) -> BundleMeta {
    BundleMeta {
        format_version: FORMAT_VERSION,
        architecture: arch.clone(),
        table_sha256: sha256_hex(table),
        shared: tiny_model_meta(&["weather", "timer"], -1.5, tokenizer),
    }
}

/// The metadata every kind carries, for `labels` at `threshold` over these tokenizer bytes,
/// with no provenance, words or scripts.
pub fn tiny_model_meta(labels: &[&str], threshold: f32, tokenizer: &[u8]) -> ModelMeta {
    ModelMeta {
        labels: labels.iter().map(|l| l.to_string()).collect(),
        threshold,
        temperature: 1.0,
        tokenizer_sha256: sha256_hex(tokenizer),
        training: serde_json::Value::Null,
        metrics: serde_json::Value::Null,
        words: Vec::new(),
        scripts: Vec::new(),
    }
}

/// `(model, table)` bytes of a valid two-label bundle for `tokenizer` (any tokenizer.json).
pub fn tiny_bundle(tokenizer: &[u8], max_len: usize) -> (Vec<u8>, Vec<u8>) {
    let rows = TextEncoder::from_bytes(tokenizer, max_len)
        .map(|e| e.vocab_size())
        .unwrap_or(1);
    let table = tiny_table(rows, tokenizer);
    let arch = tiny_architecture(max_len);
    let meta = tiny_meta(&arch, &table, tokenizer);
    (tiny_weights(&arch, 2).serialize(&meta), table)
}
