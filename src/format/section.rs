//! Section table entries: one 96-byte record per tensor or data plane.
//!
//! ```text
//! byte  size  field
//!  0     56   name: ASCII, printable, no spaces, NUL-padded (1..=56 bytes used)
//! 56      2   dtype code (see DType)
//! 58      2   ndim, 1..=4
//! 60      4   group size: 32 or 64 for `I4` (1.2), else 0
//! 64     16   shape: 4 x u32, outermost first; entries past ndim are 0, entries below ndim are >= 1
//! 80      8   offset of the section from the blob start (u64, multiple of 32)
//! 88      8   length in bytes (u64, exactly what dtype and shape imply)
//! ```

use super::header::{u32_at, u64_at, ALIGN};
use crate::{Error, Result};

/// Size of one section table entry in bytes.
pub const ENTRY_LEN: usize = 96;
/// Longest section name in bytes.
pub const NAME_LEN: usize = 56;

/// How a section's bytes are to be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum DType {
    /// IEEE 754 binary32, little-endian. 32 bits per value. Code 0.
    F32,
    /// IEEE 754 binary16, little-endian. 16 bits per value. Code 1.
    F16,
    /// Symmetric int8 with one f32 scale per row (per output channel): the values plane
    /// (`rows * cols` i8, row-major), zero padding to the next multiple of 32 bytes, then the
    /// scales plane (`rows` f32). `value = q * scale`. 8 bits per weight + 32 bits per row. Code 2.
    I8Row,
    /// Raw bytes (strings). Code 3.
    U8,
    /// Little-endian u32 (offsets, ids). Code 4.
    U32,
    /// int4 with a scale and an offset per group of `group` consecutive values of a row (32 or 64;
    /// the entry's group size field): `value = u * scale + min`, `u` in `0..=15`, `scale` and `min`
    /// f16 (GGUF's Q4_1 at group 32, which converts without loss). The values plane holds
    /// `rows * cols / 2` bytes: each row is a run of blocks of 32 values in 16 bytes, byte `t` of a
    /// block holding `u` of value `t` of the block in its low nibble and of value `16 + t` in its
    /// high nibble; then zero padding to the next multiple of 32 bytes, then the scales plane
    /// (`rows * cols / group` f16, row-major), then the offsets plane (`min`, the same shape). 4 bits
    /// per weight + 32 bits per group (5 bits per weight at group 32). `cols` must be a multiple of
    /// `group`. Code 16 (1.2).
    I4 {
        /// Values per scale: 32 or 64.
        group: u32,
    },
}

impl DType {
    /// The on-disk code of this dtype. Codes 5..=15 are reserved for v1 minor versions; codes 16 and
    /// up are group-wise quantization (16: int4, format 1.2; 17 and up reserved, e.g. grouped int8),
    /// which older readers reject with [`Error::UnknownDtype`] instead of misreading.
    pub const fn code(self) -> u16 {
        match self {
            DType::F32 => 0,
            DType::F16 => 1,
            DType::I8Row => 2,
            DType::U8 => 3,
            DType::U32 => 4,
            DType::I4 { .. } => 16,
        }
    }

    /// The entry's group size field: the group of [`DType::I4`], 0 for every other dtype.
    pub const fn group(self) -> u32 {
        match self {
            DType::I4 { group } => group,
            _ => 0,
        }
    }

    /// The dtype of an entry's code and group size field; `None` for an unknown code. A known code
    /// with a group size it does not take gives `Some(Err(()))`.
    fn from_entry(code: u16, group: u32) -> Option<core::result::Result<DType, ()>> {
        let d = match code {
            0 => DType::F32,
            1 => DType::F16,
            2 => DType::I8Row,
            3 => DType::U8,
            4 => DType::U32,
            16 => DType::I4 { group },
            _ => return None,
        };
        let group_ok = match d {
            DType::I4 { group } => group == 32 || group == 64,
            _ => group == 0,
        };
        Some(if group_ok { Ok(d) } else { Err(()) })
    }

    /// The lowest format minor version that defines this dtype.
    pub const fn required_minor(self) -> u16 {
        match self {
            DType::I4 { .. } => 2,
            _ => 0,
        }
    }

    /// Exact byte length of a section of this dtype with `rows` rows of `cols` values, or `None`
    /// on overflow.
    pub fn byte_len(self, rows: usize, cols: usize) -> Option<usize> {
        let n = rows.checked_mul(cols)?;
        match self {
            DType::F32 | DType::U32 => n.checked_mul(4),
            DType::F16 => n.checked_mul(2),
            DType::U8 => Some(n),
            DType::I8Row => align_up(n)?.checked_add(rows.checked_mul(4)?),
            DType::I4 { group } => {
                let group = group as usize;
                if group == 0 || !cols.is_multiple_of(group) || !cols.is_multiple_of(32) {
                    return None;
                }
                align_up(n / 2)?.checked_add((n / group).checked_mul(4)?)
            }
        }
    }
}

