//! The sentence-encoder kind's bundle loader on arbitrary bytes, made into
//! model/encoder/tokenizer files as `bundle_input.rs` says (raw, or a valid tiny bundle over
//! a generated two-layer BERT, mutated). Either way loading must return Ok or a
//! BundleError, and a loaded bundle must classify without a panic.
#![no_main]

mod bundle_input;

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use model::bundle::sha256_hex;
use model::testkit::{tiny_model_meta, TINY_TOKENIZER};
use model::{ClassifyOptions, IntentModel, TextEncoder};
use sentence_encoder::bundle::{self, EncoderBundleMeta};
use sentence_encoder::head::Head;
use sentence_encoder::testkit::{tiny_checkpoint, TINY_HIDDEN};
use sentence_encoder::{encoder_file, EncoderBundleFiles, EncoderClassifier};

/// A valid bundle's model and encoder files over the tiny tokenizer.
fn valid() -> &'static (Vec<u8>, Vec<u8>) {
    static VALID: OnceLock<(Vec<u8>, Vec<u8>)> = OnceLock::new();
    VALID.get_or_init(|| {
        let tokenizer = TINY_TOKENIZER.as_bytes();
        let vocab = TextEncoder::from_bytes(tokenizer, 32).unwrap().vocab_size();
        let (config, checkpoint) = tiny_checkpoint(vocab);
        let encoder = encoder_file::quantize(&config, &checkpoint, encoder_file::Compression::default()).unwrap();
        let mut shared = tiny_model_meta(&["weather", "timer"], -1.0, tokenizer);
        shared.words = vec!["weather".into(), "timer".into()];
        let meta = EncoderBundleMeta {
            format_version: bundle::FORMAT_VERSION,
            dim: TINY_HIDDEN,
            encoder_sha256: sha256_hex(&encoder),
            shared,
        };
        let head = Head {
            weight: (0..2 * TINY_HIDDEN)
                .map(|i| (i as f32 * 0.7).sin())
                .collect(),
            bias: vec![0.0, 0.1],
        };
        (bundle::serialize(&meta, &head), encoder)
    })
}

fn load_and_use(model: &[u8], encoder: &[u8], tokenizer: &[u8]) {
    if let Ok(clf) = EncoderClassifier::load(EncoderBundleFiles {
        model,
        encoder,
        tokenizer,
    }) {
        if let Ok(c) = clf.classify("weather today", &ClassifyOptions::default()) {
            assert!(
                c.energy.is_finite(),
                "a loaded bundle gave energy {}",
                c.energy
            );
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let (model, encoder) = valid();
    let valid = [
        model.as_slice(),
        encoder.as_slice(),
        TINY_TOKENIZER.as_bytes(),
    ];
    if let Some([model, encoder, tokenizer]) = bundle_input::files(data, valid) {
        load_and_use(&model, &encoder, &tokenizer);
    }
});
