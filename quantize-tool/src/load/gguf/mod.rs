//! GGUF files (llama.cpp's model format): typed metadata, the tensor index, and tensors
//! dequantized exactly to f32 on demand.
//!
//! The container (header, metadata of every value type, tensor infos, alignment) is parsed by the
//! `gguf-rs-lib` crate: it reads GGUF v3 with bounded, checked allocations and returns errors,
//! not panics, on corrupt input. It does not dequantize, so [`dequant`] does, bit-exactly with
//! ggml's reference. (Passed over: `gguf-rs`, whose non-optional dependencies include a CLI stack
//! and serde_json's `arbitrary_precision`, which would change JSON numbers for the whole tool;
//! `ggus` + `ggml-quants`, which read enum discriminants from file bytes unchecked and leave Q6_K
//! dequantization unimplemented; candle-core's `gguf_file`, a whole tensor framework for a parser.)
//! This module adds what the converter needs on top: every tensor's byte range is checked against
//! the file once at [`Gguf::open`] (or [`Gguf::from_bytes`], the same on a file held in memory),
//! every error names the file (and the key or tensor), and tensor bytes are read one tensor at a
//! time, so converting a model holds the f32 values of one tensor, never the whole file.
//!
//! Layout: ggml lists dimensions innermost first (`ne[0]` = columns); [`TensorInfo::shape`] and
//! [`Gguf::tensor_f32`] give them outermost first, as PyTorch / Hugging Face do (`[rows, cols]`).

pub mod dequant;
pub mod llama;

use std::borrow::Cow;
use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, Cursor, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::{anyhow, bail, Context, Result};
use gguf_rs_lib::format::MetadataValue;
use gguf_rs_lib::reader::{GGUFFileReader, GGUFReaderConfig};

pub use self::dequant::GgmlType;
pub use self::llama::{GgufTokenizer, LlamaGguf, LlamaParams, RopeScaling};

/// A typed metadata value (`gguf-rs-lib`'s): integers, floats, bool, string, or an array of them.
pub type MetaValue = MetadataValue;

/// One tensor of the index.
#[derive(Debug, Clone, PartialEq)]
pub struct TensorInfo {
    /// Name, e.g. `blk.0.attn_q.weight`.
    pub name: String,
    /// The `ggml_type` id (`ggml.h` numbering: 0 F32, 1 F16, 2 Q4_0, 3 Q4_1, 8 Q8_0, ...).
    pub type_id: u32,
    /// The type's name (`Q4_1`), also for types this reader cannot dequantize.
    pub type_name: &'static str,
    /// The type, when [`dequant`] supports it.
    pub ggml_type: Option<GgmlType>,
    /// Dimensions as ggml stores them, innermost first (`ne[0]` = number of columns).
    pub dims: Vec<usize>,
    /// Byte offset of the data, relative to the start of the tensor data section.
    pub offset: u64,
    /// Bytes of data in the file.
    pub byte_len: usize,
}

impl TensorInfo {
    /// Shape outermost first (`[rows, cols]` for a matrix), as Hugging Face writes it.
    pub fn shape(&self) -> Vec<usize> {
        self.dims.iter().rev().copied().collect()
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.dims.iter().product()
    }

    /// Whether the tensor has no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// An opened GGUF file: metadata and tensor index in memory, tensor data read on demand.
pub struct Gguf {
    path: PathBuf,
    version: u32,
    meta: HashMap<String, MetaValue>,
    tensors: Vec<TensorInfo>,
    by_name: HashMap<String, usize>,
    /// Absolute offset of the tensor data section.
    data_start: u64,
    /// Where tensor bytes are read from.
    data: Data,
}

/// Where a [`Gguf`]'s tensor bytes come from.
enum Data {
    /// The file (one reader at a time).
    File(Mutex<File>),
    /// The whole file, in memory ([`Gguf::from_bytes`]).
    Bytes(Vec<u8>),
}

impl std::fmt::Debug for Gguf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Gguf({}, v{}, {} tensors)", self.path.display(), self.version, self.tensors.len())
    }
}

