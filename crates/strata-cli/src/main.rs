//! `strata`: the command-line tool.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use burn::tensor::backend::Backend;
use clap::{Args, Parser, Subcommand};
use strata_backend::{DeviceKind, with_backend};
use strata_models::strata_adapters::AdapterContext;
use strata_models::{Decoding, GenerationConfig, Pretrained, TokenBatch, generate};

/// Continual learning of large language models: GainLoRA, OSFT, OA-Adapter and baselines.
#[derive(Parser)]
#[command(name = "strata", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print the compiled backends and the default device.
    Info,
    /// Continue a prompt with a pretrained model.
    Generate(GenerateArgs),
    /// Write the last position's logits and the prompt's token ids as JSON.
    Logits(LogitsArgs),
    /// Run a continual-learning experiment from a TOML/JSON configuration file.
    Run(RunArgs),
}

#[derive(Args)]
struct RunArgs {
    /// The run configuration (see docs/engine.md for every field and its default).
    #[arg(long)]
    config: PathBuf,
    /// Continue from the run directory's last checkpoint.
    #[arg(long)]
    resume: bool,
    /// Backend: ndarray, wgpu or cuda (default: the most capable compiled one).
    #[arg(long)]
    device: Option<String>,
    /// Do not write checkpoints.
    #[arg(long)]
    no_checkpoints: bool,
}

#[derive(Args)]
struct ModelArgs {
    /// A zoo name (`smollm2-135m`, see `cargo xtask fetch-model --list`), a .gguf file, or an
    /// HF directory (config.json, safetensors, tokenizer.json).
    #[arg(long)]
    model: String,
    /// Backend: ndarray, wgpu or cuda (default: the most capable compiled one).
    #[arg(long)]
    device: Option<String>,
    /// The prompt text.
    #[arg(long)]
    prompt: String,
}

#[derive(Args)]
struct GenerateArgs {
    #[command(flatten)]
    model: ModelArgs,
    /// Tokens to generate at most.
    #[arg(long, default_value_t = 32)]
    max_tokens: usize,
    /// Sample at this temperature instead of greedy decoding.
    #[arg(long)]
    temperature: Option<f64>,
    /// With sampling: keep the k most likely tokens (0 = all).
    #[arg(long, default_value_t = 0)]
    top_k: usize,
    /// With sampling: nucleus mass.
    #[arg(long, default_value_t = 1.0)]
    top_p: f64,
    /// With sampling: RNG seed.
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

#[derive(Args)]
struct LogitsArgs {
    #[command(flatten)]
    model: ModelArgs,
    /// Output JSON file.
    #[arg(long)]
    out: PathBuf,
}

fn device_kind(name: &Option<String>) -> Result<DeviceKind> {
    Ok(match name {
        Some(n) => n.parse::<DeviceKind>()?.ensure_compiled()?,
        None => DeviceKind::best_compiled(),
    })
}

fn load<B: Backend>(args: &ModelArgs, device: &B::Device) -> Result<(Pretrained<B>, Vec<u32>)> {
    let t = Instant::now();
    let pre = Pretrained::<B>::load(&args.model, device).with_context(|| format!("loading model `{}`", args.model))?;
    eprintln!("loaded {} in {:.1}s", pre.path.display(), t.elapsed().as_secs_f64());
    let ids = pre.tokenizer.encode(&args.prompt, true)?;
    if ids.is_empty() {
        bail!("the prompt encodes to no tokens");
    }
    Ok((pre, ids))
}

fn run_generate<B: Backend>(args: &GenerateArgs, device: B::Device) -> Result<()> {
    let (pre, ids) = load::<B>(&args.model, &device)?;
    let decoding = match args.temperature {
        None => Decoding::Greedy,
        Some(temperature) => Decoding::Sample { temperature, top_k: args.top_k, top_p: args.top_p, seed: args.seed },
    };
    let config = GenerationConfig { max_new_tokens: args.max_tokens, decoding, eos_ids: pre.eos_ids(), pad_id: pre.pad_id(), ..GenerationConfig::default() };
    let t = Instant::now();
    let out = generate(&pre.model, &[ids], &config, &AdapterContext::none())?;
    let secs = t.elapsed().as_secs_f64();
    let text = pre.tokenizer.decode(&out[0], true)?;
    println!("{}{}", args.model.prompt, text);
    eprintln!("{} tokens in {secs:.2}s ({:.1} tokens/s)", out[0].len(), out[0].len() as f64 / secs);
    Ok(())
}

fn run_logits<B: Backend>(args: &LogitsArgs, device: B::Device, kind: DeviceKind) -> Result<()> {
    let (pre, ids) = load::<B>(&args.model, &device)?;
    let n = ids.len();
    let batch = TokenBatch::new(ids.clone(), vec![1; n], 1, n)?;
    let logits = pre.model.forward(&batch, &AdapterContext::none());
    let [_, s, v] = logits.dims();
    let last: Vec<f32> = logits.slice([0..1, s - 1..s, 0..v]).into_data().iter::<f32>().collect();
    let json = serde_json::json!({
        "model": args.model.model,
        "device": kind.to_string(),
        "prompt": args.model.prompt,
        "token_ids": ids,
        "vocab_size": v,
        "logits": last,
    });
    // Written atomically: a crash never leaves half a file.
    let tmp = args.out.with_extension("json.tmp");
    std::fs::write(&tmp, serde_json::to_vec(&json)?).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, &args.out).with_context(|| format!("renaming to {}", args.out.display()))?;
    eprintln!("wrote {} ({} token ids, {v} logits)", args.out.display(), n);
    Ok(())
}

fn run_experiment(args: &RunArgs) -> Result<()> {
    let config = strata_cl::RunConfig::from_file(&args.config)?;
    let kind = device_kind(&args.device)?;
    let options = strata_cl::RunOptions { resume: args.resume, no_checkpoints: args.no_checkpoints, device: kind.to_string(), ..Default::default() };
    let results = with_backend!(kind, |B, device| strata_cl::run::<burn::backend::Autodiff<B>>(&config, &device, &options), else |k| bail!("backend {k} is not compiled in"))?;
    println!("{}", results.markdown());
    eprintln!("results in {}", config.run_dir().display());
    Ok(())
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Info => {
            let compiled: Vec<String> = DeviceKind::compiled().iter().map(|k| k.to_string()).collect();
            println!("strata {}", env!("CARGO_PKG_VERSION"));
            println!("compiled backends: {}", compiled.join(", "));
            println!("default backend:   {}", DeviceKind::best_compiled());
            Ok(())
        }
        Command::Generate(args) => {
            let kind = device_kind(&args.model.device)?;
            with_backend!(kind, |B, device| run_generate::<B>(&args, device), else |k| bail!("backend {k} is not compiled in"))
        }
        Command::Run(args) => run_experiment(&args),
        Command::Logits(args) => {
            let kind = device_kind(&args.model.device)?;
            with_backend!(kind, |B, device| run_logits::<B>(&args, device, kind), else |k| bail!("backend {k} is not compiled in"))
        }
    }
}
