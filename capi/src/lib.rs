//! The C API of picoformer: a `staticlib` (`libpicoformer_c.a`) and the header
//! `capi/include/picoformer.h`, generated from this crate by cbindgen.
//!
//! Rules of the interface (the header repeats them):
//! - **No allocation.** Handles (`pf_model`, `pf_session`, `pf_generator`) are structs of fixed
//!   size that the caller declares; arenas and output buffers are the caller's too.
//! - **Borrowing.** A model borrows its blob (flash or RAM, 32-byte aligned) for as long as it is
//!   used; a session or generator borrows its model handle and its arena. Nothing may move or be
//!   freed while something borrows it. Pointers a call hands back (a token's text, a step's text
//!   piece) point into the blob or the arena: blob pointers live as long as the blob, arena
//!   pointers until the next call on the same session or generator.
//! - **Threads.** A loaded model is read-only: sessions on different threads may share it. One
//!   session or generator is used by one thread at a time.
//! - **Errors.** Every call returns `PF_OK` (0) or a negative `PF_ERR_*` code (`pf_strerror`
//!   names it); outputs are written only on success. NULL where a pointer is required, a handle
//!   that was not opened, a short buffer, text that is not UTF-8 or a corrupted blob give a code,
//!   never a crash. Nothing unwinds across the boundary: the core's inference path cannot panic
//!   (`panic-check/`), and a panic anywhere else aborts.
//! - **Versioning.** `PF_ABI_VERSION` (the header) and `pf_abi_version()` (the library) change
//!   whenever a function, struct or code changes meaning or layout; a program checks that they
//!   agree at startup.

#![cfg_attr(target_os = "none", no_std)]
#![allow(non_camel_case_types)]

pub mod error;
mod ffi;
pub mod generator;
pub mod handle;
pub mod model;
pub mod session;

use core::ffi::c_char;

/// Version of the interface this header describes; compare with `pf_abi_version()`.
pub const PF_ABI_VERSION: u32 = 1;

/// Alignment, in bytes, of blobs and of the arenas the `*_arena_len` sizes are exact for.
pub const PF_ARENA_ALIGN: usize = 32;

/// The interface version of the linked library (`PF_ABI_VERSION` of the header it was built
/// with).
#[no_mangle]
pub extern "C" fn pf_abi_version() -> u32 {
    PF_ABI_VERSION
}

/// The library's version, e.g. `"0.1.0"` (NUL-terminated, static).
#[no_mangle]
pub extern "C" fn pf_version() -> *const c_char {
    const V: &str = concat!(env!("CARGO_PKG_VERSION"), "\0");
    V.as_ptr().cast()
}

/// What a status code means (NUL-terminated, static; never NULL).
#[no_mangle]
pub extern "C" fn pf_strerror(code: i32) -> *const c_char {
    error::describe(code).as_ptr()
}

/// A panic has nowhere to go in firmware: it calls the C library's `abort()` (newlib, picolibc
/// and the vendor SDKs all have one). The inference path is proven free of panics.
#[cfg(all(target_os = "none", not(test)))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    extern "C" {
        fn abort() -> !;
    }
    // SAFETY: `abort` takes nothing and does not return.
    unsafe { abort() }
}
