//! Loading a decoder blob back as the core does ([`Decoder::from_bytes`]: every schema tensor with
//! its dtype and shape, the tokenizer planes) and asking it for the arena size.

use anyhow::{Context, Result};
use picoformer::format::AlignedBuf;
use picoformer::{Decoder, GeneratorOptions};

/// Loads `blob` with the core and returns the arena bytes a generator needs at the blob's
/// default context with the default [`GeneratorOptions`] (prompt chunks of 64, f32 keys and
/// values, sampling).
pub fn self_check(blob: &[u8]) -> Result<usize> {
    let buf = AlignedBuf::from_bytes(blob);
    let model = Decoder::from_bytes(buf.as_bytes())
        .context("self-check: the core rejects the blob just written (converter bug)")?;
    model.check_finite().context("the checkpoint holds a NaN or infinite value")?;
    model
        .arena_len(&GeneratorOptions::new(model.default_context()))
        .context("self-check: no arena for the default context (converter bug)")
}
