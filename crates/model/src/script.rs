//! Writing systems, by Unicode block: which scripts a model's intents are written in (kept
//! in its bundle), and which script a query's letters belong to.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A script makes part of a model's reading when it holds at least this share of the
/// letters of its intents' sentences: a stray foreign name or emoji stays below it, a
/// language of the data is far above it (examples/bilingual: Han 38% of the letters).
pub const MIN_SCRIPT_SHARE: f64 = 0.01;

/// A writing system, by Unicode block.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Script {
    Latin,
    Han,
    Cyrillic,
    Arabic,
    Devanagari,
    Kana,
    Hangul,
    /// Anything else: other scripts, emoji, symbols.
    Other,
}

impl Script {
    pub fn name(self) -> &'static str {
        match self {
            Self::Latin => "Latin",
            Self::Han => "Han",
            Self::Cyrillic => "Cyrillic",
            Self::Arabic => "Arabic",
            Self::Devanagari => "Devanagari",
            Self::Kana => "Kana",
            Self::Hangul => "Hangul",
            Self::Other => "other",
        }
    }

    /// The script of one letter; `None` for digits, punctuation and spaces, which every
    /// script shares.
    pub fn of_char(c: char) -> Option<Self> {
        if c.is_ascii() {
            return c.is_ascii_alphabetic().then_some(Self::Latin);
        }
        if !c.is_alphanumeric() && !is_pictograph(c) {
            return None;
        }
        Some(match u32::from(c) {
            0x00C0..=0x024F | 0x1E00..=0x1EFF => Self::Latin,
            0x0400..=0x052F => Self::Cyrillic,
            0x0600..=0x06FF
            | 0x0750..=0x077F
            | 0x08A0..=0x08FF
            | 0xFB50..=0xFDFF
            | 0xFE70..=0xFEFF => Self::Arabic,
            0x0900..=0x097F => Self::Devanagari,
            0x3040..=0x30FF | 0x31F0..=0x31FF | 0xFF66..=0xFF9F => Self::Kana,
            0x1100..=0x11FF | 0x3130..=0x318F | 0xAC00..=0xD7AF => Self::Hangul,
            0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x3134F => Self::Han,
            _ => Self::Other,
        })
    }

    /// The script of a piece of text: that of its first letter, else [`Script::Other`].
    pub fn of(text: &str) -> Self {
        text.chars().find_map(Self::of_char).unwrap_or(Self::Other)
    }
}

/// Emoji and pictographs: not alphanumeric, but text a user means.
fn is_pictograph(c: char) -> bool {
    matches!(u32::from(c), 0x1F000..=0x1FAFF | 0x2600..=0x27BF)
}

/// The scripts of `texts`: each holding at least [`MIN_SCRIPT_SHARE`] of their letters, in
/// [`Script`] order.
pub fn written_in<'a>(texts: impl IntoIterator<Item = &'a str>) -> Vec<Script> {
    let mut letters: BTreeMap<Script, usize> = BTreeMap::new();
    for text in texts {
        for script in text.chars().filter_map(Script::of_char) {
            *letters.entry(script).or_default() += 1;
        }
    }
    let total: usize = letters.values().sum();
    letters
        .into_iter()
        .filter(|&(_, n)| n as f64 >= MIN_SCRIPT_SHARE * total as f64)
        .map(|(script, _)| script)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_by_unicode_block() {
        for (text, script) in [
            ("hello", Script::Latin),
            ("é", Script::Latin),
            ("天气", Script::Han),
            ("погода", Script::Cyrillic),
            ("الطقس", Script::Arabic),
            ("मौसम", Script::Devanagari),
            ("ありがとう", Script::Kana),
            ("タイマー", Script::Kana),
            ("날씨", Script::Hangul),
            ("🙂", Script::Other),
            ("12", Script::Other),
            ("1天", Script::Han),
        ] {
            assert_eq!(Script::of(text), script, "{text}");
        }
    }

    #[test]
    fn a_script_is_written_in_when_it_is_a_real_part_of_the_letters() {
        let mut texts = vec!["what is the weather like today"; 10];
        assert_eq!(written_in(texts.iter().copied()), [Script::Latin]);
        // One short Chinese name among 250 Latin letters is below the share.
        texts.push("北京");
        assert_eq!(written_in(texts.iter().copied()), [Script::Latin]);
        texts.push("今天天气怎么样");
        assert_eq!(
            written_in(texts.iter().copied()),
            [Script::Latin, Script::Han]
        );
        assert!(written_in(["123 !?"]).is_empty());
    }
}
