//! Multi-threaded matmuls (`kernels::threads`, feature `std`): bit-identical to one thread on
//! every kernel, on shapes above and below the split threshold, with bands of unequal height.
//! (Its own test binary: the thread count is process-wide.)

use half::f16;
use picoformer::kernels::{self, threads};

fn vals(len: usize, seed: u32) -> Vec<f32> {
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

/// All four matmuls of `x[m, k] · w[n, k]ᵀ` (int4 with group 32), run with the current thread count.
fn all(m: usize, k: usize, n: usize) -> Vec<Vec<f32>> {
    let (x, w) = (vals(m * k, 1), vals(n * k, 2));
    let wh: Vec<f16> = w.iter().map(|&v| f16::from_f32(v)).collect();
    let xq: Vec<i16> = x.iter().map(|&v| (v * 30000.0) as i16).collect();
    let xs: Vec<f32> = (0..m).map(|i| 1e-4 * (1 + i % 7) as f32).collect();
    let w8: Vec<i8> = w.iter().map(|&v| (v * 127.0) as i8).collect();
    let ws: Vec<f32> = (0..n).map(|j| 0.01 * (1 + j % 5) as f32).collect();
    let w4: Vec<u8> = (0..n * k / 2).map(|i| (i * 37 % 251) as u8).collect();
    let s4: Vec<f16> = (0..n * k / 32).map(|g| f16::from_f32(0.01 + (g % 9) as f32 * 1e-3)).collect();
    let m4: Vec<f16> = (0..n * k / 32).map(|g| f16::from_f32(-0.05 + (g % 5) as f32 * 1e-2)).collect();
    let mut out = vec![vec![0f32; m * n]; 4];
    kernels::matmul_f32(&mut out[0], &x, &w, m, k, n);
    kernels::matmul_f16(&mut out[1], &x, &wh, m, k, n);
    kernels::matmul_i8_i16(&mut out[2], &xq, &xs, &w8, &ws, m, k, n);
    kernels::matmul_i4_i16(&mut out[3], &xq, &xs, &w4, &s4, &m4, 32, m, k, n);
    out
}

#[test]
fn threaded_matmuls_equal_one_thread() {
    // (m, k, n): above the threshold with even, odd and tiny row counts; one below it.
    for (m, k, n) in [(64, 384, 384), (65, 384, 96), (3, 1536, 384), (2, 2048, 300), (8, 64, 64)] {
        threads::set_threads(1);
        let one = all(m, k, n);
        for t in [2, 3, 8] {
            threads::set_threads(t);
            let many = all(m, k, n);
            for (kernel, (a, b)) in one.iter().zip(&many).enumerate() {
                let same = a.iter().zip(b).all(|(p, q)| p.to_bits() == q.to_bits());
                assert!(same, "kernel {kernel}, {t} threads, m {m} k {k} n {n}: differs from one thread");
            }
        }
    }
    threads::set_threads(1);
    assert_eq!(threads::threads(), 1);
    threads::set_threads(0);
    assert_eq!(threads::threads(), 1, "0 threads is clamped to 1");
}
