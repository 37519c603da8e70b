//! Vocabulary pruning. For Unigram (SentencePiece) tokenizers ([`prune_unigram`]): a
//! 250k-piece multilingual vocabulary becomes a few tens of thousands, small enough for a web
//! page, while the sentences the classifier is trained on still split exactly as before. For
//! WordPiece ([`prune_wordpiece_to_latin`]): an English vocabulary loses the pieces English
//! text never produces (`[unusedN]`, other scripts).
//!
//! Which pieces stay, in this order until the budget is spent:
//! 1. the special and added tokens, and the unknown piece;
//! 2. every piece the given texts (training data, negatives) are split into;
//! 3. every single-character CJK piece, so any Chinese text still has a split;
//! 4. the remaining Latin, ASCII and CJK pieces by score (the most frequent first).
//!
//! Kept pieces keep their scores (to 4 decimals) and their relative order, so Viterbi picks
//! the same split whenever all pieces of the original split survive (always for the texts of
//! step 2). A SentencePiece precompiled character map is replaced by the NFKC rules it
//! encodes when they normalize the same ([`plain_normalizer`]): with both, a pruned
//! tokenizer.json has a third of the gzip bytes.

use std::collections::BTreeSet;

use anyhow::{bail, ensure, Context, Result};
use serde_json::Value;
use tokenizers::{NormalizedString, Normalizer, NormalizerWrapper, Tokenizer};

/// The outcome of pruning: the new tokenizer.json and, for each new id, its old id.
pub struct Pruned {
    pub tokenizer_json: Vec<u8>,
    pub old_ids: Vec<u32>,
    /// How many pieces each step of the policy contributed.
    pub from_texts: usize,
    pub from_cjk_chars: usize,
    pub from_scores: usize,
    /// When a `Precompiled` character map was replaced by NFKC (see [`plain_normalizer`]):
    /// the single code points the two normalize differently.
    pub normalizer_differences: Option<Vec<char>>,
}

/// CJK ideographs, CJK symbols and punctuation, and full-width forms.
pub fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3000..=0x303F | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF
        | 0xFF00..=0xFFEF | 0x20000..=0x2FA1F)
}

fn is_latin(c: char) -> bool {
    c.is_ascii() || matches!(c as u32, 0x00C0..=0x024F | 0x1E00..=0x1EFF)
}

/// A piece's text without SentencePiece's word-start marker.
fn piece_text(piece: &str) -> &str {
    piece.trim_start_matches('\u{2581}')
}

/// Keeps `target` pieces of the Unigram `tokenizer_json` (see the module docs), always
/// including every piece that `texts` are split into.
pub fn prune_unigram(tokenizer_json: &[u8], texts: &[String], target: usize) -> Result<Pruned> {
    let (mut doc, tokenizer) = open(
        tokenizer_json,
        "Unigram",
        "vocabulary pruning needs a Unigram tokenizer",
    )?;
    let vocab: Vec<(String, f64)> = serde_json::from_value(doc["model"]["vocab"].take())
        .context("tokenizer.json: model.vocab is not a list of [piece, score]")?;
    let unk_id = doc["model"]["unk_id"].as_u64().map(|id| id as usize);

    // Steps 1 and 2 of the policy stay whatever the budget; steps 3 and 4 fill what is left.
    let mut keep = added_token_ids(&doc);
    keep.extend(unk_id);
    keep_pieces_of(&tokenizer, texts, &mut keep)?;
    let from_texts = keep.len();
    if from_texts > target {
        bail!(
            "--prune {target} is smaller than the {from_texts} pieces the given texts and \
             special tokens need"
        );
    }
    let from_cjk_chars = keep_single_cjk_chars(&vocab, &mut keep, target);
    let from_scores = keep_by_score(&vocab, &mut keep, target);

    let old_ids: Vec<u32> = keep.iter().map(|&id| id as u32).collect();
    let new_id = |old: u64| new_id_of(&old_ids, old);
    doc["model"]["vocab"] = kept_vocab(&vocab, &old_ids);
    if let Some(unk) = unk_id {
        doc["model"]["unk_id"] = new_id(unk as u64)?.into();
    }
    let normalizer_differences = plain_normalizer(&mut doc, &tokenizer, texts)?;
    let tokenizer_json = finish(doc, &tokenizer, &old_ids, &new_id)?;
    Ok(Pruned {
        tokenizer_json,
        old_ids,
        from_texts,
        from_cjk_chars,
        from_scores,
        normalizer_differences,
    })
}

