//! VADER's compound score (vaderSentiment 3.3.2, `SentimentIntensityAnalyzer.polarity_scores`),
//! rule for rule, on the device: the same words, boosters, negations, special cases, "but",
//! capitals and punctuation, the same `f64` arithmetic in the same order.
//!
//! Two differences, both written into the golden tests' reference: emoji are not replaced by
//! their descriptions (the device holds no emoji table; the analyzer's `emojis` emptied does the
//! same), and only the first [`MAX_WORDS`] words are read, as if the text ended after them.

use super::table::{Lexicon, MAX_WORD};
use super::text::{is_space, is_upper, lower_ascii, lower_contains_nt, lower_eq, strip_punct};

/// Words read from one text.
pub const MAX_WORDS: usize = 128;

const B_INCR: f64 = 0.293;
const B_DECR: f64 = -0.293;
const C_INCR: f64 = 0.733;
const N_SCALAR: f64 = -0.74;

#[rustfmt::skip]
const NEGATE: &[&str] = &[
    "aint", "arent", "cannot", "cant", "couldnt", "darent", "didnt", "doesnt", "ain't", "aren't",
    "can't", "couldn't", "daren't", "didn't", "doesn't", "dont", "hadnt", "hasnt", "havent", "isnt",
    "mightnt", "mustnt", "neither", "don't", "hadn't", "hasn't", "haven't", "isn't", "mightn't",
    "mustn't", "neednt", "needn't", "never", "none", "nope", "nor", "not", "nothing", "nowhere",
    "oughtnt", "shant", "shouldnt", "uhuh", "wasnt", "werent", "oughtn't", "shan't", "shouldn't",
    "uh-uh", "wasn't", "weren't", "without", "wont", "wouldnt", "won't", "wouldn't", "rarely",
    "seldom", "despite",
];

/// Degree words of VADER's `BOOSTER_DICT`: (word, scalar); its phrases are [`BOOSTER_PHRASES`].
#[rustfmt::skip]
const BOOSTERS: &[(&str, f64)] = &[
    ("absolutely", B_INCR), ("amazingly", B_INCR), ("awfully", B_INCR), ("completely", B_INCR),
    ("considerable", B_INCR), ("considerably", B_INCR), ("decidedly", B_INCR), ("deeply", B_INCR),
    ("effing", B_INCR), ("enormous", B_INCR), ("enormously", B_INCR), ("entirely", B_INCR),
    ("especially", B_INCR), ("exceptional", B_INCR), ("exceptionally", B_INCR), ("extreme", B_INCR),
    ("extremely", B_INCR), ("fabulously", B_INCR), ("flipping", B_INCR), ("flippin", B_INCR),
    ("frackin", B_INCR), ("fracking", B_INCR), ("fricking", B_INCR), ("frickin", B_INCR),
    ("frigging", B_INCR), ("friggin", B_INCR), ("fully", B_INCR), ("fuckin", B_INCR),
    ("fucking", B_INCR), ("fuggin", B_INCR), ("fugging", B_INCR), ("greatly", B_INCR),
    ("hella", B_INCR), ("highly", B_INCR), ("hugely", B_INCR), ("incredible", B_INCR),
    ("incredibly", B_INCR), ("intensely", B_INCR), ("major", B_INCR), ("majorly", B_INCR),
    ("more", B_INCR), ("most", B_INCR), ("particularly", B_INCR), ("purely", B_INCR),
    ("quite", B_INCR), ("really", B_INCR), ("remarkably", B_INCR), ("so", B_INCR),
    ("substantially", B_INCR), ("thoroughly", B_INCR), ("total", B_INCR), ("totally", B_INCR),
    ("tremendous", B_INCR), ("tremendously", B_INCR), ("uber", B_INCR), ("unbelievably", B_INCR),
    ("unusually", B_INCR), ("utter", B_INCR), ("utterly", B_INCR), ("very", B_INCR),
    ("almost", B_DECR), ("barely", B_DECR), ("hardly", B_DECR), ("kinda", B_DECR),
    ("kindof", B_DECR), ("kind-of", B_DECR), ("less", B_DECR), ("little", B_DECR),
    ("marginal", B_DECR), ("marginally", B_DECR), ("occasional", B_DECR), ("occasionally", B_DECR),
    ("partly", B_DECR), ("scarce", B_DECR), ("scarcely", B_DECR), ("slight", B_DECR),
    ("slightly", B_DECR), ("somewhat", B_DECR), ("sorta", B_DECR), ("sortof", B_DECR),
    ("sort-of", B_DECR),
];

