//! Instruction-count benchmark of the dispatched `kernels::matmul_i8_i16` (the SXTB16/SMLAD kernel
//! on Armv7E-M, unless built with `PICOFORMER_NO_DSP=1`) at the shapes the bundled models use, and
//! at larger GEMM shapes. For shape `i` it calls [`app::icount_mark`] right before (`2 * i`) and
//! right after (`2 * i + 1`) one call and logs `MATMUL i=.. m=.. k=.. n=.. macs=..`;
//! `firmware/icount.sh` pairs those lines with the plugin's counts. After each measured call (and
//! outside the marks) it checks the output against `kernels::generic::matmul_i8_i16`, bit for bit,
//! and exits 1 on any difference. Then the same for the dispatched `kernels::matmul_i4_i16`
//! (group-wise int4 weights, random f16 scales and offsets) at the tiny GPT's shapes converted to
//! int4 ([`SHAPES_I4`]), numbered on after the int8 shapes. Each line ends in `w=i8` or
//! `w=i4g<group>`.
#![no_std]
#![no_main]

use cortex_m as _; // critical-section implementation (single core)
use cortex_m_rt::entry;
use half::f16;
use picoformer::kernels::{self, generic, i16_act_max};
use picoformer_app as app;
use picoformer_qemu_mps2::{self as fw, Lcg};

/// `(m, k, n)`: activation rows, inner dimension, weight rows (output columns).
const SHAPES: [(usize, usize, usize); 24] = [
    // BERT student (hidden 128, FFN 512), classify with chunk 2: every projection has m = 2.
    (2, 128, 128), // query, key, value, attention output
    (2, 128, 512), // FFN intermediate
    (2, 512, 128), // FFN output
    (2, 32, 64),   // attention scores of one head at 64 tokens (head dim 32)
    (2, 64, 1),    // attention x V, one value channel at 64 tokens
    (1, 128, 128), // pooler
    (1, 128, 2),   // classifier
    // Tiny GPT decode (hidden 128, key/value dim 32, FFN 384, vocab 1024): m = 1.
    (1, 128, 128),  // q, o
    (1, 128, 32),   // k, v
    (1, 128, 384),  // gate, up
    (1, 384, 128),  // down
    (1, 128, 1024), // tied LM head
    (1, 32, 256),   // attention scores of one head at position 255
    (1, 256, 1),    // attention x V, one value channel at position 255
    // Tiny GPT prompt, chunk 4.
    (4, 128, 384),
    // Row tails of the tiles.
    (3, 128, 128),
    (5, 128, 128),
    // GEMM.
    (16, 128, 128),
    (16, 128, 512),
    (16, 512, 128),
    (32, 128, 384),
    (64, 128, 128),
    (64, 128, 512),
    (64, 512, 128),
];

/// `(m, k, n, group)` of the int4 calls: the tiny GPT's layer matrices as `picoformer quantize
/// --dtype int4` writes them (groups of 32), one generated token (m = 1) and a prompt chunk of 4;
/// the bundled sentiment classifier's (hidden 128, FFN 512) in the firmware's chunks of 2 tokens.
const SHAPES_I4: [(usize, usize, usize, usize); 13] = [
    (1, 128, 128, 32), // q, o
    (1, 128, 384, 32), // gate, up
    (1, 128, 32, 32),  // k, v
    (1, 384, 128, 32), // down
    (4, 128, 128, 32),
    (4, 128, 384, 32),
    (4, 128, 32, 32),
    (4, 384, 128, 32),
    (1, 384, 128, 64), // down, groups of 64
    (4, 384, 128, 64),
    (2, 128, 128, 32), // sentiment: q, k, v, attention output
    (2, 128, 512, 32), // FFN in
    (2, 512, 128, 32), // FFN out
];

/// Bytes of the largest int4 weight matrix, and its groups.
const MAX_W4: usize = 512 * 128 / 2;
const MAX_G4: usize = 512 * 128 / 32;

const MAX_W: usize = 1024 * 128;
const MAX_X: usize = 64 * 512;
const MAX_O: usize = 64 * 512;

/// Inputs and outputs of the largest shape.
struct Bufs {
    w: [i8; MAX_W],
    x: [i16; MAX_X],
    got: [f32; MAX_O],
    want: [f32; MAX_O],
    xs: [f32; 64],
    ws: [f32; 1024],
    w4: [u8; MAX_W4],
    s4: [f16; MAX_G4],
    m4: [f16; MAX_G4],
}

