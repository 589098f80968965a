//! Parameter-efficient adapters for continual learning, generic over `B: Backend`.
//!
//! This crate will hold (issues 4 and 5):
//! - LoRA `y = W x + (α/r)·B A x` with rank, α, dropout and target modules configurable,
//!   merge/unmerge, and its per-task families (SeqLoRA, IncLoRA, O-LoRA, InfLoRA);
//! - the GainLoRA gating module `a_t = |2σ(4·cos(z, k_t)) − 1|`;
//! - OA-Adapter `y = x + W2 Γ W1 x` with a soft-thresholded learnable diagonal Γ;
//! - the SVD-factored linear layer of OSFT `W = U_h Σ_h V_hᵀ + U_l Σ_l V_lᵀ`.
//!
//! It builds on `strata-linalg` for the SVDs, projections and GPM bases these need.

pub use strata_linalg;
