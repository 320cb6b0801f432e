//! The `.pfm` model file format, version 1.4.
//!
//! One file is a complete deployable model: weights, hyper-parameters, tokenizer and task metadata.
//! It is read in place (zero-copy) from a `&[u8]` that may live in flash. This page is the
//! specification: a reader can be written from it alone.
//!
//! # Layout
//! All integers and floats are **little-endian**. Offsets are from the start of the blob.
//!
//! ```text
//! [0, 256)                 header (below)
//! [256, 256 + 96 * count)  section table: `count` entries of 96 bytes (see `section`)
//! then                     section data, each section starting on a multiple of 32 bytes,
//!                          gaps zero-filled; the blob length is a multiple of 32
//! ```
//!
//! # Header (256 bytes)
//! ```text
//! byte size field
//!   0   4  magic "PFMT"
//!   4   2  major version = 1: readers reject other majors (incompatible change)
//!   6   2  minor version (see Compatibility)
//!   8   4  header length = 256
//!  12   4  checksum: CRC-32 (IEEE, as zlib.crc32) of bytes [16, file length)
//!  16   8  file length in bytes (u64); trailing bytes after it are ignored
//!  24   4  required feature bits: a reader rejects a blob with bits it does not know; bit 0 (1.3):
//!          activation smoothing sections (`….act_smooth`) are present and must be applied;
//!          bit 1 (1.4): the classifier has a lexicon gate (task flags bit 2)
//!  28   4  section count, 1..=4096
//!  32   4  section table offset = 256
//!  36   4  architecture: 1 = BERT encoder, 2 = Llama-family decoder (1.1), 3 = GPT-2 decoder (1.1)
//!  40   4  task: 0 = embedding (BertModel), 1 = classification, 2 = masked LM (BERT only);
//!          3 = causal LM (decoders only, 1.1)
//!  44   4  reserved (0)
//!  48  80  architecture block, by architecture:
//!          BERT: vocab_size, hidden, n_layers, n_heads, intermediate, max_position,
//!            type_vocab_size (u32 each, bytes 48..76), layer_norm_eps (f32, 76),
//!            activation (80: 1 = exact erf GELU); 84..128 reserved
//!          decoders (1.1): vocab_size (48), hidden (52), n_layers (56), n_heads (60),
//!            intermediate (64), max_position = context (68), n_kv_heads (72), norm_eps (f32, 76),
//!            activation (80: 2 = SwiGLU for Llama, 3 = GELU-tanh for GPT-2), head_dim (84),
//!            rope_theta (f32, 88; 0 for GPT-2), rope scaling (92: 0 none, 1 linear, 2 Llama 3),
//!            its factor (f32, 96), low / high frequency factors (f32, 100 / 104), original
//!            context (108), head flags (112: bit 0 LM head tied to the token embeddings);
//!            116..128 reserved
//! 128  32  task block: n_labels (128), pooling (132: 0 = CLS, 1 = mean, 2 = pooler),
//!          flags (136: bit 0 L2-normalize, bit 1 has pooler, bit 2 lexicon gate (1.4): a
//!          two-label classifier adds VADER's gated score to its margin), default max sequence or, for
//!          decoders, default context (140); 144..160 reserved. Decoders: all 0 but byte 140.
//! 160  64  tokenizer block: kind (160), then by kind:
//!          1 = BERT WordPiece: flags (164: bit 0 lowercase, bit 1 strip accents, bit 2 split CJK,
//!            bit 3 clean text), ids of [UNK] (168), [CLS] (172), [SEP] (176), [PAD] (180),
//!            [MASK] (184), max characters per word (188); 192..224 reserved
//!          2 = byte-level BPE (1.1): pre-tokenizer (164: 0 GPT-2, 1 GPT-2 with single digits),
//!            flags (168: bit 0 ignore_merges), unk (172), bos (176), eos (180), pad (184),
//!            generation flags (188: bit 0 prepend bos, bit 1 ChatML template); absent ids are
//!            0xFFFFFFFF; 192..224 reserved
//! 224  32  reserved (0)
//! ```
//! Valid ranges of every field are documented on [`BertParams`], [`DecoderParams`],
//! [`TaskParams`], [`WordPieceParams`] and [`BpeParams`]; an out-of-range field is
//! [`Error::BadHeader`](crate::Error::BadHeader) naming it.
//!
//! # Sections
//! Each entry names a section, gives its dtype ([`DType`]), shape and location; the length must be
//! exactly what the dtype and shape imply, sections ascend without overlapping, and names are
//! unique. The tensors of each architecture, their names, shapes and presence, are listed once,
//! in [`model::schema`](crate::model::schema) (`BERT`, `LLAMA`, `GPT2`): Hugging Face state-dict
//! names without the base-model prefix (`bert.`, `model.`, `transformer.`), layer tensors as
//! `{layer_prefix}{i}.{name}`. 2-D weights are stored `[out, in]` in F32, F16, I8Row or I4 (1.2; rows
//! of whole groups), chosen per tensor (mixed precision is allowed; GPT-2's `Conv1D` weights are
//! transposed into this layout);
//! 1-D tensors (biases, norms) are F32. Besides the tensors:
//!
//! | name | dtype | shape |
//! |---|---|---|
//! | `tokenizer.vocab.strings` (WordPiece) | U8 | `[bytes]`: all tokens' UTF-8 concatenated in id order |
//! | `tokenizer.vocab.offsets` (WordPiece) | U32 | `[vocab + 1]`: token `i` is `strings[offsets[i]..offsets[i+1]]` |
//! | `tokenizer.vocab.sorted` (WordPiece) | U32 | `[n]`: ids ordered by token bytes, for binary search |
//! | `tokenizer.bpe.*` (BPE) | U8 / U32 | the seven planes of [`crate::tokenizer::bpe::BpePlanes`] (`sorted`, `added_bytes`, `added` may be absent: empty) |
//! | `tokenizer.chat` (decoders, optional) | U8 | the chat template around one user message: prefix, a NUL byte, suffix |
//! | `task.labels.strings` / `task.labels.offsets` (classification) | U8 / U32 | as the vocab planes, `[n_labels + 1]` offsets |
//! | `lexicon.words` / `lexicon.blocks` (lexicon gate, 1.4) | U8 / U32 | VADER's lexicon, front-coded in blocks ([`crate::lexicon`]) |
//!
//! Sections a reader does not need are ignored, so writers may add more.
//!
//! # Compatibility
//! - A reader rejects another major version, unknown required feature bits, unknown dtype codes
//!   (codes >= 16 are group-wise quantization with the group size in the entry: 16 = int4, 1.2), unknown
//!   architecture, task or tokenizer codes, and any inconsistency, each with its own
//!   [`Error`](crate::Error) variant. It never panics.
//! - A minor version gives meaning only to codes that were invalid before or to bytes that were
//!   reserved (zero). So a reader accepts every minor version of its major: an older reader
//!   rejects the new codes by name (e.g. a 1.0 reader reports a Llama blob as an unsupported
//!   architecture) and never misreads them.
//! - The writer records the lowest minor version that describes the blob
//!   ([`Header::required_minor`]): BERT with WordPiece is 1.0 (blobs written before 1.1 are
//!   reproduced byte for byte), decoders and BPE are 1.1, a blob with an int4 ([`DType::I4`]) section
//!   is 1.2 (a 1.1 reader rejects it as an unknown dtype, naming the section), activation
//!   smoothing 1.3 and a lexicon gate 1.4 (older readers reject their feature bits).