#[entry]
fn main() -> ! {
    let b: &'static mut Bufs = cortex_m::singleton!(: Bufs = Bufs {
        w: [0; MAX_W],
        x: [0; MAX_X],
        got: [0.0; MAX_O],
        want: [0.0; MAX_O],
        xs: [0.0; 64],
        ws: [0.0; 1024],
        w4: [0; MAX_W4],
        s4: [f16::ZERO; MAX_G4],
        m4: [f16::ZERO; MAX_G4],
    })
    .unwrap();
    let mut rng = Lcg(0x0bad_cafe);
    for (i, &(m, k, n)) in SHAPES.iter().enumerate() {
        let amax = i16_act_max(k);
        for v in b.x[..m * k].iter_mut() {
            *v = rng.range(-amax, amax) as i16;
        }
        for v in b.w[..n * k].iter_mut() {
            *v = rng.range(-128, 127) as i8;
        }
        for v in b.xs[..m].iter_mut().chain(b.ws[..n].iter_mut()) {
            *v = (rng.range(1, 1 << 20) as f32) * 1.0e-7;
        }
        let (o, x, w) = (&mut b.got[..m * n], &b.x[..m * k], &b.w[..n * k]);
        let (xs, ws) = (&b.xs[..m], &b.ws[..n]);
        app::icount_mark(2 * i as u32);
        kernels::matmul_i8_i16(o, x, xs, w, ws, m, k, n);
        app::icount_mark(2 * i as u32 + 1);
        generic::matmul_i8_i16(&mut b.want[..m * n], x, xs, w, ws, m, k, n);
        let bad =
            b.got[..m * n].iter().zip(&b.want[..m * n]).filter(|(g, e)| g.to_bits() != e.to_bits()).count();
        defmt::info!(
            "MATMUL i={=usize} m={=usize} k={=usize} n={=usize} macs={=usize} w=i8",
            i,
            m,
            k,
            n,
            m * k * n
        );
        if bad != 0 {
            defmt::error!(
                "MATMUL m={=usize} k={=usize} n={=usize}: {=usize} outputs differ from generic",
                m,
                k,
                n,
                bad
            );
            fw::exit(fw::EXIT_ERROR);
        }
    }
    for (i4, &(m, k, n, group)) in SHAPES_I4.iter().enumerate() {
        let i = SHAPES.len() + i4;
        let amax = i16_act_max(group);
        for v in b.x[..m * k].iter_mut() {
            *v = rng.range(-amax, amax) as i16;
        }
        for v in b.w4[..n * k / 2].iter_mut() {
            *v = rng.range(0, 255) as u8;
        }
        let g = n * k / group;
        for v in b.s4[..g].iter_mut() {
            *v = f16::from_f32(rng.range(1, 1000) as f32 * 1.0e-5);
        }
        for v in b.m4[..g].iter_mut() {
            *v = f16::from_f32(rng.range(-1000, 0) as f32 * 8.0e-5);
        }
        for v in b.xs[..m].iter_mut() {
            *v = (rng.range(1, 1 << 20) as f32) * 1.0e-7;
        }
        let (o, x, w) = (&mut b.got[..m * n], &b.x[..m * k], &b.w4[..n * k / 2]);
        let (xs, ws, wm) = (&b.xs[..m], &b.s4[..g], &b.m4[..g]);
        app::icount_mark(2 * i as u32);
        kernels::matmul_i4_i16(o, x, xs, w, ws, wm, group, m, k, n);
        app::icount_mark(2 * i as u32 + 1);
        generic::matmul_i4_i16(&mut b.want[..m * n], x, xs, w, ws, wm, group, m, k, n);
        let bad =
            b.got[..m * n].iter().zip(&b.want[..m * n]).filter(|(g, e)| g.to_bits() != e.to_bits()).count();
        defmt::info!(
            "MATMUL i={=usize} m={=usize} k={=usize} n={=usize} macs={=usize} w=i4g{=usize}",
            i,
            m,
            k,
            n,
            m * k * n,
            group
        );
        if bad != 0 {
            defmt::error!(
                "MATMUL int4 m={=usize} k={=usize} n={=usize}: {=usize} outputs differ from generic",
                m,
                k,
                n,
                bad
            );
            fw::exit(fw::EXIT_ERROR);
        }
    }
    defmt::info!("BENCH DONE shapes={=usize}", SHAPES.len() + SHAPES_I4.len());
    fw::exit(0)
}
