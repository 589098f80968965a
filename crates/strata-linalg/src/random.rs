//! Seeded Gaussian test matrices for the randomized algorithms (generated on the host so that
//! results are identical on every backend).

use burn::tensor::{Tensor, TensorData, backend::Backend};
use rand::{RngExt, SeedableRng, rngs::StdRng};

/// `rows×cols` matrix of i.i.d. N(0, 1) entries from a seeded RNG (Box–Muller).
pub fn gaussian<B: Backend>(rows: usize, cols: usize, seed: u64, device: &B::Device) -> Tensor<B, 2> {
    Tensor::from_data(TensorData::new(gaussian_vec(rows * cols, seed), [rows, cols]), device)
}

/// `len` i.i.d. N(0, 1) samples from a seeded RNG.
pub fn gaussian_vec(len: usize, seed: u64) -> Vec<f32> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut out = Vec::with_capacity(len + 1);
    while out.len() < len {
        // u1 in (0, 1] so that ln(u1) is finite.
        let u1: f64 = 1.0 - rng.random::<f64>();
        let u2: f64 = rng.random::<f64>();
        let radius = (-2.0 * u1.ln()).sqrt();
        let angle = std::f64::consts::TAU * u2;
        out.push((radius * angle.cos()) as f32);
        out.push((radius * angle.sin()) as f32);
    }
    out.truncate(len);
    out
}
