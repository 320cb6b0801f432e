//! The C API on bad input: NULL pointers, handles never opened or of the wrong kind, short
//! buffers, text that is not UTF-8, corrupted or misaligned blobs, out-of-range options and
//! sampler settings, steps past the context. Every case is a status code, never a crash.

#[path = "../../tests/common/mod.rs"]
mod common;

use std::mem::MaybeUninit;
use std::ptr::{null, null_mut};

use picoformer::format::{AlignedBuf, Task};
use picoformer_c::error::*;
use picoformer_c::generator::*;
use picoformer_c::handle::{pf_generator, pf_model, pf_session};
use picoformer_c::model::*;
use picoformer_c::session::*;

const SENTIMENT: &[u8] = include_bytes!("../../models/sentiment.pfm");
const GPT: &[u8] = include_bytes!("../../models/tiny-gpt-int8.pfm");

/// Zeroed storage of a handle: what C gets from `static` or `= {0}` before an open call.
fn zeroed<T>() -> Box<T> {
    // SAFETY (test): the handle structs are arrays of u64, valid when zero.
    Box::new(unsafe { MaybeUninit::<T>::zeroed().assume_init() })
}

/// A model handle loaded from `blob` (which must outlive it).
fn load(blob: &AlignedBuf) -> Box<pf_model> {
    let mut m = zeroed::<pf_model>();
    let st =
        unsafe { pf_model_load(&mut *m, blob.as_bytes().as_ptr(), blob.as_bytes().len(), null_mut(), 0) };
    assert_eq!(st, PF_OK);
    m
}

fn message(buf: &[u8]) -> String {
    let end = buf.iter().position(|&b| b == 0).expect("NUL-terminated");
    String::from_utf8(buf[..end].to_vec()).unwrap()
}

#[test]
fn load_refuses_null_corrupted_truncated_and_misaligned_blobs() {
    let good = AlignedBuf::from_bytes(SENTIMENT);
    let mut m = zeroed::<pf_model>();
    let mut why = [0u8; 160];
    let (w, wl) = (why.as_mut_ptr().cast(), why.len());
    unsafe {
        assert_eq!(
            pf_model_load(null_mut(), good.as_bytes().as_ptr(), good.as_bytes().len(), w, wl),
            PF_ERR_NULL
        );
        assert_eq!(pf_model_load(&mut *m, null(), 100, w, wl), PF_ERR_NULL);
        assert_eq!(pf_model_load(&mut *m, good.as_bytes().as_ptr(), 0, w, wl), PF_ERR_TRUNCATED);

        let mut flipped = AlignedBuf::from_bytes(SENTIMENT);
        let mid = flipped.as_bytes().len() / 2;
        flipped.as_mut_bytes()[mid] ^= 0x40;
        assert_eq!(
            pf_model_load(&mut *m, flipped.as_bytes().as_ptr(), flipped.as_bytes().len(), w, wl),
            PF_ERR_CHECKSUM
        );
        assert!(message(&why).starts_with("checksum mismatch"), "{}", message(&why));

        let short = &good.as_bytes()[..good.as_bytes().len() - 1000];
        assert_eq!(pf_model_load(&mut *m, short.as_ptr(), short.len(), w, wl), PF_ERR_TRUNCATED);

        let mut magic = AlignedBuf::from_bytes(SENTIMENT);
        magic.as_mut_bytes()[0] = b'X';
        assert_eq!(
            pf_model_load(&mut *m, magic.as_bytes().as_ptr(), magic.as_bytes().len(), w, wl),
            PF_ERR_BAD_MAGIC
        );

        let mut shifted = AlignedBuf::zeroed(SENTIMENT.len() + 1);
        shifted.as_mut_bytes()[1..].copy_from_slice(SENTIMENT);
        let s = &shifted.as_bytes()[1..];
        assert_eq!(pf_model_load(&mut *m, s.as_ptr(), s.len(), w, wl), PF_ERR_MISALIGNED);

        // a header field out of range is named in the message
        let mut bad = common::blob(&common::Tiny::default());
        bad.as_mut_bytes()[52..56].copy_from_slice(&0u32.to_le_bytes()); // hidden (byte 52) = 0
        common::reseal(bad.as_mut_bytes());
        let st = pf_model_load(&mut *m, bad.as_bytes().as_ptr(), bad.as_bytes().len(), w, wl);
        assert_eq!(st, PF_ERR_BAD_HEADER, "{}", message(&why));
        assert!(message(&why).contains("hidden"), "{}", message(&why));

        // a message buffer of one byte gets just the NUL; NULL gets nothing
        let mut one = [7u8; 1];
        assert_eq!(pf_model_load(&mut *m, null(), 1, one.as_mut_ptr().cast(), 1), PF_ERR_NULL);
        assert_eq!(
            pf_model_load(
                &mut *m,
                magic.as_bytes().as_ptr(),
                magic.as_bytes().len(),
                one.as_mut_ptr().cast(),
                1
            ),
            PF_ERR_BAD_MAGIC
        );
        assert_eq!(one, [0]);
    }
}

