//! T5 against Hugging Face transformers: tiny random models written by
//! `scripts/make_golden_fixtures.py` (transformers 5.17, float32) with HF's logits and greedy
//! output in `golden.safetensors`.
//!
//! Logit metric: for every decoder position with `decoder_attention_mask = 1`, the largest
//! absolute difference over the vocabulary divided by the largest |HF logit| at that position;
//! the test takes the maximum over positions and requires ≤ 1e-4.

use std::path::{Path, PathBuf};

use burn::tensor::Tensor;
use strata_adapters::{AdaptableModel, AdapterContext};
use strata_backend::{DefaultBackend as B, default_device};
use strata_models::t5::{T5Cache, T5Model};
use strata_models::{HostTensor, Loader, ModelError, SafetensorsSource, T5Config, TokenBatch, WeightSource};

fn fixture(name: &str) -> PathBuf {
    // STRATA_GOLDEN_DIR lets a test executable built elsewhere (the GPU machine) find them.
    std::env::var_os("STRATA_GOLDEN_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/golden"))
        .join(name)
}

struct Golden {
    enc: TokenBatch,
    dec: TokenBatch,
    logits: HostTensor,
    greedy: Vec<u32>,
}

fn golden(name: &str) -> Golden {
    let src = SafetensorsSource::open(&fixture(name).join("golden.safetensors")).unwrap();
    let ints = |n: &str| -> (Vec<u32>, Vec<usize>) {
        let t = src.load(n).unwrap();
        (t.data.iter().map(|&v| v as u32).collect(), t.shape)
    };
    let batch = |ids_name: &str, mask_name: &str| {
        let (ids, shape) = ints(ids_name);
        let (mask, _) = ints(mask_name);
        TokenBatch::new(ids, mask.iter().map(|&m| m as u8).collect(), shape[0], shape[1]).unwrap()
    };
    Golden {
        enc: batch("input_ids", "attention_mask"),
        dec: batch("decoder_input_ids", "decoder_attention_mask"),
        logits: src.load("logits").unwrap(),
        greedy: ints("greedy_output").0,
    }
}

fn load_model(name: &str, edit: impl FnOnce(&mut T5Config)) -> Result<T5Model<B>, ModelError> {
    let dir = fixture(name);
    let mut config = T5Config::from_file(&dir.join("config.json")).unwrap();
    edit(&mut config);
    let src = SafetensorsSource::open(&dir).unwrap();
    T5Model::load(&config, &Loader::<B>::new(&src, &default_device()))
}

fn host(t: Tensor<B, 3>) -> Vec<f32> {
    t.into_data().convert::<f32>().to_vec::<f32>().unwrap()
}

fn max_rel_error(ours: &[f32], hf: &HostTensor, dec: &TokenBatch) -> f32 {
    strata_models::golden::max_rel_logit_error(ours, hf, &dec.mask)
}

fn check_fixture(name: &str) {
    let report = strata_models::golden::check_fixture::<B>(&fixture(name), &default_device()).unwrap();
    println!("{name}: max relative logit error {:.3e}, greedy {:?} (HF {:?})", report.max_rel_logit_error, report.greedy_got, report.greedy_expected);
    assert!(report.max_rel_logit_error <= 1e-4, "{name}: max relative logit error {:e} > 1e-4", report.max_rel_logit_error);
    assert!(report.greedy_matches());
}

#[test]
fn t5_v1_0_logits_and_greedy_match_transformers() {
    check_fixture("t5_v1_0");
}

#[test]
fn t5_v1_1_logits_and_greedy_match_transformers() {
    check_fixture("t5_v1_1");
}

