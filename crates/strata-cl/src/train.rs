//! Training one task: AdamW with warm-up and a constant or linear schedule, gradient
//! accumulation, global-norm clipping, and the method's hooks around every step.

use std::time::Instant;

use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::{AdamWConfig, GradientsAccumulator, GradientsParams, Optimizer};
use burn::tensor::{ElementConversion, Tensor};
use burn::tensor::backend::AutodiffBackend;
use serde::{Deserialize, Serialize};

use crate::config::OptimConfig;
use crate::encode::{EncodedExample, TrainBatch, bucketed_batches};
use crate::error::{ClError, Result};
use crate::method::Method;
use crate::model::ClModel;
use crate::progress;

/// What training a task did.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct TrainStats {
    /// Optimizer steps.
    pub steps: usize,
    /// Training examples seen per epoch.
    pub examples: usize,
    /// Target tokens scored over all epochs.
    pub target_tokens: usize,
    /// Real (prompt and target) tokens forwarded over all epochs.
    #[serde(default)]
    pub tokens: usize,
    /// Token slots forwarded over all epochs, padding included (`batch × seq` summed).
    #[serde(default)]
    pub padded_tokens: usize,
    /// Wall seconds of the first optimizer step (on GPU backends: kernel compilation and
    /// autotuning included).
    #[serde(default)]
    pub first_step_seconds: f64,
    /// Mean loss (cross-entropy plus the method's terms) of the first and the last 10% of steps.
    pub loss_start: f64,
    /// See `loss_start`.
    pub loss_end: f64,
    /// Wall time in seconds.
    pub seconds: f64,
}

