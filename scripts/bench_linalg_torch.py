#!/usr/bin/env python3
"""PyTorch counterpart of `linalg_device_bench` (strata-bench): same matrices, same metric.

For each shape m×n and k: A = U diag(s) Vᵀ with random orthonormal U, V (QR of Gaussians)
and the same spectra ("gap": 10^(-i/k) for i < k then 1e-3; "power": (1+i)^(-1/2)), in f32
on the GPU. Times torch.linalg.svd (full thin SVD) and torch.svd_lowrank (q = k + oversample,
niter = power iterations), steady state after two warm-ups, and reports sin θ_max between the
computed and the true top-k left singular subspace. TF32 is off (exact f32 GEMMs), as in strata.

    python3 scripts/bench_linalg_torch.py [--shapes 4096x4096,4096x11008] [--ks 256,1024]
"""
import argparse
import json
import time

import torch


def spectrum(kind, p, k, device):
    i = torch.arange(p, device=device, dtype=torch.float32)
    if kind == "gap":
        return torch.where(i < k, 10.0 ** (-i / k), torch.full_like(i, 1e-3))
    if kind == "power":
        return (1.0 + i) ** -0.5
    raise ValueError(kind)


def subspace_sin(truth, approx):
    q, _ = torch.linalg.qr(approx.double())
    t = truth.double()
    resid = q - t @ (t.T @ q)
    return torch.linalg.matrix_norm(resid, ord=2).item()


def timed(fn, repeats):
    out = None
    times = []
    for rep in range(repeats + 2):
        torch.cuda.synchronize()
        t = time.perf_counter()
        out = fn()
        torch.cuda.synchronize()
        if rep >= 2:
            times.append(time.perf_counter() - t)
    times.sort()
    return out, times[len(times) // 2], times[0]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shapes", default="4096x4096,4096x11008")
    ap.add_argument("--ks", default="256,1024")
    ap.add_argument("--spectra", default="gap,power")
    ap.add_argument("--oversample", type=int, default=10)
    ap.add_argument("--power-iters", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    dev = torch.device("cuda")
    gen = torch.Generator(device=dev).manual_seed(0)
    name = torch.cuda.get_device_name(0)
    for shape in args.shapes.split(","):
        m, n = (int(x) for x in shape.split("x"))
        p = min(m, n)
        u, _ = torch.linalg.qr(torch.randn(m, p, device=dev, generator=gen))
        v, _ = torch.linalg.qr(torch.randn(n, p, device=dev, generator=gen))
        full_done = {}
        for spec in args.spectra.split(","):
            for k in (int(x) for x in args.ks.split(",")):
                a = (u * spectrum(spec, p, k, dev)) @ v.T
                truth = u[:, :k]
                base = dict(device=name, m=m, n=n, k=k, spectrum=spec, torch=torch.__version__)
                # Full SVD: its timing does not depend on k; measure once per matrix.
                key = (spec, k if spec == "gap" else 0)
                if key not in full_done:
                    (uu, _, _), med, mn = timed(lambda: torch.linalg.svd(a, full_matrices=False), args.repeats)
                    full_done[key] = (med, mn, uu)
                med, mn, uu = full_done[key]
                print(json.dumps(dict(impl="torch.linalg.svd", median_s=round(med, 5), min_s=round(mn, 5),
                                      subspace_sin=f"{subspace_sin(truth, uu[:, :k]):.3e}", **base)), flush=True)
                q = min(k + args.oversample, p)
                (ul, _, _), med, mn = timed(lambda: torch.svd_lowrank(a, q=q, niter=args.power_iters), args.repeats)
                print(json.dumps(dict(impl="torch.svd_lowrank", oversample=args.oversample, power_iters=args.power_iters,
                                      median_s=round(med, 5), min_s=round(mn, 5),
                                      subspace_sin=f"{subspace_sin(truth, ul[:, :k]):.3e}", **base)), flush=True)


if __name__ == "__main__":
    main()
