//! Checks a model against a golden fixture written by `scripts/make_golden_fixtures.py`
//! (tiny random HF models, their logits and greedy output from transformers). Used by the
//! golden tests and by `strata-bench`'s `verify_golden` binary on GPU machines.
//!
//! Logit metric: for every position whose mask is 1, `max_v |ours − hf| / max_v |hf|`; the
//! report holds the maximum over positions.

use std::path::Path;

use burn::tensor::{Tensor, backend::Backend};
use strata_adapters::AdapterContext;

use crate::config::{DecoderConfig, T5Config, read_json};
use crate::decoder::CausalLm;
use crate::error::{ModelError, Result};
use crate::generate::{GenerationConfig, generate};
use crate::t5::T5Model;
use crate::weights::{HostTensor, Loader, SafetensorsSource, WeightSource};
use crate::TokenBatch;

/// The outcome of one fixture check.
#[derive(Debug, Clone, PartialEq)]
pub struct GoldenReport {
    /// Fixture directory name.
    pub name: String,
    /// Max relative logit error (see the module docs).
    pub max_rel_logit_error: f32,
    /// HF's greedy tokens.
    pub greedy_expected: Vec<u32>,
    /// Ours.
    pub greedy_got: Vec<u32>,
}

impl GoldenReport {
    /// Whether greedy decoding reproduced HF's tokens exactly.
    pub fn greedy_matches(&self) -> bool {
        self.greedy_expected == self.greedy_got
    }
}

/// `max over masked positions of max_v |ours − hf| / max_v |hf|` for `[.., .., vocab]` logits.
pub fn max_rel_logit_error(ours: &[f32], hf: &HostTensor, mask: &[u8]) -> f32 {
    let v = *hf.shape.last().unwrap_or(&1);
    let mut worst = 0f32;
    for (pos, _) in mask.iter().enumerate().filter(|(_, m)| **m == 1) {
        let (a, b) = (&ours[pos * v..(pos + 1) * v], &hf.data[pos * v..(pos + 1) * v]);
        let scale = b.iter().fold(0f32, |s, x| s.max(x.abs()));
        let diff = a.iter().zip(b).fold(0f32, |s, (x, y)| s.max((x - y).abs()));
        worst = worst.max(diff / scale);
    }
    worst
}

fn ints(src: &SafetensorsSource, name: &str) -> Result<(Vec<u32>, Vec<usize>)> {
    let t = src.load(name)?;
    Ok((t.data.iter().map(|&v| v as u32).collect(), t.shape))
}

fn batch(src: &SafetensorsSource, ids: &str, mask: &str) -> Result<TokenBatch> {
    let (ids, shape) = ints(src, ids)?;
    let (mask, _) = ints(src, mask)?;
    TokenBatch::new(ids, mask.iter().map(|&m| m as u8).collect(), shape[0], shape[1])
}

fn host<B: Backend>(t: Tensor<B, 3>) -> Vec<f32> {
    t.into_data().iter::<f32>().collect()
}

/// Loads the fixture in `dir` (decoder or T5, by `config.json`'s `model_type`), runs it on
/// `device`, and compares logits and greedy output with HF's.
pub fn check_fixture<B: Backend>(dir: &Path, device: &B::Device) -> Result<GoldenReport> {
    let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let golden = SafetensorsSource::open(&dir.join("golden.safetensors"))?;
    let weights = SafetensorsSource::open(dir)?;
    let loader = Loader::<B>::new(&weights, device);
    let ctx = AdapterContext::none();
    let config_path = dir.join("config.json");
    let model_type: serde_json::Value = read_json(&config_path)?;
    let hf_logits = golden.load("logits")?;
    let (greedy_expected, _) = ints(&golden, "greedy_output")?;
    if model_type.get("model_type").and_then(|t| t.as_str()) == Some("t5") {
        let model = T5Model::load(&T5Config::from_file(&config_path)?, &loader)?;
        let enc = batch(&golden, "input_ids", "attention_mask")?;
        let dec = batch(&golden, "decoder_input_ids", "decoder_attention_mask")?;
        let err = max_rel_logit_error(&host(model.forward(&enc, &dec, &ctx)), &hf_logits, &dec.mask);
        let first = TokenBatch::new(enc.ids[..enc.seq].to_vec(), enc.mask[..enc.seq].to_vec(), 1, enc.seq)?;
        let new = greedy_expected.len().saturating_sub(1);
        let got = model.generate_greedy(&first, new, model.config().eos_ids().first().copied()).remove(0);
        return Ok(GoldenReport { name, max_rel_logit_error: err, greedy_expected, greedy_got: got });
    }
    let config = DecoderConfig::from_file(&config_path)?;
    let model = CausalLm::load(&config, &loader)?;
    let tokens = batch(&golden, "input_ids", "attention_mask")?;
    let err = max_rel_logit_error(&host(model.forward(&tokens, &ctx)), &hf_logits, &tokens.mask);
    let (prompt, _) = ints(&golden, "greedy_prompt")?;
    if greedy_expected.len() < prompt.len() {
        return Err(ModelError::Input(format!("{name}: greedy_output is shorter than greedy_prompt")));
    }
    let config = GenerationConfig { max_new_tokens: greedy_expected.len() - prompt.len(), ..Default::default() };
    let new = generate(&model, &[prompt.clone()], &config, &ctx)?.remove(0);
    Ok(GoldenReport { name, max_rel_logit_error: err, greedy_expected, greedy_got: prompt.into_iter().chain(new).collect() })
}
