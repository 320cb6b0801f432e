//! Checks the dispatched `kernels::matmul_i8_i16` (the SXTB16/SMLAD kernel on Armv7E-M, unless
//! built with `PICOFORMER_NO_DSP=1`) against `kernels::generic::matmul_i8_i16` on pseudo-random
//! cases: every k in 1..=70 (all k % 4 tails) plus model-sized k, odd and even n, random and
//! extreme values (±i16_act_max(k) activations, -128/127 weights). Exits 0 only if every output is
//! bit-identical; logs `KERNEL_CHECK OK cases=.. outputs=..`.
#![no_std]
#![no_main]

use cortex_m as _; // critical-section implementation (single core)
use cortex_m_rt::entry;
use picoformer::kernels::{self, generic, i16_act_max};
use picoformer_qemu_mps2 as fw;

const MAX_M: usize = 3;
const MAX_N: usize = 9;
const MAX_K: usize = 520;

/// A 32-bit LCG (Numerical Recipes constants); the top bits are the output.
struct Lcg(u32);
impl Lcg {
    fn next(&mut self) -> u32 {
        self.0 = self.0.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        self.0
    }
    /// Uniform-ish in `lo..=hi`.
    fn range(&mut self, lo: i32, hi: i32) -> i32 {
        lo + ((self.next() >> 8) % ((hi - lo + 1) as u32)) as i32
    }
}

#[entry]
fn main() -> ! {
    let mut rng = Lcg(0x1234_5678);
    let mut xq = [0i16; MAX_M * MAX_K];
    let mut w = [0i8; MAX_N * MAX_K];
    let mut xs = [0f32; MAX_M];
    let mut ws = [0f32; MAX_N];
    let mut got = [0f32; MAX_M * MAX_N];
    let mut want = [0f32; MAX_M * MAX_N];
    let (mut cases, mut outputs, mut bad) = (0usize, 0usize, 0usize);

    let ks = (1..=70usize).chain([127, 128, 129, 131, 512, 515]);
    for k in ks {
        for variant in 0..4u32 {
            let m = 1 + (rng.next() >> 8) as usize % MAX_M;
            let n = 1 + (rng.next() >> 8) as usize % MAX_N;
            let amax = i16_act_max(k);
            for v in xq[..m * k].iter_mut() {
                *v = match variant {
                    0 => rng.range(-amax, amax),
                    1 => amax,
                    2 => -amax,
                    _ => {
                        if rng.next() & 0x8000 != 0 {
                            amax
                        } else {
                            -amax
                        }
                    }
                } as i16;
            }
            for v in w[..n * k].iter_mut() {
                *v = match variant {
                    0 => rng.range(-128, 127),
                    1 => -128,
                    2 => 127,
                    _ => {
                        if rng.next() & 0x8000 != 0 {
                            127
                        } else {
                            -128
                        }
                    }
                } as i8;
            }
            for v in xs[..m].iter_mut().chain(ws[..n].iter_mut()) {
                *v = (rng.range(1, 1 << 20) as f32) * 1.0e-7;
            }
            let (o, x, nw) = (m * n, m * k, n * k);
            got[..o].fill(f32::NAN);
            want[..o].fill(f32::NAN);
            kernels::matmul_i8_i16(&mut got[..o], &xq[..x], &xs[..m], &w[..nw], &ws[..n], m, k, n);
            generic::matmul_i8_i16(&mut want[..o], &xq[..x], &xs[..m], &w[..nw], &ws[..n], m, k, n);
            cases += 1;
            for (i, (g, e)) in got[..o].iter().zip(&want[..o]).enumerate() {
                outputs += 1;
                if g.to_bits() != e.to_bits() {
                    bad += 1;
                    if bad <= 10 {
                        defmt::error!(
                            "MISMATCH m={} k={} n={} variant={} out[{}]: dsp {} generic {}",
                            m,
                            k,
                            n,
                            variant,
                            i,
                            g,
                            e
                        );
                    }
                }
            }
        }
    }
    if bad != 0 {
        defmt::error!("KERNEL_CHECK FAILED: {} of {} outputs differ ({} cases)", bad, outputs, cases);
        fw::exit(1)
    }
    defmt::info!(
        "KERNEL_CHECK OK cases={} outputs={} (dispatched vs generic, bit-identical)",
        cases,
        outputs
    );
    fw::exit(0)
}