/// The ids of the special and added tokens, which every pruned tokenizer keeps.
fn added_token_ids(doc: &Value) -> BTreeSet<usize> {
    doc["added_tokens"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|t| t["id"].as_u64())
                .map(|id| id as usize)
                .collect()
        })
        .unwrap_or_default()
}

/// Step 3: adds single-character CJK pieces in vocabulary order until `keep` holds
/// `target` pieces, so any Chinese text still has a split. Returns how many it added.
fn keep_single_cjk_chars(
    vocab: &[(String, f64)],
    keep: &mut BTreeSet<usize>,
    target: usize,
) -> usize {
    let before = keep.len();
    let single_cjk = |p: &str| {
        let mut chars = piece_text(p).chars();
        matches!((chars.next(), chars.next()), (Some(c), None) if is_cjk(c))
    };
    for (id, (piece, _)) in vocab.iter().enumerate() {
        if keep.len() == target {
            break;
        }
        if single_cjk(piece) {
            keep.insert(id);
        }
    }
    keep.len() - before
}

/// Step 4: fills `keep` up to `target` with the Latin, ASCII and CJK pieces of the highest
/// scores. Returns how many it added.
fn keep_by_score(vocab: &[(String, f64)], keep: &mut BTreeSet<usize>, target: usize) -> usize {
    let before = keep.len();
    let mut by_score: Vec<usize> = (0..vocab.len())
        .filter(|id| !keep.contains(id))
        .filter(|&id| {
            piece_text(&vocab[id].0)
                .chars()
                .all(|c| is_latin(c) || is_cjk(c))
        })
        .collect();
    // Highest score first; ties keep the vocabulary's order, so the result is deterministic.
    by_score.sort_by(|&a, &b| vocab[b].1.total_cmp(&vocab[a].1).then(a.cmp(&b)));
    let room = target - keep.len();
    keep.extend(by_score.into_iter().take(room));
    keep.len() - before
}

/// The new id of old id `old`: its place among the kept ids (`old_ids`, ascending).
fn new_id_of(old_ids: &[u32], old: u64) -> Result<u64> {
    old_ids
        .binary_search(&(old as u32))
        .map(|i| i as u64)
        .map_err(|_| anyhow::anyhow!("token id {old} was pruned"))
}

/// The Unigram `model.vocab` of the kept pieces, in their old order, scores rounded.
fn kept_vocab(vocab: &[(String, f64)], old_ids: &[u32]) -> Value {
    Value::Array(
        old_ids
            .iter()
            .map(|&id| {
                let (piece, score) = &vocab[id as usize];
                serde_json::json!([piece, round_score(*score)])
            })
            .collect(),
    )
}

/// A piece's score with 4 decimals: the JSON is a third smaller, and splits stay the same
/// (scores are log-probabilities of about -3 to -20; two splits within 1e-4 of each other
/// are a near-tie either way, and on CLINC150 and the examples none changes).
fn round_score(score: f64) -> f64 {
    (score * 1e4).round() / 1e4
}

/// The code points SentencePiece's `nmt_nfkc` rules treat differently from plain NFKC:
/// control characters it drops, and characters it turns into a space.
const NMT_DROPPED: &str = "[\u{1}-\u{8}\u{B}\u{E}-\u{1F}\u{7F}\u{8F}\u{9F}]";
const NMT_SPACES: &str =
    "[\t\n\u{C}\r\u{1680}\u{200B}-\u{200F}\u{2028}\u{2029}\u{2581}\u{FEFF}\u{FFFD}]";
/// The most single code points on which the plain normalizer may differ from the
/// precompiled one it replaces (the multilingual-e5 map differs on 3 of 1.1 million).
const MAX_NORMALIZER_DIFFERENCES: usize = 8;

