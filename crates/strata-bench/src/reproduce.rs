//! The paper-table harness: presets of runs (one per method, same data, same model) and the
//! table of AA / BWT / FT / FWT they produce.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use serde::{Deserialize, Serialize};
use strata_cl::config::{DataConfig, EvalConfig, ModelSpec, OptimConfig, TinyModel};
use strata_cl::methods::LoraSettings;
use strata_cl::methods::ewc::EwcConfig;
use strata_cl::methods::gainlora::{GainloraConfig, GainloraVariant};
use strata_cl::methods::inflora::InfloraConfig;
use strata_cl::methods::oa_adapter::OaAdapterConfig;
use strata_cl::methods::olora::OloraConfig;
use strata_cl::methods::osft::OsftConfig;
use strata_cl::methods::replay::ReplayConfig;
use strata_cl::{MethodConfig, RunConfig, RunResults};

/// A named set of runs.
#[derive(Debug, Clone)]
pub struct Preset {
    /// `smoke`, `quick`, `gpu` or `full`.
    pub name: &'static str,
    /// What it is for, in one line.
    pub about: String,
    /// One configuration per method.
    pub runs: Vec<RunConfig>,
}

/// Learning rates (not tuned on test data): full fine-tuning and adapter methods.
#[derive(Debug, Clone, Copy)]
struct Rates {
    full: f64,
    adapter: f64,
}

/// Every method in the order the table lists them (and the harness runs them): the
/// forgetting baseline and the common baseline first, then the three seed methods, then the
/// other baselines and the upper bounds. `true` marks methods that train all weights.
fn methods(lora: &LoraSettings) -> Vec<(MethodConfig, bool)> {
    vec![
        (MethodConfig::SeqFt, true),
        (MethodConfig::OLora(OloraConfig { lora: lora.clone(), ..OloraConfig::default() }), false),
        (MethodConfig::GainLora(GainloraConfig::default()), false),
        (MethodConfig::GainLora(GainloraConfig { variant: GainloraVariant::Olora, ..GainloraConfig::default() }), false),
        (MethodConfig::Osft(OsftConfig::default()), true),
        (MethodConfig::OaAdapter(OaAdapterConfig::default()), false),
        (MethodConfig::SeqLora { lora: lora.clone() }, false),
        (MethodConfig::IncLora { lora: lora.clone() }, false),
        (MethodConfig::InfLora(InfloraConfig::default()), false),
        (MethodConfig::Replay(ReplayConfig::default()), true),
        (MethodConfig::Ewc(EwcConfig::default()), true),
        (MethodConfig::PerTaskFt { lora: lora.clone() }, false),
        (MethodConfig::Mtl { lora: lora.clone() }, false),
    ]
}

fn runs(preset: &str, base: RunConfig, lora: &LoraSettings, rates: Rates) -> Vec<RunConfig> {
    methods(lora)
        .into_iter()
        .map(|(method, full)| {
            let mut cfg = base.clone();
            cfg.name = format!("{preset}/{}", method.display_name().to_lowercase().replace(['(', ')'], "-").trim_end_matches('-'));
            // GainLoRA's paper rate is a constant 3e-4 on T5/LLaMA; the same adapter rate as
            // the other LoRA methods is used here so the comparison isolates the method.
            cfg.optim.lr = if full { rates.full } else { rates.adapter };
            cfg.method = method;
            cfg
        })
        .collect()
}

