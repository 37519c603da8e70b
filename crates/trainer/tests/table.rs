//! `trainer table` from the command line: a model given by Hugging Face id and found in a
//! local cache (offline), and vocabulary pruning written as tokenizer + table.

use std::path::{Path, PathBuf};
use std::process::Command;

use model::bundle::{TABLE_FILE, TOKENIZER_FILE};
use model::EmbeddingTable;

fn tiny_tokenizer() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/tiny-unigram/tokenizer.json")
}

/// A Hugging Face cache holding model `acme/tiny`: the tiny Unigram tokenizer (18 pieces)
/// and an [18, 6] embedding matrix, laid out as the Hub clients leave a snapshot.
fn fake_hf_home(root: &Path) {
    let repo = root.join("hub/models--acme--tiny");
    let snapshot = repo.join("snapshots/feedbeef");
    std::fs::create_dir_all(&snapshot).unwrap();
    std::fs::create_dir_all(repo.join("refs")).unwrap();
    std::fs::write(repo.join("refs/main"), "feedbeef").unwrap();
    std::fs::copy(tiny_tokenizer(), snapshot.join(TOKENIZER_FILE)).unwrap();
    let values: Vec<f32> = (0..18 * 6)
        .map(|i| ((i * 37 % 101) as f32 / 50.0) - 1.0)
        .collect();
    let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    let view =
        safetensors::tensor::TensorView::new(safetensors::Dtype::F32, vec![18, 6], &bytes).unwrap();
    safetensors::serialize_to_file(
        [("embeddings.word_embeddings.weight", view)],
        None,
        &snapshot.join("model.safetensors"),
    )
    .unwrap();
}

fn table_command(hf_home: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_trainer"));
    cmd.env("HF_HOME", hf_home)
        .env("HF_HUB_OFFLINE", "1")
        .args(["table", "--quiet", "--dims", "2"]);
    cmd
}

#[test]
fn a_hub_id_is_read_from_the_local_cache_and_pruned() {
    let root = std::env::temp_dir().join(format!("table-cli-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    fake_hf_home(&root);
    let texts = root.join("texts.json");
    std::fs::write(&texts, r#"{"weather": ["weather"]}"#).unwrap();
    let out = root.join("out");
    let run = table_command(&root)
        .args(["--model", "acme/tiny", "--prune", "10", "--keep-texts"])
        .arg(&texts)
        .arg("--compare-texts")
        .arg(&texts)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(stdout.contains("pruned 18 -> 10 pieces"), "{stdout}");
    assert!(stdout.contains("non-CJK 100.00% of 1"), "{stdout}");

    // The table has a row per kept piece and is tied to the pruned tokenizer.
    let tokenizer = std::fs::read(out.join(TOKENIZER_FILE)).unwrap();
    let table = EmbeddingTable::parse(&std::fs::read(out.join(TABLE_FILE)).unwrap()).unwrap();
    assert_eq!((table.0.rows, table.0.dim), (10, 2));
    assert_eq!(
        table.1.tokenizer_sha256,
        model::bundle::sha256_hex(&tokenizer)
    );
    assert!(
        table.1.source.ends_with("pruned to 10 of 18 pieces"),
        "{}",
        table.1.source
    );
    let encoder = model::TextEncoder::from_bytes(&tokenizer, 64).unwrap();
    assert_eq!(encoder.vocab_size(), 10);
    assert_eq!(
        encoder.tokens("weather"),
        ["<s>", "\u{2581}weather", "</s>"]
    );

    // Offline, a model that is not cached is an error naming the cache and the setting.
    let run = table_command(&root)
        .args(["--model", "acme/absent", "--out"])
        .arg(root.join("absent"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(!run.status.success());
    assert!(
        stderr.contains("acme/absent: tokenizer.json is not in the Hugging Face cache")
            && stderr.contains("HF_HUB_OFFLINE"),
        "{stderr}"
    );
    assert!(!root.join("absent").exists());
    std::fs::remove_dir_all(&root).unwrap();
}
