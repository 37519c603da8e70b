//! Stores a Hugging Face BERT checkpoint as an encoder file with the compression asked for,
//! beside its tokenizer, so bench/encoder_compression.sh can measure what each lever costs.
//!   cargo run --release -p sentence-encoder --example compress_encoder -- \
//!     HF_DIR OUT_DIR [int8|int4 (word embeddings)] [int8|int4 (other matrices)] [LAYERS]
//!     [int8|int4 (feed-forward matrices; default: as the other matrices)]

use std::path::Path;

use model::bundle::TOKENIZER_FILE;
use sentence_encoder::encoder_file::{self, Compression, MatrixCodec, ENCODER_FILE};

fn codec(name: Option<&String>) -> Result<MatrixCodec, String> {
    match name.map(String::as_str) {
        None | Some("int8") => Ok(MatrixCodec::Int8Rows),
        Some("int4") => Ok(MatrixCodec::Int4Groups),
        Some(other) => Err(format!("codec {other}: expected int8 or int4")),
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(model), Some(out)) = (args.first(), args.get(1)) else {
        return Err(
            "usage: compress_encoder HF_DIR OUT_DIR [int8|int4] [int8|int4] [LAYERS|all] [int8|int4]"
                .into(),
        );
    };
    let matrices = codec(args.get(3))?;
    let compression = Compression {
        word_embeddings: codec(args.get(2))?,
        feed_forward: match args.get(5) {
            Some(_) => codec(args.get(5))?,
            None => matrices,
        },
        matrices,
        layers: match args.get(4).map(String::as_str) {
            None | Some("all") => None,
            Some(k) => Some(k.parse()?),
        },
    };
    let read = |name: &str| {
        let path = Path::new(model).join(name);
        std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))
    };
    let config = String::from_utf8(read("config.json")?)?;
    let encoder = encoder_file::quantize(&config, &read("model.safetensors")?, compression)?;
    std::fs::create_dir_all(out)?;
    std::fs::write(Path::new(out).join(ENCODER_FILE), &encoder)?;
    std::fs::write(Path::new(out).join(TOKENIZER_FILE), read(TOKENIZER_FILE)?)?;
    eprintln!("{compression:?}: {} bytes -> {out}", encoder.len());
    Ok(())
}
