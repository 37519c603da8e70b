//! BatchNorm, ReLU and the max-pool over each row's positions, as one CPU op with a
//! hand-written backward pass. Written with candle's ops, the three make about a dozen
//! full-size tensors per branch and step (the broadcasts, the pooling grid's gather, the
//! max's mask), and their backward pass as many again. Yet the pooled output reads one
//! position per channel and row, so the backward pass is sparse except for the terms of the
//! batch statistics. On a long-sentence set this was most of the step's time besides the
//! matrix products (bench/results/train-speed.md). [`crate::network::Network`] uses it on
//! the CPU and the composite ops on other devices. The tests below check the two agree.

use std::ops::Range;
use std::sync::{Arc, Mutex};

use candle_core::{CpuStorage, CustomOp3, Layout, Shape, Tensor};

use crate::network::BN_EPS;

/// Columns whose statistics normalize a run of columns (BatchNorm's batch).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatsGroup {
    /// The columns the mean and variance are taken over.
    pub stats: Range<usize>,
    /// The columns they normalize: a run of whole rows that holds `stats`.
    pub applied: Range<usize>,
}

/// Where the normalization's mean and variance come from.
#[derive(Clone, Debug)]
pub enum Statistics {
    /// From the batch, per group (training).
    Batch(Vec<StatsGroup>),
    /// Given per channel, for every column (evaluation: the running statistics).
    Fixed { mean: Vec<f32>, var: Vec<f32> },
}

/// What the forward pass leaves for the backward pass and the running statistics.
#[derive(Clone, Debug, Default)]
pub struct Saved {
    /// Per group, per channel: the batch mean and biased variance.
    pub mean: Vec<Vec<f32>>,
    pub var: Vec<Vec<f32>>,
    /// Per channel and row (`channel · rows + row`): the winning column, or [`NO_WINNER`]
    /// where the pooled value is 0 (every position was cut by the ReLU).
    winner: Vec<u32>,
}

const NO_WINNER: u32 = u32::MAX;

/// The op over one branch: arguments are the conv outputs `[channels, columns]` (channel
/// major; row r's positions are columns `row_starts[r]..row_starts[r + 1]`), BatchNorm's
/// scale and shift `[channels]`; the result is the pooled `[channels, rows]`.
pub struct NormReluPool {
    pub statistics: Statistics,
    pub row_starts: Vec<usize>,
    pub saved: Arc<Mutex<Saved>>,
}

/// A contiguous f32 argument's values.
pub(crate) fn values<'a>(
    storage: &'a CpuStorage,
    layout: &Layout,
    what: &str,
) -> candle_core::Result<&'a [f32]> {
    let CpuStorage::F32(all) = storage else {
        candle_core::bail!("{what} must be f32");
    };
    if !layout.is_contiguous() {
        candle_core::bail!("{what} must be contiguous");
    }
    Ok(&all[layout.start_offset()..][..layout.shape().elem_count()])
}

/// Mean and biased variance of `xs`, summed as candle's `mean` sums them.
fn moments(xs: &[f32]) -> (f32, f32) {
    let n = xs.len().max(1) as f32;
    let mean = xs.iter().sum::<f32>() / n;
    let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f32>() / n;
    (mean, var)
}

impl NormReluPool {
    fn rows(&self) -> usize {
        self.row_starts.len() - 1
    }

    /// The group whose `applied` columns hold row `r` (0 for fixed statistics).
    fn group_of_rows(&self) -> Vec<usize> {
        let Statistics::Batch(groups) = &self.statistics else {
            return vec![0; self.rows()];
        };
        (0..self.rows())
            .map(|r| {
                let first = self.row_starts[r];
                groups
                    .iter()
                    .position(|g| g.applied.contains(&first))
                    .unwrap_or(0)
            })
            .collect()
    }
}

