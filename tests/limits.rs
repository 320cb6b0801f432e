//! The documented limits of the core on the bundled models (README "Hostile input"): empty text,
//! text longer than the maximum sequence (truncated and flagged), prompts longer than the context,
//! more tokens asked than the context holds, and arenas of exactly the needed size and one byte short.

use picoformer::format::AlignedBuf;
use picoformer::{
    Bert, Decoder, Error, Generator, GeneratorOptions, Limits, Sampler, SamplerSettings, Session,
    SessionOptions, Stop,
};

fn sentiment() -> AlignedBuf {
    AlignedBuf::from_bytes(include_bytes!("../models/sentiment.pfm"))
}

fn tiny_gpt() -> AlignedBuf {
    AlignedBuf::from_bytes(include_bytes!("../models/tiny-gpt-int8.pfm"))
}

#[test]
fn empty_and_blank_text_classify_as_cls_sep() {
    let buf = sentiment();
    let m = Bert::from_bytes(buf.as_bytes()).unwrap();
    let mut arena = AlignedBuf::zeroed(m.arena_len(m.default_max_seq()).unwrap());
    let mut s = Session::new(&m, arena.as_mut_bytes(), m.default_max_seq()).unwrap();
    let cls = m.tokenizer().config().cls;
    let sep = m.tokenizer().config().sep;
    for text in ["", " ", "\t\n ", "\u{200b}"] {
        let c = s.classify(text).unwrap();
        assert!(!c.truncated, "{text:?}");
        let sum: f32 = c.probs.iter().sum();
        assert!((sum - 1.0).abs() < 1e-5 && c.probs.iter().all(|p| p.is_finite()), "{text:?}: {:?}", c.probs);
        assert_eq!(s.ids(), [cls, sep], "{text:?}");
    }
}

#[test]
fn text_longer_than_the_maximum_sequence_is_truncated_and_flagged() {
    let buf = sentiment();
    let m = Bert::from_bytes(buf.as_bytes()).unwrap();
    let max_seq = 16;
    let mut arena = AlignedBuf::zeroed(m.arena_len(max_seq).unwrap());
    let mut s = Session::new(&m, arena.as_mut_bytes(), max_seq).unwrap();
    let sep = m.tokenizer().config().sep;
    // 14 words fit with [CLS] and [SEP]; 15 do not
    let fits = "good ".repeat(14);
    assert!(!s.classify(&fits).unwrap().truncated);
    assert_eq!(s.ids().len(), 16);
    let long = "good ".repeat(10_000);
    let c = s.classify(&long).unwrap();
    assert!(c.truncated);
    // the same prefix, whatever the length beyond: the same output (the prefix the encoder reads,
    // and the bundled model's lexicon gate reads the first lexicon::MAX_WORDS words)
    let (label, probs) = (c.label, c.probs.to_vec());
    assert_eq!(s.ids().len(), max_seq);
    assert_eq!(s.ids().last(), Some(&sep), "the cut sequence still ends with [SEP]");
    assert!(m.lexicon().is_some());
    let c = s.classify(&"good ".repeat(picoformer::lexicon::MAX_WORDS)).unwrap();
    assert!(c.truncated);
    assert_eq!((c.label, c.probs.to_vec()), (label, probs));
    // within the words VADER reads, more of them can move the gated margin, never the label here
    let c = s.classify(&"good ".repeat(15)).unwrap();
    assert!(c.truncated);
    assert_eq!(c.label, label);
}

#[test]
fn encoder_arena_of_exactly_the_size_and_one_byte_short() {
    let buf = sentiment();
    let m = Bert::from_bytes(buf.as_bytes()).unwrap();
    let opts = SessionOptions::new(64);
    let len = m.arena_len_with(&opts).unwrap();
    let mut arena = AlignedBuf::zeroed(len);
    let mut s = Session::with_options(&m, arena.as_mut_bytes(), &opts).unwrap();
    assert!(s.classify("a fine film").is_ok());
    let mut short = AlignedBuf::zeroed(len - 1);
    let err = Session::with_options(&m, short.as_mut_bytes(), &opts).err().unwrap();
    assert_eq!(err, Error::ArenaTooSmall { needed: len, got: len - 1 });
}

#[test]
fn decoder_arena_of_exactly_the_size_and_one_byte_short() {
    let buf = tiny_gpt();
    let m = Decoder::from_bytes(buf.as_bytes()).unwrap();
    let opts = GeneratorOptions::new(32);
    let len = m.arena_len(&opts).unwrap();
    let mut arena = AlignedBuf::zeroed(len);
    let mut g = Generator::new(&m, arena.as_mut_bytes(), &opts).unwrap();
    assert!(g.feed_text("Call me").is_ok());
    let mut short = AlignedBuf::zeroed(len - 1);
    let err = Generator::new(&m, short.as_mut_bytes(), &opts).err().unwrap();
    assert_eq!(err, Error::ArenaTooSmall { needed: len, got: len - 1 });
}

#[test]
fn more_tokens_than_the_context_stop_at_context_full() {
    let buf = tiny_gpt();
    let m = Decoder::from_bytes(buf.as_bytes()).unwrap();
    let context = 12;
    let opts = GeneratorOptions::new(context);
    let mut arena = AlignedBuf::zeroed(m.arena_len(&opts).unwrap());
    let mut g = Generator::new(&m, arena.as_mut_bytes(), &opts).unwrap();
    let mut sampler = Sampler::new(SamplerSettings::GREEDY).unwrap();
    // nothing fed yet: there is nothing to predict from
    let limits = Limits { max_tokens: 1000, stop_ids: &[] };
    assert_eq!(
        g.next(&mut sampler, &limits).err(),
        Some(Error::BadSequenceLength { asked: 1, max: context })
    );
    // an empty prompt feeds nothing
    assert_eq!(g.feed_text("").unwrap(), 0);
    g.feed(&[0]).unwrap();
    // an end-of-sequence token stops a step too; the next call goes on while there is room
    let mut steps = 0;
    while g.next(&mut sampler, &limits).unwrap().stop != Some(Stop::ContextFull) {
        steps += 1;
        assert!(steps < context, "no ContextFull after {steps} steps");
    }
    assert_eq!(steps + 1, context - 1, "one id fed, then context - 1 generated");
    assert_eq!(g.ids().len(), context);
    // asking again past the end is an error, not a wrap or an overwrite
    assert_eq!(
        g.next(&mut sampler, &limits).err(),
        Some(Error::BadSequenceLength { asked: context + 1, max: context })
    );
    assert_eq!(g.ids().len(), context);
}

#[test]
fn prompt_longer_than_the_context_is_refused_without_feeding() {
    let buf = tiny_gpt();
    let m = Decoder::from_bytes(buf.as_bytes()).unwrap();
    let context = 8;
    let opts = GeneratorOptions::new(context);
    let mut arena = AlignedBuf::zeroed(m.arena_len(&opts).unwrap());
    let mut g = Generator::new(&m, arena.as_mut_bytes(), &opts).unwrap();
    // ids: checked before anything is fed
    assert_eq!(g.feed(&[1; 9]).err(), Some(Error::BadSequenceLength { asked: 9, max: context }));
    assert!(g.ids().is_empty());
    // text: the ids that fit are fed, then the error
    let err = g.feed_text(&"word ".repeat(100)).err();
    assert_eq!(err, Some(Error::BadSequenceLength { asked: context + 1, max: context }));
    assert_eq!(g.ids().len(), context);
}
