//! Decoders loaded from GGUF files.
//!
//! Always run: tiny random decoders written both as a llama.cpp GGUF (llama.cpp names, Q/K
//! rows permuted the way llama.cpp's converter does for `llama`) and as an HF directory
//! (`config.json` + `model.safetensors`) must give the same config and bit-identical logits;
//! a negative control shows the un-permute matters.
//!
//! Run on real files when the environment points at them (otherwise a skip line is printed):
//! `STRATA_TINY_GGUF` (tinycoder `tiny.gguf`), `STRATA_SMOLLM2_GGUF` (SmolLM2-135M-Instruct
//! Q4_1: greedy "The capital of France is" must say Paris), `STRATA_QWEN25_GGUF`
//! (Qwen2.5-Coder-0.5B-Instruct, same check). See `docs/models.md`.

use std::path::{Path, PathBuf};

use burn::tensor::Tensor;
use safetensors::tensor::TensorView;
use safetensors::Dtype;
use strata_backend::DefaultBackend as B;
use strata_models::gguf::names::{gguf_name, permute_qk_rows};
use strata_models::gguf::value::GgufValue;
use strata_models::gguf::{GgmlType, GgufWriter};
use strata_models::gguf_source::{GgufSource, ModelLocation};
use strata_models::strata_adapters::AdapterContext;
use strata_models::{CausalLm, HostTensor, Loader, PadSide, TokenBatch, Tokenizer, WeightSource, load_causal_lm};

/// A deterministic pseudo-random generator (xorshift64*), values in [-scale, scale).
struct Rng(u64);
impl Rng {
    fn next(&mut self, scale: f32) -> f32 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let x = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 40;
        (x as f32 / (1u64 << 24) as f32 * 2.0 - 1.0) * scale
    }
    fn vec(&mut self, n: usize, scale: f32) -> Vec<f32> {
        (0..n).map(|_| self.next(scale)).collect()
    }
}

#[derive(Clone, Copy)]
struct Spec {
    arch: &'static str,
    vocab: usize,
    d: usize,
    heads: usize,
    kv: usize,
    head_dim: usize,
    ffn: usize,
    layers: usize,
    tied: bool,
}

/// HF-named tensors of a random decoder of `spec`, in HF layout.
fn random_weights(s: Spec, seed: u64) -> Vec<(String, HostTensor)> {
    let mut rng = Rng(seed);
    let mut out = Vec::new();
    let mut add = |name: String, shape: Vec<usize>, rng: &mut Rng, center: f32| {
        let n = shape.iter().product();
        let data = rng.vec(n, 0.3).into_iter().map(|v| v + center).collect();
        out.push((name, HostTensor { shape, data }));
    };
    add("model.embed_tokens.weight".into(), vec![s.vocab, s.d], &mut rng, 0.0);
    for i in 0..s.layers {
        let p = format!("model.layers.{i}");
        add(format!("{p}.input_layernorm.weight"), vec![s.d], &mut rng, 1.0);
        add(format!("{p}.post_attention_layernorm.weight"), vec![s.d], &mut rng, 1.0);
        add(format!("{p}.self_attn.q_proj.weight"), vec![s.heads * s.head_dim, s.d], &mut rng, 0.0);
        add(format!("{p}.self_attn.k_proj.weight"), vec![s.kv * s.head_dim, s.d], &mut rng, 0.0);
        add(format!("{p}.self_attn.v_proj.weight"), vec![s.kv * s.head_dim, s.d], &mut rng, 0.0);
        if s.arch == "qwen2" {
            add(format!("{p}.self_attn.q_proj.bias"), vec![s.heads * s.head_dim], &mut rng, 0.0);
            add(format!("{p}.self_attn.k_proj.bias"), vec![s.kv * s.head_dim], &mut rng, 0.0);
            add(format!("{p}.self_attn.v_proj.bias"), vec![s.kv * s.head_dim], &mut rng, 0.0);
        }
        add(format!("{p}.self_attn.o_proj.weight"), vec![s.d, s.heads * s.head_dim], &mut rng, 0.0);
        add(format!("{p}.mlp.gate_proj.weight"), vec![s.ffn, s.d], &mut rng, 0.0);
        add(format!("{p}.mlp.up_proj.weight"), vec![s.ffn, s.d], &mut rng, 0.0);
        add(format!("{p}.mlp.down_proj.weight"), vec![s.d, s.ffn], &mut rng, 0.0);
    }
    add("model.norm.weight".into(), vec![s.d], &mut rng, 1.0);
    if !s.tied {
        add("lm_head.weight".into(), vec![s.vocab, s.d], &mut rng, 0.0);
    }
    out
}

