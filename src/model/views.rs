//! Views of sections that were found and checked at load time (see [`schema::find`]).
//!
//! The index was checked when the model loaded, so decoding cannot fail; if it ever did (or the
//! index is `u16::MAX`, an absent optional tensor), an empty view comes back, which the kernels
//! treat as a no-op (never a panic).
//!
//! [`schema::find`]: super::schema::find

use crate::format::Blob;
use crate::quant::{Matrix, MatrixData};

/// The matrix at a checked index.
pub(crate) fn matrix<'a>(blob: &Blob<'a>, index: u16) -> Matrix<'a> {
    let empty = Matrix { rows: 0, cols: 0, data: MatrixData::F32(&[]) };
    blob.section_at(index).ok().and_then(|s| blob.matrix(index, &s).ok()).unwrap_or(empty)
}

/// The f32 vector at a checked index.
pub(crate) fn vector<'a>(blob: &Blob<'a>, index: u16) -> &'a [f32] {
    blob.section_at(index).ok().and_then(|s| blob.f32s(index, &s).ok()).unwrap_or(&[])
}
