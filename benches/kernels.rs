//! Matmul throughput at all-MiniLM-L6-v2 shapes: generic (the spec) vs dispatched (SIMD where the CPU
//! has it). Throughput is in MACs (multiply-accumulates): criterion's `elem/s` = MAC/s, so
//! GFLOP/s = 2 × Gelem/s.

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use half::f16;
use picoformer::kernels::{self, generic};
use std::time::Duration;

/// (m, k, n): 64 tokens; QKV/attention-out (384→384), FFN up (384→1536), FFN down (1536→384); then
/// FFN up at 16 and 128 tokens.
const SHAPES: [(usize, usize, usize); 5] =
    [(64, 384, 384), (64, 384, 1536), (64, 1536, 384), (16, 384, 1536), (128, 384, 1536)];

/// Deterministic pseudo-random values in [-1, 1).
fn data(len: usize, seed: u32) -> Vec<f32> {
    let mut s = seed.wrapping_mul(2_654_435_761).max(1);
    (0..len)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            (s >> 8) as f32 / (1u32 << 23) as f32 - 1.0
        })
        .collect()
}

fn label(m: usize, k: usize, n: usize) -> String {
    format!("m{m}_k{k}_n{n}")
}

fn bench_f32(c: &mut Criterion) {
    let mut g = c.benchmark_group("matmul_f32");
    for &(m, k, n) in &SHAPES {
        let (x, w) = (data(m * k, 1), data(n * k, 2));
        let mut out = vec![0.0f32; m * n];
        g.throughput(Throughput::Elements((m * k * n) as u64));
        g.bench_function(BenchmarkId::new("generic", label(m, k, n)), |b| {
            b.iter(|| generic::matmul_f32(black_box(&mut out), black_box(&x), black_box(&w), m, k, n))
        });
        g.bench_function(BenchmarkId::new("dispatched", label(m, k, n)), |b| {
            b.iter(|| kernels::matmul_f32(black_box(&mut out), black_box(&x), black_box(&w), m, k, n))
        });
    }
    g.finish();
}

fn bench_f16(c: &mut Criterion) {
    let mut g = c.benchmark_group("matmul_f16");
    for &(m, k, n) in &SHAPES {
        let x = data(m * k, 3);
        let w: Vec<f16> = data(n * k, 4).into_iter().map(f16::from_f32).collect();
        let mut out = vec![0.0f32; m * n];
        g.throughput(Throughput::Elements((m * k * n) as u64));
        g.bench_function(BenchmarkId::new("generic", label(m, k, n)), |b| {
            b.iter(|| generic::matmul_f16(black_box(&mut out), black_box(&x), black_box(&w), m, k, n))
        });
        g.bench_function(BenchmarkId::new("dispatched", label(m, k, n)), |b| {
            b.iter(|| kernels::matmul_f16(black_box(&mut out), black_box(&x), black_box(&w), m, k, n))
        });
    }
    g.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1))
        .sample_size(20)
}

fn bench_i8_i16(c: &mut Criterion) {
    let mut g = c.benchmark_group("matmul_i8_i16");
    for &(m, k, n) in &SHAPES {
        let (xf, wf) = (data(m * k, 7), data(n * k, 8));
        let (mut xq, mut wq) = (vec![0i16; m * k], vec![0i8; n * k]);
        let qmax = kernels::i16_act_max(k);
        let xs: Vec<f32> =
            xq.chunks_mut(k).zip(xf.chunks(k)).map(|(d, s)| generic::quantize_row_i16(d, s, qmax)).collect();
        let ws: Vec<f32> =
            wq.chunks_mut(k).zip(wf.chunks(k)).map(|(d, s)| generic::quantize_row_i8(d, s)).collect();
        let mut out = vec![0.0f32; m * n];
        g.throughput(Throughput::Elements((m * k * n) as u64));
        g.bench_function(BenchmarkId::new("dispatched", label(m, k, n)), |b| {
            b.iter(|| kernels::matmul_i8_i16(black_box(&mut out), &xq, &xs, black_box(&wq), &ws, m, k, n))
        });
        // Activation quantization cost per matmul (m rows of k), for context.
        g.throughput(Throughput::Elements((m * k) as u64));
        g.bench_function(BenchmarkId::new("quantize_rows_dispatched", label(m, k, n)), |b| {
            b.iter(|| {
                for (d, s) in xq.chunks_mut(k).zip(xf.chunks(k)) {
                    black_box(kernels::quantize_row_i16(d, s, qmax));
                }
            })
        });
    }
    g.finish();
}

/// 8-bit asymmetric activations (`quantize_row_u8` after a smoothing factor) × int8 weights at the
/// FFN shapes (up: k 384, n 1536; down: k 1536, n 384); compare with `matmul_i8_i16` there.
fn bench_i8_u8(c: &mut Criterion) {
    let mut g = c.benchmark_group("matmul_i8_u8");
    for &(m, k, n) in &[(64, 384, 1536), (64, 1536, 384)] {
        let (xf, wf, smooth) = (data(m * k, 7), data(n * k, 8), data(k, 9));
        let smooth: Vec<f32> = smooth.iter().map(|v| 1.0 + 0.5 * v).collect();
        let (mut xu, mut zp, mut wq) = (vec![0u8; m * k], vec![0u8; m], vec![0i8; n * k]);
        let xs: Vec<f32> = xu
            .chunks_mut(k)
            .zip(&mut zp)
            .zip(xf.chunks(k))
            .map(|((d, z), s)| {
                let (scale, zero) = generic::quantize_row_u8(d, s, &smooth);
                *z = zero;
                scale
            })
            .collect();
        let ws: Vec<f32> =
            wq.chunks_mut(k).zip(wf.chunks(k)).map(|(d, s)| generic::quantize_row_i8(d, s)).collect();
        let mut out = vec![0.0f32; m * n];
        g.throughput(Throughput::Elements((m * k * n) as u64));
        g.bench_function(BenchmarkId::new("dispatched", label(m, k, n)), |b| {
            b.iter(|| kernels::matmul_i8_u8(black_box(&mut out), &xu, &zp, &xs, black_box(&wq), &ws, m, k, n))
        });
        // Both AVX-512 kernels whatever the shape (the dispatched one picks one from m and k).
        #[cfg(target_arch = "x86_64")]
        if kernels::has_avx512() {
            use kernels::x86_avx512_u8::{matmul_i8_u8_gemm, matmul_i8_u8_tiles};
            g.bench_function(BenchmarkId::new("avx512_tiles", label(m, k, n)), |b| {
                b.iter(|| {
                    matmul_i8_u8_tiles(black_box(&mut out), &xu, &zp, &xs, black_box(&wq), &ws, m, k, n)
                })
            });
            g.bench_function(BenchmarkId::new("avx512_gemm", label(m, k, n)), |b| {
                b.iter(|| matmul_i8_u8_gemm(black_box(&mut out), &xu, &zp, &xs, black_box(&wq), &ws, m, k, n))
            });
        }
        // Activation quantization cost per matmul (m rows of k), for context.
        g.throughput(Throughput::Elements((m * k) as u64));
        g.bench_function(BenchmarkId::new("quantize_rows_dispatched", label(m, k, n)), |b| {
            b.iter(|| {
                for (d, s) in xu.chunks_mut(k).zip(xf.chunks(k)) {
                    black_box(kernels::quantize_row_u8(d, s, &smooth));
                }
            })
        });
    }
    g.finish();
}

criterion_group! { name = benches; config = config(); targets = bench_f32, bench_f16, bench_i8_i16, bench_i8_u8 }
criterion_main!(benches);
