//! Values computed once per forward pass and shared by every adapted layer.

use burn::tensor::{Tensor, backend::Backend};

/// Per-forward adapter inputs.
#[derive(Debug, Clone, Default)]
pub struct AdapterContext<B: Backend> {
    /// Branch gates `a: [batch, n_gates]` (GainLoRA: one scalar per task per sequence);
    /// a branch with `gate = Some(i)` is scaled by column `i`. `None`: no gating.
    pub gates: Option<Tensor<B, 2>>,
    /// Real-token mask `[batch, seq]` (1 = token, 0 = padding) of the current input, used by
    /// [`crate::InputCapture`] to exclude padding from layer statistics.
    pub token_mask: Option<Tensor<B, 2>>,
}

impl<B: Backend> AdapterContext<B> {
    /// No gates: every branch contributes with weight 1.
    pub fn none() -> Self {
        Self { gates: None, token_mask: None }
    }

    /// Gate column `index` as `[batch, 1, 1]`, broadcastable over `[batch, seq, d]`.
    pub fn gate(&self, index: usize) -> Option<Tensor<B, 3>> {
        self.gates.as_ref().map(|g| {
            let [b, _] = g.dims();
            g.clone().slice([0..b, index..index + 1]).reshape([b, 1, 1])
        })
    }
}
