//! `reproduce --preset NAME [--device ndarray|wgpu|cuda] [--only METHOD,..] [--out DIR]
//! [--train-per-task N] [--test-per-task N] [--pad-to-multiple N] [--max-tasks N] [--lr LR]
//! [--evaluate-on test|validation] [--select-lr LR,.. [--select-tasks N]]`:
//! runs a preset's methods (resuming finished or interrupted runs) and writes the table to
//! `<out>/<preset>/table.{md,json}`. `cargo xtask reproduce tables` builds and runs this.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Result, bail};
use burn::backend::Autodiff;
use clap::Parser;
use strata_backend::{DeviceKind, with_backend};
use strata_bench::reproduce::{LrSelection, Overrides, markdown, preset, select_lr, table};
use strata_cl::checkpoint::write_atomic;
use strata_cl::{RunConfig, RunOptions, RunResults, run};

#[derive(Parser)]
#[command(about = "Reproduce the papers' tables with one preset of runs")]
struct Args {
    /// smoke, quick, gpu or full.
    #[arg(long, default_value = "quick")]
    preset: String,
    /// ndarray, wgpu or cuda (default: the most capable compiled one).
    #[arg(long)]
    device: Option<String>,
    /// Run only these methods (display names, comma-separated, case-insensitive).
    #[arg(long)]
    only: Option<String>,
    /// Output root.
    #[arg(long, default_value = "results")]
    out: PathBuf,
    #[command(flatten)]
    overrides: Overrides,
    /// Choose each selected method's learning rate among these (comma-separated) first: each
    /// candidate trains on the first `--select-tasks` tasks and is scored on validation; the
    /// best validation AA is then run as usual (recorded in `lr-selection.json` and the table).
    #[arg(long, value_delimiter = ',')]
    select_lr: Option<Vec<f64>>,
    /// Tasks each learning-rate candidate trains on.
    #[arg(long, default_value_t = 2)]
    select_tasks: usize,
    /// Run nothing: build the table from the finished runs' `results.json` under `--out`
    /// (e.g. runs made by several invocations or machines); unfinished runs are listed.
    #[arg(long)]
    table_only: bool,
}

/// Where a run's learning-rate search is recorded, beside its results.
const LR_SELECTION_FILE: &str = "lr-selection.json";

fn main() -> Result<()> {
    let args = Args::parse();
    let kind = match &args.device {
        Some(d) => d.parse::<DeviceKind>()?.ensure_compiled()?,
        None => DeviceKind::best_compiled(),
    };
    let mut preset = preset(&args.preset, &args.out)?;
    args.overrides.apply(&mut preset);
    let only: Option<Vec<String>> = args.only.as_ref().map(|o| o.split(',').map(|s| s.trim().to_lowercase()).collect());
    let device_name = format!("{kind} ({})", std::env::var("STRATA_DEVICE_NAME").unwrap_or_else(|_| format!("{} CPU threads", std::thread::available_parallelism().map_or(1, |n| n.get()))));
    let start = Instant::now();
    let mut results: Vec<(PathBuf, RunResults)> = Vec::new();
    let mut style = String::new();
    let mut failures: Vec<String> = Vec::new();
    let mut notes: Vec<String> = Vec::new();
    for cfg in &preset.runs {
        if let Some(only) = &only {
            if !only.contains(&cfg.method.display_name().to_lowercase()) {
                continue;
            }
        }
        if args.table_only {
            let dir = cfg.run_dir();
            match RunResults::read(&dir) {
                Ok(Some(res)) if res.finished => {
                    let selection = std::fs::read(dir.join(LR_SELECTION_FILE)).ok().and_then(|b| serde_json::from_slice::<LrSelection>(&b).ok());
                    notes.extend(selection.map(|s| s.note()));
                    style = res.prompt_style.clone();
                    results.push((dir, res));
                }
                Ok(_) => notes.push(format!("{}: no finished run in {}", cfg.method.display_name(), dir.display())),
                Err(e) => notes.push(format!("{}: {e}", cfg.method.display_name())),
            }
            continue;
        }
        eprintln!("== {} ({})", cfg.method.display_name(), cfg.name);
        let options = RunOptions { resume: true, device: device_name.clone(), ..RunOptions::default() };
        let run_one = |c: &RunConfig| -> Result<RunResults> { Ok(with_backend!(kind, |B, device| run::<Autodiff<B>>(c, &device, &options), else |k| bail!("backend {k} is not compiled in"))?) };
        let t = Instant::now();
        let mut cfg = cfg.clone();
        if let Some(candidates) = &args.select_lr {
            let selection = match select_lr(&cfg, candidates, args.select_tasks, run_one) {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("== {} FAILED in its learning-rate search: {e:#}", cfg.method.display_name());
                    failures.push(format!("{}: {e:#}", cfg.method.display_name()));
                    continue;
                }
            };
            eprintln!("== {}", selection.note());
            write_atomic(&cfg.run_dir().join(LR_SELECTION_FILE), &serde_json::to_vec_pretty(&selection)?)?;
            cfg.optim.lr = selection.chosen;
            notes.push(selection.note());
        }
        let cfg = &cfg;
        let res = match run_one(cfg) {
            Ok(res) => res,
            Err(e) => {
                // One method failing must not cost the others their runs: report and go on.
                eprintln!("== {} FAILED after {:.0} s: {e:#}", cfg.method.display_name(), t.elapsed().as_secs_f64());
                failures.push(format!("{}: {e:#}", cfg.method.display_name()));
                continue;
            }
        };
        eprintln!("== {} done in {:.0} s: AA {:.2}", cfg.method.display_name(), t.elapsed().as_secs_f64(), res.summary.map_or(f64::NAN, |s| s.aa));
        style = res.prompt_style.clone();
        results.push((cfg.run_dir(), res));
    }
    if results.is_empty() && failures.is_empty() {
        bail!("no method of preset `{}` matches --only", preset.name);
    }
    let rows = table(&results);
    // A table of earlier runs names the devices they ran on, not this process's.
    let device_name = if args.table_only {
        let mut devices: Vec<&str> = results.iter().map(|(_, r)| r.device.as_str()).collect();
        devices.sort_unstable();
        devices.dedup();
        devices.join("; ")
    } else {
        device_name
    };
    let mut md = markdown(&preset, &rows, &device_name, &style);
    for n in &notes {
        md.push_str(&format!("\n{n}\n"));
    }
    for f in &failures {
        md.push_str(&format!("\n**Failed:** {f}\n"));
    }
    let dir = args.out.join(preset.name);
    write_atomic(&dir.join("table.md"), md.as_bytes())?;
    write_atomic(&dir.join("table.json"), &serde_json::to_vec_pretty(&rows)?)?;
    println!("{md}");
    eprintln!("preset {} finished in {:.0} s; table in {}", preset.name, start.elapsed().as_secs_f64(), dir.join("table.md").display());
    if !failures.is_empty() {
        bail!("{} of the preset's runs failed:\n{}", failures.len(), failures.join("\n"));
    }
    Ok(())
}
