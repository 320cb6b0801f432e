//! The bundled tiny GPT (models/tiny-gpt-int8.pfm, trained by scripts/tiny-gpt/train.py): it fits
//! a microcontroller (blob <= 1 MB, arena with the int8 KV cache <= 128 KiB at context 256), it is
//! exactly what the converter makes from the committed checkpoint (models/tiny-gpt/), the f32
//! conversion matches its PyTorch original (logits at every position, greedy ids, held-out
//! perplexity; tests/data/tiny_gpt_golden.json by scripts/tiny-gpt/make_golden.py) and the int8
//! blob stays close.

use std::path::PathBuf;

use picoformer::format::AlignedBuf;
use picoformer::{Decoder, Generator, GeneratorOptions, KvPrecision, Limits, Sampler, SamplerSettings};
use picoformer_tool::generate::{encode, perplexity};
use picoformer_tool::run::DEFAULT_GPT;
use picoformer_tool::{quantize_path, QuantizeOptions, WeightDtype};
use serde::Deserialize;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[derive(Deserialize)]
struct Golden {
    cases: Vec<Case>,
    perplexity: Ppl,
}

#[derive(Deserialize)]
struct Case {
    text: String,
    ids: Vec<u32>,
    logits: Vec<Vec<f32>>,
    greedy_ids: Vec<u32>,
}

#[derive(Deserialize)]
struct Ppl {
    file: String,
    max_tokens: usize,
    window: usize,
    scored: usize,
    perplexity: f64,
}

