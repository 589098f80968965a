//! SeqFT: full fine-tuning of every weight, task after task (the forgetting baseline).

use burn::tensor::backend::AutodiffBackend;

use crate::error::Result;
use crate::method::{Method, MethodState, TaskCtx};
use crate::model::ClModel;

/// Sequential full fine-tuning: nothing to install, nothing to consolidate.
#[derive(Debug, Default)]
pub struct SeqFt;

impl<B: AutodiffBackend> Method<B> for SeqFt {
    fn name(&self) -> &'static str {
        "SeqFT"
    }
    fn before_task(&mut self, _model: &mut ClModel<B>, _task: &TaskCtx<'_>) -> Result<()> {
        Ok(())
    }
    fn state(&self, _model: &ClModel<B>) -> MethodState {
        MethodState::default()
    }
    fn restore(&mut self, _model: &mut ClModel<B>, _state: MethodState, _done: usize, _total: usize) -> Result<()> {
        Ok(())
    }
}
