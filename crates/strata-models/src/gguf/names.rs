//! llama.cpp tensor names → Hugging Face names, and the inverse of llama.cpp's Q/K row
//! permutation for `llama`-architecture files: GGUF row `h·D + 2i + s` holds HF row
//! `h·D + s·D/2 + i` (head `h`, head size `D`, pair index `i < D/2`, `s ∈ {0, 1}`).

use super::error::{DataError, GgufError};
use super::hparams::HParams;
use super::reader::GgufFile;

/// Per-layer tensors: llama.cpp `blk.N.<gguf>` ↔ HF `model.layers.N.<hf>` (+ `.weight`/`.bias`).
pub const LAYER_NAMES: &[(&str, &str)] = &[
    ("attn_q", "self_attn.q_proj"),
    ("attn_k", "self_attn.k_proj"),
    ("attn_v", "self_attn.v_proj"),
    ("attn_output", "self_attn.o_proj"),
    ("attn_q_norm", "self_attn.q_norm"),
    ("attn_k_norm", "self_attn.k_norm"),
    ("ffn_gate", "mlp.gate_proj"),
    ("ffn_up", "mlp.up_proj"),
    ("ffn_down", "mlp.down_proj"),
    ("attn_norm", "input_layernorm"),
    ("ffn_norm", "post_attention_layernorm"),
];

/// Global tensors: llama.cpp ↔ HF (+ `.weight`/`.bias`).
pub const GLOBAL_NAMES: &[(&str, &str)] = &[
    ("token_embd", "model.embed_tokens"),
    ("output_norm", "model.norm"),
    ("output", "lm_head"),
];

/// Architectures whose names follow [`LAYER_NAMES`] / [`GLOBAL_NAMES`]. Others (e.g.
/// `gemma3`, whose `ffn_norm` is HF's `pre_feedforward_layernorm` and whose norms are stored
/// as `1 + w`) are not mapped.
pub const MAPPED_ARCHITECTURES: &[&str] = &["llama", "qwen2", "qwen3"];

/// Architectures whose GGUF Q/K rows were permuted by llama.cpp's converter (interleaved
/// RoPE) and must be un-permuted to HF's rotate-half layout.
pub const PERMUTED_QK_ARCHITECTURES: &[&str] = &["llama"];

fn split_suffix(name: &str) -> Option<(&str, &str)> {
    name.strip_suffix(".weight")
        .map(|b| (b, "weight"))
        .or_else(|| name.strip_suffix(".bias").map(|b| (b, "bias")))
}

/// The HF name of llama.cpp tensor `gguf_name` in a file of architecture `arch`
/// (`blk.3.attn_q.weight` → `model.layers.3.self_attn.q_proj.weight`); `None` for unmapped
/// architectures or tensors without an HF counterpart (e.g. `rope_freqs.weight`).
pub fn hf_name(arch: &str, gguf_name: &str) -> Option<String> {
    if !MAPPED_ARCHITECTURES.contains(&arch) {
        return None;
    }
    let (base, suffix) = split_suffix(gguf_name)?;
    if let Some(rest) = base.strip_prefix("blk.") {
        let (layer, part) = rest.split_once('.')?;
        let layer: usize = layer
            .parse()
            .ok()
            .filter(|_| layer.bytes().all(|b| b.is_ascii_digit()))?;
        let hf = LAYER_NAMES.iter().find(|(g, _)| *g == part)?.1;
        return Some(format!("model.layers.{layer}.{hf}.{suffix}"));
    }
    let hf = GLOBAL_NAMES.iter().find(|(g, _)| *g == base)?.1;
    Some(format!("{hf}.{suffix}"))
}

/// The llama.cpp name of HF tensor `hf` (inverse of [`hf_name`] for mapped architectures).
pub fn gguf_name(hf: &str) -> Option<String> {
    let (base, suffix) = split_suffix(hf)?;
    if let Some(rest) = base.strip_prefix("model.layers.") {
        let (layer, part) = rest.split_once('.')?;
        let layer: usize = layer
            .parse()
            .ok()
            .filter(|_| layer.bytes().all(|b| b.is_ascii_digit()))?;
        let g = LAYER_NAMES.iter().find(|(_, h)| *h == part)?.0;
        return Some(format!("blk.{layer}.{g}.{suffix}"));
    }
    let g = GLOBAL_NAMES.iter().find(|(_, h)| *h == base)?.0;
    Some(format!("{g}.{suffix}"))
}

/// Which of Q or K a llama.cpp tensor is (weight or bias), if either.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QkRole {
    Query,
    Key,
}

/// `Some(Query)` for `blk.N.attn_q.{weight,bias}`, `Some(Key)` for `attn_k`, else `None`.
pub fn qk_role(gguf_name: &str) -> Option<QkRole> {
    let (base, _) = split_suffix(gguf_name)?;
    let rest = base.strip_prefix("blk.")?;
    match rest.split_once('.')?.1 {
        "attn_q" => Some(QkRole::Query),
        "attn_k" => Some(QkRole::Key),
        _ => None,
    }
}

