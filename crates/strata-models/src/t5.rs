//! The T5 encoder–decoder (v1.0 ReLU and v1.1 / Flan-T5 gated-GELU) with Hugging Face
//! module names, mirroring `T5ForConditionalGeneration` of `modeling_t5.py`.
//!
//! - Every sublayer is pre-norm: `x + sublayer(LayerNorm(x))`, where T5's LayerNorm is an RMS
//!   norm with a scale and no bias or mean subtraction ([`RmsNorm`]).
//! - Attention has no `1/√d_kv` scaling and no biases; positions enter only through a learned
//!   relative-position bias `[num_buckets, heads]` held by block 0 of each stack and reused
//!   by every later block. The encoder buckets are bidirectional, the decoder's causal.
//!   Cross-attention has no position bias, only the encoder padding mask.
//! - Feed-forward: `wo(relu(wi x))` (v1.0) or `wo(gelu_new(wi_0 x) ⊙ wi_1 x)` (v1.1).
//! - `shared` embeds the tokens of both stacks; the LM head is `lm_head.weight` when the file
//!   has one, else `shared` (tied); the decoder output is rescaled by `d_model^-0.5` first iff
//!   [`T5Config::scale_decoder_outputs()`].
//!
//! Every projection is an [`AdaptedLinear`] named by its HF path
//! (`decoder.block.1.layer.1.EncDecAttention.q`); residual adapter slots sit after the
//! self-attention and after the feed-forward of every block (`encoder.block.0.after_mlp`).
//! Dropout is not modelled (inference semantics, `dropout_rate = 0`).

use burn::module::Module;
use burn::nn::Embedding;
use burn::tensor::activation::relu;
use burn::tensor::module::embedding;
use burn::tensor::{Int, Tensor, TensorData, backend::Backend};
use strata_adapters::{AdaptableModel, AdaptedLinear, AdapterContext, LinearName, ResidualSlot};

use crate::batch::TokenBatch;
use crate::config::{T5Config, T5FeedForward};
use crate::decoder::LayerKv;
use crate::error::{ModelError, Result};
use crate::layers::{RmsNorm, attention, attention_bias, gelu_tanh, ids_tensor, merge_heads, split_heads, tied_logits};
use crate::weights::Loader;

/// HF's `T5Attention._relative_position_bucket` for one relative position
/// `key_position − query_position`.
///
/// Bidirectional (encoder): half of the buckets for keys after the query (offset
/// `num_buckets/2`), half for keys at or before it, each direction over `|rel|`. Causal
/// (decoder): `n = max(−rel, 0)`, so every future key falls in bucket 0. Within a direction of
/// `nb` buckets, `n < nb/2` is its own bucket; larger `n` are log-spaced up to `max_distance`:
/// `nb/2 + ⌊ln(n / (nb/2)) / ln(max_distance / (nb/2)) · (nb − nb/2)⌋`, capped at `nb − 1`.
/// The logarithm is evaluated in f32 like PyTorch, so boundary cases bucket identically.
pub fn relative_position_bucket(relative_position: i64, bidirectional: bool, num_buckets: usize, max_distance: usize) -> usize {
    let mut nb = num_buckets as i64;
    let mut bucket = 0i64;
    let n = if bidirectional {
        nb /= 2;
        if relative_position > 0 {
            bucket += nb;
        }
        relative_position.abs()
    } else {
        (-relative_position).max(0)
    };
    let max_exact = nb / 2;
    if n < max_exact {
        bucket += n;
    } else {
        let log_ratio = (n as f32 / max_exact as f32).ln();
        let log_range = (max_distance as f64 / max_exact as f64).ln() as f32;
        let large = max_exact + (log_ratio / log_range * (nb - max_exact) as f32) as i64;
        bucket += large.min(nb - 1);
    }
    bucket as usize
}

/// T5 attention (`SelfAttention` or `EncDecAttention`): no biases, no score scaling.
#[derive(Module, Debug)]
pub struct T5Attention<B: Backend> {
    /// Query projection `d_model → heads·d_kv`.
    pub q: AdaptedLinear<B>,
    /// Key projection `d_model → heads·d_kv`.
    pub k: AdaptedLinear<B>,
    /// Value projection `d_model → heads·d_kv`.
    pub v: AdaptedLinear<B>,
    /// Output projection `heads·d_kv → d_model`.
    pub o: AdaptedLinear<B>,
    /// Relative-position bias `[num_buckets, heads]` (block 0's self-attention only).
    pub relative_attention_bias: Option<Embedding<B>>,
    /// Heads.
    pub n_heads: usize,
    /// Per-head width.
    pub d_kv: usize,
}

