//! Building a blob in memory (host only, feature `std`). The reader's mirror image: sections are laid
//! out in the order they are added, each on a 32-byte boundary, then the checksum is filled in.

use alloc::string::String;
use alloc::vec::Vec;

use super::crc32::crc32;
use super::header::{
    Header, ACT_SMOOTH_SUFFIX, ALIGN, CHECKSUM_START, FEATURE_ACT_SMOOTH, FEATURE_LEXICON_GATE, HEADER_LEN,
};
use super::section::{align_up, DType, Section, ENTRY_LEN, NAME_LEN};

/// One section waiting to be written.
#[derive(Debug, Clone)]
pub struct PendingSection {
    /// Section name (<= 56 printable ASCII bytes).
    pub name: String,
    /// dtype of the bytes.
    pub dtype: DType,
    /// Shape, outermost first (1..=4 dims, each >= 1).
    pub shape: Vec<u32>,
    /// Encoded bytes (exactly `dtype.byte_len(rows, cols)`).
    pub bytes: Vec<u8>,
}

/// Why a blob could not be assembled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteError {
    /// The named section's name is empty, too long or not printable ASCII.
    BadName(String),
    /// The named section's byte length disagrees with its dtype and shape.
    BadLength(String),
    /// The named section appears twice.
    Duplicate(String),
}

impl core::fmt::Display for WriteError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            WriteError::BadName(n) => write!(f, "section name {n:?} is not 1..=56 printable ASCII bytes"),
            WriteError::BadLength(n) => {
                write!(f, "section {n:?}: byte length disagrees with dtype and shape")
            }
            WriteError::Duplicate(n) => write!(f, "section {n:?} added twice"),
        }
    }
}

impl std::error::Error for WriteError {}

