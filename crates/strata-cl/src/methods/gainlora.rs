//! GainLoRA (Liang, Chen & Li, NeurIPS 2025): per task a new LoRA branch (InfLoRA-style:
//! designed, frozen `A_t`; or O-LoRA-style: both factors trained with O-LoRA's penalty) and a
//! new gating module `g_t`; every branch is scaled by its task's gate,
//! `y = W x + Σ_i a_i(x) · s · B_i A_i x`, `a_t = |2σ(4 cos(z, k_t)) − 1|`,
//! `z = SiLU(W2 SiLU(W1 p̄))`, `p̄` the prompt's mean input embedding.
//!
//! Old tasks keep `a_t(x_old) ≈ 0` through GPM bases `M⁰, M¹, M²` of the old `p̄, m, z`:
//! the new gate starts from the previous one with a key orthogonal to `M²`
//! (initialisation constraint), and every optimizer step's change is projected out of the
//! old subspaces, row by row, then rescaled (update constraint).

use burn::module::AutodiffModule;
use burn::tensor::Tensor;
use burn::tensor::backend::AutodiffBackend;
use serde::{Deserialize, Serialize};
use strata_models::strata_adapters::gate::{GateBases, GateCollector, GateSnapshot, GateStatistics, KeySolver, UpdateConstraint, constrain_update_with};
use strata_models::strata_adapters::{GateConfig, GateMemory, GateModule, OloraPenaltySide, PoolDivisor};

use super::inflora::InputSubspaces;
use super::olora::olora_loss;
use super::{LoraSettings, add_lora_branches, freeze_all};
use crate::encode::{EncodedExample, TrainBatch};
use crate::error::{ClError, Result};
use crate::method::{Method, MethodState, TaskCtx};
use crate::model::ClModel;

/// Which LoRA family carries the branches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum GainloraVariant {
    /// GainLoRA(InfLoRA): `A_t` designed and frozen, `B_t` trained.
    #[default]
    Inflora,
    /// GainLoRA(O-LoRA): `A_t`, `B_t` trained with the O-LoRA orthogonality loss.
    Olora,
}

/// GainLoRA's hyper-parameters, defaulting to the paper's: r = 8, α = 32, dropout 0 on q and
/// v; gate width h = 100; GPM ε = 0.995; the update constraint with row rescaling; the
/// paper's masked-mean pooling; O-LoRA variant λ1 = 0.5, λ2 = 0.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct GainloraConfig {
    /// Branch family.
    pub variant: GainloraVariant,
    /// LoRA settings.
    pub lora: LoraSettings,
    /// Gate hidden width h.
    pub gate_hidden: usize,
    /// Pooling of the prompt embeddings (paper: valid-token mean; code: padded length).
    pub pool: PoolDivisor,
    /// GPM threshold base ε for the gate memory and InfLoRA's input bases.
    pub gpm_epsilon: f64,
    /// Apply the update constraint after every optimizer step (off only for ablations).
    pub update_constraint: bool,
    /// Rescale each row to its unprojected norm after projecting (paper and code).
    pub rescale_rows: bool,
    /// O-LoRA variant: orthogonality weight.
    pub lambda1: f64,
    /// O-LoRA variant: L2 weight.
    pub lambda2: f64,
    /// Examples forwarded for each covariance / statistics pass.
    pub statistics_examples: usize,
}

impl Default for GainloraConfig {
    fn default() -> Self {
        Self {
            variant: GainloraVariant::Inflora,
            lora: LoraSettings { dropout: 0.0, ..LoraSettings::default() },
            gate_hidden: 100,
            pool: PoolDivisor::ValidTokens,
            gpm_epsilon: 0.995,
            update_constraint: true,
            rescale_rows: true,
            lambda1: 0.5,
            lambda2: 0.0,
            statistics_examples: 256,
        }
    }
}

impl GainloraConfig {
    /// Checks ranges.
    pub fn validate(&self) -> Result<()> {
        if self.gate_hidden == 0 || !(self.gpm_epsilon > 0.0 && self.gpm_epsilon < 1.0) || self.statistics_examples == 0 {
            return Err(ClError::config("gainlora: gate_hidden ≥ 1, gpm_epsilon in (0, 1), statistics_examples ≥ 1 are required"));
        }
        self.lora.validate()
    }
}

/// The GainLoRA method.
pub struct Gainlora<B: AutodiffBackend> {
    config: GainloraConfig,
    memory: Option<GateMemory>,
    subspaces: InputSubspaces,
    bases: Option<GateBases<B>>,
    snapshot: Option<GateSnapshot<B>>,
}

fn gate_err(e: impl std::fmt::Display) -> ClError {
    ClError::Method { method: "GainLoRA", msg: e.to_string() }
}

impl<B: AutodiffBackend> Gainlora<B> {
    /// A GainLoRA run.
    pub fn new(config: GainloraConfig) -> Self {
        Self { config, memory: None, subspaces: InputSubspaces::default(), bases: None, snapshot: None }
    }

    /// Second moments of `p̄`, `m`, `z` of `gate` over the task's prompts.
    fn gate_statistics(&self, model: &ClModel<B>, gate: &GateModule<B>, task: &TaskCtx<'_>) -> Result<GateStatistics<B::InnerBackend>> {
        let valid = model.valid();
        let gate = gate.valid();
        let device = valid.lm.model.embed_tokens.weight.device();
        let mut collector = GateCollector::new(gate.dim(), gate.hidden(), &device);
        let n = task.train.len().min(self.config.statistics_examples);
        for chunk in task.train[..n].chunks(task.batch_size.max(1)) {
            let refs: Vec<&EncodedExample> = chunk.iter().collect();
            let batch = TrainBatch::from_examples_padded(&refs, task.pad_id, task.pad_multiple)?;
            let p = valid.pooled_embedding(&batch.tokens, &batch.prompt_mask)?;
            let out = gate.forward(p.clone()).map_err(gate_err)?;
            collector.observe(&p, &out).map_err(gate_err)?;
        }
        collector.finish().map_err(gate_err)
    }

