//! Runs the golden-fixture checks (strata vs HF transformers logits and greedy output) on a
//! chosen backend and prints one JSON line per fixture — for the GPU machine, where the test
//! executables of `strata-models` would need a separate build of burn.
//!
//! `verify_golden --device cuda --dir crates/strata-models/tests/fixtures/golden`

use std::path::PathBuf;

use anyhow::{Result, bail};
use burn::tensor::backend::Backend;
use clap::Parser;
use strata_backend::{DeviceKind, with_backend};
use strata_cl::strata_models::golden::check_fixture;

#[derive(Parser)]
struct Args {
    /// ndarray, wgpu or cuda.
    #[arg(long, default_value = "cuda")]
    device: String,
    /// With `--device cuda`: run without kernel fusion (diagnostics).
    #[arg(long)]
    unfused: bool,
    /// Directory holding one sub-directory per fixture.
    #[arg(long, default_value = "crates/strata-models/tests/fixtures/golden")]
    dir: PathBuf,
}

fn run<B: Backend>(args: &Args, device: B::Device, kind: &str) -> Result<()> {
    let mut names: Vec<_> = std::fs::read_dir(&args.dir)?.filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| p.is_dir()).collect();
    names.sort();
    let mut failed = 0;
    for dir in names {
        let r = check_fixture::<B>(&dir, &device)?;
        let ok = r.max_rel_logit_error <= 1e-4 && r.greedy_matches();
        failed += usize::from(!ok);
        println!(
            "{{\"fixture\":\"{}\",\"device\":\"{kind}\",\"max_rel_logit_error\":{:.3e},\"greedy_matches\":{},\"greedy\":{:?},\"hf_greedy\":{:?}}}",
            r.name, r.max_rel_logit_error, r.greedy_matches(), r.greedy_got, r.greedy_expected
        );
    }
    if failed > 0 {
        bail!("{failed} fixture(s) outside tolerance (1e-4 relative logits, exact greedy)");
    }
    Ok(())
}

fn main() -> Result<()> {
    let args = Args::parse();
    let kind = args.device.parse::<DeviceKind>()?.ensure_compiled()?;
    if args.unfused {
        #[cfg(feature = "cuda")]
        if kind == DeviceKind::Cuda {
            return run::<strata_backend::CudaUnfusedBackend>(&args, Default::default(), "cuda-unfused");
        }
        bail!("--unfused needs --device cuda");
    }
    with_backend!(kind, |B, device| run::<B>(&args, device, &kind.to_string()), else |k| bail!("backend {k} is not compiled in"))
}
