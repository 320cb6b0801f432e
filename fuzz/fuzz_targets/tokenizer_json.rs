//! Tokenizer files from arbitrary bytes: the bytes as `tokenizer.json` for the WordPiece reader
//! (BERT), the BPE reader and the decoder's tokenizer (special ids, post-processor), as `vocab.txt`
//! and as GPT-2's `vocab.json`; a BPE tokenizer that builds encodes and decodes a short text.
#![no_main]

use std::path::Path;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use picoformer::tokenizer::bpe::{Bpe, BpeOwned};
use picoformer_tool::decoder::tokenizer::DecoderTokenizerFiles;
use picoformer_tool::decoder::{DecoderConfig, DecoderTokenizer};
use picoformer_tool::load::bpe::{parse_gpt2_files, parse_tokenizer_json};
use picoformer_tool::load::{TokenizerFiles, TokenizerSpec};

/// A GPT-2 config with room for the seeds' vocabularies and no special ids of its own.
fn decoder_config() -> &'static DecoderConfig {
    static CONFIG: OnceLock<DecoderConfig> = OnceLock::new();
    CONFIG.get_or_init(|| {
        let json = br#"{"architectures":["GPT2LMHeadModel"],"vocab_size":4096,"n_embd":8,"n_head":2,
            "n_layer":1,"n_positions":16}"#;
        DecoderConfig::from_bytes(Path::new("config.json"), json).expect("the config is valid")
    })
}

/// Encodes and decodes a short text with a tokenizer the tool built.
fn exercise(bpe: &BpeOwned) {
    let Ok(t) = bpe.tokenizer() else { return };
    let text = "Hello, world! It's 2024 <|endoftext|> h\u{e9}llo \u{65e5}\u{672c}\n  x";
    let mut scratch = vec![0u32; Bpe::scratch_len(text.len())];
    let mut ids = vec![0u32; text.len() + 2];
    let Ok(enc) = t.encode(text, &mut ids, &mut scratch) else { return };
    let mut d = t.decoder(false);
    let mut out = vec![0u8; d.max_output_len()];
    for &id in &ids[..enc.len] {
        assert!((id as usize) < t.n_vocab(), "encode gave id {id} of {}", t.n_vocab());
        let _ = d.push(id, &mut out);
    }
    let _ = d.finish(&mut out);
}

fuzz_target!(|data: &[u8]| {
    let dir = Path::new("model");
    let wordpiece = TokenizerFiles { tokenizer_json: Some(data), ..TokenizerFiles::default() };
    if let Ok(t) = TokenizerSpec::parse(dir, &wordpiece, false) {
        assert!((t.special.unk as usize) < t.vocab.len());
    }
    let vocab_txt = TokenizerFiles { vocab_txt: Some(data), ..TokenizerFiles::default() };
    let _ = TokenizerSpec::parse(dir, &vocab_txt, true);
    if let Ok(bpe) = parse_tokenizer_json(&dir.join("tokenizer.json"), data) {
        exercise(&bpe);
    }
    let merges: &[u8] = b"#version: 0.2\n";
    if let Ok(bpe) = parse_gpt2_files((&dir.join("vocab.json"), data), (&dir.join("merges.txt"), merges)) {
        exercise(&bpe);
    }
    let files = DecoderTokenizerFiles { tokenizer_json: Some(data), ..DecoderTokenizerFiles::default() };
    if let Ok(t) = DecoderTokenizer::from_files(dir, &files, decoder_config()) {
        assert_eq!(t.n_vocab(), decoder_config().params.vocab_size as usize);
        let _ = t.sections();
    }
});
