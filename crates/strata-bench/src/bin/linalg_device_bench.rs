//! Randomized SVD on a burn device against a known ground truth.
//!
//! For each shape `m×n` and each k, builds `A = U diag(s) Vᵀ` on the device with random
//! orthonormal `U, V` and a chosen spectrum, so the exact top-k subspace `U[:, :k]` is known
//! without an SVD; then times `strata_linalg::randomized_svd` (steady state, after warm-up)
//! and reports sin θ_max between the computed and the true top-k left subspace.
//! `scripts/bench_linalg_torch.py` does the same with PyTorch on the same GPU.
//!
//! Spectra: `gap` — σ_i = 10^{-i/k} for i < k, then 10^{-3} (a clear gap after k);
//! `power` — σ_i = (1+i)^{-1/2} (slow decay, like pretrained weights; no gap).

use std::time::Instant;

use anyhow::{Context, Result, bail};
use burn::tensor::{Tensor, TensorData, backend::Backend};
use clap::Parser;
use strata_backend::{DeviceKind, with_backend};
use strata_linalg::{RandomizedSvd, random::gaussian, subspace_error, thin_qr};

#[derive(Parser, Debug)]
#[command(about = "Randomized SVD benchmark on a burn device (see module docs)")]
struct Args {
    /// Backend: ndarray, wgpu or cuda (must be compiled in).
    #[arg(long, default_value = "cuda")]
    device: String,
    /// Shapes as MxN, comma-separated.
    #[arg(long, default_value = "4096x4096,4096x11008")]
    shapes: String,
    /// Values of k, comma-separated.
    #[arg(long, default_value = "256,1024")]
    ks: String,
    /// Spectra to test: gap, power.
    #[arg(long, default_value = "gap,power")]
    spectra: String,
    /// Oversampling of the sketch.
    #[arg(long, default_value_t = 10)]
    oversample: usize,
    /// Power iterations.
    #[arg(long, default_value_t = 2)]
    power_iters: usize,
    /// Timed repetitions after two warm-up runs.
    #[arg(long, default_value_t = 3)]
    repeats: usize,
    /// Only check GEMM accuracy on small shapes in every orientation and policy, against a
    /// host f64 product (diagnoses layout bugs in device casts and kernels), then exit.
    #[arg(long)]
    check_gemm: bool,
    /// Only check `randomized_svd` stage by stage on small matrices with a known spectrum
    /// (σ_i = 0.7^i) against host f64 references, under the GEMM policy in force
    /// (`STRATA_GEMM_PRECISION`), then exit.
    #[arg(long)]
    check_rsvd: bool,
    /// Only check small op chains that adapters use (OA-Adapter's `W2 Γ W1 x`, a gated LoRA
    /// branch, an f64 matrix–vector product) as one device graph against the same chain
    /// with every intermediate copied through the host (which no fusion can span), then exit.
    #[arg(long)]
    check_fusion: bool,
}

/// Max relative error of `op(a)·op(b)` on the device under each policy, for small shapes
/// and the four orientations, against the same product on the host in f64.
fn check_gemm<B: Backend>(device: &B::Device, name: &str) {
    use strata_linalg::gemm::{GemmPrecision, matmul_with};
    let host = |t: &Tensor<B, 2>| -> (Vec<f64>, [usize; 2]) { (t.to_data().convert::<f64>().to_vec().expect("f64 data"), t.dims()) };
    // Odd inner and outer sizes first: the randomized SVD's sketches (k + oversample wide) are
    // odd, and the earlier run reached only the even shapes.
    for &(m, k, n) in &[(30usize, 30usize, 11usize), (30, 11, 30), (11, 30, 11), (30, 30, 30), (30, 30, 1), (30, 1, 30), (64, 48, 32), (100, 37, 7), (257, 129, 65)] {
        for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
            let a = if ta { gaussian::<B>(k, m, 11, device).transpose() } else { gaussian::<B>(m, k, 11, device) };
            let b = if tb { gaussian::<B>(n, k, 12, device).transpose() } else { gaussian::<B>(k, n, 12, device) };
            let ((ha, _), (hb, _)) = (host(&a), host(&b));
            let mut exact = vec![0f64; m * n];
            for i in 0..m {
                for j in 0..n {
                    exact[i * n + j] = (0..k).map(|l| ha[i * k + l] * hb[l * n + j]).sum();
                }
            }
            let scale = exact.iter().fold(0f64, |x, v| x.max(v.abs())).max(1e-30);
            // ndarray holds no bf16 tensors.
            let policies: &[GemmPrecision] = if name == "ndarray" { &[GemmPrecision::Native, GemmPrecision::F64] } else { &[GemmPrecision::Native, GemmPrecision::F64, GemmPrecision::Bf16x3] };
            for &policy in policies {
                let (got, dims) = host(&matmul_with(a.clone(), b.clone(), policy));
                let err = if dims == [m, n] { got.iter().zip(&exact).fold(0f64, |x, (g, e)| x.max((g - e).abs())) / scale } else { f64::INFINITY };
                println!("{{\"check\":\"gemm\",\"device\":\"{name}\",\"m\":{m},\"k\":{k},\"n\":{n},\"a_transposed\":{ta},\"b_transposed\":{tb},\"policy\":\"{policy:?}\",\"max_rel_err\":{err:.3e}}}");
            }
        }
    }
}

