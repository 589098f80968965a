//! The initialisation constraint of a new task's gate: copy `W1`, `W2` of the previous gate and
//! point the key `k_t` away from every old gate output, so `cos(z_old, k_t) ≈ 0` and
//! `a_t(x_old) ≈ 0` from the first step.
//!
//! `k_t ∝ u₁`, the top left singular vector of `A = (I − M²M²ᵀ) C`, `C = Cov_t(z)` the second
//! moment of the current task's gate outputs. `A` is not symmetric; its left singular vectors
//! span its column space, which lies in the complement of span(M²), so `M²ᵀu₁ = 0` exactly in
//! exact arithmetic (and `u₁` is re-projected to remove rounding). This is what the public code
//! computes (`U[:, :1]` of `torch.linalg.svd`); `u₁` is the top eigenvector of `P C² P`
//! (`P = I − M²M²ᵀ`), i.e. the direction of the current task's `z` outside the old subspace
//! that carries the most energy, weighted by `C` once more than `P C P` would.

use burn::module::Param;
use burn::tensor::{ElementConversion, Tensor, backend::Backend};
use strata_linalg::{GpmBasis, RandomizedSvd, exact_svd, project_out_left};

use super::constrain::{set_param, untracked};
use super::error::{GateError, Result, check_dims};
use super::module::{GateModule, KEY_INIT_NORM};

/// `‖(I − M²M²ᵀ)C‖_F / ‖C‖_F` below which no free direction is left.
pub const FREE_DIRECTION_TOLERANCE: f64 = 1e-6;

/// How the top left singular vector of the `d×d` matrix `(I − M²M²ᵀ)C` is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySolver {
    /// Full SVD on the host in f64 (faer): exact, O(d³) — right for d up to ~1–2k.
    Exact,
    /// Randomized range finder with power iterations on the device (top-1 triplet).
    Randomized(RandomizedSvd),
}

impl KeySolver {
    /// [`KeySolver::Exact`] for `d ≤ 1024`, else [`KeySolver::Randomized`] with 10 extra
    /// columns, 4 power iterations, seed 0.
    pub fn for_dim(d: usize) -> Self {
        if d <= 1024 { Self::Exact } else { Self::Randomized(RandomizedSvd { oversample: 10, power_iters: 4, seed: 0 }) }
    }
}

/// The unit key direction `u₁ / ‖u₁‖`, `u₁` the top left singular vector of
/// `(I − MMᵀ)C` for `cov_z: d×d` and `m2` the old outputs' basis (`None`: empty, then `u₁` is
/// the top eigenvector of `C`). The sign is arbitrary (the gate value is even in it).
///
/// Errors: `cov_z` not `d×d` or `m2` with other than `d` rows; no free direction
/// ([`GateError::NoFreeDirection`]); linear-algebra failures (non-finite input, …).
pub fn orthogonal_key<B: Backend>(cov_z: &Tensor<B, 2>, m2: Option<&Tensor<B, 2>>, solver: KeySolver) -> Result<Tensor<B, 1>> {
    const OP: &str = "orthogonal_key";
    let [d, d2] = cov_z.dims();
    check_dims(OP, "cov_z must be square", &[d2], &[d])?;
    let rank = m2.map_or(0, |m| m.dims()[1]);
    if let Some(m) = m2 {
        check_dims(OP, "M² must have d rows", &m.dims()[..1], &[d])?;
    }
    let a = match m2 {
        Some(m) => project_out_left(cov_z, m)?,
        None => cov_z.clone(),
    };
    let norm = |t: &Tensor<B, 2>| -> f64 { t.clone().powf_scalar(2.0).sum().into_scalar().elem::<f64>().sqrt() };
    let (total, left) = (norm(cov_z), norm(&a));
    let residual = if total > 0.0 { left / total } else { 0.0 };
    if rank >= d || residual.is_nan() || residual <= FREE_DIRECTION_TOLERANCE {
        return Err(GateError::NoFreeDirection { op: OP, dim: d, rank, residual });
    }
    let svd = match solver {
        KeySolver::Exact => exact_svd(&a)?,
        KeySolver::Randomized(opts) => opts.compute(&a, 1)?,
    };
    let mut u = svd.u.narrow(1, 0, 1); // [d, 1]
    if let Some(m) = m2 {
        u = project_out_left(&u, m)?;
    }
    let u_norm = norm(&u);
    if u_norm.is_nan() || u_norm <= 0.0 {
        return Err(GateError::NoFreeDirection { op: OP, dim: d, rank, residual });
    }
    Ok((u / u_norm).reshape([d]))
}

impl<B: Backend> GateModule<B> {
    /// Sets the key to the direction of [`orthogonal_key`] (of `cov_z` outside `m2`), keeping
    /// the key's current norm. With an empty `m2` this is the public code's first-task key.
    pub fn init_key(&mut self, cov_z: &Tensor<B, 2>, m2: &GpmBasis, solver: KeySolver) -> Result<()> {
        let m = m2.to_tensor::<B>(&cov_z.device());
        let unit = orthogonal_key(cov_z, m.as_ref(), solver)?;
        let key_norm: f64 = self.key.val().powf_scalar(2.0).sum().sqrt().into_scalar().elem();
        set_param(&mut self.key, unit * key_norm);
        Ok(())
    }

    /// The gate of task t > 1: fresh (trainable, new parameter ids) copies of `prev`'s `W1`,
    /// `W2`, and the key `k_t = KEY_INIT_NORM · u₁` from [`orthogonal_key`] with
    /// `M² = memory.m2()` and [`KeySolver::for_dim`].
    ///
    /// `cov_z: d×d` is the second moment of the current task's gate outputs computed with the
    /// copied weights, i.e. `prev`'s `z` on task t's data (e.g. [`super::GateCollector`]'s `z`).
    ///
    /// Errors: `memory` of other widths than `prev`, `cov_z` not `d×d`, no free direction.
    pub fn init_from_previous(prev: &GateModule<B>, memory: &super::GateMemory, cov_z: &Tensor<B, 2>) -> Result<Self> {
        const OP: &str = "GateModule::init_from_previous";
        let (d, h) = (prev.dim(), prev.hidden());
        check_dims(OP, "memory widths [d, h] must match the gate", &[memory.dim(), memory.hidden()], &[d, h])?;
        check_dims(OP, "cov_z must be d×d", &cov_z.dims(), &[d, d])?;
        let m2 = memory.m2().to_tensor::<B>(&cov_z.device());
        let key = orthogonal_key(cov_z, m2.as_ref(), KeySolver::for_dim(d))? * KEY_INIT_NORM;
        let fresh = |t: Tensor<B, 2>| Param::from_tensor(untracked(t));
        Ok(Self { w1: fresh(prev.w1.val()), w2: fresh(prev.w2.val()), key: Param::from_tensor(untracked(key)), scale: prev.scale })
    }
}
