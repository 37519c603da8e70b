//! The bundle loader on arbitrary bytes. The first byte picks a mode:
//! even: the input is split into model/table/tokenizer files (two little-endian u16
//!       lengths, then the bytes); odd: a valid tiny bundle with one file overwritten
//!       by the input's bytes at an offset (mutating a valid bundle reaches deeper).
//! Either way loading must return Ok or a BundleError, and a loaded bundle must classify.
#![no_main]

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
        assert!(c.energy.is_finite(), "a loaded bundle gave energy {}", c.energy);
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode % 2 == 0 {
        if rest.len() < 4 {
            return;
        }
        let a = u16::from_le_bytes([rest[0], rest[1]]) as usize;
        let b = u16::from_le_bytes([rest[2], rest[3]]) as usize;
        let body = &rest[4..];
        let a = a.min(body.len());
        let b = b.min(body.len() - a);
        load_and_use(&body[..a], &body[a..a + b], &body[a + b..]);
    } else {
        let (model, table) = valid();
        let mut files = [model.clone(), table.clone(), TINY_TOKENIZER.as_bytes().to_vec()];
        if rest.len() < 2 {
            return;
        }
        let file = &mut files[(mode as usize / 2) % 3];
        let offset = (u16::from_le_bytes([rest[0], rest[1]]) as usize) % (file.len() + 1);
        let patch = &rest[2..];
        // High bit of the mode: truncate at the end of the patch instead of overwriting.
        if mode & 0x80 != 0 {
            file.truncate(offset);
            file.extend_from_slice(patch);
        } else {
            for (i, &byte) in patch.iter().enumerate() {
                match file.get_mut(offset + i) {
                    Some(slot) => *slot = byte,
                    None => file.push(byte),
                }
            }
        }
        load_and_use(&files[0], &files[1], &files[2]);
    }
});
