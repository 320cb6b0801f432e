//! Hugging Face state-dict names -> `.pfm` sections, for `BertModel`,
//! `BertForSequenceClassification` and `BertForMaskedLM`.
//!
//! Section names are the state-dict names without the `bert.` prefix (see the table in
//! `picoformer::format`). Old checkpoints' `LayerNorm.gamma`/`.beta` are accepted for
//! `.weight`/`.bias`. Tensors the model does not use (`embeddings.position_ids`, the
//! next-sentence head, ...) are listed as unused.

use std::collections::BTreeSet;

use anyhow::{bail, Result};

use crate::load::{Checkpoint, HfArch, HfConfig};

/// How a tensor is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A 2-D weight matrix: stored in the chosen weight dtype.
    Matrix,
    /// A 1-D tensor (bias, LayerNorm): always f32.
    Vector,
}

/// One tensor to convert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorSpec {
    /// Section name in the blob.
    pub name: String,
    /// Name in the checkpoint.
    pub source: String,
    /// Expected shape, outermost first.
    pub shape: Vec<usize>,
    /// Matrix or vector.
    pub kind: Kind,
}

/// The result of mapping a checkpoint.
#[derive(Debug, Clone)]
pub struct Mapping {
    /// Tensors in blob order.
    pub tensors: Vec<TensorSpec>,
    /// The checkpoint has BERT's pooler (and it is included).
    pub has_pooler: bool,
    /// The MLM decoder is stored separately (not tied to the word embeddings).
    pub untied_decoder: bool,
    /// Checkpoint tensors that are not used, sorted.
    pub unused: Vec<String>,
}

/// Finds every tensor the architecture needs in `ck`, checking names and shapes (no data is read,
/// except to decide whether an MLM decoder is tied).
pub fn map_tensors(cfg: &HfConfig, ck: &Checkpoint) -> Result<Mapping> {
    let names = Names::new(ck);
    let (h, i) = (cfg.hidden, cfg.intermediate);
    let mut want: Vec<(String, Vec<usize>)> = vec![
        ("embeddings.word_embeddings.weight".into(), vec![cfg.vocab_size, h]),
        ("embeddings.position_embeddings.weight".into(), vec![cfg.max_position, h]),
        ("embeddings.token_type_embeddings.weight".into(), vec![cfg.type_vocab_size, h]),
    ];
    norm(&mut want, "embeddings.LayerNorm", h);
    for l in 0..cfg.n_layers {
        let p = format!("encoder.layer.{l}");
        for qkv in ["query", "key", "value"] {
            linear(&mut want, &format!("{p}.attention.self.{qkv}"), h, h);
        }
        linear(&mut want, &format!("{p}.attention.output.dense"), h, h);
        norm(&mut want, &format!("{p}.attention.output.LayerNorm"), h);
        linear(&mut want, &format!("{p}.intermediate.dense"), i, h);
        linear(&mut want, &format!("{p}.output.dense"), h, i);
        norm(&mut want, &format!("{p}.output.LayerNorm"), h);
    }
    let has_pooler = names.find("pooler.dense.weight").is_some();
    if cfg.arch == HfArch::SequenceClassification && !has_pooler {
        bail!(
            "{}: missing tensor {:?} (a classifier needs the pooler)",
            ck.path().display(),
            names.expected("pooler.dense.weight")
        );
    }
    if has_pooler {
        linear(&mut want, "pooler.dense", h, h);
    }
    let mut untied_decoder = false;
    match cfg.arch {
        HfArch::BertModel => {}
        HfArch::SequenceClassification => linear(&mut want, "classifier", cfg.labels.len(), h),
        HfArch::MaskedLm => {
            linear(&mut want, "cls.predictions.transform.dense", h, h);
            norm(&mut want, "cls.predictions.transform.LayerNorm", h);
            untied_decoder = decoder_untied(ck, &names)?;
            if untied_decoder {
                want.push(("cls.predictions.decoder.weight".into(), vec![cfg.vocab_size, h]));
            }
            want.push(("cls.predictions.bias".into(), vec![cfg.vocab_size]));
        }
    }
    let tensors =
        want.into_iter().map(|(name, shape)| names.spec(ck, name, shape)).collect::<Result<Vec<_>>>()?;
    let used: BTreeSet<&str> = tensors.iter().map(|t| t.source.as_str()).collect();
    let unused = ck.names().into_iter().filter(|n| !used.contains(n.as_str())).collect();
    Ok(Mapping { tensors, has_pooler, untied_decoder, unused })
}

fn linear(want: &mut Vec<(String, Vec<usize>)>, prefix: &str, out: usize, inp: usize) {
    want.push((format!("{prefix}.weight"), vec![out, inp]));
    want.push((format!("{prefix}.bias"), vec![out]));
}

fn norm(want: &mut Vec<(String, Vec<usize>)>, prefix: &str, n: usize) {
    want.push((format!("{prefix}.weight"), vec![n]));
    want.push((format!("{prefix}.bias"), vec![n]));
}

/// A decoder is stored only when present and different from the word embeddings.
fn decoder_untied(ck: &Checkpoint, names: &Names) -> Result<bool> {
    let Some(dec) = names.find("cls.predictions.decoder.weight") else {
        return Ok(false);
    };
    let Some(word) = names.find("embeddings.word_embeddings.weight") else {
        return Ok(true);
    };
    if ck.shape(&dec) != ck.shape(&word) {
        return Ok(true);
    }
    Ok(ck.tensor(&dec)?.data != ck.tensor(&word)?.data)
}

/// Name resolution against one checkpoint.
struct Names<'c> {
    ck: &'c Checkpoint,
    /// The encoder's tensors carry the `bert.` prefix.
    prefixed: bool,
}

impl<'c> Names<'c> {
    fn new(ck: &'c Checkpoint) -> Names<'c> {
        let prefixed = ck.names().iter().any(|n| n.starts_with("bert."));
        Names { ck, prefixed }
    }

    /// The checkpoint name of section `name`, if present.
    fn find(&self, name: &str) -> Option<String> {
        let mut candidates = vec![format!("bert.{name}"), name.to_string()];
        if name.contains("LayerNorm.") {
            let old = name
                .replace("LayerNorm.weight", "LayerNorm.gamma")
                .replace("LayerNorm.bias", "LayerNorm.beta");
            candidates.extend([format!("bert.{old}"), old]);
        }
        candidates.into_iter().find(|c| self.ck.contains(c))
    }

    /// The name the checkpoint would use (for messages about missing tensors).
    fn expected(&self, name: &str) -> String {
        let head = name.starts_with("classifier.") || name.starts_with("cls.");
        match self.prefixed && !head {
            true => format!("bert.{name}"),
            false => name.to_string(),
        }
    }

    fn spec(&self, ck: &Checkpoint, name: String, shape: Vec<usize>) -> Result<TensorSpec> {
        let Some(source) = self.find(&name) else {
            bail!("{}: missing tensor {:?}", ck.path().display(), self.expected(&name));
        };
        let found = ck.shape(&source).unwrap_or(&[]);
        if found != shape.as_slice() {
            bail!("{}: tensor {source:?}: expected shape {shape:?}, found {found:?}", ck.path().display());
        }
        let kind = if shape.len() == 2 { Kind::Matrix } else { Kind::Vector };
        Ok(TensorSpec { name, source, shape, kind })
    }
}
