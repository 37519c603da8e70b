//! The trainer's stages, in the order they run: `data` → `table` (compact embeddings) →
//! `network` + `train` → `evaluate` → `output` (atomic bundle directories).

#[cfg(feature = "cuda")]
pub mod cuda;
pub mod data;
pub mod distill;
pub mod evaluate;
pub mod network;
pub mod output;
pub mod table;
pub mod train;
