//! percentile_cont's values of one group, and the selection of the one or two values it needs.
//!
//! Values arrive as order keys (`u64`s whose unsigned order is SQL's float order) and are kept
//! in chunks that grow geometrically up to [`MAX_CHUNK`] keys: a group grows without copying
//! what it holds, and partial states of a parallel aggregate merge by moving chunks. Copies of
//! hundreds of MB into freshly faulted pages were most of a 100M-row percentile's time.
//!
//! Selection never moves the keys either. A radix select counts the keys of the current key
//! range in [`BUCKETS`] buckets (the range split evenly), finds the bucket holding the wanted
//! rank and narrows the range to it, until the keys left fit in a small vector, which
//! `select_nth_unstable` finishes. Each level reads the chunks once; the buckets stay in L2.
//! Over 100M float amounts in a dozen groups, one level leaves a few hundred keys per group.

/// The most keys in one chunk (512 KiB).
const MAX_CHUNK: usize = 1 << 16;
/// The first chunk of a group: groups of a few values stay small.
const MIN_CHUNK: usize = 8;
/// Buckets per radix level (256 KiB of counts).
const BUCKETS_LOG2: u32 = 15;
const BUCKETS: usize = 1 << BUCKETS_LOG2;
/// At most this many keys are copied out and selected directly.
const SMALL: usize = 1 << 15;

/// The order keys of one group.
pub(super) struct KeyChunks {
    chunks: Vec<Vec<u64>>,
    len: usize,
    min: u64,
    max: u64,
}

impl Default for KeyChunks {
    fn default() -> Self {
        KeyChunks { chunks: Vec::new(), len: 0, min: u64::MAX, max: 0 }
    }
}

impl KeyChunks {
    pub(super) fn len(&self) -> usize {
        self.len
    }

    #[inline]
    pub(super) fn push(&mut self, key: u64) {
        match self.chunks.last_mut() {
            Some(chunk) if chunk.len() < chunk.capacity() => chunk.push(key),
            _ => self.push_to_new_chunk(key),
        }
        self.len += 1;
        self.min = self.min.min(key);
        self.max = self.max.max(key);
    }

    #[cold]
    fn push_to_new_chunk(&mut self, key: u64) {
        let mut chunk = Vec::with_capacity(self.len.clamp(MIN_CHUNK, MAX_CHUNK));
        chunk.push(key);
        self.chunks.push(chunk);
    }

    /// Moves every key of `other` here.
    pub(super) fn append(&mut self, other: KeyChunks) {
        if other.len == 0 {
            return;
        }
        // Keep a chunk with room last, so pushes go on filling it.
        let mut chunks = other.chunks;
        if let Some(last) = self.chunks.pop() {
            chunks.push(last);
        }
        self.chunks.splice(self.chunks.len()..self.chunks.len(), chunks);
        self.len += other.len;
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
    }

