//! The loop: a fresh or resumed start, epochs of steps (forward, loss, backward, update),
//! validation after each, then the export.

use anyhow::{bail, Result};
use candle_core::{Device, Tensor};
use model::{Architecture, EmbeddingTable};
use rand::{seq::SliceRandom, SeedableRng};
use rand_chacha::ChaCha12Rng;
use web_time::Instant;

use super::batches::{Prepared, StepRows};
use super::config::TrainConfig;
use super::embeddings::Embeddings;
use super::export::{export, Trained};
use super::losses::{cross_entropy, energy_loss};
use super::observer::{EpochLog, Observer, Progress, TrainingState};
use crate::data::Dataset;
use crate::evaluate;
use crate::network::{energy, Network, RowInput};
use crate::optim::AdamW;

/// Candle eval-mode logits for token sequences, in batches.
pub fn candle_logits(
    network: &Network,
    table: &EmbeddingTable,
    ids: &[Vec<u32>],
) -> Result<Vec<Vec<f32>>> {
    let arch = &network.arch;
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(256) {
        let embedded: Vec<Vec<f32>> = chunk.iter().map(|s| table.lookup(s)).collect();
        let rows: Vec<RowInput> = chunk
            .iter()
            .zip(&embedded)
            .map(|(s, e)| RowInput {
                embedded: e,
                len: arch.effective_len(s.len()),
            })
            .collect();
        let batch = network.batch(&rows)?;
        out.extend(network.forward_eval(&batch)?.to_vec2::<f32>()?);
    }
    Ok(out)
}

/// Trains one model: the stages below, in order, reporting to `observer`. The random stream
/// (shuffles, negatives, noise, dropout) is drawn in one fixed order, so a seed and flags
/// give one model whatever observes it.
pub fn train_observed(
    config: &TrainConfig,
    dataset: &Dataset,
    embeddings: &Embeddings,
    device: &Device,
    observer: &mut dyn Observer,
) -> Result<Trained> {
    let arch = checked_architecture(config, dataset, embeddings)?;
    let prepared = Prepared::new(config, dataset, embeddings, arch, device)?;
    let mut network = Network::new(
        &prepared.arch,
        dataset.labels.len(),
        config.members,
        config.seed,
        &prepared.device,
    )?;
    let mut optimizer = AdamW::new(network.trainable(), config.lr, 0.0)?;
    let mut progress = start_or_resume(
        config,
        dataset,
        &prepared,
        &mut network,
        &mut optimizer,
        observer,
    )?;
    observer.started(progress.epochs_done)?;
    for epoch in progress.epochs_done + 1..=config.epochs {
        let started = Instant::now();
        let sums = train_epoch(
            config,
            dataset,
            &prepared,
            &mut network,
            &mut optimizer,
            &mut progress,
            epoch,
            observer,
        )?;
        let validation_started = Instant::now();
        let (val_accuracy, val_auroc) = validate(&network, &prepared, dataset)?;
        let entry = EpochLog {
            epoch,
            loss: sums.loss / sums.steps as f64,
            cross_entropy: sums.cross_entropy / sums.steps as f64,
            energy_loss: sums.energy_loss / sums.steps as f64,
            mean_energy_known: sums.known_energy / dataset.train.len() as f64,
            mean_energy_unknown: if sums.unknown_rows > 0 {
                sums.unknown_energy / sums.unknown_rows as f64
            } else {
                f64::NAN
            },
            val_accuracy,
            val_auroc,
            seconds: started.elapsed().as_secs_f64(),
            validation_seconds: validation_started.elapsed().as_secs_f64(),
        };
        progress.epochs_done = epoch;
        let state = TrainingState {
            network: &network,
            optimizer: &optimizer,
            progress: &progress,
        };
        observer.epoch_done(&entry, state)?;
    }
    export(config, dataset, embeddings, network, &prepared.arch)
}

