//! Block-level residual adapters placed after a sublayer: `y = x + W2 Γ W1 x`.

use burn::module::{Module, Param};
use burn::tensor::activation::relu;
use burn::tensor::{Distribution, Tensor, backend::Backend};

/// OA-Adapter's bias-free bottleneck with a soft-thresholded learnable diagonal
/// (Wan et al. 2025): `y = x + W2 Γ W1 x`, `Γ = diag(γ)`, `γ_i = sign(g_i)·max(|g_i| − τ, 0)`.
/// Stored in row layout: `w1: [d, r_max]`, `w2: [r_max, d]`. Configuration, effective rank,
/// activated columns, orthogonality penalty and freezing: [`crate::oa`].
#[derive(Module, Debug)]
pub struct OaAdapter<B: Backend> {
    /// Down-projection `[d, r_max]`.
    pub w1: Param<Tensor<B, 2>>,
    /// Up-projection `[r_max, d]`.
    pub w2: Param<Tensor<B, 2>>,
    /// Diagonal before thresholding `[r_max]`.
    pub g: Param<Tensor<B, 1>>,
    /// Threshold τ `[1]`.
    pub tau: Param<Tensor<B, 1>>,
}

impl<B: Backend> OaAdapter<B> {
    /// A fresh adapter: `w1` Kaiming-uniform, `w2 = 0` (starts as the identity map), `g = 1`,
    /// `τ = tau`.
    pub fn init(d: usize, r_max: usize, tau: f64, device: &B::Device) -> Self {
        let bound = 1.0 / (d as f64).sqrt();
        Self {
            w1: Param::from_tensor(Tensor::random([d, r_max], Distribution::Uniform(-bound, bound), device)),
            w2: Param::from_tensor(Tensor::zeros([r_max, d], device)),
            g: Param::from_tensor(Tensor::ones([r_max], device)),
            tau: Param::from_tensor(Tensor::from_floats([tau as f32], device)),
        }
    }

    /// `γ = sign(g)·max(|g| − τ, 0)` (`[r_max]`).
    pub fn gamma(&self) -> Tensor<B, 1> {
        let g = self.g.val();
        let tau = self.tau.val();
        g.clone().sign() * relu(g.abs() - tau)
    }

    /// `W2 Γ W1 x` for `x: [batch, seq, d]` (the residual term only).
    pub fn delta(&self, x: Tensor<B, 3>) -> Tensor<B, 3> {
        let [b, s, d] = x.dims();
        let h = x.reshape([b * s, d]).matmul(self.w1.val()) * self.gamma().unsqueeze_dim(0);
        h.matmul(self.w2.val()).reshape([b, s, d])
    }
}

/// The adapters after one sublayer of one block; their residual terms are summed:
/// `y = x + Σ_i W2_i Γ_i W1_i x`. Empty by default (identity).
#[derive(Module, Debug)]
pub struct ResidualSlot<B: Backend> {
    /// Adapters, one per task for OA-Adapter.
    pub adapters: Vec<OaAdapter<B>>,
}

impl<B: Backend> Default for ResidualSlot<B> {
    fn default() -> Self {
        Self { adapters: Vec::new() }
    }
}

impl<B: Backend> ResidualSlot<B> {
    /// `x + Σ_i delta_i(x)`; `x` unchanged when the slot is empty.
    pub fn forward(&self, x: Tensor<B, 3>) -> Tensor<B, 3> {
        self.adapters.iter().fold(x.clone(), |y, a| y + a.delta(x.clone()))
    }
}
