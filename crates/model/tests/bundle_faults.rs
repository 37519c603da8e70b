//! Every way a bundle can be broken gives an error naming the file, never a panic.

use std::collections::HashMap;

use model::bundle::{self, BundleMeta};
use model::testkit::{tiny_architecture, tiny_meta, tiny_table, tiny_weights, TINY_TOKENIZER};
use model::{safetensors_file, tensor_codec};
use model::{Architecture, BundleFiles, Classifier, ModelWeights};
use safetensors::Dtype;

struct Bundle {
    model: Vec<u8>,
    table: Vec<u8>,
    tokenizer: Vec<u8>,
}

/// The fixture's architecture: `testkit`'s tiny one with 16 tokens.
fn arch() -> Architecture {
    tiny_architecture(16)
}

fn weights(labels: usize) -> ModelWeights {
    tiny_weights(&arch(), labels)
}

fn meta(table: &[u8], tokenizer: &[u8]) -> BundleMeta {
    tiny_meta(&arch(), table, tokenizer)
}

fn valid() -> Bundle {
    let tokenizer = TINY_TOKENIZER.as_bytes().to_vec();
    let table = tiny_table(6, &tokenizer);
    let model = weights(2).serialize(&meta(&table, &tokenizer));
    Bundle {
        model,
        table,
        tokenizer,
    }
}

fn load(b: &Bundle) -> Result<Classifier, model::BundleError> {
    Classifier::load(BundleFiles {
        model: &b.model,
        table: &b.table,
        tokenizer: &b.tokenizer,
    })
}

/// A model file with one metadata entry changed (or removed with `None`).
fn with_meta(change: &str, value: Option<&str>) -> Bundle {
    let mut b = valid();
    let mut map = meta(&b.table, &b.tokenizer).to_map();
    match value {
        Some(v) => map.insert(change.into(), v.into()),
        None => map.remove(change),
    };
    b.model = raw_model(&weights(2), map, Dtype::F32);
    b
}

fn raw_model(w: &ModelWeights, map: HashMap<String, String>, branch_dtype: Dtype) -> Vec<u8> {
    let a = arch();
    let mut tensors = Vec::new();
    for (i, b) in a.branches.iter().enumerate() {
        let data = tensor_codec::f32_bytes(&w.branch_weights[i]);
        let (dtype, data) = if branch_dtype == Dtype::F64 {
            (
                Dtype::F64,
                w.branch_weights[i]
                    .iter()
                    .flat_map(|v| (*v as f64).to_le_bytes())
                    .collect(),
            )
        } else {
            (Dtype::F32, data)
        };
        tensors.push((
            bundle::names::branch_weight(i),
            dtype,
            vec![a.channels, a.embed_dim, b.kernel],
            data,
        ));
        tensors.push((
            bundle::names::branch_bias(i),
            Dtype::F32,
            vec![a.channels],
            tensor_codec::f32_bytes(&w.branch_biases[i]),
        ));
    }
    let labels = w.classifier_bias.len();
    tensors.push((
        bundle::names::CLASSIFIER_WEIGHT.into(),
        Dtype::F32,
        vec![labels, a.features()],
        tensor_codec::f32_bytes(&w.classifier_weight),
    ));
    tensors.push((
        bundle::names::CLASSIFIER_BIAS.into(),
        Dtype::F32,
        vec![labels],
        tensor_codec::f32_bytes(&w.classifier_bias),
    ));
    safetensors_file::serialize_tensors(tensors, map)
}

/// Where each faulty bundle is also written, with `faults.json` listing the expected file
/// and words: tests/browser/load-errors.test.mjs loads the same faults in Chromium, so the
/// fault list has one source of truth.
fn export_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/bundle-faults")
}

fn export(name: &str, b: &Bundle, file: &str, words: &[&str]) -> serde_json::Value {
    let slug: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let dir = export_dir().join(&slug);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("model.safetensors"), &b.model).unwrap();
    std::fs::write(dir.join("table.safetensors"), &b.table).unwrap();
    std::fs::write(dir.join("tokenizer.json"), &b.tokenizer).unwrap();
    serde_json::json!({ "name": name, "dir": slug, "file": file, "words": words })
}