impl<B: Backend> T5Attention<B> {
    fn load(loader: &Loader<'_, B>, prefix: &str, config: &T5Config, with_bias: bool) -> Result<Self> {
        let (d, inner) = (config.d_model, config.inner_dim());
        let relative_attention_bias = if with_bias {
            let w = loader.param(&format!("{prefix}.relative_attention_bias.weight"), [config.relative_attention_num_buckets, config.num_heads])?;
            Some(Embedding { weight: w })
        } else {
            None
        };
        Ok(Self {
            q: loader.linear(&format!("{prefix}.q"), d, inner, false)?,
            k: loader.linear(&format!("{prefix}.k"), d, inner, false)?,
            v: loader.linear(&format!("{prefix}.v"), d, inner, false)?,
            o: loader.linear(&format!("{prefix}.o"), inner, d, false)?,
            relative_attention_bias,
            n_heads: config.num_heads,
            d_kv: config.d_kv,
        })
    }

    fn split_heads(&self, x: Tensor<B, 3>) -> Tensor<B, 4> {
        split_heads(x, self.n_heads, self.d_kv)
    }

    fn merge(&self, out: Tensor<B, 4>, ctx: &AdapterContext<B>) -> Tensor<B, 3> {
        self.o.forward(merge_heads(out), ctx)
    }

    /// Self-attention of `x: [b, s, d]` with additive `bias` (position bias + masks,
    /// `[b|1, heads|1, s, past+s]`); appends this call's keys and values to `cache` if given.
    pub fn self_attend(&self, x: Tensor<B, 3>, bias: &Tensor<B, 4>, cache: Option<&mut LayerKv<B>>, ctx: &AdapterContext<B>) -> Tensor<B, 3> {
        let q = self.split_heads(self.q.forward(x.clone(), ctx));
        let k = self.split_heads(self.k.forward(x.clone(), ctx));
        let v = self.split_heads(self.v.forward(x, ctx));
        let (k, v) = match cache {
            Some(cache) => cache.append(k, v),
            None => (k, v),
        };
        self.merge(attention(q, k, v, bias.clone(), 1.0), ctx)
    }

    /// Cross-attention of decoder states `x: [b, s, d]` over `encoder: [b, s_enc, d]` with the
    /// encoder padding `bias`. Keys and values come from `cache` when it holds them, else they
    /// are projected from `encoder` (and stored in `cache` if given).
    pub fn cross_attend(&self, x: Tensor<B, 3>, encoder: &Tensor<B, 3>, bias: &Tensor<B, 4>, cache: Option<&mut LayerKv<B>>, ctx: &AdapterContext<B>) -> Tensor<B, 3> {
        let q = self.split_heads(self.q.forward(x, ctx));
        let project = || (self.split_heads(self.k.forward(encoder.clone(), ctx)), self.split_heads(self.v.forward(encoder.clone(), ctx)));
        let (k, v) = match cache {
            Some(LayerKv { k: Some(k), v: Some(v) }) => (k.clone(), v.clone()),
            Some(cache) => {
                let (k, v) = project();
                cache.k = Some(k.clone());
                cache.v = Some(v.clone());
                (k, v)
            }
            None => project(),
        };
        self.merge(attention(q, k, v, bias.clone(), 1.0), ctx)
    }
}

/// `layer.0` of a block: `layer_norm` then `SelfAttention`.
#[derive(Module, Debug)]
pub struct T5LayerSelfAttention<B: Backend> {
    /// HF `SelfAttention`.
    pub attention: T5Attention<B>,
    /// HF `layer_norm`.
    pub layer_norm: RmsNorm<B>,
}

/// `layer.1` of a decoder block: `layer_norm` then `EncDecAttention`.
#[derive(Module, Debug)]
pub struct T5LayerCrossAttention<B: Backend> {
    /// HF `EncDecAttention`.
    pub attention: T5Attention<B>,
    /// HF `layer_norm`.
    pub layer_norm: RmsNorm<B>,
}

/// HF `DenseReluDense`: `wo(relu(wi x))` when `wi` is set, `wo(gelu_new(wi_0 x) ⊙ wi_1 x)`
/// when `wi_0`/`wi_1` are.
#[derive(Module, Debug)]
pub struct T5DenseReluDense<B: Backend> {
    /// v1.0 input projection `d_model → d_ff`.
    pub wi: Option<AdaptedLinear<B>>,
    /// v1.1 activated input projection `d_model → d_ff`.
    pub wi_0: Option<AdaptedLinear<B>>,
    /// v1.1 linear input projection `d_model → d_ff`.
    pub wi_1: Option<AdaptedLinear<B>>,
    /// Output projection `d_ff → d_model`.
    pub wo: AdaptedLinear<B>,
}

