//! Borrowed BERT weight views, found and checked once at load time through [`schema::BERT`].
//!
//! Each encoder layer keeps only the section indices of its tensors (2 bytes each); the views are
//! rebuilt from the validated blob when the layer runs, so the model struct stays small enough to
//! live on a microcontroller's stack.

use crate::format::Blob;
use crate::model::ops::linear::{Linear, Norm};
use crate::model::schema::{index_of, BERT, MAX_LAYER_TENSORS};
use crate::model::views::{matrix, vector};
use crate::quant::MatrixData;
use crate::{Error, Result};

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

/// Builds a layer's views from its checked indices ([`schema::BERT`] layer order).
///
/// [`schema::BERT`]: crate::model::schema::BERT
pub(crate) fn layer<'a>(blob: &Blob<'a>, ix: &[u16; MAX_LAYER_TENSORS]) -> LayerWeights<'a> {
    let at = |name: usize| ix.get(name).copied().unwrap_or(u16::MAX);
    let lin = |[w, b, s]: [usize; 3]| Linear {
        w: matrix(blob, at(w)),
        b: vector(blob, at(b)),
        smooth: vector(blob, at(s)),
    };
    let norm = |w: usize, b: usize| Norm { weight: vector(blob, at(w)), bias: vector(blob, at(b)) };
    LayerWeights {
        query: lin(LINEARS[0]),
        key: lin(LINEARS[1]),
        value: lin(LINEARS[2]),
        attn_out: lin(LINEARS[3]),
        attn_norm: norm(ATTN_NORM_W, ATTN_NORM_B),
        intermediate: lin(LINEARS[4]),
        output: lin(LINEARS[5]),
        out_norm: norm(OUT_NORM_W, OUT_NORM_B),
    }
}

/// Activation smoothing only makes sense beside an int8 matrix (8-bit activations need integer
/// weights): anything else is `ShapeMismatch` naming the smoothing section of layer `l`.
pub(crate) fn check_smoothing(blob: &Blob<'_>, ix: &[u16; MAX_LAYER_TENSORS], l: usize) -> Result<()> {
    for [w, _, s] in LINEARS {
        let int8 = matches!(matrix(blob, ix[w]).data, MatrixData::I8 { .. });
        if ix[s] != u16::MAX && !int8 {
            let layer = Some(l.min(u16::MAX as usize) as u16);
            return Err(Error::ShapeMismatch { prefix: BERT.layer_prefix, layer, name: L[s].name });
        }
    }
    Ok(())
}

/// Name of the tensor of section index `i` within a layer.
const fn name(i: usize) -> &'static str {
    L[i].name
}

const L: &[crate::model::schema::TensorDef] = BERT.layer;
const Q_W: usize = index_of(L, "attention.self.query.weight");
const Q_B: usize = index_of(L, "attention.self.query.bias");
const K_W: usize = index_of(L, "attention.self.key.weight");
const K_B: usize = index_of(L, "attention.self.key.bias");
const V_W: usize = index_of(L, "attention.self.value.weight");
const V_B: usize = index_of(L, "attention.self.value.bias");
const O_W: usize = index_of(L, "attention.output.dense.weight");
const O_B: usize = index_of(L, "attention.output.dense.bias");
const ATTN_NORM_W: usize = index_of(L, "attention.output.LayerNorm.weight");
const ATTN_NORM_B: usize = index_of(L, "attention.output.LayerNorm.bias");
const UP_W: usize = index_of(L, "intermediate.dense.weight");
const UP_B: usize = index_of(L, "intermediate.dense.bias");
const DOWN_W: usize = index_of(L, "output.dense.weight");
const DOWN_B: usize = index_of(L, "output.dense.bias");
const OUT_NORM_W: usize = index_of(L, "output.LayerNorm.weight");
const OUT_NORM_B: usize = index_of(L, "output.LayerNorm.bias");

/// The layer's linear layers in [`LayerWeights`] order: (weight, bias, activation smoothing).
const LINEARS: [[usize; 3]; 6] = [
    [Q_W, Q_B, index_of(L, "attention.self.query.act_smooth")],
    [K_W, K_B, index_of(L, "attention.self.key.act_smooth")],
    [V_W, V_B, index_of(L, "attention.self.value.act_smooth")],
    [O_W, O_B, index_of(L, "attention.output.dense.act_smooth")],
    [UP_W, UP_B, index_of(L, "intermediate.dense.act_smooth")],
    [DOWN_W, DOWN_B, index_of(L, "output.dense.act_smooth")],
];

/// Section names (within a layer) of the matrices of [`LayerWeights`]' linear layers, as an
/// [`Observer`](crate::model::ops::linear::Observer) sees them.
pub(crate) const QUERY: &str = name(Q_W);
pub(crate) const KEY: &str = name(K_W);
pub(crate) const VALUE: &str = name(V_W);
pub(crate) const ATTN_OUT: &str = name(O_W);
pub(crate) const INTERMEDIATE: &str = name(UP_W);
pub(crate) const OUTPUT: &str = name(DOWN_W);
