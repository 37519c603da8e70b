//! The token table and tokenizer a model is trained on.

use anyhow::{bail, Result};
use model::bundle::sha256_hex;
use model::{EmbeddingTable, TextEncoder};

/// The token table and tokenizer a model is trained on.
pub struct Embeddings {
    pub encoder: TextEncoder,
    pub table: EmbeddingTable,
    /// The table's own description (its source names the model and license).
    pub table_meta: model::table::TableMeta,
    pub table_bytes: Vec<u8>,
    pub tokenizer_bytes: Vec<u8>,
}

impl Embeddings {
    /// The table and tokenizer files' bytes, checked to belong together; `source` names
    /// them in errors.
    pub fn from_bytes(
        table_bytes: Vec<u8>,
        tokenizer_bytes: Vec<u8>,
        max_len: usize,
        source: &str,
    ) -> Result<Self> {
        let (table, table_meta) =
            EmbeddingTable::parse(&table_bytes).map_err(|e| anyhow::anyhow!("{source}: {e}"))?;
        let encoder = TextEncoder::from_bytes(&tokenizer_bytes, max_len)
            .map_err(|e| anyhow::anyhow!("{source}: {e}"))?;
        if encoder.vocab_size() != table.rows {
            bail!(
                "{source}: tokenizer.json has {} tokens but table.safetensors has {} rows",
                encoder.vocab_size(),
                table.rows
            );
        }
        if table_meta.tokenizer_sha256 != sha256_hex(&tokenizer_bytes) {
            bail!("{source}: tokenizer.json is not the one table.safetensors was built for (sha256 differs)");
        }
        Ok(Self {
            encoder,
            table,
            table_meta,
            table_bytes,
            tokenizer_bytes,
        })
    }
}

/// Per-dimension mean and standard deviation of the table's rows.
pub(super) fn table_moments(table: &EmbeddingTable) -> (Vec<f32>, Vec<f32>) {
    let rows = table.dequantize();
    let d = table.dim;
    let n = table.rows as f64;
    let mut mean = vec![0f64; d];
    let mut sq = vec![0f64; d];
    for row in rows.chunks_exact(d) {
        for j in 0..d {
            mean[j] += row[j] as f64;
            sq[j] += (row[j] as f64).powi(2);
        }
    }
    let mean: Vec<f64> = mean.iter().map(|m| m / n).collect();
    let std = sq
        .iter()
        .zip(&mean)
        .map(|(s, m)| ((s / n - m * m).max(0.0)).sqrt() as f32)
        .collect();
    (mean.iter().map(|&m| m as f32).collect(), std)
}