impl<B: Backend> T5DenseReluDense<B> {
    fn load(loader: &Loader<'_, B>, prefix: &str, config: &T5Config, ff: T5FeedForward) -> Result<Self> {
        let (d, f) = (config.d_model, config.d_ff);
        let lin = |name: &str, i, o| loader.linear(&format!("{prefix}.{name}"), i, o, false);
        Ok(match ff {
            T5FeedForward::Relu => Self { wi: Some(lin("wi", d, f)?), wi_0: None, wi_1: None, wo: lin("wo", f, d)? },
            T5FeedForward::GatedGelu => Self { wi: None, wi_0: Some(lin("wi_0", d, f)?), wi_1: Some(lin("wi_1", d, f)?), wo: lin("wo", f, d)? },
        })
    }

    /// `x: [b, s, d]` → `[b, s, d]`.
    pub fn forward(&self, x: Tensor<B, 3>, ctx: &AdapterContext<B>) -> Tensor<B, 3> {
        let h = match (&self.wi, &self.wi_0, &self.wi_1) {
            (Some(wi), _, _) => relu(wi.forward(x, ctx)),
            (None, Some(w0), Some(w1)) => gelu_tanh(w0.forward(x.clone(), ctx)) * w1.forward(x, ctx),
            _ => unreachable!("T5DenseReluDense has either wi or wi_0 and wi_1"),
        };
        self.wo.forward(h, ctx)
    }

    fn linears(&self) -> Vec<(&'static str, &AdaptedLinear<B>)> {
        let mut v = Vec::with_capacity(3);
        if let Some(l) = &self.wi {
            v.push(("wi", l));
        }
        if let Some(l) = &self.wi_0 {
            v.push(("wi_0", l));
        }
        if let Some(l) = &self.wi_1 {
            v.push(("wi_1", l));
        }
        v.push(("wo", &self.wo));
        v
    }

    fn linears_mut(&mut self) -> Vec<(&'static str, &mut AdaptedLinear<B>)> {
        let mut v = Vec::with_capacity(3);
        if let Some(l) = &mut self.wi {
            v.push(("wi", l));
        }
        if let Some(l) = &mut self.wi_0 {
            v.push(("wi_0", l));
        }
        if let Some(l) = &mut self.wi_1 {
            v.push(("wi_1", l));
        }
        v.push(("wo", &mut self.wo));
        v
    }
}

/// The last layer of a block (`layer.1` in the encoder, `layer.2` in the decoder).
#[derive(Module, Debug)]
pub struct T5LayerFf<B: Backend> {
    /// HF `DenseReluDense`.
    pub dense_relu_dense: T5DenseReluDense<B>,
    /// HF `layer_norm`.
    pub layer_norm: RmsNorm<B>,
}

/// One block: self-attention, cross-attention (decoder only), feed-forward.
#[derive(Module, Debug)]
pub struct T5Block<B: Backend> {
    /// `layer.0`.
    pub self_attention: T5LayerSelfAttention<B>,
    /// `layer.1` of decoder blocks; `None` in the encoder.
    pub cross_attention: Option<T5LayerCrossAttention<B>>,
    /// `layer.1` (encoder) or `layer.2` (decoder).
    pub ff: T5LayerFf<B>,
    /// Residual adapters on the self-attention output (identity when empty).
    pub after_attention: ResidualSlot<B>,
    /// Residual adapters on the feed-forward output (identity when empty).
    pub after_mlp: ResidualSlot<B>,
}

impl<B: Backend> T5Block<B> {
    /// `x: [b, s, d]` → `[b, s, d]`. `cross` is `(encoder states, encoder padding bias)` for
    /// decoder blocks; the caches, when given, receive this call's keys and values.
    pub fn forward(&self, x: Tensor<B, 3>, self_bias: &Tensor<B, 4>, cross: Option<(&Tensor<B, 3>, &Tensor<B, 4>)>, self_cache: Option<&mut LayerKv<B>>, cross_cache: Option<&mut LayerKv<B>>, ctx: &AdapterContext<B>) -> Tensor<B, 3> {
        let sa = &self.self_attention;
        let attn = sa.attention.self_attend(sa.layer_norm.forward(x.clone()), self_bias, self_cache, ctx);
        let mut h = x + self.after_attention.forward(attn);
        if let (Some(ca), Some((encoder, bias))) = (&self.cross_attention, cross) {
            h = h.clone() + ca.attention.cross_attend(ca.layer_norm.forward(h), encoder, bias, cross_cache, ctx);
        }
        let ff = self.ff.dense_relu_dense.forward(self.ff.layer_norm.forward(h.clone()), ctx);
        h + self.after_mlp.forward(ff)
    }

