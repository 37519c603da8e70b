//! The encoder file, the sentence vectors and the bundle, on a tiny BERT generated in code
//! (testkit) and the default table's tokenizer: no downloaded encoder needed.

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::BertModel;
use model::bundle::{sha256_hex, MODEL_FILE, TOKENIZER_FILE};
use model::{ClassifyOptions, IntentModel, TextEncoder};
use sentence_encoder::bundle::{self, EncoderBundleMeta};
use sentence_encoder::encoder_file::{self, Compression, MatrixCodec, ENCODER_FILE};
use sentence_encoder::head::{self, Head};
use sentence_encoder::testkit::{tiny_checkpoint, TINY_HIDDEN};
use sentence_encoder::{EncoderBundleFiles, EncoderClassifier, SentenceEncoder};

const TEXTS: [&str; 6] = [
    "set a timer for ten minutes",
    "what's the weather like tomorrow",
    "wether tomorow",
    "",
    "🙂🙂",
    "remind me to call mom at 5pm",
];

fn tokenizer() -> Vec<u8> {
    std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../assets/minilm-l6-v2/tokenizer.json"
    ))
    .expect("the default table's tokenizer is in the repository")
}

/// The tiny checkpoint as `trainer encoder` stores it, with the tokenizer it was made for.
fn tiny_encoder() -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let tokenizer = tokenizer();
    let vocab = TextEncoder::from_bytes(&tokenizer, 128)
        .unwrap()
        .vocab_size();
    let (config, checkpoint) = tiny_checkpoint(vocab);
    let encoder = encoder_file::quantize(&config, &checkpoint, Compression::INT8).unwrap();
    (encoder, tokenizer, checkpoint)
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
    dot / (norm(a) * norm(b))
}

#[test]
fn the_int8_encoder_keeps_the_checkpoints_sentence_vectors() {
    let (encoder_bytes, tokenizer, checkpoint) = tiny_encoder();
    assert!(
        encoder_bytes.len() * 3 < checkpoint.len(),
        "int8 matrices: {} bytes against the checkpoint's {}",
        encoder_bytes.len(),
        checkpoint.len()
    );
    let encoder = SentenceEncoder::load(&encoder_bytes, &tokenizer).unwrap();
    assert_eq!(encoder.dim(), TINY_HIDDEN);

    // The F32 checkpoint through candle's BERT directly: the reference.
    let vocab = encoder.text().vocab_size();
    let (config, _) = tiny_checkpoint(vocab);
    let config = encoder_file::parse_config(&config, "config.json").unwrap();
    let vb = VarBuilder::from_buffered_safetensors(checkpoint, DType::F32, &Device::Cpu).unwrap();
    let bert = BertModel::load(vb, &config).unwrap();
    for text in TEXTS {
        let ids = encoder.text().encode(text);
        let n = ids.len();
        let ids = Tensor::from_vec(ids, (1, n), &Device::Cpu).unwrap();
        let states = bert
            .forward(&ids, &ids.zeros_like().unwrap(), None)
            .unwrap();
        let reference: Vec<f32> = states
            .mean(1)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1()
            .unwrap();
        let vector = encoder.embed(text).unwrap();
        let length = vector.iter().map(|v| v * v).sum::<f32>().sqrt();
        assert!((length - 1.0).abs() < 1e-5, "{text:?}: length {length}");
        let c = cosine(&vector, &reference);
        assert!(
            c > 0.99,
            "{text:?}: cosine {c} to the F32 checkpoint's vector"
        );
    }
}

#[test]
fn many_at_once_gives_each_texts_own_vector() {
    let (encoder_bytes, tokenizer, _) = tiny_encoder();
    let encoder = SentenceEncoder::load(&encoder_bytes, &tokenizer).unwrap();
    let long = "book a table for two ".repeat(500);
    let mut texts: Vec<&str> = TEXTS.to_vec();
    texts.push(&long);
    texts.push("set a timer for ten minutes");
    let all = encoder.embed_all(&texts).unwrap();
    for (text, vector) in texts.iter().zip(&all) {
        // Batched matrix products round differently, nothing more: no padding is involved.
        let alone = encoder.embed(text).unwrap();
        let worst = vector
            .iter()
            .zip(&alone)
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max);
        assert!(
            worst < 1e-5,
            "{text:?}: differs by {worst} from its own embedding"
        );
    }
}

fn meta(labels: &[&str], encoder: &[u8], tokenizer: &[u8]) -> EncoderBundleMeta {
    EncoderBundleMeta {
        format_version: bundle::FORMAT_VERSION,
        dim: TINY_HIDDEN,
        encoder_sha256: sha256_hex(encoder),
        shared: model::testkit::tiny_model_meta(labels, -2.0, tokenizer),
    }
}

