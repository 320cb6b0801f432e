//! `.pfm` loading, from valid blobs mutated: the target rewrites the checksum over the mutated
//! bytes first, so mutations get past it to the header, the section table and the sections; a blob
//! that loads runs (classify / embed for BERT, a few generation steps for decoders) in a small arena.
#![no_main]

use libfuzzer_sys::fuzz_target;
use picoformer::format::{crc32, AlignedBuf};
use picoformer::{Bert, Decoder, Generator, GeneratorOptions, Limits, Sampler, SamplerSettings, Session};

/// Arenas larger than this are not allocated (the blob may ask for anything).
const MAX_ARENA: usize = 1 << 24;

fuzz_target!(|data: &[u8]| {
    let mut v = data.to_vec();
    if v.len() >= 24 {
        let len = (u64::from_le_bytes(v[16..24].try_into().unwrap()) as usize).clamp(16, v.len());
        let crc = crc32(&v[16..len]);
        v[12..16].copy_from_slice(&crc.to_le_bytes());
    }
    let buf = AlignedBuf::from_bytes(&v);
    if let Ok(m) = Bert::from_bytes(buf.as_bytes()) {
        let _ = m.check_finite();
        let max_seq = m.default_max_seq().min(24);
        if let Ok(len) = m.arena_len(max_seq) {
            if len <= MAX_ARENA {
                let mut arena = AlignedBuf::zeroed(len);
                if let Ok(mut s) = Session::new(&m, arena.as_mut_bytes(), max_seq) {
                    let _ = s.classify("the movie was great!");
                    let _ = s.embed("a [MASK] x");
                }
            }
        }
    }
    if let Ok(m) = Decoder::from_bytes(buf.as_bytes()) {
        let _ = m.check_finite();
        let opts = GeneratorOptions::new(m.default_context().min(16));
        if let Ok(len) = m.arena_len(&opts) {
            if len <= MAX_ARENA {
                let mut arena = AlignedBuf::zeroed(len);
                if let (Ok(mut g), Ok(mut sampler)) =
                    (Generator::new(&m, arena.as_mut_bytes(), &opts), Sampler::new(SamplerSettings::GREEDY))
                {
                    let _ = g.feed_text("Call me");
                    let limits = Limits { max_tokens: 4, stop_ids: &[] };
                    for _ in 0..4 {
                        if g.next(&mut sampler, &limits).is_err() {
                            break;
                        }
                    }
                    let _ = g.finish();
                }
            }
        }
    }
});
