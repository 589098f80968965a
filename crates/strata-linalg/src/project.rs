//! Orthogonal projections on the device, never forming a d×d projector.
//!
//! With `U: d×k` (orthonormal columns) acting from the left on `G: d×n`:
//! `onto = U(UᵀG)`, `out = G − U(UᵀG)`; with `V: d×k` acting from the right on `G: m×d`:
//! `onto = (GV)Vᵀ`, `out = G − (GV)Vᵀ`. Cost O(dkn) each. A basis with k = 0 is the
//! zero subspace: projecting out of it is the identity.

use burn::tensor::{Tensor, backend::Backend};

use crate::error::{LinalgError, Result};
use crate::gemm::matmul;

fn check_left<B: Backend>(op: &'static str, g: &Tensor<B, 2>, u: &Tensor<B, 2>) -> Result<()> {
    let (gd, ud) = (g.dims(), u.dims());
    if gd[0] != ud[0] {
        return Err(LinalgError::Shape { op, what: "basis rows must equal the rows of g", expected: format!("[{}, k]", gd[0]), got: ud.to_vec() });
    }
    Ok(())
}

fn check_right<B: Backend>(op: &'static str, g: &Tensor<B, 2>, v: &Tensor<B, 2>) -> Result<()> {
    let (gd, vd) = (g.dims(), v.dims());
    if gd[1] != vd[0] {
        return Err(LinalgError::Shape { op, what: "basis rows must equal the columns of g", expected: format!("[{}, k]", gd[1]), got: vd.to_vec() });
    }
    Ok(())
}

/// `U(UᵀG)`: the part of the columns of `g: d×n` inside span(U), `u: d×k`.
pub fn project_onto_left<B: Backend>(g: &Tensor<B, 2>, u: &Tensor<B, 2>) -> Result<Tensor<B, 2>> {
    check_left("project_onto_left", g, u)?;
    if u.dims()[1] == 0 {
        return Ok(g.zeros_like());
    }
    Ok(matmul(u.clone(), matmul(u.clone().transpose(), g.clone())))
}

/// `(I − UUᵀ)G`: the part of the columns of `g: d×n` orthogonal to span(U), `u: d×k`.
pub fn project_out_left<B: Backend>(g: &Tensor<B, 2>, u: &Tensor<B, 2>) -> Result<Tensor<B, 2>> {
    check_left("project_out_left", g, u)?;
    if u.dims()[1] == 0 {
        return Ok(g.clone());
    }
    Ok(g.clone() - matmul(u.clone(), matmul(u.clone().transpose(), g.clone())))
}

/// `(GV)Vᵀ`: the part of the rows of `g: m×d` inside span(V), `v: d×k`.
pub fn project_onto_right<B: Backend>(g: &Tensor<B, 2>, v: &Tensor<B, 2>) -> Result<Tensor<B, 2>> {
    check_right("project_onto_right", g, v)?;
    if v.dims()[1] == 0 {
        return Ok(g.zeros_like());
    }
    Ok(matmul(matmul(g.clone(), v.clone()), v.clone().transpose()))
}

/// `G(I − VVᵀ)`: the part of the rows of `g: m×d` orthogonal to span(V), `v: d×k`.
pub fn project_out_right<B: Backend>(g: &Tensor<B, 2>, v: &Tensor<B, 2>) -> Result<Tensor<B, 2>> {
    check_right("project_out_right", g, v)?;
    if v.dims()[1] == 0 {
        return Ok(g.clone());
    }
    Ok(g.clone() - matmul(matmul(g.clone(), v.clone()), v.clone().transpose()))
}

/// `(I − UUᵀ) G (I − VVᵀ)` for `g: m×n`, `u: m×k₁`, `v: n×k₂`.
pub fn project_out_both<B: Backend>(g: &Tensor<B, 2>, u: &Tensor<B, 2>, v: &Tensor<B, 2>) -> Result<Tensor<B, 2>> {
    project_out_right(&project_out_left(g, u)?, v)
}

/// `UUᵀ G VVᵀ` for `g: m×n`, `u: m×k₁`, `v: n×k₂`.
pub fn project_onto_both<B: Backend>(g: &Tensor<B, 2>, u: &Tensor<B, 2>, v: &Tensor<B, 2>) -> Result<Tensor<B, 2>> {
    project_onto_right(&project_onto_left(g, u)?, v)
}
