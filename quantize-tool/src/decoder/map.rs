//! Checkpoint tensor names -> `.pfm` sections for decoders, through the core's tensor tables
//! (`picoformer::model::schema::{LLAMA, GPT2}`): the table decides which tensors, their order,
//! their shapes and which are optional; this file only resolves names in one checkpoint.
//!
//! A section `S` is found as `{hf_prefix}S` (`model.`, `transformer.`) or as `S` itself (GPT-2's
//! original checkpoints and `lm_head.weight` have no prefix). GPT-2's `Conv1D` weights (every
//! layer matrix) are stored `[in, out]` and are transposed to the schema's `[out, in]`. Tensors
//! the model does not use (`attn.bias` / `attn.masked_bias` buffers, a tied `lm_head.weight`,
//! `rotary_emb.inv_freq`) are listed as unused.

use std::collections::BTreeSet;
use std::path::Path;

use anyhow::{bail, Result};
use picoformer::format::Arch;
use picoformer::model::schema::{self, Dims, Kind, Schema, Scope};

use crate::map::TensorSpec;

/// One tensor to convert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapped {
    /// Section name, checkpoint name, shape in the blob (`[out, in]`), kind.
    pub spec: TensorSpec,
    /// The checkpoint stores it `[in, out]` (GPT-2 `Conv1D`): transpose before encoding.
    pub transposed: bool,
}

impl Mapped {
    /// The shape the checkpoint stores.
    pub fn stored_shape(&self) -> Vec<usize> {
        match self.transposed {
            true => self.spec.shape.iter().rev().copied().collect(),
            false => self.spec.shape.clone(),
        }
    }
}

/// The result of mapping a decoder checkpoint.
#[derive(Debug, Clone)]
pub struct DecoderMapping {
    /// Tensors in blob order ([`Schema::blob_order`]).
    pub tensors: Vec<Mapped>,
    /// Checkpoint tensors that are not used, sorted.
    pub unused: Vec<String>,
}

/// Finds every tensor `arch`'s schema requires for `dims` among `available` (checkpoint names and
/// shapes, outermost first), checking shapes; `file` is named in errors. Reads no data.
pub fn map_decoder(
    arch: Arch,
    dims: &Dims,
    n_layers: usize,
    file: &Path,
    available: &[(String, Vec<usize>)],
) -> Result<DecoderMapping> {
    let schema = schema::schema(arch);
    let shape_of = |name: &str| available.iter().find(|(n, _)| n == name).map(|(_, s)| s.as_slice());
    let prefixed = available.iter().any(|(n, _)| n.starts_with(schema.hf_prefix));
    let mut tensors = Vec::new();
    for (scope, def) in schema.blob_order(n_layers) {
        let Some(required) = dims.required(def) else { continue };
        let name = schema.section_name(scope, def);
        let candidates = [format!("{}{name}", schema.hf_prefix), name.clone()];
        let Some(source) = candidates.iter().find(|c| shape_of(c).is_some()).cloned() else {
            if required {
                bail!("{}: missing tensor {:?}", file.display(), expected_name(schema, &name, prefixed));
            }
            continue;
        };
        let (rows, cols) = dims.shape(def);
        let shape = match def.kind {
            Kind::Matrix => vec![rows, cols],
            Kind::Vector => vec![rows],
        };
        let transposed = arch == Arch::Gpt2 && matches!(scope, Scope::Layer(_)) && def.kind == Kind::Matrix;
        let mapped = Mapped { spec: TensorSpec { name, source, shape, kind: def.kind }, transposed };
        let found = shape_of(&mapped.spec.source).unwrap_or(&[]);
        let want = mapped.stored_shape();
        if found != want.as_slice() {
            let layout = if transposed { " (Conv1D: [in, out])" } else { "" };
            bail!(
                "{}: tensor {:?}: expected shape {want:?}{layout}, found {found:?}",
                file.display(),
                mapped.spec.source
            );
        }
        tensors.push(mapped);
    }
    let used: BTreeSet<&str> = tensors.iter().map(|t| t.spec.source.as_str()).collect();
    let mut unused: Vec<String> =
        available.iter().map(|(n, _)| n.clone()).filter(|n| !used.contains(n.as_str())).collect();
    unused.sort();
    Ok(DecoderMapping { tensors, unused })
}

/// The name a checkpoint would give section `name` (for messages about missing tensors).
fn expected_name(schema: &Schema, name: &str, prefixed: bool) -> String {
    match prefixed && !name.starts_with("lm_head.") {
        true => format!("{}{name}", schema.hf_prefix),
        false => name.to_owned(),
    }
}

/// `data` (`rows x cols`, row-major) transposed to `cols x rows`.
pub fn transpose(data: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    let mut out = vec![0f32; data.len()];
    for (r, row) in data.chunks_exact(cols.max(1)).enumerate().take(rows) {
        for (c, &x) in row.iter().enumerate() {
            out[c * rows + r] = x;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transpose_small() {
        // [[1, 2, 3], [4, 5, 6]] -> [[1, 4], [2, 5], [3, 6]]
        assert_eq!(transpose(&[1., 2., 3., 4., 5., 6.], 2, 3), [1., 4., 2., 5., 3., 6.]);
    }
}
