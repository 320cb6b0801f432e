//! A BERT model borrowed from a validated blob: configuration, weight indices, tokenizer, labels.

use super::config::{BertConfig, MAX_LAYERS};
use super::options::SessionOptions;
use super::state::Plan;
use super::weights::{self, find, find_in_layer, layer_wants, Linear, Norm, Want};
use crate::format::{Arch, Blob, Pooling, Task};
use crate::quant::Matrix;
use crate::tokenizer::{Vocab, WordPiece, WordPieceConfig};
use crate::{Error, Result};

const OUTSIDE: u16 = u16::MAX;

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

/// The task head of a model.
#[derive(Debug, Clone, Copy)]
pub enum Head<'a> {
    /// No head: embeddings only.
    None,
    /// Sequence classification: logits = classifier(pooler(h_cls)).
    Classifier(Linear<'a>),
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
    layers: heapless::Vec<[u16; 16], MAX_LAYERS>,
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
            return Err(Error::UnsupportedArch(1));
        }
        let config = BertConfig::from_header(&h);
        if config.n_layers > MAX_LAYERS {
            return Err(Error::BadHeader { field: 56 });
        }
        let embeddings = load_embeddings(&blob, &config)?;
        let mut layers = heapless::Vec::new();
        let wants = layer_wants(&config);
        for l in 0..config.n_layers {
            let mut ix = [0u16; 16];
            for (t, want) in wants.iter().enumerate() {
                ix[t] = find_in_layer(&blob, l, t, *want)?;
            }
            layers.push(ix).map_err(|_| Error::BadHeader { field: 56 })?;
        }
        let hd = config.hidden;
        let pooler = match h.task_params.has_pooler {
            true => Some(linear(&blob, "pooler.dense", hd, hd, 0)?),
            false => None,
        };
        let head = match h.task {
            Task::Embedding => Head::None,
            Task::Classification => Head::Classifier(linear(&blob, "classifier", config.n_labels, hd, 2)?),
            Task::MaskedLm => Head::Mlm(load_mlm(&blob, &config, embeddings.word)?),
        };
        let tokenizer = load_tokenizer(&blob)?;
        if tokenizer.vocab().len() != config.vocab_size {
            return Err(Error::BadVocab);
        }
        let labels = match h.task {
            Task::Classification => Some(load_labels(&blob, config.n_labels)?),
            _ => None,
        };
        Ok(Bert { blob, config, embeddings, layers, pooler, head, tokenizer, labels })
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
        let plan = self.plan(opts)?;
        plan.bytes().ok_or(Error::ArenaTooSmall { needed: usize::MAX, got: 0 })
    }

    pub(crate) fn plan(&self, opts: &SessionOptions) -> Result<Plan> {
        let (max_seq, chunk, max) = (opts.max_seq, opts.chunk, self.config.max_position);
        if !(2..=max).contains(&max_seq) {
            return Err(Error::BadSequenceLength { asked: max_seq, max });
        }
        if chunk == 0 || chunk > max_seq {
            return Err(Error::BadSequenceLength { asked: chunk, max: max_seq });
        }
        let out = match self.head {
            Head::None => 0,
            Head::Classifier(_) => 2 * self.config.n_labels,
            Head::Mlm(_) => self.config.vocab_size,
        };
        Ok(Plan::new(&self.config, out, opts))
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

    pub(crate) fn head(&self) -> &Head<'a> {
        &self.head
    }
}

fn linear<'a>(blob: &Blob<'a>, prefix: &str, rows: usize, cols: usize, t: u16) -> Result<Linear<'a>> {
    let mut w: heapless::String<64> = heapless::String::new();
    let mut b: heapless::String<64> = heapless::String::new();
    let ok = w.push_str(prefix).and(w.push_str(".weight")).and(b.push_str(prefix)).and(b.push_str(".bias"));
    ok.map_err(|_| Error::MissingSection { layer: OUTSIDE, tensor: t })?;
    let wi = find(blob, &w, Want::Mat(rows, cols), OUTSIDE, t)?;
    let bi = find(blob, &b, Want::Vec(rows), OUTSIDE, t + 1)?;
    Ok(Linear { w: weights::matrix(blob, wi), b: weights::vector(blob, bi) })
}

