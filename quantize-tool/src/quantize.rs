//! Encoding tensors in the blob's weight dtypes, with the error each encoding introduces.
//!
//! int8 uses the core's reference quantizer ([`picoformer::kernels::quantize_row_i8`]) so blobs are
//! deterministic byte for byte; f16 rounds to nearest even. int4 ([`DType::I4`], groups of
//! [`INT4_GROUP`]) applies to the matrices inside the layers; embeddings, heads and any matrix whose
//! rows are not a multiple of the group stay int8 ([`matrix_dtype`]).

use half::f16;
use picoformer::format::{f32_bytes, i4_group_bytes, i8_row_bytes, DType};
use picoformer::model::schema::SCHEMAS;

/// Values per scale of the int4 matrices the tool writes.
pub const INT4_GROUP: usize = 32;

/// The storage dtype for 2-D weight matrices (1-D tensors always stay f32).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WeightDtype {
    /// 32 bits per weight, exact.
    #[default]
    F32,
    /// 16 bits per weight.
    F16,
    /// 8 bits per weight plus one f32 scale per row.
    Int8,
    /// 4 bits per weight plus one f16 scale per group of 32 along a row, for the layers' matrices
    /// (the rest int8, see [`matrix_dtype`]).
    Int4,
    /// As [`WeightDtype::Int4`] with groups of 64: half the scales (0.125 bytes less per weight),
    /// e.g. for a large token-embedding table (`--embeddings int4-g64`).
    Int4G64,
}

impl WeightDtype {
    /// The on-disk dtype.
    pub fn dtype(self) -> DType {
        match self {
            WeightDtype::F32 => DType::F32,
            WeightDtype::F16 => DType::F16,
            WeightDtype::Int8 => DType::I8Row,
            WeightDtype::Int4 => DType::I4 { group: INT4_GROUP as u32 },
            WeightDtype::Int4G64 => DType::I4 { group: 64 },
        }
    }

    /// Values per scale of an int4 dtype.
    pub fn group(self) -> Option<usize> {
        match self {
            WeightDtype::Int4 => Some(INT4_GROUP),
            WeightDtype::Int4G64 => Some(64),
            _ => None,
        }
    }

    /// The CLI spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            WeightDtype::F32 => "f32",
            WeightDtype::F16 => "f16",
            WeightDtype::Int8 => "int8",
            WeightDtype::Int4 => "int4",
            WeightDtype::Int4G64 => "int4-g64",
        }
    }
}

impl std::str::FromStr for WeightDtype {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "f32" => Ok(WeightDtype::F32),
            "f16" => Ok(WeightDtype::F16),
            "int8" | "i8" => Ok(WeightDtype::Int8),
            "int4" | "i4" => Ok(WeightDtype::Int4),
            "int4-g64" | "i4g64" => Ok(WeightDtype::Int4G64),
            _ => Err(format!("unknown dtype {s:?} (f32, f16, int8, int4, int4-g64)")),
        }
    }
}

/// How far the stored values are from the originals.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ErrorStats {
    /// `max |w - deq(q(w))|`.
    pub max_abs: f32,
    /// `||w - deq(q(w))|| / ||w||` (0 for an all-zero tensor stored exactly).
    pub rel_rmse: f32,
}

impl ErrorStats {
    /// Compares `orig` with its round trip `deq`.
    pub fn between(orig: &[f32], deq: &[f32]) -> ErrorStats {
        let (mut max_abs, mut err2, mut norm2) = (0f32, 0f64, 0f64);
        for (&a, &b) in orig.iter().zip(deq) {
            let d = (a - b).abs();
            max_abs = max_abs.max(d);
            err2 += (d as f64) * (d as f64);
            norm2 += (a as f64) * (a as f64);
        }
        let rel_rmse = match norm2 > 0.0 {
            true => (err2 / norm2).sqrt() as f32,
            false if err2 > 0.0 => f32::INFINITY,
            false => 0.0,
        };
        ErrorStats { max_abs, rel_rmse }
    }
}

/// A tensor encoded for the blob.
#[derive(Debug, Clone)]
pub struct Encoded {
    /// Its dtype.
    pub dtype: DType,
    /// Its bytes (`dtype.byte_len(rows, cols)`).
    pub bytes: Vec<u8>,
    /// The error of the encoding.
    pub stats: ErrorStats,
}

