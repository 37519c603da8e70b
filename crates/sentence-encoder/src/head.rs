//! The head: a linear layer over the encoder's unit vectors, one row and one bias per
//! intent. [`fit`] starts it as the cosine head (each intent's unit mean training vector
//! times [`COSINE_SCALE`]) and trains it with softmax cross-entropy. A linear layer, so the
//! energy, threshold and calibration of the TextCNN apply unchanged.
//!
//! Why train at all: class means separate the intents they were fitted on, but a trained
//! layer weighs the directions that tell sibling intents apart, and unknowns from the same
//! domain land in none of them. On the CLINC150 same-domain set, validation AUROC against
//! held-out intents rose from 0.866 to 0.932 (bench/results/fewshot.md).

use candle_core::{DType, Device, Tensor, Var};
use candle_nn::{AdamW, Optimizer, ParamsAdamW};

/// Cosines lie in [-1, 1]: unscaled, the softmax over intents would be nearly flat and the
/// energy would barely separate known from unknown. At 20, one intent 0.1 closer than the
/// next is e² ≈ 7 times as likely. The starting point of [`fit`].
pub const COSINE_SCALE: f32 = 20.0;

/// Full-batch Adam steps, learning rate and L2 penalty of [`fit`], chosen on the validation
/// splits of the few-shot and same-domain sets (`bench/encoder_heads.sh`; results in
/// bench/results/fewshot.md): of the grid (100 or 300 steps, L2 1e-4 to 1e-2, from the class
/// means or from zero, sharpened or not), the one setting at or above the cosine head on
/// every validation figure of the three sets.
const FIT_STEPS: usize = 100;
const FIT_LEARNING_RATE: f64 = 0.01;
const FIT_L2: f64 = 1e-4;

/// The fitted logits are multiplied by this. The energy, −logsumexp, counts every intent's
/// logit; sharper, it comes closer to minus the top logit, which told unknowns apart better
/// on every set's validation split. Argmax is unchanged, and the temperature fitted later
/// keeps reported probabilities calibrated.
const ENERGY_SHARPNESS: f32 = 3.0;

/// Weights [labels, dim] row-major and a bias per label.
#[derive(Clone, Debug, PartialEq)]
pub struct Head {
    pub weight: Vec<f32>,
    pub bias: Vec<f32>,
}

impl Head {
    /// Logits of a unit vector.
    pub fn logits(&self, vector: &[f32]) -> Vec<f32> {
        self.weight
            .chunks_exact(vector.len())
            .zip(&self.bias)
            .map(|(row, b)| b + row.iter().zip(vector).map(|(w, v)| w * v).sum::<f32>())
            .collect()
    }
}

/// The cosine head: intent `l`'s row is its unit mean vector times [`COSINE_SCALE`], its bias
/// 0. `vectors[i]` belongs to intent `labels[i]`; an intent without sentences gets a zero
/// row (logit 0).
pub fn class_means(vectors: &[Vec<f32>], labels: &[usize], n_labels: usize, dim: usize) -> Head {
    let mut weight = vec![0f32; n_labels * dim];
    for (vector, &label) in vectors.iter().zip(labels) {
        for (w, v) in weight[label * dim..(label + 1) * dim]
            .iter_mut()
            .zip(vector)
        {
            *w += v;
        }
    }
    for row in weight.chunks_exact_mut(dim) {
        let norm = row.iter().map(|w| w * w).sum::<f32>().sqrt();
        if norm > 0.0 {
            row.iter_mut().for_each(|w| *w *= COSINE_SCALE / norm);
        }
    }
    Head {
        weight,
        bias: vec![0.0; n_labels],
    }
}

