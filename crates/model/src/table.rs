//! The compact token table, product-quantized: each row is cut into sub-vectors of
//! `sub_dim` values, and each sub-vector is stored as one byte, the index of its nearest
//! centroid in that sub-space's codebook (`embeddings.codes` U8 [vocab, subspaces],
//! `embeddings.codebooks` F16 [subspaces, centroids, sub_dim]). At [`build::SUB_DIM`] = 4 a
//! 30k-token vocabulary at 128 dims is 0.98 MB of codes and 64 KB of codebooks, a quarter of
//! int8 rows. Tables whose rows must stay finer use 2 values per byte (the bilingual table:
//! many CJK characters a byte per 4 dims cannot tell apart). Rows are decoded inside the
//! lookup, so the browser never holds the f32 table. The int8 rows of earlier releases
//! (`embeddings.q` I8 [vocab, dim], `embeddings.scale` F32 [vocab], format `int8-row-scaled`)
//! are still read. This file is the format and the lookup; [`build`] makes a table.

use std::collections::HashMap;

use safetensors::{Dtype, SafeTensors};
use serde::{Deserialize, Serialize};

use crate::bundle::TABLE_FILE;
use crate::safetensors_file::{check_view, open, read_f32, serialize_tensors};
use crate::tensor_codec::{decode_f16, f16_bytes, f32_bytes, i8_bytes, i8_values};
use crate::BundleError;

pub mod build;

pub const CODES: &str = "embeddings.codes";
pub const CODEBOOKS: &str = "embeddings.codebooks";
/// Value of the table file's `format` metadata key.
pub const TABLE_FORMAT: &str = "product-quantized";
/// Value of the `format` key of an int8-row table.
pub const INT8_FORMAT: &str = "int8-row-scaled";
pub const INT8_ROWS: &str = "embeddings.q";
pub const INT8_SCALES: &str = "embeddings.scale";