    /// `(name relative to the block, layer)` for every projection, in visiting order.
    fn linears(&self) -> Vec<(String, &AdaptedLinear<B>)> {
        let mut v = Vec::new();
        let a = &self.self_attention.attention;
        for (n, l) in [("q", &a.q), ("k", &a.k), ("v", &a.v), ("o", &a.o)] {
            v.push((format!("layer.0.SelfAttention.{n}"), l));
        }
        if let Some(ca) = &self.cross_attention {
            let a = &ca.attention;
            for (n, l) in [("q", &a.q), ("k", &a.k), ("v", &a.v), ("o", &a.o)] {
                v.push((format!("layer.1.EncDecAttention.{n}"), l));
            }
        }
        let ff = self.ff_index();
        for (n, l) in self.ff.dense_relu_dense.linears() {
            v.push((format!("layer.{ff}.DenseReluDense.{n}"), l));
        }
        v
    }

    fn linears_mut(&mut self) -> Vec<(String, &mut AdaptedLinear<B>)> {
        let ff = self.ff_index();
        let mut v = Vec::new();
        let a = &mut self.self_attention.attention;
        for (n, l) in [("q", &mut a.q), ("k", &mut a.k), ("v", &mut a.v), ("o", &mut a.o)] {
            v.push((format!("layer.0.SelfAttention.{n}"), l));
        }
        if let Some(ca) = &mut self.cross_attention {
            let a = &mut ca.attention;
            for (n, l) in [("q", &mut a.q), ("k", &mut a.k), ("v", &mut a.v), ("o", &mut a.o)] {
                v.push((format!("layer.1.EncDecAttention.{n}"), l));
            }
        }
        for (n, l) in self.ff.dense_relu_dense.linears_mut() {
            v.push((format!("layer.{ff}.DenseReluDense.{n}"), l));
        }
        v
    }

    fn ff_index(&self) -> usize {
        if self.cross_attention.is_some() { 2 } else { 1 }
    }
}

/// An encoder or decoder stack (HF `encoder.*` / `decoder.*`).
#[derive(Module, Debug)]
pub struct T5Stack<B: Backend> {
    /// HF `block`.
    pub block: Vec<T5Block<B>>,
    /// HF `final_layer_norm`.
    pub final_layer_norm: RmsNorm<B>,
    /// Decoder stacks use causal buckets and cross-attention.
    pub is_decoder: bool,
    /// Relative-position buckets.
    pub num_buckets: usize,
    /// Largest distance the buckets distinguish.
    pub max_distance: usize,
}

impl<B: Backend> T5Stack<B> {
    fn load(loader: &Loader<'_, B>, name: &str, config: &T5Config, ff: T5FeedForward, is_decoder: bool) -> Result<Self> {
        let eps = config.layer_norm_epsilon;
        let norm = |n: String| -> Result<RmsNorm<B>> { Ok(RmsNorm::new(loader.param(&n, [config.d_model])?, eps)) };
        let n_blocks = if is_decoder { config.decoder_layers() } else { config.num_layers };
        let mut block = Vec::with_capacity(n_blocks);
        for i in 0..n_blocks {
            let p = format!("{name}.block.{i}.layer");
            let cross_attention = if is_decoder {
                Some(T5LayerCrossAttention { attention: T5Attention::load(loader, &format!("{p}.1.EncDecAttention"), config, false)?, layer_norm: norm(format!("{p}.1.layer_norm.weight"))? })
            } else {
                None
            };
            let f = if is_decoder { 2 } else { 1 };
            block.push(T5Block {
                self_attention: T5LayerSelfAttention { attention: T5Attention::load(loader, &format!("{p}.0.SelfAttention"), config, i == 0)?, layer_norm: norm(format!("{p}.0.layer_norm.weight"))? },
                cross_attention,
                ff: T5LayerFf { dense_relu_dense: T5DenseReluDense::load(loader, &format!("{p}.{f}.DenseReluDense"), config, ff)?, layer_norm: norm(format!("{p}.{f}.layer_norm.weight"))? },
                after_attention: ResidualSlot::default(),
                after_mlp: ResidualSlot::default(),
            });
        }
        Ok(Self { block, final_layer_norm: norm(format!("{name}.final_layer_norm.weight"))?, is_decoder, num_buckets: config.relative_attention_num_buckets, max_distance: config.relative_attention_max_distance })
    }

