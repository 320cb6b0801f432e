//! Computes, on the host, the exact arenas the embedded models need with the firmware's options
//! (`OUT_DIR/arena.rs`): for the sentiment classifier `ARENA_LEN`, `MODEL_LEN`, `MAX_SEQ`, `CHUNK`;
//! for the tiny GPT `GPT_ARENA_LEN`, `GPT_MODEL_LEN`, `GPT_CONTEXT`, `GPT_CHUNK`.
//!
//! The tiny GPT blob is copied to `OUT_DIR/tiny-gpt.pfm`, which `src/lib.rs` embeds: by default
//! `models/tiny-gpt-int8.pfm`; `PICOFORMER_GPT_BLOB=/path/to/blob.pfm` at build time embeds another
//! blob of the same architecture instead (e.g. the int4 conversion, `picoformer quantize
//! models/tiny-gpt --dtype int4`; give an absolute path: build scripts run in `firmware/app`), with
//! the arena computed from that blob.

use std::{env, fs, path::Path, path::PathBuf};

use picoformer::format::AlignedBuf;
use picoformer::{Bert, Decoder, GeneratorOptions, KvPrecision, SessionOptions};

/// Must match `picoformer_app::session_options()` (checked at run time by `Session::with_options`).
const MAX_SEQ: usize = 64;
const CHUNK: usize = 2;
/// Written out as `GPT_CONTEXT` / `GPT_CHUNK`, which `picoformer_app::generator_options()` reads;
/// the precision and sampling below must match it (checked at run time by `Generator::new`).
const GPT_CONTEXT: usize = 256;
const GPT_CHUNK: usize = 4;
/// Build-time variable naming another tiny GPT blob to embed (default: models/tiny-gpt-int8.pfm).
const GPT_BLOB_ENV: &str = "PICOFORMER_GPT_BLOB";

fn main() {
    let out = PathBuf::from(env::var_os("OUT_DIR").unwrap());
    let dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").unwrap());
    println!("cargo:rerun-if-changed=build.rs");
    let mut src = sentiment(&dir);
    src.push_str(&gpt(&dir, &out));
    fs::write(out.join("arena.rs"), src).expect("write arena.rs");
}

/// The sentiment classifier's constants.
fn sentiment(dir: &Path) -> String {
    let model_path = dir.join("../../models/sentiment.pfm");
    println!("cargo:rerun-if-changed={}", model_path.display());
    let bytes = fs::read(&model_path).expect("read ../../models/sentiment.pfm");
    let blob = AlignedBuf::from_bytes(&bytes);
    let bert = Bert::from_bytes(blob.as_bytes()).expect("parse the model");
    let opts = SessionOptions::new(MAX_SEQ).with_chunk(CHUNK).with_kv(KvPrecision::I8);
    let arena = bert.arena_len_with(&opts).expect("arena_len_with");
    format!(
        "/// Arena bytes for the embedded model with `SessionOptions::new({MAX_SEQ}).with_chunk({CHUNK}).with_kv(KvPrecision::I8)` (computed by build.rs).\n\
         pub const ARENA_LEN: usize = {arena};\n\
         /// Size of the embedded model blob in bytes.\n\
         pub const MODEL_LEN: usize = {};\n\
         /// Maximum sequence length the arena was sized for.\n\
         pub const MAX_SEQ: usize = {MAX_SEQ};\n\
         /// Rows processed at a time.\n\
         pub const CHUNK: usize = {CHUNK};\n",
        bytes.len()
    )
}

/// The tiny GPT's constants: the generator arena for
/// `GeneratorOptions::new(GPT_CONTEXT).with_chunk(GPT_CHUNK).with_kv(KvPrecision::I8).with_sampling(false)`.
fn gpt(dir: &Path, out: &Path) -> String {
    println!("cargo:rerun-if-env-changed={GPT_BLOB_ENV}");
    let model_path = match env::var_os(GPT_BLOB_ENV) {
        Some(p) if !p.is_empty() => dir.join(p), // an absolute path replaces `dir`
        _ => dir.join("../../models/tiny-gpt-int8.pfm"),
    };
    println!("cargo:rerun-if-changed={}", model_path.display());
    let bytes = fs::read(&model_path).unwrap_or_else(|e| panic!("read {}: {e}", model_path.display()));
    fs::write(out.join("tiny-gpt.pfm"), &bytes).expect("write OUT_DIR/tiny-gpt.pfm");
    let blob = AlignedBuf::from_bytes(&bytes);
    let model = Decoder::from_bytes(blob.as_bytes())
        .unwrap_or_else(|e| panic!("parse the tiny GPT blob {}: {e:?}", model_path.display()));
    let opts = GeneratorOptions::new(GPT_CONTEXT)
        .with_chunk(GPT_CHUNK)
        .with_kv(KvPrecision::I8)
        .with_sampling(false);
    let arena = model.arena_len(&opts).expect("Decoder::arena_len");
    format!(
        "/// Arena bytes of the tiny GPT's generator with `GeneratorOptions::new({GPT_CONTEXT}).with_chunk({GPT_CHUNK}).with_kv(KvPrecision::I8).with_sampling(false)`, int8 key/value cache included (computed by build.rs).\n\
         pub const GPT_ARENA_LEN: usize = {arena};\n\
         /// Size of the embedded tiny GPT blob in bytes.\n\
         pub const GPT_MODEL_LEN: usize = {};\n\
         /// Positions (prompt and generated tokens) the generator arena holds.\n\
         pub const GPT_CONTEXT: usize = {GPT_CONTEXT};\n\
         /// Prompt tokens run per forward step.\n\
         pub const GPT_CHUNK: usize = {GPT_CHUNK};\n",
        bytes.len()
    )
}
