//! Fine-tuning the token table (`--table-lr`): the rows of the tokens a step reads move by
//! their gradient, with Adam applied lazily (only rows a step touches are updated, their
//! moments decaying on the steps that touch them). Training reads the f32 rows; the bundle
//! gets the tuned rows re-encoded in the table's own format, against its own codebooks, so
//! the rows no step touched stay byte for byte what they were.

use std::collections::BTreeMap;

use model::EmbeddingTable;

const BETA1: f32 = 0.9;
const BETA2: f32 = 0.999;
const EPS: f32 = 1e-8;

pub struct TunedTable {
    dim: usize,
    lr: f32,
    /// [rows, dim], decoded once from the shipped table.
    rows: Vec<f32>,
    first_moments: Vec<f32>,
    second_moments: Vec<f32>,
    steps: usize,
    touched: Vec<bool>,
}

impl TunedTable {
    pub fn new(table: &EmbeddingTable, lr: f64) -> Self {
        let rows = table.dequantize();
        Self {
            dim: table.dim,
            lr: lr as f32,
            first_moments: vec![0.0; rows.len()],
            second_moments: vec![0.0; rows.len()],
            touched: vec![false; table.rows],
            rows,
            steps: 0,
        }
    }

    /// Rows of `ids`, concatenated ([ids.len(), dim]); zeros for an id outside the table.
    pub fn lookup(&self, ids: &[u32]) -> Vec<f32> {
        let d = self.dim;
        let mut out = vec![0f32; ids.len() * d];
        for (chunk, &id) in out.chunks_exact_mut(d).zip(ids) {
            if let Some(row) = self.rows.get(id as usize * d..(id as usize + 1) * d) {
                chunk.copy_from_slice(row);
            }
        }
        out
    }

    /// One Adam step over the rows in `grads` (token id → summed gradient of its row).
    pub fn step(&mut self, grads: &BTreeMap<u32, Vec<f32>>) {
        self.steps += 1;
        let t = self.steps as i32;
        let m_correction = 1.0 / (1.0 - BETA1.powi(t));
        let v_correction = 1.0 / (1.0 - BETA2.powi(t));
        let d = self.dim;
        for (&id, grad) in grads {
            let id = id as usize;
            if id >= self.touched.len() {
                continue;
            }
            self.touched[id] = true;
            let range = id * d..(id + 1) * d;
            for (k, &g) in range.zip(grad) {
                let m = BETA1 * self.first_moments[k] + (1.0 - BETA1) * g;
                let v = BETA2 * self.second_moments[k] + (1.0 - BETA2) * g * g;
                self.first_moments[k] = m;
                self.second_moments[k] = v;
                self.rows[k] -= self.lr * (m * m_correction) / ((v * v_correction).sqrt() + EPS);
            }
        }
    }

    /// Rows some step touched.
    pub fn touched_rows(&self) -> usize {
        self.touched.iter().filter(|&&t| t).count()
    }

    /// `base` with every touched row re-encoded from its tuned values.
    pub fn export(&self, base: &EmbeddingTable) -> EmbeddingTable {
        let mut table = base.clone();
        let d = self.dim;
        for (id, _) in self.touched.iter().enumerate().filter(|(_, &t)| t) {
            table.encode_row(id, &self.rows[id * d..(id + 1) * d]);
        }
        table
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_step_moves_only_the_rows_it_is_given_against_their_gradient() {
        let values: Vec<f32> = (0..4 * 8).map(|i| (i as f32 * 0.37).sin()).collect();
        let base = EmbeddingTable::quantize_int8(&values, 8);
        let mut tuned = TunedTable::new(&base, 0.05);
        let before = tuned.lookup(&[0, 1, 2, 3]);
        tuned.step(&BTreeMap::from([(2, vec![1.0; 8])]));
        let after = tuned.lookup(&[0, 1, 2, 3]);
        assert_eq!(before[..16], after[..16]);
        assert_eq!(before[24..], after[24..]);
        for k in 16..24 {
            assert!(
                (before[k] - after[k] - 0.05).abs() < 1e-4,
                "row 2 moved by lr"
            );
        }
        assert_eq!(tuned.touched_rows(), 1);
        let exported = tuned.export(&base);
        assert_eq!(exported.lookup(&[0]), base.lookup(&[0]));
        assert_ne!(exported.lookup(&[2]), base.lookup(&[2]));
    }
}
