//! The cosine head: each intent is the unit mean of its training sentences' unit vectors,
//! and a query's logit for it is their cosine times [`COSINE_SCALE`]. A linear layer, so
//! the energy, threshold and calibration of the TextCNN apply unchanged.

/// Cosines lie in [-1, 1]: unscaled, the softmax over intents would be nearly flat and the
/// energy would barely separate known from unknown. At 20, one intent 0.1 closer than the
/// next is e² ≈ 7 times as likely.
pub const COSINE_SCALE: f32 = 20.0;

/// The head's weights, [labels, dim] row-major: intent `l`'s unit mean vector times
/// [`COSINE_SCALE`]. `vectors[i]` belongs to intent `labels[i]`; an intent without
/// sentences gets a zero row (logit 0).
pub fn class_means(
    vectors: &[Vec<f32>],
    labels: &[usize],
    n_labels: usize,
    dim: usize,
) -> Vec<f32> {
    let mut head = vec![0f32; n_labels * dim];
    for (vector, &label) in vectors.iter().zip(labels) {
        for (w, v) in head[label * dim..(label + 1) * dim].iter_mut().zip(vector) {
            *w += v;
        }
    }
    for row in head.chunks_exact_mut(dim) {
        let norm = row.iter().map(|w| w * w).sum::<f32>().sqrt();
        if norm > 0.0 {
            row.iter_mut().for_each(|w| *w *= COSINE_SCALE / norm);
        }
    }
    head
}

/// Logits of a unit vector under `head` ([labels, dim]).
pub fn logits(head: &[f32], vector: &[f32]) -> Vec<f32> {
    head.chunks_exact(vector.len())
        .map(|row| row.iter().zip(vector).map(|(w, v)| w * v).sum())
        .collect()
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
        let l = logits(&head, &[s, s]);
        assert!((l[0] - COSINE_SCALE).abs() < 1e-5 && (l[1] - COSINE_SCALE).abs() < 1e-5);
        assert_eq!(l[2], 0.0, "an intent without sentences has a zero row");
        let l = logits(&head, &[1.0, 0.0]);
        assert!((l[0] - COSINE_SCALE * s).abs() < 1e-5);
    }
}
