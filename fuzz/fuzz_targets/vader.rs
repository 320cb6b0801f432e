//! VADER on the device over arbitrary input: the bundled sentiment model's lexicon scoring any
//! bytes as UTF-8 (lossy), and a lexicon table built from arbitrary bytes (checked once, then
//! looked up without panicking).
#![no_main]

use libfuzzer_sys::fuzz_target;
use picoformer::lexicon::{compound, Lexicon};

fuzz_target!(|data: &[u8]| {
    let lexicon = picoformer_fuzz::sentiment().lexicon().expect("the bundled model has a lexicon gate");
    let c = compound(lexicon, &String::from_utf8_lossy(data));
    assert!(c.is_finite() && (-1.0..=1.0).contains(&c));
    // the first bytes as block offsets, the rest as entries
    let (head, words) = data.split_at(data.len().min(16));
    let blocks: Vec<u32> = head.chunks(4).map(|c| c.iter().fold(0u32, |a, &b| a << 8 | u32::from(b))).collect();
    if let Ok(table) = Lexicon::new(words, &blocks) {
        for w in [&b"good"[..], b"", b":)", words] {
            let _ = table.tenths(w);
        }
        let _ = compound(&table, &String::from_utf8_lossy(words));
    }
});
