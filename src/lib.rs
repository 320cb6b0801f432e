//! # picoformer
//!
//! Transformer inference for microcontrollers and edge devices: `#![no_std]`, no allocator, weights
//! read in place from a model blob that can live in flash, all working memory in one caller-owned
//! arena whose size is known before the first token.
//!
//! ## Data flow
//! ```text
//! Hugging Face checkpoint --(picoformer quantize, host)--> .pfm blob (format)
//! &[u8] blob --Blob::parse--> validated header + section table     (once; typed errors)
//!           --Bert::from_blob--> weight views, tokenizer, head     (once; typed errors)
//! arena: &mut [u8] --Session::new--> activation buffers           (ArenaTooSmall if short)
//!                   (Session::with_options: chunk rows, int8 keys/values)
//! text --WordPiece--> ids --embeddings--> layers --> pooling / head --> embedding, labels, words
//! ```
//! After loading, running the model cannot fail on the blob: every shape was checked up front.
//!
//! ## Example
//! ```no_run
//! use picoformer::{Bert, Session};
//! # fn run(blob: &'static [u8]) -> Result<(), picoformer::Error> {
//! let model = Bert::from_bytes(blob)?;                 // parse + validate once
//! let max_seq = model.default_max_seq();
//! let mut arena = [0u8; 64 * 1024];                    // or a static buffer
//! let needed = model.arena_len(max_seq)?;              // exact size for this max_seq
//! # let _ = needed;
//! let mut session = Session::new(&model, &mut arena, max_seq)?;
//! let c = session.classify("I loved this film")?;
//! let _label = model.label(c.label);
//! let _p = c.probs[c.label];
//! # Ok(()) }
//! ```
//! On a microcontroller, keep keys and values in int8 and process a few rows at a time: a BERT with
//! hidden 128, 4 heads and intermediate 512 then runs 64 tokens in under 64 KiB.
//! ```no_run
//! use picoformer::{Bert, KvPrecision, Session, SessionOptions};
//! # fn run(blob: &'static [u8]) -> Result<(), picoformer::Error> {
//! let model = Bert::from_bytes(blob)?;
//! let opts = SessionOptions::new(64).with_chunk(2).with_kv(KvPrecision::I8);
//! let mut arena = [0u8; 64 * 1024];                    // or a static buffer
//! assert!(model.arena_len_with(&opts)? <= arena.len());
//! let mut session = Session::with_options(&model, &mut arena, &opts)?;
//! let _c = session.classify("I loved this film")?;
//! # Ok(()) }
//! ```
//!
//! ## Modules
//! - [`format`]: the `.pfm` file format specification, reader (and writer with `std`).
//! - [`quant`]: weight matrix views in f32, f16 and int8.
//! - [`kernels`]: the scalar reference kernels and their SIMD variants (one dispatch point).
//! - [`tokenizer`]: BERT WordPiece, allocation-free.
//! - [`model`]: BERT encoder, heads, sessions and the arena plan.
#![no_std]
#![deny(unsafe_code)]
#![deny(missing_docs)]

#[cfg(feature = "std")]
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

mod bounded;
pub mod error;
pub mod format;
pub mod kernels;
pub mod lexicon;
pub mod model;
pub mod quant;
mod rank;
pub mod sampler;
pub mod tokenizer;

pub use error::{Error, Result};
pub use model::{
    Bert, Classification, Decoder, Generator, GeneratorOptions, KvPrecision, Limits, Prediction, Session,
    SessionOptions, Step, Stop,
};
pub use sampler::{Sampler, SamplerSettings};
