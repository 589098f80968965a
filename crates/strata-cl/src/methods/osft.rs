//! OSFT / Sculpting Subspaces (Nayak et al., 2025): full fine-tuning constrained orthogonally
//! to each weight's top singular subspace.
//!
//! Per task: every target matrix is split `W = U_h Σ_h V_hᵀ + U_l Σ_l V_lᵀ` (exact SVD of the
//! current weight); the top-k part is frozen, the rest trains with its gradients projected
//! out of span(U_h), span(V_h) (`∇U_l ← ∇U_l − U_h U_hᵀ ∇U_l`, same for V_l); after the task
//! the factors fold back into dense weights. k per layer follows [`OsftRankRule`].

use burn::tensor::backend::AutodiffBackend;
use burn::tensor::{Tensor, TensorData};
use serde::{Deserialize, Serialize};
use strata_models::strata_adapters::{AdaptableModel, CaptureConfig, ImportanceAccumulator, OsftForward, OsftRankRule};

use super::freeze_all;
use crate::error::{ClError, Result};
use crate::method::{Method, MethodState, TaskCtx};
use crate::model::ClModel;
use crate::passes::capture_inputs;

/// OSFT's hyper-parameters. Defaults: the paper's adaptive rank rule (mrr 0.1, trr 0.8), all
/// attention and MLP matrices, gradient projection only (the paper's form; the production
/// code's post-step re-projection is `reproject = true`), factored forward, 256 input rows
/// per layer for the importance.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct OsftConfig {
    /// Frozen-rank rule.
    pub rank_rule: OsftRankRule,
    /// Target layers (leaf names).
    pub targets: Vec<String>,
    /// Re-project `U_l`, `V_l` after every optimizer step (Adam's per-element scaling
    /// otherwise leaks updates into the frozen subspaces).
    pub reproject: bool,
    /// Forward from factors (`((xV)Σ)Uᵀ`) or by rebuilding W.
    pub forward: OsftForward,
    /// Input rows per layer for the adaptive rule's importance.
    pub importance_rows: usize,
}

impl Default for OsftConfig {
    fn default() -> Self {
        Self {
            rank_rule: OsftRankRule::default(),
            targets: ["q", "k", "v", "o", "gate_proj", "up_proj", "down_proj"].map(String::from).to_vec(),
            reproject: false,
            forward: OsftForward::Factored,
            importance_rows: 256,
        }
    }
}

impl OsftConfig {
    /// Checks ranges.
    pub fn validate(&self) -> Result<()> {
        if self.targets.is_empty() || self.importance_rows == 0 {
            return Err(ClError::config("osft: targets must be non-empty and importance_rows ≥ 1"));
        }
        Ok(())
    }
}

/// The OSFT method.
pub struct Osft {
    config: OsftConfig,
    /// Importance of each target layer on the previous task's inputs (adaptive rule).
    importances: Option<Vec<f64>>,
    /// Frozen ranks used per task, per target layer.
    ranks: Vec<Vec<usize>>,
    /// Per finished task: whether the importances fell back to |I(l)| (mean ≤ 0).
    absolute_fallback: Vec<bool>,
}

impl Osft {
    /// An OSFT run.
    pub fn new(config: OsftConfig) -> Self {
        Self { config, importances: None, ranks: Vec::new(), absolute_fallback: Vec::new() }
    }

    fn err(msg: impl std::fmt::Display) -> ClError {
        ClError::Method { method: "OSFT", msg: msg.to_string() }
    }
}

