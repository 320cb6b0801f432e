//! A BERT model borrowed from a validated blob: configuration, weight indices, tokenizer, labels.

use super::arena::State;
use super::config::{BertConfig, MAX_LAYERS};
use super::weights;
use crate::format::{Arch, Blob, Pooling, Task, TokenizerParams};
use crate::lexicon::{self, Lexicon};
use crate::model::arena;
use crate::model::ops::linear::{Linear, Norm};
use crate::model::options::SessionOptions;
use crate::model::schema::{self, find_globals, find_layer, index_of, Dims, BERT, MAX_LAYER_TENSORS};
use crate::model::views::{matrix, vector};
use crate::quant::Matrix;
use crate::tokenizer::{Vocab, WordPiece, WordPieceConfig};
use crate::{Error, Result};

/// Embedding tables and their LayerNorm.
#[derive(Debug, Clone, Copy)]
pub struct Embeddings<'a> {
    /// Word embeddings `[vocab, H]` (also the tied MLM decoder).
    pub word: Matrix<'a>,
    /// Position embeddings `[max_position, H]`.
    pub position: Matrix<'a>,
    /// Token-type embeddings `[type_vocab, H]`.
    pub token_type: Matrix<'a>,
    /// LayerNorm over their sum.
    pub norm: Norm<'a>,
}

/// The masked-LM head (`cls.predictions`).
#[derive(Debug, Clone, Copy)]
pub struct MlmHead<'a> {
    /// Transform dense `[H, H]`.
    pub transform: Linear<'a>,
    /// Transform LayerNorm.
    pub norm: Norm<'a>,
    /// Decoder `[vocab, H]` (the word embeddings when tied) with bias `[vocab]`.
    pub decoder: Linear<'a>,
}

/// VADER's compound score weighed into a two-label classifier's margin (header task flag
/// `lexicon_gate`): `margin += max * sigmoid(gate . pooled + bias) * compound(text)`, the
/// logits moving by -/+ half of it.
#[derive(Debug, Clone, Copy)]
pub struct LexiconGate<'a> {
    /// `lexicon_gate.weight` `[1, H]` and `.bias` `[1]`.
    pub gate: Linear<'a>,
    /// `lexicon_gate.max`: the gate's upper bound, finite and > 0.
    pub max: f32,
    /// VADER's lexicon (`lexicon.*`).
    pub lexicon: Lexicon<'a>,
}

/// The task head of a model.
#[derive(Debug, Clone, Copy)]
pub enum Head<'a> {
    /// No head: embeddings only.
    None,
    /// Sequence classification: logits = classifier(pooler(h_cls)), plus the lexicon gate's
    /// term when the blob has one.
    Classifier(Linear<'a>, Option<LexiconGate<'a>>),
    /// Masked-word prediction.
    Mlm(MlmHead<'a>),
}

/// A BERT encoder with its tokenizer and head, ready to run. Cheap to copy around? No: it holds the
/// weight indices of up to 64 layers (2 KiB); keep one and borrow it.
#[derive(Debug, Clone)]
pub struct Bert<'a> {
    blob: Blob<'a>,
    config: BertConfig,
    embeddings: Embeddings<'a>,
    layers: heapless::Vec<[u16; MAX_LAYER_TENSORS], MAX_LAYERS>,
    pooler: Option<Linear<'a>>,
    head: Head<'a>,
    tokenizer: WordPiece<'a>,
    labels: Option<(&'a [u8], &'a [u32])>,
}