/// The network's shape from the flags, refusing flags and data no run can use.
pub(super) fn checked_architecture(
    config: &TrainConfig,
    dataset: &Dataset,
    embeddings: &Embeddings,
) -> Result<Architecture> {
    let mut arch = config.architecture()?;
    arch.embed_dim = embeddings.table.dim;
    arch.validate()
        .map_err(|e| anyhow::anyhow!("architecture flags: {e}"))?;
    if config.batch_size == 0 || config.epochs == 0 {
        bail!("--batch-size and --epochs must be positive");
    }
    if !(0.0..1.0).contains(&config.label_smoothing) {
        bail!(
            "--label-smoothing must be in [0, 1), not {}",
            config.label_smoothing
        );
    }
    if !(0.0..=1.0).contains(&config.typo_rate) {
        bail!("--typo-rate must be in [0, 1], not {}", config.typo_rate);
    }
    if dataset.train.is_empty() {
        bail!("{}: no training sentences", dataset.source);
    }
    Ok(arch)
}

/// A fresh run's starting point, or the saved one the observer resumes from.
pub(super) fn start_or_resume(
    config: &TrainConfig,
    dataset: &Dataset,
    prepared: &Prepared,
    network: &mut Network,
    optimizer: &mut AdamW,
    observer: &mut dyn Observer,
) -> Result<Progress> {
    let Some(p) = observer.resume(network, optimizer)? else {
        let mut rng = ChaCha12Rng::seed_from_u64(config.seed);
        let mut negative_order: Vec<usize> = (0..prepared.negative_ids.len()).collect();
        negative_order.shuffle(&mut rng);
        return Ok(Progress {
            epochs_done: 0,
            rng,
            order: (0..dataset.train.len()).collect(),
            negative_order,
            next_negative: 0,
        });
    };
    if p.order.len() != dataset.train.len() || p.negative_order.len() != prepared.negative_ids.len()
    {
        bail!(
            "the saved run is for {} training and {} negative sentences, the data has {} and {}",
            p.order.len(),
            p.negative_order.len(),
            dataset.train.len(),
            prepared.negative_ids.len()
        );
    }
    if p.epochs_done > config.epochs {
        bail!(
            "the saved run is at epoch {}, past the {} epochs asked for",
            p.epochs_done,
            config.epochs
        );
    }
    Ok(p)
}

/// Sums of an epoch's step losses, for its log line.
#[derive(Default)]
pub(super) struct EpochSums {
    steps: usize,
    loss: f64,
    cross_entropy: f64,
    energy_loss: f64,
    known_energy: f64,
    unknown_energy: f64,
    unknown_rows: usize,
}

/// One pass over the reshuffled training sentences, a step per batch. The observer may stop
/// it between steps.
#[allow(clippy::too_many_arguments)]
pub(super) fn train_epoch(
    config: &TrainConfig,
    dataset: &Dataset,
    prepared: &Prepared,
    network: &mut Network,
    optimizer: &mut AdamW,
    progress: &mut Progress,
    epoch: usize,
    observer: &mut dyn Observer,
) -> Result<EpochSums> {
    progress.order.shuffle(&mut progress.rng);
    let order = progress.order.clone();
    let steps = order.len().div_ceil(config.batch_size);
    let mut sums = EpochSums {
        steps,
        ..EpochSums::default()
    };
    for (step, batch) in order.chunks(config.batch_size).enumerate() {
        observer.before_step(epoch, step, steps)?;
        let run_step = (epoch - 1) * steps + step;
        optimizer.lr = config
            .lr_schedule
            .lr(config.lr, run_step, config.epochs * steps);
        let rows = prepared.step_rows(dataset, batch, progress);
        train_step(
            config, prepared, network, optimizer, rows, progress, epoch, &mut sums,
        )?;
        observer.after_step(sums.loss / (step + 1) as f64);
    }
    Ok(sums)
}

