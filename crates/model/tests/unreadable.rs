//! Text the tokenizer cannot read: the unknown-token share with the repo's real tokenizers,
//! and the classifier answering such text unknown with the reason.

use model::decision::{Reason, MAX_UNKNOWN_SHARE};
use model::testkit::tiny_bundle;
use model::{BundleFiles, Classifier, ClassifyOptions, TextEncoder, UNKNOWN_INTENT};

const ENGLISH: &[u8] = include_bytes!("../../../assets/minilm-l6-v2/tokenizer.json");
const MULTILINGUAL: &[u8] =
    include_bytes!("../../../assets/multilingual-e5-small-20k/tokenizer.json");

#[test]
fn the_unknown_token_is_found_in_wordpiece_and_unigram_files() {
    let english = TextEncoder::from_bytes(ENGLISH, 64).unwrap();
    let id = english.unknown_id().expect("WordPiece names [UNK]");
    assert_eq!(
        english.tokenizer().id_to_token(id).as_deref(),
        Some("[UNK]")
    );
    let multilingual = TextEncoder::from_bytes(MULTILINGUAL, 64).unwrap();
    let id = multilingual.unknown_id().expect("Unigram has unk_id");
    assert_eq!(
        multilingual.tokenizer().id_to_token(id).as_deref(),
        Some("<unk>")
    );
}

#[test]
fn unknown_share_counts_word_pieces_not_special_tokens() {
    let english = TextEncoder::from_bytes(ENGLISH, 64).unwrap();
    let chinese = english.unknown_pieces("今天天气怎么样");
    assert!(chinese.share() > MAX_UNKNOWN_SHARE, "{chinese:?}");
    assert!(chinese.unknown.iter().all(|t| !t.is_ascii()));
    let mixed = english.unknown_pieces("translate 你好 to english");
    assert!(mixed.share() <= MAX_UNKNOWN_SHARE, "{mixed:?}");
    assert_eq!(english.unknown_pieces("weather today").share(), 0.0);
    assert_eq!(english.unknown_pieces("").share(), 0.0);
    // The classifier's one-pass count agrees, with [CLS] and [SEP] left out.
    for text in [
        "今天天气怎么样",
        "translate 你好 to english",
        "weather",
        "🙂🙃",
        "",
    ] {
        let (ids, share) = english.encode_with_unknown_share(text);
        assert_eq!(ids, english.encode(text), "{text}");
        assert_eq!(share, english.unknown_pieces(text).share(), "{text}");
    }
    // The bilingual table reads Chinese.
    let multilingual = TextEncoder::from_bytes(MULTILINGUAL, 64).unwrap();
    assert!(multilingual.unknown_pieces("今天天气怎么样").share() <= MAX_UNKNOWN_SHARE);
}

#[test]
fn classify_answers_unreadable_text_unknown_and_says_why() {
    let (model, table) = tiny_bundle(ENGLISH, 64);
    let clf = Classifier::load(BundleFiles {
        model: &model,
        table: &table,
        tokenizer: ENGLISH,
    })
    .unwrap();
    // A threshold every query passes: only the unreadable rule can make these unknown.
    let options = ClassifyOptions {
        threshold: Some(f32::MAX),
        ..Default::default()
    };
    for text in ["今天天气怎么样", "🙂🙃🙂", "ありがとう"] {
        let c = clf.classify(text, &options);
        assert_eq!(c.intent, UNKNOWN_INTENT, "{text}");
        assert!(!c.known, "{text}");
        assert_eq!(c.reason, Some(Reason::Unreadable), "{text}");
        assert!(c.energy.is_finite() && !c.top.is_empty(), "{text}");
    }
    for text in ["weather today", "translate 你好 to english", "asdf"] {
        let c = clf.classify(text, &options);
        assert!(c.known, "{text}: {c:?}");
        assert_eq!(c.reason, None, "{text}");
    }
    // Above the threshold, the reason is the energy.
    let strict = ClassifyOptions {
        threshold: Some(f32::MIN),
        ..Default::default()
    };
    assert_eq!(
        clf.classify("weather today", &strict).reason,
        Some(Reason::Energy)
    );
}