impl<B: AutodiffBackend> Method<B> for Osft {
    fn name(&self) -> &'static str {
        "OSFT"
    }

    fn before_task(&mut self, model: &mut ClModel<B>, task: &TaskCtx<'_>) -> Result<()> {
        freeze_all(model);
        let targets = &self.config.targets;
        let mut dims = Vec::new();
        model.visit_linears(&mut |name, layer| {
            if name.matches(targets) {
                dims.push((layer.d_in(), layer.d_out()));
            }
        });
        // Nothing to protect before the first task under the adaptive and linear rules
        // (the linear schedule gives k = 0 at t = 1); the fixed fraction applies every task.
        let ranks = match (&self.config.rank_rule, task.index, &self.importances) {
            (OsftRankRule::Adaptive { .. }, 0, _) | (OsftRankRule::Adaptive { .. }, _, None) => vec![0; dims.len()],
            (rule, t, imp) => rule.frozen_ranks(&dims, t + 1, imp.as_deref()).map_err(Self::err)?,
        };
        let mut ranks_iter = ranks.iter();
        let mut failure = None;
        let mode = self.config.forward;
        model.visit_linears_mut(&mut |name, layer| {
            if name.matches(targets) {
                let k = *ranks_iter.next().expect("one rank per target");
                if let Err(e) = layer.factorize(k, mode) {
                    failure.get_or_insert(format!("{name}: {e}"));
                }
            }
        });
        if let Some(f) = failure {
            return Err(Self::err(f));
        }
        self.ranks.push(ranks);
        Ok(())
    }

    fn adjust_gradients(&self, model: &ClModel<B>, grads: &mut burn::optim::GradientsParams) {
        model.visit_linears(&mut |name, layer| {
            if let Some(f) = &layer.factored {
                f.project_gradients(grads).unwrap_or_else(|e| panic!("OSFT gradient projection of {name}: {e}"));
            }
        });
    }

    fn after_step(&mut self, model: &mut ClModel<B>) {
        if self.config.reproject {
            model.visit_linears_mut(&mut |name, layer| {
                if let Some(f) = layer.factored.as_mut() {
                    f.reproject().unwrap_or_else(|e| panic!("OSFT re-projection of {name}: {e}"));
                }
            });
        }
    }

    fn after_task(&mut self, model: &mut ClModel<B>, task: &TaskCtx<'_>) -> Result<()> {
        model.visit_linears_mut(&mut |_, layer| layer.fold());
        if !matches!(self.config.rank_rule, OsftRankRule::Adaptive { .. }) || task.index + 1 == task.total {
            return Ok(());
        }
        // I(l) = mean_i cos(x_i, W x_i) on this task's inputs, for the next task's ranks.
        let targets = self.config.targets.clone();
        let rows = self.config.importance_rows;
        let captured = capture_inputs(model, task.train, task.batch_size, task.pad_id, task.pad_multiple, &|n| n.matches(&targets), CaptureConfig { gram: false, max_samples: rows }, rows)?;
        let device = model.lm.model.embed_tokens.weight.device();
        let mut importances = Vec::new();
        let mut failure = None;
        model.visit_linears(&mut |name, layer| {
            let Some(c) = captured.get(name) else { return };
            let mut acc = ImportanceAccumulator::new();
            if !c.samples.is_empty() {
                let flat: Vec<f32> = c.samples.iter().flatten().copied().collect();
                let x = Tensor::<B::InnerBackend, 2>::from_data(TensorData::new(flat, [c.samples.len(), c.dim]), &device);
                if let Err(e) = acc.add(&x, &layer.weight.val().inner()) {
                    failure.get_or_insert(format!("{name}: {e}"));
                }
            }
            importances.push(acc.importance().unwrap_or(0.0));
        });
        if let Some(f) = failure {
            return Err(Self::err(f));
        }
        // The rule normalises importances to mean 1, which needs a positive mean. Mean
        // cosines of a pretrained model can average ≤ 0 (non-square layers compare unrelated
        // coordinates); then the magnitude |I(l)| is used and the fallback recorded.
        let mean = importances.iter().sum::<f64>() / importances.len().max(1) as f64;
        self.absolute_fallback.push(!(mean > 0.0));
        if !(mean > 0.0) {
            importances.iter_mut().for_each(|i| *i = i.abs());
        }
        self.importances = Some(importances);
        Ok(())
    }

    fn report(&self, _model: &ClModel<B>) -> serde_json::Value {
        let ranks = self.ranks.last().cloned().unwrap_or_default();
        let mean = if ranks.is_empty() { 0.0 } else { ranks.iter().sum::<usize>() as f64 / ranks.len() as f64 };
        serde_json::json!({ "frozen_ranks": ranks, "mean_frozen_rank": mean, "importance_abs_fallback": self.absolute_fallback.last().copied().unwrap_or(false) })
    }

    fn state(&self, _model: &ClModel<B>) -> MethodState {
        MethodState { json: serde_json::json!({ "importances": self.importances, "ranks": self.ranks, "absolute_fallback": self.absolute_fallback }), tensors: Default::default() }
    }

    fn restore(&mut self, _model: &mut ClModel<B>, state: MethodState, _done: usize, _total: usize) -> Result<()> {
        // Weights are dense between tasks: the checkpoint's tensors fit the base structure.
        self.importances = serde_json::from_value(state.json["importances"].clone()).map_err(Self::err)?;
        self.ranks = serde_json::from_value(state.json["ranks"].clone()).map_err(Self::err)?;
        // Absent in checkpoints written before the fallback existed: no fallback was taken.
        self.absolute_fallback = serde_json::from_value(state.json["absolute_fallback"].clone()).unwrap_or_default();
        Ok(())
    }
}
