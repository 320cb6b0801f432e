//! WordPiece over arbitrary input: the bundled sentiment model's tokenizer, on any bytes as UTF-8
//! (lossy) and on every valid UTF-8 prefix, into an id buffer shorter than the text may need.
#![no_main]

use libfuzzer_sys::fuzz_target;
use picoformer::format::AlignedBuf;
use picoformer::Bert;
use std::sync::OnceLock;

static BLOB: OnceLock<AlignedBuf> = OnceLock::new();
static MODEL: OnceLock<Bert<'static>> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    // parsed once: the checksum over the whole blob would otherwise dominate every run
    let m = MODEL.get_or_init(|| {
        let buf =
            BLOB.get_or_init(|| AlignedBuf::from_bytes(include_bytes!("../../models/sentiment-int8.pfm")));
        Bert::from_bytes(buf.as_bytes()).expect("the bundled model loads")
    });
    let text = String::from_utf8_lossy(data);
    let mut ids = [0u32; 64];
    for cap in [0, 1, 2, 3, 64] {
        if let Ok(enc) = m.tokenizer().encode(&text, &mut ids[..cap]) {
            assert!(enc.len <= cap);
        }
    }
});
