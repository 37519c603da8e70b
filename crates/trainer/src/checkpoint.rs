//! Checkpoints at epoch boundaries. `--resume` must continue to the same weights as an
//! uninterrupted run, so a checkpoint holds the whole training state, not only the weights:
//! BatchNorm running statistics, the optimizer's moments and step count, the random
//! stream's position, and the sample orders (each epoch shuffles the previous order in place).
//!
//! One safetensors file: the tensors, plus a JSON `progress` entry in its metadata. Written
//! to a temporary sibling and renamed, so an interrupted write leaves the previous checkpoint.
//! The network's tensors carry their names in its `VarMap` (`training::network::names`);
//! the optimizer's moments are `adamw.m.<name>` and `adamw.v.<name>` after their parameter.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{bail, ensure, Context, Result};
use candle_core::{Device, Tensor, Var};
use model::safetensors_file::serialize_tensors;
use model::tensor_codec::{decode_f32, f32_bytes};
use rand_chacha::ChaCha12Rng;
use safetensors::{Dtype, SafeTensors};
use serde::{Deserialize, Serialize};

use training::network::Network;
use training::optim::AdamW;
pub use training::train::Progress;

#[derive(Serialize, Deserialize)]
struct SavedProgress {
    epochs_done: usize,
    optimizer_steps: usize,
    rng_seed: String,
    rng_stream: u64,
    rng_word_pos: String,
    order: Vec<usize>,
    negative_order: Vec<usize>,
    next_negative: usize,
    /// What the run was started with; a resume with other settings would be another run.
    settings: serde_json::Value,
}

const PROGRESS_KEY: &str = "progress";

/// A tensor that checkpoints written before the network's names came from its `VarMap`
/// hold, and these do not.
const EARLIER_NAME: &str = "conv0.weight";

