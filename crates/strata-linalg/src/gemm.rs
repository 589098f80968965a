//! f32-accurate matrix products, also on GPUs whose f32 GEMM runs on TF32 tensor cores.
//!
//! burn's CUDA backend autotunes f32 matmuls onto tensor-core kernels that round the inputs
//! to TF32 (11 significant bits, unit roundoff ≈ 4.9e-4), so a Gram matrix `AᵀA` is only
//! ~1e-3 accurate — too little for CholeskyQR, projections or GPM energies. [`matmul`]
//! restores f32 accuracy by splitting each operand into three pieces that TF32 holds exactly:
//! `x = x₁ + x₂ + x₃`, `x₁ = bf16(x)`, `x₂ = bf16(x − x₁)`, `x₃ = x − x₁ − x₂` (8 + 8 + 8 bits,
//! each exact in TF32's 11), and keeping the six products down to ~2⁻²⁴ relative:
//! `AB ≈ A₁B₁ + (A₁B₂ + A₂B₁) + (A₂B₂ + A₁B₃ + A₃B₁)`. The pieces come from rounding
//! conversions, which a GPU compiler cannot contract into FMAs (unlike a Veltkamp split
//! `c − (c − x)`, which NVRTC's default `--fmad=true` may silently undo inside fused kernels).
//!
//! Measured on an H100 (docs/benchmarks.md, 2026-11-22): burn's kernel fusion does not keep
//! the `f32 → bf16 → f32` round trip (thin QR of a 4096² Gaussian fell back to Householder
//! with the split, while f64 products kept CholeskyQR2), so the GPU default is
//! [`GemmPrecision::F64`]: exact, ~100× slower than a TF32 GEMM on cubecl, still fast
//! enough for linalg-sized products. `Bf16x3` stays available for backends that honour casts.

use burn::tensor::{DType, FloatDType, Tensor, backend::Backend};

/// How [`matmul`] multiplies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GemmPrecision {
    /// One native GEMM (the backend's f32 GEMM is exact f32, e.g. ndarray on the CPU).
    Native,
    /// Six GEMMs on bf16-exact operand pieces (needs a backend whose fusion keeps casts).
    Bf16x3,
    /// One GEMM in f64 on f64 copies of the operands (the GPU default; exact, slow on cubecl).
    F64,
}

impl GemmPrecision {
    /// The policy for a backend: `STRATA_GEMM_PRECISION=native|split|f64` if set; otherwise
    /// native on CPU backends (ndarray, flex, candle-cpu) and f64 elsewhere.
    pub fn for_backend<B: Backend>(device: &B::Device) -> Self {
        match std::env::var("STRATA_GEMM_PRECISION").as_deref() {
            Ok("native") => return Self::Native,
            Ok("split") => return Self::Bf16x3,
            Ok("f64") => return Self::F64,
            _ => {}
        }
        let name = B::name(device).to_ascii_lowercase();
        if ["ndarray", "flex", "cpu"].iter().any(|cpu| name.contains(cpu)) { Self::Native } else { Self::F64 }
    }
}

/// `x = x₁ + x₂ + x₃` with every piece holding at most 8 significant bits (bf16-exact).
pub fn split_bf16x3<B: Backend, const D: usize>(x: Tensor<B, D>) -> [Tensor<B, D>; 3] {
    let round = |t: Tensor<B, D>| t.cast(FloatDType::BF16).cast(FloatDType::F32);
    let x1 = round(x.clone());
    let r = x - x1.clone();
    let x2 = round(r.clone());
    let x3 = r - x2.clone();
    [x1, x2, x3]
}

/// `a·b` with the given precision policy.
pub fn matmul_with<B: Backend>(a: Tensor<B, 2>, b: Tensor<B, 2>, precision: GemmPrecision) -> Tensor<B, 2> {
    if precision == GemmPrecision::Native || a.dtype() != DType::F32 {
        return a.matmul(b);
    }
    if precision == GemmPrecision::F64 {
        let (a, b) = (a.cast(FloatDType::F64), b.cast(FloatDType::F64));
        let ([m, _], [_, n]) = (a.dims(), b.dims());
        // Matrix–vector products as broadcast multiply + row sums: the f64 GEMM kernel with a
        // unit output dimension returned wrong values on CUDA (randomized SVD at k = 1,
        // docs/benchmarks.md), and a product with a vector is memory-bound anyway.
        let c = if n == 1 {
            (a * b.transpose()).sum_dim(1)
        } else if m == 1 {
            (a.transpose() * b).sum_dim(0)
        } else {
            a.matmul(b)
        };
        return c.cast(FloatDType::F32);
    }
    let [a1, a2, a3] = split_bf16x3(a);
    let [b1, b2, b3] = split_bf16x3(b);
    // Smallest terms first.
    let small = a2.clone().matmul(b2.clone()) + a1.clone().matmul(b3) + a3.matmul(b1.clone());
    let middle = a1.clone().matmul(b2) + a2.matmul(b1.clone());
    a1.matmul(b1) + (middle + small)
}

