//! The fixed 256-byte header of a `.pfm` blob: identity, architecture hyper-parameters, task and
//! tokenizer settings. Encoded field by field in little-endian (no transmutes); the byte offset of
//! each field is part of the format and written next to it. The architecture block (bytes 48..128)
//! and the tokenizer block (160..224) are laid out per architecture and per tokenizer kind.

use crate::tokenizer::bpe::BpeConfig;
use crate::{Error, Result};

/// The four magic bytes every blob starts with.
pub const MAGIC: [u8; 4] = *b"PFMT";
/// Major version this reader implements. A different major version is rejected.
pub const VERSION_MAJOR: u16 = 1;
/// Newest minor version this reader understands. Readers accept any minor version of their major
/// version: a minor version only gives meaning to codes or bytes that were invalid or reserved
/// (zero) before, which older readers reject or ignore. The writer records the lowest minor version
/// that describes the blob ([`Header::required_minor`], raised to a section dtype's
/// [`DType::required_minor`](super::DType::required_minor)): BERT blobs stay 1.0, decoders are 1.1,
/// blobs with int4 sections 1.2, blobs with activation smoothing ([`FEATURE_ACT_SMOOTH`]) 1.3,
/// classifiers with a lexicon gate ([`FEATURE_LEXICON_GATE`]) 1.4.
pub const VERSION_MINOR: u16 = 4;
/// Size of the v1 header in bytes; the section table starts right after it.
pub const HEADER_LEN: usize = 256;
/// Every section (and the section table) starts on a multiple of this many bytes.
pub const ALIGN: usize = 32;
/// Bytes `0..CHECKSUM_START` are not covered by the checksum (magic, version, header length, checksum).
pub const CHECKSUM_START: usize = 16;
/// Feature bit 0 (minor version 1.3): some int8 matrices take 8-bit activations after per-column
/// smoothing (sections named `….act_smooth`, see `model::schema`). Their weights were multiplied by
/// the smoothing factors, so a reader that ignored those sections would compute wrong outputs: the
/// bit makes older readers refuse the blob instead.
pub const FEATURE_ACT_SMOOTH: u32 = 1;
/// Suffix of the section names that set [`FEATURE_ACT_SMOOTH`].
pub const ACT_SMOOTH_SUFFIX: &str = ".act_smooth";
/// Feature bit 1 (minor version 1.4): the classifier adds VADER's compound score of the text,
/// weighted by a gate read from the pooled output, to its label margin (task flags bit 2; sections
/// `lexicon.*` and `lexicon_gate.*`, see [`crate::lexicon`]). A reader that ignored them would
/// compute other labels: the bit makes older readers refuse the blob.
pub const FEATURE_LEXICON_GATE: u32 = 2;
/// Feature bits a v1 reader understands. Blobs setting other bits are rejected with
/// [`Error::UnsupportedFeatures`], so a writer can mark a blob that older readers must not load.
pub const KNOWN_FEATURES: u32 = FEATURE_ACT_SMOOTH | FEATURE_LEXICON_GATE;
/// Stored for "no such token" in the id fields of the tokenizer block.
pub const NO_TOKEN: u32 = u32::MAX;

/// Model architecture (header byte 36).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Arch {
    /// BERT encoder (post-LayerNorm, learned absolute positions, token types). Code 1.
    Bert,
    /// Llama-family decoder (RMSNorm, RoPE, SwiGLU, grouped-query attention, no biases). Code 2 (v1.1).
    Llama,
    /// GPT-2 decoder (pre-LayerNorm, learned positions, GELU-tanh MLP, biases, tied head). Code 3 (v1.1).
    Gpt2,
}

impl Arch {
    /// The header code.
    pub const fn code(self) -> u32 {
        match self {
            Arch::Bert => 1,
            Arch::Llama => 2,
            Arch::Gpt2 => 3,
        }
    }

