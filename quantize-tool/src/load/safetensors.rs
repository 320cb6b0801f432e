//! `model.safetensors`: the tensor index, and tensors converted to f32 on demand.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use half::{bf16, f16};
use safetensors::tensor::{Metadata, SafeTensors};
use safetensors::Dtype;

/// A tensor converted to f32, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct Tensor {
    /// Shape, outermost first.
    pub shape: Vec<usize>,
    /// `shape.iter().product()` values.
    pub data: Vec<f32>,
}

/// An opened safetensors file: its bytes and parsed index.
pub struct Checkpoint {
    path: PathBuf,
    bytes: Vec<u8>,
    /// Offset of the data area (8 + header length).
    data_start: usize,
    meta: Metadata,
}

impl std::fmt::Debug for Checkpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Checkpoint({}, {} bytes)", self.path.display(), self.bytes.len())
    }
}

impl Checkpoint {
    /// Reads `path` and parses its header.
    pub fn open(path: &Path) -> Result<Checkpoint> {
        let bytes = std::fs::read(path).with_context(|| format!("{}: cannot read", path.display()))?;
        Checkpoint::from_bytes(path, bytes)
    }

    /// Parses safetensors `bytes`; `path` is only used in messages.
    pub fn from_bytes(path: &Path, bytes: Vec<u8>) -> Result<Checkpoint> {
        let (n, meta) = SafeTensors::read_metadata(&bytes)
            .map_err(|e| anyhow::anyhow!("{}: not a valid safetensors file: {e}", path.display()))?;
        Ok(Checkpoint { path: path.to_path_buf(), bytes, data_start: 8 + n, meta })
    }

    /// The file this was read from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The file name for messages (`model.safetensors`).
    pub fn file_name(&self) -> String {
        self.path
            .file_name()
            .map_or_else(|| self.path.display().to_string(), |n| n.to_string_lossy().into_owned())
    }

    /// All tensor names, sorted.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.meta.tensors().into_keys().collect();
        names.sort();
        names
    }

    /// Whether a tensor of this name exists.
    pub fn contains(&self, name: &str) -> bool {
        self.meta.info(name).is_some()
    }

    /// The shape of tensor `name`, if present.
    pub fn shape(&self, name: &str) -> Option<&[usize]> {
        self.meta.info(name).map(|i| i.shape.as_slice())
    }

    /// Tensor `name` converted to f32 (from F32, F16 or BF16); every value must be finite.
    pub fn tensor(&self, name: &str) -> Result<Tensor> {
        let ctx = || format!("{}: tensor {name:?}", self.path.display());
        let info = self.meta.info(name).with_context(|| format!("{}: missing", ctx()))?;
        let (lo, hi) = info.data_offsets;
        let raw = (self.data_start.checked_add(lo), self.data_start.checked_add(hi));
        let (Some(lo), Some(hi)) = raw else { bail!("{}: data offsets overflow", ctx()) };
        let raw = self.bytes.get(lo..hi).with_context(|| format!("{}: data out of bounds", ctx()))?;
        let data = to_f32(info.dtype, raw).with_context(ctx)?;
        let n: usize = info.shape.iter().product();
        if data.len() != n {
            bail!("{}: {} values for shape {:?}", ctx(), data.len(), info.shape);
        }
        if let Some(i) = data.iter().position(|x| !x.is_finite()) {
            bail!("{}: value {} at flat index {i} is not finite", ctx(), data[i]);
        }
        Ok(Tensor { shape: info.shape.clone(), data })
    }
}

fn to_f32(dtype: Dtype, raw: &[u8]) -> Result<Vec<f32>> {
    Ok(match dtype {
        Dtype::F32 => raw.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect(),
        Dtype::F16 => raw.chunks_exact(2).map(|c| f16::from_le_bytes([c[0], c[1]]).to_f32()).collect(),
        Dtype::BF16 => raw.chunks_exact(2).map(|c| bf16::from_le_bytes([c[0], c[1]]).to_f32()).collect(),
        other => bail!("dtype {other:?} is not supported (F32, F16 or BF16)"),
    })
}