/// The presets.
pub fn preset(name: &str, output_dir: &Path) -> Result<Preset> {
    let lora = LoraSettings::default();
    Ok(match name {
        "smoke" => {
            let base = RunConfig {
                seed: 42,
                model: ModelSpec::Tiny(TinyModel::default()),
                data: DataConfig { order: "standard-1".into(), max_tasks: Some(3), train_per_task: Some(16), test_per_task: Some(8), max_source_len: 96, ..DataConfig::default() },
                optim: OptimConfig { batch_size: 8, epochs: 1, ..OptimConfig::default() },
                eval: EvalConfig { batch_size: 8, max_new_tokens: Some(6) },
                output_dir: output_dir.to_path_buf(),
                ..RunConfig::default()
            };
            Preset { name: "smoke", about: "tiny random model, 3 tasks × 16 examples: checks the pipeline in seconds (numbers are meaningless)".into(), runs: runs("smoke", base, &lora, Rates { full: 1e-3, adapter: 1e-2 }) }
        }
        "quick" => {
            let base = RunConfig {
                seed: 42,
                model: ModelSpec::Pretrained("smollm2-135m".into()),
                data: DataConfig { order: "standard-1".into(), train_per_task: Some(64), test_per_task: Some(32), max_source_len: 96, ..DataConfig::default() },
                optim: OptimConfig { batch_size: 4, epochs: 1, warmup_ratio: 0.1, ..OptimConfig::default() },
                eval: EvalConfig { batch_size: 16, max_new_tokens: Some(8) },
                output_dir: output_dir.to_path_buf(),
                ..RunConfig::default()
            };
            Preset { name: "quick", about: "SmolLM2-135M, Standard order 1, 64 train / 32 test examples per task (16 steps of 4), CPU".into(), runs: runs("quick", base, &lora, Rates { full: 1e-4, adapter: 1e-3 }) }
        }
        "full" => Preset { name: "full", about: "SmolLM2-135M, Standard order 1, 1000 train / 500 test per task (GPU)".into(), runs: runs("full", full_base(output_dir), &lora, FULL_RATES) },
        "gpu" => {
            // `full`'s model, order, batch and rates on fewer examples: 500 / 200 take ≈ 30 s
            // of training and ≈ 10 s of evaluation per method on one H100 once the kernels
            // are compiled (SeqFT, docs/reproduction.md), but the first use of each method's
            // kernels costs minutes of compilation on top, per distinct sequence length. So
            // prompts are cut at 240 tokens and every batch is padded to a multiple of 128:
            // training sequences (prompt + ≤ 16 target tokens) and generation prompts then
            // take two lengths only, 128 and 256.
            let mut base = full_base(output_dir);
            base.data.train_per_task = Some(GPU_TRAIN_PER_TASK);
            base.data.test_per_task = Some(GPU_TEST_PER_TASK);
            base.data.max_source_len = 240;
            base.data.pad_to_multiple = 128;
            base.eval.batch_size = 100;
            Preset { name: "gpu", about: "SmolLM2-135M, Standard order 1, the `full` preset on fewer examples per task, prompts ≤ 240 tokens, batches padded to 128-token multiples (one H100)".into(), runs: runs("gpu", base, &lora, FULL_RATES) }
        }
        other => bail!("unknown preset `{other}`: expected smoke, quick, gpu or full"),
    })
}

/// Learning rates of the GPU presets.
const FULL_RATES: Rates = Rates { full: 5e-5, adapter: 1e-3 };

/// The `full` preset's shared configuration (the `gpu` preset shrinks its data).
fn full_base(output_dir: &Path) -> RunConfig {
    RunConfig {
        seed: 42,
        model: ModelSpec::Pretrained("smollm2-135m".into()),
        data: DataConfig { order: "standard-1".into(), train_per_task: Some(1000), test_per_task: Some(500), max_source_len: 256, ..DataConfig::default() },
        optim: OptimConfig { batch_size: 16, epochs: 1, warmup_ratio: 0.05, ..OptimConfig::default() },
        eval: EvalConfig { batch_size: 64, max_new_tokens: Some(8) },
        output_dir: output_dir.to_path_buf(),
        ..RunConfig::default()
    }
}

/// Training examples per task of the `gpu` preset.
pub const GPU_TRAIN_PER_TASK: usize = 500;
/// Test examples per task of the `gpu` preset.
pub const GPU_TEST_PER_TASK: usize = 200;

/// One line of the table.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TableRow {
    /// Method.
    pub method: String,
    /// AA.
    pub aa: f64,
    /// BWT (None for joint training).
    pub bwt: Option<f64>,
    /// FT.
    pub ft: Option<f64>,
    /// FWT against PerTaskFT's diagonal (single-task LoRA fine-tuning), when it ran.
    pub fwt: Option<f64>,
    /// Trainable parameters of the last task.
    pub trainable_params: usize,
    /// Wall seconds of the run.
    pub seconds: f64,
    /// Where the run's files are.
    pub dir: PathBuf,
}

/// The table over finished runs; FWT uses PerTaskFT's diagonal as the single-task scores.
pub fn table(results: &[(PathBuf, RunResults)]) -> Vec<TableRow> {
    let single: Option<Vec<f64>> = results.iter().find(|(_, r)| r.method == "PerTaskFT").map(|(_, r)| (0..r.matrix.rows.len()).map(|i| r.matrix.get(i, i)).collect());
    results
        .iter()
        .map(|(dir, r)| {
            let s = if r.joint { r.summary } else { r.matrix.summary(single.as_deref()) };
            let s = s.expect("a finished run has a summary");
            TableRow { method: r.method.clone(), aa: s.aa, bwt: s.bwt, ft: s.ft, fwt: if r.joint { None } else { s.fwt }, trainable_params: r.records.last().map_or(0, |x| x.trainable_params), seconds: r.seconds, dir: dir.clone() }
        })
        .collect()
}

