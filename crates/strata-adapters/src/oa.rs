//! OA-Adapter's training rules (Wan et al. 2025) on top of [`OaAdapter`]: its configuration,
//! effective rank and parameter count, the activated columns kept after a task, the
//! orthogonality penalty, and freezing.
//!
//! Layout: the paper's `W2 ∈ R^{d×r_max}` has one output direction per *column*; burn's
//! `w2 = W2ᵀ: [r_max, d]` holds them as *rows*. So `W2[:, i]` is `w2[i, :]`, and the
//! activated columns `W̃2 = {W2[:, i]·γ_i : γ_i ≠ 0}` are returned as a `[r_eff, d]` tensor.
//!
//! Soft threshold and its gradient: `γ_i = sign(g_i)·max(|g_i| − τ, 0)`, so `∂γ_i/∂g_i =
//! 1[|g_i| > τ]` and `∂γ_i/∂τ = −sign(g_i)·1[|g_i| > τ]`. At the kink `|g_i| = τ` (and for
//! every switched-off dimension) both are 0: burn's `relu` has derivative 0 at 0 (as PyTorch)
//! and `sign` has derivative 0. A switched-off dimension gets no gradient through its own
//! `g_i`, `w1[:, i]`, `w2[i, :]`; it comes back when τ — still trained by the active
//! dimensions — drops below `|g_i|`. τ is not clamped: a negative τ switches every dimension on.

use burn::config::Config;
use burn::tensor::{Tensor, backend::Backend};

use crate::error::{self, AdapterError};
use crate::residual::{OaAdapter, ResidualSlot};
use crate::trainable;

/// OA-Adapter's hyper-parameters.
///
/// `lambda_orth` is **not published** by the paper (nor is the learning rate; there is no
/// public code). The default 0.5 is O-LoRA's published λ1 for its orthogonality term on the
/// Standard benchmark — the baseline OA-Adapter is compared against and whose setting it
/// follows. OA's term is a sum of *squared* inner products, smaller than O-LoRA's `|·|` sum for
/// overlaps below 1, so 0.5 is a mild constraint; sweep it (e.g. {0.05, 0.5, 5}) and record
/// the value used next to the results.
#[derive(Config, Debug)]
pub struct OaConfig {
    /// Largest bottleneck size `r_max` (the paper: 16).
    #[config(default = 16)]
    pub r_max: usize,
    /// Initial threshold τ (the paper searches {1e-3, 1e-4, 1e-5}).
    #[config(default = 1e-3)]
    pub tau_init: f64,
    /// Weight λ_orth of [`oa_orthogonality`] in the loss (unpublished; see the type docs).
    #[config(default = 0.5)]
    pub lambda_orth: f64,
}

impl OaConfig {
    /// A fresh trainable adapter for width `d` ([`OaAdapter::init`]: `w1` Kaiming-uniform,
    /// `w2 = 0`, `g = 1`, `τ = tau_init`).
    ///
    /// Errors: `d` or `r_max` = 0; `tau_init` or `lambda_orth` negative or non-finite.
    pub fn init<B: Backend>(&self, d: usize, device: &B::Device) -> error::Result<OaAdapter<B>> {
        const OP: &str = "OaConfig::init";
        let invalid = |name, value: String, reason| AdapterError::InvalidArgument { op: OP, name, value, reason };
        if d == 0 {
            return Err(invalid("d", "0".into(), "must be at least 1"));
        }
        if self.r_max == 0 {
            return Err(invalid("r_max", "0".into(), "must be at least 1"));
        }
        if !(self.tau_init.is_finite() && self.tau_init >= 0.0) {
            return Err(invalid("tau_init", self.tau_init.to_string(), "must be finite and ≥ 0"));
        }
        if !(self.lambda_orth.is_finite() && self.lambda_orth >= 0.0) {
            return Err(invalid("lambda_orth", self.lambda_orth.to_string(), "must be finite and ≥ 0"));
        }
        Ok(OaAdapter::init(d, self.r_max, self.tau_init, device))
    }
}

