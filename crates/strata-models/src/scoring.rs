//! Teacher-forced losses and sequence log-likelihoods for decoder language models.
//!
//! Convention: in a [`TokenBatch`] of `prompt ⧺ target` rows, `loss_mask[b][t] = 1` marks the
//! tokens whose prediction is scored (the target and its EOS). Token `t` is predicted from
//! position `t − 1`, so logits are shifted by one before the loss.

use burn::tensor::activation::log_softmax;
use burn::tensor::{Int, Tensor, TensorData, backend::Backend};
use strata_adapters::AdapterContext;

use crate::batch::{PadSide, TokenBatch};
use crate::decoder::CausalLm;
use crate::error::{ModelError, Result};

/// Per-token log-probabilities of the observed next tokens: `[b, s − 1]`, entry `t` is
/// `log p(ids[t + 1] | ids[..=t])`.
pub fn next_token_log_probs<B: Backend>(logits: Tensor<B, 3>, batch: &TokenBatch) -> Tensor<B, 2> {
    let [b, s, v] = logits.dims();
    let device = logits.device();
    let logp = log_softmax(logits.slice([0..b, 0..s - 1, 0..v]), 2);
    let next: Vec<i32> = (0..b).flat_map(|r| batch.ids[r * s + 1..(r + 1) * s].iter().map(|&i| i as i32)).collect();
    let next = Tensor::<B, 2, Int>::from_data(TensorData::new(next, [b, s - 1]), &device);
    logp.gather(2, next.unsqueeze_dim(2)).reshape([b, s - 1])
}

/// Mean negative log-likelihood over the tokens with `loss_mask = 1` (`batch·seq` values;
/// the first column can never be scored). The trainers' loss: `−Σ m_t log p_t / Σ m_t`.
///
/// Only the scored positions go through the LM head: a prompt of a few hundred tokens with a
/// short answer costs one `[n_scored, d] × [d, vocab]` product instead of `[b·s, d] × [d, vocab]`.
pub fn masked_lm_loss<B: Backend>(model: &CausalLm<B>, batch: &TokenBatch, loss_mask: &[u8], ctx: &AdapterContext<B>) -> Result<Tensor<B, 1>> {
    let weights = shifted_mask(batch, loss_mask)?;
    let (s, w) = (batch.seq, batch.seq - 1);
    // Row r, column t of the shifted mask: position r·s + t predicts token ids[r·s + t + 1].
    let (mut rows, mut targets) = (Vec::new(), Vec::new());
    for r in 0..batch.batch {
        for t in 0..w {
            if weights[r * w + t] > 0.0 {
                rows.push((r * s + t) as i32);
                targets.push(batch.ids[r * s + t + 1] as i32);
            }
        }
    }
    if rows.is_empty() {
        return Err(ModelError::Input("loss mask selects no token".into()));
    }
    let n = rows.len();
    let hidden = model.hidden(batch, None, ctx);
    let device = hidden.device();
    let d = hidden.dims()[2];
    let picked = hidden.reshape([batch.batch * s, d]).select(0, Tensor::<B, 1, Int>::from_data(TensorData::new(rows, [n]), &device));
    let logits = model.logits(picked.reshape([1, n, d])).reshape([n, model.config().vocab_size]);
    let logp = log_softmax(logits, 1);
    let targets = Tensor::<B, 2, Int>::from_data(TensorData::new(targets, [n, 1]), &device);
    Ok(logp.gather(1, targets).sum().neg() / n as f64)
}

/// `loss_mask` without its first column, as f32 (`[b, s − 1]` row-major).
fn shifted_mask(batch: &TokenBatch, loss_mask: &[u8]) -> Result<Vec<f32>> {
    let (b, s) = (batch.batch, batch.seq);
    if loss_mask.len() != b * s {
        return Err(ModelError::Input(format!("loss mask has {} values, batch has {}", loss_mask.len(), b * s)));
    }
    if s < 2 {
        return Err(ModelError::Input("sequences need at least two tokens to score a prediction".into()));
    }
    Ok((0..b).flat_map(|r| loss_mask[r * s + 1..(r + 1) * s].iter().map(|&m| m as f32)).collect())
}

/// A right-padded batch of `prompt ⧺ continuation` rows and the mask selecting the
/// continuation tokens.
pub fn prompt_continuation_batch(prompts: &[Vec<u32>], continuations: &[Vec<u32>], pad_id: u32) -> Result<(TokenBatch, Vec<u8>)> {
    if prompts.len() != continuations.len() {
        return Err(ModelError::Input(format!("{} prompts but {} continuations", prompts.len(), continuations.len())));
    }
    if let Some(i) = prompts.iter().position(Vec::is_empty) {
        return Err(ModelError::Input(format!("prompt {i} is empty: a continuation needs a token to condition on")));
    }
    let rows: Vec<Vec<u32>> = prompts.iter().zip(continuations).map(|(p, c)| p.iter().chain(c).copied().collect()).collect();
    let batch = TokenBatch::pad(&rows, pad_id, PadSide::Right)?;
    let mut mask = vec![0u8; batch.batch * batch.seq];
    for (r, (p, c)) in prompts.iter().zip(continuations).enumerate() {
        for t in p.len()..p.len() + c.len() {
            mask[r * batch.seq + t] = 1;
        }
    }
    Ok((batch, mask))
}

/// `log p(continuation | prompt)` per row, summed over the continuation's tokens (label
/// scoring for classification).
pub fn sequence_log_likelihood<B: Backend>(model: &CausalLm<B>, prompts: &[Vec<u32>], continuations: &[Vec<u32>], pad_id: u32, ctx: &AdapterContext<B>) -> Result<Vec<f64>> {
    let (batch, mask) = prompt_continuation_batch(prompts, continuations, pad_id)?;
    batch.check_vocab(model.config().vocab_size)?;
    let weights = shifted_mask(&batch, &mask)?;
    let logp: Vec<f32> = next_token_log_probs(model.forward(&batch, ctx), &batch).to_data().iter::<f32>().collect();
    let width = batch.seq - 1;
    Ok((0..batch.batch).map(|r| (0..width).map(|t| (logp[r * width + t] * weights[r * width + t]) as f64).sum()).collect())
}
