//! The hot loop: one conv branch followed by its global max-pool. A scalar version that
//! every build has, and a WebAssembly SIMD128 version chosen when compiled with `+simd128`.
//! Both compute, for every output channel `o`,
//! `max over t < out_len of bias[o] + Σ_r input[t·dim + r] · weights[r·C + o]`, r < taps·dim,
//! i.e. each output position's window is a contiguous slice of the zero-padded input.

pub mod scalar;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub mod simd128;

/// Shapes of one conv-max call, checked once so the kernels can index without checks.
#[derive(Clone, Copy, Debug)]
pub struct ConvShape {
    /// Width of one input row.
    pub dim: usize,
    /// Kernel taps (rows per window).
    pub taps: usize,
    /// Output positions.
    pub out_len: usize,
    /// Output channels.
    pub channels: usize,
}

impl ConvShape {
    /// True when the slices are large enough for this shape.
    pub fn fits(&self, input: &[f32], weights: &[f32], bias: &[f32], out: &[f32]) -> bool {
        let window = self.taps * self.dim;
        self.out_len > 0
            && input.len() >= (self.out_len - 1) * self.dim + window
            && weights.len() >= window * self.channels
            && bias.len() >= self.channels
            && out.len() >= self.channels
    }
}

/// The conv-max kernel for this build: SIMD128 on wasm with simd128, scalar elsewhere.
pub fn conv_max(shape: ConvShape, input: &[f32], weights: &[f32], bias: &[f32], out: &mut [f32]) {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        simd128::conv_max(shape, input, weights, bias, out)
    }
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    {
        scalar::conv_max(shape, input, weights, bias, out)
    }
}

/// Name of the kernel [`conv_max`] uses, for reports.
pub fn kernel_name() -> &'static str {
    if cfg!(all(
        target_arch = "wasm32",
        target_feature = "simd128",
        any(feature = "relaxed-simd", target_feature = "relaxed-simd")
    )) {
        "simd128+relaxed"
    } else if cfg!(all(target_arch = "wasm32", target_feature = "simd128")) {
        "simd128"
    } else {
        "scalar"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The definition in the module docs, written out term by term.
    fn reference(shape: ConvShape, input: &[f32], weights: &[f32], bias: &[f32]) -> Vec<f32> {
        (0..shape.channels)
            .map(|o| {
                (0..shape.out_len)
                    .map(|t| {
                        bias[o]
                            + (0..shape.taps * shape.dim)
                                .map(|r| input[t * shape.dim + r] * weights[r * shape.channels + o])
                                .sum::<f32>()
                    })
                    .fold(f32::NEG_INFINITY, f32::max)
            })
            .collect()
    }

    #[test]
    fn conv_max_matches_its_definition() {
        // Shapes off every block size: channels not a multiple of 8, positions not of 4.
        for (dim, taps, out_len, channels) in [(3, 2, 5, 7), (8, 3, 9, 16), (5, 5, 1, 8)] {
            let shape = ConvShape {
                dim,
                taps,
                out_len,
                channels,
            };
            let value = |i: usize| ((i * 7919 % 97) as f32 - 48.0) / 32.0;
            let input: Vec<f32> = (0..(out_len - 1 + taps) * dim).map(value).collect();
            let weights: Vec<f32> = (0..taps * dim * channels).map(|i| value(i + 13)).collect();
            let bias: Vec<f32> = (0..channels).map(|i| value(i + 29)).collect();
            let mut out = vec![0f32; channels];
            conv_max(shape, &input, &weights, &bias, &mut out);
            for (o, (got, want)) in out
                .iter()
                .zip(reference(shape, &input, &weights, &bias))
                .enumerate()
            {
                assert!(
                    (got - want).abs() < 1e-4,
                    "{shape:?} channel {o}: {got} vs {want}"
                );
            }
        }
    }

    #[test]
    fn fits_refuses_short_slices() {
        let shape = ConvShape {
            dim: 4,
            taps: 3,
            out_len: 2,
            channels: 8,
        };
        let (input, weights, bias, out) =
            (vec![0f32; 16], vec![0f32; 96], vec![0f32; 8], vec![0f32; 8]);
        assert!(shape.fits(&input, &weights, &bias, &out));
        assert!(!shape.fits(&input[..15], &weights, &bias, &out));
        assert!(!shape.fits(&input, &weights[..95], &bias, &out));
        assert!(!ConvShape {
            out_len: 0,
            ..shape
        }
        .fits(&input, &weights, &bias, &out));
    }
}
