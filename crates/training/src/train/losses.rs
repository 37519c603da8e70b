//! The loss: cross-entropy on the known rows, the energy term on all, and the token rows
//! that stand for unknown text (random and spliced sentences).

use anyhow::Result;
use candle_core::Tensor;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha12Rng;

use super::config::EnergyLoss;

/// Cross-entropy of the known rows, with label smoothing `eps` (0: the plain form).
pub fn cross_entropy(logits: &Tensor, targets: &Tensor, eps: f64) -> Result<Tensor> {
    let ce = candle_nn::loss::cross_entropy(logits, targets)?;
    if eps == 0.0 {
        return Ok(ce);
    }
    // Smoothing spreads eps of the target mass evenly: add eps * mean over classes of -log p.
    let uniform = candle_nn::ops::log_softmax(logits, 1)?.mean_all()?.neg()?;
    Ok(((ce * (1.0 - eps))? + (uniform * eps)?)?)
}

/// A sentence's tokens without its first and last (the special tokens of BERT-style and
/// XLM-R-style tokenizers).
pub(super) fn inner(ids: &[u32]) -> &[u32] {
    if ids.len() > 2 {
        &ids[1..ids.len() - 1]
    } else {
        &[]
    }
}

/// One random token sequence per known row: the row's length and first and last tokens,
/// inner tokens drawn from `pool`.
pub fn random_token_rows(
    known: &[(&[u32], usize)],
    pool: &[u32],
    rng: &mut ChaCha12Rng,
) -> Vec<Vec<u32>> {
    known
        .iter()
        .map(|(ids, _)| {
            let mut row = ids.to_vec();
            let n = row.len();
            if n > 2 && !pool.is_empty() {
                for t in &mut row[1..n - 1] {
                    *t = *pool.choose(rng).expect("non-empty pool");
                }
            }
            row
        })
        .collect()
}

/// One spliced sentence per known row that has a partner of another intent in the batch:
/// the row's first token and the first half of its inner tokens, then the second half of the
/// partner's inner tokens and its last token.
pub fn spliced_rows(known: &[(&[u32], usize)], rng: &mut ChaCha12Rng) -> Vec<Vec<u32>> {
    let mut rows = Vec::with_capacity(known.len());
    for (a, label_a) in known {
        let partners: Vec<&[u32]> = known
            .iter()
            .filter(|(_, label)| label != label_a)
            .map(|(ids, _)| *ids)
            .collect();
        let Some(b) = partners.choose(rng) else {
            continue;
        };
        let (Some(&first), Some(&last)) = (a.first(), b.last()) else {
            continue;
        };
        let (head, tail) = (inner(a), inner(b));
        let mut row = vec![first];
        row.extend_from_slice(&head[..head.len().div_ceil(2)]);
        row.extend_from_slice(&tail[tail.len() / 2..]);
        row.push(last);
        rows.push(row);
    }
    rows
}

/// The energy term for one step.
pub fn energy_loss(
    kind: EnergyLoss,
    known: &Tensor,
    unknown: &[Tensor],
    margin_in: f64,
    margin_out: f64,
) -> Result<Tensor> {
    let mut loss = match kind {
        EnergyLoss::Seed => known.mean_all()?,
        EnergyLoss::Hinge => (known - margin_in)?.relu()?.sqr()?.mean_all()?,
    };
    for e in unknown.iter().filter(|e| e.elem_count() > 0) {
        let term = match kind {
            EnergyLoss::Seed => e.affine(-1.0, 1.0)?.relu()?.mean_all()?,
            EnergyLoss::Hinge => e.affine(-1.0, margin_out)?.relu()?.sqr()?.mean_all()?,
        };
        loss = (loss + term)?;
    }
    Ok(loss)
}
