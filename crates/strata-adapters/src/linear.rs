//! [`AdaptedLinear`]: a linear layer `y = W x + b + Σ_branches` that adapters plug into.

use std::fmt;

use burn::module::{Module, Param};
use burn::tensor::module::linear;
use burn::tensor::{Tensor, backend::Backend};

use crate::capture::InputCapture;
use crate::context::AdapterContext;
use crate::error::Result;
use crate::lora::LoraBranch;
use crate::svd_factored::{OsftForward, SvdFactors};

/// A linear layer with a base weight and optional adapter branches.
///
/// `y = x·W + b + Σ_i g_i · s_i · x·A_i·B_i`, with `W: [d_in, d_out]` in burn's row layout
/// (the transpose of a PyTorch checkpoint's `[out, in]`), `g_i` the branch's gate from the
/// [`AdapterContext`] (1 when ungated). When [`Self::factored`] is set (OSFT), the factors
/// take the place of `W` and `weight` is a frozen, stale copy until [`Self::fold`].
#[derive(Module, Debug)]
pub struct AdaptedLinear<B: Backend> {
    /// Base weight `[d_in, d_out]`.
    pub weight: Param<Tensor<B, 2>>,
    /// Optional bias `[d_out]`.
    pub bias: Option<Param<Tensor<B, 1>>>,
    /// LoRA branches, summed.
    pub lora: Vec<LoraBranch<B>>,
    /// OSFT's SVD-factored base weight; when `Some`, it replaces `weight` in the forward pass.
    pub factored: Option<SvdFactors<B>>,
    /// Optional recorder of this layer's inputs (not a parameter; never saved).
    #[module(skip)]
    pub capture: Option<InputCapture>,
}

impl<B: Backend> AdaptedLinear<B> {
    /// A layer from a base weight in burn layout `[d_in, d_out]` and an optional bias.
    pub fn new(weight: Tensor<B, 2>, bias: Option<Tensor<B, 1>>) -> Self {
        Self { weight: Param::from_tensor(weight), bias: bias.map(Param::from_tensor), lora: Vec::new(), factored: None, capture: None }
    }

    /// Input width `d_in`.
    pub fn d_in(&self) -> usize {
        self.weight.dims()[0]
    }

    /// Output width `d_out`.
    pub fn d_out(&self) -> usize {
        self.weight.dims()[1]
    }

    /// The base map only: `x·W + b` (`W` from the factors when factored).
    pub fn forward_base<const D: usize>(&self, x: Tensor<B, D>) -> Tensor<B, D> {
        let bias = self.bias.as_ref().map(|b| b.val());
        let Some(factors) = &self.factored else {
            return linear(x, self.weight.val(), bias);
        };
        let y = factors.forward(x);
        match bias {
            Some(b) => y + b.unsqueeze(),
            None => y,
        }
    }

    /// The base weight in use, `[d_in, d_out]`: `weight`, or the factors rebuilt.
    pub fn effective_weight(&self) -> Tensor<B, 2> {
        match &self.factored {
            Some(factors) => factors.dense_weight(),
            None => self.weight.val(),
        }
    }

    /// OSFT: splits the effective base weight into `k` frozen and `min(d_in, d_out) − k`
    /// trainable singular triplets ([`SvdFactors::decompose`]) evaluated with `mode`, and
    /// freezes `weight` (`require_grad = false`). An already factored layer is folded first.
    /// LoRA branches and the bias are untouched. On error the layer is left dense.
    pub fn factorize(&mut self, k: usize, mode: OsftForward) -> Result<()> {
        self.fold();
        let factors = SvdFactors::decompose(&self.weight.val(), k)?.with_mode(mode);
        self.weight = self.weight.clone().set_require_grad(false);
        self.factored = Some(factors);
        Ok(())
    }

    /// OSFT: writes the factors' dense weight back into `weight` (same parameter id, trainable
    /// again) and drops the factors. No-op on a dense layer.
    pub fn fold(&mut self) {
        if let Some(factors) = self.factored.take() {
            let dense = factors.dense_weight().detach();
            self.weight = self.weight.clone().map(|_| dense.require_grad());
        }
    }

    /// The full layer for `x: [batch, seq, d_in]`.
    pub fn forward(&self, x: Tensor<B, 3>, ctx: &AdapterContext<B>) -> Tensor<B, 3> {
        if let Some(capture) = &self.capture {
            capture.record(&x, ctx.token_mask.as_ref());
        }
        let mut y = self.forward_base(x.clone());
        for branch in &self.lora {
            let delta = branch.forward(x.clone());
            y = y + match branch.gate.and_then(|g| ctx.gate(g)) {
                Some(gate) => delta * gate,
                None => delta,
            };
        }
        y
    }
}

/// The stable name of an adaptable linear layer, e.g. `layers.3.self_attn.q_proj`
/// (decoders) or `encoder.block.0.layer.0.SelfAttention.q` (T5): the Hugging Face module path
/// without the leading `model.`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LinearName(pub String);

impl LinearName {
    /// The last path component (`q_proj`, `v`, `wi_0`, …), used to select target modules.
    pub fn leaf(&self) -> &str {
        self.0.rsplit('.').next().unwrap_or(&self.0)
    }

    /// Whether this layer is one of `targets`. A target matches the leaf exactly, or — for
    /// targets containing a dot — as a suffix of the full name (`EncDecAttention.q`).
    /// The short attention names `q`, `k`, `v`, `o` also match decoder `q_proj` … `o_proj`.
    pub fn matches(&self, targets: &[impl AsRef<str>]) -> bool {
        let leaf = self.leaf();
        targets.iter().any(|t| {
            let t = t.as_ref();
            if t.contains('.') {
                self.0.ends_with(t)
            } else {
                leaf == t || leaf.strip_suffix("_proj") == Some(t)
            }
        })
    }
}

impl fmt::Display for LinearName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A model whose adaptable layers can be visited by name — the seam methods use.
pub trait AdaptableModel<B: Backend> {
    /// Calls `f` on every adaptable linear layer, in a fixed order, with its stable name.
    fn visit_linears_mut(&mut self, f: &mut dyn FnMut(&LinearName, &mut AdaptedLinear<B>));

    /// Calls `f` on every adaptable linear layer, read-only.
    fn visit_linears(&self, f: &mut dyn FnMut(&LinearName, &AdaptedLinear<B>));

    /// Calls `f` on every block-level residual adapter slot (`layers.3.after_attention`, …).
    fn visit_residual_slots_mut(&mut self, f: &mut dyn FnMut(&str, &mut crate::ResidualSlot<B>));

    /// Calls `f` on every block-level residual adapter slot, read-only, in the same order.
    fn visit_residual_slots(&self, f: &mut dyn FnMut(&str, &crate::ResidualSlot<B>));

    /// The names of all adaptable linear layers, in visiting order.
    fn linear_names(&self) -> Vec<LinearName> {
        let mut names = Vec::new();
        self.visit_linears(&mut |n, _| names.push(n.clone()));
        names
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_targets() {
        let q = LinearName("layers.3.self_attn.q_proj".into());
        assert_eq!(q.leaf(), "q_proj");
        assert!(q.matches(&["q_proj"]));
        assert!(q.matches(&["q", "v"]));
        assert!(!q.matches(&["k_proj", "v"]));
        let cross = LinearName("decoder.block.1.layer.1.EncDecAttention.q".into());
        assert!(cross.matches(&["q"]));
        assert!(cross.matches(&["EncDecAttention.q"]));
        assert!(!cross.matches(&["SelfAttention.q"]));
    }
}
