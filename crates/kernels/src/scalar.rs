//! Plain-Rust conv-max: the reference every other kernel is tested against.

use crate::ConvShape;

pub fn conv_max(shape: ConvShape, input: &[f32], weights: &[f32], bias: &[f32], out: &mut [f32]) {
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
    let out = &mut out[..channels];
    out.fill(f32::NEG_INFINITY);
    let mut acc = vec![0f32; channels];
    for t in 0..out_len {
        acc.copy_from_slice(&bias[..channels]);
        for (r, &x) in input[t * dim..t * dim + window].iter().enumerate() {
            let w = &weights[r * channels..(r + 1) * channels];
            for (a, &wv) in acc.iter_mut().zip(w) {
                *a += x * wv;
            }
        }
        for (m, &a) in out.iter_mut().zip(&acc) {
            *m = m.max(a);
        }
    }
}
