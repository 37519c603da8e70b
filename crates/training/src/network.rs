//! The TextCNN for training, in candle. Each branch is one matrix product over an im2col
//! matrix holding only the valid output positions of the batch (no padded positions are
//! computed). BatchNorm is written out so its statistics can come from chosen rows (known
//! sentences only, by default).
//!
//! An ensemble of `members` networks is trained as one: member m owns channels
//! `m·C..(m+1)·C` of every branch (C = channels / members) and its own block of classifier
//! rows, which read only its channels. BatchNorm and dropout act per channel, so the members
//! never interact; each gets its own loss. The averaged logits are again a plain TextCNN
//! (the classifier's blocks summed and divided by the member count), which is what the
//! bundle stores.

use anyhow::{ensure, Result};
use candle_core::{CpuStorage, CustomOp2, DType, Device, Layout, Shape, Tensor, Var, D};
use candle_nn::VarMap;
use model::{Architecture, ModelWeights};
use std::sync::{Arc, Mutex};

use crate::norm_pool::{self, NormReluPool, Saved, Statistics, StatsGroup};
use rand::{Rng, SeedableRng};

pub const BN_EPS: f64 = 1e-5;
pub const BN_MOMENTUM: f64 = 0.1;

/// The parameters' names in the network's [`VarMap`], and so in checkpoints. The conv and
/// classifier weights carry the names their folded forms have in the bundle, as a PyTorch
/// state dict would before and after folding.
pub mod names {
    pub use model::bundle::names::{branch_weight, CLASSIFIER_BIAS, CLASSIFIER_WEIGHT};
    pub const BN_GAMMA: &str = "bn.gamma";
    pub const BN_BETA: &str = "bn.beta";
    pub const BN_RUNNING_MEAN: &str = "bn.running_mean";
    pub const BN_RUNNING_VAR: &str = "bn.running_var";
}

/// Where BatchNorm takes its batch statistics from during training.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "kebab-case")]
pub enum BnStats {
    /// Statistics from the known sentences of the step, applied to every row; running
    /// statistics therefore describe real queries only.
    Known,
    /// The seed's behaviour: known, noise and negative passes each normalized by their
    /// own statistics, and each updating the running statistics.
    PerPass,
}

/// One row of a training or evaluation batch: embedded rows and the length to pool over.
pub struct RowInput<'a> {
    /// [tokens, embed_dim]
    pub embedded: &'a [f32],
    /// Positions that count (the effective length: zero rows extend short queries).
    pub len: usize,
}

/// A batch laid out for the forward pass. Only valid output positions are computed: each
/// branch gets an im2col matrix of the windows of its valid positions (rows in order), and
/// an index that places those outputs on the [rows, positions] grid for the max-pool.
pub struct Batch {
    pub rows: usize,
    pub positions: usize,
    /// Per branch: [valid positions, kernel·embed_dim].
    pub windows: Vec<Tensor>,
    /// Per branch: [rows·positions] indices into that branch's outputs; invalid grid cells
    /// point one past the end, at an appended zero row.
    pub grid_index: Vec<Tensor>,
    /// Per branch: row r's outputs are rows `offsets[r]..offsets[r + 1]`.
    pub offsets: Vec<Vec<usize>>,
}

/// `(x @ w)ᵀ` (channel-major) whose backward pass computes only w's gradient: the inputs are fixed table
/// rows, so their gradient (a third of a conv's backward cost) is never needed.
struct FrozenInputMatmul;

