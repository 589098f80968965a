//! Replay: SeqFT (or SeqLoRA) plus a memory of a fraction of every old task's training
//! examples, mixed into each later task's training set.

use burn::tensor::backend::AutodiffBackend;
use rand::seq::SliceRandom;
use rand::{SeedableRng, rngs::StdRng};
use serde::{Deserialize, Serialize};

use super::{LoraSettings, seq_ft::SeqFt, seq_lora::SeqLora};
use crate::encode::EncodedExample;
use crate::error::{ClError, Result};
use crate::method::{Method, MethodState, TaskCtx};
use crate::model::ClModel;

/// Replay's hyper-parameters. Default: 2% of each old task (at least one example), on full
/// fine-tuning.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ReplayConfig {
    /// Fraction of each finished task's training set kept in memory.
    pub fraction: f64,
    /// Train LoRA branches (SeqLoRA) instead of all weights (SeqFT).
    pub lora: Option<LoraSettings>,
}

impl Default for ReplayConfig {
    fn default() -> Self {
        Self { fraction: 0.02, lora: None }
    }
}

impl ReplayConfig {
    /// Checks ranges.
    pub fn validate(&self) -> Result<()> {
        if !(self.fraction > 0.0 && self.fraction <= 1.0) {
            return Err(ClError::config(format!("replay.fraction must be in (0, 1], got {}", self.fraction)));
        }
        Ok(())
    }
}

/// Experience replay.
pub struct Replay {
    config: ReplayConfig,
    memory: Vec<EncodedExample>,
    full: SeqFt,
    lora: Option<SeqLora>,
}

impl Replay {
    /// A replay run.
    pub fn new(config: ReplayConfig) -> Self {
        let lora = config.lora.clone().map(SeqLora::new);
        Self { config, memory: Vec::new(), full: SeqFt, lora }
    }

    /// Memory size kept of a task with `n` training examples: `max(1, round(fraction·n))`.
    pub fn kept(&self, n: usize) -> usize {
        ((self.config.fraction * n as f64).round() as usize).clamp(1, n.max(1))
    }

    fn inner<B: AutodiffBackend>(&mut self) -> &mut dyn Method<B> {
        match &mut self.lora {
            Some(l) => l,
            None => &mut self.full,
        }
    }
}

impl<B: AutodiffBackend> Method<B> for Replay {
    fn name(&self) -> &'static str {
        "Replay"
    }
    fn before_task(&mut self, model: &mut ClModel<B>, task: &TaskCtx<'_>) -> Result<()> {
        self.inner::<B>().before_task(model, task)
    }
    fn training_examples(&mut self, task: &TaskCtx<'_>) -> Vec<EncodedExample> {
        task.train.iter().chain(&self.memory).cloned().collect()
    }
    fn after_task(&mut self, _model: &mut ClModel<B>, task: &TaskCtx<'_>) -> Result<()> {
        let mut picked: Vec<&EncodedExample> = task.train.iter().collect();
        picked.shuffle(&mut StdRng::seed_from_u64(task.seed ^ 0x5EED));
        let keep = self.kept(task.train.len());
        self.memory.extend(picked.into_iter().take(keep).cloned());
        Ok(())
    }
    fn state(&self, _model: &ClModel<B>) -> MethodState {
        MethodState { json: serde_json::json!({ "memory": self.memory }), tensors: Default::default() }
    }
    fn restore(&mut self, model: &mut ClModel<B>, state: MethodState, done: usize, total: usize) -> Result<()> {
        self.memory = serde_json::from_value(state.json["memory"].clone()).map_err(|e| ClError::Method { method: "Replay", msg: format!("bad memory in checkpoint: {e}") })?;
        self.inner::<B>().restore(model, MethodState::default(), done, total)
    }
}
