//! The sentence-encoder model kind, for intents with only a handful of examples each.
//!
//! A pretrained BERT-style encoder (all-MiniLM-L6-v2 by default) reads the whole query; the
//! mean of its output states, scaled to unit length, is the query's vector ([`encoder`]).
//! A linear head over the vectors, started at each intent's unit mean training vector and
//! trained with cross-entropy, gives the logits ([`head`]); from the logits on, the decision
//! is the TextCNN's: energy, threshold, calibrated softmax ([`model::decision`]).
//!
//! Files of a bundle of this kind ([`bundle`]): `model.safetensors` (the head and the
//! metadata), `encoder.safetensors` (the encoder, its matrices int8; [`encoder_file`]) and
//! `tokenizer.json`. No file system and no network here, so wasm can use all of it.

pub mod bundle;
pub mod classifier;
pub mod encoder;
pub mod encoder_file;
pub mod head;
#[doc(hidden)]
pub mod testkit;

pub use bundle::{EncoderBundleFiles, EncoderBundleMeta};
pub use classifier::EncoderClassifier;
pub use encoder::SentenceEncoder;
