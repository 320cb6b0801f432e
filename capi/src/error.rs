//! Status codes: every call returns `PF_OK` (0) or a negative code, and `pf_strerror` names it.
//! The first codes are the C API's own (NULL pointers, handles, UTF-8); the rest are the core's
//! `Error` variants, one code each, in the order they are declared.

use picoformer::Error;

/// Success.
pub const PF_OK: i32 = 0;
/// A pointer argument that must not be NULL was NULL.
pub const PF_ERR_NULL: i32 = -1;
/// A handle that was never opened (or opened by another call: a session where a model belongs).
pub const PF_ERR_BAD_HANDLE: i32 = -2;
/// A text argument is not valid UTF-8.
pub const PF_ERR_BAD_UTF8: i32 = -3;
/// An encoder call on a decoder model, or a decoder call on an encoder.
pub const PF_ERR_WRONG_MODEL: i32 = -4;
/// An option has no meaning (an unknown `PF_KV_*` code).
pub const PF_ERR_BAD_OPTION: i32 = -5;
/// The blob does not start with the `.pfm` magic bytes.
pub const PF_ERR_BAD_MAGIC: i32 = -10;
/// The blob's format version is not one this library reads.
pub const PF_ERR_UNSUPPORTED_VERSION: i32 = -11;
/// The blob needs features this library does not implement.
pub const PF_ERR_UNSUPPORTED_FEATURES: i32 = -12;
/// The blob is shorter than its header or sections say.
pub const PF_ERR_TRUNCATED: i32 = -13;
/// The blob's checksum does not match its bytes (corrupted).
pub const PF_ERR_CHECKSUM: i32 = -14;
/// The blob, or a section in it, is not on a 32-byte boundary.
pub const PF_ERR_MISALIGNED: i32 = -15;
/// A header field is out of range.
pub const PF_ERR_BAD_HEADER: i32 = -16;
/// A section table entry is malformed.
pub const PF_ERR_BAD_SECTION: i32 = -17;
/// A section has a dtype this library does not know.
pub const PF_ERR_UNKNOWN_DTYPE: i32 = -18;
/// A tensor the architecture needs is missing.
pub const PF_ERR_MISSING_SECTION: i32 = -19;
/// A tensor's dtype or shape disagrees with the header.
pub const PF_ERR_SHAPE_MISMATCH: i32 = -20;
/// A section does not hold the element type or length asked for.
pub const PF_ERR_WRONG_SECTION_TYPE: i32 = -21;
/// The blob holds an architecture this build does not run.
pub const PF_ERR_UNSUPPORTED_ARCH: i32 = -22;
/// The tokenizer data is inconsistent, or a token id is outside the vocabulary.
pub const PF_ERR_BAD_VOCAB: i32 = -23;
/// The arena is smaller than the options need (see the `*_arena_len` calls).
pub const PF_ERR_ARENA_TOO_SMALL: i32 = -24;
/// An output buffer is too small.
pub const PF_ERR_BUFFER_TOO_SMALL: i32 = -25;
/// A sequence length or context outside what the model or the arena allows (also: a prompt
/// that does not fit, a step after the context is full).
pub const PF_ERR_BAD_SEQUENCE_LENGTH: i32 = -26;
/// The model has no head for this call (e.g. classify on an embedding model).
pub const PF_ERR_WRONG_TASK: i32 = -27;
/// fill-mask was given a text without a `[MASK]` token.
pub const PF_ERR_NO_MASK_TOKEN: i32 = -28;
/// A tokenizer or label table is missing or inconsistent.
pub const PF_ERR_BAD_TABLE: i32 = -29;
/// A weight or scale is NaN or infinite (`pf_model_check_finite`).
pub const PF_ERR_NON_FINITE: i32 = -30;
/// The model computed NaN or infinite outputs for this input.
pub const PF_ERR_NON_FINITE_OUTPUT: i32 = -31;
/// A sampler setting is out of range.
pub const PF_ERR_BAD_SAMPLER_SETTINGS: i32 = -32;
/// An error of a newer core that this C API has no code for.
pub const PF_ERR_OTHER: i32 = -99;

