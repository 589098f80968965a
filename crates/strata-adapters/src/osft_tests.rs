//! OSFT through the seam: [`AdaptedLinear::factorize`] / [`AdaptedLinear::fold`], gradients
//! reaching the low part, and optimizer steps that stay orthogonal to the frozen subspaces.

use std::time::Instant;

use burn::optim::{AdamWConfig, GradientsParams, Optimizer, SgdConfig};
use burn::tensor::Tensor;
use burn::tensor::backend::Backend;
use strata_linalg::host::to_host;
use strata_linalg::random::gaussian;

use crate::{AdaptedLinear, AdapterContext, LoraConfig, OsftForward, SvdFactors};

type Inner = burn::backend::NdArray<f32>;
type B = burn::backend::Autodiff<Inner>;

const D_IN: usize = 24;
const D_OUT: usize = 40;
const K: usize = 8;

fn layer(seed: u64) -> AdaptedLinear<B> {
    let device = Default::default();
    let w = gaussian::<B>(D_IN, D_OUT, seed, &device) * 0.2;
    let b = gaussian::<B>(1, D_OUT, seed + 1, &device).reshape([D_OUT]);
    AdaptedLinear::new(w, Some(b))
}

fn input() -> Tensor<B, 3> {
    gaussian::<B>(10, D_IN, 11, &Default::default()).reshape([2, 5, D_IN])
}

fn loss(layer: &AdaptedLinear<B>) -> Tensor<B, 1> {
    let target = gaussian::<B>(10, D_OUT, 12, &Default::default()).reshape([2, 5, D_OUT]);
    (layer.forward(input(), &AdapterContext::none()) - target).powi_scalar(2).mean()
}

fn values<Bk: Backend, const D: usize>(t: Tensor<Bk, D>) -> Vec<f64> {
    t.into_data().iter::<f64>().collect()
}

fn rel_err<Bk: Backend, const D: usize>(a: Tensor<Bk, D>, b: Tensor<Bk, D>) -> f64 {
    let (a, b) = (values(a), values(b));
    let diff: f64 = a.iter().zip(&b).map(|(x, y)| (x - y) * (x - y)).sum();
    (diff / b.iter().map(|y| y * y).sum::<f64>()).sqrt()
}

fn norm(v: &[f64]) -> f64 {
    v.iter().map(|x| x * x).sum::<f64>().sqrt()
}

/// `W = U_h Σ_h V_hᵀ + U_l Σ_l V_lᵀ` in PyTorch orientation `[d_out][d_in]`, in f64 from the
/// f32 factors (so `ΔW` carries no f32 cancellation noise).
fn w_pytorch(f: &SvdFactors<B>) -> Vec<Vec<f64>> {
    let mut w = vec![vec![0.0; f.d_in()]; f.d_out()];
    for part in f.parts() {
        let (u, s, v) = (to_host(&part.u.val()), values(part.s.val()), to_host(&part.v.val()));
        for (i, row) in w.iter_mut().enumerate() {
            for (j, x) in row.iter_mut().enumerate() {
                *x += (0..s.len()).map(|r| u[(i, r)] * s[r] * v[(j, r)]).sum::<f64>();
            }
        }
    }
    w
}

/// `(‖U_hᵀ ΔW‖_F / ‖ΔW‖_F, ‖ΔW V_h‖_F / ‖ΔW‖_F)` with `ΔW: d_out×d_in`, `U_h: d_out×k`,
/// `V_h: d_in×k`.
fn leak_ratios(before: &[Vec<f64>], after: &[Vec<f64>], f: &SvdFactors<B>) -> (f64, f64) {
    let high = f.high.as_ref().expect("a frozen part");
    let (u_h, v_h) = (to_host(&high.u.val()), to_host(&high.v.val()));
    let (d_out, d_in, k) = (f.d_out(), f.d_in(), f.rank_high());
    let dw = |i: usize, j: usize| after[i][j] - before[i][j];
    let all: Vec<f64> = (0..d_out).flat_map(|i| (0..d_in).map(move |j| (i, j))).map(|(i, j)| dw(i, j)).collect();
    let left: Vec<f64> = (0..k).flat_map(|a| (0..d_in).map(move |j| (a, j))).map(|(a, j)| (0..d_out).map(|i| u_h[(i, a)] * dw(i, j)).sum()).collect();
    let right: Vec<f64> = (0..d_out).flat_map(|i| (0..k).map(move |b| (i, b))).map(|(i, b)| (0..d_in).map(|j| dw(i, j) * v_h[(j, b)]).sum()).collect();
    let n = norm(&all);
    assert!(n > 1e-3, "the step must change W (‖ΔW‖ = {n})");
    let w = norm(&after.concat());
    eprintln!("‖ΔW‖/‖W‖ = {:.2e}, ‖U_hᵀΔW‖/‖ΔW‖ = {:.2e}, ‖ΔW V_h‖/‖ΔW‖ = {:.2e}", n / w, norm(&left) / n, norm(&right) / n);
    (norm(&left) / n, norm(&right) / n)
}

