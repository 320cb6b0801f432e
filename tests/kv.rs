//! int8 keys and values (`KvPrecision::I8`): close to f32 keys and values on the synthetic models,
//! and small enough for the sentiment student (hidden 128, 4 heads, intermediate 512, 64 tokens)
//! to run in 64 KiB. The real-model check against PyTorch is `quantize-tool/tests/golden_minilm_kv8.rs`.

mod common;

use common::{blob, Tiny};
use picoformer::format::{AlignedBuf, DType, Task};
use picoformer::{Bert, KvPrecision, Session, SessionOptions};

const TEXTS: &[&str] = &[
    "I loved the movie, it was great! not bad at all.",
    "the film was bad",
    "a b c the movie the film it was not great. i loved it!",
    "the [MASK] was great",
    "",
    // 90+ tokens: truncated to max_seq
    "the movie was great ! i loved it . the movie was great ! i loved it . the movie was great ! i loved it . the movie was great ! i loved it . the movie was great ! i loved it .\
     the movie was great ! i loved it . the movie was great ! i loved it . the movie was great ! i loved it . the movie was great ! i loved it . the movie was great ! i loved it .",
];

fn cosine(a: &[f32], b: &[f32]) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| *x as f64 * *y as f64).sum();
    let na: f64 = a.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
    let nb: f64 = b.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
    dot / (na * nb).max(1e-30)
}

/// A session over a fresh arena of exactly the reported size.
fn with_arena<R>(m: &Bert<'_>, opts: &SessionOptions, f: impl FnOnce(&mut Session<'_, '_>) -> R) -> R {
    let mut arena = AlignedBuf::zeroed(m.arena_len_with(opts).unwrap());
    let mut s = Session::with_options(m, arena.as_mut_bytes(), opts).unwrap();
    f(&mut s)
}

/// Hidden states of every text, with `kv` keys and values.
fn hidden(m: &Bert<'_>, max_seq: usize, chunk: usize, kv: KvPrecision) -> Vec<Vec<f32>> {
    let opts = SessionOptions::new(max_seq).with_chunk(chunk).with_kv(kv);
    with_arena(m, &opts, |s| {
        TEXTS
            .iter()
            .map(|t| {
                s.run(t).unwrap();
                s.hidden().to_vec()
            })
            .collect()
    })
}

/// Worst cosine over every token's final hidden state, int8 vs f32 keys and values.
fn worst_hidden_cosine(t: &Tiny, chunk: usize) -> f64 {
    let buf = blob(t);
    let m = Bert::from_bytes(buf.as_bytes()).unwrap();
    let (h, max_seq) = (t.hidden as usize, t.max_pos as usize);
    let f = hidden(&m, max_seq, chunk.min(max_seq), KvPrecision::F32);
    let q = hidden(&m, max_seq, chunk.min(max_seq), KvPrecision::I8);
    let mut worst = 1f64;
    for (a, b) in f.iter().zip(&q) {
        assert_eq!(a.len(), b.len());
        for (ra, rb) in a.chunks_exact(h).zip(b.chunks_exact(h)) {
            worst = worst.min(cosine(ra, rb));
        }
    }
    worst
}

#[test]
fn int8_kv_matches_f32_kv_on_tiny_models() {
    for dtype in [DType::F32, DType::F16, DType::I8Row] {
        for task in [Task::Embedding, Task::Classification, Task::MaskedLm] {
            for chunk in [1, 5, 24] {
                let t = Tiny { dtype, task, ..Tiny::default() };
                let worst = worst_hidden_cosine(&t, chunk);
                println!(
                    "tiny {dtype:?} {task:?} chunk {chunk}: worst token cosine int8 vs f32 KV {worst:.6}"
                );
                assert!(worst >= 0.999, "{dtype:?} {task:?} chunk {chunk}: cosine {worst}");
            }
        }
    }
}

#[test]
fn int8_kv_matches_f32_kv_on_wider_model() {
    // head_dim 32 and sequences past the hidden size exercise the [C, max(H, I, S)] 16-bit buffer.
    let t = Tiny { hidden: 64, heads: 2, inter: 48, max_pos: 96, layers: 3, ..Tiny::default() };
    let worst = worst_hidden_cosine(&t, 7);
    println!("hidden 64, 2 heads, max_seq 96: worst token cosine int8 vs f32 KV {worst:.6}");
    assert!(worst >= 0.999, "cosine {worst}");
}

#[test]
fn int8_kv_heads_agree_with_f32_kv() {
    let all = SessionOptions::new(24);
    let i8 = all.with_chunk(3).with_kv(KvPrecision::I8);
    // classification: same label, probabilities within 1e-2
    let buf = blob(&Tiny { task: Task::Classification, ..Tiny::default() });
    let m = Bert::from_bytes(buf.as_bytes()).unwrap();
    for text in TEXTS {
        let (l0, p0) = with_arena(&m, &all, |s| {
            let c = s.classify(text).unwrap();
            (c.label, c.probs.to_vec())
        });
        let (l1, p1) = with_arena(&m, &i8, |s| {
            let c = s.classify(text).unwrap();
            (c.label, c.probs.to_vec())
        });
        assert_eq!(l0, l1, "{text:?}: {p0:?} vs {p1:?}");
        assert!(p0.iter().zip(&p1).all(|(a, b)| (a - b).abs() <= 1e-2), "{text:?}: {p0:?} vs {p1:?}");
    }
    // masked LM: the same best token
    let buf = blob(&Tiny { task: Task::MaskedLm, ..Tiny::default() });
    let m = Bert::from_bytes(buf.as_bytes()).unwrap();
    let best = |opts: &SessionOptions| {
        with_arena(&m, opts, |s| {
            let mut pos = [0usize; 1];
            let p = s.run_masked("the [MASK] was great", &mut pos).unwrap()[0];
            let mut top = [Default::default(); 1];
            s.fill_mask_at(p, &mut top).unwrap()[0]
        })
    };
    let (a, b) = (best(&all), best(&i8));
    assert_eq!(a.id, b.id);
    assert!((a.prob - b.prob).abs() <= 1e-2, "{a:?} vs {b:?}");
}