    /// Relative-position bias `[1, heads, sq, sk]` for queries at positions `q_start..q_start+sq`
    /// over keys `0..sk`, from block 0's table (zeros for an empty stack).
    pub fn position_bias(&self, q_start: usize, sq: usize, sk: usize, device: &B::Device) -> Tensor<B, 4> {
        let Some(table) = self.block.first().and_then(|b| b.self_attention.attention.relative_attention_bias.as_ref()) else {
            return Tensor::zeros([1, 1, sq, sk], device);
        };
        let buckets: Vec<i32> = (0..sq)
            .flat_map(|i| (0..sk).map(move |j| j as i64 - (q_start + i) as i64))
            .map(|rel| relative_position_bucket(rel, !self.is_decoder, self.num_buckets, self.max_distance) as i32)
            .collect();
        let idx = Tensor::<B, 2, Int>::from_data(TensorData::new(buckets, [sq, sk]), device);
        embedding(table.weight.val(), idx).permute([2, 0, 1]).unsqueeze_dim(0)
    }
}

/// The decoder's caches: self-attention keys/values (growing), cross-attention keys/values
/// (computed once from the encoder output), and the decoder key mask so far. A cache belongs
/// to one encoder output and one batch.
#[derive(Debug, Clone)]
pub struct T5Cache<B: Backend> {
    /// Self-attention `[b, heads, past, d_kv]` per decoder block.
    pub self_attn: Vec<LayerKv<B>>,
    /// Cross-attention `[b, heads, s_enc, d_kv]` per decoder block.
    pub cross_attn: Vec<LayerKv<B>>,
    /// Decoder attention mask of the cached positions, one row per sequence.
    pub mask: Vec<Vec<u8>>,
}

impl<B: Backend> T5Cache<B> {
    /// An empty cache for `n_layers` decoder blocks.
    pub fn new(n_layers: usize) -> Self {
        let empty = || (0..n_layers).map(|_| LayerKv { k: None, v: None }).collect();
        Self { self_attn: empty(), cross_attn: empty(), mask: Vec::new() }
    }

    /// Decoder positions already cached.
    pub fn len(&self) -> usize {
        self.mask.first().map_or(0, Vec::len)
    }

    /// Whether nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// `T5ForConditionalGeneration`: shared embeddings, encoder, decoder, LM head.
#[derive(Module, Debug)]
pub struct T5Model<B: Backend> {
    /// HF `shared`: token embeddings `[vocab, d_model]` of both stacks.
    pub shared: Embedding<B>,
    /// HF `encoder`.
    pub encoder: T5Stack<B>,
    /// HF `decoder`.
    pub decoder: T5Stack<B>,
    /// HF `lm_head` (`d_model → vocab`) when the file has one; `None`: tied to `shared`.
    pub lm_head: Option<AdaptedLinear<B>>,
    /// The configuration it was built from.
    #[module(skip)]
    pub config: T5Config,
}

impl<B: Backend> T5Model<B> {
    /// Builds the model from weights with HF names, checking every shape against `config`.
    ///
    /// The LM head is `lm_head.weight` when present; otherwise it is tied to `shared`, which
    /// requires `tie_word_embeddings` (an untied config without `lm_head.weight` is a
    /// [`ModelError::MissingTensor`]).
    pub fn load(config: &T5Config, loader: &Loader<'_, B>) -> Result<Self> {
        config.validate().map_err(|msg| ModelError::Config { path: "T5Config".into(), msg })?;
        let ff = config.feed_forward().map_err(|msg| ModelError::Config { path: "T5Config".into(), msg })?;
        let shared = Embedding { weight: loader.param("shared.weight", [config.vocab_size, config.d_model])? };
        let encoder = T5Stack::load(loader, "encoder", config, ff, false)?;
        let decoder = T5Stack::load(loader, "decoder", config, ff, true)?;
        let lm_head = if config.tie_word_embeddings && !loader.contains("lm_head.weight") {
            None
        } else {
            Some(loader.linear("lm_head", config.d_model, config.vocab_size, false)?)
        };
        Ok(Self { shared, encoder, decoder, lm_head, config: config.clone() })
    }

    /// The configuration.
    pub fn config(&self) -> &T5Config {
        &self.config
    }

    fn device(&self) -> B::Device {
        self.shared.weight.device()
    }

