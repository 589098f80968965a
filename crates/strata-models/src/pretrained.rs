//! One entry point for a usable model: a zoo name or a path → decoder + tokenizer.

use std::path::{Path, PathBuf};

use burn::tensor::backend::Backend;

use crate::decoder::CausalLm;
use crate::error::{ModelError, Result};
use crate::gguf_source::{ModelLocation, load_causal_lm};
use crate::tokenizer::Tokenizer;
use crate::zoo;

/// A loaded causal language model with its tokenizer.
pub struct Pretrained<B: Backend> {
    /// The model.
    pub model: CausalLm<B>,
    /// Its tokenizer (from the GGUF's vocabulary, or `tokenizer.json` beside the weights).
    pub tokenizer: Tokenizer,
    /// Where it was loaded from.
    pub path: PathBuf,
}

impl<B: Backend> Pretrained<B> {
    /// Loads `name_or_path`: a zoo name (`smollm2-135m`, fetched with
    /// `cargo xtask fetch-model NAME`), a `.gguf` file, or an HF directory with
    /// `config.json`, safetensors and `tokenizer.json`.
    pub fn load(name_or_path: &str, device: &B::Device) -> Result<Self> {
        let path = zoo::resolve(name_or_path).map_err(|msg| ModelError::Io { path: name_or_path.into(), msg })?;
        let tokenizer = tokenizer_for(&path)?;
        let (model, config) = load_causal_lm::<B>(&path, device)?;
        if tokenizer.vocab_size() > config.vocab_size {
            return Err(ModelError::Config {
                path: path.display().to_string(),
                msg: format!("tokenizer has {} tokens but the model's vocabulary is {}", tokenizer.vocab_size(), config.vocab_size),
            });
        }
        Ok(Self { model, tokenizer, path })
    }

    /// End-of-sequence ids: the config's, else the tokenizer's.
    pub fn eos_ids(&self) -> Vec<u32> {
        let ids = self.model.config().eos_ids();
        if ids.is_empty() { self.tokenizer.eos_id().into_iter().collect() } else { ids }
    }

    /// Padding id: the config's, else the tokenizer's, else EOS, else 0.
    pub fn pad_id(&self) -> u32 {
        self.model.config().pad_token_id.or(self.tokenizer.pad_id()).or(self.eos_ids().first().copied()).unwrap_or(0)
    }
}

fn tokenizer_for(path: &Path) -> Result<Tokenizer> {
    match ModelLocation::detect(path)? {
        ModelLocation::Gguf(file) => Tokenizer::from_gguf_path(&file),
        ModelLocation::HfDir(dir) => {
            let json = dir.join("tokenizer.json");
            if !json.is_file() {
                return Err(ModelError::Io { path: json.display().to_string(), msg: "missing: an HF model directory needs its tokenizer.json".into() });
            }
            Tokenizer::from_file(&json)
        }
    }
}
