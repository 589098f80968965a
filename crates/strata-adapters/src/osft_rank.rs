//! How many singular triplets OSFT freezes per layer: the paper's adaptive rule from layer
//! importances, and the fixed-fraction and linear-schedule rules of the public code.
//!
//! `dims` are `(d_in, d_out)` per layer (only `min` and `max` matter). Every `⌊·⌋` is taken
//! with a relative slack of 1e-9, so that products that are integers on paper (`0.07·2·100`)
//! are not lost to binary rounding.

use burn::tensor::{Tensor, backend::Backend};
use serde::{Deserialize, Serialize};

use crate::error::{AdapterError, Result};

/// The paper's minimum retained ratio `mrr`.
pub const DEFAULT_MRR: f64 = 0.1;
/// The paper's target retained ratio `trr`.
pub const DEFAULT_TRR: f64 = 0.8;
/// The production code's fixed fraction ρ.
pub const DEFAULT_FRACTION: f64 = 0.5;
/// The linear schedule's slope per task.
pub const DEFAULT_SLOPE: f64 = 0.07;

fn default_mrr() -> f64 {
    DEFAULT_MRR
}
fn default_trr() -> f64 {
    DEFAULT_TRR
}
fn default_fraction() -> f64 {
    DEFAULT_FRACTION
}
fn default_slope() -> f64 {
    DEFAULT_SLOPE
}

/// The rule giving the frozen rank `k` of each layer at the start of task `t` (1-based).
/// Serialised with a `rule` tag, e.g. `{"rule": "adaptive", "mrr": 0.1, "trr": 0.8}`; omitted
/// fields take the defaults.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum OsftRankRule {
    /// The paper's rule: `r = mrr + Ĩ·(trr − mrr)` clipped to [0, 1], `k = ⌊r·min(d)⌋`, `Ĩ`
    /// the layer importance normalised to mean 1 across layers ([`adaptive_ranks`]).
    Adaptive {
        /// Minimum retained ratio (0.1).
        #[serde(default = "default_mrr")]
        mrr: f64,
        /// Target retained ratio (0.8).
        #[serde(default = "default_trr")]
        trr: f64,
    },
    /// `k = ⌊ρ·min(d)⌋` for every task ([`fixed_rank`]).
    Fixed {
        /// ρ in [0, 1] (0.5).
        #[serde(default = "default_fraction")]
        fraction: f64,
    },
    /// `k = min(⌊slope·(t−1)·max(d)⌋, min(d))` ([`linear_rank`]).
    Linear {
        /// Slope per task (0.07).
        #[serde(default = "default_slope")]
        slope: f64,
    },
}

impl Default for OsftRankRule {
    fn default() -> Self {
        Self::Adaptive { mrr: DEFAULT_MRR, trr: DEFAULT_TRR }
    }
}

impl OsftRankRule {
    /// Frozen ranks of all layers at the start of task `task` (1-based). `importances` (one per
    /// layer, from [`layer_importance`]) are needed by [`Self::Adaptive`] only.
    pub fn frozen_ranks(&self, dims: &[(usize, usize)], task: usize, importances: Option<&[f64]>) -> Result<Vec<usize>> {
        match *self {
            Self::Adaptive { mrr, trr } => {
                let importances = importances.ok_or(AdapterError::InvalidArgument {
                    op: "OsftRankRule::frozen_ranks",
                    name: "importances",
                    value: "None".into(),
                    reason: "the adaptive rule needs one importance per layer",
                })?;
                adaptive_ranks(importances, dims, mrr, trr)
            }
            Self::Fixed { fraction } => dims.iter().map(|&(a, b)| fixed_rank(a, b, fraction)).collect(),
            Self::Linear { slope } => dims.iter().map(|&(a, b)| linear_rank(a, b, slope, task)).collect(),
        }
    }
}

/// `⌊x⌋` with a relative slack of 1e-9 against binary rounding (`x ≥ 0`).
fn floor_slack(x: f64) -> usize {
    (x + 1e-9 * x.abs().max(1.0)).floor() as usize
}

