//! Safetensors files in general, as every file of either model kind uses them: opening one,
//! reading a tensor as checked f32 values (F32, F16, int8 rows or 4-bit groups with their
//! scales),
//! and writing named tensors with string metadata. Errors name the file.

use std::collections::HashMap;

use safetensors::{tensor::TensorView, Dtype, SafeTensors};

use crate::tensor_codec::{
    decode_f16, decode_f32, dequantize_int4_groups, dequantize_rows, INT4_GROUP,
};
use crate::BundleError;

/// The string metadata and the tensors of safetensors `bytes`. The metadata is returned
/// apart because [`SafeTensors`] does not expose it.
#[allow(clippy::type_complexity)]
pub fn open<'a>(
    bytes: &'a [u8],
    file: &str,
) -> Result<(Option<HashMap<String, String>>, SafeTensors<'a>), BundleError> {
    let err = |e| BundleError::new(file, format!("not a safetensors file ({e})"));
    let (_, header) = SafeTensors::read_metadata(bytes).map_err(err)?;
    let st = SafeTensors::deserialize(bytes).map_err(err)?;
    Ok((header.metadata().clone(), st))
}

/// The tensor holding the per-row scales of int8 tensor `name`.
pub fn scale_name(name: &str) -> String {
    format!("{name}_scale")
}

/// The tensor holding the per-group scales (F16) of 4-bit tensor `name`.
pub fn group_scale_name(name: &str) -> String {
    format!("{name}_group_scale")
}

/// Writes named tensors (name, dtype, shape, little-endian bytes) and metadata as safetensors.
pub fn serialize_tensors(
    tensors: Vec<(String, Dtype, Vec<usize>, Vec<u8>)>,
    metadata: HashMap<String, String>,
) -> Vec<u8> {
    let views: Vec<(String, TensorView<'_>)> = tensors
        .iter()
        .map(|(name, dtype, shape, data)| {
            let view = TensorView::new(*dtype, shape.clone(), data)
                .expect("shape and byte length agree by construction");
            (name.clone(), view)
        })
        .collect();
    safetensors::serialize(views, Some(metadata)).expect("in-memory serialization cannot fail")
}

/// The largest magnitude a stored value may have. Trained weights and table scales are
/// near 1; finite but huge values (1e30) would overflow to inf and NaN in the forward pass.
/// At this bound the widest plausible network stays far below f32's range.
pub const MAX_ABS_VALUE: f32 = 1e6;

/// Reads tensor `name` from `file`, requiring dtype F32, exactly `shape`, finite values no
/// larger than [`MAX_ABS_VALUE`].
pub fn read_f32(
    st: &SafeTensors<'_>,
    file: &str,
    name: &str,
    shape: &[usize],
) -> Result<Vec<f32>, BundleError> {
    let view = find_tensor(st, file, name)?;
    check_view(&view, file, name, Dtype::F32, shape)?;
    checked_values(decode_f32(view.data()), file, name)
}

/// [`read_f32`] for network weights, which may also be stored as F16, as I8 with one
/// scale per output row ([`crate::tensor_codec::quantize_rows`], the scales in tensor
/// [`scale_name`]), or as U8 holding two 4-bit values a byte with one F16 scale per group
/// ([`crate::tensor_codec::quantize_int4_groups`]: shape `[rows, cols / 2]`, the scales in
/// tensor [`group_scale_name`]).
pub fn read_weights(
    st: &SafeTensors<'_>,
    file: &str,
    name: &str,
    shape: &[usize],
) -> Result<Vec<f32>, BundleError> {
    let view = find_tensor(st, file, name)?;
    if view.dtype() == Dtype::I8 {
        check_view(&view, file, name, Dtype::I8, shape)?;
        // One scale per row: a scalar, or rows without values, has nothing to scale (and
        // would leave the rows' length undefined).
        if shape.is_empty() || shape.contains(&0) {
            return Err(BundleError::new(
                file,
                format!("tensor `{name}` is int8 with shape {shape:?}; expected rows of values"),
            ));
        }
        let scales = read_f32(st, file, &scale_name(name), &shape[..1])?;
        return checked_values(dequantize_rows(view.data(), &scales), file, name);
    }
    if view.dtype() == Dtype::U8 {
        return read_int4_groups(st, file, name, shape);
    }
    if view.dtype() != Dtype::F16 {
        return read_f32(st, file, name, shape);
    }
    check_view(&view, file, name, Dtype::F16, shape)?;
    checked_values(decode_f16(view.data()), file, name)
}

/// A 4-bit tensor of logical `shape` (rows of a whole number of groups).
fn read_int4_groups(
    st: &SafeTensors<'_>,
    file: &str,
    name: &str,
    shape: &[usize],
) -> Result<Vec<f32>, BundleError> {
    let values: usize = shape.iter().product();
    let cols = shape.last().copied().unwrap_or(0);
    if shape.len() != 2 || values == 0 || !cols.is_multiple_of(INT4_GROUP) {
        return Err(BundleError::new(
            file,
            format!("tensor `{name}` is 4-bit with shape {shape:?}; expected rows of a multiple of {INT4_GROUP} values"),
        ));
    }
    let view = find_tensor(st, file, name)?;
    check_view(&view, file, name, Dtype::U8, &[shape[0], cols / 2])?;
    let scale_tensor = group_scale_name(name);
    let scales = find_tensor(st, file, &scale_tensor)?;
    check_view(
        &scales,
        file,
        &scale_tensor,
        Dtype::F16,
        &[values / INT4_GROUP],
    )?;
    let scales = checked_values(decode_f16(scales.data()), file, &scale_tensor)?;
    checked_values(dequantize_int4_groups(view.data(), &scales), file, name)
}

/// Tensor `name` of `file`, or an error naming it as missing.
fn find_tensor<'a>(
    st: &SafeTensors<'a>,
    file: &str,
    name: &str,
) -> Result<TensorView<'a>, BundleError> {
    st.tensor(name)
        .map_err(|_| BundleError::new(file, format!("tensor `{name}` is missing")))
}