#[test]
fn a_bundle_classifies_with_its_head_and_threshold() {
    let (encoder_bytes, tokenizer, _) = tiny_encoder();
    let encoder = SentenceEncoder::load(&encoder_bytes, &tokenizer).unwrap();
    let examples = [
        ("set a timer for ten minutes", 0),
        ("what's the weather like tomorrow", 1),
    ];
    let vectors: Vec<Vec<f32>> = examples
        .iter()
        .map(|(t, _)| encoder.embed(t).unwrap())
        .collect();
    let labels: Vec<usize> = examples.iter().map(|(_, l)| *l).collect();
    let head = head::class_means(&vectors, &labels, 2, TINY_HIDDEN);
    let meta = meta(&["timer", "weather"], &encoder_bytes, &tokenizer);
    let model = bundle::serialize(&meta, &head);
    let classifier = EncoderClassifier::load(EncoderBundleFiles {
        model: &model,
        encoder: &encoder_bytes,
        tokenizer: &tokenizer,
    })
    .unwrap();
    for (text, label) in examples {
        let logits = classifier.logits(text).unwrap();
        assert!(
            (logits[label] - head::COSINE_SCALE).abs() < 1e-3,
            "{text:?}: {logits:?}"
        );
        let result = classifier
            .classify(text, &ClassifyOptions::default())
            .unwrap();
        assert_eq!(result.intent, ["timer", "weather"][label]);
        assert!(result.known);
    }
    // A threshold below every energy makes everything unknown.
    let strict = ClassifyOptions {
        threshold: Some(-1e3),
        ..Default::default()
    };
    assert!(!classifier.classify(TEXTS[0], &strict).unwrap().known);
    for text in TEXTS {
        let result = classifier
            .classify(text, &ClassifyOptions::default())
            .unwrap();
        assert!(
            result.energy.is_finite() && result.confidence.is_finite(),
            "{text:?}"
        );
    }
}