/// The table as Markdown.
pub fn markdown(preset: &Preset, rows: &[TableRow], device: &str, prompt_style: &str) -> String {
    let f = |v: Option<f64>| v.map_or("–".to_string(), |v| format!("{v:.2}"));
    let mut s = format!("# strata reproduce tables — preset `{}`\n\n{}\n\n- device: {device}\n- prompt style: {prompt_style}\n- commit: {}\n\n", preset.name, preset.about, strata_cl::results::git_commit());
    s.push_str("| method | AA | BWT | FT | FWT | trainable params | time (s) |\n|---|---|---|---|---|---|---|\n");
    for r in rows {
        let _ = writeln!(s, "| {} | {:.2} | {} | {} | {} | {} | {:.0} |", r.method, r.aa, f(r.bwt), f(r.ft), f(r.fwt), r.trainable_params, r.seconds);
    }
    s.push_str("\nAA, BWT, FT in percentage points over per-task scores (exact match / ROUGE-L); FWT relative to PerTaskFT's diagonal. MTL trains jointly (no BWT/FT).\n");
    s
}

/// Command-line overrides of a preset's runs. Each is recorded in the runs' configurations
/// (so a run resumes only under the same overrides) and named in the table's description.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct Overrides {
    /// Override the preset's training examples per task.
    #[arg(long)]
    pub train_per_task: Option<usize>,
    /// Override the preset's test examples per task.
    #[arg(long)]
    pub test_per_task: Option<usize>,
    /// Override the preset's `data.pad_to_multiple` (1: pad to the longest sequence).
    #[arg(long)]
    pub pad_to_multiple: Option<usize>,
    /// Use only the first N tasks of the order.
    #[arg(long)]
    pub max_tasks: Option<usize>,
    /// Override the learning rate of every selected method (for rate searches).
    #[arg(long)]
    pub lr: Option<f64>,
    /// Score the accuracy matrix on `test` (default) or on the `validation` part carved from
    /// train — the split to choose hyper-parameters on.
    #[arg(long)]
    pub evaluate_on: Option<strata_cl::EvalSplit>,
}

impl Overrides {
    /// Applies the overrides to every run of `preset` and appends them to its description.
    pub fn apply(&self, preset: &mut Preset) {
        for cfg in &mut preset.runs {
            let data = &mut cfg.data;
            data.train_per_task = self.train_per_task.or(data.train_per_task);
            data.test_per_task = self.test_per_task.or(data.test_per_task);
            data.pad_to_multiple = self.pad_to_multiple.unwrap_or(data.pad_to_multiple);
            data.max_tasks = self.max_tasks.or(data.max_tasks);
            data.evaluate_on = self.evaluate_on.unwrap_or(data.evaluate_on);
            cfg.optim.lr = self.lr.unwrap_or(cfg.optim.lr);
        }
        let said: Vec<String> = [
            self.train_per_task.map(|n| format!("--train-per-task {n}")),
            self.test_per_task.map(|n| format!("--test-per-task {n}")),
            self.pad_to_multiple.map(|n| format!("--pad-to-multiple {n}")),
            self.max_tasks.map(|n| format!("--max-tasks {n}")),
            self.lr.map(|lr| format!("--lr {lr:e}")),
            self.evaluate_on.filter(|s| *s == strata_cl::EvalSplit::Validation).map(|_| "--evaluate-on validation (scores are validation scores, not test)".to_string()),
        ]
        .into_iter()
        .flatten()
        .collect();
        if !said.is_empty() {
            preset.about = format!("{} — overridden: {}", preset.about, said.join(" "));
        }
    }
}

/// One candidate of a learning-rate search: its rate and the validation AA it reached.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LrTrial {
    /// Learning rate.
    pub lr: f64,
    /// AA on the validation split after the search's tasks (NaN when the run failed).
    pub validation_aa: f64,
}

/// The outcome of [`select_lr`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LrSelection {
    /// Method.
    pub method: String,
    /// Tasks of the order each candidate trained on.
    pub tasks: usize,
    /// Every candidate, in the order tried.
    pub trials: Vec<LrTrial>,
    /// The rate with the highest validation AA (ties: the first tried).
    pub chosen: f64,
}

impl LrSelection {
    /// One line for the table's notes.
    pub fn note(&self) -> String {
        let trials: Vec<String> = self.trials.iter().map(|t| format!("{:e} → {:.2}", t.lr, t.validation_aa)).collect();
        format!("{}: learning rate {:e} chosen on validation AA over the first {} tasks ({})", self.method, self.chosen, self.tasks, trials.join(", "))
    }
}