const THETA: f32 = 10_000.0;
const EPS: f32 = 1e-5;
const CONTEXT: usize = 128;

/// The HF directory: config.json + model.safetensors.
fn write_hf_dir(dir: &Path, s: Spec, weights: &[(String, HostTensor)]) {
    std::fs::create_dir_all(dir).unwrap();
    let config = serde_json::json!({
        "model_type": s.arch,
        "vocab_size": s.vocab,
        "hidden_size": s.d,
        "intermediate_size": s.ffn,
        "num_hidden_layers": s.layers,
        "num_attention_heads": s.heads,
        "num_key_value_heads": s.kv,
        "head_dim": s.head_dim,
        "rms_norm_eps": 1e-5,
        "rope_theta": 10000.0,
        "max_position_embeddings": CONTEXT,
        "tie_word_embeddings": s.tied,
        "bos_token_id": 1,
        "eos_token_id": 2,
        "pad_token_id": 0,
    });
    std::fs::write(dir.join("config.json"), serde_json::to_string_pretty(&config).unwrap()).unwrap();
    let bytes: Vec<(String, Vec<usize>, Vec<u8>)> = weights.iter().map(|(n, t)| (n.clone(), t.shape.clone(), t.data.iter().flat_map(|v| v.to_le_bytes()).collect())).collect();
    let views: Vec<(String, TensorView<'_>)> = bytes.iter().map(|(n, shape, b)| (n.clone(), TensorView::new(Dtype::F32, shape.clone(), b).unwrap())).collect();
    safetensors::serialize_to_file(views, None, &dir.join("model.safetensors")).unwrap();
}

/// The llama.cpp file: llama.cpp names, F32, Q/K rows permuted for `llama`.
fn write_gguf(path: &Path, s: Spec, weights: &[(String, HostTensor)]) {
    let a = s.arch;
    let mut w = GgufWriter::new();
    w.add_metadata("general.architecture", GgufValue::String(a.into()));
    w.add_metadata("general.name", GgufValue::String("strata test decoder".into()));
    w.add_metadata(format!("{a}.block_count"), GgufValue::U32(s.layers as u32));
    w.add_metadata(format!("{a}.context_length"), GgufValue::U32(CONTEXT as u32));
    w.add_metadata(format!("{a}.embedding_length"), GgufValue::U32(s.d as u32));
    w.add_metadata(format!("{a}.feed_forward_length"), GgufValue::U32(s.ffn as u32));
    w.add_metadata(format!("{a}.attention.head_count"), GgufValue::U32(s.heads as u32));
    w.add_metadata(format!("{a}.attention.head_count_kv"), GgufValue::U32(s.kv as u32));
    if s.head_dim * s.heads != s.d {
        w.add_metadata(format!("{a}.attention.key_length"), GgufValue::U32(s.head_dim as u32));
        w.add_metadata(format!("{a}.attention.value_length"), GgufValue::U32(s.head_dim as u32));
    }
    w.add_metadata(format!("{a}.rope.freq_base"), GgufValue::F32(THETA));
    w.add_metadata(format!("{a}.attention.layer_norm_rms_epsilon"), GgufValue::F32(EPS));
    w.add_metadata(format!("{a}.vocab_size"), GgufValue::U32(s.vocab as u32));
    w.add_metadata("tokenizer.ggml.bos_token_id", GgufValue::U32(1));
    w.add_metadata("tokenizer.ggml.eos_token_id", GgufValue::U32(2));
    w.add_metadata("tokenizer.ggml.padding_token_id", GgufValue::U32(0));
    for (name, t) in weights {
        let g = gguf_name(name).unwrap_or_else(|| panic!("no llama.cpp name for {name}"));
        let data = if a == "llama" && name.contains("self_attn.q_proj") {
            permute_qk_rows(&t.data, &t.shape, s.heads).unwrap()
        } else if a == "llama" && name.contains("self_attn.k_proj") {
            permute_qk_rows(&t.data, &t.shape, s.kv).unwrap()
        } else {
            t.data.clone()
        };
        w.add_tensor(g, &t.shape, GgmlType::F32, &data).unwrap();
    }
    w.write(path).unwrap();
}

fn batch() -> TokenBatch {
    TokenBatch::pad(&[vec![1, 5, 9, 33, 17, 60, 2], vec![1, 40, 3]], 0, PadSide::Right).unwrap()
}

fn logits_of(lm: &CausalLm<B>, b: &TokenBatch) -> (Vec<usize>, Vec<f32>) {
    let out: Tensor<B, 3> = lm.forward(b, &AdapterContext::none());
    (out.dims().to_vec(), out.into_data().to_vec::<f32>().unwrap())
}

/// Raw GGUF tensors renamed but NOT un-permuted: the negative control.
struct NoUnpermute(GgufSource);
impl WeightSource for NoUnpermute {
    fn describe(&self) -> String {
        self.0.describe()
    }
    fn contains(&self, name: &str) -> bool {
        self.0.contains(name)
    }
    fn load(&self, name: &str) -> strata_models::Result<HostTensor> {
        let (data, shape) = self.0.file().tensor_f32(&gguf_name(name).unwrap())?;
        Ok(HostTensor { shape, data })
    }
}

fn check_equivalence(s: Spec, seed: u64) {
    let tmp = tempfile::tempdir().unwrap();
    let weights = random_weights(s, seed);
    let hf = tmp.path().join("hf");
    let gguf = tmp.path().join("model.gguf");
    write_hf_dir(&hf, s, &weights);
    write_gguf(&gguf, s, &weights);
    let device = Default::default();

    let (lm_hf, cfg_hf) = load_causal_lm::<B>(&hf, &device).unwrap();
    let (lm_gguf, cfg_gguf) = load_causal_lm::<B>(&gguf, &device).unwrap();
    assert_eq!(cfg_gguf, cfg_hf, "config from GGUF metadata vs config.json ({})", s.arch);
    assert_eq!(lm_gguf.lm_head.is_none(), s.tied);

    // Every HF tensor comes back bit-identical from the GGUF source.
    let src = GgufSource::open(&gguf).unwrap();
    for (name, t) in &weights {
        assert!(src.contains(name), "{name}");
        assert_eq!(&src.load(name).unwrap(), t, "{name}");
    }
    assert!(!src.contains("lm_head.weight") || !s.tied);
    let err = src.load("model.layers.99.mlp.up_proj.weight").unwrap_err().to_string();
    assert!(err.contains("model.gguf") && err.contains("model.layers.99.mlp.up_proj.weight"), "{err}");

    let b = batch();
    let (shape_hf, hf_logits) = logits_of(&lm_hf, &b);
    let (shape_gguf, gguf_logits) = logits_of(&lm_gguf, &b);
    assert_eq!(shape_hf, vec![2, 7, s.vocab]);
    assert_eq!(shape_gguf, shape_hf);
    assert!(hf_logits.iter().all(|v| v.is_finite()));
    assert_eq!(gguf_logits, hf_logits, "GGUF and HF logits must be identical ({})", s.arch);

    if s.arch == "llama" {
        // Negative control: without the un-permute, RoPE pairs the wrong dimensions.
        let raw = NoUnpermute(GgufSource::open(&gguf).unwrap());
        let lm_raw = CausalLm::<B>::load(&cfg_gguf, &Loader::new(&raw, &device)).unwrap();
        let (_, raw_logits) = logits_of(&lm_raw, &b);
        let max_diff = raw_logits.iter().zip(&hf_logits).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
        assert!(max_diff > 1e-3, "permuted Q/K should change the logits (max diff {max_diff})");
    }
}

#[test]
fn llama_gguf_matches_hf_safetensors() {
    check_equivalence(Spec { arch: "llama", vocab: 64, d: 32, heads: 4, kv: 2, head_dim: 8, ffn: 48, layers: 2, tied: false }, 7);
}

#[test]
fn tied_llama_with_wide_heads_gguf_matches_hf_safetensors() {
    // head_dim·heads ≠ d exercises `attention.key_length`.
    check_equivalence(Spec { arch: "llama", vocab: 72, d: 24, heads: 2, kv: 1, head_dim: 16, ffn: 40, layers: 3, tied: true }, 11);
}

#[test]
fn qwen2_gguf_with_biases_matches_hf_safetensors() {
    check_equivalence(Spec { arch: "qwen2", vocab: 80, d: 32, heads: 4, kv: 2, head_dim: 8, ffn: 64, layers: 2, tied: true }, 13);
}

#[test]
fn locations_and_errors_name_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("nope.gguf");
    let err = load_causal_lm::<B>(&missing, &Default::default()).unwrap_err().to_string();
    assert!(err.contains("nope.gguf"), "{err}");
    let not_gguf = tmp.path().join("weights.bin");
    std::fs::write(&not_gguf, b"not a model").unwrap();
    let err = load_causal_lm::<B>(&not_gguf, &Default::default()).unwrap_err().to_string();
    assert!(err.contains("weights.bin") && err.contains("not a GGUF"), "{err}");
    let bad = tmp.path().join("bad.gguf");
    std::fs::write(&bad, b"GGUF\x03\0\0\0").unwrap();
    let err = load_causal_lm::<B>(&bad, &Default::default()).unwrap_err().to_string();
    assert!(err.contains("bad.gguf"), "{err}");
    // A directory with one .gguf and no config.json resolves to the file.
    let dir = tmp.path().join("d");
    std::fs::create_dir(&dir).unwrap();
    std::fs::copy(&bad, dir.join("m.gguf")).unwrap();
    assert_eq!(ModelLocation::detect(&dir).unwrap(), ModelLocation::Gguf(dir.join("m.gguf")));
    // Unsupported architecture.
    let mut w = GgufWriter::new();
    for (k, v) in [("general.architecture", GgufValue::String("gemma3".into())), ("gemma3.block_count", GgufValue::U32(1)), ("gemma3.context_length", GgufValue::U32(8)), ("gemma3.embedding_length", GgufValue::U32(8)), ("gemma3.feed_forward_length", GgufValue::U32(8)), ("gemma3.attention.head_count", GgufValue::U32(2)), ("gemma3.attention.layer_norm_rms_epsilon", GgufValue::F32(1e-6)), ("gemma3.vocab_size", GgufValue::U32(4))] {
        w.add_metadata(k, v);
    }
    let g3 = tmp.path().join("g3.gguf");
    w.write(&g3).unwrap();
    let err = load_causal_lm::<B>(&g3, &Default::default()).unwrap_err().to_string();
    assert!(err.contains("g3.gguf") && err.contains("gemma3"), "{err}");
}