    /// Whether the architecture is a causal decoder.
    pub const fn is_decoder(self) -> bool {
        matches!(self, Arch::Llama | Arch::Gpt2)
    }
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
    /// Next-token prediction (`LlamaForCausalLM`, `GPT2LMHeadModel`). Code 3 (v1.1), decoders only.
    CausalLm,
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
    /// SwiGLU: `down(silu(gate(x)) * up(x))` (Llama's `"silu"` MLP). Code 2 (v1.1).
    SwiGlu,
    /// GELU with the tanh approximation (GPT-2's `"gelu_new"`). Code 3 (v1.1).
    GeluTanh,
}

/// RoPE frequency scaling of a Llama-family decoder (header bytes 92..112), as in the
/// `rope_scaling` entry of a Hugging Face config.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum RopeScaling {
    /// Plain RoPE. Code 0.
    None,
    /// Every frequency divided by `factor` (`"linear"`). Code 1.
    Linear {
        /// Divisor (byte 96), finite and >= 1.
        factor: f32,
    },
    /// Llama 3's wavelength-dependent scaling (`"llama3"`). Code 2.
    Llama3 {
        /// Divisor of the low frequencies (byte 96), finite and >= 1.
        factor: f32,
        /// Byte 100, finite and > 0.
        low_freq_factor: f32,
        /// Byte 104, finite and > `low_freq_factor`.
        high_freq_factor: f32,
        /// Context length the model was trained with (byte 108), >= 1.
        original_max_position: u32,
    },
}

/// BERT hyper-parameters (header bytes 48..128, architecture 1).
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct BertParams {
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
    /// Feed-forward activation (byte 80): [`Activation::GeluErf`].
    pub activation: Activation,
}

/// Decoder hyper-parameters (header bytes 48..128, architectures 2 and 3; v1.1).
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct DecoderParams {
    /// Vocabulary size (byte 48), 1..=2^24.
    pub vocab_size: u32,
    /// Hidden size (byte 52), 1..=2^16.
    pub hidden: u32,
    /// Number of decoder layers (byte 56), 1..=256.
    pub n_layers: u32,
    /// Query heads (byte 60), 1..=hidden, a multiple of `n_kv_heads`.
    pub n_heads: u32,
    /// Feed-forward inner size (byte 64), 1..=2^18.
    pub intermediate: u32,
    /// Longest context: rows of GPT-2's position table, Llama's `max_position_embeddings`
    /// (byte 68), 2..=2^20.
    pub max_position: u32,
    /// Key/value heads (byte 72), 1..=n_heads (fewer than `n_heads`: grouped-query attention).
    pub n_kv_heads: u32,
    /// LayerNorm / RMSNorm epsilon (byte 76, f32 bits), finite and > 0.
    pub norm_eps: f32,
    /// Feed-forward activation (byte 80): [`Activation::SwiGlu`] (Llama) or
    /// [`Activation::GeluTanh`] (GPT-2).
    pub activation: Activation,
    /// Size of one attention head (byte 84), 2..=1024, even; `n_heads * head_dim` may differ from
    /// `hidden` (Llama's `head_dim`).
    pub head_dim: u32,
    /// RoPE base (byte 88, f32 bits): finite and > 1 for Llama, 0 for GPT-2 (no RoPE).
    pub rope_theta: f32,
    /// RoPE scaling (bytes 92..112: kind at 92, then its parameters); `None` for GPT-2.
    pub rope_scaling: RopeScaling,
    /// The LM head is the token embedding matrix (byte 112, bit 0); otherwise `lm_head.weight`
    /// is stored.
    pub tied_head: bool,
}

/// Hyper-parameters of the blob's architecture (header bytes 48..128).
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum ArchParams {
    /// [`Arch::Bert`].
    Bert(BertParams),
    /// [`Arch::Llama`] and [`Arch::Gpt2`].
    Decoder(DecoderParams),
}

impl ArchParams {
    /// Vocabulary size.
    pub fn vocab_size(&self) -> u32 {
        match self {
            ArchParams::Bert(p) => p.vocab_size,
            ArchParams::Decoder(p) => p.vocab_size,
        }
    }