fn norm<'a>(blob: &Blob<'a>, w: &str, b: &str, n: usize, t: u16) -> Result<Norm<'a>> {
    let wi = find(blob, w, Want::Vec(n), OUTSIDE, t)?;
    let bi = find(blob, b, Want::Vec(n), OUTSIDE, t + 1)?;
    Ok(Norm { weight: weights::vector(blob, wi), bias: weights::vector(blob, bi) })
}

fn load_embeddings<'a>(blob: &Blob<'a>, c: &BertConfig) -> Result<Embeddings<'a>> {
    let h = c.hidden;
    let mat =
        |name, rows, t| find(blob, name, Want::Mat(rows, h), OUTSIDE, t).map(|i| weights::matrix(blob, i));
    Ok(Embeddings {
        word: mat("embeddings.word_embeddings.weight", c.vocab_size, 10)?,
        position: mat("embeddings.position_embeddings.weight", c.max_position, 11)?,
        token_type: mat("embeddings.token_type_embeddings.weight", c.type_vocab_size, 12)?,
        norm: norm(blob, "embeddings.LayerNorm.weight", "embeddings.LayerNorm.bias", h, 13)?,
    })
}

fn load_mlm<'a>(blob: &Blob<'a>, c: &BertConfig, word: Matrix<'a>) -> Result<MlmHead<'a>> {
    let h = c.hidden;
    let transform = linear(blob, "cls.predictions.transform.dense", h, h, 20)?;
    let norm = norm(
        blob,
        "cls.predictions.transform.LayerNorm.weight",
        "cls.predictions.transform.LayerNorm.bias",
        h,
        22,
    )?;
    let w = match blob.section("cls.predictions.decoder.weight") {
        Some(_) => {
            let i = find(blob, "cls.predictions.decoder.weight", Want::Mat(c.vocab_size, h), OUTSIDE, 24)?;
            weights::matrix(blob, i)
        }
        None => word,
    };
    let bi = find(blob, "cls.predictions.bias", Want::Vec(c.vocab_size), OUTSIDE, 25)?;
    Ok(MlmHead { transform, norm, decoder: Linear { w, b: weights::vector(blob, bi) } })
}

fn plane_u32<'a>(blob: &Blob<'a>, name: &str) -> Result<&'a [u32]> {
    let (i, s) = blob.section(name).ok_or(Error::BadVocab)?;
    blob.u32s(i, &s)
}

fn plane_u8<'a>(blob: &Blob<'a>, name: &str) -> Result<&'a [u8]> {
    let (i, s) = blob.section(name).ok_or(Error::BadVocab)?;
    blob.u8s(i, &s)
}

fn load_tokenizer<'a>(blob: &Blob<'a>) -> Result<WordPiece<'a>> {
    let vocab = Vocab::new(
        plane_u8(blob, "tokenizer.vocab.strings")?,
        plane_u32(blob, "tokenizer.vocab.offsets")?,
        plane_u32(blob, "tokenizer.vocab.sorted")?,
    )?;
    let t = blob.header().tokenizer;
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
}

fn load_labels<'a>(blob: &Blob<'a>, n: usize) -> Result<(&'a [u8], &'a [u32])> {
    let strings = plane_u8(blob, "task.labels.strings")?;
    let offsets = plane_u32(blob, "task.labels.offsets")?;
    let ok = offsets.len() == n + 1
        && offsets.first() == Some(&0)
        && offsets.windows(2).all(|w| w[0] <= w[1])
        && offsets.last().map(|&e| e as usize) == Some(strings.len())
        && offsets.windows(2).all(|w| core::str::from_utf8(&strings[w[0] as usize..w[1] as usize]).is_ok());
    if !ok {
        return Err(Error::BadVocab);
    }
    Ok((strings, offsets))
}
