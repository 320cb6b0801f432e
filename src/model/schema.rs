//! The tensors of each architecture, written once: section name, shape in terms of the header's
//! hyper-parameters, storage kind, and when the tensor is present. The loader finds and checks
//! sections with these tables, the host tool maps checkpoints through them, and the tests build
//! blobs from them.
//!
//! Section names are the Hugging Face state-dict names without the base-model prefix (`bert.`,
//! `model.`, `transformer.`); a layer's tensor is `{layer_prefix}{i}.{name}`. Weight matrices are
//! stored `[out, in]` (PyTorch `Linear`): GPT-2's `Conv1D` weights are transposed by the tool.

use crate::format::{Arch, ArchParams, Blob, DType, Header, Task};
use crate::{Error, Result};

/// One dimension of a tensor, resolved from the header by [`Dims`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dim {
    /// Vocabulary size.
    Vocab,
    /// Hidden size `H`.
    Hidden,
    /// Feed-forward inner size `I`.
    Intermediate,
    /// Rows of a learned position table.
    MaxPosition,
    /// Rows of BERT's token-type table.
    TypeVocab,
    /// Classifier labels.
    Labels,
    /// Width of the queries, `n_heads * head_dim`.
    QDim,
    /// Width of the keys (and values), `n_kv_heads * head_dim`.
    KvDim,
    /// Width of GPT-2's fused query/key/value projection, `QDim + 2 * KvDim`.
    Qkv,
    /// One (a single-output head).
    One,
}

/// How a tensor is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A 2-D weight matrix, in any weight dtype (F32, F16, I8Row, I4), chosen per tensor.
    Matrix,
    /// A 1-D tensor (bias, norm): always F32.
    Vector,
}

/// When a tensor is in the blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    /// Always.
    Always,
    /// When the header says the blob has BERT's pooler.
    Pooler,
    /// For this task.
    Task(Task),
    /// For this task, if present (an MLM decoder not tied to the word embeddings).
    TaskIfPresent(Task),
    /// When the LM head is not tied to the token embeddings.
    Untied,
    /// When the header says the classifier has a lexicon gate
    /// ([`TaskParams::lexicon_gate`](crate::format::TaskParams::lexicon_gate)).
    LexiconGate,
    /// Optional, never in a checkpoint: a linear layer's activation smoothing factors, which the
    /// tool computes from calibration text (`quantize --calibrate`). Their presence makes that int8
    /// matrix take 8-bit activations ([`kernels::quantize_row_u8`](crate::kernels::quantize_row_u8)).
    Smoothing,
}

/// One tensor of an architecture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TensorDef {
    /// Section name (within the layer for layer tensors).
    pub name: &'static str,
    /// Shape, outermost first.
    pub shape: &'static [Dim],
    /// Storage kind.
    pub kind: Kind,
    /// Presence.
    pub when: When,
}

/// All tensors of one architecture.
#[derive(Debug, Clone, Copy)]
pub struct Schema {
    /// The architecture.
    pub arch: Arch,
    /// Prefix of the checkpoint names of the base model (`"bert."`): stripped from section names.
    pub hf_prefix: &'static str,
    /// Section names of layer `i` start with `{layer_prefix}{i}.`.
    pub layer_prefix: &'static str,
    /// Tensors outside the layers.
    pub globals: &'static [TensorDef],
    /// `globals[..before_layers]` come before the layers in a blob, the rest after them.
    pub before_layers: usize,
    /// Tensors of every layer.
    pub layer: &'static [TensorDef],
}

/// Most tensors in one layer of any architecture.
pub const MAX_LAYER_TENSORS: usize = 22;

macro_rules! tensor {
    ($name:literal, [$($dim:ident),*], $kind:ident) => {
        tensor!($name, [$($dim),*], $kind, When::Always)
    };
    ($name:literal, [$($dim:ident),*], $kind:ident, $when:expr) => {
        TensorDef { name: $name, shape: &[$(Dim::$dim),*], kind: Kind::$kind, when: $when }
    };
}

