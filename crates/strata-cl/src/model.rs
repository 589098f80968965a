//! [`ClModel`]: the model a continual-learning run trains — the language model plus the
//! per-forward adapter inputs some methods need (task gates, an oracle task id).

use burn::module::Module;
use burn::tensor::{Tensor, TensorData, backend::Backend};
use strata_models::strata_adapters::gate::mean_embedding;
use strata_models::strata_adapters::{AdaptableModel, AdaptedLinear, AdapterContext, GateStack, LinearName, PoolDivisor, ResidualSlot};
use strata_models::{CausalLm, TokenBatch, masked_lm_loss};

use crate::error::{ClError, Result};

/// The trained model: a causal LM whose adaptable layers methods modify through the
/// [`AdaptableModel`] seam.
#[derive(Module, Debug)]
pub struct ClModel<B: Backend> {
    /// The language model (base weights and installed adapters).
    pub lm: CausalLm<B>,
    /// GainLoRA's task gates (empty for every other method): one scalar per task per
    /// sequence from the prompt's mean input embedding, shared by all layers.
    pub gates: GateStack<B>,
    /// How the gates pool the prompt's embeddings.
    #[module(skip)]
    pub pool: PoolDivisor,
    /// With `Some(i)`, the adapter context routes all weight to gated branch `i` (a one-hot
    /// gate vector over `n_gates` columns): evaluation *with* the task id (PerTaskFT).
    #[module(skip)]
    pub oracle_task: Option<OracleTask>,
}

/// A one-hot task selection over `n_gates` gated branches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OracleTask {
    /// The selected task.
    pub task: usize,
    /// Number of gate columns.
    pub n_gates: usize,
}

impl<B: Backend> ClModel<B> {
    /// Wraps a language model.
    pub fn new(lm: CausalLm<B>) -> Self {
        Self { lm, gates: GateStack::new(), pool: PoolDivisor::default(), oracle_task: None }
    }

    /// `input_mask` (`batch·seq` 0/1 values) as a `[b, s]` tensor on the model's device.
    fn mask_tensor(&self, batch: &TokenBatch, input_mask: &[u8]) -> Tensor<B, 2> {
        let device = self.lm.model.embed_tokens.weight.device();
        Tensor::from_data(TensorData::new(input_mask.iter().map(|&m| m as f32).collect::<Vec<_>>(), [batch.batch, batch.seq]), &device)
    }

    /// The mean prompt embedding `p̄: [b, d]` the gates read (masked by `input_mask`).
    pub fn pooled_embedding(&self, batch: &TokenBatch, input_mask: &[u8]) -> Result<Tensor<B, 2>> {
        self.pool_masked(batch, self.mask_tensor(batch, input_mask))
    }

    fn pool_masked(&self, batch: &TokenBatch, mask: Tensor<B, 2>) -> Result<Tensor<B, 2>> {
        mean_embedding(self.lm.embed(batch).detach(), mask, self.pool).map_err(|e| ClError::Method { method: "GainLoRA", msg: e.to_string() })
    }

    /// The adapter context for a batch whose real tokens are `input_mask`'s ones (the
    /// prompt part for gates; all tokens for layer statistics).
    pub fn context(&self, batch: &TokenBatch, input_mask: &[u8]) -> Result<AdapterContext<B>> {
        let mask = self.mask_tensor(batch, input_mask);
        let device = mask.device();
        if !self.gates.is_empty() {
            let p = self.pool_masked(batch, mask.clone())?;
            let gates = self.gates.gates(p).map_err(|e| ClError::Method { method: "GainLoRA", msg: e.to_string() })?;
            return Ok(AdapterContext { gates: Some(gates), token_mask: Some(mask) });
        }
        let gates = self.oracle_task.map(|o| {
            let mut one_hot = vec![0f32; batch.batch * o.n_gates];
            for row in one_hot.chunks_mut(o.n_gates) {
                row[o.task] = 1.0;
            }
            Tensor::<B, 2>::from_data(TensorData::new(one_hot, [batch.batch, o.n_gates]), &device)
        });
        Ok(AdapterContext { gates, token_mask: Some(mask) })
    }

    /// Teacher-forced loss on the `loss_mask` tokens; the context is built from the prompt
    /// tokens (`prompt_mask`).
    pub fn loss(&self, batch: &TokenBatch, loss_mask: &[u8], prompt_mask: &[u8]) -> Result<Tensor<B, 1>> {
        let ctx = self.context(batch, prompt_mask)?;
        Ok(masked_lm_loss(&self.lm, batch, loss_mask, &ctx)?)
    }
}

impl<B: Backend> AdaptableModel<B> for ClModel<B> {
    fn visit_linears_mut(&mut self, f: &mut dyn FnMut(&LinearName, &mut AdaptedLinear<B>)) {
        self.lm.visit_linears_mut(f)
    }
    fn visit_linears(&self, f: &mut dyn FnMut(&LinearName, &AdaptedLinear<B>)) {
        self.lm.visit_linears(f)
    }
    fn visit_residual_slots_mut(&mut self, f: &mut dyn FnMut(&str, &mut ResidualSlot<B>)) {
        self.lm.visit_residual_slots_mut(f)
    }
    fn visit_residual_slots(&self, f: &mut dyn FnMut(&str, &ResidualSlot<B>)) {
        self.lm.visit_residual_slots(f)
    }
}
