//! End-to-end checks of the trainer on a tiny dataset and the repo's own token table.

use std::path::PathBuf;

use candle_core::{Device, Tensor};
use clap::Parser;
use model::bundle::{MODEL_FILE, TABLE_FILE, TOKENIZER_FILE};
use model::{BundleFiles, Classifier, ModelWeights};
use rand::SeedableRng;
use rand_chacha::ChaCha12Rng;
use trainer::data::Dataset;
use trainer::network::{energy, Network, RowInput};
use trainer::train::{
    self, candle_logits, cross_entropy, energy_loss, random_token_rows, spliced_rows, Embeddings,
    EnergyLoss, EpochLog, Observer, TrainArgs, Trained, TrainingState,
};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

const INTENTS: &[(&str, &[&str])] = &[
    (
        "weather",
        &[
            "weather today",
            "will it rain tomorrow",
            "forecast for the weekend",
            "is it sunny outside",
            "how hot is it",
            "temperature in paris",
            "do i need an umbrella",
            "snow expected tonight",
            "weather in london",
            "is it cold outside",
        ],
    ),
    (
        "timer",
        &[
            "set a timer for 5 minutes",
            "timer 10 minutes",
            "start a countdown",
            "count down 30 seconds",
            "timer for the pasta",
            "set a 2 minute timer",
            "start a timer",
            "countdown one hour",
            "remind me in 20 minutes with a timer",
            "three minute timer",
        ],
    ),
    (
        "translate",
        &[
            "translate hello to french",
            "how do you say thanks in spanish",
            "translate this to german",
            "what is cat in japanese",
            "say good morning in italian",
            "translate goodbye",
            "english to chinese please",
            "how to say water in korean",
            "translate into portuguese",
            "french for apple",
        ],
    ),
    (
        "base64",
        &[
            "base64 encode hello",
            "encode this as base64",
            "base64 of my name",
            "convert text to base64",
            "base64 encoding of abc",
            "encode in base64",
            "give me base64 for test",
            "base64 this string",
            "what is hello in base64",
            "base64 encode the word cat",
        ],
    ),
];
const NOISE: &[&str] = &[
    "who won the game last night",
    "recipe for pancakes",
    "tell me a joke",
    "best laptop to buy",
    "how tall is mount everest",
    "what is the capital of peru",
    "book a flight to rome",
    "i like turtles",
    "history of the roman empire",
    "how do magnets work",
];

fn dataset() -> Dataset {
    let mut ds = Dataset {
        labels: INTENTS.iter().map(|(l, _)| l.to_string()).collect(),
        source: "inline".into(),
        ..Default::default()
    };
    for (label, (_, sentences)) in INTENTS.iter().enumerate() {
        for (i, s) in sentences.iter().enumerate() {
            let split = if i % 5 == 4 {
                &mut ds.val
            } else {
                &mut ds.train
            };
            split.push((s.to_string(), label));
        }
    }
    ds.test = ds.val.clone();
    ds.negatives_train = NOISE[..7].iter().map(|s| s.to_string()).collect();
    ds.negatives_val = NOISE[7..].iter().map(|s| s.to_string()).collect();
    ds.negatives_test = ds.negatives_val.clone();
    ds
}

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    train: TrainArgs,
}

fn args(extra: &[&str]) -> TrainArgs {
    let out = std::env::temp_dir().join(format!("trainer-test-{}", std::process::id()));
    let table = repo().join("assets/minilm-l6-v2");
    let mut argv = vec![
        "trainer".to_string(),
        "--data".into(),
        "unused.json".into(),
        "--table".into(),
        table.display().to_string(),
        "--out".into(),
        out.display().to_string(),
        "--quiet".into(),
    ];
    if !extra.contains(&"--epochs") {
        argv.extend(["--epochs".into(), "15".into()]);
    }
    argv.extend(extra.iter().map(|s| s.to_string()));
    Cli::parse_from(argv).train
}

fn embeddings() -> Embeddings {
    train::load_embeddings(&repo().join("assets/minilm-l6-v2"), 64).expect("repo table loads")
}