/// Rounds `n` up to a multiple of [`ALIGN`].
pub fn align_up(n: usize) -> Option<usize> {
    Some(n.checked_add(ALIGN - 1)? / ALIGN * ALIGN)
}

/// One decoded section table entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Section {
    name: [u8; NAME_LEN],
    name_len: u8,
    /// How the bytes are to be read.
    pub dtype: DType,
    /// Shape, outermost first; only the first `ndim` entries are meaningful.
    pub shape: [u32; 4],
    /// Number of dimensions, 1..=4.
    pub ndim: u8,
    /// Byte offset from the blob start.
    pub offset: usize,
    /// Byte length.
    pub len: usize,
}

impl Section {
    /// The section name.
    pub fn name(&self) -> &str {
        let bytes = self.name.get(..self.name_len as usize).unwrap_or(&[]);
        core::str::from_utf8(bytes).unwrap_or("")
    }

    /// Number of rows (the outermost dimension).
    pub fn rows(&self) -> usize {
        self.shape[0] as usize
    }

    /// Values per row (product of the inner dimensions).
    pub fn cols(&self) -> usize {
        let mut c = 1usize;
        for &d in self.shape.iter().take(self.ndim as usize).skip(1) {
            c = c.saturating_mul(d as usize);
        }
        c
    }

    /// Decodes and checks entry `index` (its 96 bytes in `e`) against a blob of `blob_len` bytes.
    pub(crate) fn decode(e: &[u8], index: u16, blob_len: usize) -> Result<Section> {
        let bad = Error::BadSection { index };
        let Some(raw_name) = e.get(..NAME_LEN) else { return Err(bad) };
        let name_len = raw_name.iter().position(|&b| b == 0).unwrap_or(NAME_LEN);
        let (used, pad) = raw_name.split_at(name_len);
        let printable = used.iter().all(|b| b.is_ascii_graphic());
        if name_len == 0 || !printable || pad.iter().any(|&b| b != 0) {
            return Err(bad);
        }
        let code = u32_at(e, 56) as u16;
        let dtype = match DType::from_entry(code, u32_at(e, 60)) {
            None => return Err(Error::UnknownDtype { index, dtype: code }),
            Some(Err(())) => return Err(bad),
            Some(Ok(d)) => d,
        };
        let ndim = (u32_at(e, 56) >> 16) as u8;
        let shape = [u32_at(e, 64), u32_at(e, 68), u32_at(e, 72), u32_at(e, 76)];
        let dims_ok = shape.iter().enumerate().all(|(i, &d)| (i < ndim as usize) == (d != 0));
        if !(1..=4).contains(&ndim) || !dims_ok {
            return Err(bad);
        }
        let (offset, len) = (u64_at(e, 80), u64_at(e, 88));
        let (Ok(offset), Ok(len)) = (usize::try_from(offset), usize::try_from(len)) else {
            return Err(bad);
        };
        if offset % ALIGN != 0 {
            return Err(Error::Misaligned);
        }
        let mut name = [0u8; NAME_LEN];
        name[..name_len].copy_from_slice(used);
        let s = Section { name, name_len: name_len as u8, dtype, shape, ndim, offset, len };
        if dtype.byte_len(s.rows(), s.cols()) != Some(len) {
            return Err(Error::WrongSectionType { index });
        }
        match offset.checked_add(len) {
            Some(end) if end <= blob_len => Ok(s),
            Some(end) => Err(Error::Truncated { needed: end, got: blob_len }),
            None => Err(bad),
        }
    }

    /// Encodes an entry (used by the writer).
    pub fn encode(name: &str, dtype: DType, shape: &[u32], offset: u64, len: u64) -> [u8; ENTRY_LEN] {
        let mut e = [0u8; ENTRY_LEN];
        let n = name.len().min(NAME_LEN);
        e[..n].copy_from_slice(&name.as_bytes()[..n]);
        e[56..58].copy_from_slice(&dtype.code().to_le_bytes());
        e[58..60].copy_from_slice(&(shape.len() as u16).to_le_bytes());
        e[60..64].copy_from_slice(&dtype.group().to_le_bytes());
        for (i, d) in shape.iter().take(4).enumerate() {
            e[64 + 4 * i..68 + 4 * i].copy_from_slice(&d.to_le_bytes());
        }
        e[80..88].copy_from_slice(&offset.to_le_bytes());
        e[88..96].copy_from_slice(&len.to_le_bytes());
        e
    }
}