/// BERT (`BertModel`, `BertForSequenceClassification`, `BertForMaskedLM`).
pub const BERT: Schema = Schema {
    arch: Arch::Bert,
    hf_prefix: "bert.",
    layer_prefix: "encoder.layer.",
    before_layers: 5,
    globals: &[
        tensor!("embeddings.word_embeddings.weight", [Vocab, Hidden], Matrix),
        tensor!("embeddings.position_embeddings.weight", [MaxPosition, Hidden], Matrix),
        tensor!("embeddings.token_type_embeddings.weight", [TypeVocab, Hidden], Matrix),
        tensor!("embeddings.LayerNorm.weight", [Hidden], Vector),
        tensor!("embeddings.LayerNorm.bias", [Hidden], Vector),
        tensor!("pooler.dense.weight", [Hidden, Hidden], Matrix, When::Pooler),
        tensor!("pooler.dense.bias", [Hidden], Vector, When::Pooler),
        tensor!("classifier.weight", [Labels, Hidden], Matrix, When::Task(Task::Classification)),
        tensor!("classifier.bias", [Labels], Vector, When::Task(Task::Classification)),
        // the lexicon gate: max * sigmoid(weight . pooled + bias) weighs VADER's score (`lexicon`);
        // `max` is no checkpoint tensor: the tool writes it from config.json's lexicon_gate_max
        tensor!("lexicon_gate.weight", [One, Hidden], Matrix, When::LexiconGate),
        tensor!("lexicon_gate.bias", [One], Vector, When::LexiconGate),
        tensor!("lexicon_gate.max", [One], Vector, When::LexiconGate),
        tensor!(
            "cls.predictions.transform.dense.weight",
            [Hidden, Hidden],
            Matrix,
            When::Task(Task::MaskedLm)
        ),
        tensor!("cls.predictions.transform.dense.bias", [Hidden], Vector, When::Task(Task::MaskedLm)),
        tensor!("cls.predictions.transform.LayerNorm.weight", [Hidden], Vector, When::Task(Task::MaskedLm)),
        tensor!("cls.predictions.transform.LayerNorm.bias", [Hidden], Vector, When::Task(Task::MaskedLm)),
        tensor!(
            "cls.predictions.decoder.weight",
            [Vocab, Hidden],
            Matrix,
            When::TaskIfPresent(Task::MaskedLm)
        ),
        tensor!("cls.predictions.bias", [Vocab], Vector, When::Task(Task::MaskedLm)),
    ],
    layer: &[
        tensor!("attention.self.query.weight", [Hidden, Hidden], Matrix),
        tensor!("attention.self.query.bias", [Hidden], Vector),
        tensor!("attention.self.key.weight", [Hidden, Hidden], Matrix),
        tensor!("attention.self.key.bias", [Hidden], Vector),
        tensor!("attention.self.value.weight", [Hidden, Hidden], Matrix),
        tensor!("attention.self.value.bias", [Hidden], Vector),
        tensor!("attention.output.dense.weight", [Hidden, Hidden], Matrix),
        tensor!("attention.output.dense.bias", [Hidden], Vector),
        tensor!("attention.output.LayerNorm.weight", [Hidden], Vector),
        tensor!("attention.output.LayerNorm.bias", [Hidden], Vector),
        tensor!("intermediate.dense.weight", [Intermediate, Hidden], Matrix),
        tensor!("intermediate.dense.bias", [Intermediate], Vector),
        tensor!("output.dense.weight", [Hidden, Intermediate], Matrix),
        tensor!("output.dense.bias", [Hidden], Vector),
        tensor!("output.LayerNorm.weight", [Hidden], Vector),
        tensor!("output.LayerNorm.bias", [Hidden], Vector),
        // Activation smoothing `[in]`, one per int8 matrix above (see `When::Smoothing`).
        tensor!("attention.self.query.act_smooth", [Hidden], Vector, When::Smoothing),
        tensor!("attention.self.key.act_smooth", [Hidden], Vector, When::Smoothing),
        tensor!("attention.self.value.act_smooth", [Hidden], Vector, When::Smoothing),
        tensor!("attention.output.dense.act_smooth", [Hidden], Vector, When::Smoothing),
        tensor!("intermediate.dense.act_smooth", [Hidden], Vector, When::Smoothing),
        tensor!("output.dense.act_smooth", [Intermediate], Vector, When::Smoothing),
    ],
};