impl<'a> Bert<'a> {
    /// Parses and validates a blob, then finds and checks every tensor the model needs.
    /// All validation happens here; running the model afterwards cannot fail on the blob.
    pub fn from_bytes(bytes: &'a [u8]) -> Result<Bert<'a>> {
        Bert::from_blob(Blob::parse(bytes)?)
    }

    /// As [`Bert::from_bytes`], from an already parsed blob.
    pub fn from_blob(blob: Blob<'a>) -> Result<Bert<'a>> {
        let h = *blob.header();
        if h.arch != Arch::Bert {
            return Err(Error::UnsupportedArch(h.arch.code()));
        }
        let config = BertConfig::from_header(&h).ok_or(Error::UnsupportedArch(h.arch.code()))?;
        let dims = Dims::from_header(&h);
        let ix = find_globals(&blob, &BERT, &dims)?;
        let mut layers = heapless::Vec::new();
        for l in 0..config.n_layers {
            let found = find_layer(&blob, &BERT, &dims, l)?;
            weights::check_smoothing(&blob, &found, l)?;
            layers.push(found).map_err(|_| Error::BadHeader { field: "n_layers" })?;
        }
        let lin = |w: usize, b: usize| Linear::new(matrix(&blob, ix[w]), vector(&blob, ix[b]));
        let norm = |w: usize, b: usize| Norm { weight: vector(&blob, ix[w]), bias: vector(&blob, ix[b]) };
        let embeddings = Embeddings {
            word: matrix(&blob, ix[WORD]),
            position: matrix(&blob, ix[POSITION]),
            token_type: matrix(&blob, ix[TOKEN_TYPE]),
            norm: norm(EMB_NORM_W, EMB_NORM_B),
        };
        let pooler = h.task_params.has_pooler.then(|| lin(POOLER_W, POOLER_B));
        let head = match h.task {
            Task::Classification => {
                let gate = match h.task_params.lexicon_gate {
                    true => Some(load_gate(&blob, lin(GATE_W, GATE_B), vector(&blob, ix[GATE_MAX]))?),
                    false => None,
                };
                Head::Classifier(lin(CLASSIFIER_W, CLASSIFIER_B), gate)
            }
            Task::MaskedLm => {
                let tied = ix[MLM_DECODER_W] == u16::MAX;
                let decoder_w = if tied { embeddings.word } else { matrix(&blob, ix[MLM_DECODER_W]) };
                Head::Mlm(MlmHead {
                    transform: lin(MLM_DENSE_W, MLM_DENSE_B),
                    norm: norm(MLM_NORM_W, MLM_NORM_B),
                    decoder: Linear::new(decoder_w, vector(&blob, ix[MLM_BIAS])),
                })
            }
            _ => Head::None,
        };
        let tokenizer = load_tokenizer(&blob)?;
        if tokenizer.vocab().len() != config.vocab_size {
            return Err(Error::BadTable { name: VOCAB });
        }
        let labels = match h.task {
            Task::Classification => Some(load_labels(&blob, config.n_labels)?),
            _ => None,
        };
        Ok(Bert { blob, config, embeddings, layers, pooler, head, tokenizer, labels })
    }

    /// Checks that every weight, bias and scale is finite (NaN or infinity would give NaN outputs):
    /// `NonFinite` names the tensor. Not part of [`Bert::from_bytes`] because it reads every float
    /// of the blob (for an int8 blob only the scales and the 1-D tensors, a few percent of it);
    /// call it once after loading a blob that did not come from a trusted build. The host tool
    /// calls it before every command.
    pub fn check_finite(&self) -> Result<()> {
        let dims = Dims::from_header(self.blob.header());
        let g = find_globals(&self.blob, &BERT, &dims)?;
        schema::check_finite(&self.blob, &BERT, schema::Scope::Global, BERT.globals, &g)?;
        for (l, ix) in self.layers.iter().enumerate() {
            schema::check_finite(&self.blob, &BERT, schema::Scope::Layer(l), BERT.layer, ix)?;
        }
        Ok(())
    }

    /// Hyper-parameters.
    pub fn config(&self) -> &BertConfig {
        &self.config
    }

    /// The parsed blob (header, sections).
    pub fn blob(&self) -> &Blob<'a> {
        &self.blob
    }

    /// The task of the model's head.
    pub fn task(&self) -> Task {
        self.blob.header().task
    }

    /// Default pooling for embeddings.
    pub fn pooling(&self) -> Pooling {
        self.blob.header().task_params.pooling
    }

    /// Whether embeddings are L2-normalized by default.
    pub fn normalize(&self) -> bool {
        self.blob.header().task_params.normalize
    }

    /// The maximum sequence length the blob was prepared for.
    pub fn default_max_seq(&self) -> usize {
        self.blob.header().task_params.default_max_seq as usize
    }

    /// The tokenizer.
    pub fn tokenizer(&self) -> &WordPiece<'a> {
        &self.tokenizer
    }

    /// Number of class labels (0 unless a classifier).
    pub fn n_labels(&self) -> usize {
        self.config.n_labels
    }

