//! WordPiece over arbitrary input: the bundled sentiment model's tokenizer, on any bytes as UTF-8
//! (lossy) and on every valid UTF-8 prefix, into an id buffer shorter than the text may need.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let m = picoformer_fuzz::sentiment();
    let text = String::from_utf8_lossy(data);
    let mut ids = [0u32; 64];
    for cap in [0, 1, 2, 3, 64] {
        if let Ok(enc) = m.tokenizer().encode(&text, &mut ids[..cap]) {
            assert!(enc.len <= cap);
        }
    }
});