/// Whether files of `arch` store Q/K rows permuted for interleaved RoPE.
pub fn needs_qk_unpermute(arch: &str) -> bool {
    PERMUTED_QK_ARCHITECTURES.contains(&arch)
}

fn check_rows(shape: &[usize], len: usize, n_head: usize) -> Result<(usize, usize), DataError> {
    let rows = *shape
        .first()
        .ok_or_else(|| DataError::size("tensor rank", "at least 1", 0))?;
    let row_len: usize = shape[1..].iter().product();
    if rows.checked_mul(row_len) != Some(len) {
        return Err(DataError::size(
            format!("value count of shape {shape:?}"),
            rows.saturating_mul(row_len),
            len,
        ));
    }
    if n_head == 0 || rows % (2 * n_head) != 0 {
        return Err(DataError::size(
            format!("rows of a Q/K tensor with {n_head} heads"),
            format!("a non-zero multiple of 2·n_head = {}", 2 * n_head),
            rows,
        ));
    }
    Ok((rows / n_head, row_len))
}

/// Moves Q/K rows between the two RoPE layouts: rotate-half row `h·D + s·D/2 + i` ↔
/// interleaved row `h·D + 2i + s`. `to_interleaved` picks the direction.
fn move_qk_rows(data: &[f32], shape: &[usize], n_head: usize, to_interleaved: bool) -> Result<Vec<f32>, DataError> {
    let (head_dim, row_len) = check_rows(shape, data.len(), n_head)?;
    let half = head_dim / 2;
    let mut out = vec![0.0; data.len()];
    for h in 0..n_head {
        for i in 0..half {
            for s in 0..2 {
                let interleaved = (h * head_dim + 2 * i + s) * row_len;
                let rotate_half = (h * head_dim + s * half + i) * row_len;
                let (dst, src) = if to_interleaved { (interleaved, rotate_half) } else { (rotate_half, interleaved) };
                out[dst..dst + row_len].copy_from_slice(&data[src..src + row_len]);
            }
        }
    }
    Ok(out)
}

/// llama.cpp's permutation (HF rotate-half → GGUF interleaved):
/// `w.reshape(n_head, 2, D/2, ..).swapaxes(1, 2).reshape(w.shape)` over the rows of `data`
/// (row-major, `shape[0]` rows). Used to build test fixtures.
pub fn permute_qk_rows(data: &[f32], shape: &[usize], n_head: usize) -> Result<Vec<f32>, DataError> {
    move_qk_rows(data, shape, n_head, true)
}

/// Inverse of [`permute_qk_rows`] (GGUF interleaved → HF rotate-half): HF row
/// `h·D + s·D/2 + i` ← GGUF row `h·D + 2i + s`. `n_head` is the head count for Q and the
/// KV-head count for K.
pub fn unpermute_qk_rows(data: &[f32], shape: &[usize], n_head: usize) -> Result<Vec<f32>, DataError> {
    move_qk_rows(data, shape, n_head, false)
}

/// A dequantized tensor under its Hugging Face name, in HF layout.
#[derive(Debug, Clone, PartialEq)]
pub struct HfTensor {
    pub name: String,
    pub data: Vec<f32>,
    /// Row-major shape (`[out, in]` for a matrix).
    pub shape: Vec<usize>,
}

