//! Slicing that cannot panic.
//!
//! The forward pass slices arena buffers and weight views whose sizes were checked once, at load
//! and when the arena was carved; the compiler cannot see those checks. These helpers clamp to the
//! slice instead of panicking, so the bounds are provable where they are used and the inference
//! path holds no panic (`panic-check/` links it with a panic handler that cannot link). Within the
//! checked sizes they return exactly what the plain index would.

/// `s[..n]`, or all of `s` when it is shorter.
#[inline(always)]
pub(crate) fn head<T>(s: &[T], n: usize) -> &[T] {
    &s[..n.min(s.len())]
}

/// `s[..n]`, or all of `s` when it is shorter.
#[inline(always)]
pub(crate) fn head_mut<T>(s: &mut [T], n: usize) -> &mut [T] {
    let n = n.min(s.len());
    &mut s[..n]
}

/// `s[start..start + n]`, clamped to `s` (empty when `start` is past the end).
#[inline(always)]
pub(crate) fn span<T>(s: &[T], start: usize, n: usize) -> &[T] {
    head(s.get(start..).unwrap_or(&[]), n)
}

/// `s[start..start + n]`, clamped to `s` (empty when `start` is past the end).
#[inline(always)]
pub(crate) fn span_mut<T>(s: &mut [T], start: usize, n: usize) -> &mut [T] {
    match s.get_mut(start..) {
        Some(tail) => head_mut(tail, n),
        None => &mut [],
    }
}

/// `s[start..]`, or nothing when `start` is past the end.
#[inline(always)]
pub(crate) fn tail<T>(s: &[T], start: usize) -> &[T] {
    s.get(start..).unwrap_or(&[])
}

/// Rows `r0..r0 + m` of a row-major matrix with `w` columns, clamped to `s`.
#[inline(always)]
pub(crate) fn rows<T>(s: &[T], r0: usize, m: usize, w: usize) -> &[T] {
    span(s, r0 * w, m * w)
}

/// Rows `r0..r0 + m` of a row-major matrix with `w` columns, clamped to `s`.
#[inline(always)]
pub(crate) fn rows_mut<T>(s: &mut [T], r0: usize, m: usize, w: usize) -> &mut [T] {
    span_mut(s, r0 * w, m * w)
}

/// Copies as many elements as both slices hold (`dst.copy_from_slice(src)` when the lengths match).
#[inline(always)]
pub(crate) fn copy<T: Copy>(dst: &mut [T], src: &[T]) {
    let n = dst.len().min(src.len());
    dst[..n].copy_from_slice(&src[..n]);
}
