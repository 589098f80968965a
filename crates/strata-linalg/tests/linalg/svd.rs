
use crate::common::*;
use proptest::prelude::*;
use strata_linalg::{LinalgError, RandomizedSvd, exact_svd, randomized_svd, subspace_error};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    /// Singular values match nalgebra's SVD; U diag(s) Vᵀ reconstructs A; U, V orthonormal.
    #[test]
    fn exact_svd_matches_nalgebra(m in 1usize..40, n in 1usize..40, seed in any::<u64>()) {
        let a = gaussian(m, n, seed);
        let svd = exact_svd(&tensor(&a)).unwrap();
        let mut oracle: Vec<f64> = a.singular_values().iter().copied().collect();
        oracle.sort_by(|x, y| y.total_cmp(x));
        prop_assert_eq!(svd.s.len(), oracle.len());
        for (s, o) in svd.s.iter().zip(&oracle) {
            prop_assert!((s - o).abs() <= 1e-5 * oracle[0].max(1.0), "σ {s} vs {o}");
        }
        prop_assert!(rel_err(&a, &dmatrix(&svd.reconstruct())) < 1e-5);
        prop_assert!(orthogonality_error(&dmatrix(&svd.u)) < 1e-5);
        prop_assert!(orthogonality_error(&dmatrix(&svd.v)) < 1e-5);
    }

    /// On a decaying spectrum the randomized top-k subspace matches the exact one.
    #[test]
    fn randomized_svd_recovers_top_subspace(m in 30usize..80, n in 30usize..80, k in 1usize..8, seed in any::<u64>()) {
        let p = m.min(n);
        let s: Vec<f64> = (0..p).map(|i| 0.7f64.powi(i as i32)).collect();
        let (a, u, v) = with_spectrum(m, n, &s, seed);
        let svd = RandomizedSvd { seed, ..Default::default() }.compute(&tensor(&a), k).unwrap();
        let u_k = u.columns(0, k).clone_owned();
        let v_k = v.columns(0, k).clone_owned();
        prop_assert!(subspace_sin(&u_k, &dmatrix(&svd.u)) < 1e-3, "U error {}", subspace_sin(&u_k, &dmatrix(&svd.u)));
        prop_assert!(subspace_sin(&v_k, &dmatrix(&svd.v)) < 1e-3);
        for i in 0..k {
            prop_assert!((svd.s[i] - s[i]).abs() < 1e-4, "σ_{i}: {} vs {}", svd.s[i], s[i]);
        }
    }
}

#[test]
fn randomized_svd_agrees_with_exact_svd() {
    let s: Vec<f64> = (0..120).map(|i| 1.0 / (1.0 + i as f64).powi(2)).collect();
    let (a, _, _) = with_spectrum(160, 120, &s, 5);
    let t = tensor(&a);
    let exact = exact_svd(&t).unwrap();
    let approx = randomized_svd(&t, 10, 10, 3).unwrap();
    let u10 = exact.u.clone().slice([0..160, 0..10]);
    let err = subspace_error(&u10, &approx.u).unwrap();
    assert!(err < 1e-3, "subspace error {err}");
}

#[test]
fn randomized_svd_is_deterministic_for_a_seed() {
    let a = tensor(&gaussian(40, 30, 2));
    let x = RandomizedSvd { seed: 9, ..Default::default() }.compute(&a, 5).unwrap();
    let y = RandomizedSvd { seed: 9, ..Default::default() }.compute(&a, 5).unwrap();
    assert_eq!(x.s, y.s);
    assert_eq!(dmatrix(&x.u), dmatrix(&y.u));
}

#[test]
fn typed_errors_for_bad_k_and_bad_values() {
    let a = tensor(&gaussian(10, 6, 1));
    assert!(matches!(randomized_svd(&a, 7, 5, 1), Err(LinalgError::KTooLarge { k: 7, max: 6, .. })));
    assert!(matches!(randomized_svd(&a, 0, 5, 1), Err(LinalgError::InvalidArgument { .. })));

    // Rank 2: asking for 4 components must fail with the rank named.
    let (low, _, _) = with_spectrum(30, 20, &[3.0, 1.0], 4);
    match randomized_svd(&tensor(&low), 4, 4, 2) {
        Err(LinalgError::RankDeficient { k: 4, rank, .. }) => assert_eq!(rank, 2),
        other => panic!("expected RankDeficient, got {other:?}"),
    }
    let mut nan = gaussian(5, 5, 1);
    nan[(0, 0)] = f64::INFINITY;
    assert!(matches!(exact_svd(&tensor(&nan)), Err(LinalgError::NonFinite { .. })));
    assert!(matches!(randomized_svd(&tensor(&nan), 2, 2, 1), Err(LinalgError::NonFinite { .. })));
    let msg = randomized_svd(&a, 7, 5, 1).unwrap_err().to_string();
    assert!(msg.contains("randomized_svd") && msg.contains("k = 7"), "{msg}");
}
