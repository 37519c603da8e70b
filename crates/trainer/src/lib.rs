//! The command line around the training core (`training`): `data` (reading files) →
//! `table` (compact embeddings; `prune`, `model_source`, `distill`) → `train` (the core's
//! loop with a progress bar, metrics log, `checkpoint`s and `interrupt` on SIGTERM / SIGINT)
//! → `output` (atomic bundle directories). The core's modules are re-exported under their
//! own names. `table` and its helpers are the `table` feature (on by default).

pub use training::{calibration, evaluate, model_card, network, optim, plots};

pub mod checkpoint;
#[cfg(feature = "cuda")]
pub mod cuda;
pub mod data;
#[cfg(feature = "table")]
pub mod distill;
pub mod encoder;
pub mod interrupt;
#[cfg(feature = "table")]
pub mod model_source;
pub mod output;
#[cfg(feature = "table")]
pub mod prune;
#[cfg(feature = "table")]
pub mod table;
pub mod train;
