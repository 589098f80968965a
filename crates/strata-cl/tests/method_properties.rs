//! Defining properties of the baselines inside the engine: EWC's penalty vanishes at θ* and
//! grows away from it; O-LoRA's penalty is zero before a second branch exists and positive
//! once two non-orthogonal branches share a layer.

mod common;

use burn::module::{Module, ModuleMapper, Param};
use burn::tensor::{ElementConversion, Tensor};
use common::{B, synthetic_tasks};
use strata_cl::config::{ModelSpec, TinyModel};
use strata_cl::method::{Method, TaskCtx};
use strata_cl::methods::ewc::{Ewc, EwcConfig};
use strata_cl::methods::olora::olora_loss;
use strata_cl::methods::{LoraSettings, add_lora_branches};
use strata_cl::model::ClModel;
use strata_cl::run::load_model;
use strata_models::strata_adapters::OloraPenaltySide;

fn tiny() -> ClModel<B> {
    let spec = ModelSpec::Tiny(TinyModel { hidden: 32, layers: 1, heads: 4, kv_heads: 2, intermediate: 64 });
    ClModel::new(load_model::<B>(&spec, 3, &Default::default()).unwrap().lm)
}

#[test]
fn ewc_penalty_is_zero_at_the_anchor_and_positive_away_from_it() {
    let tasks = synthetic_tasks(1, 8, 2);
    let mut model = tiny();
    let mut ewc = Ewc::<B>::new(EwcConfig { lambda: 1.0, fisher_samples: 4 });
    assert!(ewc.penalty(&model).is_none(), "no penalty before the first task");
    let ctx = TaskCtx { index: 0, total: 2, name: "syn0", train: &tasks[0].train, pad_id: 257, seed: 1, batch_size: 4, pad_multiple: 1 };
    ewc.after_task(&mut model, &ctx).unwrap();
    let at_anchor: f64 = ewc.penalty(&model).unwrap().into_scalar().elem();
    assert_eq!(at_anchor, 0.0);

    struct Shift;
    impl ModuleMapper<B> for Shift {
        fn map_float<const D: usize>(&mut self, p: Param<Tensor<B, D>>) -> Param<Tensor<B, D>> {
            p.map(|t| t.add_scalar(0.01))
        }
    }
    let moved = model.clone().map(&mut Shift);
    let away: f64 = ewc.penalty(&moved).unwrap().into_scalar().elem();
    assert!(away > 0.0, "{away}");
}

#[test]
fn olora_penalty_needs_two_branches_and_sees_their_overlap() {
    let mut model = tiny();
    let lora = LoraSettings { rank: 2, dropout: 0.0, ..LoraSettings::default() };
    add_lora_branches(&mut model, &lora, None).unwrap();
    let one: f64 = olora_loss(&model, 1.0, 0.0, OloraPenaltySide::DownA).unwrap().into_scalar().elem();
    assert_eq!(one, 0.0);
    add_lora_branches(&mut model, &lora, None).unwrap();
    let two: f64 = olora_loss(&model, 1.0, 0.0, OloraPenaltySide::DownA).unwrap().into_scalar().elem();
    assert!(two > 0.0, "random A's overlap: {two}");
    assert!(olora_loss(&model, 0.0, 0.0, OloraPenaltySide::DownA).is_none());
}
