//! A page needs the bundle's file names and formats before any wasm has loaded, and checks
//! training options before the training module downloads, so the JS package carries those
//! names in `web/facts.js`. That file is generated here from the crates' constants: this test
//! writes it whenever a name changes and then fails once, asking for the new file to be
//! committed, so nothing in it is restated by hand.

use std::path::Path;

use model::bundle::{MODEL_FILE, TABLE_FILE, TOKENIZER_FILE};
use sentence_encoder::encoder_file::ENCODER_FILE;
use training::encoder_kind::EncoderConfig;
use training::page_input::option_keys;
use training::train::TrainConfig;

const FACTS_FILE: &str = "web/facts.js";

fn camel_case(snake: &str) -> String {
    let mut out = String::new();
    let mut upper = false;
    for c in snake.chars() {
        match (c, upper) {
            ('_', _) => upper = true,
            (c, true) => {
                out.extend(c.to_uppercase());
                upper = false;
            }
            (c, false) => out.push(c),
        }
    }
    out
}

/// `export const NAME = Object.freeze([...]);` of a kind's option keys, camelCase.
fn options_line(name: &str, keys: Vec<String>) -> String {
    let quoted: Vec<String> = keys
        .iter()
        .map(|k| format!("'{}'", camel_case(k)))
        .collect();
    format!(
        "export const {name} = Object.freeze([\n  {},\n]);\n",
        quoted.join(", ")
    )
}

/// The whole of web/facts.js.
fn facts_js() -> String {
    let files = [
        ("model", MODEL_FILE),
        ("table", TABLE_FILE),
        ("encoder", ENCODER_FILE),
        ("tokenizer", TOKENIZER_FILE),
    ];
    let mut js = String::from(
        "// Generated from the Rust crates by crates/trainer/tests/js_facts.rs; do not edit.\n\
         // `cargo test -p trainer --test js_facts` rewrites it when a name there changes.\n\n\
         /** The bundle's files, by role. */\nexport const BUNDLE_FILES = Object.freeze({\n",
    );
    for (role, file) in files {
        js.push_str(&format!("  {role}: '{file}',\n"));
    }
    js.push_str("});\n\n");
    js.push_str(&format!(
        "/** The `format` of a TextCNN bundle's model.safetensors (crates/model/src/bundle.rs). */\n\
         export const TEXTCNN_FORMAT = '{}';\n\
         /** The `format` of a sentence-encoder bundle's model.safetensors (crates/sentence-encoder). */\n\
         export const ENCODER_FORMAT = '{}';\n\n",
        model::bundle::MODEL_FORMAT,
        sentence_encoder::bundle::MODEL_FORMAT,
    ));
    js.push_str("/** Options of a TextCNN training run: TrainConfig's fields and the page's valFraction. */\n");
    js.push_str(&options_line("TRAIN_OPTIONS", option_keys::<TrainConfig>()));
    js.push_str("/** Options of a sentence-encoder fit: EncoderConfig's fields and the page's valFraction. */\n");
    js.push_str(&options_line(
        "ENCODER_TRAIN_OPTIONS",
        option_keys::<EncoderConfig>(),
    ));
    js
}

#[test]
fn web_facts_js_is_generated_from_the_crates() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(FACTS_FILE);
    let expected = facts_js();
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    if current != expected {
        std::fs::write(&path, &expected)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        panic!("{FACTS_FILE} was out of date and has been rewritten; commit it and run the tests again");
    }
}

#[test]
fn camel_case_joins_words() {
    assert_eq!(camel_case("batch_size"), "batchSize");
    assert_eq!(camel_case("epochs"), "epochs");
    assert_eq!(camel_case("val_fraction"), "valFraction");
}
