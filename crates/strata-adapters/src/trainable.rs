//! Freezing and unfreezing parameters in place, through burn's `Param::set_require_grad`.
//!
//! On an autodiff backend a frozen parameter is a constant of the graph: `backward` gives it
//! no gradient and optimizers skip it. On a plain backend nothing requires gradients, so these
//! helpers are no-ops there and [`is_trainable`] is always `false`.

use burn::module::Param;
use burn::tensor::{Tensor, backend::Backend};

/// Sets whether `param` requires gradients (keeps its id and value).
pub fn set_trainable<B: Backend, const D: usize>(param: &mut Param<Tensor<B, D>>, trainable: bool) {
    *param = param.clone().set_require_grad(trainable);
}

/// Whether `param` requires gradients.
pub fn is_trainable<B: Backend, const D: usize>(param: &Param<Tensor<B, D>>) -> bool {
    param.val().is_require_grad()
}
