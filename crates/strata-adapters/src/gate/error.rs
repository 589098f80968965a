//! The error type of the gate building blocks.

use strata_linalg::LinalgError;
use thiserror::Error;

/// What went wrong in a gate operation. Every variant names the operation.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum GateError {
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
    /// The old subspace `M²` leaves no direction for a new key: it spans `R^d`, or the current
    /// task's gate outputs lie inside it (`‖(I − M²M²ᵀ)C‖ ≈ 0`).
    #[error("{op}: no direction orthogonal to the old gate outputs is left (basis rank {rank} of {dim}, relative residual {residual:.3e})")]
    NoFreeDirection {
        /// The operation.
        op: &'static str,
        /// Ambient dimension `d`.
        dim: usize,
        /// Rank of `M²`.
        rank: usize,
        /// `‖(I − M²M²ᵀ)C‖_F / ‖C‖_F`.
        residual: f64,
    },
    /// A [`crate::gate::GateStack`] operation needs at least one gate.
    #[error("{op}: the gate stack is empty")]
    EmptyStack {
        /// The operation.
        op: &'static str,
    },
    /// A linear-algebra step failed (non-finite input, factorisation, …).
    #[error(transparent)]
    Linalg(#[from] LinalgError),
}

/// `Result` with [`GateError`].
pub type Result<T> = std::result::Result<T, GateError>;

/// Fails with [`GateError::Shape`] unless `got == expected`.
pub(crate) fn check_dims(op: &'static str, what: &'static str, got: &[usize], expected: &[usize]) -> Result<()> {
    if got == expected {
        return Ok(());
    }
    Err(GateError::Shape { op, what, expected: format!("{expected:?}"), got: got.to_vec() })
}