/// The degree phrases of VADER's `BOOSTER_DICT`: (words, scalar).
const BOOSTER_PHRASES: &[(&[&str], f64)] =
    &[(&["just", "enough"], B_DECR), (&["kind", "of"], B_DECR), (&["sort", "of"], B_DECR)];

/// Phrases whose valence replaces the word's (VADER's `SPECIAL_CASES`; "badass", one word, can
/// never match a phrase of two or three words and is left out).
#[rustfmt::skip]
const SPECIAL_CASES: &[(&[&str], f64)] = &[
    (&["the", "shit"], 3.0), (&["the", "bomb"], 3.0), (&["bad", "ass"], 1.5), (&["bus", "stop"], 0.0),
    (&["yeah", "right"], -2.0), (&["kiss", "of", "death"], -1.5), (&["to", "die", "for"], 3.0),
    (&["beating", "heart"], 3.5),
];

/// The words of a text: byte spans, at most [`MAX_WORDS`].
struct Words<'t> {
    text: &'t str,
    spans: [(u32, u32); MAX_WORDS],
    n: usize,
}

impl<'t> Words<'t> {
    /// `text.split()` with punctuation stripped from each piece; stops after [`MAX_WORDS`] words,
    /// and returns the text up to the end of the last one (what VADER then reads).
    fn split(text: &'t str) -> (Self, &'t str) {
        let mut w = Words { text, spans: [(0, 0); MAX_WORDS], n: 0 };
        let mut end = text.len();
        let mut push = |from: usize, to: usize| {
            let Some(piece) = text.get(from..to) else { return };
            let word = strip_punct(piece);
            let start = from + (word.as_ptr() as usize - piece.as_ptr() as usize);
            if let Some(s) = w.spans.get_mut(w.n) {
                *s = (start as u32, (start + word.len()) as u32);
                w.n += 1;
                end = to;
            }
        };
        // the pieces between whitespace, as `str.split()` gives them
        let mut from = None;
        for (i, c) in text.char_indices() {
            match (is_space(c), from) {
                (true, Some(f)) => {
                    push(f, i);
                    from = None;
                }
                (false, None) => from = Some(i),
                _ => {}
            }
        }
        if let Some(f) = from {
            push(f, text.len());
        }
        let read = if w.n == MAX_WORDS { text.get(..end).unwrap_or(text) } else { text };
        (w, read)
    }

    /// Word `i`, or "" past the end.
    fn get(&self, i: usize) -> &'t str {
        let text: &'t str = self.text;
        self.spans
            .get(i)
            .filter(|_| i < self.n)
            .and_then(|&(s, e)| text.get(s as usize..e as usize))
            .unwrap_or("")
    }

    /// `words[i].lower() == key`.
    fn is(&self, i: usize, key: &str) -> bool {
        i < self.n && lower_eq(self.get(i), key)
    }
}

/// VADER's compound score of `text` in [-1, 1], rounded to 4 decimals as Python's `round` does;
/// 0.0 for a text without words.
pub fn compound(lexicon: &Lexicon<'_>, text: &str) -> f64 {
    let (words, read) = Words::split(text);
    let n = words.n;
    let rated = Ratings::of(lexicon, &words);
    let cap_diff = {
        let caps = (0..n).filter(|&i| is_upper(words.get(i))).count();
        caps > 0 && caps < n
    };
    let mut sentiments = [0.0f64; MAX_WORDS];
    for i in 0..n {
        let word = words.get(i);
        let skip = booster(word).is_some() || (i + 1 < n && words.is(i, "kind") && words.is(i + 1, "of"));
        let v = if skip { 0.0 } else { valence(&words, i, cap_diff, &rated) };
        if let Some(s) = sentiments.get_mut(i) {
            *s = v;
        }
    }
    let sentiments = sentiments.get_mut(..n).unwrap_or(&mut []);
    but_check(&words, sentiments);
    score(sentiments, read)
}

