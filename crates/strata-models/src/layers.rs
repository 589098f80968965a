//! Building blocks shared by the architectures: RMSNorm, rotary embeddings, attention with
//! grouped-query heads, additive masks, and the tanh-GELU.

use burn::module::{Module, Param};
use burn::tensor::activation::softmax;
use burn::tensor::{Int, Tensor, TensorData, backend::Backend};

/// Additive mask value for disallowed attention (large negative, finite in f32 and bf16).
pub const MASK_VALUE: f32 = -1e9;

/// RMSNorm: `y = x / √(mean(x²) + ε) · w` (LLaMA's RMSNorm, T5's LayerNorm).
#[derive(Module, Debug)]
pub struct RmsNorm<B: Backend> {
    /// Scale `w: [d]`.
    pub weight: Param<Tensor<B, 1>>,
    /// ε.
    pub eps: f64,
}

impl<B: Backend> RmsNorm<B> {
    /// A norm from a loaded scale.
    pub fn new(weight: Param<Tensor<B, 1>>, eps: f64) -> Self {
        Self { weight, eps }
    }

    /// Normalises the last dimension of `x: [batch, seq, d]`.
    pub fn forward(&self, x: Tensor<B, 3>) -> Tensor<B, 3> {
        let rms = (x.clone().powf_scalar(2.0).mean_dim(2) + self.eps).sqrt();
        x / rms * self.weight.val().unsqueeze_dim::<2>(0).unsqueeze_dim(0)
    }
}

/// `0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))` — HF's `gelu_new`, used by T5 v1.1.
pub fn gelu_tanh<const D: usize, B: Backend>(x: Tensor<B, D>) -> Tensor<B, D> {
    let inner = (x.clone() + x.clone().powf_scalar(3.0) * 0.044715) * (2.0f64 / std::f64::consts::PI).sqrt();
    x * (inner.tanh() + 1.0) * 0.5
}

/// cos/sin tables of rotate-half RoPE for given positions: `[batch, 1, seq, head_dim]` each.
///
/// `inv_freq_i = θ^{-2i/d}`, angle `= pos · inv_freq`, duplicated over both halves; computed
/// on the host in f64 so long positions stay exact in low-precision backends.
pub fn rope_tables<B: Backend>(positions: &[Vec<usize>], head_dim: usize, theta: f64, device: &B::Device) -> (Tensor<B, 4>, Tensor<B, 4>) {
    let b = positions.len();
    let s = positions.first().map_or(0, Vec::len);
    let half = head_dim / 2;
    let mut cos = Vec::with_capacity(b * s * head_dim);
    let mut sin = Vec::with_capacity(b * s * head_dim);
    for row in positions {
        for &p in row {
            for _half in 0..2 {
                for i in 0..half {
                    let inv = theta.powf(-2.0 * i as f64 / head_dim as f64);
                    let angle = p as f64 * inv;
                    cos.push(angle.cos() as f32);
                    sin.push(angle.sin() as f32);
                }
            }
        }
    }
    let shape = [b, 1, s, head_dim];
    (Tensor::from_data(TensorData::new(cos, shape), device), Tensor::from_data(TensorData::new(sin, shape), device))
}

/// Applies rotate-half RoPE to `x: [batch, heads, seq, head_dim]`:
/// `x·cos + rotate_half(x)·sin`, `rotate_half([x1, x2]) = [−x2, x1]`.
pub fn apply_rope<B: Backend>(x: Tensor<B, 4>, cos: &Tensor<B, 4>, sin: &Tensor<B, 4>) -> Tensor<B, 4> {
    let [b, h, s, d] = x.dims();
    let half = d / 2;
    let x1 = x.clone().slice([0..b, 0..h, 0..s, 0..half]);
    let x2 = x.clone().slice([0..b, 0..h, 0..s, half..d]);
    let rotated = Tensor::cat(vec![x2.neg(), x1], 3);
    x * cos.clone() + rotated * sin.clone()
}

/// Repeats each of `kv` heads `n_rep` times: `[b, kv, s, d] → [b, kv·n_rep, s, d]`
/// (HF's `repeat_kv`: head `i` of the output reads kv head `i / n_rep`).
pub fn repeat_kv<B: Backend>(x: Tensor<B, 4>, n_rep: usize) -> Tensor<B, 4> {
    if n_rep == 1 {
        return x;
    }
    let [b, kv, s, d] = x.dims();
    x.unsqueeze_dim::<5>(2).expand([b, kv, n_rep, s, d]).reshape([b, kv * n_rep, s, d])
}

/// Scaled dot-product attention: `softmax(q kᵀ · scale + bias) v`.
/// `q: [b, h, sq, d]`, `k, v: [b, h, sk, d]`, `bias` broadcastable to `[b, h, sq, sk]`.
pub fn attention<B: Backend>(q: Tensor<B, 4>, k: Tensor<B, 4>, v: Tensor<B, 4>, bias: Tensor<B, 4>, scale: f64) -> Tensor<B, 4> {
    let scores = q.matmul(k.swap_dims(2, 3)) * scale + bias;
    softmax(scores, 3).matmul(v)
}

