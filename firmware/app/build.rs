//! Computes, on the host, the exact arena the embedded model needs with the firmware's session
//! options (`OUT_DIR/arena.rs`: `ARENA_LEN`, `MODEL_LEN`, `MAX_SEQ`, `CHUNK`).

use std::{env, fs, path::PathBuf};

use picoformer::format::AlignedBuf;
use picoformer::{Bert, KvPrecision, SessionOptions};

/// Must match `picoformer_app::session_options()` (checked at run time by `Session::with_options`).
const MAX_SEQ: usize = 64;
const CHUNK: usize = 2;

fn main() {
    let out = PathBuf::from(env::var_os("OUT_DIR").unwrap());
    let dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").unwrap());

    let model_path = dir.join("../../models/sentiment-int8.pfm");
    println!("cargo:rerun-if-changed={}", model_path.display());
    println!("cargo:rerun-if-changed=build.rs");
    let bytes = fs::read(&model_path).expect("read ../../models/sentiment-int8.pfm");
    let blob = AlignedBuf::from_bytes(&bytes);
    let bert = Bert::from_bytes(blob.as_bytes()).expect("parse the model");
    let opts = SessionOptions::new(MAX_SEQ).with_chunk(CHUNK).with_kv(KvPrecision::I8);
    let arena = bert.arena_len_with(&opts).expect("arena_len_with");
    let src = format!(
        "/// Arena bytes for the embedded model with `SessionOptions::new({MAX_SEQ}).with_chunk({CHUNK}).with_kv(KvPrecision::I8)` (computed by build.rs).\n\
         pub const ARENA_LEN: usize = {arena};\n\
         /// Size of the embedded model blob in bytes.\n\
         pub const MODEL_LEN: usize = {};\n\
         /// Maximum sequence length the arena was sized for.\n\
         pub const MAX_SEQ: usize = {MAX_SEQ};\n\
         /// Rows processed at a time.\n\
         pub const CHUNK: usize = {CHUNK};\n",
        bytes.len()
    );
    fs::write(out.join("arena.rs"), src).expect("write arena.rs");
}
