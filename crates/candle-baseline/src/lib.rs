//! The browser benchmark's baseline: the bundle's TextCNN run with candle-core's own
//! `conv1d`, so the hand-written SIMD128 kernels have something to be measured against.

use candle_core::{Device, Tensor};
use model::{EmbeddingTable, ModelWeights};
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
pub struct CandleTextCnn {
    arch: model::Architecture,
    table: EmbeddingTable,
    convs: Vec<(Tensor, Tensor)>,
    classifier: (Tensor, Tensor),
}

fn js(e: impl std::fmt::Display) -> JsError {
    JsError::new(&e.to_string())
}

#[wasm_bindgen]
impl CandleTextCnn {
    #[wasm_bindgen(constructor)]
    pub fn new(model: &[u8], table: &[u8]) -> Result<CandleTextCnn, JsError> {
        let (weights, meta) = ModelWeights::parse(model).map_err(js)?;
        let (table, _) = EmbeddingTable::parse(table).map_err(js)?;
        let a = meta.architecture;
        let dev = Device::Cpu;
        let mut convs = Vec::new();
        for (i, b) in a.branches.iter().enumerate() {
            let w = Tensor::from_slice(
                &weights.branch_weights[i],
                (a.channels, a.embed_dim, b.kernel),
                &dev,
            )
            .map_err(js)?;
            let bias = Tensor::from_slice(&weights.branch_biases[i], (1, a.channels, 1), &dev)
                .map_err(js)?;
            convs.push((w, bias));
        }
        let n = meta.shared.labels.len();
        let classifier = (
            Tensor::from_slice(&weights.classifier_weight, (n, a.features()), &dev).map_err(js)?,
            Tensor::from_slice(&weights.classifier_bias, (1, n), &dev).map_err(js)?,
        );
        Ok(Self {
            arch: a,
            table,
            convs,
            classifier,
        })
    }

    /// Logits for token ids: table lookup, conv1d per branch, ReLU, max-pool, linear.
    #[wasm_bindgen(js_name = logitsForIds)]
    pub fn logits_for_ids(&self, ids: Vec<u32>) -> Result<Vec<f32>, JsError> {
        self.forward(&ids).map_err(js)
    }
}

impl CandleTextCnn {
    fn forward(&self, ids: &[u32]) -> candle_core::Result<Vec<f32>> {
        let a = &self.arch;
        let len = a.effective_len(ids.len());
        let mut rows = self.table.lookup(&ids[..ids.len().min(a.max_len)]);
        rows.resize(len * a.embed_dim, 0.0);
        // [1, len, dim] -> [1, dim, len]
        let x = Tensor::from_vec(rows, (1, len, a.embed_dim), &Device::Cpu)?
            .transpose(1, 2)?
            .contiguous()?;
        let mut pooled = Vec::new();
        for ((w, bias), b) in self.convs.iter().zip(&a.branches) {
            let y = x
                .conv1d(w, b.padding, 1, 1, 1)?
                .broadcast_add(bias)?
                .relu()?;
            pooled.push(y.max(2)?);
        }
        let features = Tensor::cat(&pooled, 1)?;
        let logits = features
            .matmul(&self.classifier.0.t()?)?
            .broadcast_add(&self.classifier.1)?;
        logits.flatten_all()?.to_vec1()
    }
}