fn check_unit(op: &'static str, name: &'static str, x: f64) -> Result<()> {
    if x.is_finite() && (0.0..=1.0).contains(&x) {
        Ok(())
    } else {
        Err(AdapterError::InvalidArgument { op, name, value: x.to_string(), reason: "must lie in [0, 1]" })
    }
}

/// The paper's adaptive rule: `Ĩ_l = I_l / mean(I)`, `r_l = clip(mrr + Ĩ_l·(trr − mrr), 0, 1)`,
/// `k_l = ⌊r_l·min(d_in, d_out)⌋`.
///
/// Errors: lengths differ, no layers, a non-finite importance, a non-positive mean
/// importance (nothing to normalise by), or `mrr`/`trr` outside [0, 1].
pub fn adaptive_ranks(importances: &[f64], dims: &[(usize, usize)], mrr: f64, trr: f64) -> Result<Vec<usize>> {
    const OP: &str = "adaptive_ranks";
    check_unit(OP, "mrr", mrr)?;
    check_unit(OP, "trr", trr)?;
    if importances.len() != dims.len() {
        return Err(AdapterError::LengthMismatch { op: OP, what: "importances vs dims", left: importances.len(), right: dims.len() });
    }
    if let Some(bad) = importances.iter().find(|x| !x.is_finite()) {
        return Err(AdapterError::InvalidArgument { op: OP, name: "importances", value: bad.to_string(), reason: "must be finite" });
    }
    let mean = importances.iter().sum::<f64>() / importances.len() as f64;
    if !(mean > 0.0) {
        return Err(AdapterError::InvalidArgument { op: OP, name: "mean importance", value: mean.to_string(), reason: "must be positive to normalise to mean 1" });
    }
    Ok(importances
        .iter()
        .zip(dims)
        .map(|(&i, &(a, b))| {
            let r = (mrr + (i / mean) * (trr - mrr)).clamp(0.0, 1.0);
            floor_slack(r * a.min(b) as f64)
        })
        .collect())
}

/// The fixed-fraction rule: `k = ⌊ρ·min(d_in, d_out)⌋`, `ρ ∈ [0, 1]`.
pub fn fixed_rank(d_in: usize, d_out: usize, fraction: f64) -> Result<usize> {
    check_unit("fixed_rank", "fraction", fraction)?;
    Ok(floor_slack(fraction * d_in.min(d_out) as f64))
}

/// The linear schedule: `k = min(⌊slope·(t−1)·max(d_in, d_out)⌋, min(d_in, d_out))` for
/// task `t ≥ 1` (nothing frozen on the first task).
pub fn linear_rank(d_in: usize, d_out: usize, slope: f64, task: usize) -> Result<usize> {
    const OP: &str = "linear_rank";
    if !(slope.is_finite() && slope >= 0.0) {
        return Err(AdapterError::InvalidArgument { op: OP, name: "slope", value: slope.to_string(), reason: "must be finite and non-negative" });
    }
    if task == 0 {
        return Err(AdapterError::InvalidArgument { op: OP, name: "task", value: "0".into(), reason: "tasks are numbered from 1" });
    }
    let k = floor_slack(slope * (task - 1) as f64 * d_in.max(d_out) as f64);
    Ok(k.min(d_in.min(d_out)))
}

/// Streams `I = mean_i cos(x_i, W x_i)` over batches of a layer's inputs.
///
/// For non-square layers the cosine is taken over the first `m = min(d_in, d_out)`
/// coordinates of `x_i` and `W x_i`. Rows with `x_i = 0` (padding) are skipped; a row with
/// `W x_i = 0` counts as cosine 0. Sums are kept in f64 on the host.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ImportanceAccumulator {
    sum: f64,
    count: usize,
}

