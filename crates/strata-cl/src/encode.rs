//! Tokenisation and batching: prompts and targets to ids (rayon, with a progress bar),
//! truncation, length-bucketed seeded batches with dynamic padding.

use rand::seq::SliceRandom;
use rand::{SeedableRng, rngs::StdRng};
use rayon::prelude::*;
use strata_data::{Example, Prompter, TaskData};
use strata_models::{PadSide, TokenBatch, Tokenizer};

use crate::error::{ClError, Result};
use crate::progress;

/// Tokens always kept from the end of a truncated prompt (the answer cue, e.g. `Answer:`).
pub const PROMPT_TAIL_TOKENS: usize = 8;

/// One example as token ids: the prompt and the target (EOS appended).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct EncodedExample {
    /// Prompt ids (BOS first where the tokenizer adds one).
    pub prompt: Vec<u32>,
    /// Target ids, ending with EOS.
    pub target: Vec<u32>,
    /// The gold references (for scoring generated text).
    pub references: Vec<String>,
}

/// Truncation limits.
#[derive(Debug, Clone, Copy)]
pub struct Lengths {
    /// Prompt tokens at most; longer prompts lose their middle (head and the last
    /// [`PROMPT_TAIL_TOKENS`] are kept).
    pub max_source: usize,
    /// Target tokens at most, EOS included.
    pub max_target: usize,
}

/// `ids` cut to `max` tokens by dropping the middle: the first `max − tail` and the last
/// `tail` are kept.
pub fn truncate_middle(ids: Vec<u32>, max: usize, tail: usize) -> Vec<u32> {
    if ids.len() <= max {
        return ids;
    }
    let tail = tail.min(max / 2);
    let head = max - tail;
    ids[..head].iter().chain(&ids[ids.len() - tail..]).copied().collect()
}

/// Renders and tokenises `examples` of `task` in parallel (a progress bar on stderr).
pub fn encode_examples(tokenizer: &Tokenizer, prompter: &Prompter, task: &TaskData, examples: &[Example], lengths: Lengths, what: &str) -> Result<Vec<EncodedExample>> {
    let eos = tokenizer.eos_id().ok_or_else(|| ClError::config(format!("tokenizer {} has no EOS token; decoder training needs one", tokenizer.source())))?;
    let bar = progress::bar(examples.len() as u64, &format!("tokenise {} {what}", task.name()));
    let out = examples
        .par_iter()
        .map(|ex| {
            let text = prompter.render(task, ex)?;
            let prompt = tokenizer.encode(&text, true)?;
            let mut target = tokenizer.encode(&ex.target, false)?;
            target.truncate(lengths.max_target.saturating_sub(1));
            target.push(eos);
            bar.inc(1);
            Ok(EncodedExample { prompt: truncate_middle(prompt, lengths.max_source, PROMPT_TAIL_TOKENS), target, references: ex.references().map(String::from).collect() })
        })
        .collect::<Result<Vec<_>>>();
    bar.finish_and_clear();
    out
}

/// A training micro-batch: right-padded `prompt ⧺ target` rows, the loss mask (target
/// tokens) and the prompt mask.
#[derive(Debug, Clone)]
pub struct TrainBatch {
    /// Tokens.
    pub tokens: TokenBatch,
    /// 1 on target tokens (scored).
    pub loss_mask: Vec<u8>,
    /// 1 on prompt tokens.
    pub prompt_mask: Vec<u8>,
}

impl TrainBatch {
    /// Builds the batch from examples.
    pub fn from_examples(examples: &[&EncodedExample], pad_id: u32) -> Result<Self> {
        Self::from_examples_padded(examples, pad_id, 1)
    }

    /// As [`Self::from_examples`], the columns rounded up to a multiple of `multiple` (see
    /// `DataConfig::pad_to_multiple`); the extra columns are padding in every mask.
    pub fn from_examples_padded(examples: &[&EncodedExample], pad_id: u32, multiple: usize) -> Result<Self> {
        let rows: Vec<Vec<u32>> = examples.iter().map(|e| e.prompt.iter().chain(&e.target).copied().collect()).collect();
        let tokens = TokenBatch::pad_to_multiple(&rows, pad_id, PadSide::Right, multiple)?;
        let s = tokens.seq;
        let mut loss_mask = vec![0u8; tokens.batch * s];
        let mut prompt_mask = vec![0u8; tokens.batch * s];
        for (r, e) in examples.iter().enumerate() {
            let p = e.prompt.len();
            prompt_mask[r * s..r * s + p].fill(1);
            loss_mask[r * s + p..r * s + p + e.target.len()].fill(1);
        }
        Ok(Self { tokens, loss_mask, prompt_mask })
    }