impl<B: Backend> OaAdapter<B> {
    /// Width `d`.
    pub fn d(&self) -> usize {
        self.w1.dims()[0]
    }

    /// Largest bottleneck size `r_max`.
    pub fn r_max(&self) -> usize {
        self.w1.dims()[1]
    }

    /// `γ_i ≠ 0` per dimension (`γ_i = 0` exactly when `|g_i| ≤ τ`). One device sync.
    pub fn active_dims(&self) -> Vec<bool> {
        self.gamma().to_data().iter::<f64>().map(|x| x != 0.0).collect()
    }

    /// `r_eff = #{i : γ_i ≠ 0}`. One device sync.
    pub fn effective_rank(&self) -> usize {
        self.active_dims().into_iter().filter(|&a| a).count()
    }

    /// Parameters actually used, `r_eff · 2d` (a row of `w1ᵀ` and of `w2` per active dimension),
    /// as the paper reports it.
    pub fn used_parameters(&self) -> usize {
        self.effective_rank() * 2 * self.d()
    }

    /// The activated columns `W̃2 = {W2[:, i]·γ_i : γ_i ≠ 0}` as rows of a `[r_eff, d]` tensor
    /// (burn layout, in index order), cut from the graph — what task s leaves for
    /// [`oa_orthogonality`] of later tasks. `None` when every dimension is off.
    pub fn activated_columns(&self) -> Option<Tensor<B, 2>> {
        let d = self.d();
        let scaled = self.w2.val() * self.gamma().unsqueeze_dim(1);
        let rows: Vec<_> =
            self.active_dims().into_iter().enumerate().filter(|&(_, a)| a).map(|(i, _)| scaled.clone().slice([i..i + 1, 0..d])).collect();
        (!rows.is_empty()).then(|| Tensor::cat(rows, 0).set_require_grad(false))
    }

    /// The adapter with every parameter (`w1`, `w2`, `g`, `τ`) frozen.
    pub fn freeze(mut self) -> Self {
        self.set_trainable(false);
        self
    }

    /// Makes every parameter trainable or frozen, in place.
    pub fn set_trainable(&mut self, trainable: bool) {
        trainable::set_trainable(&mut self.w1, trainable);
        trainable::set_trainable(&mut self.w2, trainable);
        trainable::set_trainable(&mut self.g, trainable);
        trainable::set_trainable(&mut self.tau, trainable);
    }

    /// Whether any parameter requires gradients (always `false` on a non-autodiff backend).
    pub fn is_trainable(&self) -> bool {
        trainable::is_trainable(&self.w1) || trainable::is_trainable(&self.w2) || trainable::is_trainable(&self.g) || trainable::is_trainable(&self.tau)
    }
}

impl<B: Backend> ResidualSlot<B> {
    /// Freezes every adapter currently in the slot (before the next task's adapter is pushed).
    pub fn freeze_adapters(&mut self) {
        for adapter in &mut self.adapters {
            adapter.set_trainable(false);
        }
    }

    /// `Σ r_eff · 2d` over the slot's adapters.
    pub fn used_parameters(&self) -> usize {
        self.adapters.iter().map(OaAdapter::used_parameters).sum()
    }
}

