//! `matmul_i4_i16` for Armv7E-M / Armv8-M Mainline with an FPU: nibble masks + `SMLAD`, VFP
//! epilogue (see the parent module for the DSP instructions and the bit-exactness argument).
//!
//! A weight word (bytes `4i..4i + 4` of a block of 32 values: values `4i..4i + 4` in the low
//! nibbles, `16 + 4i..16 + 4i + 4` in the high ones) gives four halfword pairs with one `AND`
//! each, no `UXTB16` needed: `w & 0x000F000F` = `[u(4i), u(4i+2)]`, `(w >> 8) & ..` =
//! `[u(4i+1), u(4i+3)]`, `(w >> 4) & ..` and `(w >> 12) & ..` the same for the high nibbles (the
//! shift is free in `AND`'s second operand). The activation rows are copied once per call, a
//! chunk of `k` at a time, into a 1088-byte stack buffer holding exactly the pairs these lanes
//! meet (`[x(4i), x(4i+2)]`, `[x(4i+1), x(4i+3)]`, `[x(16+4i), x(16+4i+2)]`,
//! `[x(16+4i+1), x(16+4i+3)]`) and, after each group, `Σx` of the group as `f32` (computed once
//! per activation row for all weight rows). Two register tiles:
//! - **R × 1** (`R` = 4 or 2 activation rows, one weight row; `m >= 2`): per weight word one
//!   `LDR`, 4 `AND` and, per row, 2 `LDRD` and 4 `SMLAD`: 29 instructions per 32 MACs for 4
//!   rows, 17 per 16 for 2 (the masked lanes serve every row). The buffer interleaves the rows
//!   per weight word (`[e, o]` pairs of the low nibbles' values for rows `0..R`, then of the high
//!   ones'), and holds 128 values of `k` per chunk for 4 rows, 256 for 2 (groups of 32).
//! - **1 × 2** (one activation row, two weight rows: the decoder's step, and the last row of an
//!   odd `m`): per weight word 1 `LDRD`, 2 `LDR`, 1 `LDRD`, 8 `AND` and 8 `SMLAD`: 20 per 16
//!   MACs; chunks of 512 values; an odd last column uses the generic row dot.
//!
//! A group's first word starts the sums with `SMUAD`. After each group, in VFP within the same
//! `asm!` block: `d` to `f32`, the f16 scale and offset (`LDRH`, `VCVTB.F32.F16`, exact like
//! `f16::to_f32`; one pair per weight row and group, shared by the tile's activation rows), then
//! `acc = acc + (d · s + sx · min)` with separate `VMUL`/`VADD` in the generic kernel's order
//! (never `VFMA`); `acc` lives in `out` between chunks of `k`, and the final `· xs[i]` is plain
//! Rust.
//!
//! Measured under QEMU (Cortex-M4, groups of 32, `matmul_bench` in `firmware/icount.sh`),
//! instructions per MAC: one row 1.76-1.84 at the tiny GPT's shapes (k = 128 or 384, n = 128 or
//! 384; 2.06 at n = 32), 1.55 with groups of 64; two rows 1.57-1.65 at the sentiment
//! classifier's (k, n = 128 or 512); four rows 1.31-1.36 (1.60 at n = 32), 1.18 with groups of
//! 64. Per group and weight row the float step costs about 23 instructions for 2 rows and 35 for
//! 4, which is what keeps these above the integer part's 1.06 and 0.91. The generic kernel takes
//! 8.3-8.5.
#![allow(unsafe_code)]

use core::arch::asm;
use core::mem::MaybeUninit;

use crate::bounded::{head_mut, rows, rows_mut, span, tail as after};

use half::f16;

use super::pair;
use crate::kernels::generic;

/// Values of one activation row per chunk of `k` in [`matmul_i4_i16`] (a multiple of 64).
const I4_KC: usize = 512;

/// Words of [`matmul_i4_i16`]'s stack buffer (1088 bytes): a chunk of [`I4_KC`] values as 16-bit
/// pairs, plus one `Σx` per group of 32.
const I4_BUF_WORDS: usize = I4_KC / 2 + I4_KC / 32;

