//! Evaluation: greedy generation on a task's test prompts, scored with the task's metric.

use burn::tensor::backend::Backend;
use serde::{Deserialize, Serialize};
use strata_data::Metric;
use strata_data::metrics::score;
use strata_models::{GenerationConfig, PadSide, TokenBatch, Tokenizer, generate};

use crate::encode::EncodedExample;
use crate::error::Result;
use crate::model::ClModel;
use crate::progress;

/// A task's evaluation result.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct EvalOutcome {
    /// Score in percent (mean over examples of the per-example score × 100).
    pub score: f64,
    /// Examples scored.
    pub n: usize,
    /// The first few (prediction, first reference) pairs, for inspection.
    pub samples: Vec<(String, String)>,
}

/// Greedy generation settings shared by every evaluation of a run.
#[derive(Debug, Clone)]
pub struct EvalSettings {
    /// Prompts per batch.
    pub batch_size: usize,
    /// New tokens at most.
    pub max_new_tokens: usize,
    /// Stop tokens.
    pub eos_ids: Vec<u32>,
    /// Padding id.
    pub pad_id: u32,
    /// Left-pad each batch of prompts to a multiple of this many tokens (`data.pad_to_multiple`).
    pub pad_multiple: usize,
}

/// Scores `model` on `examples` under `metric`. Prompts are processed in order of length
/// (less padding); the score does not depend on the order.
pub fn evaluate<B: Backend>(model: &ClModel<B>, tokenizer: &Tokenizer, examples: &[EncodedExample], metric: Metric, settings: &EvalSettings, label: &str) -> Result<EvalOutcome> {
    let mut order: Vec<usize> = (0..examples.len()).collect();
    order.sort_by_key(|&i| examples[i].prompt.len());
    let start = std::time::Instant::now();
    let gen_cfg = GenerationConfig { max_new_tokens: settings.max_new_tokens, eos_ids: settings.eos_ids.clone(), pad_id: settings.pad_id, pad_multiple: settings.pad_multiple, ..GenerationConfig::default() };
    let mut predictions = vec![String::new(); examples.len()];
    let bar = progress::bar(examples.len() as u64, &format!("eval {label}"));
    for chunk in order.chunks(settings.batch_size) {
        let prompts: Vec<Vec<u32>> = chunk.iter().map(|&i| examples[i].prompt.clone()).collect();
        let padded = TokenBatch::pad_to_multiple(&prompts, settings.pad_id, PadSide::Left, settings.pad_multiple)?;
        let ctx = model.context(&padded, &padded.mask)?;
        let outputs = generate(&model.lm, &prompts, &gen_cfg, &ctx)?;
        for (&i, ids) in chunk.iter().zip(outputs) {
            predictions[i] = tokenizer.decode(&ids, true)?;
        }
        bar.inc(chunk.len() as u64);
    }
    bar.finish_and_clear();
    let mut total = 0.0;
    for (p, e) in predictions.iter().zip(examples) {
        total += score(metric, p, e.references.iter().map(String::as_str))?;
    }
    let n = examples.len();
    let secs = start.elapsed().as_secs_f64();
    eprintln!("eval {label}: {n} examples in {secs:.1} s = {:.1} examples/s", n as f64 / secs);
    let samples = predictions.iter().zip(examples).take(5).map(|(p, e)| (p.clone(), e.references.first().cloned().unwrap_or_default())).collect();
    Ok(EvalOutcome { score: if n == 0 { 0.0 } else { 100.0 * total / n as f64 }, n, samples })
}
