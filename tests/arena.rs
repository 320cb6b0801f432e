//! The arena: the size a model reports is exactly enough, one byte less fails cleanly (for every
//! dtype, task, sequence length, chunk and key/value precision), and chunked processing gives the
//! same results as all-rows-at-once.

mod common;

use common::{blob, Tiny};
use picoformer::format::{AlignedBuf, DType, Task};
use picoformer::{Bert, Error, KvPrecision, Session, SessionOptions};

const TEXT: &str = "I loved the movie, it was great! not bad at all.";

#[test]
fn reported_size_is_exact() {
    for dtype in [DType::F32, DType::F16, DType::I8Row] {
        for task in [Task::Embedding, Task::Classification, Task::MaskedLm] {
            let buf = blob(&Tiny { dtype, task, ..Tiny::default() });
            let m = Bert::from_bytes(buf.as_bytes()).unwrap();
            for max_seq in [2, 5, 16, 24] {
                let len = m.arena_len(max_seq).unwrap();
                let mut arena = AlignedBuf::zeroed(len);
                let mut s = Session::new(&m, arena.as_mut_bytes(), max_seq).unwrap();
                let enc = s.run(TEXT).unwrap();
                assert!(enc.len <= max_seq);
                let mut short = AlignedBuf::zeroed(len - 1);
                let err = Session::new(&m, short.as_mut_bytes(), max_seq).err().unwrap();
                assert_eq!(err, Error::ArenaTooSmall { needed: len, got: len - 1 });
            }
        }
    }
}

#[test]
fn reported_size_is_exact_for_every_option() {
    for dtype in [DType::F32, DType::F16, DType::I8Row] {
        for task in [Task::Embedding, Task::Classification, Task::MaskedLm] {
            let buf = blob(&Tiny { dtype, task, ..Tiny::default() });
            let m = Bert::from_bytes(buf.as_bytes()).unwrap();
            for max_seq in [2, 5, 16, 24] {
                for chunk in [1, 2, 3, 7, max_seq] {
                    for kv in [KvPrecision::F32, KvPrecision::I8] {
                        let opts = SessionOptions::new(max_seq).with_chunk(chunk.min(max_seq)).with_kv(kv);
                        let len = m.arena_len_with(&opts).unwrap();
                        if kv == KvPrecision::F32 {
                            assert_eq!(len, m.arena_len_chunked(max_seq, opts.chunk).unwrap());
                        }
                        let mut arena = AlignedBuf::zeroed(len);
                        let mut s = Session::with_options(&m, arena.as_mut_bytes(), &opts).unwrap();
                        assert_eq!(s.options(), &opts);
                        let enc = s.run(TEXT).unwrap();
                        assert!(enc.len <= max_seq);
                        match task {
                            Task::Classification => assert!(s.classify(TEXT).unwrap().probs[0].is_finite()),
                            Task::MaskedLm => assert!(s.mlm_logits(0).unwrap()[0].is_finite()),
                            _ => assert!(s.embed(TEXT).unwrap().iter().all(|x| x.is_finite())),
                        }
                        let mut short = AlignedBuf::zeroed(len - 1);
                        let err = Session::with_options(&m, short.as_mut_bytes(), &opts).err().unwrap();
                        assert_eq!(err, Error::ArenaTooSmall { needed: len, got: len - 1 }, "{opts:?}");
                    }
                }
            }
        }
    }
}

#[test]
fn misaligned_arena_needs_only_the_padding() {
    let buf = blob(&Tiny::default());
    let m = Bert::from_bytes(buf.as_bytes()).unwrap();
    for kv in [KvPrecision::F32, KvPrecision::I8] {
        let opts = SessionOptions::new(16).with_chunk(3).with_kv(kv);
        let len = m.arena_len_with(&opts).unwrap();
        let mut arena = AlignedBuf::zeroed(len + 32);
        let bytes = arena.as_mut_bytes();
        let shifted = &mut bytes[3..3 + len];
        let err = Session::with_options(&m, shifted, &opts).err().unwrap();
        assert_eq!(err, Error::ArenaTooSmall { needed: len + 29, got: len });
        let mut s = Session::with_options(&m, &mut bytes[3..3 + len + 29], &opts).unwrap();
        assert!(s.classify(TEXT).is_ok());
    }
}

