//! Helpers shared by this crate's unit tests.

use burn::backend::{Autodiff, NdArray};
use burn::tensor::{Tensor, TensorData, backend::Backend};
use strata_linalg::random::gaussian_vec;

/// The CPU backend with autodiff.
pub type Ad = Autodiff<NdArray<f32>>;
/// The CPU backend without autodiff.
pub type Plain = NdArray<f32>;

/// A `rows × cols` matrix of seeded standard normals.
pub fn mat<B: Backend>(rows: usize, cols: usize, seed: u64) -> Tensor<B, 2> {
    Tensor::from_data(TensorData::new(gaussian_vec(rows * cols, seed), [rows, cols]), &Default::default())
}
