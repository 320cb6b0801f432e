//! A decoder (Llama family or GPT-2) borrowed from a validated blob: configuration, weight
//! indices, tokenizer.

use super::arena::State;
use super::config::DecoderConfig;
use super::weights::{self, Globals, LayerWeights};
use crate::format::{Blob, TokenizerParams};
use crate::model::arena;
use crate::model::schema::{self, find_globals, find_layer, Dims, MAX_GLOBAL_TENSORS, MAX_LAYER_TENSORS};
use crate::model::{GeneratorOptions, MAX_LAYERS};
use crate::tokenizer::bpe::{Bpe, BpePlanes};
use crate::{Error, Result};

/// A decoder with its tokenizer, ready to generate. Holds the weight indices of up to 64 layers
/// (2 KiB): keep one and borrow it.
#[derive(Debug, Clone)]
pub struct Decoder<'a> {
    blob: Blob<'a>,
    config: DecoderConfig,
    globals: Globals<'a>,
    layers: heapless::Vec<[u16; MAX_LAYER_TENSORS], MAX_LAYERS>,
    tokenizer: Bpe<'a>,
    add_bos: bool,
    chat_ml: bool,
}

impl<'a> Decoder<'a> {
    /// Parses and validates a blob, then finds and checks every tensor and the tokenizer. All
    /// validation happens here; generating afterwards cannot fail on the blob.
    pub fn from_bytes(bytes: &'a [u8]) -> Result<Decoder<'a>> {
        Decoder::from_blob(Blob::parse(bytes)?)
    }

    /// As [`Decoder::from_bytes`], from an already parsed blob.
    pub fn from_blob(blob: Blob<'a>) -> Result<Decoder<'a>> {
        let h = *blob.header();
        let config = DecoderConfig::from_header(&h).ok_or(Error::UnsupportedArch(h.arch.code()))?;
        let TokenizerParams::Bpe(bpe) = h.tokenizer else {
            return Err(Error::BadHeader { field: "tokenizer_kind" });
        };
        if config.n_layers > MAX_LAYERS {
            return Err(Error::BadHeader { field: "n_layers" });
        }
        let schema = schema::schema(h.arch);
        let dims = Dims::from_header(&h);
        let ix: [u16; MAX_GLOBAL_TENSORS] = find_globals(&blob, schema, &dims)?;
        let globals = weights::globals(&blob, h.arch, &ix);
        let mut layers = heapless::Vec::new();
        for l in 0..config.n_layers {
            let found = find_layer(&blob, schema, &dims, l)?;
            layers.push(found).map_err(|_| Error::BadHeader { field: "n_layers" })?;
        }
        let bad = Error::BadTable { name: "tokenizer.bpe" };
        let tokenizer =
            Bpe::new(planes(&blob)?, bpe.config).map_err(|e| if e == Error::BadVocab { bad } else { e })?;
        if tokenizer.n_vocab() != config.vocab_size {
            return Err(bad);
        }
        Ok(Decoder { blob, config, globals, layers, tokenizer, add_bos: bpe.add_bos, chat_ml: bpe.chat_ml })
    }

    /// Checks that every weight, norm and scale is finite: `NonFinite` names the tensor (see
    /// [`Bert::check_finite`](crate::Bert::check_finite) for when to call it).
    pub fn check_finite(&self) -> Result<()> {
        let h = self.blob.header();
        let (schema, dims) = (schema::schema(h.arch), Dims::from_header(h));
        let g = find_globals(&self.blob, schema, &dims)?;
        schema::check_finite(&self.blob, schema, schema::Scope::Global, schema.globals, &g)?;
        for (l, ix) in self.layers.iter().enumerate() {
            schema::check_finite(&self.blob, schema, schema::Scope::Layer(l), schema.layer, ix)?;
        }
        Ok(())
    }

    /// Hyper-parameters.
    pub fn config(&self) -> &DecoderConfig {
        &self.config
    }

    /// The parsed blob (header, sections).
    pub fn blob(&self) -> &Blob<'a> {
        &self.blob
    }

    /// The tokenizer.
    pub fn tokenizer(&self) -> &Bpe<'a> {
        &self.tokenizer
    }

    /// Beginning-of-sequence id, if the tokenizer has one.
    pub fn bos(&self) -> Option<u32> {
        self.tokenizer.config().bos
    }

    /// End-of-sequence id, if the tokenizer has one: generation stops when it is produced.
    pub fn eos(&self) -> Option<u32> {
        self.tokenizer.config().eos
    }

    /// Whether prompts get `bos` prepended by default.
    pub fn add_bos(&self) -> bool {
        self.add_bos
    }

    /// Whether the model's chat template is ChatML (`<|im_start|>role\n..<|im_end|>\n`).
    pub fn chat_ml(&self) -> bool {
        self.chat_ml
    }

    /// The context length the blob was prepared for.
    pub fn default_context(&self) -> usize {
        self.blob.header().task_params.default_max_seq as usize
    }

    /// Arena bytes a [`Generator`](super::Generator) with `opts` needs: exact for an arena
    /// starting on a 32-byte boundary, up to 31 bytes more otherwise. `BadSequenceLength` unless
    /// `2 <= context <= max_position` and `1 <= chunk <= context`.
    pub fn arena_len(&self, opts: &GeneratorOptions) -> Result<usize> {
        self.check(opts)?;
        arena::measure(|c| State::layout(c, self, opts))
    }

    pub(crate) fn check(&self, opts: &GeneratorOptions) -> Result<()> {
        let (ctx, chunk, max) = (opts.context, opts.chunk, self.config.max_position);
        if !(2..=max).contains(&ctx) {
            return Err(Error::BadSequenceLength { asked: ctx, max });
        }
        if chunk == 0 || chunk > ctx {
            return Err(Error::BadSequenceLength { asked: chunk, max: ctx });
        }
        Ok(())
    }

    pub(crate) fn globals(&self) -> &Globals<'a> {
        &self.globals
    }

    pub(crate) fn layer(&self, l: usize) -> Option<LayerWeights<'a>> {
        self.layers.get(l).map(|ix| weights::layer(&self.blob, self.config.arch, ix))
    }
}

/// The tokenizer planes (`tokenizer.bpe.*`).
fn planes<'a>(blob: &Blob<'a>) -> Result<BpePlanes<'a>> {
    let bad = Error::BadTable { name: "tokenizer.bpe" };
    let u8s = |name: &str| -> Result<&'a [u8]> {
        let (i, s) = blob.section(name).ok_or(bad)?;
        blob.u8s(i, &s).map_err(|_| bad)
    };
    let u32s = |name: &str| -> Result<&'a [u32]> {
        let (i, s) = blob.section(name).ok_or(bad)?;
        blob.u32s(i, &s).map_err(|_| bad)
    };
    // planes a tokenizer may not need (no whole-word table, no added tokens) may be left out
    let or_empty = |r: Result<&'a [u32]>| r.or(Ok::<_, Error>(&[]));
    Ok(BpePlanes {
        token_bytes: u8s("tokenizer.bpe.token_bytes")?,
        token_offsets: u32s("tokenizer.bpe.token_offsets")?,
        merges: u32s("tokenizer.bpe.merges")?,
        byte_ids: u32s("tokenizer.bpe.byte_ids")?,
        sorted: or_empty(u32s("tokenizer.bpe.sorted"))?,
        added_bytes: if blob.section("tokenizer.bpe.added_bytes").is_some() {
            u8s("tokenizer.bpe.added_bytes")?
        } else {
            &[]
        },
        added: or_empty(u32s("tokenizer.bpe.added"))?,
    })
}
