//! The old tasks' gate subspaces `M⁰` (of `p̄`), `M¹` (of `m`), `M²` (of `z`) and how they grow.

use burn::tensor::{Tensor, backend::Backend};
use serde::{Deserialize, Serialize};
use strata_linalg::{CovarianceAccumulator, GpmBasis, GpmUpdate, gpm_threshold};

use super::constrain::untracked;
use super::error::{Result, check_dims};
use super::module::GateOutput;

/// Per-layer-of-the-gate statistics of one task, each either a representation matrix with one
/// example per *column* (`p: d×n`, `m: h×n`, `z: d×n`) or a second-moment matrix
/// (`d×d`, `h×h`, `d×d`); [`GpmBasis::update`] accepts both. The two forms weigh directions
/// differently in the energy rule (σ² of `R` is λ of `C`, σ² of `C` is λ²): covariances keep
/// fewer directions at the same threshold. The public GainLoRA code uses covariances.
#[derive(Debug, Clone)]
pub struct GateStatistics<B: Backend> {
    /// Of the pooled inputs `p̄` (for `M⁰`).
    pub p: Tensor<B, 2>,
    /// Of the hidden representations `m` (for `M¹`).
    pub m: Tensor<B, 2>,
    /// Of the gate outputs `z` (for `M²`).
    pub z: Tensor<B, 2>,
}

impl<B: Backend> GateStatistics<B> {
    /// Representation matrices from one batch: `p̄: [n, d]` and the gate's output on it,
    /// transposed to one example per column (detached from any autodiff graph).
    pub fn from_rows(p: &Tensor<B, 2>, out: &GateOutput<B>) -> Self {
        Self { p: untracked(p.clone()).transpose(), m: untracked(out.m.clone()).transpose(), z: untracked(out.z.clone()).transpose() }
    }
}

/// Streams `C = Σ xxᵀ / N` of `p̄`, `m` and `z` over a task's batches (inputs are detached).
#[derive(Debug, Clone)]
pub struct GateCollector<B: Backend> {
    p: CovarianceAccumulator<B>,
    m: CovarianceAccumulator<B>,
    z: CovarianceAccumulator<B>,
}

impl<B: Backend> GateCollector<B> {
    /// An empty collector for a gate of input width `dim` and hidden width `hidden`.
    pub fn new(dim: usize, hidden: usize, device: &B::Device) -> Self {
        Self { p: CovarianceAccumulator::new(dim, device), m: CovarianceAccumulator::new(hidden, device), z: CovarianceAccumulator::new(dim, device) }
    }

    /// Adds one batch: `p̄: [n, d]` and the gate's output on it.
    pub fn observe(&mut self, p: &Tensor<B, 2>, out: &GateOutput<B>) -> Result<()> {
        self.p.update(&untracked(p.clone()))?;
        self.m.update(&untracked(out.m.clone()))?;
        self.z.update(&untracked(out.z.clone()))?;
        Ok(())
    }

    /// Examples seen.
    pub fn count(&self) -> usize {
        self.p.count()
    }

    /// The three second moments. Errors if nothing was observed.
    pub fn finish(&self) -> Result<GateStatistics<B>> {
        Ok(GateStatistics { p: self.p.finish()?, m: self.m.finish()?, z: self.z.finish()? })
    }
}

/// What one [`GateMemory::update`] did to each basis.
#[derive(Debug, Clone, PartialEq)]
pub struct GateMemoryUpdate {
    /// `M⁰` (inputs `p̄`).
    pub p: GpmUpdate,
    /// `M¹` (hidden `m`).
    pub m: GpmUpdate,
    /// `M²` (outputs `z`).
    pub z: GpmUpdate,
}

/// The GPM bases of the old tasks' gate representations, kept on the host (serde).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GateMemory {
    m0: GpmBasis,
    m1: GpmBasis,
    m2: GpmBasis,
}

/// [`GateMemory`]'s bases on a device, uploaded once per task for the per-step
/// [`super::constrain_update`]; `None` while a basis is empty.
#[derive(Debug, Clone)]
pub struct GateBases<B: Backend> {
    /// `M⁰: d×k₀`.
    pub m0: Option<Tensor<B, 2>>,
    /// `M¹: h×k₁`.
    pub m1: Option<Tensor<B, 2>>,
    /// `M²: d×k₂`.
    pub m2: Option<Tensor<B, 2>>,
}

impl GateMemory {
    /// Empty bases for gates of input width `dim` and hidden width `hidden`.
    pub fn new(dim: usize, hidden: usize) -> Self {
        Self { m0: GpmBasis::new(dim), m1: GpmBasis::new(hidden), m2: GpmBasis::new(dim) }
    }

    /// Input width d.
    pub fn dim(&self) -> usize {
        self.m0.dim()
    }

    /// Hidden width h.
    pub fn hidden(&self) -> usize {
        self.m1.dim()
    }

    /// `M⁰`, the basis of old pooled inputs `p̄`.
    pub fn m0(&self) -> &GpmBasis {
        &self.m0
    }

    /// `M¹`, the basis of old hidden representations `m`.
    pub fn m1(&self) -> &GpmBasis {
        &self.m1
    }

    /// `M²`, the basis of old gate outputs `z`.
    pub fn m2(&self) -> &GpmBasis {
        &self.m2
    }

    /// Grows all three bases with the finished task's statistics under threshold `epsilon`
    /// (the GPM rule of [`GpmBasis::update`]). Use the statistics of the *trained* gate on the
    /// task's data.
    ///
    /// Errors: statistics whose row counts are not `d`, `h`, `d`; linear-algebra failures.
    pub fn update<B: Backend>(&mut self, stats: &GateStatistics<B>, epsilon: f64) -> Result<GateMemoryUpdate> {
        const OP: &str = "GateMemory::update";
        let (d, h) = (self.dim(), self.hidden());
        for (what, t, rows) in [("p statistics must have d rows", &stats.p, d), ("m statistics must have h rows", &stats.m, h), ("z statistics must have d rows", &stats.z, d)] {
            check_dims(OP, what, &t.dims()[..1], &[rows])?;
        }
        Ok(GateMemoryUpdate { p: self.m0.update(&stats.p, epsilon)?, m: self.m1.update(&stats.m, epsilon)?, z: self.m2.update(&stats.z, epsilon)? })
    }

    /// [`GateMemory::update`] with the schedule `ε_t = ε + (1 − ε)·t/T` ([`gpm_threshold`]) for
    /// task index `task` (from 0) of `total` tasks.
    pub fn update_scheduled<B: Backend>(&mut self, stats: &GateStatistics<B>, epsilon: f64, task: usize, total: usize) -> Result<GateMemoryUpdate> {
        if !(0.0..=1.0).contains(&epsilon) {
            return Err(strata_linalg::LinalgError::InvalidArgument { op: "GateMemory::update_scheduled", name: "epsilon", value: epsilon.to_string(), reason: "must lie in [0, 1]" }.into());
        }
        self.update(stats, gpm_threshold(epsilon, task, total))
    }

    /// The bases as device tensors.
    pub fn to_device<B: Backend>(&self, device: &B::Device) -> GateBases<B> {
        GateBases { m0: self.m0.to_tensor(device), m1: self.m1.to_tensor(device), m2: self.m2.to_tensor(device) }
    }
}
