//! [`OsftError`]: what can be wrong in the input of OSFT's factorisation and rank rules.

use strata_linalg::LinalgError;
use thiserror::Error;

/// An error from the OSFT building blocks ([`crate::SvdFactors`], [`crate::OsftRankRule`]).
#[derive(Debug, Clone, PartialEq, Error)]
pub enum OsftError {
    /// The underlying factorisation or projection failed (non-finite weight, shapes, …).
    #[error(transparent)]
    Linalg(#[from] LinalgError),
    /// More frozen triplets were asked for than the layer has singular values.
    #[error("{op}: k = {k} frozen triplets exceed min(d_in, d_out) = {max} of a {d_in}→{d_out} layer")]
    RankTooLarge {
        /// The operation.
        op: &'static str,
        /// The frozen rank asked for.
        k: usize,
        /// `min(d_in, d_out)`.
        max: usize,
        /// Input width.
        d_in: usize,
        /// Output width.
        d_out: usize,
    },
    /// Tensor shapes do not fit together.
    #[error("{op}: {what}: expected {expected}, got {got:?}")]
    Shape {
        /// The operation.
        op: &'static str,
        /// Which argument or relation is wrong.
        what: &'static str,
        /// The expected shape, in words.
        expected: String,
        /// The shape that was passed.
        got: Vec<usize>,
    },
    /// A scalar argument is outside its domain.
    #[error("{op}: invalid argument {name} = {value}: {reason}")]
    InvalidArgument {
        /// The operation.
        op: &'static str,
        /// The argument.
        name: &'static str,
        /// Its value, printed.
        value: String,
        /// Why it is rejected.
        reason: &'static str,
    },
    /// Per-layer lists that must have one entry per layer differ in length.
    #[error("{op}: {what}: {left} vs {right} entries")]
    LengthMismatch {
        /// The operation.
        op: &'static str,
        /// Which lists.
        what: &'static str,
        /// Length of the first list.
        left: usize,
        /// Length of the second list.
        right: usize,
    },
}

/// `Result` with [`OsftError`].
pub type Result<T> = std::result::Result<T, OsftError>;
