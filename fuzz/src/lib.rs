//! What the fuzz targets share: the bundled models, parsed once per process (checking the
//! checksum of a whole blob on every input would dominate the run).

use std::sync::OnceLock;

use picoformer::format::AlignedBuf;
use picoformer::{Bert, Decoder};

/// The bundled sentiment model (`models/sentiment.pfm`).
pub fn sentiment() -> &'static Bert<'static> {
    static BLOB: OnceLock<AlignedBuf> = OnceLock::new();
    static MODEL: OnceLock<Bert<'static>> = OnceLock::new();
    MODEL.get_or_init(|| {
        let buf =
            BLOB.get_or_init(|| AlignedBuf::from_bytes(include_bytes!("../../models/sentiment.pfm")));
        Bert::from_bytes(buf.as_bytes()).expect("the bundled sentiment model loads")
    })
}

/// The bundled tiny GPT (`models/tiny-gpt-int8.pfm`).
pub fn tiny_gpt() -> &'static Decoder<'static> {
    static BLOB: OnceLock<AlignedBuf> = OnceLock::new();
    static MODEL: OnceLock<Decoder<'static>> = OnceLock::new();
    MODEL.get_or_init(|| {
        let buf =
            BLOB.get_or_init(|| AlignedBuf::from_bytes(include_bytes!("../../models/tiny-gpt-int8.pfm")));
        Decoder::from_bytes(buf.as_bytes()).expect("the bundled tiny GPT loads")
    })
}
