//! ggml tensor types and their exact dequantization to f32.
//!
//! Each block type mirrors ggml's C struct (`ggml-common.h`) byte for byte; every field is a byte
//! array, so the structs have alignment 1 and can be viewed in place over any byte buffer. Scales
//! are little-endian IEEE f16. The arithmetic follows ggml's reference `dequantize_row_*`
//! (`ggml-quants.c`) operation for operation, in f32, so results are bit-exact with ggml and with
//! gguf-py's `gguf.quants.dequantize` (tested in `tests/gguf.rs`).

use bytemuck::{Pod, Zeroable};
use half::{bf16, f16};

/// Elements per block of the k-quants.
const QK_K: usize = 256;

/// A ggml tensor type this reader can dequantize.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GgmlType {
    /// IEEE f32, 4 bytes per value.
    F32,
    /// IEEE f16, 2 bytes per value.
    F16,
    /// bfloat16, 2 bytes per value.
    BF16,
    /// [`BlockQ8_0`].
    Q8_0,
    /// [`BlockQ4_0`].
    Q4_0,
    /// [`BlockQ4_1`].
    Q4_1,
    /// [`BlockQ4K`].
    Q4K,
    /// [`BlockQ6K`].
    Q6K,
}

impl GgmlType {
    /// The type for a `ggml_type` id (the numbering of `ggml.h`), if this reader supports it.
    pub fn from_id(id: u32) -> Option<GgmlType> {
        Some(match id {
            0 => GgmlType::F32,
            1 => GgmlType::F16,
            2 => GgmlType::Q4_0,
            3 => GgmlType::Q4_1,
            8 => GgmlType::Q8_0,
            12 => GgmlType::Q4K,
            14 => GgmlType::Q6K,
            30 => GgmlType::BF16,
            _ => return None,
        })
    }

    /// Elements per block (1 for the float types).
    pub fn block_len(self) -> usize {
        match self {
            GgmlType::F32 | GgmlType::F16 | GgmlType::BF16 => 1,
            GgmlType::Q8_0 | GgmlType::Q4_0 | GgmlType::Q4_1 => 32,
            GgmlType::Q4K | GgmlType::Q6K => QK_K,
        }
    }

    /// Bytes per block.
    pub fn block_bytes(self) -> usize {
        match self {
            GgmlType::F32 => 4,
            GgmlType::F16 | GgmlType::BF16 => 2,
            GgmlType::Q8_0 => size_of::<BlockQ8_0>(),
            GgmlType::Q4_0 => size_of::<BlockQ4_0>(),
            GgmlType::Q4_1 => size_of::<BlockQ4_1>(),
            GgmlType::Q4K => size_of::<BlockQ4K>(),
            GgmlType::Q6K => size_of::<BlockQ6K>(),
        }
    }

    /// Bytes of `n` elements, `None` if `n` is not a whole number of blocks or overflows.
    pub fn bytes_for(self, n: usize) -> Option<usize> {
        if n % self.block_len() != 0 {
            return None;
        }
        (n / self.block_len()).checked_mul(self.block_bytes())
    }
}

/// `Q8_0`: 32 values `d * qs[i]`. 34 bytes, 8.5 bits per weight.
#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
pub struct BlockQ8_0 {
    /// Scale, f16.
    pub d: [u8; 2],
    /// Quants.
    pub qs: [i8; 32],
}
const _: () = assert!(size_of::<BlockQ8_0>() == 34);

/// `Q4_0`: 32 values `d * (q - 8)`; byte `j` holds value `j` (low nibble) and `j + 16` (high).
/// 18 bytes, 4.5 bits per weight.
#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
pub struct BlockQ4_0 {
    /// Scale, f16.
    pub d: [u8; 2],
    /// Nibbles.
    pub qs: [u8; 16],
}
const _: () = assert!(size_of::<BlockQ4_0>() == 18);

/// `Q4_1`: 32 values `d * q + m`, nibbles as in [`BlockQ4_0`]. 20 bytes, 5 bits per weight.
#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
pub struct BlockQ4_1 {
    /// Scale, f16.
    pub d: [u8; 2],
    /// Minimum, f16.
    pub m: [u8; 2],
    /// Nibbles.
    pub qs: [u8; 16],
}
const _: () = assert!(size_of::<BlockQ4_1>() == 20);