/// Centroids per codebook: every code is one byte.
pub const MAX_CENTROIDS: usize = 256;

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
    fn to_map(&self, format: &str) -> HashMap<String, String> {
        HashMap::from([
            ("format".into(), format.into()),
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
        match get("format")?.as_str() {
            TABLE_FORMAT | INT8_FORMAT => {}
            other => {
                return Err(BundleError::new(
                    TABLE_FILE,
                    format!(
                        "metadata `format` is `{other}`, expected `{TABLE_FORMAT}` or \
                         `{INT8_FORMAT}`"
                    ),
                ))
            }
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

/// Token embeddings, [rows, dim], in one of the two stored forms.
#[derive(Clone, Debug, PartialEq)]
pub struct EmbeddingTable {
    pub rows: usize,
    pub dim: usize,
    pub storage: Storage,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Storage {
    ProductQuantized {
        /// Values per sub-vector; `dim / sub_dim` sub-spaces.
        sub_dim: usize,
        /// Centroids in each sub-space's codebook (at most [`MAX_CENTROIDS`]).
        centroids: usize,
        /// [rows, subspaces]: the centroid of each sub-vector of each row.
        codes: Vec<u8>,
        /// [subspaces, centroids, sub_dim], already rounded to f16 as stored.
        codebooks: Vec<f32>,
    },
    /// Row r is `quantized[r] * scale[r]` (max |x| of the row maps to 127).
    Int8Rows { quantized: Vec<i8>, scale: Vec<f32> },
}

impl EmbeddingTable {
    /// Writes the f32 row of token `id` into `out` (zeros for an id outside the table).
    pub fn row_into(&self, id: u32, out: &mut [f32]) {
        let id = id as usize;
        if id >= self.rows {
            out.fill(0.0);
            return;
        }
        match &self.storage {
            Storage::ProductQuantized {
                sub_dim,
                centroids,
                codes,
                codebooks,
            } => {
                let subspaces = self.dim / sub_dim;
                let codes = &codes[id * subspaces..(id + 1) * subspaces];
                let book_len = centroids * sub_dim;
                for (s, (chunk, &code)) in out.chunks_exact_mut(*sub_dim).zip(codes).enumerate() {
                    let start = s * book_len + code as usize * sub_dim;
                    chunk.copy_from_slice(&codebooks[start..start + sub_dim]);
                }
            }
            Storage::Int8Rows { quantized, scale } => {
                let s = scale[id];
                let q = &quantized[id * self.dim..(id + 1) * self.dim];
                for (o, &v) in out.iter_mut().zip(q) {
                    *o = v as f32 * s;
                }
            }
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

    /// All rows decoded ([rows, dim]), for training.
    pub fn dequantize(&self) -> Vec<f32> {
        let mut out = vec![0f32; self.rows * self.dim];
        for (r, chunk) in out.chunks_exact_mut(self.dim).enumerate() {
            self.row_into(r as u32, chunk);
        }
        out
    }

    pub fn serialize(&self, meta: &TableMeta) -> Vec<u8> {
        match &self.storage {
            Storage::ProductQuantized {
                sub_dim,
                centroids,
                codes,
                codebooks,
            } => serialize_tensors(
                vec![
                    (
                        CODES.into(),
                        Dtype::U8,
                        vec![self.rows, self.dim / sub_dim],
                        codes.clone(),
                    ),
                    (
                        CODEBOOKS.into(),
                        Dtype::F16,
                        vec![self.dim / sub_dim, *centroids, *sub_dim],
                        f16_bytes(codebooks),
                    ),
                ],
                meta.to_map(TABLE_FORMAT),
            ),
            Storage::Int8Rows { quantized, scale } => serialize_tensors(
                vec![
                    (
                        INT8_ROWS.into(),
                        Dtype::I8,
                        vec![self.rows, self.dim],
                        i8_bytes(quantized),
                    ),
                    (
                        INT8_SCALES.into(),
                        Dtype::F32,
                        vec![self.rows],
                        f32_bytes(scale),
                    ),
                ],
                meta.to_map(INT8_FORMAT),
            ),
        }
    }

    /// Parses an int8-row table's tensors.
    fn parse_int8(st: &SafeTensors<'_>, meta: &TableMeta) -> Result<Self, BundleError> {
        let err = |p: String| BundleError::new(TABLE_FILE, p);
        let q = st
            .tensor(INT8_ROWS)
            .map_err(|_| err(format!("tensor `{INT8_ROWS}` is missing")))?;
        let shape = q.shape().to_vec();
        if shape.len() != 2 || shape[1] != meta.dim || shape[0] == 0 {
            return Err(err(format!(
                "tensor `{INT8_ROWS}` has shape {shape:?}, expected [rows, {}]",
                meta.dim
            )));
        }
        check_view(&q, TABLE_FILE, INT8_ROWS, Dtype::I8, &shape)?;
        let scale = read_f32(st, TABLE_FILE, INT8_SCALES, &[shape[0]])?;
        Ok(Self {
            rows: shape[0],
            dim: meta.dim,
            storage: Storage::Int8Rows {
                quantized: i8_values(q.data()),
                scale,
            },
        })
    }

    /// Parses and checks `table.safetensors` bytes.
    pub fn parse(bytes: &[u8]) -> Result<(Self, TableMeta), BundleError> {
        let err = |p: String| BundleError::new(TABLE_FILE, p);
        let (map, st) = open(bytes, TABLE_FILE)?;
        let map = map.ok_or_else(|| err("no metadata".into()))?;
        let meta = TableMeta::from_map(&map)?;
        if map.get("format").map(String::as_str) == Some(INT8_FORMAT) {
            return Ok((Self::parse_int8(&st, &meta)?, meta));
        }
        let books = st
            .tensor(CODEBOOKS)
            .map_err(|_| err(format!("tensor `{CODEBOOKS}` is missing")))?;
        let book_shape = books.shape().to_vec();
        let plausible = book_shape.len() == 3
            && book_shape[0] > 0
            && (1..=MAX_CENTROIDS).contains(&book_shape[1])
            && book_shape[2] > 0
            && book_shape[0] * book_shape[2] == meta.dim;
        if !plausible {
            return Err(err(format!(
                "tensor `{CODEBOOKS}` has shape {book_shape:?}, expected [subspaces, centroids \
                 <= {MAX_CENTROIDS}, sub_dim] with subspaces x sub_dim = dim {}",
                meta.dim
            )));
        }
        let (subspaces, centroids, sub_dim) = (book_shape[0], book_shape[1], book_shape[2]);
        check_view(&books, TABLE_FILE, CODEBOOKS, Dtype::F16, &book_shape)?;
        let codebooks = decode_f16(books.data());
        if let Some(pos) = codebooks.iter().position(|v| !v.is_finite()) {
            return Err(err(format!(
                "tensor `{CODEBOOKS}` holds a non-finite value ({}) at index {pos}",
                codebooks[pos]
            )));
        }
        let codes = st
            .tensor(CODES)
            .map_err(|_| err(format!("tensor `{CODES}` is missing")))?;
        let shape = codes.shape().to_vec();
        if shape.len() != 2 || shape[1] != subspaces || shape[0] == 0 {
            return Err(err(format!(
                "tensor `{CODES}` has shape {shape:?}, expected [rows, {subspaces}]"
            )));
        }
        check_view(&codes, TABLE_FILE, CODES, Dtype::U8, &shape)?;
        let codes = codes.data().to_vec();
        if let Some(pos) = codes.iter().position(|&c| c as usize >= centroids) {
            return Err(err(format!(
                "tensor `{CODES}` names centroid {} at index {pos}, but the codebooks hold \
                 {centroids}",
                codes[pos]
            )));
        }
        Ok((
            Self {
                rows: shape[0],
                dim: meta.dim,
                storage: Storage::ProductQuantized {
                    sub_dim,
                    centroids,
                    codes,
                    codebooks,
                },
            },
            meta,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn meta(dim: usize) -> TableMeta {
        TableMeta {
            source: "test".into(),
            dim,
            source_dim: dim,
            explained_variance: 1.0,
            tokenizer_sha256: "ab".into(),
        }
    }

    #[test]
    fn serialize_parse_round_trip() {
        let table = EmbeddingTable::quantize(&[0.5, -1.0, 0.25, 0.0, 0.0, 0.0], 3);
        let (back, back_meta) = EmbeddingTable::parse(&table.serialize(&meta(3))).unwrap();
        assert_eq!(back, table);
        assert_eq!(back_meta, meta(3));
        assert_eq!(back.lookup(&[1, 7]), vec![0.0; 6]);
    }

    #[test]
    fn int8_rows_round_trip_within_half_a_step() {
        let values: Vec<f32> = (0..64 * 8)
            .map(|i| ((i * 37 % 101) as f32 - 50.0) / 7.0)
            .collect();
        let table = EmbeddingTable::quantize_int8(&values, 8);
        let (back, _) = EmbeddingTable::parse(&table.serialize(&meta(8))).unwrap();
        assert_eq!(back, table);
        let Storage::Int8Rows { scale, .. } = &table.storage else {
            panic!("int8")
        };
        for (r, (row, brow)) in values
            .chunks(8)
            .zip(back.dequantize().chunks(8))
            .enumerate()
        {
            for (a, b) in row.iter().zip(brow) {
                assert!(
                    (a - b).abs() <= scale[r] / 2.0 + 1e-6,
                    "row {r}: {a} vs {b}"
                );
            }
        }
    }

    #[test]
    fn codes_beyond_the_codebook_are_refused() {
        let mut table = EmbeddingTable::quantize(&[0.5, -1.0, 0.25, 0.0, 1.0, 2.0], 3);
        let Storage::ProductQuantized { codes, .. } = &mut table.storage else {
            panic!("pq")
        };
        codes[1] = 9;
        let e = EmbeddingTable::parse(&table.serialize(&meta(3)))
            .unwrap_err()
            .to_string();
        assert!(e.contains("centroid 9"), "{e}");
    }
}
