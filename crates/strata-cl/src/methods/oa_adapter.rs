//! OA-Adapter (Wan et al., 2025): per task a bias-free adapter `y = x + W2 Γ W1 x` after the
//! attention and after the MLP of every block, with a soft-thresholded learnable diagonal
//! `γ_i = sign(g_i)·max(|g_i| − τ, 0)` that sets its effective rank, and the penalty
//! `λ_orth Σ_{s<t} Σ_{i,j} ⟨W2^(t)[:, i], W̃2^(s)[:, j]⟩²` against earlier tasks' activated
//! columns. All adapters are summed at inference; no task id.

use std::collections::BTreeMap;

use burn::tensor::Tensor;
use burn::tensor::backend::AutodiffBackend;
use serde::{Deserialize, Serialize};
use strata_models::strata_adapters::{AdaptableModel, OaConfig, oa_orthogonality};

use super::{freeze_all, sum_terms};
use crate::error::{ClError, Result};
use crate::method::{Method, MethodState, TaskCtx};
use crate::model::ClModel;
use crate::params::HostTensor;

/// OA-Adapter's hyper-parameters. Defaults: r_max = 16, initial τ = 1e-3, λ_orth = 0.5 (not
/// published; see docs/methods.md).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct OaAdapterConfig {
    /// Bottleneck upper bound r_max.
    pub r_max: usize,
    /// Initial threshold τ.
    pub tau_init: f64,
    /// Orthogonality weight λ_orth.
    pub lambda_orth: f64,
    /// O-LoRA's rank and targets for the "same budget" comparison in the report.
    pub olora_rank: usize,
}

impl Default for OaAdapterConfig {
    fn default() -> Self {
        let oa = OaConfig::new();
        Self { r_max: oa.r_max, tau_init: oa.tau_init, lambda_orth: oa.lambda_orth, olora_rank: 8 }
    }
}

impl OaAdapterConfig {
    /// Checks ranges.
    pub fn validate(&self) -> Result<()> {
        if self.r_max == 0 || !(self.tau_init >= 0.0) || !(self.lambda_orth >= 0.0) {
            return Err(ClError::config("oa-adapter: r_max ≥ 1, tau_init ≥ 0, lambda_orth ≥ 0 are required"));
        }
        Ok(())
    }
}

/// The OA-Adapter method.
pub struct OaAdapterMethod<B: AutodiffBackend> {
    config: OaAdapterConfig,
    /// Per slot: activated columns `[r_eff, d]` of every finished task.
    old_columns: BTreeMap<String, Vec<Tensor<B, 2>>>,
}

impl<B: AutodiffBackend> OaAdapterMethod<B> {
    /// An OA-Adapter run.
    pub fn new(config: OaAdapterConfig) -> Self {
        Self { config, old_columns: BTreeMap::new() }
    }

    fn oa(&self) -> OaConfig {
        OaConfig { r_max: self.config.r_max, tau_init: self.config.tau_init, lambda_orth: self.config.lambda_orth }
    }

    fn push_adapters(&self, model: &mut ClModel<B>) -> Result<()> {
        let d = model.lm.config.hidden_size;
        let device = model.lm.model.embed_tokens.weight.device();
        let oa = self.oa();
        let mut failure = None;
        model.visit_residual_slots_mut(&mut |name, slot| match oa.init::<B>(d, &device) {
            Ok(a) => slot.adapters.push(a),
            Err(e) => {
                failure.get_or_insert(format!("{name}: {e}"));
            }
        });
        failure.map_or(Ok(()), |f| Err(ClError::Method { method: "OA-Adapter", msg: f }))
    }
}

