//! Parameter-efficient adapters for continual learning, generic over `B: Backend`, and the
//! seam through which they enter a model.
//!
//! **The seam.** Every linear layer a method may adapt is an [`AdaptedLinear`]: the frozen
//! or trainable base weight plus whatever adapter branches a method installs. Models hold
//! `AdaptedLinear`s (never bare `Linear`s) for attention q/k/v/o, cross-attention and MLP
//! matrices, expose them by stable names such as `layers.3.self_attn.q_proj`
//! ([`AdaptableModel`]), and call `forward(x, &ctx)` with an [`AdapterContext`] that carries
//! per-forward values shared by all layers (GainLoRA's gates). Block-level adapters placed
//! after a sublayer (OA-Adapter) live in a [`ResidualSlot`]. Methods therefore change what a
//! model computes without copying model code.
//!
//! Modules: [`linear`] (the seam), [`lora`] (`y += s·B A x` branches), [`residual`]
//! (`y = x + W2 Γ W1 x` with soft-thresholded Γ), [`context`], [`gate`] (GainLoRA gates with
//! their GPM memory and initialisation/update constraints).
//! Planned (issues 4–5): LoRA families and merge/unmerge, the full OA-Adapter training rules,
//! and OSFT's SVD-factored base weight.

#![warn(missing_docs)]

pub mod context;
pub mod gate;
pub mod linear;
pub mod lora;
pub mod residual;

pub use context::AdapterContext;
pub use gate::{GateConfig, GateMemory, GateModule, GateStack, PoolDivisor};
pub use linear::{AdaptableModel, AdaptedLinear, LinearName};
pub use lora::{LoraBranch, LoraConfig};
pub use residual::{OaAdapter, ResidualSlot};
pub use strata_linalg;
