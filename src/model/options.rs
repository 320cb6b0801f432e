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

/// Arena options of a [`Generator`](super::Generator) (see
/// [`Decoder::arena_len`](super::Decoder::arena_len)).
///
/// Build with [`GeneratorOptions::new`] and the `with_*` methods; the fields can be read and set
/// (non-exhaustive, so that new options do not break callers).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct GeneratorOptions {
    /// Positions the key/value cache holds (prompt and generated tokens): `2..=max_position`.
    pub context: usize,
    /// Prompt tokens run per forward step, `1..=context`: more is faster, fewer saves RAM.
    pub chunk: usize,
    /// Precision of the key/value cache.
    pub kv: KvPrecision,
    /// Room for sampling (temperature, top-k/p, min-p, repetition penalty: `4 * vocab` bytes);
    /// without it only greedy decoding without a penalty runs.
    pub sampling: bool,
    /// Longest word (bytes between pre-tokenizer splits) [`Generator::feed_text`](super::Generator::feed_text)
    /// tokenizes: its scratch is `8 * max_word` bytes.
    pub max_word: usize,
}

impl GeneratorOptions {
    /// `context` positions, prompt chunks of up to 64 tokens, f32 keys and values, sampling,
    /// words up to 256 bytes.
    pub const fn new(context: usize) -> GeneratorOptions {
        let chunk = if context < 64 { context } else { 64 };
        GeneratorOptions { context, chunk, kv: KvPrecision::F32, sampling: true, max_word: 256 }
    }

    /// Runs `chunk` prompt tokens per step.
    pub const fn with_chunk(self, chunk: usize) -> GeneratorOptions {
        GeneratorOptions { chunk, ..self }
    }

    /// Keeps keys and values in `kv` precision.
    pub const fn with_kv(self, kv: KvPrecision) -> GeneratorOptions {
        GeneratorOptions { kv, ..self }
    }

    /// With (or without) room for sampling.
    pub const fn with_sampling(self, sampling: bool) -> GeneratorOptions {
        GeneratorOptions { sampling, ..self }
    }

    /// Tokenizes words of up to `max_word` bytes.
    pub const fn with_max_word(self, max_word: usize) -> GeneratorOptions {
        GeneratorOptions { max_word, ..self }
    }
}
