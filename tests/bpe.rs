//! Byte-level BPE pieces against the reference (`tests/data/bpe_unit_golden.json`, made by
//! `scripts/golden/make_bpe_golden.py` with Hugging Face `tokenizers`): the pre-tokenizers' splits
//! of edge-case and Unicode-class-boundary strings, and ids from tiny random BPE models (merge
//! order, unk, dropped bytes, ignore_merges, added tokens, digit splitting). The decoder is checked
//! against `String::from_utf8_lossy`, the function the reference decodes with. Plus properties
//! that must hold for any input, and the validation of bad planes.

use std::collections::HashMap;
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::sync::OnceLock;

use picoformer::tokenizer::bpe::{
    byte_level_to_bytes, AddedToken, Bpe, BpeBuilder, BpeConfig, BpeOwned, PreTokenizer, ADDED_SPECIAL,
};
use picoformer::Error;
use proptest::prelude::*;
use serde_json::Value;

fn unit_golden() -> &'static Value {
    static DATA: OnceLock<Value> = OnceLock::new();
    DATA.get_or_init(|| {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/bpe_unit_golden.json");
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        serde_json::from_str(&text).expect("unit golden JSON")
    })
}

fn words(pre: PreTokenizer, text: &str) -> Vec<usize> {
    let mut out = Vec::new();
    let _ = pre.for_each_word(text, |w| {
        out.push(w.len());
        ControlFlow::Continue(())
    });
    out
}

#[test]
fn pretokenizers_split_as_the_reference() {
    let cases = unit_golden()["pretokenize"].as_array().expect("cases");
    assert!(cases.len() > 1000);
    let mut failures = 0;
    for case in cases {
        let text = case["text"].as_str().expect("text");
        for (key, pre) in [("gpt2", PreTokenizer::Gpt2), ("gpt2_digits", PreTokenizer::Gpt2Digits)] {
            let want: Vec<usize> =
                case[key].as_array().expect("pieces").iter().map(|x| x.as_u64().unwrap() as usize).collect();
            let got = words(pre, text);
            if got != want {
                failures += 1;
                eprintln!("{key} {text:?}: want {want:?}, got {got:?}");
            }
        }
    }
    assert_eq!(failures, 0);
}

/// A tiny reference model rebuilt with the core's builder.
struct Tiny {
    name: String,
    owned: BpeOwned,
    cases: Vec<(String, Vec<u32>)>,
}

fn tiny_models() -> Vec<Tiny> {
    unit_golden()["models"].as_array().expect("models").iter().map(tiny).collect()
}

fn tiny(m: &Value) -> Tiny {
    let vocab: Vec<(String, u32)> = m["vocab"]
        .as_array()
        .expect("vocab")
        .iter()
        .map(|e| (e[0].as_str().unwrap().to_owned(), e[1].as_u64().unwrap() as u32))
        .collect();
    let added = m["added"].as_array().expect("added");
    let n = vocab
        .iter()
        .map(|e| e.1)
        .chain(added.iter().map(|a| a["id"].as_u64().unwrap() as u32))
        .max()
        .unwrap()
        + 1;
    let mut tokens = vec![Vec::new(); n as usize];
    let mut word_token = vec![false; n as usize];
    let by_string: HashMap<&str, u32> = vocab.iter().map(|(s, id)| (s.as_str(), *id)).collect();
    for (s, id) in &vocab {
        tokens[*id as usize] = byte_level_to_bytes(s).expect("byte-level token");
        word_token[*id as usize] = true;
    }
    let mut config =
        BpeConfig::new(if m["pre"] == "gpt2" { PreTokenizer::Gpt2 } else { PreTokenizer::Gpt2Digits });
    config.ignore_merges = m["ignore_merges"] == true;
    config.unk = m["unk"].as_str().map(|u| by_string[u]);
    let merges = m["merges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (by_string[p[0].as_str().unwrap()], by_string[p[1].as_str().unwrap()]));
    let mut builder = BpeBuilder::new(tokens, config).merges(merges.collect());
    builder.word_token = word_token;
    for a in added {
        let content = a["content"].as_str().unwrap();
        let id = a["id"].as_u64().unwrap() as u32;
        if builder.tokens[id as usize].is_empty() {
            builder.tokens[id as usize] = content.as_bytes().to_vec();
        }
        let (special, normalized) = (a["special"] == true, a["normalized"] == true);
        builder =
            builder.added_token(AddedToken { content: content.as_bytes().to_vec(), id, special, normalized });
    }
    let cases = m["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["text"].as_str().unwrap().to_owned(),
                c["ids"].as_array().unwrap().iter().map(|x| x.as_u64().unwrap() as u32).collect(),
            )
        })
        .collect();
    Tiny {
        name: m["name"].as_str().unwrap().to_owned(),
        owned: builder.build().expect("tiny model builds"),
        cases,
    }
}

