//! The [`Method`] trait: the hooks through which a continual-learning method changes what
//! the engine trains. Each method implements it in one file under [`crate::methods`].
//!
//! Order of calls for task `t` (0-based):
//! `before_task` → `training_examples` → per optimizer step {`extra_loss` (every
//! micro-batch) → backward → `adjust_gradients` → `before_step` → optimizer →
//! `after_step`} → `after_task` → per evaluated task `i ≤ t`: `before_eval(i)` → generate.

use std::collections::BTreeMap;

use burn::optim::GradientsParams;
use burn::tensor::Tensor;
use burn::tensor::backend::AutodiffBackend;
use serde_json::Value;

use crate::encode::EncodedExample;
use crate::error::Result;
use crate::model::ClModel;
use crate::params::HostTensor;

/// What a hook knows about the current task.
#[derive(Debug, Clone, Copy)]
pub struct TaskCtx<'a> {
    /// Index in the order, from 0.
    pub index: usize,
    /// Number of tasks in the run.
    pub total: usize,
    /// Task name.
    pub name: &'a str,
    /// The task's (encoded) training examples.
    pub train: &'a [EncodedExample],
    /// Padding id.
    pub pad_id: u32,
    /// Seed for this task's random choices.
    pub seed: u64,
    /// Micro-batch size of the run (for data passes).
    pub batch_size: usize,
    /// Pad data-pass batches to a multiple of this many tokens (`data.pad_to_multiple`).
    pub pad_multiple: usize,
}

/// A method's saved state: small values as JSON, large arrays as tensors (stored beside the
/// model in the checkpoint's safetensors file under `method.` names).
#[derive(Debug, Clone, Default)]
pub struct MethodState {
    /// Bases, counters, schedules.
    pub json: Value,
    /// Large arrays (Fisher diagonals, anchors), by name.
    pub tensors: BTreeMap<String, HostTensor>,
}

/// A continual-learning method as engine hooks. Every hook but `name`, `before_task`,
/// `state` and `restore` has a no-op default.
pub trait Method<B: AutodiffBackend> {
    /// Short name used in tables (`O-LoRA`, `GainLoRA(InfLoRA)`).
    fn name(&self) -> &'static str;

    /// Before training task `task`: install or replace adapters, set what trains.
    fn before_task(&mut self, model: &mut ClModel<B>, task: &TaskCtx<'_>) -> Result<()>;

    /// The examples to train on for this task (Replay mixes its memory in).
    fn training_examples(&mut self, task: &TaskCtx<'_>) -> Vec<EncodedExample> {
        task.train.to_vec()
    }

    /// Extra loss terms added to the cross-entropy of every micro-batch.
    fn extra_loss(&self, _model: &ClModel<B>) -> Option<Tensor<B, 1>> {
        None
    }

    /// Gradient surgery between backward and the optimizer step.
    fn adjust_gradients(&self, _model: &ClModel<B>, _grads: &mut GradientsParams) {}

    /// Just before the optimizer step (snapshot parameters for update constraints).
    fn before_step(&mut self, _model: &ClModel<B>) {}

    /// Parameter surgery after the optimizer step.
    fn after_step(&mut self, _model: &mut ClModel<B>) {}

    /// Consolidation after the task: merge, freeze, update bases, compute Fisher.
    fn after_task(&mut self, _model: &mut ClModel<B>, _task: &TaskCtx<'_>) -> Result<()> {
        Ok(())
    }

    /// Before evaluating task `task` (PerTaskFT selects that task's adapter).
    fn before_eval(&mut self, _model: &mut ClModel<B>, _task: usize) {}

    /// After all evaluations of a row (undo `before_eval`).
    fn after_eval(&mut self, _model: &mut ClModel<B>) {}

    /// Per-task facts for the results (effective ranks, parameters used).
    fn report(&self, _model: &ClModel<B>) -> Value {
        Value::Null
    }

    /// State to checkpoint after a task (tensors keyed by parameter path where they belong
    /// to a parameter, since ids change between processes).
    fn state(&self, model: &ClModel<B>) -> MethodState;

    /// On resume after `tasks_done` tasks: rebuild the model structure the method had
    /// installed (so the checkpoint's tensors fit) and reload the method's own state.
    fn restore(&mut self, model: &mut ClModel<B>, state: MethodState, tasks_done: usize, total: usize) -> Result<()>;
}