#[test]
fn bad_sequence_lengths() {
    let buf = blob(&Tiny::default());
    let m = Bert::from_bytes(buf.as_bytes()).unwrap();
    assert_eq!(m.arena_len(1).unwrap_err(), Error::BadSequenceLength { asked: 1, max: 24 });
    assert_eq!(m.arena_len(25).unwrap_err(), Error::BadSequenceLength { asked: 25, max: 24 });
    assert!(m.arena_len_chunked(16, 0).is_err());
    assert!(m.arena_len_chunked(16, 17).is_err());
    for kv in [KvPrecision::F32, KvPrecision::I8] {
        let bad = |max_seq, chunk| SessionOptions::new(max_seq).with_chunk(chunk).with_kv(kv);
        assert_eq!(m.arena_len_with(&bad(1, 1)).unwrap_err(), Error::BadSequenceLength { asked: 1, max: 24 });
        assert_eq!(
            m.arena_len_with(&bad(16, 0)).unwrap_err(),
            Error::BadSequenceLength { asked: 0, max: 16 }
        );
        assert_eq!(
            m.arena_len_with(&bad(16, 17)).unwrap_err(),
            Error::BadSequenceLength { asked: 17, max: 16 }
        );
        let mut a = AlignedBuf::zeroed(1 << 16);
        assert!(Session::with_options(&m, a.as_mut_bytes(), &bad(25, 1)).is_err());
    }
}

#[test]
fn chunked_matches_all_rows() {
    for dtype in [DType::F32, DType::F16, DType::I8Row] {
        let buf = blob(&Tiny { dtype, task: Task::Embedding, ..Tiny::default() });
        let m = Bert::from_bytes(buf.as_bytes()).unwrap();
        let mut a = AlignedBuf::zeroed(m.arena_len(24).unwrap());
        let full = Session::new(&m, a.as_mut_bytes(), 24).unwrap().embed(TEXT).unwrap().to_vec();
        for chunk in [1, 3, 7] {
            let small = m.arena_len_chunked(24, chunk).unwrap();
            assert!(small < m.arena_len(24).unwrap());
            let mut b = AlignedBuf::zeroed(small);
            let mut s = Session::with_chunk(&m, b.as_mut_bytes(), 24, chunk).unwrap();
            let e = s.embed(TEXT).unwrap();
            for (x, y) in e.iter().zip(&full) {
                assert!((x - y).abs() <= 1e-6, "chunk {chunk} {dtype:?}: {x} vs {y}");
            }
        }
    }
}

#[test]
fn chunked_matches_all_rows_with_int8_kv() {
    for dtype in [DType::F32, DType::F16, DType::I8Row] {
        let buf = blob(&Tiny { dtype, task: Task::Embedding, ..Tiny::default() });
        let m = Bert::from_bytes(buf.as_bytes()).unwrap();
        let all = SessionOptions::new(24).with_kv(KvPrecision::I8);
        let mut a = AlignedBuf::zeroed(m.arena_len_with(&all).unwrap());
        let full = Session::with_options(&m, a.as_mut_bytes(), &all).unwrap().embed(TEXT).unwrap().to_vec();
        for chunk in [1, 3, 7] {
            let opts = all.with_chunk(chunk);
            let small = m.arena_len_with(&opts).unwrap();
            assert!(small < m.arena_len_with(&all).unwrap());
            assert!(small < m.arena_len_chunked(24, chunk).unwrap());
            let mut b = AlignedBuf::zeroed(small);
            let mut s = Session::with_options(&m, b.as_mut_bytes(), &opts).unwrap();
            let e = s.embed(TEXT).unwrap();
            for (x, y) in e.iter().zip(&full) {
                assert!((x - y).abs() <= 1e-6, "chunk {chunk} {dtype:?}: {x} vs {y}");
            }
        }
    }
}

#[test]
fn wrong_task_and_missing_mask() {
    let buf = blob(&Tiny { task: Task::Embedding, ..Tiny::default() });
    let m = Bert::from_bytes(buf.as_bytes()).unwrap();
    let mut a = AlignedBuf::zeroed(m.arena_len(16).unwrap());
    let mut s = Session::new(&m, a.as_mut_bytes(), 16).unwrap();
    assert_eq!(s.classify(TEXT).err(), Some(Error::WrongTask));
    let buf = blob(&Tiny { task: Task::MaskedLm, ..Tiny::default() });
    let m = Bert::from_bytes(buf.as_bytes()).unwrap();
    let mut a = AlignedBuf::zeroed(m.arena_len(16).unwrap());
    let mut s = Session::new(&m, a.as_mut_bytes(), 16).unwrap();
    let mut pos = [0usize; 4];
    assert_eq!(s.run_masked(TEXT, &mut pos).err(), Some(Error::NoMaskToken));
    let p = s.run_masked("the [MASK] was great", &mut pos).unwrap();
    assert_eq!(p, &[2]);
}
