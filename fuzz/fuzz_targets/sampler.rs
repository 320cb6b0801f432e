//! Sampler settings and logits from arbitrary bytes: NaN, infinities, huge and zero values,
//! `top_k` beyond the vocabulary, repeated and out-of-range recent ids.
#![no_main]

use libfuzzer_sys::fuzz_target;
use picoformer::{Sampler, SamplerSettings};

fn f32_at(d: &[u8], i: usize) -> f32 {
    d.get(4 * i..4 * i + 4).map_or(0.0, |b| f32::from_le_bytes(b.try_into().unwrap()))
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 24 {
        return;
    }
    let settings = SamplerSettings {
        temperature: f32_at(data, 0),
        top_k: u16::from_le_bytes([data[4], data[5]]) as usize,
        top_p: f32_at(data, 2),
        min_p: f32_at(data, 3),
        repetition_penalty: f32_at(data, 4),
        seed: data[20] as u64,
    };
    let Ok(mut sampler) = Sampler::new(settings) else { return };
    let rest = &data[24..];
    let mut logits: Vec<f32> =
        rest.chunks_exact(4).map(|b| f32::from_le_bytes(b.try_into().unwrap())).collect();
    let recent: Vec<u32> = rest.iter().map(|&b| b as u32 * 3).collect();
    let mut scratch = vec![0u32; logits.len()];
    if let Ok(id) = sampler.sample(&mut logits, &recent, &mut scratch) {
        assert!((id as usize) < logits.len());
    }
});