impl Gguf {
    /// Opens `path`: parses the header, metadata and tensor index, and checks that every tensor's
    /// bytes lie inside the file. Errors name the file (and the tensor).
    pub fn open(path: &Path) -> Result<Gguf> {
        let file = File::open(path).with_context(|| format!("{}: cannot open", path.display()))?;
        let file_len = file.metadata().with_context(|| format!("{}: cannot stat", path.display()))?.len();
        let clone = file.try_clone().with_context(|| format!("{}: cannot open", path.display()))?;
        let index = Gguf::index(path, BufReader::new(clone))?;
        Gguf::with_index(path, index, file_len, Data::File(Mutex::new(file)))
    }

    /// [`open`](Self::open) on the whole file in memory; `path` is only named in errors.
    pub fn from_bytes(path: &Path, bytes: Vec<u8>) -> Result<Gguf> {
        let len = bytes.len() as u64;
        let index = Gguf::index(path, Cursor::new(bytes.as_slice()))?;
        Gguf::with_index(path, index, len, Data::Bytes(bytes))
    }

    /// Header, metadata and tensor index, as read by `gguf-rs-lib`.
    fn index<R: Read + Seek>(path: &Path, reader: R) -> Result<Index> {
        // Byte ranges are checked below, per tensor and with the tensor's name in the message.
        let config = GGUFReaderConfig { validate_integrity: false, ..GGUFReaderConfig::default() };
        let reader = GGUFFileReader::with_config(reader, config)
            .map_err(|e| anyhow!("{}: not a valid GGUF file: {e}", path.display()))?;
        let meta: HashMap<String, MetaValue> =
            reader.metadata().iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        let tensors = reader
            .tensor_infos()
            .iter()
            .map(tensor_info)
            .collect::<Result<Vec<_>>>()
            .with_context(|| path.display().to_string())?;
        Ok(Index { version: reader.header().version, meta, tensors, data_start: reader.tensor_data_offset() })
    }

    /// The opened file from its index, every tensor's bytes checked to lie within `file_len`.
    fn with_index(path: &Path, index: Index, file_len: u64, data: Data) -> Result<Gguf> {
        let Index { version, meta, tensors, data_start } = index;
        let by_name = tensors.iter().enumerate().map(|(i, t)| (t.name.clone(), i)).collect();
        let gguf = Gguf { path: path.to_path_buf(), version, meta, tensors, by_name, data_start, data };
        for t in &gguf.tensors {
            gguf.byte_range(t, file_len)?;
        }
        Ok(gguf)
    }

    /// The file this was read from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The GGUF version (3 for files written by current llama.cpp / gguf-py).
    pub fn version(&self) -> u32 {
        self.version
    }

    /// Absolute byte offset of the tensor data section (tensor offsets are relative to it).
    pub fn data_start(&self) -> u64 {
        self.data_start
    }

    /// `general.architecture` (`llama`, `gpt2`, ...).
    pub fn architecture(&self) -> Option<&str> {
        self.str("general.architecture")
    }

    /// The metadata value of `key`, typed as stored.
    pub fn meta(&self, key: &str) -> Option<&MetaValue> {
        self.meta.get(key)
    }

    /// All metadata keys, sorted.
    pub fn keys(&self) -> Vec<&str> {
        let mut keys: Vec<&str> = self.meta.keys().map(String::as_str).collect();
        keys.sort_unstable();
        keys
    }

    /// An integer value of `key` (any integer type) that fits in u32.
    pub fn u32(&self, key: &str) -> Option<u32> {
        int(self.meta(key)?).and_then(|v| u32::try_from(v).ok())
    }

    /// A float value of `key` (f32, or f64 rounded to f32).
    pub fn f32(&self, key: &str) -> Option<f32> {
        match self.meta(key)? {
            MetaValue::F32(v) => Some(*v),
            MetaValue::F64(v) => Some(*v as f32),
            _ => None,
        }
    }

    /// A bool value of `key`.
    pub fn bool(&self, key: &str) -> Option<bool> {
        match self.meta(key)? {
            MetaValue::Bool(v) => Some(*v),
            _ => None,
        }
    }