/// Trains the tiny dataset with `extra` flags and checks it learned: far above chance (25%)
/// on held-out sentences.
fn trained_tiny(extra: &[&str]) -> (Trained, Embeddings) {
    let emb = embeddings();
    let trained = train::train(&args(extra), &dataset(), &emb).unwrap();
    assert!(
        trained.evaluation.val_report.closed_set_accuracy >= 0.75,
        "val accuracy {}",
        trained.evaluation.val_report.closed_set_accuracy
    );
    (trained, emb)
}

/// The bundle's scalar forward pass equals candle's eval forward of `network` within 1e-4
/// on every sentence of the dataset and a few odd queries.
fn assert_bundle_reproduces(clf: &Classifier, network: &Network, emb: &Embeddings) {
    let long = "long query ".repeat(100);
    let texts: Vec<&str> = INTENTS
        .iter()
        .flat_map(|(_, s)| s.iter().copied())
        .chain(NOISE.iter().copied())
        .chain(["", "x", "weather", "🌦️ 今天天气怎么样", long.as_str()])
        .collect();
    let ids: Vec<Vec<u32>> = texts.iter().map(|t| clf.encode(t)).collect();
    let reference = candle_logits(network, &emb.table, &ids).unwrap();
    let mut worst = (0f32, "");
    for (text, want) in texts.iter().zip(&reference) {
        for (a, b) in clf.logits(text).iter().zip(want) {
            if (a - b).abs() > worst.0 {
                worst = ((a - b).abs(), text);
            }
        }
    }
    assert!(
        worst.0 < 1e-4,
        "native scalar vs candle: largest difference {} on {:?}",
        worst.0,
        worst.1
    );
}

