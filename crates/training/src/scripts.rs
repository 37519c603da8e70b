//! Which writing systems the token table reads in the training data. Text in a script the
//! table does not cover becomes the unknown token without a word, and the model learns
//! that a run of unknown tokens means whatever intent such text had (an English table
//! trained on Chinese sentences answers any Chinese text `translate`). So training counts
//! the unknown word pieces by the script of the text behind them, warns when a script is a
//! real part of the data, and the model card lists the scripts the model does read.

use std::collections::BTreeMap;

pub use model::script::Script;
use model::TextEncoder;
use serde::Serialize;

/// A script's unknown pieces above this share of all training pieces draw a warning: a
/// stray emoji or foreign name stays under it (examples/everyday and CLINC150 have none
/// under the English table), while a language the table cannot spell, even in a tenth of
/// the sentences, is far above it (examples/bilingual under it: Han 53%).
pub const WARN_UNKNOWN_SHARE: f64 = 0.02;

/// The table that reads Chinese (and the English beside it), for the warning's advice.
pub const BILINGUAL_TABLE: &str = "assets/multilingual-e5-small-20k";

/// The table in this repo that reads `script`, when the English one does not.
pub fn covering_table(script: Script) -> Option<&'static str> {
    match script {
        Script::Han => Some(BILINGUAL_TABLE),
        _ => None,
    }
}

/// One script's unknown word pieces in the training data.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UnknownByScript {
    pub script: Script,
    pub pieces: usize,
    /// Of all training word pieces.
    pub share: f64,
}

/// The unknown-token report of a training run.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UnreadableReport {
    /// Word pieces of the training sentences (special tokens left out).
    pub pieces: usize,
    /// Unknown pieces, by script, most first.
    pub unknown: Vec<UnknownByScript>,
    /// Scripts with pieces the table reads: what the model can understand.
    pub read: Vec<Script>,
    /// One line per script above [`WARN_UNKNOWN_SHARE`], naming a table that covers it.
    pub warnings: Vec<String>,
}

impl UnreadableReport {
    /// Counts the word pieces `encoder` makes of `texts`.
    pub fn of<'a>(encoder: &TextEncoder, texts: impl IntoIterator<Item = &'a str>) -> Self {
        let mut pieces = 0usize;
        let mut unknown: BTreeMap<Script, usize> = BTreeMap::new();
        let mut read: BTreeMap<Script, usize> = BTreeMap::new();
        for text in texts {
            let p = encoder.unknown_pieces(text);
            pieces += p.known.len() + p.unknown.len();
            for piece in p.unknown {
                *unknown.entry(Script::of(piece)).or_default() += 1;
            }
            for piece in p.known {
                // Digits and punctuation say nothing about which script is read.
                if let Some(script) = piece.chars().find_map(Script::of_char) {
                    *read.entry(script).or_default() += 1;
                }
            }
        }
        let mut unknown: Vec<UnknownByScript> = unknown
            .into_iter()
            .map(|(script, n)| UnknownByScript {
                script,
                pieces: n,
                share: n as f64 / pieces.max(1) as f64,
            })
            .collect();
        unknown.sort_by(|a, b| b.pieces.cmp(&a.pieces).then(a.script.cmp(&b.script)));
        let warnings = unknown
            .iter()
            .filter(|u| u.share > WARN_UNKNOWN_SHARE)
            .map(|u| {
                let advice = match covering_table(u.script) {
                    Some(table) => format!("train with --table {table}, which reads it"),
                    None => "use a table whose tokenizer covers it".to_string(),
                };
                format!(
                    "{:.1}% of the training word pieces are {} text the table cannot read (the \
                     unknown token); the model cannot tell such sentences apart: {advice}",
                    100.0 * u.share,
                    u.script.name(),
                )
            })
            .collect();
        Self {
            pieces,
            unknown,
            read: read.into_keys().collect(),
            warnings,
        }
    }

    /// Unknown pieces of every script over all pieces.
    pub fn unknown_share(&self) -> f64 {
        // A fold from +0.0: an empty f64 sum is -0.0, which prints as "-0.0%".
        self.unknown.iter().fold(0.0, |sum, u| sum + u.share)
    }

    /// One line for a training log: the share and its biggest scripts.
    pub fn summary(&self) -> String {
        let by_script: Vec<String> = self
            .unknown
            .iter()
            .map(|u| format!("{} {:.1}%", u.script.name(), 100.0 * u.share))
            .collect();
        format!(
            "{:.1}% of {} training word pieces are the unknown token{}",
            100.0 * self.unknown_share(),
            self.pieces,
            if by_script.is_empty() {
                String::new()
            } else {
                format!(" ({})", by_script.join(", "))
            }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ENGLISH: &[u8] = include_bytes!("../../../assets/minilm-l6-v2/tokenizer.json");

    #[test]
    fn chinese_under_an_english_table_warns_and_names_the_bilingual_table() {
        let encoder = TextEncoder::from_bytes(ENGLISH, 64).unwrap();
        let texts = [
            "weather today",
            "set a timer",
            "今天天气怎么样",
            "明天北京会下雨吗",
        ];
        let report = UnreadableReport::of(&encoder, texts);
        assert_eq!(report.unknown[0].script, Script::Han);
        assert!(report.unknown[0].share > WARN_UNKNOWN_SHARE);
        assert_eq!(report.warnings.len(), 1, "{:?}", report.warnings);
        assert!(report.warnings[0].contains("Han"));
        assert!(report.warnings[0].contains(BILINGUAL_TABLE));
        assert!(report.read.contains(&Script::Latin));
        assert!(report.summary().contains("Han"), "{}", report.summary());

        let english = UnreadableReport::of(&encoder, ["weather today", "set a timer"]);
        assert_eq!(english.unknown_share(), 0.0);
        assert!(english.warnings.is_empty());
        assert_eq!(english.read, vec![Script::Latin]);
    }
}