#[test]
fn a_failed_load_leaves_no_usable_handle() {
    let good = AlignedBuf::from_bytes(SENTIMENT);
    let mut m = load(&good);
    let mut info = MaybeUninit::<pf_model_info>::uninit();
    unsafe {
        assert_eq!(pf_model_get_info(&*m, info.as_mut_ptr()), PF_OK);
        let st = pf_model_load(&mut *m, good.as_bytes().as_ptr(), 10, null_mut(), 0);
        assert_eq!(st, PF_ERR_TRUNCATED);
        assert_eq!(pf_model_get_info(&*m, info.as_mut_ptr()), PF_ERR_BAD_HANDLE);
    }
}

#[test]
fn handles_never_opened_or_of_another_kind_are_refused() {
    let good = AlignedBuf::from_bytes(SENTIMENT);
    let fresh = zeroed::<pf_model>();
    let mut info = MaybeUninit::<pf_model_info>::uninit();
    let mut n = 0usize;
    let mut arena = AlignedBuf::zeroed(1 << 20);
    unsafe {
        assert_eq!(pf_model_get_info(&*fresh, info.as_mut_ptr()), PF_ERR_BAD_HANDLE);
        assert_eq!(pf_model_get_info(null(), info.as_mut_ptr()), PF_ERR_NULL);
        assert_eq!(pf_session_arena_len(&*fresh, null(), &mut n), PF_ERR_BAD_HANDLE);

        // garbage in the storage (not the tag) is a bad handle too
        let mut garbage = zeroed::<pf_model>();
        garbage._opaque.fill(0x5a5a_5a5a_5a5a_5a5a);
        assert_eq!(pf_model_get_info(&*garbage, info.as_mut_ptr()), PF_ERR_BAD_HANDLE);

        // an open session handed over where a model belongs, and the other way round
        let m = load(&good);
        let mut s = zeroed::<pf_session>();
        let a = arena.as_mut_bytes();
        assert_eq!(pf_session_open(&mut *s, &*m, null(), a.as_mut_ptr(), a.len()), PF_OK);
        let as_model = (&*s as *const pf_session).cast::<pf_model>();
        assert_eq!(pf_model_get_info(as_model, info.as_mut_ptr()), PF_ERR_BAD_HANDLE);
        let mut probs = [0f32; 2];
        let mut c = MaybeUninit::<pf_classification>::uninit();
        let as_session = (&*m as *const pf_model).cast_mut().cast::<pf_session>();
        assert_eq!(
            pf_classify(as_session, null(), 0, probs.as_mut_ptr(), null_mut(), 2, c.as_mut_ptr()),
            PF_ERR_BAD_HANDLE
        );
        let fresh_session = zeroed::<pf_session>();
        let fs = Box::into_raw(fresh_session);
        assert_eq!(
            pf_classify(fs, null(), 0, probs.as_mut_ptr(), null_mut(), 2, c.as_mut_ptr()),
            PF_ERR_BAD_HANDLE
        );
        drop(Box::from_raw(fs));

        // an encoder given to the generator calls, a decoder to the session calls
        let mut g = zeroed::<pf_generator>();
        assert_eq!(pf_generator_arena_len(&*m, null(), &mut n), PF_ERR_WRONG_MODEL);
        assert_eq!(
            pf_generator_open(&mut *g, &*m, null(), null(), a.as_mut_ptr(), a.len()),
            PF_ERR_WRONG_MODEL
        );
        let gpt = AlignedBuf::from_bytes(GPT);
        let d = load(&gpt);
        assert_eq!(pf_session_open(&mut *s, &*d, null(), a.as_mut_ptr(), a.len()), PF_ERR_WRONG_MODEL);
        let (mut p, mut pl) = (null(), 0usize);
        assert_eq!(pf_model_label(&*d, 0, &mut p, &mut pl), PF_ERR_WRONG_MODEL);
        assert_eq!(pf_model_chat_template(&*m, &mut p, &mut pl, &mut p, &mut pl), PF_ERR_WRONG_MODEL);
    }
}