/// `Q4_K`: 256 values in 8 sub-blocks of 32, each `d * sc * q - dmin * m` with 6-bit `sc`, `m`
/// packed in `scales`. 144 bytes, 4.5 bits per weight.
#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
pub struct BlockQ4K {
    /// Super-block scale for the sub-block scales, f16.
    pub d: [u8; 2],
    /// Super-block scale for the sub-block minimums, f16.
    pub dmin: [u8; 2],
    /// 8 scales and 8 minimums, 6 bits each.
    pub scales: [u8; 12],
    /// Nibbles: bytes `32c..32c+32` hold sub-block `2c` (low) and `2c + 1` (high).
    pub qs: [u8; QK_K / 2],
}
const _: () = assert!(size_of::<BlockQ4K>() == 144);

/// `Q6_K`: 256 values in 16 sub-blocks of 16, each `d * sc * (q - 32)`, 6-bit `q` split into
/// 4 low bits (`ql`) and 2 high bits (`qh`). 210 bytes, 6.5625 bits per weight.
#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
pub struct BlockQ6K {
    /// Low 4 bits of the quants.
    pub ql: [u8; QK_K / 2],
    /// High 2 bits of the quants.
    pub qh: [u8; QK_K / 4],
    /// Sub-block scales, 8 bits.
    pub scales: [i8; QK_K / 16],
    /// Super-block scale, f16.
    pub d: [u8; 2],
}
const _: () = assert!(size_of::<BlockQ6K>() == 210);

/// Dequantizes `src` (whole blocks of `ty`) into `dst`.
///
/// `dst.len()` must be `src.len() / ty.block_bytes() * ty.block_len()`; `None` otherwise.
pub fn dequantize(ty: GgmlType, src: &[u8], dst: &mut [f32]) -> Option<()> {
    if src.len() % ty.block_bytes() != 0 || src.len() / ty.block_bytes() * ty.block_len() != dst.len() {
        return None;
    }
    match ty {
        GgmlType::F32 => dst.iter_mut().zip(src.chunks_exact(4)).for_each(|(y, b)| {
            *y = f32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        }),
        GgmlType::F16 => dst.iter_mut().zip(src.chunks_exact(2)).for_each(|(y, b)| *y = f16le([b[0], b[1]])),
        GgmlType::BF16 => dst
            .iter_mut()
            .zip(src.chunks_exact(2))
            .for_each(|(y, b)| *y = bf16::from_le_bytes([b[0], b[1]]).to_f32()),
        GgmlType::Q8_0 => blocks(src, dst, dequantize_q8_0),
        GgmlType::Q4_0 => blocks(src, dst, dequantize_q4_0),
        GgmlType::Q4_1 => blocks(src, dst, dequantize_q4_1),
        GgmlType::Q4K => blocks(src, dst, dequantize_q4_k),
        GgmlType::Q6K => blocks(src, dst, dequantize_q6_k),
    }
    Some(())
}

/// Applies `f` to each block of `src` and its `N` outputs in `dst` (lengths checked by the caller).
fn blocks<B: Pod, const N: usize>(src: &[u8], dst: &mut [f32], f: fn(&B, &mut [f32; N])) {
    let src: &[B] = bytemuck::cast_slice(src);
    for (b, y) in src.iter().zip(dst.chunks_exact_mut(N)) {
        if let Ok(y) = <&mut [f32; N]>::try_from(y) {
            f(b, y);
        }
    }
}

/// A little-endian f16 as f32 (exact).
fn f16le(b: [u8; 2]) -> f32 {
    f16::from_le_bytes(b).to_f32()
}

/// ggml `dequantize_row_q8_0`: `y = d * q`.
pub fn dequantize_q8_0(b: &BlockQ8_0, y: &mut [f32; 32]) {
    let d = f16le(b.d);
    for (y, &q) in y.iter_mut().zip(&b.qs) {
        *y = q as f32 * d;
    }
}

