//! The continual-learning engine (issue 4).
//!
//! This crate will hold: the `Method` trait whose hooks every method implements in one file
//! (adapters before a task, extra loss terms, gradient surgery, parameter surgery,
//! consolidation, state to save); the training loop; the accuracy matrix `a[j][i]` and the
//! metrics AA, BWT, FT, FWT; atomic checkpoints and resume; the run configuration.

pub use strata_data;
pub use strata_models;