/// Replaces a SentencePiece `Precompiled` character map (a 317 kB blob in the JSON, a third
/// of a pruned tokenizer's gzip bytes) with NFKC and the `nmt_nfkc` rules as two regex
/// replacements, when they normalize the same: every kept text identically, and all but at
/// most [`MAX_NORMALIZER_DIFFERENCES`] single code points. Returns the code points that
/// differ, or `None` when the map was kept (or there was none).
fn plain_normalizer(
    doc: &mut Value,
    full: &Tokenizer,
    texts: &[String],
) -> Result<Option<Vec<char>>> {
    let Some(replaced) = without_precompiled(&doc["normalizer"]) else {
        return Ok(None);
    };
    let mut candidate = doc.clone();
    candidate["normalizer"] = replaced;
    let plain = Tokenizer::from_bytes(serde_json::to_vec(&candidate)?)
        .map_err(|e| anyhow::anyhow!("tokenizer.json with NFKC does not load: {e}"))?;
    let (Some(old), Some(new)) = (full.get_normalizer(), plain.get_normalizer()) else {
        return Ok(None);
    };
    let normalize = |n: &NormalizerWrapper, text: &str| {
        let mut s = NormalizedString::from(text);
        n.normalize(&mut s).map(|()| s.get().to_string()).ok()
    };
    for text in texts {
        let old_form = normalize(old, text);
        if old_form.is_none() || old_form != normalize(new, text) {
            return Ok(None);
        }
    }
    let mut differences = Vec::new();
    let mut probe = String::new();
    for c in (0..=0x10FFFF).filter_map(char::from_u32) {
        probe.clear();
        probe.extend(['a', c, 'b']);
        if normalize(old, &probe) != normalize(new, &probe) {
            differences.push(c);
            if differences.len() > MAX_NORMALIZER_DIFFERENCES {
                return Ok(None);
            }
        }
    }
    *doc = candidate;
    Ok(Some(differences))
}

/// `normalizer` with its `Precompiled` step (alone or in a sequence) replaced by the
/// `nmt_nfkc` rules and NFKC; `None` when it has none.
fn without_precompiled(normalizer: &Value) -> Option<Value> {
    let plain = [
        serde_json::json!({"type": "Replace", "pattern": {"Regex": NMT_DROPPED}, "content": ""}),
        serde_json::json!({"type": "Replace", "pattern": {"Regex": NMT_SPACES}, "content": " "}),
        serde_json::json!({"type": "NFKC"}),
    ];
    let steps: Vec<Value> = match normalizer["type"].as_str()? {
        "Precompiled" => vec![normalizer.clone()],
        "Sequence" => normalizer["normalizers"].as_array()?.clone(),
        _ => return None,
    };
    let at = steps.iter().position(|n| n["type"] == "Precompiled")?;
    let mut out = steps[..at].to_vec();
    out.extend(plain);
    out.extend_from_slice(&steps[at + 1..]);
    Some(serde_json::json!({"type": "Sequence", "normalizers": out}))
}

/// Characters of English (and other Latin-script) text after BERT's normalizer: ASCII, the
/// rest of Latin-1 and Latin Extended, IPA, Greek (science and maths), Latin Extended
/// Additional, and punctuation, currency, arrows and mathematical symbols.
fn is_latin_text_char(c: char) -> bool {
    matches!(c as u32, 0..=0x03FF | 0x1E00..=0x1EFF | 0x2000..=0x2BFF)
}

