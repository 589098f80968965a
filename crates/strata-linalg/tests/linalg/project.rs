
use burn::tensor::Tensor;
use crate::common::*;
use proptest::prelude::*;
use strata_linalg::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    /// out + onto = G; projecting twice changes nothing; Uᵀ·out = 0 (left) and out·V = 0 (right).
    #[test]
    fn projections_are_idempotent_and_orthogonal(d in 2usize..40, k in 0usize..10, n in 1usize..20, seed in any::<u64>()) {
        // k = 0 (an empty basis) only on the CPU: CUDA cannot launch kernels on zero-sized
        // tensors, so callers on the device keep empty bases off it (e.g. OSFT's `SvdPart`).
        let k = if cfg!(any(feature = "cuda", feature = "wgpu")) { k.clamp(1, d) } else { k.min(d) };
        let u_h = orthonormal(d, k.max(1), seed).columns(0, k).clone_owned();
        let (u, g_left, g_right) = (tensor(&u_h), tensor(&gaussian(d, n, seed ^ 1)), tensor(&gaussian(n, d, seed ^ 2)));

        let out = project_out_left(&g_left, &u).unwrap();
        let onto = project_onto_left(&g_left, &u).unwrap();
        prop_assert!(rel_err(&dmatrix(&g_left), &(dmatrix(&out) + dmatrix(&onto))) < 1e-5);
        let twice = project_out_left(&out, &u).unwrap();
        prop_assert!((dmatrix(&twice) - dmatrix(&out)).abs().max() < 1e-5);
        prop_assert!((u_h.transpose() * dmatrix(&out)).abs().max() < 1e-5);

        let out_r = project_out_right(&g_right, &u).unwrap();
        prop_assert!((dmatrix(&out_r) * &u_h).abs().max() < 1e-5);
        let onto_r = project_onto_right(&g_right, &u).unwrap();
        let onto_twice = project_onto_right(&onto_r, &u).unwrap();
        prop_assert!((dmatrix(&onto_twice) - dmatrix(&onto_r)).abs().max() < 1e-5);
    }
}

#[test]
fn both_sided_projection_annihilates_both_bases() {
    let (m, n) = (12, 9);
    let u_h = orthonormal(m, 3, 1);
    let v_h = orthonormal(n, 2, 2);
    let g = tensor(&gaussian(m, n, 3));
    let out = dmatrix(&project_out_both(&g, &tensor(&u_h), &tensor(&v_h)).unwrap());
    assert!((u_h.transpose() * &out).abs().max() < 1e-5);
    assert!((&out * &v_h).abs().max() < 1e-5);
    let onto = dmatrix(&project_onto_both(&g, &tensor(&u_h), &tensor(&v_h)).unwrap());
    let expect = &u_h * u_h.transpose() * dmatrix(&g) * &v_h * v_h.transpose();
    assert!(rel_err(&expect, &onto) < 1e-5);
}

#[test]
fn empty_basis_is_the_zero_subspace_and_shapes_are_checked() {
    let g = tensor(&gaussian(5, 4, 1));
    // Zero-sized tensors exist on the CPU only (a CUDA launch with them fails).
    if !cfg!(any(feature = "cuda", feature = "wgpu")) {
        let empty = Tensor::<B, 2>::zeros([5, 0], &device());
        assert_eq!(dmatrix(&project_out_left(&g, &empty).unwrap()), dmatrix(&g));
        assert!(dmatrix(&project_onto_left(&g, &empty).unwrap()).abs().max() == 0.0);
    }
    let wrong = tensor(&orthonormal(6, 2, 1));
    let err = project_out_left(&g, &wrong).unwrap_err();
    assert!(matches!(err, LinalgError::Shape { op: "project_out_left", .. }), "{err}");
    assert!(project_out_right(&g, &wrong).is_err());
}
