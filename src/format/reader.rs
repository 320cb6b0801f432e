//! Parsing a blob once: identity, length, checksum, header, section table. Afterwards only typed,
//! bounds-checked views are handed out.

use half::f16;

use super::crc32::crc32;
use super::header::{check_identity, u32_at, Header, ALIGN, CHECKSUM_START, HEADER_LEN};
use super::section::{DType, Section, ENTRY_LEN};
use crate::quant::{Matrix, MatrixData};
use crate::{Error, Result};

#[cfg(target_endian = "big")]
compile_error!("picoformer reads little-endian blobs in place and supports little-endian targets only");

/// Most sections a blob may hold (keeps validation linear-time bounded on hostile input).
pub const MAX_SECTIONS: usize = 4096;

/// A validated `.pfm` blob borrowed from memory (RAM or flash).
#[derive(Debug, Clone, Copy)]
pub struct Blob<'a> {
    bytes: &'a [u8],
    header: Header,
}

impl<'a> Blob<'a> {
    /// Parses and validates `bytes`. The slice must start on a 4-byte boundary (32 gives the best
    /// SIMD loads); bytes past the blob's recorded length are ignored, so a flash region rounded up
    /// to a sector works. Never panics and never reads out of bounds, whatever the bytes.
    pub fn parse(bytes: &'a [u8]) -> Result<Blob<'a>> {
        let h = check_identity(bytes)?;
        if !(bytes.as_ptr() as usize).is_multiple_of(4) {
            return Err(Error::Misaligned);
        }
        let file_len = usize::try_from(super::header::u64_at(h, 16))
            .map_err(|_| Error::BadHeader { field: "file_len" })?;
        let Some(bytes) = bytes.get(..file_len) else {
            return Err(Error::Truncated { needed: file_len, got: bytes.len() });
        };
        if file_len < HEADER_LEN {
            return Err(Error::BadHeader { field: "file_len" });
        }
        let expected = u32_at(h, 12);
        let actual = crc32(bytes.get(CHECKSUM_START..).unwrap_or(&[]));
        if expected != actual {
            return Err(Error::ChecksumMismatch { expected, actual });
        }
        let header = Header::decode(h)?;
        let blob = Blob { bytes, header };
        blob.check_table()?;
        Ok(blob)
    }

    /// The decoded header.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The blob's bytes (exactly its recorded length).
    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    fn table(&self) -> &'a [u8] {
        let end = HEADER_LEN + self.header.section_count as usize * ENTRY_LEN;
        self.bytes.get(HEADER_LEN..end).unwrap_or(&[])
    }

    /// Checks the section table: entries decode, lie after the table, ascend without overlap, and
    /// have distinct names.
    fn check_table(&self) -> Result<()> {
        let count = self.header.section_count as usize;
        if count > MAX_SECTIONS {
            return Err(Error::BadHeader { field: "section_count" });
        }
        if u32_at(self.bytes, 32) as usize != HEADER_LEN {
            return Err(Error::BadHeader { field: "section_table_offset" });
        }
        let table_end = HEADER_LEN + count * ENTRY_LEN;
        if table_end > self.bytes.len() {
            return Err(Error::Truncated { needed: table_end, got: self.bytes.len() });
        }
        let mut prev_end = table_end;
        for (i, s) in self.sections().enumerate() {
            let s = s?;
            if s.offset < prev_end {
                return Err(Error::BadSection { index: i as u16 });
            }
            prev_end = s.offset + s.len;
        }
        for (i, a) in self.sections().enumerate() {
            let a = a?;
            let dup = self.sections().take(i).any(|b| b.map(|b| b.name() == a.name()).unwrap_or(false));
            if dup {
                return Err(Error::BadSection { index: i as u16 });
            }
        }
        Ok(())
    }

    /// The section table entries, decoded (each `Ok` once the blob has been parsed).
    pub fn sections(&self) -> impl Iterator<Item = Result<Section>> + 'a {
        let len = self.bytes.len();
        self.table().chunks_exact(ENTRY_LEN).enumerate().map(move |(i, e)| Section::decode(e, i as u16, len))
    }

    /// The entry at `index` of the section table.
    pub fn section_at(&self, index: u16) -> Result<Section> {
        let at = index as usize * ENTRY_LEN;
        let e = self.table().get(at..at + ENTRY_LEN).ok_or(Error::BadSection { index })?;
        Section::decode(e, index, self.bytes.len())
    }

    /// Finds a section by name; returns its index and entry.
    pub fn section(&self, name: &str) -> Option<(u16, Section)> {
        self.sections()
            .enumerate()
            .find_map(|(i, s)| s.ok().filter(|s| s.name() == name).map(|s| (i as u16, s)))
    }

    /// The raw bytes of a section.
    pub fn bytes_of(&self, s: &Section) -> &'a [u8] {
        self.bytes.get(s.offset..s.offset + s.len).unwrap_or(&[])
    }

    /// A `U32` section as a slice.
    pub fn u32s(&self, index: u16, s: &Section) -> Result<&'a [u32]> {
        if s.dtype != DType::U32 {
            return Err(Error::WrongSectionType { index });
        }
        bytemuck::try_cast_slice(self.bytes_of(s)).map_err(|_| Error::Misaligned)
    }

    /// A `U8` section as a slice.
    pub fn u8s(&self, index: u16, s: &Section) -> Result<&'a [u8]> {
        if s.dtype != DType::U8 {
            return Err(Error::WrongSectionType { index });
        }
        Ok(self.bytes_of(s))
    }

    /// An `F32` section as a slice.
    pub fn f32s(&self, index: u16, s: &Section) -> Result<&'a [f32]> {
        if s.dtype != DType::F32 {
            return Err(Error::WrongSectionType { index });
        }
        bytemuck::try_cast_slice(self.bytes_of(s)).map_err(|_| Error::Misaligned)
    }

    /// A weight matrix (`F32`, `F16`, `I8Row` or `I4`) viewed as `rows x cols`.
    pub fn matrix(&self, index: u16, s: &Section) -> Result<Matrix<'a>> {
        let (rows, cols) = (s.rows(), s.cols());
        let raw = self.bytes_of(s);
        let cast_err = |_| Error::Misaligned;
        let data = match s.dtype {
            DType::F32 => MatrixData::F32(bytemuck::try_cast_slice(raw).map_err(cast_err)?),
            DType::F16 => MatrixData::F16(bytemuck::try_cast_slice(raw).map_err(cast_err)?),
            DType::I8Row => {
                let n = rows * cols;
                let scales_at = n.div_ceil(ALIGN) * ALIGN;
                let values = raw.get(..n).ok_or(Error::WrongSectionType { index })?;
                let scales = raw.get(scales_at..).ok_or(Error::WrongSectionType { index })?;
                MatrixData::I8 {
                    values: bytemuck::cast_slice(values),
                    scales: bytemuck::try_cast_slice(scales).map_err(cast_err)?,
                }
            }
            DType::I4 { group } => {
                let packed = rows * cols / 2;
                let scales_at = packed.div_ceil(ALIGN) * ALIGN;
                let values = raw.get(..packed).ok_or(Error::WrongSectionType { index })?;
                let planes = raw.get(scales_at..).ok_or(Error::WrongSectionType { index })?;
                let planes: &[f16] = bytemuck::try_cast_slice(planes).map_err(cast_err)?;
                let (scales, mins) = planes.split_at(planes.len() / 2);
                MatrixData::I4 { values, scales, mins, group: group as usize }
            }
            _ => return Err(Error::WrongSectionType { index }),
        };
        Ok(Matrix { rows, cols, data })
    }
}
