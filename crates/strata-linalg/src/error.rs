//! The error type of every fallible operation in this crate.

use thiserror::Error;

/// What went wrong in a linear-algebra operation. Every variant names the operation.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum LinalgError {
    /// The input holds NaN or ±∞.
    #[error("{op}: input `{input}` has {count} non-finite value(s), the first at [{row}, {col}]")]
    NonFinite {
        /// The operation that rejected the input.
        op: &'static str,
        /// Which argument.
        input: &'static str,
        /// How many entries are NaN or infinite.
        count: usize,
        /// Row of the first such entry.
        row: usize,
        /// Column of the first such entry.
        col: usize,
    },
    /// The shapes of the arguments do not fit the operation.
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
    /// `k` asks for more components than the matrix dimensions allow.
    #[error("{op}: k = {k} exceeds min(rows, cols) = {max} of a {rows}×{cols} matrix")]
    KTooLarge {
        /// The operation.
        op: &'static str,
        /// The number of components asked for.
        k: usize,
        /// The largest `k` possible.
        max: usize,
        /// Rows of the input.
        rows: usize,
        /// Columns of the input.
        cols: usize,
    },
    /// `k` exceeds the numerical rank: the trailing singular values are zero to working precision.
    #[error("{op}: k = {k} exceeds the numerical rank {rank} (σ_k / σ_1 = {ratio:.3e} ≤ tolerance {tol:.1e})")]
    RankDeficient {
        /// The operation.
        op: &'static str,
        /// The number of components asked for.
        k: usize,
        /// The numerical rank found.
        rank: usize,
        /// σ_k / σ_1.
        ratio: f64,
        /// The relative tolerance below which a singular value counts as zero.
        tol: f64,
    },
    /// A matrix that must be symmetric is not.
    #[error("{op}: matrix is not symmetric: max |C − Cᵀ| = {asymmetry:.3e} > {tol:.1e} · max |C|")]
    NotSymmetric {
        /// The operation.
        op: &'static str,
        /// The largest absolute asymmetry.
        asymmetry: f64,
        /// The relative tolerance.
        tol: f64,
    },
    /// An accumulator was finished before it saw any data.
    #[error("{op}: no samples were accumulated")]
    Empty {
        /// The operation.
        op: &'static str,
    },
    /// A host factorisation (faer) did not converge or failed.
    #[error("{op}: factorisation failed: {reason}")]
    Factorization {
        /// The operation.
        op: &'static str,
        /// faer's reason.
        reason: String,
    },
    /// A parameter is outside its domain.
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
}

/// `Result` with [`LinalgError`].
pub type Result<T> = std::result::Result<T, LinalgError>;