#[test]
fn short_arenas_buffers_and_bad_text_are_codes() {
    let good = AlignedBuf::from_bytes(SENTIMENT);
    let m = load(&good);
    let opts = pf_session_options { max_seq: 64, chunk: 2, kv: PF_KV_I8 };
    let mut need = 0usize;
    unsafe {
        assert_eq!(pf_session_arena_len(&*m, &opts, &mut need), PF_OK);
        assert_eq!(pf_session_arena_len(&*m, &opts, null_mut()), PF_ERR_NULL);
        let mut arena = AlignedBuf::zeroed(need);
        let a = arena.as_mut_bytes();
        let mut s = zeroed::<pf_session>();
        assert_eq!(pf_session_open(&mut *s, &*m, &opts, a.as_mut_ptr(), need - 1), PF_ERR_ARENA_TOO_SMALL);
        assert_eq!(pf_session_open(&mut *s, &*m, &opts, null_mut(), need), PF_ERR_NULL);
        let bad_kv = pf_session_options { kv: 7, ..opts };
        assert_eq!(pf_session_open(&mut *s, &*m, &bad_kv, a.as_mut_ptr(), need), PF_ERR_BAD_OPTION);
        let too_long = pf_session_options { max_seq: 100_000, ..opts };
        assert_eq!(
            pf_session_open(&mut *s, &*m, &too_long, a.as_mut_ptr(), need),
            PF_ERR_BAD_SEQUENCE_LENGTH
        );
        assert_eq!(pf_session_open(&mut *s, &*m, &opts, a.as_mut_ptr(), need), PF_OK);

        let text = "a fine film";
        let (t, tl) = (text.as_ptr().cast(), text.len());
        let mut probs = [0f32; 2];
        let mut logits = [0f32; 2];
        let mut c = MaybeUninit::<pf_classification>::uninit();
        assert_eq!(
            pf_classify(&mut *s, t, tl, probs.as_mut_ptr(), null_mut(), 1, c.as_mut_ptr()),
            PF_ERR_BUFFER_TOO_SMALL
        );
        assert_eq!(pf_classify(&mut *s, t, tl, null_mut(), null_mut(), 2, c.as_mut_ptr()), PF_ERR_NULL);
        assert_eq!(
            pf_classify(&mut *s, t, tl, probs.as_mut_ptr(), logits.as_mut_ptr(), 2, null_mut()),
            PF_ERR_NULL
        );
        assert_eq!(
            pf_classify(&mut *s, null(), 5, probs.as_mut_ptr(), null_mut(), 2, c.as_mut_ptr()),
            PF_ERR_NULL
        );
        let not_utf8 = b"caf\xe9 \xff";
        assert_eq!(
            pf_classify(
                &mut *s,
                not_utf8.as_ptr().cast(),
                not_utf8.len(),
                probs.as_mut_ptr(),
                null_mut(),
                2,
                c.as_mut_ptr()
            ),
            PF_ERR_BAD_UTF8
        );
        // empty text (NULL, 0) classifies "[CLS] [SEP]"
        assert_eq!(
            pf_classify(&mut *s, null(), 0, probs.as_mut_ptr(), logits.as_mut_ptr(), 2, c.as_mut_ptr()),
            PF_OK
        );

        let mut ids = [0u32; 64];
        let mut n = 0usize;
        let mut truncated = true;
        assert_eq!(
            pf_tokenize(&mut *s, t, tl, ids.as_mut_ptr(), 2, &mut n, &mut truncated),
            PF_ERR_BUFFER_TOO_SMALL
        );
        assert_eq!(pf_tokenize(&mut *s, t, tl, ids.as_mut_ptr(), 64, &mut n, null_mut()), PF_OK);
        assert_eq!(pf_tokenize(&mut *s, t, tl, ids.as_mut_ptr(), 64, &mut n, &mut truncated), PF_OK);
        assert!(!truncated && n == 5, "{n} ids");
        let long = "word ".repeat(200);
        assert_eq!(
            pf_tokenize(
                &mut *s,
                long.as_ptr().cast(),
                long.len(),
                ids.as_mut_ptr(),
                64,
                &mut n,
                &mut truncated
            ),
            PF_OK
        );
        assert!(truncated && n == 64);

        // the classifier has no masked-LM head and no pooling of its own for embeddings is asked
        let mut top = [pf_prediction::default(); 4];
        assert_eq!(pf_fill_mask(&mut *s, t, tl, top.as_mut_ptr(), 4, &mut n), PF_ERR_WRONG_TASK);
        let mut emb = [0f32; 8];
        assert_eq!(pf_embed(&mut *s, t, tl, emb.as_mut_ptr(), 8, &mut n), PF_ERR_BUFFER_TOO_SMALL);

        let (mut p, mut pl) = (null(), 0usize);
        assert_eq!(pf_model_label(&*m, 2, &mut p, &mut pl), PF_ERR_BUFFER_TOO_SMALL);
        assert_eq!(pf_model_label(&*m, 0, null_mut(), &mut pl), PF_ERR_NULL);
        assert_eq!(pf_model_token(&*m, u32::MAX, &mut p, &mut pl), PF_ERR_BAD_VOCAB);
    }
}

