//! Decoder generation: `pf_generator_*`, one token and its text piece per step.

use core::ffi::c_char;

use picoformer::{Decoder, Generator, GeneratorOptions, Limits, Sampler, SamplerSettings, Stop};

use crate::error::{code, PF_ERR_BAD_OPTION, PF_ERR_WRONG_MODEL, PF_OK};
use crate::ffi;
use crate::handle::{self, pf_generator, pf_model, Kind};
use crate::model::Model;
use crate::session::kv_precision;

/// A generator handle's value: the generator and its sampler (random state included).
pub struct Gen {
    generator: Generator<'static, 'static>,
    sampler: Sampler,
}

impl Kind for Gen {
    type Storage = pf_generator;
    type Value = Gen;
    const TAG: u32 = u32::from_le_bytes(*b"PFg1");
}

/// Options of a generator. All zeros: the blob's context, prompt chunks of up to 64 tokens, f32
/// keys and values, no room for sampling (greedy only), words up to 256 bytes.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct pf_generator_options {
    /// Positions of the key/value cache, prompt and generated tokens (0: the blob's default).
    pub context: usize,
    /// Prompt tokens per forward step, `1..=context` (0: up to 64).
    pub chunk: usize,
    /// `PF_KV_F32`, `PF_KV_I8` or `PF_KV_F16`.
    pub kv: u32,
    /// Room for sampling (temperature, top-k/p, min-p, repetition penalty: 4 bytes per
    /// vocabulary entry); without it only greedy decoding runs.
    pub sampling: bool,
    /// Longest word (bytes between pre-tokenizer splits) a text prompt may hold (0: 256).
    pub max_word: usize,
}

/// Sampler settings, as Hugging Face's `GenerationConfig` names them. Greedy: temperature 0.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct pf_sampler_settings {
    /// Softmax temperature; 0 = greedy (argmax).
    pub temperature: f32,
    /// Keep only the `top_k` most likely tokens (0: off).
    pub top_k: usize,
    /// Nucleus sampling mass, `(0, 1]` (1: off).
    pub top_p: f32,
    /// Keep tokens at least `min_p` times as likely as the best, `[0, 1]` (0: off).
    pub min_p: f32,
    /// Repetition penalty, `> 0` (1: off).
    pub repetition_penalty: f32,
    /// Random seed: the same seed, settings and prompt give the same tokens.
    pub seed: u64,
}

/// When to stop besides the end-of-sequence token and a full context.
#[repr(C)]
pub struct pf_limits {
    /// Most tokens after the prompt (0: no limit but the context).
    pub max_tokens: usize,
    /// More tokens that end the generation (e.g. ChatML's `<|im_end|>`); NULL when none.
    pub stop_ids: *const u32,
    /// Entries of `stop_ids`.
    pub n_stop_ids: usize,
}

/// Not the last token.
pub const PF_STOP_NONE: u32 = 0;
/// The model produced its end-of-sequence token.
pub const PF_STOP_EOS: u32 = 1;
/// The model produced one of `pf_limits.stop_ids`.
pub const PF_STOP_TOKEN: u32 = 2;
/// `pf_limits.max_tokens` tokens were produced.
pub const PF_STOP_MAX_TOKENS: u32 = 3;
/// Every position of the context holds a token.
pub const PF_STOP_CONTEXT_FULL: u32 = 4;

/// One generated token.
#[repr(C)]
pub struct pf_step {
    /// The token id.
    pub id: u32,
    /// `PF_STOP_NONE`, or why this is the last token.
    pub stop: u32,
    /// The text that became complete with this token (UTF-8, not NUL-terminated, possibly
    /// empty while a character spans tokens), in the arena: valid until the next call on the
    /// generator.
    pub text: *const c_char,
    /// Bytes of `text`.
    pub text_len: usize,
}

/// The decoder of a model handle.
///
/// # Safety
/// `model` is NULL or points to a `pf_model` that outlives every use of the result.
unsafe fn decoder(model: *const pf_model) -> Result<&'static Decoder<'static>, i32> {
    // SAFETY: the caller's promise.
    match unsafe { handle::get::<Model>(model) }? {
        Model::Decoder(d) => Ok(d),
        Model::Encoder(_) => Err(PF_ERR_WRONG_MODEL),
    }
}

/// The core's options for `opts` (NULL: all defaults) on model `d`.
fn options(d: &Decoder<'_>, opts: Option<&pf_generator_options>) -> Result<GeneratorOptions, i32> {
    let o = opts.copied().unwrap_or(pf_generator_options {
        context: 0,
        chunk: 0,
        kv: 0,
        sampling: false,
        max_word: 0,
    });
    let context = if o.context == 0 { d.default_context() } else { o.context };
    let mut g = GeneratorOptions::new(context).with_sampling(o.sampling);
    if o.chunk != 0 {
        g = g.with_chunk(o.chunk);
    }
    if o.max_word != 0 {
        g = g.with_max_word(o.max_word);
    }
    Ok(g.with_kv(kv_precision(o.kv).ok_or(PF_ERR_BAD_OPTION)?))
}

