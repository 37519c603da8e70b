//! The compact token table: one int8 row per vocabulary entry with one f32 scale per row
//! (`embeddings.q` I8 [vocab, dim], `embeddings.scale` F32 [vocab]), so a 30k-token
//! vocabulary at 128 dims is under 4 MB.

use std::collections::HashMap;

use safetensors::{Dtype, SafeTensors};
use serde::{Deserialize, Serialize};

use crate::bundle::{check_view, read_f32, serialize_tensors, TABLE_FILE};
use crate::BundleError;

pub const QUANTIZED: &str = "embeddings.q";
pub const SCALE: &str = "embeddings.scale";
pub const TABLE_FORMAT: &str = "int8-row-scaled";

/// What the table file says of itself.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TableMeta {
    /// Where the rows came from (model and tensor).
    pub source: String,
    pub dim: usize,
    pub source_dim: usize,
    /// Fraction of the source rows' variance the kept PCA components explain.
    pub explained_variance: f64,
    /// sha256 of the tokenizer.json whose ids index this table.
    pub tokenizer_sha256: String,
}

impl TableMeta {
    fn to_map(&self) -> HashMap<String, String> {
        HashMap::from([
            ("format".into(), TABLE_FORMAT.into()),
            ("source".into(), self.source.clone()),
            ("dim".into(), self.dim.to_string()),
            ("source_dim".into(), self.source_dim.to_string()),
            (
                "explained_variance".into(),
                self.explained_variance.to_string(),
            ),
            ("tokenizer_sha256".into(), self.tokenizer_sha256.clone()),
        ])
    }

    fn from_map(map: &HashMap<String, String>) -> Result<Self, BundleError> {
        let get = |key: &str| {
            map.get(key).ok_or_else(|| {
                BundleError::new(TABLE_FILE, format!("metadata key `{key}` is missing"))
            })
        };
        let number = |key: &str| -> Result<f64, BundleError> {
            get(key)?.parse().map_err(|_| {
                BundleError::new(TABLE_FILE, format!("metadata `{key}` is not a number"))
            })
        };
        if get("format")? != TABLE_FORMAT {
            return Err(BundleError::new(
                TABLE_FILE,
                format!("metadata `format` is not `{TABLE_FORMAT}`"),
            ));
        }
        Ok(Self {
            source: get("source")?.clone(),
            dim: number("dim")? as usize,
            source_dim: number("source_dim")? as usize,
            explained_variance: number("explained_variance")?,
            tokenizer_sha256: get("tokenizer_sha256")?.clone(),
        })
    }
}

/// Row-quantized token embeddings.
#[derive(Clone, Debug, PartialEq)]
pub struct EmbeddingTable {
    pub rows: usize,
    pub dim: usize,
    /// [rows, dim]; row r is `quantized[r] * scale[r]`.
    pub quantized: Vec<i8>,
    pub scale: Vec<f32>,
}

impl EmbeddingTable {
    /// Symmetric int8 quantization with one scale per row (max |x| maps to 127).
    pub fn quantize(values: &[f32], dim: usize) -> Self {
        let rows = values.len() / dim;
        let mut quantized = Vec::with_capacity(rows * dim);
        let mut scale = Vec::with_capacity(rows);
        for row in values.chunks_exact(dim) {
            let max = row.iter().fold(0f32, |m, v| m.max(v.abs()));
            let s = if max > 0.0 { max / 127.0 } else { 1.0 };
            scale.push(s);
            quantized.extend(
                row.iter()
                    .map(|v| (v / s).round().clamp(-127.0, 127.0) as i8),
            );
        }
        Self {
            rows,
            dim,
            quantized,
            scale,
        }
    }

    /// Writes the f32 row of token `id` into `out` (zeros for an id outside the table).
    pub fn row_into(&self, id: u32, out: &mut [f32]) {
        let id = id as usize;
        if id >= self.rows {
            out.fill(0.0);
            return;
        }
        let s = self.scale[id];
        let q = &self.quantized[id * self.dim..(id + 1) * self.dim];
        for (o, &v) in out.iter_mut().zip(q) {
            *o = v as f32 * s;
        }
    }

