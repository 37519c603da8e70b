//! The trainer's stages, in the order they run: `data` → `table` (compact embeddings) →
//! `network` + `optim` + `train` (+ `checkpoint`) → `evaluate` (+ `plots`, `calibration`) → `output` (atomic bundle directories);
//! `interrupt`: SIGTERM / SIGINT stop a run between steps.

pub mod calibration;
pub mod checkpoint;
#[cfg(feature = "cuda")]
pub mod cuda;
pub mod data;
pub mod distill;
pub mod evaluate;
pub mod interrupt;
pub mod model_card;
pub mod model_source;
pub mod network;
pub mod optim;
pub mod output;
pub mod plots;
pub mod prune;
pub mod table;
pub mod train;
