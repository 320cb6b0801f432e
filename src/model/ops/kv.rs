//! The key/value cache: keys and values of up to `capacity` positions for each of `layers`
//! layers, in f32, f16 or int8, appended one position at a time, and the two attention products
//! that read them.
//!
//! Layout, per layer and key/value head, with the capacity as stride (so appending never moves
//! what is stored):
//! ```text
//! k  [layers, kv_heads, capacity, d]   keys, one row of d per position
//! v  [layers, kv_heads, d, capacity]   values transposed: one row of `capacity` per channel
//! ```
//! so that `scores = q_h · k_hᵀ` reads the first `len` key rows as one contiguous `[len, d]`
//! matrix. For `out_h = p · v_h` the first `len` values of each channel are gathered into the
//! scratch `vt [d, capacity]` (same precision) as one contiguous `[d, len]` matrix, so the product
//! is one matmul with the `d` channels as weight rows (one call per head, not one per channel).
//!
//! In int8, each (layer, head, position) key slice of `d` values is one row of the reference
//! quantizer ([`kernels::quantize_row_i8`]) with its own f32 scale (`ks`, `vs`:
//! `[layers, kv_heads, capacity]`):
//! - scores: the query rows are quantized to 16 bits and multiplied with the int8 key rows by
//!   `matmul_i8_i16`, the key scales as weight scales;
//! - context: `out_h = Σ_j p_j · (sv_j · v_j) = Σ_j (p_j · sv_j) · v_j`: the value scale of position
//!   `j` is folded into the attention weight `p_j`, then `p'` is quantized to 16 bits and multiplied
//!   with the int8 value rows (unit weight scales).
//!
//! Accumulation is exact in i32: 16-bit activations stay within [`kernels::i16_act_max`] of the
//! reduced length (`d`, then `len`; 32767 up to 511).

use half::f16;

use super::Heads;
use crate::bounded::{copy, head, head_mut, rows_mut, span, span_mut};
use crate::kernels;
use crate::model::arena::Carver;
use crate::model::KvPrecision;
use crate::Result;

