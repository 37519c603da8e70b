//! Training one model in memory: data → TextCNN with cross-entropy + energy loss →
//! threshold on validation → evaluation → bundle bytes. The loss pushes known sentences'
//! energy down and synthetic noise and negative sentences' energy up. Files, progress bars,
//! signals and checkpoints belong to the caller's [`Observer`].
//!
//! The stages, one file each: [`config`] (the flags) → [`embeddings`] (table and tokenizer)
//! → `batches` (token ids once, each step's rows) → [`losses`] → `run` (the loop, reporting
//! to an [`Observer`]) → `export` (the bundle, measured by [`crate::finish`]).

mod batches;
pub mod config;
pub mod embeddings;
mod export;
pub mod losses;
pub mod observer;
mod run;

pub use config::{EnergyLoss, LrSchedule, Spelling, SyntheticNoise, TrainConfig, WeightsDtype};
pub use embeddings::Embeddings;
pub use export::Trained;
pub use losses::{cross_entropy, energy_loss, random_token_rows, spliced_rows};
pub use observer::{EpochLog, Observer, Progress, TrainingState};
pub use run::{candle_logits, train_observed};