fn env_path(var: &str) -> Option<PathBuf> {
    match std::env::var_os(var) {
        Some(p) if !p.is_empty() => Some(PathBuf::from(p)),
        _ => {
            println!("skipped: set {var} to run this test on the real file");
            None
        }
    }
}

#[test]
fn real_tiny_gguf_forward_is_finite() {
    let Some(path) = env_path("STRATA_TINY_GGUF") else { return };
    let (lm, cfg) = load_causal_lm::<B>(&path, &Default::default()).unwrap();
    println!("tiny.gguf config: {cfg:?}");
    assert_eq!((cfg.vocab_size, cfg.hidden_size, cfg.num_hidden_layers, cfg.num_attention_heads), (32000, 16, 2, 4));
    assert_eq!(cfg.rope_theta(), 10_000.0);
    let b = TokenBatch::pad(&[vec![1, 450, 4996, 17354, 1701]], 0, PadSide::Right).unwrap();
    let (shape, logits) = logits_of(&lm, &b);
    assert_eq!(shape, vec![1, 5, 32000]);
    assert!(logits.iter().all(|v| v.is_finite()));
}

/// Greedy decoding with a plain argmax loop over full forwards (no KV cache).
fn greedy(lm: &CausalLm<B>, prompt: &[u32], steps: usize, eos: Option<u32>) -> Vec<u32> {
    let mut ids = prompt.to_vec();
    for _ in 0..steps {
        let b = TokenBatch::pad(std::slice::from_ref(&ids), 0, PadSide::Right).unwrap();
        let (shape, logits) = logits_of(lm, &b);
        let vocab = shape[2];
        let last = &logits[(ids.len() - 1) * vocab..ids.len() * vocab];
        let next = last.iter().enumerate().fold((0, f32::NEG_INFINITY), |best, (i, &v)| if v > best.1 { (i, v) } else { best }).0 as u32;
        ids.push(next);
        if Some(next) == eos {
            break;
        }
    }
    ids[prompt.len()..].to_vec()
}

