//! Error types: [`GgufError`] for anything tied to a file (always names the path, and the
//! tensor or key where relevant), [`DataError`] for pure in-memory operations
//! (quantize, dequantize, permute) that have no file to name.

use std::path::PathBuf;

/// Failure reading, validating or writing a GGUF file.
///
/// Every variant names the file; tensor- or key-specific variants also name the tensor or
/// the key, and size/shape variants say what was expected and what was found.
#[derive(Debug, thiserror::Error)]
pub enum GgufError {
    /// An operating-system I/O error (open, seek, read, write).
    #[error("{}: I/O error while {context}: {source}", .path.display())]
    Io {
        path: PathBuf,
        context: String,
        #[source]
        source: std::io::Error,
    },

    /// The file ends before a header field, a metadata value or a tensor info is complete.
    #[error(
        "{}: file truncated: reading {what} needs {needed} byte(s) at offset {offset}, \
         but the file has only {file_len} bytes",
        .path.display()
    )]
    Truncated {
        path: PathBuf,
        what: String,
        offset: u64,
        needed: u64,
        file_len: u64,
    },

    /// The first four bytes are not `GGUF`.
    #[error(
        "{}: not a GGUF file: expected magic bytes 47 47 55 46 (\"GGUF\"), found {found:02x?}",
        .path.display()
    )]
    BadMagic { path: PathBuf, found: [u8; 4] },

    /// A GGUF version other than 2 or 3 (v1 used 32-bit counts; big-endian files are not read).
    #[error("{}: unsupported GGUF version {found} (supported: 2 and 3){hint}", .path.display())]
    UnsupportedVersion {
        path: PathBuf,
        found: u32,
        hint: String,
    },

    /// A metadata value type id outside 0..=12.
    #[error(
        "{}: metadata key `{key}` has unknown value type id {type_id} (known ids: 0..=12)",
        .path.display()
    )]
    UnknownValueType {
        path: PathBuf,
        key: String,
        type_id: u32,
    },

    /// A tensor whose ggml type strata cannot dequantize (or does not know at all).
    #[error(
        "{}: tensor `{tensor}` has ggml type {type_name} (id {type_id}), which strata cannot \
         dequantize (supported: {supported})",
        .path.display()
    )]
    UnsupportedQuantType {
        path: PathBuf,
        tensor: String,
        type_id: u32,
        type_name: String,
        supported: String,
    },

    /// A tensor's bytes `[start, end)` (absolute file offsets) do not lie inside the file.
    #[error(
        "{}: tensor `{tensor}` data lies out of bounds: bytes [{start}, {end}) expected inside \
         the file, but the file has only {file_len} bytes",
        .path.display()
    )]
    TensorOutOfBounds {
        path: PathBuf,
        tensor: String,
        start: u64,
        end: u64,
        file_len: u64,
    },

    /// Element counts, byte sizes or shapes that do not agree.
    #[error("{}: tensor `{tensor}`: {what}: expected {expected}, found {found}", .path.display())]
    ShapeMismatch {
        path: PathBuf,
        tensor: String,
        what: String,
        expected: String,
        found: String,
    },

    /// Structurally invalid content (bad UTF-8, duplicate names, misaligned offsets, ...).
    #[error("{}: corrupt GGUF file: {detail}", .path.display())]
    Corrupt { path: PathBuf, detail: String },

    /// No tensor of that name in the file.
    #[error("{}: no tensor named `{name}` in the file", .path.display())]
    TensorNotFound { path: PathBuf, name: String },

    /// A required metadata key is absent.
    #[error("{}: required metadata key `{key}` is missing{hint}", .path.display())]
    MissingKey {
        path: PathBuf,
        key: String,
        hint: String,
    },

    /// A metadata key holds a value of the wrong type (or one that does not fit the target).
    #[error("{}: metadata key `{key}`: expected {expected}, found {found}", .path.display())]
    WrongType {
        path: PathBuf,
        key: String,
        expected: String,
        found: String,
    },

    /// Invalid arguments given to the writer (or to a file-level helper).
    #[error("{}: invalid input: {detail}", .path.display())]
    InvalidInput { path: PathBuf, detail: String },
}

/// Failure of a pure data operation (dequantize, quantize, permute) — no file involved.
/// File-level callers wrap it into a [`GgufError`] that adds the path and tensor name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DataError {
    /// The ggml type is known (or not) but this operation does not implement it.
    #[error("ggml type {type_name} (id {type_id}) is not supported by {op}")]
    UnsupportedType {
        type_id: u32,
        type_name: String,
        op: &'static str,
    },

    /// Sizes or shapes disagree.
    #[error("{what}: expected {expected}, found {found}")]
    SizeMismatch {
        what: String,
        expected: String,
        found: String,
    },
}

impl DataError {
    pub(crate) fn size(
        what: impl Into<String>,
        expected: impl ToString,
        found: impl ToString,
    ) -> Self {
        DataError::SizeMismatch {
            what: what.into(),
            expected: expected.to_string(),
            found: found.to_string(),
        }
    }

    /// Wraps this error into a [`GgufError`] naming `path` and `tensor`.
    pub fn in_tensor(self, path: impl Into<PathBuf>, tensor: impl Into<String>) -> GgufError {
        let path = path.into();
        let tensor = tensor.into();
        match self {
            DataError::UnsupportedType {
                type_id, type_name, ..
            } => GgufError::UnsupportedQuantType {
                path,
                tensor,
                type_id,
                type_name,
                supported: crate::gguf::quant::SUPPORTED_TYPES
                    .iter()
                    .map(|t| t.name())
                    .collect::<Vec<_>>()
                    .join(", "),
            },
            DataError::SizeMismatch {
                what,
                expected,
                found,
            } => GgufError::ShapeMismatch {
                path,
                tensor,
                what,
                expected,
                found,
            },
        }
    }
}
