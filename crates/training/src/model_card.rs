//! The bundle's README.md: a model card in the Hugging Face Hub's format, so that a bundle
//! pushed to a Hub model repo is described there and loads with
//! `loadClassifier('hf:user/repo')`. YAML front matter (license, library, tags, datasets,
//! `model-index` results) followed by a body with the labels, the threshold rule, the
//! evaluation table and the plots.

use serde_json::{json, Map, Value};

use crate::evaluate::{Report, ThresholdRule};
use crate::plots::{CURVE_FILE, HISTOGRAM_FILE};
use crate::scripts::Script;

pub const MODEL_CARD_FILE: &str = "README.md";

/// The project's own license, for cards whose token table names none. The project is
/// MIT OR Apache-2.0; the Hub takes one identifier.
const PROJECT_LICENSE: &str = "apache-2.0";

/// How the threshold was set.
#[derive(Clone, Copy, Debug)]
pub enum ThresholdChoice {
    Rule(ThresholdRule),
    /// Given with `--threshold`.
    Fixed,
}

/// One evaluated split.
pub struct Split<'a> {
    pub name: &'static str,
    pub report: &'a Report,
}

/// The card's splits: the held-out test split first when it has sentences, then validation.
pub fn splits<'a>(test: &'a Report, validation: &'a Report) -> Vec<Split<'a>> {
    let test = (test.known + test.unknown > 0).then_some(Split {
        name: "test",
        report: test,
    });
    test.into_iter()
        .chain([Split {
            name: "validation",
            report: validation,
        }])
        .collect()
}

/// Which kind of model the card describes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CardKind {
    /// `trainer train`: a TextCNN over a token table.
    TextCnn,
    /// `trainer encoder`: a pretrained sentence encoder with a trained linear head.
    SentenceEncoder,
}

impl CardKind {
    fn network(self) -> &'static str {
        match self {
            Self::TextCnn => "a small TextCNN over a compact token table",
            Self::SentenceEncoder => {
                "a pretrained sentence encoder, frozen, and a linear layer over its vector of \
                 a query, trained on the training sentences"
            }
        }
    }

    fn source_label(self) -> &'static str {
        match self {
            Self::TextCnn => "Token table",
            Self::SentenceEncoder => "Sentence encoder",
        }
    }

    fn files(self) -> &'static str {
        match self {
            Self::TextCnn => "`model.safetensors`, `table.safetensors` and `tokenizer.json`",
            Self::SentenceEncoder => {
                "`model.safetensors`, `encoder.safetensors` and `tokenizer.json`"
            }
        }
    }
}

/// What the card describes.
pub struct CardInputs<'a> {
    pub kind: CardKind,
    /// The bundle directory's name, used as the model's name.
    pub name: &'a str,
    pub labels: &'a [String],
    pub threshold: f32,
    pub choice: ThresholdChoice,
    /// The training data file, as the trainer recorded it.
    pub data_source: &'a str,
    /// The token table's source, as its metadata names it (model, tensor, license).
    pub embedding_source: &'a str,
    /// Evaluated splits, the held-out test split first when there is one.
    pub splits: Vec<Split<'a>>,
    /// The scripts of the training text the tokenizer spells ([`crate::scripts`]); empty:
    /// not counted, and the card says nothing of scripts.
    pub scripts_read: &'a [Script],
}

/// The README.md text: front matter, then the body.
pub fn render(card: &CardInputs) -> String {
    let mut out = String::from("---\n");
    write_yaml(&front_matter(card), 0, &mut out);
    out.push_str("---\n\n");
    out.push_str(&body(card));
    out
}

/// The license identifier in the table's source ("… (Apache-2.0)"), lower-cased as the Hub
/// spells it; the project's license when the source names none.
pub fn license(embedding_source: &str) -> String {
    embedding_source
        .split('(')
        .skip(1)
        .filter_map(|s| s.split(')').next())
        .map(str::trim)
        .find(|s| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-.+".contains(c))
        })
        .map(str::to_ascii_lowercase)
        .unwrap_or_else(|| PROJECT_LICENSE.to_string())
}

