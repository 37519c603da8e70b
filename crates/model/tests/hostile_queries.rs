//! Odd and hostile queries: each gives a valid result (finite energy, a known label or
//! "unknown"), with the repo's real tokenizer so special tokens like [PAD] are in play.

use std::time::Instant;

use model::testkit::tiny_bundle;
use model::{BundleFiles, Classifier, ClassifyOptions, UNKNOWN_INTENT};

const TOKENIZER: &[u8] = include_bytes!("../../../assets/minilm-l6-v2/tokenizer.json");
const MAX_LEN: usize = 64;

/// The query table, shared with tests/browser/classify.test.mjs: `unit` repeated `repeat`
/// times. A lone surrogate cannot be a Rust &str; the browser sends one in the middle, and
/// wasm-bindgen turns it into U+FFFD, which is what the native side classifies.
fn queries() -> Vec<(String, String)> {
    let list: serde_json::Value =
        serde_json::from_str(include_str!("../../../tests/odd-queries.json")).unwrap();
    list.as_array()
        .unwrap()
        .iter()
        .map(|q| {
            let mut text = q["unit"]
                .as_str()
                .unwrap()
                .repeat(q["repeat"].as_u64().unwrap() as usize);
            if q["lone_surrogate"].as_bool() == Some(true) {
                text.insert(text.len() / 2, '\u{fffd}');
            }
            (q["name"].as_str().unwrap().to_string(), text)
        })
        .collect()
}

/// The tiny in-code bundle over the real tokenizer.
fn classifier() -> Classifier {
    let (model, table) = tiny_bundle(TOKENIZER, MAX_LEN);
    Classifier::load(BundleFiles {
        model: &model,
        table: &table,
        tokenizer: TOKENIZER,
    })
    .unwrap()
}

#[test]
fn odd_queries_give_valid_results() {
    let clf = classifier();
    let labels = clf.labels().to_vec();
    let options = ClassifyOptions::default();
    let qs = queries();
    assert!(qs.len() >= 20);
    for (name, text) in qs {
        let start = Instant::now();
        let c = clf.classify(&text, &options);
        // Timing is reported, not asserted (shared machine): the bound is structural.
        eprintln!("{name}: {:?}", start.elapsed());
        assert!(c.energy.is_finite(), "{name}: energy {}", c.energy);
        assert!(c.confidence.is_finite() && (0.0..=1.0).contains(&c.confidence));
        assert!(
            c.intent == UNKNOWN_INTENT || labels.contains(&c.intent),
            "{name}: intent {}",
            c.intent
        );
        let ids = clf.encode(&text);
        assert!(ids.len() <= MAX_LEN, "{name}: {} tokens", ids.len());
    }
}

#[test]
fn text_past_the_char_bound_cannot_change_the_result() {
    let clf = classifier();
    let head: String = "weather today ".repeat(MAX_LEN * 16 / 14 + 1);
    let a = clf.logits(&head);
    let b = clf.logits(&(head.clone() + &"timer ".repeat(100_000)));
    assert_eq!(a, b);
}
