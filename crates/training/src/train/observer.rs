//! What the loop reports as it runs and the state it keeps between epochs, so that the
//! loop touches no file, terminal or signal itself.

use anyhow::Result;
use rand_chacha::ChaCha12Rng;
use serde::Serialize;

use crate::network::Network;
use crate::optim::AdamW;

/// One epoch's figures: the metrics log's line, and what an observer is shown.
#[derive(Clone, Debug, Serialize)]
pub struct EpochLog {
    pub epoch: usize,
    /// Means over the epoch's steps.
    pub loss: f64,
    pub cross_entropy: f64,
    pub energy_loss: f64,
    pub mean_energy_known: f64,
    pub mean_energy_unknown: f64,
    /// Eval-mode closed-set accuracy and AUROC on the validation split.
    pub val_accuracy: f64,
    pub val_auroc: f64,
    /// The whole epoch, training steps and validation pass.
    pub seconds: f64,
    /// The validation pass alone (eval-mode logits of the validation sentences and negatives).
    pub validation_seconds: f64,
}

/// What the training loop reports and asks as it runs, so that the loop touches no file,
/// terminal or signal itself. The command line's observer draws the progress bar, appends
/// the metrics log, saves and resumes checkpoints and stops on SIGTERM / SIGINT; the page's
/// posts each epoch's figures to the page.
pub trait Observer {
    /// Before the first epoch: the saved state of an earlier run to continue (its network and
    /// optimizer loaded into `network` and `optimizer`), or `None` to start afresh.
    fn resume(
        &mut self,
        _network: &mut Network,
        _optimizer: &mut AdamW,
    ) -> Result<Option<Progress>> {
        Ok(None)
    }
    /// Once, before the first epoch that runs (`epochs_done` were complete on resume).
    fn started(&mut self, _epochs_done: usize) -> Result<()> {
        Ok(())
    }
    /// Before each step: an error (a signal, a cancel) ends the run there.
    fn before_step(&mut self, _epoch: usize, _step: usize, _steps: usize) -> Result<()> {
        Ok(())
    }
    /// After each step, with the epoch's mean loss so far.
    fn after_step(&mut self, _mean_loss: f64) {}
    /// After each epoch and its validation, with the whole state (enough to resume).
    fn epoch_done(&mut self, _entry: &EpochLog, _state: TrainingState<'_>) -> Result<()> {
        Ok(())
    }
}

/// Everything a run's next epoch depends on.
pub struct TrainingState<'a> {
    pub network: &'a Network,
    pub optimizer: &'a AdamW,
    pub progress: &'a Progress,
}

/// The loop's own state between epochs (a checkpoint saves and restores it).
pub struct Progress {
    pub epochs_done: usize,
    pub rng: ChaCha12Rng,
    pub order: Vec<usize>,
    pub negative_order: Vec<usize>,
    pub next_negative: usize,
}
