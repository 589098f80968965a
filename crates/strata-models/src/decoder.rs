//! LLaMA-family decoders (LLaMA-2/3, SmolLM2, Qwen2, Mistral) with Hugging Face module names.
//!
//! Block: `h = x + attn(RMSNorm(x))`, `y = h + MLP(RMSNorm(h))`, MLP = `down(SiLU(gate x) ⊙ up x)`;
//! attention with rotate-half RoPE and grouped-query heads. Every projection is an
//! [`AdaptedLinear`]; residual adapter slots sit after each sublayer.

use burn::module::Module;
use burn::nn::Embedding;
use burn::tensor::activation::silu;
use burn::tensor::module::embedding;
use burn::tensor::{Tensor, TensorData, backend::Backend};
use strata_adapters::{AdaptableModel, AdaptedLinear, AdapterContext, LinearName, ResidualSlot};

use crate::batch::TokenBatch;
use crate::config::DecoderConfig;
use crate::error::Result;
use crate::layers::{RmsNorm, apply_rope, attention, attention_bias, ids_tensor, merge_heads, repeat_kv, rope_tables, split_heads, tied_logits};
use crate::weights::Loader;

pub use crate::layers::LayerKv;

/// The KV cache of a whole decoder.
#[derive(Debug, Clone)]
pub struct KvCache<B: Backend> {
    /// One entry per layer.
    pub layers: Vec<LayerKv<B>>,
}

impl<B: Backend> KvCache<B> {
    /// An empty cache for `n_layers`.
    pub fn new(n_layers: usize) -> Self {
        Self { layers: (0..n_layers).map(|_| LayerKv { k: None, v: None }).collect() }
    }

    /// Tokens already cached.
    pub fn len(&self) -> usize {
        self.layers.first().and_then(|l| l.k.as_ref()).map_or(0, |k| k.dims()[2])
    }

