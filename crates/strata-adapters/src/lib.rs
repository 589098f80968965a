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
//! Modules: [`linear`] (the seam), [`lora`] (`y += s·B A x` branches; merge/unmerge into W,
//! freezing), [`olora`] (O-LoRA's `Σ|A_old A_tᵀ|` and L2 penalties), [`inflora`] (InfLoRA's
//! designed, frozen `A_t ⟂ span(M)`), [`residual`] (`y = x + W2 Γ W1 x` with soft-thresholded
//! Γ), [`oa`] (OA-Adapter's effective rank, activated columns, orthogonality penalty),
//! [`trainable`] (freezing parameters), [`error`], [`context`].
//! Planned (issues 4–5): GainLoRA gates and OSFT's SVD-factored base weight.

#![warn(missing_docs)]

pub mod context;
pub mod error;
pub mod inflora;
pub mod linear;
pub mod lora;
pub mod oa;
pub mod olora;
pub mod residual;
pub mod trainable;

pub use context::AdapterContext;
pub use error::{AdapterError, Result};
pub use inflora::{INFLORA_A_SCALE, design_inflora_a, inflora_branch};
pub use linear::{AdaptableModel, AdaptedLinear, LinearName};
pub use lora::{LoraBranch, LoraConfig};
pub use oa::{OaConfig, oa_orthogonality};
pub use olora::{OloraPenaltySide, frobenius_norm, olora_l2, olora_layer_penalty, olora_orthogonality, olora_orthogonality_up, olora_penalty};
pub use residual::{OaAdapter, ResidualSlot};
pub use strata_linalg;
