//! PerTaskFT: a separate LoRA per task, evaluated with the task id (an upper bound that
//! cannot forget). Each task's branch is routed through its own one-hot gate column.

use burn::tensor::backend::AutodiffBackend;

use super::{LoraSettings, add_lora_branches, freeze_all};
use crate::error::Result;
use crate::method::{Method, MethodState, TaskCtx};
use crate::model::{ClModel, OracleTask};

/// One LoRA per task; the oracle task id selects it.
#[derive(Debug)]
pub struct PerTaskFt {
    lora: LoraSettings,
    total: usize,
}

impl PerTaskFt {
    /// A PerTaskFT run with these LoRA settings.
    pub fn new(lora: LoraSettings) -> Self {
        Self { lora, total: 0 }
    }
}

impl<B: AutodiffBackend> Method<B> for PerTaskFt {
    fn name(&self) -> &'static str {
        "PerTaskFT"
    }
    fn before_task(&mut self, model: &mut ClModel<B>, task: &TaskCtx<'_>) -> Result<()> {
        self.total = task.total;
        freeze_all(model);
        add_lora_branches(model, &self.lora, Some(task.index))?;
        model.oracle_task = Some(OracleTask { task: task.index, n_gates: task.total });
        Ok(())
    }
    fn before_eval(&mut self, model: &mut ClModel<B>, task: usize) {
        model.oracle_task = Some(OracleTask { task, n_gates: self.total });
    }
    fn after_eval(&mut self, model: &mut ClModel<B>) {
        model.oracle_task = None;
    }
    fn state(&self, _model: &ClModel<B>) -> MethodState {
        MethodState::default()
    }
    fn restore(&mut self, model: &mut ClModel<B>, _state: MethodState, done: usize, total: usize) -> Result<()> {
        self.total = total;
        freeze_all(model);
        for t in 0..done {
            add_lora_branches(model, &self.lora, Some(t))?;
        }
        freeze_all(model);
        Ok(())
    }
}