fn expect_error(name: &str, b: Bundle, file: &str, words: &[&str]) -> serde_json::Value {
    let exported = export(name, &b, file, words);
    match load(&b) {
        Ok(_) => panic!("{name}: loaded a broken bundle"),
        Err(e) => {
            assert_eq!(e.file, file, "{name}: {e}");
            for w in words {
                assert!(
                    e.problem.contains(w),
                    "{name}: `{e}` does not mention `{w}`"
                );
            }
        }
    }
    exported
}

#[test]
fn the_valid_bundle_loads_and_classifies() {
    let b = valid();
    // The browser test loads it too, as a control for the faults.
    export("valid", &b, "", &[]);
    let clf = load(&b).unwrap();
    let r = clf.classify("weather today", &Default::default());
    assert!(r.energy.is_finite());
    assert_eq!(clf.encoder().encode("weather today"), vec![1, 2]);
}

#[test]
fn temperature_is_optional_and_scales_only_the_probabilities() {
    // Bundles written before calibration have no `temperature`: they load with 1.0.
    let plain = load(&with_meta("temperature", None)).unwrap();
    assert_eq!(plain.meta().shared.temperature, 1.0);
    let warm = load(&with_meta("temperature", Some("4.0"))).unwrap();
    assert_eq!(warm.meta().shared.temperature, 4.0);
    let text = "weather today";
    let (p, w) = (
        plain.classify(text, &Default::default()),
        warm.classify(text, &Default::default()),
    );
    assert_eq!(
        (p.known, &p.intent, p.energy),
        (w.known, &w.intent, w.energy)
    );
    let logits = plain.logits(text);
    let expected = model::decision::calibrated_softmax(&logits, 4.0);
    let best = expected.iter().copied().fold(f32::MIN, f32::max);
    assert!((w.confidence - best).abs() < 1e-6);
    assert!(w.confidence <= p.confidence);
}

#[test]
fn typos_are_repaired_toward_the_bundle_words_and_explained_where_typed() {
    let words = r#"["weather","today","timer","five","minutes"]"#;
    let clf = load(&with_meta("spelling", Some(words))).unwrap();
    let typed = "wether todya!";
    let r = clf.classify(typed, &Default::default());
    assert_eq!(r.repaired.as_deref(), Some("weather today!"));
    assert_eq!(clf.logits(typed), clf.logits("weather today!"));
    assert_eq!(clf.encode(typed), vec![1, 2, 0]);
    // Each repaired word's token points at the word as typed.
    let spans: Vec<(usize, usize)> = clf
        .evidence(typed)
        .tokens
        .iter()
        .map(|t| (t.start, t.end))
        .collect();
    assert_eq!(spans, [(0, 6), (7, 12), (12, 13)]);
    // Spelt right, or without words in the bundle: read as typed.
    assert_eq!(
        clf.classify("weather today", &Default::default()).repaired,
        None
    );
    let plain = load(&valid()).unwrap();
    assert_eq!(plain.classify(typed, &Default::default()).repaired, None);
    assert_ne!(plain.logits(typed), plain.logits("weather today"));
}

