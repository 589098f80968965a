//! Singular value decompositions `A ≈ U diag(σ) Vᵀ` (`A: m×n`, `U: m×k`, `V: n×k`, σ descending).
//!
//! - [`exact_svd`]: full thin SVD on the host in f64 (faer) — the reference, and the right
//!   tool for small matrices.
//! - [`randomized_svd`]: top-k triplets by the Halko–Martinsson–Tropp range finder with power
//!   iterations; every O(mnl) product runs on the device, only l×l work on the host.

use burn::tensor::{Tensor, backend::Backend};
use faer::{Mat, MatRef};

use crate::error::{LinalgError, Result};
use crate::gemm::matmul;
use crate::host::{check_finite, check_finite_host, check_nonempty, from_host, to_host, unit_roundoff};
use crate::qr::thin_qr;
use crate::random::gaussian;

/// A (possibly truncated) SVD on a device: `A ≈ U diag(s) Vᵀ`.
#[derive(Debug, Clone)]
pub struct Svd<B: Backend> {
    /// `m×k` left singular vectors (orthonormal columns).
    pub u: Tensor<B, 2>,
    /// `k` singular values, descending, non-negative.
    pub s: Vec<f64>,
    /// `n×k` right singular vectors (orthonormal columns).
    pub v: Tensor<B, 2>,
}

impl<B: Backend> Svd<B> {
    /// `U diag(s) Vᵀ`, the rank-k reconstruction (`m×n`).
    pub fn reconstruct(&self) -> Tensor<B, 2> {
        let device = self.u.device();
        let s = Tensor::<B, 1>::from_floats(self.s.iter().map(|&x| x as f32).collect::<Vec<_>>().as_slice(), &device);
        matmul(self.u.clone() * s.unsqueeze_dim(0), self.v.clone().transpose())
    }

    /// Number of triplets `k`.
    pub fn rank(&self) -> usize {
        self.s.len()
    }
}

/// A thin SVD on the host in f64: `A = U diag(s) Vᵀ`.
#[derive(Debug, Clone)]
pub struct HostSvd {
    /// `m×p` left singular vectors, `p = min(m, n)`.
    pub u: Mat<f64>,
    /// `p` singular values, descending.
    pub s: Vec<f64>,
    /// `n×p` right singular vectors.
    pub v: Mat<f64>,
}

/// Thin SVD of a host matrix in f64 (faer). Errors on non-finite input or non-convergence.
pub fn exact_svd_host(a: MatRef<'_, f64>) -> Result<HostSvd> {
    const OP: &str = "exact_svd";
    check_finite_host(OP, "a", a)?;
    if a.nrows() == 0 || a.ncols() == 0 {
        return Err(LinalgError::Shape { op: OP, what: "a", expected: "a non-empty matrix".into(), got: vec![a.nrows(), a.ncols()] });
    }
    let svd = a.thin_svd().map_err(|e| LinalgError::Factorization { op: OP, reason: format!("{e:?}") })?;
    let s = svd.S().column_vector().iter().copied().collect();
    Ok(HostSvd { u: svd.U().to_owned(), s, v: svd.V().to_owned() })
}

/// Full thin SVD of a device matrix, computed on the host in f64 (faer) and uploaded back.
/// Cost O(mn·min(m,n)) on the host: use [`randomized_svd`] for top-k of large matrices.
pub fn exact_svd<B: Backend>(a: &Tensor<B, 2>) -> Result<Svd<B>> {
    check_nonempty("exact_svd", "a", a)?;
    check_finite("exact_svd", "a", a)?;
    let h = exact_svd_host(to_host(a).as_ref())?;
    let device = a.device();
    Ok(Svd { u: from_host(h.u.as_ref(), &device), s: h.s, v: from_host(h.v.as_ref(), &device) })
}

/// Settings of the randomized SVD (Halko, Martinsson & Tropp 2011, Alg. 4.4 + 5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RandomizedSvd {
    /// Extra sketch columns beyond k (default 10).
    pub oversample: usize,
    /// Power (subspace) iterations, each re-orthonormalised (default 2).
    pub power_iters: usize,
    /// Seed of the Gaussian test matrix (default 0).
    pub seed: u64,
}

impl Default for RandomizedSvd {
    fn default() -> Self {
        Self { oversample: 10, power_iters: 2, seed: 0 }
    }
}

/// Top-k singular triplets of `a` by the randomized range finder (default seed 0).
/// See [`RandomizedSvd::compute`].
pub fn randomized_svd<B: Backend>(a: &Tensor<B, 2>, k: usize, oversample: usize, power_iters: usize) -> Result<Svd<B>> {
    RandomizedSvd { oversample, power_iters, ..Default::default() }.compute(a, k)
}

impl RandomizedSvd {
    /// Top-k singular triplets of `a: m×n`.
    ///
    /// Sketch `Y = AΩ` (`Ω: n×l` Gaussian, `l = min(k + oversample, m, n)`), `Q = qr(Y)`,
    /// `power_iters` × { `Q = qr(A qr(AᵀQ))` }; then `AᵀQ = Q₂R₂` (device QR) and the small
    /// SVD `R₂ᵀ = Ũ Σ Ṽᵀ` (host, l×l) give `U = QŨ`, `V = Q₂Ṽ`.
    ///
    /// Errors: non-finite input, `k = 0`, `k > min(m, n)`, or `k` above the numerical rank
    /// (σ_k ≤ max(m, n)·u·σ_1, u the unit roundoff of the dtype).
    pub fn compute<B: Backend>(&self, a: &Tensor<B, 2>, k: usize) -> Result<Svd<B>> {
        const OP: &str = "randomized_svd";
        let [m, n] = check_nonempty(OP, "a", a)?;
        if k == 0 {
            return Err(LinalgError::InvalidArgument { op: OP, name: "k", value: "0".into(), reason: "must be at least 1" });
        }
        if k > m.min(n) {
            return Err(LinalgError::KTooLarge { op: OP, k, max: m.min(n), rows: m, cols: n });
        }
        check_finite(OP, "a", a)?;
        let device = a.device();
        let l = (k + self.oversample).min(m).min(n);
        let at = a.clone().transpose();

        let omega = gaussian::<B>(n, l, self.seed, &device);
        let mut q = thin_qr(&matmul(a.clone(), omega))?.q;
        for _ in 0..self.power_iters {
            let z = thin_qr(&matmul(at.clone(), q))?.q;
            q = thin_qr(&matmul(a.clone(), z))?.q;
        }
        // B = QᵀA (l×n); factor Bᵀ = Q₂ R₂ on the device so the host only sees l×l.
        let bt_qr = thin_qr(&matmul(at, q.clone()))?;
        let small = exact_svd_host(bt_qr.r.transpose())?; // R₂ᵀ = Ũ Σ Ṽᵀ
        let s: Vec<f64> = small.s[..k].to_vec();

        let tol = (m.max(n) as f64) * unit_roundoff(a.dtype());
        let ratio = if s[0] > 0.0 { s[k - 1] / s[0] } else { 0.0 };
        if ratio <= tol {
            let rank = small.s.iter().take_while(|&&x| s[0] > 0.0 && x / s[0] > tol).count();
            return Err(LinalgError::RankDeficient { op: OP, k, rank, ratio, tol });
        }
        let u_small = from_host::<B>(small.u.as_ref().subcols(0, k), &device);
        let v_small = from_host::<B>(small.v.as_ref().subcols(0, k), &device);
        Ok(Svd { u: matmul(q, u_small), s, v: matmul(bt_qr.q, v_small) })
    }
}