/// The core's sampler settings (NULL: greedy).
fn settings(s: Option<&pf_sampler_settings>) -> SamplerSettings {
    match s {
        None => SamplerSettings::GREEDY,
        Some(s) => SamplerSettings {
            temperature: s.temperature,
            top_k: s.top_k,
            top_p: s.top_p,
            min_p: s.min_p,
            repetition_penalty: s.repetition_penalty,
            seed: s.seed,
        },
    }
}

/// Arena bytes a generator with `opts` (NULL: defaults) needs: `*arena_len` (exact for an arena
/// on a 32-byte boundary, `PF_ARENA_ALIGN`; add 31 bytes otherwise).
///
/// # Safety
/// `model` points to a `pf_model`; `opts` is NULL or points to options; `arena_len` to a
/// writable `size_t`.
#[no_mangle]
pub unsafe extern "C" fn pf_generator_arena_len(
    model: *const pf_model,
    opts: *const pf_generator_options,
    arena_len: *mut usize,
) -> i32 {
    // SAFETY: the caller's promises.
    let r = unsafe {
        decoder(model).and_then(|d| {
            let n = d.arena_len(&options(d, opts.as_ref())?).map_err(code)?;
            ffi::put_required(arena_len, n)
        })
    };
    r.err().unwrap_or(PF_OK)
}

/// Opens a generator on a decoder `model` in the caller's `arena` (at least what
/// `pf_generator_arena_len` says), sampling with `sampler` (NULL: greedy; anything else needs
/// `opts->sampling`). The context starts empty.
///
/// # Safety
/// `generator` points to a `pf_generator`; `model` to a loaded `pf_model`; `opts` and `sampler`
/// are NULL or point to settings; `arena` to `arena_len` writable bytes used by nothing else
/// while the generator is.
#[no_mangle]
pub unsafe extern "C" fn pf_generator_open(
    generator: *mut pf_generator,
    model: *const pf_model,
    opts: *const pf_generator_options,
    sampler: *const pf_sampler_settings,
    arena: *mut u8,
    arena_len: usize,
) -> i32 {
    // SAFETY: the caller's promises (the model and the arena outlive the generator).
    let r = unsafe {
        decoder(model).and_then(|d| {
            let o = options(d, opts.as_ref())?;
            let sampler = Sampler::new(settings(sampler.as_ref())).map_err(code)?;
            let arena = ffi::slice_mut::<'static, u8>(arena, arena_len)?;
            let generator = Generator::new(d, arena, &o).map_err(code)?;
            Ok(Gen { generator, sampler })
        })
    };
    match r {
        // SAFETY: the caller's promise.
        Ok(g) => unsafe { handle::open::<Gen>(generator, g) },
        Err(e) => {
            // SAFETY: the caller's promise.
            unsafe { handle::close::<Gen>(generator) };
            e
        }
    }
}

/// Runs `f` on an open generator.
///
/// # Safety
/// `generator` is NULL or points to a `pf_generator` used by no other thread.
unsafe fn with(generator: *mut pf_generator, f: impl FnOnce(&mut Gen) -> Result<(), i32>) -> i32 {
    // SAFETY: the caller's promise.
    let r = unsafe { handle::get_mut::<Gen>(generator) }.and_then(f);
    r.err().unwrap_or(PF_OK)
}

/// Empties the context and starts the text of a new generation; the sampler keeps its state.
///
/// # Safety
/// `generator` points to an open `pf_generator`.
#[no_mangle]
pub unsafe extern "C" fn pf_generator_reset(generator: *mut pf_generator) -> i32 {
    // SAFETY: the caller's promise.
    unsafe {
        with(generator, |g| {
            g.generator.reset();
            Ok(())
        })
    }
}

/// Starts a generation from `text` (UTF-8, `text_len` bytes): empties the context, feeds the
/// model's BOS token when it wants one, then the text's tokens (`*n_fed`, BOS included; may be
/// NULL). For a chat model, wrap the text in `pf_model_chat_template` first.
/// `PF_ERR_BAD_SEQUENCE_LENGTH` when the prompt does not fit the context.
///
/// # Safety
/// `generator` points to an open `pf_generator`; `text` to `text_len` readable bytes; `n_fed`
/// is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn pf_generator_prompt(
    generator: *mut pf_generator,
    text: *const c_char,
    text_len: usize,
    n_fed: *mut usize,
) -> i32 {
    // SAFETY: the caller's promises.
    unsafe { feed_text(generator, text, text_len, n_fed, true) }
}

/// Appends the tokens of `text` to the context (no BOS): `*n_fed` of them (may be NULL).
///
/// # Safety
/// As `pf_generator_prompt`.
#[no_mangle]
pub unsafe extern "C" fn pf_generator_feed_text(
    generator: *mut pf_generator,
    text: *const c_char,
    text_len: usize,
    n_fed: *mut usize,
) -> i32 {
    // SAFETY: the caller's promises.
    unsafe { feed_text(generator, text, text_len, n_fed, false) }
}