/// `a·b` in f32 accuracy on every backend (see the module docs).
pub fn matmul<B: Backend>(a: Tensor<B, 2>, b: Tensor<B, 2>) -> Tensor<B, 2> {
    let precision = GemmPrecision::for_backend::<B>(&a.device());
    matmul_with(a, b, precision)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rounds to `bits` significant bits (round to nearest), emulating a low-precision operand.
    fn round_bits(x: f64, bits: i32) -> f64 {
        if x == 0.0 {
            return 0.0;
        }
        let e = x.abs().log2().floor() as i32;
        let scale = 2f64.powi(bits - 1 - e);
        (x * scale).round() / scale
    }

    #[test]
    fn bf16x3_products_reach_f32_accuracy_under_emulated_tf32() {
        let a: Vec<f32> = crate::random::gaussian_vec(64 * 48, 1);
        let b: Vec<f32> = crate::random::gaussian_vec(48 * 32, 2);
        let split = |x: f32| {
            let x1 = half::bf16::from_f32(x).to_f32();
            let r = x - x1;
            let x2 = half::bf16::from_f32(r).to_f32();
            [x1, x2, r - x2]
        };
        let (mut err_naive, mut err_split, mut scale): (f64, f64, f64) = (0.0, 0.0, 0.0);
        for i in 0..64 {
            for j in 0..32 {
                let (mut exact, mut naive, mut sum) = (0.0f64, 0.0f64, 0.0f64);
                for k in 0..48 {
                    let (x, y) = (a[i * 48 + k], b[k * 32 + j]);
                    exact += x as f64 * y as f64;
                    naive += round_bits(x as f64, 11) * round_bits(y as f64, 11);
                    let (xs, ys) = (split(x), split(y));
                    assert_eq!(xs[0] + xs[1] + xs[2], x, "split must be exact");
                    for p in xs.iter().chain(&ys) {
                        assert_eq!(round_bits(*p as f64, 11), *p as f64, "piece {p} is not TF32-exact");
                    }
                    let t = |u: usize, v: usize| xs[u] as f64 * ys[v] as f64;
                    sum += t(0, 0) + t(0, 1) + t(1, 0) + t(1, 1) + t(0, 2) + t(2, 0);
                }
                scale = scale.max(exact.abs());
                err_naive = err_naive.max((naive - exact).abs());
                err_split = err_split.max((sum - exact).abs());
            }
        }
        assert!(err_naive / scale > 1e-4, "TF32 emulation should lose accuracy: {}", err_naive / scale);
        assert!(err_split / scale < 1e-6, "split product error {}", err_split / scale);
    }

    #[test]
    fn every_policy_agrees_on_the_cpu() {
        type B = burn::backend::NdArray<f32>;
        let device = Default::default();
        // General shapes and the matrix–vector special cases (n = 1, m = 1, both).
        for (m, k, n) in [(40, 30, 20), (30, 11, 1), (1, 11, 30), (1, 7, 1)] {
            let a = crate::random::gaussian::<B>(m, k, 3, &device);
            let b = crate::random::gaussian::<B>(k, n, 4, &device);
            let base: Vec<f32> = matmul_with(a.clone(), b.clone(), GemmPrecision::Native).into_data().iter::<f32>().collect();
            // ndarray holds no bf16 tensors: Bf16x3 is checked by the emulation test above and on GPUs.
            for p in [GemmPrecision::F64] {
                let c = matmul_with(a.clone(), b.clone(), p);
                assert_eq!(c.dims(), [m, n]);
                let got: Vec<f32> = c.into_data().iter::<f32>().collect();
                let err = got.iter().zip(&base).fold(0f32, |m, (x, y)| m.max((x - y).abs()));
                assert!(err < 1e-4, "{p:?} {m}x{k}x{n}: {err}");
            }
        }
    }
}