/// Drops from the WordPiece `tokenizer_json` every `[unusedN]` placeholder and every piece
/// holding a character of another script (Cyrillic, CJK, Arabic, ...), keeping the special
/// and added tokens, the unknown token and every piece that `texts` are split into. Latin
/// text splits exactly as before: a WordPiece split only ever uses pieces made of the word's
/// own characters, and every kept piece keeps its place in the (greedy, longest-first) match.
pub fn prune_wordpiece_to_latin(tokenizer_json: &[u8], texts: &[String]) -> Result<Pruned> {
    let (mut doc, tokenizer) = open(
        tokenizer_json,
        "WordPiece",
        "--latin-only needs a WordPiece tokenizer",
    )?;
    let vocab: std::collections::HashMap<String, u64> =
        serde_json::from_value(doc["model"]["vocab"].take())
            .context("tokenizer.json: model.vocab is not a map of piece to id")?;
    let unk = doc["model"]["unk_token"]
        .as_str()
        .unwrap_or("[UNK]")
        .to_string();
    let mut keep = added_token_ids(&doc);
    keep.extend(vocab.get(&unk).map(|&id| id as usize));
    keep_pieces_of(&tokenizer, texts, &mut keep)?;
    let from_texts = keep.len();
    let placeholder = |p: &str| p.starts_with("[unused") && p.ends_with(']');
    keep.extend(
        vocab
            .iter()
            .filter(|(piece, _)| !placeholder(piece))
            .filter(|(piece, _)| {
                piece
                    .trim_start_matches("##")
                    .chars()
                    .all(is_latin_text_char)
            })
            .map(|(_, &id)| id as usize),
    );
    let from_scores = keep.len() - from_texts;

    let old_ids: Vec<u32> = keep.iter().map(|&id| id as u32).collect();
    let new_id = |old: u64| new_id_of(&old_ids, old);
    let mut pruned_vocab = serde_json::Map::new();
    let mut by_id: Vec<(&String, &u64)> = vocab.iter().collect();
    by_id.sort_by_key(|(_, &id)| id);
    for (piece, &id) in by_id {
        if let Ok(new) = new_id(id) {
            pruned_vocab.insert(piece.clone(), new.into());
        }
    }
    doc["model"]["vocab"] = Value::Object(pruned_vocab);
    let tokenizer_json = finish(doc, &tokenizer, &old_ids, &new_id)?;
    Ok(Pruned {
        tokenizer_json,
        old_ids,
        from_texts,
        from_cjk_chars: 0,
        from_scores,
        normalizer_differences: None,
    })
}

/// `tokenizer_json` as JSON and as a loaded tokenizer, refused unless its model is `kind`.
fn open(tokenizer_json: &[u8], kind: &str, need: &str) -> Result<(Value, Tokenizer)> {
    let doc: Value =
        serde_json::from_slice(tokenizer_json).context("tokenizer.json is not JSON")?;
    ensure!(
        doc["model"]["type"] == kind,
        "{need}; this one's model is {}",
        doc["model"]["type"]
    );
    let tokenizer = Tokenizer::from_bytes(tokenizer_json)
        .map_err(|e| anyhow::anyhow!("tokenizer.json does not load: {e}"))?;
    Ok((doc, tokenizer))
}

/// Adds to `keep` the id of every piece `texts` are split into.
fn keep_pieces_of(
    tokenizer: &Tokenizer,
    texts: &[String],
    keep: &mut BTreeSet<usize>,
) -> Result<()> {
    for text in texts {
        let encoding = tokenizer
            .encode(text.as_str(), false)
            .map_err(|e| anyhow::anyhow!("cannot tokenize {text:?}: {e}"))?;
        keep.extend(encoding.get_ids().iter().map(|&id| id as usize));
    }
    Ok(())
}

/// The pruned tokenizer.json: added tokens and post-processor ids renumbered, then checked
/// against the full tokenizer.
fn finish(
    mut doc: Value,
    full: &Tokenizer,
    old_ids: &[u32],
    new_id: &dyn Fn(u64) -> Result<u64>,
) -> Result<Vec<u8>> {
    if let Some(tokens) = doc["added_tokens"].as_array_mut() {
        for token in tokens {
            if let Some(id) = token["id"].as_u64() {
                token["id"] = new_id(id)?.into();
            }
        }
    }
    renumber_post_processor(&mut doc["post_processor"], new_id)?;
    let tokenizer_json = serde_json::to_vec(&doc)?;
    check_pruned(full, &tokenizer_json, old_ids)?;
    Ok(tokenizer_json)
}

/// Special-token ids inside post-processors (Template, Roberta/Bert, and sequences of them).
fn renumber_post_processor(node: &mut Value, new_id: &dyn Fn(u64) -> Result<u64>) -> Result<()> {
    match node["type"].as_str() {
        Some("TemplateProcessing") => {
            if let Some(specials) = node["special_tokens"].as_object_mut() {
                for special in specials.values_mut() {
                    if let Some(ids) = special["ids"].as_array_mut() {
                        for id in ids {
                            *id = new_id(id.as_u64().context("special token id")?)?.into();
                        }
                    }
                }
            }
        }
        Some("RobertaProcessing") | Some("BertProcessing") => {
            for key in ["sep", "cls"] {
                if let Some(id) = node[key][1].as_u64() {
                    node[key][1] = new_id(id)?.into();
                }
            }
        }
        Some("Sequence") => {
            if let Some(list) = node["processors"].as_array_mut() {
                for p in list {
                    renumber_post_processor(p, new_id)?;
                }
            }
        }
        _ => {}
    }
    Ok(())
}

