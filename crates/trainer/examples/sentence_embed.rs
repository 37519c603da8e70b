//! Sentence embeddings of a JSON list of strings from a BERT sentence encoder such as
//! all-MiniLM-L6-v2: mean-pooled over the attention mask, L2-normalised, written as raw
//! little-endian f32 [texts, hidden]. The teacher side of `distill_body`.
//!
//! `cargo run -p trainer --release --example sentence_embed -- MODEL_DIR TEXTS.json OUT.f32`

use std::io::Write;
use std::path::Path;

use anyhow::{bail, Context, Result};
use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};
use tokenizers::{PaddingParams, Tokenizer, TruncationParams};

/// Texts per forward pass; padded to the longest of each batch.
const BATCH: usize = 64;

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [model_dir, texts_path, out_path] = args.as_slice() else {
        bail!("usage: sentence_embed MODEL_DIR TEXTS.json OUT.f32");
    };
    let dir = Path::new(model_dir);
    let config: Config = serde_json::from_slice(&std::fs::read(dir.join("config.json"))?)
        .context("config.json: not a BERT config")?;
    let mut tokenizer =
        Tokenizer::from_file(dir.join("tokenizer.json")).map_err(anyhow::Error::msg)?;
    tokenizer
        .with_truncation(Some(TruncationParams {
            max_length: 128,
            ..Default::default()
        }))
        .map_err(anyhow::Error::msg)?;
    tokenizer.with_padding(Some(PaddingParams::default()));
    let device = Device::Cpu;
    // SAFETY of the memory map: the weights file is read-only input for the whole run.
    let vb = unsafe {
        VarBuilder::from_mmaped_safetensors(&[dir.join("model.safetensors")], DType::F32, &device)?
    };
    let bert = BertModel::load(vb, &config)?;
    let texts: Vec<String> = serde_json::from_str(&std::fs::read_to_string(texts_path)?)
        .with_context(|| format!("{texts_path}: expected a JSON list of strings"))?;
    let mut out = std::io::BufWriter::new(std::fs::File::create(out_path)?);
    for chunk in texts.chunks(BATCH) {
        let encodings = tokenizer
            .encode_batch(chunk.to_vec(), true)
            .map_err(anyhow::Error::msg)?;
        let len = encodings[0].get_ids().len();
        let column = |f: fn(&tokenizers::Encoding) -> &[u32]| {
            let flat: Vec<u32> = encodings.iter().flat_map(|e| f(e).to_vec()).collect();
            Tensor::from_vec(flat, (chunk.len(), len), &device)
        };
        let ids = column(|e| e.get_ids())?;
        let mask = column(|e| e.get_attention_mask())?;
        let states = bert.forward(&ids, &ids.zeros_like()?, Some(&mask))?;
        let weights = mask.to_dtype(DType::F32)?.unsqueeze(2)?;
        let pooled = states
            .broadcast_mul(&weights)?
            .sum(1)?
            .broadcast_div(&weights.sum(1)?)?;
        let norm = pooled.sqr()?.sum_keepdim(1)?.sqrt()?;
        for v in pooled
            .broadcast_div(&norm)?
            .flatten_all()?
            .to_vec1::<f32>()?
        {
            out.write_all(&v.to_le_bytes())?;
        }
    }
    out.flush()?;
    Ok(())
}
