//! picoformer core (crate docs are filled in below).
#![no_std]
#![deny(unsafe_code)]
#![deny(missing_docs)]

#[cfg(feature = "std")]
extern crate std;
#[cfg(feature = "std")]
extern crate alloc;

pub mod error;
pub mod kernels;
pub mod tokenizer;

pub use error::{Error, Result};
