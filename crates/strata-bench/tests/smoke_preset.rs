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
