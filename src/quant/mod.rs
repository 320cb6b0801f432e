//! Weight matrix views over blob bytes, in any stored dtype.
//!
//! A [`Matrix`] is `rows x cols`, row-major, in the PyTorch `Linear` layout (`[out_features,
//! in_features]`): row `j` holds the weights of output `j`. int8 matrices keep the values plane and
//! the per-row scales plane apart so values stay aligned for SIMD and word loads.

use half::f16;

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
            MatrixData::F32(v) => dst.copy_from_slice(&v[lo..lo + c]),
            MatrixData::F16(v) => crate::kernels::f16_to_f32(dst, &v[lo..lo + c]),
            MatrixData::I8 { values, scales } => {
                let s = scales[r];
                for (d, &q) in dst.iter_mut().zip(&values[lo..lo + c]) {
                    *d = q as f32 * s;
                }
            }
        }
    }
}
