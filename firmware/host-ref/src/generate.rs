//! `generate` mode: the firmware's `GenApp` on the host. Per stdin line (a prompt): empty the
//! context, feed BOS (when the model adds one) as one step and the prompt with `feed_text`, then
//! greedy `Generator::next` until a stop; prints one JSON line
//! `{"prompt":"..","ids":[every id: BOS, prompt, generated],"logit_bits":["0x..", one per generated token]}`
//! where each `logit_bits` entry is the bits of the largest logit before that `next` (the chosen
//! token's), as the firmware's `TOKEN logit=` field. `--context N --chunk C --max-new M --kv i8|f32`
//! (default: 256, 4, 32, i8, as the firmware; sampling room off).

use std::io::BufRead;

use picoformer::format::Aligned;
use picoformer::sampler::argmax;
use picoformer::{Decoder, Generator, GeneratorOptions, KvPrecision, Limits, Sampler, SamplerSettings};

const BYTES: &[u8] = include_bytes!("../../../models/tiny-gpt-int8.pfm");
static MODEL: Aligned<[u8; BYTES.len()]> = Aligned(*include_bytes!("../../../models/tiny-gpt-int8.pfm"));

/// Runs the mode with the arguments after `generate`.
pub fn main(args: &[String]) {
    let (mut context, mut chunk, mut max_new, mut kv) = (256usize, 4usize, 32usize, KvPrecision::I8);
    for w in args.chunks(2) {
        match (w[0].as_str(), w.get(1).map(String::as_str)) {
            ("--context", Some(v)) => context = v.parse().expect("--context N"),
            ("--chunk", Some(v)) => chunk = v.parse().expect("--chunk N"),
            ("--max-new", Some(v)) => max_new = v.parse().expect("--max-new N"),
            ("--kv", Some("i8")) => kv = KvPrecision::I8,
            ("--kv", Some("f32")) => kv = KvPrecision::F32,
            _ => panic!(
                "usage: picoformer-host-ref generate [--context N] [--chunk C] [--max-new M] [--kv i8|f32] < prompts"
            ),
        }
    }
    let model = Decoder::from_bytes(&MODEL.0).expect("bundled tiny GPT");
    let opts = GeneratorOptions::new(context).with_chunk(chunk).with_kv(kv).with_sampling(false);
    let len = model.arena_len(&opts).expect("options");
    // 32-byte aligned arena carved from a plain Vec (no `std` feature, so no AlignedBuf).
    let mut raw = vec![0u8; len + 32];
    let off = raw.as_ptr().align_offset(32);
    let mut gen = Generator::new(&model, &mut raw[off..off + len], &opts).expect("generator");
    let mut sampler = Sampler::new(SamplerSettings::GREEDY).expect("greedy sampler");
    let limits = Limits { max_tokens: max_new, stop_ids: &[] };
    for line in std::io::stdin().lock().lines() {
        let line = line.expect("stdin");
        let prompt = line.trim();
        if prompt.is_empty() {
            continue;
        }
        gen.reset();
        if let (true, Some(bos)) = (model.add_bos(), model.bos()) {
            gen.feed(&[bos]).expect("feed BOS");
        }
        gen.feed_text(prompt).expect("feed_text");
        let mut bits = Vec::new();
        while gen.ids().len() < context {
            let logits = gen.logits();
            let best = argmax(logits).unwrap_or(0) as usize;
            bits.push(format!("\"{:#010x}\"", logits.get(best).map_or(0, |l| l.to_bits())));
            if gen.next(&mut sampler, &limits).expect("next").stop.is_some() {
                break;
            }
        }
        let ids = gen.ids().iter().map(u32::to_string).collect::<Vec<_>>().join(",");
        println!(
            "{{\"prompt\":{},\"ids\":[{ids}],\"logit_bits\":[{}]}}",
            json_string(prompt),
            bits.join(",")
        );
    }
}

/// `s` as a JSON string literal.
fn json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
