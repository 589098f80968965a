//! One task's gating module: `a = |2σ(s·cos(z, k)) − 1|`, `z = SiLU(W2 SiLU(W1 p̄))`.

use burn::config::Config;
use burn::module::{Module, Param};
use burn::tensor::activation::{sigmoid, silu};
use burn::tensor::{Distribution, Tensor, TensorData, backend::Backend};
use rand::{RngExt, SeedableRng, rngs::StdRng};

use super::error::{GateError, check_dims};

/// Floor of `‖z‖·‖k‖` in the cosine (as `torch.nn.functional.cosine_similarity`'s eps).
pub const COS_EPS: f64 = 1e-8;

/// Hyper-parameters of a gate. Defaults follow GainLoRA (Liang, Chen & Li 2025): hidden width
/// h = 100, cosine scale 4.
///
/// Initialisation (the paper does not fix it; this is torch's `nn.Linear` default,
/// Kaiming-uniform with `a = √5`, i.e. `U(−1/√fan_in, 1/√fan_in)`):
/// `W1 ~ U(±1/√d)`, `W2 ~ U(±1/√h)`, key `k ~ U(±1/√d)` (a one-row linear layer), so
/// `E‖k‖² = 1/3` (see [`KEY_INIT_NORM`]).
#[derive(Config, Debug)]
pub struct GateConfig {
    /// Input width d (the token-embedding width).
    pub dim: usize,
    /// Hidden width h.
    #[config(default = 100)]
    pub hidden: usize,
    /// Scale s in `b = s·cos(z, k)`.
    #[config(default = 4.0)]
    pub scale: f64,
}

/// The expected norm `√(1/3)` of a freshly initialised key (`d` entries `U(±1/√d)`); a key
/// designed by [`GateModule::init_from_previous`] gets this norm.
pub const KEY_INIT_NORM: f64 = 0.577_350_269_189_625_8;

/// One task's gate, in burn's row layout: `w1: [d, h]` (the papers' `W1ᵀ`, `W1 ∈ R^{h×d}`),
/// `w2: [h, d]` (`W2ᵀ`), `key: [d]`. A PyTorch *row* of `W1`/`W2` (length d resp. h, the input
/// side) is a *column* of `w1`/`w2` here.
#[derive(Module, Debug)]
pub struct GateModule<B: Backend> {
    /// First projection `[d, h]`, no bias.
    pub w1: Param<Tensor<B, 2>>,
    /// Second projection `[h, d]`, no bias.
    pub w2: Param<Tensor<B, 2>>,
    /// Task key `k ∈ R^d`.
    pub key: Param<Tensor<B, 1>>,
    /// Cosine scale s.
    pub scale: f64,
}

/// What one gate computes for a batch of pooled embeddings.
#[derive(Debug, Clone)]
pub struct GateOutput<B: Backend> {
    /// Gate values `a = |2σ(s·cos(z, k)) − 1| ∈ [0, 1)`, `[b]`.
    pub a: Tensor<B, 1>,
    /// Hidden representation `m = SiLU(W1 p̄)`, `[b, h]`.
    pub m: Tensor<B, 2>,
    /// Output representation `z = SiLU(W2 m)`, `[b, d]`.
    pub z: Tensor<B, 2>,
}

impl GateConfig {
    fn bounds(&self) -> (f64, f64) {
        (1.0 / (self.dim as f64).sqrt(), 1.0 / (self.hidden as f64).sqrt())
    }

    /// A fresh gate with burn's random generator (see the type docs for the distributions).
    pub fn init<B: Backend>(&self, device: &B::Device) -> GateModule<B> {
        let (bd, bh) = self.bounds();
        let (d, h) = (self.dim, self.hidden);
        GateModule {
            w1: Param::from_tensor(Tensor::random([d, h], Distribution::Uniform(-bd, bd), device)),
            w2: Param::from_tensor(Tensor::random([h, d], Distribution::Uniform(-bh, bh), device)),
            key: Param::from_tensor(Tensor::random([d], Distribution::Uniform(-bd, bd), device)),
            scale: self.scale,
        }
    }