/// DSP variant of [`generic::matmul_i4_i16`] (same contract, bit-exact): blocks of 4 activation
/// rows, then 2, with the R × 1 tile (`i4_rows`), a single last row with the 1 × 2 tile
/// (`i4_row`; `m = 3` is 2 + 1). Groups other than 32 and 64, a violated length contract,
/// `n < 2`, `k == 0` or a soft-float target (the epilogue is VFP code) take the generic kernel.
/// Never inlined (see [`super::matmul_i8_i16`]).
#[allow(clippy::too_many_arguments)]
#[inline(never)]
pub fn matmul_i4_i16(
    out: &mut [f32],
    xq: &[i16],
    xs: &[f32],
    w: &[u8],
    ws: &[f16],
    wm: &[f16],
    group: usize,
    m: usize,
    k: usize,
    n: usize,
) {
    let gpr = if group == 32 || group == 64 { k / group } else { 0 };
    let ok = cfg!(target_abi = "eabihf")
        && gpr > 0
        && gpr * group == k
        && n >= 2
        && m.checked_mul(k) == Some(xq.len())
        && xs.len() == m
        && n.checked_mul(k / 2) == Some(w.len())
        && n.checked_mul(gpr) == Some(ws.len())
        && wm.len() == ws.len()
        && m.checked_mul(n) == Some(out.len());
    if !ok {
        return generic::matmul_i4_i16(out, xq, xs, w, ws, wm, group, m, k, n);
    }
    let mut buf = [MaybeUninit::<u32>::uninit(); I4_BUF_WORDS];
    let mut r = 0;
    while r < m {
        let tile = match m - r {
            1 => 1,
            2 | 3 => 2,
            _ => 4,
        };
        let (o, x, sx) = (rows_mut(out, r, tile, n), rows(xq, r, tile, k), span(xs, r, tile));
        match tile {
            4 => i4_rows::<4>(o, &mut buf, x, sx, w, ws, wm, group),
            2 => i4_rows::<2>(o, &mut buf, x, sx, w, ws, wm, group),
            _ => i4_row(o, &mut buf, x, sx.first().copied().unwrap_or(0.0), w, ws, wm, group),
        }
        r += tile;
    }
}

/// One activation row `x` (`k` values) against every weight row: `o[j] = acc_j · sx`, the group
/// sums of the even columns by `gemv_i4_1x2` over chunks of [`I4_KC`] values (`acc_j` carried
/// over the chunks in `o[j]`, groups in order), the odd last column by the generic row dot.
#[allow(clippy::too_many_arguments)]
fn i4_row(
    o: &mut [f32],
    buf: &mut [MaybeUninit<u32>; I4_BUF_WORDS],
    x: &[i16],
    sx: f32,
    w: &[u8],
    ws: &[f16],
    wm: &[f16],
    group: usize,
) {
    let (n, k) = (o.len(), x.len());
    let (n2, gpr) = (n & !1, k.checked_div(group).unwrap_or(0));
    head_mut(o, n2).fill(0.0);
    let mut k0 = 0;
    while k0 < k {
        let kc = (k - k0).min(I4_KC);
        let xb = permute_i4(buf, span(x, k0, kc), group);
        let (g0, b0) = (k0.checked_div(group).unwrap_or(0), k0 / 2);
        gemv_i4_1x2(head_mut(o, n2), xb, after(w, b0), after(ws, g0), after(wm, g0), group, k, kc);
        k0 += kc;
    }
    for v in head_mut(o, n2).iter_mut() {
        *v *= sx;
    }
    if let Some(o) = o.get_mut(n2) {
        let (wr, sr, mr) = (after(w, n2 * k / 2), after(ws, n2 * gpr), after(wm, n2 * gpr));
        *o = generic::dot_i4_groups(x, wr, sr, mr, group) * sx;
    }
}

/// Fills `buf` with the activations `x` (whole groups of `group` values, at most [`I4_KC`]) for
/// the int4 tile: per block of 32 values and per weight word `i < 4` of the block (bytes `4i` to
/// `4i + 3`: values `4i..4i + 4` in the low nibbles, `16 + 4i..16 + 4i + 4` in the high ones) the
/// pairs `[x(4i), x(4i+2)]`, `[x(4i+1), x(4i+3)]`, `[x(16+4i), x(16+4i+2)]`,
/// `[x(16+4i+1), x(16+4i+3)]`, the halves that `AND 0x000F000F` of the word shifted right by 0,
/// 8, 4 and 12 bits line up with; after each group's blocks, `Σx` of the group as `f32` bits.
/// Returns the filled words (`group / 2 + 1` per group; none if `x` does not fit).
fn permute_i4<'b>(buf: &'b mut [MaybeUninit<u32>; I4_BUF_WORDS], x: &[i16], group: usize) -> &'b [u32] {
    let per = group / 2 + 1;
    let groups = if group >= 32 && x.len() <= I4_KC { x.len() / group } else { 0 };
    let len = groups * per;
    for (dst, xg) in head_mut(buf, len).chunks_exact_mut(per).zip(x.chunks_exact(group.max(1))) {
        let (pairs, sum) = dst.split_at_mut(per - 1);
        for (d, xb) in pairs.chunks_exact_mut(16).zip(xg.chunks_exact(32)) {
            let (lo, hi) = xb.split_at(16);
            for ((d4, l), h) in d.chunks_exact_mut(4).zip(lo.chunks_exact(4)).zip(hi.chunks_exact(4)) {
                d4[0].write(pair(l[0], l[2]));
                d4[1].write(pair(l[1], l[3]));
                d4[2].write(pair(h[0], h[2]));
                d4[3].write(pair(h[1], h[3]));
            }
        }
        sum[0].write((generic::sum_i16(xg) as f32).to_bits());
    }
    // SAFETY: `buf[..len]` is `groups` chunks of `per` words and `x` has at least `groups` groups
    // of `group` (a multiple of 32) values, so the loop writes every word of every chunk: the
    // `group / 2` pair words (16 per block of 32 values, 4 per `chunks_exact_mut(4)`) and the sum.
    unsafe { core::slice::from_raw_parts(buf.as_ptr().cast::<u32>(), len) }
}

