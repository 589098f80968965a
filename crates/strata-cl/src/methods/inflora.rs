//! InfLoRA (Liang & Li, 2024): a new LoRA per task whose down-projection is designed and
//! frozen — rows of `A_t` = top-r left singular vectors of `(I − M Mᵀ) C` divided by √3, with
//! `C` the layer's input covariance on the new task and `M` a GPM basis of old tasks'
//! inputs — so `A_t x_old ≈ 0`; only `B_t` trains. After the task `M` grows (GPM rule).

use std::collections::BTreeMap;

use burn::tensor::backend::AutodiffBackend;
use burn::tensor::{Tensor, TensorData};
use serde::{Deserialize, Serialize};
use strata_models::strata_adapters::strata_linalg::{GpmBasis, gpm_threshold};
use strata_models::strata_adapters::{AdaptableModel, CaptureConfig, CapturedInputs, LinearName, inflora_branch};

use super::{LoraSettings, add_lora_branches, freeze_all};
use crate::error::{ClError, Result};
use crate::method::{Method, MethodState, TaskCtx};
use crate::model::ClModel;
use crate::passes::capture_inputs;

/// InfLoRA's hyper-parameters. Defaults: LoRA r = 8, α = 32 on q and v with dropout 0
/// (dropout would move old inputs out of span(M)), GPM ε = 0.995, up to 256 examples for
/// each covariance.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct InfloraConfig {
    /// LoRA settings.
    pub lora: LoraSettings,
    /// GPM threshold base ε (schedule `ε_t = ε + (1 − ε)·t/T`).
    pub gpm_epsilon: f64,
    /// Examples forwarded to estimate each covariance.
    pub covariance_examples: usize,
}

impl Default for InfloraConfig {
    fn default() -> Self {
        Self { lora: LoraSettings { dropout: 0.0, ..LoraSettings::default() }, gpm_epsilon: 0.995, covariance_examples: 256 }
    }
}

impl InfloraConfig {
    /// Checks ranges.
    pub fn validate(&self) -> Result<()> {
        if !(self.gpm_epsilon > 0.0 && self.gpm_epsilon < 1.0) || self.covariance_examples == 0 {
            return Err(ClError::config("inflora: gpm_epsilon in (0, 1) and covariance_examples ≥ 1 are required"));
        }
        self.lora.validate()
    }
}

/// Per adapted layer, the GPM basis of old tasks' inputs; designs each new task's `A_t`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct InputSubspaces {
    bases: BTreeMap<String, GpmBasis>,
}

fn covariance_tensor<B: burn::tensor::backend::Backend>(c: &CapturedInputs, device: &B::Device) -> Option<Tensor<B, 2>> {
    let cov = c.covariance()?;
    Some(Tensor::from_data(TensorData::new(cov.iter().map(|&v| v as f32).collect::<Vec<_>>(), [c.dim, c.dim]), device))
}

impl InputSubspaces {
    /// Adds one InfLoRA branch (designed, frozen `A`; trainable `B`, gated by `gate`) to every
    /// target layer, from the task's input covariances.
    pub fn add_designed_branches<B: AutodiffBackend>(&self, model: &mut ClModel<B>, lora: &LoraSettings, task: &TaskCtx<'_>, examples: usize, gate: Option<usize>) -> Result<()> {
        let targets = lora.targets.clone();
        let captured = capture_inputs(model, task.train, task.batch_size, task.pad_id, task.pad_multiple, &|n| n.matches(&targets), CaptureConfig { gram: true, max_samples: 0 }, examples)?;
        let device = model.lm.model.embed_tokens.weight.device();
        let cfg = lora.branch_config();
        let mut failure = None;
        model.visit_linears_mut(&mut |name, layer| {
            let Some(c) = captured.get(name) else { return };
            let result = covariance_tensor::<B>(c, &device)
                .ok_or_else(|| "no input rows were captured".to_string())
                .and_then(|cov| inflora_branch(&cfg, &cov, self.bases.get(&name.0), layer.d_out()).map_err(|e| e.to_string()));
            match result {
                Ok(mut branch) => {
                    branch.gate = gate;
                    layer.lora.push(branch);
                }
                Err(e) => {
                    failure.get_or_insert(format!("{name}: {e}"));
                }
            }
        });
        match failure {
            Some(f) => Err(ClError::Method { method: "InfLoRA", msg: f }),
            None => Ok(()),
        }
    }

    /// After task `t` of `total`: grows every target layer's basis with the task's inputs.
    pub fn update<B: AutodiffBackend>(&mut self, model: &mut ClModel<B>, lora: &LoraSettings, task: &TaskCtx<'_>, examples: usize, epsilon: f64) -> Result<()> {
        let targets = lora.targets.clone();
        let captured = capture_inputs(model, task.train, task.batch_size, task.pad_id, task.pad_multiple, &|n| n.matches(&targets), CaptureConfig { gram: true, max_samples: 0 }, examples)?;
        let device = model.lm.model.embed_tokens.weight.device();
        let threshold = gpm_threshold(epsilon, task.index, task.total);
        for (name, c) in &captured {
            let Some(cov) = covariance_tensor::<B::InnerBackend>(c, &device) else { continue };
            let basis = self.bases.entry(name.0.clone()).or_insert_with(|| GpmBasis::new(c.dim));
            basis.update(&cov, threshold)?;
        }
        Ok(())
    }

    /// Basis rank per layer (for reports).
    pub fn ranks(&self) -> BTreeMap<String, usize> {
        self.bases.iter().map(|(k, v)| (k.clone(), v.rank())).collect()
    }

    /// The basis of a layer, if any.
    pub fn basis(&self, name: &LinearName) -> Option<&GpmBasis> {
        self.bases.get(&name.0)
    }
}

/// The InfLoRA method.
pub struct Inflora {
    config: InfloraConfig,
    subspaces: InputSubspaces,
}

impl Inflora {
    /// An InfLoRA run.
    pub fn new(config: InfloraConfig) -> Self {
        Self { config, subspaces: InputSubspaces::default() }
    }
}

impl<B: AutodiffBackend> Method<B> for Inflora {
    fn name(&self) -> &'static str {
        "InfLoRA"
    }
    fn before_task(&mut self, model: &mut ClModel<B>, task: &TaskCtx<'_>) -> Result<()> {
        freeze_all(model);
        self.subspaces.add_designed_branches(model, &self.config.lora, task, self.config.covariance_examples, None)
    }
    fn after_task(&mut self, model: &mut ClModel<B>, task: &TaskCtx<'_>) -> Result<()> {
        if task.index + 1 < task.total {
            self.subspaces.update(model, &self.config.lora, task, self.config.covariance_examples, self.config.gpm_epsilon)?;
        }
        Ok(())
    }
    fn report(&self, _model: &ClModel<B>) -> serde_json::Value {
        serde_json::json!({ "gpm_ranks": self.subspaces.ranks() })
    }
    fn state(&self, _model: &ClModel<B>) -> MethodState {
        MethodState { json: serde_json::to_value(&self.subspaces).expect("bases serialise"), tensors: Default::default() }
    }
    fn restore(&mut self, model: &mut ClModel<B>, state: MethodState, done: usize, _total: usize) -> Result<()> {
        self.subspaces = serde_json::from_value(state.json).map_err(|e| ClError::Method { method: "InfLoRA", msg: format!("bad GPM bases in checkpoint: {e}") })?;
        freeze_all(model);
        for _ in 0..done {
            add_lora_branches(model, &self.config.lora, None)?;
        }
        freeze_all(model);
        Ok(())
    }
}