/// The pruned tokenizer loads, has the expected size, and names every kept piece as before.
fn check_pruned(full: &Tokenizer, pruned_json: &[u8], old_ids: &[u32]) -> Result<()> {
    let pruned = Tokenizer::from_bytes(pruned_json)
        .map_err(|e| anyhow::anyhow!("the pruned tokenizer.json does not load: {e}"))?;
    ensure!(
        pruned.get_vocab_size(true) == old_ids.len(),
        "the pruned tokenizer has {} tokens, expected {}",
        pruned.get_vocab_size(true),
        old_ids.len()
    );
    for (new, &old) in old_ids.iter().enumerate() {
        ensure!(
            pruned.id_to_token(new as u32) == full.id_to_token(old),
            "pruned id {new} is not old id {old}"
        );
    }
    Ok(())
}

/// How a pruned tokenizer splits text compared with the full one.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct SplitAgreement {
    /// Tokens of the full split containing a CJK character, and how many of them the pruned
    /// split has unchanged (same piece over the same characters).
    pub cjk_tokens: usize,
    pub cjk_unchanged: usize,
    /// The other tokens (English and other Latin text, digits, punctuation).
    pub other_tokens: usize,
    pub other_unchanged: usize,
    /// Tokens of the pruned split that are the unknown token, and all of its tokens.
    pub pruned_unknown: usize,
    pub pruned_tokens: usize,
}

/// Compares the full and pruned tokenizers' splits of `texts` (special tokens left out).
pub fn split_agreement(
    full: &Tokenizer,
    pruned: &Tokenizer,
    texts: &[String],
) -> Result<SplitAgreement> {
    let mut a = SplitAgreement::default();
    let unk = |t: &Tokenizer| ["<unk>", "[UNK]"].iter().find_map(|u| t.token_to_id(u));
    let pruned_unk = unk(pruned);
    for text in texts {
        let f = full
            .encode(text.as_str(), false)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let p = pruned
            .encode(text.as_str(), false)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let kept: BTreeSet<(&str, (usize, usize))> = p
            .get_tokens()
            .iter()
            .map(String::as_str)
            .zip(p.get_offsets().iter().copied())
            .collect();
        for (token, offsets) in f.get_tokens().iter().zip(f.get_offsets()) {
            let same = kept.contains(&(token.as_str(), *offsets));
            if token.chars().any(is_cjk) {
                a.cjk_tokens += 1;
                a.cjk_unchanged += same as usize;
            } else {
                a.other_tokens += 1;
                a.other_unchanged += same as usize;
            }
        }
        a.pruned_tokens += p.get_ids().len();
        a.pruned_unknown += p
            .get_ids()
            .iter()
            .filter(|&&id| Some(id) == pruned_unk)
            .count();
    }
    Ok(a)
}