/// One weight word (8 values of each of two weight rows) of the int4 tile: the nibbles of each
/// word, masked into `[u, u]` halfword pairs (`AND 0x000F000F` of the word shifted right by 0, 8,
/// 4, 12), against the four activation pairs of the word. `$mac0`/`$mac1`: the instruction that
/// starts each sum (`smuad` on a group's first word) or adds to it (`smlad`).
#[cfg(target_abi = "eabihf")]
macro_rules! word_i4 {
    (smuad) => {
        concat!(
            "ldrd {xa}, {xb}, [{x}], #8\n",
            "ldr {w0}, [{wp0}], #4\n",
            "ldr {w1}, [{wp1}], #4\n",
            "and {t}, {mask}, {w0}\n",
            "smuad {a0}, {xa}, {t}\n",
            "and {t}, {mask}, {w1}\n",
            "smuad {a1}, {xa}, {t}\n",
            word_i4!(@rest)
        )
    };
    (smlad) => {
        concat!(
            "ldrd {xa}, {xb}, [{x}], #8\n",
            "ldr {w0}, [{wp0}], #4\n",
            "ldr {w1}, [{wp1}], #4\n",
            "and {t}, {mask}, {w0}\n",
            "smlad {a0}, {xa}, {t}, {a0}\n",
            "and {t}, {mask}, {w1}\n",
            "smlad {a1}, {xa}, {t}, {a1}\n",
            word_i4!(@rest)
        )
    };
    (@rest) => {
        concat!(
            "and {t}, {mask}, {w0}, lsr #8\n",
            "smlad {a0}, {xb}, {t}, {a0}\n",
            "and {t}, {mask}, {w1}, lsr #8\n",
            "smlad {a1}, {xb}, {t}, {a1}\n",
            "ldrd {xa}, {xb}, [{x}], #8\n",
            "and {t}, {mask}, {w0}, lsr #4\n",
            "smlad {a0}, {xa}, {t}, {a0}\n",
            "and {t}, {mask}, {w1}, lsr #4\n",
            "smlad {a1}, {xa}, {t}, {a1}\n",
            "and {t}, {mask}, {w0}, lsr #12\n",
            "smlad {a0}, {xb}, {t}, {a0}\n",
            "and {t}, {mask}, {w1}, lsr #12\n",
            "smlad {a1}, {xb}, {t}, {a1}\n",
        )
    };
}

/// The integer part of one group of the int4 tile: 4 weight words per row for a group of 32,
/// 8 for 64; the group's exact sums `d` of both rows end in `a0`, `a1`.
#[cfg(target_abi = "eabihf")]
macro_rules! group_i4 {
    (32) => {
        concat!(word_i4!(smuad), word_i4!(smlad), word_i4!(smlad), word_i4!(smlad))
    };
    (64) => {
        concat!(group_i4!(32), word_i4!(smlad), word_i4!(smlad), word_i4!(smlad), word_i4!(smlad))
    };
}

