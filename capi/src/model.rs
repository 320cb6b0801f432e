//! Loading a blob in place and what a model tells about itself: `pf_model_*`.

use core::ffi::c_char;
use core::fmt::Write;

use picoformer::format::{Blob, Task};
use picoformer::{Bert, Decoder, Error};

use crate::error::{code, status, PF_ERR_BAD_TABLE, PF_ERR_WRONG_MODEL, PF_OK};
use crate::ffi;
use crate::handle::{self, pf_model, Kind};

/// What a model handle holds (in fixed-size caller storage, so the variants' sizes may differ).
#[allow(clippy::large_enum_variant)]
pub enum Model {
    /// A BERT encoder.
    Encoder(Bert<'static>),
    /// A Llama-family or GPT-2 decoder.
    Decoder(Decoder<'static>),
}

impl Kind for Model {
    type Storage = pf_model;
    type Value = Model;
    const TAG: u32 = u32::from_le_bytes(*b"PFm1");
}

/// An encoder (BERT) model: sessions (`pf_session_*`), tokenize, classify, embed, fill-mask.
pub const PF_MODEL_ENCODER: u32 = 1;
/// A decoder (Llama-family, GPT-2) model: generators (`pf_generator_*`).
pub const PF_MODEL_DECODER: u32 = 2;

/// Sentence embeddings (`pf_embed`).
pub const PF_TASK_EMBEDDING: u32 = 0;
/// Classification (`pf_classify`).
pub const PF_TASK_CLASSIFICATION: u32 = 1;
/// Masked-word prediction (`pf_fill_mask`).
pub const PF_TASK_MASKED_LM: u32 = 2;
/// Next-token prediction (`pf_generator_*`).
pub const PF_TASK_CAUSAL_LM: u32 = 3;

/// No such token (`bos`, `eos` of a model without one).
pub const PF_NO_TOKEN: u32 = u32::MAX;

/// What `pf_model_get_info` reports.
#[repr(C)]
pub struct pf_model_info {
    /// `PF_MODEL_ENCODER` or `PF_MODEL_DECODER`.
    pub kind: u32,
    /// `PF_TASK_*`.
    pub task: u32,
    /// Tokens in the vocabulary.
    pub vocab: usize,
    /// Hidden size (the length of an embedding).
    pub hidden: usize,
    /// Layers.
    pub layers: usize,
    /// Longest sequence (encoder) or context (decoder) the model's positions allow.
    pub max_position: usize,
    /// The length the blob was converted for: encoder `max_seq`, decoder context (what 0 in
    /// the options means).
    pub default_len: usize,
    /// Class labels (`pf_model_label`); 0 unless a classifier.
    pub n_labels: usize,
    /// Beginning-of-sequence token, or `PF_NO_TOKEN`.
    pub bos: u32,
    /// End-of-sequence token, or `PF_NO_TOKEN`.
    pub eos: u32,
    /// Whether a prompt starts with `bos` (`pf_generator_prompt` feeds it).
    pub add_bos: bool,
    /// Whether the blob holds a chat template (`pf_model_chat_template`).
    pub has_chat_template: bool,
}

/// Name of the blob section holding a decoder's chat template (`prefix \0 suffix`).
const CHAT_SECTION: &str = "tokenizer.chat";

/// Loads the `.pfm` blob of `len` bytes at `blob` into `model`, in place: the blob is borrowed,
/// not copied, so it must stay where it is, unchanged, while the model is used (flash is
/// ideal). The blob must start on a 32-byte boundary. On failure, when `message` is not NULL,
/// writes what is wrong (naming the header field or section) there, NUL-terminated and cut
/// to `message_cap` bytes.
///
/// # Safety
/// `model` points to a `pf_model`; `blob` to `len` readable bytes that outlive the model;
/// `message` is NULL or points to `message_cap` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn pf_model_load(
    model: *mut pf_model,
    blob: *const u8,
    len: usize,
    message: *mut c_char,
    message_cap: usize,
) -> i32 {
    // SAFETY: the caller's promises, as documented above.
    let bytes = match unsafe { ffi::bytes::<'static>(blob, len) } {
        Ok(b) => b,
        Err(e) => return e,
    };
    let loaded = Blob::parse(bytes).and_then(|b| match b.header().arch.is_decoder() {
        true => Decoder::from_blob(b).map(Model::Decoder),
        false => Bert::from_blob(b).map(Model::Encoder),
    });
    match loaded {
        // SAFETY: `model` is the caller's pf_model storage.
        Ok(m) => unsafe { handle::open::<Model>(model, m) },
        Err(e) => {
            // SAFETY: as above.
            unsafe {
                handle::close::<Model>(model);
                explain(message, message_cap, e);
            }
            code(e)
        }
    }
}

/// Checks that every weight, bias and scale of the model is finite (one pass over the blob's
/// tensors; run it once after loading a blob that could be damaged). `PF_ERR_NON_FINITE` names
/// the tensor in `message`.
///
/// # Safety
/// `model` points to a `pf_model`; `message` is NULL or points to `message_cap` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn pf_model_check_finite(
    model: *const pf_model,
    message: *mut c_char,
    message_cap: usize,
) -> i32 {
    // SAFETY: the caller's promise.
    let m = match unsafe { handle::get::<Model>(model) } {
        Ok(m) => m,
        Err(e) => return e,
    };
    let r = match m {
        Model::Encoder(b) => b.check_finite(),
        Model::Decoder(d) => d.check_finite(),
    };
    if let Err(e) = r {
        // SAFETY: the caller's promise.
        unsafe { explain(message, message_cap, e) };
    }
    status(r)
}