/// `sentiment_valence`: the valence of word `i` after VADER's rules (0.0 off the lexicon).
fn valence(w: &Words<'_>, i: usize, cap_diff: bool, rated: &Ratings) -> f64 {
    let n = w.n;
    let word = w.get(i);
    let Some(rating) = rated.get(i) else { return 0.0 };
    let mut valence = rating;
    if w.is(i, "no") && i + 1 < n && rated.get(i + 1).is_some() {
        valence = 0.0;
    }
    if (i > 0 && w.is(i - 1, "no"))
        || (i > 1 && w.is(i - 2, "no"))
        || (i > 2 && w.is(i - 3, "no") && (w.is(i - 1, "or") || w.is(i - 1, "nor")))
    {
        valence = rating * N_SCALAR;
    }
    if is_upper(word) && cap_diff {
        valence = if valence > 0.0 { valence + C_INCR } else { valence - C_INCR };
    }
    for start in 0..3 {
        if i > start && rated.get(i - (start + 1)).is_none() {
            let mut s = scalar_inc_dec(w.get(i - (start + 1)), valence, cap_diff);
            if start == 1 && s != 0.0 {
                s *= 0.95;
            }
            if start == 2 && s != 0.0 {
                s *= 0.9;
            }
            valence += s;
            valence = negation_check(valence, w, start, i);
            if start == 2 {
                valence = special_idioms_check(valence, w, i);
            }
        }
    }
    least_check(valence, w, i, rated)
}

/// Each word's lexicon rating, looked up once (in tenths; VADER's rules ask up to six times).
struct Ratings([Option<i8>; MAX_WORDS]);

impl Ratings {
    fn of(lexicon: &Lexicon<'_>, w: &Words<'_>) -> Self {
        let mut buf = [0u8; MAX_WORD];
        let mut r = Ratings([None; MAX_WORDS]);
        for (i, slot) in r.0.iter_mut().enumerate().take(w.n) {
            *slot = lower_ascii(w.get(i), &mut buf).and_then(|word| lexicon.tenths(word));
        }
        r
    }

    /// Word `i`'s rating as Python reads it (see [`Lexicon::rating`]), `None` off the lexicon.
    fn get(&self, i: usize) -> Option<f64> {
        self.0.get(i).copied().flatten().map(|t| f64::from(t) / 10.0)
    }
}

/// The booster scalar of a one-word key.
fn booster(word: &str) -> Option<f64> {
    BOOSTERS.iter().find(|(k, _)| lower_eq(word, k)).map(|&(_, s)| s)
}

fn scalar_inc_dec(word: &str, valence: f64, cap_diff: bool) -> f64 {
    let Some(mut scalar) = booster(word) else { return 0.0 };
    if valence < 0.0 {
        scalar *= -1.0;
    }
    if is_upper(word) && cap_diff {
        scalar = if valence > 0.0 { scalar + C_INCR } else { scalar - C_INCR };
    }
    scalar
}

/// `negated([word])`: a negation word, or one containing "n't".
fn negated(word: &str) -> bool {
    NEGATE.iter().any(|k| lower_eq(word, k)) || lower_contains_nt(word)
}

fn negation_check(valence: f64, w: &Words<'_>, start: usize, i: usize) -> f64 {
    let so_this = |j: usize| w.is(j, "so") || w.is(j, "this");
    match start {
        0 if negated(w.get(i - 1)) => valence * N_SCALAR,
        1 if w.is(i - 2, "never") && so_this(i - 1) => valence * 1.25,
        1 if w.is(i - 2, "without") && w.is(i - 1, "doubt") => valence,
        1 if negated(w.get(i - 2)) => valence * N_SCALAR,
        2 if (w.is(i - 3, "never") && so_this(i - 2)) || so_this(i - 1) => valence * 1.25,
        2 if w.is(i - 3, "without") && (w.is(i - 2, "doubt") || w.is(i - 1, "doubt")) => valence,
        2 if negated(w.get(i - 3)) => valence * N_SCALAR,
        _ => valence,
    }
}