    /// A string value of `key`.
    pub fn str(&self, key: &str) -> Option<&str> {
        match self.meta(key)? {
            MetaValue::String(s) => Some(s),
            _ => None,
        }
    }

    /// An array of strings (`tokenizer.ggml.tokens`, `tokenizer.ggml.merges`).
    pub fn strings(&self, key: &str) -> Option<Vec<String>> {
        self.array(key)?.iter().map(|v| v.as_str().map(str::to_owned)).collect()
    }

    /// An array of integers that fit in i32 (`tokenizer.ggml.token_type`).
    pub fn i32s(&self, key: &str) -> Option<Vec<i32>> {
        self.array(key)?.iter().map(|v| int(v).and_then(|v| i32::try_from(v).ok())).collect()
    }

    /// An array of f32 (`tokenizer.ggml.scores`).
    pub fn f32s(&self, key: &str) -> Option<Vec<f32>> {
        self.array(key)?
            .iter()
            .map(|v| match v {
                MetaValue::F32(v) => Some(*v),
                _ => None,
            })
            .collect()
    }

    /// The elements of an array value.
    fn array(&self, key: &str) -> Option<&[MetaValue]> {
        match self.meta(key)? {
            MetaValue::Array(a) => Some(&a.values),
            _ => None,
        }
    }

    /// The tensor index, in file order.
    pub fn tensors(&self) -> impl Iterator<Item = &TensorInfo> {
        self.tensors.iter()
    }

    /// The tensor `name`, if present.
    pub fn tensor_info(&self, name: &str) -> Option<&TensorInfo> {
        self.by_name.get(name).and_then(|&i| self.tensors.get(i))
    }

    /// Tensor `name` dequantized to f32: `(shape outermost first, values row-major)`.
    pub fn tensor_f32(&self, name: &str) -> Result<(Vec<usize>, Vec<f32>)> {
        let ctx = || format!("{}: tensor {name:?}", self.path.display());
        let t = self.tensor_info(name).ok_or_else(|| anyhow!("{}: not in the file", ctx()))?;
        let Some(ty) = t.ggml_type else {
            bail!(
                "{}: type {} (id {}) is not supported (F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q4_K, Q6_K are)",
                ctx(),
                t.type_name,
                t.type_id
            );
        };
        let raw = self.read_bytes(t).with_context(ctx)?;
        let mut values = vec![0f32; t.len()];
        dequant::dequantize(ty, &raw, &mut values).ok_or_else(|| anyhow!("{}: size mismatch", ctx()))?;
        Ok((t.shape(), values))
    }

    /// The raw bytes of tensor `t` as stored.
    fn read_bytes(&self, t: &TensorInfo) -> Result<Cow<'_, [u8]>> {
        let (start, len) = self.byte_range(t, u64::MAX)?;
        let file = match &self.data {
            Data::File(file) => file,
            Data::Bytes(bytes) => {
                let range = usize::try_from(start).ok().and_then(|s| Some(s..s.checked_add(len)?));
                let raw = range.and_then(|r| bytes.get(r));
                return raw.map(Cow::Borrowed).context("the tensor's bytes lie past the end of the file");
            }
        };
        let mut raw = vec![0u8; len];
        let mut file = file.lock().map_err(|_| anyhow!("file lock poisoned"))?;
        file.seek(SeekFrom::Start(start)).context("seek")?;
        file.read_exact(&mut raw).context("cannot read the tensor's bytes (file truncated?)")?;
        Ok(Cow::Owned(raw))
    }

    /// `(absolute offset, byte length)` of tensor `t`, checked to end within `file_len`.
    fn byte_range(&self, t: &TensorInfo, file_len: u64) -> Result<(u64, usize)> {
        let start = self.data_start.checked_add(t.offset);
        let end = start.and_then(|s| s.checked_add(t.byte_len as u64)).filter(|&e| e <= file_len);
        match (start, end) {
            (Some(start), Some(_)) => Ok((start, t.byte_len)),
            _ => bail!(
                "{}: tensor {:?}: data at offset {} (+{} bytes) lies past the end of the file ({} bytes)",
                self.path.display(),
                t.name,
                t.offset,
                t.byte_len,
                file_len
            ),
        }
    }
}

