//! O-LoRA's regularisers (Wang et al. 2023): keep the new task's LoRA orthogonal to the old
//! ones, `λ1 · Σ_{j,k} |(A_old A_tᵀ)_{jk}|`, plus `λ2 · (‖A_t‖_F + ‖B_t‖_F)`.
//!
//! Layout: the papers write `A ∈ R^{r×d_in}`, `B ∈ R^{d_out×r}` (PyTorch); a [`LoraBranch`]
//! stores `a = Aᵀ: [d_in, r]`, `b = Bᵀ: [r, d_out]`. Hence `A_old A_tᵀ = a_oldᵀ · a_t`
//! (`[r_old, r]`, the overlap of the input row spaces) and, on the up side,
//! `B_oldᵀ B_t = b_old · b_tᵀ` (`[r_old, r]`, the overlap of the output column spaces).
//! A sum over several old branches equals the penalty against their concatenation
//! (`A_old = [A_1; A_2; …]`), so old factors can be passed one per task or pre-concatenated.
//!
//! Old factors enter the penalty as they are: freeze them ([`LoraBranch::freeze`]) so that
//! only the new branch moves, as in the public code.

use burn::tensor::{Tensor, backend::Backend};

use crate::error::{AdapterError, Result};
use crate::linear::AdaptedLinear;
use crate::lora::LoraBranch;

/// Which factor O-LoRA's orthogonality penalty constrains.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum OloraPenaltySide {
    /// `Σ|A_old A_tᵀ|` on the down-projections (row spaces in PyTorch layout) — the public
    /// code's form, which produced the published numbers. Default.
    #[default]
    DownA,
    /// `Σ|B_oldᵀ B_t|` on the up-projections (column spaces) — the paper text's form.
    UpB,
}

/// `Σ_{j,k} |(A_old A_tᵀ)_{jk}| = Σ_i Σ |a_iᵀ · a_t|` (scalar `[1]`), with the old
/// down-projections `old_a[i]: [d_in, r_i]` and the new one `new_a: [d_in, r]` (burn layout).
/// Zero when there are no old factors.
///
/// Errors: an old factor whose `d_in` differs from the new one's.
pub fn olora_orthogonality<B: Backend>(old_a: &[Tensor<B, 2>], new_a: &Tensor<B, 2>) -> Result<Tensor<B, 1>> {
    const OP: &str = "olora_orthogonality";
    let d_in = new_a.dims()[0];
    let mut total = Tensor::zeros([1], &new_a.device());
    for old in old_a {
        if old.dims()[0] != d_in {
            return Err(AdapterError::Shape { op: OP, what: "old down-projections must be [d_in, r_i] with the new one's d_in", expected: format!("[{d_in}, r_i]"), got: old.dims().to_vec() });
        }
        total = total + old.clone().transpose().matmul(new_a.clone()).abs().sum();
    }
    Ok(total)
}

/// `Σ_{j,k} |(B_oldᵀ B_t)_{jk}| = Σ_i Σ |b_i · b_tᵀ|` (scalar `[1]`), with the old
/// up-projections `old_b[i]: [r_i, d_out]` and the new one `new_b: [r, d_out]` (burn layout):
/// the paper text's variant. Zero when there are no old factors.
///
/// Errors: an old factor whose `d_out` differs from the new one's.
pub fn olora_orthogonality_up<B: Backend>(old_b: &[Tensor<B, 2>], new_b: &Tensor<B, 2>) -> Result<Tensor<B, 1>> {
    const OP: &str = "olora_orthogonality_up";
    let d_out = new_b.dims()[1];
    let mut total = Tensor::zeros([1], &new_b.device());
    for old in old_b {
        if old.dims()[1] != d_out {
            return Err(AdapterError::Shape { op: OP, what: "old up-projections must be [r_i, d_out] with the new one's d_out", expected: format!("[r_i, {d_out}]"), got: old.dims().to_vec() });
        }
        total = total + old.clone().matmul(new_b.clone().transpose()).abs().sum();
    }
    Ok(total)
}

/// The orthogonality penalty of branch `new` against the branches `old`, on `side`.
///
/// Errors: factors whose widths differ.
pub fn olora_penalty<B: Backend>(old: &[LoraBranch<B>], new: &LoraBranch<B>, side: OloraPenaltySide) -> Result<Tensor<B, 1>> {
    match side {
        OloraPenaltySide::DownA => {
            let old_a: Vec<_> = old.iter().map(|b| b.a.val()).collect();
            olora_orthogonality(&old_a, &new.a.val())
        }
        OloraPenaltySide::UpB => {
            let old_b: Vec<_> = old.iter().map(|b| b.b.val()).collect();
            olora_orthogonality_up(&old_b, &new.b.val())
        }
    }
}

