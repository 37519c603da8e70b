//! Trainer faults: bad input files give a message naming the file; a training run killed
//! mid-epoch (SIGINT or SIGKILL) leaves the previous bundle or none, never a partial one,
//! and resuming it from its checkpoint ends where an uninterrupted run ends.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use trainer::data;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn temp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("trainer-faults-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

const GOOD: &str = r#"{"a": ["one thing", "another thing"], "b": ["this", "that"]}"#;

fn load_err(data: &[u8], noise: Option<&[u8]>) -> String {
    let dir = temp("load");
    let d = dir.join("data.json");
    std::fs::write(&d, data).unwrap();
    let n = noise.map(|bytes| {
        let p = dir.join("noise.json");
        std::fs::write(&p, bytes).unwrap();
        p
    });
    let e = data::load(&d, n.as_deref(), 0.2, 1).expect_err("loaded a bad file");
    format!("{e:#}")
}

#[test]
fn bad_input_files_are_named() {
    let e = load_err(b"{\"a\": [\"caf\xe9 au lait\", \"x\"]}", None);
    assert!(e.contains("data.json") && e.contains("UTF-8"), "{e}");
    let e = load_err(b"", None);
    assert!(e.contains("data.json") && e.contains("empty"), "{e}");
    let e = load_err(GOOD.as_bytes(), Some(b""));
    assert!(e.contains("noise.json") && e.contains("empty"), "{e}");
    let e = load_err(GOOD.as_bytes(), Some(b"[\"ok\", \"\xff\xfe\"]"));
    assert!(e.contains("noise.json") && e.contains("UTF-8"), "{e}");
    let e = load_err(br#"{"a": ["x", "y"], "a": ["z", "w"]}"#, None);
    assert!(e.contains("data.json") && e.contains("`a`"), "{e}");
    let e = load_err(br#"{"a": ["x", "y"], "b": ["only one"]}"#, None);
    assert!(
        e.contains("data.json") && e.contains("`b`") && e.contains("1 sentence"),
        "{e}"
    );
}

/// 50 MB of negatives is accepted: the reader holds the text and the parsed strings
/// (about twice the file), nothing per sentence beyond the string itself.
#[test]
fn a_50_mb_noise_file_loads() {
    let dir = temp("big");
    let d = dir.join("data.json");
    std::fs::write(&d, GOOD).unwrap();
    let n = dir.join("noise.json");
    let sentence = "\"an off topic sentence about nothing in particular, number 0000\"";
    let count = 50_000_000 / (sentence.len() + 1) + 1;
    let mut text = String::with_capacity(50_000_100);
    text.push('[');
    for i in 0..count {
        if i > 0 {
            text.push(',');
        }
        text.push_str(&sentence.replace("0000", &format!("{:04}", i % 10_000)));
    }
    text.push(']');
    assert!(text.len() >= 50_000_000);
    std::fs::write(&n, &text).unwrap();
    drop(text);
    let ds = data::load(&d, Some(&n), 0.2, 1).unwrap();
    // Every sentence is a training or validation negative (test reuses validation's).
    assert_eq!(ds.negatives_train.len() + ds.negatives_val.len(), count);
    let _ = std::fs::remove_dir_all(&dir);
}

fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().to_string(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

/// Starts a long training run into `out`, waits until it is training, then sends `signal`.
fn kill_mid_training(out: &Path, signal: &str) {
    let mut child = train_command(out, 100_000)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The data summary line comes right before the first epoch starts.
    let mut stderr = child.stderr.take().unwrap();
    let start = Instant::now();
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&seen).contains("negatives") {
        use std::io::Read;
        let n = stderr.read(&mut buf).unwrap();
        assert!(n > 0, "trainer exited: {}", String::from_utf8_lossy(&seen));
        seen.extend_from_slice(&buf[..n]);
        assert!(start.elapsed() < Duration::from_secs(120));
    }
    std::thread::sleep(Duration::from_millis(1500));
    assert!(child.try_wait().unwrap().is_none(), "training ended early");
    let status = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = child.wait().unwrap();
    assert!(!exit.success(), "{signal}: {exit:?}");
}

#[test]
fn interrupted_training_leaves_the_previous_bundle_or_none() {
    for signal in ["-INT", "-KILL"] {
        let parent = temp(&format!("interrupt{signal}"));
        // No previous bundle: none afterwards.
        let out = parent.join("fresh");
        kill_mid_training(&out, signal);
        assert!(!out.exists(), "{signal}: a bundle appeared");
        // A previous bundle: byte for byte the same afterwards.
        let out = parent.join("previous");
        std::fs::create_dir_all(&out).unwrap();
        for f in ["model.safetensors", "table.safetensors", "tokenizer.json"] {
            std::fs::copy(
                repo().join("assets/minilm-l6-v2/tokenizer.json"),
                out.join(f),
            )
            .unwrap();
        }
        let before = files(&out);
        kill_mid_training(&out, signal);
        assert_eq!(files(&out), before, "{signal}: the previous bundle changed");
        let _ = std::fs::remove_dir_all(&parent);
    }
}

fn train_command(out: &Path, epochs: usize) -> Command {
    let everyday = repo().join("examples/everyday");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_trainer"));
    cmd.args([
        "train",
        "--quiet",
        "--epochs",
        &epochs.to_string(),
        "--data",
    ])
    .arg(everyday.join("data.json"))
    .arg("--noise")
    .arg(everyday.join("noise.json"))
    .arg("--table")
    .arg(repo().join("assets/minilm-l6-v2"))
    .arg("--out")
    .arg(out)
    .stdout(Stdio::null())
    .stderr(Stdio::null());
    cmd
}

fn weights_and_threshold(bundle: &Path) -> (model::ModelWeights, f32) {
    let bytes = std::fs::read(bundle.join("model.safetensors")).unwrap();
    let (weights, meta) = model::ModelWeights::parse(&bytes).unwrap();
    (weights, meta.threshold)
}

#[test]
fn a_killed_run_resumed_from_its_checkpoint_ends_like_an_uninterrupted_one() {
    const EPOCHS: usize = 6;
    let dir = temp("resume");
    let ckpt = dir.join("run.ckpt");
    let mut child = train_command(&dir.join("killed"), EPOCHS)
        .arg("--checkpoint")
        .arg(&ckpt)
        .spawn()
        .unwrap();
    // Kill it some time after the first checkpoint, before the last epoch.
    let start = Instant::now();
    while !ckpt.exists() {
        assert!(child.try_wait().unwrap().is_none(), "training ended early");
        assert!(start.elapsed() < Duration::from_secs(300));
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        child.try_wait().unwrap().is_none(),
        "training ended before the kill"
    );
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(!dir.join("killed").exists());

    let resumed = train_command(&dir.join("resumed"), EPOCHS)
        .arg("--checkpoint")
        .arg(&ckpt)
        .arg("--resume")
        .status()
        .unwrap();
    assert!(resumed.success());
    let straight = train_command(&dir.join("straight"), EPOCHS)
        .status()
        .unwrap();
    assert!(straight.success());
    assert_eq!(
        weights_and_threshold(&dir.join("resumed")),
        weights_and_threshold(&dir.join("straight"))
    );
    let _ = std::fs::remove_dir_all(&dir);
}
