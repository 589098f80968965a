
use crate::common::*;
use proptest::prelude::*;
use strata_linalg::{LinalgError, QrPath, householder_qr_host, thin_qr};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    /// Q is orthonormal, QR reconstructs A, and span(Q) = span(A) (nalgebra oracle).
    #[test]
    fn thin_qr_is_orthonormal_and_reconstructs(m in 1usize..48, extra in 0usize..32, seed in any::<u64>()) {
        let n = m;
        let m = m + extra;
        let a = gaussian(m, n, seed);
        let qr = thin_qr(&tensor(&a)).unwrap();
        let q = dmatrix(&qr.q);
        let r = DMatrixExt::from_faer(&qr.r);
        prop_assert!(orthogonality_error(&q) < 1e-5, "‖QᵀQ − I‖ = {}", orthogonality_error(&q));
        prop_assert!(rel_err(&a, &(&q * &r)) < 1e-5, "‖A − QR‖/‖A‖ = {}", rel_err(&a, &(&q * &r)));
        prop_assert!(subspace_sin(&a, &q) < 1e-4);
    }
}

/// faer → nalgebra for the host R factor.
struct DMatrixExt;
impl DMatrixExt {
    fn from_faer(m: &strata_linalg::faer::Mat<f64>) -> nalgebra::DMatrix<f64> {
        nalgebra::DMatrix::from_fn(m.nrows(), m.ncols(), |i, j| m[(i, j)])
    }
}

#[test]
fn matches_householder_subspace_on_well_conditioned_input() {
    let a = gaussian(300, 40, 7);
    let dev = thin_qr(&tensor(&a)).unwrap();
    assert_eq!(dev.path, QrPath::CholeskyQr2);
    let fa = strata_linalg::faer::Mat::from_fn(300, 40, |i, j| a[(i, j)]);
    let (hq, _) = householder_qr_host(fa.as_ref());
    let hq = DMatrixExt::from_faer(&hq);
    let sin = subspace_sin(&hq, &dmatrix(&dev.q));
    assert!(sin < 1e-5, "subspace error vs Householder = {sin}");
}

#[test]
fn ill_conditioned_input_takes_the_shifted_path() {
    // κ(A) = 1e6: beyond CholeskyQR2 in f32 (u^{-1/2} ≈ 4e3), within shifted CholeskyQR3.
    let s: Vec<f64> = (0..20).map(|i| 10f64.powf(-6.0 * i as f64 / 19.0)).collect();
    let (a, _, _) = with_spectrum(200, 20, &s, 3);
    let qr = thin_qr(&tensor(&a)).unwrap();
    assert_ne!(qr.path, QrPath::CholeskyQr2);
    let q = dmatrix(&qr.q);
    assert!(orthogonality_error(&q) < 1e-4, "orthogonality {}", orthogonality_error(&q));
}

#[test]
fn rank_deficient_input_falls_back_and_stays_orthonormal() {
    let mut a = gaussian(50, 6, 11);
    let col = a.column(0).clone_owned();
    a.set_column(3, &col);
    let qr = thin_qr(&tensor(&a)).unwrap();
    let q = dmatrix(&qr.q);
    assert!(orthogonality_error(&q) < 1e-4, "path {:?}, orthogonality {}", qr.path, orthogonality_error(&q));
    // span(Q) still contains every column of A.
    let resid = &a - &q * (q.transpose() * &a);
    assert!(resid.norm() / a.norm() < 1e-4);
}

#[test]
fn rejects_wide_and_non_finite_input() {
    let wide = gaussian(3, 5, 1);
    assert!(matches!(thin_qr(&tensor(&wide)), Err(LinalgError::Shape { .. })));
    let mut bad = gaussian(6, 2, 1);
    bad[(4, 1)] = f64::NAN;
    match thin_qr(&tensor(&bad)) {
        Err(LinalgError::NonFinite { count, row, col, .. }) => assert_eq!((count, row, col), (1, 4, 1)),
        other => panic!("expected NonFinite, got {other:?}"),
    }
}
