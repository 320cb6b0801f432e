//! Hugging Face state-dict names -> `.pfm` sections, for `BertModel`,
//! `BertForSequenceClassification` and `BertForMaskedLM`, through the core's tensor table
//! (`picoformer::model::schema`).
//!
//! Section names are the state-dict names without the `bert.` prefix. Old checkpoints' `LayerNorm.gamma`/`.beta` are accepted for
//! `.weight`/`.bias`. Tensors the model does not use (`embeddings.position_ids`, the
//! next-sentence head, ...) are listed as unused.

use std::collections::BTreeSet;

use anyhow::{bail, Result};

use picoformer::format::Task;
use picoformer::model::schema::{Dims, When, BERT};

use crate::load::{Checkpoint, HfArch, HfConfig};

pub use picoformer::model::schema::Kind;

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
    /// The classifier's lexicon gate bound (config.json `lexicon_gate_max`): the blob gets the
    /// `lexicon_gate.*` tensors, `lexicon_gate.max` written from this value.
    pub lexicon_gate: Option<f32>,
}

/// Finds every tensor the architecture needs in `ck` (the core's [`schema::BERT`], in blob order),
/// checking names and shapes (no data is read, except to decide whether an MLM decoder is tied).
pub fn map_tensors(cfg: &HfConfig, ck: &Checkpoint) -> Result<Mapping> {
    let names = Names::new(ck);
    let has_pooler = names.find("pooler.dense.weight").is_some();
    if cfg.arch == HfArch::SequenceClassification && !has_pooler {
        bail!(
            "{}: missing tensor {:?} (a classifier needs the pooler)",
            ck.path().display(),
            names.expected("pooler.dense.weight")
        );
    }
    let task = match cfg.arch {
        HfArch::BertModel => Task::Embedding,
        HfArch::SequenceClassification => Task::Classification,
        HfArch::MaskedLm => Task::MaskedLm,
    };
    let untied_decoder = task == Task::MaskedLm && decoder_untied(ck, &names)?;
    let dims = Dims {
        vocab: cfg.vocab_size,
        hidden: cfg.hidden,
        intermediate: cfg.intermediate,
        max_position: cfg.max_position,
        type_vocab: cfg.type_vocab_size,
        labels: cfg.labels.len(),
        q_dim: cfg.hidden,
        kv_dim: cfg.hidden,
        task,
        pooler: has_pooler,
        tied_head: true,
        lexicon_gate: cfg.lexicon_gate_max.is_some(),
    };
    let mut tensors = vec![];
    for (scope, def) in BERT.blob_order(cfg.n_layers) {
        let wanted = match dims.required(def) {
            _ if def.when == When::Smoothing => false, // made by calibration, not in checkpoints
            _ if def.name == GATE_MAX => false,        // from config.json, not the checkpoint
            Some(true) => true,
            Some(false) => untied_decoder,
            None => false,
        };
        if wanted {
            let shape = def.shape.iter().map(|&d| dims.size(d)).collect();
            tensors.push(names.spec(ck, BERT.section_name(scope, def), shape, def.kind)?);
        }
    }
    let used: BTreeSet<&str> = tensors.iter().map(|t| t.source.as_str()).collect();
    let unused = ck.names().into_iter().filter(|n| !used.contains(n.as_str())).collect();
    Ok(Mapping { tensors, has_pooler, untied_decoder, unused, lexicon_gate: cfg.lexicon_gate_max })
}

/// The gate's bound: a section of the blob, a number in config.json.
pub const GATE_MAX: &str = "lexicon_gate.max";

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

    fn spec(&self, ck: &Checkpoint, name: String, shape: Vec<usize>, kind: Kind) -> Result<TensorSpec> {
        let Some(source) = self.find(&name) else {
            bail!("{}: missing tensor {:?}", ck.path().display(), self.expected(&name));
        };
        let found = ck.shape(&source).unwrap_or(&[]);
        if found != shape.as_slice() {
            bail!("{}: tensor {source:?}: expected shape {shape:?}, found {found:?}", ck.path().display());
        }
        Ok(TensorSpec { name, source, shape, kind })
    }
}