    /// Longest sequence (position table rows, or the decoder's context).
    pub fn max_position(&self) -> u32 {
        match self {
            ArchParams::Bert(p) => p.max_position,
            ArchParams::Decoder(p) => p.max_position,
        }
    }
}

/// Task metadata (header bytes 128..160). Decoders use only `default_max_seq`; the other fields
/// are zero.
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
    /// A two-label classifier whose margin (second logit minus first) gets a gated VADER score
    /// (byte 136, bit 2, with feature bit [`FEATURE_LEXICON_GATE`]; v1.4).
    pub lexicon_gate: bool,
    /// Maximum sequence length (decoders: context) the blob was prepared for (byte 140); the arena
    /// size the tool reports is for this length. 2..=max_position.
    pub default_max_seq: u32,
}

/// BERT WordPiece settings (tokenizer block, kind 1, bytes 164..192).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct WordPieceParams {
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

/// Byte-level BPE settings (tokenizer block, kind 2, bytes 164..196; v1.1): the tokenizer's own
/// [`BpeConfig`] (bytes 164..184, [`BpeConfig::to_words`]: pre-tokenizer code, flags, unk, bos,
/// eos; absent ids are [`NO_TOKEN`]) and what generation needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct BpeParams {
    /// Pre-tokenizer, merge rule and special ids (bytes 164..184). Ids below the vocabulary size.
    pub config: BpeConfig,
    /// Padding token (byte 184).
    pub pad: Option<u32>,
    /// Prepend `bos` to a prompt by default (byte 188, bit 0; needs a `bos`).
    pub add_bos: bool,
    /// The model's chat template is ChatML (`<|im_start|>role\n...<|im_end|>\n`) (byte 188, bit 1).
    pub chat_ml: bool,
}

/// Tokenizer settings (header bytes 160..224): kind at byte 160, then its block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum TokenizerParams {
    /// BERT WordPiece. Kind 1.
    WordPiece(WordPieceParams),
    /// Byte-level BPE (GPT-2, Llama 3, SmolLM2). Kind 2 (v1.1).
    Bpe(BpeParams),
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

