//! The error type of the gate building blocks.

/// The gate building blocks share the crate's error type.
pub use crate::error::AdapterError as GateError;
pub use crate::error::Result;

/// Fails with [`GateError::Shape`] unless `got == expected`.
pub(crate) fn check_dims(op: &'static str, what: &'static str, got: &[usize], expected: &[usize]) -> Result<()> {
    if got == expected {
        return Ok(());
    }
    Err(GateError::Shape { op, what, expected: format!("{expected:?}"), got: got.to_vec() })
}
