//! Tensor values to and from the bytes a safetensors file stores (little-endian, the
//! format's byte order), and the int8 row quantizer. Every file this workspace writes or
//! reads goes through these, so the model, the token table, the encoder and the trainer's
//! checkpoints agree on each value's bits.

/// Little-endian F32 bytes of `values`.
pub fn f32_bytes(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// Little-endian IEEE half-precision bytes of `values`, each rounded to the nearest half.
pub fn f16_bytes(values: &[f32]) -> Vec<u8> {
    values
        .iter()
        .flat_map(|v| half::f16::from_f32(*v).to_le_bytes())
        .collect()
}

/// I8 bytes of `values` (two's complement, one byte each).
pub fn i8_bytes(values: &[i8]) -> Vec<u8> {
    values.iter().map(|&v| v as u8).collect()
}

/// The values of F32 bytes; a trailing partial value is ignored.
pub fn f32_values(data: &[u8]) -> impl Iterator<Item = f32> + '_ {
    data.chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
}

/// The values of F16 bytes, widened to f32 (exact).
pub fn f16_values(data: &[u8]) -> impl Iterator<Item = f32> + '_ {
    data.chunks_exact(2)
        .map(|c| half::f16::from_le_bytes([c[0], c[1]]).to_f32())
}

/// The values of BF16 bytes: each is the upper half of an f32, so the bits are shifted
/// into place as they are (NaN payloads included).
pub fn bf16_values(data: &[u8]) -> impl Iterator<Item = f32> + '_ {
    data.chunks_exact(2)
        .map(|c| f32::from_bits((u16::from_le_bytes([c[0], c[1]]) as u32) << 16))
}

/// The values of I8 bytes.
pub fn i8_values(data: &[u8]) -> Vec<i8> {
    data.iter().map(|&b| b as i8).collect()
}

pub fn decode_f32(data: &[u8]) -> Vec<f32> {
    f32_values(data).collect()
}

pub fn decode_f16(data: &[u8]) -> Vec<f32> {
    f16_values(data).collect()
}

/// `v` as an F16 file stores it: rounded to the nearest half, widened back.
pub fn round_f16(v: f32) -> f32 {
    half::f16::from_f32(v).to_f32()
}

/// Symmetric int8 with one scale per row of `row_len` values: max |x| of a row maps to 127,
/// an all-zero row gets scale 1. Returns the quantized values and the per-row scales.
pub fn quantize_rows(values: &[f32], row_len: usize) -> (Vec<i8>, Vec<f32>) {
    let mut q = Vec::with_capacity(values.len());
    let mut scales = Vec::with_capacity(values.len() / row_len.max(1));
    for row in values.chunks_exact(row_len) {
        let max = row.iter().fold(0f32, |m, v| m.max(v.abs()));
        let scale = if max > 0.0 { max / 127.0 } else { 1.0 };
        scales.push(scale);
        q.extend(
            row.iter()
                .map(|v| (v / scale).round().clamp(-127.0, 127.0) as i8),
        );
    }
    (q, scales)
}

/// The f32 values of int8 bytes quantized by [`quantize_rows`]: row r (of `data.len() /
/// scales.len()` bytes) times `scales[r]`.
pub fn dequantize_rows(data: &[u8], scales: &[f32]) -> Vec<f32> {
    data.chunks_exact(data.len() / scales.len())
        .zip(scales)
        .flat_map(|(row, &s)| row.iter().map(move |&b| b as i8 as f32 * s))
        .collect()
}

/// Values per scale of the 4-bit codec: small enough that one outlier costs a group, not a
/// row, its precision.
pub const INT4_GROUP: usize = 32;