impl CustomOp3 for NormReluPool {
    fn name(&self) -> &'static str {
        "norm-relu-pool"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let (channels, columns) = l1.shape().dims2()?;
        let y = values(s1, l1, "norm-relu-pool: conv outputs")?;
        let gamma = values(s2, l2, "norm-relu-pool: scale")?;
        let beta = values(s3, l3, "norm-relu-pool: shift")?;
        let rows = self.rows();
        if gamma.len() != channels || beta.len() != channels || self.row_starts[rows] != columns {
            candle_core::bail!("norm-relu-pool: shapes disagree");
        }
        let group_of_row = self.group_of_rows();
        let groups = match &self.statistics {
            Statistics::Batch(groups) => groups.len(),
            Statistics::Fixed { .. } => 1,
        };
        let mut saved = Saved {
            mean: vec![vec![0f32; channels]; groups],
            var: vec![vec![0f32; channels]; groups],
            winner: vec![NO_WINNER; channels * rows],
        };
        let mut out = vec![0f32; channels * rows];
        let mut scale = vec![0f32; groups];
        for ch in 0..channels {
            let row = &y[ch * columns..(ch + 1) * columns];
            for g in 0..groups {
                let (mean, var) = match &self.statistics {
                    Statistics::Batch(groups) => moments(&row[groups[g].stats.clone()]),
                    Statistics::Fixed { mean, var } => (mean[ch], var[ch]),
                };
                saved.mean[g][ch] = mean;
                saved.var[g][ch] = var;
                scale[g] = (var + BN_EPS as f32).sqrt().recip() * gamma[ch];
            }
            for r in 0..rows {
                let g = group_of_row[r];
                let (mean, scale) = (saved.mean[g][ch], scale[g]);
                // Start at 0: the ReLU's floor, which a position must beat to win.
                let (mut best, mut winner) = (0f32, NO_WINNER);
                for (j, &value) in row
                    .iter()
                    .enumerate()
                    .take(self.row_starts[r + 1])
                    .skip(self.row_starts[r])
                {
                    let normalized = (value - mean) * scale + beta[ch];
                    if normalized > best {
                        (best, winner) = (normalized, j as u32);
                    }
                }
                out[ch * rows + r] = best;
                saved.winner[ch * rows + r] = winner;
            }
        }
        *self.saved.lock().expect("norm-relu-pool state") = saved;
        Ok((CpuStorage::F32(out), Shape::from((channels, rows))))
    }

    /// Gradients of the conv outputs, the scale and the shift. With x̂ = (y − μ) / σ over
    /// a group's statistics columns K (m of them) and G = ∂L/∂x̂ (nonzero at the winners):
    /// ∂L/∂y_i = G_i / σ − [i ∈ K] (ΣG / m + x̂_i · Σ(G · x̂) / m) / σ, sums over the
    /// columns the group normalizes.
    fn bwd(
        &self,
        y: &Tensor,
        gamma: &Tensor,
        _beta: &Tensor,
        _res: &Tensor,
        grad_res: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let (channels, columns) = y.dims2()?;
        let rows = self.rows();
        let y_values = y.contiguous()?.flatten_all()?.to_vec1::<f32>()?;
        let gamma_values = gamma.contiguous()?.to_vec1::<f32>()?;
        let grad = grad_res.contiguous()?.flatten_all()?.to_vec1::<f32>()?;
        let saved = self.saved.lock().expect("norm-relu-pool state");
        let group_of_row = self.group_of_rows();
        let groups: Vec<StatsGroup> = match &self.statistics {
            Statistics::Batch(groups) => groups.clone(),
            // Fixed statistics get no gradient of their own.
            Statistics::Fixed { .. } => Vec::new(),
        };
        let mut dy = vec![0f32; channels * columns];
        let mut dgamma = vec![0f32; channels];
        let mut dbeta = vec![0f32; channels];
        let mut sum_g = vec![0f32; saved.mean.len()];
        let mut sum_gx = vec![0f32; saved.mean.len()];
        for ch in 0..channels {
            let row = &y_values[ch * columns..(ch + 1) * columns];
            let inv_std = |g: usize| (saved.var[g][ch] + BN_EPS as f32).sqrt().recip();
            sum_g.fill(0.0);
            sum_gx.fill(0.0);
            for r in 0..rows {
                let winner = saved.winner[ch * rows + r];
                if winner == NO_WINNER {
                    continue;
                }
                let (j, g) = (winner as usize, group_of_row[r]);
                let upstream = grad[ch * rows + r];
                let x_hat = (row[j] - saved.mean[g][ch]) * inv_std(g);
                dgamma[ch] += upstream * x_hat;
                dbeta[ch] += upstream;
                let g_x_hat = upstream * gamma_values[ch];
                dy[ch * columns + j] += g_x_hat * inv_std(g);
                sum_g[g] += g_x_hat;
                sum_gx[g] += g_x_hat * x_hat;
            }
            for (g, group) in groups.iter().enumerate() {
                let m = group.stats.len() as f32;
                let (mean, inv_std) = (saved.mean[g][ch], inv_std(g));
                for i in group.stats.clone() {
                    let x_hat = (row[i] - mean) * inv_std;
                    dy[ch * columns + i] -= (sum_g[g] + x_hat * sum_gx[g]) * inv_std / m;
                }
            }
        }
        let device = y.device();
        Ok((
            Some(Tensor::from_vec(dy, (channels, columns), device)?),
            Some(Tensor::from_vec(dgamma, channels, device)?),
            Some(Tensor::from_vec(dbeta, channels, device)?),
        ))
    }
}

