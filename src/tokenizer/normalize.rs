//! Streaming BERT normalizer: the reference's `BertNormalizer`, one char at a time.
//!
//! The reference rewrites the whole text four times, in this order: clean text, space out CJK
//! ideographs, strip accents (NFD, then drop `Mn`), lowercase (per char, `char::to_lowercase`,
//! so no final-sigma rule: `Σ` always becomes `σ`). Every stage but the canonical reordering
//! inside NFD is a per-char map, so the stages are chained here per char and the output is pushed
//! to a sink. Reordering only matters for the few combining chars that survive stripping (spacing
//! marks such as U+1D165); they wait in a small buffer until the next starter.

use super::unicode;
use core::ops::ControlFlow;

/// Surviving combining chars one run may hold before they are flushed in arrival order. A run of
/// more than this many (never seen in text) is the one place we may differ from the reference.
const PENDING: usize = 8;

/// Which normalization steps run (the flags of [`WordPieceConfig`](super::WordPieceConfig)).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Steps {
    pub clean_text: bool,
    pub tokenize_cjk: bool,
    pub strip_accents: bool,
    pub lowercase: bool,
}

/// Normalizer state: the combining chars waiting for canonical reordering.
pub(crate) struct Normalizer {
    steps: Steps,
    /// (char, combining class), stably sorted by class.
    pending: heapless::Vec<(char, u8), PENDING>,
}

impl Normalizer {
    pub(crate) fn new(steps: Steps) -> Self {
        Self { steps, pending: heapless::Vec::new() }
    }

    /// Normalizes `c` and pushes the resulting chars (zero or more) to `sink`.
    pub(crate) fn push<F>(&mut self, c: char, sink: &mut F) -> ControlFlow<()>
    where
        F: FnMut(char) -> ControlFlow<()>,
    {
        let mut c = c;
        if self.steps.clean_text {
            if unicode::is_control(c) {
                return ControlFlow::Continue(());
            }
            if unicode::is_clean_whitespace(c) {
                c = ' ';
            }
        }
        if self.steps.tokenize_cjk && unicode::is_cjk(c) {
            self.strip(' ', sink)?;
            self.strip(c, sink)?;
            return self.strip(' ', sink);
        }
        self.strip(c, sink)
    }

    /// Ends the text: emits the chars still waiting for reordering.
    pub(crate) fn finish<F>(&mut self, sink: &mut F) -> ControlFlow<()>
    where
        F: FnMut(char) -> ControlFlow<()>,
    {
        self.flush(sink)
    }

    fn strip<F>(&mut self, c: char, sink: &mut F) -> ControlFlow<()>
    where
        F: FnMut(char) -> ControlFlow<()>,
    {
        if !self.steps.strip_accents {
            return self.lower(c, sink);
        }
        if !unicode::is_nonstarter(c) {
            self.flush(sink)?;
        }
        unicode::for_each_stripped(c, |s| match unicode::kept_ccc(s) {
            0 => {
                self.flush(sink)?;
                self.lower(s, sink)
            }
            ccc => self.defer(s, ccc, sink),
        })
    }

    /// Queues a surviving combining char at its place in canonical order.
    fn defer<F>(&mut self, c: char, ccc: u8, sink: &mut F) -> ControlFlow<()>
    where
        F: FnMut(char) -> ControlFlow<()>,
    {
        if self.pending.is_full() {
            self.flush(sink)?;
        }
        let at = self.pending.iter().position(|&(_, k)| k > ccc).unwrap_or(self.pending.len());
        // Cannot fail: there is room (flushed above) and `at <= len`.
        let _ = self.pending.insert(at, (c, ccc));
        ControlFlow::Continue(())
    }

    fn flush<F>(&mut self, sink: &mut F) -> ControlFlow<()>
    where
        F: FnMut(char) -> ControlFlow<()>,
    {
        let pending = core::mem::take(&mut self.pending);
        for &(c, _) in pending.iter() {
            self.lower(c, sink)?;
        }
        ControlFlow::Continue(())
    }

    fn lower<F>(&self, c: char, sink: &mut F) -> ControlFlow<()>
    where
        F: FnMut(char) -> ControlFlow<()>,
    {
        if !self.steps.lowercase {
            return sink(c);
        }
        if c.is_ascii() {
            return sink(c.to_ascii_lowercase());
        }
        for l in c.to_lowercase() {
            sink(l)?;
        }
        ControlFlow::Continue(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: Steps = Steps { clean_text: true, tokenize_cjk: true, strip_accents: true, lowercase: true };

    fn normalize(steps: Steps, text: &str) -> heapless::String<128> {
        let mut out = heapless::String::new();
        let mut sink = |c| {
            let _ = out.push(c);
            ControlFlow::Continue(())
        };
        let mut n = Normalizer::new(steps);
        for c in text.chars() {
            let _ = n.push(c, &mut sink);
        }
        let _ = n.finish(&mut sink);
        out
    }

    #[test]
    fn pipeline_order() {
        assert_eq!(normalize(ALL, "Héllo\tWÖRLD\u{200B}!"), "hello world!");
        assert_eq!(normalize(ALL, "ΟΔΟΣ"), "οδοσ");
        assert_eq!(normalize(ALL, "İ"), "i");
        let cased = Steps { strip_accents: false, lowercase: false, ..ALL };
        assert_eq!(normalize(cased, "İ中x"), "İ 中 x");
        let lower_only = Steps { strip_accents: false, ..ALL };
        assert_eq!(normalize(lower_only, "İ"), "i\u{307}");
    }

    #[test]
    fn cjk_compat_is_spaced_then_decomposed() {
        assert_eq!(normalize(ALL, "a\u{F900}b"), "a \u{8C48} b");
    }

    #[test]
    fn surviving_marks_are_reordered() {
        // U+1D16D (ccc 226) before U+1D165 (ccc 216): NFD swaps them.
        assert_eq!(normalize(ALL, "a\u{1D16D}\u{1D165}b"), "a\u{1D165}\u{1D16D}b");
        // A starter in between ends the run: no swap.
        assert_eq!(normalize(ALL, "a\u{1D16D}x\u{1D165}"), "a\u{1D16D}x\u{1D165}");
        // Stripped marks between them do not end the run.
        assert_eq!(normalize(ALL, "a\u{1D16D}\u{301}\u{1D165}"), "a\u{1D165}\u{1D16D}");
    }
}