/// The whole column loop of the int4 tile for one group size (see `gemv_i4_1x2`). Per group, after
/// the integer sums: `d` to `f32` (`VCVT`), both rows' f16 scales and offsets (`LDRH`, `VCVTB`),
/// `Σx` from the buffer, then `acc = acc + (d · s + sx · min)` with separate `VMUL`/`VADD` (never
/// `VFMA`), in the order of the generic kernel.
#[cfg(target_abi = "eabihf")]
macro_rules! gemv_i4_asm {
    ($group:tt, $x:expr, $wp0:expr, $wp1:expr, $ps:expr, $xend:expr, $wadv:expr, $sadv:expr,
     $gpr2:expr, $delta:expr, $op:expr, $oend:expr) => {
        asm!(
            "vpush {{s0-s9}}",
            "sub sp, sp, #32",
            "str {x}, [sp]",                // buffer start
            "str {w0}, [sp, #4]",           // buffer end
            "strd {w1}, {xa}, [sp, #8]",    // wadv, sadv
            "strd {xb}, {t}, [sp, #16]",    // gpr2, delta
            "strd {a0}, {a1}, [sp, #24]",   // o, oend
            "mov.w {mask}, #0x000F000F",
            "6:",
            "ldr {t}, [sp, #24]",
            "vldmia {t}, {{s8-s9}}",        // acc of both columns (carried over chunks)
            "5:",
            group_i4!($group),
            "vmov s0, s1, {a0}, {a1}",
            "vcvt.f32.s32 s0, s0",
            "vcvt.f32.s32 s1, s1",
            "ldrd {t}, {a0}, [sp, #16]",    // gpr2, delta
            "add {a1}, {ps}, {a0}",         // this group's offset, row j
            "ldrh {xa}, [{a1}]",
            "ldrh {xb}, [{a1}, {t}]",
            "ldrh {w1}, [{ps}, {t}]",
            "ldrh {w0}, [{ps}], #2",
            "vmov s2, s3, {w0}, {w1}",
            "vmov s4, s5, {xa}, {xb}",
            "vcvtb.f32.f16 s2, s2",
            "vcvtb.f32.f16 s3, s3",
            "vcvtb.f32.f16 s4, s4",
            "vcvtb.f32.f16 s5, s5",
            "vldmia {x}!, {{s6}}",          // Σx of the group
            "vmul.f32 s0, s0, s2",          // d · s
            "vmul.f32 s1, s1, s3",
            "vmul.f32 s4, s6, s4",          // sx · min
            "vmul.f32 s5, s6, s5",
            "vadd.f32 s0, s0, s4",
            "vadd.f32 s1, s1, s5",
            "vadd.f32 s8, s8, s0",          // acc + (..)
            "vadd.f32 s9, s9, s1",
            "ldr {t}, [sp, #4]",
            "cmp {x}, {t}",
            "bne 5b",
            "ldr {t}, [sp, #24]",
            "vstmia {t}!, {{s8-s9}}",
            "str {t}, [sp, #24]",
            "ldrd {a0}, {a1}, [sp, #8]",    // wadv, sadv
            "add {wp0}, {wp0}, {a0}",
            "add {wp1}, {wp1}, {a0}",
            "add {ps}, {ps}, {a1}",
            "ldr {x}, [sp]",
            "ldr {a0}, [sp, #28]",
            "cmp {t}, {a0}",
            "bne 6b",
            "add sp, sp, #32",
            "vpop {{s0-s9}}",
            x = inout(reg) $x => _,
            wp0 = inout(reg) $wp0 => _,
            wp1 = inout(reg) $wp1 => _,
            ps = inout(reg) $ps => _,
            w0 = inout(reg) $xend => _,
            w1 = inout(reg) $wadv => _,
            xa = inout(reg) $sadv => _,
            xb = inout(reg) $gpr2 => _,
            t = inout(reg) $delta => _,
            a0 = inout(reg) $op => _,
            a1 = inout(reg) $oend => _,
            mask = out(reg) _,
        )
    };
}