/// The Hub dataset id for data the trainer recognises (CLINC150), else None.
fn hub_dataset(data_source: &str) -> Option<&'static str> {
    let lower = data_source.to_ascii_lowercase();
    (lower.contains("clinc")).then_some("clinc/clinc_oos")
}

/// The data file's stem ("examples/everyday/data.json" → "everyday"), for dataset names.
fn data_name(data_source: &str) -> String {
    let path = std::path::Path::new(data_source);
    let stem = path.file_stem().map(|s| s.to_string_lossy().to_string());
    match stem.as_deref() {
        // A generic file name says less than its directory.
        Some("data" | "train" | "dataset") | None => path
            .parent()
            .and_then(|p| p.file_name())
            .map(|s| s.to_string_lossy().to_string())
            .unwrap_or_else(|| data_source.to_string()),
        Some(s) => s.to_string(),
    }
}

/// A metric entry, or None when the figure is not finite (no NaN reaches the card).
fn metric(kind: &str, name: &str, value: f64) -> Option<Value> {
    value
        .is_finite()
        .then(|| json!({ "type": kind, "value": (value * 1e4).round() / 1e4, "name": name }))
}

fn split_metrics(report: &Report) -> Vec<Value> {
    [
        metric("accuracy", "In-scope accuracy", report.in_scope_accuracy),
        metric("recall", "Out-of-scope recall", report.oos_recall),
        metric(
            "roc_auc",
            "AUROC (energy, out-of-scope vs known)",
            report.auroc,
        ),
    ]
    .into_iter()
    .flatten()
    .collect()
}

fn front_matter(card: &CardInputs) -> Value {
    let mut m = Map::new();
    m.insert("license".into(), json!(license(card.embedding_source)));
    m.insert("library_name".into(), json!("intent-classifier"));
    m.insert("pipeline_tag".into(), json!("text-classification"));
    m.insert(
        "tags".into(),
        json!([
            "text-classification",
            "intent-classification",
            "open-set",
            "wasm"
        ]),
    );
    let dataset = hub_dataset(card.data_source);
    if let Some(id) = dataset {
        m.insert("datasets".into(), json!([id]));
    }
    m.insert("metrics".into(), json!(["accuracy", "recall", "roc_auc"]));
    let results: Vec<Value> = card
        .splits
        .iter()
        .filter(|s| s.report.known + s.report.unknown > 0)
        .map(|s| {
            json!({
                "task": { "type": "text-classification", "name": "Intent classification with out-of-scope detection" },
                "dataset": {
                    "name": format!(
                        "{} {} split ({} known, {} out-of-scope)",
                        data_name(card.data_source), s.name, s.report.known, s.report.unknown
                    ),
                    "type": dataset.map(str::to_string).unwrap_or_else(|| data_name(card.data_source)),
                    "split": s.name,
                },
                "metrics": split_metrics(s.report),
            })
        })
        .collect();
    m.insert(
        "model-index".into(),
        json!([{ "name": card.name, "results": results }]),
    );
    Value::Object(m)
}

/// Block-style YAML for a JSON value. Scalars are written as JSON, which YAML 1.2 reads
/// the same (a JSON string is a valid double-quoted YAML scalar).
fn write_yaml(value: &Value, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                out.push_str(&format!("{pad}{key}:"));
                write_nested(v, indent + 2, out);
            }
        }
        Value::Array(items) => {
            for item in items {
                out.push_str(&format!("{pad}-"));
                match item {
                    // A map in a list starts on the dash's line.
                    Value::Object(_) => {
                        let mut inner = String::new();
                        write_yaml(item, indent + 2, &mut inner);
                        out.push(' ');
                        out.push_str(inner.trim_start());
                    }
                    _ => write_nested(item, indent + 2, out),
                }
            }
        }
        scalar => out.push_str(&format!("{pad}{scalar}\n")),
    }
}

fn write_nested(value: &Value, indent: usize, out: &mut String) {
    match value {
        Value::Object(m) if !m.is_empty() => {
            out.push('\n');
            write_yaml(value, indent, out);
        }
        Value::Array(a) if !a.is_empty() => {
            out.push('\n');
            write_yaml(value, indent, out);
        }
        Value::Object(_) => out.push_str(" {}\n"),
        Value::Array(_) => out.push_str(" []\n"),
        scalar => out.push_str(&format!(" {scalar}\n")),
    }
}

