//! The training core, the same on the command line (`trainer`) and in a page (`intent-train-web`):
//! `data` (parsing, splits) → `network` + `optim` + `train` (one model in memory, reporting
//! to an `Observer`) → `evaluate` + `calibration` (threshold, figures, temperature) →
//! `finish` (the after-fit stages every model kind shares) → `plots` + `model_card` (what the bundle says of itself; `scripts`, which writing systems
//! its table reads); `typos` makes the misspellings training sees. No file system, threads,
//! terminal or command line: those are the caller's.

pub mod calibration;
pub mod data;
pub mod encoder_kind;
pub mod evaluate;
pub mod finish;
pub mod model_card;
pub mod network;
pub mod norm_pool;
pub mod optim;
pub mod page_input;
pub mod plots;
pub mod scripts;
pub mod train;
pub mod typos;