/// The stored keys and values (shapes in the module docs).
pub(crate) enum KvData<'a> {
    F32 { k: &'a mut [f32], v: &'a mut [f32], vt: &'a mut [f32] },
    F16 { k: &'a mut [f16], v: &'a mut [f16], vt: &'a mut [f16] },
    I8 { k: &'a mut [i8], ks: &'a mut [f32], v: &'a mut [i8], vs: &'a mut [f32], vt: &'a mut [i8] },
}

/// Keys and values of every layer and position, with their scratch.
pub(crate) struct KvCache<'a> {
    data: KvData<'a>,
    heads: Heads,
    capacity: usize,
    /// `[d]` int8 quantization scratch (empty unless int8).
    row: &'a mut [i8],
    /// `[d]` unit weight scales (int8 context; empty otherwise).
    one: &'a mut [f32],
    /// The (layer, key/value head, positions) whose values `vt` holds, if any: query heads that
    /// share a key/value head (grouped-query attention) gather them once.
    vt_of: Option<(usize, usize, usize)>,
}

impl<'a> KvCache<'a> {
    /// Carves a cache of `layers` x `capacity` positions in `precision`.
    pub(crate) fn carve(
        c: &mut Carver<'a>,
        precision: KvPrecision,
        heads: Heads,
        layers: usize,
        capacity: usize,
    ) -> Result<KvCache<'a>> {
        let n = c.count(&[layers, capacity, heads.kv_dim()])?;
        let scales = c.count(&[layers, heads.n_kv_heads, capacity])?;
        let vt = c.count(&[heads.head_dim, capacity])?;
        let data = match precision {
            KvPrecision::F32 => KvData::F32 { k: c.f32s(n)?, v: c.f32s(n)?, vt: c.f32s(vt)? },
            KvPrecision::F16 => KvData::F16 { k: c.f16s(n)?, v: c.f16s(n)?, vt: c.f16s(vt)? },
            KvPrecision::I8 => KvData::I8 {
                k: c.i8s(n)?,
                ks: c.f32s(scales)?,
                v: c.i8s(n)?,
                vs: c.f32s(scales)?,
                vt: c.i8s(vt)?,
            },
        };
        let int8 = precision == KvPrecision::I8;
        let row = c.i8s(if int8 { heads.head_dim } else { 0 })?;
        let one = c.f32s(if int8 { heads.head_dim } else { 0 })?;
        one.fill(1.0);
        Ok(KvCache { data, heads, capacity, row, one, vt_of: None })
    }

    /// First element of the `[capacity, d]` key block (or `[d, capacity]` value block) of
    /// (`layer`, `kv_head`); the scales of that block start at `block / d`.
    fn block(&self, layer: usize, kv_head: usize) -> usize {
        (layer * self.heads.n_kv_heads + kv_head) * self.capacity * self.heads.head_dim
    }

    /// Stores the keys `k[kv_dim]` and values `v[kv_dim]` of position `pos` of `layer`
    /// (`pos < capacity`, checked by the caller).
    pub(crate) fn store(&mut self, layer: usize, pos: usize, k: &[f32], v: &[f32]) {
        let (d, cap) = (self.heads.head_dim, self.capacity);
        self.vt_of = None;
        for (head, (kh, vh)) in k.chunks_exact(d.max(1)).zip(v.chunks_exact(d.max(1))).enumerate() {
            let base = self.block(layer, head);
            let (krow, scale_at) = (base + pos * d, base.checked_div(d).unwrap_or(0) + pos);
            // value element e of this position sits at base + e * cap + pos
            let (vcol0, cap) = (base + pos, cap.max(1));
            match &mut self.data {
                KvData::F32 { k, v, .. } => {
                    copy(span_mut(k, krow, d), kh);
                    for (dst, &x) in v.iter_mut().skip(vcol0).step_by(cap).zip(vh) {
                        *dst = x;
                    }
                }
                KvData::F16 { k, v, .. } => {
                    for (dst, &x) in span_mut(k, krow, d).iter_mut().zip(kh) {
                        *dst = f16::from_f32(x);
                    }
                    for (dst, &x) in v.iter_mut().skip(vcol0).step_by(cap).zip(vh) {
                        *dst = f16::from_f32(x);
                    }
                }
                KvData::I8 { k, ks, v, vs, .. } => {
                    let k_scale = kernels::quantize_row_i8(span_mut(k, krow, d), kh);
                    let v_scale = kernels::quantize_row_i8(self.row, vh);
                    if let (Some(ks), Some(vs)) = (ks.get_mut(scale_at), vs.get_mut(scale_at)) {
                        (*ks, *vs) = (k_scale, v_scale);
                    }
                    for (dst, &x) in v.iter_mut().skip(vcol0).step_by(cap).zip(self.row.iter()) {
                        *dst = x;
                    }
                }
            }
        }
    }

    /// `scores[m, len] = q_h[m, d] · k_hᵀ` against the first `len` positions of (`layer`,
    /// `kv_head`). `xq`, `xs` are scratch (int8 only).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn scores(
        &self,
        scores: &mut [f32],
        qh: &[f32],
        layer: usize,
        kv_head: usize,
        m: usize,
        len: usize,
        xq: &mut [i16],
        xs: &mut [f32],
    ) {
        let d = self.heads.head_dim;
        let base = self.block(layer, kv_head);
        let (scores, qh, keys) = (head_mut(scores, m * len), head(qh, m * d), (base, len * d));
        match &self.data {
            KvData::F32 { k, .. } => kernels::matmul_f32(scores, qh, span(k, keys.0, keys.1), m, d, len),
            KvData::F16 { k, .. } => kernels::matmul_f16(scores, qh, span(k, keys.0, keys.1), m, d, len),
            KvData::I8 { k, ks, .. } => {
                let (xq, xs) = kernels::quantize_rows_i16(xq, xs, qh, m, d);
                let (k, ks) = (span(k, keys.0, keys.1), span(ks, base.checked_div(d).unwrap_or(0), len));
                kernels::matmul_i8_i16(scores, xq, xs, k, ks, m, d, len);
            }
        }
    }

    /// `out[m, d] = p[m, len] · v_h`: the attention output of one head over the first `len`
    /// positions of (`layer`, `kv_head`), one matmul with the gathered channels `vt[d, len]` as weight
    /// rows. `p` is consumed (int8: scaled in place); `xq`, `xs` are scratch (int8 only).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn context(
        &mut self,
        out: &mut [f32],
        p: &mut [f32],
        layer: usize,
        kv_head: usize,
        m: usize,
        len: usize,
        xq: &mut [i16],
        xs: &mut [f32],
    ) {
        let (d, cap) = (self.heads.head_dim, self.capacity);
        let base = self.block(layer, kv_head);
        let (out, p) = (head_mut(out, m * d), head_mut(p, m * len));
        let fresh = self.vt_of != Some((layer, kv_head, len));
        self.vt_of = Some((layer, kv_head, len));
        let KvCache { data, one, .. } = self;
        match data {
            KvData::F32 { v, vt, .. } => {
                let vt = gather(vt, v, fresh, base, cap, d, len);
                kernels::matmul_f32(out, p, vt, m, len, d);
            }
            KvData::F16 { v, vt, .. } => {
                let vt = gather(vt, v, fresh, base, cap, d, len);
                kernels::matmul_f16(out, p, vt, m, len, d);
            }
            KvData::I8 { v, vs, vt, .. } => {
                let vs = span(vs, base.checked_div(d).unwrap_or(0), len);
                for prow in p.chunks_exact_mut(len.max(1)) {
                    for (pj, &sv) in prow.iter_mut().zip(vs) {
                        *pj *= sv;
                    }
                }
                let (xq, xs) = kernels::quantize_rows_i16(xq, xs, p, m, len);
                let vt = gather(vt, v, fresh, base, cap, d, len);
                kernels::matmul_i8_i16(out, xq, xs, vt, head(one, d), m, len, d);
            }
        }
    }
}

/// `vt[d, len]`: the first `len` values of the `d` channel rows (stride `cap`) of the value block
/// that starts at `base`, copied unless `vt` holds them already (`fresh` false).
#[allow(clippy::too_many_arguments)]
fn gather<'t, T: Copy>(
    vt: &'t mut [T],
    v: &[T],
    fresh: bool,
    base: usize,
    cap: usize,
    d: usize,
    len: usize,
) -> &'t [T] {
    if fresh {
        for e in 0..d {
            copy(rows_mut(vt, e, 1, len), span(v, base + e * cap, len));
        }
    }
    head(vt, d * len)
}
