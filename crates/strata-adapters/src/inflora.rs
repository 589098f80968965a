//! InfLoRA's designed down-projection (Liang & Li 2024; used inside GainLoRA): a new task's
//! `A_t` whose rows are the top-r left singular vectors of `(I − M Mᵀ) C`, divided by √3, so
//! `A_t x_old ≈ 0` for inputs in the old tasks' subspace span(M). `A_t` is then frozen and only
//! `B_t` trains.
//!
//! Layout: the paper's `A_t ∈ R^{r×d_in}` acts on column inputs (`A_t x`); here the result is
//! burn's `a = A_tᵀ: [d_in, r]`, acting on row inputs (`x·a`), i.e. the singular vectors are
//! the *columns* of `a`. `C: [d_in, d_in]` is the layer's input covariance `(1/N) Σ x xᵀ` on
//! the new task ([`strata_linalg::CovarianceAccumulator`]) and `M: d_in×k` the GPM basis of old
//! inputs ([`GpmBasis`]); grow `M` with the task's inputs after training it.

use burn::tensor::{Tensor, backend::Backend};
use strata_linalg::faer::Mat;
use strata_linalg::host::{from_host, to_host};
use strata_linalg::{GpmBasis, LinalgError, exact_svd_host};

use crate::error::{AdapterError, Result};
use crate::lora::{LoraBranch, LoraConfig};

/// InfLoRA's scale of the designed rows: `A_t = Uᵣᵀ / √3` (the public code's constant).
pub const INFLORA_A_SCALE: f64 = 0.577_350_269_189_625_8; // 1/√3

/// `a = (I − M Mᵀ)·Uᵣ / √3: [d, r]`, `Uᵣ` the top-r left singular vectors of `(I − M Mᵀ) C`
/// (`basis = None` or empty: of `C`). Host f64: exact thin SVD, O(d³).
///
/// The columns of `a` are orthogonal with norm 1/√3 and orthogonal to span(M) (the final
/// projection removes the rounding left by an f32-stored `M`).
///
/// Errors: `cov` not square or non-finite; `basis` of another dimension; `rank` = 0 or > d;
/// [`LinalgError::RankDeficient`] when `(I − M Mᵀ) C` has fewer than `rank` singular values
/// above `10·√d·ε_f32·‖C‖_F` — the new task's inputs do not reach `rank` directions outside
/// the old subspace, and the remaining singular vectors would be arbitrary (possibly inside
/// span(M)).
pub fn design_inflora_a<B: Backend>(cov: &Tensor<B, 2>, basis: Option<&GpmBasis>, rank: usize) -> Result<Tensor<B, 2>> {
    const OP: &str = "design_inflora_a";
    let [d, d2] = cov.dims();
    if d != d2 || d == 0 {
        return Err(AdapterError::Shape { op: OP, what: "cov must be a non-empty square [d, d] covariance", expected: "[d, d]".into(), got: vec![d, d2] });
    }
    if rank == 0 || rank > d {
        return Err(AdapterError::InvalidArgument { op: OP, name: "rank", value: rank.to_string(), reason: "must lie in 1..=d" });
    }
    if let Some(m) = basis
        && m.dim() != d
    {
        return Err(AdapterError::Shape { op: OP, what: "basis must live in the covariance's dimension", expected: format!("dim {d}"), got: vec![m.dim(), m.rank()] });
    }
    let c = to_host(cov);
    let m = basis.filter(|m| !m.is_empty()).map(GpmBasis::to_host);
    let project_out = |x: Mat<f64>| -> Mat<f64> {
        match &m {
            Some(m) => {
                let coeff = m.transpose() * &x;
                &x - m * &coeff
            }
            None => x,
        }
    };
    let c_norm = c.norm_l2();
    let svd = exact_svd_host(project_out(c).as_ref())?;
    let tol = 10.0 * (d as f64).sqrt() * f64::from(f32::EPSILON);
    let ratio = if c_norm > 0.0 { svd.s[rank - 1] / c_norm } else { 0.0 };
    if ratio.is_nan() || ratio <= tol {
        let available = svd.s.iter().take_while(|&&s| c_norm > 0.0 && s / c_norm > tol).count();
        return Err(LinalgError::RankDeficient { op: OP, k: rank, rank: available, ratio, tol }.into());
    }
    let u_r = svd.u.as_ref().subcols(0, rank).to_owned();
    let a = project_out(u_r) * strata_linalg::faer::Scale(INFLORA_A_SCALE);
    Ok(from_host(a.as_ref(), &cov.device()))
}