#[test]
fn t5_rescale_flag_decides_the_lm_head_input() {
    let g = golden("t5_v1_1");
    let model = load_model("t5_v1_1", |c| c.scale_decoder_outputs = Some(true)).unwrap();
    let err = max_rel_error(&host(model.forward(&g.enc, &g.dec, &AdapterContext::none())), &g.logits, &g.dec);
    assert!(err > 1e-2, "rescaling v1.1 should not match HF, error {err:e}");
    // Without the transformers-5 key, tie_word_embeddings decides (true → rescale).
    let cfg = |s: Option<bool>, tie: bool| {
        let mut c = T5Config::from_file(&fixture("t5_v1_0").join("config.json")).unwrap();
        c.scale_decoder_outputs = s;
        c.tie_word_embeddings = tie;
        c.scale_decoder_outputs()
    };
    assert!(cfg(None, true));
    assert!(!cfg(None, false));
    assert!(!cfg(Some(false), true));
    assert!(cfg(Some(true), false));
}

/// Step-by-step decoding with the cache equals one full decode.
#[test]
fn t5_cached_decode_equals_full_decode() {
    for name in ["t5_v1_0", "t5_v1_1"] {
        let g = golden(name);
        let model = load_model(name, |_| {}).unwrap();
        let ctx = AdapterContext::none();
        let encoded = model.encode(&g.enc, &ctx);
        let full = host(model.decode(encoded.clone(), &g.enc, &g.dec, None, &ctx));
        let (b, s) = (g.dec.batch, g.dec.seq);
        let mut cache = T5Cache::new(model.decoder.block.len());
        let mut steps = Vec::new();
        // Steps of 2, 1, 2 tokens exercise multi-token continuations too.
        let mut t = 0;
        for len in [2, 1, 2] {
            let pick = |v: &[u32]| (0..b).flat_map(|r| v[r * s + t..r * s + t + len].to_vec()).collect::<Vec<u32>>();
            let mask: Vec<u8> = (0..b).flat_map(|r| g.dec.mask[r * s + t..r * s + t + len].to_vec()).collect();
            let step = TokenBatch::new(pick(&g.dec.ids), mask, b, len).unwrap();
            steps.push(model.decode(encoded.clone(), &g.enc, &step, Some(&mut cache), &ctx));
            t += len;
        }
        assert_eq!(cache.len(), s);
        // Control: the last two tokens decoded without the cache (no past) differ, so the
        // cache really carries the earlier positions.
        let tail: Vec<u32> = (0..b).flat_map(|r| g.dec.ids[r * s + 3..r * s + 5].to_vec()).collect();
        let alone = host(model.decode(encoded.clone(), &g.enc, &TokenBatch::new(tail, vec![1; 2 * b], b, 2).unwrap(), None, &ctx));
        let cached_tail = host(steps[2].clone());
        assert!(alone.iter().zip(&cached_tail).any(|(a, c)| (a - c).abs() > 1e-3));
        let cached = host(Tensor::cat(steps, 1));
        let scale = full.iter().fold(1f32, |m, v| m.max(v.abs()));
        let diff = full.iter().zip(&cached).fold(0f32, |m, (a, c)| m.max((a - c).abs()));
        println!("{name}: cached vs full max |Δ| {diff:.3e} (max |logit| {scale:.2})");
        assert!(diff <= 1e-5 * scale, "{name}: cached decode differs by {diff:e}");
    }
}

#[test]
fn t5_wrong_shape_names_the_tensor() {
    let err = load_model("t5_v1_0", |c| c.d_ff = 81).unwrap_err();
    match &err {
        ModelError::ShapeMismatch { name, expected, found, .. } => {
            assert_eq!(name, "encoder.block.0.layer.1.DenseReluDense.wi.weight");
            assert_eq!((expected.as_slice(), found.as_slice()), ([81, 48].as_slice(), [80, 48].as_slice()));
        }
        other => panic!("expected ShapeMismatch, got {other}"),
    }
    assert!(err.to_string().contains("DenseReluDense.wi.weight"), "{err}");
    // A v1.0 file read as gated-GELU misses wi_0.
    let err = load_model("t5_v1_0", |c| c.feed_forward_proj = "gated-gelu".into()).unwrap_err();
    assert!(matches!(&err, ModelError::MissingTensor { name, .. } if name == "encoder.block.0.layer.1.DenseReluDense.wi_0.weight"), "{err}");
    // Unsupported flavours are configuration errors.
    let err = load_model("t5_v1_0", |c| c.feed_forward_proj = "gated-silu".into()).unwrap_err();
    assert!(matches!(err, ModelError::Config { .. }), "{err}");
}