/// Fills `info` with what the model is.
///
/// # Safety
/// `model` points to a `pf_model`; `info` to a writable `pf_model_info`.
#[no_mangle]
pub unsafe extern "C" fn pf_model_get_info(model: *const pf_model, info: *mut pf_model_info) -> i32 {
    // SAFETY: the caller's promise.
    let m = match unsafe { handle::get::<Model>(model) } {
        Ok(m) => m,
        Err(e) => return e,
    };
    let has_chat = |b: &Blob<'_>| b.section(CHAT_SECTION).is_some();
    let value = match m {
        Model::Encoder(b) => {
            let c = b.config();
            pf_model_info {
                kind: PF_MODEL_ENCODER,
                task: task_code(b.task()),
                vocab: c.vocab_size,
                hidden: c.hidden,
                layers: c.n_layers,
                max_position: c.max_position,
                default_len: b.default_max_seq(),
                n_labels: b.n_labels(),
                bos: b.tokenizer().config().cls,
                eos: b.tokenizer().config().sep,
                add_bos: true,
                has_chat_template: has_chat(b.blob()),
            }
        }
        Model::Decoder(d) => {
            let c = d.config();
            pf_model_info {
                kind: PF_MODEL_DECODER,
                task: PF_TASK_CAUSAL_LM,
                vocab: c.vocab_size,
                hidden: c.hidden,
                layers: c.n_layers,
                max_position: c.max_position,
                default_len: d.default_context(),
                n_labels: 0,
                bos: d.bos().unwrap_or(PF_NO_TOKEN),
                eos: d.eos().unwrap_or(PF_NO_TOKEN),
                add_bos: d.add_bos() && d.bos().is_some(),
                has_chat_template: has_chat(d.blob()),
            }
        }
    };
    // SAFETY: the caller's promise.
    match unsafe { ffi::put_required(info, value) } {
        Ok(()) => PF_OK,
        Err(e) => e,
    }
}

/// The name of class label `index` (UTF-8, not NUL-terminated, in the blob): `*name` and
/// `*name_len`. `PF_ERR_BUFFER_TOO_SMALL` for an index past the last label.
///
/// # Safety
/// `model` points to a `pf_model`; `name` and `name_len` to writable pointers.
#[no_mangle]
pub unsafe extern "C" fn pf_model_label(
    model: *const pf_model,
    index: usize,
    name: *mut *const c_char,
    name_len: *mut usize,
) -> i32 {
    // SAFETY: the caller's promise.
    let m = match unsafe { handle::get::<Model>(model) } {
        Ok(m) => m,
        Err(e) => return e,
    };
    let Model::Encoder(b) = m else { return PF_ERR_WRONG_MODEL };
    let label = match b.label(index) {
        Some(l) => l,
        None if index >= b.n_labels() => {
            return code(Error::BufferTooSmall { needed: index + 1, got: b.n_labels() })
        }
        None => return PF_ERR_BAD_TABLE,
    };
    // SAFETY: the caller's promise.
    unsafe { put_str(name, name_len, label.as_bytes()) }
}

