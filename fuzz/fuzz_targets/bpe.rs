//! Byte-level BPE over arbitrary text: the bundled tiny GPT's tokenizer (GPT-2 pre-tokenizer and
//! merges) with an exact-size scratch and short id buffers.
#![no_main]

use libfuzzer_sys::fuzz_target;
use picoformer::format::AlignedBuf;
use picoformer::tokenizer::bpe::Bpe;
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
