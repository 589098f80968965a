//! OSFT's SVD-factored weight (Nayak et al. 2025): `W = U_h Σ_h V_hᵀ + U_l Σ_l V_lᵀ`, the top-k
//! ("high") triplets frozen, the rest ("low") trained with gradients kept orthogonal to the
//! frozen singular subspaces.
//!
//! Orientation: the math is in PyTorch layout, `W: d_out×d_in`, `U: d_out×n`, `V: d_in×n`,
//! `n = min(d_in, d_out)`. burn stores the weight as `Wᵀ: [d_in, d_out]` (`y = x·Wᵀ`), so
//! [`SvdFactors::dense_weight`] returns `V Σ Uᵀ`. The projections act on the *row* spaces of
//! `U_l` and `V_l` (their columns are singular vectors), i.e. from the left in both cases.

use burn::module::{Module, Param, ParamId};
use burn::optim::GradientsParams;
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::module::linear;
use burn::tensor::{Tensor, TensorData};
use serde::{Deserialize, Serialize};
use strata_linalg::faer::MatRef;
use strata_linalg::host::{from_host, to_host};
use strata_linalg::{exact_svd_host, project_out_left};

use crate::error::{AdapterError, Result};

/// How [`SvdFactors::forward`] evaluates `x·Wᵀ` (burn: `x·dense_weight`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OsftForward {
    /// Rebuild the dense `[d_in, d_out]` weight from the factors, then one GEMM (the papers'
    /// code). Cost per call `n·d_in·d_out` (rebuild) `+ N·d_in·d_out` (N rows of `x`).
    #[default]
    Rebuild,
    /// Never form the dense weight: `((x·V)·diag(s))·Uᵀ` for each part. Cost
    /// `N·n·(d_in + d_out)`: cheaper than [`Self::Rebuild`] for few rows (`N ≲ d/2` when square).
    Factored,
}

/// The SVD-split base weight of one linear layer.
///
/// High part (`u_h`, `s_h`, `v_h`): parameters with `require_grad = false`, so the autodiff
/// graph never tracks them and an optimizer never receives a gradient for them (they are
/// still saved in records). Low part (`u_l`, `s_l`, `v_l`): trainable. Singular values are
/// descending across the split: `s_h[k−1] ≥ s_l[0]`.
#[derive(Module, Debug)]
pub struct SvdFactors<B: Backend> {
    /// Frozen left singular vectors `U_h: [d_out, k]`.
    pub u_h: Param<Tensor<B, 2>>,
    /// Frozen singular values `Σ_h: [k]`.
    pub s_h: Param<Tensor<B, 1>>,
    /// Frozen right singular vectors `V_h: [d_in, k]`.
    pub v_h: Param<Tensor<B, 2>>,
    /// Trainable left singular vectors `U_l: [d_out, n−k]`.
    pub u_l: Param<Tensor<B, 2>>,
    /// Trainable singular values `Σ_l: [n−k]`.
    pub s_l: Param<Tensor<B, 1>>,
    /// Trainable right singular vectors `V_l: [d_in, n−k]`.
    pub v_l: Param<Tensor<B, 2>>,
    /// How the forward pass is evaluated (not saved in records).
    pub mode: OsftForward,
}

/// Uploads columns `start..start+len` of a host matrix (possibly zero of them).
fn columns<B: Backend>(m: MatRef<'_, f64>, start: usize, len: usize, device: &B::Device) -> Tensor<B, 2> {
    from_host::<B>(m.subcols(start, len), device)
}

/// Uploads `values` as a 1-D float tensor.
fn vector<B: Backend>(values: &[f64], device: &B::Device) -> Tensor<B, 1> {
    let data: Vec<f32> = values.iter().map(|&x| x as f32).collect();
    Tensor::from_data(TensorData::new(data, [values.len()]), device)
}

/// A parameter the autodiff graph does not track (a buffer that is still saved).
fn frozen<B: Backend, const D: usize>(t: Tensor<B, D>) -> Param<Tensor<B, D>> {
    Param::initialized(ParamId::new(), t.set_require_grad(false))
}

/// `x·V·diag(s)·Uᵀ` for one part (`x: [.., d_in]` → `[.., d_out]`).
fn part_forward<B: Backend, const D: usize>(x: Tensor<B, D>, u: Tensor<B, 2>, s: Tensor<B, 1>, v: Tensor<B, 2>) -> Tensor<B, D> {
    let h = linear(x, v, None) * s.unsqueeze::<D>();
    linear(h, u.transpose(), None)
}

