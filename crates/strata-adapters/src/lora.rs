//! LoRA branches: `Δy = s · B A x`, `s = α / r` (Hu et al. 2021), and the LoRA-side
//! operations of [`AdaptedLinear`]: merging branches into the base weight (and back),
//! freezing the base or the branches.

use burn::config::Config;
use burn::module::{Module, Param};
use burn::nn::{Dropout, DropoutConfig};
use burn::tensor::{Distribution, Tensor, backend::Backend};

use crate::error::{self, AdapterError};
use crate::linear::AdaptedLinear;
use crate::trainable;

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
    /// The layers to adapt, matched by [`crate::LinearName::matches`] (`q`, `v` also match
    /// decoder `q_proj`, `v_proj`).
    #[config(default = "vec![\"q\".to_string(), \"v\".to_string()]")]
    pub target_modules: Vec<String>,
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

    /// A branch with a given down-projection `a: [d_in, r]` (burn layout; the papers' `Aᵀ`)
    /// held frozen, and a trainable `B = 0: [r, d_out]` — InfLoRA's branch. `s = α / r` with
    /// `r` the column count of `a` (the config's `rank` is not consulted).
    pub fn init_with_frozen_a<B: Backend>(&self, a: Tensor<B, 2>, d_out: usize) -> LoraBranch<B> {
        let [_, r] = a.dims();
        let device = a.device();
        let mut a = Param::from_tensor(a);
        trainable::set_trainable(&mut a, false);
        LoraBranch {
            a,
            b: Param::from_tensor(Tensor::zeros([r, d_out], &device)),
            dropout: DropoutConfig::new(self.dropout).init(),
            scaling: self.alpha / r as f64,
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

    /// Input width `d_in`.
    pub fn d_in(&self) -> usize {
        self.a.dims()[0]
    }

    /// Output width `d_out`.
    pub fn d_out(&self) -> usize {
        self.b.dims()[1]
    }

    /// The branch with both factors frozen (no gradients; see [`crate::trainable`]).
    pub fn freeze(mut self) -> Self {
        self.set_trainable(false);
        self
    }

    /// Makes both factors trainable or frozen, in place.
    pub fn set_trainable(&mut self, trainable: bool) {
        trainable::set_trainable(&mut self.a, trainable);
        trainable::set_trainable(&mut self.b, trainable);
    }

    /// Whether any factor requires gradients (always `false` on a non-autodiff backend).
    pub fn is_trainable(&self) -> bool {
        trainable::is_trainable(&self.a) || trainable::is_trainable(&self.b)
    }
}

/// LoRA operations on the seam: merge/unmerge branches, freeze base or branches.
///
/// Merging folds `s·a·b` (burn layout `[d_in, d_out]`, i.e. `W ← W + s·B A` in the papers'
/// notation) into the base weight. The merged layer equals the unmerged one in evaluation
/// (dropout off); the merged weight keeps the base weight's parameter id and trainability and
/// is a fresh graph leaf (the branch factors are not differentiated through it).
impl<B: Backend> AdaptedLinear<B> {
    /// Folds every LoRA branch into `weight` and removes them; returns the removed branches
    /// (in order) so that [`Self::unmerge_branch`] can undo it.
    ///
    /// Errors (checked before anything changes): a gated branch, a branch whose shape does not
    /// fit the layer.
    pub fn merge_lora(&mut self) -> error::Result<Vec<LoraBranch<B>>> {
        for index in 0..self.lora.len() {
            self.check_mergeable("AdaptedLinear::merge_lora", index)?;
        }
        let Some(delta) = self.lora.iter().map(LoraBranch::delta_weight).reduce(|a, b| a + b) else {
            return Ok(Vec::new());
        };
        self.add_to_weight(delta);
        Ok(std::mem::take(&mut self.lora))
    }

    /// Folds branch `index` into `weight` and removes it from [`Self::lora`]; returns it.
    /// `W ← W + s·a·b`.
    ///
    /// Errors: `index` out of range, a gated branch, a branch that does not fit the layer.
    pub fn merge_branch(&mut self, index: usize) -> error::Result<LoraBranch<B>> {
        self.check_mergeable("AdaptedLinear::merge_branch", index)?;
        let branch = self.lora.remove(index);
        self.add_to_weight(branch.delta_weight());
        Ok(branch)
    }

    /// Undoes [`Self::merge_branch`]: `W ← W − s·a·b` and appends the branch again (exact up
    /// to float rounding).
    ///
    /// Errors: a branch that does not fit the layer, a gated branch.
    pub fn unmerge_branch(&mut self, branch: LoraBranch<B>) -> error::Result<()> {
        self.check_branch_shape("AdaptedLinear::unmerge_branch", &branch)?;
        if let Some(gate) = branch.gate {
            return Err(AdapterError::GatedBranch { op: "AdaptedLinear::unmerge_branch", index: self.lora.len(), gate });
        }
        self.add_to_weight(-branch.delta_weight());
        self.lora.push(branch);
        Ok(())
    }

    /// Freezes the base weight and bias (LoRA training).
    pub fn freeze_base(&mut self) {
        self.set_base_trainable(false);
    }

    /// Makes the base weight and bias trainable or frozen (SeqFT: trainable).
    pub fn set_base_trainable(&mut self, trainable: bool) {
        trainable::set_trainable(&mut self.weight, trainable);
        if let Some(bias) = self.bias.as_mut() {
            trainable::set_trainable(bias, trainable);
        }
    }

    /// Freezes every LoRA branch currently installed (IncLoRA / O-LoRA before adding the
    /// next task's branch).
    pub fn freeze_branches(&mut self) {
        for branch in &mut self.lora {
            branch.set_trainable(false);
        }
    }

    fn check_mergeable(&self, op: &'static str, index: usize) -> error::Result<()> {
        let branch = self.lora.get(index).ok_or(AdapterError::IndexOutOfRange { op, index, len: self.lora.len() })?;
        if let Some(gate) = branch.gate {
            return Err(AdapterError::GatedBranch { op, index, gate });
        }
        self.check_branch_shape(op, branch)
    }

    fn check_branch_shape(&self, op: &'static str, branch: &LoraBranch<B>) -> error::Result<()> {
        let (a, b) = (branch.a.dims(), branch.b.dims());
        if a[0] != self.d_in() || b[1] != self.d_out() || a[1] != b[0] {
            return Err(AdapterError::Shape {
                op,
                what: "branch factors a: [d_in, r], b: [r, d_out] must fit the layer",
                expected: format!("a: [{}, r], b: [r, {}]", self.d_in(), self.d_out()),
                got: vec![a[0], a[1], b[0], b[1]],
            });
        }
        Ok(())
    }

    /// `W ← W + delta` as a new leaf with the same id and trainability.
    fn add_to_weight(&mut self, delta: Tensor<B, 2>) {
        let trainable = trainable::is_trainable(&self.weight);
        let weight = self.weight.clone();
        // `set_require_grad(false)` (unlike `detach`, which keeps a leaf's flag) cuts both
        // operands from the graph, so the sum is a plain value that can become a leaf again.
        self.weight = weight.map(|w| (w.set_require_grad(false) + delta.set_require_grad(false)).set_require_grad(trainable));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::AdapterContext;
    use burn::backend::{Autodiff, NdArray};

    type Plain = NdArray<f32>;
    type Ad = Autodiff<NdArray<f32>>;

    fn layer<B: Backend>(d_in: usize, d_out: usize, branches: usize, device: &B::Device) -> AdaptedLinear<B> {
        let w = Tensor::random([d_in, d_out], Distribution::Normal(0.0, 0.5), device);
        let bias = Tensor::random([d_out], Distribution::Normal(0.0, 0.5), device);
        let mut lin = AdaptedLinear::new(w, Some(bias));
        for rank in (0..branches).map(|i| 2 + i) {
            let mut br = LoraConfig::new().with_rank(rank).init::<B>(d_in, d_out, device);
            // A non-zero B so that the branch matters.
            br.b = Param::from_tensor(Tensor::random([rank, d_out], Distribution::Normal(0.0, 0.3), device));
            lin.lora.push(br);
        }
        lin
    }

    fn max_abs_diff<B: Backend, const D: usize>(a: Tensor<B, D>, b: Tensor<B, D>) -> f32 {
        (a - b).abs().max().into_scalar().elem()
    }

    use burn::tensor::ElementConversion;

    #[test]
    fn config_defaults_and_targets() {
        let cfg = LoraConfig::new();
        assert_eq!((cfg.rank, cfg.alpha, cfg.dropout), (8, 32.0, 0.1));
        assert_eq!(cfg.target_modules, vec!["q".to_string(), "v".to_string()]);
        let q = crate::LinearName("layers.0.self_attn.q_proj".into());
        let k = crate::LinearName("layers.0.self_attn.k_proj".into());
        assert!(q.matches(&cfg.target_modules) && !k.matches(&cfg.target_modules));
    }

    #[test]
    fn merged_forward_equals_unmerged() {
        let device = Default::default();
        let mut lin = layer::<Plain>(6, 5, 2, &device);
        let x = Tensor::<Plain, 3>::random([2, 3, 6], Distribution::Normal(0.0, 1.0), &device);
        let ctx = AdapterContext::none();
        let before = lin.forward(x.clone(), &ctx);
        let removed = lin.merge_lora().unwrap();
        assert_eq!(removed.len(), 2);
        assert!(lin.lora.is_empty());
        let after = lin.forward(x, &ctx);
        assert!(max_abs_diff(before, after) < 1e-5);
    }

    #[test]
    fn merge_branch_then_unmerge_round_trips() {
        let device = Default::default();
        let mut lin = layer::<Plain>(4, 3, 2, &device);
        let w0 = lin.weight.val();
        let x = Tensor::<Plain, 3>::random([1, 4, 4], Distribution::Normal(0.0, 1.0), &device);
        let ctx = AdapterContext::none();
        let before = lin.forward(x.clone(), &ctx);
        let br = lin.merge_branch(1).unwrap();
        assert_eq!(br.rank(), 3);
        assert_eq!(lin.lora.len(), 1);
        assert!(max_abs_diff(before.clone(), lin.forward(x.clone(), &ctx)) < 1e-5);
        lin.unmerge_branch(br).unwrap();
        assert_eq!(lin.lora.len(), 2);
        assert!(max_abs_diff(w0, lin.weight.val()) < 1e-6);
        assert!(max_abs_diff(before, lin.forward(x, &ctx)) < 1e-5);
    }

    #[test]
    fn merge_rejects_gated_and_bad_index_without_changing_anything() {
        let device = Default::default();
        let mut lin = layer::<Plain>(4, 3, 2, &device);
        lin.lora[1].gate = Some(0);
        let w0 = lin.weight.val();
        assert!(matches!(lin.merge_lora(), Err(AdapterError::GatedBranch { index: 1, gate: 0, .. })));
        assert!(matches!(lin.merge_branch(5), Err(AdapterError::IndexOutOfRange { index: 5, len: 2, .. })));
        assert_eq!(lin.lora.len(), 2);
        assert_eq!(max_abs_diff(w0, lin.weight.val()), 0.0);
        // The ungated branch alone can still be merged.
        assert!(lin.merge_branch(0).is_ok());
        let wrong = LoraConfig::new().init::<Plain>(5, 3, &device);
        assert!(matches!(lin.unmerge_branch(wrong), Err(AdapterError::Shape { .. })));
    }

    #[test]
    fn frozen_params_get_no_gradient() {
        let device = Default::default();
        let mut lin = layer::<Ad>(4, 3, 2, &device);
        lin.freeze_base();
        lin.lora[0].set_trainable(false);
        assert!(!lin.lora[0].is_trainable() && lin.lora[1].is_trainable());
        let x = Tensor::<Ad, 3>::random([2, 2, 4], Distribution::Normal(0.0, 1.0), &device);
        let grads = lin.forward(x, &AdapterContext::none()).powf_scalar(2.0).sum().backward();
        assert!(lin.weight.grad(&grads).is_none());
        assert!(lin.bias.as_ref().unwrap().grad(&grads).is_none());
        assert!(lin.lora[0].a.grad(&grads).is_none() && lin.lora[0].b.grad(&grads).is_none());
        assert!(lin.lora[1].a.grad(&grads).is_some() && lin.lora[1].b.grad(&grads).is_some());

        // Unfreezing the base and freezing all branches flips it.
        lin.set_base_trainable(true);
        lin.freeze_branches();
        let x = Tensor::<Ad, 3>::random([2, 2, 4], Distribution::Normal(0.0, 1.0), &device);
        let grads = lin.forward(x, &AdapterContext::none()).sum().backward();
        assert!(lin.weight.grad(&grads).is_some());
        assert!(lin.lora.iter().all(|b| b.a.grad(&grads).is_none() && b.b.grad(&grads).is_none()));
    }

    #[test]
    fn merge_keeps_weight_id_and_trainability() {
        let device = Default::default();
        let mut lin = layer::<Ad>(4, 3, 1, &device);
        let id = lin.weight.id;
        lin.freeze_base();
        lin.merge_lora().unwrap();
        assert_eq!(lin.weight.id, id);
        assert!(!trainable::is_trainable(&lin.weight));
        lin.set_base_trainable(true);
        let id = lin.weight.id;
        lin.lora.push(LoraConfig::new().init(4, 3, &device));
        lin.merge_lora().unwrap();
        assert_eq!(lin.weight.id, id);
        let x = Tensor::<Ad, 3>::random([1, 2, 4], Distribution::Normal(0.0, 1.0), &device);
        let grads = lin.forward(x, &AdapterContext::none()).sum().backward();
        assert!(lin.weight.grad(&grads).is_some());
    }

    #[test]
    fn frozen_a_branch_trains_only_b() {
        let device = Default::default();
        let a = Tensor::<Ad, 2>::random([4, 2], Distribution::Normal(0.0, 1.0), &device);
        let br = LoraConfig::new().init_with_frozen_a(a, 3);
        assert_eq!((br.rank(), br.d_in(), br.d_out()), (2, 4, 3));
        assert_eq!(br.scaling, 16.0);
        let x = Tensor::<Ad, 3>::random([1, 2, 4], Distribution::Normal(0.0, 1.0), &device);
        let grads = br.forward(x).sum().backward();
        assert!(br.a.grad(&grads).is_none() && br.b.grad(&grads).is_some());
        assert!(!br.clone().freeze().is_trainable());
    }
}
