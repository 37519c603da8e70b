//! A page needs the bundle's file names and formats before any wasm has loaded, and checks
//! training options before the training module downloads, so the JS package names them
//! too (`web/kinds.js`, `web/trainer.js`). These tests hold those names to the Rust ones.

use std::path::Path;

use model::bundle::{MODEL_FILE, TABLE_FILE, TOKENIZER_FILE};
use sentence_encoder::encoder_file::ENCODER_FILE;
use training::train::TrainConfig;

fn web_file(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../web")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn the_page_names_the_bundle_files_and_formats_as_the_crates_do() {
    let kinds = web_file("kinds.js");
    let formats = [
        ("TEXTCNN_FORMAT", model::bundle::MODEL_FORMAT),
        ("ENCODER_FORMAT", sentence_encoder::bundle::MODEL_FORMAT),
    ];
    for (name, format) in formats {
        let line = format!("export const {name} = '{format}';");
        assert!(kinds.contains(&line), "web/kinds.js lacks `{line}`");
    }
    let files = [
        ("model", MODEL_FILE),
        ("table", TABLE_FILE),
        ("encoder", ENCODER_FILE),
        ("tokenizer", TOKENIZER_FILE),
    ];
    for (role, file) in files {
        let line = format!("  {role}: '{file}',");
        assert!(
            kinds.contains(&line),
            "web/kinds.js BUNDLE_FILES lacks `{line}`"
        );
    }
}

#[test]
fn the_page_offers_every_training_option_the_core_reads() {
    let trainer = web_file("trainer.js");
    let start = trainer
        .find("export const TRAIN_OPTIONS = [")
        .expect("web/trainer.js defines TRAIN_OPTIONS");
    let end = start + trainer[start..].find("];").expect("TRAIN_OPTIONS ends");
    let mut offered: Vec<String> = trainer[start..end]
        .split('\'')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect();
    offered.sort();
    let config = serde_json::to_value(TrainConfig::default()).unwrap();
    let camel = |snake: &str| {
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
    };
    let mut expected: Vec<String> = config
        .as_object()
        .unwrap()
        .keys()
        .map(|k| camel(k))
        // The page's own option beside the configuration (crates/web-train).
        .chain(["valFraction".to_string()])
        .collect();
    expected.sort();
    assert_eq!(
        offered, expected,
        "web/trainer.js TRAIN_OPTIONS against TrainConfig"
    );
}
