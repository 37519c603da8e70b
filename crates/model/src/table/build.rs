//! Building a token table from f32 rows: product quantization (a k-means codebook per
//! sub-space) or int8 rows. `trainer table` and the test fixtures call these; reading a table
//! needs none of it.

use super::{EmbeddingTable, Storage, MAX_CENTROIDS};
use crate::math::argmax;
use crate::tensor_codec::{quantize_rows, round_f16};

/// Values per sub-vector: 4 keeps the mean cosine between a PCA row and its decoded row
/// near 0.95 at one byte per 4 values (8 values per byte measured 0.84).
pub const SUB_DIM: usize = 4;
/// Lloyd iterations of the k-means that builds each codebook.
const KMEANS_ITERATIONS: usize = 25;

impl EmbeddingTable {
    /// Symmetric int8 with one scale per row: 4x the bytes of [`Self::quantize`], near-exact rows.
    pub fn quantize_int8(values: &[f32], dim: usize) -> Self {
        let rows = values.len() / dim;
        let (quantized, scale) = quantize_rows(values, dim);
        Self {
            rows,
            dim,
            storage: Storage::Int8Rows { quantized, scale },
        }
    }

    /// Product quantization of `values` ([rows, dim]) with [`SUB_DIM`] values per byte.
    pub fn quantize(values: &[f32], dim: usize) -> Self {
        Self::quantize_with(values, dim, SUB_DIM)
    }

    /// Product quantization of `values` ([rows, dim]), `sub_dim` values per byte: per
    /// sub-space, k-means (Lloyd, deterministic start) over the rows' sub-vectors. When `dim`
    /// is not a multiple of `sub_dim`, one sub-space spans the row.
    pub fn quantize_with(values: &[f32], dim: usize, sub_dim: usize) -> Self {
        let rows = values.len() / dim;
        let sub_dim = if sub_dim > 0 && dim.is_multiple_of(sub_dim) {
            sub_dim
        } else {
            dim
        };
        let subspaces = dim / sub_dim;
        let centroids = rows.clamp(1, MAX_CENTROIDS);
        let mut codes = vec![0u8; rows * subspaces];
        let mut codebooks = Vec::with_capacity(subspaces * centroids * sub_dim);
        let mut points = vec![0f32; rows * sub_dim];
        for s in 0..subspaces {
            for (r, point) in points.chunks_exact_mut(sub_dim).enumerate() {
                point.copy_from_slice(&values[r * dim + s * sub_dim..][..sub_dim]);
            }
            let book = kmeans(&points, sub_dim, centroids);
            // Round the centroids as the file stores them, then assign against those.
            let book: Vec<f32> = book.iter().map(|&v| round_f16(v)).collect();
            for (r, point) in points.chunks_exact(sub_dim).enumerate() {
                codes[r * subspaces + s] = nearest(&book, sub_dim, point).0 as u8;
            }
            codebooks.extend(book);
        }
        Self {
            rows,
            dim,
            storage: Storage::ProductQuantized {
                sub_dim,
                centroids,
                codes,
                codebooks,
            },
        }
    }
}

/// Index and squared distance of the centroid in `book` ([k, d]) nearest to `point`.
fn nearest(book: &[f32], d: usize, point: &[f32]) -> (usize, f32) {
    let mut best = (0, f32::INFINITY);
    for (c, centroid) in book.chunks_exact(d).enumerate() {
        let dist: f32 = centroid
            .iter()
            .zip(point)
            .map(|(a, b)| (a - b) * (a - b))
            .sum();
        if dist < best.1 {
            best = (c, dist);
        }
    }
    best
}

