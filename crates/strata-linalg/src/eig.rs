//! Symmetric eigendecomposition `C = V diag(λ) Vᵀ` (λ descending), for covariances.
//!
//! - [`sym_eig`]: all pairs, on the host in f64 (faer).
//! - [`top_eigvecs`]: the k largest pairs of a symmetric positive semi-definite matrix by a
//!   randomized range finder (device GEMMs, an l×l host eigenproblem).

use burn::tensor::{Tensor, backend::Backend};
use faer::{Mat, MatRef, Side};

use crate::error::{LinalgError, Result};
use crate::gemm::matmul;
use crate::host::{check_finite, check_nonempty, from_host, to_host};
use crate::qr::thin_qr;
use crate::random::gaussian;
use crate::svd::RandomizedSvd;

/// Eigenpairs of a symmetric matrix on a device.
#[derive(Debug, Clone)]
pub struct SymEig<B: Backend> {
    /// Eigenvalues, descending.
    pub values: Vec<f64>,
    /// `n×k` eigenvectors as columns, in the order of `values`.
    pub vectors: Tensor<B, 2>,
}

/// Relative asymmetry `max|C − Cᵀ| / max|C|` above which input is rejected as not symmetric.
pub const SYMMETRY_TOLERANCE: f64 = 1e-4;

/// Eigenpairs of a symmetric host matrix in f64, descending. Symmetrises `(C + Cᵀ)/2` after
/// checking the asymmetry is within [`SYMMETRY_TOLERANCE`].
pub fn sym_eig_host(op: &'static str, c: MatRef<'_, f64>) -> Result<(Vec<f64>, Mat<f64>)> {
    let n = c.nrows();
    if n == 0 || c.ncols() != n {
        return Err(LinalgError::Shape { op, what: "c must be square", expected: "n×n, n ≥ 1".into(), got: vec![c.nrows(), c.ncols()] });
    }
    crate::host::check_finite_host(op, "c", c)?;
    let mut scale: f64 = 0.0;
    let mut asym: f64 = 0.0;
    for i in 0..n {
        for j in 0..n {
            scale = scale.max(c[(i, j)].abs());
            asym = asym.max((c[(i, j)] - c[(j, i)]).abs());
        }
    }
    if asym > SYMMETRY_TOLERANCE * scale {
        return Err(LinalgError::NotSymmetric { op, asymmetry: asym, tol: SYMMETRY_TOLERANCE });
    }
    let sym = Mat::from_fn(n, n, |i, j| 0.5 * (c[(i, j)] + c[(j, i)]));
    let evd = sym
        .self_adjoint_eigen(Side::Lower)
        .map_err(|e| LinalgError::Factorization { op, reason: format!("{e:?}") })?;
    // faer returns ascending eigenvalues: reverse to descending.
    let s = evd.S().column_vector();
    let values: Vec<f64> = (0..n).rev().map(|i| s[i]).collect();
    let u = evd.U();
    let vectors = Mat::from_fn(n, n, |i, j| u[(i, n - 1 - j)]);
    Ok((values, vectors))
}

/// All eigenpairs of a symmetric matrix (host f64, faer), λ descending.
///
/// Errors: not square, non-finite, not symmetric within [`SYMMETRY_TOLERANCE`].
pub fn sym_eig<B: Backend>(c: &Tensor<B, 2>) -> Result<SymEig<B>> {
    const OP: &str = "sym_eig";
    check_nonempty(OP, "c", c)?;
    check_finite(OP, "c", c)?;
    let (values, vectors) = sym_eig_host(OP, to_host(c).as_ref())?;
    Ok(SymEig { values, vectors: from_host(vectors.as_ref(), &c.device()) })
}

/// The k largest eigenpairs of a symmetric positive semi-definite `c: n×n` (e.g. a covariance).
///
/// Subspace iteration from a Gaussian sketch: `Q = qr(CΩ)`, `power_iters` × `Q = qr(CQ)`,
/// then the Rayleigh–Ritz problem `QᵀCQ = Ũ diag(λ) Ũᵀ` on the host, `V = QŨ`.
/// Uses `opts.oversample`, `opts.power_iters` and `opts.seed`.
///
/// Errors: not square, non-finite, `k = 0` or `k > n`.
pub fn top_eigvecs<B: Backend>(c: &Tensor<B, 2>, k: usize, opts: &RandomizedSvd) -> Result<SymEig<B>> {
    const OP: &str = "top_eigvecs";
    let [n, n2] = check_nonempty(OP, "c", c)?;
    if n != n2 {
        return Err(LinalgError::Shape { op: OP, what: "c must be square", expected: "n×n".into(), got: vec![n, n2] });
    }
    if k == 0 || k > n {
        return Err(LinalgError::KTooLarge { op: OP, k, max: n, rows: n, cols: n });
    }
    check_finite(OP, "c", c)?;
    let device = c.device();
    let l = (k + opts.oversample).min(n);
    let mut q = thin_qr(&matmul(c.clone(), gaussian::<B>(n, l, opts.seed, &device)))?.q;
    for _ in 0..opts.power_iters {
        q = thin_qr(&matmul(c.clone(), q))?.q;
    }
    let t = matmul(q.clone().transpose(), matmul(c.clone(), q.clone()));
    let (values, small) = sym_eig_host(OP, to_host(&t).as_ref())?;
    let vectors = matmul(q, from_host::<B>(small.as_ref().subcols(0, k), &device));
    Ok(SymEig { values: values[..k].to_vec(), vectors })
}
