//! Thin QR factorisation `A = Q R` (`A: m×n`, `m ≥ n`, `QᵀQ = I_n`, `R` upper triangular).
//!
//! [`thin_qr`] runs CholeskyQR2 on the device: the Gram matrix `G = AᵀA` is formed with one
//! GEMM, factored `G = RᵀR` on the host in f64 (faer), and `Q = A R⁻¹` is one more GEMM;
//! a second pass restores orthogonality lost to `κ(A)²`. Input too ill-conditioned for
//! that (κ(A) ≳ u^{-1/2}) takes shifted CholeskyQR3 (Fukaya et al. 2020): the first
//! Cholesky is of `G + sI` with `s = 11(mn + n(n+1)) u ‖A‖²_F`. If Cholesky still breaks
//! down (rank-deficient input) the factorisation falls back to Householder QR on the host.

use burn::tensor::{ElementConversion, Tensor, backend::Backend};
use faer::{Mat, MatRef, Side};

use crate::error::{LinalgError, Result};
use crate::gemm::matmul;
use crate::host::{check_finite, check_nonempty, from_host, to_host, unit_roundoff};

/// A thin QR factorisation.
#[derive(Debug, Clone)]
pub struct ThinQr<B: Backend> {
    /// `m×n`, orthonormal columns spanning the columns of `A` (when `A` has full column rank).
    pub q: Tensor<B, 2>,
    /// `n×n` upper triangular, `A = Q R` (f64, on the host).
    pub r: Mat<f64>,
    /// Which algorithm produced it.
    pub path: QrPath,
}

/// The algorithm [`thin_qr`] ended up using.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QrPath {
    /// Two CholeskyQR passes on the device.
    CholeskyQr2,
    /// A shifted CholeskyQR pass then two plain ones (ill-conditioned input).
    ShiftedCholeskyQr3,
    /// Householder QR on the host (Cholesky broke down: rank-deficient input).
    HouseholderHost,
}

const OP: &str = "thin_qr";

/// One CholeskyQR pass: `Q = A R⁻¹` with `RᵀR = AᵀA (+ shift·I)`. `None` if Cholesky fails.
fn cholesky_qr_pass<B: Backend>(a: &Tensor<B, 2>, shift: f64) -> Option<(Tensor<B, 2>, Mat<f64>)> {
    let n = a.dims()[1];
    let gram = to_host(&matmul(a.clone().transpose(), a.clone()));
    // Symmetrise (the device GEMM need not be bitwise symmetric) and shift.
    let g = Mat::from_fn(n, n, |i, j| {
        0.5 * (gram[(i, j)] + gram[(j, i)]) + if i == j { shift } else { 0.0 }
    });
    let llt = g.llt(Side::Lower).ok()?;
    let l = llt.L();
    let diag_min = (0..n).map(|i| l[(i, i)]).fold(f64::INFINITY, f64::min);
    if !(diag_min > 0.0) {
        return None;
    }
    // R = Lᵀ; R⁻¹ = L⁻ᵀ: solve L Y = I, then R⁻¹ = Yᵀ.
    let mut y = Mat::<f64>::identity(n, n);
    l.solve_lower_triangular_in_place(y.as_mut());
    let r_inv = y.transpose().to_owned();
    if r_inv.col_iter().any(|c| c.iter().any(|v| !v.is_finite())) {
        return None;
    }
    let q = matmul(a.clone(), from_host::<B>(r_inv.as_ref(), &a.device()));
    Some((q, l.transpose().to_owned()))
}

/// Largest `L_ii / L_jj` of the Cholesky factor of `AᵀA`: a cheap lower bound on κ(A).
fn cholesky_condition_estimate(r: MatRef<'_, f64>) -> f64 {
    let d: Vec<f64> = (0..r.nrows()).map(|i| r[(i, i)].abs()).collect();
    let max = d.iter().copied().fold(0.0, f64::max);
    let min = d.iter().copied().fold(f64::INFINITY, f64::min);
    max / min
}

/// Thin QR of a tall matrix on the device (CholeskyQR2, shifted CholeskyQR3 fallback,
/// Householder fallback on the host). `a: m×n`, `m ≥ n ≥ 1`.
///
/// Errors: non-finite input, `m < n`, an empty matrix.
pub fn thin_qr<B: Backend>(a: &Tensor<B, 2>) -> Result<ThinQr<B>> {
    let [m, n] = check_nonempty(OP, "a", a)?;
    if m < n {
        return Err(LinalgError::Shape {
            op: OP,
            what: "a must be tall (rows ≥ cols)",
            expected: format!("m ≥ n = {n}"),
            got: vec![m, n],
        });
    }
    check_finite(OP, "a", a)?;
    let u = unit_roundoff(a.dtype());

    // First pass, plain; if κ(A) is beyond CholeskyQR2's reach, redo it shifted.
    let mut path = QrPath::CholeskyQr2;
    let first = match cholesky_qr_pass(a, 0.0) {
        Some((q, r)) if cholesky_condition_estimate(r.as_ref()) < 0.1 / u.sqrt() => Some((q, r)),
        _ => {
            path = QrPath::ShiftedCholeskyQr3;
            let fro2: f64 = a.clone().powf_scalar(2.0).sum().into_scalar().elem();
            let shift = 11.0 * ((m * n + n * (n + 1)) as f64) * u * fro2;
            cholesky_qr_pass(a, shift)
        }
    };
    let passes = if path == QrPath::CholeskyQr2 { 1 } else { 2 };
    let result = first.and_then(|(mut q, mut r)| {
        for _ in 0..passes {
            let (q2, r2) = cholesky_qr_pass(&q, 0.0)?;
            r = &r2 * &r;
            q = q2;
        }
        Some((q, r))
    });
    match result {
        Some((q, r)) => Ok(ThinQr { q, r, path }),
        None => {
            let (q, r) = householder_qr_host(to_host(a).as_ref());
            Ok(ThinQr { q: from_host(q.as_ref(), &a.device()), r, path: QrPath::HouseholderHost })
        }
    }
}

/// Householder thin QR on the host in f64 (faer): the reference the device path must match.
pub fn householder_qr_host(a: MatRef<'_, f64>) -> (Mat<f64>, Mat<f64>) {
    let qr = a.qr();
    (qr.compute_thin_Q(), qr.thin_R().to_owned())
}

