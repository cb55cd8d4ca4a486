//! A small deterministic pseudo-random number generator (SplitMix64).
//!
//! The fuzzer needs the same statements from the same seed on every machine and every
//! toolchain, forever: a failure report names a seed and a case number, and that pair must
//! keep reproducing. `rand`'s `StdRng` makes no such promise across versions, so the
//! generator carries its own twenty lines instead of a dependency.

/// SplitMix64 (Steele, Lea and Flood): one 64-bit word of state, good statistical quality
/// for test-case generation, and trivially seedable from any `u64`.
#[derive(Debug, Clone)]
pub struct Rng {
    state: u64,
}

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng { state: seed }
    }

    /// The generator for case `case` of a run with seed `seed`: every case can be generated
    /// on its own, without generating the cases before it.
    pub fn for_case(seed: u64, case: u64) -> Rng {
        let mut mix = Rng::new(seed ^ 0x5851_f42d_4c95_7f2d);
        let base = mix.next_u64();
        Rng::new(base.wrapping_add(case.wrapping_mul(0x9e37_79b9_7f4a_7c15)))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        debug_assert!(n > 0, "Rng::below(0)");
        // The modulo bias is below 2^-40 for the small ranges used here.
        (self.next_u64() % n.max(1) as u64) as usize
    }

    /// A number in `lo..=hi`.
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        debug_assert!(lo <= hi, "Rng::range({lo}, {hi})");
        let span = (hi - lo) as u64 + 1;
        lo + (self.next_u64() % span.max(1)) as i64
    }

    /// True with probability `percent` / 100.
    pub fn chance(&mut self, percent: u32) -> bool {
        self.next_u64() % 100 < u64::from(percent)
    }

    /// One element of a non-empty slice.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// An index chosen with the given weights (not all zero).
    pub fn weighted(&mut self, weights: &[u32]) -> usize {
        let total: u64 = weights.iter().map(|&w| u64::from(w)).sum();
        let mut roll = self.next_u64() % total.max(1);
        for (idx, &w) in weights.iter().enumerate() {
            if roll < u64::from(w) {
                return idx;
            }
            roll -= u64::from(w);
        }
        weights.len() - 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_deterministic_and_spreads() {
        let a: Vec<u64> = (0..4).map(|_| Rng::new(7).next_u64()).collect();
        assert!(a.windows(2).all(|w| w[0] == w[1]));
        assert_ne!(Rng::for_case(1, 0).next_u64(), Rng::for_case(1, 1).next_u64());
        assert_ne!(Rng::for_case(1, 0).next_u64(), Rng::for_case(2, 0).next_u64());
        let mut rng = Rng::new(3);
        let mut seen = [0usize; 5];
        for _ in 0..1000 {
            seen[rng.below(5)] += 1;
        }
        assert!(seen.iter().all(|&n| n > 150), "{seen:?}");
        assert_eq!(Rng::new(9).weighted(&[0, 0, 1]), 2);
    }
}
