//! Writes the unit vector of every sentence of a CLINC150-layout set, as a bundle's encoder
//! gives it, for the probes in bench/ (f32 little-endian, one row per sentence, in the order
//! train, val, test, oos_train, oos_val, oos_test), or of every sentence of a JSON list.
//!   cargo run --release -p sentence-encoder --example embed_set -- BUNDLE_DIR SET.json OUT.f32

use std::path::Path;

use model::bundle::TOKENIZER_FILE;
use model::tensor_codec::f32_bytes;
use sentence_encoder::encoder_file::ENCODER_FILE;
use sentence_encoder::SentenceEncoder;

const SPLITS: [&str; 6] = ["train", "val", "test", "oos_train", "oos_val", "oos_test"];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [bundle, set, out] = args.as_slice() else {
        return Err("usage: embed_set BUNDLE_DIR SET.json OUT.f32".into());
    };
    let read = |name: &str| {
        let path = Path::new(bundle).join(name);
        std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))
    };
    let encoder = SentenceEncoder::load(&read(ENCODER_FILE)?, &read(TOKENIZER_FILE)?)?;
    let set: serde_json::Value = serde_json::from_slice(&std::fs::read(set)?)?;
    let splits: Vec<(&str, &serde_json::Value)> = match &set {
        serde_json::Value::Array(_) => vec![("list", &set)],
        _ => SPLITS.iter().map(|&s| (s, &set[s])).collect(),
    };
    let mut texts = Vec::new();
    for (split, rows) in splits {
        for row in rows.as_array().ok_or(format!("{split}: not a list"))? {
            // A set's rows are [sentence, intent]; a list's are sentences.
            let text = row.get(0).and_then(|t| t.as_str()).or(row.as_str());
            texts.push(
                text.ok_or(format!("{split}: a row without a sentence"))?
                    .to_owned(),
            );
        }
    }
    let vectors = encoder.embed_all(&texts)?;
    let bytes: Vec<u8> = vectors.iter().flat_map(|v| f32_bytes(v)).collect();
    std::fs::write(out, bytes)?;
    eprintln!("{} sentences, {} dims: {out}", texts.len(), encoder.dim());
    Ok(())
}