#[test]
fn twelve_faults_each_name_their_file() {
    let v = valid;
    let mut faults = Vec::new();
    let html = b"<!doctype html><html><body><h1>404 Not Found</h1></body></html>".to_vec();

    let mut b = v();
    b.model.truncate(b.model.len() / 2);
    faults.push(expect_error(
        "truncated model",
        b,
        "model.safetensors",
        &["safetensors"],
    ));

    let mut b = v();
    b.model.clear();
    faults.push(expect_error(
        "zero-length model",
        b,
        "model.safetensors",
        &["safetensors"],
    ));

    let mut b = v();
    b.model = raw_model(
        &weights(2),
        meta(&b.table, &b.tokenizer).to_map(),
        Dtype::F64,
    );
    faults.push(expect_error(
        "wrong dtype",
        b,
        "model.safetensors",
        &["dtype F64", "branches.0.weight"],
    ));

    // The metadata says 4 channels; the tensors have 8.
    let wrong = serde_json::to_string(&Architecture {
        channels: 4,
        ..arch()
    })
    .unwrap();
    let b = with_meta("architecture", Some(&wrong));
    faults.push(expect_error(
        "wrong shape",
        b,
        "model.safetensors",
        &["shape"],
    ));

    let mut b = v();
    b.model = raw_model(
        &weights(3),
        meta(&b.table, &b.tokenizer).to_map(),
        Dtype::F32,
    );
    faults.push(expect_error(
        "label count vs classifier rows",
        b,
        "model.safetensors",
        &["classifier.weight", "shape"],
    ));

    let mut b = v();
    let mut w = weights(2);
    w.classifier_weight[5] = f32::NAN;
    b.model = raw_model(&w, meta(&b.table, &b.tokenizer).to_map(), Dtype::F32);
    faults.push(expect_error(
        "NaN weight",
        b,
        "model.safetensors",
        &["non-finite", "classifier.weight"],
    ));

    // Finite but huge: found by fuzzing, it overflowed the forward pass to NaN energy.
    let mut b = v();
    let mut w = weights(2);
    w.branch_weights[1][3] = 3e30;
    b.model = raw_model(&w, meta(&b.table, &b.tokenizer).to_map(), Dtype::F32);
    faults.push(expect_error(
        "huge weight",
        b,
        "model.safetensors",
        &["implausibly large", "branches.1.weight"],
    ));

    let mut b = v();
    let mut w = weights(2);
    w.branch_weights[0][0] = f32::INFINITY;
    b.model = raw_model(&w, meta(&b.table, &b.tokenizer).to_map(), Dtype::F32);
    faults.push(expect_error(
        "infinite weight",
        b,
        "model.safetensors",
        &["non-finite"],
    ));

    faults.push(expect_error(
        "threshold missing",
        with_meta("threshold", None),
        "model.safetensors",
        &["threshold", "missing"],
    ));
    faults.push(expect_error(
        "temperature not positive",
        with_meta("temperature", Some("0.0")),
        "model.safetensors",
        &["temperature", "above 0"],
    ));
    faults.push(expect_error(
        "spelling word that no typo repair can use",
        with_meta("spelling", Some(r#"["weather","Two words"]"#)),
        "model.safetensors",
        &["spelling", "Two words"],
    ));
    faults.push(expect_error(
        "unknown format version",
        with_meta("format_version", Some("99")),
        "model.safetensors",
        &["version 99"],
    ));

    // Tokenizer with 4 tokens but a 6-row table; hashes agree, so the vocabulary check decides.
    let mut b = v();
    b.tokenizer = TINY_TOKENIZER
        .replace(r#","five":4,"minutes":5"#, "")
        .into_bytes();
    b.table = tiny_table(6, &b.tokenizer);
    b.model = weights(2).serialize(&meta(&b.table, &b.tokenizer));
    faults.push(expect_error(
        "vocab vs table rows",
        b,
        "tokenizer.json",
        &["4 tokens", "6 rows"],
    ));

    let mut b = v();
    let last = b.table.len() - 1;
    b.table[last] ^= 0x55;
    faults.push(expect_error(
        "tampered table",
        b,
        "table.safetensors",
        &["sha256"],
    ));

    faults.push(expect_error(
        "bundle of format version 1",
        with_meta("format_version", Some("1")),
        "model.safetensors",
        &["earlier release", "retrain"],
    ));

    // A code naming a centroid the codebook does not have.
    let mut b = v();
    let mut table = model::EmbeddingTable::parse(&b.table).unwrap();
    let model::table::Storage::ProductQuantized { codes, .. } = &mut table.0.storage else {
        panic!("the fixture's table is product-quantized")
    };
    codes[3] = 200;
    b.table = table.0.serialize(&table.1);
    b.model = weights(2).serialize(&meta(&b.table, &b.tokenizer));
    faults.push(expect_error(
        "table code beyond its codebook",
        b,
        "table.safetensors",
        &["centroid 200"],
    ));

    // An int8 weight matrix whose scales are missing.
    let mut b = v();
    let int8 = weights(2).serialize_as(&meta(&b.table, &b.tokenizer), Dtype::I8);
    b.model = drop_tensor(&int8, "classifier.weight_scale");
    faults.push(expect_error(
        "int8 weights without their scales",
        b,
        "model.safetensors",
        &["classifier.weight_scale", "missing"],
    ));

    let mut b = v();
    // Header length field claims far more bytes than the file has.
    b.model[..8].copy_from_slice(&(1u64 << 40).to_le_bytes());
    faults.push(expect_error(
        "header claims too much",
        b,
        "model.safetensors",
        &["safetensors"],
    ));

    let mut b = v();
    b.model = html.clone();
    faults.push(expect_error(
        "HTML page as model",
        b,
        "model.safetensors",
        &["safetensors"],
    ));

    let mut b = v();
    b.tokenizer = html;
    // Hash checks come first: an HTML page never matches the recorded hash.
    faults.push(expect_error(
        "HTML page as tokenizer",
        b,
        "tokenizer.json",
        &["sha256"],
    ));
    // The valid bundle itself, for the fuzz corpus (fuzz/corpus/bundle_loader/split-valid).
    export("valid", &valid(), "", &[]);
    assert!(faults.len() >= 12);
    std::fs::write(
        export_dir().join("faults.json"),
        serde_json::to_string_pretty(&faults).unwrap(),
    )
    .unwrap();
}

/// `bytes` (a safetensors file) without tensor `name`, metadata kept.
fn drop_tensor(bytes: &[u8], name: &str) -> Vec<u8> {
    let st = safetensors::SafeTensors::deserialize(bytes).unwrap();
    let (_, header) = safetensors::SafeTensors::read_metadata(bytes).unwrap();
    let tensors = st
        .tensors()
        .into_iter()
        .filter(|(n, _)| n != name)
        .map(|(n, v)| (n, v.dtype(), v.shape().to_vec(), v.data().to_vec()))
        .collect();
    safetensors_file::serialize_tensors(tensors, header.metadata().clone().unwrap())
}

#[test]
fn int8_weights_classify_like_the_f32_ones_they_round() {
    let b = valid();
    let meta = meta(&b.table, &b.tokenizer);
    let w = weights(meta.shared.labels.len());
    let int8 = w.serialize_as(&meta, Dtype::I8);
    let load = |model: &[u8]| {
        Classifier::load(BundleFiles {
            model,
            table: &b.table,
            tokenizer: &b.tokenizer,
        })
        .unwrap()
    };
    let (exact, rounded) = (load(&w.serialize(&meta)), load(&int8));
    for text in ["hello", "five minutes", ""] {
        for (a, b) in exact.logits(text).iter().zip(rounded.logits(text)) {
            assert!(
                (a - b).abs() <= 0.05 * a.abs().max(1.0),
                "{text}: {a} vs {b}"
            );
        }
    }
}

#[test]
fn f16_weights_load_as_their_rounded_values() {
    let b = valid();
    let meta = meta(&b.table, &b.tokenizer);
    let w = weights(meta.shared.labels.len());
    let half = w.serialize_as(&meta, Dtype::F16);
    assert!(half.len() < w.serialize(&meta).len());
    let (read, _) = ModelWeights::parse(&half).unwrap();
    let pairs = read
        .branch_weights
        .concat()
        .into_iter()
        .chain(read.classifier_weight.iter().copied())
        .zip(
            w.branch_weights
                .concat()
                .into_iter()
                .chain(w.classifier_weight.iter().copied()),
        );
    for (got, want) in pairs {
        // Half precision: 11 significant bits.
        assert!(
            (got - want).abs() <= want.abs() / 1024.0 + 1e-7,
            "{got} vs {want}"
        );
    }
    // The classifier runs on them like on F32 weights.
    let clf = Classifier::load(BundleFiles {
        model: &half,
        table: &b.table,
        tokenizer: &b.tokenizer,
    })
    .unwrap();
    assert!(clf.logits("hello").iter().all(|x| x.is_finite()));
}
