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
    if cfg!(all(target_arch = "wasm32", target_feature = "relaxed-simd")) {
        "simd128+relaxed"
    } else if cfg!(all(target_arch = "wasm32", target_feature = "simd128")) {
        "simd128"
    } else {
        "scalar"
    }
}
