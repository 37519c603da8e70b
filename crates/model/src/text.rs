//! Text → token ids: the Hugging Face tokenizer with the bundle's truncation, and a bound
//! on how much text is tokenized at all, so a megabyte of input costs no more than a page.

use serde::Deserialize;
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
    /// The id of the token that stands for text the vocabulary cannot spell, if it has one.
    unknown_id: Option<u32>,
}

/// The word pieces of a text (special tokens left out), as the text behind each: those the
/// vocabulary spells and those that became the unknown token.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct UnknownPieces<'a> {
    pub known: Vec<&'a str>,
    pub unknown: Vec<&'a str>,
}

impl UnknownPieces<'_> {
    /// Unknown pieces over all pieces; 0 for a text of none.
    pub fn share(&self) -> f32 {
        share(self.unknown.len(), self.known.len() + self.unknown.len())
    }
}

fn share(unknown: usize, pieces: usize) -> f32 {
    if pieces == 0 {
        0.0
    } else {
        unknown as f32 / pieces as f32
    }
}

/// The unknown token as a tokenizer file names it: `unk_token` (WordPiece, WordLevel, BPE)
/// or `unk_id` (Unigram). The `tokenizers` crate keeps the Unigram one private.
#[derive(Deserialize)]
struct UnknownOfFile {
    model: UnknownOfModel,
}

#[derive(Deserialize)]
struct UnknownOfModel {
    unk_token: Option<String>,
    unk_id: Option<u32>,
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
        let unknown_id = serde_json::from_slice::<UnknownOfFile>(bytes)
            .ok()
            .and_then(|f| {
                f.model
                    .unk_id
                    .or_else(|| f.model.unk_token.and_then(|t| tokenizer.token_to_id(&t)))
            });
        Ok(Self {
            tokenizer,
            max_len,
            vocab_size,
            unknown_id,
        })
    }

    pub fn unknown_id(&self) -> Option<u32> {
        self.unknown_id
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
        self.encode_with_unknown_share(text).0
    }

    /// Token ids of `text` as [`Self::encode`], and the share of its word pieces (special
    /// tokens left out) that are the unknown token, from the same tokenization.
    pub fn encode_with_unknown_share(&self, text: &str) -> (Vec<u32>, f32) {
        let text = self.bounded(text);
        // `encode_fast`: the same ids, without the offsets only `evidence` needs.
        let Ok(encoding) = self.tokenizer.encode_fast(text, true) else {
            return (Vec::new(), 0.0);
        };
        let ids = encoding.get_ids();
        let mut pieces = 0usize;
        let mut unknown = 0usize;
        for (&id, &special) in ids.iter().zip(encoding.get_special_tokens_mask()) {
            if special == 0 {
                pieces += 1;
                unknown += usize::from(Some(id) == self.unknown_id);
            }
        }
        (ids.to_vec(), share(unknown, pieces))
    }

    /// The word pieces the model reads of `text`, with the text behind each unknown one
    /// (what the trainer's report of unreadable scripts counts).
    pub fn unknown_pieces<'a>(&self, text: &'a str) -> UnknownPieces<'a> {
        let text = self.bounded(text);
        let Ok(encoding) = self.tokenizer.encode(text, false) else {
            return UnknownPieces::default();
        };
        let mut pieces = UnknownPieces::default();
        for (&id, &(start, end)) in encoding.get_ids().iter().zip(encoding.get_offsets()) {
            let behind = text.get(start..end).unwrap_or_default();
            if Some(id) == self.unknown_id {
                pieces.unknown.push(behind);
            } else {
                pieces.known.push(behind);
            }
        }
        pieces
    }

    /// Whether the vocabulary has `word` as one piece that spells it (after a word-start
    /// mark such as `▁` or `Ġ`): a real word to the tokenizer. The unknown token is one
    /// piece too, but it does not spell the word.
    pub fn spells_whole(&self, word: &str) -> bool {
        self.tokenizer
            .encode_fast(word, false)
            .is_ok_and(|e| match e.get_ids() {
                [id] => self.tokenizer.id_to_token(*id).is_some_and(|piece| {
                    piece
                        .trim_start_matches(|c: char| !c.is_ascii_alphabetic())
                        .eq_ignore_ascii_case(word)
                }),
                _ => false,
            })
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