/// The text of token `id` as the vocabulary stores it (WordPiece: `##` marks a word's
/// continuation; byte-level BPE: the token's bytes, possibly part of a UTF-8 character):
/// `*text`, `*text_len`, in the blob.
///
/// # Safety
/// `model` points to a `pf_model`; `text` and `text_len` to writable pointers.
#[no_mangle]
pub unsafe extern "C" fn pf_model_token(
    model: *const pf_model,
    id: u32,
    text: *mut *const c_char,
    text_len: *mut usize,
) -> i32 {
    // SAFETY: the caller's promise.
    let m = match unsafe { handle::get::<Model>(model) } {
        Ok(m) => m,
        Err(e) => return e,
    };
    let token = match m {
        Model::Encoder(b) => b.tokenizer().vocab().token(id).map(str::as_bytes),
        Model::Decoder(d) => d.tokenizer().token(id),
    };
    match token {
        // SAFETY: the caller's promise.
        Some(t) => unsafe { put_str(text, text_len, t) },
        None => code(Error::BadVocab),
    }
}

/// A decoder's chat template for one user message: the text to put before the message
/// (`*prefix`, `*prefix_len`) and after it (`*suffix`, `*suffix_len`), in the blob. Wrap the
/// message in them and give the whole to `pf_generator_prompt`. `PF_ERR_BAD_TABLE` when the blob
/// has no template (section `tokenizer.chat`).
///
/// # Safety
/// `model` points to a `pf_model`; the four outputs to writable locations.
#[no_mangle]
pub unsafe extern "C" fn pf_model_chat_template(
    model: *const pf_model,
    prefix: *mut *const c_char,
    prefix_len: *mut usize,
    suffix: *mut *const c_char,
    suffix_len: *mut usize,
) -> i32 {
    // SAFETY: the caller's promise.
    let m = match unsafe { handle::get::<Model>(model) } {
        Ok(m) => m,
        Err(e) => return e,
    };
    let Model::Decoder(d) = m else { return PF_ERR_WRONG_MODEL };
    let blob = d.blob();
    let Some((i, s)) = blob.section(CHAT_SECTION) else { return PF_ERR_BAD_TABLE };
    let Ok(bytes) = blob.u8s(i, &s) else { return PF_ERR_BAD_TABLE };
    let Some(nul) = bytes.iter().position(|&b| b == 0) else { return PF_ERR_BAD_TABLE };
    let (before, after) = (&bytes[..nul], &bytes[nul + 1..]);
    if core::str::from_utf8(before).is_err() || core::str::from_utf8(after).is_err() {
        return PF_ERR_BAD_TABLE;
    }
    // SAFETY: the caller's promise.
    unsafe {
        match put_str(prefix, prefix_len, before) {
            PF_OK => put_str(suffix, suffix_len, after),
            e => e,
        }
    }
}

/// The `PF_TASK_*` code of a task.
fn task_code(t: Task) -> u32 {
    match t {
        Task::Embedding => PF_TASK_EMBEDDING,
        Task::Classification => PF_TASK_CLASSIFICATION,
        Task::MaskedLm => PF_TASK_MASKED_LM,
        _ => PF_TASK_CAUSAL_LM,
    }
}

/// Writes a pointer and length pair.
///
/// # Safety
/// `ptr` and `len` point to writable locations.
unsafe fn put_str(ptr: *mut *const c_char, len: *mut usize, s: &[u8]) -> i32 {
    // SAFETY: the caller's promise.
    let r =
        unsafe { ffi::put_required(ptr, s.as_ptr().cast()).and_then(|()| ffi::put_required(len, s.len())) };
    match r {
        Ok(()) => PF_OK,
        Err(e) => e,
    }
}

/// Writes the error's text (it names the field or the section) into the caller's buffer.
///
/// # Safety
/// `buf` is NULL or points to `cap` writable bytes.
unsafe fn explain(buf: *mut c_char, cap: usize, e: Error) {
    let mut text: heapless::String<192> = heapless::String::new();
    // a message longer than 192 bytes is cut (write! stops at the first byte that does not fit)
    let _ = write!(text, "{e}");
    // SAFETY: the caller's promise.
    unsafe { ffi::put_message(buf, cap, &text) };
}
