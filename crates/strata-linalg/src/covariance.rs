//! Streaming second moments `C = (1/N) Σ_i x_i x_iᵀ` on the device.

use burn::tensor::{ElementConversion, Tensor, backend::Backend};

use crate::error::{LinalgError, Result};
use crate::gemm::matmul;

/// Accumulates `Σ xxᵀ` and the sample count over batches of row vectors `x ∈ R^d`.
#[derive(Debug, Clone)]
pub struct CovarianceAccumulator<B: Backend> {
    sum: Tensor<B, 2>,
    count: usize,
}

impl<B: Backend> CovarianceAccumulator<B> {
    /// An empty accumulator for `dim`-dimensional samples.
    pub fn new(dim: usize, device: &B::Device) -> Self {
        Self { sum: Tensor::zeros([dim, dim], device), count: 0 }
    }

    /// Sample dimension `d`.
    pub fn dim(&self) -> usize {
        self.sum.dims()[0]
    }

    /// Samples seen so far.
    pub fn count(&self) -> usize {
        self.count
    }

    /// Adds the rows of `x: n×d`: `S += xᵀx`, `N += n`.
    pub fn update(&mut self, x: &Tensor<B, 2>) -> Result<()> {
        let [n, d] = x.dims();
        if d != self.dim() {
            return Err(LinalgError::Shape { op: "CovarianceAccumulator::update", what: "x must be n×d", expected: format!("[n, {}]", self.dim()), got: vec![n, d] });
        }
        self.sum = self.sum.clone() + matmul(x.clone().transpose(), x.clone());
        self.count += n;
        Ok(())
    }

    /// Adds the unmasked tokens of `x: b×s×d` (`mask: b×s`, 1 = real token, 0 = padding).
    pub fn update_masked(&mut self, x: &Tensor<B, 3>, mask: &Tensor<B, 2>) -> Result<()> {
        let [b, s, d] = x.dims();
        if d != self.dim() || mask.dims() != [b, s] {
            return Err(LinalgError::Shape { op: "CovarianceAccumulator::update_masked", what: "x must be b×s×d with mask b×s", expected: format!("[{b}, {s}, {}] and mask [{b}, {s}]", self.dim()), got: vec![b, s, d] });
        }
        let rows = (x.clone() * mask.clone().unsqueeze_dim(2)).reshape([b * s, d]);
        let tokens: f64 = mask.clone().sum().into_scalar().elem();
        self.sum = self.sum.clone() + matmul(rows.clone().transpose(), rows);
        self.count += tokens.round() as usize;
        Ok(())
    }

    /// `Σ xxᵀ / N` (`d×d`). Errors if no sample was added.
    pub fn finish(&self) -> Result<Tensor<B, 2>> {
        if self.count == 0 {
            return Err(LinalgError::Empty { op: "CovarianceAccumulator::finish" });
        }
        Ok(self.sum.clone() / (self.count as f64))
    }
}