/// OA-Adapter's orthogonality penalty of the current adapter against earlier tasks' activated
/// columns: `Σ_s Σ_{i,j} ⟨W2^(t)[:, i], W̃2^(s)[:, j]⟩² = Σ_s ‖w2 · old_sᵀ‖²_F` (scalar `[1]`),
/// with `new.w2: [r_max, d]` (all `r_max` columns, unscaled) and `old_columns[s]: [r_s, d]` from
/// [`OaAdapter::activated_columns`]. Zero when there are none. Multiply by
/// [`OaConfig::lambda_orth`] for the loss.
///
/// Errors: an old block whose width differs from `d`.
pub fn oa_orthogonality<B: Backend>(new: &OaAdapter<B>, old_columns: &[Tensor<B, 2>]) -> error::Result<Tensor<B, 1>> {
    const OP: &str = "oa_orthogonality";
    let w2 = new.w2.val();
    let d = w2.dims()[1];
    let mut total = Tensor::zeros([1], &w2.device());
    for old in old_columns {
        if old.dims()[1] != d {
            return Err(AdapterError::Shape { op: OP, what: "old activated columns must be [r_s, d] rows of the adapter's width", expected: format!("[r_s, {d}]"), got: old.dims().to_vec() });
        }
        total = total + w2.clone().matmul(old.clone().transpose()).powf_scalar(2.0).sum();
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::module::Param;
    use burn::tensor::{ElementConversion, TensorData};

    use crate::test_util::{Ad, Plain, mat};

    fn vec1<B: Backend>(v: &[f32]) -> Tensor<B, 1> {
        Tensor::from_floats(v, &Default::default())
    }

    fn host<B: Backend, const D: usize>(t: Tensor<B, D>) -> Vec<f32> {
        t.to_data().iter::<f32>().collect()
    }

    fn adapter<B: Backend>(d: usize, g: &[f32], tau: f32) -> OaAdapter<B> {
        let mut a = OaConfig::new().with_r_max(g.len()).init::<B>(d, &Default::default()).unwrap();
        a.w2 = Param::from_tensor(mat(g.len(), d, 5));
        a.g = Param::from_tensor(vec1(g));
        a.tau = Param::from_tensor(vec1(&[tau]));
        a
    }

    #[test]
    fn config_defaults_and_validation() {
        let cfg = OaConfig::new();
        assert_eq!((cfg.r_max, cfg.tau_init, cfg.lambda_orth), (16, 1e-3, 0.5));
        let a = cfg.init::<Plain>(8, &Default::default()).unwrap();
        assert_eq!((a.d(), a.r_max(), a.effective_rank()), (8, 16, 16));
        assert!(matches!(cfg.init::<Plain>(0, &Default::default()), Err(AdapterError::InvalidArgument { name: "d", .. })));
        assert!(OaConfig::new().with_r_max(0).init::<Plain>(4, &Default::default()).is_err());
        assert!(OaConfig::new().with_tau_init(-1.0).init::<Plain>(4, &Default::default()).is_err());
        assert!(OaConfig::new().with_lambda_orth(f64::NAN).init::<Plain>(4, &Default::default()).is_err());
    }

    #[test]
    fn effective_rank_used_parameters_and_activated_columns_by_hand() {
        let d = 3;
        let mut a = adapter::<Plain>(d, &[1.0, -0.002, 0.0005, -0.5], 1e-3);
        a.w2 = Param::from_tensor(Tensor::from_floats([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0], [1.0, 0.0, -1.0]], &Default::default()));
        assert_eq!(a.active_dims(), vec![true, true, false, true]);
        assert_eq!(a.effective_rank(), 3);
        assert_eq!(a.used_parameters(), 3 * 2 * d);
        let cols = host(a.activated_columns().unwrap());
        let gamma = [0.999f32, -0.001, -0.499];
        let want = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [1.0, 0.0, -1.0]];
        for (r, (row, g)) in want.iter().zip(gamma).enumerate() {
            for c in 0..d {
                assert!((cols[r * d + c] - row[c] * g).abs() < 1e-6, "{cols:?}");
            }
        }
        // All off: nothing activated, nothing used.
        a.tau = Param::from_tensor(vec1(&[2.0]));
        assert_eq!((a.effective_rank(), a.used_parameters()), (0, 0));
        assert!(a.activated_columns().is_none());
        let slot = ResidualSlot { adapters: vec![a, adapter(d, &[1.0, 0.0], 0.5)] };
        assert_eq!(slot.used_parameters(), 2 * d);
    }

    #[test]
    fn soft_threshold_gradient_is_zero_at_and_below_the_kink() {
        // g_1 = −τ and g_2 = τ sit exactly on the kink; g_3 is below it.
        let a = adapter::<Ad>(3, &[0.5, -0.25, 0.25, 0.1], 0.25);
        let gamma = a.gamma();
        assert_eq!(host(gamma.clone()), vec![0.25, 0.0, 0.0, 0.0]);
        let grads = (gamma * vec1::<Ad>(&[1.0, 2.0, 3.0, 4.0])).sum().backward();
        assert_eq!(host(a.g.grad(&grads).unwrap()), vec![1.0, 0.0, 0.0, 0.0]);
        assert_eq!(host(a.tau.grad(&grads).unwrap()), vec![-1.0]);
    }

    /// One plain gradient step `p ← p − lr·∂L/∂p` on a 1-D parameter (a no-op without gradient).
    fn sgd(p: &mut Param<Tensor<Ad, 1>>, grads: &<Ad as burn::tensor::backend::AutodiffBackend>::Gradients, lr: f64) {
        if let Some(g) = p.grad(grads) {
            let g = Tensor::<Ad, 1>::from_inner(g);
            *p = p.clone().map(|v| (v.set_require_grad(false) - g * lr).require_grad());
        }
    }

    #[test]
    fn dimensions_switch_off_and_back_on_as_tau_moves() {
        let mut a = adapter::<Ad>(3, &[0.5, -0.3, 0.12, -0.05], 0.1);
        let check = |a: &OaAdapter<Ad>| {
            let (g, tau) = (host(a.g.val()), host(a.tau.val())[0]);
            let off: Vec<bool> = a.active_dims().into_iter().map(|on| !on).collect();
            let want: Vec<bool> = g.iter().map(|gi| gi.abs() <= tau).collect();
            assert_eq!(off, want, "γ_i = 0 must hold exactly when |g_i| ≤ τ (g = {g:?}, τ = {tau})");
            a.effective_rank()
        };
        assert_eq!(check(&a), 3);
        let lr = 0.01;

        // Phase 1: minimise Σ|γ_i| — τ rises by lr·r_eff per step, active |g_i| shrink.
        let mut ranks = vec![check(&a)];
        while *ranks.last().unwrap() > 1 {
            let off_before: Vec<(usize, f32)> = host(a.g.val()).into_iter().enumerate().filter(|&(i, _)| !a.active_dims()[i]).collect();
            let grads = a.gamma().abs().sum().backward();
            sgd(&mut a.g, &grads, lr);
            sgd(&mut a.tau, &grads, lr);
            // Switched-off dimensions got no gradient: their g did not move.
            let g = host(a.g.val());
            assert!(off_before.iter().all(|&(i, gi)| g[i] == gi));
            ranks.push(check(&a));
            assert!(ranks.len() < 100);
        }
        let tau_high = host(a.tau.val())[0];
        assert!(tau_high > 0.1);

        // Phase 2: maximise Σ|γ_i| — τ falls by lr·r_eff per step and the off dimensions,
        // whose g stayed put, come back one by one, down to g_4 = −0.05 (off from the start).
        while *ranks.last().unwrap() < 4 {
            let grads = (-a.gamma().abs().sum()).backward();
            sgd(&mut a.g, &grads, lr);
            sgd(&mut a.tau, &grads, lr);
            ranks.push(check(&a));
            assert!(ranks.len() < 200);
        }
        assert!(host(a.tau.val())[0] < 0.05);
        assert!(ranks.windows(2).all(|w| w[0].abs_diff(w[1]) <= 2), "{ranks:?}");
        let low = ranks.iter().position(|&r| r == 1).unwrap();
        assert!(ranks[..low].windows(2).all(|w| w[1] <= w[0]) && ranks[low..].windows(2).all(|w| w[1] >= w[0]), "{ranks:?}");
        // Back on: the adapter's delta responds through every dimension again.
        assert_eq!(a.effective_rank(), 4);
    }

    #[test]
    fn penalty_by_hand_and_zero_for_orthogonal_columns() {
        let device = Default::default();
        let mut a = adapter::<Plain>(3, &[1.0, 1.0], 0.0);
        a.w2 = Param::from_tensor(Tensor::from_floats([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], &device));
        let old = Tensor::<Plain, 2>::from_floats([[2.0, 3.0, 5.0]], &device);
        let p: f32 = oa_orthogonality(&a, &[old.clone(), old]).unwrap().into_scalar().elem();
        assert_eq!(p, 2.0 * (4.0 + 9.0));
        assert_eq!(oa_orthogonality(&a, &[]).unwrap().into_scalar().elem::<f32>(), 0.0);
        assert!(matches!(oa_orthogonality(&a, &[mat(1, 4, 1)]), Err(AdapterError::Shape { .. })));

        // Rows of an orthogonal Q: new w2 = Q[0..3], old activated columns from Q[3..6].
        let q = strata_linalg::householder_qr_host(strata_linalg::host::to_host(&mat::<Plain>(6, 6, 9)).as_ref()).0;
        let q = strata_linalg::host::from_host::<Plain>(q.as_ref(), &device).transpose();
        let mut new = adapter::<Plain>(6, &[1.0, 1.0, 1.0], 0.0);
        new.w2 = Param::from_tensor(q.clone().slice([0..3, 0..6]));
        let mut old = adapter::<Plain>(6, &[0.7, -2.0, 0.01], 0.05);
        old.w2 = Param::from_tensor(q.slice([3..6, 0..6]));
        let cols = old.activated_columns().unwrap();
        assert_eq!(cols.dims(), [2, 6]);
        let p: f32 = oa_orthogonality(&new, &[cols]).unwrap().into_scalar().elem();
        assert!(p < 1e-10, "penalty {p}");
    }

    #[test]
    fn penalty_gradient_matches_finite_differences() {
        let (d, r) = (5, 3);
        let old = vec![mat::<Ad>(2, d, 41), mat::<Ad>(1, d, 42)];
        let w2 = mat::<Ad>(r, d, 43);
        let penalty = |w: Tensor<Ad, 2>| {
            let mut a = adapter::<Ad>(d, &[1.0; 3], 0.0);
            a.w2 = Param::from_tensor(w);
            (oa_orthogonality(&a, &old).unwrap(), a)
        };
        let (p, a) = penalty(w2.clone());
        let grads = p.backward();
        let g = host(a.w2.grad(&grads).unwrap());
        let base = host(w2);
        let eps = 1e-3f32;
        let eval = |i: usize, h: f32| {
            let mut v = base.clone();
            v[i] += h;
            let p: f64 = penalty(Tensor::from_data(TensorData::new(v, [r, d]), &Default::default())).0.into_scalar().elem();
            p
        };
        let (mut num, mut den) = (0.0, 0.0);
        for (i, &gi) in g.iter().enumerate() {
            let fd = (eval(i, eps) - eval(i, -eps)) / (2.0 * eps as f64);
            num += (fd - gi as f64).powi(2);
            den += (gi as f64).powi(2);
        }
        let err = (num / den).sqrt();
        assert!(err < 1e-2, "rel error {err}");
    }

    #[test]
    fn frozen_adapters_get_no_gradient() {
        let device = Default::default();
        let cfg = OaConfig::new().with_r_max(4);
        let mut slot = ResidualSlot::<Ad>::default();
        let mut old = cfg.init::<Ad>(6, &device).unwrap();
        old.w2 = Param::from_tensor(mat(4, 6, 1));
        slot.adapters.push(old);
        slot.freeze_adapters();
        let mut new = cfg.init::<Ad>(6, &device).unwrap();
        new.w2 = Param::from_tensor(mat(4, 6, 2));
        slot.adapters.push(new);
        assert!(!slot.adapters[0].is_trainable() && slot.adapters[1].is_trainable());
        let x = Tensor::<Ad, 3>::random([2, 3, 6], burn::tensor::Distribution::Normal(0.0, 1.0), &device);
        let grads = slot.forward(x).powf_scalar(2.0).sum().backward();
        let (o, n) = (&slot.adapters[0], &slot.adapters[1]);
        assert!(o.w1.grad(&grads).is_none() && o.w2.grad(&grads).is_none() && o.g.grad(&grads).is_none() && o.tau.grad(&grads).is_none());
        assert!(n.w1.grad(&grads).is_some() && n.w2.grad(&grads).is_some() && n.g.grad(&grads).is_some() && n.tau.grad(&grads).is_some());
        assert!(!slot.adapters[1].clone().freeze().is_trainable());
    }
}
