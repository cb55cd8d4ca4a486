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

use std::sync::Mutex;

/// The most keys in one chunk (512 KiB).
const MAX_CHUNK: usize = 1 << 16;
/// The first chunk of a group: groups of a few values stay small.
const MIN_CHUNK: usize = 8;
/// Buckets per radix level (256 KiB of counts).
const BUCKETS_LOG2: u32 = 15;
const BUCKETS: usize = 1 << BUCKETS_LOG2;
/// At most this many keys are copied out and selected directly.
const SMALL: usize = 1 << 15;

/// Full chunks ([`MAX_CHUNK`] keys of capacity, emptied) that finished percentiles left, for
/// the next one to fill. At 100M rows a percentile keeps 800 MB of keys; the allocator gave
/// those pages back to the kernel when the query ended, and the next query spent a third of its
/// time faulting in and clearing fresh ones. At most [`SPARE_CHUNKS`] are kept (1 GiB);
/// [`release_spare_chunks`] frees them.
static SPARE: Mutex<Vec<Vec<u64>>> = Mutex::new(Vec::new());
const SPARE_CHUNKS: usize = (1 << 30) / (MAX_CHUNK * 8);

/// Frees the chunks kept for later percentiles (see [`SPARE`]).
pub fn release_spare_chunks() {
    let spare = std::mem::take(&mut *SPARE.lock().unwrap_or_else(|e| e.into_inner()));
    drop(spare);
}

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
        let size = self.len.clamp(MIN_CHUNK, MAX_CHUNK);
        let spare = if size == MAX_CHUNK { SPARE.lock().unwrap_or_else(|e| e.into_inner()).pop() } else { None };
        let mut chunk = spare.unwrap_or_else(|| Vec::with_capacity(size));
        chunk.push(key);
        self.chunks.push(chunk);
    }

    /// Moves every key of `other` here.
    pub(super) fn append(&mut self, mut other: KeyChunks) {
        if other.len == 0 {
            return;
        }
        // Keep a chunk with room last, so pushes go on filling it.
        let mut chunks = std::mem::take(&mut other.chunks);
        if let Some(last) = self.chunks.pop() {
            chunks.push(last);
        }
        self.chunks.splice(self.chunks.len()..self.chunks.len(), chunks);
        self.len += other.len;
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
    }

    /// The key of each rank in `ranks` (0-based, each `< len`), in the order asked. Every
    /// rank narrows through the same passes over the keys: percentiles at several fractions
    /// (and the two neighbours each interpolates between) cost what one costs.
    pub(super) fn select(&self, ranks: &[usize]) -> Vec<u64> {
        debug_assert!(ranks.iter().all(|&r| r < self.len));
        let mut out = vec![0; ranks.len()];
        let wants: Vec<(usize, usize)> = ranks.iter().copied().zip(0..).collect();
        if !wants.is_empty() {
            self.select_in(Range { from: self.min, to: self.max, below: 0, count: self.len }, &wants, &mut out);
        }
        out
    }

    /// Answers `wants` (rank, position in `out`), whose ranks all lie in `range`.
    fn select_in(&self, range: Range, wants: &[(usize, usize)], out: &mut [u64]) {
        if range.from == range.to {
            wants.iter().for_each(|&(_, at)| out[at] = range.from);
            return;
        }
        if range.count <= SMALL {
            let mut keys = Vec::with_capacity(range.count);
            self.for_each_in(range.from, range.to, |k| keys.push(k));
            finish_small(&mut keys, range.below, wants, out);
            return;
        }
        // One level: count the range's keys per bucket.
        let shift = (64 - (range.to - range.from).leading_zeros()).saturating_sub(BUCKETS_LOG2);
        let mut hist = vec![0u32; BUCKETS];
        let from = range.from;
        self.for_each_in(range.from, range.to, |k| hist[((k - from) >> shift) as usize] += 1);
        // Each want's bucket, and the ranks below each bucket that holds one.
        let mut buckets: Vec<(usize, Range, Vec<(usize, usize)>)> = Vec::new();
        let mut sorted = wants.to_vec();
        sorted.sort_unstable();
        let (mut b, mut seen) = (0usize, range.below);
        for (rank, at) in sorted {
            while rank >= seen + hist[b] as usize {
                seen += hist[b] as usize;
                b += 1;
            }
            match buckets.last_mut() {
                Some((last, _, group)) if *last == b => group.push((rank, at)),
                _ => {
                    let start = from + ((b as u64) << shift);
                    let end = start.saturating_add((1u64 << shift) - 1).min(range.to);
                    let bucket = Range { from: start, to: end, below: seen, count: hist[b] as usize };
                    buckets.push((b, bucket, vec![(rank, at)]));
                }
            }
        }
        // The buckets small enough to select in memory are gathered in one more pass (a
        // bucket's slot by a table indexed by bucket); larger ones narrow a level further, and
        // a bucket of one key value (however many) answers without reading a key.
        let (small, large): (Vec<_>, Vec<_>) =
            buckets.into_iter().partition(|(_, r, _)| r.count <= SMALL && r.from != r.to);
        if (1..u8::MAX as usize).contains(&small.len()) {
            let mut slot_of = vec![u8::MAX; BUCKETS];
            for (slot, (b, _, _)) in small.iter().enumerate() {
                slot_of[*b] = slot as u8;
            }
            let mut gathered: Vec<Vec<u64>> = small.iter().map(|(_, r, _)| Vec::with_capacity(r.count)).collect();
            self.for_each_in(range.from, range.to, |k| {
                let slot = slot_of[((k - from) >> shift) as usize];
                if slot != u8::MAX {
                    gathered[slot as usize].push(k);
                }
            });
            for ((_, r, group), mut keys) in small.into_iter().zip(gathered) {
                finish_small(&mut keys, r.below, &group, out);
            }
        } else {
            for (_, r, group) in small {
                self.select_in(r, &group, out);
            }
        }
        for (_, r, group) in large {
            self.select_in(r, &group, out);
        }
    }

    /// Calls `f` with every key in `from..=to`; the whole range reads every key unchecked.
    #[inline]
    fn for_each_in(&self, from: u64, to: u64, mut f: impl FnMut(u64)) {
        if from <= self.min && to >= self.max {
            for chunk in &self.chunks {
                chunk.iter().for_each(|&k| f(k));
            }
        } else {
            for chunk in &self.chunks {
                chunk.iter().filter(|&&k| k >= from && k <= to).for_each(|&k| f(k));
            }
        }
    }
}