/// The value of the phrase of `table` that is words `from..from + len`.
fn lookup(w: &Words<'_>, from: usize, len: usize, table: &[(&[&str], f64)]) -> Option<f64> {
    let hit = |k: &[&str]| k.len() == len && k.iter().enumerate().all(|(j, key)| w.is(from + j, key));
    table.iter().find(|(k, _)| hit(k)).map(|&(_, v)| v)
}

/// `_special_idioms_check` (only reached with `i >= 3`).
fn special_idioms_check(mut valence: f64, w: &Words<'_>, i: usize) -> f64 {
    // onezero, twoonezero, twoone, threetwoone, threetwo: the first that is a special case
    let before = [(i - 1, 2), (i - 2, 3), (i - 2, 2), (i - 3, 3), (i - 3, 2)];
    if let Some(v) = before.iter().find_map(|&(from, len)| lookup(w, from, len, SPECIAL_CASES)) {
        valence = v;
    }
    if w.n - 1 > i {
        if let Some(v) = lookup(w, i, 2, SPECIAL_CASES) {
            valence = v;
        }
    }
    if w.n - 1 > i + 1 {
        if let Some(v) = lookup(w, i, 3, SPECIAL_CASES) {
            valence = v;
        }
    }
    // threetwoone, threetwo, twoone as boosters
    for (from, len) in [(i - 3, 3), (i - 3, 2), (i - 2, 2)] {
        if let Some(b) = lookup(w, from, len, BOOSTER_PHRASES) {
            valence += b;
        }
    }
    valence
}

fn least_check(valence: f64, w: &Words<'_>, i: usize, rated: &Ratings) -> f64 {
    let least_before = |j: usize| rated.get(j).is_none() && w.is(j, "least");
    if i > 1 && least_before(i - 1) {
        if !w.is(i - 2, "at") && !w.is(i - 2, "very") {
            return valence * N_SCALAR;
        }
        valence
    } else if i > 0 && least_before(i - 1) {
        valence * N_SCALAR
    } else {
        valence
    }
}

/// `_but_check`, including its use of `list.index`: each value in turn scales the first entry
/// equal to it (halved before the first "but", times 1.5 after it).
fn but_check(w: &Words<'_>, s: &mut [f64]) {
    let Some(bi) = (0..w.n).find(|&i| w.is(i, "but")) else { return };
    for k in 0..s.len() {
        let Some(&v) = s.get(k) else { return };
        let Some(si) = s.iter().position(|&x| x == v) else { continue };
        if let Some(x) = s.get_mut(si) {
            if si < bi {
                *x = v * 0.5;
            } else if si > bi {
                *x = v * 1.5;
            }
        }
    }
}

/// `score_valence`'s compound: the sum, punctuation emphasis, normalisation, rounding.
fn score(sentiments: &[f64], text: &str) -> f64 {
    if sentiments.is_empty() {
        return 0.0;
    }
    let mut sum = sentiments.iter().fold(0.0, |a, &b| a + b);
    let bangs = text.bytes().filter(|&b| b == b'!').count().min(4);
    let ep = bangs as f64 * 0.292;
    let qms = text.bytes().filter(|&b| b == b'?').count();
    let qm = match qms {
        0 | 1 => 0.0,
        2 | 3 => qms as f64 * 0.18,
        _ => 0.96,
    };
    let emphasis = ep + qm;
    if sum > 0.0 {
        sum += emphasis;
    } else if sum < 0.0 {
        sum -= emphasis;
    }
    let norm = (sum / libm::sqrt(sum * sum + 15.0)).clamp(-1.0, 1.0);
    libm::round(norm * 10_000.0) / 10_000.0
}