/// Encodes f32 values little-endian.
pub fn f32_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// Encodes u32 values little-endian.
pub fn u32_bytes(v: &[u32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// Encodes an int8 matrix: values plane, zero padding to 32 bytes, scales plane.
pub fn i8_row_bytes(values: &[i8], scales: &[f32]) -> Vec<u8> {
    let mut out: Vec<u8> = values.iter().map(|&q| q as u8).collect();
    out.resize(align_up(values.len()).unwrap_or(values.len()), 0);
    out.extend(f32_bytes(scales));
    out
}

/// Encodes a group-wise int4 matrix ([`DType::I4`]): `u[rows * cols]` in `0..=15` (row-major, `cols`
/// a multiple of 32 and of the group), packed two per byte as the dtype describes, zero padding to
/// 32 bytes, then the scales plane and the offsets plane: `scales` holds the `(scale, min)` of each
/// group, row-major.
pub fn i4_group_bytes(u: &[u8], scales: &[(half::f16, half::f16)]) -> Vec<u8> {
    let mut out = Vec::with_capacity(u.len() / 2 + scales.len() * 4 + ALIGN);
    for block in u.chunks(32) {
        let (lo, hi) = block.split_at(block.len().min(16));
        for (t, &a) in lo.iter().enumerate() {
            let b = hi.get(t).copied().unwrap_or(0);
            out.push((a & 0x0f) | ((b & 0x0f) << 4));
        }
    }
    out.resize(align_up(out.len()).unwrap_or(out.len()), 0);
    for (s, _) in scales {
        out.extend_from_slice(&s.to_bits().to_le_bytes());
    }
    for (_, m) in scales {
        out.extend_from_slice(&m.to_bits().to_le_bytes());
    }
    out
}

/// Assembles the blob: header, section table, 32-byte-aligned sections, checksum.
/// `header.section_count` and `header.file_len` are filled in here.
pub fn write_blob(mut header: Header, sections: &[PendingSection]) -> Result<Vec<u8>, WriteError> {
    check_sections(sections)?;
    let table_end = HEADER_LEN + sections.len() * ENTRY_LEN;
    let mut offsets = Vec::with_capacity(sections.len());
    let mut at = align(table_end);
    for s in sections {
        offsets.push(at);
        at = align(at + s.bytes.len());
    }
    header.section_count = sections.len() as u32;
    header.file_len = at as u64;
    let dtype_minor = sections.iter().map(|s| s.dtype.required_minor()).max().unwrap_or(0);
    let smoothed = sections.iter().any(|s| s.name.ends_with(ACT_SMOOTH_SUFFIX));
    let (mut features, mut feature_minor) = if smoothed { (FEATURE_ACT_SMOOTH, 3) } else { (0, 0) };
    if header.task_params.lexicon_gate {
        (features, feature_minor) = (features | FEATURE_LEXICON_GATE, 4);
    }
    header.version_minor = header.required_minor().max(dtype_minor).max(feature_minor);
    let mut out = Vec::with_capacity(at);
    out.extend_from_slice(&header.encode());
    out[24..28].copy_from_slice(&features.to_le_bytes());
    for (s, &off) in sections.iter().zip(&offsets) {
        let e = Section::encode(&s.name, s.dtype, &s.shape, off as u64, s.bytes.len() as u64);
        out.extend_from_slice(&e);
    }
    for (s, &off) in sections.iter().zip(&offsets) {
        out.resize(off, 0);
        out.extend_from_slice(&s.bytes);
    }
    out.resize(at, 0);
    let crc = crc32(&out[CHECKSUM_START..]);
    out[12..16].copy_from_slice(&crc.to_le_bytes());
    Ok(out)
}

fn align(n: usize) -> usize {
    n.div_ceil(ALIGN) * ALIGN
}

fn check_sections(sections: &[PendingSection]) -> Result<(), WriteError> {
    let mut seen = std::collections::HashSet::new();
    for s in sections {
        let name_ok =
            !s.name.is_empty() && s.name.len() <= NAME_LEN && s.name.bytes().all(|b| b.is_ascii_graphic());
        if !name_ok {
            return Err(WriteError::BadName(s.name.clone()));
        }
        if !seen.insert(s.name.as_str()) {
            return Err(WriteError::Duplicate(s.name.clone()));
        }
        let dims_ok = (1..=4).contains(&s.shape.len()) && s.shape.iter().all(|&d| d >= 1);
        let rows = s.shape.first().copied().unwrap_or(0) as usize;
        let cols: usize = s.shape.iter().skip(1).map(|&d| d as usize).product();
        if !dims_ok || s.dtype.byte_len(rows, cols) != Some(s.bytes.len()) {
            return Err(WriteError::BadLength(s.name.clone()));
        }
    }
    Ok(())
}

/// A heap buffer whose start is 32-byte aligned, for holding a blob or an arena on the host.
///
/// The allocator only guarantees the 8-byte alignment of `u64`, so one spare 32-byte block is
/// allocated and the bytes start at the first 32-byte boundary inside it (`start`). The vector is
/// never resized, so the boundary stays put; `Clone` re-derives it for the new allocation.
pub struct AlignedBuf {
    words: Vec<[u64; 4]>,
    start: usize,
    len: usize,
}

impl AlignedBuf {
    /// A zeroed buffer of `len` bytes.
    pub fn zeroed(len: usize) -> AlignedBuf {
        let words = alloc::vec![[0u64; 4]; len.div_ceil(32) + 1];
        let start = (ALIGN - (words.as_ptr() as usize) % ALIGN) % ALIGN;
        AlignedBuf { words, start, len }
    }

    /// As [`AlignedBuf::zeroed`], or `None` when the allocator cannot provide the memory (where
    /// `zeroed` would abort the process).
    pub fn try_zeroed(len: usize) -> Option<AlignedBuf> {
        let n = len.div_ceil(32).checked_add(1)?;
        let mut words = Vec::new();
        words.try_reserve_exact(n).ok()?;
        words.resize(n, [0u64; 4]);
        let start = (ALIGN - (words.as_ptr() as usize) % ALIGN) % ALIGN;
        Some(AlignedBuf { words, start, len })
    }

    /// A copy of `bytes` in an aligned buffer.
    pub fn from_bytes(bytes: &[u8]) -> AlignedBuf {
        let mut b = AlignedBuf::zeroed(bytes.len());
        b.as_mut_bytes().copy_from_slice(bytes);
        b
    }

    /// The bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &bytemuck::cast_slice::<[u64; 4], u8>(&self.words)[self.start..self.start + self.len]
    }

    /// The bytes, mutably.
    pub fn as_mut_bytes(&mut self) -> &mut [u8] {
        let (start, len) = (self.start, self.len);
        &mut bytemuck::cast_slice_mut::<[u64; 4], u8>(&mut self.words)[start..start + len]
    }
}

impl Clone for AlignedBuf {
    fn clone(&self) -> AlignedBuf {
        AlignedBuf::from_bytes(self.as_bytes())
    }
}

impl core::fmt::Debug for AlignedBuf {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "AlignedBuf({} bytes)", self.len)
    }
}