fn greedy_says_paris(var: &str, expected_arch: &str) {
    let Some(path) = env_path(var) else { return };
    let t0 = std::time::Instant::now();
    let (lm, cfg) = load_causal_lm::<B>(&path, &Default::default()).unwrap();
    let tk = Tokenizer::from_gguf_path(&path).unwrap();
    println!("{var}: loaded in {:.1}s: {cfg:?}", t0.elapsed().as_secs_f32());
    assert_eq!(serde_json::to_value(cfg.model_type).unwrap(), expected_arch);
    assert_eq!(tk.vocab_size(), cfg.vocab_size);
    let prompt = tk.encode("The capital of France is", true).unwrap();
    let t1 = std::time::Instant::now();
    let out = greedy(&lm, &prompt, 6, tk.eos_id());
    let text = tk.decode(&out, true).unwrap();
    println!("{var}: prompt ids {prompt:?} → {out:?} = {text:?} ({:.1}s)", t1.elapsed().as_secs_f32());
    assert!(text.contains("Paris"), "greedy continuation {text:?} should mention Paris");
}

#[test]
fn real_smollm2_greedy_says_paris() {
    greedy_says_paris("STRATA_SMOLLM2_GGUF", "llama");
}

#[test]
fn real_qwen25_greedy_says_paris() {
    greedy_says_paris("STRATA_QWEN25_GGUF", "qwen2");
}
