//! Encoder sessions: `pf_session_*`, `pf_tokenize`, `pf_classify`, `pf_embed`, `pf_fill_mask`.

use core::ffi::c_char;

use picoformer::{Bert, Error, KvPrecision, Prediction, Session, SessionOptions};

use crate::error::{code, PF_ERR_BAD_OPTION, PF_ERR_WRONG_MODEL, PF_OK};
use crate::ffi;
use crate::handle::{self, pf_model, pf_session, Kind};
use crate::model::Model;

impl Kind for Session<'static, 'static> {
    type Storage = pf_session;
    type Value = Session<'static, 'static>;
    const TAG: u32 = u32::from_le_bytes(*b"PFs1");
}

/// Keys and values in f32 (the reference numerics).
pub const PF_KV_F32: u32 = 0;
/// Keys and values in int8 with a scale per head and position (a quarter of f32).
pub const PF_KV_I8: u32 = 1;
/// Keys and values in f16 (half of f32).
pub const PF_KV_F16: u32 = 2;

/// Options of an encoder session. All zeros: the blob's `max_seq`, all rows at once, f32 keys
/// and values.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct pf_session_options {
    /// Longest input in tokens, `[CLS]` and `[SEP]` included (0: the blob's default).
    pub max_seq: usize,
    /// Rows processed at a time, `1..=max_seq` (0: all of them; small saves RAM).
    pub chunk: usize,
    /// `PF_KV_F32`, `PF_KV_I8` or `PF_KV_F16`.
    pub kv: u32,
}

/// What `pf_classify` found.
#[repr(C)]
pub struct pf_classification {
    /// Index of the most probable label (`pf_model_label` names it).
    pub label: usize,
    /// Labels (probabilities and logits written).
    pub n_labels: usize,
    /// Whether the text was cut to `max_seq` tokens.
    pub truncated: bool,
}

/// Most candidates `pf_fill_mask` returns.
pub const PF_FILL_MASK_MAX: usize = 64;

/// One masked-word candidate of `pf_fill_mask`.
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct pf_prediction {
    /// Token id (`pf_model_token` gives its text).
    pub id: u32,
    /// Softmax probability over the vocabulary.
    pub prob: f32,
}

/// The key/value precision of a `PF_KV_*` code (an unknown code: `None`).
pub fn kv_precision(kv: u32) -> Option<KvPrecision> {
    match kv {
        PF_KV_F32 => Some(KvPrecision::F32),
        PF_KV_I8 => Some(KvPrecision::I8),
        PF_KV_F16 => Some(KvPrecision::F16),
        _ => None,
    }
}

/// The core's options for `opts` (NULL: all defaults) on model `b`.
fn options(b: &Bert<'_>, opts: Option<&pf_session_options>) -> Result<SessionOptions, i32> {
    let o = opts.copied().unwrap_or(pf_session_options { max_seq: 0, chunk: 0, kv: PF_KV_F32 });
    let max_seq = if o.max_seq == 0 { b.default_max_seq() } else { o.max_seq };
    let chunk = if o.chunk == 0 { max_seq } else { o.chunk };
    let kv = kv_precision(o.kv).ok_or(PF_ERR_BAD_OPTION)?;
    Ok(SessionOptions::new(max_seq).with_chunk(chunk).with_kv(kv))
}

/// The encoder of a model handle.
///
/// # Safety
/// `model` is NULL or points to a `pf_model` that outlives every use of the result.
unsafe fn encoder(model: *const pf_model) -> Result<&'static Bert<'static>, i32> {
    // SAFETY: the caller's promise.
    match unsafe { handle::get::<Model>(model) }? {
        Model::Encoder(b) => Ok(b),
        Model::Decoder(_) => Err(PF_ERR_WRONG_MODEL),
    }
}

