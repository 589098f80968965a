//! IncLoRA: a new LoRA per task; earlier ones frozen; all summed at inference, no constraint.

use burn::tensor::backend::AutodiffBackend;

use super::{LoraSettings, add_lora_branches, freeze_all};
use crate::error::Result;
use crate::method::{Method, MethodState, TaskCtx};
use crate::model::ClModel;

/// Incremental LoRA without any orthogonality constraint.
#[derive(Debug)]
pub struct IncLora {
    lora: LoraSettings,
}

impl IncLora {
    /// An IncLoRA run with these LoRA settings.
    pub fn new(lora: LoraSettings) -> Self {
        Self { lora }
    }
}

impl<B: AutodiffBackend> Method<B> for IncLora {
    fn name(&self) -> &'static str {
        "IncLoRA"
    }
    fn before_task(&mut self, model: &mut ClModel<B>, _task: &TaskCtx<'_>) -> Result<()> {
        freeze_all(model);
        add_lora_branches(model, &self.lora, None)?;
        Ok(())
    }
    fn state(&self, _model: &ClModel<B>) -> MethodState {
        MethodState::default()
    }
    fn restore(&mut self, model: &mut ClModel<B>, _state: MethodState, done: usize, _total: usize) -> Result<()> {
        freeze_all(model);
        for _ in 0..done {
            add_lora_branches(model, &self.lora, None)?;
        }
        freeze_all(model);
        Ok(())
    }
}