    /// Whether nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Self-attention with RoPE and grouped-query heads.
#[derive(Module, Debug)]
pub struct DecoderAttention<B: Backend> {
    /// Query projection `d → heads·head_dim`.
    pub q_proj: AdaptedLinear<B>,
    /// Key projection `d → kv_heads·head_dim`.
    pub k_proj: AdaptedLinear<B>,
    /// Value projection `d → kv_heads·head_dim`.
    pub v_proj: AdaptedLinear<B>,
    /// Output projection `heads·head_dim → d`.
    pub o_proj: AdaptedLinear<B>,
    /// Query heads.
    pub n_heads: usize,
    /// Key/value heads.
    pub n_kv_heads: usize,
    /// Per-head width.
    pub head_dim: usize,
}

impl<B: Backend> DecoderAttention<B> {
    /// `x: [b, s, d]` → `[b, s, d]`; appends this call's keys and values to `cache` if given.
    pub fn forward(&self, x: Tensor<B, 3>, rope: &(Tensor<B, 4>, Tensor<B, 4>), bias: &Tensor<B, 4>, cache: Option<&mut LayerKv<B>>, ctx: &AdapterContext<B>) -> Tensor<B, 3> {
        let q = apply_rope(split_heads(self.q_proj.forward(x.clone(), ctx), self.n_heads, self.head_dim), &rope.0, &rope.1);
        let k = apply_rope(split_heads(self.k_proj.forward(x.clone(), ctx), self.n_kv_heads, self.head_dim), &rope.0, &rope.1);
        let v = split_heads(self.v_proj.forward(x, ctx), self.n_kv_heads, self.head_dim);
        let (k, v) = match cache {
            Some(cache) => cache.append(k, v),
            None => (k, v),
        };
        let rep = self.n_heads / self.n_kv_heads;
        let out = attention(q, repeat_kv(k, rep), repeat_kv(v, rep), bias.clone(), 1.0 / (self.head_dim as f64).sqrt());
        self.o_proj.forward(merge_heads(out), ctx)
    }
}

/// The SwiGLU MLP: `down(SiLU(gate x) ⊙ up x)`.
#[derive(Module, Debug)]
pub struct DecoderMlp<B: Backend> {
    /// `d → ffn`.
    pub gate_proj: AdaptedLinear<B>,
    /// `d → ffn`.
    pub up_proj: AdaptedLinear<B>,
    /// `ffn → d`.
    pub down_proj: AdaptedLinear<B>,
}

impl<B: Backend> DecoderMlp<B> {
    /// `x: [b, s, d]` → `[b, s, d]`.
    pub fn forward(&self, x: Tensor<B, 3>, ctx: &AdapterContext<B>) -> Tensor<B, 3> {
        let h = silu(self.gate_proj.forward(x.clone(), ctx)) * self.up_proj.forward(x, ctx);
        self.down_proj.forward(h, ctx)
    }
}

/// One decoder block.
#[derive(Module, Debug)]
pub struct DecoderLayer<B: Backend> {
    /// Norm before attention.
    pub input_layernorm: RmsNorm<B>,
    /// Self-attention.
    pub self_attn: DecoderAttention<B>,
    /// Norm before the MLP.
    pub post_attention_layernorm: RmsNorm<B>,
    /// MLP.
    pub mlp: DecoderMlp<B>,
    /// Residual adapters on the attention output (identity when empty).
    pub after_attention: ResidualSlot<B>,
    /// Residual adapters on the MLP output (identity when empty).
    pub after_mlp: ResidualSlot<B>,
}

impl<B: Backend> DecoderLayer<B> {
    /// `x: [b, s, d]` → `[b, s, d]`.
    pub fn forward(&self, x: Tensor<B, 3>, rope: &(Tensor<B, 4>, Tensor<B, 4>), bias: &Tensor<B, 4>, cache: Option<&mut LayerKv<B>>, ctx: &AdapterContext<B>) -> Tensor<B, 3> {
        let attn = self.self_attn.forward(self.input_layernorm.forward(x.clone()), rope, bias, cache, ctx);
        let h = x + self.after_attention.forward(attn);
        let mlp = self.mlp.forward(self.post_attention_layernorm.forward(h.clone()), ctx);
        h + self.after_mlp.forward(mlp)
    }
}

/// The decoder stack (HF `model.*`).
#[derive(Module, Debug)]
pub struct DecoderModel<B: Backend> {
    /// Token embeddings `[vocab, d]`.
    pub embed_tokens: Embedding<B>,
    /// Blocks.
    pub layers: Vec<DecoderLayer<B>>,
    /// Final norm.
    pub norm: RmsNorm<B>,
}

/// A causal language model: the decoder stack and an LM head (tied to the embeddings or not).
#[derive(Module, Debug)]
pub struct CausalLm<B: Backend> {
    /// The decoder stack.
    pub model: DecoderModel<B>,
    /// Untied LM head `d → vocab`; `None` when tied to `model.embed_tokens`.
    pub lm_head: Option<AdaptedLinear<B>>,
    /// The configuration it was built from.
    #[module(skip)]
    pub config: DecoderConfig,
}

impl<B: Backend> CausalLm<B> {
    /// Builds the model from weights with HF names, checking every shape against `config`.
    pub fn load(config: &DecoderConfig, loader: &Loader<'_, B>) -> Result<Self> {
        let d = config.hidden_size;
        let (h, kv, hd) = (config.num_attention_heads, config.kv_heads(), config.head_dim());
        let norm = |name: &str| -> Result<RmsNorm<B>> { Ok(RmsNorm::new(loader.param(name, [d])?, config.rms_norm_eps)) };
        let mut layers = Vec::with_capacity(config.num_hidden_layers);
        for i in 0..config.num_hidden_layers {
            let p = format!("model.layers.{i}");
            layers.push(DecoderLayer {
                input_layernorm: norm(&format!("{p}.input_layernorm.weight"))?,
                self_attn: DecoderAttention {
                    q_proj: loader.linear(&format!("{p}.self_attn.q_proj"), d, h * hd, config.qkv_bias())?,
                    k_proj: loader.linear(&format!("{p}.self_attn.k_proj"), d, kv * hd, config.qkv_bias())?,
                    v_proj: loader.linear(&format!("{p}.self_attn.v_proj"), d, kv * hd, config.qkv_bias())?,
                    o_proj: loader.linear(&format!("{p}.self_attn.o_proj"), h * hd, d, config.o_bias())?,
                    n_heads: h,
                    n_kv_heads: kv,
                    head_dim: hd,
                },
                post_attention_layernorm: norm(&format!("{p}.post_attention_layernorm.weight"))?,
                mlp: DecoderMlp {
                    gate_proj: loader.linear(&format!("{p}.mlp.gate_proj"), d, config.intermediate_size, config.mlp_bias)?,
                    up_proj: loader.linear(&format!("{p}.mlp.up_proj"), d, config.intermediate_size, config.mlp_bias)?,
                    down_proj: loader.linear(&format!("{p}.mlp.down_proj"), config.intermediate_size, d, config.mlp_bias)?,
                },
                after_attention: ResidualSlot::default(),
                after_mlp: ResidualSlot::default(),
            });
        }
        let embed = loader.param("model.embed_tokens.weight", [config.vocab_size, d])?;
        // Some tied checkpoints still ship lm_head.weight; tie only when it is absent.
        let lm_head = if config.tie_word_embeddings && !loader.contains("lm_head.weight") {
            None
        } else {
            Some(loader.linear("lm_head", d, config.vocab_size, false)?)
        };
        Ok(Self {
            model: DecoderModel { embed_tokens: Embedding { weight: embed }, layers, norm: norm("model.norm.weight")? },
            lm_head,
            config: config.clone(),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &DecoderConfig {
        &self.config
    }

    /// Input token embeddings `[b, s, d]` (GainLoRA's gate reads their mean).
    pub fn embed(&self, batch: &TokenBatch) -> Tensor<B, 3> {
        let device = self.model.embed_tokens.weight.device();
        embedding(self.model.embed_tokens.weight.val(), ids_tensor(&batch.ids, batch.batch, batch.seq, &device))
    }

    /// Logits `[b, s, vocab]` for a whole batch (no cache).
    pub fn forward(&self, batch: &TokenBatch, ctx: &AdapterContext<B>) -> Tensor<B, 3> {
        self.logits(self.hidden(batch, None, ctx))
    }

    /// Logits for `batch`, the continuation of what `cache` holds: `batch.mask` covers the
    /// new tokens only, `full_mask` (`batch × (past + seq)`) all of them, `positions` the new
    /// tokens' positions.
    pub fn forward_cached(&self, batch: &TokenBatch, full_mask: &[u8], positions: &[Vec<usize>], cache: &mut KvCache<B>, ctx: &AdapterContext<B>) -> Tensor<B, 3> {
        let hidden = self.hidden_with(batch, full_mask, positions, Some(cache), ctx);
        self.logits(hidden)
    }

    /// Logits of the last position only, `[b, 1, vocab]`, for `batch` continuing `cache` (see
    /// [`Self::forward_cached`]): generation needs no other row of the LM head.
    pub fn forward_cached_last(&self, batch: &TokenBatch, full_mask: &[u8], positions: &[Vec<usize>], cache: &mut KvCache<B>, ctx: &AdapterContext<B>) -> Tensor<B, 3> {
        let hidden = self.hidden_with(batch, full_mask, positions, Some(cache), ctx);
        let [b, s, d] = hidden.dims();
        self.logits(hidden.slice([0..b, s - 1..s, 0..d]))
    }

    /// Final hidden states `[b, s, d]` (after the last norm).
    pub fn hidden(&self, batch: &TokenBatch, cache: Option<&mut KvCache<B>>, ctx: &AdapterContext<B>) -> Tensor<B, 3> {
        self.hidden_with(batch, &batch.mask, &batch.positions(), cache, ctx)
    }

    fn hidden_with(&self, batch: &TokenBatch, full_mask: &[u8], positions: &[Vec<usize>], mut cache: Option<&mut KvCache<B>>, ctx: &AdapterContext<B>) -> Tensor<B, 3> {
        let device = self.model.embed_tokens.weight.device();
        let cfg = self.config();
        let rope = rope_tables::<B>(positions, cfg.head_dim(), cfg.rope_theta(), &device);
        let total = full_mask.len() / batch.batch;
        let key_mask = Tensor::<B, 2>::from_data(TensorData::new(full_mask.iter().map(|&m| m as f32).collect::<Vec<_>>(), [batch.batch, total]), &device);
        let bias = attention_bias(&key_mask, batch.seq, true);
        let mut x = self.embed(batch);
        for (i, layer) in self.model.layers.iter().enumerate() {
            let layer_cache = cache.as_deref_mut().map(|c| &mut c.layers[i]);
            x = layer.forward(x, &rope, &bias, layer_cache, ctx);
        }
        self.model.norm.forward(x)
    }

    /// LM head on hidden states: `[b, s, d] → [b, s, vocab]`.
    pub fn logits(&self, hidden: Tensor<B, 3>) -> Tensor<B, 3> {
        match &self.lm_head {
            Some(head) => head.forward_base(hidden),
            None => tied_logits(hidden, self.model.embed_tokens.weight.val()),
        }
    }

    /// Number of scalar parameters (base weights and installed adapters).
    pub fn parameter_count(&self) -> usize {
        self.num_params()
    }
}

/// Adaptable projections of a decoder block, in visiting order.
const LINEAR_NAMES: [&str; 7] = ["self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj", "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"];

impl<B: Backend> DecoderLayer<B> {
    fn linears_mut(&mut self) -> [&mut AdaptedLinear<B>; 7] {
        let a = &mut self.self_attn;
        let m = &mut self.mlp;
        [&mut a.q_proj, &mut a.k_proj, &mut a.v_proj, &mut a.o_proj, &mut m.gate_proj, &mut m.up_proj, &mut m.down_proj]
    }

    fn linears(&self) -> [&AdaptedLinear<B>; 7] {
        let a = &self.self_attn;
        let m = &self.mlp;
        [&a.q_proj, &a.k_proj, &a.v_proj, &a.o_proj, &m.gate_proj, &m.up_proj, &m.down_proj]
    }
}

impl<B: Backend> AdaptableModel<B> for CausalLm<B> {
    fn visit_linears_mut(&mut self, f: &mut dyn FnMut(&LinearName, &mut AdaptedLinear<B>)) {
        for (i, layer) in self.model.layers.iter_mut().enumerate() {
            for (name, lin) in LINEAR_NAMES.iter().zip(layer.linears_mut()) {
                f(&LinearName(format!("layers.{i}.{name}")), lin);
            }
        }
    }

    fn visit_linears(&self, f: &mut dyn FnMut(&LinearName, &AdaptedLinear<B>)) {
        for (i, layer) in self.model.layers.iter().enumerate() {
            for (name, lin) in LINEAR_NAMES.iter().zip(layer.linears()) {
                f(&LinearName(format!("layers.{i}.{name}")), lin);
            }
        }
    }

    fn visit_residual_slots_mut(&mut self, f: &mut dyn FnMut(&str, &mut ResidualSlot<B>)) {
        for (i, layer) in self.model.layers.iter_mut().enumerate() {
            f(&format!("layers.{i}.after_attention"), &mut layer.after_attention);
            f(&format!("layers.{i}.after_mlp"), &mut layer.after_mlp);
        }
    }

    fn visit_residual_slots(&self, f: &mut dyn FnMut(&str, &ResidualSlot<B>)) {
        for (i, layer) in self.model.layers.iter().enumerate() {
            f(&format!("layers.{i}.after_attention"), &layer.after_attention);
            f(&format!("layers.{i}.after_mlp"), &layer.after_mlp);
        }
    }
}
