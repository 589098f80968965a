//! Token batches on the host: padded ids, the attention mask, and position ids.

use crate::error::{ModelError, Result};

/// Which side padding goes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PadSide {
    /// Pad after the tokens (training, scoring).
    Right,
    /// Pad before the tokens (batched generation, so every row ends at the same column).
    Left,
}

/// `batch × seq` token ids with a 0/1 attention mask, row-major.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenBatch {
    /// Ids, `batch·seq`; padded slots hold `pad_id`.
    pub ids: Vec<u32>,
    /// 1 for a real token, 0 for padding.
    pub mask: Vec<u8>,
    /// Rows.
    pub batch: usize,
    /// Columns.
    pub seq: usize,
}

impl TokenBatch {
    /// Pads `sequences` to the longest one. Errors on an empty batch or an empty sequence.
    pub fn pad(sequences: &[Vec<u32>], pad_id: u32, side: PadSide) -> Result<Self> {
        Self::pad_to_multiple(sequences, pad_id, side, 1)
    }

    /// Pads `sequences` to the longest one rounded up to a multiple of `multiple` (0 and 1:
    /// no rounding). Bounds the number of distinct shapes a GPU backend must compile and
    /// autotune kernels for; the extra columns are masked padding like any other.
    pub fn pad_to_multiple(sequences: &[Vec<u32>], pad_id: u32, side: PadSide, multiple: usize) -> Result<Self> {
        if sequences.is_empty() {
            return Err(ModelError::Input("empty batch".into()));
        }
        if let Some(i) = sequences.iter().position(Vec::is_empty) {
            return Err(ModelError::Input(format!("sequence {i} of the batch is empty")));
        }
        let seq = sequences.iter().map(Vec::len).max().unwrap_or(0).next_multiple_of(multiple.max(1));
        let mut ids = Vec::with_capacity(sequences.len() * seq);
        let mut mask = Vec::with_capacity(sequences.len() * seq);
        for s in sequences {
            let pad = seq - s.len();
            let (pad_ids, pad_mask) = (std::iter::repeat_n(pad_id, pad), std::iter::repeat_n(0u8, pad));
            match side {
                PadSide::Right => {
                    ids.extend(s.iter().copied().chain(pad_ids));
                    mask.extend(std::iter::repeat_n(1u8, s.len()).chain(pad_mask));
                }
                PadSide::Left => {
                    ids.extend(pad_ids.chain(s.iter().copied()));
                    mask.extend(pad_mask.chain(std::iter::repeat_n(1u8, s.len())));
                }
            }
        }
        Ok(Self { ids, mask, batch: sequences.len(), seq })
    }

    /// A batch from explicit ids and mask (`batch·seq` each).
    pub fn new(ids: Vec<u32>, mask: Vec<u8>, batch: usize, seq: usize) -> Result<Self> {
        if ids.len() != batch * seq || mask.len() != batch * seq {
            return Err(ModelError::Input(format!("ids ({}) and mask ({}) must both hold batch·seq = {} values", ids.len(), mask.len(), batch * seq)));
        }
        Ok(Self { ids, mask, batch, seq })
    }

    /// Position of each token: the number of real tokens before it (`cumsum(mask) − 1`,
    /// clamped at 0) — correct for left and right padding alike.
    pub fn positions(&self) -> Vec<Vec<usize>> {
        self.rows_mask()
            .map(|row| {
                let mut seen = 0usize;
                row.iter()
                    .map(|&m| {
                        seen += m as usize;
                        seen.saturating_sub(1)
                    })
                    .collect()
            })
            .collect()
    }

    /// The mask as f32 (for device tensors).
    pub fn mask_f32(&self) -> Vec<f32> {
        self.mask.iter().map(|&m| m as f32).collect()
    }

    /// Real-token count per row.
    pub fn lengths(&self) -> Vec<usize> {
        self.rows_mask().map(|r| r.iter().map(|&m| m as usize).sum()).collect()
    }

    fn rows_mask(&self) -> impl Iterator<Item = &[u8]> {
        self.mask.chunks(self.seq.max(1))
    }

    /// Fails if any id is outside `0..vocab`.
    pub fn check_vocab(&self, vocab: usize) -> Result<()> {
        match self.ids.iter().position(|&i| i as usize >= vocab) {
            None => Ok(()),
            Some(p) => Err(ModelError::Input(format!("token id {} at row {}, column {} is outside the vocabulary of {vocab}", self.ids[p], p / self.seq, p % self.seq))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pads_both_sides_with_positions() {
        let b = TokenBatch::pad(&[vec![5, 6, 7], vec![8]], 0, PadSide::Left).unwrap();
        assert_eq!(b.ids, vec![5, 6, 7, 0, 0, 8]);
        assert_eq!(b.mask, vec![1, 1, 1, 0, 0, 1]);
        assert_eq!(b.positions(), vec![vec![0, 1, 2], vec![0, 0, 0]]);
        let r = TokenBatch::pad(&[vec![5, 6, 7], vec![8]], 0, PadSide::Right).unwrap();
        assert_eq!(r.ids, vec![5, 6, 7, 8, 0, 0]);
        assert_eq!(r.positions(), vec![vec![0, 1, 2], vec![0, 0, 0]]);
        assert_eq!(r.lengths(), vec![3, 1]);
        assert!(TokenBatch::pad(&[], 0, PadSide::Left).is_err());
        assert!(r.check_vocab(8).unwrap_err().to_string().contains("row 1, column 0"));
    }

    #[test]
    fn pads_to_a_multiple() {
        let seqs = [vec![5, 6, 7], vec![8]];
        assert_eq!(TokenBatch::pad_to_multiple(&seqs, 0, PadSide::Left, 1).unwrap(), TokenBatch::pad(&seqs, 0, PadSide::Left).unwrap());
        assert_eq!(TokenBatch::pad_to_multiple(&seqs, 0, PadSide::Left, 0).unwrap(), TokenBatch::pad(&seqs, 0, PadSide::Left).unwrap());
        let l = TokenBatch::pad_to_multiple(&seqs, 0, PadSide::Left, 4).unwrap();
        assert_eq!(l.seq, 4);
        assert_eq!(l.ids, vec![0, 5, 6, 7, 0, 0, 0, 8]);
        assert_eq!(l.positions(), vec![vec![0, 0, 1, 2], vec![0, 0, 0, 0]]);
        let r = TokenBatch::pad_to_multiple(&seqs, 0, PadSide::Right, 2).unwrap();
        assert_eq!(r.seq, 4);
        assert_eq!(r.mask, vec![1, 1, 1, 0, 1, 0, 0, 0]);
        assert_eq!(TokenBatch::pad_to_multiple(&[vec![1; 8]], 0, PadSide::Right, 4).unwrap().seq, 8);
    }
}
