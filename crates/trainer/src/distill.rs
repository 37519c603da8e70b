//! Distilled token embeddings (the Model2Vec recipe): every vocabulary token, wrapped in
//! the tokenizer's special tokens, goes through the pretrained BERT encoder; the mean of the
//! output states is that token's vector. Output states carry what the encoder learned about
//! a token's meaning, which the input embedding layer barely does.

use std::path::Path;

use anyhow::{bail, Context, Result};
use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};
use indicatif::{ProgressBar, ProgressStyle};
use tokenizers::Tokenizer;

/// Tokens encoded per forward pass: large enough to keep the matrix kernels busy, small
/// enough that activations stay in the tens of megabytes.
const BATCH_TOKENS: usize = 512;

/// The special tokens a tokenizer puts around a text, e.g. ([CLS], [SEP]) or (<s>, </s>).
fn wrapping_ids(tokenizer: &Tokenizer) -> Result<(Vec<u32>, Vec<u32>)> {
    let probe = "x";
    let plain = tokenizer
        .encode(probe, false)
        .map_err(|e| anyhow::anyhow!("tokenizer: {e}"))?;
    let wrapped = tokenizer
        .encode(probe, true)
        .map_err(|e| anyhow::anyhow!("tokenizer: {e}"))?;
    let (plain, wrapped) = (plain.get_ids(), wrapped.get_ids());
    let start = wrapped
        .windows(plain.len())
        .position(|w| w == plain)
        .context("tokenizer: the text's own tokens are not inside its special tokens")?;
    Ok((
        wrapped[..start].to_vec(),
        wrapped[start + plain.len()..].to_vec(),
    ))
}

/// [vocab, hidden] output embeddings of every token of `tokenizer`, from the BERT encoder
/// whose `config.json` and weights are given. Mean-pools each wrapped token's output states.
pub fn encoder_token_embeddings(
    config_path: &Path,
    weights_path: &Path,
    tokenizer: &Tokenizer,
    quiet: bool,
) -> Result<(Vec<f32>, usize, usize)> {
    let config: Config = serde_json::from_slice(
        &std::fs::read(config_path)
            .with_context(|| format!("cannot read {}", config_path.display()))?,
    )
    .with_context(|| format!("{}: not a BERT config", config_path.display()))?;
    let vocab = tokenizer.get_vocab_size(true);
    if config.vocab_size != vocab {
        bail!(
            "{} says vocab_size {} but the tokenizer has {vocab} tokens",
            config_path.display(),
            config.vocab_size
        );
    }
    let device = Device::Cpu;
    // SAFETY of the memory map: the file is read-only input for the lifetime of `vb`.
    let vb = unsafe { VarBuilder::from_mmaped_safetensors(&[weights_path], DType::F32, &device) }
        .with_context(|| format!("cannot map {}", weights_path.display()))?;
    let bert = BertModel::load(vb, &config)
        .with_context(|| format!("{}: not a BERT encoder", weights_path.display()))?;
    let (prefix, suffix) = wrapping_ids(tokenizer)?;
    let seq = prefix.len() + 1 + suffix.len();
    let hidden = config.hidden_size;

    let progress = if quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(vocab as u64)
    };
    progress.set_style(
        ProgressStyle::with_template("distilling {bar:30} {pos}/{len} tokens {eta}")
            .expect("static template"),
    );
    let mut out = Vec::with_capacity(vocab * hidden);
    for first in (0..vocab).step_by(BATCH_TOKENS) {
        let last = (first + BATCH_TOKENS).min(vocab);
        let mut ids = Vec::with_capacity((last - first) * seq);
        for token in first..last {
            ids.extend(&prefix);
            ids.push(token as u32);
            ids.extend(&suffix);
        }
        let ids = Tensor::from_vec(ids, (last - first, seq), &device)?;
        let states = bert.forward(&ids, &ids.zeros_like()?, None)?;
        out.extend(states.mean(1)?.flatten_all()?.to_vec1::<f32>()?);
        progress.inc((last - first) as u64);
    }
    progress.finish_and_clear();
    if let Some(bad) = out.iter().position(|v| !v.is_finite()) {
        bail!(
            "{}: the encoder produced a non-finite value for token {}",
            weights_path.display(),
            bad / hidden
        );
    }
    Ok((out, vocab, hidden))
}