/// Additive bias `[b, 1, sq, sk]` for queries at positions `past..past+sq` over keys
/// `0..sk` (`sk = past + sq`): `MASK_VALUE` where the key is padding (`key_mask = 0`) or,
/// if `causal`, in the future of the query.
pub fn attention_bias<B: Backend>(key_mask: &Tensor<B, 2>, sq: usize, causal: bool) -> Tensor<B, 4> {
    let [b, sk] = key_mask.dims();
    let device = key_mask.device();
    let pad = (key_mask.clone().neg() + 1.0).reshape([b, 1, 1, sk]) * MASK_VALUE;
    if !causal {
        return pad;
    }
    let past = sk - sq;
    let future: Vec<f32> = (0..sq)
        .flat_map(|i| (0..sk).map(move |j| if j > past + i { MASK_VALUE } else { 0.0 }))
        .collect();
    let future = Tensor::<B, 2>::from_data(TensorData::new(future, [sq, sk]), &device).reshape([1, 1, sq, sk]);
    // A key both padded and in the future must stay finite: clamp the sum.
    (pad + future).clamp_min(MASK_VALUE)
}

/// Up to this many rows, [`tied_logits`] multiplies the embedding from the left.
pub const TIED_HEAD_LEFT_ROWS: usize = 256;

/// Logits of an LM head tied to the token embedding `e: [vocab, d]`: `h·eᵀ`,
/// `[b, s, d] → [b, s, vocab]`.
///
/// With few rows (`b·s ≤` [`TIED_HEAD_LEFT_ROWS`]: generation and evaluation) it is computed
/// as `(e·hᵀ)ᵀ`, which transposes only the small operands; on the ndarray backend the
/// strided `[d, vocab]` view of `eᵀ` is the costlier operand to copy (SmolLM2 CPU generation
/// 6.0 → 9.7 tokens/s, docs/benchmarks.md). Training batches keep the `h·eᵀ` form, whose
/// output needs no transpose.
pub fn tied_logits<B: Backend>(hidden: Tensor<B, 3>, embedding: Tensor<B, 2>) -> Tensor<B, 3> {
    let [b, s, d] = hidden.dims();
    let vocab = embedding.dims()[0];
    let h = hidden.reshape([b * s, d]);
    let logits = if b * s <= TIED_HEAD_LEFT_ROWS { embedding.matmul(h.transpose()).transpose() } else { h.matmul(embedding.transpose()) };
    logits.reshape([b, s, vocab])
}

/// Token ids `[batch, seq]` as an Int tensor.
pub fn ids_tensor<B: Backend>(ids: &[u32], batch: usize, seq: usize, device: &B::Device) -> Tensor<B, 2, Int> {
    let v: Vec<i32> = ids.iter().map(|&i| i as i32).collect();
    Tensor::from_data(TensorData::new(v, [batch, seq]), device)
}

/// Cached keys and values of one attention layer: `[batch, kv_heads, past, head_dim]`.
#[derive(Debug, Clone, Default)]
pub struct LayerKv<B: Backend> {
    /// Keys (after RoPE where the model uses it).
    pub k: Option<Tensor<B, 4>>,
    /// Values.
    pub v: Option<Tensor<B, 4>>,
}

impl<B: Backend> LayerKv<B> {
    /// Appends this step's `k, v` (`[b, h, s, d]`) after the cached ones along the sequence
    /// axis, stores the result, and returns the full keys and values.
    pub fn append(&mut self, k: Tensor<B, 4>, v: Tensor<B, 4>) -> (Tensor<B, 4>, Tensor<B, 4>) {
        let (k, v) = match (self.k.take(), self.v.take()) {
            (Some(pk), Some(pv)) => (Tensor::cat(vec![pk, k], 2), Tensor::cat(vec![pv, v], 2)),
            _ => (k, v),
        };
        self.k = Some(k.clone());
        self.v = Some(v.clone());
        (k, v)
    }
}

/// `[b, s, heads·d] → [b, heads, s, d]`.
pub fn split_heads<B: Backend>(x: Tensor<B, 3>, heads: usize, head_dim: usize) -> Tensor<B, 4> {
    let [b, s, _] = x.dims();
    x.reshape([b, s, heads, head_dim]).swap_dims(1, 2)
}

/// `[b, heads, s, d] → [b, s, heads·d]`, the inverse of [`split_heads`].
pub fn merge_heads<B: Backend>(x: Tensor<B, 4>) -> Tensor<B, 3> {
    let [b, h, s, d] = x.dims();
    x.swap_dims(1, 2).reshape([b, s, h * d])
}
