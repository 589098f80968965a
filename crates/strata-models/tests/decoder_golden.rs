//! LLaMA-family decoders against Hugging Face transformers: tiny random LLaMA (untied and
//! tied), and Qwen2 (QKV biases, GQA) written by `scripts/make_golden_fixtures.py`
//! (transformers 5.17, float32), with HF's logits and greedy output in `golden.safetensors`.
//!
//! Logit metric: for every position with `attention_mask = 1`, the largest absolute difference
//! over the vocabulary divided by the largest |HF logit| at that position; maximum over
//! positions, required ≤ 1e-4. Runs on `DefaultBackend` (CUDA with `--features cuda`).

use std::path::{Path, PathBuf};

use burn::module::Param;
use burn::tensor::{Distribution, Tensor};
use strata_adapters::{AdaptableModel, AdapterContext, LoraConfig};
use strata_backend::{DefaultBackend as B, default_device};
use strata_models::scoring::{next_token_log_probs, prompt_continuation_batch};
use strata_models::golden::check_fixture;
use strata_models::{CausalLm, DecoderConfig, GenerationConfig, Loader, ModelError, SafetensorsSource, TokenBatch, WeightSource, generate, masked_lm_loss, sequence_log_likelihood};

const MODELS: [&str; 3] = ["llama", "llama_tied", "qwen2"];

fn fixture(name: &str) -> PathBuf {
    // STRATA_GOLDEN_DIR lets a test executable built elsewhere (the GPU machine) find them.
    std::env::var_os("STRATA_GOLDEN_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/golden"))
        .join(name)
}

fn load(name: &str) -> CausalLm<B> {
    let dir = fixture(name);
    let config = DecoderConfig::from_file(&dir.join("config.json")).unwrap();
    let src = SafetensorsSource::open(&dir).unwrap();
    CausalLm::load(&config, &Loader::<B>::new(&src, &default_device())).unwrap()
}

struct Golden {
    prompt: Vec<u32>,
    greedy: Vec<u32>,
}

fn golden(name: &str) -> Golden {
    let src = SafetensorsSource::open(&fixture(name).join("golden.safetensors")).unwrap();
    let ints = |n: &str| src.load(n).unwrap().data.iter().map(|&v| v as u32).collect::<Vec<u32>>();
    Golden {
        prompt: ints("greedy_prompt"),
        greedy: ints("greedy_output"),
    }
}

fn host3(t: Tensor<B, 3>) -> Vec<f32> {
    t.into_data().iter::<f32>().collect()
}

#[test]
fn logits_and_greedy_generation_match_transformers() {
    for name in MODELS {
        let report = check_fixture::<B>(&fixture(name), &default_device()).unwrap();
        println!("{name}: max relative logit error {:.2e}", report.max_rel_logit_error);
        assert!(report.max_rel_logit_error <= 1e-4, "{name}: max relative logit error {:.3e} > 1e-4", report.max_rel_logit_error);
        assert!(report.greedy_matches(), "{name}: greedy {:?}, HF {:?}", report.greedy_got, report.greedy_expected);
    }
}

#[test]
fn left_padded_batched_generation_equals_single_rows() {
    let model = load("qwen2");
    let prompts = vec![vec![5, 17, 42, 8, 91, 33], vec![7, 3], vec![88, 19, 54, 2]];
    let config = GenerationConfig { max_new_tokens: 5, ..Default::default() };
    let batched = generate(&model, &prompts, &config, &AdapterContext::none()).unwrap();
    for (i, p) in prompts.iter().enumerate() {
        let single = generate(&model, &[p.clone()], &config, &AdapterContext::none()).unwrap();
        assert_eq!(batched[i], single[0], "row {i}: padding changed the output");
    }
}

#[test]
fn generation_stops_at_eos() {
    let model = load("llama");
    let g = golden("llama");
    let first = g.greedy[g.prompt.len()];
    let config = GenerationConfig { max_new_tokens: 6, eos_ids: vec![first], ..Default::default() };
    let out = generate(&model, &[g.prompt.clone()], &config, &AdapterContext::none()).unwrap();
    assert_eq!(out[0], vec![first]);
}

