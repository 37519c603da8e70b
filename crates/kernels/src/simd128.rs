//! WebAssembly SIMD128 conv-max. Eight output channels (two f32x4) by four output positions
//! per block: each weight pair loaded once feeds four positions, and the twelve live
//! vectors fit the host's sixteen SIMD registers.

use core::arch::wasm32::*;

use crate::{scalar, ConvShape};

/// `acc + a * b`: one fused instruction where the build enables relaxed SIMD, else two.
/// (`inline(always)` cannot go with `target_feature`; `conv_max` has the same feature, so the
/// plain hint inlines it there.)
#[cfg_attr(not(feature = "relaxed-simd"), inline(always))]
#[cfg_attr(
    feature = "relaxed-simd",
    inline,
    target_feature(enable = "relaxed-simd")
)]
fn madd(a: v128, b: v128, acc: v128) -> v128 {
    #[cfg(any(feature = "relaxed-simd", target_feature = "relaxed-simd"))]
    {
        f32x4_relaxed_madd(a, b, acc)
    }
    #[cfg(not(any(feature = "relaxed-simd", target_feature = "relaxed-simd")))]
    {
        f32x4_add(acc, f32x4_mul(a, b))
    }
}

const LANES: usize = 4;
const CHANNEL_BLOCK: usize = 2 * LANES;
const POSITION_BLOCK: usize = 4;

#[cfg_attr(feature = "relaxed-simd", target_feature(enable = "relaxed-simd"))]
pub fn conv_max(shape: ConvShape, input: &[f32], weights: &[f32], bias: &[f32], out: &mut [f32]) {
    if shape.channels % CHANNEL_BLOCK != 0 {
        return scalar::conv_max(shape, input, weights, bias, out);
    }
    assert!(
        shape.fits(input, weights, bias, out),
        "conv_max: slices too short"
    );
    let ConvShape {
        dim,
        taps,
        out_len,
        channels,
    } = shape;
    let window = taps * dim;
    let x = input.as_ptr();
    // SAFETY: `fits` guarantees every window row t·dim + r (t < out_len, r < window) is in
    // `input` and every weight r·channels + o + 7 (o + 8 <= channels) is in `weights`.
    unsafe {
        for o in (0..channels).step_by(CHANNEL_BLOCK) {
            let w = weights.as_ptr().add(o);
            let b0 = v128_load(bias.as_ptr().add(o) as *const v128);
            let b1 = v128_load(bias.as_ptr().add(o + LANES) as *const v128);
            let mut max0 = f32x4_splat(f32::NEG_INFINITY);
            let mut max1 = max0;
            let mut t = 0;
            while t + POSITION_BLOCK <= out_len {
                let (mut a00, mut a01, mut a10, mut a11) = (b0, b1, b0, b1);
                let (mut a20, mut a21, mut a30, mut a31) = (b0, b1, b0, b1);
                let x0 = x.add(t * dim);
                let x1 = x0.add(dim);
                let x2 = x1.add(dim);
                let x3 = x2.add(dim);
                for r in 0..window {
                    let wr = w.add(r * channels);
                    let w0 = v128_load(wr as *const v128);
                    let w1 = v128_load(wr.add(LANES) as *const v128);
                    let s = f32x4_splat(*x0.add(r));
                    a00 = madd(s, w0, a00);
                    a01 = madd(s, w1, a01);
                    let s = f32x4_splat(*x1.add(r));
                    a10 = madd(s, w0, a10);
                    a11 = madd(s, w1, a11);
                    let s = f32x4_splat(*x2.add(r));
                    a20 = madd(s, w0, a20);
                    a21 = madd(s, w1, a21);
                    let s = f32x4_splat(*x3.add(r));
                    a30 = madd(s, w0, a30);
                    a31 = madd(s, w1, a31);
                }
                max0 = f32x4_max(max0, f32x4_max(f32x4_max(a00, a10), f32x4_max(a20, a30)));
                max1 = f32x4_max(max1, f32x4_max(f32x4_max(a01, a11), f32x4_max(a21, a31)));
                t += POSITION_BLOCK;
            }
            while t < out_len {
                let (mut a0, mut a1) = (b0, b1);
                let xt = x.add(t * dim);
                for r in 0..window {
                    let wr = w.add(r * channels);
                    let s = f32x4_splat(*xt.add(r));
                    a0 = madd(s, v128_load(wr as *const v128), a0);
                    a1 = madd(s, v128_load(wr.add(LANES) as *const v128), a1);
                }
                max0 = f32x4_max(max0, a0);
                max1 = f32x4_max(max1, a1);
                t += 1;
            }
            v128_store(out.as_mut_ptr().add(o) as *mut v128, max0);
            v128_store(out.as_mut_ptr().add(o + LANES) as *mut v128, max1);
        }
    }
}