/// Every string anywhere in a JSON document (intents' sentences, negatives, CLINC150 pairs).
pub fn json_strings(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|v| json_strings(v, out)),
        Value::Object(map) => map.values().for_each(|v| json_strings(v, out)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tiny Unigram tokenizer in the multilingual model's layout (<s> <pad> </s> <unk>,
    /// Metaspace, a Template post-processor, and an added <mask> at the end).
    fn tiny() -> Vec<u8> {
        include_bytes!("../tests/data/tiny-unigram/tokenizer.json").to_vec()
    }

    fn tokens(json: &[u8], text: &str) -> Vec<String> {
        let t = Tokenizer::from_bytes(json).unwrap();
        t.encode(text, true).unwrap().get_tokens().to_vec()
    }

    /// A tiny BERT-style WordPiece tokenizer with placeholders and pieces of other scripts.
    const TINY_WORDPIECE: &str = r###"{"version":"1.0","truncation":null,"padding":null,
      "added_tokens":[{"id":0,"content":"[PAD]","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true},
        {"id":3,"content":"[UNK]","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true},
        {"id":4,"content":"[CLS]","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true},
        {"id":5,"content":"[SEP]","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true}],
      "normalizer":{"type":"BertNormalizer","clean_text":true,"handle_chinese_chars":true,"strip_accents":null,"lowercase":true},
      "pre_tokenizer":{"type":"BertPreTokenizer"},
      "post_processor":{"type":"TemplateProcessing","single":[{"SpecialToken":{"id":"[CLS]","type_id":0}},{"Sequence":{"id":"A","type_id":0}},{"SpecialToken":{"id":"[SEP]","type_id":0}}],
        "pair":[{"Sequence":{"id":"A","type_id":0}}],
        "special_tokens":{"[CLS]":{"id":"[CLS]","ids":[4],"tokens":["[CLS]"]},"[SEP]":{"id":"[SEP]","ids":[5],"tokens":["[SEP]"]}}},
      "decoder":null,
      "model":{"type":"WordPiece","unk_token":"[UNK]","continuing_subword_prefix":"##","max_input_chars_per_word":100,
        "vocab":{"[PAD]":0,"[unused0]":1,"[unused1]":2,"[UNK]":3,"[CLS]":4,"[SEP]":5,"weather":6,"天":7,"##ing":8,
          "rain":9,"ж":10,"£":11,"##ж":12,"π":13,"снег":14}}}"###;

    #[test]
    fn latin_pruning_drops_placeholders_and_other_scripts_only() {
        let full = TINY_WORDPIECE.as_bytes();
        let pruned = prune_wordpiece_to_latin(full, &["snow ж".to_string()]).unwrap();
        let t = Tokenizer::from_bytes(&pruned.tokenizer_json).unwrap();
        let names: Vec<String> = (0..t.get_vocab_size(true) as u32)
            .map(|i| t.id_to_token(i).unwrap())
            .collect();
        // ж stays because a kept text needs it; 天, ##ж, снег and the placeholders go.
        assert_eq!(
            names,
            ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "weather", "##ing", "rain", "ж", "£", "π"]
        );
        assert_eq!(pruned.old_ids, [0, 3, 4, 5, 6, 8, 9, 10, 11, 13]);
        // Latin text splits as before; the post-processor's ids follow the renumbering.
        assert_eq!(
            tokens(&pruned.tokenizer_json, "Raining weather"),
            tokens(full, "Raining weather")
        );
        assert_eq!(
            tokens(&pruned.tokenizer_json, "天"),
            ["[CLS]", "[UNK]", "[SEP]"]
        );
        assert!(prune_wordpiece_to_latin(&tiny(), &[]).is_err());
    }

    #[test]
    fn pruning_keeps_what_the_texts_need_then_cjk_chars_then_scores() {
        let full = tiny();
        let texts = vec!["weather".to_string()];
        let pruned = prune_unigram(&full, &texts, 10).unwrap();
        // Specials (5) + ▁weather = 6 from the texts; 天 and 气 are single CJK characters;
        // the rest by score: ▁der (-3.0) then ▁ (-2.0) come first. ölçü is Latin; "天气" has
        // two characters, so it only competes on score (-6.0) and loses.
        assert_eq!(pruned.from_texts, 6);
        assert_eq!(pruned.from_cjk_chars, 2);
        assert_eq!(pruned.from_scores, 2);
        let names: Vec<String> = {
            let t = Tokenizer::from_bytes(&pruned.tokenizer_json).unwrap();
            (0..10).map(|i| t.id_to_token(i).unwrap()).collect()
        };
        assert_eq!(
            names,
            [
                "<s>",
                "<pad>",
                "</s>",
                "<unk>",
                "\u{2581}",
                "\u{2581}weather",
                "天",
                "气",
                "\u{2581}der",
                "<mask>"
            ]
        );
        // The texts split as before; the special tokens and <mask> are renumbered consistently.
        assert_eq!(
            tokens(&pruned.tokenizer_json, "weather"),
            tokens(&full, "weather")
        );
        let t = Tokenizer::from_bytes(&pruned.tokenizer_json).unwrap();
        assert_eq!(t.token_to_id("<mask>"), Some(9));
        assert_eq!(t.encode("weather", true).unwrap().get_ids(), [0, 5, 2]);
        // Chinese still splits into characters; a lost piece falls back to smaller ones.
        assert_eq!(
            tokens(&pruned.tokenizer_json, "天气"),
            ["<s>", "\u{2581}", "天", "气", "</s>"]
        );
        assert_eq!(pruned.old_ids, [0, 1, 2, 3, 4, 5, 9, 10, 12, 17]);
    }

    #[test]
    fn a_budget_below_what_the_texts_need_is_refused() {
        let err = prune_unigram(&tiny(), &["weather today".to_string()], 4)
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.contains("--prune 4 is smaller than the 7 pieces"),
            "{err}"
        );
    }

    #[test]
    fn other_tokenizer_models_are_refused_by_name() {
        let json = br#"{"model": {"type": "WordPiece", "vocab": {}}}"#;
        let err = prune_unigram(json, &[], 10).err().unwrap().to_string();
        assert!(
            err.contains("needs a Unigram tokenizer") && err.contains("WordPiece"),
            "{err}"
        );
    }

    #[test]
    fn split_agreement_counts_changed_and_unknown_tokens() {
        let full = tiny();
        let pruned = prune_unigram(&full, &["weather".to_string()], 10).unwrap();
        let (f, p) = (
            Tokenizer::from_bytes(&full).unwrap(),
            Tokenizer::from_bytes(&pruned.tokenizer_json).unwrap(),
        );
        // Full: ▁weather | ▁, 天气 | ▁today. Pruned: ▁weather | ▁, 天, 气 | ▁, <unk>...
        let a = split_agreement(&f, &p, &["weather 天气".into(), "today".into()]).unwrap();
        assert_eq!((a.cjk_tokens, a.cjk_unchanged), (1, 0));
        assert_eq!((a.other_tokens, a.other_unchanged), (3, 2));
        assert!(a.pruned_unknown >= 1, "{a:?}");
    }

    #[test]
    fn a_precompiled_map_gives_way_to_nfkc_in_place() {
        let map = serde_json::json!({"type": "Precompiled", "precompiled_charsmap": "AAAA"});
        let collapse =
            serde_json::json!({"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": " "});
        let sequence = serde_json::json!({"type": "Sequence", "normalizers": [map, collapse]});
        let types = |v: &Value| -> Vec<String> {
            v["normalizers"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| n["type"].as_str().unwrap().to_string())
                .collect()
        };
        let replaced = without_precompiled(&sequence).unwrap();
        assert_eq!(types(&replaced), ["Replace", "Replace", "NFKC", "Replace"]);
        assert_eq!(replaced["normalizers"][3], collapse);
        assert_eq!(
            types(&without_precompiled(&map).unwrap()),
            ["Replace", "Replace", "NFKC"]
        );
        assert_eq!(without_precompiled(&collapse), None);
        assert_eq!(without_precompiled(&Value::Null), None);
        // The rules load as a normalizer: controls go, exotic spaces become one space.
        let mut doc: Value = serde_json::from_slice(&tiny()).unwrap();
        doc["normalizer"] = without_precompiled(&sequence).unwrap();
        let t = Tokenizer::from_bytes(serde_json::to_vec(&doc).unwrap()).unwrap();
        let mut s = NormalizedString::from("a\u{7}b\u{200B}\u{2028}ｃ");
        t.get_normalizer().unwrap().normalize(&mut s).unwrap();
        assert_eq!(s.get(), "ab c");
    }

    #[test]
    fn pruned_scores_have_four_decimals_and_a_tokenizer_without_a_map_keeps_its_normalizer() {
        let pruned = prune_unigram(&tiny(), &["weather".to_string()], 10).unwrap();
        assert_eq!(pruned.normalizer_differences, None);
        let doc: Value = serde_json::from_slice(&pruned.tokenizer_json).unwrap();
        assert_eq!(doc["normalizer"], Value::Null);
        for entry in doc["model"]["vocab"].as_array().unwrap() {
            let score = entry[1].as_f64().unwrap();
            assert_eq!(score, round_score(score), "{entry}");
        }
        assert_eq!(round_score(-9.797423362731934), -9.7974);
    }

    #[test]
    fn json_strings_walks_every_shape() {
        let v = serde_json::json!({"a": ["x", "y"], "b": [["z", "label"]], "n": 3});
        let mut out = Vec::new();
        json_strings(&v, &mut out);
        out.sort();
        assert_eq!(out, ["label", "x", "y", "z"]);
    }
}
