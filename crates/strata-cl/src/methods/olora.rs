//! O-LoRA (Wang et al., 2023): a new LoRA per task, trained with
//! `λ1 Σ_layers Σ_{j,k} |(A_old A_tᵀ)_{jk}| + λ2 (‖A_t‖_F + ‖B_t‖_F)` so the new branch's
//! (down-projection) row space stays orthogonal to the old ones; all branches summed.

use burn::tensor::Tensor;
use burn::tensor::backend::AutodiffBackend;
use serde::{Deserialize, Serialize};
use strata_models::strata_adapters::{AdaptableModel, OloraPenaltySide, olora_l2, olora_layer_penalty};

use super::{LoraSettings, inc_lora::IncLora, sum_terms};
use crate::error::{ClError, Result};
use crate::method::{Method, MethodState, TaskCtx};
use crate::model::ClModel;

/// O-LoRA's hyper-parameters. Defaults: λ1 = 0.5, λ2 = 0 (Standard benchmark), the public
/// code's penalty on the down-projections A.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct OloraConfig {
    /// LoRA settings of each task's branch.
    pub lora: LoraSettings,
    /// Orthogonality weight λ1.
    pub lambda1: f64,
    /// L2 weight λ2.
    pub lambda2: f64,
    /// Which factor the orthogonality acts on.
    pub side: OloraPenaltySide,
    /// Per-task `(λ1, λ2)` overriding the two above (the Long benchmark's schedule).
    pub lambda_schedule: Option<Vec<(f64, f64)>>,
}

impl Default for OloraConfig {
    fn default() -> Self {
        Self { lora: LoraSettings::default(), lambda1: 0.5, lambda2: 0.0, side: OloraPenaltySide::DownA, lambda_schedule: None }
    }
}

impl OloraConfig {
    /// Checks ranges.
    pub fn validate(&self) -> Result<()> {
        if !(self.lambda1 >= 0.0 && self.lambda2 >= 0.0) {
            return Err(ClError::config("o-lora: lambda1 and lambda2 must be ≥ 0"));
        }
        self.lora.validate()
    }

    /// `(λ1, λ2)` for task `t`.
    pub fn lambdas(&self, t: usize) -> (f64, f64) {
        self.lambda_schedule.as_ref().and_then(|s| s.get(t).copied()).unwrap_or((self.lambda1, self.lambda2))
    }
}

/// `λ1 Σ_layers olora(last branch vs earlier) + λ2 Σ_layers (‖A_t‖ + ‖B_t‖)` over the layers
/// that carry branches; `None` when both weights are 0.
pub fn olora_loss<B: AutodiffBackend>(model: &ClModel<B>, lambda1: f64, lambda2: f64, side: OloraPenaltySide) -> Option<Tensor<B, 1>> {
    if lambda1 == 0.0 && lambda2 == 0.0 {
        return None;
    }
    let mut terms = Vec::new();
    model.visit_linears(&mut |name, layer| {
        let Some(new) = layer.lora.last() else { return };
        let mut term = olora_layer_penalty(layer, side).unwrap_or_else(|e| panic!("O-LoRA penalty of {name}: {e}")) * lambda1;
        if lambda2 > 0.0 {
            term = term + olora_l2(new.a.val(), new.b.val()) * lambda2;
        }
        terms.push(term);
    });
    sum_terms(terms)
}

/// The O-LoRA method.
pub struct Olora {
    config: OloraConfig,
    inner: IncLora,
    task: usize,
}

impl Olora {
    /// An O-LoRA run.
    pub fn new(config: OloraConfig) -> Self {
        let inner = IncLora::new(config.lora.clone());
        Self { config, inner, task: 0 }
    }
}

impl<B: AutodiffBackend> Method<B> for Olora {
    fn name(&self) -> &'static str {
        "O-LoRA"
    }
    fn before_task(&mut self, model: &mut ClModel<B>, task: &TaskCtx<'_>) -> Result<()> {
        self.task = task.index;
        Method::<B>::before_task(&mut self.inner, model, task)
    }
    fn extra_loss(&self, model: &ClModel<B>) -> Option<Tensor<B, 1>> {
        let (l1, l2) = self.config.lambdas(self.task);
        olora_loss(model, l1, l2, self.config.side)
    }
    fn state(&self, _model: &ClModel<B>) -> MethodState {
        MethodState::default()
    }
    fn restore(&mut self, model: &mut ClModel<B>, state: MethodState, done: usize, total: usize) -> Result<()> {
        Method::<B>::restore(&mut self.inner, model, state, done, total)
    }
}
