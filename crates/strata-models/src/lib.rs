//! Pretrained language models for strata, generic over `B: Backend`.
//!
//! This crate will hold (issue 3): LLaMA-family decoders (LLaMA-2/3, SmolLM2, Qwen2) and T5
//! with Hugging Face-identical module names; weight loading from safetensors (single or
//! sharded) and GGUF v3 with dequantization; tokenizers from `tokenizer.json` or a GGUF's
//! embedded vocabulary; batched generation with a KV cache; sequence log-likelihoods and
//! the masked teacher-forced loss the trainers use. Every adaptable linear layer is
//! reachable by a stable name so adapters from `strata-adapters` can wrap it.

pub mod gguf;

pub use strata_adapters;
