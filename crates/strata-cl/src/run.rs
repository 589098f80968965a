//! The engine's loop: prepare data and model, then for each task in the order train,
//! consolidate, evaluate every task seen so far (a row of the accuracy matrix) and
//! checkpoint; resume from the last checkpoint on request.

use std::path::PathBuf;
use std::time::Instant;

use burn::module::AutodiffModule;
use burn::tensor::backend::{AutodiffBackend, Backend};
use serde::{Deserialize, Serialize};
use strata_data::split::{HeldOutConfig, MissingTest, Sampling, SplitConfig, sample_per_task};
use strata_data::{Metric, PromptConfig, PromptStyle, Prompter, Registry, TestSource, prepare};
use strata_models::{CausalLm, DecoderConfig, Loader, Pretrained, RandomInit, Tokenizer};

use crate::checkpoint::{self, CheckpointState, METHOD_PREFIX};
use crate::config::{EvalSplit, ModelSpec, RunConfig, TinyModel};
use crate::encode::{EncodedExample, Lengths, encode_examples};
use crate::error::{ClError, Result};
use crate::eval::{EvalSettings, evaluate};
use crate::method::{Method, MethodState, TaskCtx};
use crate::metrics::AccuracyMatrix;
use crate::model::ClModel;
use crate::params::{host_params, load_params, param_counts};
use crate::results::{RunResults, TaskInfo, TaskRecord, git_commit, peak_rss_mib};
use crate::train::train_task;

/// A task ready to train and score.
#[derive(Debug, Clone)]
pub struct RunTask {
    /// Name and provenance.
    pub info: TaskInfo,
    /// Metric.
    pub metric: Metric,
    /// Encoded training examples.
    pub train: Vec<EncodedExample>,
    /// Encoded test examples.
    pub test: Vec<EncodedExample>,
}

/// Options of one invocation (not part of the experiment's configuration).
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Continue from the run directory's last checkpoint.
    pub resume: bool,
    /// Stop (as if killed) after checkpointing this many tasks — for tests of resume.
    pub stop_after: Option<usize>,
    /// The device, in words, for the results.
    pub device: String,
    /// Do not write checkpoints (faster; resume impossible).
    pub no_checkpoints: bool,
}

