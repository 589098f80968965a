//! The smoke preset end to end on the real benchmark files: every method of the table runs
//! on a tiny random model, writes its results, and the table has one row per method.
//! Skipped (with a message) where the benchmark data is not present.

use std::time::Instant;

use burn::backend::Autodiff;
use strata_backend::NdArrayBackend;
use strata_bench::reproduce::{markdown, preset, table};
use strata_cl::strata_data::Registry;
use strata_cl::{RunOptions, run};

#[test]
fn smoke_preset_runs_every_method_on_real_data() {
    if Registry::discover().is_none() {
        eprintln!("skipped: no benchmark data (set STRATA_DATA_DIR or place shared/data beside the checkout)");
        return;
    }
    let out = tempfile::tempdir().unwrap();
    let preset = preset("smoke", out.path()).unwrap();
    assert_eq!(preset.runs.len(), 13, "every method is in the table");
    let start = Instant::now();
    let device = Default::default();
    let options = RunOptions { device: "ndarray (test)".into(), no_checkpoints: true, ..RunOptions::default() };
    let mut results = Vec::new();
    for cfg in &preset.runs {
        let res = run::<Autodiff<NdArrayBackend>>(cfg, &device, &options).unwrap_or_else(|e| panic!("{}: {e}", cfg.name));
        assert!(out.path().join(&cfg.name).join("results.json").is_file());
        assert_eq!(res.tasks.len(), 3);
        results.push((out.path().join(&cfg.name), res));
    }
    let rows = table(&results);
    assert_eq!(rows.len(), 13);
    let md = markdown(&preset, &rows, "ndarray (test)", "OLora");
    for name in ["SeqFT", "O-LoRA", "GainLoRA(InfLoRA)", "GainLoRA(O-LoRA)", "OSFT", "OA-Adapter", "PerTaskFT", "MTL"] {
        assert!(md.contains(&format!("| {name} |")), "{name} missing from\n{md}");
    }
    eprintln!("smoke preset: {:.1} s", start.elapsed().as_secs_f64());
}

/// `data.evaluate_on = validation` scores examples carved from train: disjoint from the
/// training examples and from the test split, and the provenance says so.
#[test]
fn validation_scoring_uses_carved_examples_disjoint_from_train_and_test() {
    use std::collections::HashSet;
    use strata_cl::EvalSplit;
    use strata_cl::run::prepare_tasks;
    use strata_cl::strata_models::Tokenizer;

    if Registry::discover().is_none() {
        eprintln!("skipped: no benchmark data");
        return;
    }
    let out = tempfile::tempdir().unwrap();
    let mut cfg = preset("smoke", out.path()).unwrap().runs.remove(0);
    cfg.data.max_tasks = Some(2);
    // No truncation: truncated byte-level prompts (head + answer cue) would collide.
    cfg.data.max_source_len = 1 << 20;
    let tokenizer = Tokenizer::byte_level();
    let (on_test, _) = prepare_tasks(&cfg, &tokenizer).unwrap();
    cfg.data.evaluate_on = EvalSplit::Validation;
    let (on_val, _) = prepare_tasks(&cfg, &tokenizer).unwrap();
    for (t, v) in on_test.iter().zip(&on_val) {
        assert!(v.info.test_source.starts_with("validation carved from train"), "{}", v.info.test_source);
        assert_eq!(v.test.len(), t.test.len(), "{}: the same number of scored examples", v.info.name);
        let train: HashSet<&Vec<u32>> = v.train.iter().map(|e| &e.prompt).collect();
        let test: HashSet<&Vec<u32>> = t.test.iter().map(|e| &e.prompt).collect();
        assert_eq!(v.train.len(), t.train.len(), "training examples do not depend on the scored split");
        for e in &v.test {
            assert!(!train.contains(&e.prompt), "{}: a validation example is also a training example", v.info.name);
        }
        assert!(v.test.iter().filter(|e| test.contains(&e.prompt)).count() < v.test.len(), "{}: validation is not the test split", v.info.name);
    }
}