impl CustomOp2 for FrozenInputMatmul {
    fn name(&self) -> &'static str {
        "frozen-input-matmul"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let (CpuStorage::F32(x), CpuStorage::F32(w)) = (s1, s2) else {
            candle_core::bail!("frozen-input-matmul needs f32");
        };
        let (m, k) = l1.shape().dims2()?;
        let (k2, n) = l2.shape().dims2()?;
        if k != k2 || !l1.is_contiguous() || !l2.is_contiguous() {
            candle_core::bail!("frozen-input-matmul needs contiguous [m, k] x [k, n]");
        }
        let x = &x[l1.start_offset()..][..m * k];
        let w = &w[l2.start_offset()..][..k * n];
        let mut out = vec![0f32; m * n];
        // SAFETY: the slices hold exactly m·k and k·n row-major values; `out` receives the
        // m x n product transposed ([n, m] row-major: column stride m, row stride 1).
        unsafe {
            gemm::gemm(
                m,
                n,
                k,
                out.as_mut_ptr(),
                m as isize,
                1,
                false,
                x.as_ptr(),
                1,
                k as isize,
                w.as_ptr(),
                1,
                n as isize,
                0.0,
                1.0,
                false,
                false,
                false,
                gemm_parallelism(),
            );
        }
        Ok((CpuStorage::F32(out), Shape::from((n, m))))
    }

    fn bwd(
        &self,
        x: &Tensor,
        _w: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>)> {
        if !x.device().is_cpu() {
            return Ok((None, Some(x.t()?.matmul(&grad.t()?)?)));
        }
        let (positions, width) = x.dims2()?;
        let channels = grad.dim(0)?;
        let grad = grad.contiguous()?.flatten_all()?.to_vec1::<f32>()?;
        let (storage, layout) = x.storage_and_layout();
        let candle_core::Storage::Cpu(cpu) = &*storage else {
            candle_core::bail!("frozen-input-matmul: inputs must be on the CPU");
        };
        let x = norm_pool::values(cpu, layout, "frozen-input-matmul: inputs")?;
        let transposed = weight_gradient(x, &grad, positions, width, channels);
        let gradient = Tensor::from_vec(transposed, (channels, width), &Device::Cpu)?;
        Ok((None, Some(gradient.t()?.contiguous()?)))
    }
}

/// A position whose gradient is nonzero in fewer than this share of the channels is summed
/// one entry at a time: behind max-pooling, the positions of the noise and negative rows
/// (which add nothing to BatchNorm's statistics) get a gradient only where a channel's
/// maximum was, a few channels each, while the known rows' positions get one in every
/// channel from the statistics' terms.
const SPARSE_BELOW: f32 = 0.125;

/// `gradᵀ`-weighted sum of the input rows, `[channels, width]` (the weight gradient
/// transposed): `grad` is `[channels, positions]`, `x` is `[positions, width]`, both row
/// major. Dense positions go through one matrix product per run of them; sparse positions
/// add their nonzero entries' rows one by one (`weight_gradient_dense` is the reference).
fn weight_gradient(
    x: &[f32],
    grad: &[f32],
    positions: usize,
    width: usize,
    channels: usize,
) -> Vec<f32> {
    let mut out = vec![0f32; channels * width];
    if positions == 0 {
        return out;
    }
    // Counted channel by channel, so `grad` is read in order.
    let mut nonzero = vec![0usize; positions];
    for row in grad.chunks_exact(positions) {
        for (count, &g) in nonzero.iter_mut().zip(row) {
            *count += usize::from(g != 0.0);
        }
    }
    let dense: Vec<bool> = nonzero
        .iter()
        .map(|&n| n as f32 >= SPARSE_BELOW * channels as f32)
        .collect();
    // Sparse positions, channel by channel: each channel's nonzero entries add their rows.
    for (c, row) in grad.chunks_exact(positions).enumerate() {
        let out_row = &mut out[c * width..(c + 1) * width];
        for (j, &g) in row.iter().enumerate() {
            if g != 0.0 && !dense[j] {
                for (o, &v) in out_row.iter_mut().zip(&x[j * width..(j + 1) * width]) {
                    *o += g * v;
                }
            }
        }
    }
    // Dense positions, a matrix product per run of them.
    let parallelism = gemm_parallelism();
    let mut j = 0;
    while j < positions {
        if !dense[j] {
            j += 1;
            continue;
        }
        let start = j;
        while j < positions && dense[j] {
            j += 1;
        }
        // SAFETY: lhs is the [channels, j - start] block of `grad` at column `start` (row
        // stride `positions`), rhs the [j - start, width] block of `x` at row `start`, dst
        // the [channels, width] `out`; all in bounds of their slices.
        unsafe {
            gemm::gemm(
                channels,
                width,
                j - start,
                out.as_mut_ptr(),
                1,
                width as isize,
                true,
                grad.as_ptr().add(start),
                1,
                positions as isize,
                x.as_ptr().add(start * width),
                1,
                width as isize,
                1.0,
                1.0,
                false,
                false,
                false,
                parallelism,
            );
        }
    }
    out
}

