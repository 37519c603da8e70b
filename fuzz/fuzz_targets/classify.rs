//! Tokenizer → logits → decision on arbitrary UTF-8, with the repo's real tokenizer and a
//! tiny model generated in code (models/default is a build output, not in the tree).
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use model::testkit::tiny_bundle;
use model::{BundleFiles, Classifier, ClassifyOptions, UNKNOWN_INTENT};

const TOKENIZER: &[u8] = include_bytes!("../../assets/minilm-l6-v2/tokenizer.json");
const MAX_LEN: usize = 64;

fn classifier() -> &'static Classifier {
    static CLF: OnceLock<Classifier> = OnceLock::new();
    CLF.get_or_init(|| {
        let (model, table) = tiny_bundle(TOKENIZER, MAX_LEN);
        Classifier::load(BundleFiles {
            model: &model,
            table: &table,
            tokenizer: TOKENIZER,
        })
        .expect("the tiny bundle loads")
    })
}

fuzz_target!(|data: &[u8]| {
    // Lossy, as wasm-bindgen does with lone surrogates: every input becomes a query.
    let text = String::from_utf8_lossy(data);
    let clf = classifier();
    let c = clf.classify(&text, &ClassifyOptions::default());
    assert!(c.energy.is_finite(), "energy {}", c.energy);
    assert!((0.0..=1.0).contains(&c.confidence), "confidence {}", c.confidence);
    assert!(c.intent == UNKNOWN_INTENT || clf.labels().contains(&c.intent));
    assert!(clf.encoder().encode(&text).len() <= MAX_LEN);
});