/// `steps` optimizer steps on the factored layer; returns the leak ratios of the total `ΔW`.
fn train<O: Optimizer<AdaptedLinear<B>, B>>(mut optim: O, lr: f64, steps: usize, project: bool, reproject: bool) -> (f64, f64) {
    let mut layer = layer(3);
    layer.factorize(K, OsftForward::Rebuild).unwrap();
    let frozen_before = layer.factored.as_ref().map(|f| values(f.high.as_ref().unwrap().u.val())).unwrap();
    let before = w_pytorch(layer.factored.as_ref().unwrap());
    for _ in 0..steps {
        let mut grads = GradientsParams::from_grads(loss(&layer).backward(), &layer);
        if project {
            layer.factored.as_ref().unwrap().project_gradients(&mut grads).unwrap();
        }
        layer = optim.step(lr, layer, grads);
        if reproject {
            layer.factored.as_mut().unwrap().reproject().unwrap();
        }
    }
    let f = layer.factored.as_ref().unwrap();
    assert_eq!(values(f.high.as_ref().unwrap().u.val()), frozen_before, "the optimizer must not touch the frozen part");
    leak_ratios(&before, &w_pytorch(f), f)
}

#[test]
fn factorized_forward_equals_dense_with_bias_and_lora() {
    let device = Default::default();
    let mut dense = layer(1);
    let mut branch = LoraConfig::new().with_rank(4).with_dropout(0.0).init::<B>(D_IN, D_OUT, &device);
    branch.b = branch.b.map(|_| gaussian::<B>(4, D_OUT, 9, &device).require_grad());
    dense.lora.push(branch);
    let expected = dense.forward(input(), &AdapterContext::none());
    for mode in [OsftForward::Rebuild, OsftForward::Factored] {
        let mut f = dense.clone();
        f.factorize(K, mode).unwrap();
        assert!(!f.weight.is_require_grad());
        let got = f.forward(input(), &AdapterContext::none());
        let err = rel_err(got.reshape([10, D_OUT]), expected.clone().reshape([10, D_OUT]));
        assert!(err <= 1e-5, "{mode:?}: {err}");
    }
}

#[test]
fn low_part_receives_gradients_through_the_layer() {
    for mode in [OsftForward::Rebuild, OsftForward::Factored] {
        let mut layer = layer(2);
        layer.factorize(K, mode).unwrap();
        let grads = GradientsParams::from_grads(loss(&layer).backward(), &layer);
        let f = layer.factored.as_ref().unwrap();
        let (high, low) = (f.high.as_ref().unwrap(), f.low.as_ref().unwrap());
        for (name, g) in [("u_l", grads.get::<Inner, 2>(low.u.id).map(values)), ("v_l", grads.get::<Inner, 2>(low.v.id).map(values)), ("s_l", grads.get::<Inner, 1>(low.s.id).map(values))] {
            let g = g.unwrap_or_else(|| panic!("{mode:?}: no gradient for {name}"));
            assert!(norm(&g) > 1e-6, "{mode:?}: zero gradient for {name}");
        }
        assert!(grads.get::<Inner, 2>(high.u.id).is_none() && grads.get::<Inner, 1>(high.s.id).is_none() && grads.get::<Inner, 2>(high.v.id).is_none());
        assert!(grads.get::<Inner, 2>(layer.weight.id).is_none(), "the stale dense weight must be frozen");
        assert!(grads.get::<Inner, 1>(layer.bias.as_ref().unwrap().id).is_some());
    }
}

#[test]
fn projected_sgd_steps_stay_orthogonal_to_the_frozen_subspaces() {
    for steps in [1, 3] {
        let (left, right) = train(SgdConfig::new().init(), 0.5, steps, true, false);
        assert!(left <= 1e-5 && right <= 1e-5, "projected, {steps} step(s): {left:.2e} {right:.2e}");
    }
    let (left, right) = train(SgdConfig::new().init(), 0.5, 1, false, false);
    assert!(left > 1e-2 && right > 1e-2, "unprojected should leak: {left:.2e} {right:.2e}");
}

#[test]
fn adamw_steps_with_reprojection_stay_orthogonal() {
    let adamw = || AdamWConfig::new().with_weight_decay(0.01).init();
    for steps in [1, 3] {
        let (left, right) = train(adamw(), 1e-2, steps, true, true);
        assert!(left <= 1e-5 && right <= 1e-5, "projected + re-projected, {steps} step(s): {left:.2e} {right:.2e}");
    }
    // Adam's per-element scaling turns a projected gradient into a step that leaks.
    let (left, right) = train(adamw(), 1e-2, 1, true, false);
    assert!(left > 1e-2 && right > 1e-2, "without re-projection Adam should leak: {left:.2e} {right:.2e}");
}