/// `randomized_svd` on `A = U diag(0.7^i) Vᵀ` (built on the host in f64, so the top-k
/// subspace is exact), stage by stage: the sketch `AΩ` against a host product, the thin QR of
/// the sketch against Householder on the host, and the final U, V subspace errors.
fn check_rsvd<B: Backend>(device: &B::Device, name: &str) -> Result<()> {
    use strata_linalg::faer::Mat;
    use strata_linalg::host::{from_host, to_host};
    use strata_linalg::random::gaussian_vec;
    use strata_linalg::{householder_qr_host, matmul};
    let policy = strata_linalg::GemmPrecision::for_backend::<B>(device);
    let host_orthonormal = |rows: usize, cols: usize, seed: u64| {
        let g = gaussian_vec(rows * cols, seed);
        householder_qr_host(Mat::from_fn(rows, cols, |i, j| g[i * cols + j] as f64).as_ref()).0
    };
    let max_diff = |x: &Mat<f64>, y: &Mat<f64>| {
        let scale = (0..y.nrows()).flat_map(|i| (0..y.ncols()).map(move |j| (i, j))).fold(0f64, |s, (i, j)| s.max(y[(i, j)].abs())).max(1e-30);
        (0..y.nrows()).flat_map(|i| (0..y.ncols()).map(move |j| (i, j))).fold(0f64, |s, (i, j)| s.max((x[(i, j)] - y[(i, j)]).abs())) / scale
    };
    for &(m, n) in &[(30usize, 30usize), (31, 45), (64, 48)] {
        let p = m.min(n);
        let (u, v) = (host_orthonormal(m, p, 3), host_orthonormal(n, p, 4));
        let a_host = Mat::from_fn(m, n, |i, j| (0..p).map(|r| u[(i, r)] * 0.7f64.powi(r as i32) * v[(j, r)]).sum::<f64>());
        let a = from_host::<B>(a_host.as_ref(), device);
        for k in [1usize, 3, 7] {
            let rsvd = RandomizedSvd { seed: 11, ..Default::default() };
            let l = (k + rsvd.oversample).min(m).min(n);
            let omega = gaussian::<B>(n, l, rsvd.seed, device);
            let sketch = to_host(&matmul(a.clone(), omega.clone()));
            let sketch_ref = &a_host * &to_host(&omega);
            let sketch_err = max_diff(&sketch, &sketch_ref);
            let qr = thin_qr(&from_host::<B>(sketch_ref.as_ref(), device))?;
            let q_ref = from_host::<B>(householder_qr_host(sketch_ref.as_ref()).0.as_ref(), device);
            let qr_err = subspace_error(&q_ref, &qr.q)?;
            let svd = rsvd.compute(&a, k)?;
            let u_err = subspace_error(&from_host::<B>(u.as_ref().subcols(0, k), device), &svd.u)?;
            let v_err = subspace_error(&from_host::<B>(v.as_ref().subcols(0, k), device), &svd.v)?;
            let s_err = (0..k).fold(0f64, |e, i| e.max((svd.s[i] - 0.7f64.powi(i as i32)).abs()));
            println!(
                "{{\"check\":\"rsvd\",\"device\":\"{name}\",\"policy\":\"{policy:?}\",\"m\":{m},\"n\":{n},\"k\":{k},\"sketch_rel_err\":{sketch_err:.3e},\"qr_path\":\"{:?}\",\"qr_subspace_sin\":{qr_err:.3e},\"u_sin\":{u_err:.3e},\"v_sin\":{v_err:.3e},\"sigma_abs_err\":{s_err:.3e}}}",
                qr.path
            );
        }
    }
    Ok(())
}

