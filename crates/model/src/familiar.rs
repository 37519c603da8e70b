//! Text the model has no grounds to judge is unknown whatever its energy. A model's logits
//! only mean something for text like its training sentences; keyboard mash (`asdf`), a
//! lone digit or emoji, or a sentence in a script none of its intents is written in still
//! gets logits, and sometimes a low energy, because the network must answer something. So
//! before the energy is trusted the query must show the model something it knows:
//! 1. a word, two or more letters in a row, or a sum, two numbers joined by an operator
//!    (`2+2`, `8 x 7`: what a calculator intent is asked); not `5`, `?`, `🙂` or `a`;
//! 2. mostly letters of the scripts the model's intents are written in ([`crate::script`]);
//! 3. among its Latin words, one the model or its tokenizer knows: a training word, one
//!    edit from one (a typo, [`crate::spelling`]), or a word the tokenizer has whole (a real
//!    word: chit-chat such as `thanks` stays for the energy to judge).
//!
//! Rules 2 and 3 need the bundle to carry its scripts and training words (`scripts`,
//! `spelling`); without them (older bundles, `--spelling off`) they are off.

use crate::script::Script;
use crate::spelling::{self, Speller};

/// Whether `text` is unfamiliar (see the module): no word, mostly other scripts than
/// `scripts`, or no Latin word that `words` or `spells_whole` knows.
pub fn is_unfamiliar(
    text: &str,
    scripts: &[Script],
    words: &Speller,
    spells_whole: impl Fn(&str) -> bool,
) -> bool {
    !(has_a_word(text) || has_a_sum(text))
        || mostly_other_scripts(text, scripts)
        || (!words.is_empty() && no_known_word(text, words, spells_whole))
}

/// Two letters in a row, of any script.
fn has_a_word(text: &str) -> bool {
    let mut previous_is_letter = false;
    for c in text.chars() {
        let is_letter = c.is_alphabetic();
        if is_letter && previous_is_letter {
            return true;
        }
        previous_is_letter = is_letter;
    }
    false
}

/// Two numbers joined by an arithmetic operator, spaces allowed around it: `2+2`, `3.5 * 4`,
/// `8 x 7`, `56 / 7`.
fn has_a_sum(text: &str) -> bool {
    #[derive(PartialEq)]
    enum Last {
        Nothing,
        Number,
        NumberThenOperator,
    }
    let mut last = Last::Nothing;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() {
            if last == Last::NumberThenOperator {
                return true;
            }
            while chars.next_if(|d| d.is_ascii_digit() || *d == '.').is_some() {}
            last = Last::Number;
        } else if c == ' ' {
        } else if last == Last::Number && "+-*/x×÷^%".contains(c) {
            last = Last::NumberThenOperator;
        } else {
            last = Last::Nothing;
        }
    }
    false
}

/// More than half of the letters are in scripts outside `scripts` (never, when empty).
fn mostly_other_scripts(text: &str, scripts: &[Script]) -> bool {
    if scripts.is_empty() {
        return false;
    }
    let (mut letters, mut other) = (0usize, 0usize);
    for script in text.chars().filter_map(Script::of_char) {
        letters += 1;
        other += usize::from(!scripts.contains(&script));
    }
    2 * other > letters
}

/// The text has Latin words of two or more letters and none is known. Membership first,
/// the tokenizer next, the one-edit search (the dearest) last.
fn no_known_word(text: &str, words: &Speller, spells_whole: impl Fn(&str) -> bool) -> bool {
    let typed: Vec<&str> = spelling::words(text)
        .map(|(_, w)| w)
        .filter(|w| w.len() >= 2)
        .collect();
    !typed.is_empty()
        && !typed.iter().any(|w| words.has(w))
        && !typed.iter().any(|w| spells_whole(w))
        && !typed.iter().any(|w| words.is_one_edit_from_a_word(w))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spelling::vocabulary;

    fn words() -> Speller {
        Speller::new(&vocabulary([
            "what is the weather tomorrow",
            "set a timer for five minutes",
        ]))
    }

    /// A stand-in tokenizer that knows a few real words whole.
    fn whole(word: &str) -> bool {
        ["thanks", "hello", "is", "it"].contains(&word.to_ascii_lowercase().as_str())
    }

    fn unfamiliar(text: &str) -> bool {
        is_unfamiliar(text, &[Script::Latin], &words(), whole)
    }

    #[test]
    fn text_without_a_word_is_unfamiliar() {
        for text in [
            "", "5", "12345", "a", "?!", "🙂🙂", "a b c", "x = 5", "1 2 3", "3.14", "-5", "+++",
        ] {
            assert!(unfamiliar(text), "{text:?}");
        }
        for text in [
            "2+2",
            "8 x 7",
            "56 / 7",
            "3.5*4",
            "(12 + 8) * 3",
            "15% 3",
            "is",
        ] {
            assert!(!unfamiliar(text), "{text:?}");
        }
    }

    #[test]
    fn text_mostly_in_other_scripts_is_unfamiliar() {
        assert!(unfamiliar("今天天气怎么样"));
        assert!(unfamiliar("Какая погода завтра?"));
        // A Chinese name inside an English query is still read.
        assert!(!unfamiliar("weather in 北京"));
        // A model written in Latin and Han reads both.
        let bilingual = [Script::Latin, Script::Han];
        assert!(!is_unfamiliar(
            "今天天气怎么样",
            &bilingual,
            &words(),
            whole
        ));
        assert!(is_unfamiliar("Какая погода", &bilingual, &words(), whole));
    }

    #[test]
    fn latin_text_needs_one_known_word() {
        for text in ["asdf", "lkjh", "asdkj qwpoe zmxn", "aaaaaaa", "qwertyuiop"] {
            assert!(unfamiliar(text), "{text:?}");
        }
        for text in [
            "weather",
            "wether tomorow",
            "timer 5 min",
            "thanks",
            "is it",
            "Hello!",
            "asdf weather",
        ] {
            assert!(!unfamiliar(text), "{text:?}");
        }
    }

    #[test]
    fn without_scripts_or_words_those_rules_are_off() {
        assert!(!is_unfamiliar("今天天气怎么样", &[], &words(), whole));
        assert!(!is_unfamiliar(
            "asdf",
            &[Script::Latin],
            &Speller::default(),
            whole
        ));
        assert!(is_unfamiliar("5", &[], &Speller::default(), whole));
    }
}
