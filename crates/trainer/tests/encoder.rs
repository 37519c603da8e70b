//! `trainer encoder`: a sentence-encoder bundle from a Hugging Face BERT directory (a tiny
//! one generated in code), evaluated again by `trainer evaluate` with the same figures; bad
//! encoder directories are named and leave no bundle behind.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use sentence_encoder::testkit::tiny_checkpoint;
use wait_timeout::ChildExt;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn temp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("trainer-encoder-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Runs the trainer with a deadline; past it the trainer is killed and the test fails.
fn trainer(args: &[&str]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_trainer"))
        .args(args)
        .current_dir(repo())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    match child.wait_timeout(Duration::from_secs(300)).unwrap() {
        Some(_) => child.wait_with_output().unwrap(),
        None => {
            let _ = child.kill();
            panic!("trainer {args:?} ran past 300 s");
        }
    }
}

/// A Hugging Face BERT directory holding the tiny checkpoint, for the default tokenizer.
fn tiny_encoder_dir(dir: &Path) {
    let tokenizer = std::fs::read(repo().join("assets/minilm-l6-v2/tokenizer.json")).unwrap();
    let vocab = model::TextEncoder::from_bytes(&tokenizer, 128)
        .unwrap()
        .vocab_size();
    let (config, checkpoint) = tiny_checkpoint(vocab);
    std::fs::write(dir.join("config.json"), config).unwrap();
    std::fs::write(dir.join("model.safetensors"), checkpoint).unwrap();
    std::fs::write(dir.join("tokenizer.json"), tokenizer).unwrap();
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

const DATA: &str = "examples/everyday/data.json";
const NOISE: &str = "examples/everyday/noise.json";

/// `trainer encoder` on the everyday example.
fn fit(encoder: &Path, out: &Path) -> Output {
    trainer(&[
        "encoder",
        "--data",
        DATA,
        "--noise",
        NOISE,
        "--encoder",
        encoder.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ])
}

#[test]
fn an_encoder_bundle_is_written_and_evaluates_to_its_own_figures() {
    let dir = temp("bundle");
    let encoder = dir.join("tiny-bert");
    std::fs::create_dir_all(&encoder).unwrap();
    tiny_encoder_dir(&encoder);
    let out = dir.join("bundle");
    let run = fit(&encoder, &out);
    assert!(run.status.success(), "{}", text(&run.stderr));
    for file in [
        "model.safetensors",
        "encoder.safetensors",
        "tokenizer.json",
        "README.md",
        "evaluation.json",
    ] {
        assert!(out.join(file).is_file(), "{file} missing");
    }
    let card = std::fs::read_to_string(out.join("README.md")).unwrap();
    assert!(
        card.contains("Sentence encoder: tiny-bert sentence encoder")
            && card.contains("`encoder.safetensors`")
            && !card.contains("TextCNN"),
        "{card}"
    );

    // `trainer evaluate` loads the bundle by its kind and finds the figures it was written with.
    let json = dir.join("report.json");
    let evaluated = trainer(&[
        "evaluate",
        "--bundle",
        out.to_str().unwrap(),
        "--data",
        DATA,
        "--noise",
        NOISE,
        "--json",
        json.to_str().unwrap(),
        "--plots",
        dir.to_str().unwrap(),
    ]);
    assert!(evaluated.status.success(), "{}", text(&evaluated.stderr));
    let written: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("evaluation.json")).unwrap()).unwrap();
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    for key in [
        "in_scope_accuracy",
        "closed_set_accuracy",
        "oos_recall",
        "auroc",
    ] {
        let (a, b) = (&written["test"][key], &report[key]);
        assert!(
            (a.as_f64().unwrap() - b.as_f64().unwrap()).abs() < 1e-9,
            "{key}: written {a}, evaluated {b}"
        );
    }
    // Fitting again from the bundle itself (encoder.safetensors in place of the checkpoint)
    // gives the same head and threshold.
    let again = dir.join("again");
    let refit = fit(&out, &again);
    assert!(refit.status.success(), "{}", text(&refit.stderr));
    assert_eq!(
        std::fs::read(out.join("encoder.safetensors")).unwrap(),
        std::fs::read(again.join("encoder.safetensors")).unwrap()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_bad_encoder_directory_is_named_and_leaves_no_bundle() {
    let dir = temp("bad");
    let encoder = dir.join("tiny-bert");
    std::fs::create_dir_all(&encoder).unwrap();
    tiny_encoder_dir(&encoder);
    let out = dir.join("bundle");
    std::fs::write(encoder.join("config.json"), "{\"hidden_size\": 16}").unwrap();
    let run = fit(&encoder, &out);
    let e = text(&run.stderr);
    assert!(
        !run.status.success() && e.contains("config.json") && e.contains("not a BERT config"),
        "{e}"
    );

    tiny_encoder_dir(&encoder);
    std::fs::write(encoder.join("model.safetensors"), b"truncated").unwrap();
    let run = fit(&encoder, &out);
    let e = text(&run.stderr);
    assert!(
        !run.status.success() && e.contains("model.safetensors"),
        "{e}"
    );

    let run = fit(&dir.join("nowhere"), &out);
    let e = text(&run.stderr);
    assert!(
        !run.status.success() && e.contains("nowhere/tokenizer.json"),
        "{e}"
    );
    assert!(!out.exists(), "a failed run left {}", out.display());
    let _ = std::fs::remove_dir_all(&dir);
}