impl Drop for KeyChunks {
    /// Keeps the full chunks for later percentiles, up to [`SPARE_CHUNKS`].
    fn drop(&mut self) {
        if self.chunks.iter().all(|c| c.capacity() != MAX_CHUNK) {
            return;
        }
        let mut spare = SPARE.lock().unwrap_or_else(|e| e.into_inner());
        for mut chunk in self.chunks.drain(..).filter(|c| c.capacity() == MAX_CHUNK) {
            if spare.len() >= SPARE_CHUNKS {
                break;
            }
            chunk.clear();
            spare.push(chunk);
        }
    }
}

/// A key range and the ranks of its keys: those in `from..=to` have ranks
/// `below..below + count`.
#[derive(Clone, Copy)]
struct Range {
    from: u64,
    to: u64,
    below: usize,
    count: usize,
}

/// Answers `wants` from `keys`, every key of ranks `below..below + keys.len()`: one
/// `select_nth_unstable` per distinct rank, each in the part above the previous one.
fn finish_small(keys: &mut [u64], below: usize, wants: &[(usize, usize)], out: &mut [u64]) {
    let mut wants = wants.to_vec();
    wants.sort_unstable();
    // `rest` holds the keys of ranks `offset..`; `last` the previous rank's key.
    let (mut rest, mut offset, mut last) = (keys, below, (usize::MAX, 0));
    for (rank, at) in wants {
        if rank == last.0 {
            out[at] = last.1;
            continue;
        }
        let (_, &mut key, above) = rest.select_nth_unstable(rank - offset);
        out[at] = key;
        (rest, offset, last) = (above, rank + 1, (rank, key));
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
        let mut all = Vec::new();
        for lo in [0, 1, n / 3, n / 2, n * 99 / 100, n.saturating_sub(2), n - 1] {
            let lo = lo.min(n - 1);
            let hi = (lo + 1).min(n - 1);
            assert_eq!(a.select(&[lo, hi]), [sorted[lo], sorted[hi]], "ranks {lo}, {hi} of {n}");
            assert_eq!(a.select(&[lo]), [sorted[lo]]);
            all.extend([hi, lo]);
        }
        // Every rank at once, out of order and repeated, as several percentiles ask.
        let expected: Vec<u64> = all.iter().map(|&r| sorted[r]).collect();
        assert_eq!(a.select(&all), expected, "ranks {all:?} of {n}");
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

    /// A group's full chunks go to the spare list when it is dropped, and a later group that
    /// takes them sees none of the earlier keys.
    #[test]
    fn spare_chunks_come_back_empty() {
        let n = 3 * MAX_CHUNK + 5;
        let mut a = KeyChunks::default();
        (0..n as u64).for_each(|i| a.push(5 + i % 3));
        assert_eq!(a.chunks.iter().filter(|c| c.capacity() == MAX_CHUNK).count(), 3);
        drop(a);
        let mut b = KeyChunks::default();
        (0..n as u64).for_each(|i| b.push(1_000_000 + i));
        assert_eq!(b.len(), n);
        assert_eq!(b.chunks.iter().map(Vec::len).sum::<usize>(), n);
        let top = 1_000_000 + n as u64 - 1;
        assert_eq!(b.select(&[0, n - 1, n / 2]), [1_000_000, top, 1_000_000 + n as u64 / 2]);
        drop(b);
        release_spare_chunks();
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
        // A narrow range (one key per bucket) where one key fills a bucket past SMALL.
        let one_value: Vec<u64> = (0..60_000u64).map(|i| if i % 4 == 0 { i % 20_000 } else { 7 }).collect();
        for keys in [spread, cluster, repeats, ends, skewed, nested, one_value] {
            check(&keys, keys.len() / 3);
        }
    }
}
