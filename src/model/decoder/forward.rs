//! The decoder forward pass, top to bottom: embed `m` new tokens at positions `p0..p0 + m`, run
//! every pre-norm layer (attention over the cache with a causal mask, then the MLP), and leave
//! the residual stream in `st.x[..m * H]`. The new keys and values are appended to the cache.

use super::arena::State;
use super::model::Decoder;
use super::weights::LayerWeights;
use crate::bounded::{copy, head, head_mut, rows, rows_mut, span};
use crate::format::Arch;
use crate::kernels;
use crate::model::ops::attention::{attention, Mask, Scratch};
use crate::model::ops::linear::{linear, norm_rows, Linear};
use crate::model::ops::rope;

/// Runs the `m` tokens `ids` (`1 <= m <= chunk`, `p0 + m <= context`, ids below the vocabulary
/// size: checked by the caller) at positions `p0..p0 + m`.
pub(crate) fn forward(model: &Decoder<'_>, st: &mut State<'_>, ids: &[u32], p0: usize) {
    let m = ids.len();
    embed(model, st, ids, p0);
    for l in 0..model.config().n_layers {
        if let Some(w) = model.layer(l) {
            attention_block(model, &w, st, l, p0, m);
            mlp_block(model, &w, st, m);
        }
    }
}

/// `logits [V] = head(norm(x[row]))`.
pub(crate) fn logits(model: &Decoder<'_>, st: &mut State<'_>, row: usize) {
    let (c, g) = (model.config(), model.globals());
    let h = c.hidden;
    let x = rows(st.x, row, 1, h);
    norm_rows(st.xn, x, &g.norm, c.eps, h, 1);
    linear(st.logits, head(st.xn, h), &g.head, st.xq, st.xs, 1);
}

/// `x[t] = embed[id_t]` (+ `position[p0 + t]` for GPT-2).
fn embed(model: &Decoder<'_>, st: &mut State<'_>, ids: &[u32], p0: usize) {
    let (g, h) = (model.globals(), model.config().hidden);
    for (t, (xr, &id)) in st.x.chunks_exact_mut(h.max(1)).zip(ids).enumerate() {
        g.embed.row_into(id as usize, xr);
        if model.config().arch == Arch::Gpt2 {
            let pos = head_mut(st.xn, h);
            g.position.row_into(p0 + t, pos);
            kernels::add_inplace(xr, pos);
        }
    }
}

/// `x += o(attention(q, k, v))` over the normed rows, appending this step's keys and values.
fn attention_block(
    model: &Decoder<'_>,
    w: &LayerWeights<'_>,
    st: &mut State<'_>,
    l: usize,
    p0: usize,
    m: usize,
) {
    let c = model.config();
    let (h, q, kv) = (c.hidden, c.q_dim(), c.kv_dim());
    norm_rows(st.xn, st.x, &w.attn_norm, c.eps, h, m);
    // q [m, Q], k [m, KV], v [m, KV]
    project_qkv(model, w, st, m);
    for t in 0..m {
        let (qr, kr, vr) = (rows_mut(st.q, t, 1, q), rows_mut(st.k, t, 1, kv), rows(st.v, t, 1, kv));
        if c.uses_rope() {
            rope::angles(st.cos, st.sin, st.inv_freq, p0 + t);
            rope::rotate(qr, st.cos, st.sin);
            rope::rotate(kr, st.cos, st.sin);
        }
        st.kv.store(l, p0 + t, kr, vr);
    }
    // ctx [m, Q] = softmax(q kᵀ / sqrt(d), causal) v over positions 0..p0 + m
    let s = &mut Scratch { scores: st.scores, xq: st.xq, xs: st.xs };
    attention(st.ctx, st.q, &mut st.kv, l, Mask::Causal { first: p0 }, s, &c.heads(), m, p0 + m);
    // x += ctx · Woᵀ (+ b)
    linear(st.xn, st.ctx, &w.o, st.xq, st.xs, m);
    kernels::add_inplace(head_mut(st.x, m * h), head(st.xn, m * h));
}

/// The query, key and value rows of the normed input `xn[m, H]` (GPT-2: one fused projection,
/// split into the three).
fn project_qkv(model: &Decoder<'_>, w: &LayerWeights<'_>, st: &mut State<'_>, m: usize) {
    let c = model.config();
    let (q, kv) = (c.q_dim(), c.kv_dim());
    if c.arch != Arch::Gpt2 {
        linear(st.q, st.xn, &w.q, st.xq, st.xs, m);
        linear(st.k, st.xn, &w.k, st.xq, st.xs, m);
        linear(st.v, st.xn, &w.v, st.xq, st.xs, m);
        return;
    }
    linear(st.qkv, st.xn, &w.q, st.xq, st.xs, m);
    let fused = q + 2 * kv;
    for (t, row) in head(st.qkv, m * fused).chunks_exact(fused.max(1)).enumerate() {
        copy(rows_mut(st.q, t, 1, q), head(row, q));
        copy(rows_mut(st.k, t, 1, kv), span(row, q, kv));
        copy(rows_mut(st.v, t, 1, kv), span(row, q + kv, kv));
    }
}

/// `x += down(act(up(norm(x))))`: SwiGLU for Llama, GELU-tanh for GPT-2.
fn mlp_block(model: &Decoder<'_>, w: &LayerWeights<'_>, st: &mut State<'_>, m: usize) {
    let c = model.config();
    let (h, i) = (c.hidden, c.intermediate);
    norm_rows(st.xn, st.x, &w.mlp_norm, c.eps, h, m);
    let ffn = head_mut(st.ffn, m * i);
    match c.arch {
        Arch::Gpt2 => {
            linear(ffn, st.xn, &w.up, st.xq, st.xs, m);
            kernels::gelu_tanh(ffn);
        }
        _ => {
            linear(ffn, st.xn, &w.gate, st.xq, st.xs, m);
            linear(st.up, st.xn, &w.up, st.xq, st.xs, m);
            kernels::silu_mul(ffn, head(st.up, m * i));
        }
    }
    let down: &Linear<'_> = &w.down;
    linear(st.xn, ffn, down, st.xq, st.xs, m);
    kernels::add_inplace(head_mut(st.x, m * h), head(st.xn, m * h));
}
