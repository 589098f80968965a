//! GainLoRA gates (Liang, Chen & Li 2025): one scalar `a_t(x) ∈ [0, 1)` per task per input
//! sequence that scales task t's LoRA branch, `y = W x + Σ_t a_t(x)·s·B_t A_t x`.
//!
//! `a_t = |2σ(4·cos(z, k_t)) − 1|`, `z = SiLU(W2 SiLU(W1 p̄))`, `p̄` the mean frozen input token
//! embedding. Old tasks stay intact because `a_t(x_old) ≈ 0` for every later gate, enforced by
//! GPM subspaces of the old tasks' `p̄`, `m`, `z` ([`GateMemory`]):
//! - at the start of task t > 1 ([`GateModule::init_from_previous`]): copy `W1`, `W2`, and set
//!   `k_t ⊥ span(M²)` ([`key`]);
//! - after every optimizer step ([`constrain_update`]): remove the components of each
//!   parameter change inside the old subspaces ([`constrain`]).
//!
//! Layout: burn's row layout throughout, `w1: [d, h]`, `w2: [h, d]` (the papers' `W1ᵀ`, `W2ᵀ`);
//! the papers' rows are columns here. Bases hold vectors as columns (`M: d×k`).
//!
//! Modules: [`module`] (one gate), [`pool`] (`p̄`), [`stack`] (all gates → `[batch, T]`),
//! [`memory`] (the bases and the statistics that grow them), [`key`] (initialisation
//! constraint), [`constrain`] (update constraint), [`error`].
//!
//! A task's loop: `collector` over task t's data with the previous gate → `cov_z` →
//! `init_from_previous` → `stack.push` → per step `snapshot`, optimizer step,
//! `constrain_update(&snap, stack.last_mut(), &memory.to_device(..))` → after training,
//! statistics of the trained gate → `memory.update_scheduled(..)`.

pub mod constrain;
pub mod error;
pub mod key;
pub mod memory;
pub mod module;
pub mod pool;
pub mod stack;

#[cfg(test)]
mod tests;

pub use constrain::{GateSnapshot, UpdateConstraint, constrain_update, constrain_update_with};
pub use error::GateError;
pub use key::{KeySolver, orthogonal_key};
pub use memory::{GateBases, GateCollector, GateMemory, GateMemoryUpdate, GateStatistics};
pub use module::{GateConfig, GateModule, GateOutput, KEY_INIT_NORM};
pub use pool::{PoolDivisor, mean_embedding};
pub use stack::GateStack;
