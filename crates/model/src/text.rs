//! Text → token ids: the Hugging Face tokenizer with the bundle's truncation, and a bound
//! on how much text is tokenized at all, so a megabyte of input costs no more than a page.

use tokenizers::{Tokenizer, TruncationParams};

use crate::bundle::TOKENIZER_FILE;
use crate::BundleError;

/// Characters kept per allowed token before tokenizing; the rest cannot reach the model
/// (`max_len` tokens never span more text than this in ordinary language).
pub const CHARS_PER_TOKEN_BOUND: usize = 16;

/// A tokenizer set up for the classifier: special tokens on, padding off, truncation at
/// `max_len`.
#[derive(Clone)]
pub struct TextEncoder {
    tokenizer: Tokenizer,
    max_len: usize,
    vocab_size: usize,
}

impl TextEncoder {
    pub fn from_bytes(bytes: &[u8], max_len: usize) -> Result<Self, BundleError> {
        let err = |p: String| BundleError::new(TOKENIZER_FILE, p);
        if bytes.is_empty() {
            return Err(err("file is empty".into()));
        }
        let mut tokenizer =
            Tokenizer::from_bytes(bytes).map_err(|e| err(format!("not a tokenizer ({e})")))?;
        // The file's own padding/truncation settings (often 128) must not apply.
        tokenizer.with_padding(None);
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: max_len,
                ..Default::default()
            }))
            .map_err(|e| err(format!("cannot truncate to {max_len} tokens ({e})")))?;
        // Counted once: `Tokenizer::get_vocab_size(true)` copies the whole vocabulary.
        let vocab_size = tokenizer
            .get_added_tokens_decoder()
            .keys()
            .map(|&id| id as usize + 1)
            .fold(tokenizer.get_vocab_size(false), usize::max);
        Ok(Self {
            tokenizer,
            max_len,
            vocab_size,
        })
    }

    /// Vocabulary size including added tokens: the number of table rows it needs (one per
    /// id it can produce).
    pub fn vocab_size(&self) -> usize {
        self.vocab_size
    }

    /// The most characters of a query that are tokenized.
    pub fn char_bound(&self) -> usize {
        self.max_len * CHARS_PER_TOKEN_BOUND
    }

    /// `text` cut to its first `char_bound()` characters: all of it the model can read.
    pub fn bounded<'a>(&self, text: &'a str) -> &'a str {
        match text.char_indices().nth(self.char_bound()) {
            Some((cut, _)) => &text[..cut],
            None => text,
        }
    }

    /// Token ids of `text` (special tokens included, at most `max_len`). Never fails: text
    /// the tokenizer rejects yields no ids.
    pub fn encode(&self, text: &str) -> Vec<u32> {
        let text = self.bounded(text);
        // `encode_fast`: the same ids, without the offsets only `evidence` needs.
        match self.tokenizer.encode_fast(text, true) {
            Ok(encoding) => encoding.get_ids().to_vec(),
            Err(_) => Vec::new(),
        }
    }

    /// The token strings of `text`, for showing which tokens drove a decision.
    pub fn tokens(&self, text: &str) -> Vec<String> {
        self.encode(text)
            .iter()
            .map(|&id| self.tokenizer.id_to_token(id).unwrap_or_default())
            .collect()
    }

    pub fn tokenizer(&self) -> &Tokenizer {
        &self.tokenizer
    }
}