/// See `Args::check_fusion`.
fn check_fusion<B: Backend>(device: &B::Device, name: &str) {
    use burn::tensor::activation::relu;
    // A fusion barrier: the value through host memory.
    let cut = |t: Tensor<B, 2>| Tensor::<B, 2>::from_data(t.into_data(), device);
    let err = |x: Tensor<B, 2>, y: Tensor<B, 2>| -> f64 {
        let (x, y): (Vec<f32>, Vec<f32>) = (x.into_data().to_vec().expect("f32"), y.into_data().to_vec().expect("f32"));
        let scale = y.iter().fold(0f32, |m, v| m.max(v.abs())).max(1e-30);
        (x.iter().zip(&y).fold(0f32, |m, (a, b)| m.max((a - b).abs())) / scale) as f64
    };
    let (d, r) = (576usize, 16usize);
    for (batch, seq) in [(100usize, 1usize), (16, 128)] {
        let n = batch * seq;
        let x = gaussian::<B>(n, d, 21, device);
        let w1 = gaussian::<B>(d, r, 22, device);
        let w2 = gaussian::<B>(r, d, 23, device);
        let g = gaussian::<B>(1, r, 24, device);
        let tau = Tensor::<B, 2>::from_floats([[0.3f32]], device);
        // OA-Adapter: x + ((x W1) * γ) W2, γ = sign(g)·relu(|g| − τ).
        let gamma = g.clone().sign() * relu(g.clone().abs() - tau.clone());
        let fused = x.clone() + (x.clone().matmul(w1.clone()) * gamma).matmul(w2.clone());
        let gamma_h = cut(cut(g.clone().sign()) * cut(relu(cut(g.abs()) - tau)));
        let h = cut(cut(x.clone().matmul(w1)) * gamma_h);
        let staged = x.clone() + cut(h.matmul(w2));
        println!("{{\"check\":\"fusion\",\"device\":\"{name}\",\"chain\":\"oa_adapter\",\"rows\":{n},\"max_rel_err\":{:.3e}}}", err(fused, staged));
        // Gated LoRA branch: x W + gate ⊙ (x A B) · s, one gate per sequence.
        let w = gaussian::<B>(d, d, 25, device);
        let (a, bm) = (gaussian::<B>(d, 8, 26, device), gaussian::<B>(8, d, 27, device));
        let gate = gaussian::<B>(batch, 1, 28, device).abs();
        let gate_rows = |gt: Tensor<B, 2>| gt.reshape([batch, 1, 1]).expand([batch, seq, 1]).reshape([n, 1]);
        let fused = x.clone().matmul(w.clone()) + x.clone().matmul(a.clone()).matmul(bm.clone()) * 4.0 * gate_rows(gate.clone());
        let staged = cut(x.clone().matmul(w)) + cut(cut(cut(x.clone().matmul(a)).matmul(bm)) * 4.0) * cut(gate_rows(gate));
        println!("{{\"check\":\"fusion\",\"device\":\"{name}\",\"chain\":\"gated_lora\",\"rows\":{n},\"max_rel_err\":{:.3e}}}", err(fused, staged));
    }
    // The raw f64 matrix–vector product (strata_linalg::matmul now avoids it), b from the host.
    for (m, k) in [(30usize, 11usize), (30, 30), (64, 11)] {
        let a = gaussian::<B>(m, k, 29, device);
        let b = cut(gaussian::<B>(k, 1, 30, device));
        let raw = a.clone().cast(burn::tensor::FloatDType::F64).matmul(b.clone().cast(burn::tensor::FloatDType::F64)).cast(burn::tensor::FloatDType::F32);
        let reference = strata_linalg::gemm::matmul_with(cut(a), b, strata_linalg::GemmPrecision::F64);
        println!("{{\"check\":\"fusion\",\"device\":\"{name}\",\"chain\":\"f64_matvec_{m}x{k}\",\"rows\":{m},\"max_rel_err\":{:.3e}}}", err(raw, reference));
    }
}

fn spectrum(kind: &str, p: usize, k: usize) -> Result<Vec<f32>> {
    Ok(match kind {
        "gap" => (0..p).map(|i| if i < k { 10f32.powf(-(i as f32) / k as f32) } else { 1e-3 }).collect(),
        "power" => (0..p).map(|i| (1.0 + i as f32).powf(-0.5)).collect(),
        other => bail!("unknown spectrum `{other}` (gap, power)"),
    })
}

