//! Model configurations, deserialised from Hugging Face `config.json` with serde.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{ModelError, Result};

/// Which decoder family a [`DecoderConfig`] describes (`model_type` in `config.json`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DecoderArch {
    /// LLaMA-2/3, SmolLM2, TinyLlama: no projection biases (unless `attention_bias`).
    Llama,
    /// Qwen2 / Qwen2.5: biases on q, k, v.
    Qwen2,
    /// Mistral: the LLaMA layout.
    Mistral,
}

/// A token id or a list of them (`eos_token_id` is either in HF configs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum TokenIds {
    /// One id.
    One(u32),
    /// Several ids.
    Many(Vec<u32>),
}

impl TokenIds {
    /// All ids.
    pub fn to_vec(&self) -> Vec<u32> {
        match self {
            TokenIds::One(i) => vec![*i],
            TokenIds::Many(v) => v.clone(),
        }
    }
}

/// transformers ≥ 5 nests θ under `rope_parameters`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RopeParameters {
    /// RoPE base θ.
    pub rope_theta: Option<f64>,
    /// `default` is the only type strata implements.
    pub rope_type: Option<String>,
}

/// A LLaMA-family decoder (LLaMA, SmolLM2, Qwen2, Mistral) with HF field names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecoderConfig {
    /// `llama`, `qwen2` or `mistral`.
    pub model_type: DecoderArch,
    /// Vocabulary size.
    pub vocab_size: usize,
    /// Model width d.
    pub hidden_size: usize,
    /// MLP width.
    pub intermediate_size: usize,
    /// Number of decoder layers.
    pub num_hidden_layers: usize,
    /// Query heads.
    pub num_attention_heads: usize,
    /// Key/value heads (grouped-query attention); defaults to `num_attention_heads`.
    #[serde(default)]
    pub num_key_value_heads: Option<usize>,
    /// Per-head width; defaults to `hidden_size / num_attention_heads`.
    #[serde(default)]
    pub head_dim: Option<usize>,
    /// RMSNorm ε (default 1e-6).
    #[serde(default = "default_rms_eps")]
    pub rms_norm_eps: f64,
    /// RoPE base θ (transformers < 5); see [`DecoderConfig::rope_theta`].
    #[serde(default)]
    pub rope_theta: Option<f64>,
    /// RoPE parameters (transformers ≥ 5).
    #[serde(default)]
    pub rope_parameters: Option<RopeParameters>,
    /// Context length the model was trained for.
    #[serde(default = "default_max_pos")]
    pub max_position_embeddings: usize,
    /// Whether the LM head shares the token-embedding matrix (default false).
    #[serde(default)]
    pub tie_word_embeddings: bool,
    /// Biases on q, k, v, o (LLaMA option; Qwen2 always has q, k, v biases).
    #[serde(default)]
    pub attention_bias: bool,
    /// Biases on the MLP matrices (LLaMA option).
    #[serde(default)]
    pub mlp_bias: bool,
    /// Beginning-of-sequence id.
    #[serde(default)]
    pub bos_token_id: Option<TokenIds>,
    /// End-of-sequence id(s).
    #[serde(default)]
    pub eos_token_id: Option<TokenIds>,
    /// Padding id.
    #[serde(default)]
    pub pad_token_id: Option<u32>,
}

fn default_rms_eps() -> f64 {
    1e-6
}
fn default_max_pos() -> usize {
    2048
}

impl DecoderConfig {
    /// Reads and validates `config.json`.
    pub fn from_file(path: &Path) -> Result<Self> {
        let cfg: Self = read_json(path)?;
        cfg.validate().map_err(|msg| ModelError::Config { path: path.display().to_string(), msg })?;
        Ok(cfg)
    }