/// ggml `dequantize_row_q4_0`: `y = (q - 8) * d`.
pub fn dequantize_q4_0(b: &BlockQ4_0, y: &mut [f32; 32]) {
    let d = f16le(b.d);
    let (lo, hi) = y.split_at_mut(16);
    for ((l, h), &q) in lo.iter_mut().zip(hi).zip(&b.qs) {
        *l = ((q & 0x0F) as i32 - 8) as f32 * d;
        *h = ((q >> 4) as i32 - 8) as f32 * d;
    }
}

/// ggml `dequantize_row_q4_1`: `y = q * d + m` (a multiply, then an add: no fused multiply-add).
pub fn dequantize_q4_1(b: &BlockQ4_1, y: &mut [f32; 32]) {
    let (d, m) = (f16le(b.d), f16le(b.m));
    let (lo, hi) = y.split_at_mut(16);
    for ((l, h), &q) in lo.iter_mut().zip(hi).zip(&b.qs) {
        *l = (q & 0x0F) as f32 * d + m;
        *h = (q >> 4) as f32 * d + m;
    }
}

/// ggml `get_scale_min_k4`: the 6-bit scale and minimum of sub-block `j` (0..8).
fn scale_min_k4(j: usize, q: &[u8; 12]) -> (u8, u8) {
    if j < 4 {
        (q[j] & 63, q[j + 4] & 63)
    } else {
        ((q[j + 4] & 0x0F) | ((q[j - 4] >> 6) << 4), (q[j + 4] >> 4) | ((q[j] >> 6) << 4))
    }
}

/// ggml `dequantize_row_q4_K`: per sub-block, `y = (d * sc) * q - (dmin * m)`.
pub fn dequantize_q4_k(b: &BlockQ4K, y: &mut [f32; QK_K]) {
    let (d, dmin) = (f16le(b.d), f16le(b.dmin));
    // chunk c: 32 bytes of nibbles -> 64 values (sub-blocks 2c and 2c + 1)
    for (c, (y, qs)) in y.chunks_exact_mut(64).zip(b.qs.chunks_exact(32)).enumerate() {
        let (sc1, m1) = scale_min_k4(2 * c, &b.scales);
        let (sc2, m2) = scale_min_k4(2 * c + 1, &b.scales);
        let (d1, min1) = (d * sc1 as f32, dmin * m1 as f32);
        let (d2, min2) = (d * sc2 as f32, dmin * m2 as f32);
        let (lo, hi) = y.split_at_mut(32);
        for ((l, h), &q) in lo.iter_mut().zip(hi).zip(qs) {
            *l = d1 * (q & 0x0F) as f32 - min1;
            *h = d2 * (q >> 4) as f32 - min2;
        }
    }
}

/// ggml `dequantize_row_q6_K`: per sub-block of 16, `y = (d * sc) * (q - 32)`.
pub fn dequantize_q6_k(b: &BlockQ6K, y: &mut [f32; QK_K]) {
    let d = f16le(b.d);
    // half n: 128 values from ql[64n..64n+64], qh[32n..32n+32], scales[8n..8n+8]
    for n in 0..2 {
        let (ql, qh, sc) =
            (&b.ql[64 * n..64 * n + 64], &b.qh[32 * n..32 * n + 32], &b.scales[8 * n..8 * n + 8]);
        let y = &mut y[128 * n..128 * n + 128];
        for l in 0..32 {
            let is = l / 16;
            let q1 = ((ql[l] & 0x0F) | ((qh[l] & 3) << 4)) as i32 - 32;
            let q2 = ((ql[l + 32] & 0x0F) | (((qh[l] >> 2) & 3) << 4)) as i32 - 32;
            let q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) as i32 - 32;
            let q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) as i32 - 32;
            y[l] = d * sc[is] as f32 * q1 as f32;
            y[l + 32] = d * sc[is + 2] as f32 * q2 as f32;
            y[l + 64] = d * sc[is + 4] as f32 * q3 as f32;
            y[l + 96] = d * sc[is + 6] as f32 * q4 as f32;
        }
    }
}