/// Forward, loss (cross-entropy on the known rows plus the energy loss on all), backward
/// and update; adds the step's terms to `sums`.
#[allow(clippy::too_many_arguments)]
pub(super) fn train_step(
    config: &TrainConfig,
    prepared: &Prepared,
    network: &mut Network,
    optimizer: &mut AdamW,
    rows: StepRows,
    progress: &mut Progress,
    epoch: usize,
    sums: &mut EpochSums,
) -> Result<()> {
    let inputs: Vec<RowInput> = rows
        .embedded
        .iter()
        .zip(&rows.lens)
        .map(|(embedded, &len)| RowInput { embedded, len })
        .collect();
    let batch = network.batch(&inputs)?;
    let logits = network.forward_train(
        &batch,
        &rows.groups,
        config.bn_stats,
        config.dropout,
        &mut progress.rng,
    )?;
    let [(_, known), (_, noise), (_, negatives)] = rows.groups;
    let targets = Tensor::from_vec(rows.targets, known, &prepared.device)?;
    // Each member learns from its own logits; the step's terms are the members' means.
    let mut terms = Vec::with_capacity(network.members);
    for m in 0..network.members {
        let logits = network.member_logits(&logits, m)?;
        let ce = cross_entropy(
            &logits.narrow(0, 0, known)?,
            &targets,
            config.label_smoothing,
        )?;
        let e = energy(&logits)?;
        let e_unknown = [
            e.narrow(0, known, noise)?,
            e.narrow(0, known + noise, negatives)?,
        ];
        let el = energy_loss(
            config.energy_loss,
            &e.narrow(0, 0, known)?,
            &e_unknown,
            config.margin_in,
            config.margin_out,
        )?;
        terms.push((ce, el, e));
    }
    let mean = |pick: fn(&(Tensor, Tensor, Tensor)) -> &Tensor| -> Result<Tensor> {
        let stacked = Tensor::stack(&terms.iter().map(pick).collect::<Vec<_>>(), 0)?;
        Ok(stacked.mean(0)?)
    };
    let (ce, el, e) = (mean(|t| &t.0)?, mean(|t| &t.1)?, mean(|t| &t.2)?);
    let e_known = e.narrow(0, 0, known)?;
    let loss = (&ce + (&el * config.energy_weight)?)?;
    optimizer.backward_step(&loss)?;
    let loss_v = loss.to_scalar::<f32>()? as f64;
    if !loss_v.is_finite() {
        bail!("training diverged at epoch {epoch}: loss is {loss_v}");
    }
    sums.loss += loss_v;
    sums.cross_entropy += ce.to_scalar::<f32>()? as f64;
    sums.energy_loss += el.to_scalar::<f32>()? as f64;
    sums.known_energy += e_known.sum_all()?.to_scalar::<f32>()? as f64;
    let e_all_unknown = e.narrow(0, known, e.dim(0)? - known)?;
    sums.unknown_energy += e_all_unknown.sum_all()?.to_scalar::<f32>()? as f64;
    sums.unknown_rows += e_all_unknown.elem_count();
    Ok(())
}

/// Eval-mode closed-set accuracy and AUROC (validation sentences against validation
/// negatives) after an epoch.
pub(super) fn validate(
    network: &Network,
    prepared: &Prepared,
    dataset: &Dataset,
) -> Result<(f64, f64)> {
    let known_logits = candle_logits(network, prepared.table, &prepared.val_ids)?;
    let unknown_logits = candle_logits(network, prepared.table, &prepared.val_negative_ids)?;
    let energies = |logits: &[Vec<f32>]| -> Vec<f32> {
        logits.iter().map(|l| model::decision::energy(l)).collect()
    };
    let correct = known_logits
        .iter()
        .zip(&dataset.val)
        .filter(|(l, (_, y))| model::math::argmax(l) == Some(*y))
        .count();
    Ok((
        correct as f64 / dataset.val.len().max(1) as f64,
        evaluate::auroc(&energies(&known_logits), &energies(&unknown_logits)),
    ))
}
