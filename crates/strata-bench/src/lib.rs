//! The harness behind `cargo xtask reproduce tables`, and strata's benchmarks.
//!
//! - `benches/host_linalg.rs` (criterion): exact SVD and symmetric eigendecomposition on
//!   the host (faer) at n = 256, 1024, 2048.
//! - `src/bin/linalg_device_bench.rs`: randomized SVD on a burn device (CUDA on the GPU
//!   machine), next to `scripts/bench_linalg_torch.py` for PyTorch on the same GPU.
//!
//! - [`reproduce`] and `src/bin/reproduce.rs`: the presets and the table behind
//!   `cargo xtask reproduce tables`.

pub mod reproduce;

pub use strata_cl;