/// `o[j] = o[j] + Σ_g ((d_g as f32) · s_g + (sx_g as f32) · min_g)` over the groups of one chunk
/// of `kc` values, in order, for the `o.len()` (even) columns: `xb` the chunk's activations
/// (`permute_i4`), `w` the weights from the chunk's first byte of row 0 (rows `k / 2` bytes
/// apart), `ws`/`wm` the scales and offsets from the chunk's first group of row 0 (rows `k /
/// group` apart). Columns in pairs, each activation pair serving both weight rows: per weight
/// word 3 loads, 8 `AND` and 8 `SMLAD` for 16 MACs.
#[cfg(target_abi = "eabihf")]
#[allow(clippy::too_many_arguments)]
fn gemv_i4_1x2(
    o: &mut [f32],
    xb: &[u32],
    w: &[u8],
    ws: &[f16],
    wm: &[f16],
    group: usize,
    k: usize,
    kc: usize,
) {
    let (n2, gpr) = (o.len() & !1, k / group.max(1));
    let groups = kc / group.max(1);
    let fits = (group == 32 || group == 64)
        && n2 > 0
        && groups > 0
        && groups * group == kc
        && kc <= k
        && xb.len() == groups * (group / 2 + 1)
        && w.len() >= (n2 - 1) * (k / 2) + kc / 2
        && ws.len() >= (n2 - 1) * gpr + groups
        && wm.len() >= (n2 - 1) * gpr + groups;
    if !fits {
        debug_assert!(false, "gemv_i4_1x2: shapes");
        return;
    }
    let x = xb.as_ptr();
    let xend = x.wrapping_add(xb.len());
    let (wp0, wp1) = (w.as_ptr(), w.as_ptr().wrapping_add(k / 2));
    let op = o.as_mut_ptr();
    let oend = op.wrapping_add(n2);
    // From the end of a pair's chunk to the start of the next pair's, in weight bytes and in
    // scale bytes; scale bytes from one row to the next; offsets plane minus scales plane.
    let wadv = k - kc / 2;
    let sadv = 4 * gpr - 2 * groups;
    let gpr2 = 2 * gpr;
    let delta = (wm.as_ptr() as usize).wrapping_sub(ws.as_ptr() as usize);
    // SAFETY: reads `xb` (word-aligned, as LDRD and VLDM need) up to `xend`; for each column
    // `j < n2`, `w[j k/2..j k/2 + kc/2]` (LDR: any alignment on Armv7-M) and the halfwords
    // `ws[j gpr..j gpr + groups]`, `wm[j gpr..j gpr + groups]` (LDRH at `ps`, `ps + gpr2` and
    // `ps + delta`, `ps + delta + gpr2`: the same index in `wm`), all within their slices as
    // checked above; reads and writes `o[..n2]` (VLDM/VSTM, word-aligned). Per pair of columns the
    // group loop runs until `x` reaches `xend` (`groups` groups of `group / 2 + 1` words: the
    // unrolled group reads `group / 2`, the epilogue one), then the row pointers move on by two
    // rows; the pair loop stops when the output pointer reaches `oend` (`n2` even). Saves s0-s9
    // (which `asm!` cannot declare as clobbered on a single-precision FPU) and uses 32 more bytes
    // of stack below `sp`, all restored before the end; writes nothing else but the declared
    // registers.
    unsafe {
        let ps = ws.as_ptr();
        if group == 32 {
            gemv_i4_asm!(32, x, wp0, wp1, ps, xend, wadv, sadv, gpr2, delta, op, oend)
        } else {
            gemv_i4_asm!(64, x, wp0, wp1, ps, xend, wadv, sadv, gpr2, delta, op, oend)
        }
    };
}

/// Never called: [`matmul_i4_i16`] takes the generic kernel without an FPU calling convention.
#[cfg(not(target_abi = "eabihf"))]
#[allow(clippy::too_many_arguments)]
fn gemv_i4_1x2(_: &mut [f32], _: &[u32], _: &[u8], _: &[f16], _: &[f16], _: usize, _: usize, _: usize) {}

// ------------------------------------------------------------------------------------------------
// R × 1 tile: R activation rows, one weight row at a time

/// `R` activation rows `x` (`[R, k]`) against every weight row: `o[r, j] = acc_rj · xs[r]` (`o`
/// is `[R, n]`), the group sums by `gemv_i4_rx1` over chunks of `k` that fit the buffer (`acc`
/// carried over the chunks in `o`, groups in order).
#[allow(clippy::too_many_arguments)]
fn i4_rows<const R: usize>(
    o: &mut [f32],
    buf: &mut [MaybeUninit<u32>; I4_BUF_WORDS],
    x: &[i16],
    xs: &[f32],
    w: &[u8],
    ws: &[f16],
    wm: &[f16],
    group: usize,
) {
    let (n, k) = (o.len() / R, x.len() / R);
    // Whole groups per chunk: R · (group / 2 + 1) buffer words each.
    let kc_max = I4_BUF_WORDS / (R * (group / 2 + 1)) * group;
    o.fill(0.0);
    let mut k0 = 0;
    while k0 < k && kc_max > 0 {
        let kc = (k - k0).min(kc_max);
        let xb = permute_i4_rows::<R>(buf, x, k, k0, kc, group);
        let (g0, b0) = (k0 / group, k0 / 2);
        gemv_i4_rx1::<R>(o, xb, after(w, b0), after(ws, g0), after(wm, g0), group, k, kc, n);
        k0 += kc;
    }
    for (orow, &sx) in o.chunks_exact_mut(n.max(1)).zip(xs) {
        for v in orow.iter_mut() {
            *v *= sx;
        }
    }
}

