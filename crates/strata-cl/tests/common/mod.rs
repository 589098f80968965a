//! Synthetic tasks for engine tests: a tiny random decoder with the byte-level tokenizer
//! learns a fixed answer per task, so forgetting and its absence are visible in seconds.

#![allow(dead_code)]

use std::path::Path;
use std::time::Instant;

use strata_backend::NdArrayBackend;
use strata_cl::config::{ModelSpec, OptimConfig, TinyModel};
use strata_cl::encode::EncodedExample;
use strata_cl::results::TaskInfo;
use strata_cl::run::{RunOptions, RunTask, load_model, run_prepared};
use strata_cl::{MethodConfig, RunConfig, RunResults};
use strata_data::{Metric, PromptStyle};
use strata_models::Tokenizer;

pub type B = burn::backend::Autodiff<NdArrayBackend>;

/// Task `k`: prompts `"<letter><n>?"` answered by a fixed word.
pub fn synthetic_tasks(n_tasks: usize, n_train: usize, n_test: usize) -> Vec<RunTask> {
    let tok = Tokenizer::byte_level();
    let answers = ["red", "blue", "green", "gold"];
    let letters = ["a", "b", "c", "d"];
    (0..n_tasks)
        .map(|k| {
            let make = |offset: usize, n: usize| -> Vec<EncodedExample> {
                (0..n)
                    .map(|i| {
                        let prompt = format!("{}{}?", letters[k], (i + offset) % 97);
                        let mut target = tok.encode(answers[k], false).unwrap();
                        target.push(256);
                        EncodedExample { prompt: tok.encode(&prompt, false).unwrap(), target, references: vec![answers[k].to_string()] }
                    })
                    .collect()
            };
            RunTask {
                info: TaskInfo { name: format!("syn{k}"), metric: "exact-match".into(), test_source: "synthetic".into(), n_train, n_test },
                metric: Metric::ExactMatch,
                train: make(0, n_train),
                test: make(50, n_test),
            }
        })
        .collect()
}

/// A tiny-model config for `method`, writing under `dir`.
pub fn tiny_config(name: &str, method: MethodConfig, dir: &Path, lr: f64) -> RunConfig {
    RunConfig {
        name: name.into(),
        seed: 7,
        model: ModelSpec::Tiny(TinyModel { hidden: 32, layers: 2, heads: 4, kv_heads: 2, intermediate: 64 }),
        method,
        optim: OptimConfig { lr, batch_size: 8, epochs: 20, ..OptimConfig::default() },
        output_dir: dir.to_path_buf(),
        ..RunConfig::default()
    }
}

/// Runs `config` on synthetic tasks on the CPU.
pub fn run_synthetic(config: &RunConfig, tasks: &[RunTask], options: &RunOptions) -> RunResults {
    let device = Default::default();
    let loaded = load_model::<B>(&config.model, config.seed, &device).unwrap();
    run_prepared(config, &device, options, loaded, tasks, PromptStyle::Raw, Instant::now()).unwrap()
}
