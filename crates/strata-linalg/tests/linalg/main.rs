//! strata-linalg's integration tests, one executable so the same suite can be carried to the
//! GPU machine: `cargo test -p strata-linalg --features cuda` runs it on CUDA.

mod common;

mod angles;
mod covariance;
mod eig;
mod gpm;
mod project;
mod qr;
mod svd;