/// Fills `buf` with `x[r, k0..k0 + kc]` of the `R` activation rows `x` (`[R, k]`; `kc` whole
/// groups) for the R × 1 tile: per block of 32 values and per weight word `i < 4` of the block,
/// `[x(4i), x(4i+2)]`, `[x(4i+1), x(4i+3)]` of rows `0..R` (the low nibbles' lanes), then
/// `[x(16+4i), x(16+4i+2)]`, `[x(16+4i+1), x(16+4i+3)]` of rows `0..R` (the high ones'); after each
/// group's blocks, `Σx` of the group of rows `0..R` as `f32` bits. Returns the filled words
/// (`R · (group / 2 + 1)` per group; none if the chunk does not fit).
fn permute_i4_rows<'b, const R: usize>(
    buf: &'b mut [MaybeUninit<u32>; I4_BUF_WORDS],
    x: &[i16],
    k: usize,
    k0: usize,
    kc: usize,
    group: usize,
) -> &'b [u32] {
    let per = R * (group / 2 + 1);
    let groups = kc.checked_div(group).unwrap_or(0);
    let fits = group >= 32 && groups * per <= I4_BUF_WORDS && x.len() == R * k && k0 + kc <= k;
    let groups = if fits { groups } else { 0 };
    let len = groups * per;
    for (g, dst) in head_mut(buf, len).chunks_exact_mut(per).enumerate() {
        let p0 = k0 + g * group;
        let (words, sums) = dst.split_at_mut(per - R);
        for (b, d) in words.chunks_exact_mut(16 * R).enumerate() {
            let q0 = p0 + 32 * b;
            for (i, d) in d.chunks_exact_mut(4 * R).enumerate() {
                let (lo, hi) = d.split_at_mut(2 * R);
                for r in 0..R {
                    let l = span(x, r * k + q0 + 4 * i, 4);
                    let h = span(x, r * k + q0 + 16 + 4 * i, 4);
                    if let ([l0, l1, l2, l3], [h0, h1, h2, h3]) = (l, h) {
                        lo[2 * r].write(pair(*l0, *l2));
                        lo[2 * r + 1].write(pair(*l1, *l3));
                        hi[2 * r].write(pair(*h0, *h2));
                        hi[2 * r + 1].write(pair(*h1, *h3));
                    }
                }
            }
        }
        for (r, sum) in sums.iter_mut().enumerate() {
            sum.write((generic::sum_i16(span(x, r * k + p0, group)) as f32).to_bits());
        }
    }
    // SAFETY: `buf[..len]` is `groups` chunks of `per` words; in each, the `group / 32` blocks of
    // `16 R` words are 4 runs of `4 R` words, every word of which the row loop writes (`x` holds
    // the `R` rows of `k` values and `k0 + kc <= k`, so every `span` of 4 values is whole), and
    // the last `R` words are the sums. So every word of `buf[..len]` is written.
    unsafe { core::slice::from_raw_parts(buf.as_ptr().cast::<u32>(), len) }
}

/// One activation row of the R × 1 tile against the lanes in `t0`, `t1`: its `[e, o]` pairs
/// (`LDRD`), two `SMUAD`/`SMLAD` into the row's accumulator.
#[cfg(target_abi = "eabihf")]
macro_rules! row_i4 {
    (smuad, $a:tt) => {
        concat!(
            "ldrd {xa}, {xb}, [{x}], #8\n",
            "smuad {",
            stringify!($a),
            "}, {xa}, {t0}\n",
            "smlad {",
            stringify!($a),
            "}, {xb}, {t1}, {",
            stringify!($a),
            "}\n",
        )
    };
    (smlad, $a:tt) => {
        concat!(
            "ldrd {xa}, {xb}, [{x}], #8\n",
            "smlad {",
            stringify!($a),
            "}, {xa}, {t0}, {",
            stringify!($a),
            "}\n",
            "smlad {",
            stringify!($a),
            "}, {xb}, {t1}, {",
            stringify!($a),
            "}\n",
        )
    };
}

/// One weight word (8 values of one weight row) of the R × 1 tile: the low nibbles' lanes
/// (`AND` of the word and of the word >> 8) against every row, then the high nibbles' (>> 4,
/// >> 12). `$first`: `smuad` on a group's first word.
#[cfg(target_abi = "eabihf")]
macro_rules! word_i4_r {
    ($first:tt, $($a:tt)+) => {
        concat!(
            "ldr {w}, [{wp}], #4\n",
            "and {t0}, {mask}, {w}\n",
            "and {t1}, {mask}, {w}, lsr #8\n",
            $(row_i4!($first, $a),)+
            "and {t0}, {mask}, {w}, lsr #4\n",
            "and {t1}, {mask}, {w}, lsr #12\n",
            $(row_i4!(smlad, $a),)+
        )
    };
}

/// The integer part of one group of the R × 1 tile (4 weight words for a group of 32, 8 for 64):
/// the exact sums `d` of the rows end in their accumulators.
#[cfg(target_abi = "eabihf")]
macro_rules! group_i4_r {
    (32, $($a:tt)+) => {
        concat!(
            word_i4_r!(smuad, $($a)+),
            word_i4_r!(smlad, $($a)+),
            word_i4_r!(smlad, $($a)+),
            word_i4_r!(smlad, $($a)+),
        )
    };
    (64, $($a:tt)+) => {
        concat!(
            group_i4_r!(32, $($a)+),
            word_i4_r!(smlad, $($a)+),
            word_i4_r!(smlad, $($a)+),
            word_i4_r!(smlad, $($a)+),
            word_i4_r!(smlad, $($a)+),
        )
    };
}