/// `V·diag(s)·Uᵀ: [d_in, d_out]` for one part.
fn part_dense<B: Backend>(u: Tensor<B, 2>, s: Tensor<B, 1>, v: Tensor<B, 2>) -> Tensor<B, 2> {
    (v * s.unsqueeze_dim(0)).matmul(u.transpose())
}

impl<B: Backend> SvdFactors<B> {
    /// Splits a weight given in burn layout `[d_in, d_out]` (= `Wᵀ`) into its top-`k` (frozen)
    /// and remaining `n − k` (trainable) singular triplets, `0 ≤ k ≤ n = min(d_in, d_out)`.
    ///
    /// Always an exact thin SVD on the host in f64 (faer), `O(d_in·d_out·n)` flops: OSFT
    /// needs the *whole* spectrum (the trainable part is the complement of the top-k), which
    /// a randomized top-k SVD does not give. Measured on a shared 2-core CPU: 576×576 0.2 s,
    /// 576×1536 0.25 s, 2048×8192 16 s — fine up to that size. Larger layers take the same
    /// exact path, only slower (cost grows as `d_in·d_out·n`: ~5× for 4096×11008); it runs
    /// once per layer per task.
    ///
    /// Errors: `k > n`, an empty or non-finite weight, or faer not converging.
    pub fn decompose(weight: &Tensor<B, 2>, k: usize) -> Result<Self> {
        const OP: &str = "SvdFactors::decompose";
        let [d_in, d_out] = weight.dims();
        let n = d_in.min(d_out);
        if k > n {
            return Err(AdapterError::RankTooLarge { op: OP, k, max: n, d_in, d_out });
        }
        let device = weight.device();
        // Wᵀ = V Σ Uᵀ: the SVD of the burn-layout weight has the roles of U and V swapped.
        let svd = exact_svd_host(to_host(&weight.clone().detach()).as_ref())?;
        let (u, v) = (svd.v.as_ref(), svd.u.as_ref());
        Ok(Self {
            u_h: frozen(columns::<B>(u, 0, k, &device)),
            s_h: frozen(vector::<B>(&svd.s[..k], &device)),
            v_h: frozen(columns::<B>(v, 0, k, &device)),
            u_l: Param::from_tensor(columns::<B>(u, k, n - k, &device)),
            s_l: Param::from_tensor(vector::<B>(&svd.s[k..], &device)),
            v_l: Param::from_tensor(columns::<B>(v, k, n - k, &device)),
            mode: OsftForward::default(),
        })
    }

    /// The same factors, evaluated with `mode`.
    pub fn with_mode(mut self, mode: OsftForward) -> Self {
        self.mode = mode;
        self
    }

    /// Input width `d_in`.
    pub fn d_in(&self) -> usize {
        self.v_h.dims()[0]
    }

    /// Output width `d_out`.
    pub fn d_out(&self) -> usize {
        self.u_h.dims()[0]
    }

    /// Frozen rank `k`.
    pub fn rank_high(&self) -> usize {
        self.s_h.dims()[0]
    }

    /// Trainable rank `n − k`.
    pub fn rank_low(&self) -> usize {
        self.s_l.dims()[0]
    }

    /// The non-empty parts as `(U, Σ, V)` values (low part tracked by autodiff).
    fn parts(&self) -> Vec<(Tensor<B, 2>, Tensor<B, 1>, Tensor<B, 2>)> {
        let mut parts = Vec::with_capacity(2);
        if self.rank_high() > 0 {
            parts.push((self.u_h.val(), self.s_h.val(), self.v_h.val()));
        }
        if self.rank_low() > 0 {
            parts.push((self.u_l.val(), self.s_l.val(), self.v_l.val()));
        }
        parts
    }

    /// The dense weight in burn layout: `Wᵀ = V_h Σ_h U_hᵀ + V_l Σ_l U_lᵀ`, `[d_in, d_out]`;
    /// differentiable w.r.t. the low part.
    pub fn dense_weight(&self) -> Tensor<B, 2> {
        let mut parts = self.parts().into_iter().map(|(u, s, v)| part_dense(u, s, v));
        let first = parts.next().unwrap_or_else(|| Tensor::zeros([self.d_in(), self.d_out()], &self.u_h.device()));
        parts.fold(first, |w, p| w + p)
    }