/// Trains `model` on `examples` for `cfg.epochs` epochs; returns the updated model. Batches
/// are padded to a multiple of `pad_multiple` tokens (1: to the longest row).
#[allow(clippy::too_many_arguments)]
pub fn train_task<B: AutodiffBackend>(mut model: ClModel<B>, method: &mut dyn Method<B>, examples: &[EncodedExample], cfg: &OptimConfig, pad_id: u32, pad_multiple: usize, seed: u64, label: &str) -> Result<(ClModel<B>, TrainStats)> {
    if examples.is_empty() {
        return Err(ClError::config(format!("{label}: no training examples")));
    }
    let start = Instant::now();
    let mut optim = AdamWConfig::new()
        .with_beta_1(cfg.betas.0 as f32)
        .with_beta_2(cfg.betas.1 as f32)
        .with_epsilon(cfg.epsilon as f32)
        .with_weight_decay(cfg.weight_decay as f32)
        .init::<B, ClModel<B>>();
    let lengths: Vec<usize> = examples.iter().map(|e| e.prompt.len() + e.target.len()).collect();
    let per_epoch = examples.len().div_ceil(cfg.batch_size).div_ceil(cfg.grad_accum);
    let total = per_epoch * cfg.epochs;
    let bar = progress::bar(total as u64, &format!("train {label}"));
    let mut losses = Vec::with_capacity(total);
    let mut stats = TrainStats { examples: examples.len(), ..TrainStats::default() };
    let mut step = 0;
    for epoch in 0..cfg.epochs {
        let batches = bucketed_batches(&lengths, cfg.batch_size, seed ^ (epoch as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        for group in batches.chunks(cfg.grad_accum) {
            let mut accumulator = GradientsAccumulator::<ClModel<B>>::new();
            let mut step_loss = 0.0;
            for indices in group {
                let refs: Vec<&EncodedExample> = indices.iter().map(|&i| &examples[i]).collect();
                let batch = TrainBatch::from_examples_padded(&refs, pad_id, pad_multiple)?;
                stats.target_tokens += batch.target_tokens();
                stats.tokens += batch.tokens.mask.iter().map(|&m| m as usize).sum::<usize>();
                stats.padded_tokens += batch.tokens.batch * batch.tokens.seq;
                let mut loss = model.loss(&batch.tokens, &batch.loss_mask, &batch.prompt_mask)?;
                if let Some(extra) = method.extra_loss(&model) {
                    loss = loss + extra;
                }
                let loss = loss / group.len() as f64;
                step_loss += loss.clone().into_scalar().elem::<f64>();
                let grads = GradientsParams::from_grads(loss.backward(), &model);
                accumulator.accumulate(&model, grads);
            }
            if !step_loss.is_finite() {
                return Err(ClError::Method { method: method.name(), msg: format!("{label}: loss became {step_loss} at step {step}; lower optim.lr") });
            }
            let mut grads = accumulator.grads();
            method.adjust_gradients(&model, &mut grads);
            if let Some(max) = cfg.max_grad_norm {
                clip_global_norm(&model, &mut grads, max);
            }
            method.before_step(&model);
            model = optim.step(cfg.lr_at(step, total), model, grads);
            method.after_step(&mut model);
            losses.push(step_loss);
            if step == 0 {
                stats.first_step_seconds = start.elapsed().as_secs_f64();
            }
            step += 1;
            bar.inc(1);
            bar.set_message(format!("train {label} loss {step_loss:.3}"));
            // Off a terminal the bar is hidden: log every tenth of the steps instead, so long
            // runs on remote machines show where the time goes.
            if bar.is_hidden() && (step % total.div_ceil(10) == 0 || step == 1) {
                eprintln!("train {label}: step {step}/{total}, loss {step_loss:.4}, {:.1} s", start.elapsed().as_secs_f64());
            }
        }
    }
    bar.finish_and_clear();
    let tenth = (losses.len() / 10).max(1);
    stats.steps = step;
    stats.loss_start = losses[..tenth].iter().sum::<f64>() / tenth as f64;
    stats.loss_end = losses[losses.len() - tenth..].iter().sum::<f64>() / tenth as f64;
    stats.seconds = start.elapsed().as_secs_f64();
    eprintln!(
        "train {label}: {} steps, {} tokens ({} slots with padding) in {:.1} s = {:.0} tokens/s; first step {:.1} s, later steps {:.0} tokens/s",
        stats.steps,
        stats.tokens,
        stats.padded_tokens,
        stats.seconds,
        stats.tokens as f64 / stats.seconds,
        stats.first_step_seconds,
        if stats.steps > 1 { stats.tokens as f64 * (1.0 - 1.0 / stats.steps as f64) / (stats.seconds - stats.first_step_seconds) } else { f64::NAN },
    );
    Ok((model, stats))
}

/// Scales all gradients by `min(1, max / ‖g‖₂)`, `‖g‖₂` over every parameter together (as
/// PyTorch's `clip_grad_norm_`; burn's own clipping is per tensor). Returns the norm.
pub fn clip_global_norm<B: AutodiffBackend, M: Module<B>>(model: &M, grads: &mut GradientsParams, max: f64) -> f64 {
    struct Norm<'a> {
        grads: &'a GradientsParams,
        sum: f64,
    }
    impl<B: AutodiffBackend> ModuleVisitor<B> for Norm<'_> {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
            if let Some(g) = self.grads.get::<B::InnerBackend, D>(param.id) {
                self.sum += g.powf_scalar(2.0).sum().into_scalar().elem::<f64>();
            }
        }
    }
    struct Scale<'a> {
        grads: &'a mut GradientsParams,
        factor: f64,
    }
    impl<B: AutodiffBackend> ModuleVisitor<B> for Scale<'_> {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
            if let Some(g) = self.grads.remove::<B::InnerBackend, D>(param.id) {
                self.grads.register(param.id, g * self.factor);
            }
        }
    }
    let mut norm = Norm { grads, sum: 0.0 };
    model.visit(&mut norm);
    let total = norm.sum.sqrt();
    if total > max && total.is_finite() {
        model.visit(&mut Scale { grads, factor: max / (total + 1e-6) });
    }
    total
}
