//! The continual-learning methods, one file each, and [`MethodConfig`], the serde-tagged
//! choice of method with its hyper-parameters (defaults from shared/reference/methods.md).

use burn::module::Module;
use burn::tensor::backend::AutodiffBackend;
use serde::{Deserialize, Serialize};
use strata_models::strata_adapters::{AdaptableModel, LoraConfig};

use crate::error::{ClError, Result};
use crate::method::Method;
use crate::model::ClModel;

pub mod ewc;
pub mod gainlora;
pub mod inc_lora;
pub mod inflora;
pub mod mtl;
pub mod oa_adapter;
pub mod olora;
pub mod osft;
pub mod per_task_ft;
pub mod replay;
pub mod seq_ft;
pub mod seq_lora;

/// LoRA hyper-parameters shared by the LoRA-based methods. Defaults: r = 8, α = 32,
/// dropout 0.1, on the attention q and v projections (O-LoRA / InfLoRA / GainLoRA papers).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct LoraSettings {
    /// Rank r.
    pub rank: usize,
    /// α (branch scale α / r).
    pub alpha: f64,
    /// Dropout on the branch input.
    pub dropout: f64,
    /// Target layers by leaf name (`q`, `v`, `o_proj`, `mlp.down_proj`, …).
    pub targets: Vec<String>,
}

impl Default for LoraSettings {
    fn default() -> Self {
        Self { rank: 8, alpha: 32.0, dropout: 0.1, targets: vec!["q".into(), "v".into()] }
    }
}

impl LoraSettings {
    /// The adapter-crate config of one branch.
    pub fn branch_config(&self) -> LoraConfig {
        LoraConfig::new().with_rank(self.rank).with_alpha(self.alpha).with_dropout(self.dropout).with_target_modules(self.targets.clone())
    }

    /// Checks ranges.
    pub fn validate(&self) -> Result<()> {
        if self.rank == 0 || self.targets.is_empty() || !(0.0..1.0).contains(&self.dropout) {
            return Err(ClError::config("lora: rank ≥ 1, a non-empty target list and dropout in [0, 1) are required"));
        }
        Ok(())
    }
}

/// Which method runs, with its hyper-parameters (`[method] name = "o-lora"` in TOML).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "name", rename_all = "kebab-case", deny_unknown_fields)]
pub enum MethodConfig {
    /// Full fine-tuning, task after task.
    SeqFt,
    /// One LoRA trained on every task in turn.
    SeqLora {
        /// LoRA settings.
        #[serde(default)]
        lora: LoraSettings,
    },
    /// A new LoRA per task, old ones frozen, all summed.
    IncLora {
        /// LoRA settings.
        #[serde(default)]
        lora: LoraSettings,
    },
    /// O-LoRA: incremental LoRA with orthogonal down-projections.
    OLora(olora::OloraConfig),
    /// InfLoRA: designed, frozen down-projections orthogonal to old inputs.
    InfLora(inflora::InfloraConfig),
    /// GainLoRA: gated LoRA branches (InfLoRA or O-LoRA family).
    GainLora(gainlora::GainloraConfig),
    /// OA-Adapter: budget-adaptive residual adapters in orthogonal subspaces.
    OaAdapter(oa_adapter::OaAdapterConfig),
    /// SeqFT (or SeqLoRA) with a memory of a fraction of every old task.
    Replay(replay::ReplayConfig),
    /// SeqFT with the diagonal-Fisher penalty.
    Ewc(ewc::EwcConfig),
    /// One model trained on the union of all tasks (upper bound, not continual).
    Mtl {
        /// LoRA settings.
        #[serde(default)]
        lora: LoraSettings,
    },
    /// OSFT / Sculpting Subspaces: full fine-tuning orthogonal to each weight's top singular
    /// subspace.
    Osft(osft::OsftConfig),
    /// A separate LoRA per task, evaluated with the task id (upper bound).
    PerTaskFt {
        /// LoRA settings.
        #[serde(default)]
        lora: LoraSettings,
    },
}

impl Default for MethodConfig {
    fn default() -> Self {
        Self::SeqLora { lora: LoraSettings::default() }
    }
}