fn run<B: Backend>(args: &Args, device: B::Device, name: &str) -> Result<()> {
    if args.check_rsvd {
        check_rsvd::<B>(&device, name)?;
    }
    if args.check_gemm {
        check_gemm::<B>(&device, name);
    }
    if args.check_fusion {
        check_fusion::<B>(&device, name);
    }
    if args.check_rsvd || args.check_gemm || args.check_fusion {
        return Ok(());
    }
    let shapes: Vec<(usize, usize)> = args
        .shapes
        .split(',')
        .map(|s| {
            let (m, n) = s.split_once('x').context("shape must be MxN")?;
            Ok((m.trim().parse()?, n.trim().parse()?))
        })
        .collect::<Result<_>>()?;
    let ks: Vec<usize> = args.ks.split(',').map(|k| k.trim().parse()).collect::<Result<_, _>>()?;
    for &(m, n) in &shapes {
        let p = m.min(n);
        let t0 = Instant::now();
        let gu = gaussian::<B>(m, p, 1, &device);
        let gv = gaussian::<B>(n, p, 2, &device);
        B::sync(&device).ok();
        eprintln!("# gaussians {m}x{p}, {n}x{p}: {:.2}s", t0.elapsed().as_secs_f64());
        gemm_microbench::<B>(&gu, &gv);
        let t0 = Instant::now();
        let qr = thin_qr(&gu)?;
        B::sync(&device).ok();
        eprintln!("# thin_qr {m}x{p}: {:.2}s ({:?})", t0.elapsed().as_secs_f64(), qr.path);
        let t0 = Instant::now();
        let (u, v) = (qr.q, thin_qr(&gv)?.q);
        B::sync(&device).ok();
        eprintln!("# thin_qr {n}x{p}: {:.2}s", t0.elapsed().as_secs_f64());
        for spec in args.spectra.split(',') {
            for &k in &ks {
                let s = spectrum(spec, p, k)?;
                let s_t = Tensor::<B, 2>::from_data(TensorData::new(s, [1, p]), &device);
                // Accurate GEMM: a TF32 product would perturb A's singular vectors by ~1e-3.
                let a = strata_linalg::matmul(u.clone() * s_t, v.clone().transpose());
                let truth = u.clone().slice([0..m, 0..k]);
                let rsvd = RandomizedSvd { oversample: args.oversample, power_iters: args.power_iters, seed: 7 };
                let mut times = Vec::new();
                let mut err = f64::NAN;
                eprintln!("# {m}x{n} {spec} k={k}: warming up (autotune sees new shapes)");
                for rep in 0..args.repeats + 2 {
                    B::sync(&device).ok();
                    let t = Instant::now();
                    let svd = rsvd.compute(&a, k)?;
                    B::sync(&device).ok();
                    let dt = t.elapsed().as_secs_f64();
                    if rep >= 2 {
                        times.push(dt);
                    }
                    if rep == 0 {
                        let t_err = Instant::now();
                        err = subspace_error(&truth, &svd.u)?;
                        eprintln!("#   first run {dt:.2}s, subspace error {err:.2e} (checked in {:.1}s)", t_err.elapsed().as_secs_f64());
                    }
                }
                times.sort_by(f64::total_cmp);
                println!(
                    "{{\"impl\":\"strata randomized_svd\",\"device\":\"{name}\",\"m\":{m},\"n\":{n},\"k\":{k},\"spectrum\":\"{spec}\",\"oversample\":{},\"power_iters\":{},\"median_s\":{:.5},\"min_s\":{:.5},\"subspace_sin\":{:.3e}}}",
                    args.oversample, args.power_iters, times[times.len() / 2], times[0], err
                );
            }
        }
    }
    Ok(())
}

/// Times `GᵀG` (a Gram matrix, the core product of thin_qr) under every GEMM policy.
fn gemm_microbench<B: Backend>(a: &Tensor<B, 2>, b: &Tensor<B, 2>) {
    use strata_linalg::gemm::{GemmPrecision, matmul_with};
    let device = a.device();
    let [m, p] = a.dims();
    let _ = b;
    for policy in [GemmPrecision::Native, GemmPrecision::Bf16x3, GemmPrecision::F64] {
        let mut best = f64::INFINITY;
        let mut first = 0.0;
        for rep in 0..4 {
            B::sync(&device).ok();
            let t = Instant::now();
            let g = matmul_with(a.clone().transpose(), a.clone(), policy);
            B::sync(&device).ok();
            let dt = t.elapsed().as_secs_f64();
            drop(g);
            if rep == 0 { first = dt } else { best = best.min(dt) }
        }
        let tflops = 2.0 * (m * p * p) as f64 / best / 1e12;
        eprintln!("# GEMM {p}x{m}·{m}x{p} {policy:?}: first call {first:.2}s, best {:.2} ms ({tflops:.1} TFLOP/s)", best * 1e3);
    }
}

fn main() -> Result<()> {
    let args = Args::parse();
    let kind: DeviceKind = args.device.parse()?;
    let kind = kind.ensure_compiled()?;
    with_backend!(kind, |B, device| run::<B>(&args, device, &kind.to_string()), else |k| bail!("backend {k} not compiled"))
}
