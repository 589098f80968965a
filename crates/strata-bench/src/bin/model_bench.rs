//! Decoder throughput: greedy generation (tokens/s, KV cache, batch 1) and one training step
//! (forward + backward + AdamW) at `batch × seq` tokens, full fine-tuning or LoRA r8 on q, v.
//!
//! Weights are random with a real model's shape (`--shape`), or a real checkpoint (`--model`).
//! `scripts/bench_models_torch.py` measures HF transformers (+ PEFT) the same way on the same
//! GPU. Steady state: warm-up steps are excluded (autotune sees each shape first).

use std::time::Instant;

use anyhow::{Result, bail};
use burn::module::Module;
use burn::optim::{AdamWConfig, GradientsParams, Optimizer};
use burn::tensor::backend::{AutodiffBackend, Backend};
use clap::Parser;
use strata_backend::{DeviceKind, with_backend};
use strata_cl::strata_models::strata_adapters::{AdaptableModel, AdapterContext, LoraConfig};
use strata_cl::strata_models::{CausalLm, DecoderArch, DecoderConfig, GenerationConfig, Loader, RandomInit, TokenBatch, generate, masked_lm_loss};

#[derive(Parser, Debug)]
#[command(about = "Decoder generation and training-step throughput (see module docs)")]
struct Args {
    /// ndarray, wgpu or cuda.
    #[arg(long, default_value = "ndarray")]
    device: String,
    /// Float type: f32, or bf16 (CUDA only).
    #[arg(long, default_value = "f32")]
    dtype: String,
    /// Model shape: smollm2-135m, qwen2.5-0.5b, qwen2.5-1.5b.
    #[arg(long, default_value = "smollm2-135m")]
    shape: String,
    /// What to measure: generate, train-full, train-lora (comma-separated).
    #[arg(long, default_value = "generate,train-full,train-lora")]
    modes: String,
    /// Training batch size.
    #[arg(long, default_value_t = 8)]
    batch: usize,
    /// Training sequence length.
    #[arg(long, default_value_t = 128)]
    seq: usize,
    /// Timed training steps (after 2 warm-up steps).
    #[arg(long, default_value_t = 5)]
    steps: usize,
    /// Prompt length and new tokens for generation.
    #[arg(long, default_value_t = 16)]
    prompt_len: usize,
    /// New tokens per generation run.
    #[arg(long, default_value_t = 64)]
    gen_tokens: usize,
}

fn shape_config(name: &str) -> Result<DecoderConfig> {
    let (arch, d, ffn, layers, heads, kv, vocab, tied, theta) = match name {
        "smollm2-135m" => (DecoderArch::Llama, 576, 1536, 30, 9, 3, 49152, true, 1e5),
        "qwen2.5-0.5b" => (DecoderArch::Qwen2, 896, 4864, 24, 14, 2, 151936, true, 1e6),
        "qwen2.5-1.5b" => (DecoderArch::Qwen2, 1536, 8960, 28, 12, 2, 151936, true, 1e6),
        other => bail!("unknown shape `{other}` (smollm2-135m, qwen2.5-0.5b, qwen2.5-1.5b)"),
    };
    let json = serde_json::json!({
        "model_type": arch, "vocab_size": vocab, "hidden_size": d, "intermediate_size": ffn,
        "num_hidden_layers": layers, "num_attention_heads": heads, "num_key_value_heads": kv,
        "rms_norm_eps": 1e-6, "rope_theta": theta, "tie_word_embeddings": tied,
    });
    Ok(serde_json::from_value(json)?)
}

fn report(args: &Args, kind: &str, mode: &str, value: f64, unit: &str, extra: String) {
    println!(
        "{{\"impl\":\"strata\",\"device\":\"{}\",\"dtype\":\"{}\",\"shape\":\"{}\",\"mode\":\"{mode}\",\"{unit}\":{value:.2}{extra}}}",
        kind, args.dtype, args.shape
    );
}

fn bench_generate<B: Backend>(args: &Args, model: &CausalLm<B>, kind: &str) -> Result<()> {
    let prompt: Vec<u32> = (0..args.prompt_len as u32).map(|i| 100 + i * 7).collect();
    let config = GenerationConfig { max_new_tokens: args.gen_tokens, ..Default::default() };
    let ctx = AdapterContext::none();
    generate(model, &[prompt.clone()], &GenerationConfig { max_new_tokens: 4, ..Default::default() }, &ctx)?; // warm-up
    let t = Instant::now();
    let out = generate(model, &[prompt], &config, &ctx)?;
    let secs = t.elapsed().as_secs_f64();
    report(args, kind, "generate", out[0].len() as f64 / secs, "tokens_per_s", format!(",\"new_tokens\":{},\"seconds\":{secs:.3}", out[0].len()));
    Ok(())
}

