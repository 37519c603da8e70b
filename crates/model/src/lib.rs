//! The intent classifier, defined once for the trainer and the browser.
//!
//! The pipeline, in the order data flows: text → token ids ([`text`]) → table rows
//! ([`table`]) → conv branches → pooled features → logits ([`forward`], its hot loop in the
//! `kernels` crate) → energy → decision ([`decision`]). [`bundle`] is the TextCNN's file
//! format ([`safetensors_file`] what every kind's files share, [`tensor_codec`] their values'
//! bytes) and [`classifier`] ties the stages together; [`kind`] is what every model kind does
//! at inference, with the decision written once on top of it ([`math`]: argmax, logsumexp).
//! No file system and no network here, so wasm can use all of it.

pub mod architecture;
pub mod bundle;
pub mod classifier;
pub mod decision;
pub mod error;
pub mod familiar;
pub mod forward;
pub mod kind;
pub mod math;
pub mod meta;
pub mod safetensors_file;
pub mod script;
pub mod spelling;
pub mod table;
pub mod tensor_codec;
#[doc(hidden)]
pub mod testkit;
pub mod text;

pub use architecture::{Architecture, Branch};
pub use bundle::{BundleFiles, BundleMeta, ModelWeights};
pub use classifier::{Classifier, ClassifyOptions};
pub use decision::{Classification, Ranked, UNKNOWN_INTENT};
pub use error::BundleError;
/// The conv-max kernels, a crate of their own (see its manifest).
pub use kernels;
pub use kind::{IntentModel, Reading};
pub use meta::ModelMeta;
pub use table::EmbeddingTable;
pub use text::TextEncoder;