    /// Name of class label `i`.
    pub fn label(&self, i: usize) -> Option<&'a str> {
        let (strings, offsets) = self.labels?;
        let (lo, hi) = (*offsets.get(i)? as usize, *offsets.get(i + 1)? as usize);
        core::str::from_utf8(strings.get(lo..hi)?).ok()
    }

    /// Arena bytes needed to run sequences of up to `max_seq` tokens, all rows at once (fastest).
    /// Exact for an arena starting on a 32-byte boundary; up to 31 bytes more otherwise.
    pub fn arena_len(&self, max_seq: usize) -> Result<usize> {
        self.arena_len_with(&SessionOptions::new(max_seq))
    }

    /// Arena bytes when the encoder processes `chunk` rows at a time (less RAM, a little slower).
    pub fn arena_len_chunked(&self, max_seq: usize, chunk: usize) -> Result<usize> {
        self.arena_len_with(&SessionOptions::new(max_seq).with_chunk(chunk))
    }

    /// Arena bytes for a session with `opts` (see [`Session::with_options`](super::Session::with_options)):
    /// exact for an arena starting on a 32-byte boundary, up to 31 bytes more otherwise.
    /// `BadSequenceLength` unless `2 <= max_seq <= max_position` and `1 <= chunk <= max_seq`.
    pub fn arena_len_with(&self, opts: &SessionOptions) -> Result<usize> {
        self.check(opts)?;
        arena::measure(|c| State::layout(c, self, opts))
    }

    /// Checks `opts` against the model (`BadSequenceLength` unless `2 <= max_seq <= max_position`
    /// and `1 <= chunk <= max_seq`).
    pub(crate) fn check(&self, opts: &SessionOptions) -> Result<()> {
        let (max_seq, chunk, max) = (opts.max_seq, opts.chunk, self.config.max_position);
        if !(2..=max).contains(&max_seq) {
            return Err(Error::BadSequenceLength { asked: max_seq, max });
        }
        if chunk == 0 || chunk > max_seq {
            return Err(Error::BadSequenceLength { asked: chunk, max: max_seq });
        }
        Ok(())
    }

    /// Outputs of the head: logits and probabilities of a classifier, vocabulary logits of a
    /// masked LM.
    pub(crate) fn head_outputs(&self) -> usize {
        match self.head {
            Head::None => 0,
            Head::Classifier(..) => 2 * self.config.n_labels,
            Head::Mlm(_) => self.config.vocab_size,
        }
    }

    pub(crate) fn embeddings(&self) -> &Embeddings<'a> {
        &self.embeddings
    }

    pub(crate) fn layer(&self, l: usize) -> Option<weights::LayerWeights<'a>> {
        self.layers.get(l).map(|ix| weights::layer(&self.blob, ix))
    }

    pub(crate) fn pooler(&self) -> Option<&Linear<'a>> {
        self.pooler.as_ref()
    }

    /// VADER's lexicon, when the classifier has a lexicon gate (for [`crate::lexicon::compound`]).
    pub fn lexicon(&self) -> Option<&Lexicon<'a>> {
        match &self.head {
            Head::Classifier(_, Some(g)) => Some(&g.lexicon),
            _ => None,
        }
    }

    pub(crate) fn head(&self) -> &Head<'a> {
        &self.head
    }
}

const G: &[schema::TensorDef] = BERT.globals;
const WORD: usize = index_of(G, "embeddings.word_embeddings.weight");
const POSITION: usize = index_of(G, "embeddings.position_embeddings.weight");
const TOKEN_TYPE: usize = index_of(G, "embeddings.token_type_embeddings.weight");
const EMB_NORM_W: usize = index_of(G, "embeddings.LayerNorm.weight");
const EMB_NORM_B: usize = index_of(G, "embeddings.LayerNorm.bias");
const POOLER_W: usize = index_of(G, "pooler.dense.weight");
const POOLER_B: usize = index_of(G, "pooler.dense.bias");
const CLASSIFIER_W: usize = index_of(G, "classifier.weight");
const CLASSIFIER_B: usize = index_of(G, "classifier.bias");
const GATE_W: usize = index_of(G, "lexicon_gate.weight");
const GATE_B: usize = index_of(G, "lexicon_gate.bias");
const GATE_MAX: usize = index_of(G, "lexicon_gate.max");
const MLM_DENSE_W: usize = index_of(G, "cls.predictions.transform.dense.weight");
const MLM_DENSE_B: usize = index_of(G, "cls.predictions.transform.dense.bias");
const MLM_NORM_W: usize = index_of(G, "cls.predictions.transform.LayerNorm.weight");
const MLM_NORM_B: usize = index_of(G, "cls.predictions.transform.LayerNorm.bias");
const MLM_DECODER_W: usize = index_of(G, "cls.predictions.decoder.weight");
const MLM_BIAS: usize = index_of(G, "cls.predictions.bias");