    /// Number of scored tokens.
    pub fn target_tokens(&self) -> usize {
        self.loss_mask.iter().map(|&m| m as usize).sum()
    }
}

/// Seeded length-bucketed batching: shuffle, sort within windows of `50 × batch_size` by
/// length (less padding), cut into batches, shuffle the batch order. Returns index lists.
pub fn bucketed_batches(lengths: &[usize], batch_size: usize, seed: u64) -> Vec<Vec<usize>> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut order: Vec<usize> = (0..lengths.len()).collect();
    order.shuffle(&mut rng);
    let window = batch_size * 50;
    let mut batches = Vec::new();
    for chunk in order.chunks_mut(window) {
        chunk.sort_by_key(|&i| lengths[i]);
        batches.extend(chunk.chunks(batch_size).map(<[usize]>::to_vec));
    }
    batches.shuffle(&mut rng);
    batches
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn middle_truncation_keeps_head_and_tail() {
        let ids: Vec<u32> = (0..20).collect();
        assert_eq!(truncate_middle(ids.clone(), 30, 8), ids);
        assert_eq!(truncate_middle(ids, 10, 4), vec![0, 1, 2, 3, 4, 5, 16, 17, 18, 19]);
    }

    #[test]
    fn train_batch_masks_mark_prompt_and_target() {
        let a = EncodedExample { prompt: vec![1, 2, 3], target: vec![4, 9], references: vec![] };
        let b = EncodedExample { prompt: vec![5], target: vec![6, 9], references: vec![] };
        let batch = TrainBatch::from_examples(&[&a, &b], 0).unwrap();
        assert_eq!(batch.tokens.ids, vec![1, 2, 3, 4, 9, 5, 6, 9, 0, 0]);
        assert_eq!(batch.prompt_mask, vec![1, 1, 1, 0, 0, 1, 0, 0, 0, 0]);
        assert_eq!(batch.loss_mask, vec![0, 0, 0, 1, 1, 0, 1, 1, 0, 0]);
        assert_eq!(batch.target_tokens(), 4);
    }

    #[test]
    fn padded_train_batch_only_adds_masked_columns() {
        let a = EncodedExample { prompt: vec![1, 2, 3], target: vec![4, 9], references: vec![] };
        let b = EncodedExample { prompt: vec![5], target: vec![6, 9], references: vec![] };
        let plain = TrainBatch::from_examples(&[&a, &b], 0).unwrap();
        let padded = TrainBatch::from_examples_padded(&[&a, &b], 0, 4).unwrap();
        assert_eq!(padded.tokens.seq, 8);
        assert_eq!(padded.tokens.ids, vec![1, 2, 3, 4, 9, 0, 0, 0, 5, 6, 9, 0, 0, 0, 0, 0]);
        assert_eq!(padded.tokens.mask, vec![1, 1, 1, 1, 1, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0]);
        assert_eq!(padded.prompt_mask, vec![1, 1, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(padded.loss_mask, vec![0, 0, 0, 1, 1, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0]);
        assert_eq!(padded.target_tokens(), plain.target_tokens());
        assert_eq!(TrainBatch::from_examples_padded(&[&a, &b], 0, 1).unwrap().tokens, plain.tokens);
    }

    #[test]
    fn bucketing_is_a_seeded_partition() {
        let lengths: Vec<usize> = (0..103).map(|i| (i * 37) % 61).collect();
        let batches = bucketed_batches(&lengths, 8, 7);
        let mut all: Vec<usize> = batches.iter().flatten().copied().collect();
        all.sort();
        assert_eq!(all, (0..103).collect::<Vec<_>>());
        assert!(batches.iter().all(|b| b.len() <= 8));
        assert_eq!(batches, bucketed_batches(&lengths, 8, 7));
        assert_ne!(batches, bucketed_batches(&lengths, 8, 8));
    }
}