    /// Token embeddings `[b, s, d_model]` from `shared`.
    pub fn embed(&self, batch: &TokenBatch) -> Tensor<B, 3> {
        embedding(self.shared.weight.val(), ids_tensor(&batch.ids, batch.batch, batch.seq, &self.device()))
    }

    fn mask_tensor(mask: Vec<f32>, batch: usize, seq: usize, device: &B::Device) -> Tensor<B, 2> {
        Tensor::from_data(TensorData::new(mask, [batch, seq]), device)
    }

    /// Encoder hidden states `[b, s_enc, d_model]` (after `encoder.final_layer_norm`).
    /// Ids must be inside the vocabulary ([`TokenBatch::check_vocab`]).
    pub fn encode(&self, batch: &TokenBatch, ctx: &AdapterContext<B>) -> Tensor<B, 3> {
        let device = self.device();
        let s = batch.seq;
        let key_mask = Self::mask_tensor(batch.mask_f32(), batch.batch, s, &device);
        let bias = self.encoder.position_bias(0, s, s, &device) + attention_bias(&key_mask, s, false);
        let mut x = self.embed(batch);
        for block in &self.encoder.block {
            x = block.forward(x, &bias, None, None, None, ctx);
        }
        self.encoder.final_layer_norm.forward(x)
    }

    /// Decoder logits `[b, s_dec, vocab]` for `decoder_batch` given the encoder output
    /// (`encoder_batch` supplies the encoder padding mask).
    ///
    /// With a `cache`, `decoder_batch` continues what the cache holds: its queries sit at
    /// positions `past..past+s_dec`, its mask covers the new tokens only, and the cache
    /// receives the new self-attention keys/values (cross-attention keys/values are
    /// projected from `encoder_hidden` on the first call and reused afterwards).
    ///
    /// # Panics
    /// If the batch sizes of the encoder output, `encoder_batch`, `decoder_batch` and the
    /// cache disagree.
    pub fn decode(&self, encoder_hidden: Tensor<B, 3>, encoder_batch: &TokenBatch, decoder_batch: &TokenBatch, mut cache: Option<&mut T5Cache<B>>, ctx: &AdapterContext<B>) -> Tensor<B, 3> {
        let device = self.device();
        let (b, s) = (decoder_batch.batch, decoder_batch.seq);
        let [eb, es, _] = encoder_hidden.dims();
        assert!(eb == b && encoder_batch.batch == b && encoder_batch.seq == es, "T5 decode: encoder output [{eb}, {es}], encoder batch {}×{} and decoder batch of {b} rows disagree", encoder_batch.batch, encoder_batch.seq);
        let (past, key_mask) = match cache.as_deref_mut() {
            Some(c) => {
                if c.mask.is_empty() {
                    c.mask = vec![Vec::new(); b];
                }
                assert_eq!(c.mask.len(), b, "T5 decode: the cache holds {} rows, the batch {b}", c.mask.len());
                let past = c.len();
                for (r, row) in c.mask.iter_mut().enumerate() {
                    row.extend_from_slice(&decoder_batch.mask[r * s..(r + 1) * s]);
                }
                (past, c.mask.iter().flatten().map(|&m| m as f32).collect())
            }
            None => (0, decoder_batch.mask_f32()),
        };
        let total = past + s;
        let key_mask = Self::mask_tensor(key_mask, b, total, &device);
        let self_bias = self.decoder.position_bias(past, s, total, &device) + attention_bias(&key_mask, s, true);
        let enc_mask = Self::mask_tensor(encoder_batch.mask_f32(), b, es, &device);
        let cross_bias = attention_bias(&enc_mask, s, false);
        let mut x = self.embed(decoder_batch);
        for (i, block) in self.decoder.block.iter().enumerate() {
            let (sc, cc) = match cache.as_deref_mut() {
                Some(c) => (Some(&mut c.self_attn[i]), Some(&mut c.cross_attn[i])),
                None => (None, None),
            };
            x = block.forward(x, &self_bias, Some((&encoder_hidden, &cross_bias)), sc, cc, ctx);
        }
        self.logits(self.decoder.final_layer_norm.forward(x))
    }

    /// Teacher-forced logits `[b, s_dec, vocab]`: [`encode`](Self::encode) then
    /// [`decode`](Self::decode) without a cache.
    pub fn forward(&self, encoder_batch: &TokenBatch, decoder_batch: &TokenBatch, ctx: &AdapterContext<B>) -> Tensor<B, 3> {
        let encoded = self.encode(encoder_batch, ctx);
        self.decode(encoded, encoder_batch, decoder_batch, None, ctx)
    }