    /// The new task's gate: a fresh one with its key from the task's `Cov(z)` (task 1), or the
    /// previous gate's weights with a key orthogonal to `M²` (initialisation constraint).
    fn new_gate(&self, model: &ClModel<B>, task: &TaskCtx<'_>) -> Result<GateModule<B>> {
        let device = model.lm.model.embed_tokens.weight.device();
        let d = model.lm.config.hidden_size;
        let memory = self.memory.clone().unwrap_or_else(|| GateMemory::new(d, self.config.gate_hidden));
        match model.gates.last() {
            None => {
                let mut gate = GateConfig::new(d).with_hidden(self.config.gate_hidden).init::<B>(&device);
                let stats = self.gate_statistics(model, &gate, task)?;
                gate.init_key(&Tensor::from_inner(stats.z), memory.m2(), KeySolver::for_dim(d)).map_err(gate_err)?;
                Ok(gate)
            }
            Some(prev) => {
                let stats = self.gate_statistics(model, prev, task)?;
                GateModule::init_from_previous(prev, &memory, &Tensor::from_inner(stats.z)).map_err(gate_err)
            }
        }
    }

    fn name_of(&self) -> &'static str {
        match self.config.variant {
            GainloraVariant::Inflora => "GainLoRA(InfLoRA)",
            GainloraVariant::Olora => "GainLoRA(O-LoRA)",
        }
    }
}

impl<B: AutodiffBackend> Method<B> for Gainlora<B> {
    fn name(&self) -> &'static str {
        self.name_of()
    }

    fn before_task(&mut self, model: &mut ClModel<B>, task: &TaskCtx<'_>) -> Result<()> {
        freeze_all(model);
        model.pool = self.config.pool;
        // The gate first: InfLoRA's covariance pass then already runs with the old gates.
        let gate = self.new_gate(model, task)?;
        match self.config.variant {
            GainloraVariant::Inflora => self.subspaces.add_designed_branches(model, &self.config.lora, task, self.config.statistics_examples, Some(task.index))?,
            GainloraVariant::Olora => {
                add_lora_branches(model, &self.config.lora, Some(task.index))?;
            }
        }
        model.gates.push(gate);
        let device = model.lm.model.embed_tokens.weight.device();
        self.bases = self.memory.as_ref().map(|m| m.to_device::<B>(&device));
        Ok(())
    }

    fn extra_loss(&self, model: &ClModel<B>) -> Option<Tensor<B, 1>> {
        match self.config.variant {
            GainloraVariant::Olora => olora_loss(model, self.config.lambda1, self.config.lambda2, OloraPenaltySide::DownA),
            GainloraVariant::Inflora => None,
        }
    }

    fn before_step(&mut self, model: &ClModel<B>) {
        if self.config.update_constraint && self.bases.is_some() {
            self.snapshot = model.gates.last().map(GateModule::snapshot);
        }
    }

    fn after_step(&mut self, model: &mut ClModel<B>) {
        if let (Some(before), Some(bases), Some(gate)) = (self.snapshot.take(), &self.bases, model.gates.last_mut()) {
            constrain_update_with(&before, gate, bases, UpdateConstraint { rescale_rows: self.config.rescale_rows }).unwrap_or_else(|e| panic!("GainLoRA update constraint: {e}"));
        }
    }

    fn after_task(&mut self, model: &mut ClModel<B>, task: &TaskCtx<'_>) -> Result<()> {
        if task.index + 1 == task.total {
            return Ok(());
        }
        let gate = model.gates.last().expect("a gate per task").clone();
        let stats = self.gate_statistics(model, &gate, task)?;
        let d = model.lm.config.hidden_size;
        let memory = self.memory.get_or_insert_with(|| GateMemory::new(d, self.config.gate_hidden));
        memory.update_scheduled(&stats, self.config.gpm_epsilon, task.index, task.total).map_err(gate_err)?;
        if self.config.variant == GainloraVariant::Inflora {
            self.subspaces.update(model, &self.config.lora, task, self.config.statistics_examples, self.config.gpm_epsilon)?;
        }
        Ok(())
    }

    fn report(&self, _model: &ClModel<B>) -> serde_json::Value {
        let ranks = self.memory.as_ref().map(|m| [m.m0().rank(), m.m1().rank(), m.m2().rank()]);
        serde_json::json!({ "gate_memory_ranks": ranks, "input_gpm_ranks": self.subspaces.ranks() })
    }

    fn state(&self, _model: &ClModel<B>) -> MethodState {
        MethodState { json: serde_json::json!({ "memory": self.memory, "subspaces": self.subspaces }), tensors: Default::default() }
    }

    fn restore(&mut self, model: &mut ClModel<B>, state: MethodState, done: usize, _total: usize) -> Result<()> {
        self.memory = serde_json::from_value(state.json["memory"].clone()).map_err(gate_err)?;
        self.subspaces = serde_json::from_value(state.json["subspaces"].clone()).map_err(gate_err)?;
        model.pool = self.config.pool;
        let device = model.lm.model.embed_tokens.weight.device();
        let d = model.lm.config.hidden_size;
        freeze_all(model);
        for t in 0..done {
            add_lora_branches(model, &self.config.lora, Some(t))?;
            model.gates.push(GateConfig::new(d).with_hidden(self.config.gate_hidden).init::<B>(&device));
        }
        freeze_all(model);
        Ok(())
    }
}
