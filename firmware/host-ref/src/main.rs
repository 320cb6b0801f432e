//! The host oracle for firmware parity, with the firmware's options and the same generic scalar
//! kernels (the core is built without its `std` feature, so no runtime SIMD dispatch).
//!
//! - Default mode: classifies stdin lines with the bundled sentiment model, printing JSON lines
//!   shaped like `picoformer classify --json` plus `"tokens"`. `--max-seq N --chunk C --kv i8|f32`
//!   override the options (default: 64, 2, i8, as the firmware).
//! - `generate`: continues stdin lines (prompts) with the bundled tiny GPT as the firmware's
//!   `GenApp` does (see `generate.rs`).

use std::io::BufRead;

use picoformer::format::Aligned;
use picoformer::{Bert, KvPrecision, Session, SessionOptions};

mod generate;

const BYTES: &[u8] = include_bytes!("../../../models/sentiment.pfm");
static MODEL: Aligned<[u8; BYTES.len()]> = Aligned(*include_bytes!("../../../models/sentiment.pfm"));

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("generate") {
        return generate::main(&args[1..]);
    }
    let (mut max_seq, mut chunk, mut kv) = (64usize, 2usize, KvPrecision::I8);
    for w in args.chunks(2) {
        match (w[0].as_str(), w.get(1).map(String::as_str)) {
            ("--max-seq", Some(v)) => max_seq = v.parse().expect("--max-seq N"),
            ("--chunk", Some(v)) => chunk = v.parse().expect("--chunk N"),
            ("--kv", Some("i8")) => kv = KvPrecision::I8,
            ("--kv", Some("f32")) => kv = KvPrecision::F32,
            _ => panic!("usage: picoformer-host-ref [--max-seq N] [--chunk C] [--kv i8|f32] < lines"),
        }
    }
    let bert = Bert::from_bytes(&MODEL.0).expect("bundled model");
    let opts = SessionOptions::new(max_seq).with_chunk(chunk).with_kv(kv);
    let len = bert.arena_len_with(&opts).expect("options");
    // 32-byte aligned arena carved from a plain Vec (no `std` feature, so no AlignedBuf).
    let mut raw = vec![0u8; len + 32];
    let off = raw.as_ptr().align_offset(32);
    let mut session = Session::with_options(&bert, &mut raw[off..off + len], &opts).expect("session");
    for line in std::io::stdin().lock().lines() {
        let line = line.expect("stdin");
        let text = line.trim();
        if text.is_empty() {
            continue;
        }
        let list = |v: &[f32]| v.iter().map(|x| format!("{x:?}")).collect::<Vec<_>>().join(",");
        let (label, probs, logits) = {
            let c = session.classify(text).expect("classify");
            (bert.label(c.label).unwrap_or("?"), list(c.probs), list(c.logits))
        };
        let tokens = session.ids().len();
        println!("{{\"label\":\"{label}\",\"tokens\":{tokens},\"probs\":[{probs}],\"logits\":[{logits}]}}");
    }
}
