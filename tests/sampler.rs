//! The sampler against Hugging Face `generate` semantics: greedy is argmax, processors in the order
//! repetition penalty, temperature, top-k, top-p, min-p, and sampled frequencies match the exact
//! probabilities (computed here in f64 the way transformers' logits processors compute them).

use picoformer::sampler::{argmax, Sampler, SamplerSettings};
use picoformer::Error;
use proptest::prelude::*;

/// Draws `n` ids from fresh copies of `logits`; returns the count of each id.
fn histogram(settings: SamplerSettings, logits: &[f32], recent: &[u32], n: usize) -> Vec<u64> {
    let mut sampler = Sampler::new(settings).unwrap();
    let mut scratch = vec![0u32; sampler.scratch_len(logits.len())];
    let mut counts = vec![0u64; logits.len()];
    for _ in 0..n {
        let mut row = logits.to_vec();
        let id = sampler.sample(&mut row, recent, &mut scratch).unwrap();
        counts[id as usize] += 1;
    }
    counts
}

/// The reference: Hugging Face's processors, in `_get_logits_processor` order, in f64.
/// Returns the probability of each id (0 for filtered ids).
fn hf_probs(s: &SamplerSettings, logits: &[f32], recent: &[u32]) -> Vec<f64> {
    let mut x: Vec<f64> = logits.iter().map(|&l| l as f64).collect();
    // RepetitionPenaltyLogitsProcessor: gather the ids' scores, penalise, scatter (each id once).
    let mut seen = recent.to_vec();
    seen.sort_unstable();
    seen.dedup();
    for &id in &seen {
        if let Some(v) = x.get_mut(id as usize) {
            let r = s.repetition_penalty as f64;
            *v = if *v < 0.0 { *v * r } else { *v / r };
        }
    }
    // TemperatureLogitsWarper
    for v in x.iter_mut() {
        *v /= s.temperature as f64;
    }
    // TopKLogitsWarper: remove scores < the k-th largest
    if s.top_k > 0 && s.top_k < x.len() {
        let mut sorted = x.clone();
        sorted.sort_by(|a, b| b.partial_cmp(a).unwrap());
        let kth = sorted[s.top_k - 1];
        for v in x.iter_mut() {
            if *v < kth {
                *v = f64::NEG_INFINITY;
            }
        }
    }
    // TopPLogitsWarper: sort ascending, cumulative softmax, remove cum <= 1 - top_p, keep the last
    if s.top_p < 1.0 {
        let p = softmax(&x);
        let mut order: Vec<usize> = (0..x.len()).collect();
        order.sort_by(|&a, &b| x[a].partial_cmp(&x[b]).unwrap().then(b.cmp(&a)));
        let mut cum = 0.0;
        let last = order.len() - 1;
        for (rank, &i) in order.iter().enumerate() {
            cum += p[i];
            if cum <= 1.0 - s.top_p as f64 && rank != last {
                x[i] = f64::NEG_INFINITY;
            }
        }
    }
    // MinPLogitsWarper: remove p < min_p * max p
    if s.min_p > 0.0 {
        let p = softmax(&x);
        let pmax = p.iter().cloned().fold(0.0, f64::max);
        for (v, &pi) in x.iter_mut().zip(&p) {
            if pi < s.min_p as f64 * pmax {
                *v = f64::NEG_INFINITY;
            }
        }
    }
    softmax(&x)
}

fn softmax(x: &[f64]) -> Vec<f64> {
    let m = x.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let e: Vec<f64> = x.iter().map(|&v| (v - m).exp()).collect();
    let z: f64 = e.iter().sum();
    e.iter().map(|v| v / z).collect()
}

/// Pearson's chi-square of `counts` against `probs`; ids with probability 0 must never be drawn.
/// The bound is the 1e-6 upper quantile for 7 degrees of freedom (39.1), rounded up: with a fixed
/// seed the test is deterministic, and a wrong distribution gives values in the hundreds.
fn assert_matches(name: &str, counts: &[u64], probs: &[f64]) {
    let n: u64 = counts.iter().sum();
    let mut chi2 = 0.0;
    for (id, (&c, &p)) in counts.iter().zip(probs).enumerate() {
        if p == 0.0 {
            assert_eq!(c, 0, "{name}: id {id} has probability 0 but was drawn {c} times");
            continue;
        }
        let e = p * n as f64;
        chi2 += (c as f64 - e) * (c as f64 - e) / e;
    }
    let kept = probs.iter().filter(|&&p| p > 0.0).count();
    assert!(kept <= 8, "{name}: the bound assumes at most 7 degrees of freedom");
    println!("{name}: chi2 {chi2:.2} over {kept} ids, counts {counts:?}");
    assert!(chi2 < 40.0, "{name}: chi2 {chi2:.2}, counts {counts:?}, expected probs {probs:?}");
}

