//! Pointer arguments turned into references and slices. Every unsafe operation of the C API on
//! caller pointers happens here; each function states what the caller promised (the header says
//! the same to C).

use core::ffi::c_char;

use crate::error::{PF_ERR_BAD_UTF8, PF_ERR_NULL};

/// `len` bytes at `ptr` (`ptr` may be NULL when `len` is 0).
///
/// # Safety
/// `ptr` is NULL or points to `len` readable bytes that stay unchanged for `'a`.
pub unsafe fn bytes<'a>(ptr: *const u8, len: usize) -> Result<&'a [u8], i32> {
    if len == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() {
        return Err(PF_ERR_NULL);
    }
    // SAFETY: non-NULL, and the caller promises `len` readable bytes for 'a.
    Ok(unsafe { core::slice::from_raw_parts(ptr, len) })
}

/// `len` bytes of UTF-8 text at `ptr` (not NUL-terminated; NULL allowed when `len` is 0).
///
/// # Safety
/// As [`bytes`].
pub unsafe fn text<'a>(ptr: *const c_char, len: usize) -> Result<&'a str, i32> {
    // SAFETY: forwarded caller promise.
    let b = unsafe { bytes(ptr.cast(), len) }?;
    core::str::from_utf8(b).map_err(|_| PF_ERR_BAD_UTF8)
}

/// `len` elements at `ptr` (NULL allowed when `len` is 0).
///
/// # Safety
/// `ptr` is NULL or points to `len` readable, initialized `T`s that stay unchanged for `'a`.
pub unsafe fn slice<'a, T>(ptr: *const T, len: usize) -> Result<&'a [T], i32> {
    if len == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() || !ptr.is_aligned() {
        return Err(PF_ERR_NULL);
    }
    // SAFETY: non-NULL and aligned; the caller promises `len` initialized elements for 'a.
    Ok(unsafe { core::slice::from_raw_parts(ptr, len) })
}

/// `len` writable elements at `ptr` (NULL allowed when `len` is 0).
///
/// # Safety
/// `ptr` is NULL or points to `len` writable `T`s (initialized: `T` is a plain C number or
/// struct of them) that nothing else uses for `'a`.
pub unsafe fn slice_mut<'a, T>(ptr: *mut T, len: usize) -> Result<&'a mut [T], i32> {
    if len == 0 {
        return Ok(&mut []);
    }
    if ptr.is_null() || !ptr.is_aligned() {
        return Err(PF_ERR_NULL);
    }
    // SAFETY: non-NULL and aligned; the caller promises `len` writable elements, unaliased, for 'a.
    Ok(unsafe { core::slice::from_raw_parts_mut(ptr, len) })
}

/// Writes `value` to `ptr` when it is not NULL (an optional output).
///
/// # Safety
/// `ptr` is NULL or points to a writable `T`.
pub unsafe fn put<T>(ptr: *mut T, value: T) {
    if !ptr.is_null() && ptr.is_aligned() {
        // SAFETY: non-NULL and aligned; the caller promises a writable T. `write` drops nothing
        // (the C side's bytes may be anything).
        unsafe { ptr.write(value) };
    }
}

/// Writes `value` to `ptr`, which must not be NULL (a required output).
///
/// # Safety
/// As [`put`].
pub unsafe fn put_required<T>(ptr: *mut T, value: T) -> Result<(), i32> {
    if ptr.is_null() || !ptr.is_aligned() {
        return Err(PF_ERR_NULL);
    }
    // SAFETY: as in `put`.
    unsafe { ptr.write(value) };
    Ok(())
}

/// Writes `msg` into the C buffer `buf` of `cap` bytes, cut to fit and NUL-terminated (nothing
/// when `buf` is NULL or `cap` is 0).
///
/// # Safety
/// `buf` is NULL or points to `cap` writable bytes.
pub unsafe fn put_message(buf: *mut c_char, cap: usize, msg: &str) {
    // SAFETY: forwarded caller promise.
    let Ok(out) = (unsafe { slice_mut(buf.cast::<u8>(), cap) }) else { return };
    let Some(room) = out.len().checked_sub(1) else { return };
    let mut n = msg.len().min(room);
    while !msg.is_char_boundary(n) {
        n -= 1;
    }
    out[..n].copy_from_slice(&msg.as_bytes()[..n]);
    out[n] = 0;
}
