//! The `.pfm` model file format, version 1.
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
//!   6   2  minor version: readers accept any minor of their major; a minor only gives meaning to
//!          bytes that were reserved (zero) before, so old readers can ignore them safely
//!   8   4  header length = 256
//!  12   4  checksum: CRC-32 (IEEE, as zlib.crc32) of bytes [16, file length)
//!  16   8  file length in bytes (u64); trailing bytes after it are ignored
//!  24   4  required feature bits: a reader rejects a blob with bits it does not know (v1.0: none)
//!  28   4  section count, 1..=4096
//!  32   4  section table offset = 256
//!  36   4  architecture: 1 = BERT encoder
//!  40   4  task: 0 = embedding (BertModel), 1 = classification, 2 = masked LM
//!  44   4  reserved (0)
//!  48  80  architecture block (BERT): vocab_size, hidden, n_layers, n_heads, intermediate,
//!          max_position, type_vocab_size (u32 each, bytes 48..76), layer_norm_eps (f32, 76),
//!          activation (80: 1 = exact erf GELU); 84..128 reserved
//! 128  32  task block: n_labels (128), pooling (132: 0 = CLS, 1 = mean, 2 = pooler),
//!          flags (136: bit 0 L2-normalize, bit 1 has pooler), default max sequence (140);
//!          144..160 reserved
//! 160  64  tokenizer block: kind (160: 1 = BERT WordPiece), flags (164: bit 0 lowercase,
//!          bit 1 strip accents, bit 2 split CJK, bit 3 clean text), ids of [UNK] (168), [CLS] (172),
//!          [SEP] (176), [PAD] (180), [MASK] (184), max characters per word (188); 192..224 reserved
//! 224  32  reserved (0)
//! ```
//! Valid ranges of every field are documented on [`ArchParams`], [`TaskParams`] and
//! [`TokenizerParams`].
//!
//! # Sections
//! Each entry names a section, gives its dtype ([`DType`]), shape and location; the length must be
//! exactly what the dtype and shape imply, sections ascend without overlapping, and names are
//! unique. Tensor names follow the Hugging Face state dict (without the `bert.` prefix):
//!
//! | name | dtype | shape |
//! |---|---|---|
//! | `embeddings.word_embeddings.weight` | F32/F16/I8Row | `[vocab, hidden]` |
//! | `embeddings.position_embeddings.weight` | F32/F16/I8Row | `[max_position, hidden]` |
//! | `embeddings.token_type_embeddings.weight` | F32/F16/I8Row | `[type_vocab, hidden]` |
//! | `embeddings.LayerNorm.{weight,bias}` | F32 | `[hidden]` |
//! | `encoder.layer.{i}.attention.self.{query,key,value}.weight` | F32/F16/I8Row | `[hidden, hidden]` |
//! | `encoder.layer.{i}.attention.self.{query,key,value}.bias` | F32 | `[hidden]` |
//! | `encoder.layer.{i}.attention.output.dense.weight` / `.bias` | matrix / F32 | `[hidden, hidden]` / `[hidden]` |
//! | `encoder.layer.{i}.attention.output.LayerNorm.{weight,bias}` | F32 | `[hidden]` |
//! | `encoder.layer.{i}.intermediate.dense.weight` / `.bias` | matrix / F32 | `[intermediate, hidden]` / `[intermediate]` |
//! | `encoder.layer.{i}.output.dense.weight` / `.bias` | matrix / F32 | `[hidden, intermediate]` / `[hidden]` |
//! | `encoder.layer.{i}.output.LayerNorm.{weight,bias}` | F32 | `[hidden]` |
//! | `pooler.dense.weight` / `.bias` (if has pooler) | matrix / F32 | `[hidden, hidden]` / `[hidden]` |
//! | `classifier.weight` / `.bias` (classification) | matrix / F32 | `[n_labels, hidden]` / `[n_labels]` |
//! | `cls.predictions.transform.dense.weight` / `.bias` (masked LM) | matrix / F32 | `[hidden, hidden]` / `[hidden]` |
//! | `cls.predictions.transform.LayerNorm.{weight,bias}` (masked LM) | F32 | `[hidden]` |
//! | `cls.predictions.decoder.weight` (masked LM, only if not tied to the word embeddings) | matrix | `[vocab, hidden]` |
//! | `cls.predictions.bias` (masked LM) | F32 | `[vocab]` |
//! | `tokenizer.vocab.strings` | U8 | `[bytes]`: all tokens' UTF-8 concatenated in id order |
//! | `tokenizer.vocab.offsets` | U32 | `[vocab + 1]`: token `i` is `strings[offsets[i]..offsets[i+1]]` |
//! | `tokenizer.vocab.sorted` | U32 | `[n]`: ids ordered by token bytes, for binary search |
//! | `task.labels.strings` / `task.labels.offsets` (classification) | U8 / U32 | as the vocab planes, `[n_labels + 1]` offsets |
//!
//! "matrix" means any of F32, F16 or I8Row, chosen per tensor (mixed precision is allowed).
//! Sections a reader does not need are ignored, so writers may add more.
//!
//! # Compatibility
//! A v1.0 reader rejects: another major version, unknown required feature bits, unknown dtype codes
//! (codes >= 16 are reserved for group-wise int8/int4 with the group size in the entry), and any
//! inconsistency, each with its own [`Error`](crate::Error) variant. It never panics.

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
    Activation, Arch, ArchParams, BertParams, BpeParams, DecoderParams, Header, Pooling, RopeScaling,
    Task, TaskParams, TokenizerParams, WordPieceParams, ALIGN, CHECKSUM_START, HEADER_LEN, KNOWN_FEATURES, MAGIC,
    NO_TOKEN, VERSION_MAJOR, VERSION_MINOR,
};
pub use reader::{Blob, MAX_SECTIONS};
pub use section::{align_up, DType, Section, ENTRY_LEN, NAME_LEN};
#[cfg(feature = "std")]
pub use writer::{f32_bytes, i8_row_bytes, u32_bytes, write_blob, AlignedBuf, PendingSection, WriteError};