/// Arena bytes a session with `opts` (NULL: defaults) needs: `*arena_len`. Exact for an arena
/// on a 32-byte boundary (`PF_ARENA_ALIGN`); add 31 bytes for one that may not be.
///
/// # Safety
/// `model` points to a `pf_model`; `opts` is NULL or points to options; `arena_len` to a
/// writable `size_t`.
#[no_mangle]
pub unsafe extern "C" fn pf_session_arena_len(
    model: *const pf_model,
    opts: *const pf_session_options,
    arena_len: *mut usize,
) -> i32 {
    // SAFETY: the caller's promises.
    let r = unsafe {
        encoder(model).and_then(|b| {
            let o = options(b, opts.as_ref())?;
            let n = b.arena_len_with(&o).map_err(code)?;
            ffi::put_required(arena_len, n)
        })
    };
    r.err().unwrap_or(PF_OK)
}

/// Opens an encoder session on `model` in the caller's `arena` of `arena_len` bytes (at least
/// what `pf_session_arena_len` says). The session uses the model and the arena until it is
/// opened again or abandoned; the model must stay loaded and in place meanwhile.
///
/// # Safety
/// `session` points to a `pf_session`; `model` to a loaded `pf_model`; `opts` is NULL or points
/// to options; `arena` to `arena_len` writable bytes used by nothing else while the session is.
#[no_mangle]
pub unsafe extern "C" fn pf_session_open(
    session: *mut pf_session,
    model: *const pf_model,
    opts: *const pf_session_options,
    arena: *mut u8,
    arena_len: usize,
) -> i32 {
    // SAFETY: the caller's promises (the model and the arena outlive the session).
    let r = unsafe {
        encoder(model).and_then(|b| {
            let o = options(b, opts.as_ref())?;
            let arena = ffi::slice_mut::<'static, u8>(arena, arena_len)?;
            Session::with_options(b, arena, &o).map_err(code)
        })
    };
    match r {
        // SAFETY: the caller's promise.
        Ok(s) => unsafe { handle::open::<Session<'static, 'static>>(session, s) },
        Err(e) => {
            // SAFETY: the caller's promise.
            unsafe { handle::close::<Session<'static, 'static>>(session) };
            e
        }
    }
}

/// Runs `f` on the session and the text.
///
/// # Safety
/// `session` is NULL or points to a `pf_session` used by no other thread; `text` is NULL or
/// points to `text_len` readable bytes.
unsafe fn with_text(
    session: *mut pf_session,
    text: *const c_char,
    text_len: usize,
    f: impl FnOnce(&mut Session<'static, 'static>, &str) -> Result<(), i32>,
) -> i32 {
    // SAFETY: the caller's promises.
    let r = unsafe { handle::get_mut::<Session<'static, 'static>>(session) }
        // SAFETY: the caller's promise.
        .and_then(|s| Ok((s, unsafe { ffi::text(text, text_len) }?)))
        .and_then(|(s, t)| f(s, t));
    r.err().unwrap_or(PF_OK)
}

/// Tokenizes `text` (UTF-8, `text_len` bytes): `[CLS]`, the WordPiece ids, `[SEP]`, cut to
/// `max_seq`, into `ids` (room for `ids_cap`; `max_seq` is always enough): `*n_ids` ids,
/// `*truncated` when the text was cut (may be NULL).
///
/// # Safety
/// `session` points to an open `pf_session`; `text` to `text_len` bytes; `ids` to `ids_cap`
/// writable ids; `n_ids` to a writable `size_t`; `truncated` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn pf_tokenize(
    session: *mut pf_session,
    text: *const c_char,
    text_len: usize,
    ids: *mut u32,
    ids_cap: usize,
    n_ids: *mut usize,
    truncated: *mut bool,
) -> i32 {
    // SAFETY: the caller's promises.
    unsafe {
        with_text(session, text, text_len, |s, t| {
            let out = ffi::slice_mut(ids, ids_cap)?;
            let enc = s.tokenize(t).map_err(code)?;
            let got = s.ids();
            let dst = out
                .get_mut(..got.len())
                .ok_or(code(Error::BufferTooSmall { needed: got.len(), got: ids_cap }))?;
            dst.copy_from_slice(got);
            ffi::put_required(n_ids, got.len())?;
            ffi::put(truncated, enc.truncated);
            Ok(())
        })
    }
}