    /// LM head on the decoder's final hidden states: `[b, s, d] → [b, s, vocab]`, with the
    /// `d_model^-0.5` rescale first iff [`T5Config::scale_decoder_outputs()`].
    pub fn logits(&self, hidden: Tensor<B, 3>) -> Tensor<B, 3> {
        let hidden = if self.config.scale_decoder_outputs() { hidden * (self.config.d_model as f64).powf(-0.5) } else { hidden };
        match &self.lm_head {
            Some(head) => head.forward_base(hidden),
            None => tied_logits(hidden, self.shared.weight.val()),
        }
    }

    /// Greedy decoding without adapter gates; see [`generate_greedy_with`](Self::generate_greedy_with).
    pub fn generate_greedy(&self, encoder_batch: &TokenBatch, max_new_tokens: usize, eos: Option<u32>) -> Vec<Vec<u32>> {
        self.generate_greedy_with(encoder_batch, max_new_tokens, eos, &AdapterContext::none())
    }

    /// Batched greedy decoding with the KV cache, like HF `generate(do_sample=False)`.
    ///
    /// Each returned row starts with `decoder_start_token_id` (default 0) followed by the
    /// generated ids. A row that emits `eos` is finished and emits `pad_token_id` (default 0)
    /// afterwards; decoding stops after `max_new_tokens` steps or when every row is
    /// finished, so all rows have the same length. Ties in the argmax go to the lowest id.
    pub fn generate_greedy_with(&self, encoder_batch: &TokenBatch, max_new_tokens: usize, eos: Option<u32>, ctx: &AdapterContext<B>) -> Vec<Vec<u32>> {
        let b = encoder_batch.batch;
        let (start, pad) = (self.config.decoder_start_id(), self.config.pad_id());
        let mut out = vec![vec![start]; b];
        if max_new_tokens == 0 || b == 0 {
            return out;
        }
        let encoded = self.encode(encoder_batch, ctx);
        let mut cache = T5Cache::new(self.decoder.block.len());
        let mut current = vec![start; b];
        let mut done = vec![false; b];
        for _ in 0..max_new_tokens {
            let step = TokenBatch { ids: current.clone(), mask: vec![1; b], batch: b, seq: 1 };
            let logits = self.decode(encoded.clone(), encoder_batch, &step, Some(&mut cache), ctx);
            let vocab = logits.dims()[2];
            let values = logits.into_data().convert::<f32>().to_vec::<f32>().expect("f32 logits");
            for r in 0..b {
                let tok = if done[r] { pad } else { argmax(&values[r * vocab..(r + 1) * vocab]) };
                out[r].push(tok);
                current[r] = tok;
                if eos == Some(tok) {
                    done[r] = true;
                }
            }
            if done.iter().all(|&d| d) {
                break;
            }
        }
        out
    }

    /// Number of scalar parameters (base weights and installed adapters).
    pub fn parameter_count(&self) -> usize {
        self.num_params()
    }
}

/// Index of the largest value (the first one on ties).
fn argmax(values: &[f32]) -> u32 {
    let mut best = 0;
    for (i, &v) in values.iter().enumerate() {
        if v > values[best] {
            best = i;
        }
    }
    best as u32
}

impl<B: Backend> AdaptableModel<B> for T5Model<B> {
    fn visit_linears_mut(&mut self, f: &mut dyn FnMut(&LinearName, &mut AdaptedLinear<B>)) {
        for (stack, name) in [(&mut self.encoder, "encoder"), (&mut self.decoder, "decoder")] {
            for (i, block) in stack.block.iter_mut().enumerate() {
                for (rel, lin) in block.linears_mut() {
                    f(&LinearName(format!("{name}.block.{i}.{rel}")), lin);
                }
            }
        }
    }

    fn visit_linears(&self, f: &mut dyn FnMut(&LinearName, &AdaptedLinear<B>)) {
        for (stack, name) in [(&self.encoder, "encoder"), (&self.decoder, "decoder")] {
            for (i, block) in stack.block.iter().enumerate() {
                for (rel, lin) in block.linears() {
                    f(&LinearName(format!("{name}.block.{i}.{rel}")), lin);
                }
            }
        }
    }

    fn visit_residual_slots_mut(&mut self, f: &mut dyn FnMut(&str, &mut ResidualSlot<B>)) {
        for (stack, name) in [(&mut self.encoder, "encoder"), (&mut self.decoder, "decoder")] {
            for (i, block) in stack.block.iter_mut().enumerate() {
                f(&format!("{name}.block.{i}.after_attention"), &mut block.after_attention);
                f(&format!("{name}.block.{i}.after_mlp"), &mut block.after_mlp);
            }
        }
    }

