//! Principal angles between subspaces (Björck & Golub), for tests and diagnostics.
//!
//! For orthonormal `U: d×p`, `V: d×q`: `cos θ_i = σ_i(UᵀV)` and `sin θ_i = σ_i((I − UUᵀ)V)`;
//! θ_i = atan2(sin, cos) keeps small angles accurate. Computed on the host in f64.

use burn::tensor::{Tensor, backend::Backend};
use faer::Mat;

use crate::error::{LinalgError, Result};
use crate::host::to_host;
use crate::svd::exact_svd_host;

/// Principal angles (radians, ascending) between span(u) and span(v); `min(p, q)` of them.
/// Both inputs must have orthonormal columns and the same row count.
pub fn principal_angles<B: Backend>(u: &Tensor<B, 2>, v: &Tensor<B, 2>) -> Result<Vec<f64>> {
    let (ud, vd) = (u.dims(), v.dims());
    if ud[0] != vd[0] || ud[1] == 0 || vd[1] == 0 {
        return Err(LinalgError::Shape { op: "principal_angles", what: "u and v must be d×p and d×q with p, q ≥ 1", expected: format!("[{}, q]", ud[0]), got: vd.to_vec() });
    }
    // Put the smaller subspace second so that every angle is defined by V.
    let (big, small) = if ud[1] >= vd[1] { (to_host(u), to_host(v)) } else { (to_host(v), to_host(u)) };
    let q = small.ncols();
    let cos = exact_svd_host((big.transpose() * &small).as_ref())?.s;
    let coeff = big.transpose() * &small;
    let resid: Mat<f64> = &small - &big * &coeff;
    let sin = exact_svd_host(resid.as_ref())?.s;
    // cos descending ↔ sin ascending pair up to the same angles.
    let mut angles: Vec<f64> = (0..q).map(|i| sin[q - 1 - i].atan2(cos[i])).collect();
    angles.sort_by(|a, b| a.total_cmp(b));
    Ok(angles)
}

/// `sin θ_max` between two subspaces: the subspace error of one basis as an approximation of
/// the other (0 = identical, 1 = some direction is orthogonal). With different dimensions,
/// it measures how far the smaller subspace lies from the larger one.
pub fn subspace_error<B: Backend>(u: &Tensor<B, 2>, v: &Tensor<B, 2>) -> Result<f64> {
    let angles = principal_angles(u, v)?;
    Ok(angles.last().copied().unwrap_or(0.0).sin())
}
