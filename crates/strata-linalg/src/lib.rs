//! Linear algebra for continual learning, generic over burn's `B: Backend`.
//!
//! Large, GEMM-bound work runs on the device through burn ops; small or exact factorisations
//! run on the host in f64 with [faer](https://docs.rs/faer). Shapes follow the math:
//! a matrix `A: m×n` is a `Tensor<B, 2>` of dims `[m, n]`; bases hold vectors as columns.
//!
//! | item | computes |
//! |---|---|
//! | [`thin_qr`] | `A = QR`, `QᵀQ = I` — CholeskyQR2 on the device, shifted/Householder fallbacks |
//! | [`randomized_svd`] | top-k `A ≈ U diag(σ) Vᵀ` — HMT range finder + power iterations |
//! | [`exact_svd`] | full thin SVD on the host (faer, f64) |
//! | [`sym_eig`], [`top_eigvecs`] | `C = V diag(λ) Vᵀ`, λ descending; all (host) or top-k (device) |
//! | [`project_out_left`] … [`project_out_both`] | `(I − UUᵀ)G`, `G(I − VVᵀ)`, both, and the "onto" forms |
//! | [`GpmBasis`] | a growing orthonormal basis with the GPM energy-threshold rule |
//! | [`CovarianceAccumulator`] | streaming `Σ xxᵀ / N` on the device |
//! | [`principal_angles`], [`subspace_error`] | angles between subspaces |
//! | [`matmul`] | `AB` in f32 accuracy, also on TF32 tensor-core GPUs (3×TF32 split) |
//!
//! Bad input (non-finite values, wrong shapes, `k` beyond the rank) is a [`LinalgError`]
//! naming the operation and the problem, never a panic or a silent NaN.
//!
//! Precision: use an f32 backend for factorisations (bf16 Gram matrices lose too much);
//! the host side always works in f64.

#![warn(missing_docs)]

pub mod angles;
pub mod covariance;
pub mod eig;
pub mod error;
pub mod gemm;
pub mod gpm;
pub mod host;
pub mod project;
pub mod qr;
pub mod random;
pub mod svd;

pub use angles::{principal_angles, subspace_error};
pub use covariance::CovarianceAccumulator;
pub use eig::{SymEig, sym_eig, top_eigvecs};
pub use error::{LinalgError, Result};
pub use gemm::{GemmPrecision, matmul};
pub use gpm::{DEFAULT_GPM_EPSILON, GpmBasis, GpmUpdate, gpm_threshold};
pub use project::{project_onto_both, project_onto_left, project_onto_right, project_out_both, project_out_left, project_out_right};
pub use qr::{QrPath, ThinQr, householder_qr_host, thin_qr};
pub use svd::{HostSvd, RandomizedSvd, Svd, exact_svd, exact_svd_host, randomized_svd};

pub use faer;
