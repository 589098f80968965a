//! Pretrained language models for strata, generic over `B: Backend`.
//!
//! - [`decoder`]: LLaMA-family decoders (LLaMA-2/3, SmolLM2, Qwen2, Mistral) — RMSNorm,
//!   rotate-half RoPE, grouped-query attention, SwiGLU, optional QKV biases, tied or untied
//!   LM head, causal + padding masks, KV cache.
//! - [`config`]: configs deserialised from Hugging Face `config.json`.
//! - [`weights`]: weight sources (safetensors, single or sharded) and the shape-checking
//!   [`weights::Loader`]; [`gguf`] reads llama.cpp files.
//! - [`batch`]: padded token batches and position ids.
//! - [`layers`]: RMSNorm, RoPE, attention, masks.
//! - [`generate`]: batched greedy / sampled generation with a KV cache.
//! - [`scoring`]: masked teacher-forced loss, continuation log-likelihoods.
//!
//! Module and field names follow the HF checkpoint keys (`model.layers.3.self_attn.q_proj`),
//! so loading needs no renaming tables. Every adaptable projection is a
//! [`strata_adapters::AdaptedLinear`] reachable by name through
//! [`strata_adapters::AdaptableModel`]: that is the seam every continual-learning method
//! plugs into.

#![warn(missing_docs)]

pub mod batch;
pub mod config;
pub mod decoder;
pub mod error;
pub mod generate;
#[allow(missing_docs)] // ggml type names and error fields are self-describing
pub mod gguf;
pub mod gguf_source;
pub mod golden;
pub mod layers;
pub mod pretrained;
pub mod scoring;
pub mod t5;
pub mod tokenizer;
pub mod weights;
pub mod zoo;

pub use batch::{PadSide, TokenBatch};
pub use config::{DecoderArch, DecoderConfig, T5Config, T5FeedForward};
pub use decoder::{CausalLm, KvCache};
pub use error::{ModelError, Result};
pub use gguf_source::{GgufSource, decoder_config_from_gguf, load_causal_lm};
pub use pretrained::Pretrained;
pub use generate::{Decoding, GenerationConfig, generate};
pub use scoring::{masked_lm_loss, prompt_continuation_batch, sequence_log_likelihood};
pub use strata_adapters;
pub use t5::{T5Cache, T5Model};
pub use tokenizer::Tokenizer;
pub use weights::{HostTensor, Loader, RandomInit, SafetensorsSource, WeightSource};