const DRAWS: usize = 200_000;
const LOGITS: [f32; 8] = [1.0, 2.5, -0.5, 2.0, 0.3, -2.0, 1.7, 0.0];

fn sampling(temperature: f32) -> SamplerSettings {
    SamplerSettings { temperature, seed: 42, ..SamplerSettings::GREEDY }
}

fn check_distribution(name: &str, s: SamplerSettings, logits: &[f32], recent: &[u32]) {
    let probs = hf_probs(&s, logits, recent);
    let counts = histogram(s, logits, recent, DRAWS);
    assert_matches(name, &counts, &probs);
}

#[test]
fn temperature_matches_softmax() {
    check_distribution("t=0.7", sampling(0.7), &LOGITS, &[]);
    check_distribution("t=1", sampling(1.0), &LOGITS, &[]);
    check_distribution("t=2.5", sampling(2.5), &LOGITS, &[]);
}

#[test]
fn top_k_matches_hf() {
    check_distribution("k=3 t=1.3", SamplerSettings { top_k: 3, ..sampling(1.3) }, &LOGITS, &[]);
    check_distribution("k=5 t=0.8", SamplerSettings { top_k: 5, ..sampling(0.8) }, &LOGITS, &[]);
    // ties with the k-th logit are kept (scores < k-th are removed): k=2 keeps three ids here
    let tied = [1.0, 3.0, 1.0, 0.0, 1.0, -1.0];
    let s = SamplerSettings { top_k: 2, ..sampling(1.0) };
    let probs = hf_probs(&s, &tied, &[]);
    assert_eq!(probs.iter().filter(|&&p| p > 0.0).count(), 4);
    check_distribution("k=2 with ties", s, &tied, &[]);
}

#[test]
fn top_p_matches_hf() {
    check_distribution("p=0.8", SamplerSettings { top_p: 0.8, ..sampling(1.0) }, &LOGITS, &[]);
    check_distribution("p=0.5 t=1.5", SamplerSettings { top_p: 0.5, ..sampling(1.5) }, &LOGITS, &[]);
    check_distribution(
        "p=0.95 k=6 t=1.4",
        SamplerSettings { top_p: 0.95, top_k: 6, ..sampling(1.4) },
        &LOGITS,
        &[],
    );
}

#[test]
fn min_p_matches_hf() {
    check_distribution("min_p=0.2 t=0.9", SamplerSettings { min_p: 0.2, ..sampling(0.9) }, &LOGITS, &[]);
    check_distribution("min_p=0.05 t=2", SamplerSettings { min_p: 0.05, ..sampling(2.0) }, &LOGITS, &[]);
}

#[test]
fn min_p_comes_after_top_p() {
    // p = [.4, .3, .2, .05, .05]: top-p 0.75 keeps {0, 1, 2} (mass above id 2 is .7 < .75), then
    // min-p 0.25 keeps all three. Min-p first would renormalise to [.44, .33, .22] and top-p would
    // then drop id 2.
    let logits: Vec<f32> = [0.4f32, 0.3, 0.2, 0.05, 0.05].iter().map(|p| p.ln()).collect();
    let s = SamplerSettings { top_p: 0.75, min_p: 0.25, ..sampling(1.0) };
    let probs = hf_probs(&s, &logits, &[]);
    assert!(probs[2] > 0.2 && probs[3] == 0.0, "{probs:?}");
    check_distribution("top-p then min-p", s, &logits, &[]);
}

#[test]
fn all_processors_together() {
    let s = SamplerSettings {
        temperature: 1.5,
        top_k: 6,
        top_p: 0.9,
        min_p: 0.05,
        repetition_penalty: 1.3,
        seed: 7,
    };
    check_distribution("everything", s, &LOGITS, &[1, 3, 3, 5, 100]);
}