/// The network's variables by name, sorted so the file's order does not depend on hashing.
fn network_vars(network: &Network) -> Vec<(String, Var)> {
    let mut out: Vec<(String, Var)> = network
        .varmap()
        .data()
        .lock()
        .unwrap()
        .iter()
        .map(|(name, var)| (name.clone(), var.clone()))
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// The optimizer's moment names, in the order of its moments (`Network::trainable`'s).
fn moment_names(network: &Network, optimizer: &AdamW) -> Result<Vec<(String, String)>> {
    let names = network.trainable_names();
    ensure!(
        names.len() == optimizer.first_moments.len(),
        "the optimizer holds {} moments for {} parameters",
        optimizer.first_moments.len(),
        names.len()
    );
    Ok(names
        .iter()
        .map(|name| (format!("adamw.m.{name}"), format!("adamw.v.{name}")))
        .collect())
}

pub fn save(
    path: &Path,
    network: &Network,
    optimizer: &AdamW,
    progress: &Progress,
    settings: &serde_json::Value,
) -> Result<()> {
    let mut tensors: Vec<(String, Tensor)> = network_vars(network)
        .into_iter()
        .map(|(name, var)| (name, var.as_tensor().clone()))
        .collect();
    for ((m_name, v_name), (m, v)) in moment_names(network, optimizer)?.into_iter().zip(
        optimizer
            .first_moments
            .iter()
            .zip(&optimizer.second_moments),
    ) {
        tensors.push((m_name, m.clone()));
        tensors.push((v_name, v.clone()));
    }
    let mut data = Vec::with_capacity(tensors.len());
    for (name, t) in tensors {
        let bytes = f32_bytes(&t.flatten_all()?.to_vec1::<f32>()?);
        data.push((name, Dtype::F32, t.dims().to_vec(), bytes));
    }
    let saved = SavedProgress {
        epochs_done: progress.epochs_done,
        optimizer_steps: optimizer.steps,
        rng_seed: hex(&progress.rng.get_seed()),
        rng_stream: progress.rng.get_stream(),
        rng_word_pos: progress.rng.get_word_pos().to_string(),
        order: progress.order.clone(),
        negative_order: progress.negative_order.clone(),
        next_negative: progress.next_negative,
        settings: settings.clone(),
    };
    let metadata = HashMap::from([(PROGRESS_KEY.to_string(), serde_json::to_string(&saved)?)]);
    crate::output::write_file_atomically(path, &serialize_tensors(data, metadata))
}

/// Restores `network` and `optimizer` from `path` and returns the loop state. Fails, naming
/// the file, when the checkpoint belongs to another run (settings, shapes or data sizes differ).
pub fn load(
    path: &Path,
    network: &mut Network,
    optimizer: &mut AdamW,
    settings: &serde_json::Value,
    device: &Device,
) -> Result<Progress> {
    let bytes = std::fs::read(path)
        .with_context(|| format!("cannot read checkpoint {}", path.display()))?;
    let what = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
    let (_, header) = SafeTensors::read_metadata(&bytes).map_err(|e| anyhow::anyhow!(what(&e)))?;
    let st = SafeTensors::deserialize(&bytes).map_err(|e| anyhow::anyhow!(what(&e)))?;
    let progress_json = header
        .metadata()
        .as_ref()
        .and_then(|m| m.get(PROGRESS_KEY))
        .with_context(|| what(&"not a training checkpoint (no progress entry)"))?;
    let saved: SavedProgress = serde_json::from_str(progress_json)
        .with_context(|| what(&"progress entry is malformed"))?;
    ensure!(
        st.tensor(EARLIER_NAME).is_err(),
        what(
            &"the checkpoint was written by an earlier version of the trainer, whose tensor \
               names differ; restart training without --resume"
        )
    );
    check_settings(path, &saved.settings, settings)?;
    restore_tensors(path, &st, network, optimizer, saved.optimizer_steps, device)?;
    restored_progress(path, saved)
}

/// Refuses a checkpoint of a run with other settings, naming each that differs.
fn check_settings(path: &Path, then: &serde_json::Value, now: &serde_json::Value) -> Result<()> {
    if then == now {
        return Ok(());
    }
    let empty = serde_json::Map::new();
    let (then, now) = (
        then.as_object().unwrap_or(&empty),
        now.as_object().unwrap_or(&empty),
    );
    let differing: Vec<String> = then
        .keys()
        .chain(now.keys())
        .filter(|k| then.get(*k) != now.get(*k))
        .map(|k| {
            format!(
                "{k}: {} now {}",
                then.get(k).unwrap_or(&"-".into()),
                now.get(k).unwrap_or(&"-".into())
            )
        })
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    bail!(
        "{}: the checkpoint was written with other training settings ({}); resume with the \
         same flags (--epochs, --threshold-rule and output paths may change)",
        path.display(),
        differing.join(", ")
    );
}

/// Sets the network's variables and the optimizer's moments from the checkpoint's tensors,
/// each checked for its name, type, shape and finite values.
fn restore_tensors(
    path: &Path,
    st: &SafeTensors<'_>,
    network: &mut Network,
    optimizer: &mut AdamW,
    optimizer_steps: usize,
    device: &Device,
) -> Result<()> {
    let what = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
    let tensor = |name: &str, like: &Tensor| -> Result<Tensor> {
        let view = st
            .tensor(name)
            .map_err(|_| anyhow::anyhow!(what(&format!("tensor `{name}` is missing"))))?;
        ensure!(
            view.dtype() == Dtype::F32 && view.shape() == like.dims(),
            what(&format!(
                "tensor `{name}` is {:?} {:?}, expected F32 {:?}",
                view.dtype(),
                view.shape(),
                like.dims()
            ))
        );
        let values = decode_f32(view.data());
        ensure!(
            values.iter().all(|x| x.is_finite()),
            what(&format!("tensor `{name}` holds NaN or infinite values"))
        );
        Ok(Tensor::from_vec(values, like.dims(), device)?)
    };
    for (name, var) in network_vars(network) {
        var.set(&tensor(&name, var.as_tensor())?)?;
    }
    let mut first = Vec::new();
    let mut second = Vec::new();
    for ((m_name, v_name), m) in moment_names(network, optimizer)?
        .into_iter()
        .zip(&optimizer.first_moments)
    {
        first.push(tensor(&m_name, m)?);
        second.push(tensor(&v_name, m)?);
    }
    optimizer.restore(first, second, optimizer_steps)?;
    Ok(())
}

/// The loop's state as saved: the random stream where it stopped and the sample orders,
/// checked to be permutations.
fn restored_progress(path: &Path, saved: SavedProgress) -> Result<Progress> {
    let what = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
    let mut rng = <ChaCha12Rng as rand::SeedableRng>::from_seed(
        unhex(&saved.rng_seed).with_context(|| what(&"rng_seed is not 32 hex bytes"))?,
    );
    rng.set_stream(saved.rng_stream);
    rng.set_word_pos(
        saved
            .rng_word_pos
            .parse()
            .with_context(|| what(&"rng_word_pos is not a number"))?,
    );
    let is_permutation = |order: &[usize]| {
        let mut seen = vec![false; order.len()];
        order
            .iter()
            .all(|&i| i < seen.len() && !std::mem::replace(&mut seen[i], true))
    };
    ensure!(
        is_permutation(&saved.order)
            && is_permutation(&saved.negative_order)
            && saved.next_negative <= saved.negative_order.len(),
        what(&"sample orders are not permutations")
    );
    Ok(Progress {
        epochs_done: saved.epochs_done,
        rng,
        order: saved.order,
        negative_order: saved.negative_order,
        next_negative: saved.next_negative,
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    if s.len() != 64 {
        return None;
    }
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}
