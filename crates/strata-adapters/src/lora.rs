//! LoRA branches: `Δy = s · B A x`, `s = α / r` (Hu et al. 2021).

use burn::config::Config;
use burn::module::{Module, Param};
use burn::nn::{Dropout, DropoutConfig};
use burn::tensor::{Distribution, Tensor, backend::Backend};

/// A LoRA branch's hyper-parameters. Defaults follow the continual-learning papers
/// (O-LoRA, InfLoRA, GainLoRA): r = 8, α = 32, dropout 0.1 on the branch input.
#[derive(Config, Debug)]
pub struct LoraConfig {
    /// Rank r.
    #[config(default = 8)]
    pub rank: usize,
    /// Scale numerator α (the branch is multiplied by α / r).
    #[config(default = 32.0)]
    pub alpha: f64,
    /// Dropout probability on the branch input.
    #[config(default = 0.1)]
    pub dropout: f64,
}

/// One low-rank branch. Stored in burn's row layout: `a: [d_in, r]`, `b: [r, d_out]`, so the
/// branch computes `x·a·b` (= `B A x` in the column-vector notation of the papers).
#[derive(Module, Debug)]
pub struct LoraBranch<B: Backend> {
    /// Down-projection (the papers' `Aᵀ`), `[d_in, r]`.
    pub a: Param<Tensor<B, 2>>,
    /// Up-projection (the papers' `Bᵀ`), `[r, d_out]`.
    pub b: Param<Tensor<B, 2>>,
    /// Input dropout.
    pub dropout: Dropout,
    /// `α / r`.
    pub scaling: f64,
    /// Index of this branch's gate in [`crate::AdapterContext::gates`], if gated.
    pub gate: Option<usize>,
}

impl LoraConfig {
    /// A fresh branch for a `d_in → d_out` layer: `A` Kaiming-uniform (bound `1/√d_in`, as
    /// PEFT's default), `B = 0`, so the branch starts as the zero map.
    pub fn init<B: Backend>(&self, d_in: usize, d_out: usize, device: &B::Device) -> LoraBranch<B> {
        let bound = 1.0 / (d_in as f64).sqrt();
        let a = Tensor::random([d_in, self.rank], Distribution::Uniform(-bound, bound), device);
        LoraBranch {
            a: Param::from_tensor(a),
            b: Param::from_tensor(Tensor::zeros([self.rank, d_out], device)),
            dropout: DropoutConfig::new(self.dropout).init(),
            scaling: self.alpha / self.rank as f64,
            gate: None,
        }
    }
}

impl<B: Backend> LoraBranch<B> {
    /// `s · dropout(x) · a · b` for `x: [batch, seq, d_in]`.
    pub fn forward(&self, x: Tensor<B, 3>) -> Tensor<B, 3> {
        let [b, s, d] = x.dims();
        let x = self.dropout.forward(x).reshape([b * s, d]);
        let y = x.matmul(self.a.val()).matmul(self.b.val()) * self.scaling;
        let d_out = y.dims()[1];
        y.reshape([b, s, d_out])
    }

    /// The dense update `s · a · b` (`[d_in, d_out]`, burn layout), for merging into W.
    pub fn delta_weight(&self) -> Tensor<B, 2> {
        self.a.val().matmul(self.b.val()) * self.scaling
    }

    /// Rank r.
    pub fn rank(&self) -> usize {
        self.a.dims()[1]
    }
}