/// Wraps a blob or an arena so that it starts on a 32-byte boundary (the blob needs 4; 32 gives the
/// best SIMD loads and an exact [`Bert::arena_len`](crate::Bert::arena_len)):
///
/// ```text
/// static MODEL: Aligned<[u8; include_bytes!("model.pfm").len()]> = Aligned(*include_bytes!("model.pfm"));
/// static mut ARENA: Aligned<[u8; 64 * 1024]> = Aligned([0; 64 * 1024]);
/// let model = picoformer::Bert::from_bytes(&MODEL.0)?;
/// ```
#[derive(Debug, Clone, Copy)]
#[repr(C, align(32))]
pub struct Aligned<T: ?Sized>(pub T);

mod crc32;
mod header;
mod reader;
mod section;
#[cfg(feature = "std")]
mod writer;

pub use crc32::crc32;
pub use header::{
    Activation, Arch, ArchParams, BertParams, BpeParams, DecoderParams, Header, Pooling, RopeScaling, Task,
    TaskParams, TokenizerParams, WordPieceParams, ACT_SMOOTH_SUFFIX, ALIGN, CHECKSUM_START,
    FEATURE_ACT_SMOOTH, FEATURE_LEXICON_GATE, HEADER_LEN, KNOWN_FEATURES, MAGIC, NO_TOKEN, VERSION_MAJOR,
    VERSION_MINOR,
};
pub use reader::{Blob, MAX_SECTIONS};
pub use section::{align_up, DType, Section, ENTRY_LEN, NAME_LEN};
#[cfg(feature = "std")]
pub use writer::{
    f32_bytes, i4_group_bytes, i8_row_bytes, u32_bytes, write_blob, AlignedBuf, PendingSection, WriteError,
};
