//! The bundle loader on arbitrary bytes, made into model/table/tokenizer files as
//! `bundle_input.rs` says (raw, or a valid tiny bundle mutated). Either way loading must
//! return Ok or a BundleError, and a loaded bundle must classify.
#![no_main]

mod bundle_input;

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use model::testkit::{tiny_bundle, TINY_TOKENIZER};
use model::{BundleFiles, Classifier, ClassifyOptions};

fn valid() -> &'static (Vec<u8>, Vec<u8>) {
    static VALID: OnceLock<(Vec<u8>, Vec<u8>)> = OnceLock::new();
    VALID.get_or_init(|| tiny_bundle(TINY_TOKENIZER.as_bytes(), 16))
}

fn load_and_use(model: &[u8], table: &[u8], tokenizer: &[u8]) {
    if let Ok(clf) = Classifier::load(BundleFiles {
        model,
        table,
        tokenizer,
    }) {
        let c = clf.classify("weather today", &ClassifyOptions::default());
        assert!(
            c.energy.is_finite(),
            "a loaded bundle gave energy {}",
            c.energy
        );
    }
}

fuzz_target!(|data: &[u8]| {
    let (model, table) = valid();
    let valid = [
        model.as_slice(),
        table.as_slice(),
        TINY_TOKENIZER.as_bytes(),
    ];
    if let Some([model, table, tokenizer]) = bundle_input::files(data, valid) {
        load_and_use(&model, &table, &tokenizer);
    }
});
