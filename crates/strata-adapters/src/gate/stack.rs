//! All tasks' gates, evaluated together into the `[batch, T]` gate matrix of [`AdapterContext`].

use burn::module::Module;
use burn::tensor::{Tensor, backend::Backend};

use super::error::{GateError, Result};
use super::module::GateModule;
use crate::context::AdapterContext;

/// The gates `g_1 … g_T` of all tasks so far. Gate `i` scales the LoRA branches with
/// `gate = Some(i)`. Only the last gate trains: [`GateStack::push`] freezes the others
/// (`require_grad = false`), so an optimizer over the whole stack updates only the newest.
#[derive(Module, Debug)]
pub struct GateStack<B: Backend> {
    /// One gate per task, in task order.
    pub gates: Vec<GateModule<B>>,
}

impl<B: Backend> Default for GateStack<B> {
    fn default() -> Self {
        Self { gates: Vec::new() }
    }
}

impl<B: Backend> GateStack<B> {
    /// An empty stack.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of gates T.
    pub fn len(&self) -> usize {
        self.gates.len()
    }

    /// Whether no gate was pushed yet.
    pub fn is_empty(&self) -> bool {
        self.gates.is_empty()
    }

    /// Freezes every gate (`require_grad = false` on all parameters), e.g. after the last task.
    pub fn freeze_all(&mut self) {
        self.gates = std::mem::take(&mut self.gates).into_iter().map(Module::no_grad).collect();
    }

    /// Freezes all gates so far and appends `gate` (left as given, normally trainable) as the
    /// new task's gate; returns its index.
    pub fn push(&mut self, gate: GateModule<B>) -> usize {
        self.freeze_all();
        self.gates.push(gate);
        self.gates.len() - 1
    }

    /// The newest gate.
    pub fn last(&self) -> Option<&GateModule<B>> {
        self.gates.last()
    }

    /// The newest gate, mutably (for [`super::constrain_update`]).
    pub fn last_mut(&mut self) -> Option<&mut GateModule<B>> {
        self.gates.last_mut()
    }

    /// `[a_1(p̄), …, a_T(p̄)]` as `[b, T]` for `p̄: [b, d]`.
    ///
    /// Errors: empty stack, `p̄` not `[b, d]`.
    pub fn gates(&self, p: Tensor<B, 2>) -> Result<Tensor<B, 2>> {
        if self.gates.is_empty() {
            return Err(GateError::EmptyStack { op: "GateStack::gates" });
        }
        let columns = self
            .gates
            .iter()
            .map(|g| g.forward(p.clone()).map(|out| out.a.unsqueeze_dim::<2>(1)))
            .collect::<Result<Vec<_>>>()?;
        Ok(Tensor::cat(columns, 1))
    }

    /// An [`AdapterContext`] carrying [`GateStack::gates`].
    pub fn context(&self, p: Tensor<B, 2>) -> Result<AdapterContext<B>> {
        Ok(AdapterContext { gates: Some(self.gates(p)?), token_mask: None })
    }
}
