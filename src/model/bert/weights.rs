//! Borrowed BERT weight views, found and checked once at load time through [`schema::BERT`].
//!
//! Each encoder layer keeps only the section indices of its 16 tensors (2 bytes each); the views are
//! rebuilt from the validated blob when the layer runs, so the model struct stays small enough to
//! live on a microcontroller's stack.

use crate::format::Blob;
use crate::model::ops::linear::{Linear, Norm};
use crate::model::schema::{index_of, BERT, MAX_LAYER_TENSORS};
use crate::model::views::{matrix, vector};

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
    let at = |name: usize| ix[name];
    let lin = |w: usize, b: usize| Linear { w: matrix(blob, at(w)), b: vector(blob, at(b)) };
    let norm = |w: usize, b: usize| Norm { weight: vector(blob, at(w)), bias: vector(blob, at(b)) };
    LayerWeights {
        query: lin(Q_W, Q_B),
        key: lin(K_W, K_B),
        value: lin(V_W, V_B),
        attn_out: lin(O_W, O_B),
        attn_norm: norm(ATTN_NORM_W, ATTN_NORM_B),
        intermediate: lin(UP_W, UP_B),
        output: lin(DOWN_W, DOWN_B),
        out_norm: norm(OUT_NORM_W, OUT_NORM_B),
    }
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
