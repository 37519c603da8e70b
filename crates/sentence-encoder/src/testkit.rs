//! A tiny BERT checkpoint generated in code, for tests that must not depend on a downloaded
//! encoder: the layout and names of a Hugging Face BERT, deterministic non-trivial weights.

use std::collections::HashMap;

use model::safetensors_file::serialize_tensors;
use model::tensor_codec::f32_bytes;
use safetensors::Dtype;

// A multiple of the 4-bit codec's group (32 values), so tests can store it that way.
pub const TINY_HIDDEN: usize = 32;
const LAYERS: usize = 2;
const HEADS: usize = 2;
const INTERMEDIATE: usize = 64;
const POSITIONS: usize = 64;

/// `config.json` and `model.safetensors` (F32) of a 2-layer BERT with `vocab_size` tokens,
/// hidden size [`TINY_HIDDEN`]; it also holds a pooler, which the encoder file leaves out.
pub fn tiny_checkpoint(vocab_size: usize) -> (String, Vec<u8>) {
    let config = format!(
        r#"{{"vocab_size": {vocab_size}, "hidden_size": {TINY_HIDDEN}, "num_hidden_layers": {LAYERS},
  "num_attention_heads": {HEADS}, "intermediate_size": {INTERMEDIATE}, "hidden_act": "gelu",
  "hidden_dropout_prob": 0.1, "max_position_embeddings": {POSITIONS}, "type_vocab_size": 2,
  "initializer_range": 0.02, "layer_norm_eps": 1e-12, "pad_token_id": 0,
  "classifier_dropout": null, "model_type": "bert"}}"#
    );
    let mut shapes: Vec<(String, Vec<usize>)> = vec![
        (
            "embeddings.word_embeddings.weight".into(),
            vec![vocab_size, TINY_HIDDEN],
        ),
        (
            "embeddings.position_embeddings.weight".into(),
            vec![POSITIONS, TINY_HIDDEN],
        ),
        (
            "embeddings.token_type_embeddings.weight".into(),
            vec![2, TINY_HIDDEN],
        ),
        ("pooler.dense.weight".into(), vec![TINY_HIDDEN, TINY_HIDDEN]),
    ];
    let mut norms = vec!["embeddings.LayerNorm".to_string()];
    for l in 0..LAYERS {
        let p = format!("encoder.layer.{l}");
        for (name, out, inp) in [
            ("attention.self.query", TINY_HIDDEN, TINY_HIDDEN),
            ("attention.self.key", TINY_HIDDEN, TINY_HIDDEN),
            ("attention.self.value", TINY_HIDDEN, TINY_HIDDEN),
            ("attention.output.dense", TINY_HIDDEN, TINY_HIDDEN),
            ("intermediate.dense", INTERMEDIATE, TINY_HIDDEN),
            ("output.dense", TINY_HIDDEN, INTERMEDIATE),
        ] {
            shapes.push((format!("{p}.{name}.weight"), vec![out, inp]));
            shapes.push((format!("{p}.{name}.bias"), vec![out]));
        }
        norms.push(format!("{p}.attention.output.LayerNorm"));
        norms.push(format!("{p}.output.LayerNorm"));
    }
    let mut tensors = Vec::new();
    for (i, (name, shape)) in shapes.into_iter().enumerate() {
        let n: usize = shape.iter().product();
        let values: Vec<f32> = (0..n)
            .map(|j| ((j * 7 + i * 13) as f32 * 0.37).sin() * 0.4)
            .collect();
        tensors.push((name, Dtype::F32, shape, f32_bytes(&values)));
    }
    for norm in norms {
        let gain: Vec<f32> = (0..TINY_HIDDEN)
            .map(|j| 1.0 + (j as f32).cos() * 0.1)
            .collect();
        let shift: Vec<f32> = (0..TINY_HIDDEN).map(|j| (j as f32).sin() * 0.05).collect();
        tensors.push((
            format!("{norm}.weight"),
            Dtype::F32,
            vec![TINY_HIDDEN],
            f32_bytes(&gain),
        ));
        tensors.push((
            format!("{norm}.bias"),
            Dtype::F32,
            vec![TINY_HIDDEN],
            f32_bytes(&shift),
        ));
    }
    (config, serialize_tensors(tensors, HashMap::new()))
}
