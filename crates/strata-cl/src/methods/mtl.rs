//! MTL: one LoRA trained once on the union of all tasks (an upper bound, not continual).
//! The engine sees [`crate::methods::MethodConfig::is_joint`] and runs a single training
//! phase over every task's examples, then evaluates all tasks.

use burn::tensor::backend::AutodiffBackend;

use super::{LoraSettings, seq_lora::SeqLora};
use crate::error::Result;
use crate::method::{Method, MethodState, TaskCtx};
use crate::model::ClModel;

/// Joint multi-task LoRA training.
#[derive(Debug)]
pub struct Mtl {
    inner: SeqLora,
}

impl Mtl {
    /// An MTL run with these LoRA settings.
    pub fn new(lora: LoraSettings) -> Self {
        Self { inner: SeqLora::new(lora) }
    }
}

impl<B: AutodiffBackend> Method<B> for Mtl {
    fn name(&self) -> &'static str {
        "MTL"
    }
    fn before_task(&mut self, model: &mut ClModel<B>, task: &TaskCtx<'_>) -> Result<()> {
        Method::<B>::before_task(&mut self.inner, model, task)
    }
    fn state(&self, _model: &ClModel<B>) -> MethodState {
        MethodState::default()
    }
    fn restore(&mut self, model: &mut ClModel<B>, state: MethodState, done: usize, total: usize) -> Result<()> {
        Method::<B>::restore(&mut self.inner, model, state, done, total)
    }
}