/// The orthogonality penalty of one layer: its last LoRA branch (the current task's) against
/// all earlier ones. Zero (`[1]`) with fewer than two branches. Sum it over layers for the loss.
///
/// Errors: factors whose widths differ.
pub fn olora_layer_penalty<B: Backend>(layer: &AdaptedLinear<B>, side: OloraPenaltySide) -> Result<Tensor<B, 1>> {
    match layer.lora.split_last() {
        Some((new, old)) if !old.is_empty() => olora_penalty(old, new, side),
        _ => Ok(Tensor::zeros([1], &layer.weight.device())),
    }
}

/// O-LoRA's L2 term `‖A‖_F + ‖B‖_F` (scalar `[1]`); pass the new branch's `a.val()`, `b.val()`.
/// Its gradient at a zero factor (B's initial value) is 0, as PyTorch's `torch.norm` gives.
pub fn olora_l2<B: Backend>(a: Tensor<B, 2>, b: Tensor<B, 2>) -> Tensor<B, 1> {
    frobenius_norm(a) + frobenius_norm(b)
}

/// `‖X‖_F` (scalar `[1]`) with gradient `X/‖X‖`, and 0 (not NaN) at `X = 0`.
///
/// Computed as `Σ(X ⊙ sg(X)) / sg(max(‖X‖, 1e-30))` (`sg` stops the gradient): the value is
/// exactly `‖X‖`, the gradient `sg(X)/‖X‖`; differentiating `sqrt` directly would give
/// `0·∞ = NaN` at zero.
pub fn frobenius_norm<B: Backend, const D: usize>(x: Tensor<B, D>) -> Tensor<B, 1> {
    let fixed = x.clone().detach().set_require_grad(false);
    let norm = fixed.clone().powf_scalar(2.0).sum().sqrt().clamp_min(1e-30);
    (x * fixed).sum() / norm
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lora::LoraConfig;
    use burn::backend::{Autodiff, NdArray};
    use burn::module::Param;
    use burn::tensor::{ElementConversion, TensorData};
    use strata_linalg::random::gaussian_vec;

    type Ad = Autodiff<NdArray<f32>>;

    fn mat(rows: usize, cols: usize, seed: u64) -> Tensor<Ad, 2> {
        Tensor::from_data(TensorData::new(gaussian_vec(rows * cols, seed), [rows, cols]), &Default::default())
    }

    fn scalar(t: Tensor<Ad, 1>) -> f64 {
        t.into_scalar().elem()
    }

    /// Central finite differences of `f` at `x` (entry by entry) against its autodiff gradient;
    /// returns `‖g_fd − g_ad‖ / ‖g_ad‖`.
    fn fd_rel_error(x: &Tensor<Ad, 2>, eps: f32, f: impl Fn(Tensor<Ad, 2>) -> Tensor<Ad, 1>) -> f64 {
        let leaf = x.clone().detach().require_grad();
        let grads = f(leaf.clone()).backward();
        let g: Vec<f32> = leaf.grad(&grads).unwrap().to_data().to_vec().unwrap();
        let [m, n] = x.dims();
        let base: Vec<f32> = x.to_data().to_vec().unwrap();
        let eval = |i: usize, h: f32| {
            let mut v = base.clone();
            v[i] += h;
            scalar(f(Tensor::from_data(TensorData::new(v, [m, n]), &x.device())))
        };
        let (mut num, mut den) = (0.0, 0.0);
        for (i, &gi) in g.iter().enumerate() {
            let fd = (eval(i, eps) - eval(i, -eps)) / (2.0 * eps as f64);
            num += (fd - gi as f64).powi(2);
            den += (gi as f64).powi(2);
        }
        (num / den).sqrt()
    }

    #[test]
    fn hand_example() {
        let device = Default::default();
        let old = Tensor::<Ad, 2>::from_floats([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]], &device);
        let new = Tensor::<Ad, 2>::from_floats([[1.0], [-2.0], [3.0]], &device);
        // A_old A_tᵀ = [1, −2]ᵀ → 3.
        assert_eq!(scalar(olora_orthogonality(std::slice::from_ref(&old), &new).unwrap()), 3.0);
        // Per-task blocks sum to the concatenated penalty.
        let (o1, o2) = (old.clone().slice([0..3, 0..1]), old.slice([0..3, 1..2]));
        assert_eq!(scalar(olora_orthogonality(&[o1, o2], &new).unwrap()), 3.0);
        assert_eq!(scalar(olora_orthogonality(&[], &new).unwrap()), 0.0);
        assert!(matches!(olora_orthogonality(&[mat(4, 2, 1)], &new), Err(AdapterError::Shape { .. })));
    }

    #[test]
    fn zero_for_orthogonal_factors() {
        // Q from a QR of a random 6×6 matrix: old = Q[:, 0..2], new = Q[:, 2..5].
        let (q, _) = strata_linalg::householder_qr_host(strata_linalg::host::to_host(&mat(6, 6, 7)).as_ref());
        let q = strata_linalg::host::from_host::<Ad>(q.as_ref(), &Default::default());
        let (old, new) = (q.clone().slice([0..6, 0..2]), q.slice([0..6, 2..5]));
        let p = scalar(olora_orthogonality(std::slice::from_ref(&old), &new).unwrap());
        assert!(p < 1e-5, "penalty {p}");
        // Up side: rows of b are the output directions.
        let p = scalar(olora_orthogonality_up(&[old.transpose()], &new.transpose()).unwrap());
        assert!(p < 1e-5, "penalty {p}");
    }

    #[test]
    fn gradient_matches_finite_differences() {
        let eps = 1e-3;
        let (old1, old2) = (mat(5, 2, 11), mat(5, 1, 12));
        let new = mat(5, 2, 13);
        // Stay away from the kink of |·|: every product entry well beyond what a step moves.
        let prods: Vec<f32> = Tensor::cat(vec![old1.clone(), old2.clone()], 1).transpose().matmul(new.clone()).to_data().to_vec().unwrap();
        assert!(prods.iter().all(|p| p.abs() > 0.05), "{prods:?}");
        let err = fd_rel_error(&new, eps, |a| olora_orthogonality(&[old1.clone(), old2.clone()], &a).unwrap());
        assert!(err < 1e-2, "down side rel error {err}");

        let (old_b, new_b) = (mat(2, 4, 21), mat(3, 4, 22));
        let prods: Vec<f32> = old_b.clone().matmul(new_b.clone().transpose()).to_data().to_vec().unwrap();
        assert!(prods.iter().all(|p| p.abs() > 0.05), "{prods:?}");
        let err = fd_rel_error(&new_b, eps, |b| olora_orthogonality_up(std::slice::from_ref(&old_b), &b).unwrap());
        assert!(err < 1e-2, "up side rel error {err}");

        let b = mat(2, 3, 31);
        let err = fd_rel_error(&new, eps, |a| olora_l2(a, b.clone()));
        assert!(err < 1e-2, "l2 rel error {err}");
    }

    #[test]
    fn l2_value_and_zero_gradient_at_zero() {
        let device = Default::default();
        let a = Tensor::<Ad, 2>::from_floats([[3.0, 0.0], [0.0, 4.0]], &device).require_grad();
        let b = Tensor::<Ad, 2>::zeros([2, 3], &device).require_grad();
        let l2 = olora_l2(a.clone(), b.clone());
        assert!((scalar(l2.clone()) - 5.0).abs() < 1e-6);
        let grads = l2.backward();
        let gb: Vec<f32> = b.grad(&grads).unwrap().to_data().to_vec().unwrap();
        assert!(gb.iter().all(|&g| g == 0.0), "{gb:?}");
        let ga: Vec<f32> = a.grad(&grads).unwrap().to_data().to_vec().unwrap();
        assert_eq!(ga, vec![0.6, 0.0, 0.0, 0.8]);
    }

    #[test]
    fn layer_penalty_trains_only_the_new_branch() {
        let device = Default::default();
        let mut lin = crate::AdaptedLinear::<Ad>::new(mat(5, 4, 1), None);
        lin.freeze_base();
        let cfg = LoraConfig::new().with_rank(2);
        assert_eq!(scalar(olora_layer_penalty(&lin, OloraPenaltySide::DownA).unwrap()), 0.0);
        lin.lora.push(cfg.init::<Ad>(5, 4, &device));
        lin.freeze_branches();
        let mut new = cfg.init::<Ad>(5, 4, &device);
        new.b = Param::from_tensor(mat(2, 4, 3));
        lin.lora.push(new);
        for side in [OloraPenaltySide::DownA, OloraPenaltySide::UpB] {
            let p = olora_layer_penalty(&lin, side).unwrap();
            let grads = p.backward();
            assert!(lin.lora[0].a.grad(&grads).is_none() && lin.lora[0].b.grad(&grads).is_none());
            let (ga, gb) = (lin.lora[1].a.grad(&grads), lin.lora[1].b.grad(&grads));
            match side {
                OloraPenaltySide::DownA => assert!(ga.is_some() && gb.is_none()),
                // The old branch's B is 0 (fresh init): the up-side penalty is 0 but still wired to b.
                OloraPenaltySide::UpB => assert!(ga.is_none() && gb.is_some()),
            }
        }
        assert_eq!(OloraPenaltySide::default(), OloraPenaltySide::DownA);
    }
}