fn golden() -> Golden {
    let text = std::fs::read_to_string(root().join("tests/data/tiny_gpt_golden.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn checkpoint_blob(dtype: WeightDtype) -> AlignedBuf {
    checkpoint_blob_with(QuantizeOptions::new(dtype))
}

fn checkpoint_blob_with(opts: QuantizeOptions) -> AlignedBuf {
    let (bytes, _) = quantize_path(&root().join("models/tiny-gpt"), &opts).expect("convert");
    AlignedBuf::from_bytes(&bytes)
}

/// The device's options: context 256, 4 rows per prompt step, int8 keys and values, greedy only.
fn device_options() -> GeneratorOptions {
    GeneratorOptions::new(256).with_chunk(4).with_kv(KvPrecision::I8).with_sampling(false)
}

#[test]
fn bundled_gpt_fits_a_microcontroller() {
    let buf = AlignedBuf::from_bytes(DEFAULT_GPT);
    let m = Decoder::from_bytes(buf.as_bytes()).unwrap();
    let arena_len = m.arena_len(&device_options()).unwrap();
    println!(
        "bundled tiny GPT: {} bytes, arena at context 256 (int8 KV, chunk 4): {arena_len} bytes",
        DEFAULT_GPT.len()
    );
    assert!(DEFAULT_GPT.len() <= 1 << 20, "blob is {} bytes", DEFAULT_GPT.len());
    assert!(arena_len <= 128 * 1024, "arena {arena_len}");
    // it runs in exactly that arena to a full context
    let mut arena = AlignedBuf::zeroed(arena_len);
    let mut g = Generator::new(&m, arena.as_mut_bytes(), &device_options()).unwrap();
    g.feed(&[m.bos().unwrap()]).unwrap();
    g.feed_text("Call me").unwrap();
    let mut sampler = Sampler::new(SamplerSettings::GREEDY).unwrap();
    let limits = Limits { max_tokens: 0, stop_ids: &[] };
    while g.next(&mut sampler, &limits).is_ok_and(|s| s.stop != Some(picoformer::Stop::ContextFull)) {}
    assert_eq!(g.ids().len(), 256);
}

#[test]
fn bundled_gpt_is_what_the_converter_makes() {
    let buf = checkpoint_blob(WeightDtype::Int8);
    assert!(buf.as_bytes() == DEFAULT_GPT, "models/tiny-gpt-int8.pfm differs from a fresh conversion");
}

/// Max |logit difference| over every prompt position, and how many cases give the same greedy ids.
fn run_cases(buf: &AlignedBuf, cases: &[Case], opts: &GeneratorOptions) -> (f32, usize) {
    let m = Decoder::from_bytes(buf.as_bytes()).unwrap();
    let mut arena = AlignedBuf::zeroed(m.arena_len(opts).unwrap());
    let mut g = Generator::new(&m, arena.as_mut_bytes(), opts).unwrap();
    let (mut worst, mut same) = (0f32, 0);
    for c in cases {
        // the blob's tokenizer gives PyTorch's ids (BOS, then the text's)
        g.reset();
        g.feed(&[m.bos().unwrap()]).unwrap();
        g.feed_text(&c.text).unwrap();
        assert_eq!(g.ids(), &c.ids[..], "{:?}", c.text);
        g.reset();
        g.feed_with(&c.ids, |pos, logits| {
            for (a, b) in logits.iter().zip(&c.logits[pos]) {
                worst = worst.max((a - b).abs());
            }
        })
        .unwrap();
        let mut sampler = Sampler::new(SamplerSettings::GREEDY).unwrap();
        let limits = Limits { max_tokens: c.greedy_ids.len(), stop_ids: &[] };
        let mut got = vec![];
        while got.len() < c.greedy_ids.len() {
            got.push(g.next(&mut sampler, &limits).unwrap().id);
        }
        if got == c.greedy_ids {
            same += 1;
        } else {
            println!("  greedy differs on {:?}: {got:?} vs {:?}", c.text, c.greedy_ids);
        }
    }
    (worst, same)
}

#[test]
fn f32_conversion_matches_pytorch() {
    let g = golden();
    let buf = checkpoint_blob(WeightDtype::F32);
    for opts in [GeneratorOptions::new(256), GeneratorOptions::new(256).with_chunk(4)] {
        let (worst, same) = run_cases(&buf, &g.cases, &opts);
        println!(
            "f32, chunk {}: max |logit diff| {worst:.2e}, greedy identical {same}/{}",
            opts.chunk,
            g.cases.len()
        );
        assert!(worst <= 1e-4, "max logit diff {worst}");
        assert_eq!(same, g.cases.len());
    }
}

#[test]
fn bundled_int8_stays_close_to_pytorch() {
    let g = golden();
    let buf = AlignedBuf::from_bytes(DEFAULT_GPT);
    let (worst, same) = run_cases(&buf, &g.cases, &device_options());
    println!(
        "bundled int8, int8 KV: max |logit diff| {worst:.3}, greedy 32 identical {same}/{}",
        g.cases.len()
    );
    assert!(worst <= 0.5, "max logit diff {worst}");
}

/// Held-out perplexity: the f32 conversion reproduces PyTorch's, the bundled int8 blob with an
/// int8 KV cache loses little, an int4 conversion (with int8 or int4 token embeddings; the
/// embeddings are also the tied LM head) stays within [`INT4_PPL_BUDGET`].
#[test]
fn heldout_perplexity_reproduces() {
    let p = golden().perplexity;
    let text = std::fs::read_to_string(root().join(&p.file)).unwrap();
    let f32_blob = checkpoint_blob(WeightDtype::F32);
    let int8_blob = AlignedBuf::from_bytes(DEFAULT_GPT);
    let int4_blob = checkpoint_blob(WeightDtype::Int4);
    let int4_emb =
        QuantizeOptions { embeddings: Some(WeightDtype::Int4), ..QuantizeOptions::new(WeightDtype::Int4) };
    let int4_all_blob = checkpoint_blob_with(int4_emb);
    let mut got = vec![];
    let runs = [
        ("f32", &f32_blob, KvPrecision::F32),
        ("int8", &int8_blob, KvPrecision::I8),
        ("int4 (layers; embeddings int8)", &int4_blob, KvPrecision::I8),
        ("int4 (layers and token embeddings)", &int4_all_blob, KvPrecision::I8),
    ];
    for (name, buf, kv) in runs {
        let m = Decoder::from_bytes(buf.as_bytes()).unwrap();
        let mut ids = encode(m.tokenizer(), &text).unwrap();
        ids.truncate(p.max_tokens);
        let r = perplexity(&m, &ids, p.window, kv).unwrap();
        println!(
            "{name} weights, {kv:?} KV: perplexity {:.4} over {} tokens (PyTorch f32: {:.4})",
            r.perplexity, r.scored, p.perplexity
        );
        assert_eq!(r.scored, p.scored);
        got.push(r.perplexity);
    }
    assert!((got[0] / p.perplexity - 1.0).abs() < 1e-4, "f32 perplexity {} vs {}", got[0], p.perplexity);
    assert!(got[1] / got[0] < 1.05, "int8 perplexity {} vs f32 {}", got[1], got[0]);
    let bytes = |b: &AlignedBuf| b.as_bytes().len();
    let (b8, b4, b4e) = (bytes(&int8_blob), bytes(&int4_blob), bytes(&int4_all_blob));
    println!("blob bytes: int8 {b8}, int4 {b4}, int4 with int4 token embeddings {b4e}");
    assert!(got[2] / got[0] < INT4_PPL_BUDGET, "int4 perplexity {} vs f32 {}", got[2], got[0]);
    assert!(
        got[3] / got[0] < INT4_PPL_BUDGET,
        "int4 + int4 embeddings perplexity {} vs f32 {}",
        got[3],
        got[0]
    );
}

/// How much perplexity group-wise int4 layers may cost this 0.9 M-parameter model (tiny models
/// lose more to 4 bits than large ones; measured in the README's int4 table).
const INT4_PPL_BUDGET: f64 = 1.05;

/// `picoformer generate --prompt "Call me"` with no `-m` runs the bundled tiny GPT: the same
/// prompt ids as PyTorch's tokenizer and the same greedy ids as the core run directly.
#[test]
fn generate_without_a_model_uses_the_bundled_gpt() {
    let bin = env!("CARGO_BIN_EXE_picoformer");
    let args = ["generate", "--prompt", "Call me", "--json", "--max-tokens", "12", "--kv", "int8"];
    let out = std::process::Command::new(bin).args(args).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let ids = |v: &serde_json::Value| -> Vec<u32> {
        v.as_array().unwrap().iter().map(|x| x.as_u64().unwrap() as u32).collect()
    };
    let g = golden();
    assert_eq!(ids(&v["prompt_ids"]), g.cases[0].ids);

    let buf = AlignedBuf::from_bytes(DEFAULT_GPT);
    let m = Decoder::from_bytes(buf.as_bytes()).unwrap();
    let opts = GeneratorOptions::new(256).with_kv(KvPrecision::I8).with_sampling(false);
    let mut arena = AlignedBuf::zeroed(m.arena_len(&opts).unwrap());
    let mut gen = Generator::new(&m, arena.as_mut_bytes(), &opts).unwrap();
    gen.feed(&g.cases[0].ids).unwrap();
    let mut sampler = Sampler::new(SamplerSettings::GREEDY).unwrap();
    let limits = Limits { max_tokens: 12, stop_ids: &[] };
    let (mut want, mut text) = (vec![], String::new());
    loop {
        let s = gen.next(&mut sampler, &limits).unwrap();
        want.push(s.id);
        text.push_str(s.text);
        if s.stop.is_some() {
            break;
        }
    }
    text.push_str(gen.finish().unwrap());
    assert_eq!(ids(&v["ids"]), want);
    assert_eq!(v["text"].as_str().unwrap(), text);
    println!("generate --prompt \"Call me\" (bundled, int8 KV): {text:?}");
}
