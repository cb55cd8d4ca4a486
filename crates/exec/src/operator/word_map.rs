//! An open-addressing map from a small fixed-size key (a packed group key) to a group id, for
//! the group tables whose keys fit in machine words (one short text, [`GroupTable::Text`]).
//!
//! [`GroupTable::Text`]: super::group_table::GroupTable::Text
//!
//! A lookup hashes the key with two multiplies, takes the top bits as the slot (Fibonacci
//! hashing) and probes linearly; key and id sit side by side, so a hit reads one cache line and
//! compares one key. For the few dozen groups of a `GROUP BY country` the whole table stays in
//! L1, where a general `HashMap` spends most of its time on its control bytes.
//!
//! Kept half empty, the slots take twice the room of a `HashMap`'s buckets, which costs more
//! than it saves once the table outgrows the caches: past [`MAX_SLOTS`] the keys move to a
//! `FastMap` for good.

use crate::row_key::FastMap;

/// The most slots (32 bytes each for a `u128` key) before the keys move to a `FastMap`.
const MAX_SLOTS: usize = 1 << 16;

/// A key of [`WordMap`]: plain data with a cheap hash whose high bits depend on every bit.
pub(super) trait WordKey: Copy + Eq + Default + std::hash::Hash {
    fn word_hash(&self) -> u64;
}

const M1: u64 = 0x9E37_79B9_7F4A_7C15;
const M2: u64 = 0xBF58_476D_1CE4_E5B9;

#[inline]
fn mix(a: u64, b: u64) -> u64 {
    (a.wrapping_mul(M1) ^ b).wrapping_mul(M2)
}

impl WordKey for u128 {
    #[inline]
    fn word_hash(&self) -> u64 {
        mix(*self as u64, (*self >> 64) as u64)
    }
}

/// The id of an empty slot.
const EMPTY: u32 = u32::MAX;

/// Keys to ids (never `u32::MAX`), kept at most half full.
pub(super) struct WordMap<K: WordKey> {
    slots: Vec<(K, u32)>,
    /// 64 minus log2 of the slot count: a hash's slot is `hash >> shift`.
    shift: u32,
    len: usize,
    /// Every key once the slots would outgrow [`MAX_SLOTS`] (`slots` is then empty).
    spilled: Option<FastMap<K, u32>>,
}

impl<K: WordKey> Default for WordMap<K> {
    fn default() -> Self {
        WordMap { slots: vec![(K::default(), EMPTY); 16], shift: 64 - 4, len: 0, spilled: None }
    }
}

impl<K: WordKey> WordMap<K> {
    #[inline]
    fn mask(&self) -> usize {
        self.slots.len() - 1
    }

    /// The id of `key`, or `fresh()`'s (stored for it) when it is new.
    #[inline]
    pub(super) fn get_or_insert_with(&mut self, key: K, fresh: impl FnOnce() -> u32) -> u32 {
        if let Some(map) = &mut self.spilled {
            // `get` first: `entry` reserves room before every lookup.
            return match map.get(&key) {
                Some(&id) => id,
                None => {
                    let id = fresh();
                    map.insert(key, id);
                    self.len += 1;
                    id
                }
            };
        }
        let mask = self.mask();
        let mut i = (key.word_hash() >> self.shift) as usize;
        loop {
            let (k, id) = self.slots[i];
            if id == EMPTY {
                break;
            }
            if k == key {
                return id;
            }
            i = (i + 1) & mask;
        }
        let id = fresh();
        debug_assert_ne!(id, EMPTY);
        self.slots[i] = (key, id);
        self.len += 1;
        if self.len * 2 > self.slots.len() {
            self.grow();
        }
        id
    }

    fn grow(&mut self) {
        if self.slots.len() * 2 > MAX_SLOTS {
            let mut map = FastMap::with_capacity_and_hasher(self.len * 2, Default::default());
            map.extend(std::mem::take(&mut self.slots).into_iter().filter(|&(_, id)| id != EMPTY));
            self.spilled = Some(map);
            return;
        }
        let doubled = vec![(K::default(), EMPTY); self.slots.len() * 2];
        let old = std::mem::replace(&mut self.slots, doubled);
        self.shift -= 1;
        let mask = self.mask();
        for (key, id) in old.into_iter().filter(|&(_, id)| id != EMPTY) {
            let mut i = (key.word_hash() >> self.shift) as usize;
            while self.slots[i].1 != EMPTY {
                i = (i + 1) & mask;
            }
            self.slots[i] = (key, id);
        }
    }

    /// Every (key, id).
    pub(super) fn iter(&self) -> impl Iterator<Item = (K, u32)> + '_ {
        let spilled = self.spilled.iter().flat_map(|map| map.iter().map(|(&k, &id)| (k, id)));
        self.slots.iter().copied().filter(|&(_, id)| id != EMPTY).chain(spilled)
    }

    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.len
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    fn check<K: WordKey + std::fmt::Debug>(keys: &[K]) {
        let mut map: WordMap<K> = WordMap::default();
        let mut reference: HashMap<K, u32> = HashMap::new();
        for &k in keys {
            let next = reference.len() as u32;
            let new = !reference.contains_key(&k);
            let want = *reference.entry(k).or_insert(next);
            let mut fresh_called = false;
            let got = map.get_or_insert_with(k, || {
                fresh_called = true;
                next
            });
            assert_eq!(got, want, "{k:?}");
            assert_eq!(fresh_called, new);
        }
        assert_eq!(map.len(), reference.len());
        let mut all: Vec<(K, u32)> = map.iter().collect();
        all.sort_by_key(|&(_, id)| id);
        let mut want: Vec<(K, u32)> = reference.into_iter().collect();
        want.sort_by_key(|&(_, id)| id);
        assert_eq!(all, want);
    }

    proptest! {
        #[test]
        fn words_match_a_hash_map(keys in prop::collection::vec(0u128..300, 0..2000)) {
            // Zero is the empty slot's key, and keys collide in their low bits.
            let spread: Vec<u128> = keys.iter().map(|&k| k << (k % 5 * 30)).collect();
            check(&spread);
        }

    }

    #[test]
    fn keys_past_the_slot_limit_move_to_a_hash_map() {
        let keys: Vec<u128> = (0..MAX_SLOTS as u128).chain((0..1000).map(|k| k * 7)).collect();
        check(&keys);
    }
}
