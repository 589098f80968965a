
use crate::common::*;
use nalgebra::DMatrix;
use strata_linalg::*;

#[test]
fn known_angles_in_three_dimensions() {
    let theta = 0.3f64;
    // span{e1, e2} vs span{e1, cos θ e2 + sin θ e3}: angles 0 and θ.
    let u = DMatrix::from_row_slice(3, 2, &[1.0, 0.0, 0.0, 1.0, 0.0, 0.0]);
    let v = DMatrix::from_row_slice(3, 2, &[1.0, 0.0, 0.0, theta.cos(), 0.0, theta.sin()]);
    let angles = principal_angles(&tensor(&u), &tensor(&v)).unwrap();
    assert!(angles[0].abs() < 1e-6, "{angles:?}");
    assert!((angles[1] - theta).abs() < 1e-6, "{angles:?}");
    assert!((subspace_error(&tensor(&u), &tensor(&v)).unwrap() - theta.sin()).abs() < 1e-6);
}

#[test]
fn small_angles_are_accurate() {
    let eps = 1e-4f64;
    let u = DMatrix::from_row_slice(2, 1, &[1.0, 0.0]);
    let v = DMatrix::from_row_slice(2, 1, &[eps.cos(), eps.sin()]);
    let a = principal_angles(&tensor(&u), &tensor(&v)).unwrap();
    assert!((a[0] - eps).abs() < 1e-6, "{a:?}");
}

#[test]
fn mismatched_rows_are_rejected() {
    let u = tensor(&orthonormal(4, 2, 1));
    let v = tensor(&orthonormal(5, 2, 1));
    assert!(matches!(principal_angles(&u, &v), Err(LinalgError::Shape { .. })));
}
