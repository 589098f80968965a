//! Input statistics of a linear layer, recorded during ordinary forward passes.
//!
//! InfLoRA designs its down-projection from the layer-input covariance `C = (1/N) Σ x xᵀ`;
//! OSFT's adaptive rank rule needs sample inputs `x_i`. An [`InputCapture`] attached to an
//! [`crate::AdaptedLinear`] accumulates both on the host while the model runs, counting only
//! the tokens the [`crate::AdapterContext`]'s token mask marks as real (padding excluded).

use std::sync::{Arc, Mutex};

use burn::tensor::{Tensor, backend::Backend};

/// What an [`InputCapture`] keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaptureConfig {
    /// Accumulate `Σ x xᵀ` (`d × d`, f64).
    pub gram: bool,
    /// Keep up to this many input rows (the first ones seen), for per-sample statistics.
    pub max_samples: usize,
}

/// Accumulated statistics: `gram = Σ x xᵀ` (row-major `d × d`), `count` = number of rows.
#[derive(Debug, Clone, Default)]
pub struct CapturedInputs {
    /// Input width `d`.
    pub dim: usize,
    /// `Σ x xᵀ`, row-major `d × d` (empty when not requested).
    pub gram: Vec<f64>,
    /// Number of token rows accumulated.
    pub count: usize,
    /// Sample rows (each of length `d`).
    pub samples: Vec<Vec<f32>>,
}

impl CapturedInputs {
    /// The covariance `(1/N) Σ x xᵀ` (row-major `d × d`); `None` before any row.
    pub fn covariance(&self) -> Option<Vec<f64>> {
        (self.count > 0 && !self.gram.is_empty()).then(|| self.gram.iter().map(|v| v / self.count as f64).collect())
    }
}

/// A shared, cheaply cloned recorder. Cloning shares the same storage, so the handle kept
/// by a method sees what the layer recorded.
#[derive(Debug, Clone)]
pub struct InputCapture {
    config: CaptureConfig,
    state: Arc<Mutex<CapturedInputs>>,
}

impl InputCapture {
    /// An empty recorder.
    pub fn new(config: CaptureConfig) -> Self {
        Self { config, state: Arc::new(Mutex::new(CapturedInputs::default())) }
    }

    /// Records the real-token rows of `x: [batch, seq, d]`; `mask: [batch, seq]` (1 = token).
    pub fn record<B: Backend>(&self, x: &Tensor<B, 3>, mask: Option<&Tensor<B, 2>>) {
        let [b, s, d] = x.dims();
        let rows = x.clone().reshape([b * s, d]);
        let weights: Vec<f32> = match mask {
            Some(m) => m.clone().reshape([b * s]).into_data().convert::<f32>().to_vec().unwrap_or_default(),
            None => vec![1.0; b * s],
        };
        let kept = weights.iter().filter(|&&w| w > 0.0).count();
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if state.dim == 0 {
            state.dim = d;
        }
        if self.config.gram {
            // Zero the padded rows, then Σ x xᵀ = Xᵀ X on the device.
            let device = rows.device();
            let w = Tensor::<B, 1>::from_floats(weights.as_slice(), &device).reshape([b * s, 1]);
            let masked = rows.clone() * w;
            let gram = masked.clone().transpose().matmul(masked).into_data().convert::<f64>().to_vec::<f64>().unwrap_or_default();
            if state.gram.is_empty() {
                state.gram = vec![0.0; d * d];
            }
            for (acc, v) in state.gram.iter_mut().zip(gram) {
                *acc += v;
            }
        }
        if state.samples.len() < self.config.max_samples {
            let data: Vec<f32> = rows.into_data().convert::<f32>().to_vec().unwrap_or_default();
            for (r, &w) in weights.iter().enumerate() {
                if w > 0.0 && state.samples.len() < self.config.max_samples {
                    state.samples.push(data[r * d..(r + 1) * d].to_vec());
                }
            }
        }
        state.count += kept;
    }

    /// A copy of what has been recorded so far.
    pub fn snapshot(&self) -> CapturedInputs {
        self.state.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}