/// The dtype the section `name` (a `cols`-wide matrix) is stored in when the user asked for `dtype`:
/// int4 only for matrices inside the layers (names under an architecture's layer prefix) whose rows
/// are a multiple of [`INT4_GROUP`]; the others int8. Embeddings (a row per token, read one row at a
/// time), LM heads and classifiers keep the 8 bits that make them cheap in accuracy, unless
/// `embeddings` names a dtype for the token-embedding table ([`is_token_embeddings`]; int4 there
/// needs rows that are a multiple of [`INT4_GROUP`] too, else int8).
pub fn matrix_dtype(
    dtype: WeightDtype,
    embeddings: Option<WeightDtype>,
    name: &str,
    cols: usize,
) -> WeightDtype {
    let in_layer = SCHEMAS.iter().any(|s| name.starts_with(s.layer_prefix));
    let (asked, int4_allowed) = match embeddings {
        Some(e) if is_token_embeddings(name) => (e, true),
        _ => (dtype, in_layer),
    };
    match asked.group() {
        Some(g) if !(int4_allowed && cols % g == 0) => WeightDtype::Int8,
        _ => asked,
    }
}

/// Whether section `name` is an architecture's token-embedding table
/// ([`Schema::token_embeddings`](picoformer::model::schema::Schema::token_embeddings)).
pub fn is_token_embeddings(name: &str) -> bool {
    SCHEMAS.iter().any(|s| s.token_embeddings().is_some_and(|d| d.name == name))
}

/// Encodes a `rows x cols` matrix (row-major f32) in `dtype`.
pub fn encode_matrix(data: &[f32], rows: usize, cols: usize, dtype: WeightDtype) -> Encoded {
    debug_assert_eq!(data.len(), rows * cols);
    match dtype {
        WeightDtype::Int4 | WeightDtype::Int4G64 if cols % dtype.group().unwrap_or(INT4_GROUP) == 0 => {
            let group = dtype.group().unwrap_or(INT4_GROUP);
            let (q, scales) = quantize_i4_groups(data, group);
            let deq: Vec<f32> = q
                .iter()
                .enumerate()
                .map(|(i, &v)| {
                    let (s, mn) = scales[i / group];
                    v as f32 * s.to_f32() + mn.to_f32()
                })
                .collect();
            let stats = ErrorStats::between(data, &deq);
            Encoded { dtype: dtype.dtype(), bytes: i4_group_bytes(&q, &scales), stats }
        }
        WeightDtype::Int4 | WeightDtype::Int4G64 => encode_matrix(data, rows, cols, WeightDtype::Int8),
        WeightDtype::F32 => encode_vector(data),
        WeightDtype::F16 => {
            let h: Vec<f16> = data.iter().map(|&x| f16::from_f32(x)).collect();
            let deq: Vec<f32> = h.iter().map(|x| x.to_f32()).collect();
            let bytes = h.iter().flat_map(|x| x.to_le_bytes()).collect();
            Encoded { dtype: DType::F16, bytes, stats: ErrorStats::between(data, &deq) }
        }
        WeightDtype::Int8 => {
            let (values, scales) = quantize_i8_rows(data, rows, cols);
            let deq: Vec<f32> = values
                .chunks_exact(cols.max(1))
                .zip(&scales)
                .flat_map(|(row, &s)| row.iter().map(move |&q| q as f32 * s))
                .collect();
            let stats = ErrorStats::between(data, &deq);
            Encoded { dtype: DType::I8Row, bytes: i8_row_bytes(&values, &scales), stats }
        }
    }
}

/// Encodes a tensor as f32 (exact).
pub fn encode_vector(data: &[f32]) -> Encoded {
    Encoded { dtype: DType::F32, bytes: f32_bytes(data), stats: ErrorStats::default() }
}

/// Group-wise int4 with a scale and an offset, as GGUF's Q4_1: for each run of `group` values it
/// starts from `min = f16(min x)`, `scale = f16((max x - min) / 15)` and `u = clamp(round((x - min)
/// / scale), 0, 15)` with the stored (f16) values, then refines `(scale, min)` by least squares on
/// those `u` and re-rounds `u` ([`I4_REFINE`] times), keeping whichever candidate has the smallest
/// squared error with its f16 scale and offset. So the dequantized `u * scale + min` is on the grid
/// the blob really holds, and weights that came from a Q4_1 GGUF (group 32) are reproduced exactly
/// (the first candidate has no error). A constant group stores scale 0 and its value as the
/// offset; a group with a non-finite value, or outside the f16 range, stores zeros. `data.len()` is
/// a multiple of `group`. Returns `(u, (scale, min) per group)`.
pub fn quantize_i4_groups(data: &[f32], group: usize) -> (Vec<u8>, Vec<(f16, f16)>) {
    let mut u = Vec::with_capacity(data.len());
    let mut scales = Vec::with_capacity(data.len() / group);
    let (mut cand, mut best) = (vec![0u8; group], vec![0u8; group]);
    for g in data.chunks_exact(group) {
        let lo = g.iter().fold(f32::INFINITY, |m, &v| m.min(v));
        let hi = g.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v));
        let (mut s, mut mn) = (f16::from_f32((hi - lo) / 15.0), f16::from_f32(lo));
        if !(lo.is_finite() && hi.is_finite() && s.to_f32().is_finite() && mn.to_f32().is_finite()) {
            u.extend(std::iter::repeat_n(0u8, group));
            scales.push((f16::ZERO, f16::ZERO));
            continue;
        }
        let mut best_err = assign_i4(g, s, mn, &mut best);
        let mut best_sm = (s, mn);
        cand.copy_from_slice(&best);
        for _ in 0..I4_REFINE {
            let Some((s2, m2)) = fit_scale_min(g, &cand) else { break };
            (s, mn) = (s2, m2);
            let err = assign_i4(g, s, mn, &mut cand);
            if err < best_err {
                (best_err, best_sm) = (err, (s, mn));
                best.copy_from_slice(&cand);
            }
        }
        u.extend_from_slice(&best);
        scales.push(best_sm);
    }
    (u, scales)
}