#[test]
fn tiny_training_learns_and_the_bundle_reproduces_the_network() {
    // F32 weights: the bundle must then reproduce the trained network to float precision
    // (the default int8 weights are checked against their own rounding in model's tests).
    let (trained, emb) = trained_tiny(&["--weights-dtype", "f32"]);
    // Write, reload, compare.
    let dir = std::env::temp_dir().join(format!("bundle-test-{}", std::process::id()));
    train::write_bundle(&dir, &trained, &emb).unwrap();
    let read = |f: &str| std::fs::read(dir.join(f)).unwrap();
    let (m, t, k) = (read(MODEL_FILE), read(TABLE_FILE), read(TOKENIZER_FILE));
    let clf = Classifier::load(BundleFiles {
        model: &m,
        table: &t,
        tokenizer: &k,
    })
    .unwrap();
    assert_bundle_reproduces(&clf, &trained.network, &emb);
    assert_eq!(clf.meta().shared.threshold, trained.meta.shared.threshold);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_ensemble_trains_apart_and_ships_as_one_network_with_its_mean_logits() {
    let (trained, emb) = trained_tiny(&[
        "--weights-dtype",
        "f32",
        "--members",
        "2",
        "--channels",
        "32",
    ]);
    // Each member's classifier rows stay zero off its own channels: no gradient crossed.
    let net = &trained.network;
    let labels = INTENTS.len();
    assert_eq!((net.members, net.arch.channels), (2, 64));
    let weight = net.classifier_weight.as_tensor().to_vec2::<f32>().unwrap();
    for (row, values) in weight.iter().enumerate() {
        let member = row / labels;
        for (feature, &w) in values.iter().enumerate() {
            let owner = (feature % 64) / 32;
            assert!(
                owner == member || w == 0.0,
                "member {member}'s row {row} reads feature {feature} of member {owner}: {w}"
            );
        }
    }
    // The bundle is one network of 64 channels whose logits are the members' mean.
    let (weights, meta) = ModelWeights::parse(&trained.model_bytes).unwrap();
    assert_eq!(meta.architecture.channels, 64);
    assert_eq!(
        weights.classifier_weight.len(),
        labels * net.arch.features()
    );
    let clf = Classifier::load(BundleFiles {
        model: &trained.model_bytes,
        table: &emb.table_bytes,
        tokenizer: &emb.tokenizer_bytes,
    })
    .unwrap();
    assert_bundle_reproduces(&clf, net, &emb);
    let refused = train::train(&args(&["--members", "0"]), &dataset(), &emb);
    let message = refused.err().expect("no members is refused").to_string();
    assert!(message.contains("--members"), "{message}");
}

/// Records what the training loop reports, and cancels the run before `cancel_at`
/// (epoch, step) when given.
#[derive(Default)]
struct Recorder {
    epochs: Vec<EpochLog>,
    steps: usize,
    cancel_at: Option<(usize, usize)>,
}

impl Observer for Recorder {
    fn before_step(&mut self, epoch: usize, step: usize, _steps: usize) -> anyhow::Result<()> {
        if self.cancel_at == Some((epoch, step)) {
            anyhow::bail!("cancelled at epoch {epoch}, step {step}");
        }
        Ok(())
    }
    fn after_step(&mut self, mean_loss: f64) {
        assert!(mean_loss.is_finite());
        self.steps += 1;
    }
    fn epoch_done(&mut self, entry: &EpochLog, state: TrainingState<'_>) -> anyhow::Result<()> {
        assert_eq!(state.progress.epochs_done, entry.epoch);
        self.epochs.push(entry.clone());
        Ok(())
    }
}

#[test]
fn an_observer_sees_every_step_and_epoch_and_can_cancel() {
    let ds = dataset();
    let emb = embeddings();
    let args = args(&["--epochs", "2"]);
    let mut seen = Recorder::default();
    let observed = train::train_observed(&args.config, &ds, &emb, &Device::Cpu, &mut seen).unwrap();
    let epochs: Vec<usize> = seen.epochs.iter().map(|e| e.epoch).collect();
    assert_eq!(epochs, [1, 2]);
    assert_eq!(
        seen.steps,
        2 * ds.train.len().div_ceil(args.config.batch_size)
    );
    assert!(seen
        .epochs
        .iter()
        .all(|e| e.loss.is_finite() && (0.0..=1.0).contains(&e.val_accuracy)));
    // What watches a run does not change the model.
    let plain = train::train(&args, &ds, &emb).unwrap();
    let (observed_weights, _) = ModelWeights::parse(&observed.model_bytes).unwrap();
    let (plain_weights, _) = ModelWeights::parse(&plain.model_bytes).unwrap();
    assert_eq!(observed_weights, plain_weights);
    assert_eq!(observed.meta.shared.threshold, plain.meta.shared.threshold);

    let mut cancelling = Recorder {
        cancel_at: Some((2, 1)),
        ..Default::default()
    };
    let err = train::train_observed(&args.config, &ds, &emb, &Device::Cpu, &mut cancelling)
        .err()
        .expect("the run stops when the observer says so");
    assert!(
        err.to_string().contains("cancelled at epoch 2, step 1"),
        "{err}"
    );
    assert_eq!(cancelling.epochs.len(), 1);
}

#[test]
fn same_seed_gives_identical_weights() {
    let ds = dataset();
    let emb = embeddings();
    let a = train::train(&args(&["--epochs", "2"]), &ds, &emb).unwrap();
    let b = train::train(&args(&["--epochs", "2"]), &ds, &emb).unwrap();
    let (wa, _) = ModelWeights::parse(&a.model_bytes).unwrap();
    let (wb, _) = ModelWeights::parse(&b.model_bytes).unwrap();
    assert_eq!(wa, wb);
    let c = train::train(&args(&["--epochs", "2", "--seed", "7"]), &ds, &emb).unwrap();
    let (wc, _) = ModelWeights::parse(&c.model_bytes).unwrap();
    assert_ne!(wa, wc);
}

#[test]
fn logits_do_not_depend_on_the_batch() {
    let emb = embeddings();
    let arch = model::Architecture {
        embed_dim: emb.table.dim,
        ..Default::default()
    };
    let net = Network::new(&arch, 4, 1, 3, &Device::Cpu).unwrap();
    let short = emb.encoder.encode("hi");
    let long = emb
        .encoder
        .encode("a much longer sentence that pads every other row of the batch");
    let one_token = vec![short[0]];
    let alone = candle_logits(&net, &emb.table, std::slice::from_ref(&short)).unwrap();
    let together = candle_logits(&net, &emb.table, &[long.clone(), short.clone(), long]).unwrap();
    for (a, b) in alone[0].iter().zip(&together[1]) {
        assert!((a - b).abs() < 1e-5, "{a} vs {b}");
    }
    // A one-token query runs (the kernel-4 branch needs two rows) and matches zero-extension.
    let single = candle_logits(&net, &emb.table, std::slice::from_ref(&one_token)).unwrap();
    assert!(single[0].iter().all(|v| v.is_finite()));
    let rows = emb.table.lookup(&one_token);
    let mut extended = rows.clone();
    extended.resize(2 * emb.table.dim, 0.0);
    let b1 = net
        .batch(&[RowInput {
            embedded: &rows,
            len: 2,
        }])
        .unwrap();
    let b2 = net
        .batch(&[RowInput {
            embedded: &extended,
            len: 2,
        }])
        .unwrap();
    let l1 = net.forward_eval(&b1).unwrap().to_vec2::<f32>().unwrap();
    let l2 = net.forward_eval(&b2).unwrap().to_vec2::<f32>().unwrap();
    assert_eq!(l1, l2);
}

#[test]
fn energy_and_losses_by_hand() {
    let dev = Device::Cpu;
    let logits = Tensor::new(&[[1f32, 2.0, 3.0], [0.0, 0.0, 0.0]], &dev).unwrap();
    let e = energy(&logits).unwrap().to_vec1::<f32>().unwrap();
    assert!((e[0] + 3.407_606).abs() < 1e-5);
    assert!((e[1] + 3f32.ln()).abs() < 1e-5);

    let known = Tensor::new(&[-10f32, -5.0], &dev).unwrap();
    let unknown = [Tensor::new(&[-3f32, 0.0], &dev).unwrap()];
    // Hinge: mean(0, 3^2) + mean(1^2, 0) = 4.5 + 0.5
    let hinge = energy_loss(EnergyLoss::Hinge, &known, &unknown, -8.0, -2.0).unwrap();
    assert!((hinge.to_scalar::<f32>().unwrap() - 5.0).abs() < 1e-6);
    // Seed: mean(-10, -5) + mean(relu(1 + 3), relu(1 - 0)) = -7.5 + 2.5
    let seed = energy_loss(EnergyLoss::Seed, &known, &unknown, -8.0, -2.0).unwrap();
    assert!((seed.to_scalar::<f32>().unwrap() + 5.0).abs() < 1e-6);
}

#[test]
fn label_smoothing_by_hand() {
    let dev = Device::Cpu;
    let logits = Tensor::new(&[[1f32, 2.0, 3.0]], &dev).unwrap();
    let target = Tensor::new(&[2u32], &dev).unwrap();
    // -log p = [2.407606, 1.407606, 0.407606]: plain CE 0.407606, uniform term 1.407606.
    let plain = cross_entropy(&logits, &target, 0.0).unwrap();
    assert!((plain.to_scalar::<f32>().unwrap() - 0.407_606).abs() < 1e-5);
    let smoothed = cross_entropy(&logits, &target, 0.1).unwrap();
    assert!((smoothed.to_scalar::<f32>().unwrap() - 0.507_606).abs() < 1e-5);
}

#[test]
fn text_like_synthetic_rows() {
    let mut rng = ChaCha12Rng::seed_from_u64(1);
    let a: &[u32] = &[101, 1, 2, 3, 4, 102];
    let b: &[u32] = &[101, 5, 6, 7, 102];
    let c: &[u32] = &[101, 8, 102];
    let known = [(a, 0), (b, 1), (c, 0)];
    let pool = [40u32, 41, 42];
    let random = random_token_rows(&known, &pool, &mut rng);
    assert_eq!(random.len(), 3);
    for (row, (ids, _)) in random.iter().zip(&known) {
        assert_eq!(row.len(), ids.len());
        assert_eq!((row[0], row[row.len() - 1]), (101, 102));
        assert!(row[1..row.len() - 1].iter().all(|t| pool.contains(t)));
    }
    // a and c pair only with b; b with a or c.
    let spliced = spliced_rows(&known, &mut rng);
    assert_eq!(spliced[0], vec![101, 1, 2, 6, 7, 102]);
    assert!(spliced[1] == vec![101, 5, 6, 3, 4, 102] || spliced[1] == vec![101, 5, 6, 8, 102]);
    assert_eq!(spliced[2], vec![101, 8, 6, 7, 102]);
    // One intent in the batch: nothing to splice across.
    assert!(spliced_rows(&[(a, 0), (c, 0)], &mut rng).is_empty());
}

#[test]
fn text_like_negatives_and_label_smoothing_train() {
    let ds = dataset();
    let emb = embeddings();
    for extra in [
        ["--synthetic", "tokens"],
        ["--synthetic", "spliced"],
        ["--label-smoothing", "0.1"],
    ] {
        let trained = train::train(&args(&extra), &ds, &emb).unwrap();
        assert!(
            trained.evaluation.val_report.closed_set_accuracy >= 0.75,
            "{extra:?}: val accuracy {}",
            trained.evaluation.val_report.closed_set_accuracy
        );
    }
    let Err(bad) = train::train(&args(&["--label-smoothing", "1.5"]), &ds, &emb) else {
        panic!("--label-smoothing 1.5 was accepted");
    };
    assert!(bad.to_string().contains("--label-smoothing"), "{bad}");
}

#[test]
fn typo_augmentation_is_seeded_changes_the_model_and_checks_its_rate() {
    let ds = dataset();
    let emb = embeddings();
    let typos = ["--epochs", "2", "--typo-rate", "0.3"];
    let weights = |extra: &[&str]| {
        let trained = train::train(&args(extra), &ds, &emb).unwrap();
        ModelWeights::parse(&trained.model_bytes).unwrap().0
    };
    let with_typos = weights(&typos);
    assert_eq!(with_typos, weights(&typos), "same seed, same typos");
    assert_ne!(
        with_typos,
        weights(&["--epochs", "2", "--typo-rate", "0"]),
        "the typos reached training"
    );
    let trained = train::train(&args(&["--typo-rate", "0.25"]), &ds, &emb).unwrap();
    assert!(
        trained.evaluation.val_report.closed_set_accuracy >= 0.75,
        "val accuracy {}",
        trained.evaluation.val_report.closed_set_accuracy
    );
    for rate in ["1.5", "-0.1", "NaN"] {
        let flag = format!("--typo-rate={rate}");
        let Err(bad) = train::train(&args(&[&flag]), &ds, &emb) else {
            panic!("--typo-rate {rate} was accepted");
        };
        assert!(bad.to_string().contains("--typo-rate"), "{rate}: {bad}");
    }
}

#[test]
fn a_tokenizer_that_does_not_match_the_table_is_refused() {
    let dir = std::env::temp_dir().join(format!("mismatch-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(
        repo().join("assets/minilm-l6-v2/table.safetensors"),
        dir.join(TABLE_FILE),
    )
    .unwrap();
    // A valid tokenizer with a 3-token vocabulary.
    std::fs::write(
        dir.join(TOKENIZER_FILE),
        r#"{"version":"1.0","truncation":null,"padding":null,"added_tokens":[],"normalizer":null,
           "pre_tokenizer":{"type":"Whitespace"},"post_processor":null,"decoder":null,
           "model":{"type":"WordLevel","vocab":{"[UNK]":0,"a":1,"b":2},"unk_token":"[UNK]"}}"#,
    )
    .unwrap();
    let err = train::load_embeddings(&dir, 64)
        .err()
        .expect("mismatch is an error")
        .to_string();
    assert!(
        err.contains("3 tokens") && err.contains("28122 rows"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
#[cfg(feature = "table")]
fn a_missing_tensor_name_is_named() {
    let err = trainer::table::TokenMatrix::open(
        &repo().join("assets/minilm-l6-v2/table.safetensors"),
        "embeddings.word_embeddings.weight",
    )
    .err()
    .unwrap()
    .to_string();
    assert!(
        err.contains("tensor `embeddings.word_embeddings.weight` is not in the file"),
        "{err}"
    );
}

#[test]
fn bundle_directories_are_replaced_whole() {
    let dir = std::env::temp_dir().join(format!("atomic-test-{}", std::process::id()));
    trainer::output::write_dir_atomically(&dir, &[("a", b"old".to_vec()), ("stale", vec![])])
        .unwrap();
    trainer::output::write_dir_atomically(&dir, &[("a", b"new".to_vec())]).unwrap();
    assert_eq!(std::fs::read(dir.join("a")).unwrap(), b"new");
    assert!(!dir.join("stale").exists());
    let leftovers = std::fs::read_dir(dir.parent().unwrap())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .contains(&format!("atomic-test-{}.", std::process::id()))
        })
        .count();
    assert_eq!(leftovers, 0);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn two_epochs_then_resuming_two_more_equals_four_epochs() {
    let ds = dataset();
    let emb = embeddings();
    let tmp = std::env::temp_dir().join(format!("resume-test-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    let path = |f: &str| tmp.join(f).display().to_string();
    let (ckpt, log) = (path("run.ckpt"), path("run.metrics.jsonl"));
    // Adding epochs to a finished run continues its trajectory only at a constant rate: the
    // cosine schedule's length is the run's --epochs. (A run stopped and resumed with the
    // same --epochs, default schedule, is faults.rs's test.)
    let run = |extra: &[&str]| {
        let mut argv = vec!["--metrics-log", &log, "--lr-schedule", "constant"];
        argv.extend_from_slice(extra);
        train::train(&args(&argv), &ds, &emb)
    };
    let straight = run(&["--epochs", "4"]).unwrap();
    let first = run(&["--epochs", "2", "--checkpoint", &ckpt]).unwrap();
    let resumed = run(&["--epochs", "4", "--checkpoint", &ckpt, "--resume"]).unwrap();
    let weights = |t: &train::Trained| ModelWeights::parse(&t.model_bytes).unwrap().0;
    assert_ne!(
        weights(&first),
        weights(&straight),
        "2 epochs must differ from 4"
    );
    // Bit for bit: weights, BatchNorm statistics (folded in), threshold and metrics.
    assert_eq!(weights(&resumed), weights(&straight));
    assert_eq!(
        resumed.meta.shared.threshold,
        straight.meta.shared.threshold
    );
    assert_eq!(resumed.meta.shared.metrics, straight.meta.shared.metrics);
    // The log holds each epoch once, continued from the checkpoint.
    let epochs: Vec<u64> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["epoch"]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert_eq!(epochs, [1, 2, 3, 4]);

    // Another learning rate is another run: refused, naming the flag.
    let err = run(&[
        "--epochs",
        "4",
        "--lr",
        "0.01",
        "--checkpoint",
        &ckpt,
        "--resume",
    ])
    .err()
    .unwrap()
    .to_string();
    assert!(
        err.contains("run.ckpt") && err.contains("lr: 0.0008 now 0.01"),
        "{err}"
    );
    // A checkpoint with the earlier tensor names (`conv{i}.weight`) is refused, saying to
    // start over.
    let bytes = std::fs::read(&ckpt).unwrap();
    let (_, header) = safetensors::SafeTensors::read_metadata(&bytes).unwrap();
    let earlier = safetensors::SafeTensors::deserialize(&bytes)
        .unwrap()
        .tensors()
        .into_iter()
        .map(|(name, view)| {
            let name = match name
                .strip_prefix("branches.")
                .and_then(|rest| rest.strip_suffix(".weight"))
            {
                Some(i) => format!("conv{i}.weight"),
                None => name,
            };
            (
                name,
                view.dtype(),
                view.shape().to_vec(),
                view.data().to_vec(),
            )
        })
        .collect();
    let metadata = header.metadata().clone().unwrap();
    std::fs::write(
        &ckpt,
        model::safetensors_file::serialize_tensors(earlier, metadata),
    )
    .unwrap();
    let err = run(&["--epochs", "4", "--checkpoint", &ckpt, "--resume"])
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("run.ckpt") && err.contains("restart training without --resume"),
        "{err}"
    );
    std::fs::write(&ckpt, &bytes).unwrap();
    // A damaged checkpoint is refused, naming the file; a missing one too.
    let bytes = std::fs::read(&ckpt).unwrap();
    std::fs::write(&ckpt, &bytes[..bytes.len() / 2]).unwrap();
    let err = run(&["--epochs", "4", "--checkpoint", &ckpt, "--resume"])
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("run.ckpt"), "{err}");
    std::fs::remove_file(&ckpt).unwrap();
    let err = run(&["--epochs", "4", "--checkpoint", &ckpt, "--resume"])
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("cannot read checkpoint") && err.contains("run.ckpt"),
        "{err}"
    );
    std::fs::remove_dir_all(&tmp).unwrap();
}
