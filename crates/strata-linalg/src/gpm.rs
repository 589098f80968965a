//! Gradient Projection Memory bases (Saha et al. 2021), as used by InfLoRA and GainLoRA.
//!
//! A [`GpmBasis`] is an orthonormal `M: d×k` that grows task by task. Given new inputs as a
//! representation matrix `R: d×n` (or a covariance `d×d`, treated the same way), the update
//! projects `R̂ = R − M MᵀR`, takes `R̂ = U Σ Vᵀ`, and appends the fewest top columns of `U`
//! such that `‖MᵀR‖²_F + Σ_{i≤m} σ_i² ≥ ε·‖R‖²_F`; `k` never exceeds `d`.

use burn::tensor::{ElementConversion, Tensor, TensorData, backend::Backend};
use faer::Mat;
use serde::{Deserialize, Serialize};

use crate::eig::sym_eig_host;
use crate::error::{LinalgError, Result};
use crate::gemm::matmul;
use crate::host::{check_finite, check_nonempty, to_host};
use crate::qr::householder_qr_host;

/// The default base threshold ε of the schedule (InfLoRA / GainLoRA use 0.995).
pub const DEFAULT_GPM_EPSILON: f64 = 0.995;

/// The threshold schedule `ε_t = ε + (1 − ε)·t/T` for task index `t` (from 0) of `total` tasks.
pub fn gpm_threshold(epsilon: f64, t: usize, total: usize) -> f64 {
    if total == 0 {
        return epsilon;
    }
    epsilon + (1.0 - epsilon) * (t as f64) / (total as f64)
}

/// An orthonormal basis of old inputs, stored on the host (row-major `d×k`, f32) so it
/// serialises with serde and moves to any device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GpmBasis {
    dim: usize,
    rank: usize,
    /// Row-major `dim × rank`.
    data: Vec<f32>,
}

/// What one [`GpmBasis::update`] did.
#[derive(Debug, Clone, PartialEq)]
pub struct GpmUpdate {
    /// Columns added.
    pub added: usize,
    /// Basis size after the update.
    pub rank: usize,
    /// `‖MᵀR‖² / ‖R‖²` before adding columns.
    pub captured_before: f64,
    /// The same fraction after adding columns.
    pub captured_after: f64,
    /// The threshold ε used.
    pub threshold: f64,
}

impl GpmBasis {
    /// The empty basis of `R^dim`.
    pub fn new(dim: usize) -> Self {
        Self { dim, rank: 0, data: Vec::new() }
    }

    /// A basis from the columns of a `d×k` tensor, re-orthonormalised on the host.
    pub fn from_columns<B: Backend>(columns: &Tensor<B, 2>) -> Result<Self> {
        let [d, k] = columns.dims();
        let mut basis = Self::new(d);
        if k > 0 {
            check_finite("GpmBasis::from_columns", "columns", columns)?;
            basis.set_orthonormalised(to_host(columns));
        }
        Ok(basis)
    }

    /// Ambient dimension `d`.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Number of basis vectors `k`.
    pub fn rank(&self) -> usize {
        self.rank
    }

    /// Whether no vector has been added yet.
    pub fn is_empty(&self) -> bool {
        self.rank == 0
    }

    /// Whether the basis spans all of `R^d` (nothing more can be added).
    pub fn is_full(&self) -> bool {
        self.rank >= self.dim
    }

    /// The basis as a `d×k` tensor, or `None` while it is empty (GPU backends cannot hold
    /// zero-sized tensors).
    pub fn to_tensor<B: Backend>(&self, device: &B::Device) -> Option<Tensor<B, 2>> {
        (self.rank > 0).then(|| Tensor::from_data(TensorData::new(self.data.clone(), [self.dim, self.rank]), device))
    }

    /// Host copy of the basis (`d×k`, f64).
    pub fn to_host(&self) -> Mat<f64> {
        Mat::from_fn(self.dim, self.rank, |i, j| self.data[i * self.rank + j] as f64)
    }

