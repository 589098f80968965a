//! The run configuration: a TOML (or JSON) file that `strata run --config FILE` executes.
//!
//! Every field has a documented default, so a file only states what differs:
//!
//! ```toml
//! name = "olora-standard-1"
//! seed = 42
//! [model]
//! pretrained = "smollm2-135m"
//! [method]
//! name = "o-lora"
//! lambda1 = 0.5
//! [data]
//! order = "standard-1"
//! train_per_task = 200
//! [optim]
//! lr = 1e-3
//! ```

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use strata_data::PromptStyle;

use crate::error::{ClError, Result};
use crate::methods::MethodConfig;

/// One continual-learning run.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct RunConfig {
    /// Run name; results go to `<output_dir>/<name>/`. Default `"run"`.
    pub name: String,
    /// Master seed: data sampling, shuffling, initialisation and dropout derive from it.
    /// Default 42.
    pub seed: u64,
    /// The model.
    pub model: ModelSpec,
    /// The continual-learning method and its hyper-parameters.
    pub method: MethodConfig,
    /// Benchmark, order, prompts and sample sizes.
    pub data: DataConfig,
    /// Optimiser and schedule.
    pub optim: OptimConfig,
    /// Evaluation (generation) settings.
    pub eval: EvalConfig,
    /// Where results and checkpoints go. Default `results`.
    pub output_dir: PathBuf,
}

impl Default for RunConfig {
    fn default() -> Self {
        Self {
            name: "run".into(),
            seed: 42,
            model: ModelSpec::default(),
            method: MethodConfig::default(),
            data: DataConfig::default(),
            optim: OptimConfig::default(),
            eval: EvalConfig::default(),
            output_dir: PathBuf::from("results"),
        }
    }
}

impl RunConfig {
    /// Reads a `.toml` or `.json` file (by extension; anything else is parsed as TOML).
    pub fn from_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| ClError::io(path, e))?;
        let parsed: Result<Self, String> = if path.extension().is_some_and(|e| e == "json") {
            serde_json::from_str(&text).map_err(|e| e.to_string())
        } else {
            toml::from_str(&text).map_err(|e| e.to_string())
        };
        let config = parsed.map_err(|msg| ClError::Config { path: Some(path.into()), msg })?;
        config.validate().map_err(|e| match e {
            ClError::Config { msg, .. } => ClError::Config { path: Some(path.into()), msg },
            other => other,
        })?;
        Ok(config)
    }

    /// Checks ranges that serde cannot.
    pub fn validate(&self) -> Result<()> {
        let o = &self.optim;
        let bad = |msg: String| Err(ClError::config(msg));
        if !(o.lr > 0.0 && o.lr.is_finite()) {
            return bad(format!("optim.lr must be positive, got {}", o.lr));
        }
        if o.batch_size == 0 || o.grad_accum == 0 || o.epochs == 0 {
            return bad("optim.batch_size, optim.grad_accum and optim.epochs must be ≥ 1".into());
        }
        if !(0.0..1.0).contains(&o.warmup_ratio) {
            return bad(format!("optim.warmup_ratio must be in [0, 1), got {}", o.warmup_ratio));
        }
        if self.data.max_source_len < 8 || self.data.max_target_len == 0 {
            return bad("data.max_source_len must be ≥ 8 and data.max_target_len ≥ 1".into());
        }
        if self.data.pad_to_multiple == 0 {
            return bad("data.pad_to_multiple must be ≥ 1 (1: no rounding)".into());
        }
        if self.eval.batch_size == 0 {
            return bad("eval.batch_size must be ≥ 1".into());
        }
        self.method.validate()
    }

    /// The run's directory: `output_dir/name` (results, checkpoint).
    pub fn run_dir(&self) -> PathBuf {
        self.output_dir.join(&self.name)
    }

    /// The configuration as pretty JSON (recorded in every result file).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("a RunConfig always serialises")
    }
}

