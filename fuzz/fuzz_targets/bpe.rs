//! Byte-level BPE over arbitrary text: the bundled tiny GPT's tokenizer (GPT-2 pre-tokenizer and
//! merges) with an exact-size scratch and short id buffers.
#![no_main]

use libfuzzer_sys::fuzz_target;
use picoformer::tokenizer::bpe::Bpe;

fuzz_target!(|data: &[u8]| {
    let m = picoformer_fuzz::tiny_gpt();
    let text = String::from_utf8_lossy(data);
    let mut scratch = vec![0u32; Bpe::scratch_len(text.len())];
    let mut ids = vec![0u32; text.len() + 2];
    for cap in [0, 1, 5, ids.len()].map(|c| c.min(ids.len())) {
        if let Ok(enc) = m.tokenizer().encode(&text, &mut ids[..cap], &mut scratch) {
            assert!(enc.len <= cap);
        }
    }
    // too little scratch is an error, never a panic
    let half = scratch.len() / 2;
    let _ = m.tokenizer().encode(&text, &mut ids, &mut scratch[..half]);
});