fn rule_text(choice: ThresholdChoice) -> &'static str {
    match choice {
        ThresholdChoice::Fixed => "given to the trainer (`--threshold`)",
        ThresholdChoice::Rule(ThresholdRule::Tpr95) => {
            "chosen on the validation split to accept 95% of known sentences (`tpr95`)"
        }
        ThresholdChoice::Rule(ThresholdRule::BestF1) => {
            "chosen on the validation split for the best known-vs-unknown F1 (`best-f1`)"
        }
        ThresholdChoice::Rule(ThresholdRule::Balanced) => {
            "chosen on the validation split for the best mean of in-scope accuracy and out-of-scope recall (`balanced`)"
        }
        ThresholdChoice::Rule(ThresholdRule::Recall75) => {
            "chosen on the validation split for the best in-scope accuracy while rejecting at least 75% of the out-of-scope sentences (`recall75`)"
        }
    }
}

fn percent(v: f64) -> String {
    if v.is_finite() {
        format!("{:.1}%", v * 100.0)
    } else {
        "n/a".into()
    }
}

fn fixed4(v: f64) -> String {
    if v.is_finite() {
        format!("{v:.4}")
    } else {
        "n/a".into()
    }
}

/// The card's body, section by section.
fn body(card: &CardInputs) -> String {
    [
        introduction(card),
        labels_section(card),
        threshold_section(card),
        evaluation_section(card),
        usage_section(card),
    ]
    .concat()
}

/// The title, what the model is and what it was trained on.
fn introduction(card: &CardInputs) -> String {
    format!(
        "# {name}\n\n\
An intent classifier with unknown-intent (out-of-scope) detection: {network}, trained on \
`{data}`. It runs in the browser and in Node.js with the `intent-classifier` npm package \
(WebAssembly, no server).\n\n\
{source_label}: {source}.\n\n",
        name = card.name,
        network = card.kind.network(),
        data = card.data_source,
        source_label = card.kind.source_label(),
        source = card.embedding_source,
    )
}

fn labels_section(card: &CardInputs) -> String {
    let labels: Vec<String> = card.labels.iter().map(|l| format!("`{l}`")).collect();
    format!(
        "## Labels\n\n\
{count} intents: {labels}. Anything else comes back as `unknown`.{scripts}\n\n",
        count = card.labels.len(),
        labels = labels.join(", "),
        scripts = scripts_sentence(card.scripts_read),
    )
}

/// The sentence naming the scripts the tokenizer reads; nothing when they were not counted.
fn scripts_sentence(scripts_read: &[Script]) -> String {
    if scripts_read.is_empty() {
        return String::new();
    }
    let names: Vec<&str> = scripts_read.iter().map(|s| s.name()).collect();
    format!(
        " It reads text in these scripts: {}; text mostly in others is unreadable to its \
         tokenizer and comes back `unknown`.",
        names.join(", ")
    )
}

fn threshold_section(card: &CardInputs) -> String {
    format!(
        "## Threshold\n\n\
A text is `unknown` when its energy, −logsumexp(logits), is above **{threshold:.4}**, a value \
{rule}. Lower energy means more familiar; `classify(text, {{ threshold }})` or \
`setThreshold(t)` trades in-scope accuracy for out-of-scope recall.\n\n",
        threshold = card.threshold,
        rule = rule_text(card.choice),
    )
}

/// The figures of every split as a table, what they mean, and the plots.
fn evaluation_section(card: &CardInputs) -> String {
    format!(
        "## Evaluation\n\n\
| split | known | out-of-scope | in-scope accuracy | out-of-scope recall | AUROC | FPR@95%TPR |\n\
|---|---|---|---|---|---|---|\n\
{rows}{cautions}\n\
In-scope accuracy: known sentences given their intent and accepted; out-of-scope recall: \
out-of-scope sentences rejected; AUROC and FPR@95%TPR: energy as a known-vs-unknown score.\n\n\
![Energy of known and out-of-scope sentences, with the threshold]({histogram})\n\n\
![In-scope accuracy and out-of-scope recall against the threshold]({curve})\n\n",
        rows = evaluation_rows(&card.splits),
        cautions = cautions(&card.splits),
        histogram = HISTOGRAM_FILE,
        curve = CURVE_FILE,
    )
}

