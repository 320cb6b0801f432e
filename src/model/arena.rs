//! Carving the caller's arena into typed buffers.
//!
//! Every architecture declares its buffers once, in one function that asks a [`Carver`] for each
//! of them by name and shape. The same function runs twice: first on a measuring carver, which
//! hands out empty slices and adds up the bytes (that sum is `arena_len`), then on the real arena.
//! So the size a model reports and the buffers it carves cannot drift apart.
//! Each buffer starts on a 32-byte boundary.

use half::f16;

use crate::bounded::head_mut;
use crate::{Error, Result};

/// Alignment of every buffer, in bytes.
pub const ALIGN: usize = 32;

/// Hands out consecutive 32-byte-aligned pieces of an arena, or only counts them.
pub(crate) struct Carver<'a> {
    rest: &'a mut [u8],
    /// Bytes handed out (or counted) so far, padding included.
    used: usize,
    measuring: bool,
}

impl<'a> Carver<'a> {
    /// Bytes counted so far (an arena starting on a 32-byte boundary needs exactly this many).
    pub(crate) fn used(&self) -> usize {
        self.used
    }

    /// `dims` multiplied out, or `ArenaTooSmall` with an unrepresentable need on overflow.
    pub(crate) fn count(&self, dims: &[usize]) -> Result<usize> {
        dims.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d)).ok_or(OVERFLOW)
    }

    /// `n` elements of `T`, 32-byte aligned (an empty slice when measuring).
    fn take<T: bytemuck::Pod>(&mut self, n: usize) -> Result<&'a mut [T]> {
        let len = n.checked_mul(core::mem::size_of::<T>()).ok_or(OVERFLOW)?;
        let padded = len.checked_add(ALIGN - 1).ok_or(OVERFLOW)? / ALIGN * ALIGN;
        self.used = self.used.checked_add(padded).ok_or(OVERFLOW)?;
        if self.measuring {
            return Ok(&mut []);
        }
        let rest = core::mem::take(&mut self.rest);
        if padded > rest.len() {
            return Err(Error::ArenaTooSmall { needed: self.used, got: self.used - padded + rest.len() });
        }
        let (piece, tail) = rest.split_at_mut(padded);
        self.rest = tail;
        bytemuck::try_cast_slice_mut(head_mut(piece, len)).map_err(|_| Error::Misaligned)
    }

    /// `n` f32s.
    pub(crate) fn f32s(&mut self, n: usize) -> Result<&'a mut [f32]> {
        self.take(n)
    }

    /// `n` f16s.
    pub(crate) fn f16s(&mut self, n: usize) -> Result<&'a mut [f16]> {
        self.take(n)
    }

    /// `n` i16s.
    pub(crate) fn i16s(&mut self, n: usize) -> Result<&'a mut [i16]> {
        self.take(n)
    }

    /// `n` i8s.
    pub(crate) fn i8s(&mut self, n: usize) -> Result<&'a mut [i8]> {
        self.take(n)
    }

    /// `n` bytes.
    pub(crate) fn u8s(&mut self, n: usize) -> Result<&'a mut [u8]> {
        self.take(n)
    }

    /// `n` u32s.
    pub(crate) fn u32s(&mut self, n: usize) -> Result<&'a mut [u32]> {
        self.take(n)
    }
}

const OVERFLOW: Error = Error::ArenaTooSmall { needed: usize::MAX, got: 0 };

/// Runs `layout` on a measuring carver: the arena bytes it needs (from a 32-byte boundary).
pub(crate) fn measure<T>(layout: impl FnOnce(&mut Carver<'static>) -> Result<T>) -> Result<usize> {
    let mut c = Carver { rest: &mut [], used: 0, measuring: true };
    layout(&mut c)?;
    Ok(c.used())
}

/// Measures `layout`, checks that `arena` holds it (after aligning its start), then carves it.
/// Fails with `ArenaTooSmall` (the full need, for this arena's alignment) before touching anything.
pub(crate) fn carve<'a, T>(arena: &'a mut [u8], layout: impl Fn(&mut Carver<'a>) -> Result<T>) -> Result<T> {
    let mut probe = Carver { rest: &mut [], used: 0, measuring: true };
    layout(&mut probe)?;
    let total = probe.used;
    let pad = (ALIGN - (arena.as_ptr() as usize) % ALIGN) % ALIGN;
    let needed = total.saturating_add(pad);
    if arena.len() < needed {
        return Err(Error::ArenaTooSmall { needed, got: arena.len() });
    }
    let mut c = Carver { rest: &mut arena[pad..], used: 0, measuring: false };
    layout(&mut c)
}