/// gemm's threads: as many as candle's matrix products use.
fn gemm_parallelism() -> gemm::Parallelism {
    match candle_core::utils::get_num_threads() {
        0 | 1 => gemm::Parallelism::None,
        threads => gemm::Parallelism::Rayon(threads),
    }
}

fn frozen_input_matmul(x: &Tensor, w: &Tensor) -> Result<Tensor> {
    Ok(if x.device().is_cpu() {
        x.apply_op2(w, FrozenInputMatmul)?
    } else {
        x.matmul(w)?.t()?.contiguous()?
    })
}

pub struct Network {
    /// The whole shape: `channels` counts every member's.
    pub arch: Architecture,
    pub labels: usize,
    /// Networks trained side by side (1: a single network).
    pub members: usize,
    pub device: Device,
    /// Every parameter and running statistic under its [`names`] entry. The typed fields
    /// below are the same variables (a `Var` shares its storage with its clones), kept for
    /// the forward pass; values change only through `Var::set`, so the map never goes stale.
    varmap: VarMap,
    /// Per branch, PyTorch layout [channels, embed_dim, kernel].
    pub conv_weights: Vec<Var>,
    /// All branches' BatchNorm scales and shifts, concatenated: [features]. The convs have
    /// no bias of their own: BatchNorm subtracts the mean, so one would never be trained.
    pub bn_gamma: Var,
    pub bn_beta: Var,
    /// Not trained: a `Var` so that it lives in the map and is updated in place.
    pub running_mean: Var,
    pub running_var: Var,
    /// [members·labels, features]: member m's rows `m·labels..`, nonzero only on its own
    /// channels.
    pub classifier_weight: Var,
    pub classifier_bias: Var,
    /// [members·labels, features], 1 where a member's row may read a feature: applied in
    /// every forward pass, so the other entries get no gradient and stay 0. None for one
    /// member.
    classifier_mask: Option<Tensor>,
}

fn uniform(rng: &mut impl Rng, n: usize, bound: f32) -> Vec<f32> {
    (0..n).map(|_| rng.gen_range(-bound..bound)).collect()
}

impl Network {
    /// PyTorch's default initialization of each member, from a seeded generator.
    pub fn new(
        arch: &Architecture,
        labels: usize,
        members: usize,
        seed: u64,
        device: &Device,
    ) -> Result<Self> {
        ensure!(
            members > 0 && arch.channels.is_multiple_of(members),
            "{} channels do not split into {members} members",
            arch.channels
        );
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let (d, c, f) = (arch.embed_dim, arch.channels, arch.features());
        let varmap = VarMap::new();
        // The seeded values go into the map as they are drawn, so its names cannot change
        // the initialization.
        let named = |name: String, var: Var| {
            varmap.data().lock().unwrap().insert(name, var.clone());
            var
        };
        let mut conv_weights = Vec::new();
        for (i, b) in arch.branches.iter().enumerate() {
            let bound = 1.0 / ((d * b.kernel) as f32).sqrt();
            let w = uniform(&mut rng, c * d * b.kernel, bound);
            let w = Var::from_vec(w, (c, d, b.kernel), device)?;
            conv_weights.push(named(names::branch_weight(i), w));
        }
        // A member's classifier reads f / members features: PyTorch's bound for that fan-in.
        let bound = 1.0 / ((f / members) as f32).sqrt();
        let mut cw = uniform(&mut rng, members * labels * f, bound);
        let cb = uniform(&mut rng, members * labels, bound);
        let classifier_mask = if members > 1 {
            let mask = member_mask(arch, labels, members);
            cw.iter_mut().zip(&mask).for_each(|(w, m)| *w *= m);
            Some(Tensor::from_vec(mask, (members * labels, f), device)?)
        } else {
            None
        };
        let filled = |name: &str, value: f32| {
            Ok::<_, candle_core::Error>(named(
                name.into(),
                Var::from_vec(vec![value; f], f, device)?,
            ))
        };
        let classifier_weight = Var::from_vec(cw, (members * labels, f), device)?;
        let classifier_bias = Var::from_vec(cb, members * labels, device)?;
        Ok(Self {
            arch: arch.clone(),
            labels,
            members,
            classifier_mask,
            device: device.clone(),
            conv_weights,
            bn_gamma: filled(names::BN_GAMMA, 1.0)?,
            bn_beta: filled(names::BN_BETA, 0.0)?,
            running_mean: filled(names::BN_RUNNING_MEAN, 0.0)?,
            running_var: filled(names::BN_RUNNING_VAR, 1.0)?,
            classifier_weight: named(names::CLASSIFIER_WEIGHT.into(), classifier_weight),
            classifier_bias: named(names::CLASSIFIER_BIAS.into(), classifier_bias),
            varmap,
        })
    }