/// The whole column loop of the R × 1 tile for one group size and one `R`: rows as
/// `(accumulator register, d register, acc register, Σx register)`, the Σx registers as one
/// `VLDM` list. Stack frame (40 bytes): `[sp]` buffer start, `#4` buffer end, `#8` weight bytes
/// from a row's chunk end to the next row's chunk start, `#12` the same in scale bytes, `#16` the
/// scale pointer, `#20` offsets plane minus scales plane, `#24` output pointer (this column, row
/// 0), `#28` output row stride in bytes, `#32` output end (row 0).
#[cfg(target_abi = "eabihf")]
macro_rules! gemv_i4_r_asm {
    ($group:tt, $sxlist:literal, [$(($a:tt, $d:tt, $acc:tt, $sx:tt)),+],
     $x:expr, $wp:expr, $xend:expr, $wadv:expr, $sadv:expr, $ps:expr, $delta:expr, $op:expr,
     $ostride:expr, { $($extra:tt)* }) => {
        asm!(
            "vpush {{s0-s15}}",
            "sub sp, sp, #40",
            "str {x}, [sp]",
            "str {w}, [sp, #4]",
            "strd {t0}, {t1}, [sp, #8]",        // wadv, sadv
            "strd {xa}, {xb}, [sp, #16]",       // ps, delta
            "strd {a0}, {a1}, [sp, #24]",       // op, ostride
            "add {a0}, {a0}, {a1}",
            "str {a0}, [sp, #32]",              // oend = op + ostride (n columns of 4 bytes)
            "mov.w {mask}, #0x000F000F",
            "6:",
            "ldrd {t0}, {t1}, [sp, #24]",       // acc of this column, rows 0..R
            $(concat!("vldr ", stringify!($acc), ", [{t0}]\n", "add {t0}, {t0}, {t1}\n"),)+
            "5:",
            group_i4_r!($group, $($a)+),
            $(concat!("vmov ", stringify!($d), ", {", stringify!($a), "}\n"),)+
            $(concat!("vcvt.f32.s32 ", stringify!($d), ", ", stringify!($d), "\n"),)+
            "ldrd {t0}, {t1}, [sp, #16]",       // ps, delta
            "ldrh {xa}, [{t0}, {t1}]",          // min of this group
            "ldrh {xb}, [{t0}], #2",            // scale; ps on to the next group
            "str {t0}, [sp, #16]",
            "vmov s4, s5, {xb}, {xa}",
            "vcvtb.f32.f16 s4, s4",
            "vcvtb.f32.f16 s5, s5",
            concat!("vldmia {x}!, ", $sxlist),  // Σx of the group, rows 0..R
            $(concat!("vmul.f32 ", stringify!($d), ", ", stringify!($d), ", s4\n"),)+      // d · s
            $(concat!("vmul.f32 ", stringify!($sx), ", ", stringify!($sx), ", s5\n"),)+    // sx · min
            $(concat!("vadd.f32 ", stringify!($d), ", ", stringify!($d), ", ", stringify!($sx), "\n"),)+
            $(concat!("vadd.f32 ", stringify!($acc), ", ", stringify!($acc), ", ", stringify!($d), "\n"),)+
            "ldr {t0}, [sp, #4]",
            "cmp {x}, {t0}",
            "bne 5b",
            "ldrd {t0}, {t1}, [sp, #24]",
            $(concat!("vstr ", stringify!($acc), ", [{t0}]\n", "add {t0}, {t0}, {t1}\n"),)+
            "ldr {t0}, [sp, #24]",
            "add {t0}, {t0}, #4",
            "str {t0}, [sp, #24]",              // next column
            "ldrd {t1}, {xa}, [sp, #8]",        // wadv, sadv
            "add {wp}, {wp}, {t1}",
            "ldr {xb}, [sp, #16]",
            "add {xb}, {xb}, {xa}",
            "str {xb}, [sp, #16]",
            "ldr {x}, [sp]",
            "ldr {t1}, [sp, #32]",
            "cmp {t0}, {t1}",
            "bne 6b",
            "add sp, sp, #40",
            "vpop {{s0-s15}}",
            x = inout(reg) $x => _,
            wp = inout(reg) $wp => _,
            w = inout(reg) $xend => _,
            t0 = inout(reg) $wadv => _,
            t1 = inout(reg) $sadv => _,
            xa = inout(reg) $ps => _,
            xb = inout(reg) $delta => _,
            a0 = inout(reg) $op => _,
            a1 = inout(reg) $ostride => _,
            mask = out(reg) _,
            $($extra)*
        )
    };
}

