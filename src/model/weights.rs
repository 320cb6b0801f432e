//! Borrowed weight views, found and checked once at load time.
//!
//! Each encoder layer keeps only the section indices of its 16 tensors (2 bytes each); the views are
//! rebuilt from the validated blob when the layer runs, so the model struct stays small enough to
//! live on a microcontroller's stack.

use core::fmt::Write;

use super::config::BertConfig;
use crate::format::{Blob, DType, Section};
use crate::quant::{Matrix, MatrixData};
use crate::{Error, Result};

/// A linear layer: `y = x · Wᵀ + b`, `W: [out, in]`, `b: [out]`.
#[derive(Debug, Clone, Copy)]
pub struct Linear<'a> {
    /// Weights `[out, in]`.
    pub w: Matrix<'a>,
    /// Bias `[out]`.
    pub b: &'a [f32],
}

/// LayerNorm parameters, `[H]` each.
#[derive(Debug, Clone, Copy)]
pub struct Norm<'a> {
    /// Scale (gamma).
    pub weight: &'a [f32],
    /// Shift (beta).
    pub bias: &'a [f32],
}

/// One encoder layer (names as in Hugging Face `BertLayer`).
#[derive(Debug, Clone, Copy)]
pub struct LayerWeights<'a> {
    /// Query projection `[H, H]`.
    pub query: Linear<'a>,
    /// Key projection `[H, H]`.
    pub key: Linear<'a>,
    /// Value projection `[H, H]`.
    pub value: Linear<'a>,
    /// Attention output projection `[H, H]`.
    pub attn_out: Linear<'a>,
    /// LayerNorm after attention.
    pub attn_norm: Norm<'a>,
    /// Feed-forward up projection `[I, H]`.
    pub intermediate: Linear<'a>,
    /// Feed-forward down projection `[H, I]`.
    pub output: Linear<'a>,
    /// LayerNorm after the feed-forward block.
    pub out_norm: Norm<'a>,
}

/// What a tensor must look like: a matrix `[rows, cols]` in any weight dtype, or an f32 vector.
#[derive(Clone, Copy)]
pub(crate) enum Want {
    Mat(usize, usize),
    Vec(usize),
}

/// The 16 tensors of a layer, in the order their indices are stored.
pub(crate) const LAYER_TENSORS: [&str; 16] = [
    "attention.self.query.weight",
    "attention.self.query.bias",
    "attention.self.key.weight",
    "attention.self.key.bias",
    "attention.self.value.weight",
    "attention.self.value.bias",
    "attention.output.dense.weight",
    "attention.output.dense.bias",
    "attention.output.LayerNorm.weight",
    "attention.output.LayerNorm.bias",
    "intermediate.dense.weight",
    "intermediate.dense.bias",
    "output.dense.weight",
    "output.dense.bias",
    "output.LayerNorm.weight",
    "output.LayerNorm.bias",
];

pub(crate) fn layer_wants(c: &BertConfig) -> [Want; 16] {
    let (h, i) = (c.hidden, c.intermediate);
    use Want::{Mat, Vec};
    [
        Mat(h, h),
        Vec(h),
        Mat(h, h),
        Vec(h),
        Mat(h, h),
        Vec(h),
        Mat(h, h),
        Vec(h),
        Vec(h),
        Vec(h),
        Mat(i, h),
        Vec(i),
        Mat(h, i),
        Vec(h),
        Vec(h),
        Vec(h),
    ]
}

/// Finds `name` and checks it against `want`; returns its section index.
pub(crate) fn find(blob: &Blob<'_>, name: &str, want: Want, layer: u16, t: u16) -> Result<u16> {
    let Some((index, s)) = blob.section(name) else {
        return Err(Error::MissingSection { layer, tensor: t });
    };
    let ok = match want {
        Want::Mat(r, c) => {
            matches!(s.dtype, DType::F32 | DType::F16 | DType::I8Row)
                && s.ndim == 2
                && (s.rows(), s.cols()) == (r, c)
        }
        Want::Vec(n) => s.dtype == DType::F32 && s.ndim == 1 && s.rows() == n,
    };
    if !ok {
        return Err(Error::ShapeMismatch { index });
    }
    Ok(index)
}

/// Finds `encoder.layer.{layer}.{suffix}`.
pub(crate) fn find_in_layer(blob: &Blob<'_>, layer: usize, t: usize, want: Want) -> Result<u16> {
    let mut name: heapless::String<64> = heapless::String::new();
    let suffix = LAYER_TENSORS.get(t).copied().unwrap_or("");
    write!(name, "encoder.layer.{layer}.{suffix}").map_err(|_| Error::BadHeader { field: 56 })?;
    find(blob, &name, want, layer as u16, t as u16)
}

/// Views of checked sections. The index was checked at load time, so decoding cannot fail; if it
/// ever did, an empty view comes back, which the kernels treat as a no-op (never a panic).
pub(crate) fn entry(blob: &Blob<'_>, index: u16) -> Option<Section> {
    blob.section_at(index).ok()
}

/// The matrix at a checked index.
pub(crate) fn matrix<'a>(blob: &Blob<'a>, index: u16) -> Matrix<'a> {
    let empty = Matrix { rows: 0, cols: 0, data: MatrixData::F32(&[]) };
    entry(blob, index).and_then(|s| blob.matrix(index, &s).ok()).unwrap_or(empty)
}

/// The f32 vector at a checked index.
pub(crate) fn vector<'a>(blob: &Blob<'a>, index: u16) -> &'a [f32] {
    entry(blob, index).and_then(|s| blob.f32s(index, &s).ok()).unwrap_or(&[])
}

/// Builds a layer's views from its 16 checked indices.
pub(crate) fn layer<'a>(blob: &Blob<'a>, ix: &[u16; 16]) -> LayerWeights<'a> {
    let lin = |w: usize| Linear { w: matrix(blob, ix[w]), b: vector(blob, ix[w + 1]) };
    let norm = |w: usize| Norm { weight: vector(blob, ix[w]), bias: vector(blob, ix[w + 1]) };
    LayerWeights {
        query: lin(0),
        key: lin(2),
        value: lin(4),
        attn_out: lin(6),
        attn_norm: norm(8),
        intermediate: lin(10),
        output: lin(12),
        out_norm: norm(14),
    }
}