/// One table row per split.
fn evaluation_rows(splits: &[Split]) -> String {
    let mut rows = String::new();
    for s in splits {
        let r = s.report;
        rows.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} |\n",
            s.name,
            r.known,
            r.unknown,
            percent(r.in_scope_accuracy),
            percent(r.oos_recall),
            fixed4(r.auroc),
            percent(r.fpr95),
        ));
    }
    rows
}

/// Figures from a small split, or one cut from the training file, overstate what users
/// will see: a caution under the table for each such split.
fn cautions(splits: &[Split]) -> String {
    splits
        .iter()
        .filter_map(|s| {
            s.report
                .split
                .note
                .as_ref()
                .map(|note| format!("\n**{}: optimistic.** {note}\n", s.name))
        })
        .collect()
}

/// Loading the bundle from the Hub with the npm package, and the files it reads.
fn usage_section(card: &CardInputs) -> String {
    format!(
        "## Use it\n\n\
```js\n\
import {{ loadClassifier }} from 'intent-classifier';\n\n\
const clf = await loadClassifier('hf:user/repo'); // this repo's id; or a URL or path to these files\n\
clf.classify('{example}'); // {{ intent, known, confidence, energy, threshold, top, repaired? }}\n\
```\n\n\
The files {files} are the bundle; `loadClassifier` reads them from the repo's top level.\n",
        example = card.labels.first().map(|l| l.replace('_', " ")).unwrap_or_default(),
        files = card.kind.files(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evaluate::{report, KnownScore};

    fn sample_report() -> Report {
        let known: Vec<KnownScore> = (0..8)
            .map(|i| KnownScore {
                label: i % 2,
                predicted: if i == 0 { 1 } else { i % 2 },
                energy: -9.0 + i as f32 * 0.1,
            })
            .collect();
        report(
            &["timer".into(), "weather".into()],
            &known,
            &[-1.0, -2.0, -8.95],
            -5.0,
            false,
        )
    }

    fn card_text(source: &str, data: &str, splits: Vec<Split>) -> String {
        render(&CardInputs {
            kind: CardKind::TextCnn,
            name: "default",
            labels: &["timer".to_string(), "weather".to_string()],
            threshold: -5.0,
            choice: ThresholdChoice::Rule(ThresholdRule::Recall75),
            data_source: data,
            embedding_source: source,
            splits,
            scripts_read: &[Script::Latin, Script::Han],
        })
    }

    /// The front matter as YAML, and the body after it.
    fn split_card(text: &str) -> (serde_norway::Value, &str) {
        let rest = text.strip_prefix("---\n").expect("starts with ---");
        let end = rest.find("\n---\n").expect("front matter ends with ---");
        let yaml = serde_norway::from_str(&rest[..end]).expect("front matter parses as YAML");
        (yaml, &rest[end + 5..])
    }

    #[test]
    fn front_matter_is_hub_yaml_with_the_fields() {
        let (val, test) = (sample_report(), sample_report());
        let text = card_text(
            "sentence-transformers/all-MiniLM-L6-v2 embeddings.word_embeddings.weight (Apache-2.0)",
            "../shared/clinc150/data_full.json",
            vec![
                Split {
                    name: "test",
                    report: &test,
                },
                Split {
                    name: "validation",
                    report: &val,
                },
            ],
        );
        let (yaml, body) = split_card(&text);
        assert_eq!(yaml["license"].as_str(), Some("apache-2.0"));
        assert_eq!(yaml["library_name"].as_str(), Some("intent-classifier"));
        let tags: Vec<&str> = yaml["tags"]
            .as_sequence()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap())
            .collect();
        assert_eq!(
            tags,
            [
                "text-classification",
                "intent-classification",
                "open-set",
                "wasm"
            ]
        );
        assert_eq!(yaml["datasets"][0].as_str(), Some("clinc/clinc_oos"));
        let index = &yaml["model-index"][0];
        assert_eq!(index["name"].as_str(), Some("default"));
        let result = &index["results"][0];
        assert_eq!(result["task"]["type"].as_str(), Some("text-classification"));
        assert_eq!(result["dataset"]["split"].as_str(), Some("test"));
        assert_eq!(result["dataset"]["type"].as_str(), Some("clinc/clinc_oos"));
        assert!(result["dataset"]["name"]
            .as_str()
            .unwrap()
            .contains("(8 known, 3 out-of-scope)"));
        let metrics = result["metrics"].as_sequence().unwrap();
        let value = |kind: &str| {
            metrics
                .iter()
                .find(|m| m["type"].as_str() == Some(kind))
                .and_then(|m| m["value"].as_f64())
                .unwrap_or_else(|| panic!("no {kind} metric"))
        };
        assert!((value("accuracy") - test.in_scope_accuracy).abs() < 1e-4);
        assert!((value("recall") - test.oos_recall).abs() < 1e-4);
        assert!((value("roc_auc") - test.auroc).abs() < 1e-4);
        assert_eq!(
            index["results"][1]["dataset"]["split"].as_str(),
            Some("validation")
        );

        assert!(body.contains("`timer`, `weather`"));
        assert!(body.contains("above **-5.0000**") && body.contains("`recall75`"));
        assert!(
            body.contains(&format!("]({HISTOGRAM_FILE})"))
                && body.contains(&format!("]({CURVE_FILE})"))
        );
        assert!(body.contains("| test | 8 | 3 | 87.5% | 66.7% |"), "{body}");
        assert!(body.contains("loadClassifier('hf:user/repo')"));
    }

    #[test]
    fn unknown_dataset_and_license_fall_back_and_nan_is_left_out() {
        let mut val = sample_report();
        val.auroc = f64::NAN;
        let text = card_text(
            "my/table",
            "examples/everyday/data.json",
            vec![Split {
                name: "validation",
                report: &val,
            }],
        );
        let (yaml, body) = split_card(&text);
        assert_eq!(yaml["license"].as_str(), Some(PROJECT_LICENSE));
        assert!(
            yaml.get("datasets").is_none(),
            "no datasets entry for local data"
        );
        let result = &yaml["model-index"][0]["results"][0];
        assert_eq!(result["dataset"]["type"].as_str(), Some("everyday"));
        let kinds: Vec<&str> = result["metrics"]
            .as_sequence()
            .unwrap()
            .iter()
            .map(|m| m["type"].as_str().unwrap())
            .collect();
        assert_eq!(kinds, ["accuracy", "recall"], "the NaN AUROC is left out");
        assert!(!text.contains("NaN") && body.contains("| n/a |"));
    }

    #[test]
    fn license_is_the_first_identifier_in_parentheses() {
        assert_eq!(
            license("intfloat/multilingual-e5-small embeddings.word_embeddings.weight (MIT), pruned to 30000 of 250002 pieces"),
            "mit"
        );
        assert_eq!(license("a (pruned, see notes) (CC-BY-4.0)"), "cc-by-4.0");
        assert_eq!(license("no license here"), PROJECT_LICENSE);
    }

    #[test]
    fn the_card_names_the_scripts_the_model_reads() {
        let val = sample_report();
        let splits = vec![Split {
            name: "validation",
            report: &val,
        }];
        let text = card_text("x (MIT)", "data.json", splits);
        assert!(
            text.contains("It reads text in these scripts: Latin, Han;"),
            "{text}"
        );
    }

    #[test]
    fn strings_that_need_quoting_stay_valid_yaml() {
        let val = sample_report();
        let text = render(&CardInputs {
            kind: CardKind::TextCnn,
            name: "odd: name # with 'quotes' and \"more\"",
            labels: &["a".to_string()],
            threshold: 1.0,
            choice: ThresholdChoice::Fixed,
            data_source: "dir: x/data.json",
            embedding_source: "x",
            splits: vec![Split {
                name: "validation",
                report: &val,
            }],
            scripts_read: &[],
        });
        let (yaml, _) = split_card(&text);
        assert_eq!(
            yaml["model-index"][0]["name"].as_str(),
            Some("odd: name # with 'quotes' and \"more\"")
        );
    }
}