    /// Rows of `ids`, concatenated ([ids.len(), dim]).
    pub fn lookup(&self, ids: &[u32]) -> Vec<f32> {
        let mut out = vec![0f32; ids.len() * self.dim];
        for (chunk, &id) in out.chunks_exact_mut(self.dim).zip(ids) {
            self.row_into(id, chunk);
        }
        out
    }

    /// All rows dequantized ([rows, dim]), for training.
    pub fn dequantize(&self) -> Vec<f32> {
        let mut out = vec![0f32; self.rows * self.dim];
        for (r, chunk) in out.chunks_exact_mut(self.dim).enumerate() {
            self.row_into(r as u32, chunk);
        }
        out
    }

    pub fn serialize(&self, meta: &TableMeta) -> Vec<u8> {
        serialize_tensors(
            vec![
                (
                    QUANTIZED.into(),
                    Dtype::I8,
                    vec![self.rows, self.dim],
                    self.quantized.iter().map(|&v| v as u8).collect(),
                ),
                (
                    SCALE.into(),
                    Dtype::F32,
                    vec![self.rows],
                    crate::bundle::f32_bytes(&self.scale),
                ),
            ],
            meta.to_map(),
        )
    }

    /// Parses and checks `table.safetensors` bytes.
    pub fn parse(bytes: &[u8]) -> Result<(Self, TableMeta), BundleError> {
        let err = |p: String| BundleError::new(TABLE_FILE, p);
        let (_, header) = SafeTensors::read_metadata(bytes)
            .map_err(|e| err(format!("not a safetensors file ({e})")))?;
        let meta = TableMeta::from_map(
            header
                .metadata()
                .as_ref()
                .ok_or_else(|| err("no metadata".into()))?,
        )?;
        let st = SafeTensors::deserialize(bytes)
            .map_err(|e| err(format!("not a safetensors file ({e})")))?;
        let q = st
            .tensor(QUANTIZED)
            .map_err(|_| err(format!("tensor `{QUANTIZED}` is missing")))?;
        let shape = q.shape().to_vec();
        if shape.len() != 2 || shape[1] != meta.dim || shape[0] == 0 {
            return Err(err(format!(
                "tensor `{QUANTIZED}` has shape {shape:?}, expected [rows, {}]",
                meta.dim
            )));
        }
        check_view(&q, TABLE_FILE, QUANTIZED, Dtype::I8, &shape)?;
        let rows = shape[0];
        let scale = read_f32(&st, TABLE_FILE, SCALE, &[rows])?;
        Ok((
            Self {
                rows,
                dim: meta.dim,
                quantized: q.data().iter().map(|&b| b as i8).collect(),
                scale,
            },
            meta,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantization_round_trip_is_within_half_a_step() {
        let values: Vec<f32> = (0..64 * 8)
            .map(|i| ((i * 37 % 101) as f32 - 50.0) / 7.0)
            .collect();
        let table = EmbeddingTable::quantize(&values, 8);
        let back = table.dequantize();
        for (r, (row, brow)) in values.chunks(8).zip(back.chunks(8)).enumerate() {
            let step = table.scale[r];
            for (a, b) in row.iter().zip(brow) {
                assert!((a - b).abs() <= step / 2.0 + 1e-6, "row {r}: {a} vs {b}");
            }
        }
    }

    #[test]
    fn serialize_parse_round_trip() {
        let table = EmbeddingTable::quantize(&[0.5, -1.0, 0.25, 0.0, 0.0, 0.0], 3);
        let meta = TableMeta {
            source: "test".into(),
            dim: 3,
            source_dim: 3,
            explained_variance: 1.0,
            tokenizer_sha256: "ab".into(),
        };
        let (back, back_meta) = EmbeddingTable::parse(&table.serialize(&meta)).unwrap();
        assert_eq!(back, table);
        assert_eq!(back_meta, meta);
        assert_eq!(back.lookup(&[1, 7]), vec![0.0; 6]);
    }
}
