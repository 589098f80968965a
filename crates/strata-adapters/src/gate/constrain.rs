//! The update constraint applied after every optimizer step: the change of each gate parameter
//! is made orthogonal to the old tasks' subspaces, so old inputs keep their gate values.
//!
//! In the papers' layout (`W1 ∈ R^{h×d}`, `W2 ∈ R^{d×h}`, `k ∈ R^{1×d}`) with `Δ = θ − θ_before`:
//! `W1 ← W1_before + Δ_{W1}(I − M⁰M⁰ᵀ)`, `W2 ← W2_before + Δ_{W2}(I − M¹M¹ᵀ)`,
//! `k ← k_before + Δ_k(I − M²M²ᵀ)`, then each row is rescaled to the norm it had after the
//! unprojected step. In burn's layout (`w1 = W1ᵀ: [d, h]`, `w2 = W2ᵀ: [h, d]`, `k` a `[d, 1]`
//! column) the same rule reads `Δ − M(MᵀΔ)` and "row" becomes "column", for all three
//! parameters alike. No `d×d` projector is formed: cost O(d·k·h) per parameter.

use burn::module::Param;
use burn::tensor::{Tensor, backend::Backend};
use strata_linalg::project_out_left;

use super::error::{Result, check_dims};
use super::memory::GateBases;
use super::module::GateModule;

/// Norms below this count as zero when rescaling columns.
const NORM_FLOOR: f64 = 1e-30;

/// A gate's parameter values before an optimizer step (detached copies).
#[derive(Debug, Clone)]
pub struct GateSnapshot<B: Backend> {
    /// `w1: [d, h]`.
    pub w1: Tensor<B, 2>,
    /// `w2: [h, d]`.
    pub w2: Tensor<B, 2>,
    /// `key: [d]`.
    pub key: Tensor<B, 1>,
}

/// Options of [`constrain_update_with`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UpdateConstraint {
    /// Rescale each row (burn: column) to its norm after the unprojected step, as the paper's
    /// code does (default `true`). Rescaling keeps the weight norms growing as unconstrained
    /// training would but is not itself orthogonal to the old subspaces (it scales the old
    /// pre-activations), so old gate values drift slightly more than with `false`.
    pub rescale_rows: bool,
}

impl Default for UpdateConstraint {
    fn default() -> Self {
        Self { rescale_rows: true }
    }
}

impl<B: Backend> GateModule<B> {
    /// Detached copies of the parameters, taken before an optimizer step.
    pub fn snapshot(&self) -> GateSnapshot<B> {
        GateSnapshot { w1: untracked(self.w1.val()), w2: untracked(self.w2.val()), key: untracked(self.key.val()) }
    }
}

/// The update constraint with default options (rows rescaled); see [`constrain_update_with`].
pub fn constrain_update<B: Backend>(before: &GateSnapshot<B>, gate: &mut GateModule<B>, bases: &GateBases<B>) -> Result<()> {
    constrain_update_with(before, gate, bases, UpdateConstraint::default())
}

/// Replaces `gate`'s parameters by `before + (Δ − M(MᵀΔ))` per parameter (module docs), `M` the
/// matching basis of `bases` (`M⁰` for `w1`, `M¹` for `w2`, `M²` for the key); a parameter whose
/// basis is empty is left as the optimizer made it. Parameter ids and `require_grad` flags are
/// kept, so optimizer state stays attached.
///
/// Errors: `before` or a basis whose shape does not fit the gate.
pub fn constrain_update_with<B: Backend>(before: &GateSnapshot<B>, gate: &mut GateModule<B>, bases: &GateBases<B>, options: UpdateConstraint) -> Result<()> {
    const OP: &str = "constrain_update";
    let (d, h) = (gate.dim(), gate.hidden());
    check_dims(OP, "before.w1 must match the gate's w1", &before.w1.dims(), &[d, h])?;
    check_dims(OP, "before.w2 must match the gate's w2", &before.w2.dims(), &[h, d])?;
    check_dims(OP, "before.key must match the gate's key", &before.key.dims(), &[d])?;
    for (what, basis, rows) in [("M⁰ must have d rows", &bases.m0, d), ("M¹ must have h rows", &bases.m1, h), ("M² must have d rows", &bases.m2, d)] {
        if let Some(m) = basis {
            check_dims(OP, what, &m.dims()[..1], &[rows])?;
        }
    }
    let rescale = options.rescale_rows;
    if let Some(m0) = &bases.m0 {
        let w1 = constrain_columns(before.w1.clone(), untracked(gate.w1.val()), m0, rescale)?;
        set_param(&mut gate.w1, w1);
    }
    if let Some(m1) = &bases.m1 {
        let w2 = constrain_columns(before.w2.clone(), untracked(gate.w2.val()), m1, rescale)?;
        set_param(&mut gate.w2, w2);
    }
    if let Some(m2) = &bases.m2 {
        let column = |k: Tensor<B, 1>| k.unsqueeze_dim::<2>(1);
        let key = constrain_columns(column(before.key.clone()), column(untracked(gate.key.val())), m2, rescale)?;
        set_param(&mut gate.key, key.reshape([d]));
    }
    Ok(())
}

/// `before + (Δ − M(MᵀΔ))`, `Δ = after − before`, each column then rescaled to its norm in
/// `after` when `rescale`.
fn constrain_columns<B: Backend>(before: Tensor<B, 2>, after: Tensor<B, 2>, m: &Tensor<B, 2>, rescale: bool) -> Result<Tensor<B, 2>> {
    let delta = after.clone() - before.clone();
    let projected = before + project_out_left(&delta, m)?;
    if !rescale {
        return Ok(projected);
    }
    let target = after.powf_scalar(2.0).sum_dim(0).sqrt(); // [1, n]
    let current = projected.clone().powf_scalar(2.0).sum_dim(0).sqrt().clamp_min(NORM_FLOOR);
    Ok(projected * (target / current))
}

/// Sets a parameter's value, keeping its id and `require_grad` flag.
pub(crate) fn set_param<B: Backend, const D: usize>(param: &mut Param<Tensor<B, D>>, value: Tensor<B, D>) {
    let require_grad = param.is_require_grad();
    *param = param.clone().map(|_| untracked(value).set_require_grad(require_grad));
}

/// The value outside any autodiff graph (burn's `detach` keeps a leaf's `require_grad`;
/// this drops it too). A no-op on plain backends.
pub(crate) fn untracked<B: Backend, const D: usize>(t: Tensor<B, D>) -> Tensor<B, D> {
    t.detach().set_require_grad(false)
}
