//! Errors of model construction, loading and inference. Each names the file and tensor.

use thiserror::Error;

/// What went wrong while loading or running a model.
#[derive(Debug, Error)]
pub enum ModelError {
    /// A file could not be read.
    #[error("{path}: {msg}")]
    Io {
        /// The file.
        path: String,
        /// The OS error.
        msg: String,
    },
    /// A configuration file is malformed or describes an unsupported model.
    #[error("{path}: invalid configuration: {msg}")]
    Config {
        /// The file.
        path: String,
        /// What is wrong.
        msg: String,
    },
    /// A weight file is malformed.
    #[error("{path}: corrupt weights: {msg}")]
    Corrupt {
        /// The file.
        path: String,
        /// What is wrong.
        msg: String,
    },
    /// A tensor the architecture needs is absent.
    #[error("{source_desc}: missing tensor `{name}`")]
    MissingTensor {
        /// The weight source (file or directory).
        source_desc: String,
        /// The tensor's HF name.
        name: String,
    },
    /// A tensor's shape disagrees with the configuration.
    #[error("{source_desc}: tensor `{name}` has shape {found:?}, but the configuration implies {expected:?}")]
    ShapeMismatch {
        /// The weight source.
        source_desc: String,
        /// The tensor's HF name.
        name: String,
        /// The shape the config implies.
        expected: Vec<usize>,
        /// The shape in the file.
        found: Vec<usize>,
    },
    /// A tensor's element type cannot be converted to float.
    #[error("{source_desc}: tensor `{name}` has unsupported dtype {dtype}")]
    UnsupportedDtype {
        /// The weight source.
        source_desc: String,
        /// The tensor's name.
        name: String,
        /// The dtype found.
        dtype: String,
    },
    /// A GGUF file could not be read.
    #[error(transparent)]
    Gguf(#[from] crate::gguf::GgufError),
    /// Bad input to a model call (token ids out of range, mismatched batch shapes).
    #[error("{0}")]
    Input(String),
}

/// `Result` with [`ModelError`].
pub type Result<T> = std::result::Result<T, ModelError>;