/// Llama family (`LlamaForCausalLM`: SmolLM2, TinyLlama, Llama 2/3 shapes).
pub const LLAMA: Schema = Schema {
    arch: Arch::Llama,
    hf_prefix: "model.",
    layer_prefix: "layers.",
    before_layers: 1,
    globals: &[
        tensor!("embed_tokens.weight", [Vocab, Hidden], Matrix),
        tensor!("norm.weight", [Hidden], Vector),
        tensor!("lm_head.weight", [Vocab, Hidden], Matrix, When::Untied),
    ],
    layer: &[
        tensor!("input_layernorm.weight", [Hidden], Vector),
        tensor!("self_attn.q_proj.weight", [QDim, Hidden], Matrix),
        tensor!("self_attn.k_proj.weight", [KvDim, Hidden], Matrix),
        tensor!("self_attn.v_proj.weight", [KvDim, Hidden], Matrix),
        tensor!("self_attn.o_proj.weight", [Hidden, QDim], Matrix),
        tensor!("post_attention_layernorm.weight", [Hidden], Vector),
        tensor!("mlp.gate_proj.weight", [Intermediate, Hidden], Matrix),
        tensor!("mlp.up_proj.weight", [Intermediate, Hidden], Matrix),
        tensor!("mlp.down_proj.weight", [Hidden, Intermediate], Matrix),
    ],
};

/// GPT-2 (`GPT2LMHeadModel`; the LM head is the token embedding matrix).
pub const GPT2: Schema = Schema {
    arch: Arch::Gpt2,
    hf_prefix: "transformer.",
    layer_prefix: "h.",
    before_layers: 2,
    globals: &[
        tensor!("wte.weight", [Vocab, Hidden], Matrix),
        tensor!("wpe.weight", [MaxPosition, Hidden], Matrix),
        tensor!("ln_f.weight", [Hidden], Vector),
        tensor!("ln_f.bias", [Hidden], Vector),
    ],
    layer: &[
        tensor!("ln_1.weight", [Hidden], Vector),
        tensor!("ln_1.bias", [Hidden], Vector),
        tensor!("attn.c_attn.weight", [Qkv, Hidden], Matrix),
        tensor!("attn.c_attn.bias", [Qkv], Vector),
        tensor!("attn.c_proj.weight", [Hidden, QDim], Matrix),
        tensor!("attn.c_proj.bias", [Hidden], Vector),
        tensor!("ln_2.weight", [Hidden], Vector),
        tensor!("ln_2.bias", [Hidden], Vector),
        tensor!("mlp.c_fc.weight", [Intermediate, Hidden], Matrix),
        tensor!("mlp.c_fc.bias", [Intermediate], Vector),
        tensor!("mlp.c_proj.weight", [Hidden, Intermediate], Matrix),
        tensor!("mlp.c_proj.bias", [Hidden], Vector),
    ],
};

impl Schema {
    /// The input token-embedding table (a row per vocabulary entry, read one row per token; GPT-2's
    /// doubles as its LM head): the first global of shape `[Vocab, Hidden]`.
    pub fn token_embeddings(&self) -> Option<&'static TensorDef> {
        self.globals.iter().find(|d| matches!(d.shape, [Dim::Vocab, Dim::Hidden]))
    }

    /// Every tensor of a model with `n_layers` layers, in blob order: the globals before the
    /// layers, each layer, the globals after them (the tool writes this order).
    pub fn blob_order(&self, n_layers: usize) -> impl Iterator<Item = (Scope, &'static TensorDef)> + '_ {
        let (before, after) = self.globals.split_at(self.before_layers.min(self.globals.len()));
        let layer = self.layer;
        let layers = (0..n_layers).flat_map(move |l| layer.iter().map(move |d| (Scope::Layer(l), d)));
        before
            .iter()
            .map(|d| (Scope::Global, d))
            .chain(layers)
            .chain(after.iter().map(|d| (Scope::Global, d)))
    }

    /// The section name of `def` in `scope`.
    #[cfg(feature = "std")]
    pub fn section_name(&self, scope: Scope, def: &TensorDef) -> alloc::string::String {
        match scope {
            Scope::Global => def.name.into(),
            Scope::Layer(l) => alloc::format!("{}{l}.{}", self.layer_prefix, def.name),
        }
    }
}

/// Every architecture's schema.
pub const SCHEMAS: [&Schema; 3] = [&BERT, &LLAMA, &GPT2];

/// The schema of `arch`.
pub fn schema(arch: Arch) -> &'static Schema {
    match arch {
        Arch::Bert => &BERT,
        Arch::Llama => &LLAMA,
        Arch::Gpt2 => &GPT2,
    }
}

