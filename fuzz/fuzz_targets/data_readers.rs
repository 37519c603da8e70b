//! The trainer's data readers on arbitrary bytes: data.json (seed format), noise.json and
//! the CLINC150 layout, through the file-level loader (UTF-8 check, layout detection) and
//! the text parsers. Errors are fine; panics are not. The input is data and noise, split
//! at the first 0xFF byte (never valid UTF-8, so it cannot hide inside a file).
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use trainer::data;

fn dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let d = std::env::temp_dir().join(format!("intent-fuzz-data-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        d
    })
}

fuzz_target!(|input: &[u8]| {
    let (data_bytes, noise_bytes) = match input.iter().position(|&b| b == 0xff) {
        Some(i) => (&input[..i], Some(&input[i + 1..])),
        None => (input, None),
    };
    if let Ok(text) = std::str::from_utf8(data_bytes) {
        let _ = data::parse_intents(text, "data.json");
        let _ = data::parse_clinc(text, "data.json");
        let _ = data::parse_noise(text, "noise.json");
    }
    let data_path = dir().join("data.json");
    std::fs::write(&data_path, data_bytes).unwrap();
    let noise_path = noise_bytes.map(|n| {
        let p = dir().join("noise.json");
        std::fs::write(&p, n).unwrap();
        p
    });
    if let Ok(ds) = data::load(&data_path, noise_path.as_deref(), 0.2, 7) {
        assert!(ds.labels.len() >= 2, "a dataset with {} labels", ds.labels.len());
    }
});