fn encode(bpe: &Bpe<'_>, text: &str) -> Vec<u32> {
    let mut ids = vec![0u32; text.len() + 1];
    let mut scratch = vec![0u32; Bpe::scratch_len(text.len())];
    let enc = bpe.encode(text, &mut ids, &mut scratch).expect("encode");
    assert!(!enc.truncated);
    ids.truncate(enc.len);
    ids
}

#[test]
fn tiny_models_give_the_reference_ids() {
    let models = tiny_models();
    assert_eq!(models.len(), 7);
    for t in &models {
        let bpe = t.owned.tokenizer().expect("valid");
        assert!(t.cases.len() > 100, "{}", t.name);
        for (text, want) in &t.cases {
            assert_eq!(&encode(&bpe, text), want, "model {} text {text:?}", t.name);
        }
    }
}

#[test]
fn added_tokens_flags_and_decoding_skips() {
    let models = tiny_models();
    let t = models.iter().find(|t| t.name == "added").expect("added model");
    let bpe = t.owned.tokenizer().unwrap();
    let special = bpe.token(286).unwrap();
    assert_eq!(special, b"<s>");
    assert!(bpe.is_special(286) && bpe.is_special(287) && !bpe.is_special(288) && !bpe.is_special(0));
    let ids = encode(&bpe, "a<s>b");
    let mut buf = [0u8; 64];
    let mut dec = bpe.decoder(true);
    let text: String = ids.iter().map(|&id| dec.push(id, &mut buf).unwrap().to_owned()).collect();
    assert_eq!(text, "a");
    let mut dec = bpe.decoder(false);
    let text: String = ids.iter().map(|&id| dec.push(id, &mut buf).unwrap().to_owned()).collect();
    assert_eq!(text, "a<s>b");
    assert_eq!(t.owned.added.chunks(3).filter(|e| e[2] & ADDED_SPECIAL != 0).count(), 2);
}

/// Every byte a token, merges over a small alphabet: a tokenizer for property tests.
fn byte_model() -> &'static BpeOwned {
    static M: OnceLock<BpeOwned> = OnceLock::new();
    M.get_or_init(|| tiny_models().into_iter().find(|t| t.name == "merges_many").unwrap().owned)
}

#[test]
fn truncation_and_scratch() {
    let bpe = byte_model().tokenizer().unwrap();
    let text = "ab ab 12 aab";
    let all = encode(&bpe, text);
    let mut ids = vec![0u32; all.len() - 2];
    let mut scratch = vec![0u32; Bpe::scratch_len(text.len())];
    let enc = bpe.encode(text, &mut ids, &mut scratch).unwrap();
    assert!(enc.truncated && enc.len == ids.len() && ids[..] == all[..ids.len()]);
    let exact = bpe.scratch_len_for(text);
    assert_eq!(exact, 2 * 4, "longest word \" aab\"");
    let err = bpe.encode(text, &mut vec![0u32; 64], &mut vec![0u32; exact - 1]).unwrap_err();
    assert_eq!(err, Error::BufferTooSmall { needed: 8, got: 7 });
    // One-byte words need no scratch.
    assert_eq!(bpe.scratch_len_for("a!\n"), 0);
    let mut one = [0u32; 2];
    let enc = bpe.encode("a", &mut one, &mut []).unwrap();
    assert_eq!(&one[..enc.len], &encode(&bpe, "a")[..]);
}

#[test]
fn decoder_holds_back_partial_chars_and_replaces_invalid_bytes() {
    let tokens: Vec<Vec<u8>> = (0..=255u8).map(|b| vec![b]).collect();
    let owned = BpeBuilder::new(tokens, BpeConfig::new(PreTokenizer::Gpt2)).build().unwrap();
    let bpe = owned.tokenizer().unwrap();
    let mut dec = bpe.decoder(false);
    let mut buf = [0u8; 64];
    for (i, &b) in "😀".as_bytes().iter().enumerate() {
        let out = dec.push(u32::from(b), &mut buf).unwrap().to_owned();
        assert_eq!(out, if i == 3 { "😀" } else { "" });
    }
    // Too small an output buffer: an error, nothing consumed.
    assert_eq!(dec.push(0xF0, &mut buf).unwrap(), "");
    assert_eq!(
        dec.push(u32::from(b'a'), &mut buf[..3]).unwrap_err(),
        Error::BufferTooSmall { needed: 4, got: 3 }
    );
    assert_eq!(dec.pending(), 1);
    assert_eq!(dec.push(u32::from(b'a'), &mut buf).unwrap(), "\u{FFFD}a");
    // Unknown ids decode to nothing, as in the reference.
    assert_eq!(dec.push(1_000_000, &mut buf).unwrap(), "");
    assert_eq!(dec.finish(&mut buf).unwrap(), "");
}

