//! EWC: SeqFT plus `λ Σ_i F_i (θ_i − θ*_i)²`, `F` the diagonal empirical Fisher.
//!
//! Online form: after each task the new Fisher is added to the running sum and the anchor
//! `θ*` moves to the current weights, so memory stays at two copies of the parameters.

use std::collections::{BTreeMap, HashMap};

use burn::module::{Module, ModuleVisitor, Param, ParamId};
use burn::tensor::Tensor;
use burn::tensor::backend::{AutodiffBackend, Backend};
use serde::{Deserialize, Serialize};

use crate::encode::TrainBatch;
use crate::error::{ClError, Result};
use crate::method::{Method, MethodState, TaskCtx};
use crate::model::ClModel;
use crate::params::{HostTensor, param_infos};
use crate::progress;

/// EWC's hyper-parameters. Defaults: λ = 1000 (not published for these benchmarks; an
/// order-of-magnitude choice for an empirical Fisher of a mean token loss), 32 samples.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct EwcConfig {
    /// Penalty weight λ.
    pub lambda: f64,
    /// Training examples (one per backward pass) used to estimate each task's Fisher.
    pub fisher_samples: usize,
}

impl Default for EwcConfig {
    fn default() -> Self {
        Self { lambda: 1000.0, fisher_samples: 32 }
    }
}

impl EwcConfig {
    /// Checks ranges.
    pub fn validate(&self) -> Result<()> {
        if !(self.lambda >= 0.0) || self.fisher_samples == 0 {
            return Err(ClError::config("ewc: lambda ≥ 0 and fisher_samples ≥ 1 are required"));
        }
        Ok(())
    }
}

/// Per parameter: the summed Fisher diagonal and the anchor, both flattened.
struct Anchor<B: Backend> {
    fisher: Tensor<B, 1>,
    theta: Tensor<B, 1>,
}

/// Elastic weight consolidation.
pub struct Ewc<B: AutodiffBackend> {
    config: EwcConfig,
    anchors: HashMap<ParamId, Anchor<B>>,
}

impl<B: AutodiffBackend> Ewc<B> {
    /// An EWC run.
    pub fn new(config: EwcConfig) -> Self {
        Self { config, anchors: HashMap::new() }
    }

    /// `Σ_i F_i (θ_i − θ*_i)²` (without λ); `None` before the first task ends.
    pub fn penalty(&self, model: &ClModel<B>) -> Option<Tensor<B, 1>> {
        struct Sum<'a, B: Backend> {
            anchors: &'a HashMap<ParamId, Anchor<B>>,
            terms: Vec<Tensor<B, 1>>,
        }
        impl<B: Backend> ModuleVisitor<B> for Sum<'_, B> {
            fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
                if let Some(a) = self.anchors.get(&param.id) {
                    let theta = param.val();
                    let n = theta.shape().num_elements();
                    self.terms.push((a.fisher.clone() * (theta.reshape([n]) - a.theta.clone()).powf_scalar(2.0)).sum());
                }
            }
        }
        let mut sum = Sum { anchors: &self.anchors, terms: Vec::new() };
        model.visit(&mut sum);
        super::sum_terms(sum.terms)
    }
}

/// Mean squared per-example gradients of the trainable parameters, flattened, by id.
fn empirical_fisher<B: AutodiffBackend>(model: &ClModel<B>, task: &TaskCtx<'_>, samples: usize) -> Result<HashMap<ParamId, Tensor<B::InnerBackend, 1>>> {
    struct Square<'a, B: AutodiffBackend> {
        grads: &'a B::Gradients,
        acc: &'a mut HashMap<ParamId, Tensor<B::InnerBackend, 1>>,
    }
    impl<B: AutodiffBackend> ModuleVisitor<B> for Square<'_, B> {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
            if let Some(g) = param.val().grad(self.grads) {
                let n = g.shape().num_elements();
                let sq = g.reshape([n]).powf_scalar(2.0);
                let entry = self.acc.remove(&param.id);
                self.acc.insert(param.id, match entry {
                    Some(a) => a + sq,
                    None => sq,
                });
            }
        }
    }
    let n = samples.min(task.train.len());
    let mut acc = HashMap::new();
    let bar = progress::bar(n as u64, &format!("fisher {}", task.name));
    for example in task.train.iter().take(n) {
        // Padded like the run's batches, so a GPU backend sees a handful of shapes rather
        // than one per example length (the padding is masked out of the loss).
        let batch = TrainBatch::from_examples_padded(&[example], task.pad_id, task.pad_multiple)?;
        let loss = model.loss(&batch.tokens, &batch.loss_mask, &batch.prompt_mask)?;
        let grads = loss.backward();
        model.visit(&mut Square::<B> { grads: &grads, acc: &mut acc });
        bar.inc(1);
    }
    bar.finish_and_clear();
    Ok(acc.into_iter().map(|(id, t)| (id, t / n as f64)).collect())
}

impl<B: AutodiffBackend> Method<B> for Ewc<B> {
    fn name(&self) -> &'static str {
        "EWC"
    }
    fn before_task(&mut self, _model: &mut ClModel<B>, _task: &TaskCtx<'_>) -> Result<()> {
        Ok(())
    }
    fn extra_loss(&self, model: &ClModel<B>) -> Option<Tensor<B, 1>> {
        self.penalty(model).map(|p| p * self.config.lambda)
    }
    fn after_task(&mut self, model: &mut ClModel<B>, task: &TaskCtx<'_>) -> Result<()> {
        let fisher = empirical_fisher(model, task, self.config.fisher_samples)?;
        struct Current<'a, B: Backend> {
            out: &'a mut HashMap<ParamId, Tensor<B, 1>>,
        }
        impl<B: Backend> ModuleVisitor<B> for Current<'_, B> {
            fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
                let t = param.val();
                let n = t.shape().num_elements();
                self.out.insert(param.id, t.reshape([n]));
            }
        }
        let mut current = HashMap::new();
        model.visit(&mut Current::<B> { out: &mut current });
        for (id, f) in fisher {
            let theta = current.remove(&id).expect("a parameter with a gradient is a model parameter").detach();
            let f = Tensor::<B, 1>::from_inner(f);
            let fisher = match self.anchors.remove(&id) {
                Some(old) => old.fisher + f,
                None => f,
            };
            self.anchors.insert(id, Anchor { fisher, theta });
        }
        Ok(())
    }
    fn state(&self, model: &ClModel<B>) -> MethodState {
        // Keyed by parameter path: ids are not stable across processes.
        let mut tensors = BTreeMap::new();
        for info in param_infos::<B, _>(model) {
            if let Some(a) = self.anchors.get(&info.id) {
                tensors.insert(format!("fisher.{}", info.path), HostTensor::from_tensor(&a.fisher));
                tensors.insert(format!("anchor.{}", info.path), HostTensor::from_tensor(&a.theta));
            }
        }
        MethodState { json: serde_json::Value::Null, tensors }
    }
    fn restore(&mut self, model: &mut ClModel<B>, state: MethodState, _done: usize, _total: usize) -> Result<()> {
        let device = model.lm.model.embed_tokens.weight.device();
        self.anchors.clear();
        for info in param_infos::<B, _>(model) {
            let (Some(f), Some(t)) = (state.tensors.get(&format!("fisher.{}", info.path)), state.tensors.get(&format!("anchor.{}", info.path))) else { continue };
            self.anchors.insert(info.id, Anchor { fisher: f.to_tensor(&device), theta: t.to_tensor(&device) });
        }
        Ok(())
    }
}
