//! Incremental detokenization of arbitrary id sequences (ids out of range included, characters split
//! across tokens), with output buffers of the documented size and smaller.
#![no_main]

use libfuzzer_sys::fuzz_target;
use picoformer::tokenizer::bpe::Decoder as TextDecoder;

fuzz_target!(|data: &[u8]| {
    let m = picoformer_fuzz::tiny_gpt();
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
