//! Shared test helpers: the backend under test, host conversions and nalgebra oracles.
#![allow(dead_code)]

use burn::tensor::{Tensor, TensorData};
use nalgebra::DMatrix;
use strata_linalg::random::gaussian_vec;

/// The backend the tests run on: ndarray by default, CUDA with `--features cuda`.
pub type B = strata_backend::DefaultBackend;

pub fn device() -> burn::tensor::Device<B> {
    strata_backend::default_device()
}

/// Number of proptest cases: `STRATA_PROPTEST_CASES` or 24.
pub fn cases() -> u32 {
    std::env::var("STRATA_PROPTEST_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(24)
}

pub fn tensor(m: &DMatrix<f64>) -> Tensor<B, 2> {
    let (r, c) = m.shape();
    let data: Vec<f32> = (0..r).flat_map(|i| (0..c).map(move |j| (i, j))).map(|(i, j)| m[(i, j)] as f32).collect();
    Tensor::from_data(TensorData::new(data, [r, c]), &device())
}

pub fn dmatrix(t: &Tensor<B, 2>) -> DMatrix<f64> {
    let [r, c] = t.dims();
    let v: Vec<f64> = t.to_data().iter::<f64>().collect();
    DMatrix::from_row_slice(r, c, &v)
}

/// A seeded Gaussian `m×n` matrix.
pub fn gaussian(m: usize, n: usize, seed: u64) -> DMatrix<f64> {
    let v = gaussian_vec(m * n, seed);
    DMatrix::from_iterator(m, n, v.into_iter().map(|x| x as f64))
}

/// A random matrix with orthonormal columns (`m×n`, `m ≥ n`), via nalgebra's QR.
pub fn orthonormal(m: usize, n: usize, seed: u64) -> DMatrix<f64> {
    gaussian(m, n, seed).qr().q()
}

/// `U diag(s) Vᵀ` with random orthonormal `U: m×p`, `V: n×p`, `p = s.len()`.
pub fn with_spectrum(m: usize, n: usize, s: &[f64], seed: u64) -> (DMatrix<f64>, DMatrix<f64>, DMatrix<f64>) {
    let p = s.len();
    let u = orthonormal(m, p, seed);
    let v = orthonormal(n, p, seed.wrapping_add(1));
    let a = &u * DMatrix::from_diagonal(&nalgebra::DVector::from_column_slice(s)) * v.transpose();
    (a, u, v)
}

/// ‖QᵀQ − I‖_max.
pub fn orthogonality_error(q: &DMatrix<f64>) -> f64 {
    let g = q.transpose() * q;
    (g - DMatrix::identity(q.ncols(), q.ncols())).abs().max()
}

/// ‖A − B‖_F / ‖A‖_F.
pub fn rel_err(a: &DMatrix<f64>, b: &DMatrix<f64>) -> f64 {
    (a - b).norm() / a.norm().max(f64::MIN_POSITIVE)
}

/// sin of the largest principal angle between span(a) and span(b) (nalgebra oracle).
pub fn subspace_sin(a: &DMatrix<f64>, b: &DMatrix<f64>) -> f64 {
    let qa = a.clone().qr().q();
    let qb = b.clone().qr().q();
    let resid = &qb - &qa * (qa.transpose() * &qb);
    resid.singular_values().max()
}
