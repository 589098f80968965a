
use burn::tensor::{Tensor, TensorData};
use crate::common::*;
use strata_linalg::*;

#[test]
fn streaming_covariance_equals_batch_formula() {
    let x = gaussian(37, 6, 1);
    let mut acc = CovarianceAccumulator::<B>::new(6, &device());
    acc.update(&tensor(&x.rows(0, 20).clone_owned())).unwrap();
    acc.update(&tensor(&x.rows(20, 17).clone_owned())).unwrap();
    assert_eq!(acc.count(), 37);
    let expect = x.transpose() * &x / 37.0;
    assert!(rel_err(&expect, &dmatrix(&acc.finish().unwrap())) < 1e-5);
}

#[test]
fn masked_update_ignores_padding() {
    let x = gaussian(6, 4, 2); // 2 sequences × 3 positions × 4 features
    // Row-major [2, 3, 4] from the rows of x.
    let rows: Vec<f32> = (0..6).flat_map(|i| (0..4).map(move |j| (i, j))).map(|(i, j)| x[(i, j)] as f32).collect();
    let x3 = Tensor::<B, 3>::from_data(TensorData::new(rows, [2, 3, 4]), &device());
    let mask = Tensor::<B, 2>::from_data(TensorData::new(vec![1f32, 1.0, 0.0, 1.0, 0.0, 0.0], [2, 3]), &device());
    let mut acc = CovarianceAccumulator::<B>::new(4, &device());
    acc.update_masked(&x3, &mask).unwrap();
    assert_eq!(acc.count(), 3);
    let kept = nalgebra::DMatrix::from_rows(&[x.row(0).clone_owned(), x.row(1).clone_owned(), x.row(3).clone_owned()]);
    let expect = kept.transpose() * &kept / 3.0;
    assert!(rel_err(&expect, &dmatrix(&acc.finish().unwrap())) < 1e-5);
}

#[test]
fn empty_and_wrong_shape_are_errors() {
    let mut acc = CovarianceAccumulator::<B>::new(3, &device());
    assert!(matches!(acc.finish(), Err(LinalgError::Empty { .. })));
    assert!(matches!(acc.update(&tensor(&gaussian(2, 4, 1))), Err(LinalgError::Shape { .. })));
}
