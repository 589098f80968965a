//! Decoders from llama.cpp GGUF files: [`GgufSource`] serves GGUF tensors under their Hugging
//! Face names (dequantized to f32, Q/K rows of `llama` files un-permuted to rotate-half), and
//! [`decoder_config_from_gguf`] turns GGUF metadata into a [`DecoderConfig`], so
//! [`CausalLm::load`] builds the same model from a GGUF file as from an HF checkpoint.
//! [`load_causal_lm`] takes either.
//!
//! ```no_run
//! use strata_models::gguf_source::load_causal_lm;
//! type B = burn::backend::NdArray<f32>;
//! let (lm, config) = load_causal_lm::<B>("SmolLM2-135M-Instruct.Q4_1.gguf", &Default::default())?;
//! # Ok::<(), strata_models::ModelError>(())
//! ```

use std::path::{Path, PathBuf};

use burn::tensor::backend::Backend;

use crate::config::{DecoderArch, DecoderConfig, TokenIds};
use crate::decoder::CausalLm;
use crate::error::{ModelError, Result};
use crate::gguf::names::gguf_name;
use crate::gguf::{GgufFile, HParams};
use crate::weights::{HostTensor, Loader, SafetensorsSource, WeightSource};

/// GGUF weights under Hugging Face names (see the module docs).
#[derive(Debug)]
pub struct GgufSource {
    file: GgufFile,
    hparams: HParams,
}

impl GgufSource {
    /// Opens `path` and reads its hyper-parameters.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let file = GgufFile::open(path)?;
        Self::new(file)
    }

    /// Wraps an open file.
    pub fn new(file: GgufFile) -> Result<Self> {
        let hparams = file.hparams()?;
        Ok(Self { file, hparams })
    }

    /// The GGUF file (metadata, tokenizer arrays, raw tensors).
    pub fn file(&self) -> &GgufFile {
        &self.file
    }

    /// The hyper-parameters read at open.
    pub fn hparams(&self) -> &HParams {
        &self.hparams
    }

    /// The decoder configuration of this file ([`decoder_config_from_gguf`]).
    pub fn decoder_config(&self) -> Result<DecoderConfig> {
        decoder_config_from_gguf(&self.hparams, &self.file)
    }
}

impl WeightSource for GgufSource {
    fn describe(&self) -> String {
        self.file.path().display().to_string()
    }

    fn contains(&self, name: &str) -> bool {
        gguf_name(name).is_some_and(|g| self.file.tensor_info(&g).is_some())
    }

    fn load(&self, name: &str) -> Result<HostTensor> {
        let g = gguf_name(name)
            .filter(|g| self.file.tensor_info(g).is_some())
            .ok_or_else(|| ModelError::MissingTensor { source_desc: self.describe(), name: name.into() })?;
        let t = self.file.hf_tensor(&g, &self.hparams)?;
        Ok(HostTensor { shape: t.shape, data: t.data })
    }
}

/// `f32` metadata as the decimal it was written from (`1e-5f32` → `1e-5`, not
/// `9.999999747378752e-6`), so GGUF and `config.json` configs agree.
fn f32_to_f64(x: f32) -> f64 {
    x.to_string().parse().unwrap_or(x as f64)
}

