//! Odd and hostile queries: each gives a valid result (finite energy, a known label or
//! "unknown"), with the repo's real tokenizer so special tokens like [PAD] are in play.

use std::time::Instant;

use model::testkit::tiny_bundle;
use model::{BundleFiles, Classifier, ClassifyOptions, UNKNOWN_INTENT};

const TOKENIZER: &[u8] = include_bytes!("../../../assets/minilm-l6-v2/tokenizer.json");
const MAX_LEN: usize = 64;

/// The query table; tests/browser/classify.test.mjs has the same list for Chromium.
fn queries() -> Vec<(&'static str, String)> {
    vec![
        ("empty", String::new()),
        ("whitespace", " \t\n\r  \u{3000}\u{a0}".into()),
        ("1 MB of text", "set a timer ".repeat(1 << 20 >> 4)),
        ("100,000 emoji", "😀".repeat(100_000)),
        (
            "mixed scripts",
            "weather Погода 天気 طقس מזג אוויר 날씨".into(),
        ),
        ("right-to-left", "\u{202e}ما هو الطقس اليوم\u{202c}".into()),
        (
            "control characters",
            "\u{1}\u{2}\u{7}\u{8}\u{1b}[31m\u{7f}\u{9f}".into(),
        ),
        // A lone surrogate cannot be a Rust &str: the browser test sends one, and
        // wasm-bindgen turns it into U+FFFD, which is what arrives here.
        ("replacement chars", "\u{fffd}\u{fffd} weather".into()),
        ("only unknown tokens", "ꙮꙮꙮ 𓀀𓀁𓀂 ⟁⟁".into()),
        ("padding tokens", "[PAD] [PAD] [PAD]".into()),
        ("[CLS]", "[CLS]".into()),
        ("[SEP] [MASK] [UNK]", "[SEP] [MASK] [UNK] [CLS]".into()),
        ("NUL chars", "\0\0\0 weather \0".into()),
        ("very long word", "a".repeat(100_000)),
        (
            "combining marks",
            "e\u{301}\u{302}\u{303}\u{304}".repeat(2_000),
        ),
        (
            "zero-width",
            "\u{200b}\u{200c}\u{200d}\u{feff}".repeat(1_000),
        ),
        ("noncharacters", "\u{fffe}\u{ffff}\u{10ffff}".into()),
        ("private use", "\u{e000}\u{f8ff}\u{f0000}".into()),
        ("digits only", "0123456789".repeat(1_000)),
        ("punctuation only", "?!.,;:'\"()[]{}<>".repeat(100)),
        ("one character", "a".into()),
        (
            "HTML",
            "<script>alert(1)</script><img src=x onerror=alert(1)>".into(),
        ),
        ("newlines", "\n".repeat(50_000)),
    ]
}

#[test]
fn odd_queries_give_valid_results() {
    let (model, table) = tiny_bundle(TOKENIZER, MAX_LEN);
    let clf = Classifier::load(BundleFiles {
        model: &model,
        table: &table,
        tokenizer: TOKENIZER,
    })
    .unwrap();
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
        let ids = clf.encoder().encode(&text);
        assert!(ids.len() <= MAX_LEN, "{name}: {} tokens", ids.len());
    }
}

#[test]
fn text_past_the_char_bound_cannot_change_the_result() {
    let (model, table) = tiny_bundle(TOKENIZER, MAX_LEN);
    let clf = Classifier::load(BundleFiles {
        model: &model,
        table: &table,
        tokenizer: TOKENIZER,
    })
    .unwrap();
    let head: String = "weather today ".repeat(MAX_LEN * 16 / 14 + 1);
    let a = clf.logits(&head);
    let b = clf.logits(&(head.clone() + &"timer ".repeat(100_000)));
    assert_eq!(a, b);
}