/// Classifies `text`: the label's probabilities into `probs` and, when `logits` is not NULL,
/// the raw logits into `logits` (each with room for `cap` floats, at least the model's
/// `n_labels`); the winner in `*result`.
///
/// # Safety
/// `session` points to an open `pf_session`; `text` to `text_len` bytes; `probs` to `cap`
/// writable floats; `logits` is NULL or points to `cap` writable floats; `result` to a
/// writable `pf_classification`.
#[no_mangle]
pub unsafe extern "C" fn pf_classify(
    session: *mut pf_session,
    text: *const c_char,
    text_len: usize,
    probs: *mut f32,
    logits: *mut f32,
    cap: usize,
    result: *mut pf_classification,
) -> i32 {
    // SAFETY: the caller's promises.
    unsafe {
        with_text(session, text, text_len, |s, t| {
            let n = s.model().n_labels();
            let short = code(Error::BufferTooSmall { needed: n, got: cap });
            let p = ffi::slice_mut(probs, cap)?.get_mut(..n).ok_or(short)?;
            let l = match logits.is_null() {
                true => None,
                false => Some(ffi::slice_mut(logits, cap)?.get_mut(..n).ok_or(short)?),
            };
            let c = s.classify(t).map_err(code)?;
            p.copy_from_slice(c.probs);
            if let Some(l) = l {
                l.copy_from_slice(c.logits);
            }
            ffi::put_required(
                result,
                pf_classification { label: c.label, n_labels: n, truncated: c.truncated },
            )
        })
    }
}

/// The sentence embedding of `text` (the model's pooling and normalization) into `out` (room
/// for `cap` floats, at least the model's `hidden`): `*n` floats.
///
/// # Safety
/// `session` points to an open `pf_session`; `text` to `text_len` bytes; `out` to `cap`
/// writable floats; `n` to a writable `size_t`.
#[no_mangle]
pub unsafe extern "C" fn pf_embed(
    session: *mut pf_session,
    text: *const c_char,
    text_len: usize,
    out: *mut f32,
    cap: usize,
    n: *mut usize,
) -> i32 {
    // SAFETY: the caller's promises.
    unsafe {
        with_text(session, text, text_len, |s, t| {
            let h = s.model().config().hidden;
            let dst = ffi::slice_mut(out, cap)?
                .get_mut(..h)
                .ok_or(code(Error::BufferTooSmall { needed: h, got: cap }))?;
            dst.copy_from_slice(s.embed(t).map_err(code)?);
            ffi::put_required(n, h)
        })
    }
}

/// The `k` most probable tokens for the first `[MASK]` in `text`, best first, into `top`:
/// `*n` of them (`k`, at most `PF_FILL_MASK_MAX` and the vocabulary). `PF_ERR_NO_MASK_TOKEN` without a mask.
///
/// # Safety
/// `session` points to an open `pf_session`; `text` to `text_len` bytes; `top` to `k` writable
/// predictions; `n` to a writable `size_t`.
#[no_mangle]
pub unsafe extern "C" fn pf_fill_mask(
    session: *mut pf_session,
    text: *const c_char,
    text_len: usize,
    top: *mut pf_prediction,
    k: usize,
    n: *mut usize,
) -> i32 {
    // SAFETY: the caller's promises.
    unsafe {
        with_text(session, text, text_len, |s, t| {
            let out = ffi::slice_mut(top, k)?;
            let mut pos = [0usize; 1];
            let at = *s.run_masked(t, &mut pos).map_err(code)?.first().ok_or(code(Error::NoMaskToken))?;
            // the core's predictions, up to 64 at a time, copied out
            let mut buf = [Prediction::default(); PF_FILL_MASK_MAX];
            let want = k.min(buf.len());
            let got = s.fill_mask_at(at, &mut buf[..want]).map_err(code)?;
            for (o, p) in out.iter_mut().zip(got) {
                *o = pf_prediction { id: p.id, prob: p.prob };
            }
            ffi::put_required(n, got.len())
        })
    }
}