/// Which model to train.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub enum ModelSpec {
    /// A zoo name (`smollm2-135m`, fetched with `cargo xtask fetch-model`), a `.gguf` file or
    /// an HF directory.
    Pretrained(String),
    /// A randomly initialised LLaMA-style decoder with the built-in byte-level tokenizer
    /// (tests and the smoke preset).
    Tiny(TinyModel),
}

impl Default for ModelSpec {
    fn default() -> Self {
        Self::Pretrained("smollm2-135m".into())
    }
}

/// Shape of a random tiny decoder. Defaults: d = 64, 2 layers, 4 heads (2 KV), FFN 128.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct TinyModel {
    /// Hidden size. Default 64.
    pub hidden: usize,
    /// Blocks. Default 2.
    pub layers: usize,
    /// Attention heads. Default 4.
    pub heads: usize,
    /// Key/value heads. Default 2.
    pub kv_heads: usize,
    /// MLP width. Default 128.
    pub intermediate: usize,
}

impl Default for TinyModel {
    fn default() -> Self {
        Self { hidden: 64, layers: 2, heads: 4, kv_heads: 2, intermediate: 128 }
    }
}

/// Benchmark data: which tasks, in which order, how they are prompted and sampled.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct DataConfig {
    /// Data root holding `CL_Benchmark/` etc. Default: discovered (`STRATA_DATA`,
    /// `../shared/data`, …).
    pub root: Option<PathBuf>,
    /// A named task order (`standard-1` … `long-6`, `superni-1/2`, `trace`). Default
    /// `standard-1`.
    pub order: String,
    /// Use only the first N tasks of the order (None: all).
    pub max_tasks: Option<usize>,
    /// Prompt style; default: the benchmark's own (O-LoRA for CL_Benchmark).
    pub prompt_style: Option<PromptStyle>,
    /// Training examples per task, sampled per class for classification (None: all).
    pub train_per_task: Option<usize>,
    /// Test examples per task (None: all).
    pub test_per_task: Option<usize>,
    /// Evaluate tasks without a test split on a seeded held-out part of train (recorded in
    /// the results). Default false: such tasks are an error that names them.
    pub held_out_when_missing_test: bool,
    /// Truncate prompts to this many tokens (from the left, keeping the answer cue).
    /// Default 256.
    pub max_source_len: usize,
    /// Truncate targets to this many tokens (EOS included). Default 16.
    pub max_target_len: usize,
    /// Pad every training batch and every generation batch of prompts to a multiple of this
    /// many tokens (masked padding). Default 1: pad to the longest sequence only. On GPU
    /// backends each new sequence length can mean new kernels to compile and autotune, so a
    /// multiple such as 64 bounds that warm-up at the price of some padded compute. Left out
    /// of the recorded configuration when 1, so older checkpoints still resume.
    #[serde(skip_serializing_if = "is_one")]
    pub pad_to_multiple: usize,
    /// Which split fills the accuracy matrix. Default [`EvalSplit::Test`]; `validation`
    /// scores the seeded validation part carved from train instead, for choosing
    /// hyper-parameters without touching test data (the results say which was used). Left
    /// out of the recorded configuration when `test`, so older checkpoints still resume.
    #[serde(skip_serializing_if = "EvalSplit::is_test")]
    pub evaluate_on: EvalSplit,
}

fn is_one(v: &usize) -> bool {
    *v == 1
}

/// The split an experiment is scored on.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "kebab-case")]
pub enum EvalSplit {
    /// The published test split (or the held-out part of train where a task has none).
    #[default]
    Test,
    /// The validation part carved from train (5 % capped at 500 per task, seeded,
    /// stratified by label; disjoint from the training examples).
    Validation,
}

impl EvalSplit {
    fn is_test(&self) -> bool {
        *self == EvalSplit::Test
    }

    /// `test` or `validation` (the serde and command-line name).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Test => "test",
            Self::Validation => "validation",
        }
    }
}

impl std::str::FromStr for EvalSplit {
    type Err = ClError;
    fn from_str(s: &str) -> Result<Self> {
        [Self::Test, Self::Validation]
            .into_iter()
            .find(|split| split.as_str() == s)
            .ok_or_else(|| ClError::config(format!("unknown evaluation split `{s}`: expected test or validation")))
    }
}