    fn set_orthonormalised(&mut self, columns: Mat<f64>) {
        let k = columns.ncols().min(self.dim);
        let (q, _) = householder_qr_host(columns.as_ref());
        self.rank = k;
        self.data = (0..self.dim).flat_map(|i| (0..k).map(move |j| (i, j))).map(|(i, j)| q[(i, j)] as f32).collect();
    }

    /// Grows the basis with new representations `r: d×n` (or a `d×d` covariance) under
    /// threshold `epsilon` ∈ [0, 1] (see the module docs for the rule).
    ///
    /// Errors: `r` with a row count other than `d`, non-finite values, `epsilon` outside [0, 1].
    pub fn update<B: Backend>(&mut self, r: &Tensor<B, 2>, epsilon: f64) -> Result<GpmUpdate> {
        const OP: &str = "GpmBasis::update";
        let [d, n] = check_nonempty(OP, "r", r)?;
        if d != self.dim {
            return Err(LinalgError::Shape { op: OP, what: "r must have one row per basis dimension", expected: format!("[{}, n]", self.dim), got: vec![d, n] });
        }
        if !(0.0..=1.0).contains(&epsilon) {
            return Err(LinalgError::InvalidArgument { op: OP, name: "epsilon", value: epsilon.to_string(), reason: "must lie in [0, 1]" });
        }
        check_finite(OP, "r", r)?;
        let device = r.device();
        let total: f64 = r.clone().powf_scalar(2.0).sum().into_scalar().elem();
        let mut result = GpmUpdate { added: 0, rank: self.rank, captured_before: 1.0, captured_after: 1.0, threshold: epsilon };
        if total == 0.0 {
            return Ok(result);
        }
        let (captured, residual) = match self.to_tensor::<B>(&device) {
            None => (0.0, r.clone()),
            Some(m) => {
            let coeff = matmul(m.clone().transpose(), r.clone());
            let captured: f64 = coeff.clone().powf_scalar(2.0).sum().into_scalar().elem();
            (captured, r.clone() - matmul(m, coeff))
            }
        };
        result.captured_before = captured / total;
        result.captured_after = result.captured_before;
        if self.is_full() || captured >= epsilon * total {
            return Ok(result);
        }

        // σ² and left singular vectors of R̂ from the smaller Gram matrix.
        let (sigma2, u) = if n >= d {
            let gram = matmul(residual.clone(), residual.clone().transpose());
            let (vals, vecs) = sym_eig_host(OP, to_host(&gram).as_ref())?;
            (vals, vecs)
        } else {
            let gram = matmul(residual.clone().transpose(), residual.clone());
            let (vals, vecs) = sym_eig_host(OP, to_host(&gram).as_ref())?;
            // U = R̂ V Σ⁻¹ for the non-zero σ.
            let rv = to_host(&matmul(residual, crate::host::from_host::<B>(vecs.as_ref(), &device)));
            let u = Mat::from_fn(d, n, |i, j| if vals[j] > 0.0 { rv[(i, j)] / vals[j].sqrt() } else { 0.0 });
            (vals, u)
        };
        let floor = sigma2.first().copied().unwrap_or(0.0).max(0.0) * 1e-12;
        let mut acc = captured;
        let mut take = 0;
        for &s2 in sigma2.iter().take(self.dim - self.rank) {
            if acc >= epsilon * total || s2 <= floor {
                break;
            }
            acc += s2.max(0.0);
            take += 1;
        }
        if take == 0 {
            return Ok(result);
        }
        let old = self.to_host();
        let joined = Mat::from_fn(d, self.rank + take, |i, j| if j < self.rank { old[(i, j)] } else { u[(i, j - self.rank)] });
        self.set_orthonormalised(joined);
        result.added = take;
        result.rank = self.rank;
        result.captured_after = (acc / total).min(1.0);
        Ok(result)
    }
}