impl GgufFile {
    /// Dequantizes llama.cpp tensor `gguf_name`, renames it to its HF name and, for
    /// [`PERMUTED_QK_ARCHITECTURES`], un-permutes Q (with `hp.n_heads`) and K (with
    /// `hp.n_kv_heads`) rows, so the result equals the HF checkpoint's tensor.
    pub fn hf_tensor(&self, gguf_name: &str, hp: &HParams) -> Result<HfTensor, GgufError> {
        let name = hf_name(&hp.architecture, gguf_name).ok_or_else(|| GgufError::InvalidInput {
            path: self.path().to_path_buf(),
            detail: format!(
                "tensor `{gguf_name}` has no Hugging Face name for architecture `{}` \
                 (mapped architectures: {MAPPED_ARCHITECTURES:?})",
                hp.architecture
            ),
        })?;
        let (mut data, shape) = self.tensor_f32(gguf_name)?;
        if needs_qk_unpermute(&hp.architecture) {
            let heads = match qk_role(gguf_name) {
                Some(QkRole::Query) => Some(hp.n_heads),
                Some(QkRole::Key) => Some(hp.n_kv_heads),
                None => None,
            };
            if let Some(n_head) = heads {
                data = unpermute_qk_rows(&data, &shape, n_head)
                    .map_err(|e| e.in_tensor(self.path(), gguf_name))?;
            }
        }
        Ok(HfTensor { name, data, shape })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_map_both_ways() {
        let cases = [
            ("token_embd.weight", "model.embed_tokens.weight"),
            ("output_norm.weight", "model.norm.weight"),
            ("output.weight", "lm_head.weight"),
            (
                "blk.0.attn_q.weight",
                "model.layers.0.self_attn.q_proj.weight",
            ),
            (
                "blk.12.attn_k.weight",
                "model.layers.12.self_attn.k_proj.weight",
            ),
            (
                "blk.3.attn_v.weight",
                "model.layers.3.self_attn.v_proj.weight",
            ),
            (
                "blk.3.attn_output.weight",
                "model.layers.3.self_attn.o_proj.weight",
            ),
            (
                "blk.29.ffn_gate.weight",
                "model.layers.29.mlp.gate_proj.weight",
            ),
            ("blk.29.ffn_up.weight", "model.layers.29.mlp.up_proj.weight"),
            (
                "blk.29.ffn_down.weight",
                "model.layers.29.mlp.down_proj.weight",
            ),
            (
                "blk.1.attn_norm.weight",
                "model.layers.1.input_layernorm.weight",
            ),
            (
                "blk.1.ffn_norm.weight",
                "model.layers.1.post_attention_layernorm.weight",
            ),
            ("blk.7.attn_q.bias", "model.layers.7.self_attn.q_proj.bias"),
            ("blk.7.attn_k.bias", "model.layers.7.self_attn.k_proj.bias"),
            ("blk.7.attn_v.bias", "model.layers.7.self_attn.v_proj.bias"),
        ];
        for (g, h) in cases {
            assert_eq!(hf_name("llama", g).as_deref(), Some(h), "{g}");
            assert_eq!(hf_name("qwen2", g).as_deref(), Some(h), "{g}");
            assert_eq!(gguf_name(h).as_deref(), Some(g), "{h}");
        }
        assert_eq!(hf_name("llama", "rope_freqs.weight"), None);
        assert_eq!(hf_name("llama", "blk.x.attn_q.weight"), None);
        assert_eq!(hf_name("llama", "blk.+1.attn_q.weight"), None);
        assert_eq!(hf_name("llama", "blk.1.attn_q"), None);
        assert_eq!(hf_name("gemma3", "blk.1.ffn_norm.weight"), None);
        assert_eq!(qk_role("blk.1.attn_q.weight"), Some(QkRole::Query));
        assert_eq!(qk_role("blk.1.attn_k.bias"), Some(QkRole::Key));
        assert_eq!(qk_role("blk.1.attn_k_norm.weight"), None);
        assert_eq!(qk_role("blk.1.attn_v.weight"), None);
        assert!(needs_qk_unpermute("llama") && !needs_qk_unpermute("qwen2"));
    }

    /// Hand-built: 2 heads of size 4 (pairs i ∈ {0,1}), rows tagged 10·r, 2 columns.
    /// HF rows per head: [a0 a1 | b0 b1] (first half, second half); llama.cpp interleaves
    /// them to [a0 b0 a1 b1].
    #[test]
    fn unpermute_inverts_a_hand_built_permutation() {
        let shape = [8usize, 2];
        let hf: Vec<f32> = (0..8)
            .flat_map(|r| [10.0 * r as f32, 10.0 * r as f32 + 1.0])
            .collect();
        // Expected GGUF row order, written out by hand: head 0 = rows 0,2,1,3; head 1 = 4,6,5,7.
        let order = [0, 2, 1, 3, 4, 6, 5, 7];
        let gguf: Vec<f32> = order
            .iter()
            .flat_map(|&r| [10.0 * r as f32, 10.0 * r as f32 + 1.0])
            .collect();
        assert_eq!(permute_qk_rows(&hf, &shape, 2).unwrap(), gguf);
        assert_eq!(unpermute_qk_rows(&gguf, &shape, 2).unwrap(), hf);

        // A 1-D bias and a larger, non-symmetric case round-trip.
        let bias: Vec<f32> = (0..12).map(|x| x as f32).collect();
        let p = permute_qk_rows(&bias, &[12], 1).unwrap();
        assert_eq!(p, vec![0., 6., 1., 7., 2., 8., 3., 9., 4., 10., 5., 11.]);
        assert_eq!(unpermute_qk_rows(&p, &[12], 1).unwrap(), bias);
        let big: Vec<f32> = (0..(3 * 64 * 5)).map(|x| (x * 7 % 13) as f32).collect();
        let p = permute_qk_rows(&big, &[192, 5], 3).unwrap();
        assert_ne!(p, big);
        assert_eq!(unpermute_qk_rows(&p, &[192, 5], 3).unwrap(), big);
    }

    #[test]
    fn unpermute_rejects_bad_shapes() {
        let e = unpermute_qk_rows(&[0.0; 6], &[6], 2)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("multiple of 2·n_head = 4") && e.contains("found 6"),
            "{e}"
        );
        let e = unpermute_qk_rows(&[0.0; 6], &[4, 2], 1)
            .unwrap_err()
            .to_string();
        assert!(e.contains("expected 8, found 6"), "{e}");
        assert!(unpermute_qk_rows(&[0.0; 4], &[4], 0).is_err());
        assert!(unpermute_qk_rows(&[], &[], 1).is_err());
    }
}
