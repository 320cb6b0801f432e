//! The fixed 256-byte header of a `.pfm` blob: identity, architecture hyper-parameters, task and
//! tokenizer settings. Encoded field by field in little-endian (no transmutes); the byte offset of
//! each field is part of the format and written next to it.

use crate::{Error, Result};

/// The four magic bytes every blob starts with.
pub const MAGIC: [u8; 4] = *b"PFMT";
/// Major version this reader implements. A different major version is rejected.
pub const VERSION_MAJOR: u16 = 1;
/// Minor version this writer produces. Readers accept any minor version of their major version:
/// minor versions only add header fields in bytes that were reserved (zero) before.
pub const VERSION_MINOR: u16 = 0;
/// Size of the v1 header in bytes; the section table starts right after it.
pub const HEADER_LEN: usize = 256;
/// Every section (and the section table) starts on a multiple of this many bytes.
pub const ALIGN: usize = 32;
/// Bytes `0..CHECKSUM_START` are not covered by the checksum (magic, version, header length, checksum).
pub const CHECKSUM_START: usize = 16;
/// Feature bits a v1.0 reader understands (none yet). Blobs setting other bits are rejected with
/// [`Error::UnsupportedFeatures`], so a future writer can mark a blob that old readers must not load.
pub const KNOWN_FEATURES: u32 = 0;

/// Model architecture (header byte 36).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Arch {
    /// BERT encoder (post-LayerNorm, learned absolute positions, token types). Code 1.
    Bert,
}

/// What the model's head does (header byte 40).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Task {
    /// Sentence embeddings (Hugging Face `BertModel`). Code 0.
    Embedding,
    /// Text classification (`BertForSequenceClassification`). Code 1.
    Classification,
    /// Masked-word prediction (`BertForMaskedLM`). Code 2.
    MaskedLm,
}

/// How token vectors are pooled into one sentence vector (header byte 132).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Pooling {
    /// The `[CLS]` token's final hidden state. Code 0.
    Cls,
    /// Mean of the hidden states over the attention mask. Code 1.
    Mean,
    /// BERT's pooler: `tanh(W · h_cls + b)`. Code 2.
    Pooler,
}

/// Feed-forward activation (header byte 80).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Activation {
    /// Exact GELU, `0.5 x (1 + erf(x / sqrt 2))` (Hugging Face `"gelu"`). Code 1.
    GeluErf,
}

/// Transformer hyper-parameters (header bytes 48..128).
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ArchParams {
    /// Vocabulary size (byte 48), 1..=2^24.
    pub vocab_size: u32,
    /// Hidden size (byte 52), 1..=2^16, a multiple of `n_heads`.
    pub hidden: u32,
    /// Number of encoder layers (byte 56), 1..=256.
    pub n_layers: u32,
    /// Attention heads (byte 60), 1..=hidden.
    pub n_heads: u32,
    /// Feed-forward inner size (byte 64), 1..=2^18.
    pub intermediate: u32,
    /// Rows of the position table = longest sequence (byte 68), 2..=2^16.
    pub max_position: u32,
    /// Rows of the token-type table (byte 72), 1..=16.
    pub type_vocab_size: u32,
    /// LayerNorm epsilon (byte 76, f32 bits), finite and > 0.
    pub layer_norm_eps: f32,
    /// Feed-forward activation (byte 80).
    pub activation: Activation,
}

/// Task metadata (header bytes 128..160).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct TaskParams {
    /// Number of labels of a classifier (byte 128), 0 for other tasks, else 1..=1024.
    pub n_labels: u32,
    /// Default pooling (byte 132).
    pub pooling: Pooling,
    /// L2-normalize pooled embeddings by default (byte 136, bit 0).
    pub normalize: bool,
    /// The blob holds BERT's pooler (`pooler.dense.*`) (byte 136, bit 1).
    pub has_pooler: bool,
    /// Maximum sequence length the blob was prepared for (byte 140); the arena size the tool
    /// reports is for this length. 2..=max_position.
    pub default_max_seq: u32,
}