    /// Checks the head arithmetic.
    pub fn validate(&self) -> std::result::Result<(), String> {
        let kv = self.kv_heads();
        if self.num_attention_heads == 0 || kv == 0 || self.num_attention_heads % kv != 0 {
            return Err(format!("num_attention_heads = {} must be a positive multiple of num_key_value_heads = {kv}", self.num_attention_heads));
        }
        if self.head_dim.is_none() && self.hidden_size % self.num_attention_heads != 0 {
            return Err(format!("hidden_size = {} is not divisible by num_attention_heads = {}", self.hidden_size, self.num_attention_heads));
        }
        if self.head_dim() % 2 != 0 {
            return Err(format!("head_dim = {} must be even for rotary embeddings", self.head_dim()));
        }
        if let Some(RopeParameters { rope_type: Some(t), .. }) = &self.rope_parameters {
            if t != "default" {
                return Err(format!("rope_type `{t}` is not supported (only `default`)"));
            }
        }
        Ok(())
    }

    /// Key/value heads.
    pub fn kv_heads(&self) -> usize {
        self.num_key_value_heads.unwrap_or(self.num_attention_heads)
    }

    /// Per-head width.
    pub fn head_dim(&self) -> usize {
        self.head_dim.unwrap_or(self.hidden_size / self.num_attention_heads.max(1))
    }

    /// RoPE θ from either config style (default 10 000).
    pub fn rope_theta(&self) -> f64 {
        self.rope_parameters.as_ref().and_then(|r| r.rope_theta).or(self.rope_theta).unwrap_or(10_000.0)
    }

    /// Whether q, k, v carry biases.
    pub fn qkv_bias(&self) -> bool {
        self.model_type == DecoderArch::Qwen2 || self.attention_bias
    }

    /// Whether o_proj carries a bias.
    pub fn o_bias(&self) -> bool {
        self.model_type != DecoderArch::Qwen2 && self.attention_bias
    }

    /// End-of-sequence ids (may be empty).
    pub fn eos_ids(&self) -> Vec<u32> {
        self.eos_token_id.as_ref().map(TokenIds::to_vec).unwrap_or_default()
    }
}

/// T5 feed-forward flavour (`feed_forward_proj`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum T5FeedForward {
    /// v1.0: `wo(relu(wi x))`.
    Relu,
    /// v1.1 / Flan-T5: `wo(gelu_tanh(wi_0 x) ⊙ wi_1 x)`.
    GatedGelu,
}

/// A T5 encoder–decoder with HF field names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct T5Config {
    /// Vocabulary size.
    pub vocab_size: usize,
    /// Model width.
    pub d_model: usize,
    /// Per-head width.
    pub d_kv: usize,
    /// Feed-forward width.
    pub d_ff: usize,
    /// Encoder layers.
    pub num_layers: usize,
    /// Decoder layers (default `num_layers`).
    #[serde(default)]
    pub num_decoder_layers: Option<usize>,
    /// Attention heads.
    pub num_heads: usize,
    /// Relative-position buckets (default 32).
    #[serde(default = "default_buckets")]
    pub relative_attention_num_buckets: usize,
    /// Largest distance distinguished by the buckets (default 128).
    #[serde(default = "default_max_distance")]
    pub relative_attention_max_distance: usize,
    /// Layer-norm ε (default 1e-6).
    #[serde(default = "default_rms_eps")]
    pub layer_norm_epsilon: f64,
    /// `relu` or `gated-gelu` (default `relu`).
    #[serde(default = "default_ff")]
    pub feed_forward_proj: String,
    /// Tied LM head (default true). Without `scale_decoder_outputs` (transformers < 5
    /// configs) it also decides the `d_model^-0.5` rescale before the LM head.
    #[serde(default = "default_true")]
    pub tie_word_embeddings: bool,
    /// transformers ≥ 5: whether the decoder output is multiplied by `d_model^-0.5` before
    /// the LM head; see [`T5Config::scale_decoder_outputs()`].
    #[serde(default)]
    pub scale_decoder_outputs: Option<bool>,
    /// The decoder's first input id (default 0 = pad).
    #[serde(default)]
    pub decoder_start_token_id: Option<u32>,
    /// End-of-sequence id (default 1).
    #[serde(default)]
    pub eos_token_id: Option<TokenIds>,
    /// Padding id (default 0).
    #[serde(default)]
    pub pad_token_id: Option<u32>,
}