#[test]
fn repetition_penalty_follows_hf() {
    // HF: score < 0 ? score * penalty : score / penalty, each distinct id once, ids >= vocab ignored.
    let greedy = |logits: &[f32], recent: &[u32], penalty: f32| {
        let s = SamplerSettings { repetition_penalty: penalty, ..SamplerSettings::GREEDY };
        let mut sampler = Sampler::new(s).unwrap();
        let mut scratch = vec![0u32; sampler.scratch_len(logits.len())];
        assert_eq!(scratch.len(), logits.len());
        sampler.sample(&mut logits.to_vec(), recent, &mut scratch).unwrap()
    };
    // positive logit divided: 2.0 / 2 = 1.0 < 1.5
    assert_eq!(greedy(&[2.0, 1.5, -1.0], &[0], 2.0), 1);
    // negative logit multiplied: -1.0 * 2 = -2.0 < -1.5
    assert_eq!(greedy(&[-1.0, -1.5, -3.0], &[0], 2.0), 1);
    // a negative logit is not divided (that would raise it): -3.0 * 2 = -6.0, id 1 stays best
    assert_eq!(greedy(&[-3.0, -2.0], &[0], 2.0), 1);
    // once per distinct id: 4.0 / 2 = 2.0 > 1.5 (three times would give 0.5)
    assert_eq!(greedy(&[4.0, 1.5], &[0, 0, 0], 2.0), 0);
    // penalty < 1 rewards: 1.0 / 0.5 = 2.0 > 1.5
    assert_eq!(greedy(&[1.0, 1.5], &[0], 0.5), 0);
    // ids outside the vocabulary are ignored; 0 stays 0 (0 / r)
    assert_eq!(greedy(&[0.0, -0.5], &[0, 7, u32::MAX], 3.0), 0);
    // the marks used for de-duplication are cleared: a second call sees the same ids afresh
    let s = SamplerSettings { repetition_penalty: 2.0, ..SamplerSettings::GREEDY };
    let mut sampler = Sampler::new(s).unwrap();
    let mut scratch = vec![0u32; 2];
    for _ in 0..3 {
        assert_eq!(sampler.sample(&mut [4.0, 1.5], &[0, 0], &mut scratch).unwrap(), 0);
    }
    // and with sampling, the distribution is the penalised softmax
    let s = SamplerSettings { repetition_penalty: 1.8, ..sampling(1.0) };
    check_distribution("penalty 1.8", s, &LOGITS, &[1, 1, 2, 6]);
}

#[test]
fn greedy_is_argmax() {
    let mut rng = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let mut sampler = Sampler::new(SamplerSettings::GREEDY).unwrap();
    assert_eq!(sampler.scratch_len(49152), 0);
    for case in 0..500 {
        let vocab = 1 + (next() % 300) as usize;
        // few distinct values, so ties are common
        let logits: Vec<f32> = (0..vocab).map(|_| (next() % 7) as f32 - 3.0).collect();
        let max = logits.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
        let first = logits.iter().position(|&l| l == max).unwrap() as u32;
        let id = sampler.sample(&mut logits.clone(), &[1, 2, 3], &mut []).unwrap();
        assert_eq!(id, first, "case {case}: {logits:?}");
        assert_eq!(argmax(&logits), Some(first));
    }
    // NaN counts as -inf; all NaN/-inf gives id 0; +inf wins
    assert_eq!(argmax(&[f32::NAN, -5.0, f32::NAN]), Some(1));
    assert_eq!(argmax(&[f32::NAN, f32::NEG_INFINITY]), Some(0));
    assert_eq!(argmax(&[1.0, f32::INFINITY, f32::INFINITY]), Some(1));
    assert_eq!(argmax(&[]), None);
    // -0.0 and 0.0 are equal: the first wins
    assert_eq!(argmax(&[-0.0, 0.0]), Some(0));
}

#[test]
fn top_k_one_is_greedy() {
    for (i, &t) in [1e-3f32, 0.3, 1.0, 5.0, 100.0, 1e30].iter().enumerate() {
        let s = SamplerSettings {
            temperature: t,
            top_k: 1,
            top_p: 0.9,
            min_p: 0.1,
            seed: i as u64,
            ..SamplerSettings::GREEDY
        };
        let mut sampler = Sampler::new(s).unwrap();
        assert_eq!(sampler.scratch_len(8), 0);
        for _ in 0..50 {
            assert_eq!(sampler.sample(&mut LOGITS.to_vec(), &[], &mut []).unwrap(), 1);
        }
    }
}

