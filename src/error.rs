//! The one error type of the core.
//!
//! Every fallible operation returns [`Error`]. Blob problems are found once, when the blob is parsed;
//! after that the forward pass cannot fail. Variants carry small `Copy` payloads (indices, sizes), never
//! borrowed data, so errors can be logged with `defmt` on a microcontroller.

use core::fmt;

/// Everything that can go wrong in the core.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Error {
    /// The blob does not start with the `.pfm` magic bytes: it is not a picoformer model.
    BadMagic,
    /// The blob's major version is not one this reader understands.
    UnsupportedVersion {
        /// Major version found in the blob.
        major: u16,
        /// Minor version found in the blob.
        minor: u16,
    },
    /// The blob requires features (header bit flags) that this reader does not implement.
    UnsupportedFeatures(u32),
    /// The blob is shorter than its header, section table or a section says it is.
    Truncated {
        /// Bytes the blob would need.
        needed: usize,
        /// Bytes the blob has.
        got: usize,
    },
    /// The checksum stored in the header does not match the bytes: the blob is corrupted.
    ChecksumMismatch {
        /// CRC-32 stored in the header.
        expected: u32,
        /// CRC-32 computed over the blob.
        actual: u32,
    },
    /// The blob does not start on a 32-byte boundary, or a section is not 32-byte aligned.
    Misaligned,
    /// A header field is out of its valid range (see the `format` module for each field's range).
    BadHeader {
        /// Name of the offending header field, e.g. `"n_heads"`.
        field: &'static str,
    },
    /// A section table entry is malformed (bad name, offset, length or shape).
    BadSection {
        /// Index of the entry in the section table.
        index: u16,
    },
    /// A section uses a tensor dtype this reader does not know (a newer writer made the blob).
    UnknownDtype {
        /// Index of the entry in the section table.
        index: u16,
        /// The dtype code found.
        dtype: u16,
    },
    /// A section the architecture needs is absent. Its name is `prefix` + `layer` + `.` + `name`
    /// for a layer's tensor (e.g. `encoder.layer.3.attention.self.query.weight`), else `name`.
    MissingSection {
        /// The architecture's layer prefix (e.g. `"encoder.layer."`); empty outside the layers.
        prefix: &'static str,
        /// Layer of the missing tensor, `None` for tensors outside the layers.
        layer: Option<u16>,
        /// The tensor's name (within its layer).
        name: &'static str,
    },
    /// A section's dtype or shape disagrees with the hyper-parameters in the header (named as in
    /// [`Error::MissingSection`]).
    ShapeMismatch {
        /// The architecture's layer prefix; empty outside the layers.
        prefix: &'static str,
        /// Layer of the tensor, `None` for tensors outside the layers.
        layer: Option<u16>,
        /// The tensor's name (within its layer).
        name: &'static str,
    },
    /// A section's dtype or length is not what the view asked of it needs (e.g. a `u32` plane
    /// stored as f32).
    WrongSectionType {
        /// Index of the entry in the section table.
        index: u16,
    },
    /// The blob holds an architecture this build does not implement.
    UnsupportedArch(u32),
    /// The tokenizer data in the blob is inconsistent (offsets, order, special tokens).
    BadVocab,
    /// The arena passed in is smaller than the model needs for the chosen maximum sequence length.
    ArenaTooSmall {
        /// Bytes needed.
        needed: usize,
        /// Bytes given.
        got: usize,
    },
    /// An output buffer passed in is too small.
    BufferTooSmall {
        /// Elements needed.
        needed: usize,
        /// Elements given.
        got: usize,
    },
    /// A maximum sequence length of 0, below 2 (room for `[CLS]` and `[SEP]`) or above the model's
    /// position table.
    BadSequenceLength {
        /// The length asked for.
        asked: usize,
        /// The largest length the model supports.
        max: usize,
    },
    /// The operation needs a head the model does not have (e.g. `classify` on an embedding model).
    WrongTask,
    /// `fill_mask` was given a text without a `[MASK]` token.
    NoMaskToken,
    /// A tokenizer or label table is missing, or its planes disagree with each other or with the
    /// header (e.g. label offsets that do not end at the strings' length): `name` is the table's
    /// section name prefix (`tokenizer.vocab`, `tokenizer.bpe`, `task.labels`, `lexicon`; and
    /// `lexicon_gate` for a gate bound that is not above 0).
    BadTable {
        /// The table's section name prefix.
        name: &'static str,
    },
    /// A weight, bias or scale is NaN or infinite (found by `check_finite`; named as in
    /// [`Error::MissingSection`]).
    NonFinite {
        /// The architecture's layer prefix; empty outside the layers.
        prefix: &'static str,
        /// Layer of the tensor, `None` for tensors outside the layers.
        layer: Option<u16>,
        /// The tensor's name (within its layer).
        name: &'static str,
    },
    /// The model computed NaN or infinite logits or probabilities for this input (weights that
    /// overflow; `check_finite` at load catches non-finite weights themselves).
    NonFiniteOutput,
    /// A sampler setting is out of its documented range (`temperature`, `top_p`, `min_p`,
    /// `repetition_penalty`), or the vocabulary (`vocab`) is larger than the sampler supports.
    BadSamplerSettings {
        /// Name of the offending field.
        field: &'static str,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Error::BadMagic => f.write_str("not a picoformer model (bad magic)"),
            Error::UnsupportedVersion { major, minor } => {
                write!(f, "unsupported format version {major}.{minor}")
            }
            Error::UnsupportedFeatures(bits) => write!(f, "blob requires unknown features {bits:#x}"),
            Error::Truncated { needed, got } => {
                write!(f, "blob truncated: needs {needed} bytes, has {got}")
            }
            Error::ChecksumMismatch { expected, actual } => {
                write!(f, "checksum mismatch: header says {expected:#010x}, bytes give {actual:#010x}")
            }
            Error::Misaligned => f.write_str("blob or section not aligned to 32 bytes"),
            Error::BadHeader { field } => write!(f, "invalid header field {field}"),
            Error::BadSection { index } => write!(f, "malformed section table entry {index}"),
            Error::UnknownDtype { index, dtype } => {
                write!(f, "section {index} has unknown dtype {dtype}")
            }
            Error::MissingSection { prefix, layer, name } => {
                f.write_str("missing section ")?;
                write_section(f, prefix, layer, name)
            }
            Error::ShapeMismatch { prefix, layer, name } => {
                f.write_str("section ")?;
                write_section(f, prefix, layer, name)?;
                f.write_str(" has a dtype or shape the header does not allow")
            }
            Error::WrongSectionType { index } => {
                write!(f, "section {index} does not hold the element type or length asked for")
            }
            Error::UnsupportedArch(a) => write!(f, "unsupported architecture {a}"),
            Error::BadVocab => f.write_str("inconsistent tokenizer data"),
            Error::ArenaTooSmall { needed, got } => {
                write!(f, "arena too small: needs {needed} bytes, got {got}")
            }
            Error::BufferTooSmall { needed, got } => {
                write!(f, "output buffer too small: needs {needed} elements, got {got}")
            }
            Error::BadSequenceLength { asked, max } => {
                write!(f, "sequence length {asked} outside 2..={max}")
            }
            Error::WrongTask => f.write_str("the model has no head for this task"),
            Error::NoMaskToken => f.write_str("input has no [MASK] token"),
            Error::BadTable { name } => write!(f, "table {name} is missing or inconsistent"),
            Error::NonFinite { prefix, layer, name } => {
                f.write_str("section ")?;
                write_section(f, prefix, layer, name)?;
                f.write_str(" holds a NaN or infinite value")
            }
            Error::NonFiniteOutput => f.write_str("the model computed NaN or infinite outputs"),
            Error::BadSamplerSettings { field } => write!(f, "sampler setting `{field}` out of range"),
        }
    }
}

/// `prefix{layer}.name`, or `name` outside the layers.
fn write_section(f: &mut fmt::Formatter<'_>, prefix: &str, layer: Option<u16>, name: &str) -> fmt::Result {
    match layer {
        Some(l) => write!(f, "{prefix}{l}.{name}"),
        None => f.write_str(name),
    }
}

impl core::error::Error for Error {}

/// Shorthand used throughout the core.
pub type Result<T> = core::result::Result<T, Error>;