/// The trained head: from the cosine head, [`FIT_STEPS`] full-batch Adam steps on softmax
/// cross-entropy plus an L2 penalty on the weights, then sharpened by [`ENERGY_SHARPNESS`].
/// Deterministic: no random start, no sampling.
pub fn fit(
    vectors: &[Vec<f32>],
    labels: &[usize],
    n_labels: usize,
    dim: usize,
) -> candle_core::Result<Head> {
    let start = class_means(vectors, labels, n_labels, dim);
    let device = Device::Cpu;
    let flat: Vec<f32> = vectors.iter().flatten().copied().collect();
    let x = Tensor::from_vec(flat, (vectors.len(), dim), &device)?;
    let targets: Vec<u32> = labels.iter().map(|&l| l as u32).collect();
    let y = Tensor::from_vec(targets, vectors.len(), &device)?;
    let weight = Var::from_tensor(&Tensor::from_vec(start.weight, (n_labels, dim), &device)?)?;
    let bias = Var::zeros(n_labels, DType::F32, &device)?;
    let mut adam = AdamW::new(
        vec![weight.clone(), bias.clone()],
        ParamsAdamW {
            lr: FIT_LEARNING_RATE,
            weight_decay: 0.0,
            ..Default::default()
        },
    )?;
    for _ in 0..FIT_STEPS {
        let logits = x.matmul(&weight.t()?)?.broadcast_add(&bias)?;
        let penalty = (weight.sqr()?.sum_all()? * (FIT_L2 / 2.0))?;
        let loss = (candle_nn::loss::cross_entropy(&logits, &y)? + penalty)?;
        adam.backward_step(&loss)?;
    }
    let sharpen = |t: &Tensor| -> candle_core::Result<Vec<f32>> {
        (t * f64::from(ENERGY_SHARPNESS))?
            .flatten_all()?
            .to_vec1::<f32>()
    };
    Ok(Head {
        weight: sharpen(weight.as_tensor())?,
        bias: sharpen(bias.as_tensor())?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sentence_at_its_intents_mean_scores_the_full_scale() {
        let s = std::f32::consts::FRAC_1_SQRT_2;
        let vectors = vec![vec![1.0, 0.0], vec![0.0, 1.0], vec![s, s]];
        let head = class_means(&vectors, &[0, 0, 1], 3, 2);
        // Intent 0: mean of (1,0) and (0,1), unit length (s, s).
        let l = head.logits(&[s, s]);
        assert!((l[0] - COSINE_SCALE).abs() < 1e-5 && (l[1] - COSINE_SCALE).abs() < 1e-5);
        assert_eq!(l[2], 0.0, "an intent without sentences has a zero row");
        let l = head.logits(&[1.0, 0.0]);
        assert!((l[0] - COSINE_SCALE * s).abs() < 1e-5);
    }

    fn unit(v: [f32; 3]) -> Vec<f32> {
        let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        v.iter().map(|x| x / n).collect()
    }

    fn cross_entropy(head: &Head, vectors: &[Vec<f32>], labels: &[usize]) -> f32 {
        let mut total = 0.0;
        for (v, &l) in vectors.iter().zip(labels) {
            let logits = head.logits(v);
            total += model::math::logsumexp(&logits) - logits[l];
        }
        total / vectors.len() as f32
    }

    #[test]
    fn fitting_separates_intents_that_class_means_confuse() {
        // Two intents share most of their direction; one faint axis tells them apart. Class
        // means sit close together, so their cosine head is unsure; the fit leans on that axis.
        let vectors: Vec<Vec<f32>> = [
            [1.0, 0.04, 0.0],
            [1.0, 0.06, 0.05],
            [1.0, -0.04, 0.0],
            [1.0, -0.06, -0.05],
        ]
        .into_iter()
        .map(unit)
        .collect();
        let labels = [0, 0, 1, 1];
        let means = class_means(&vectors, &labels, 2, 3);
        let fitted = fit(&vectors, &labels, 2, 3).unwrap();
        assert!(fitted
            .weight
            .iter()
            .chain(&fitted.bias)
            .all(|w| w.is_finite()));
        // The sharpening multiplies logits; undo it to compare the losses the fit minimized.
        let unsharpened = Head {
            weight: fitted.weight.iter().map(|w| w / ENERGY_SHARPNESS).collect(),
            bias: fitted.bias.iter().map(|b| b / ENERGY_SHARPNESS).collect(),
        };
        let (before, after) = (
            cross_entropy(&means, &vectors, &labels),
            cross_entropy(&unsharpened, &vectors, &labels),
        );
        assert!(after < 0.9 * before, "cross-entropy {before} -> {after}");
        for (v, &l) in vectors.iter().zip(&labels) {
            let logits = fitted.logits(v);
            assert!(logits[l] > logits[1 - l], "{v:?}: {logits:?}");
        }
        assert_eq!(
            fitted,
            fit(&vectors, &labels, 2, 3).unwrap(),
            "deterministic"
        );
    }
}
