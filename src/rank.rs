//! Ordering candidate ids without a panic path: a bounded heap for top-k and a heapsort.
//!
//! The sampler orders token ids by their logits. `core`'s `select_nth_unstable_by` and
//! `sort_unstable_by` keep panic branches (index checks, and the check that the comparison is a
//! total order) that the optimiser cannot remove, so the inference path could not be proven
//! panic-free with them. These take a strict order `before(a, b)` ("a ranks before b"), touch only
//! the given slice, and are O(n log k) and O(n log n).

/// Moves the `k` ids that rank first to the front of `ids`, the last-ranked of them at index 0
/// (the rest of the front in heap order). Nothing moves when `k` is 0 or not below `ids.len()`.
pub(crate) fn select_first(ids: &mut [u32], k: usize, before: impl Fn(u32, u32) -> bool) {
    if k == 0 || k >= ids.len() {
        return;
    }
    let (heap, rest) = ids.split_at_mut(k);
    // heap: each parent ranks after its children, so heap[0] is the last-ranked of the k so far
    for i in (0..k / 2).rev() {
        sift_down(heap, i, &before);
    }
    for id in rest.iter_mut() {
        if let Some(root) = heap.first_mut() {
            if before(*id, *root) {
                core::mem::swap(id, root);
                sift_down(heap, 0, &before);
            }
        }
    }
}

/// Sorts `ids` so that each ranks before the next (heapsort: in place, no allocation).
pub(crate) fn sort(ids: &mut [u32], before: impl Fn(u32, u32) -> bool) {
    let n = ids.len();
    for i in (0..n / 2).rev() {
        sift_down(ids, i, &before);
    }
    // the last-ranked of ids[..end] is at 0: it goes to end - 1
    for end in (1..n).rev() {
        swap(ids, 0, end);
        if let Some(heap) = ids.get_mut(..end) {
            sift_down(heap, 0, &before);
        }
    }
}

/// Restores "each parent ranks after its children" below `i`, whose subtrees already hold it.
fn sift_down(heap: &mut [u32], mut i: usize, before: &impl Fn(u32, u32) -> bool) {
    loop {
        let left = 2 * i + 1;
        let Some(&l) = heap.get(left) else { return };
        // the child that ranks last
        let (c, cv) = match heap.get(left + 1) {
            Some(&r) if before(l, r) => (left + 1, r),
            _ => (left, l),
        };
        let Some(&v) = heap.get(i) else { return };
        if !before(v, cv) {
            return;
        }
        swap(heap, i, c);
        i = c;
    }
}

/// `s.swap(i, j)` for indices inside `s`; nothing otherwise.
fn swap(s: &mut [u32], i: usize, j: usize) {
    if i < s.len() && j < s.len() {
        s.swap(i, j);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic shuffle of `0..n` with repeated keys (`id % 7`), ordered by key then id.
    fn case(n: u32, seed: u32) -> (alloc::vec::Vec<u32>, impl Fn(u32, u32) -> bool) {
        let mut ids: alloc::vec::Vec<u32> = (0..n).collect();
        let mut x = seed.wrapping_mul(2654435761).wrapping_add(1);
        for i in (1..ids.len()).rev() {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            ids.swap(i, x as usize % (i + 1));
        }
        (ids, |a: u32, b: u32| (a % 7, a) < (b % 7, b))
    }

    #[test]
    fn sort_matches_the_library_sort() {
        for n in [0, 1, 2, 3, 7, 64, 1000] {
            for seed in 0..5 {
                let (mut ids, before) = case(n, seed);
                let mut want = ids.clone();
                want.sort_by_key(|&a| (a % 7, a));
                sort(&mut ids, before);
                assert_eq!(ids, want, "n {n} seed {seed}");
            }
        }
    }

    #[test]
    fn select_first_keeps_the_k_first_with_the_kth_at_the_root() {
        for n in [1, 2, 5, 64, 1000] {
            for k in [0, 1, 2, 3, 10, 63, 999, 1000, 1001] {
                let (mut ids, before) = case(n, k as u32);
                let mut want = ids.clone();
                want.sort_by_key(|&a| (a % 7, a));
                let original = ids.clone();
                select_first(&mut ids, k, &before);
                if k == 0 || k >= n as usize {
                    assert_eq!(ids, original);
                    continue;
                }
                let mut front = ids[..k].to_vec();
                assert_eq!(front[0], want[k - 1], "n {n} k {k}: the k-th at the root");
                front.sort_by_key(|&a| (a % 7, a));
                assert_eq!(front, want[..k], "n {n} k {k}");
                let mut all = ids.clone();
                all.sort_unstable();
                assert_eq!(all, (0..n).collect::<alloc::vec::Vec<_>>(), "a permutation");
            }
        }
    }
}