impl MethodConfig {
    /// The method's name in tables.
    pub fn display_name(&self) -> &'static str {
        match self {
            Self::SeqFt => "SeqFT",
            Self::SeqLora { .. } => "SeqLoRA",
            Self::IncLora { .. } => "IncLoRA",
            Self::Replay(_) => "Replay",
            Self::Ewc(_) => "EWC",
            Self::Mtl { .. } => "MTL",
            Self::PerTaskFt { .. } => "PerTaskFT",
            Self::Osft(_) => "OSFT",
            Self::OLora(_) => "O-LoRA",
            Self::InfLora(_) => "InfLoRA",
            Self::GainLora(c) => match c.variant {
                gainlora::GainloraVariant::Inflora => "GainLoRA(InfLoRA)",
                gainlora::GainloraVariant::Olora => "GainLoRA(O-LoRA)",
            },
            Self::OaAdapter(_) => "OA-Adapter",
        }
    }

    /// Whether the method trains once on the union of all tasks instead of in sequence.
    pub fn is_joint(&self) -> bool {
        matches!(self, Self::Mtl { .. })
    }

    /// Checks hyper-parameter ranges.
    pub fn validate(&self) -> Result<()> {
        match self {
            Self::SeqFt => Ok(()),
            Self::SeqLora { lora } | Self::IncLora { lora } | Self::Mtl { lora } | Self::PerTaskFt { lora } => lora.validate(),
            Self::Replay(c) => c.validate(),
            Self::Ewc(c) => c.validate(),
            Self::Osft(c) => c.validate(),
            Self::OLora(c) => c.validate(),
            Self::InfLora(c) => c.validate(),
            Self::GainLora(c) => c.validate(),
            Self::OaAdapter(c) => c.validate(),
        }
    }

    /// Instantiates the method.
    pub fn build<B: AutodiffBackend>(&self) -> Box<dyn Method<B>> {
        match self.clone() {
            Self::SeqFt => Box::new(seq_ft::SeqFt),
            Self::SeqLora { lora } => Box::new(seq_lora::SeqLora::new(lora)),
            Self::IncLora { lora } => Box::new(inc_lora::IncLora::new(lora)),
            Self::Replay(c) => Box::new(replay::Replay::new(c)),
            Self::Ewc(c) => Box::new(ewc::Ewc::new(c)),
            Self::Mtl { lora } => Box::new(mtl::Mtl::new(lora)),
            Self::PerTaskFt { lora } => Box::new(per_task_ft::PerTaskFt::new(lora)),
            Self::Osft(c) => Box::new(osft::Osft::new(c)),
            Self::OLora(c) => Box::new(olora::Olora::new(c)),
            Self::InfLora(c) => Box::new(inflora::Inflora::new(c)),
            Self::GainLora(c) => Box::new(gainlora::Gainlora::<B>::new(c)),
            Self::OaAdapter(c) => Box::new(oa_adapter::OaAdapterMethod::<B>::new(c)),
        }
    }
}

/// `Σ terms`, or `None` for no term (methods' extra losses over layers or slots).
pub fn sum_terms<B: burn::tensor::backend::Backend>(terms: impl IntoIterator<Item = burn::tensor::Tensor<B, 1>>) -> Option<burn::tensor::Tensor<B, 1>> {
    terms.into_iter().reduce(|a, b| a + b)
}

/// Freezes every parameter of the model (base and all adapters installed so far).
pub fn freeze_all<B: AutodiffBackend>(model: &mut ClModel<B>) {
    // Tensors are reference-counted handles: the clone is cheap.
    *model = model.clone().no_grad();
}

/// Adds one fresh LoRA branch (trainable) to every target layer; `gate` routes it through
/// a gate column. Returns the number of layers adapted.
pub fn add_lora_branches<B: AutodiffBackend>(model: &mut ClModel<B>, lora: &LoraSettings, gate: Option<usize>) -> Result<usize> {
    let device = model.lm.model.embed_tokens.weight.device();
    let cfg = lora.branch_config();
    let mut count = 0;
    model.visit_linears_mut(&mut |name, layer| {
        if name.matches(&lora.targets) {
            let mut branch = cfg.init::<B>(layer.d_in(), layer.d_out(), &device);
            branch.gate = gate;
            layer.lora.push(branch);
            count += 1;
        }
    });
    if count == 0 {
        return Err(ClError::config(format!("lora.targets {:?} match no layer of the model", lora.targets)));
    }
    Ok(count)
}