fn load_error(model: &[u8], encoder: &[u8], tokenizer: &[u8]) -> String {
    match EncoderClassifier::load(EncoderBundleFiles {
        model,
        encoder,
        tokenizer,
    }) {
        Ok(_) => panic!("loaded"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn bad_files_are_refused_with_the_file_and_the_problem() {
    let (encoder_bytes, tokenizer, checkpoint) = tiny_encoder();
    let head = Head {
        weight: vec![0.5; 2 * TINY_HIDDEN],
        bias: vec![0.0; 2],
    };
    let meta = meta(&["a", "b"], &encoder_bytes, &tokenizer);
    let model = bundle::serialize(&meta, &head);
    // The error of a model file made from `meta` and `head`, beside the good encoder files.
    let model_error = |meta: &EncoderBundleMeta, head: &Head| {
        load_error(&bundle::serialize(meta, head), &encoder_bytes, &tokenizer)
    };

    let mut other_tokenizer = tokenizer.clone();
    other_tokenizer.push(b' ');
    let e = load_error(&model, &encoder_bytes, &other_tokenizer);
    assert!(e.starts_with(TOKENIZER_FILE) && e.contains("sha256"), "{e}");

    let e = load_error(&model, &checkpoint, &tokenizer);
    assert!(e.starts_with(ENCODER_FILE) && e.contains("sha256"), "{e}");

    let e = load_error(b"not a model", &encoder_bytes, &tokenizer);
    assert!(e.starts_with(MODEL_FILE), "{e}");

    let mut nan_head = head.clone();
    nan_head.weight[3] = f32::NAN;
    let e = model_error(&meta, &nan_head);
    assert!(
        e.starts_with(MODEL_FILE) && e.contains("head.weight") && e.contains("index 3"),
        "{e}"
    );
    let mut nan_bias = head.clone();
    nan_bias.bias[1] = f32::INFINITY;
    let e = model_error(&meta, &nan_bias);
    assert!(
        e.starts_with(MODEL_FILE) && e.contains("head.bias") && e.contains("index 1"),
        "{e}"
    );
    // A version-1 model file (a cosine head without bias) asks for a refit.
    let version_1 = EncoderBundleMeta {
        format_version: 1,
        ..meta.clone()
    };
    let e = model_error(&version_1, &head);
    assert!(
        e.starts_with(MODEL_FILE) && e.contains("version 1") && e.contains("trainer encoder"),
        "{e}"
    );

    let wrong_width = EncoderBundleMeta {
        dim: 8,
        ..meta.clone()
    };
    let e = model_error(
        &wrong_width,
        &Head {
            weight: vec![0.5; 16],
            bias: vec![0.0; 2],
        },
    );
    assert!(
        e.starts_with(ENCODER_FILE) && e.contains(&format!("{TINY_HIDDEN} dims")),
        "{e}"
    );

    // A TextCNN bundle's model file is not this kind's.
    let e = match bundle::parse(
        &model::testkit::tiny_bundle(model::testkit::TINY_TOKENIZER.as_bytes(), 8).0,
    ) {
        Ok(_) => panic!("parsed"),
        Err(e) => e.to_string(),
    };
    assert!(
        e.contains("textcnn-intent") && e.contains("sentence-encoder-intent"),
        "{e}"
    );

    // The encoder file itself: a config that is not BERT's, a missing layer.
    let e = encoder_file::quantize("{}", &checkpoint, Compression::default())
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("config.json") && e.contains("not a BERT config"),
        "{e}"
    );
    let vocab = TextEncoder::from_bytes(&tokenizer, 128)
        .unwrap()
        .vocab_size();
    let (config, _) = tiny_checkpoint(vocab);
    let deeper = config.replace("\"num_hidden_layers\": 2", "\"num_hidden_layers\": 3");
    let encoder_short =
        encoder_file::quantize(&deeper, &checkpoint, Compression::default()).unwrap();
    let e = match SentenceEncoder::load(&encoder_short, &tokenizer) {
        Ok(_) => panic!("loaded"),
        Err(e) => e.to_string(),
    };
    assert!(
        e.starts_with(ENCODER_FILE) && e.contains("encoder.layer.2"),
        "{e}"
    );
    // Fewer embedding rows than the tokenizer has ids.
    let (small, small_checkpoint) = tiny_checkpoint(100);
    let e = match SentenceEncoder::load(
        &encoder_file::quantize(&small, &small_checkpoint, Compression::default()).unwrap(),
        &tokenizer,
    ) {
        Ok(_) => panic!("loaded"),
        Err(e) => e.to_string(),
    };
    assert!(
        e.starts_with(TOKENIZER_FILE) && e.contains("embeddings for 100"),
        "{e}"
    );
}

#[test]
fn a_version_2_bundle_with_its_metadata_as_one_json_value_is_still_read() {
    let (encoder_bytes, tokenizer, _) = tiny_encoder();
    let mut meta = meta(&["timer", "weather"], &encoder_bytes, &tokenizer);
    meta.shared.words = vec!["timer".into(), "weather".into()];
    let head = Head {
        weight: (0..2 * TINY_HIDDEN)
            .map(|i| (i as f32 * 0.37).sin())
            .collect(),
        bias: vec![0.1, -0.2],
    };
    let current = bundle::serialize(&meta, &head);
    // The version-2 layout: every field as one JSON object under `meta`.
    let shared = &meta.shared;
    let version_2 = serde_json::json!({
        "format_version": 2,
        "labels": shared.labels,
        "dim": meta.dim,
        "threshold": shared.threshold,
        "temperature": shared.temperature,
        "tokenizer_sha256": shared.tokenizer_sha256,
        "encoder_sha256": meta.encoder_sha256,
        "training": shared.training,
        "metrics": shared.metrics,
        "words": shared.words,
        "scripts": shared.scripts,
    });
    let f32_tensor = |name: &str, shape: Vec<usize>, values: &[f32]| {
        let bytes = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        (name.to_string(), safetensors::Dtype::F32, shape, bytes)
    };
    let old = model::safetensors_file::serialize_tensors(
        vec![
            f32_tensor(bundle::HEAD_WEIGHT, vec![2, TINY_HIDDEN], &head.weight),
            f32_tensor(bundle::HEAD_BIAS, vec![2], &head.bias),
        ],
        std::collections::HashMap::from([
            ("format".to_string(), bundle::MODEL_FORMAT.to_string()),
            ("meta".to_string(), version_2.to_string()),
        ]),
    );
    let (read, read_head) = bundle::parse(&old).unwrap();
    assert_eq!(read.format_version, 2);
    assert_eq!(read.shared, meta.shared);
    assert_eq!(
        (read.dim, &read.encoder_sha256),
        (meta.dim, &meta.encoder_sha256)
    );
    assert_eq!(read_head, head);
    let load = |model: &[u8]| {
        EncoderClassifier::load(EncoderBundleFiles {
            model,
            encoder: &encoder_bytes,
            tokenizer: &tokenizer,
        })
        .unwrap()
    };
    let (new_form, old_form) = (load(&current), load(&old));
    for text in TEXTS {
        assert_eq!(
            new_form.logits(text).unwrap(),
            old_form.logits(text).unwrap()
        );
        let options = ClassifyOptions::default();
        assert_eq!(
            new_form.classify(text, &options).unwrap(),
            old_form.classify(text, &options).unwrap()
        );
    }
}

#[test]
fn a_4bit_encoder_and_one_of_fewer_layers_load_smaller_and_stay_close() {
    let (int8_bytes, tokenizer, checkpoint) = tiny_encoder();
    let int8 = SentenceEncoder::load(&int8_bytes, &tokenizer).unwrap();
    let (config, _) = tiny_checkpoint(int8.text().vocab_size());
    let four_bit = Compression {
        word_embeddings: MatrixCodec::Int4Groups,
        feed_forward: MatrixCodec::Int4Groups,
        matrices: MatrixCodec::Int4Groups,
        layers: None,
    };
    let four_bytes = encoder_file::quantize(&config, &checkpoint, four_bit).unwrap();
    assert!(
        four_bytes.len() * 10 < int8_bytes.len() * 7,
        "4-bit: {} bytes against int8's {}",
        four_bytes.len(),
        int8_bytes.len()
    );
    let four = SentenceEncoder::load(&four_bytes, &tokenizer).unwrap();
    // The default: 4-bit word embeddings and feed-forward matrices, int8 attention.
    let default_bytes =
        encoder_file::quantize(&config, &checkpoint, Compression::default()).unwrap();
    assert!(four_bytes.len() < default_bytes.len() && default_bytes.len() < int8_bytes.len());
    let default = SentenceEncoder::load(&default_bytes, &tokenizer).unwrap();
    for text in TEXTS {
        let int8 = int8.embed(text).unwrap();
        for (name, other) in [("4-bit", &four), ("default", &default)] {
            let similarity = cosine(&int8, &other.embed(text).unwrap());
            assert!(similarity > 0.98, "{name}, {text}: cosine {similarity}");
        }
    }

    let one_layer = Compression {
        layers: Some(1),
        ..four_bit
    };
    let one_bytes = encoder_file::quantize(&config, &checkpoint, one_layer).unwrap();
    assert!(one_bytes.len() < four_bytes.len());
    let (parsed, _) = encoder_file::read(&one_bytes).unwrap();
    assert_eq!(parsed.num_hidden_layers, 1);
    let one = SentenceEncoder::load(&one_bytes, &tokenizer).unwrap();
    assert_eq!(one.embed("set a timer").unwrap().len(), TINY_HIDDEN);

    for layers in [0, 3] {
        let keep = Compression {
            layers: Some(layers),
            ..Compression::default()
        };
        let e = encoder_file::quantize(&config, &checkpoint, keep)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains(&format!("cannot keep {layers} of the encoder's 2 layers")),
            "{e}"
        );
    }
}

#[test]
fn a_typo_one_edit_from_a_training_word_is_read_as_that_word() {
    let (encoder_bytes, tokenizer, _) = tiny_encoder();
    let encoder = SentenceEncoder::load(&encoder_bytes, &tokenizer).unwrap();
    let examples = [("set a timer", 0), ("weather forecast", 1)];
    let vectors: Vec<Vec<f32>> = examples
        .iter()
        .map(|(t, _)| encoder.embed(t).unwrap())
        .collect();
    let head = head::class_means(&vectors, &[0, 1], 2, TINY_HIDDEN);
    let mut meta = meta(&["timer", "weather"], &encoder_bytes, &tokenizer);
    meta.shared.words = model::spelling::vocabulary(examples.iter().map(|(t, _)| *t));
    let classifier = EncoderClassifier::load(EncoderBundleFiles {
        model: &bundle::serialize(&meta, &head),
        encoder: &encoder_bytes,
        tokenizer: &tokenizer,
    })
    .unwrap();
    // "forecazt" is one edit from the training word "forecast", and no word the tokenizer
    // knows whole: the encoder reads the repaired query, in classify, logits and batches.
    let result = classifier
        .classify("weather forecazt", &ClassifyOptions::default())
        .unwrap();
    assert_eq!(result.repaired.as_deref(), Some("weather forecast"));
    let clean = classifier.logits("weather forecast").unwrap();
    assert_eq!(classifier.logits("weather forecazt").unwrap(), clean);
    let batch = classifier
        .logits_of_many(&["weather forecazt", "set a timer"])
        .unwrap();
    assert!(batch[0]
        .iter()
        .zip(&clean)
        .all(|(a, b)| (a - b).abs() < 1e-5));
    assert_eq!(
        classifier.token_ids("weather forecazt"),
        classifier.token_ids("weather forecast")
    );
    // A correct query is read as typed.
    let typed = classifier
        .classify("weather forecast", &ClassifyOptions::default())
        .unwrap();
    assert_eq!(typed.repaired, None);
}