#[test]
fn fold_recovers_the_weight_and_refactorizes() {
    let mut layer = layer(4);
    let original = layer.weight.val();
    layer.fold(); // dense: no-op
    layer.factorize(K, OsftForward::Factored).unwrap();
    layer.fold();
    assert!(layer.factored.is_none() && layer.weight.is_require_grad());
    assert!(rel_err(layer.weight.val(), original.clone()) <= 1e-5);
    // Train the low part, fold: the dense weight is the trained one; factorize again with a
    // larger frozen rank (the next task).
    layer.factorize(K, OsftForward::Rebuild).unwrap();
    let id = layer.weight.id;
    let grads = GradientsParams::from_grads(loss(&layer).backward(), &layer);
    let mut layer = SgdConfig::new().init().step(0.5, layer, grads);
    let trained = layer.effective_weight();
    assert!(rel_err(trained.clone(), original) > 1e-3);
    layer.fold();
    assert_eq!(layer.weight.id, id);
    assert!(rel_err(layer.weight.val(), trained.clone()) <= 1e-6);
    layer.factorize(2 * K, OsftForward::Rebuild).unwrap();
    assert_eq!(layer.factored.as_ref().map(|f| f.rank_high()), Some(2 * K));
    assert!(rel_err(layer.effective_weight(), trained) <= 1e-5);
    assert!(layer.factorize(D_IN + 1, OsftForward::Rebuild).is_err());
    assert!(layer.factored.is_none(), "a failed factorize leaves the layer dense");
}

/// Rebuild vs Factored forward (and forward + backward) on this machine's CPU (ndarray).
/// `cargo test -p strata-adapters --lib osft_forward_timings -- --ignored --nocapture`
#[test]
#[ignore]
fn osft_forward_timings() {
    // Best of `reps` (ms): the machine is shared, the minimum is the least disturbed run.
    fn time<F: FnMut()>(reps: usize, mut f: F) -> f64 {
        f();
        (0..reps)
            .map(|_| {
                let start = Instant::now();
                f();
                start.elapsed().as_secs_f64() * 1e3
            })
            .fold(f64::INFINITY, f64::min)
    }
    let device = Default::default();
    for (d_in, d_out) in [(576, 576), (576, 1536)] {
        let w = gaussian::<Inner>(d_in, d_out, 1, &device);
        let start = Instant::now();
        let f = SvdFactors::decompose(&w, d_in.min(d_out) / 2).unwrap();
        let svd_ms = start.elapsed().as_secs_f64() * 1e3;
        eprintln!("{d_in}x{d_out}: decompose (exact host SVD, k = n/2) {svd_ms:.1} ms");
        for rows in [64, 512] {
            let x = gaussian::<Inner>(rows, d_in, 2, &device);
            let dense = time(20, || {
                let _ = values(x.clone().matmul(w.clone()));
            });
            let mut line = format!("  N = {rows:4}: dense {dense:7.2} ms");
            for mode in [OsftForward::Rebuild, OsftForward::Factored] {
                let f = f.clone().with_mode(mode);
                let fwd = time(20, || {
                    let _ = values(f.forward(x.clone()));
                });
                let fa: SvdFactors<B> = SvdFactors::decompose(&Tensor::from_inner(w.clone()), d_in.min(d_out) / 2).unwrap().with_mode(mode);
                let xa = Tensor::<B, 2>::from_inner(x.clone());
                let train = time(10, || {
                    let grads = fa.forward(xa.clone()).powi_scalar(2).mean().backward();
                    let _ = values(fa.low.as_ref().unwrap().u.grad(&grads).unwrap());
                });
                line += &format!(" | {mode:?}: fwd {fwd:7.2} ms, fwd+bwd {train:7.2} ms");
            }
            eprintln!("{line}");
        }
    }
}

/// Exact host SVD of the largest layer size the docs call fine (2048×8192).
/// `cargo test -p strata-adapters --lib osft_decompose_large_timing -- --ignored --nocapture`
#[test]
#[ignore]
fn osft_decompose_large_timing() {
    let w = gaussian::<Inner>(2048, 8192, 1, &Default::default());
    let start = Instant::now();
    let f = SvdFactors::decompose(&w, 1024).unwrap();
    eprintln!("2048x8192: decompose {:.1} s", start.elapsed().as_secs_f64());
    assert!(rel_err(f.dense_weight(), w) < 1e-5);
}