    /// A fresh gate drawn on the host from a seeded generator: the same numbers on every
    /// backend and run.
    pub fn init_seeded<B: Backend>(&self, seed: u64, device: &B::Device) -> GateModule<B> {
        let (bd, bh) = self.bounds();
        let (d, h) = (self.dim, self.hidden);
        let mut rng = StdRng::seed_from_u64(seed);
        let mut uniform = |len: usize, bound: f64| -> Vec<f32> {
            (0..len).map(|_| ((2.0 * rng.random::<f64>() - 1.0) * bound) as f32).collect()
        };
        let w1 = TensorData::new(uniform(d * h, bd), [d, h]);
        let w2 = TensorData::new(uniform(h * d, bh), [h, d]);
        let key = TensorData::new(uniform(d, bd), [d]);
        GateModule {
            w1: Param::from_tensor(Tensor::from_data(w1, device)),
            w2: Param::from_tensor(Tensor::from_data(w2, device)),
            key: Param::from_tensor(Tensor::from_data(key, device)),
            scale: self.scale,
        }
    }
}

impl<B: Backend> GateModule<B> {
    /// A gate from explicit tensors in row layout: `w1: [d, h]`, `w2: [h, d]`, `key: [d]`; all
    /// three trainable.
    pub fn from_tensors(w1: Tensor<B, 2>, w2: Tensor<B, 2>, key: Tensor<B, 1>, scale: f64) -> Result<Self, GateError> {
        const OP: &str = "GateModule::from_tensors";
        let [d, h] = w1.dims();
        check_dims(OP, "w2 must be [h, d] for w1 [d, h]", &w2.dims(), &[h, d])?;
        check_dims(OP, "key must be [d]", &key.dims(), &[d])?;
        Ok(Self { w1: Param::from_tensor(w1), w2: Param::from_tensor(w2), key: Param::from_tensor(key), scale })
    }

    /// Input width d.
    pub fn dim(&self) -> usize {
        self.w1.dims()[0]
    }

    /// Hidden width h.
    pub fn hidden(&self) -> usize {
        self.w1.dims()[1]
    }

    /// `m = SiLU(p̄·w1)`, `z = SiLU(m·w2)`, `a = |2σ(s·cos(z, k)) − 1|` for `p̄: [b, d]`.
    ///
    /// `cos(z, k) = z·k / max(‖z‖‖k‖, 1e-8)`, so `z = 0` gives `a = 0`.
    /// Errors: `p̄` not `[b, d]`.
    pub fn forward(&self, p: Tensor<B, 2>) -> Result<GateOutput<B>, GateError> {
        let [b, d] = p.dims();
        if d != self.dim() {
            return Err(GateError::Shape { op: "GateModule::forward", what: "p̄ must be [batch, d]", expected: format!("[b, {}]", self.dim()), got: vec![b, d] });
        }
        let m = silu(p.matmul(self.w1.val()));
        let z = silu(m.clone().matmul(self.w2.val()));
        let key = self.key.val().unsqueeze_dim::<2>(0); // [1, d]
        let dot = (z.clone() * key.clone()).sum_dim(1); // [b, 1]
        let z2 = z.clone().powf_scalar(2.0).sum_dim(1); // [b, 1]
        let k2 = key.powf_scalar(2.0).sum_dim(1); // [1, 1]
        // sqrt(max(‖z‖²‖k‖², eps²)): finite gradients also at z = 0.
        let denom = (z2 * k2).clamp_min(COS_EPS * COS_EPS).sqrt();
        let logit = dot / denom * self.scale;
        let a = (sigmoid(logit) * 2.0 - 1.0).abs().reshape([b]);
        Ok(GateOutput { a, m, z })
    }
}