fn decode_all(bpe: &Bpe<'_>, ids: &[u32]) -> String {
    let mut dec = bpe.decoder(false);
    let mut buf = vec![0u8; dec.max_output_len()];
    let mut out = String::new();
    for &id in ids {
        out.push_str(dec.push(id, &mut buf).unwrap());
        assert!(dec.pending() <= 3);
    }
    out + dec.finish(&mut buf).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    /// Any byte sequence, cut into tokens anywhere, decodes as `from_utf8_lossy` of the whole.
    #[test]
    fn incremental_decode_is_from_utf8_lossy(chunks in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..5), 0..20)) {
        let tokens = chunks.clone();
        let owned = BpeBuilder::new(tokens, BpeConfig::new(PreTokenizer::Gpt2));
        let mut owned = owned;
        owned.word_token = vec![false; chunks.len()];
        let owned = owned.build().unwrap();
        let bpe = owned.tokenizer().unwrap();
        let ids: Vec<u32> = (0..chunks.len() as u32).collect();
        let whole: Vec<u8> = chunks.concat();
        prop_assert_eq!(decode_all(&bpe, &ids), String::from_utf8_lossy(&whole).into_owned());
    }

    /// Any text round-trips through a vocabulary that has every byte, and never panics.
    #[test]
    fn any_text_round_trips(text in "\\PC{0,40}|[ab12 \\t\\n'sSé😀]{0,40}") {
        let bpe = byte_model().tokenizer().unwrap();
        let ids = encode(&bpe, &text);
        prop_assert!(ids.len() <= text.len());
        prop_assert_eq!(decode_all(&bpe, &ids), text);
    }

    /// The words of every pre-tokenizer tile the text.
    #[test]
    fn words_tile_the_text(text in "\\PC{0,60}|[a1 \\t\\n'\\u{a0}]{0,60}") {
        for pre in [PreTokenizer::Gpt2, PreTokenizer::Gpt2Digits] {
            let lens = words(pre, &text);
            prop_assert!(lens.iter().all(|&l| l > 0));
            prop_assert_eq!(lens.iter().sum::<usize>(), text.len());
        }
    }
}

#[test]
fn bad_planes_are_rejected() {
    let owned = byte_model().clone();
    let ok = |o: &BpeOwned| o.tokenizer().is_ok();
    assert!(ok(&owned));
    let bad = |f: &dyn Fn(&mut BpeOwned)| {
        let mut o = owned.clone();
        f(&mut o);
        assert_eq!(o.tokenizer().unwrap_err(), Error::BadVocab);
    };
    bad(&|o| o.token_offsets.clear());
    bad(&|o| *o.token_offsets.last_mut().unwrap() += 1);
    bad(&|o| o.token_offsets[1] = 5);
    bad(&|o| o.byte_ids.pop().map(drop).unwrap_or(()));
    bad(&|o| o.byte_ids[0] = 1_000_000);
    bad(&|o| o.merges.pop().map(drop).unwrap_or(()));
    bad(&|o| {
        let n = o.merges.len();
        for k in 0..4 {
            o.merges.swap(k, n - 4 + k);
        }
    });
    bad(&|o| o.merges[3] = u32::MAX);
    bad(&|o| o.merges[3] = 0); // merged token is not left + right
    bad(&|o| o.added = vec![0, 1, 0]);
    bad(&|o| o.config.unk = Some(1_000_000));
    bad(&|o| o.config.ignore_merges = true); // no sorted plane
    bad(&|o| o.sorted = vec![2, 1]);
    // Random bytes in every plane never panic.
    let mut rng = 0x2545F4914F6CDD1Du64;
    for _ in 0..2000 {
        let mut o = owned.clone();
        let mut next = || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng
        };
        let which = next() % 4;
        let i = next() as usize;
        let v = (next() % 600) as u32;
        match which {
            0 => {
                let n = o.token_offsets.len();
                o.token_offsets[i % n] = v
            }
            1 => {
                let n = o.merges.len();
                o.merges[i % n] = v
            }
            2 => {
                let n = o.byte_ids.len();
                o.byte_ids[i % n] = v
            }
            _ => o.added = vec![v, v % 3, v % 4],
        }
        if let Ok(bpe) = o.tokenizer() {
            let _ = encode(&bpe, "ab 12 ab\u{e9}");
        }
    }
}
