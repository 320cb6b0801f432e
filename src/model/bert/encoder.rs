//! The BERT encoder forward pass, top to bottom: embeddings, then each layer's attention and
//! feed-forward blocks. Reads `st.ids[..len]`, leaves the final hidden states in `st.x[..len * H]`.

use super::arena::State;
use super::model::Bert;
use super::weights::{self as names, LayerWeights};
use crate::bounded::{head, head_mut, rows, rows_mut};
use crate::kernels;
use crate::model::ops::attention::{attention, Mask, Scratch};
use crate::model::ops::linear::{add_norm, linear, Observer};
use crate::model::ops::Heads;

/// Runs the encoder over the first `len` ids (1 <= len <= max_seq, checked by the caller), showing
/// `obs` the input of every linear layer.
pub(crate) fn forward(
    model: &Bert<'_>,
    st: &mut State<'_>,
    len: usize,
    chunk: usize,
    obs: &mut impl Observer,
) {
    embed(model, st, len);
    for l in 0..model.config().n_layers {
        if let Some(w) = model.layer(l) {
            layer(model, &w, st, (l, obs), len, chunk);
        }
    }
}

/// `x[t] = LayerNorm(word[id_t] + type[0] + position[t])` (single segment: token type 0).
fn embed(model: &Bert<'_>, st: &mut State<'_>, len: usize) {
    let (e, h) = (model.embeddings(), model.config().hidden);
    let tmp = head_mut(st.ctx, h);
    for (t, (xr, &id)) in st.x.chunks_exact_mut(h.max(1)).zip(st.ids.iter()).take(len).enumerate() {
        e.word.row_into(id as usize, xr);
        e.token_type.row_into(0, tmp);
        kernels::add_inplace(xr, tmp);
        e.position.row_into(t, tmp);
        kernels::add_inplace(xr, tmp);
        kernels::layer_norm(xr, e.norm.weight, e.norm.bias, model.config().eps);
    }
}

/// One post-LN BERT layer over `len` rows, `chunk` rows at a time. The key/value cache holds one
/// layer: this layer's keys and values of every position.
fn layer<O: Observer>(
    model: &Bert<'_>,
    w: &LayerWeights<'_>,
    st: &mut State<'_>,
    (l, obs): (usize, &mut O),
    len: usize,
    chunk: usize,
) {
    let c = model.config();
    let (h, i) = (c.hidden, c.intermediate);
    let heads = Heads { n_heads: c.n_heads, n_kv_heads: c.n_heads, head_dim: c.head_dim };
    // keys and values of every position: k [m, H] in ctx, v [m, H] in q, into the cache
    for r0 in (0..len).step_by(chunk.max(1)) {
        let m = chunk.min(len - r0);
        let x = rows(st.x, r0, m, h);
        obs.linear_input(l, names::KEY, x, h);
        obs.linear_input(l, names::VALUE, x, h);
        linear(st.ctx, x, &w.key, st.xq, st.xs, m);
        linear(st.q, x, &w.value, st.xq, st.xs, m);
        for (t, (k, v)) in head(st.ctx, m * h)
            .chunks_exact(h.max(1))
            .zip(head(st.q, m * h).chunks_exact(h.max(1)))
            .enumerate()
        {
            st.kv.store(0, r0 + t, k, v);
        }
    }
    for r0 in (0..len).step_by(chunk.max(1)) {
        let m = chunk.min(len - r0);
        let x = rows_mut(st.x, r0, m, h);
        // self-attention: q [m, H] -> ctx [m, H] -> q = ctx · Woᵀ + bo; x = LN(q + x)
        obs.linear_input(l, names::QUERY, x, h);
        linear(st.q, x, &w.query, st.xq, st.xs, m);
        let s = &mut Scratch { scores: st.scores, xq: st.xq, xs: st.xs };
        attention(st.ctx, st.q, &mut st.kv, 0, Mask::Bidirectional, s, &heads, m, len);
        obs.linear_input(l, names::ATTN_OUT, head(st.ctx, m * h), h);
        linear(st.q, st.ctx, &w.attn_out, st.xq, st.xs, m);
        add_norm(x, st.q, &w.attn_norm, c.eps, h, m);
        // feed-forward: ffn [m, I] = gelu(x · W1ᵀ + b1); ctx = ffn · W2ᵀ + b2; x = LN(ctx + x)
        obs.linear_input(l, names::INTERMEDIATE, x, h);
        linear(st.ffn, x, &w.intermediate, st.xq, st.xs, m);
        kernels::gelu_erf(head_mut(st.ffn, m * i));
        obs.linear_input(l, names::OUTPUT, head(st.ffn, m * i), i);
        linear(st.ctx, st.ffn, &w.output, st.xq, st.xs, m);
        add_norm(x, st.ctx, &w.out_norm, c.eps, h, m);
    }
}
