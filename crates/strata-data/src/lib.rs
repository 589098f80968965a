//! Continual-learning benchmark data for strata. No model or backend dependency.
//!
//! - [`io`] — read `x.json` / `x.json.gz` transparently; errors that name file, item and field.
//! - [`loaders`] — one loader per layout (O-LoRA CL_Benchmark, GainLoRA Long_Sequence,
//!   SuperNI, TRACE), all producing [`Example`]s; a missing split is [`DataError::MissingSplit`].
//! - [`registry`] — every task's name, benchmark, type, metric, directory; lenient name
//!   lookup; [`Registry`] loads a task's splits and label set from a data root.
//! - [`orders`] — the task orders (`standard-1..3`, `long-4..6`, `superni-1..2`, `trace`).
//! - [`prompt`] — O-LoRA, GainLoRA, SuperNI and raw prompt templates.
//! - [`split`] — seeded validation carving, held-out test where test is missing, sampling.
//! - [`metrics`] — exact-match normalisation, exact match, ROUGE-L (`rouge_score`-compatible).
//!
//! ```no_run
//! use strata_data::{Registry, orders::order, prompt::{Prompter, PromptConfig}, split::{prepare, SplitConfig}};
//!
//! let registry = Registry::discover().expect("no data root");
//! let prompter = Prompter::from_registry(&registry, PromptConfig::default())?;
//! for spec in order("standard-1")?.resolve()? {
//!     let task = registry.load_task(spec.name)?;
//!     let prepared = prepare(&task, &SplitConfig::default())?;
//!     let first = prompter.render(&task, &prepared.train[0])?;
//!     println!("{}: {} train, {} test\n{first}", spec.name, prepared.train.len(), prepared.test.len());
//! }
//! # Ok::<(), strata_data::DataError>(())
//! ```
//!
//! See `docs/data.md` for the layouts, the registry, the orders, the prompt styles and the
//! split policy.

#![warn(missing_docs)]

pub mod error;
pub mod io;
pub mod loaders;
pub mod metrics;
pub mod orders;
pub mod prompt;
pub mod registry;
mod rng;
pub mod split;

pub use error::{DataError, Result, SchemaProblem};
pub use loaders::{Example, Layout, LoadedSplit, Split};
pub use orders::{TaskOrder, order, orders};
pub use prompt::{PromptConfig, PromptStyle, Prompter};
pub use registry::{Benchmark, Metric, Registry, TaskData, TaskSpec, TaskType, lookup, tasks};
pub use split::{PreparedTask, SplitConfig, TestSource, prepare};