impl Default for DataConfig {
    fn default() -> Self {
        Self {
            root: None,
            order: "standard-1".into(),
            max_tasks: None,
            prompt_style: None,
            train_per_task: None,
            test_per_task: None,
            held_out_when_missing_test: false,
            max_source_len: 256,
            max_target_len: 16,
            pad_to_multiple: 1,
            evaluate_on: EvalSplit::Test,
        }
    }
}

/// Learning-rate schedule.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum LrSchedule {
    /// Constant after warm-up.
    Constant,
    /// Linear decay to 0 after warm-up.
    Linear,
}

/// AdamW and the training loop. Defaults: lr 1e-3, constant, no warm-up, 1 epoch, batch 8,
/// no accumulation, global-norm clipping at 1.0, weight decay 0.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct OptimConfig {
    /// Peak learning rate.
    pub lr: f64,
    /// Schedule after warm-up.
    pub schedule: LrSchedule,
    /// Fraction of the task's optimizer steps spent warming up linearly.
    pub warmup_ratio: f64,
    /// Epochs per task.
    pub epochs: usize,
    /// Examples per micro-batch.
    pub batch_size: usize,
    /// Micro-batches per optimizer step.
    pub grad_accum: usize,
    /// Global gradient-norm clip (None: off).
    pub max_grad_norm: Option<f64>,
    /// AdamW decoupled weight decay.
    pub weight_decay: f64,
    /// AdamW β1, β2, ε.
    pub betas: (f64, f64),
    /// AdamW ε.
    pub epsilon: f64,
}

impl Default for OptimConfig {
    fn default() -> Self {
        Self {
            lr: 1e-3,
            schedule: LrSchedule::Constant,
            warmup_ratio: 0.0,
            epochs: 1,
            batch_size: 8,
            grad_accum: 1,
            max_grad_norm: Some(1.0),
            weight_decay: 0.0,
            betas: (0.9, 0.999),
            epsilon: 1e-8,
        }
    }
}

impl OptimConfig {
    /// Learning rate at optimizer step `step` of `total`.
    pub fn lr_at(&self, step: usize, total: usize) -> f64 {
        let warmup = (self.warmup_ratio * total as f64).ceil() as usize;
        if step < warmup {
            return self.lr * (step + 1) as f64 / warmup as f64;
        }
        match self.schedule {
            LrSchedule::Constant => self.lr,
            LrSchedule::Linear => {
                let rest = (total - warmup).max(1) as f64;
                self.lr * (1.0 - (step - warmup) as f64 / rest).max(0.0)
            }
        }
    }
}

/// Evaluation by greedy generation. Defaults: batch 16, up to `max_target_len` new tokens.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct EvalConfig {
    /// Prompts per generation batch.
    pub batch_size: usize,
    /// New tokens to generate (None: `data.max_target_len`).
    pub max_new_tokens: Option<usize>,
}