fn default_buckets() -> usize {
    32
}
fn default_max_distance() -> usize {
    128
}
fn default_ff() -> String {
    "relu".into()
}
fn default_true() -> bool {
    true
}

impl T5Config {
    /// Reads and validates `config.json`.
    pub fn from_file(path: &Path) -> Result<Self> {
        let cfg: Self = read_json(path)?;
        cfg.validate().map_err(|msg| ModelError::Config { path: path.display().to_string(), msg })?;
        Ok(cfg)
    }

    /// Checks the feed-forward flavour, the widths and the relative-position buckets.
    pub fn validate(&self) -> std::result::Result<(), String> {
        self.feed_forward()?;
        for (name, v) in [("vocab_size", self.vocab_size), ("d_model", self.d_model), ("d_kv", self.d_kv), ("d_ff", self.d_ff), ("num_heads", self.num_heads)] {
            if v == 0 {
                return Err(format!("{name} must be positive"));
            }
        }
        // Bidirectional buckets use num_buckets/2 per direction and an exact range of half
        // of that; the log-spaced range needs max_distance beyond the (causal) exact range.
        let nb = self.relative_attention_num_buckets;
        if nb < 4 {
            return Err(format!("relative_attention_num_buckets = {nb} must be at least 4"));
        }
        if self.relative_attention_max_distance <= nb / 2 {
            return Err(format!("relative_attention_max_distance = {} must exceed relative_attention_num_buckets / 2 = {}", self.relative_attention_max_distance, nb / 2));
        }
        Ok(())
    }

    /// Attention width `num_heads · d_kv` (need not equal `d_model`, e.g. T5-3B).
    pub fn inner_dim(&self) -> usize {
        self.num_heads * self.d_kv
    }

    /// Whether the decoder output is rescaled by `d_model^-0.5` before the LM head:
    /// `scale_decoder_outputs` when present (transformers ≥ 5), else `tie_word_embeddings`
    /// (the transformers < 5 rule).
    pub fn scale_decoder_outputs(&self) -> bool {
        self.scale_decoder_outputs.unwrap_or(self.tie_word_embeddings)
    }

    /// The decoder's first input id (default 0).
    pub fn decoder_start_id(&self) -> u32 {
        self.decoder_start_token_id.unwrap_or(0)
    }

    /// Padding id (default 0).
    pub fn pad_id(&self) -> u32 {
        self.pad_token_id.unwrap_or(0)
    }

    /// End-of-sequence ids (default `[1]`).
    pub fn eos_ids(&self) -> Vec<u32> {
        self.eos_token_id.as_ref().map_or_else(|| vec![1], TokenIds::to_vec)
    }

    /// The feed-forward flavour.
    pub fn feed_forward(&self) -> std::result::Result<T5FeedForward, String> {
        match self.feed_forward_proj.as_str() {
            "relu" => Ok(T5FeedForward::Relu),
            "gated-gelu" => Ok(T5FeedForward::GatedGelu),
            other => Err(format!("feed_forward_proj `{other}` is not supported (relu, gated-gelu)")),
        }
    }

    /// Decoder layers.
    pub fn decoder_layers(&self) -> usize {
        self.num_decoder_layers.unwrap_or(self.num_layers)
    }
}

/// Reads a JSON file into `T`, with errors naming the file.
pub fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T> {
    let text = std::fs::read_to_string(path).map_err(|e| ModelError::Io { path: path.display().to_string(), msg: e.to_string() })?;
    serde_json::from_str(&text).map_err(|e| ModelError::Config { path: path.display().to_string(), msg: e.to_string() })
}
