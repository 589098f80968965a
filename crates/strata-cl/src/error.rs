//! Errors of the continual-learning engine; each names the file or task it concerns.

use std::path::PathBuf;

/// What can go wrong in a run.
#[derive(Debug, thiserror::Error)]
pub enum ClError {
    /// Benchmark data (the message names file, item and field).
    #[error(transparent)]
    Data(#[from] strata_data::DataError),
    /// Model loading or a model-level input problem.
    #[error(transparent)]
    Model(#[from] strata_models::ModelError),
    /// A linear-algebra step of a method (basis update, SVD).
    #[error(transparent)]
    Linalg(#[from] strata_models::strata_adapters::strata_linalg::LinalgError),
    /// Reading or writing a file.
    #[error("{path}: {msg}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What failed.
        msg: String,
    },
    /// An invalid run configuration.
    #[error("invalid configuration{}: {msg}", path.as_ref().map(|p| format!(" in {}", p.display())).unwrap_or_default())]
    Config {
        /// The configuration file, if it came from one.
        path: Option<PathBuf>,
        /// What is wrong.
        msg: String,
    },
    /// A checkpoint that does not match the run (wrong shape, missing tensor, other config).
    #[error("checkpoint {path}: {msg}")]
    Checkpoint {
        /// The checkpoint file or directory.
        path: PathBuf,
        /// What does not match.
        msg: String,
    },
    /// A method's precondition failed.
    #[error("{method}: {msg}")]
    Method {
        /// The method.
        method: &'static str,
        /// What failed.
        msg: String,
    },
}

/// `Result` with [`ClError`].
pub type Result<T, E = ClError> = std::result::Result<T, E>;

impl ClError {
    /// An I/O error on `path`.
    pub fn io(path: impl Into<PathBuf>, err: impl std::fmt::Display) -> Self {
        Self::Io { path: path.into(), msg: err.to_string() }
    }

    /// A configuration error not tied to a file.
    pub fn config(msg: impl Into<String>) -> Self {
        Self::Config { path: None, msg: msg.into() }
    }
}