/// A [`DecoderConfig`] from GGUF hyper-parameters and metadata: `model_type` from
/// `general.architecture` (`llama` → Llama, `qwen2` → Qwen2; others are refused), sizes,
/// heads, head width, RoPE θ, RMSNorm ε and context length from `hp`; tied embeddings iff
/// there is no `output.weight`; `attention_bias` / `mlp_bias` (llama) iff layer 0 has
/// `attn_q.bias` / `ffn_up.bias`; BOS/EOS/PAD ids from `tokenizer.ggml.{bos,eos,padding}_token_id`.
pub fn decoder_config_from_gguf(hp: &HParams, file: &GgufFile) -> Result<DecoderConfig> {
    let path = file.path().display().to_string();
    let model_type = match hp.architecture.as_str() {
        "llama" => DecoderArch::Llama,
        "qwen2" => DecoderArch::Qwen2,
        other => {
            return Err(ModelError::Config { path, msg: format!("GGUF architecture `{other}` is not supported by strata's decoder (llama, qwen2)") });
        }
    };
    let has = |name: &str| file.tensor_info(name).is_some();
    let meta = file.metadata();
    let id = |key: &str| -> Result<Option<u32>> { Ok(meta.get_u32_opt(key)?) };
    let config = DecoderConfig {
        model_type,
        vocab_size: hp.vocab_size,
        hidden_size: hp.hidden_size,
        intermediate_size: hp.ffn_size,
        num_hidden_layers: hp.n_layers,
        num_attention_heads: hp.n_heads,
        num_key_value_heads: Some(hp.n_kv_heads),
        head_dim: Some(hp.head_dim),
        rms_norm_eps: f32_to_f64(hp.rms_eps),
        rope_theta: Some(f32_to_f64(hp.rope_theta)),
        rope_parameters: None,
        max_position_embeddings: hp.context_length,
        tie_word_embeddings: hp.tied_embeddings,
        attention_bias: model_type == DecoderArch::Llama && has("blk.0.attn_q.bias"),
        mlp_bias: has("blk.0.ffn_up.bias"),
        bos_token_id: id("tokenizer.ggml.bos_token_id")?.map(TokenIds::One),
        eos_token_id: id("tokenizer.ggml.eos_token_id")?.map(TokenIds::One),
        pad_token_id: id("tokenizer.ggml.padding_token_id")?,
    };
    config.validate().map_err(|msg| ModelError::Config { path, msg })?;
    Ok(config)
}

/// Whether `path` is a GGUF file (by extension, else by its magic bytes).
pub fn is_gguf(path: &Path) -> bool {
    if !path.is_file() {
        return false;
    }
    if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("gguf")) {
        return true;
    }
    let mut magic = [0u8; 4];
    std::fs::File::open(path).and_then(|mut f| std::io::Read::read_exact(&mut f, &mut magic)).is_ok() && &magic == b"GGUF"
}

/// Where [`load_causal_lm`] reads a model from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelLocation {
    /// A GGUF file.
    Gguf(PathBuf),
    /// A Hugging Face directory (`config.json` + safetensors).
    HfDir(PathBuf),
}

impl ModelLocation {
    /// Classifies `path`: a GGUF file; a directory with `config.json`; or a directory with
    /// exactly one `*.gguf` file and no `config.json`.
    pub fn detect(path: &Path) -> Result<Self> {
        let io = |msg: &str| ModelError::Io { path: path.display().to_string(), msg: msg.into() };
        if path.is_file() {
            return if is_gguf(path) { Ok(Self::Gguf(path.to_path_buf())) } else { Err(io("not a GGUF file (and not a directory with config.json)")) };
        }
        if !path.is_dir() {
            return Err(io("no such file or directory"));
        }
        if path.join("config.json").is_file() {
            return Ok(Self::HfDir(path.to_path_buf()));
        }
        let ggufs: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(|e| io(&e.to_string()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e.eq_ignore_ascii_case("gguf")))
            .collect();
        match ggufs.as_slice() {
            [one] => Ok(Self::Gguf(one.clone())),
            [] => Err(io("no config.json and no .gguf file here")),
            _ => Err(io("no config.json and several .gguf files here: name one")),
        }
    }
}

/// Loads a causal LM from a `.gguf` file or a Hugging Face directory (`config.json` plus
/// `model.safetensors` or sharded safetensors with their index) onto `device`.
pub fn load_causal_lm<B: Backend>(path: impl AsRef<Path>, device: &B::Device) -> Result<(CausalLm<B>, DecoderConfig)> {
    match ModelLocation::detect(path.as_ref())? {
        ModelLocation::Gguf(p) => {
            let source = GgufSource::open(&p)?;
            let config = source.decoder_config()?;
            let lm = CausalLm::load(&config, &Loader::new(&source, device))?;
            Ok((lm, config))
        }
        ModelLocation::HfDir(dir) => {
            let config = DecoderConfig::from_file(&dir.join("config.json"))?;
            let source = SafetensorsSource::open(&dir)?;
            let lm = CausalLm::load(&config, &Loader::new(&source, device))?;
            Ok((lm, config))
        }
    }
}
