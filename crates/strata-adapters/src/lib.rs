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
//! [`svd_factored`] (OSFT's `W = U_h Σ_h V_hᵀ + U_l Σ_l V_lᵀ` with frozen high part and
//! gradient projection), [`osft_rank`] (OSFT's per-layer frozen rank: adaptive, fixed,
//! linear), [`capture`] (layer-input statistics), [`trainable`] (freezing parameters),
//! [`gate`] (GainLoRA gates with their GPM memory and initialisation/update constraints),
//! [`error`], [`context`].

#![warn(missing_docs)]

pub mod capture;
pub mod context;
pub mod error;
pub mod gate;
pub mod inflora;
pub mod linear;
pub mod lora;
pub mod oa;
pub mod olora;
pub mod osft_rank;
pub mod residual;
pub mod svd_factored;
pub mod trainable;

#[cfg(test)]
mod osft_tests;
#[cfg(test)]
mod test_util;

pub use capture::{CaptureConfig, CapturedInputs, InputCapture};
pub use context::AdapterContext;
pub use error::{AdapterError, Result};
pub use inflora::{INFLORA_A_SCALE, design_inflora_a, inflora_branch};
pub use gate::{GateConfig, GateMemory, GateModule, GateStack, PoolDivisor};
pub use linear::{AdaptableModel, AdaptedLinear, LinearName};
pub use lora::{LoraBranch, LoraConfig};
pub use oa::{OaConfig, oa_orthogonality};
pub use olora::{OloraPenaltySide, frobenius_norm, olora_l2, olora_layer_penalty, olora_orthogonality, olora_orthogonality_up, olora_penalty};
pub use osft_rank::{ImportanceAccumulator, OsftRankRule, adaptive_ranks, fixed_rank, layer_importance, linear_rank};
pub use residual::{OaAdapter, ResidualSlot};
pub use svd_factored::{OsftForward, SvdFactors, SvdPart};
pub use strata_linalg;
