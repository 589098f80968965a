
use crate::common::*;
use proptest::prelude::*;
use strata_linalg::*;

/// Energy fraction of `r` captured by the first `k` columns of `m`.
fn captured(m: &nalgebra::DMatrix<f64>, k: usize, r: &nalgebra::DMatrix<f64>) -> f64 {
    let mk = m.columns(0, k);
    (mk.transpose() * r).norm_squared() / r.norm_squared()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    /// After an update the basis is orthonormal, captures ≥ ε of the energy, and is minimal:
    /// one column fewer would capture < ε (nalgebra SVD oracle for the residual spectrum).
    #[test]
    fn energy_criterion_holds_and_is_minimal(d in 4usize..30, n in 2usize..40, seed in any::<u64>(), eps in 0.5f64..0.99) {
        let s: Vec<f64> = (0..d.min(n)).map(|i| 0.6f64.powi(i as i32)).collect();
        let (r1, _, _) = with_spectrum(d, n, &s, seed);
        let (r2, _, _) = with_spectrum(d, n, &s, seed ^ 77);
        let mut basis = GpmBasis::new(d);
        basis.update(&tensor(&r1), eps).unwrap();
        let before = basis.rank();
        let upd = basis.update(&tensor(&r2), eps).unwrap();
        let m = basis.to_host();
        let m = nalgebra::DMatrix::from_fn(m.nrows(), m.ncols(), |i, j| m[(i, j)]);
        prop_assert!(orthogonality_error(&m) < 1e-5);
        prop_assert_eq!(upd.rank, before + upd.added);
        let c = captured(&m, m.ncols(), &r2);
        prop_assert!(c >= eps - 1e-4, "captured {c} < ε {eps}");
        prop_assert!((c - upd.captured_after).abs() < 1e-3);
        if upd.added > 0 {
            // Minimality: the residual's top (added − 1) directions are not enough.
            let fewer = captured(&m, before + upd.added - 1, &r2);
            prop_assert!(fewer < eps + 1e-4, "one column fewer already captures {fewer} ≥ ε {eps}");
        }
    }
}

#[test]
fn old_inputs_fully_inside_basis_add_nothing_and_rank_is_capped() {
    let d = 6;
    let r = gaussian(d, 3, 1);
    let mut basis = GpmBasis::new(d);
    assert!(basis.to_tensor::<B>(&device()).is_none(), "an empty basis has no tensor");
    let first = basis.update(&tensor(&r), 0.999).unwrap();
    assert!(first.added >= 1 && first.added <= 3);
    let again = basis.update(&tensor(&r), 0.999).unwrap();
    assert_eq!(again.added, 0, "inputs already in span must add nothing");
    // Full-rank data with ε = 1 fills the space and stops at d.
    basis.update(&tensor(&gaussian(d, 50, 2)), 1.0).unwrap();
    assert_eq!(basis.rank(), d);
    assert!(basis.is_full());
    assert_eq!(basis.update(&tensor(&gaussian(d, 5, 3)), 1.0).unwrap().added, 0);
}

#[test]
fn covariance_representation_and_wide_representation_agree_in_span() {
    // With a rank-3 source, both forms find the same 3-dim subspace.
    let (x, u, _) = with_spectrum(10, 40, &[5.0, 2.0, 1.0], 4);
    let cov = &x * x.transpose() / 40.0;
    let mut from_x = GpmBasis::new(10);
    let mut from_c = GpmBasis::new(10);
    from_x.update(&tensor(&x), 0.9999).unwrap();
    from_c.update(&tensor(&cov), 0.9999).unwrap();
    assert_eq!(from_x.rank(), 3);
    assert_eq!(from_c.rank(), 3);
    let bx = from_x.to_tensor::<B>(&device()).unwrap();
    let bc = from_c.to_tensor::<B>(&device()).unwrap();
    assert!(subspace_error(&bx, &bc).unwrap() < 1e-3);
    assert!(subspace_sin(&u, &dmatrix(&bx)) < 1e-3);
}

#[test]
fn threshold_schedule_and_serialisation() {
    assert_eq!(gpm_threshold(0.995, 0, 4), 0.995);
    assert!((gpm_threshold(0.995, 2, 4) - 0.9975).abs() < 1e-12);
    assert!((gpm_threshold(DEFAULT_GPM_EPSILON, 4, 4) - 1.0).abs() < 1e-12);

    let mut basis = GpmBasis::new(8);
    basis.update(&tensor(&gaussian(8, 3, 5)), 0.99).unwrap();
    let json = serde_json::to_string(&basis).unwrap();
    let back: GpmBasis = serde_json::from_str(&json).unwrap();
    assert_eq!(back, basis);
}

#[test]
fn bad_input_is_a_typed_error() {
    let mut basis = GpmBasis::new(5);
    assert!(matches!(basis.update(&tensor(&gaussian(4, 3, 1)), 0.9), Err(LinalgError::Shape { .. })));
    assert!(matches!(basis.update(&tensor(&gaussian(5, 3, 1)), 1.5), Err(LinalgError::InvalidArgument { .. })));
    let mut nan = gaussian(5, 3, 1);
    nan[(2, 2)] = f64::NAN;
    assert!(matches!(basis.update(&tensor(&nan), 0.9), Err(LinalgError::NonFinite { .. })));
}
