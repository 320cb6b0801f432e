//! Handles: caller-owned storage (`pf_model`, `pf_session`, `pf_generator`, plain structs of
//! `uint64_t` words that C declares statically or on the stack) holding a tagged Rust value. A
//! tag at the start says which value an open call wrote there, so a handle that was never opened,
//! or one of another kind, is `PF_ERR_BAD_HANDLE` rather than undefined behaviour.
//!
//! A value in a handle borrows what it was opened with (the blob, the model handle, the arena)
//! for as long as the handle is used: the `'static` in the stored types is the C caller's promise
//! (documented in the header), not something Rust checks.

use core::mem::{align_of, size_of};

use crate::error::{PF_ERR_BAD_HANDLE, PF_ERR_NULL};

/// `uint64_t` words of a [`pf_model`].
pub const PF_MODEL_WORDS: usize = 576;
/// `uint64_t` words of a [`pf_session`].
pub const PF_SESSION_WORDS: usize = 80;
/// `uint64_t` words of a [`pf_generator`].
pub const PF_GENERATOR_WORDS: usize = 112;

/// Storage of a loaded model (`pf_model_load`). Opaque: only its size and alignment matter.
/// Must not move or be reused while sessions or generators opened on it are in use.
#[repr(C)]
pub struct pf_model {
    /// Opaque.
    pub _opaque: [u64; PF_MODEL_WORDS],
}

/// Storage of an encoder session (`pf_session_open`). Opaque; must not move while in use.
#[repr(C)]
pub struct pf_session {
    /// Opaque.
    pub _opaque: [u64; PF_SESSION_WORDS],
}

/// Storage of a decoder's generator (`pf_generator_open`). Opaque; must not move while in use.
#[repr(C)]
pub struct pf_generator {
    /// Opaque.
    pub _opaque: [u64; PF_GENERATOR_WORDS],
}

/// A tagged value as it lies in a handle's storage.
#[repr(C)]
pub struct Slot<T> {
    tag: u32,
    pub value: T,
}

/// A kind of handle: its storage type and the tag its open call writes.
pub trait Kind {
    /// The handle's C storage.
    type Storage;
    /// The value an open call stores.
    type Value;
    /// The tag of an opened handle of this kind.
    const TAG: u32;
    /// Compile-time check that the value fits its storage (size and alignment).
    const FITS: () = assert!(
        size_of::<Slot<Self::Value>>() <= size_of::<Self::Storage>()
            && align_of::<Slot<Self::Value>>() <= align_of::<Self::Storage>()
    );
}

/// Stores `value` in `storage` and tags it as open.
///
/// # Safety
/// `storage` is NULL or points to writable storage of kind `K`; whatever it held is overwritten
/// without being dropped (the C API's values own nothing that needs dropping).
pub unsafe fn open<K: Kind>(storage: *mut K::Storage, value: K::Value) -> i32 {
    let () = K::FITS;
    if storage.is_null() || !storage.is_aligned() {
        return PF_ERR_NULL;
    }
    // SAFETY: non-NULL, aligned, and large and aligned enough for a Slot (K::FITS); the caller
    // promises it is writable. `write` does not read or drop the old bytes.
    unsafe { storage.cast::<Slot<K::Value>>().write(Slot { tag: K::TAG, value }) };
    crate::error::PF_OK
}

/// Clears the tag, so that the handle reads as never opened.
///
/// # Safety
/// As [`open`].
pub unsafe fn close<K: Kind>(storage: *mut K::Storage) {
    if !storage.is_null() && storage.is_aligned() {
        // SAFETY: the first word of the storage is the tag; the caller promises it is writable.
        unsafe { storage.cast::<u32>().write(0) };
    }
}

/// The value of an opened handle.
///
/// # Safety
/// `storage` is NULL or points to readable storage of kind `K` that no `&mut` borrows.
pub unsafe fn get<'a, K: Kind>(storage: *const K::Storage) -> Result<&'a K::Value, i32> {
    let () = K::FITS;
    if storage.is_null() || !storage.is_aligned() {
        return Err(PF_ERR_NULL);
    }
    // SAFETY: the storage is readable and at least 4-byte aligned; its first word is the tag.
    if unsafe { storage.cast::<u32>().read() } != K::TAG {
        return Err(PF_ERR_BAD_HANDLE);
    }
    // SAFETY: the tag says an open call wrote a Slot<K::Value> here.
    Ok(unsafe { &(*storage.cast::<Slot<K::Value>>()).value })
}

/// The value of an opened handle, mutably.
///
/// # Safety
/// `storage` is NULL or points to readable and writable storage of kind `K` that nothing else
/// borrows during `'a` (one thread at a time).
pub unsafe fn get_mut<'a, K: Kind>(storage: *mut K::Storage) -> Result<&'a mut K::Value, i32> {
    let () = K::FITS;
    if storage.is_null() || !storage.is_aligned() {
        return Err(PF_ERR_NULL);
    }
    // SAFETY: as in `get`.
    if unsafe { storage.cast::<u32>().read() } != K::TAG {
        return Err(PF_ERR_BAD_HANDLE);
    }
    // SAFETY: the tag says an open call wrote a Slot<K::Value> here; the caller promises no
    // other borrow.
    Ok(unsafe { &mut (*storage.cast::<Slot<K::Value>>()).value })
}
