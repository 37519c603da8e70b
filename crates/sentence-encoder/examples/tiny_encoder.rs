//! Writes the tiny test BERT (testkit) as a Hugging Face directory that `trainer encoder
//! --encoder DIR` reads: config.json, model.safetensors and the given tokenizer.json.
//!   cargo run -p sentence-encoder --example tiny_encoder -- TOKENIZER_JSON OUT_DIR

use model::TextEncoder;
use sentence_encoder::testkit::tiny_checkpoint;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [tokenizer, out] = args.as_slice() else {
        return Err("usage: tiny_encoder TOKENIZER_JSON OUT_DIR".into());
    };
    let tokenizer_bytes = std::fs::read(tokenizer).map_err(|e| format!("{tokenizer}: {e}"))?;
    let vocab = TextEncoder::from_bytes(&tokenizer_bytes, 128)?.vocab_size();
    let (config, checkpoint) = tiny_checkpoint(vocab);
    let out = std::path::Path::new(out);
    std::fs::create_dir_all(out)?;
    std::fs::write(out.join("config.json"), config)?;
    std::fs::write(out.join("model.safetensors"), checkpoint)?;
    std::fs::write(out.join("tokenizer.json"), tokenizer_bytes)?;
    Ok(())
}
