//! Moving matrices between burn devices and faer host matrices (f64), and input checks.

use burn::tensor::{DType, ElementConversion, Tensor, TensorData, backend::Backend};
use faer::{Mat, MatRef};

use crate::error::{LinalgError, Result};

/// Downloads a 2-D tensor into a host `faer::Mat<f64>` (row-major data, any float dtype).
pub fn to_host<B: Backend>(t: &Tensor<B, 2>) -> Mat<f64> {
    let [m, n] = t.dims();
    // Flattening first makes a strided view (e.g. a transpose) contiguous: CUDA without
    // fusion refuses to read such views back ("strides are not supported").
    let data = t.clone().reshape([m * n]).to_data();
    let values: Vec<f64> = data.iter::<f64>().collect();
    Mat::from_fn(m, n, |i, j| values[i * n + j])
}

/// Uploads a host matrix to `device` as a 2-D float tensor of the backend's float type.
pub fn from_host<B: Backend>(m: MatRef<'_, f64>, device: &B::Device) -> Tensor<B, 2> {
    let (rows, cols) = (m.nrows(), m.ncols());
    let mut values = Vec::with_capacity(rows * cols);
    for i in 0..rows {
        for j in 0..cols {
            values.push(m[(i, j)] as f32);
        }
    }
    Tensor::from_data(TensorData::new(values, [rows, cols]), device)
}

/// Unit roundoff `u` of a float dtype (half the machine epsilon).
pub fn unit_roundoff(dtype: DType) -> f64 {
    match dtype {
        DType::F64 => f64::EPSILON / 2.0,
        DType::F16 => 4.88e-4,
        DType::BF16 => 3.91e-3,
        _ => f32::EPSILON as f64 / 2.0,
    }
}

/// Rejects tensors holding NaN or ±∞, naming the first offending entry (one device sync).
pub fn check_finite<B: Backend>(op: &'static str, input: &'static str, t: &Tensor<B, 2>) -> Result<()> {
    let bad = t.clone().is_finite().bool_not();
    let count: i64 = bad.clone().int().sum().into_scalar().elem();
    if count == 0 {
        return Ok(());
    }
    let [_, n] = t.dims();
    let flags: Vec<i64> = bad.int().to_data().iter::<i64>().collect();
    let first = flags.iter().position(|&f| f != 0).unwrap_or(0);
    Err(LinalgError::NonFinite {
        op,
        input,
        count: count as usize,
        row: first / n.max(1),
        col: first % n.max(1),
    })
}

/// Rejects a host matrix holding NaN or ±∞.
pub fn check_finite_host(op: &'static str, input: &'static str, m: MatRef<'_, f64>) -> Result<()> {
    let mut count = 0;
    let mut first = None;
    for i in 0..m.nrows() {
        for j in 0..m.ncols() {
            if !m[(i, j)].is_finite() {
                count += 1;
                first.get_or_insert((i, j));
            }
        }
    }
    match first {
        None => Ok(()),
        Some((row, col)) => Err(LinalgError::NonFinite { op, input, count, row, col }),
    }
}

/// Fails unless the tensor has at least one row and one column.
pub(crate) fn check_nonempty<B: Backend>(op: &'static str, what: &'static str, t: &Tensor<B, 2>) -> Result<[usize; 2]> {
    let dims = t.dims();
    if dims[0] == 0 || dims[1] == 0 {
        return Err(LinalgError::Shape {
            op,
            what,
            expected: "a non-empty matrix".into(),
            got: dims.to_vec(),
        });
    }
    Ok(dims)
}