/// Lloyd's k-means over `points` ([n, d]) with `k` <= n centroids, started from `k` points
/// spread evenly over the input order, so the same rows always give the same codebook. An
/// emptied cluster restarts at the point farthest from its centroid.
fn kmeans(points: &[f32], d: usize, k: usize) -> Vec<f32> {
    let n = points.len() / d;
    let mut book: Vec<f32> = (0..k)
        .flat_map(|c| points[c * n / k * d..][..d].iter().copied())
        .collect();
    let mut assignment = vec![0usize; n];
    let mut distance = vec![0f32; n];
    for _ in 0..KMEANS_ITERATIONS {
        for (i, point) in points.chunks_exact(d).enumerate() {
            (assignment[i], distance[i]) = nearest(&book, d, point);
        }
        let mut sums = vec![0f64; k * d];
        let mut counts = vec![0usize; k];
        for (i, point) in points.chunks_exact(d).enumerate() {
            counts[assignment[i]] += 1;
            for (s, &v) in sums[assignment[i] * d..][..d].iter_mut().zip(point) {
                *s += v as f64;
            }
        }
        for c in 0..k {
            if counts[c] == 0 {
                let far = argmax(&distance).unwrap_or(0);
                book[c * d..][..d].copy_from_slice(&points[far * d..][..d]);
                distance[far] = 0.0;
            } else {
                for j in 0..d {
                    book[c * d + j] = (sums[c * d + j] / counts[c] as f64) as f32;
                }
            }
        }
    }
    book
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::tests::meta;

    #[test]
    fn few_rows_are_stored_exactly_up_to_f16() {
        // Fewer rows than centroids: every row gets its own centroid.
        let values: Vec<f32> = (0..20 * 8)
            .map(|i| ((i * 37 % 101) as f32 - 50.0) / 7.0)
            .collect();
        let table = EmbeddingTable::quantize(&values, 8);
        assert!(matches!(
            table.storage,
            Storage::ProductQuantized {
                sub_dim: 4,
                centroids: 20,
                ..
            }
        ));
        for (a, b) in values.iter().zip(table.dequantize()) {
            assert!((a - b).abs() <= a.abs() / 1024.0 + 1e-6, "{a} vs {b}");
        }
    }

    #[test]
    fn many_rows_share_centroids_and_stay_close() {
        let values: Vec<f32> = (0..2000 * 8).map(|i| ((i as f32) * 0.731).sin()).collect();
        let table = EmbeddingTable::quantize(&values, 8);
        let Storage::ProductQuantized {
            centroids, codes, ..
        } = &table.storage
        else {
            panic!("product-quantized")
        };
        assert_eq!(*centroids, MAX_CENTROIDS);
        assert_eq!(codes.len(), 2000 * 2);
        let back = table.dequantize();
        let mse: f32 = values
            .iter()
            .zip(&back)
            .map(|(a, b)| (a - b) * (a - b))
            .sum::<f32>()
            / values.len() as f32;
        let var: f32 = values.iter().map(|v| v * v).sum::<f32>() / values.len() as f32;
        assert!(mse < 0.1 * var, "mse {mse} vs variance {var}");
    }

    #[test]
    fn two_values_per_byte_halve_the_error_and_round_trip() {
        // Pseudo-random values (xorshift32): every sub-space is filled, as in PCA rows.
        let mut state = 0x9E37_79B9u32;
        let values: Vec<f32> = (0..2000 * 8)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                (state >> 8) as f32 / (1 << 24) as f32 - 0.5
            })
            .collect();
        let mse = |t: &EmbeddingTable| {
            let back = t.dequantize();
            values
                .iter()
                .zip(&back)
                .map(|(a, b)| (a - b) * (a - b))
                .sum::<f32>()
        };
        let (four, two) = (
            EmbeddingTable::quantize(&values, 8),
            EmbeddingTable::quantize_with(&values, 8, 2),
        );
        let Storage::ProductQuantized { sub_dim, codes, .. } = &two.storage else {
            panic!("product-quantized")
        };
        assert_eq!((*sub_dim, codes.len()), (2, 2000 * 4));
        assert!(
            mse(&two) < 0.5 * mse(&four),
            "{} vs {}",
            mse(&two),
            mse(&four)
        );
        let (back, _) = EmbeddingTable::parse(&two.serialize(&meta(8))).unwrap();
        assert_eq!(back, two);
        // A sub-vector width that does not divide the row spans the whole row.
        let odd = EmbeddingTable::quantize_with(&values[..30 * 8], 8, 3);
        assert!(matches!(
            odd.storage,
            Storage::ProductQuantized { sub_dim: 8, .. }
        ));
    }
}
