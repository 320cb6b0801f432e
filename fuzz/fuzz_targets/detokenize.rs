//! Incremental detokenization of arbitrary id sequences (ids out of range included, characters split
//! across tokens), with output buffers of the documented size and smaller.
#![no_main]

use libfuzzer_sys::fuzz_target;
use picoformer::format::AlignedBuf;
use picoformer::tokenizer::bpe::Decoder as TextDecoder;
use picoformer::Decoder;
use std::sync::OnceLock;

static BLOB: OnceLock<AlignedBuf> = OnceLock::new();
static MODEL: OnceLock<Decoder<'static>> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    // parsed once: the checksum over the whole blob would otherwise dominate every run
    let m = MODEL.get_or_init(|| {
        let buf =
            BLOB.get_or_init(|| AlignedBuf::from_bytes(include_bytes!("../../models/tiny-gpt-int8.pfm")));
        Decoder::from_bytes(buf.as_bytes()).expect("the bundled model loads")
    });
    let Some((&flags, rest)) = data.split_first() else { return };
    let mut d = TextDecoder::new(m.tokenizer(), flags & 1 == 1);
    let mut out = vec![0u8; d.max_output_len()];
    let short = (flags >> 1) as usize % (out.len() + 1);
    for chunk in rest.chunks(2) {
        let id = u16::from_le_bytes([chunk[0], *chunk.get(1).unwrap_or(&0)]) as u32;
        let len = if flags & 2 == 2 { short } else { out.len() };
        if let Ok(s) = d.push(id, &mut out[..len]) {
            assert!(s.len() <= len);
        }
    }
    let _ = d.finish(&mut out);
});
