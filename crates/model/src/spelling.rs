//! Spelling repair toward the model's own words. A typo splits a word into sub-word pieces
//! the model never saw together, and a known query turns "unknown". So a query word that is
//! neither a word of the training data nor one the tokenizer knows whole, and lies one edit
//! (deletion, insertion, substitution, swap of neighbours) from a training word, is read as
//! that word before tokenizing. Words the tokenizer knows whole are left alone: they are
//! real words, and rewriting them would make unknown queries look known.

use std::collections::HashMap;
use std::ops::Range;

use crate::TextEncoder;

/// Shortest word that is looked at: a deleted letter leaves three of a four-letter word.
pub const MIN_TYPED_LEN: usize = 3;
/// Shortest word a typo is repaired to: shorter words are one edit from too many others.
pub const MIN_REPAIRED_LEN: usize = 4;
/// Longer runs of letters are not words anyone mistyped; they are left alone.
const MAX_TYPED_LEN: usize = 24;

/// The words of a model's training data, with how common each was.
#[derive(Clone, Debug, Default)]
pub struct Speller {
    /// Lowercase word → rank (0 = most frequent): the tie-break between neighbours.
    rank: HashMap<String, usize>,
}

/// One repaired word: its byte range in the text as typed and in the repaired text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WordRepair {
    pub typed: Range<usize>,
    pub repaired: Range<usize>,
}

/// A query with its typos repaired.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Repaired {
    pub text: String,
    /// In text order.
    pub words: Vec<WordRepair>,
}

impl Repaired {
    /// The byte offset in the typed text of byte `offset` of the repaired text: inside a
    /// repaired word, that word's bounds (start or end), elsewhere shifted by the edits before.
    pub fn typed_offset(&self, offset: usize, is_end: bool) -> usize {
        let mut shift: isize = 0;
        for w in &self.words {
            if offset < w.repaired.start || (is_end && offset == w.repaired.start) {
                break;
            }
            if offset < w.repaired.end || (is_end && offset == w.repaired.end) {
                return if is_end { w.typed.end } else { w.typed.start };
            }
            shift = w.typed.end as isize - w.repaired.end as isize;
        }
        (offset as isize + shift).max(0) as usize
    }
}

/// A query as a model reads it, whatever its kind: the part within the tokenizer's bound,
/// and that part with its typos repaired toward the training words when there were any.
/// The one place a query is prepared, so every entry point of every kind reads it alike.
pub struct ReadQuery<'a> {
    pub bounded: &'a str,
    pub repaired: Option<Repaired>,
}

impl<'a> ReadQuery<'a> {
    /// `text` cut to what `encoder` reads, a word one edit from one of `words` (and not a
    /// word the tokenizer has whole) read as that word.
    pub fn new(encoder: &TextEncoder, words: &Speller, text: &'a str) -> Self {
        let bounded = encoder.bounded(text);
        Self {
            bounded,
            repaired: words.repair(bounded, |w| encoder.spells_whole(w)),
        }
    }

    /// The text the model reads.
    pub fn text(&self) -> &str {
        self.repaired.as_ref().map_or(self.bounded, |r| &r.text)
    }
}

/// Runs of ASCII letters, with their byte offsets: the words a speller reads and repairs.
pub fn words(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let bytes = text.as_bytes();
    let mut at = 0;
    std::iter::from_fn(move || {
        let start = at + bytes[at..].iter().position(u8::is_ascii_alphabetic)?;
        let len = bytes[start..]
            .iter()
            .position(|b| !b.is_ascii_alphabetic())
            .unwrap_or(bytes.len() - start);
        at = start + len;
        // ASCII letters never split a UTF-8 sequence, so these are char boundaries.
        Some((start, &text[start..at]))
    })
}

/// The words a speller learns from `sentences`: runs of 3+ ASCII letters, lowercased, most
/// frequent first (ties in alphabetical order), each once.
pub fn vocabulary<'a>(sentences: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut counts: HashMap<String, usize> = HashMap::new();
    for sentence in sentences {
        for (_, w) in words(sentence) {
            if w.len() >= MIN_TYPED_LEN {
                *counts.entry(w.to_ascii_lowercase()).or_default() += 1;
            }
        }
    }
    let mut by_count: Vec<(String, usize)> = counts.into_iter().collect();
    by_count.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    by_count.into_iter().map(|(w, _)| w).collect()
}

/// Every string one edit from `word` (lowercase ASCII letters).
fn one_edit_away(word: &str) -> impl Iterator<Item = String> + '_ {
    let b = word.as_bytes();
    let n = b.len();
    let at = move |i: usize, middle: &[u8], skip: usize| {
        let mut s = Vec::with_capacity(n + 1);
        s.extend_from_slice(&b[..i]);
        s.extend_from_slice(middle);
        s.extend_from_slice(&b[(i + skip).min(n)..]);
        String::from_utf8(s).expect("ASCII letters")
    };
    let deletions = (0..n).map(move |i| at(i, &[], 1));
    let swaps = (0..n.saturating_sub(1)).map(move |i| at(i, &[b[i + 1], b[i]], 2));
    let substitutions = (0..n).flat_map(move |i| {
        (b'a'..=b'z')
            .filter(move |&c| c != b[i])
            .map(move |c| at(i, &[c], 1))
    });
    let insertions = (0..=n).flat_map(move |i| (b'a'..=b'z').map(move |c| at(i, &[c], 0)));
    deletions
        .chain(swaps)
        .chain(substitutions)
        .chain(insertions)
}