/// Section `name` of table `table` as `u32`s; `BadTable { name: table }` when it is absent or not
/// `u32`s.
fn plane_u32<'a>(blob: &Blob<'a>, table: &'static str, name: &str) -> Result<&'a [u32]> {
    let plane = blob.section(name).and_then(|(i, s)| blob.u32s(i, &s).ok());
    plane.ok_or(Error::BadTable { name: table })
}

/// As [`plane_u32`], for a byte plane.
fn plane_u8<'a>(blob: &Blob<'a>, table: &'static str, name: &str) -> Result<&'a [u8]> {
    let plane = blob.section(name).and_then(|(i, s)| blob.u8s(i, &s).ok());
    plane.ok_or(Error::BadTable { name: table })
}

/// The lexicon gate: its table checked once, its bound finite and positive.
fn load_gate<'a>(blob: &Blob<'a>, gate: Linear<'a>, max: &[f32]) -> Result<LexiconGate<'a>> {
    let table = lexicon::TABLE;
    let lexicon =
        Lexicon::new(plane_u8(blob, table, lexicon::WORDS)?, plane_u32(blob, table, lexicon::BLOCKS)?)?;
    match max.first() {
        Some(&max) if max.is_finite() && max > 0.0 => Ok(LexiconGate { gate, max, lexicon }),
        Some(&max) if max.is_finite() => Err(Error::BadTable { name: "lexicon_gate" }),
        _ => Err(Error::NonFinite { prefix: "", layer: None, name: "lexicon_gate.max" }),
    }
}

const VOCAB: &str = "tokenizer.vocab";
const LABELS: &str = "task.labels";

fn load_tokenizer<'a>(blob: &Blob<'a>) -> Result<WordPiece<'a>> {
    let bad = |e| if e == Error::BadVocab { Error::BadTable { name: VOCAB } } else { e };
    let vocab = Vocab::new(
        plane_u8(blob, VOCAB, "tokenizer.vocab.strings")?,
        plane_u32(blob, VOCAB, "tokenizer.vocab.offsets")?,
        plane_u32(blob, VOCAB, "tokenizer.vocab.sorted")?,
    )
    .map_err(bad)?;
    let TokenizerParams::WordPiece(t) = blob.header().tokenizer else {
        return Err(Error::BadHeader { field: "tokenizer_kind" });
    };
    WordPiece::new(
        vocab,
        WordPieceConfig {
            lowercase: t.lowercase,
            strip_accents: t.strip_accents,
            tokenize_cjk: t.tokenize_cjk,
            clean_text: t.clean_text,
            unk: t.unk,
            cls: t.cls,
            sep: t.sep,
            pad: t.pad,
            mask: t.mask,
            max_chars_per_word: t.max_chars_per_word,
        },
    )
    .map_err(bad)
}

fn load_labels<'a>(blob: &Blob<'a>, n: usize) -> Result<(&'a [u8], &'a [u32])> {
    let strings = plane_u8(blob, LABELS, "task.labels.strings")?;
    let offsets = plane_u32(blob, LABELS, "task.labels.offsets")?;
    let ok = offsets.len() == n + 1
        && offsets.first() == Some(&0)
        && offsets.last().map(|&e| e as usize) == Some(strings.len())
        && offsets.windows(2).all(|w| match *w {
            [a, b] => strings.get(a as usize..b as usize).is_some_and(|s| core::str::from_utf8(s).is_ok()),
            _ => false,
        });
    if !ok {
        return Err(Error::BadTable { name: LABELS });
    }
    Ok((strings, offsets))
}