    fn keys(&self) -> impl Iterator<Item = u64> + '_ {
        self.chunks.iter().flat_map(|c| c.iter().copied())
    }

    /// The keys of ranks `lo` and `hi` (0-based, `lo <= hi <= lo + 1`, `hi < len`) in
    /// ascending order.
    pub(super) fn select_pair(&self, lo: usize, hi: usize) -> (u64, u64) {
        debug_assert!(lo <= hi && hi <= lo + 1 && hi < self.len);
        // The keys in `from..=to` have ranks `below..below + count`; the ranks wanted lie there.
        let (mut from, mut to, mut below, mut count) = (self.min, self.max, 0usize, self.len);
        let mut hist: Vec<usize> = Vec::new();
        loop {
            if from == to {
                return (from, from);
            }
            if count <= SMALL {
                let mut rest: Vec<u64> = self.keys().filter(|k| (from..=to).contains(k)).collect();
                let (_, &mut a, above) = rest.select_nth_unstable(lo - below);
                let b = if hi > lo { above.iter().copied().min().unwrap_or(a) } else { a };
                return (a, b);
            }
            let shift = (64 - (to - from).leading_zeros()).saturating_sub(BUCKETS_LOG2);
            hist.clear();
            hist.resize(BUCKETS, 0);
            for k in self.keys() {
                if (from..=to).contains(&k) {
                    hist[((k - from) >> shift) as usize] += 1;
                }
            }
            // The buckets of ranks lo and hi.
            let (mut b_lo, mut b_hi, mut before_lo, mut seen) = (usize::MAX, usize::MAX, 0, below);
            for (b, &n) in hist.iter().enumerate() {
                if b_lo == usize::MAX && lo < seen + n {
                    (b_lo, before_lo) = (b, seen);
                }
                if hi < seen + n {
                    b_hi = b;
                    break;
                }
                seen += n;
            }
            let bucket_range = |b: usize| {
                let start = from + ((b as u64) << shift);
                (start, start.saturating_add((1u64 << shift) - 1).min(to))
            };
            if b_lo == b_hi {
                (from, to) = bucket_range(b_lo);
                (below, count) = (before_lo, hist[b_lo]);
                continue;
            }
            // lo is the largest key of its bucket, hi the smallest of the next non-empty one.
            let (lo_range, hi_range) = (bucket_range(b_lo), bucket_range(b_hi));
            let (mut a, mut b) = (0u64, u64::MAX);
            for k in self.keys() {
                if (lo_range.0..=lo_range.1).contains(&k) {
                    a = a.max(k);
                } else if (hi_range.0..=hi_range.1).contains(&k) {
                    b = b.min(k);
                }
            }
            return (a, b);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn check(keys: &[u64], split: usize) {
        let mut sorted = keys.to_vec();
        sorted.sort_unstable();
        // Two partial states merged, as a parallel aggregate does.
        let (mut a, mut b) = (KeyChunks::default(), KeyChunks::default());
        for (i, &k) in keys.iter().enumerate() {
            if i < split {
                a.push(k)
            } else {
                b.push(k)
            }
        }
        a.append(b);
        a.push(sorted[0]);
        sorted.insert(0, sorted[0]);
        assert_eq!(a.len(), sorted.len());
        let n = sorted.len();
        for lo in [0, 1, n / 3, n / 2, n * 99 / 100, n.saturating_sub(2), n - 1] {
            let lo = lo.min(n - 1);
            let hi = (lo + 1).min(n - 1);
            assert_eq!(a.select_pair(lo, hi), (sorted[lo], sorted[hi]), "ranks {lo}, {hi} of {n}");
            assert_eq!(a.select_pair(lo, lo), (sorted[lo], sorted[lo]));
        }
    }

    proptest! {
        #[test]
        fn selects_the_sorted_ranks(
            keys in prop::collection::vec(any::<u64>(), 1..300),
            split in 0usize..300,
        ) {
            check(&keys, split);
        }
    }

    #[test]
    fn radix_levels_select_the_sorted_ranks() {
        // More keys than SMALL: the radix levels run, over spread keys, a narrow cluster,
        // repeated keys at a bucket edge and both ends of u64.
        let mut state = 7u64;
        let mut next = || {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            state >> 11
        };
        let spread: Vec<u64> = (0..60_000).map(|_| next() << 11).collect();
        let cluster: Vec<u64> = (0..100_000).map(|i| (1 << 40) + next() % 5000 + (i % 3)).collect();
        let repeats: Vec<u64> = (0..70_000).map(|i| if i % 2 == 0 { 1 << 20 } else { (1 << 20) - 1 - i % 7 }).collect();
        let ends: Vec<u64> = (0..50_000).map(|i| if i % 3 == 0 { u64::MAX - i } else { i }).collect();
        let skewed: Vec<u64> = (0..80_000).map(|i| if i % 100 == 0 { next() } else { 42 }).collect();
        // Two levels: 40,000 keys within one first-level bucket, a few outside it.
        let nested: Vec<u64> = (0..45_000u64).map(|i| if i < 40_000 { (1 << 50) + i * 3 } else { i << 44 }).collect();
        for keys in [spread, cluster, repeats, ends, skewed, nested] {
            check(&keys, keys.len() / 3);
        }
    }
}
