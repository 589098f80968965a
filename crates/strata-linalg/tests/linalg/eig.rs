
use crate::common::*;
use proptest::prelude::*;
use strata_linalg::{LinalgError, RandomizedSvd, subspace_error, sym_eig, top_eigvecs};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    /// Eigenvalues match nalgebra's symmetric eigensolver; C V = V Λ; V orthonormal.
    #[test]
    fn sym_eig_matches_nalgebra(n in 1usize..40, seed in any::<u64>()) {
        let x = gaussian(n + 3, n, seed);
        let c = x.transpose() * &x;
        let eig = sym_eig(&tensor(&c)).unwrap();
        let mut oracle: Vec<f64> = c.clone().symmetric_eigen().eigenvalues.iter().copied().collect();
        oracle.sort_by(|a, b| b.total_cmp(a));
        for (v, o) in eig.values.iter().zip(&oracle) {
            prop_assert!((v - o).abs() <= 1e-5 * oracle[0].max(1.0), "λ {v} vs {o}");
        }
        prop_assert!(eig.values.windows(2).all(|w| w[0] >= w[1]), "not descending");
        let v = dmatrix(&eig.vectors);
        prop_assert!(orthogonality_error(&v) < 1e-5);
        let lambda = nalgebra::DMatrix::from_diagonal(&nalgebra::DVector::from_vec(eig.values.clone()));
        prop_assert!(rel_err(&(&c * &v), &(&v * lambda)) < 1e-5);
    }
}

#[test]
fn top_eigvecs_matches_full_decomposition() {
    let s: Vec<f64> = (0..64).map(|i| 0.8f64.powi(i)).collect();
    let (a, _, _) = with_spectrum(64, 64, &s, 12);
    let c = &a * a.transpose();
    let t = tensor(&c);
    let full = sym_eig(&t).unwrap();
    let top = top_eigvecs(&t, 6, &RandomizedSvd::default()).unwrap();
    for i in 0..6 {
        assert!((top.values[i] - full.values[i]).abs() < 1e-5, "λ_{i}");
    }
    let err = subspace_error(&full.vectors.clone().slice([0..64, 0..6]), &top.vectors).unwrap();
    assert!(err < 1e-3, "subspace error {err}");
}

#[test]
fn rejects_asymmetric_and_non_square() {
    let mut c = gaussian(5, 5, 3);
    c = &c * c.transpose();
    c[(0, 1)] += 1.0;
    let err = sym_eig(&tensor(&c)).unwrap_err();
    assert!(matches!(err, LinalgError::NotSymmetric { .. }), "{err}");
    assert!(matches!(sym_eig(&tensor(&gaussian(4, 3, 1))), Err(LinalgError::Shape { .. })));
    assert!(matches!(top_eigvecs(&tensor(&gaussian(4, 4, 1)), 5, &RandomizedSvd::default()), Err(LinalgError::KTooLarge { .. })));
}