impl Default for EvalConfig {
    fn default() -> Self {
        Self { batch_size: 16, max_new_tokens: None }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_with_only_overrides_fills_defaults() {
        let cfg: RunConfig = toml::from_str("name = \"x\"\n[optim]\nlr = 0.01\n[method]\nname = \"seq-lora\"\n").unwrap();
        assert_eq!(cfg.name, "x");
        assert_eq!(cfg.optim.lr, 0.01);
        assert_eq!(cfg.optim.batch_size, 8);
        assert_eq!(cfg.data.order, "standard-1");
        cfg.validate().unwrap();
    }

    #[test]
    fn every_method_parses_from_toml() {
        for (toml_method, name) in [
            ("name = \"seq-ft\"", "SeqFT"),
            ("name = \"o-lora\"\nlambda1 = 0.1\nlambda_schedule = [[0.0, 0.0], [0.5, 0.1]]", "O-LoRA"),
            ("name = \"inf-lora\"\ngpm_epsilon = 0.99", "InfLoRA"),
            ("name = \"gain-lora\"\nvariant = \"olora\"\npool = \"PaddedLength\"", "GainLoRA(O-LoRA)"),
            ("name = \"osft\"\nreproject = true\nrank_rule = { rule = \"fixed\", fraction = 0.3 }", "OSFT"),
            ("name = \"oa-adapter\"\nlambda_orth = 5.0", "OA-Adapter"),
            ("name = \"replay\"\nfraction = 0.05", "Replay"),
            ("name = \"ewc\"\nlambda = 10.0", "EWC"),
            ("name = \"per-task-ft\"", "PerTaskFT"),
            ("name = \"mtl\"", "MTL"),
        ] {
            let cfg: RunConfig = toml::from_str(&format!("[method]\n{toml_method}\n")).unwrap_or_else(|e| panic!("{toml_method}: {e}"));
            assert_eq!(cfg.method.display_name(), name);
            cfg.validate().unwrap();
        }
        assert!(toml::from_str::<RunConfig>("[method]\nname = \"osft\"\nrank = 3\n").is_err(), "unknown method field");
    }

    #[test]
    fn unknown_fields_and_bad_ranges_are_errors() {
        assert!(toml::from_str::<RunConfig>("nmae = \"typo\"").is_err());
        let mut cfg = RunConfig::default();
        cfg.optim.lr = -1.0;
        let err = cfg.validate().unwrap_err().to_string();
        assert!(err.contains("optim.lr"), "{err}");
    }

    #[test]
    fn config_file_errors_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.toml");
        std::fs::write(&path, "[optim]\nlr = \"fast\"\n").unwrap();
        let err = RunConfig::from_file(&path).unwrap_err().to_string();
        assert!(err.contains("run.toml"), "{err}");
    }

    #[test]
    fn pad_to_multiple_defaults_to_one_and_is_recorded_only_when_set() {
        let cfg = RunConfig::default();
        assert_eq!(cfg.data.pad_to_multiple, 1);
        assert!(cfg.to_json()["data"].get("pad_to_multiple").is_none(), "the default stays out of the recorded configuration");
        let cfg: RunConfig = toml::from_str("[data]\npad_to_multiple = 64\n").unwrap();
        assert_eq!(cfg.data.pad_to_multiple, 64);
        assert_eq!(cfg.to_json()["data"]["pad_to_multiple"], 64);
        cfg.validate().unwrap();
        let mut bad = cfg;
        bad.data.pad_to_multiple = 0;
        assert!(bad.validate().unwrap_err().to_string().contains("pad_to_multiple"));
    }

    #[test]
    fn evaluate_on_defaults_to_test_and_is_recorded_only_when_validation() {
        let cfg = RunConfig::default();
        assert_eq!(cfg.data.evaluate_on, EvalSplit::Test);
        assert!(cfg.to_json()["data"].get("evaluate_on").is_none(), "the default stays out of the recorded configuration");
        let cfg: RunConfig = toml::from_str("[data]\nevaluate_on = \"validation\"\n").unwrap();
        assert_eq!(cfg.data.evaluate_on, EvalSplit::Validation);
        assert_eq!(cfg.to_json()["data"]["evaluate_on"], "validation");
        assert!(toml::from_str::<RunConfig>("[data]\nevaluate_on = \"dev\"\n").is_err());
        assert_eq!("validation".parse::<EvalSplit>().unwrap(), EvalSplit::Validation);
        assert!("train".parse::<EvalSplit>().unwrap_err().to_string().contains("expected test or validation"));
    }

    #[test]
    fn schedules() {
        let mut o = OptimConfig { lr: 1.0, warmup_ratio: 0.2, ..OptimConfig::default() };
        assert_eq!(o.lr_at(0, 10), 0.5);
        assert_eq!(o.lr_at(1, 10), 1.0);
        assert_eq!(o.lr_at(9, 10), 1.0);
        o.schedule = LrSchedule::Linear;
        assert_eq!(o.lr_at(2, 10), 1.0);
        assert!((o.lr_at(6, 10) - 0.5).abs() < 1e-12);
    }
}
