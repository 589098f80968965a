//! Tests of the GGUF module: quant layouts and round trips, reader/writer, error cases, and
//! the real-file checks gated on `STRATA_TINY_GGUF` / `STRATA_SMOLLM2_GGUF`.

mod file;
mod quant;
mod real_files;

/// Deterministic 64-bit LCG (Knuth's MMIX constants), mirrored by the Python scripts that
/// produced the gguf-py reference values in `quant.rs`.
pub(super) struct Lcg(pub u64);

impl Lcg {
    pub fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0
    }
    pub fn byte(&mut self) -> u8 {
        (self.next() >> 33) as u8
    }
    /// Uniform in [-1, 1) on a 2^-23 grid (exact in f32).
    pub fn unit(&mut self) -> f32 {
        (self.next() >> 40) as f32 / (1u32 << 23) as f32 - 1.0
    }
}