#[test]
fn fill_mask_and_embed_on_tiny_models() {
    let mlm = common::blob(&common::Tiny { task: Task::MaskedLm, ..Default::default() });
    let emb = common::blob(&common::Tiny { task: Task::Embedding, ..Default::default() });
    let mut arena = AlignedBuf::zeroed(1 << 20);
    let a = arena.as_mut_bytes();
    unsafe {
        let m = load(&mlm);
        let mut s = zeroed::<pf_session>();
        assert_eq!(pf_session_open(&mut *s, &*m, null(), a.as_mut_ptr(), a.len()), PF_OK);
        let mut top = [pf_prediction::default(); 100];
        let mut n = 0usize;
        let no_mask = "the movie";
        assert_eq!(
            pf_fill_mask(&mut *s, no_mask.as_ptr().cast(), no_mask.len(), top.as_mut_ptr(), 3, &mut n),
            PF_ERR_NO_MASK_TOKEN
        );
        let text = "the movie was [MASK] !";
        assert_eq!(
            pf_fill_mask(&mut *s, text.as_ptr().cast(), text.len(), top.as_mut_ptr(), 100, &mut n),
            PF_OK
        );
        assert_eq!(n, common::VOCAB.len(), "k above the vocabulary gives the vocabulary");
        assert!(top[..n].windows(2).all(|w| w[0].prob >= w[1].prob));
        let total: f32 = top[..n].iter().map(|p| p.prob).sum();
        assert!((total - 1.0).abs() < 1e-4, "{total}");
        assert_eq!(
            pf_fill_mask(&mut *s, text.as_ptr().cast(), text.len(), null_mut(), 3, &mut n),
            PF_ERR_NULL
        );

        let e = load(&emb);
        assert_eq!(pf_session_open(&mut *s, &*e, null(), a.as_mut_ptr(), a.len()), PF_OK);
        let mut v = [0f32; 16];
        assert_eq!(pf_embed(&mut *s, text.as_ptr().cast(), text.len(), v.as_mut_ptr(), 16, &mut n), PF_OK);
        let norm: f32 = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!(n == 16 && (norm - 1.0).abs() < 1e-5, "{n} {norm}");
        assert_eq!(
            pf_embed(&mut *s, text.as_ptr().cast(), text.len(), v.as_mut_ptr(), 15, &mut n),
            PF_ERR_BUFFER_TOO_SMALL
        );
    }
}