#[test]
fn t5_adaptable_names_follow_hf_paths() {
    let mut model = load_model("t5_v1_1", |_| {}).unwrap();
    let names: Vec<String> = model.linear_names().into_iter().map(|n| n.0).collect();
    // Encoder: 4 attention + 3 feed-forward per block; decoder: 4 + 4 + 3.
    assert_eq!(names.len(), 2 * 7 + 2 * 11);
    for expected in [
        "encoder.block.0.layer.0.SelfAttention.q",
        "encoder.block.1.layer.1.DenseReluDense.wi_0",
        "encoder.block.1.layer.1.DenseReluDense.wo",
        "decoder.block.0.layer.0.SelfAttention.o",
        "decoder.block.1.layer.1.EncDecAttention.v",
        "decoder.block.1.layer.2.DenseReluDense.wi_1",
    ] {
        assert!(names.iter().any(|n| n == expected), "missing {expected} in {names:?}");
    }
    assert_eq!(names[0], "encoder.block.0.layer.0.SelfAttention.q");
    let mut slots = Vec::new();
    model.visit_residual_slots_mut(&mut |n, _| slots.push(n.to_string()));
    assert_eq!(slots, ["encoder.block.0.after_attention", "encoder.block.0.after_mlp", "encoder.block.1.after_attention", "encoder.block.1.after_mlp", "decoder.block.0.after_attention", "decoder.block.0.after_mlp", "decoder.block.1.after_attention", "decoder.block.1.after_mlp"]);
    // Every visited layer is a real projection of the right width.
    model.visit_linears(&mut |n, l| {
        let (din, dout) = (l.d_in(), l.d_out());
        let ok = match n.leaf() {
            "q" | "k" | "v" | "o" => (din, dout) == (48, 48),
            "wi_0" | "wi_1" => (din, dout) == (48, 80),
            "wo" => (din, dout) == (80, 48),
            _ => false,
        };
        assert!(ok, "{n}: {din}×{dout}");
    });
}

/// Batched greedy: each row equals its own unpadded run, and a row that emits EOS is
/// padded afterwards while the others go on.
#[test]
fn t5_batched_greedy_rows_are_independent() {
    let g = golden("t5_v1_0");
    let model = load_model("t5_v1_0", |_| {}).unwrap();
    let s = g.enc.seq;
    let rows: Vec<Vec<u32>> = (0..2).map(|r| (0..s).filter(|&j| g.enc.mask[r * s + j] == 1).map(|j| g.enc.ids[r * s + j]).collect()).collect();
    let alone: Vec<Vec<u32>> = rows.iter().map(|r| model.generate_greedy(&TokenBatch::new(r.clone(), vec![1; r.len()], 1, r.len()).unwrap(), 6, None).remove(0)).collect();
    let batched = model.generate_greedy(&g.enc, 6, None);
    assert_eq!(batched, alone);
    assert_eq!(batched[0], g.greedy);
    // Row 0 emits 59 at step 2: with eos = 59 it is padded (0) afterwards; row 1 is unaffected
    // unless it emits 59 itself.
    let eos = 59;
    let with_eos = model.generate_greedy(&g.enc, 6, Some(eos));
    assert_eq!(with_eos[0], [0, 69, 59, 0, 0, 0, 0]);
    let cut = alone[1].iter().skip(1).position(|&t| t == eos).map_or(alone[1].len(), |p| p + 2);
    assert_eq!(with_eos[1][..cut], alone[1][..cut]);
    assert!(with_eos[1][cut..].iter().all(|&t| t == 0));
    // Everything finished at once: stop early.
    let first = TokenBatch::new(rows[0].clone(), vec![1; rows[0].len()], 1, rows[0].len()).unwrap();
    assert_eq!(model.generate_greedy(&first, 6, Some(69)), vec![vec![0, 69]]);
}