/// What [`Gguf::index`] reads.
struct Index {
    version: u32,
    meta: HashMap<String, MetaValue>,
    tensors: Vec<TensorInfo>,
    data_start: u64,
}

/// Our [`TensorInfo`] from the crate's: an element count that fits in usize, and the byte length
/// (ours for the types we dequantize, the crate's table for the others).
fn tensor_info(t: &gguf_rs_lib::tensor::TensorInfo) -> Result<TensorInfo> {
    let name = t.name();
    let dims: Vec<usize> = t.shape().dims().iter().map(|&d| usize::try_from(d)).collect::<Result<_, _>>()?;
    let len = dims.iter().try_fold(1usize, |n, &d| n.checked_mul(d));
    let len = len.ok_or_else(|| anyhow!("tensor {name:?}: element count of {dims:?} overflows"))?;
    let ty = t.tensor_type();
    let (type_id, ggml_type) = (ty as u32, GgmlType::from_id(ty as u32));
    let byte_len = match ggml_type {
        Some(g) => g.bytes_for(len).filter(|_| dims.first().is_none_or(|&c| c % g.block_len() == 0)),
        None => t.checked_expected_data_size().ok().and_then(|n| usize::try_from(n).ok()),
    };
    let byte_len = byte_len
        .ok_or_else(|| anyhow!("tensor {name:?}: shape {dims:?} is not whole {} blocks", ty.name()))?;
    let offset = t.data_offset();
    Ok(TensorInfo { name: name.to_owned(), type_id, type_name: ty.name(), ggml_type, dims, offset, byte_len })
}

/// An integer metadata value as i128 (every GGUF integer type fits).
fn int(v: &MetaValue) -> Option<i128> {
    Some(match *v {
        MetaValue::U8(v) => v.into(),
        MetaValue::I8(v) => v.into(),
        MetaValue::U16(v) => v.into(),
        MetaValue::I16(v) => v.into(),
        MetaValue::U32(v) => v.into(),
        MetaValue::I32(v) => v.into(),
        MetaValue::U64(v) => v.into(),
        MetaValue::I64(v) => v.into(),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quants() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/data/gguf/quants.gguf")
    }

    /// The in-memory reader sees what the file reader sees.
    #[test]
    fn from_bytes_reads_as_open() {
        let path = quants();
        let (file, mem) =
            (Gguf::open(&path).unwrap(), Gguf::from_bytes(&path, std::fs::read(&path).unwrap()).unwrap());
        assert_eq!(
            (file.version(), file.data_start(), file.keys()),
            (mem.version(), mem.data_start(), mem.keys())
        );
        assert_eq!(file.tensors().collect::<Vec<_>>(), mem.tensors().collect::<Vec<_>>());
        for t in file.tensors() {
            let (a, b) = (file.tensor_f32(&t.name), mem.tensor_f32(&t.name));
            match (a, b) {
                (Ok((sa, va)), Ok((sb, vb))) => {
                    assert_eq!(sa, sb, "{}", t.name);
                    assert!(va.iter().zip(&vb).all(|(x, y)| x.to_bits() == y.to_bits()), "{}", t.name);
                }
                (Err(a), Err(b)) => assert_eq!(format!("{a:#}"), format!("{b:#}")),
                (a, b) => panic!("{}: file {:?}, memory {:?}", t.name, a.is_ok(), b.is_ok()),
            }
        }
    }

    /// Cut short, the bytes are an error naming the file (and the tensor), as the file is.
    #[test]
    fn truncated_bytes_are_errors_naming_the_file() {
        let bytes = std::fs::read(quants()).unwrap();
        let g = Gguf::from_bytes(&quants(), bytes.clone()).unwrap();
        let end =
            g.tensors().map(|t| g.data_start() as usize + t.offset as usize + t.byte_len).max().unwrap();
        let path = Path::new("dir/model.gguf");
        for len in [0, 3, 24, 200, end - 1] {
            let e = Gguf::from_bytes(path, bytes[..len].to_vec()).unwrap_err();
            assert!(format!("{e:#}").contains("dir/model.gguf"), "{len}: {e:#}");
        }
    }
}