impl ImportanceAccumulator {
    /// An empty accumulator.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds the rows of `inputs: [N, d_in]` for a layer with burn-layout `weight: [d_in, d_out]`
    /// (`W x_i` is row `i` of `inputs·weight`). One device→host transfer of `3·N` values.
    pub fn add<B: Backend>(&mut self, inputs: &Tensor<B, 2>, weight: &Tensor<B, 2>) -> Result<()> {
        const OP: &str = "layer_importance";
        let ([rows, d_in], [w_in, d_out]) = (inputs.dims(), weight.dims());
        if d_in != w_in {
            return Err(AdapterError::Shape { op: OP, what: "inputs width must equal weight rows (d_in)", expected: format!("[N, {w_in}]"), got: vec![rows, d_in] });
        }
        if rows == 0 {
            return Ok(());
        }
        let m = d_in.min(d_out);
        let x = inputs.clone().detach();
        let y = x.clone().matmul(weight.clone().detach());
        let (x, y) = (x.slice([0..rows, 0..m]), y.slice([0..rows, 0..m]));
        let stats = Tensor::cat(vec![(x.clone() * y.clone()).sum_dim(1), (x.clone() * x).sum_dim(1), (y.clone() * y).sum_dim(1)], 1);
        let stats: Vec<f64> = stats.into_data().iter::<f64>().collect();
        for row in stats.chunks_exact(3) {
            let (dot, xx, yy) = (row[0], row[1], row[2]);
            if !(dot.is_finite() && xx.is_finite() && yy.is_finite()) {
                return Err(AdapterError::InvalidArgument { op: OP, name: "inputs", value: "non-finite".into(), reason: "inputs and weight must be finite" });
            }
            if xx == 0.0 {
                continue;
            }
            self.sum += if yy == 0.0 { 0.0 } else { dot / (xx * yy).sqrt() };
            self.count += 1;
        }
        Ok(())
    }

    /// Rows counted so far.
    pub fn count(&self) -> usize {
        self.count
    }

    /// The mean cosine. Errors if no (non-zero) row was added.
    pub fn importance(&self) -> Result<f64> {
        if self.count == 0 {
            return Err(AdapterError::InvalidArgument { op: "layer_importance", name: "inputs", value: "0 non-zero rows".into(), reason: "need at least one input" });
        }
        Ok(self.sum / self.count as f64)
    }
}

/// `I = mean_i cos(x_i, W x_i)` for `inputs: [N, d_in]` and burn-layout `weight: [d_in, d_out]`
/// (one batch; see [`ImportanceAccumulator`] to stream many).
pub fn layer_importance<B: Backend>(inputs: &Tensor<B, 2>, weight: &Tensor<B, 2>) -> Result<f64> {
    let mut acc = ImportanceAccumulator::new();
    acc.add(inputs, weight)?;
    acc.importance()
}

#[cfg(test)]
mod tests {
    use super::*;

    type B = burn::backend::NdArray<f32>;

    #[test]
    fn adaptive_ranks_by_hand() {
        // I = [0.2, 0.4, 0.6], mean 0.4 → Ĩ = [0.5, 1.0, 1.5].
        // r = 0.1 + Ĩ·(0.8 − 0.1) = [0.45, 0.80, 1.15 → clipped 1.0].
        // min(d) = [64, 64, 40] → r·min(d) = [28.8, 51.2, 40.0] → k = [28, 51, 40].
        let dims = [(64, 64), (64, 128), (100, 40)];
        assert_eq!(adaptive_ranks(&[0.2, 0.4, 0.6], &dims, 0.1, 0.8).unwrap(), vec![28, 51, 40]);
        // I = [−0.2, 1.2, 1.0], mean 2/3 → Ĩ = [−0.3, 1.8, 1.5];
        // r = [0.1 − 0.21 = −0.11 → 0, 0.1 + 1.26 = 1.36 → 1, 0.1 + 1.05 = 1.15 → 1] → k = [0, 64, 40].
        assert_eq!(adaptive_ranks(&[-0.2, 1.2, 1.0], &dims, 0.1, 0.8).unwrap(), vec![0, 64, 40]);
        // Equal importances: Ĩ = 1 → r = trr = 0.8 → k = ⌊0.8·64⌋ = 51, ⌊0.8·40⌋ = 32.
        let rule = OsftRankRule::default();
        assert_eq!(rule.frozen_ranks(&[(64, 64), (40, 100)], 2, Some(&[0.3, 0.3])).unwrap(), vec![51, 32]);
    }