impl Header {
    /// The lowest minor version whose readers understand this header: 0 for BERT with WordPiece,
    /// 1 for decoders and byte-level BPE.
    pub fn required_minor(&self) -> u16 {
        let new = self.arch.is_decoder() || matches!(self.tokenizer, TokenizerParams::Bpe(_));
        new as u16
    }
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

/// A header field by name and byte offset.
type Field = (&'static str, usize);

fn bad(field: Field) -> Error {
    Error::BadHeader { field: field.0 }
}

/// The u32 field, checked to lie in `lo..=hi`.
fn ranged(b: &[u8], field: Field, lo: u32, hi: u32) -> Result<u32> {
    let v = u32_at(b, field.1);
    if v < lo || v > hi {
        return Err(bad(field));
    }
    Ok(v)
}

/// The f32 field, checked to be finite and at least `lo` (`strict`: above it).
fn float(b: &[u8], field: Field, lo: f32, strict: bool) -> Result<f32> {
    let v = f32::from_bits(u32_at(b, field.1));
    let ok = v.is_finite() && if strict { v > lo } else { v >= lo };
    if !ok {
        return Err(bad(field));
    }
    Ok(v)
}

/// An optional token id: [`NO_TOKEN`] or below `vocab`.
fn token(b: &[u8], field: Field, vocab: u32) -> Result<Option<u32>> {
    match u32_at(b, field.1) {
        NO_TOKEN => Ok(None),
        id if id < vocab => Ok(Some(id)),
        _ => Err(bad(field)),
    }
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
        return Err(bad(("header_len", 8)));
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
            2 => Arch::Llama,
            3 => Arch::Gpt2,
            a => return Err(Error::UnsupportedArch(a)),
        };
        let task = match (u32_at(h, 40), arch.is_decoder()) {
            (0, false) => Task::Embedding,
            (1, false) => Task::Classification,
            (2, false) => Task::MaskedLm,
            (3, true) => Task::CausalLm,
            _ => return Err(bad(("task", 40))),
        };
        let params = match arch {
            Arch::Bert => ArchParams::Bert(decode_bert(h)?),
            Arch::Llama | Arch::Gpt2 => ArchParams::Decoder(decode_decoder(h, arch)?),
        };
        let task_params = decode_task(h, task, &params)?;
        let tokenizer = match u32_at(h, 160) {
            1 => TokenizerParams::WordPiece(decode_wordpiece(h, params.vocab_size())?),
            2 => TokenizerParams::Bpe(decode_bpe(h, params.vocab_size())?),
            _ => return Err(bad(("tokenizer_kind", 160))),
        };
        Ok(Header {
            version_minor: u16_at(h, 6),
            file_len: u64_at(h, 16),
            section_count: ranged(h, ("section_count", 28), 1, 1 << 16)?,
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
        put(36, self.arch.code());
        put(40, task_code(self.task));
        match &self.params {
            ArchParams::Bert(p) => encode_bert(&mut put, p),
            ArchParams::Decoder(p) => encode_decoder(&mut put, p),
        }
        let t = &self.task_params;
        put(128, t.n_labels);
        put(132, pooling_code(t.pooling));
        put(136, t.normalize as u32 | (t.has_pooler as u32) << 1 | (t.lexicon_gate as u32) << 2);
        put(140, t.default_max_seq);
        match &self.tokenizer {
            TokenizerParams::WordPiece(k) => encode_wordpiece(&mut put, k),
            TokenizerParams::Bpe(k) => encode_bpe(&mut put, k),
        }
        h[0..4].copy_from_slice(&MAGIC);
        h[4..6].copy_from_slice(&VERSION_MAJOR.to_le_bytes());
        h[6..8].copy_from_slice(&self.version_minor.to_le_bytes());
        h
    }
}

fn task_code(t: Task) -> u32 {
    match t {
        Task::Embedding => 0,
        Task::Classification => 1,
        Task::MaskedLm => 2,
        Task::CausalLm => 3,
    }
}

fn pooling_code(p: Pooling) -> u32 {
    match p {
        Pooling::Cls => 0,
        Pooling::Mean => 1,
        Pooling::Pooler => 2,
    }
}

fn activation_code(a: Activation) -> u32 {
    match a {
        Activation::GeluErf => 1,
        Activation::SwiGlu => 2,
        Activation::GeluTanh => 3,
    }
}

fn encode_bert(put: &mut impl FnMut(usize, u32), p: &BertParams) {
    put(48, p.vocab_size);
    put(52, p.hidden);
    put(56, p.n_layers);
    put(60, p.n_heads);
    put(64, p.intermediate);
    put(68, p.max_position);
    put(72, p.type_vocab_size);
    put(76, p.layer_norm_eps.to_bits());
    put(80, activation_code(p.activation));
}

fn encode_decoder(put: &mut impl FnMut(usize, u32), p: &DecoderParams) {
    put(48, p.vocab_size);
    put(52, p.hidden);
    put(56, p.n_layers);
    put(60, p.n_heads);
    put(64, p.intermediate);
    put(68, p.max_position);
    put(72, p.n_kv_heads);
    put(76, p.norm_eps.to_bits());
    put(80, activation_code(p.activation));
    put(84, p.head_dim);
    put(88, p.rope_theta.to_bits());
    match p.rope_scaling {
        RopeScaling::None => put(92, 0),
        RopeScaling::Linear { factor } => {
            put(92, 1);
            put(96, factor.to_bits());
        }
        RopeScaling::Llama3 { factor, low_freq_factor, high_freq_factor, original_max_position } => {
            put(92, 2);
            put(96, factor.to_bits());
            put(100, low_freq_factor.to_bits());
            put(104, high_freq_factor.to_bits());
            put(108, original_max_position);
        }
    }
    put(112, p.tied_head as u32);
}

fn encode_wordpiece(put: &mut impl FnMut(usize, u32), k: &WordPieceParams) {
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
}

fn encode_bpe(put: &mut impl FnMut(usize, u32), k: &BpeParams) {
    put(160, 2);
    for (i, w) in k.config.to_words().into_iter().enumerate() {
        put(164 + 4 * i, w);
    }
    put(184, k.pad.unwrap_or(NO_TOKEN));
    put(188, k.add_bos as u32 | (k.chat_ml as u32) << 1);
}

fn decode_bert(h: &[u8]) -> Result<BertParams> {
    let hidden = ranged(h, ("hidden", 52), 1, 1 << 16)?;
    let n_heads = ranged(h, ("n_heads", 60), 1, hidden)?;
    if hidden % n_heads != 0 {
        return Err(bad(("n_heads", 60)));
    }
    let activation = match u32_at(h, 80) {
        1 => Activation::GeluErf,
        _ => return Err(bad(("activation", 80))),
    };
    Ok(BertParams {
        vocab_size: ranged(h, ("vocab_size", 48), 1, 1 << 24)?,
        hidden,
        n_layers: ranged(h, ("n_layers", 56), 1, 256)?,
        n_heads,
        intermediate: ranged(h, ("intermediate", 64), 1, 1 << 18)?,
        max_position: ranged(h, ("max_position", 68), 2, 1 << 16)?,
        type_vocab_size: ranged(h, ("type_vocab_size", 72), 1, 16)?,
        layer_norm_eps: float(h, ("layer_norm_eps", 76), 0.0, true)?,
        activation,
    })
}

fn decode_decoder(h: &[u8], arch: Arch) -> Result<DecoderParams> {
    let hidden = ranged(h, ("hidden", 52), 1, 1 << 16)?;
    let n_heads = ranged(h, ("n_heads", 60), 1, hidden)?;
    let n_kv_heads = ranged(h, ("n_kv_heads", 72), 1, n_heads)?;
    if n_heads % n_kv_heads != 0 {
        return Err(bad(("n_kv_heads", 72)));
    }
    let head_dim = ranged(h, ("head_dim", 84), 2, 1024)?;
    if head_dim % 2 != 0 {
        return Err(bad(("head_dim", 84)));
    }
    let activation = match (u32_at(h, 80), arch) {
        (2, Arch::Llama) => Activation::SwiGlu,
        (3, Arch::Gpt2) => Activation::GeluTanh,
        _ => return Err(bad(("activation", 80))),
    };
    let (rope_theta, rope_scaling) = match arch {
        Arch::Llama => (float(h, ("rope_theta", 88), 1.0, true)?, decode_rope_scaling(h)?),
        _ => {
            ranged(h, ("rope_theta", 88), 0, 0)?;
            ranged(h, ("rope_scaling", 92), 0, 0)?;
            (0.0, RopeScaling::None)
        }
    };
    Ok(DecoderParams {
        vocab_size: ranged(h, ("vocab_size", 48), 1, 1 << 24)?,
        hidden,
        n_layers: ranged(h, ("n_layers", 56), 1, 256)?,
        n_heads,
        intermediate: ranged(h, ("intermediate", 64), 1, 1 << 18)?,
        max_position: ranged(h, ("max_position", 68), 2, 1 << 20)?,
        n_kv_heads,
        norm_eps: float(h, ("norm_eps", 76), 0.0, true)?,
        activation,
        head_dim,
        rope_theta,
        rope_scaling,
        tied_head: ranged(h, ("head_flags", 112), 0, 1)? == 1,
    })
}

fn decode_rope_scaling(h: &[u8]) -> Result<RopeScaling> {
    Ok(match ranged(h, ("rope_scaling", 92), 0, 2)? {
        0 => RopeScaling::None,
        1 => RopeScaling::Linear { factor: float(h, ("rope_factor", 96), 1.0, false)? },
        _ => {
            let low_freq_factor = float(h, ("rope_low_freq_factor", 100), 0.0, true)?;
            RopeScaling::Llama3 {
                factor: float(h, ("rope_factor", 96), 1.0, false)?,
                low_freq_factor,
                high_freq_factor: float(h, ("rope_high_freq_factor", 104), low_freq_factor, true)?,
                original_max_position: ranged(h, ("rope_original_max_position", 108), 1, u32::MAX)?,
            }
        }
    })
}

fn decode_task(h: &[u8], task: Task, p: &ArchParams) -> Result<TaskParams> {
    let n_labels = match task {
        Task::Classification => ranged(h, ("n_labels", 128), 1, 1024)?,
        _ => ranged(h, ("n_labels", 128), 0, 0)?,
    };
    let pooling = match (u32_at(h, 132), task) {
        (0, _) => Pooling::Cls,
        (1, t) if t != Task::CausalLm => Pooling::Mean,
        (2, t) if t != Task::CausalLm => Pooling::Pooler,
        _ => return Err(bad(("pooling", 132))),
    };
    let flags = match task {
        Task::CausalLm => ranged(h, ("task_flags", 136), 0, 0)?,
        _ => ranged(h, ("task_flags", 136), 0, 7)?,
    };
    let has_pooler = flags & 2 != 0;
    // the lexicon gate: a two-label classifier, and the feature bit that keeps older readers out
    let lexicon_gate = flags & 4 != 0;
    if lexicon_gate && !(task == Task::Classification && n_labels == 2) {
        return Err(bad(("task_flags", 136)));
    }
    if lexicon_gate != (u32_at(h, 24) & FEATURE_LEXICON_GATE != 0) {
        return Err(bad(("features", 24)));
    }
    // a classifier's head reads the pooler: its flags must say the blob holds one
    if task == Task::Classification && !has_pooler {
        return Err(bad(("task_flags", 136)));
    }
    if pooling == Pooling::Pooler && !has_pooler {
        return Err(bad(("pooling", 132)));
    }
    Ok(TaskParams {
        n_labels,
        pooling,
        normalize: flags & 1 != 0,
        has_pooler,
        lexicon_gate,
        default_max_seq: ranged(h, ("default_max_seq", 140), 2, p.max_position())?,
    })
}

fn decode_wordpiece(h: &[u8], vocab: u32) -> Result<WordPieceParams> {
    let flags = ranged(h, ("wordpiece_flags", 164), 0, 15)?;
    let id = |field| ranged(h, field, 0, vocab - 1);
    Ok(WordPieceParams {
        lowercase: flags & 1 != 0,
        strip_accents: flags & 2 != 0,
        tokenize_cjk: flags & 4 != 0,
        clean_text: flags & 8 != 0,
        unk: id(("unk", 168))?,
        cls: id(("cls", 172))?,
        sep: id(("sep", 176))?,
        pad: id(("pad", 180))?,
        mask: id(("mask", 184))?,
        max_chars_per_word: ranged(h, ("max_chars_per_word", 188), 1, 200)?,
    })
}

fn decode_bpe(h: &[u8], vocab: u32) -> Result<BpeParams> {
    let words = [u32_at(h, 164), u32_at(h, 168), u32_at(h, 172), u32_at(h, 176), u32_at(h, 180)];
    // `from_words` rejects an unknown pre-tokenizer code (164) or unknown flag bits (168)
    let config_field = if words[1] & !1 != 0 { ("bpe_flags", 168) } else { ("pre_tokenizer", 164) };
    let config = BpeConfig::from_words(words).map_err(|_| bad(config_field))?;
    for (id, field) in [(config.unk, ("unk", 172)), (config.bos, ("bos", 176)), (config.eos, ("eos", 180))] {
        if id.is_some_and(|id| id >= vocab) {
            return Err(bad(field));
        }
    }
    let flags = ranged(h, ("generation_flags", 188), 0, 3)?;
    if flags & 1 != 0 && config.bos.is_none() {
        return Err(bad(("generation_flags", 188)));
    }
    Ok(BpeParams {
        config,
        pad: token(h, ("pad", 184), vocab)?,
        add_bos: flags & 1 != 0,
        chat_ml: flags & 2 != 0,
    })
}