#[test]
fn generator_misuse_is_a_code() {
    let gpt = AlignedBuf::from_bytes(GPT);
    let d = load(&gpt);
    let opts = pf_generator_options { context: 16, chunk: 4, kv: PF_KV_I8, sampling: false, max_word: 0 };
    let mut need = 0usize;
    let mut g = zeroed::<pf_generator>();
    let mut step = MaybeUninit::<pf_step>::uninit();
    unsafe {
        assert_eq!(pf_generator_arena_len(&*d, &opts, &mut need), PF_OK);
        let mut arena = AlignedBuf::zeroed(need);
        let a = arena.as_mut_bytes();
        assert_eq!(
            pf_generator_open(&mut *g, &*d, &opts, null(), a.as_mut_ptr(), need - 1),
            PF_ERR_ARENA_TOO_SMALL
        );
        let nan = pf_sampler_settings {
            temperature: f32::NAN,
            top_k: 0,
            top_p: 1.0,
            min_p: 0.0,
            repetition_penalty: 1.0,
            seed: 1,
        };
        assert_eq!(
            pf_generator_open(&mut *g, &*d, &opts, &nan, a.as_mut_ptr(), need),
            PF_ERR_BAD_SAMPLER_SETTINGS
        );
        assert_eq!(pf_generator_open(&mut *g, &*d, &opts, null(), a.as_mut_ptr(), need), PF_OK);

        // nothing fed yet
        assert_eq!(pf_generator_step(&mut *g, null(), step.as_mut_ptr()), PF_ERR_BAD_SEQUENCE_LENGTH);
        // a prompt longer than the context
        let long = "the whale ".repeat(20);
        assert_eq!(
            pf_generator_prompt(&mut *g, long.as_ptr().cast(), long.len(), null_mut()),
            PF_ERR_BAD_SEQUENCE_LENGTH
        );
        // (the prompt's tokens that fitted were fed: empty the context)
        assert_eq!(pf_generator_reset(&mut *g), PF_OK);
        let vocab = GPT_VOCAB;
        assert_eq!(pf_generator_feed_ids(&mut *g, [vocab].as_ptr(), 1), PF_ERR_BAD_VOCAB);
        let bad = b"\xc3\x28";
        assert_eq!(pf_generator_prompt(&mut *g, bad.as_ptr().cast(), 2, null_mut()), PF_ERR_BAD_UTF8);

        let prompt = "Call me";
        let mut fed = 0usize;
        assert_eq!(pf_generator_prompt(&mut *g, prompt.as_ptr().cast(), prompt.len(), &mut fed), PF_OK);
        assert!(fed >= 2);
        assert_eq!(pf_generator_step(&mut *g, null(), null_mut()), PF_ERR_NULL);
        let bad_limits = pf_limits { max_tokens: 0, stop_ids: null(), n_stop_ids: 3 };
        assert_eq!(pf_generator_step(&mut *g, &bad_limits, step.as_mut_ptr()), PF_ERR_NULL);
        // greedy until the 16-position context is full, then one step too many
        let mut last = PF_STOP_NONE;
        for _ in fed..16 {
            assert_eq!(pf_generator_step(&mut *g, null(), step.as_mut_ptr()), PF_OK);
            last = step.assume_init_ref().stop;
        }
        assert_eq!(last, PF_STOP_CONTEXT_FULL);
        assert_eq!(pf_generator_step(&mut *g, null(), step.as_mut_ptr()), PF_ERR_BAD_SEQUENCE_LENGTH);

        // sampling settings without room for sampling in the arena
        let warm = pf_sampler_settings {
            temperature: 0.8,
            top_k: 0,
            top_p: 1.0,
            min_p: 0.0,
            repetition_penalty: 1.0,
            seed: 1,
        };
        assert_eq!(pf_generator_open(&mut *g, &*d, &opts, &warm, a.as_mut_ptr(), need), PF_OK);
        assert_eq!(pf_generator_prompt(&mut *g, prompt.as_ptr().cast(), prompt.len(), null_mut()), PF_OK);
        assert_eq!(pf_generator_step(&mut *g, null(), step.as_mut_ptr()), PF_ERR_BUFFER_TOO_SMALL);
    }
}

/// The tiny GPT's vocabulary size (first id outside it).
const GPT_VOCAB: u32 = 1024;

#[test]
fn every_code_has_a_description() {
    let codes = [
        PF_OK,
        PF_ERR_NULL,
        PF_ERR_BAD_HANDLE,
        PF_ERR_BAD_UTF8,
        PF_ERR_WRONG_MODEL,
        PF_ERR_BAD_OPTION,
        PF_ERR_BAD_MAGIC,
        PF_ERR_UNSUPPORTED_VERSION,
        PF_ERR_UNSUPPORTED_FEATURES,
        PF_ERR_TRUNCATED,
        PF_ERR_CHECKSUM,
        PF_ERR_MISALIGNED,
        PF_ERR_BAD_HEADER,
        PF_ERR_BAD_SECTION,
        PF_ERR_UNKNOWN_DTYPE,
        PF_ERR_MISSING_SECTION,
        PF_ERR_SHAPE_MISMATCH,
        PF_ERR_WRONG_SECTION_TYPE,
        PF_ERR_UNSUPPORTED_ARCH,
        PF_ERR_BAD_VOCAB,
        PF_ERR_ARENA_TOO_SMALL,
        PF_ERR_BUFFER_TOO_SMALL,
        PF_ERR_BAD_SEQUENCE_LENGTH,
        PF_ERR_WRONG_TASK,
        PF_ERR_NO_MASK_TOKEN,
        PF_ERR_BAD_TABLE,
        PF_ERR_NON_FINITE,
        PF_ERR_NON_FINITE_OUTPUT,
        PF_ERR_BAD_SAMPLER_SETTINGS,
        PF_ERR_OTHER,
    ];
    let mut seen = std::collections::HashSet::new();
    for c in codes {
        let text = unsafe { std::ffi::CStr::from_ptr(picoformer_c::pf_strerror(c)) }.to_str().unwrap();
        assert!(text != "unknown status code" && seen.insert(text), "{c}: {text}");
    }
    let unknown = unsafe { std::ffi::CStr::from_ptr(picoformer_c::pf_strerror(12345)) };
    assert_eq!(unknown.to_str().unwrap(), "unknown status code");
}