    #[test]
    fn fixed_and_linear_rules() {
        assert_eq!(fixed_rank(64, 128, 0.5).unwrap(), 32);
        assert_eq!(fixed_rank(7, 9, 0.5).unwrap(), 3);
        // ⌊0.07·(t−1)·100⌋, capped at min(d) = 40: t=1 → 0, t=2 → 7, t=3 → 14, t=7 → 42 → 40.
        let ks: Vec<usize> = [1, 2, 3, 7].iter().map(|&t| linear_rank(40, 100, 0.07, t).unwrap()).collect();
        assert_eq!(ks, vec![0, 7, 14, 40]);
        let rule = OsftRankRule::Linear { slope: 0.07 };
        assert_eq!(rule.frozen_ranks(&[(40, 100), (100, 100)], 3, None).unwrap(), vec![14, 14]);
    }

    #[test]
    fn bad_inputs_are_errors() {
        assert!(matches!(adaptive_ranks(&[1.0], &[(4, 4), (4, 4)], 0.1, 0.8), Err(AdapterError::LengthMismatch { .. })));
        assert!(adaptive_ranks(&[0.0, 0.0], &[(4, 4), (4, 4)], 0.1, 0.8).is_err());
        assert!(adaptive_ranks(&[f64::NAN, 1.0], &[(4, 4), (4, 4)], 0.1, 0.8).is_err());
        assert!(adaptive_ranks(&[1.0], &[(4, 4)], 0.1, 1.5).is_err());
        assert!(fixed_rank(4, 4, -0.1).is_err());
        assert!(linear_rank(4, 4, 0.07, 0).is_err());
        assert!(OsftRankRule::default().frozen_ranks(&[(4, 4)], 1, None).is_err());
    }

    #[test]
    fn rule_serde_is_tagged_with_defaults() {
        let json = serde_json::to_string(&OsftRankRule::Fixed { fraction: 0.25 }).unwrap();
        assert_eq!(json, r#"{"rule":"fixed","fraction":0.25}"#);
        let back: OsftRankRule = serde_json::from_str(&json).unwrap();
        assert_eq!(back, OsftRankRule::Fixed { fraction: 0.25 });
        let adaptive: OsftRankRule = serde_json::from_str(r#"{"rule":"adaptive"}"#).unwrap();
        assert_eq!(adaptive, OsftRankRule::default());
        let linear: OsftRankRule = serde_json::from_str(r#"{"rule":"linear"}"#).unwrap();
        assert_eq!(linear, OsftRankRule::Linear { slope: 0.07 });
    }

    #[test]
    fn importance_is_the_mean_cosine() {
        let device = Default::default();
        // Square: W = diag(1, −1) in both layouts. x1 = (1, 0) → Wx = (1, 0): cos 1;
        // x2 = (0, 2) → Wx = (0, −2): cos −1; x3 = (1, 1) → Wx = (1, −1): cos 0; x4 = 0 skipped.
        let w = Tensor::<B, 2>::from_floats([[1.0, 0.0], [0.0, -1.0]], &device);
        let x = Tensor::<B, 2>::from_floats([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0], [0.0, 0.0]], &device);
        let mut acc = ImportanceAccumulator::new();
        acc.add(&x, &w).unwrap();
        assert_eq!(acc.count(), 3);
        assert!(acc.importance().unwrap().abs() < 1e-7);
        // Non-square d_in = 3, d_out = 2 (burn weight [3, 2]); compare first 2 coordinates.
        // x = (1, 0, 5): Wx = x·weight = (1·1 + 5·0, 1·0 + 5·1) = (1, 5); cos((1,0),(1,5)) = 1/√26.
        let w = Tensor::<B, 2>::from_floats([[1.0, 0.0], [0.0, 1.0], [0.0, 1.0]], &device);
        let x = Tensor::<B, 2>::from_floats([[1.0, 0.0, 5.0]], &device);
        let i = layer_importance(&x, &w).unwrap();
        assert!((i - 1.0 / 26f64.sqrt()).abs() < 1e-6, "{i}");
        assert!(matches!(layer_importance(&x, &w.transpose()), Err(AdapterError::Shape { .. })));
    }
}