/// The status code of a core error.
pub fn code(e: Error) -> i32 {
    match e {
        Error::BadMagic => PF_ERR_BAD_MAGIC,
        Error::UnsupportedVersion { .. } => PF_ERR_UNSUPPORTED_VERSION,
        Error::UnsupportedFeatures(_) => PF_ERR_UNSUPPORTED_FEATURES,
        Error::Truncated { .. } => PF_ERR_TRUNCATED,
        Error::ChecksumMismatch { .. } => PF_ERR_CHECKSUM,
        Error::Misaligned => PF_ERR_MISALIGNED,
        Error::BadHeader { .. } => PF_ERR_BAD_HEADER,
        Error::BadSection { .. } => PF_ERR_BAD_SECTION,
        Error::UnknownDtype { .. } => PF_ERR_UNKNOWN_DTYPE,
        Error::MissingSection { .. } => PF_ERR_MISSING_SECTION,
        Error::ShapeMismatch { .. } => PF_ERR_SHAPE_MISMATCH,
        Error::WrongSectionType { .. } => PF_ERR_WRONG_SECTION_TYPE,
        Error::UnsupportedArch(_) => PF_ERR_UNSUPPORTED_ARCH,
        Error::BadVocab => PF_ERR_BAD_VOCAB,
        Error::ArenaTooSmall { .. } => PF_ERR_ARENA_TOO_SMALL,
        Error::BufferTooSmall { .. } => PF_ERR_BUFFER_TOO_SMALL,
        Error::BadSequenceLength { .. } => PF_ERR_BAD_SEQUENCE_LENGTH,
        Error::WrongTask => PF_ERR_WRONG_TASK,
        Error::NoMaskToken => PF_ERR_NO_MASK_TOKEN,
        Error::BadTable { .. } => PF_ERR_BAD_TABLE,
        Error::NonFinite { .. } => PF_ERR_NON_FINITE,
        Error::NonFiniteOutput => PF_ERR_NON_FINITE_OUTPUT,
        Error::BadSamplerSettings { .. } => PF_ERR_BAD_SAMPLER_SETTINGS,
        _ => PF_ERR_OTHER,
    }
}

/// The status code of a result: `PF_OK` or the error's code.
pub fn status(r: picoformer::Result<()>) -> i32 {
    match r {
        Ok(()) => PF_OK,
        Err(e) => code(e),
    }
}

/// What a status code means (NUL-terminated, static).
pub fn describe(code: i32) -> &'static core::ffi::CStr {
    match code {
        PF_OK => c"ok",
        PF_ERR_NULL => c"a required pointer argument is NULL",
        PF_ERR_BAD_HANDLE => c"the handle was not opened by the matching call",
        PF_ERR_BAD_UTF8 => c"text is not valid UTF-8",
        PF_ERR_WRONG_MODEL => c"the call is for the other kind of model (encoder or decoder)",
        PF_ERR_BAD_OPTION => c"an option has no meaning (unknown code)",
        PF_ERR_BAD_MAGIC => c"not a picoformer model (bad magic)",
        PF_ERR_UNSUPPORTED_VERSION => c"unsupported format version",
        PF_ERR_UNSUPPORTED_FEATURES => c"the blob requires features this library lacks",
        PF_ERR_TRUNCATED => c"blob truncated",
        PF_ERR_CHECKSUM => c"checksum mismatch: the blob is corrupted",
        PF_ERR_MISALIGNED => c"blob or section not aligned to 32 bytes",
        PF_ERR_BAD_HEADER => c"invalid header field",
        PF_ERR_BAD_SECTION => c"malformed section table entry",
        PF_ERR_UNKNOWN_DTYPE => c"section with an unknown dtype",
        PF_ERR_MISSING_SECTION => c"a tensor the architecture needs is missing",
        PF_ERR_SHAPE_MISMATCH => c"a tensor's dtype or shape disagrees with the header",
        PF_ERR_WRONG_SECTION_TYPE => c"a section does not hold the element type or length asked for",
        PF_ERR_UNSUPPORTED_ARCH => c"unsupported architecture",
        PF_ERR_BAD_VOCAB => c"inconsistent tokenizer data or a token id outside the vocabulary",
        PF_ERR_ARENA_TOO_SMALL => c"arena too small",
        PF_ERR_BUFFER_TOO_SMALL => c"output buffer too small",
        PF_ERR_BAD_SEQUENCE_LENGTH => c"sequence length or context out of range",
        PF_ERR_WRONG_TASK => c"the model has no head for this task",
        PF_ERR_NO_MASK_TOKEN => c"input has no [MASK] token",
        PF_ERR_BAD_TABLE => c"a tokenizer or label table is missing or inconsistent",
        PF_ERR_NON_FINITE => c"a weight or scale is NaN or infinite",
        PF_ERR_NON_FINITE_OUTPUT => c"the model computed NaN or infinite outputs",
        PF_ERR_BAD_SAMPLER_SETTINGS => c"sampler setting out of range",
        PF_ERR_OTHER => c"error of a newer core",
        _ => c"unknown status code",
    }
}
