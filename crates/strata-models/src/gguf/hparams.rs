//! Architecture hyper-parameters from GGUF metadata: `{arch}.embedding_length`,
//! `.block_count`, `.attention.head_count[_kv]`, `.feed_forward_length`, `.rope.freq_base`,
//! `.attention.layer_norm_rms_epsilon`, `.context_length`, vocabulary size; tied embeddings
//! = no `output.weight` tensor.

use super::error::GgufError;
use super::reader::{GgufFile, TensorInfo};
use super::value::Metadata;

/// llama.cpp's RoPE base when `{arch}.rope.freq_base` is absent.
pub const DEFAULT_ROPE_THETA: f32 = 10_000.0;

/// Decoder hyper-parameters of a GGUF model.
#[derive(Debug, Clone, PartialEq)]
pub struct HParams {
    /// `general.architecture`.
    pub architecture: String,
    /// `{arch}.vocab_size`, else the length of `tokenizer.ggml.tokens`, else the rows of
    /// `token_embd.weight`.
    pub vocab_size: usize,
    /// `{arch}.embedding_length`.
    pub hidden_size: usize,
    /// `{arch}.block_count`.
    pub n_layers: usize,
    /// `{arch}.attention.head_count`.
    pub n_heads: usize,
    /// `{arch}.attention.head_count_kv`, default `n_heads`.
    pub n_kv_heads: usize,
    /// `{arch}.attention.key_length`, default `hidden_size / n_heads`.
    pub head_dim: usize,
    /// `{arch}.feed_forward_length`.
    pub ffn_size: usize,
    /// `{arch}.rope.freq_base`, default [`DEFAULT_ROPE_THETA`].
    pub rope_theta: f32,
    /// `{arch}.attention.layer_norm_rms_epsilon`.
    pub rms_eps: f32,
    /// `{arch}.context_length`.
    pub context_length: usize,
    /// True when the file has no `output.weight` (the LM head reuses `token_embd.weight`).
    pub tied_embeddings: bool,
}

impl HParams {
    /// Reads the hyper-parameters; errors name the missing or mistyped key.
    pub fn from_metadata(meta: &Metadata, tensors: &[TensorInfo]) -> Result<HParams, GgufError> {
        let path = meta.path().to_path_buf();
        let arch = meta.get_str("general.architecture")?.to_owned();
        let key = |k: &str| format!("{arch}.{k}");
        let req = |k: &str| -> Result<usize, GgufError> {
            let full = key(k);
            match meta.get_u64_opt(&full)? {
                Some(v) => Ok(v as usize),
                None => Err(GgufError::MissingKey {
                    path: path.clone(),
                    key: full,
                    hint: format!(" (needed for the `{arch}` hyper-parameters)"),
                }),
            }
        };
        let hidden_size = req("embedding_length")?;
        let n_layers = req("block_count")?;
        let n_heads = req("attention.head_count")?;
        let n_kv_heads = match meta.get_u64_opt(&key("attention.head_count_kv"))? {
            Some(v) => v as usize,
            None => n_heads,
        };
        let ffn_size = req("feed_forward_length")?;
        let context_length = req("context_length")?;
        let rms_eps = match meta.get_f32_opt(&key("attention.layer_norm_rms_epsilon"))? {
            Some(v) => v,
            None => {
                return Err(GgufError::MissingKey {
                    path,
                    key: key("attention.layer_norm_rms_epsilon"),
                    hint: " (strata's decoders use RMSNorm)".into(),
                });
            }
        };
        let rope_theta = meta
            .get_f32_opt(&key("rope.freq_base"))?
            .unwrap_or(DEFAULT_ROPE_THETA);

        let vocab_size = if let Some(v) = meta.get_u64_opt(&key("vocab_size"))? {
            v as usize
        } else if let Some(v) = meta.get("tokenizer.ggml.tokens").and_then(|v| v.as_array()) {
            v.values.len()
        } else if let Some(t) = tensors.iter().find(|t| t.name == "token_embd.weight") {
            t.shape()[0]
        } else {
            return Err(GgufError::MissingKey {
                path,
                key: key("vocab_size"),
                hint: " (and neither `tokenizer.ggml.tokens` nor `token_embd.weight` is present)"
                    .into(),
            });
        };

        let invalid = |detail: String| GgufError::Corrupt {
            path: path.clone(),
            detail,
        };
        if n_heads == 0 || n_kv_heads == 0 || n_heads % n_kv_heads != 0 {
            return Err(invalid(format!(
                "head counts must be non-zero with head_count ({n_heads}) a multiple of \
                 head_count_kv ({n_kv_heads})"
            )));
        }
        let head_dim = match meta.get_u64_opt(&key("attention.key_length"))? {
            Some(v) => v as usize,
            None if hidden_size % n_heads == 0 => hidden_size / n_heads,
            None => {
                return Err(invalid(format!(
                    "embedding_length ({hidden_size}) is not a multiple of head_count \
                     ({n_heads}) and `{}` is absent",
                    key("attention.key_length")
                )));
            }
        };
        let tied_embeddings = !tensors.iter().any(|t| t.name == "output.weight");
        Ok(HParams {
            architecture: arch,
            vocab_size,
            hidden_size,
            n_layers,
            n_heads,
            n_kv_heads,
            head_dim,
            ffn_size,
            rope_theta,
            rms_eps,
            context_length,
            tied_embeddings,
        })
    }
}

impl GgufFile {
    /// The model's hyper-parameters (see [`HParams::from_metadata`]).
    pub fn hparams(&self) -> Result<HParams, GgufError> {
        HParams::from_metadata(self.metadata(), self.tensors())
    }
}
