//! SeqLoRA: one LoRA on the frozen base, trained on every task in turn.

use burn::tensor::backend::AutodiffBackend;

use super::{LoraSettings, add_lora_branches, freeze_all};
use crate::error::Result;
use crate::method::{Method, MethodState, TaskCtx};
use crate::model::ClModel;

/// One shared LoRA branch per target layer.
#[derive(Debug)]
pub struct SeqLora {
    lora: LoraSettings,
    installed: bool,
}

impl SeqLora {
    /// A SeqLoRA run with these LoRA settings.
    pub fn new(lora: LoraSettings) -> Self {
        Self { lora, installed: false }
    }

    fn install<B: AutodiffBackend>(&mut self, model: &mut ClModel<B>) -> Result<()> {
        if !self.installed {
            freeze_all(model);
            add_lora_branches(model, &self.lora, None)?;
            self.installed = true;
        }
        Ok(())
    }
}

impl<B: AutodiffBackend> Method<B> for SeqLora {
    fn name(&self) -> &'static str {
        "SeqLoRA"
    }
    fn before_task(&mut self, model: &mut ClModel<B>, _task: &TaskCtx<'_>) -> Result<()> {
        self.install(model)
    }
    fn state(&self, _model: &ClModel<B>) -> MethodState {
        MethodState::default()
    }
    fn restore(&mut self, model: &mut ClModel<B>, _state: MethodState, _done: usize, _total: usize) -> Result<()> {
        self.install(model)
    }
}
