//! The continual-learning engine of strata, generic over `B: AutodiffBackend`.
//!
//! - [`config`]: the run configuration (TOML/JSON, documented defaults).
//! - [`encode`]: prompts → token ids (rayon, progress bar), truncation, length-bucketed batches.
//! - [`model`]: [`ClModel`], the language model plus per-forward adapter inputs.
//! - [`method`]: the [`Method`] trait — hooks before/after a task, extra losses, gradient
//!   and parameter surgery, evaluation routing, state to save.
//! - [`methods`]: every method in its own file, chosen by [`MethodConfig`].
//! - [`train`]: AdamW, warm-up and schedule, accumulation, global-norm clipping.
//! - [`eval`]: greedy generation scored by the task's metric.
//! - [`metrics`]: the accuracy matrix `a[j][i]`, AA, BWT, FT, FWT.
//! - [`checkpoint`]: atomic checkpoints after every task; resume.
//! - [`run`]: the loop that ties them together; [`results`]: `results.{json,csv,md}`.
//! - [`params`]: parameter paths, counts, host copies, loading by path.
//! - [`passes`]: forward passes that record layer inputs (InfLoRA, OSFT).

#![warn(missing_docs)]

pub mod checkpoint;
pub mod config;
pub mod encode;
pub mod error;
pub mod eval;
pub mod method;
pub mod methods;
pub mod metrics;
pub mod model;
pub mod params;
pub mod passes;
mod progress;
pub mod results;
pub mod run;
pub mod train;

pub use config::{EvalSplit, ModelSpec, RunConfig};
pub use error::{ClError, Result};
pub use method::{Method, MethodState, TaskCtx};
pub use methods::MethodConfig;
pub use metrics::{AccuracyMatrix, Summary};
pub use model::ClModel;
pub use results::RunResults;
pub use run::{RunOptions, run};
pub use strata_data;
pub use strata_models;
