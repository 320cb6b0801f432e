//! Checks the dispatched `kernels::matmul_i8_i16` (the SXTB16/SMLAD kernel on Armv7E-M, unless
//! built with `PICOFORMER_NO_DSP=1`) against `kernels::generic::matmul_i8_i16` on pseudo-random
//! cases: every m in 1..=6 (the kernel's row tiles of 4, 2 and 1 and their combinations) for every
//! k in 1..=70 (all k % 4 tails and all entries into the unrolled loops), k = 72..=136 in steps of
//! 8 (the one-row tile's entries), and k around the kernel's activation chunks (128 values for 4
//! rows, 256 for 2, 512 for 1) and at model sizes; n in 1..=11 (the direct path below 3 columns,
//! odd column tails); random and extreme values (±i16_act_max(k) activations, -128/127 weights);
//! word-aligned and misaligned weights and activation rows. Exits 0 only if every output is
//! bit-identical; logs `KERNEL_CHECK OK cases=.. outputs=..`.
#![no_std]
#![no_main]

use cortex_m as _; // critical-section implementation (single core)
use cortex_m_rt::entry;
use picoformer::kernels::{self, generic, i16_act_max};
use picoformer_qemu_mps2 as fw;

const MAX_M: usize = 6;
const MAX_N: usize = 11;
const MAX_K: usize = 520;

/// Weights, word-aligned at offset 0 (plus room for a misaligned start).
#[repr(C, align(4))]
struct Weights([i8; MAX_N * MAX_K + 4]);

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
    let mut xbuf = [0i16; MAX_M * MAX_K + 2];
    let mut wbuf = Weights([0; MAX_N * MAX_K + 4]);
    let mut xs = [0f32; MAX_M];
    let mut ws = [0f32; MAX_N];
    let mut got = [0f32; MAX_M * MAX_N];
    let mut want = [0f32; MAX_M * MAX_N];
    let (mut cases, mut outputs, mut bad) = (0usize, 0usize, 0usize);

    let chunks = [127, 128, 129, 131, 132, 255, 256, 257, 260, 384, 504, 511, 512, 513, 516, 520];
    let ks = (1..=70usize).chain((72..=136).step_by(8)).chain(chunks);
    for k in ks {
        for m in 1..=MAX_M {
            for variant in 0..4u32 {
                let n = 1 + (k * 7 + m * 3 + variant as usize) % MAX_N;
                // Misaligned weights (by one byte) and activations (by one i16) in some cases.
                let woff = (k + m).is_multiple_of(5) as usize;
                let xoff = (k + variant as usize).is_multiple_of(3) as usize;
                let xq = &mut xbuf[xoff..xoff + m * k];
                let w = &mut wbuf.0[woff..woff + n * k];
                fill(&mut rng, variant, xq, w, k);
                for v in xs[..m].iter_mut().chain(ws[..n].iter_mut()) {
                    *v = (rng.range(1, 1 << 20) as f32) * 1.0e-7;
                }
                let o = m * n;
                got[..o].fill(f32::NAN);
                want[..o].fill(f32::NAN);
                kernels::matmul_i8_i16(&mut got[..o], xq, &xs[..m], w, &ws[..n], m, k, n);
                generic::matmul_i8_i16(&mut want[..o], xq, &xs[..m], w, &ws[..n], m, k, n);
                cases += 1;
                for (i, (g, e)) in got[..o].iter().zip(&want[..o]).enumerate() {
                    outputs += 1;
                    if g.to_bits() != e.to_bits() {
                        bad += 1;
                        if bad <= 10 {
                            defmt::error!(
                                "MISMATCH m={} k={} n={} variant={} woff={} xoff={} out[{}]: dsp {} generic {}",
                                m,
                                k,
                                n,
                                variant,
                                woff,
                                xoff,
                                i,
                                g,
                                e
                            );
                        }
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

/// Activations within ±i16_act_max(k) and int8 weights: random (variant 0), all at the extremes
/// with the same sign (1: `+amax` × `-128`, 2: `-amax` × `127`) or random extremes (3).
fn fill(rng: &mut Lcg, variant: u32, xq: &mut [i16], w: &mut [i8], k: usize) {
    let amax = i16_act_max(k);
    for v in xq.iter_mut() {
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
    for v in w.iter_mut() {
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
}
