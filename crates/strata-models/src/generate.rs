//! Batched generation with a KV cache: greedy or sampled, stopping at EOS or a token budget.
//!
//! Prompts are left-padded so every row's last prompt token sits in the last column; the
//! first step runs the whole prompt, each later step one token per row against the cache.

use burn::tensor::backend::Backend;
use rand::{RngExt, SeedableRng, rngs::StdRng};
use strata_adapters::AdapterContext;

use crate::batch::{PadSide, TokenBatch};
use crate::decoder::{CausalLm, KvCache};
use crate::error::{ModelError, Result};

/// How the next token is chosen.
#[derive(Debug, Clone, PartialEq)]
pub enum Decoding {
    /// argmax (ties: lowest id).
    Greedy,
    /// Sample from `softmax(logits / temperature)`, restricted to the `top_k` most likely
    /// tokens (0 = all) and the smallest set with mass ≥ `top_p` (1.0 = all).
    Sample {
        /// Temperature > 0.
        temperature: f64,
        /// Keep this many most likely tokens (0: no limit).
        top_k: usize,
        /// Nucleus mass in (0, 1].
        top_p: f64,
        /// RNG seed (the same seed gives the same tokens).
        seed: u64,
    },
}

/// Generation settings.
#[derive(Debug, Clone, PartialEq)]
pub struct GenerationConfig {
    /// Tokens to generate at most per row (default 32).
    pub max_new_tokens: usize,
    /// Greedy (default) or sampled.
    pub decoding: Decoding,
    /// A row stops after emitting any of these (default: none).
    pub eos_ids: Vec<u32>,
    /// Id used for padding (default 0).
    pub pad_id: u32,
    /// Left-pad the prompts to a multiple of this many tokens (default 1: to the longest
    /// prompt only). Larger values bound the shapes a GPU backend compiles kernels for; the
    /// padding is masked, so outputs do not change beyond floating-point noise.
    pub pad_multiple: usize,
}

impl Default for GenerationConfig {
    fn default() -> Self {
        Self { max_new_tokens: 32, decoding: Decoding::Greedy, eos_ids: Vec::new(), pad_id: 0, pad_multiple: 1 }
    }
}

/// Chooses the next token from one row of logits.
pub fn choose_token(logits: &[f32], decoding: &Decoding, rng: &mut StdRng) -> u32 {
    match decoding {
        Decoding::Greedy => logits
            .iter()
            .enumerate()
            .fold((0usize, f32::NEG_INFINITY), |best, (i, &l)| if l > best.1 { (i, l) } else { best })
            .0 as u32,
        Decoding::Sample { temperature, top_k, top_p, .. } => {
            let mut idx: Vec<usize> = (0..logits.len()).collect();
            idx.sort_by(|&a, &b| logits[b].total_cmp(&logits[a]));
            if *top_k > 0 {
                idx.truncate(*top_k);
            }
            let max = logits[idx[0]] as f64;
            let weights: Vec<f64> = idx.iter().map(|&i| ((logits[i] as f64 - max) / temperature.max(1e-6)).exp()).collect();
            let total: f64 = weights.iter().sum();
            let mut keep = weights.len();
            let mut acc = 0.0;
            for (j, w) in weights.iter().enumerate() {
                acc += w / total;
                if acc >= *top_p {
                    keep = j + 1;
                    break;
                }
            }
            let mass: f64 = weights[..keep].iter().sum();
            let mut r = rng.random::<f64>() * mass;
            for j in 0..keep {
                r -= weights[j];
                if r <= 0.0 {
                    return idx[j] as u32;
                }
            }
            idx[keep - 1] as u32
        }
    }
}

/// Generates continuations of `prompts`; returns the new tokens of each row (EOS included
/// when emitted; nothing after it).
pub fn generate<B: Backend>(model: &CausalLm<B>, prompts: &[Vec<u32>], config: &GenerationConfig, ctx: &AdapterContext<B>) -> Result<Vec<Vec<u32>>> {
    let vocab = model.config().vocab_size;
    let batch = TokenBatch::pad_to_multiple(prompts, config.pad_id, PadSide::Left, config.pad_multiple)?;
    batch.check_vocab(vocab)?;
    if let Decoding::Sample { temperature, top_p, .. } = config.decoding {
        if !(temperature > 0.0) || !(top_p > 0.0 && top_p <= 1.0) {
            return Err(ModelError::Input(format!("sampling needs temperature > 0 and top_p in (0, 1]; got {temperature}, {top_p}")));
        }
    }
    let seed = match config.decoding {
        Decoding::Sample { seed, .. } => seed,
        Decoding::Greedy => 0,
    };
    let mut rng = StdRng::seed_from_u64(seed);
    let rows = batch.batch;
    let mut cache = KvCache::new(model.model.layers.len());
    let mut full_mask = batch.mask.clone();
    let mut positions = batch.positions();
    let mut step = batch.clone();
    let mut out: Vec<Vec<u32>> = vec![Vec::new(); rows];
    let mut done = vec![false; rows];
    for _ in 0..config.max_new_tokens {
        let logits = model.forward_cached_last(&step, &full_mask, &positions, &mut cache, ctx);
        let v = logits.dims()[2];
        let last: Vec<f32> = logits.to_data().iter::<f32>().collect();
        let mut next = Vec::with_capacity(rows);
        for r in 0..rows {
            let tok = if done[r] { config.pad_id } else { choose_token(&last[r * v..(r + 1) * v], &config.decoding, &mut rng) };
            if !done[r] {
                out[r].push(tok);
                done[r] = config.eos_ids.contains(&tok);
            }
            next.push(tok);
        }
        if done.iter().all(|&d| d) {
            break;
        }
        // Next step: one token per row, at the position after the row's last one.
        let total = full_mask.len() / rows;
        full_mask = (0..rows).flat_map(|r| full_mask[r * total..(r + 1) * total].iter().copied().chain([1u8])).collect();
        positions = positions.iter().map(|p| vec![p.last().map_or(0, |&x| x + 1)]).collect();
        step = TokenBatch::new(next, vec![1; rows], rows, 1)?;
    }
    Ok(out)
}