/// Tokenizer settings (header bytes 160..224). v1 knows one kind: BERT WordPiece (code 1, byte 160).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct TokenizerParams {
    /// Lowercase the text (byte 164, bit 0).
    pub lowercase: bool,
    /// NFD + drop combining marks (byte 164, bit 1).
    pub strip_accents: bool,
    /// Put spaces around CJK ideographs (byte 164, bit 2).
    pub tokenize_cjk: bool,
    /// Drop control characters, map whitespace to spaces (byte 164, bit 3).
    pub clean_text: bool,
    /// `[UNK]` id (byte 168).
    pub unk: u32,
    /// `[CLS]` id (byte 172).
    pub cls: u32,
    /// `[SEP]` id (byte 176).
    pub sep: u32,
    /// `[PAD]` id (byte 180).
    pub pad: u32,
    /// `[MASK]` id (byte 184).
    pub mask: u32,
    /// Words longer than this many characters become `[UNK]` (byte 188), 1..=200.
    pub max_chars_per_word: u32,
}

/// The decoded header.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Header {
    /// Minor version of the writer (byte 6).
    pub version_minor: u16,
    /// Total blob length in bytes (byte 16, u64).
    pub file_len: u64,
    /// Number of section table entries (byte 28).
    pub section_count: u32,
    /// Architecture (byte 36).
    pub arch: Arch,
    /// Task (byte 40).
    pub task: Task,
    /// Hyper-parameters.
    pub params: ArchParams,
    /// Task metadata.
    pub task_params: TaskParams,
    /// Tokenizer settings.
    pub tokenizer: TokenizerParams,
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    match b.get(at..at + 2) {
        Some(s) => u16::from_le_bytes([s[0], s[1]]),
        None => 0,
    }
}

/// Little-endian u32 at `at` (0 when out of range; callers check lengths first).
pub(crate) fn u32_at(b: &[u8], at: usize) -> u32 {
    match b.get(at..at + 4) {
        Some(s) => u32::from_le_bytes([s[0], s[1], s[2], s[3]]),
        None => 0,
    }
}

/// Little-endian u64 at `at` (0 when out of range; callers check lengths first).
pub(crate) fn u64_at(b: &[u8], at: usize) -> u64 {
    (u32_at(b, at) as u64) | ((u32_at(b, at + 4) as u64) << 32)
}

fn bad(field: usize) -> Error {
    Error::BadHeader { field: field as u16 }
}

fn ranged(b: &[u8], at: usize, lo: u32, hi: u32) -> Result<u32> {
    let v = u32_at(b, at);
    if v < lo || v > hi {
        return Err(bad(at));
    }
    Ok(v)
}

/// Checks magic, version, header length and feature bits; returns the header bytes.
pub(crate) fn check_identity(blob: &[u8]) -> Result<&[u8]> {
    let Some(magic) = blob.get(0..4) else {
        return Err(Error::Truncated { needed: HEADER_LEN, got: blob.len() });
    };
    if magic != MAGIC {
        return Err(Error::BadMagic);
    }
    let Some(h) = blob.get(..HEADER_LEN) else {
        return Err(Error::Truncated { needed: HEADER_LEN, got: blob.len() });
    };
    let (major, minor) = (u16_at(h, 4), u16_at(h, 6));
    if major != VERSION_MAJOR {
        return Err(Error::UnsupportedVersion { major, minor });
    }
    if u32_at(h, 8) as usize != HEADER_LEN {
        return Err(bad(8));
    }
    let features = u32_at(h, 24);
    if features & !KNOWN_FEATURES != 0 {
        return Err(Error::UnsupportedFeatures(features & !KNOWN_FEATURES));
    }
    Ok(h)
}

impl Header {
    /// Decodes and range-checks the header (the caller has checked identity and length).
    pub(crate) fn decode(h: &[u8]) -> Result<Header> {
        let arch = match u32_at(h, 36) {
            1 => Arch::Bert,
            a => return Err(Error::UnsupportedArch(a)),
        };
        let task = match u32_at(h, 40) {
            0 => Task::Embedding,
            1 => Task::Classification,
            2 => Task::MaskedLm,
            _ => return Err(bad(40)),
        };
        let params = decode_params(h)?;
        let task_params = decode_task(h, task, &params)?;
        let tokenizer = decode_tokenizer(h, &params)?;
        Ok(Header {
            version_minor: u16_at(h, 6),
            file_len: u64_at(h, 16),
            section_count: ranged(h, 28, 1, 1 << 16)?,
            arch,
            task,
            params,
            task_params,
            tokenizer,
        })
    }