/// `o[r, j] = o[r, j] + Σ_g ((d_g as f32) · s_g + (sx_g as f32) · min_g)` over the groups of one
/// chunk of `kc` values, in order, for the `R` rows and `n` columns of `o` (`[R, n]`): `xb` the
/// chunk's activations (`permute_i4_rows`), `w` the weights from the chunk's first byte of row 0
/// (rows `k / 2` bytes apart), `ws`/`wm` the scales and offsets from the chunk's first group of
/// row 0 (rows `k / group` apart). One weight row at a time, each masked lane serving the `R`
/// activation rows: per weight word 1 `LDR`, 4 `AND`, `2 R` `LDRD` and `4 R` `SMLAD` for `8 R`
/// MACs.
#[cfg(target_abi = "eabihf")]
#[allow(clippy::too_many_arguments)]
fn gemv_i4_rx1<const R: usize>(
    o: &mut [f32],
    xb: &[u32],
    w: &[u8],
    ws: &[f16],
    wm: &[f16],
    group: usize,
    k: usize,
    kc: usize,
    n: usize,
) {
    let gpr = k / group.max(1);
    let groups = kc / group.max(1);
    let fits = (group == 32 || group == 64)
        && (R == 2 || R == 4)
        && n > 0
        && o.len() == R * n
        && groups > 0
        && groups * group == kc
        && kc <= k
        && xb.len() == groups * R * (group / 2 + 1)
        && w.len() >= (n - 1) * (k / 2) + kc / 2
        && ws.len() >= (n - 1) * gpr + groups
        && wm.len() >= (n - 1) * gpr + groups;
    if !fits {
        debug_assert!(false, "gemv_i4_rx1: shapes");
        return;
    }
    let x = xb.as_ptr();
    let xend = x.wrapping_add(xb.len());
    let wp = w.as_ptr();
    let op = o.as_mut_ptr();
    let ostride = 4 * n;
    let wadv = k / 2 - kc / 2;
    let sadv = 2 * gpr - 2 * groups;
    let delta = (wm.as_ptr() as usize).wrapping_sub(ws.as_ptr() as usize);
    let ps = ws.as_ptr();
    // The four rows' and the two rows' register lists, for either group size.
    macro_rules! tile {
        (4, $group:tt) => {
            gemv_i4_r_asm!($group, "{{s12-s15}}",
                [(a0, s0, s8, s12), (a1, s1, s9, s13), (a2, s2, s10, s14), (a3, s3, s11, s15)],
                x, wp, xend, wadv, sadv, ps, delta, op, ostride, { a2 = out(reg) _, a3 = out(reg) _, })
        };
        (2, $group:tt) => {
            gemv_i4_r_asm!($group, "{{s12-s13}}", [(a0, s0, s8, s12), (a1, s1, s9, s13)],
                x, wp, xend, wadv, sadv, ps, delta, op, ostride, {})
        };
    }
    // SAFETY: reads `xb` (word-aligned, as LDRD and VLDM need) up to `xend`; for each column
    // `j < n`, `w[j k/2..j k/2 + kc/2]` (LDR: any alignment on Armv7-M) and the halfwords
    // `ws[j gpr..j gpr + groups]`, `wm[j gpr..j gpr + groups]` (LDRH at the scale pointer and at
    // it plus `delta`: the same index in `wm`), all within their slices as checked above; reads
    // and writes `o[r n + j]` for `r < R` (VLDR/VSTR, word-aligned f32s, `o.len() == R n`). Per
    // column the group loop runs until `x` reaches `xend` (`groups` groups of `R (group / 2 + 1)`
    // words: the unrolled group reads `R group / 2`, the epilogue `R`), then the pointers move on
    // by one row; the column loop stops when the output pointer reaches `op + 4 n`. Saves s0-s15
    // (which `asm!` cannot declare as clobbered on a single-precision FPU) and uses 40 more bytes
    // of stack below `sp`, all restored before the end; writes nothing else but the declared
    // registers.
    unsafe {
        match (R, group) {
            (4, 32) => tile!(4, 32),
            (4, _) => tile!(4, 64),
            (_, 32) => tile!(2, 32),
            _ => tile!(2, 64),
        }
    };
}

/// Never called: [`matmul_i4_i16`] takes the generic kernel without an FPU calling convention.
#[cfg(not(target_abi = "eabihf"))]
#[allow(clippy::too_many_arguments)]
fn gemv_i4_rx1<const R: usize>(
    _: &mut [f32],
    _: &[u32],
    _: &[u8],
    _: &[f16],
    _: &[f16],
    _: usize,
    _: usize,
    _: usize,
    _: usize,
) {
}