/// Feeds the tokens of `text`; with `prompt`, after emptying the context and feeding BOS where
/// the model wants it.
///
/// # Safety
/// As `pf_generator_prompt`.
unsafe fn feed_text(
    generator: *mut pf_generator,
    text: *const c_char,
    text_len: usize,
    n_fed: *mut usize,
    prompt: bool,
) -> i32 {
    // SAFETY: the caller's promises.
    unsafe {
        with(generator, |g| {
            let t = ffi::text(text, text_len)?;
            let d = g.generator.model();
            let bos = d.bos().filter(|_| prompt && d.add_bos());
            if prompt {
                g.generator.reset();
            }
            if let Some(b) = bos {
                g.generator.feed(&[b]).map_err(code)?;
            }
            let n = g.generator.feed_text(t).map_err(code)?;
            ffi::put(n_fed, n + usize::from(bos.is_some()));
            Ok(())
        })
    }
}

/// Appends `n_ids` token ids to the context (nothing when they do not fit or one is outside the
/// vocabulary).
///
/// # Safety
/// `generator` points to an open `pf_generator`; `ids` to `n_ids` readable ids.
#[no_mangle]
pub unsafe extern "C" fn pf_generator_feed_ids(
    generator: *mut pf_generator,
    ids: *const u32,
    n_ids: usize,
) -> i32 {
    // SAFETY: the caller's promises.
    unsafe {
        with(generator, |g| {
            let ids = ffi::slice(ids, n_ids)?;
            g.generator.feed(ids).map_err(code)
        })
    }
}

/// Produces the next token into `*step`: its id, its text piece and whether it is the last
/// (`limits` NULL: only EOS and a full context stop). After a stop, another step continues
/// while the context has room, else `PF_ERR_BAD_SEQUENCE_LENGTH`.
///
/// # Safety
/// `generator` points to an open `pf_generator`; `limits` is NULL or points to limits whose
/// `stop_ids` hold `n_stop_ids` ids; `step` to a writable `pf_step`.
#[no_mangle]
pub unsafe extern "C" fn pf_generator_step(
    generator: *mut pf_generator,
    limits: *const pf_limits,
    step: *mut pf_step,
) -> i32 {
    // SAFETY: the caller's promises.
    unsafe {
        with(generator, |g| {
            let limits = match limits.as_ref() {
                None => Limits { max_tokens: 0, stop_ids: &[] },
                Some(l) => {
                    Limits { max_tokens: l.max_tokens, stop_ids: ffi::slice(l.stop_ids, l.n_stop_ids)? }
                }
            };
            if step.is_null() {
                return Err(crate::error::PF_ERR_NULL);
            }
            let s = g.generator.next(&mut g.sampler, &limits).map_err(code)?;
            let stop = match s.stop {
                None => PF_STOP_NONE,
                Some(Stop::Eos) => PF_STOP_EOS,
                Some(Stop::StopToken) => PF_STOP_TOKEN,
                Some(Stop::MaxTokens) => PF_STOP_MAX_TOKENS,
                Some(_) => PF_STOP_CONTEXT_FULL,
            };
            ffi::put_required(
                step,
                pf_step { id: s.id, stop, text: s.text.as_ptr().cast(), text_len: s.text.len() },
            )
        })
    }
}

/// The text held back at the end of a generation (an unfinished UTF-8 character, as U+FFFD),
/// after the last step: `*text`, `*text_len` (valid until the next call on the generator).
///
/// # Safety
/// `generator` points to an open `pf_generator`; `text` and `text_len` to writable locations.
#[no_mangle]
pub unsafe extern "C" fn pf_generator_finish(
    generator: *mut pf_generator,
    text: *mut *const c_char,
    text_len: *mut usize,
) -> i32 {
    // SAFETY: the caller's promises.
    unsafe {
        with(generator, |g| {
            let t = g.generator.finish().map_err(code)?;
            ffi::put_required(text, t.as_ptr().cast())?;
            ffi::put_required(text_len, t.len())
        })
    }
}

/// The tokens in the context, prompt and generated: `*ids` (in the arena, valid until the next
/// call on the generator) and `*n_ids`.
///
/// # Safety
/// `generator` points to an open `pf_generator`; `ids` and `n_ids` to writable locations.
#[no_mangle]
pub unsafe extern "C" fn pf_generator_ids(
    generator: *mut pf_generator,
    ids: *mut *const u32,
    n_ids: *mut usize,
) -> i32 {
    // SAFETY: the caller's promises.
    unsafe {
        with(generator, |g| {
            let all = g.generator.ids();
            ffi::put_required(ids, all.as_ptr())?;
            ffi::put_required(n_ids, all.len())
        })
    }
}