    /// Encodes the header; bytes 12..16 (checksum) are left zero for the writer to fill in.
    pub fn encode(&self) -> [u8; HEADER_LEN] {
        let mut h = [0u8; HEADER_LEN];
        let mut put = |at: usize, v: u32| h[at..at + 4].copy_from_slice(&v.to_le_bytes());
        put(8, HEADER_LEN as u32);
        put(16, self.file_len as u32);
        put(20, (self.file_len >> 32) as u32);
        put(28, self.section_count);
        put(32, HEADER_LEN as u32);
        put(
            36,
            match self.arch {
                Arch::Bert => 1,
            },
        );
        put(
            40,
            match self.task {
                Task::Embedding => 0,
                Task::Classification => 1,
                Task::MaskedLm => 2,
            },
        );
        let p = &self.params;
        put(48, p.vocab_size);
        put(52, p.hidden);
        put(56, p.n_layers);
        put(60, p.n_heads);
        put(64, p.intermediate);
        put(68, p.max_position);
        put(72, p.type_vocab_size);
        put(76, p.layer_norm_eps.to_bits());
        put(
            80,
            match p.activation {
                Activation::GeluErf => 1,
            },
        );
        let t = &self.task_params;
        put(128, t.n_labels);
        put(
            132,
            match t.pooling {
                Pooling::Cls => 0,
                Pooling::Mean => 1,
                Pooling::Pooler => 2,
            },
        );
        put(136, t.normalize as u32 | (t.has_pooler as u32) << 1);
        put(140, t.default_max_seq);
        let k = &self.tokenizer;
        put(160, 1);
        let flags = k.lowercase as u32
            | (k.strip_accents as u32) << 1
            | (k.tokenize_cjk as u32) << 2
            | (k.clean_text as u32) << 3;
        put(164, flags);
        put(168, k.unk);
        put(172, k.cls);
        put(176, k.sep);
        put(180, k.pad);
        put(184, k.mask);
        put(188, k.max_chars_per_word);
        h[0..4].copy_from_slice(&MAGIC);
        h[4..6].copy_from_slice(&VERSION_MAJOR.to_le_bytes());
        h[6..8].copy_from_slice(&self.version_minor.to_le_bytes());
        h
    }
}

fn decode_params(h: &[u8]) -> Result<ArchParams> {
    let hidden = ranged(h, 52, 1, 1 << 16)?;
    let n_heads = ranged(h, 60, 1, hidden)?;
    if hidden % n_heads != 0 {
        return Err(bad(60));
    }
    let eps = f32::from_bits(u32_at(h, 76));
    if !(eps.is_finite() && eps > 0.0) {
        return Err(bad(76));
    }
    let activation = match u32_at(h, 80) {
        1 => Activation::GeluErf,
        _ => return Err(bad(80)),
    };
    Ok(ArchParams {
        vocab_size: ranged(h, 48, 1, 1 << 24)?,
        hidden,
        n_layers: ranged(h, 56, 1, 256)?,
        n_heads,
        intermediate: ranged(h, 64, 1, 1 << 18)?,
        max_position: ranged(h, 68, 2, 1 << 16)?,
        type_vocab_size: ranged(h, 72, 1, 16)?,
        layer_norm_eps: eps,
        activation,
    })
}

fn decode_task(h: &[u8], task: Task, p: &ArchParams) -> Result<TaskParams> {
    let n_labels = match task {
        Task::Classification => ranged(h, 128, 1, 1024)?,
        _ => ranged(h, 128, 0, 0)?,
    };
    let pooling = match u32_at(h, 132) {
        0 => Pooling::Cls,
        1 => Pooling::Mean,
        2 => Pooling::Pooler,
        _ => return Err(bad(132)),
    };
    let flags = ranged(h, 136, 0, 3)?;
    let has_pooler = flags & 2 != 0;
    if (pooling == Pooling::Pooler || task == Task::Classification) && !has_pooler {
        return Err(bad(132));
    }
    Ok(TaskParams {
        n_labels,
        pooling,
        normalize: flags & 1 != 0,
        has_pooler,
        default_max_seq: ranged(h, 140, 2, p.max_position)?,
    })
}

fn decode_tokenizer(h: &[u8], p: &ArchParams) -> Result<TokenizerParams> {
    ranged(h, 160, 1, 1)?;
    let flags = ranged(h, 164, 0, 15)?;
    let id = |at| ranged(h, at, 0, p.vocab_size - 1);
    Ok(TokenizerParams {
        lowercase: flags & 1 != 0,
        strip_accents: flags & 2 != 0,
        tokenize_cjk: flags & 4 != 0,
        clean_text: flags & 8 != 0,
        unk: id(168)?,
        cls: id(172)?,
        sep: id(176)?,
        pad: id(180)?,
        mask: id(184)?,
        max_chars_per_word: ranged(h, 188, 1, 200)?,
    })
}