#[test]
fn kv_cache_path_equals_full_forward() {
    // Greedy generation uses the cache; rescoring its output without the cache must agree.
    let model = load("llama_tied");
    let g = golden("llama_tied");
    let batch = TokenBatch::new(g.greedy.clone(), vec![1; g.greedy.len()], 1, g.greedy.len()).unwrap();
    let logits = host3(model.forward(&batch, &AdapterContext::none()));
    let v = model.config().vocab_size;
    for t in g.prompt.len() - 1..g.greedy.len() - 1 {
        let row = &logits[t * v..(t + 1) * v];
        let argmax = row.iter().enumerate().fold((0, f32::MIN), |b, (i, &x)| if x > b.1 { (i, x) } else { b }).0;
        assert_eq!(argmax as u32, g.greedy[t + 1], "position {t}");
    }
}

#[test]
fn loss_and_log_likelihood_agree_with_log_probs() {
    let model = load("qwen2");
    let ctx = AdapterContext::none();
    let prompts = vec![vec![5, 17, 42], vec![7, 3, 88, 19]];
    let conts = vec![vec![8, 91], vec![54]];
    let ll = sequence_log_likelihood(&model, &prompts, &conts, 0, &ctx).unwrap();
    // Independent check: sum the per-token log-probs by hand.
    let (batch, mask) = prompt_continuation_batch(&prompts, &conts, 0).unwrap();
    let lp: Vec<f32> = next_token_log_probs(model.forward(&batch, &ctx), &batch).into_data().iter::<f32>().collect();
    let w = batch.seq - 1;
    for r in 0..2 {
        let expect: f64 = (0..w).filter(|&t| mask[r * batch.seq + t + 1] == 1).map(|t| lp[r * w + t] as f64).sum();
        assert!((ll[r] - expect).abs() < 1e-4, "row {r}: {} vs {expect}", ll[r]);
        assert!(ll[r] < 0.0);
    }
    let loss: f32 = masked_lm_loss(&model, &batch, &mask, &ctx).unwrap().into_scalar();
    let expect = -(ll[0] + ll[1]) / 3.0;
    assert!((loss as f64 - expect).abs() < 1e-4, "loss {loss} vs {expect}");
    assert!(masked_lm_loss(&model, &batch, &vec![0; mask.len()], &ctx).is_err());
}

#[test]
fn lora_branch_through_the_seam() {
    let mut model = load("llama");
    let batch = TokenBatch::pad(&[vec![5, 17, 42, 8], vec![7, 3]], 0, strata_models::PadSide::Right).unwrap();
    let ctx = AdapterContext::none();
    let base = host3(model.forward(&batch, &ctx));
    let names = model.linear_names();
    assert_eq!(names.len(), 2 * 7);
    assert_eq!(names[0].0, "layers.0.self_attn.q_proj");
    // Install rank-4 LoRA on q and v (B = 0: the model must not change).
    let device = default_device();
    let lora = LoraConfig::new().with_rank(4).with_dropout(0.0);
    let mut installed = 0;
    model.visit_linears_mut(&mut |name, lin| {
        if name.matches(&["q", "v"]) {
            lin.lora.push(lora.init(lin.d_in(), lin.d_out(), &device));
            installed += 1;
        }
    });
    assert_eq!(installed, 4);
    assert_eq!(host3(model.forward(&batch, &ctx)), base, "a zero LoRA must not change the logits");
    // A non-zero B changes them.
    model.visit_linears_mut(&mut |_, lin| {
        for br in &mut lin.lora {
            let dims = br.b.dims();
            br.b = Param::from_tensor(Tensor::random(dims, Distribution::Normal(0.0, 0.5), &device));
        }
    });
    let changed = host3(model.forward(&batch, &ctx));
    let diff = changed.iter().zip(&base).fold(0f32, |a, (x, y)| a.max((x - y).abs()));
    assert!(diff > 1e-3, "LoRA with B ≠ 0 had no effect ({diff})");
}

#[test]
fn mismatched_config_names_the_tensor() {
    let dir = fixture("llama");
    let mut config = DecoderConfig::from_file(&dir.join("config.json")).unwrap();
    config.intermediate_size += 1;
    let src = SafetensorsSource::open(&dir).unwrap();
    match CausalLm::<B>::load(&config, &Loader::new(&src, &default_device())) {
        Err(ModelError::ShapeMismatch { name, expected, found, .. }) => {
            assert_eq!(name, "model.layers.0.mlp.gate_proj.weight");
            assert_eq!((expected, found), (vec![113, 64], vec![112, 64]));
        }
        other => panic!("expected ShapeMismatch, got {:?}", other.err()),
    }
}
