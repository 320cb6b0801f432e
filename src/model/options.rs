//! How a [`Session`](super::Session) uses its arena: sequence length, chunk size, key/value precision.

/// Precision of the key/value cache (keys and values of every position; an encoder keeps one layer
/// at a time, a decoder every layer).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum KvPrecision {
    /// f32 keys and values: `2 * S * H * 4` bytes. The reference numerics.
    #[default]
    F32,
    /// int8 keys and values with one f32 scale per (head, position): `2 * S * (H + 4 * heads)`
    /// bytes, a quarter of [`KvPrecision::F32`]. Both attention products run as 16-bit × int8
    /// matmuls with exact i32 accumulation. all-MiniLM-L6-v2 with f32 weights stays within
    /// embedding cosine 0.99997 of PyTorch (f32 keys and values: 1.0000000).
    I8,
    /// f16 keys and values: half of [`KvPrecision::F32`]; products accumulate in f32.
    F16,
}

/// Arena options of a session (see [`Bert::arena_len_with`](super::Bert::arena_len_with)).
///
/// Build with [`SessionOptions::new`] and the `with_*` methods; the fields can be read and set
/// (non-exhaustive, so that new options do not break callers).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct SessionOptions {
    /// Longest sequence, `[CLS]` and `[SEP]` included: `2..=max_position`.
    pub max_seq: usize,
    /// Rows processed at a time, `1..=max_seq`: `max_seq` is fastest, a small chunk saves RAM.
    pub chunk: usize,
    /// Precision of the key/value cache.
    pub kv: KvPrecision,
}

impl SessionOptions {
    /// All rows at once, f32 keys and values: the options of [`Session::new`](super::Session::new).
    pub const fn new(max_seq: usize) -> SessionOptions {
        SessionOptions { max_seq, chunk: max_seq, kv: KvPrecision::F32 }
    }

    /// Processes `chunk` rows at a time.
    pub const fn with_chunk(self, chunk: usize) -> SessionOptions {
        SessionOptions { chunk, ..self }
    }

    /// Keeps keys and values in `kv` precision.
    pub const fn with_kv(self, kv: KvPrecision) -> SessionOptions {
        SessionOptions { kv, ..self }
    }
}
