//! The gate input: the masked mean of the frozen input token embeddings, `p̄ = Σ_j mask_j e_j / n`.

use burn::tensor::{Tensor, backend::Backend};
use serde::{Deserialize, Serialize};

use super::error::{GateError, Result};

/// The divisor `n` of the masked sum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum PoolDivisor {
    /// The number of real tokens of each sequence: the mean the paper describes (default).
    /// A sequence without real tokens pools to 0.
    #[default]
    ValidTokens,
    /// The padded sequence length `s`, the same for every sequence of the batch: what the
    /// public GainLoRA code computes (its `p̄` shrinks with the padding of the batch).
    PaddedLength,
}

/// `p̄_i = Σ_j mask_ij · emb_ij / n_i` for `emb: [b, s, d]`, `mask: [b, s]` (1 = real token,
/// 0 = padding), `n_i` from `divisor`. Returns `[b, d]`.
///
/// Errors: `mask` not `[b, s]`.
pub fn mean_embedding<B: Backend>(emb: Tensor<B, 3>, mask: Tensor<B, 2>, divisor: PoolDivisor) -> Result<Tensor<B, 2>> {
    let [b, s, d] = emb.dims();
    if mask.dims() != [b, s] {
        return Err(GateError::Shape { op: "mean_embedding", what: "mask must be [batch, seq] of emb [batch, seq, d]", expected: format!("[{b}, {s}]"), got: mask.dims().to_vec() });
    }
    let sum = (emb * mask.clone().unsqueeze_dim::<3>(2)).sum_dim(1).reshape([b, d]);
    Ok(match divisor {
        PoolDivisor::ValidTokens => sum / mask.sum_dim(1).clamp_min(1.0),
        PoolDivisor::PaddedLength => sum / (s.max(1) as f64),
    })
}