#[cfg(test)]
mod tests {
    use candle_core::{Device, Tensor, Var};
    use model::{Architecture, Branch};
    use rand::{Rng, SeedableRng};

    use crate::network::{BnStats, Network, RowInput};

    /// A network, its batch's embedded rows and lengths, and the rows' groups.
    type Setup = (Network, Vec<Vec<f32>>, Vec<usize>, [(usize, usize); 3]);

    /// A small network and a batch of rows of different lengths in three groups, as a
    /// training step lays them out (known, noise, negatives).
    fn setup(members: usize) -> Setup {
        let arch = Architecture {
            embed_dim: 8,
            channels: 6,
            branches: vec![
                Branch {
                    kernel: 3,
                    padding: 1,
                },
                Branch {
                    kernel: 5,
                    padding: 2,
                },
            ],
            max_len: 16,
        };
        let network = Network::new(&arch, 4, members, 7, &Device::Cpu).unwrap();
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        let lens = [5, 9, 12, 5, 7, 7, 16, 6, 10];
        let rows = lens
            .iter()
            .map(|&len| (0..len * 8).map(|_| rng.gen_range(-1.0..1.0)).collect())
            .collect();
        (network, rows, lens.to_vec(), [(0, 3), (3, 3), (6, 3)])
    }

    /// Pooled features, the running statistics after the step, and the gradients of a
    /// fixed weighted sum of the features with respect to every trainable variable.
    fn step(fused: bool, bn: BnStats, members: usize) -> (Vec<f32>, Vec<f32>, Vec<Vec<f32>>) {
        let (mut network, rows, lens, groups) = setup(members);
        let inputs: Vec<RowInput> = rows
            .iter()
            .zip(&lens)
            .map(|(embedded, &len)| RowInput { embedded, len })
            .collect();
        let batch = network.batch(&inputs).unwrap();
        let ys = network.conv_for_tests(&batch).unwrap();
        let features = if fused {
            network.norm_relu_pool_fused(&ys, &batch, &groups, bn)
        } else {
            network.norm_relu_pool_composite(&ys, &batch, &groups, bn)
        }
        .unwrap();
        let weights = Tensor::from_vec(
            (0..features.elem_count())
                .map(|i| ((i * 37 % 11) as f32 - 5.0) / 5.0)
                .collect::<Vec<_>>(),
            features.shape(),
            &Device::Cpu,
        )
        .unwrap();
        let grads = (&features * &weights)
            .unwrap()
            .sum_all()
            .unwrap()
            .backward()
            .unwrap();
        let grad_of = |v: &Var| {
            grads
                .get(v.as_tensor())
                .map(|g| g.flatten_all().unwrap().to_vec1::<f32>().unwrap())
                .unwrap_or_default()
        };
        let running = [&network.running_mean, &network.running_var]
            .iter()
            .flat_map(|t| t.to_vec1::<f32>().unwrap())
            .collect();
        (
            features.flatten_all().unwrap().to_vec1().unwrap(),
            running,
            network.trainable().iter().map(grad_of).collect(),
        )
    }

    fn assert_close(a: &[f32], b: &[f32], what: &str) {
        assert_eq!(a.len(), b.len(), "{what}");
        let worst = a
            .iter()
            .zip(b)
            .map(|(x, y)| (x - y).abs() / (1.0 + y.abs()))
            .fold(0f32, f32::max);
        assert!(worst < 1e-5, "{what}: differs by {worst}");
    }

    #[test]
    fn the_fused_op_equals_candles_ops_forward_and_backward() {
        for bn in [BnStats::Known, BnStats::PerPass] {
            for members in [1, 2] {
                let (features, running, grads) = step(true, bn, members);
                let (features_ref, running_ref, grads_ref) = step(false, bn, members);
                let case = format!("{bn:?}, {members} members");
                assert_close(&features, &features_ref, &format!("features, {case}"));
                assert_close(
                    &running,
                    &running_ref,
                    &format!("running statistics, {case}"),
                );
                // The convs' weights, BatchNorm's scale and shift (the classifier is not used).
                for (i, (g, r)) in grads.iter().zip(&grads_ref).enumerate().take(4) {
                    assert!(!r.is_empty(), "variable {i} has a gradient, {case}");
                    assert_close(g, r, &format!("gradient of variable {i}, {case}"));
                }
            }
        }
    }
}