    /// `x·Wᵀ` (no bias) for `x: [.., d_in]` → `[.., d_out]`, evaluated as [`Self::mode`] says.
    pub fn forward<const D: usize>(&self, x: Tensor<B, D>) -> Tensor<B, D> {
        match self.mode {
            OsftForward::Rebuild => linear(x, self.dense_weight(), None),
            OsftForward::Factored => {
                let mut parts = self.parts().into_iter();
                let Some((u, s, v)) = parts.next() else {
                    let mut dims = x.dims();
                    dims[D - 1] = self.d_out();
                    return Tensor::zeros(dims, &x.device());
                };
                let first = part_forward(x.clone(), u, s, v);
                parts.fold(first, |y, (u, s, v)| y + part_forward(x.clone(), u, s, v))
            }
        }
    }

    /// Re-projects the trainable singular vectors out of the frozen subspaces (no gradient,
    /// parameter ids kept): `U_l ← U_l − U_h(U_hᵀU_l)`, `V_l ← V_l − V_h(V_hᵀV_l)`.
    /// Call after an optimizer step to undo drift from Adam's per-element scaling.
    pub fn reproject(&mut self) -> Result<()> {
        self.u_l = reprojected(&self.u_l, &self.u_h)?;
        self.v_l = reprojected(&self.v_l, &self.v_h)?;
        Ok(())
    }

    /// Leakage of the trainable vectors into the frozen subspaces:
    /// `[‖U_hᵀU_l‖_F, ‖V_hᵀV_l‖_F]` (0 right after [`Self::decompose`] up to rounding).
    pub fn leakage(&self) -> [f64; 2] {
        let norm = |high: &Param<Tensor<B, 2>>, low: &Param<Tensor<B, 2>>| -> f64 {
            if high.dims()[1] == 0 || low.dims()[1] == 0 {
                return 0.0;
            }
            let g = high.val().detach().transpose().matmul(low.val().detach());
            g.to_data().iter::<f64>().map(|x| x * x).sum::<f64>().sqrt()
        };
        [norm(&self.u_h, &self.u_l), norm(&self.v_h, &self.v_l)]
    }
}

/// `low − high(highᵀ low)` as the same parameter (same id and `require_grad` flag).
fn reprojected<B: Backend>(low: &Param<Tensor<B, 2>>, high: &Param<Tensor<B, 2>>) -> Result<Param<Tensor<B, 2>>> {
    if low.dims()[1] == 0 || high.dims()[1] == 0 {
        return Ok(low.clone());
    }
    let require_grad = low.is_require_grad();
    let value = project_out_left(&low.val().detach(), &high.val().detach())?.detach();
    Ok(low.clone().map(|_| value.set_require_grad(require_grad)))
}

impl<B: AutodiffBackend> SvdFactors<B> {
    /// Projects the gradients of the trainable singular vectors out of the frozen subspaces,
    /// in place: `∇U_l ← ∇U_l − U_h(U_hᵀ∇U_l)`, `∇V_l ← ∇V_l − V_h(V_hᵀ∇V_l)`; `∇Σ_l` is left
    /// unchanged. Costs `O(d·k·(n−k))`; no `d×d` projector is formed. Parameters without a
    /// gradient in `grads` are skipped. Call between `GradientsParams::from_grads` and
    /// `Optimizer::step`.
    pub fn project_gradients(&self, grads: &mut GradientsParams) -> Result<()> {
        project_grad(grads, &self.u_l, &self.u_h)?;
        project_grad(grads, &self.v_l, &self.v_h)
    }
}