/// Refuses non-finite and implausibly large values, naming the tensor and index.
fn checked_values(values: Vec<f32>, file: &str, name: &str) -> Result<Vec<f32>, BundleError> {
    if let Some(pos) = values.iter().position(|v| !v.is_finite()) {
        return Err(BundleError::new(
            file,
            format!(
                "tensor `{name}` holds a non-finite value ({}) at index {pos}",
                values[pos]
            ),
        ));
    }
    if let Some(pos) = values.iter().position(|v| v.abs() > MAX_ABS_VALUE) {
        return Err(BundleError::new(
            file,
            format!(
                "tensor `{name}` holds an implausibly large value ({:e}, limit {MAX_ABS_VALUE:e}) at index {pos}",
                values[pos]
            ),
        ));
    }
    Ok(values)
}

/// Checks a tensor's dtype and shape.
pub fn check_view(
    view: &TensorView<'_>,
    file: &str,
    name: &str,
    dtype: Dtype,
    shape: &[usize],
) -> Result<(), BundleError> {
    if view.dtype() != dtype {
        return Err(BundleError::new(
            file,
            format!(
                "tensor `{name}` has dtype {}, expected {dtype}",
                view.dtype()
            ),
        ));
    }
    if view.shape() != shape {
        return Err(BundleError::new(
            file,
            format!(
                "tensor `{name}` has shape {:?}, expected {shape:?}",
                view.shape()
            ),
        ));
    }
    Ok(())
}

/// The `format` metadata value `found` of `file`, checked to be one of `accepted`.
pub fn check_format(
    file: &str,
    found: Option<&String>,
    accepted: &[&str],
) -> Result<(), BundleError> {
    match found {
        Some(f) if accepted.contains(&f.as_str()) => Ok(()),
        Some(f) => {
            let expected: Vec<String> = accepted.iter().map(|a| format!("`{a}`")).collect();
            Err(BundleError::new(
                file,
                format!(
                    "metadata `format` is `{f}`, expected {}",
                    expected.join(" or ")
                ),
            ))
        }
        None => Err(BundleError::new(file, "metadata key `format` is missing")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An int8 tensor `name` of `shape` with one scale per row.
    fn int8_file(shape: Vec<usize>) -> Vec<u8> {
        let values = shape.iter().product::<usize>();
        let rows = shape.first().copied().unwrap_or(0);
        serialize_tensors(
            vec![
                ("w".into(), Dtype::I8, shape, vec![1u8; values]),
                (
                    scale_name("w"),
                    Dtype::F32,
                    vec![rows],
                    crate::tensor_codec::f32_bytes(&vec![0.5; rows]),
                ),
            ],
            HashMap::new(),
        )
    }

    #[test]
    fn four_bit_tensors_read_back_and_bad_ones_are_refused_not_a_panic() {
        use crate::tensor_codec::{f16_bytes, quantize_int4_groups, INT4_GROUP};
        let values: Vec<f32> = (0..2 * INT4_GROUP).map(|i| i as f32 / 10.0 - 3.0).collect();
        let (packed, scales) = quantize_int4_groups(&values);
        let file = |shape: Vec<usize>, scale_count: usize| {
            serialize_tensors(
                vec![
                    ("w".into(), Dtype::U8, shape, packed.clone()),
                    (
                        group_scale_name("w"),
                        Dtype::F16,
                        vec![scale_count],
                        f16_bytes(&scales[..scale_count]),
                    ),
                ],
                HashMap::new(),
            )
        };
        let good = file(vec![2, INT4_GROUP / 2], 2);
        let (_, st) = open(&good, "f").unwrap();
        let back = read_weights(&st, "f", "w", &[2, INT4_GROUP]).unwrap();
        assert!(values.iter().zip(&back).all(|(v, b)| (v - b).abs() < 0.3));
        // A logical shape that is not rows of whole groups, bytes that do not fit it, too
        // few scales.
        let cases = [
            (good.clone(), vec![4, INT4_GROUP / 2], "is 4-bit with shape"),
            (good.clone(), vec![INT4_GROUP * 2], "is 4-bit with shape"),
            (
                good.clone(),
                vec![1, INT4_GROUP * 2],
                "has shape [2, 16], expected [1, 32]",
            ),
            (
                file(vec![2, INT4_GROUP / 2], 1),
                vec![2, INT4_GROUP],
                "w_group_scale` has shape [1]",
            ),
        ];
        for (bytes, shape, expected) in cases {
            let (_, st) = open(&bytes, "f").unwrap();
            let e = read_weights(&st, "f", "w", &shape).unwrap_err().to_string();
            assert!(
                e.starts_with("f: tensor `w") && e.contains(expected),
                "{shape:?}: {e}"
            );
        }
    }

    #[test]
    fn int8_tensors_without_rows_of_values_are_refused_not_a_panic() {
        for shape in [vec![], vec![0, 4], vec![3, 0]] {
            let bytes = int8_file(shape.clone());
            let (_, st) = open(&bytes, "f").unwrap();
            let e = read_weights(&st, "f", "w", &shape).unwrap_err().to_string();
            assert!(e.starts_with("f: tensor `w` is int8"), "{shape:?}: {e}");
        }
        let bytes = int8_file(vec![2, 3]);
        let (_, st) = open(&bytes, "f").unwrap();
        assert_eq!(read_weights(&st, "f", "w", &[2, 3]).unwrap(), vec![0.5; 6]);
    }
}