#[test]
fn same_seed_same_sequence() {
    let s = SamplerSettings {
        temperature: 1.2,
        top_k: 5,
        top_p: 0.95,
        min_p: 0.01,
        repetition_penalty: 1.1,
        seed: 1234,
    };
    let run = |s: SamplerSettings| {
        let mut sampler = Sampler::new(s).unwrap();
        let mut scratch = vec![0u32; sampler.scratch_len(LOGITS.len())];
        let mut recent = vec![];
        (0..300)
            .map(|_| {
                let id = sampler.sample(&mut LOGITS.to_vec(), &recent, &mut scratch).unwrap();
                recent.push(id);
                if recent.len() > 4 {
                    recent.remove(0);
                }
                id
            })
            .collect::<Vec<u32>>()
    };
    let a = run(s);
    assert_eq!(a, run(s));
    assert_ne!(a, run(SamplerSettings { seed: 1235, ..s }), "a different seed gives a different sequence");
    // reseed restarts the sequence
    let mut sampler = Sampler::new(s).unwrap();
    let mut scratch = vec![0u32; 8];
    let first: Vec<u32> =
        (0..20).map(|_| sampler.sample(&mut LOGITS.to_vec(), &[], &mut scratch).unwrap()).collect();
    sampler.reseed(s.seed);
    let again: Vec<u32> =
        (0..20).map(|_| sampler.sample(&mut LOGITS.to_vec(), &[], &mut scratch).unwrap()).collect();
    assert_eq!(first, again);
}

#[test]
fn large_vocab_top_k_top_p() {
    // SmolLM2-sized rows (each value ~5 times, so ties everywhere): every sampled id must be one the
    // Hugging Face reference keeps.
    let vocab = 49152;
    let logits: Vec<f32> = (0..vocab).map(|i| ((i as u64 * 2654435761) % 10007) as f32 / 1000.0).collect();
    for s in [
        SamplerSettings { temperature: 0.8, top_k: 40, top_p: 0.9, seed: 3, ..SamplerSettings::GREEDY },
        SamplerSettings { temperature: 0.05, top_p: 0.5, seed: 4, ..SamplerSettings::GREEDY },
        SamplerSettings { temperature: 0.05, min_p: 0.5, seed: 5, ..SamplerSettings::GREEDY },
        SamplerSettings {
            temperature: 0.01,
            top_k: 1000,
            top_p: 0.3,
            min_p: 0.2,
            seed: 6,
            ..SamplerSettings::GREEDY
        },
    ] {
        let probs = hf_probs(&s, &logits, &[]);
        let kept = probs.iter().filter(|&&p| p > 0.0).count();
        assert!(kept > 1 && kept < 2000, "{s:?}: {kept} ids kept");
        let mut sampler = Sampler::new(s).unwrap();
        let mut scratch = vec![0u32; sampler.scratch_len(vocab)];
        for _ in 0..100 {
            let id = sampler.sample(&mut logits.clone(), &[], &mut scratch).unwrap();
            assert!(probs[id as usize] > 0.0, "{s:?}: id {id} is filtered out by the reference");
        }
    }
}

#[test]
fn special_values() {
    let s = SamplerSettings { top_p: 0.9, ..sampling(1.0) };
    let mut sampler = Sampler::new(s).unwrap();
    let mut scratch = vec![0u32; 4];
    // NaN never chosen while a number exists
    for _ in 0..100 {
        let id =
            sampler.sample(&mut [f32::NAN, 0.0, f32::NAN, f32::NEG_INFINITY], &[], &mut scratch).unwrap();
        assert_eq!(id, 1);
    }
    // every logit NaN or -inf: id 0
    let id =
        sampler.sample(&mut [f32::NAN, f32::NEG_INFINITY, f32::NAN, f32::NAN], &[], &mut scratch).unwrap();
    assert_eq!(id, 0);
    // +inf logits share all the probability
    let counts = histogram(sampling(1.0), &[f32::INFINITY, 5.0, f32::INFINITY, f32::NAN], &[], 20_000);
    assert_eq!(counts[1] + counts[3], 0, "{counts:?}");
    assert_matches("+inf pair", &counts, &[0.5, 0.0, 0.5, 0.0]);
}