impl Speller {
    /// A speller over `words`, most frequent first (as [`vocabulary`] writes them).
    pub fn new(words: &[String]) -> Self {
        Self {
            // Collected last to first, so a word listed twice keeps its first (best) rank.
            rank: words
                .iter()
                .enumerate()
                .map(|(i, w)| (w.to_ascii_lowercase(), i))
                .rev()
                .collect(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.rank.is_empty()
    }

    /// Whether `word` (any case) is a training word.
    pub fn has(&self, word: &str) -> bool {
        self.rank.contains_key(&word.to_ascii_lowercase())
    }

    /// Whether `word` (any case) is a typo [`Self::repair`] would repair: one edit from a
    /// training word, within the lengths it looks at.
    pub fn is_one_edit_from_a_word(&self, word: &str) -> bool {
        (MIN_TYPED_LEN..=MAX_TYPED_LEN).contains(&word.len())
            && self.nearest(&word.to_ascii_lowercase()).is_some()
    }

    /// The most frequent training word one edit from `typed` (lowercase), if any.
    fn nearest(&self, typed: &str) -> Option<&str> {
        one_edit_away(typed)
            .filter(|c| c.len() >= MIN_REPAIRED_LEN)
            .filter_map(|c| self.rank.get_key_value(c.as_str()))
            .min_by_key(|(_, &rank)| rank)
            .map(|(w, _)| w.as_str())
    }

    /// `text` with its typos repaired, or None when no word changes. `known_whole` says
    /// whether the tokenizer has a word as one piece (such words are never changed).
    pub fn repair(&self, text: &str, known_whole: impl Fn(&str) -> bool) -> Option<Repaired> {
        if self.is_empty() {
            return None;
        }
        let mut out = String::with_capacity(text.len());
        let mut repairs = Vec::new();
        let mut copied = 0;
        for (start, word) in words(text) {
            if !(MIN_TYPED_LEN..=MAX_TYPED_LEN).contains(&word.len()) {
                continue;
            }
            let lower = word.to_ascii_lowercase();
            if self.rank.contains_key(&lower) || known_whole(word) {
                continue;
            }
            let Some(nearest) = self.nearest(&lower) else {
                continue;
            };
            out.push_str(&text[copied..start]);
            let at = out.len();
            out.push_str(nearest);
            repairs.push(WordRepair {
                typed: start..start + word.len(),
                repaired: at..out.len(),
            });
            copied = start + word.len();
        }
        if repairs.is_empty() {
            return None;
        }
        out.push_str(&text[copied..]);
        Some(Repaired {
            text: out,
            words: repairs,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn speller() -> Speller {
        Speller::new(&vocabulary([
            "what is the weather tomorrow",
            "weather forecast for tomorrow",
            "set an alarm",
            "whether",
        ]))
    }

    fn nothing_whole(_: &str) -> bool {
        false
    }

    #[test]
    fn the_vocabulary_is_ordered_by_frequency_then_alphabet() {
        let v = vocabulary(["b a c", "Tomorrow tomorrow weather", "what's up"]);
        assert_eq!(v, ["tomorrow", "weather", "what"]);
    }

    #[test]
    fn each_kind_of_edit_is_repaired_to_the_most_frequent_neighbour() {
        let s = speller();
        for (typed, expected) in [
            ("wether tomorow", "weather tomorrow"),
            ("weahter", "weather"),
            ("wxather", "weather"),
            ("weatherr", "weather"),
            ("alram", "alarm"),
        ] {
            let repaired = s.repair(typed, nothing_whole).expect(typed);
            assert_eq!(repaired.text, expected, "{typed}");
        }
        // "wether" is one edit from both "weather" (two sentences) and "whether" (one).
        assert_eq!(s.repair("wether", nothing_whole).unwrap().text, "weather");
    }

    #[test]
    fn training_words_whole_tokenizer_words_and_far_words_are_kept() {
        let s = speller();
        assert_eq!(s.repair("What is the weather", nothing_whole), None);
        assert_eq!(s.repair("wether", |w| w == "wether"), None);
        assert_eq!(s.repair("cancel my card", nothing_whole), None);
        assert_eq!(s.repair("", nothing_whole), None);
        assert_eq!(Speller::default().repair("wether", nothing_whole), None);
    }

    #[test]
    fn offsets_map_back_to_the_typed_text() {
        let s = speller();
        let typed = "é wether, tomorow!";
        let r = s.repair(typed, nothing_whole).unwrap();
        assert_eq!(r.text, "é weather, tomorrow!");
        let weather = r.text.find("weather").unwrap();
        assert_eq!(
            r.typed_offset(weather, false),
            typed.find("wether").unwrap()
        );
        assert_eq!(
            r.typed_offset(weather + "weather".len(), true),
            typed.find(',').unwrap()
        );
        let bang = r.text.find('!').unwrap();
        assert_eq!(r.typed_offset(bang, false), typed.find('!').unwrap());
        assert_eq!(r.typed_offset(0, false), 0);
    }
}