/// Replaces the gradient of `low` by `(I − high highᵀ)·grad`.
fn project_grad<B: AutodiffBackend>(grads: &mut GradientsParams, low: &Param<Tensor<B, 2>>, high: &Param<Tensor<B, 2>>) -> Result<()> {
    if high.dims()[1] == 0 {
        return Ok(());
    }
    let Some(grad) = grads.get::<B::InnerBackend, 2>(low.id) else {
        return Ok(());
    };
    let projected = project_out_left(&grad, &high.val().inner())?;
    grads.register::<B::InnerBackend, 2>(low.id, projected);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use strata_linalg::random::gaussian;

    type B = burn::backend::NdArray<f32>;

    fn max_rel(a: Tensor<B, 2>, b: Tensor<B, 2>) -> f64 {
        let a: Vec<f64> = a.into_data().iter::<f64>().collect();
        let b: Vec<f64> = b.into_data().iter::<f64>().collect();
        let diff = a.iter().zip(&b).map(|(x, y)| (x - y) * (x - y)).sum::<f64>().sqrt();
        diff / b.iter().map(|y| y * y).sum::<f64>().sqrt()
    }

    #[test]
    fn decompose_rebuilds_the_weight_with_descending_split() {
        let device = Default::default();
        for (d_in, d_out, k) in [(24, 40, 8), (40, 24, 8), (16, 16, 0), (16, 16, 16)] {
            let w = gaussian::<B>(d_in, d_out, 7, &device);
            let f = SvdFactors::decompose(&w, k).unwrap();
            let n = d_in.min(d_out);
            assert_eq!((f.d_in(), f.d_out(), f.rank_high(), f.rank_low()), (d_in, d_out, k, n - k));
            assert_eq!(f.u_h.dims(), [d_out, k]);
            assert_eq!(f.v_l.dims(), [d_in, n - k]);
            assert!(!f.u_h.is_require_grad() && !f.s_h.is_require_grad() && !f.v_h.is_require_grad());
            let err = max_rel(f.dense_weight(), w.clone());
            assert!(err < 1e-5, "{d_in}x{d_out} k={k}: {err}");
            let s: Vec<f32> = Tensor::cat(vec![f.s_h.val(), f.s_l.val()], 0).into_data().iter::<f32>().collect();
            assert!(s.windows(2).all(|p| p[0] >= p[1]), "descending: {s:?}");
            let [lu, lv] = f.leakage();
            assert!(lu < 1e-5 && lv < 1e-5, "leakage {lu} {lv}");
        }
    }

    #[test]
    fn rebuild_and_factored_forward_agree() {
        let device = Default::default();
        let w = gaussian::<B>(24, 40, 1, &device);
        let x = gaussian::<B>(6, 24, 2, &device).reshape([2, 3, 24]);
        for k in [0, 5, 24] {
            let f = SvdFactors::decompose(&w, k).unwrap();
            let dense = x.clone().matmul(w.clone().unsqueeze::<3>());
            let rebuild = f.forward(x.clone());
            let factored = f.clone().with_mode(OsftForward::Factored).forward(x.clone());
            let flat = |t: Tensor<B, 3>| t.reshape([6, 40]);
            assert!(max_rel(flat(rebuild.clone()), flat(dense.clone())) < 1e-5);
            assert!(max_rel(flat(factored), flat(rebuild)) < 1e-5);
        }
    }

    #[test]
    fn k_beyond_min_dim_is_an_error() {
        let w = gaussian::<B>(8, 5, 3, &Default::default());
        let err = SvdFactors::decompose(&w, 6).unwrap_err();
        assert!(matches!(err, AdapterError::RankTooLarge { k: 6, max: 5, d_in: 8, d_out: 5, .. }), "{err}");
        let bad = w.clone().slice_assign([0..1, 0..1], Tensor::from_floats([[f32::NAN]], &Default::default()));
        assert!(matches!(SvdFactors::decompose(&bad, 2), Err(AdapterError::Linalg(_))));
    }

    #[test]
    fn reproject_removes_leakage_and_keeps_ids() {
        let device = Default::default();
        let w = gaussian::<B>(20, 12, 4, &device);
        let mut f = SvdFactors::decompose(&w, 4).unwrap();
        let (id_u, id_v) = (f.u_l.id, f.v_l.id);
        // Push U_l and V_l into the frozen subspaces.
        f.u_l = f.u_l.clone().map(|u| u + f.u_h.val().slice([0..12, 0..1]).repeat_dim(1, 8) * 0.1);
        f.v_l = f.v_l.clone().map(|v| v + f.v_h.val().slice([0..20, 0..1]).repeat_dim(1, 8) * 0.1);
        assert!(f.leakage()[0] > 0.1 && f.leakage()[1] > 0.1);
        f.reproject().unwrap();
        let [lu, lv] = f.leakage();
        assert!(lu < 1e-5 && lv < 1e-5, "{lu} {lv}");
        assert_eq!((f.u_l.id, f.v_l.id), (id_u, id_v));
    }
}
