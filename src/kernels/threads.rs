//! Optional multi-threaded matmuls (feature `std`): [`set_threads`]`(n)` splits every matmul with
//! enough work into `n` bands of rows of `x` (and of `out`), one scoped thread each (the calling
//! thread takes the first band). Each output is computed by the same single-threaded kernel over the
//! same operands, so results are bit-identical to one thread. Token-by-token decoding (`m = 1`)
//! stays on one thread. Threads are spawned per call (tens of microseconds), which pays off for
//! encoder layers and prompt chunks, not for small matrices ([`MIN_MACS`]).

use core::sync::atomic::{AtomicUsize, Ordering};

static THREADS: AtomicUsize = AtomicUsize::new(1);

/// Matmuls with fewer multiply-adds than this stay on one thread.
pub const MIN_MACS: usize = 1 << 20;

/// Sets how many threads the matmuls may use (clamped to `1..=64`; 1, the default, is
/// single-threaded). Process-wide.
pub fn set_threads(n: usize) {
    THREADS.store(n.clamp(1, 64), Ordering::Relaxed);
}

/// The number of threads the matmuls may use.
pub fn threads() -> usize {
    THREADS.load(Ordering::Relaxed)
}

/// Runs `f(out_band, first_row, rows)` over bands of the rows of `out[m, n]` on up to [`threads`]
/// threads and returns `true`, or returns `false` (nothing run) when one thread is asked for, the
/// call is small (`m * k * n < MIN_MACS`), `m < 2`, or `lens_ok` is false (the caller's contract
/// check: the single-threaded kernel then reports it).
pub(super) fn split_rows(
    out: &mut [f32],
    m: usize,
    k: usize,
    n: usize,
    lens_ok: bool,
    f: impl Fn(&mut [f32], usize, usize) + Sync,
) -> bool {
    let t = threads().min(m);
    let macs = m.saturating_mul(k).saturating_mul(n);
    if t < 2 || macs < MIN_MACS || n == 0 || !lens_ok || out.len() != m * n {
        return false;
    }
    let band = m.div_ceil(t);
    std::thread::scope(|s| {
        let mut bands = out.chunks_mut(band * n).enumerate();
        let first = bands.next();
        for (b, part) in bands {
            let f = &f;
            s.spawn(move || f(part, b * band, part.len() / n));
        }
        if let Some((_, part)) = first {
            f(part, 0, part.len() / n);
        }
    });
    true
}
