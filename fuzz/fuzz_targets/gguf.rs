//! GGUF from arbitrary bytes: header, metadata and tensor index, every metadata value read as each
//! type, every tensor dequantized, then what the converter reads of a Llama GGUF: config and
//! tokenizer vectors, the decoder config and the BPE tokenizer (through `from_gguf` and the
//! decoder's tokenizer, chat template included), and the tensors under their Hugging Face names.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use picoformer_tool::decoder::{DecoderConfig, DecoderTokenizer};
use picoformer_tool::load::bpe::{from_gguf, GgufBpe};
use picoformer_tool::load::gguf::{llama, Gguf, LlamaGguf};

fuzz_target!(|data: &[u8]| {
    let path = Path::new("model.gguf");
    let Ok(g) = Gguf::from_bytes(path, data.to_vec()) else { return };
    let _ = (g.version(), g.data_start(), g.architecture());
    for key in g.keys() {
        let _ = (g.meta(key), g.u32(key), g.f32(key), g.bool(key), g.str(key));
        let _ = (g.strings(key), g.i32s(key), g.f32s(key));
    }
    let names: Vec<String> = g.tensors().map(|t| t.name.clone()).collect();
    for name in &names {
        if let Ok((shape, values)) = g.tensor_f32(name) {
            assert_eq!(values.len(), shape.iter().product::<usize>());
        }
    }
    assert!(g.tensor_f32("no such tensor").is_err());
    if let Ok(lg) = LlamaGguf::from_gguf(&g) {
        let t = &lg.tokenizer;
        let input = GgufBpe::of(t);
        let _ = from_gguf(&input);
        if let Ok(cfg) = DecoderConfig::from_gguf(path, &lg.config) {
            if let Ok(tok) = DecoderTokenizer::from_gguf(path, t, &cfg) {
                let _ = tok.sections();
            }
        }
    }
    for item in llama::hf_tensors(&g) {
        let Ok((_, shape, values)) = item else { break };
        assert_eq!(values.len(), shape.iter().product::<usize>());
    }
});
