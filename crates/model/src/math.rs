//! The reductions over logits that inference, evaluation and calibration must compute alike.

/// Index of the largest value by [`f32::total_cmp`]: among equal values the last wins, and a
/// positive NaN beats every number. `None` for an empty slice.
pub fn argmax(values: &[f32]) -> Option<usize> {
    values
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .map(|(i, _)| i)
}

/// ln Σ exp(v), computed stably (the largest value is taken out first). f32 at inference,
/// f64 where calibration needs the width.
pub fn logsumexp<F: Float>(values: &[F]) -> F {
    let max = values.iter().copied().fold(F::NEG_INFINITY, F::max);
    let sum: F = values.iter().map(|&v| (v - max).exp()).sum();
    max + sum.ln()
}

/// The float types [`logsumexp`] runs in.
pub trait Float:
    Copy + std::iter::Sum + std::ops::Add<Output = Self> + std::ops::Sub<Output = Self>
{
    const NEG_INFINITY: Self;
    fn max(self, other: Self) -> Self;
    fn exp(self) -> Self;
    fn ln(self) -> Self;
}

macro_rules! float {
    ($t:ty) => {
        impl Float for $t {
            const NEG_INFINITY: Self = <$t>::NEG_INFINITY;
            fn max(self, other: Self) -> Self {
                <$t>::max(self, other)
            }
            fn exp(self) -> Self {
                <$t>::exp(self)
            }
            fn ln(self) -> Self {
                <$t>::ln(self)
            }
        }
    };
}
float!(f32);
float!(f64);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argmax_takes_the_last_of_equals() {
        assert_eq!(argmax(&[]), None);
        assert_eq!(argmax(&[1.0, 3.0, 3.0, 2.0]), Some(2));
        assert_eq!(argmax(&[1.0, f32::NAN, 3.0]), Some(1));
    }

    #[test]
    fn logsumexp_by_hand() {
        let by_hand = (1f32.exp() + 2f32.exp()).ln();
        assert!((logsumexp(&[1f32, 2.0]) - by_hand).abs() < 1e-6);
        assert!((logsumexp(&[1000f64, 1000.0]) - (1000.0 + 2f64.ln())).abs() < 1e-9);
    }
}
