//! The generate loop at the context limit: arbitrary prompt ids (out of range included) and text,
//! fed in arbitrary chunks into a small context, then steps past the end, with arbitrary stop ids.
#![no_main]

use libfuzzer_sys::fuzz_target;
use picoformer::format::AlignedBuf;
use picoformer::{Generator, GeneratorOptions, KvPrecision, Limits, Sampler, SamplerSettings};

fuzz_target!(|data: &[u8]| {
    let m = picoformer_fuzz::tiny_gpt();
    let Some((&knobs, rest)) = data.split_first() else { return };
    let context = 2 + (knobs as usize & 15);
    let kv = if knobs & 16 == 16 { KvPrecision::I8 } else { KvPrecision::F32 };
    let opts =
        GeneratorOptions::new(context).with_kv(kv).with_chunk((1 + (knobs as usize >> 5)).min(context));
    let mut arena = AlignedBuf::zeroed(m.arena_len(&opts).expect("small contexts fit"));
    let mut g = Generator::new(&m, arena.as_mut_bytes(), &opts).expect("the arena is the asked size");
    let (ids_bytes, text) = rest.split_at(rest.len() / 2);
    let ids: Vec<u32> =
        ids_bytes.chunks(2).map(|c| u16::from_le_bytes([c[0], *c.get(1).unwrap_or(&0)]) as u32).collect();
    for part in ids.chunks(3) {
        let _ = g.feed(part);
    }
    let _ = g.feed_text(&String::from_utf8_lossy(text));
    let mut sampler =
        Sampler::new(SamplerSettings { temperature: 0.8, seed: knobs as u64, ..SamplerSettings::GREEDY })
            .expect("valid settings");
    let stop: Vec<u32> = ids.iter().take(2).copied().collect();
    let limits = Limits { max_tokens: knobs as usize % 7, stop_ids: &stop };
    for _ in 0..context + 2 {
        let _ = g.next(&mut sampler, &limits);
    }
    let _ = g.finish();
    assert!(g.ids().len() <= context);
});