/// The per-task seed: `seed` mixed with the task index (SplitMix64 finaliser).
pub fn task_seed(seed: u64, task: usize) -> u64 {
    let mut z = seed.wrapping_add((task as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A loaded model with its tokenizer and special ids.
pub struct LoadedModel<B: Backend> {
    /// The model.
    pub lm: CausalLm<B>,
    /// Its tokenizer.
    pub tokenizer: Tokenizer,
    /// Stop ids.
    pub eos_ids: Vec<u32>,
    /// Padding id.
    pub pad_id: u32,
}

/// Loads (or randomly initialises, seeded) the model of `spec`.
pub fn load_model<B: Backend>(spec: &ModelSpec, seed: u64, device: &B::Device) -> Result<LoadedModel<B>> {
    B::seed(device, seed);
    match spec {
        ModelSpec::Pretrained(name) => {
            let p = Pretrained::<B>::load(name, device)?;
            let (eos_ids, pad_id) = (p.eos_ids(), p.pad_id());
            Ok(LoadedModel { lm: p.model, tokenizer: p.tokenizer, eos_ids, pad_id })
        }
        ModelSpec::Tiny(t) => {
            let tokenizer = Tokenizer::byte_level();
            let cfg = tiny_config(t, tokenizer.vocab_size())?;
            let init = RandomInit { std: 0.02 };
            let lm = CausalLm::load(&cfg, &Loader::<B>::random(&init, device))?;
            let eos = tokenizer.eos_id().expect("byte-level tokenizer has EOS");
            let pad = tokenizer.pad_id().expect("byte-level tokenizer has PAD");
            Ok(LoadedModel { lm, tokenizer, eos_ids: vec![eos], pad_id: pad })
        }
    }
}

fn tiny_config(t: &TinyModel, vocab: usize) -> Result<DecoderConfig> {
    let json = serde_json::json!({
        "model_type": "llama", "vocab_size": vocab, "hidden_size": t.hidden, "intermediate_size": t.intermediate,
        "num_hidden_layers": t.layers, "num_attention_heads": t.heads, "num_key_value_heads": t.kv_heads,
        "rms_norm_eps": 1e-6, "rope_theta": 10000.0, "tie_word_embeddings": true, "max_position_embeddings": 4096,
    });
    let cfg: DecoderConfig = serde_json::from_value(json).map_err(|e| ClError::config(format!("tiny model: {e}")))?;
    cfg.validate().map_err(|e| ClError::config(format!("tiny model: {e}")))?;
    Ok(cfg)
}

/// Loads, splits, samples, prompts and tokenises the run's tasks.
pub fn prepare_tasks(config: &RunConfig, tokenizer: &Tokenizer) -> Result<(Vec<RunTask>, PromptStyle)> {
    let data = &config.data;
    let registry = match &data.root {
        Some(root) => Registry::new(root.clone()),
        None => Registry::discover().ok_or_else(|| ClError::config("no data root: set data.root or STRATA_DATA_DIR, or run inside a checkout beside shared/data"))?,
    };
    let order = strata_data::order(&data.order)?;
    let mut specs = order.resolve()?;
    if let Some(n) = data.max_tasks {
        specs.truncate(n.max(1));
    }
    let style = data.prompt_style.unwrap_or_else(|| PromptStyle::default_for(specs[0].benchmark));
    let prompter = Prompter::from_registry(&registry, PromptConfig::with_style(style))?;
    let lengths = Lengths { max_source: data.max_source_len, max_target: data.max_target_len };
    let split_cfg = SplitConfig {
        seed: config.seed,
        missing_test: if data.held_out_when_missing_test { MissingTest::HeldOut(HeldOutConfig::default()) } else { MissingTest::Fail },
        train_sampling: data.train_per_task.map(Sampling::PerTask),
        ..SplitConfig::default()
    };
    let mut tasks = Vec::with_capacity(specs.len());
    for spec in specs {
        let task = registry.load_task(spec.name)?;
        let prepared = prepare(&task, &split_cfg)?;
        let (scored, test_source) = match data.evaluate_on {
            EvalSplit::Test => (
                &prepared.test,
                match prepared.test_source {
                    TestSource::Published => "published test split".to_string(),
                    TestSource::HeldOutFromTrain { fraction, max, seed } => format!("held out from train ({fraction} capped at {max}, seed {seed})"),
                },
            ),
            EvalSplit::Validation if prepared.validation.is_empty() => {
                return Err(ClError::config(format!("data.evaluate_on = validation, but task `{}` has no validation examples (train too small to carve from)", spec.name)));
            }
            EvalSplit::Validation => {
                let v = &split_cfg.validation;
                (&prepared.validation, format!("validation carved from train ({} capped at {}, seed {})", v.fraction, v.max, config.seed))
            }
        };
        let test = match data.test_per_task {
            Some(n) => sample_per_task(scored.clone(), n, config.seed, spec.name),
            None => scored.clone(),
        };
        let train = encode_examples(tokenizer, &prompter, &task, &prepared.train, lengths, "train")?;
        let test = encode_examples(tokenizer, &prompter, &task, &test, lengths, data.evaluate_on.as_str())?;
        tasks.push(RunTask {
            info: TaskInfo { name: spec.name.to_string(), metric: spec.metric.to_string(), test_source, n_train: train.len(), n_test: test.len() },
            metric: spec.metric,
            train,
            test,
        });
    }
    Ok((tasks, style))
}

/// The engine's own record, checkpointed with the model.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
struct Progress {
    matrix: AccuracyMatrix,
    records: Vec<TaskRecord>,
    seconds: f64,
}

/// Runs (or resumes) a continual-learning experiment on `device`.
pub fn run<B: AutodiffBackend>(config: &RunConfig, device: &B::Device, options: &RunOptions) -> Result<RunResults> {
    config.validate()?;
    let start = Instant::now();
    let loaded = load_model::<B>(&config.model, config.seed, device)?;
    let (tasks, style) = prepare_tasks(config, &loaded.tokenizer)?;
    run_prepared(config, device, options, loaded, &tasks, style, start)
}

/// [`run`] on already prepared tasks (tests build synthetic ones).
pub fn run_prepared<B: AutodiffBackend>(config: &RunConfig, device: &B::Device, options: &RunOptions, loaded: LoadedModel<B>, tasks: &[RunTask], style: PromptStyle, start: Instant) -> Result<RunResults> {
    let run_dir: PathBuf = config.run_dir();
    let mut method: Box<dyn Method<B>> = config.method.build::<B>();
    let joint = config.method.is_joint();
    let mut model = ClModel::new(loaded.lm);
    let names: Vec<String> = tasks.iter().map(|t| t.info.name.clone()).collect();
    let mut progress = Progress { matrix: AccuracyMatrix::new(names), ..Progress::default() };
    let total = tasks.len();
    let phases = if joint { 1 } else { total };

    if options.resume {
        if let Some((state, tensors)) = checkpoint::load(&run_dir)? {
            let state_path = checkpoint::checkpoint_dir(&run_dir).join("state.json");
            if state.config != config.to_json() {
                return Err(ClError::Checkpoint { path: state_path, msg: "it was written by a different configuration; use another run name or remove the directory".into() });
            }
            let (method_tensors, model_tensors): (std::collections::BTreeMap<_, _>, std::collections::BTreeMap<_, _>) = tensors.into_iter().partition(|(k, _)| k.starts_with(METHOD_PREFIX));
            let method_tensors = method_tensors.into_iter().map(|(k, v)| (k[METHOD_PREFIX.len()..].to_string(), v)).collect();
            method.restore(&mut model, MethodState { json: state.method, tensors: method_tensors }, state.tasks_done, total)?;
            model = load_params(model, &model_tensors, &checkpoint::checkpoint_dir(&run_dir).join(&state.tensors_file))?;
            progress = serde_json::from_value(state.progress).map_err(|e| ClError::Checkpoint { path: state_path, msg: format!("bad progress record: {e}") })?;
            eprintln!("resuming {} after {} of {} tasks", run_dir.display(), state.tasks_done, phases);
        }
    }

    let settings = EvalSettings {
        batch_size: config.eval.batch_size,
        max_new_tokens: config.eval.max_new_tokens.unwrap_or(config.data.max_target_len),
        eos_ids: loaded.eos_ids.clone(),
        pad_id: loaded.pad_id,
        pad_multiple: config.data.pad_to_multiple,
    };
    let union: Vec<EncodedExample> = if joint { tasks.iter().flat_map(|t| t.train.iter().cloned()).collect() } else { Vec::new() };
    let elapsed_before = progress.seconds;
    let mut finished = true;

    for phase in progress.matrix.finished()..phases {
        let phase_start = Instant::now();
        let seed = task_seed(config.seed, phase);
        B::seed(device, seed);
        let (name, train) = if joint { ("joint", union.as_slice()) } else { (tasks[phase].info.name.as_str(), tasks[phase].train.as_slice()) };
        let ctx = TaskCtx { index: phase, total, name, train, pad_id: loaded.pad_id, seed, batch_size: config.optim.batch_size, pad_multiple: config.data.pad_to_multiple };
        method.before_task(&mut model, &ctx)?;
        let examples = method.training_examples(&ctx);
        let (trainable_params, total_params) = param_counts::<B, _>(&model);
        let label = format!("{}/{} {name}", phase + 1, phases);
        let (trained, stats) = train_task(model, method.as_mut(), &examples, &config.optim, loaded.pad_id, config.data.pad_to_multiple, seed, &label)?;
        model = trained;
        method.after_task(&mut model, &ctx)?;

        let scored = if joint { total } else { phase + 1 };
        let mut evals = Vec::with_capacity(scored);
        for (i, task) in tasks.iter().enumerate().take(scored) {
            method.before_eval(&mut model, i);
            let valid = model.valid();
            evals.push(evaluate(&valid, &loaded.tokenizer, &task.test, task.metric, &settings, &format!("{label} → {}", task.info.name))?);
        }
        method.after_eval(&mut model);
        let row: Vec<f64> = evals.iter().map(|e| e.score).collect();
        if joint {
            progress.matrix.rows.push(row);
        } else {
            progress.matrix.push_row(row);
        }
        progress.records.push(TaskRecord { task: name.to_string(), train: stats, trainable_params, total_params, evals, method_report: method.report(&model), seconds: phase_start.elapsed().as_secs_f64() });
        progress.seconds = elapsed_before + start.elapsed().as_secs_f64();
        eprintln!("{label}: row {:?}", progress.matrix.rows.last().map(|r| r.iter().map(|v| (v * 10.0).round() / 10.0).collect::<Vec<_>>()));

        if !options.no_checkpoints {
            let state = method.state(&model);
            let mut tensors = host_params::<B, _>(&model, &|_| true);
            tensors.extend(state.tensors.into_iter().map(|(k, v)| (format!("{METHOD_PREFIX}{k}"), v)));
            let ck = CheckpointState {
                version: 1,
                tasks_done: phase + 1,
                config: config.to_json(),
                method: state.json,
                progress: serde_json::to_value(&progress).expect("progress serialises"),
                tensors_file: String::new(),
                rng: format!("backend and data streams reseeded per task from task_seed({}, task)", config.seed),
            };
            checkpoint::save(&run_dir, ck, &tensors)?;
        }
        if options.stop_after == Some(phase + 1) && phase + 1 < phases {
            finished = false;
            break;
        }
    }

    let summary = if joint { progress.matrix.rows.last().map(|r| crate::metrics::Summary { aa: r.iter().sum::<f64>() / r.len() as f64, bwt: None, ft: None, fwt: None }) } else { progress.matrix.summary(None) };
    let results = RunResults {
        method: method.name().to_string(),
        config: config.to_json(),
        git_commit: git_commit(),
        device: options.device.clone(),
        prompt_style: format!("{style:?}"),
        tasks: tasks.iter().map(|t| t.info.clone()).collect(),
        matrix: progress.matrix.clone(),
        joint,
        summary,
        records: progress.records.clone(),
        seconds: elapsed_before + start.elapsed().as_secs_f64(),
        peak_rss_mib: peak_rss_mib(),
        finished,
    };
    results.write(&run_dir)?;
    Ok(results)
}
