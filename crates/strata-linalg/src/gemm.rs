//! f32-accurate matrix products, also on GPUs whose f32 GEMM runs on TF32 tensor cores.
//!
//! burn's CUDA backend autotunes f32 matmuls onto tensor-core kernels that round the inputs
//! to TF32 (11 significant bits, unit roundoff ≈ 4.9e-4), so a Gram matrix `AᵀA` is only
//! ~1e-3 accurate — too little for CholeskyQR, projections or GPM energies. [`matmul`]
//! restores f32 accuracy with the "3×TF32" split: each operand is split exactly as
//! `x = hi + lo` (Veltkamp: `c = (2¹³+1)·x`, `hi = c − (c − x)`, 11 bits in `hi`, `lo = x − hi`),
//! and `AB ≈ hi_A·hi_B + hi_A·lo_B + lo_A·hi_B` (the dropped `lo·lo` term is ~2⁻²⁴ relative).
//! Three GEMMs instead of one, only where the backend needs it.
//!
//! The split relies on `c − (c − x)` being evaluated exactly as written; a GPU compiler that
//! contracts it into a fused multiply-add breaks it. The default on GPUs is therefore
//! [`GemmPrecision::F64`]: operands cast to f64, one f64 GEMM (no tensor-core rounding),
//! the result cast back — exact to f32 and, at the sizes linalg uses, cheap.

use burn::tensor::{DType, FloatDType, Tensor, backend::Backend};

/// How [`matmul`] multiplies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GemmPrecision {
    /// One native GEMM (the backend's f32 GEMM is exact f32, e.g. ndarray on the CPU).
    Native,
    /// Three GEMMs on Veltkamp-split operands.
    SplitTf32,
    /// One GEMM in f64 on f64 copies of the operands (the GPU default).
    F64,
}

/// Veltkamp's splitting constant for binary32 → 11 + 13 bits: `2¹³ + 1`.
const VELTKAMP: f64 = 8193.0;

impl GemmPrecision {
    /// The policy for a backend: `STRATA_GEMM_PRECISION=native|split|f64` if set; otherwise
    /// native on CPU backends (ndarray, flex, candle-cpu) and f64 elsewhere.
    pub fn for_backend<B: Backend>(device: &B::Device) -> Self {
        match std::env::var("STRATA_GEMM_PRECISION").as_deref() {
            Ok("native") => return Self::Native,
            Ok("split") => return Self::SplitTf32,
            Ok("f64") => return Self::F64,
            _ => {}
        }
        let name = B::name(device).to_ascii_lowercase();
        if ["ndarray", "flex", "cpu"].iter().any(|cpu| name.contains(cpu)) { Self::Native } else { Self::F64 }
    }
}

/// Splits `x = hi + lo` exactly, `hi` with at most 11 significant bits (TF32-representable).
pub fn split_tf32<B: Backend, const D: usize>(x: Tensor<B, D>) -> (Tensor<B, D>, Tensor<B, D>) {
    let c = x.clone() * VELTKAMP;
    let hi = c.clone() - (c - x.clone());
    let lo = x - hi.clone();
    (hi, lo)
}

/// `a·b` with the given precision policy.
pub fn matmul_with<B: Backend>(a: Tensor<B, 2>, b: Tensor<B, 2>, precision: GemmPrecision) -> Tensor<B, 2> {
    if precision == GemmPrecision::Native || a.dtype() != DType::F32 {
        return a.matmul(b);
    }
    if precision == GemmPrecision::F64 {
        return a.cast(FloatDType::F64).matmul(b.cast(FloatDType::F64)).cast(FloatDType::F32);
    }
    let (ah, al) = split_tf32(a);
    let (bh, bl) = split_tf32(b);
    let small = ah.clone().matmul(bl) + al.matmul(bh.clone());
    ah.matmul(bh) + small
}

/// `a·b` in f32 accuracy on every backend (see the module docs).
pub fn matmul<B: Backend>(a: Tensor<B, 2>, b: Tensor<B, 2>) -> Tensor<B, 2> {
    let precision = GemmPrecision::for_backend::<B>(&a.device());
    matmul_with(a, b, precision)
}

#[cfg(test)]
mod tests {
    /// Rounds to `bits` significant bits (round to nearest), emulating a TF32 operand.
    fn round_bits(x: f32, bits: i32) -> f64 {
        if x == 0.0 {
            return 0.0;
        }
        let e = (x.abs() as f64).log2().floor() as i32;
        let scale = 2f64.powi(bits - 1 - e);
        (x as f64 * scale).round() / scale
    }

    /// The split in f32 arithmetic, as the device computes it.
    fn split(x: f32) -> (f32, f32) {
        let c = x * 8193.0;
        let hi = c - (c - x);
        (hi, x - hi)
    }

    #[test]
    fn split_products_reach_f32_accuracy_under_emulated_tf32() {
        let a: Vec<f32> = crate::random::gaussian_vec(64 * 48, 1);
        let b: Vec<f32> = crate::random::gaussian_vec(48 * 32, 2);
        let (mut err_naive, mut err_split, mut scale): (f64, f64, f64) = (0.0, 0.0, 0.0);
        for i in 0..64 {
            for j in 0..32 {
                let (mut exact, mut naive, mut split_sum) = (0.0f64, 0.0f64, 0.0f64);
                for k in 0..48 {
                    let (x, y) = (a[i * 48 + k], b[k * 32 + j]);
                    exact += x as f64 * y as f64;
                    naive += round_bits(x, 11) * round_bits(y, 11);
                    let ((xh, xl), (yh, yl)) = (split(x), split(y));
                    // hi parts must already be TF32-exact; lo parts get rounded by the hardware.
                    assert_eq!(round_bits(xh, 11), xh as f64);
                    assert_eq!(xh + xl, x, "split must be exact");
                    split_sum += xh as f64 * yh as f64 + xh as f64 * round_bits(yl, 11) + round_bits(xl, 11) * yh as f64;
                }
                scale = scale.max(exact.abs());
                err_naive = err_naive.max((naive - exact).abs());
                err_split = err_split.max((split_sum - exact).abs());
            }
        }
        assert!(err_naive / scale > 1e-4, "TF32 emulation should lose accuracy: {}", err_naive / scale);
        assert!(err_split / scale < 1e-6, "split product error {}", err_split / scale);
    }
}