/// Symmetric 4-bit with one scale per [`INT4_GROUP`] consecutive values: max |x| of a group
/// maps to 7 (so -8 is never written), two values a byte, the first in the low nibble. An
/// all-zero group gets scale 1. `values.len()` must be a multiple of the group.
pub fn quantize_int4_groups(values: &[f32]) -> (Vec<u8>, Vec<f32>) {
    let mut packed = Vec::with_capacity(values.len() / 2);
    let mut scales = Vec::with_capacity(values.len() / INT4_GROUP);
    for group in values.chunks_exact(INT4_GROUP) {
        let max = group.iter().fold(0f32, |m, v| m.max(v.abs()));
        // Stored as f16: rounded first, so the codes are chosen against the stored scale.
        let scale = round_f16(if max > 0.0 { max / 7.0 } else { 1.0 });
        scales.push(scale);
        let nibble = |v: f32| ((v / scale).round().clamp(-7.0, 7.0) as i8 + 8) as u8;
        packed.extend(
            group
                .chunks_exact(2)
                .map(|pair| nibble(pair[0]) | (nibble(pair[1]) << 4)),
        );
    }
    (packed, scales)
}

/// The f32 values of bytes packed by [`quantize_int4_groups`], with its scales.
pub fn dequantize_int4_groups(packed: &[u8], scales: &[f32]) -> Vec<f32> {
    packed
        .chunks_exact(INT4_GROUP / 2)
        .zip(scales)
        .flat_map(|(group, &s)| {
            group.iter().flat_map(move |&b| {
                [
                    ((b & 0x0f) as i8 - 8) as f32 * s,
                    ((b >> 4) as i8 - 8) as f32 * s,
                ]
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn int4_groups_round_trip_within_half_a_step() {
        let values: Vec<f32> = (0..4 * INT4_GROUP)
            .map(|i| ((i * 37 % 101) as f32 - 50.0) / 10.0)
            .chain(std::iter::repeat_n(0.0, INT4_GROUP))
            .collect();
        let (packed, scales) = quantize_int4_groups(&values);
        assert_eq!(packed.len(), values.len() / 2);
        assert_eq!(scales.len(), 5);
        assert_eq!(scales[4], 1.0, "an all-zero group");
        let back = dequantize_int4_groups(&packed, &scales);
        for (i, (v, b)) in values.iter().zip(&back).enumerate() {
            let step = scales[i / INT4_GROUP];
            assert!((v - b).abs() <= step / 2.0 + 1e-6, "{i}: {v} -> {b}");
        }
    }

    #[test]
    fn values_survive_their_bytes() {
        let values = [0.0, -0.0, 1.5, -2.25e-3, f32::MAX, f32::MIN_POSITIVE];
        let back = decode_f32(&f32_bytes(&values));
        assert!(values
            .iter()
            .zip(&back)
            .all(|(a, b)| a.to_bits() == b.to_bits()));
        let halves: Vec<f32> = values.iter().map(|&v| round_f16(v)).collect();
        assert_eq!(decode_f16(&f16_bytes(&values)), halves);
        // BF16 is the upper half of the f32 bits.
        let bf: Vec<u8> = [1.5f32, -3.0]
            .iter()
            .flat_map(|v| ((v.to_bits() >> 16) as u16).to_le_bytes())
            .collect();
        assert_eq!(bf16_values(&bf).collect::<Vec<_>>(), vec![1.5, -3.0]);
    }

    #[test]
    fn int8_rows_come_back_within_half_a_step() {
        let values = [0.5, -1.0, 0.25, 0.0, 0.0, 0.0];
        let (q, scales) = quantize_rows(&values, 3);
        assert_eq!((q[1], &q[3..]), (-127, &[0i8, 0, 0][..]));
        assert_eq!(scales, vec![1.0 / 127.0, 1.0]);
        assert_eq!(i8_values(&i8_bytes(&q)), q);
        let back = dequantize_rows(&i8_bytes(&q), &scales);
        for (a, b) in values.iter().zip(back) {
            assert!((a - b).abs() <= 0.5 / 127.0, "{a} vs {b}");
        }
    }
}
