//! [`AdapterError`]: what can go wrong when adapters are built, factorised, merged or
//! penalised. Every variant names the operation.

use strata_linalg::LinalgError;
use thiserror::Error;

/// The error of every fallible operation in this crate.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum AdapterError {
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
    /// A branch index beyond the number of branches.
    #[error("{op}: index {index} out of range for {len} branch(es)")]
    IndexOutOfRange {
        /// The operation.
        op: &'static str,
        /// The index asked for.
        index: usize,
        /// How many there are.
        len: usize,
    },
    /// A gated branch cannot be folded into the base weight: its gate depends on the input.
    #[error("{op}: branch {index} is gated (gate {gate}); its input-dependent gate cannot be merged into W")]
    GatedBranch {
        /// The operation.
        op: &'static str,
        /// The branch index.
        index: usize,
        /// The branch's gate index.
        gate: usize,
    },
    /// More frozen triplets were asked for than the layer has singular values (OSFT).
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
    /// The old subspace `M²` leaves no direction for a new GainLoRA key: it spans `R^d`, or
    /// the current task's gate outputs lie inside it (`‖(I − M²M²ᵀ)C‖ ≈ 0`).
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
    /// A linear-algebra step failed (bad input, rank deficiency, non-convergence).
    #[error(transparent)]
    Linalg(#[from] LinalgError),
}

/// `Result` with [`AdapterError`].
pub type Result<T> = std::result::Result<T, AdapterError>;
