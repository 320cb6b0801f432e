//! Weight matrix views over blob bytes, in any stored dtype.
//!
//! A [`Matrix`] is `rows x cols`, row-major, in the PyTorch `Linear` layout (`[out_features,
//! in_features]`): row `j` holds the weights of output `j`. int8 matrices keep the values plane and
//! the per-row scales plane apart so values stay aligned for SIMD and word loads.

use half::f16;

use crate::bounded::{copy, span};

/// The stored values of a [`Matrix`].
#[derive(Debug, Clone, Copy)]
pub enum MatrixData<'a> {
    /// f32 values, `rows * cols`.
    F32(&'a [f32]),
    /// f16 values, `rows * cols`; computed in f32.
    F16(&'a [f16]),
    /// Symmetric int8, one scale per row: `w[j][p] = values[j * cols + p] * scales[j]`.
    I8 {
        /// `rows * cols` int8 values.
        values: &'a [i8],
        /// `rows` f32 scales.
        scales: &'a [f32],
    },
    /// int4 in groups along each row with an f16 scale and offset per group (the packing of
    /// [`DType::I4`](crate::format::DType::I4)): `w[j][p] = u(j, p) * scales[g] + mins[g]`,
    /// `g = (j * cols + p) / group`, `u` in `0..=15`.
    I4 {
        /// `rows * cols / 2` bytes, two values per byte.
        values: &'a [u8],
        /// `rows * cols / group` f16 scales.
        scales: &'a [f16],
        /// `rows * cols / group` f16 offsets.
        mins: &'a [f16],
        /// Values per scale: 32 or 64 (`cols` is a multiple of it).
        group: usize,
    },
}

/// A borrowed weight matrix.
#[derive(Debug, Clone, Copy)]
pub struct Matrix<'a> {
    /// Rows (outputs).
    pub rows: usize,
    /// Columns (inputs).
    pub cols: usize,
    /// The values.
    pub data: MatrixData<'a>,
}

impl Matrix<'_> {
    /// Writes row `r` as f32 into `dst` (`dst.len() == cols`); used for embedding lookups.
    pub fn row_into(&self, r: usize, dst: &mut [f32]) {
        let (c, lo) = (self.cols, r * self.cols);
        match self.data {
            MatrixData::F32(v) => copy(dst, span(v, lo, c)),
            MatrixData::F16(v) => crate::kernels::f16_to_f32(dst, span(v, lo, c)),
            MatrixData::I8 { values, scales } => {
                let s = scales.get(r).copied().unwrap_or(0.0);
                for (d, &q) in dst.iter_mut().zip(span(values, lo, c)) {
                    *d = q as f32 * s;
                }
            }
            MatrixData::I4 { values, scales, mins, group } => {
                let row = span(values, lo / 2, c / 2);
                let (g0, groups) = (lo.checked_div(group).unwrap_or(0), c.checked_div(group).unwrap_or(0));
                let (row_scales, row_mins) = (span(scales, g0, groups), span(mins, g0, groups));
                // 32 values per 16-byte block: low nibbles first, then high nibbles.
                for (b, (d, packed)) in dst.chunks_exact_mut(32).zip(row.chunks_exact(16)).enumerate() {
                    let g = (b * 32).checked_div(group).unwrap_or(0);
                    let (Some(s), Some(mn)) = (row_scales.get(g), row_mins.get(g)) else { break };
                    let (s, mn) = (s.to_f32(), mn.to_f32());
                    let (lo_half, hi_half) = d.split_at_mut(16);
                    for ((l, h), &byte) in lo_half.iter_mut().zip(hi_half).zip(packed) {
                        *l = (byte & 0x0f) as f32 * s + mn;
                        *h = (byte >> 4) as f32 * s + mn;
                    }
                }
            }
        }
    }
}
