//! Loading a decoder blob back as the core would: the blob parses, every tensor the schema
//! requires is there with its dtype and shape, and the tokenizer planes build a tokenizer.

use anyhow::{Context, Result};
use picoformer::format::{AlignedBuf, Blob, TokenizerParams};
use picoformer::model::schema::{self, Dims};
use picoformer::tokenizer::bpe::{Bpe, BpePlanes, PLANES};

/// Checks `blob` (see the module docs). Returns the arena size at the default context once the
/// core can tell it (`None` until it has a decoder loader).
pub fn self_check(blob: &[u8]) -> Result<Option<usize>> {
    let buf = AlignedBuf::from_bytes(blob);
    let check = || -> picoformer::Result<()> {
        let b = Blob::parse(buf.as_bytes())?;
        let h = b.header();
        let (schema, dims) = (schema::schema(h.arch), Dims::from_header(h));
        schema::find_globals(&b, schema, &dims)?;
        let n_layers = match &h.params {
            picoformer::format::ArchParams::Decoder(p) => p.n_layers as usize,
            _ => 0,
        };
        for l in 0..n_layers {
            schema::find_layer(&b, schema, &dims, l)?;
        }
        bpe_from_blob(&b).map(|_| ())
    };
    check().context("self-check: the core rejects the blob just written (converter bug)")?;
    Ok(None)
}

/// The byte-level BPE tokenizer of a parsed blob, over its `tokenizer.bpe.*` planes (an absent
/// plane is empty) and the header's settings.
pub fn bpe_from_blob<'a>(b: &Blob<'a>) -> picoformer::Result<Bpe<'a>> {
    let TokenizerParams::Bpe(params) = b.header().tokenizer else {
        return Err(picoformer::Error::BadVocab);
    };
    let u8s = |name: &str| -> picoformer::Result<&'a [u8]> {
        match b.section(name) {
            Some((i, s)) => b.u8s(i, &s),
            None => Ok(&[]),
        }
    };
    let u32s = |name: &str| -> picoformer::Result<&'a [u32]> {
        match b.section(name) {
            Some((i, s)) => b.u32s(i, &s),
            None => Ok(&[]),
        }
    };
    let [token_bytes, token_offsets, merges, byte_ids, sorted, added_bytes, added] = PLANES.map(|p| p.0);
    let planes = BpePlanes {
        token_bytes: u8s(token_bytes)?,
        token_offsets: u32s(token_offsets)?,
        merges: u32s(merges)?,
        byte_ids: u32s(byte_ids)?,
        sorted: u32s(sorted)?,
        added_bytes: u8s(added_bytes)?,
        added: u32s(added)?,
    };
    Bpe::new(planes, params.config)
}