/// A model shaped like the sentiment student: hidden 128, 4 heads of 32, intermediate 512, 4 layers,
/// vocabulary 8000, 64 positions, int8 weights, 2 labels.
fn student() -> Tiny {
    Tiny {
        vocab: 8000,
        hidden: 128,
        heads: 4,
        inter: 512,
        layers: 4,
        max_pos: 64,
        task: Task::Classification,
        dtype: DType::I8Row,
    }
}

#[test]
fn student_runs_64_tokens_in_64_kib() {
    let buf = blob(&student());
    let m = Bert::from_bytes(buf.as_bytes()).unwrap();
    for chunk in [1, 2, 4, 8, 16, 64] {
        let f = m.arena_len_chunked(64, chunk).unwrap();
        let opts = SessionOptions::new(64).with_chunk(chunk).with_kv(KvPrecision::I8);
        let q = m.arena_len_with(&opts).unwrap();
        println!(
            "student, max_seq 64, chunk {chunk:2}: f32 KV {f:6} B ({:5.1} KiB), int8 KV {q:6} B ({:5.1} KiB)",
            f as f64 / 1024.0,
            q as f64 / 1024.0
        );
        assert!(q < f);
    }
    let opts = SessionOptions::new(64).with_chunk(2).with_kv(KvPrecision::I8);
    let len = m.arena_len_with(&opts).unwrap();
    assert!(len <= 64 * 1024, "student arena {len} B > 64 KiB");
    // it runs in exactly that arena, on a text of all 64 positions, and agrees with f32 keys/values
    let long = "the movie was great ".repeat(20);
    let mut arena = AlignedBuf::zeroed(len);
    let mut s = Session::with_options(&m, arena.as_mut_bytes(), &opts).unwrap();
    let c = s.classify(&long).unwrap();
    assert!(c.truncated);
    let (label, probs) = (c.label, c.probs.to_vec());
    let q = s.hidden().to_vec();
    assert_eq!(q.len(), 64 * 128);
    let f = with_arena(&m, &SessionOptions::new(64), |s| {
        let c = s.classify(&long).unwrap();
        assert_eq!(c.label, label);
        assert!(c.probs.iter().zip(&probs).all(|(a, b)| (a - b).abs() <= 1e-2), "{:?} vs {probs:?}", c.probs);
        s.hidden().to_vec()
    });
    let worst = f.chunks_exact(128).zip(q.chunks_exact(128)).map(|(a, b)| cosine(a, b)).fold(1f64, f64::min);
    println!("student, 64 tokens: worst token cosine int8 vs f32 KV {worst:.6}");
    assert!(worst >= 0.999, "cosine {worst}");
}

/// A chunk longer than the attention's query tile (64 rows): the tiles give the hidden states of
/// one row at a time, for every key/value precision, up to float summation order (a chunk of many
/// rows may take the packed GEMM kernels, one row the dot-product ones; a misplaced tile would be
/// off by the size of the states themselves).
#[test]
fn chunk_past_the_query_tile_matches_row_by_row() {
    let t = Tiny { max_pos: 150, ..Tiny::default() };
    let buf = blob(&t);
    let m = Bert::from_bytes(buf.as_bytes()).unwrap();
    let (h, max_seq) = (t.hidden as usize, t.max_pos as usize);
    let long = "the movie was great ! i loved it . ".repeat(20);
    for kv in [KvPrecision::F32, KvPrecision::F16, KvPrecision::I8] {
        let run = |chunk: usize| {
            with_arena(&m, &SessionOptions::new(max_seq).with_chunk(chunk).with_kv(kv), |s| {
                s.run(&long).unwrap();
                s.hidden().to_vec()
            })
        };
        let (one, tiled) = (run(1), run(max_seq));
        assert_eq!(one.len(), max_seq * h, "{kv:?}: the text fills all {max_seq} positions (3 tiles)");
        let diff = one.iter().zip(&tiled).fold(0f32, |d, (a, b)| d.max((a - b).abs()));
        println!(
            "{kv:?} KV: {max_seq} tokens in one chunk vs one row at a time: max |hidden diff| {diff:.2e}"
        );
        // f32: summation order alone (measured 2e-6); f16 and int8 keys/values round the slightly
        // different projections to their grids (measured 6e-6, 6e-5)
        let tol = match kv {
            KvPrecision::F32 => 2e-5,
            KvPrecision::F16 => 1e-4,
            _ => 1e-3,
        };
        assert!(diff <= tol, "{kv:?}: {diff} > {tol}");
    }
}