/// Chooses `config`'s learning rate among `candidates` without test data: each candidate
/// trains on the first `tasks` tasks and is scored on the validation split carved from train
/// (`data.evaluate_on = validation`); the best validation AA wins. `run` executes one
/// configuration (the trial runs are named `<name>/lr-select/<lr>`, so they checkpoint apart
/// from the real run).
pub fn select_lr(config: &RunConfig, candidates: &[f64], tasks: usize, mut run: impl FnMut(&RunConfig) -> Result<RunResults>) -> Result<LrSelection> {
    if candidates.is_empty() || tasks == 0 {
        bail!("a learning-rate search needs at least one candidate and one task");
    }
    let mut trials = Vec::with_capacity(candidates.len());
    for &lr in candidates {
        if !(lr > 0.0 && lr.is_finite()) {
            bail!("learning-rate candidate {lr} is not a positive number");
        }
        let mut trial = config.clone();
        trial.name = format!("{}/lr-select/{lr:e}", config.name);
        trial.optim.lr = lr;
        trial.data.max_tasks = Some(tasks);
        trial.data.evaluate_on = strata_cl::EvalSplit::Validation;
        let aa = match run(&trial) {
            Ok(res) => res.summary.map_or(f64::NAN, |s| s.aa),
            Err(e) => {
                eprintln!("== lr {lr:e} failed: {e:#}");
                f64::NAN
            }
        };
        trials.push(LrTrial { lr, validation_aa: aa });
    }
    let best = trials.iter().filter(|t| t.validation_aa.is_finite()).fold(None::<LrTrial>, |best, t| match best {
        Some(b) if b.validation_aa >= t.validation_aa => Some(b),
        _ => Some(*t),
    });
    let Some(best) = best else { bail!("every learning-rate candidate of {} failed", config.method.display_name()) };
    Ok(LrSelection { method: config.method.display_name().to_string(), tasks, trials, chosen: best.lr })
}

#[cfg(test)]
mod tests {
    use super::*;
    use strata_cl::{AccuracyMatrix, EvalSplit, Summary};

    fn results(aa: f64) -> RunResults {
        RunResults {
            method: "OSFT".into(),
            config: serde_json::Value::Null,
            git_commit: String::new(),
            device: String::new(),
            prompt_style: String::new(),
            tasks: Vec::new(),
            matrix: AccuracyMatrix::default(),
            joint: false,
            summary: Some(Summary { aa, bwt: None, ft: None, fwt: None }),
            records: Vec::new(),
            seconds: 0.0,
            peak_rss_mib: None,
            finished: true,
        }
    }

    #[test]
    fn overrides_reach_every_run_and_the_description() {
        let mut p = preset("quick", Path::new("/tmp/x")).unwrap();
        let untouched = p.runs[0].data.test_per_task;
        Overrides { train_per_task: Some(7), max_tasks: Some(2), lr: Some(3e-5), evaluate_on: Some(EvalSplit::Validation), ..Overrides::default() }.apply(&mut p);
        for cfg in &p.runs {
            assert_eq!((cfg.data.train_per_task, cfg.data.max_tasks, cfg.optim.lr, cfg.data.evaluate_on), (Some(7), Some(2), 3e-5, EvalSplit::Validation));
            assert_eq!(cfg.data.test_per_task, untouched, "an absent override keeps the preset's value");
        }
        assert!(p.about.contains("--train-per-task 7") && p.about.contains("--lr 3e-5") && p.about.contains("validation scores"), "{}", p.about);
        let mut q = preset("quick", Path::new("/tmp/x")).unwrap();
        let about = q.about.clone();
        Overrides::default().apply(&mut q);
        assert_eq!(q.about, about, "no overrides, no note");
    }

    #[test]
    fn select_lr_trains_on_validation_and_keeps_the_best_rate() {
        let cfg = preset("quick", Path::new("/tmp/x")).unwrap().runs.into_iter().find(|r| r.method.display_name() == "OSFT").unwrap();
        let mut seen = Vec::new();
        let sel = select_lr(&cfg, &[1e-4, 1e-5, 1e-6], 2, |trial| {
            assert_eq!(trial.data.evaluate_on, EvalSplit::Validation, "trials never see test data");
            assert_eq!(trial.data.max_tasks, Some(2));
            assert!(trial.name.starts_with(&cfg.name) && trial.name.contains("lr-select"), "{}", trial.name);
            seen.push(trial.name.clone());
            // Validation AA peaks at 1e-5; 1e-6 fails.
            match trial.optim.lr {
                lr if lr == 1e-6 => anyhow::bail!("diverged"),
                lr => Ok(results(if lr == 1e-5 { 60.0 } else { 20.0 })),
            }
        })
        .unwrap();
        assert_eq!(sel.chosen, 1e-5);
        assert!(sel.trials[2].validation_aa.is_nan());
        assert_eq!(seen.len(), 3);
        assert!(seen[0] != seen[1], "each rate checkpoints apart");
        assert!(sel.note().contains("chosen on validation"));
        assert!(select_lr(&cfg, &[1e-6], 2, |_| anyhow::bail!("no")).is_err(), "all candidates failing is an error");
        assert!(select_lr(&cfg, &[], 2, |_| Ok(results(1.0))).is_err());
    }
}