/// Least-squares refinements of an int4 group's scale and offset.
pub const I4_REFINE: usize = 4;

/// `u = clamp(round((x - min) / scale), 0, 15)` (0 where the scale is 0) with the f16 values as
/// stored; returns the squared error of `u * scale + min`.
fn assign_i4(g: &[f32], s: f16, mn: f16, u: &mut [u8]) -> f64 {
    let (sf, mf) = (s.to_f32(), mn.to_f32());
    let mut err = 0f64;
    for (d, &x) in u.iter_mut().zip(g) {
        *d = if sf > 0.0 { ((x - mf) / sf).round().clamp(0.0, 15.0) as u8 } else { 0 };
        let e = x as f64 - (*d as f32 * sf + mf) as f64;
        err += e * e;
    }
    err
}

/// The `(scale, min)` minimising `Σ (x - (u * scale + min))²` for fixed `u`, rounded to f16; `None`
/// when all `u` are equal or the result is not finite in f16.
fn fit_scale_min(g: &[f32], u: &[u8]) -> Option<(f16, f16)> {
    let n = g.len() as f64;
    let (mut su, mut suu, mut sx, mut sux) = (0f64, 0f64, 0f64, 0f64);
    for (&x, &q) in g.iter().zip(u) {
        let (x, q) = (x as f64, q as f64);
        (su, suu, sx, sux) = (su + q, suu + q * q, sx + x, sux + q * x);
    }
    let det = n * suu - su * su;
    if det <= 0.0 {
        return None;
    }
    let scale = (n * sux - su * sx) / det;
    let min = (sx - scale * su) / n;
    let (s, m) = (f16::from_f64(scale.max(0.0)), f16::from_f64(min));
    (s.to_f32().is_finite() && m.to_f32().is_finite()).then_some((s, m))
}

