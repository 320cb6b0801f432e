//! Tokenizers. [`WordPiece`] reproduces Hugging Face `tokenizers`' BERT pipeline (special-token
//! split, `BertNormalizer`, `BertPreTokenizer`, `WordPiece`, `[CLS] .. [SEP]` with truncation)
//! id for id, without allocating: the vocabulary is borrowed from the model blob ([`Vocab`]) and
//! the ids go into a caller's buffer.
//!
//! ```
//! # #[cfg(feature = "std")] {
//! use picoformer::tokenizer::{build_planes, Vocab, WordPiece, WordPieceConfig};
//! let (strings, offsets, sorted) = build_planes(&["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hi", "!"]);
//! let vocab = Vocab::new(&strings, &offsets, &sorted).unwrap();
//! let config = WordPieceConfig {
//!     lowercase: true, strip_accents: true, tokenize_cjk: true, clean_text: true,
//!     unk: 1, cls: 2, sep: 3, pad: 0, mask: 4, max_chars_per_word: 100,
//! };
//! let tokenizer = WordPiece::new(vocab, config).unwrap();
//! let mut ids = [0u32; 8];
//! let enc = tokenizer.encode("Hi!", &mut ids).unwrap();
//! assert_eq!(&ids[..enc.len], &[2, 5, 6, 3]);
//! # }
//! ```
//!
//! Unicode data: see `unicode.rs` (tables probed from the reference by `scripts/golden/gen_unicode_tables.py`).
//!
//! Known divergences from the reference, all confined to combining chars that survive accent
//! stripping (spacing marks such as U+1D165, never plain accents): a run of more than 8 of them
//! is not fully reordered, and their combining classes are Unicode 14 (Python's `unicodedata`).

pub mod bpe;
mod normalize;
#[rustfmt::skip]
mod tables;
pub(crate) mod unicode;
mod vocab;
mod wordpiece;

#[cfg(feature = "std")]
pub use vocab::build_planes;
pub use vocab::Vocab;
pub use wordpiece::{Encoding, WordPiece, WordPieceConfig, MAX_WORD_CHARS};