impl<B: AutodiffBackend> Method<B> for OaAdapterMethod<B> {
    fn name(&self) -> &'static str {
        "OA-Adapter"
    }

    fn before_task(&mut self, model: &mut ClModel<B>, _task: &TaskCtx<'_>) -> Result<()> {
        freeze_all(model);
        self.push_adapters(model)
    }

    fn extra_loss(&self, model: &ClModel<B>) -> Option<Tensor<B, 1>> {
        if self.old_columns.is_empty() || self.config.lambda_orth == 0.0 {
            return None;
        }
        let mut terms = Vec::new();
        model.visit_residual_slots(&mut |name, slot| {
            let (Some(new), Some(old)) = (slot.adapters.last(), self.old_columns.get(name)) else { return };
            if !old.is_empty() {
                terms.push(oa_orthogonality(new, old).unwrap_or_else(|e| panic!("OA-Adapter penalty of {name}: {e}")));
            }
        });
        sum_terms(terms).map(|t| t * self.config.lambda_orth)
    }

    fn after_task(&mut self, model: &mut ClModel<B>, _task: &TaskCtx<'_>) -> Result<()> {
        let mut columns = Vec::new();
        model.visit_residual_slots_mut(&mut |name, slot| {
            if let Some(cols) = slot.adapters.last().and_then(|a| a.activated_columns()) {
                columns.push((name.to_string(), cols));
            }
        });
        for (name, cols) in columns {
            self.old_columns.entry(name).or_default().push(cols);
        }
        Ok(())
    }

    fn report(&self, model: &ClModel<B>) -> serde_json::Value {
        let mut ranks = BTreeMap::new();
        let mut used = 0usize;
        model.visit_residual_slots(&mut |name, slot| {
            if let Some(a) = slot.adapters.last() {
                ranks.insert(name.to_string(), a.effective_rank());
                used += a.used_parameters();
            }
        });
        // O-LoRA at its usual budget: rank r on q and v of every block, r·(d_in + d_out) each.
        let cfg = &model.lm.config;
        let (d, q_out, v_out) = (cfg.hidden_size, cfg.num_attention_heads * cfg.head_dim(), cfg.kv_heads() * cfg.head_dim());
        let olora = cfg.num_hidden_layers * self.config.olora_rank * ((d + q_out) + (d + v_out));
        let allocated = ranks.len() * self.config.r_max * 2 * d;
        serde_json::json!({ "effective_ranks": ranks, "used_parameters": used, "allocated_parameters": allocated, "olora_parameters_same_budget": olora })
    }

    fn state(&self, _model: &ClModel<B>) -> MethodState {
        let mut tensors = BTreeMap::new();
        for (slot, cols) in &self.old_columns {
            for (s, c) in cols.iter().enumerate() {
                tensors.insert(format!("columns.{slot}.{s}"), HostTensor::from_tensor(c));
            }
        }
        let counts: BTreeMap<&String, usize> = self.old_columns.iter().map(|(k, v)| (k, v.len())).collect();
        MethodState { json: serde_json::json!({ "column_counts": counts }), tensors }
    }

    fn restore(&mut self, model: &mut ClModel<B>, state: MethodState, done: usize, _total: usize) -> Result<()> {
        let device = model.lm.model.embed_tokens.weight.device();
        let counts: BTreeMap<String, usize> = serde_json::from_value(state.json["column_counts"].clone()).map_err(|e| ClError::Method { method: "OA-Adapter", msg: format!("bad checkpoint state: {e}") })?;
        self.old_columns.clear();
        for (slot, n) in counts {
            let cols = (0..n)
                .map(|s| state.tensors.get(&format!("columns.{slot}.{s}")).map(|h| h.to_tensor::<B, 2>(&device)).ok_or_else(|| ClError::Method { method: "OA-Adapter", msg: format!("checkpoint lacks columns.{slot}.{s}") }))
                .collect::<Result<Vec<_>>>()?;
            self.old_columns.insert(slot, cols);
        }
        freeze_all(model);
        for _ in 0..done {
            self.push_adapters(model)?;
        }
        freeze_all(model);
        Ok(())
    }
}