fn bench_train<B: AutodiffBackend>(args: &Args, mut model: CausalLm<B>, lora: bool, kind: &str) -> Result<()> {
    let device = model.model.embed_tokens.weight.device();
    if lora {
        model = model.no_grad();
        let cfg = LoraConfig::new().with_rank(8).with_dropout(0.0);
        model.visit_linears_mut(&mut |name, lin| {
            if name.matches(&["q", "v"]) {
                lin.lora.push(cfg.init(lin.d_in(), lin.d_out(), &device));
            }
        });
    }
    let trainable = count_trainable(&model);
    let mut optim = AdamWConfig::new().init::<B, CausalLm<B>>();
    let vocab = model.config().vocab_size as u32;
    let ids: Vec<u32> = (0..args.batch * args.seq).map(|i| (i as u32 * 2654435761u32) % vocab).collect();
    let batch = TokenBatch::new(ids, vec![1; args.batch * args.seq], args.batch, args.seq)?;
    let mask = vec![1u8; args.batch * args.seq];
    let ctx = AdapterContext::none();
    let mut times = Vec::new();
    for step in 0..args.steps + 2 {
        B::sync(&device).ok();
        let t = Instant::now();
        let loss = masked_lm_loss(&model, &batch, &mask, &ctx)?;
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optim.step(1e-5, model, grads);
        B::sync(&device).ok();
        if step >= 2 {
            times.push(t.elapsed().as_secs_f64());
        }
    }
    times.sort_by(f64::total_cmp);
    let median = times[times.len() / 2];
    let tokens = (args.batch * args.seq) as f64;
    let mode = if lora { "train-lora" } else { "train-full" };
    report(args, kind, mode, tokens / median, "tokens_per_s", format!(",\"step_ms\":{:.1},\"batch\":{},\"seq\":{},\"trainable_params\":{trainable}", median * 1e3, args.batch, args.seq));
    Ok(())
}

fn count_trainable<B: AutodiffBackend>(model: &CausalLm<B>) -> usize {
    // Parameters whose gradients the optimizer would see: those that still require grad.
    struct Counter(usize);
    impl<B: Backend> burn::module::ModuleVisitor<B> for Counter {
        fn visit_float<const D: usize>(&mut self, param: &burn::module::Param<burn::tensor::Tensor<B, D>>) {
            if param.is_require_grad() {
                self.0 += param.shape().num_elements();
            }
        }
    }
    let mut c = Counter(0);
    model.visit(&mut c);
    c.0
}

/// `A` is the autodiff backend (training); generation runs on its inner backend.
fn run<A: AutodiffBackend>(args: &Args, device: A::Device, kind: &str) -> Result<()> {
    let config = shape_config(&args.shape)?;
    let init = RandomInit { std: 0.02 };
    for mode in args.modes.split(',') {
        match mode {
            "generate" => {
                let model = CausalLm::<A::InnerBackend>::load(&config, &Loader::random(&init, &device))?;
                eprintln!("# {} parameters", model.parameter_count());
                bench_generate(args, &model, kind)?;
            }
            "train-full" | "train-lora" => {
                let model = CausalLm::<A>::load(&config, &Loader::random(&init, &device))?;
                bench_train(args, model, mode == "train-lora", kind)?;
            }
            other => bail!("unknown mode `{other}`"),
        }
    }
    Ok(())
}

fn main() -> Result<()> {
    let args = Args::parse();
    let kind = args.device.parse::<DeviceKind>()?.ensure_compiled()?;
    if args.dtype == "bf16" {
        #[cfg(feature = "cuda")]
        if kind == DeviceKind::Cuda {
            return run::<burn::backend::Autodiff<strata_backend::CudaBf16Backend>>(&args, Default::default(), "cuda");
        }
        bail!("--dtype bf16 needs --device cuda and a build with --features cuda");
    }
    with_backend!(kind, |B, device| run::<burn::backend::Autodiff<B>>(&args, device, &kind.to_string()), else |k| bail!("backend {k} is not compiled in"))
}