/// The sizes a header gives the [`Dim`]s, and what decides [`When`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dims {
    /// [`Dim::Vocab`].
    pub vocab: usize,
    /// [`Dim::Hidden`].
    pub hidden: usize,
    /// [`Dim::Intermediate`].
    pub intermediate: usize,
    /// [`Dim::MaxPosition`].
    pub max_position: usize,
    /// [`Dim::TypeVocab`].
    pub type_vocab: usize,
    /// [`Dim::Labels`].
    pub labels: usize,
    /// [`Dim::QDim`].
    pub q_dim: usize,
    /// [`Dim::KvDim`].
    pub kv_dim: usize,
    /// The model's task.
    pub task: Task,
    /// BERT's pooler is present.
    pub pooler: bool,
    /// The LM head is tied to the token embeddings.
    pub tied_head: bool,
    /// The classifier has a lexicon gate.
    pub lexicon_gate: bool,
}

impl Dims {
    /// The dimensions of a validated header.
    pub fn from_header(h: &Header) -> Dims {
        let t = &h.task_params;
        let (labels, task, pooler, lexicon_gate) =
            (t.n_labels as usize, h.task, t.has_pooler, t.lexicon_gate);
        match &h.params {
            ArchParams::Bert(p) => Dims {
                vocab: p.vocab_size as usize,
                hidden: p.hidden as usize,
                intermediate: p.intermediate as usize,
                max_position: p.max_position as usize,
                type_vocab: p.type_vocab_size as usize,
                labels,
                q_dim: p.hidden as usize,
                kv_dim: p.hidden as usize,
                task,
                pooler,
                tied_head: true,
                lexicon_gate,
            },
            ArchParams::Decoder(p) => Dims {
                vocab: p.vocab_size as usize,
                hidden: p.hidden as usize,
                intermediate: p.intermediate as usize,
                max_position: p.max_position as usize,
                type_vocab: 0,
                labels,
                q_dim: (p.n_heads * p.head_dim) as usize,
                kv_dim: (p.n_kv_heads * p.head_dim) as usize,
                task,
                pooler,
                tied_head: p.tied_head,
                lexicon_gate,
            },
        }
    }

    /// The size of `d`.
    pub fn size(&self, d: Dim) -> usize {
        match d {
            Dim::Vocab => self.vocab,
            Dim::Hidden => self.hidden,
            Dim::Intermediate => self.intermediate,
            Dim::MaxPosition => self.max_position,
            Dim::TypeVocab => self.type_vocab,
            Dim::Labels => self.labels,
            Dim::QDim => self.q_dim,
            Dim::KvDim => self.kv_dim,
            Dim::Qkv => self.q_dim + 2 * self.kv_dim,
            Dim::One => 1,
        }
    }

    /// `def`'s shape: `(rows, cols)` of a matrix, `(len, 1)` of a vector.
    pub fn shape(&self, def: &TensorDef) -> (usize, usize) {
        let mut it = def.shape.iter().map(|&d| self.size(d));
        (it.next().unwrap_or(0), it.next().unwrap_or(1))
    }

    /// Whether `def` must be in the blob (`Some(true)`), may be (`Some(false)`), or is not used
    /// (`None`).
    pub fn required(&self, def: &TensorDef) -> Option<bool> {
        match def.when {
            When::Always => Some(true),
            When::Pooler => self.pooler.then_some(true),
            When::Task(t) => (self.task == t).then_some(true),
            When::TaskIfPresent(t) => (self.task == t).then_some(false),
            When::Untied => (!self.tied_head).then_some(true),
            When::LexiconGate => self.lexicon_gate.then_some(true),
            When::Smoothing => Some(false),
        }
    }
}

/// Where a tensor sits: outside the layers or in layer `l`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// A global tensor.
    Global,
    /// A tensor of layer `l`.
    Layer(usize),
}