    /// Every parameter and running statistic by name: what a checkpoint saves and restores.
    pub fn varmap(&self) -> &VarMap {
        &self.varmap
    }

    /// The classifier as the forward pass reads it: [members·labels, features].
    fn classifier(&self) -> Result<Tensor> {
        let w = self.classifier_weight.as_tensor();
        Ok(match &self.classifier_mask {
            Some(mask) => (w * mask)?,
            None => w.clone(),
        })
    }

    /// The names of the trained parameters, in the order of [`Network::trainable`] (the
    /// optimizer's moments follow it).
    pub fn trainable_names(&self) -> Vec<String> {
        let mut out: Vec<String> = (0..self.arch.branches.len())
            .map(names::branch_weight)
            .collect();
        out.extend(
            [
                names::BN_GAMMA,
                names::BN_BETA,
                names::CLASSIFIER_WEIGHT,
                names::CLASSIFIER_BIAS,
            ]
            .map(String::from),
        );
        out
    }

    /// The trained parameters, looked up by [`Network::trainable_names`].
    pub fn trainable(&self) -> Vec<Var> {
        let vars = self.varmap.data().lock().unwrap();
        self.trainable_names()
            .iter()
            .map(|name| vars[name].clone())
            .collect()
    }

    /// Lays out rows for the forward pass: per-branch windows of valid positions.
    pub fn batch(&self, rows: &[RowInput<'_>]) -> Result<Batch> {
        let a = &self.arch;
        let d = a.embed_dim;
        let longest = rows.iter().map(|r| r.len).max().unwrap_or(1).max(1);
        let positions = a
            .branches
            .iter()
            .map(|&b| a.output_len(b, longest))
            .max()
            .unwrap_or(1);
        let mut windows = Vec::new();
        let mut grid_index = Vec::new();
        let mut offsets = Vec::new();
        for branch in &a.branches {
            let width = branch.kernel * d;
            let total: usize = rows.iter().map(|r| a.output_len(*branch, r.len)).sum();
            let mut packed = Vec::with_capacity(total * width);
            let mut index = vec![0u32; rows.len() * positions];
            let mut starts = vec![0usize];
            let mut n = 0usize;
            for (r, row) in rows.iter().enumerate() {
                let tokens = (row.embedded.len() / d).min(row.len);
                let valid = a.output_len(*branch, row.len);
                for t in 0..valid {
                    // Window row j of position t is sequence row t + j - padding: one slice
                    // of the sequence where the window lies inside it, zero rows around.
                    let first = t as isize - branch.padding as isize;
                    let inside_from = first.max(0) as usize;
                    let inside_to = ((first + branch.kernel as isize).max(0) as usize).min(tokens);
                    let before = (inside_from as isize - first) as usize;
                    packed.extend(std::iter::repeat_n(0f32, before.min(branch.kernel) * d));
                    if inside_from < inside_to {
                        packed.extend_from_slice(&row.embedded[inside_from * d..inside_to * d]);
                    }
                    let written = before.min(branch.kernel) + inside_to.saturating_sub(inside_from);
                    packed.extend(std::iter::repeat_n(0f32, (branch.kernel - written) * d));
                    index[r * positions + t] = n as u32;
                    n += 1;
                }
                starts.push(n);
            }
            // Invalid cells read the zero row appended after the n outputs.
            for (r, row) in rows.iter().enumerate() {
                for t in a.output_len(*branch, row.len)..positions {
                    index[r * positions + t] = n as u32;
                }
            }
            windows.push(Tensor::from_vec(packed, (n, width), &self.device)?);
            grid_index.push(Tensor::from_vec(
                index,
                rows.len() * positions,
                &self.device,
            )?);
            offsets.push(starts);
        }
        Ok(Batch {
            rows: rows.len(),
            positions,
            windows,
            grid_index,
            offsets,
        })
    }

    /// Pre-BatchNorm conv outputs of each branch at its valid positions, channel-major
    /// ([channels, n_b]) so per-channel statistics and broadcasts run along contiguous rows.
    fn conv(&self, batch: &Batch) -> Result<Vec<Tensor>> {
        let (d, c) = (self.arch.embed_dim, self.arch.channels);
        self.conv_weights
            .iter()
            .enumerate()
            .map(|(b, w)| {
                let k = self.arch.branches[b].kernel;
                // [c, d, k] -> [k, d, c] -> [k·d, c]: row tap·d + i, as the windows are laid out.
                let w = w.permute((2, 1, 0))?.reshape((k * d, c))?;
                frozen_input_matmul(&batch.windows[b], &w)
            })
            .collect()
    }

    #[cfg(test)]
    pub(crate) fn conv_for_tests(&self, batch: &Batch) -> Result<Vec<Tensor>> {
        self.conv(batch)
    }

    /// BatchNorm of branch `b`'s [channels, n] outputs, given per-feature mean and variance
    /// ([features]).
    fn normalize(&self, b: usize, y: &Tensor, mean: &Tensor, var: &Tensor) -> Result<Tensor> {
        let c = self.arch.channels;
        let column = |t: &Tensor| t.narrow(0, b * c, c)?.reshape((c, 1));
        let scale =
            ((column(var)? + BN_EPS)?.sqrt()?.recip()? * column(self.bn_gamma.as_tensor())?)?;
        Ok(y.broadcast_sub(&column(mean)?)?
            .broadcast_mul(&scale)?
            .broadcast_add(&column(self.bn_beta.as_tensor())?)?)
    }

    /// Batch statistics over rows `start..start+len`, every branch: mean, biased var and
    /// the number of positions, each [features].
    fn batch_stats(
        &self,
        ys: &[Tensor],
        batch: &Batch,
        start: usize,
        len: usize,
    ) -> Result<(Tensor, Tensor, Tensor)> {
        let (mut means, mut vars, mut counts) = (Vec::new(), Vec::new(), Vec::new());
        for (b, y) in ys.iter().enumerate() {
            let from = batch.offsets[b][start];
            let n = batch.offsets[b][start + len] - from;
            ensure!(n > 0, "a BatchNorm group has no positions");
            let yg = y.narrow(1, from, n)?;
            let mean = yg.mean_keepdim(1)?;
            vars.push(yg.broadcast_sub(&mean)?.sqr()?.mean(1)?);
            means.push(mean.squeeze(1)?);
            counts.push(Tensor::full(n as f32, self.arch.channels, &self.device)?);
        }
        Ok((
            Tensor::cat(&means, 0)?,
            Tensor::cat(&vars, 0)?,
            Tensor::cat(&counts, 0)?,
        ))
    }

    fn update_running(&mut self, mean: &Tensor, var: &Tensor, count: &Tensor) -> Result<()> {
        // Running variance is unbiased, as in PyTorch.
        let unbiased = (var * count)?.div(&(count - 1.0)?.clamp(1f32, f32::MAX)?)?;
        let blend = |running: &Var, batch: &Tensor| -> Result<()> {
            let old = running.as_detached_tensor();
            running.set(&((old * (1.0 - BN_MOMENTUM))? + (batch.detach() * BN_MOMENTUM)?)?)?;
            Ok(())
        };
        blend(&self.running_mean, mean)?;
        blend(&self.running_var, &unbiased)
    }

    /// ReLU and global max-pool of normalized [channels, n_b] branch outputs: [rows, features].
    fn pool(&self, ys: &[Tensor], batch: &Batch) -> Result<Tensor> {
        let c = self.arch.channels;
        let zero = Tensor::zeros((c, 1), DType::F32, &self.device)?;
        let pooled = ys
            .iter()
            .zip(&batch.grid_index)
            .map(|(y, index)| {
                // After ReLU every value is >= 0, so the zero column never wins over a valid
                // position (each row has at least one per branch).
                let y = Tensor::cat(&[&y.relu()?, &zero], 1)?;
                Ok(y.index_select(index, 1)?
                    .reshape((c, batch.rows, batch.positions))?
                    .max(D::Minus1)?)
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Tensor::cat(&pooled, 0)?.t()?)
    }

    /// Every member's logits: [rows, members·labels], member m's in columns `m·labels..`.
    fn classify(&self, features: &Tensor) -> Result<Tensor> {
        Ok(features
            .matmul(&self.classifier()?.t()?)?
            .broadcast_add(self.classifier_bias.as_tensor())?)
    }

    /// Member `m`'s [rows, labels] out of every member's logits.
    pub fn member_logits(&self, logits: &Tensor, m: usize) -> Result<Tensor> {
        Ok(logits.narrow(1, m * self.labels, self.labels)?)
    }

    /// BatchNorm with batch statistics per `groups`, ReLU and max-pool in candle's ops, any
    /// device: [rows, features]. Running statistics updated.
    pub(crate) fn norm_relu_pool_composite(
        &mut self,
        ys: &[Tensor],
        batch: &Batch,
        groups: &[(usize, usize)],
        bn: BnStats,
    ) -> Result<Tensor> {
        let normalized: Vec<Tensor> = match bn {
            BnStats::Known => {
                let (start, len) = groups[0];
                let (mean, var, count) = self.batch_stats(ys, batch, start, len)?;
                self.update_running(&mean, &var, &count)?;
                ys.iter()
                    .enumerate()
                    .map(|(b, y)| self.normalize(b, y, &mean, &var))
                    .collect::<Result<_>>()?
            }
            BnStats::PerPass => {
                let mut parts: Vec<Vec<Tensor>> = vec![Vec::new(); ys.len()];
                for &(start, len) in groups.iter().filter(|g| g.1 > 0) {
                    let (mean, var, count) = self.batch_stats(ys, batch, start, len)?;
                    self.update_running(&mean, &var, &count)?;
                    for (b, y) in ys.iter().enumerate() {
                        let from = batch.offsets[b][start];
                        let n = batch.offsets[b][start + len] - from;
                        parts[b].push(self.normalize(b, &y.narrow(1, from, n)?, &mean, &var)?);
                    }
                }
                parts
                    .iter()
                    .map(|p| Ok(Tensor::cat(p, 1)?))
                    .collect::<Result<_>>()?
            }
        };
        self.pool(&normalized, batch)
    }

    /// The same as [`Self::norm_relu_pool_composite`] in one CPU op per branch
    /// ([`NormReluPool`]): [rows, features]. Running statistics updated.
    pub(crate) fn norm_relu_pool_fused(
        &mut self,
        ys: &[Tensor],
        batch: &Batch,
        groups: &[(usize, usize)],
        bn: BnStats,
    ) -> Result<Tensor> {
        let c = self.arch.channels;
        let stats_rows: Vec<(usize, usize)> = match bn {
            BnStats::Known => vec![groups[0]],
            BnStats::PerPass => groups.iter().copied().filter(|g| g.1 > 0).collect(),
        };
        let mut saved = Vec::with_capacity(ys.len());
        let mut pooled = Vec::with_capacity(ys.len());
        for (b, y) in ys.iter().enumerate() {
            let column = |row: usize| batch.offsets[b][row];
            let stats_groups = stats_rows
                .iter()
                .map(|&(start, len)| {
                    let stats = column(start)..column(start + len);
                    ensure!(!stats.is_empty(), "a BatchNorm group has no positions");
                    let applied = match bn {
                        BnStats::Known => 0..column(batch.rows),
                        BnStats::PerPass => stats.clone(),
                    };
                    Ok(StatsGroup { stats, applied })
                })
                .collect::<Result<Vec<_>>>()?;
            let state = Arc::new(Mutex::new(Saved::default()));
            let op = NormReluPool {
                statistics: Statistics::Batch(stats_groups),
                row_starts: batch.offsets[b].clone(),
                saved: state.clone(),
            };
            pooled.push(y.apply_op3(
                &self.bn_gamma.narrow(0, b * c, c)?,
                &self.bn_beta.narrow(0, b * c, c)?,
                op,
            )?);
            saved.push(state);
        }
        // The running statistics take each group's in turn, every branch's side by side.
        for (g, &(start, len)) in stats_rows.iter().enumerate() {
            let (mut mean, mut var, mut count) = (Vec::new(), Vec::new(), Vec::new());
            for (b, state) in saved.iter().enumerate() {
                let state = state.lock().expect("norm-relu-pool state");
                mean.extend_from_slice(&state.mean[g]);
                var.extend_from_slice(&state.var[g]);
                let positions = batch.offsets[b][start + len] - batch.offsets[b][start];
                count.extend(std::iter::repeat_n(positions as f32, c));
            }
            let f = mean.len();
            self.update_running(
                &Tensor::from_vec(mean, f, &self.device)?,
                &Tensor::from_vec(var, f, &self.device)?,
                &Tensor::from_vec(count, f, &self.device)?,
            )?;
        }
        Ok(Tensor::cat(&pooled, 0)?.t()?)
    }

    /// Training forward: batch statistics per `groups` (row ranges, known rows first),
    /// running statistics updated, dropout on the pooled features. Returns every member's
    /// logits ([`Network::member_logits`] takes one out).
    pub fn forward_train(
        &mut self,
        batch: &Batch,
        groups: &[(usize, usize)],
        bn: BnStats,
        dropout: f32,
        rng: &mut impl Rng,
    ) -> Result<Tensor> {
        let ys = self.conv(batch)?;
        let mut features = if self.device.is_cpu() {
            self.norm_relu_pool_fused(&ys, batch, groups, bn)?
        } else {
            self.norm_relu_pool_composite(&ys, batch, groups, bn)?
        };
        if dropout > 0.0 {
            let keep = 1.0 - dropout;
            let n = batch.rows * self.arch.features();
            let mask: Vec<f32> = (0..n)
                .map(|_| {
                    if rng.gen::<f32>() < keep {
                        1.0 / keep
                    } else {
                        0.0
                    }
                })
                .collect();
            let mask = Tensor::from_vec(mask, features.shape(), &self.device)?;
            features = (features * mask)?;
        }
        self.classify(&features)
    }

    /// Evaluation forward with running statistics and no dropout, the members' logits
    /// averaged: [rows, labels].
    pub fn forward_eval(&self, batch: &Batch) -> Result<Tensor> {
        let ys = self.conv(batch)?;
        let features = if self.device.is_cpu() {
            let c = self.arch.channels;
            let pooled = ys
                .iter()
                .enumerate()
                .map(|(b, y)| {
                    let op = NormReluPool {
                        statistics: Statistics::Fixed {
                            mean: self.running_mean.narrow(0, b * c, c)?.to_vec1()?,
                            var: self.running_var.narrow(0, b * c, c)?.to_vec1()?,
                        },
                        row_starts: batch.offsets[b].clone(),
                        saved: Arc::default(),
                    };
                    Ok(y.apply_op3_no_bwd(
                        &self.bn_gamma.narrow(0, b * c, c)?,
                        &self.bn_beta.narrow(0, b * c, c)?,
                        &op,
                    )?)
                })
                .collect::<Result<Vec<_>>>()?;
            Tensor::cat(&pooled, 0)?.t()?
        } else {
            let normalized: Vec<Tensor> = ys
                .iter()
                .enumerate()
                .map(|(b, y)| self.normalize(b, y, &self.running_mean, &self.running_var))
                .collect::<Result<_>>()?;
            self.pool(&normalized, batch)?
        };
        let logits = self.classify(&features)?;
        if self.members == 1 {
            return Ok(logits);
        }
        Ok(logits
            .reshape((batch.rows, self.members, self.labels))?
            .mean(1)?)
    }

    /// Folds BatchNorm into the convs: the bundle's weights.
    pub fn folded(&self) -> Result<ModelWeights> {
        let c = self.arch.channels;
        let inv = (self.running_var.as_tensor() + BN_EPS)?.sqrt()?.recip()?;
        let scale = (inv * self.bn_gamma.as_tensor())?.to_vec1::<f32>()?;
        let mean = self.running_mean.to_vec1::<f32>()?;
        let beta = self.bn_beta.as_tensor().to_vec1::<f32>()?;
        let mut branch_weights = Vec::new();
        let mut branch_biases = Vec::new();
        for (b, w) in self.conv_weights.iter().enumerate() {
            let w = w.as_tensor().flatten_all()?.to_vec1::<f32>()?;
            let per_out = w.len() / c;
            let s = &scale[b * c..(b + 1) * c];
            branch_weights.push(
                w.iter()
                    .enumerate()
                    .map(|(i, v)| v * s[i / per_out])
                    .collect(),
            );
            branch_biases.push(
                (0..c)
                    .map(|o| {
                        let f = b * c + o;
                        beta[f] - mean[f] * scale[f]
                    })
                    .collect(),
            );
        }
        // The mean of the members' logits is one linear layer: their blocks (each zero off
        // its member's channels) summed, over the member count.
        let (k, labels, f) = (self.members, self.labels, self.arch.features());
        let member_mean = |t: Tensor, width: usize| -> Result<Vec<f32>> {
            let t = t.reshape((k, labels * width))?;
            Ok(if k == 1 { t } else { t.mean(0)? }
                .flatten_all()?
                .to_vec1()?)
        };
        let weights = ModelWeights {
            branch_weights,
            branch_biases,
            classifier_weight: member_mean(self.classifier()?, f)?,
            classifier_bias: member_mean(self.classifier_bias.as_tensor().clone(), 1)?,
        };
        let finite = weights
            .branch_weights
            .iter()
            .chain(&weights.branch_biases)
            .chain([&weights.classifier_weight, &weights.classifier_bias])
            .all(|v| v.iter().all(|x| x.is_finite()));
        ensure!(
            finite,
            "training diverged: the folded weights hold NaN or infinity"
        );
        Ok(weights)
    }
}

/// [members·labels, features]: 1 where member m's rows meet the features of its channels
/// (channels `m·C..(m+1)·C` of every branch, C = channels / members).
fn member_mask(arch: &Architecture, labels: usize, members: usize) -> Vec<f32> {
    let (f, per_member) = (arch.features(), arch.channels / members);
    let owner = |feature: usize| (feature % arch.channels) / per_member;
    (0..members * labels)
        .flat_map(|row| (0..f).map(move |feature| (owner(feature) == row / labels) as u8 as f32))
        .collect()
}

/// E = -logsumexp(logits) per row.
pub fn energy(logits: &Tensor) -> Result<Tensor> {
    Ok(logits.log_sum_exp(D::Minus1)?.neg()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The weight gradient by its definition.
    fn weight_gradient_dense(
        x: &[f32],
        grad: &[f32],
        positions: usize,
        width: usize,
        channels: usize,
    ) -> Vec<f32> {
        let mut out = vec![0f32; channels * width];
        for c in 0..channels {
            for j in 0..positions {
                for i in 0..width {
                    out[c * width + i] += grad[c * positions + j] * x[j * width + i];
                }
            }
        }
        out
    }

    #[test]
    fn the_weight_gradient_equals_its_definition_on_dense_and_sparse_positions() {
        let (positions, width, channels) = (37, 11, 16);
        let mut rng = rand::rngs::StdRng::seed_from_u64(5);
        let x: Vec<f32> = (0..positions * width)
            .map(|_| rng.gen_range(-1.0..1.0))
            .collect();
        // Positions 0..12 dense (every channel), 12..30 sparse (one or two channels), 30..
        // dense again, a few with no gradient at all.
        let mut grad = vec![0f32; channels * positions];
        for j in 0..positions {
            for c in 0..channels {
                let on = !(12..30).contains(&j) || (j % 5 != 0 && (c + j) % 9 == 0);
                if on {
                    grad[c * positions + j] = rng.gen_range(-1.0..1.0);
                }
            }
        }
        let fast = weight_gradient(&x, &grad, positions, width, channels);
        let reference = weight_gradient_dense(&x, &grad, positions, width, channels);
        for (a, b) in fast.iter().zip(&reference) {
            assert!((a - b).abs() < 1e-4, "{a} against {b}");
        }
    }
}