/// Per-row symmetric int8 with the core's reference quantizer: `(values, scales)`.
pub fn quantize_i8_rows(data: &[f32], rows: usize, cols: usize) -> (Vec<i8>, Vec<f32>) {
    let mut values = vec![0i8; rows * cols];
    let mut scales = Vec::with_capacity(rows);
    for (dst, src) in values.chunks_exact_mut(cols).zip(data.chunks_exact(cols)) {
        scales.push(picoformer::kernels::quantize_row_i8(dst, src));
    }
    (values, scales)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn int4_groups_pack_and_fall_back() {
        let w: Vec<f32> = (0..4 * 64).map(|i| ((i * 37 % 29) as f32 - 14.0) * 0.011).collect();
        let e = encode_matrix(&w, 4, 64, WeightDtype::Int4);
        assert_eq!(e.dtype, DType::I4 { group: 32 });
        assert_eq!(Some(e.bytes.len()), e.dtype.byte_len(4, 64));
        // 4 bits: the error is at most half a step, (max - min) / 30 of each group.
        assert!(e.stats.max_abs <= 28.0 * 0.011 / 30.0 + 1e-3, "{:?}", e.stats);
        assert!(e.stats.rel_rmse < 0.1, "{:?}", e.stats);
        // groups of 64: one scale and offset per row here, the same error bound over the row
        let e64 = encode_matrix(&w, 4, 64, WeightDtype::Int4G64);
        assert_eq!(e64.dtype, DType::I4 { group: 64 });
        assert_eq!(Some(e64.bytes.len()), e64.dtype.byte_len(4, 64));
        assert!(e64.bytes.len() < e.bytes.len());
        assert!(e64.stats.max_abs <= 28.0 * 0.011 / 30.0 + 1e-3, "{:?}", e64.stats);
        // Rows that are not whole groups stay int8.
        let e = encode_matrix(&w[..4 * 48], 4, 48, WeightDtype::Int4);
        assert_eq!(e.dtype, DType::I8Row);
        // Only the layers' matrices go to 4 bits.
        assert_eq!(
            matrix_dtype(WeightDtype::Int4, None, "layers.3.mlp.up_proj.weight", 576),
            WeightDtype::Int4
        );
        assert_eq!(
            matrix_dtype(WeightDtype::Int4, None, "encoder.layer.0.output.dense.weight", 1536),
            WeightDtype::Int4
        );
        assert_eq!(matrix_dtype(WeightDtype::Int4, None, "h.0.attn.c_attn.weight", 768), WeightDtype::Int4);
        assert_eq!(matrix_dtype(WeightDtype::Int4, None, "embed_tokens.weight", 576), WeightDtype::Int8);
        assert_eq!(matrix_dtype(WeightDtype::Int4, None, "classifier.weight", 384), WeightDtype::Int8);
        assert_eq!(
            matrix_dtype(WeightDtype::Int4, None, "layers.0.self_attn.q_proj.weight", 48),
            WeightDtype::Int8
        );
        assert_eq!(matrix_dtype(WeightDtype::F16, None, "embed_tokens.weight", 576), WeightDtype::F16);
        // an embeddings dtype applies to the token-embedding table of each architecture alone
        let int4_emb = |dtype, name, cols| matrix_dtype(dtype, Some(WeightDtype::Int4), name, cols);
        assert_eq!(int4_emb(WeightDtype::Int8, "embeddings.word_embeddings.weight", 128), WeightDtype::Int4);
        assert_eq!(int4_emb(WeightDtype::F32, "embed_tokens.weight", 576), WeightDtype::Int4);
        let g64 = |name, cols| matrix_dtype(WeightDtype::Int4, Some(WeightDtype::Int4G64), name, cols);
        assert_eq!(g64("embeddings.word_embeddings.weight", 128), WeightDtype::Int4G64);
        assert_eq!(g64("embeddings.word_embeddings.weight", 96), WeightDtype::Int8); // 96 is no whole group
        assert_eq!(g64("encoder.layer.0.output.dense.weight", 512), WeightDtype::Int4);
        assert_eq!(int4_emb(WeightDtype::F16, "wte.weight", 768), WeightDtype::Int4);
        assert_eq!(
            int4_emb(WeightDtype::Int8, "embeddings.position_embeddings.weight", 128),
            WeightDtype::Int8
        );
        assert_eq!(int4_emb(WeightDtype::F32, "lm_head.weight", 576), WeightDtype::F32);
        assert_eq!(
            int4_emb(WeightDtype::Int8, "encoder.layer.0.output.dense.weight", 512),
            WeightDtype::Int8
        );
        assert_eq!(int4_emb(WeightDtype::Int8, "embeddings.word_embeddings.weight", 100), WeightDtype::Int8);
        let f16_emb = matrix_dtype(WeightDtype::Int4, Some(WeightDtype::F16), "embed_tokens.weight", 576);
        assert_eq!(f16_emb, WeightDtype::F16);
        // A constant group stores scale 0 and the value as the offset.
        let (q, s) = quantize_i4_groups(&[0.25; 32], 32);
        assert!(q.iter().all(|&v| v == 0) && s == [(f16::ZERO, f16::from_f32(0.25))]);
        // Values on a Q4_1 grid (f16 scale and offset, every level used) come back exactly.
        let (d, m) = (f16::from_f32(0.0123), f16::from_f32(-0.0871));
        let grid: Vec<f32> = (0..32).map(|i| (i % 16) as f32 * d.to_f32() + m.to_f32()).collect();
        let (q, s) = quantize_i4_groups(&grid, 32);
        assert_eq!(s, [(d, m)]);
        assert!(q.iter().enumerate().all(|(i, &v)| v as usize == i % 16));
    }

    #[test]
    fn f32_is_exact_and_int8_is_close() {
        let w: Vec<f32> = (0..64).map(|i| ((i * 37 % 19) as f32 - 9.0) * 0.013).collect();
        let e = encode_matrix(&w, 4, 16, WeightDtype::F32);
        assert_eq!(e.stats, ErrorStats::default());
        assert_eq!(e.bytes.len(), 256);
        let e = encode_matrix(&w, 4, 16, WeightDtype::Int8);
        assert_eq!(Some(e.bytes.len()), DType::I8Row.byte_len(4, 16));
        assert!(e.stats.max_abs > 0.0 && e.stats.max_abs <= 0.12 / 127.0 / 2.0 + 1e-6, "{:?}", e.stats);
        assert!(e.stats.rel_rmse < 0.01);
        let e = encode_matrix(&w, 4, 16, WeightDtype::F16);
        assert!(e.stats.rel_rmse < 1e-3);
    }

    #[test]
    fn stats_of_zero_tensor() {
        assert_eq!(ErrorStats::between(&[0.0; 4], &[0.0; 4]).rel_rmse, 0.0);
    }
}
