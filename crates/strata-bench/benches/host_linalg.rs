//! Host (faer, f64) factorisations at the sizes strata meets: exact thin SVD and symmetric
//! eigendecomposition of n×n matrices, n ∈ {256, 1024, 2048}.
//!
//! `cargo bench -p strata-bench --bench host_linalg`; results go in docs/benchmarks.md.

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use strata_linalg::eig::sym_eig_host;
use strata_linalg::exact_svd_host;
use strata_linalg::faer::Mat;
use strata_linalg::random::gaussian_vec;

fn gaussian(n: usize, seed: u64) -> Mat<f64> {
    let v = gaussian_vec(n * n, seed);
    Mat::from_fn(n, n, |i, j| v[i * n + j] as f64)
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("host_linalg");
    group.sample_size(10);
    for n in [256usize, 1024, 2048] {
        let a = gaussian(n, 1);
        let cov = a.transpose() * &a;
        group.bench_with_input(BenchmarkId::new("exact_svd", n), &a, |b, a| b.iter(|| exact_svd_host(a.as_ref()).unwrap()));
        group.bench_with_input(BenchmarkId::new("sym_eig", n), &cov, |b, c| b.iter(|| sym_eig_host("bench", c.as_ref()).unwrap()));
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