    fn visit_residual_slots(&self, f: &mut dyn FnMut(&str, &ResidualSlot<B>)) {
        for (stack, name) in [(&self.encoder, "encoder"), (&self.decoder, "decoder")] {
            for (i, block) in stack.block.iter().enumerate() {
                f(&format!("{name}.block.{i}.after_attention"), &block.after_attention);
                f(&format!("{name}.block.{i}.after_mlp"), &block.after_mlp);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Expected values by hand, `num_buckets = 32`, `max_distance = 128`, `rel = key − query`.
    ///
    /// Bidirectional: 16 buckets per direction (`+16` when `rel > 0`), exact below
    /// `max_exact = 8`, otherwise `8 + ⌊ln(n/8) / ln(128/8) · 8⌋` capped at 15:
    /// - `n = 200`: `ln 25 / ln 16 · 8 = 3.219/2.773·8 = 9.29` → `8 + 9 = 17` → cap 15;
    /// - `n = 20`: `ln 2.5 / ln 16 · 8 = 0.916/2.773·8 = 2.64` → `8 + 2 = 10`;
    /// - `n = 3` → 3, `n = 0` → 0.
    ///
    /// So −200 → 15, −20 → 10, −3 → 3, 0 → 0, 3 → 16+3 = 19, 20 → 16+10 = 26, 200 → 16+15 = 31.
    ///
    /// Causal: `n = max(−rel, 0)`, 32 buckets, exact below 16, otherwise
    /// `16 + ⌊ln(n/16) / ln(128/16) · 16⌋` capped at 31:
    /// - `n = 200`: `ln 12.5 / ln 8 · 16 = 2.526/2.079·16 = 19.4` → 35 → cap 31;
    /// - `n = 20`: `ln 1.25 / ln 8 · 16 = 0.223/2.079·16 = 1.72` → 17;
    /// - `n = 3` → 3; every `rel ≥ 0` → 0.
    #[test]
    fn relative_position_buckets_match_hand_computed_values() {
        let rels = [-200i64, -20, -3, 0, 3, 20, 200];
        let bi: Vec<usize> = rels.iter().map(|&r| relative_position_bucket(r, true, 32, 128)).collect();
        assert_eq!(bi, vec![15, 10, 3, 0, 19, 26, 31]);
        let causal: Vec<usize> = rels.iter().map(|&r| relative_position_bucket(r, false, 32, 128)).collect();
        assert_eq!(causal, vec![31, 17, 3, 0, 0, 0, 0]);
        // Boundaries: the first log-spaced distance lands exactly on bucket max_exact
        // (bidirectional n = 8 → 8; causal n = 16 → 16), and n = max_distance saturates.
        assert_eq!(relative_position_bucket(-8, true, 32, 128), 8);
        assert_eq!(relative_position_bucket(8, true, 32, 128), 24);
        assert_eq!(relative_position_bucket(-16, false, 32, 128), 16);
        assert_eq!(relative_position_bucket(-128, false, 32, 128), 31);
        assert_eq!(relative_position_bucket(-7, true, 32, 128), 7);
        assert_eq!(relative_position_bucket(-15, false, 32, 128), 15);
    }

    /// The fixtures' small setting (8 buckets, max distance 20).
    #[test]
    fn small_bucket_setting() {
        // Bidirectional: 4 per direction, exact below 2, 2 + ⌊ln(n/2)/ln 10 · 2⌋ capped at 3.
        // n = 2 → 2, n = 5: ln 2.5/ln 10·2 = 0.796 → 2, n = 7: ln 3.5/ln 10·2 = 1.09 → 3.
        let bi: Vec<usize> = [-7i64, -5, -2, -1, 0, 1, 2, 7].iter().map(|&r| relative_position_bucket(r, true, 8, 20)).collect();
        assert_eq!(bi, vec![3, 2, 2, 1, 0, 5, 6, 7]);
        // Causal: 8 buckets, exact below 4, 4 + ⌊ln(n/4)/ln 5 · 4⌋ capped at 7.
        // n = 4 → 4, n = 6: ln 1.5/ln 5·4 = 1.01 → 5, n = 20: ln 5/ln 5·4 = 4 → 8 → cap 7.
        let causal: Vec<usize> = [-20i64, -6, -4, -3, 0, 5].iter().map(|&r| relative_position_bucket(r, false, 8, 20)).collect();
        assert_eq!(causal, vec![7, 5, 4, 3, 0, 0]);
    }
}