/// Finds `def` in `blob` and checks its dtype and shape: its section index, or `None` for an
/// absent optional (or unused) tensor. `MissingSection` / `ShapeMismatch` name the section.
pub fn find(
    blob: &Blob<'_>,
    schema: &Schema,
    dims: &Dims,
    scope: Scope,
    def: &TensorDef,
) -> Result<Option<u16>> {
    let Some(required) = dims.required(def) else {
        return Ok(None);
    };
    let (prefix, layer) = match scope {
        Scope::Global => ("", None),
        Scope::Layer(l) => (schema.layer_prefix, Some(l.min(u16::MAX as usize) as u16)),
    };
    let mut name: heapless::String<128> = heapless::String::new();
    let named = match layer {
        Some(l) => core::fmt::write(&mut name, format_args!("{prefix}{l}.{}", def.name)).is_ok(),
        None => name.push_str(def.name).is_ok(),
    };
    let found = if named { blob.section(&name) } else { None };
    let Some((index, s)) = found else {
        return match required {
            true => Err(Error::MissingSection { prefix, layer, name: def.name }),
            false => Ok(None),
        };
    };
    let (rows, cols) = dims.shape(def);
    let ok = match def.kind {
        Kind::Matrix => {
            matches!(s.dtype, DType::F32 | DType::F16 | DType::I8Row | DType::I4 { .. })
                && s.ndim == 2
                && (s.rows(), s.cols()) == (rows, cols)
        }
        Kind::Vector => s.dtype == DType::F32 && s.ndim == 1 && s.rows() == rows,
    };
    if !ok {
        return Err(Error::ShapeMismatch { prefix, layer, name: def.name });
    }
    Ok(Some(index))
}

/// The section indices of one layer, in [`Schema::layer`] order.
pub fn find_layer(
    blob: &Blob<'_>,
    schema: &Schema,
    dims: &Dims,
    l: usize,
) -> Result<[u16; MAX_LAYER_TENSORS]> {
    let mut ix = [u16::MAX; MAX_LAYER_TENSORS];
    for (slot, def) in ix.iter_mut().zip(schema.layer) {
        if let Some(i) = find(blob, schema, dims, Scope::Layer(l), def)? {
            *slot = i;
        }
    }
    Ok(ix)
}

/// Position of the tensor called `name` in `list`; a compile-time error when used in a `const`
/// and there is no such tensor. Lets views read indices by name.
pub const fn index_of(list: &[TensorDef], name: &str) -> usize {
    let mut i = 0;
    while i < list.len() {
        if str_eq(list[i].name, name) {
            return i;
        }
        i += 1;
    }
    panic!("no tensor of that name in the schema")
}

const fn str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// Checks that every value of the tensors found at `ix` (in `defs` order, `u16::MAX` for absent
/// ones) is finite: f32 and f16 values, the scales of int8 matrices, the scales and offsets of int4
/// ones (their integer values cannot be anything else). `NonFinite` names the first offender.
/// Reads every f32/f16 value, so it costs one pass over a float blob; for int8/int4 blobs only
/// the scales and the 1-D tensors.
pub fn check_finite(
    blob: &Blob<'_>,
    schema: &Schema,
    scope: Scope,
    defs: &[TensorDef],
    ix: &[u16],
) -> Result<()> {
    use crate::model::views::{matrix, vector};
    use crate::quant::MatrixData;
    for (def, &i) in defs.iter().zip(ix).filter(|(_, &i)| i != u16::MAX) {
        let finite = match def.kind {
            Kind::Vector => vector(blob, i).iter().all(|v| v.is_finite()),
            Kind::Matrix => match matrix(blob, i).data {
                MatrixData::F32(v) => v.iter().all(|v| v.is_finite()),
                MatrixData::F16(v) => v.iter().all(|v| v.is_finite()),
                MatrixData::I8 { scales, .. } => scales.iter().all(|v| v.is_finite()),
                MatrixData::I4 { scales, mins, .. } => scales.iter().chain(mins).all(|v| v.is_finite()),
            },
        };
        if !finite {
            let (prefix, layer) = match scope {
                Scope::Global => ("", None),
                Scope::Layer(l) => (schema.layer_prefix, Some(l.min(u16::MAX as usize) as u16)),
            };
            return Err(Error::NonFinite { prefix, layer, name: def.name });
        }
    }
    Ok(())
}

/// Most tensors outside the layers in any architecture.
pub const MAX_GLOBAL_TENSORS: usize = 20;

/// The section indices of the global tensors, in [`Schema::globals`] order (`u16::MAX` for an
/// absent optional tensor).
pub fn find_globals(blob: &Blob<'_>, schema: &Schema, dims: &Dims) -> Result<[u16; MAX_GLOBAL_TENSORS]> {
    let mut ix = [u16::MAX; MAX_GLOBAL_TENSORS];
    for (slot, def) in ix.iter_mut().zip(schema.globals) {
        if let Some(i) = find(blob, schema, dims, Scope::Global, def)? {
            *slot = i;
        }
    }
    Ok(ix)
}