/// InfLoRA's branch for a `d_in → d_out` layer: `a` designed by [`design_inflora_a`] with
/// `config.rank` and frozen, `b = 0` trainable, `s = α / r`. Use `config.dropout = 0` (as
/// GainLoRA does): dropout on the branch input moves old inputs out of span(M) in training.
///
/// Errors: those of [`design_inflora_a`].
pub fn inflora_branch<B: Backend>(config: &LoraConfig, cov: &Tensor<B, 2>, basis: Option<&GpmBasis>, d_out: usize) -> Result<LoraBranch<B>> {
    let a = design_inflora_a(cov, basis, config.rank)?;
    Ok(config.init_with_frozen_a(a, d_out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AdaptedLinear, AdapterContext};
    use burn::module::Param;
    use burn::tensor::{ElementConversion, TensorData};
    use strata_linalg::{householder_qr_host, subspace_error};

    use crate::test_util::{Ad, Plain, mat};

    fn fro<B: Backend, const D: usize>(t: Tensor<B, D>) -> f64 {
        let s: f64 = t.powf_scalar(2.0).sum().into_scalar().elem();
        s.sqrt()
    }

    fn orthogonal(d: usize, seed: u64) -> Mat<f64> {
        householder_qr_host(to_host(&mat::<Plain>(d, d, seed)).as_ref()).0
    }

    #[test]
    fn first_task_spans_top_covariance_directions() {
        let d = 12;
        let q = orthogonal(d, 3);
        // C = Q diag(12, 11, …, 1) Qᵀ.
        let c = Mat::from_fn(d, d, |i, j| (0..d).map(|k| q[(i, k)] * (d - k) as f64 * q[(j, k)]).sum::<f64>());
        let c = from_host::<Plain>(c.as_ref(), &Default::default());
        let a = design_inflora_a(&c, None, 3).unwrap();
        assert_eq!(a.dims(), [d, 3]);
        // aᵀa = I/3.
        let gram = a.clone().transpose().matmul(a.clone()) - Tensor::eye(3, &Default::default()) / 3.0;
        assert!(fro(gram) < 1e-6);
        let top = from_host::<Plain>(q.as_ref().subcols(0, 3), &Default::default());
        let err = subspace_error(&(a * 3f32.sqrt()), &top).unwrap();
        assert!(err < 1e-5, "subspace error {err}");
        // An empty basis is the same as none.
        let a0 = design_inflora_a(&c, Some(&GpmBasis::new(d)), 3).unwrap();
        assert!(subspace_error(&(a0 * 3f32.sqrt()), &top).unwrap() < 1e-5);
    }

    #[test]
    fn old_inputs_are_annihilated() {
        let (d, k, d_out, n) = (16, 5, 7, 200);
        let device = Default::default();
        let basis = GpmBasis::from_columns(&mat::<Ad>(d, k, 10)).unwrap();
        let m = basis.to_tensor::<Ad>(&device).unwrap();
        // Old inputs: rows in span(M). New inputs: generic, overlapping span(M).
        let x_old = mat::<Ad>(n, k, 11).matmul(m.transpose());
        let x_new = mat::<Ad>(n, d, 12);
        let cov = x_new.clone().transpose().matmul(x_new.clone()) / n as f64;

        let a = design_inflora_a(&cov, Some(&basis), 4).unwrap();
        let rel = fro(x_old.clone().matmul(a.clone())) / (fro(x_old.clone()) * fro(a.clone()));
        assert!(rel < 1e-4, "old-input response {rel}");
        let rel_new = fro(x_new.matmul(a.clone())) / (fro(x_old.clone()) * fro(a.clone()));
        assert!(rel_new > 1e-2, "new-input response {rel_new}");

        // The branch leaves the layer's output on old inputs unchanged.
        let mut lin = AdaptedLinear::new(mat::<Ad>(d, d_out, 13), None);
        // Training-mode dropout would move x_old out of span(M); GainLoRA trains with dropout 0.
        let cfg = LoraConfig::new().with_rank(4).with_dropout(0.0);
        let mut br = inflora_branch(&cfg, &cov, Some(&basis), d_out).unwrap();
        assert!(br.a.grad(&br.forward(x_old.clone().unsqueeze()).sum().backward()).is_none());
        br.b = Param::from_tensor(mat::<Ad>(4, d_out, 14));
        lin.lora.push(br.clone());
        let x3: Tensor<Ad, 3> = x_old.unsqueeze();
        let rel = fro(br.forward(x3.clone())) / fro(lin.forward_base(x3.clone()));
        assert!(rel < 1e-4, "branch / base on old inputs {rel}");
        let full = lin.forward(x3.clone(), &AdapterContext::none());
        assert!(fro(full - lin.forward_base(x3.clone())) / fro(lin.forward_base(x3)) < 1e-4);
    }

    #[test]
    fn bad_inputs_are_typed_errors() {
        let c = mat::<Plain>(4, 4, 1);
        assert!(matches!(design_inflora_a(&mat::<Plain>(4, 3, 1), None, 2), Err(AdapterError::Shape { .. })));
        assert!(matches!(design_inflora_a(&c, None, 0), Err(AdapterError::InvalidArgument { .. })));
        assert!(matches!(design_inflora_a(&c, None, 5), Err(AdapterError::InvalidArgument { .. })));
        assert!(matches!(design_inflora_a(&c, Some(&GpmBasis::new(5)), 2), Err(AdapterError::Shape { .. })));
        // A covariance inside span(M): nothing left to design from.
        let basis = GpmBasis::from_columns(&mat::<Plain>(4, 2, 2)).unwrap();
        let m = basis.to_tensor::<Plain>(&Default::default()).unwrap();
        let inside = m.clone().matmul(m.transpose());
        assert!(matches!(design_inflora_a(&inside, Some(&basis), 1), Err(AdapterError::Linalg(LinalgError::RankDeficient { rank: 0, .. }))));
        // A rank-2 covariance, rank 3 asked.
        assert!(matches!(design_inflora_a(&inside, None, 3), Err(AdapterError::Linalg(LinalgError::RankDeficient { rank: 2, .. }))));
        let mut nan = vec![0.0f32; 16];
        nan[5] = f32::NAN;
        let nan = Tensor::<Plain, 2>::from_data(TensorData::new(nan, [4, 4]), &Default::default());
        assert!(matches!(design_inflora_a(&nan, None, 1), Err(AdapterError::Linalg(LinalgError::NonFinite { .. }))));
    }
}