#[test]
fn validation() {
    let bad = |s: SamplerSettings, field: &str| {
        assert_eq!(
            s.validate(),
            Err(Error::BadSamplerSettings {
                field: match field {
                    "temperature" => "temperature",
                    "top_p" => "top_p",
                    "min_p" => "min_p",
                    _ => "repetition_penalty",
                }
            }),
            "{s:?}"
        );
        assert!(Sampler::new(s).is_err());
        assert!(Error::BadSamplerSettings { field: "top_p" }.to_string().contains("top_p"));
    };
    let g = SamplerSettings::GREEDY;
    for t in [-1.0, -0.0 - 1e-9, f32::NAN, f32::INFINITY, 1e-40] {
        bad(SamplerSettings { temperature: t, ..g }, "temperature");
    }
    for p in [0.0, -0.5, 1.0001, f32::NAN] {
        bad(SamplerSettings { top_p: p, ..g }, "top_p");
    }
    for p in [-0.01, 1.01, f32::NAN] {
        bad(SamplerSettings { min_p: p, ..g }, "min_p");
    }
    for r in [0.0, -1.0, f32::NAN, f32::INFINITY] {
        bad(SamplerSettings { repetition_penalty: r, ..g }, "repetition_penalty");
    }
    for ok in [
        g,
        SamplerSettings { temperature: f32::MIN_POSITIVE, top_p: 1.0, min_p: 1.0, ..g },
        SamplerSettings {
            temperature: f32::MAX,
            top_p: 1e-6,
            min_p: 0.0,
            top_k: usize::MAX,
            repetition_penalty: 1e-30,
            seed: u64::MAX,
        },
    ] {
        assert_eq!(ok.validate(), Ok(()), "{ok:?}");
    }
    assert_eq!(SamplerSettings::default(), g);
    // buffers
    let mut sampler = Sampler::new(sampling(1.0)).unwrap();
    assert_eq!(sampler.sample(&mut [], &[], &mut [0; 4]), Err(Error::BufferTooSmall { needed: 1, got: 0 }));
    assert_eq!(
        sampler.sample(&mut [0.0; 4], &[], &mut [0; 3]),
        Err(Error::BufferTooSmall { needed: 4, got: 3 })
    );
    assert!(sampler.sample(&mut [0.0; 4], &[], &mut [0; 5]).is_ok());
    let mut greedy_penalised = Sampler::new(SamplerSettings { repetition_penalty: 1.2, ..g }).unwrap();
    assert_eq!(greedy_penalised.scratch_len(10), 10);
    assert_eq!(
        greedy_penalised.sample(&mut [0.0; 10], &[], &mut []),
        Err(Error::BufferTooSmall { needed: 10, got: 0 })
    );
}

fn any_logit() -> impl Strategy<Value = f32> {
    prop_oneof![
        4 => -30.0f32..30.0,
        1 => Just(f32::NAN),
        1 => Just(f32::INFINITY),
        1 => Just(f32::NEG_INFINITY),
        1 => prop::num::f32::ANY,
        1 => Just(0.0f32),
        1 => Just(-0.0f32),
    ]
}

fn any_settings() -> impl Strategy<Value = SamplerSettings> {
    (
        prop_oneof![Just(0.0f32), 1e-6f32..10.0, Just(f32::MIN_POSITIVE), Just(1e30f32), prop::num::f32::ANY],
        prop_oneof![Just(0usize), Just(1usize), 0usize..80],
        prop_oneof![Just(1.0f32), 1e-6f32..1.0, prop::num::f32::ANY],
        prop_oneof![Just(0.0f32), 0.0f32..=1.0, prop::num::f32::ANY],
        prop_oneof![Just(1.0f32), 0.01f32..10.0, prop::num::f32::ANY],
        any::<u64>(),
    )
        .prop_map(|(temperature, top_k, top_p, min_p, repetition_penalty, seed)| SamplerSettings {
            temperature,
            top_k,
            top_p,
            min_p,
            repetition_penalty,
            seed,
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    #[test]
    fn never_panics_and_returns_an_id_in_range(
        logits in prop::collection::vec(any_logit(), 1..64),
        recent in prop::collection::vec(prop_oneof![0u32..70, any::<u32>()], 0..20),
        settings in any_settings(),
        draws in 1usize..4,
    ) {
        let Ok(mut sampler) = Sampler::new(settings) else {
            prop_assert!(settings.validate().is_err());
            return Ok(());
        };
        let mut scratch = vec![0u32; sampler.scratch_len(logits.len())];
        for _ in 0..draws {
            let id = sampler.sample(&mut logits.clone(), &recent, &mut scratch).unwrap();
            prop_assert!((id as usize) < logits.len());
            if settings.is_greedy() && settings.repetition_penalty == 1.0 {
                prop_assert_eq!(Some(id), argmax(&logits));
            }
        }
    }
}
