//! Group keys to dense group ids, for hash aggregation: one table kind per key shape, so the
//! common shapes (one integer, one text, two integers) never encode row-key bytes.

use super::aggregate::{int_values, is_int_like};
use super::word_map::{WordKey, WordMap};
use crate::error::{ExecError, Result};
use crate::expr::Expr;
use crate::row_key::{FastMap, RowKeys};
use arrow::array::{Array, PrimitiveArray, Utf8Array};
use arrow::bitmap::Bitmap;
use storage::{ArrayRef, DataType};

/// How many slots (4 bytes each) a direct-indexed integer group table may use.
const DENSE_GROUP_SLOTS: usize = 1 << 20;

/// Group keys to dense group ids. Ids are handed out in order of first appearance.
pub(super) enum GroupTable {
    /// No GROUP BY: one group.
    Single,
    /// One integer-like key.
    Int(IntGroups),
    /// One text key: values of at most 15 bytes packed into an integer ([`short_text`]),
    /// longer ones by their bytes, and the group of NULL. `tiny` caches the ids of values of
    /// one or two bytes by the bytes themselves (see [`tiny_text_ids`]).
    Text { short: WordMap<u128>, long: FastMap<Box<[u8]>, u32>, null: Option<u32>, tiny: Option<Box<[u32]>> },
    /// Two keys, each integer-like or text: both values as integers (an integer's value, a
    /// text's [`short_text`]) and a NULL flag per key (a NULL key's value is 0). Keys with a
    /// text longer than 15 bytes go to `long` by their row-key bytes instead.
    /// `first` caches, by the first key when it is an integer in a small range, one second
    /// value and its group (see [`FirstKeyCache`]).
    Pair { short: FastMap<(u128, u128, u8), u32>, long: FastMap<Box<[u8]>, u32>, first: FirstKeyCache },
    /// Anything else: the row-key bytes.
    Rows(FastMap<Box<[u8]>, u32>),
}

/// The group ids of one integer-like key. While the keys seen span at most
/// [`DENSE_GROUP_SLOTS`] values they index an array directly (`dense`); once they do not, the
/// array's groups move into the hash map for good.
#[derive(Default)]
pub(super) struct IntGroups {
    /// The group of each key in its range, or `u32::MAX`.
    dense: Option<DenseSlots>,
    map: FastMap<i64, u32>,
    null: Option<u32>,
    /// Whether the keys outgrew the dense array (the map holds every group from then on).
    sparse: bool,
}

/// The valid-row test of an array: `None` when every row is valid.
fn nulls(array: &dyn Array) -> Option<&Bitmap> {
    array.validity().filter(|v| v.unset_bits() > 0)
}

/// `(min, max)` of the values whose row is valid (`validity` `None`: all are), as i64; `None`
/// when there is none. Read at the values' own width; without NULLs a plain min and max,
/// which vectorise.
pub(super) fn valid_range<T: Copy + Ord + Into<i64>>(values: &[T], validity: Option<&Bitmap>) -> Option<(i64, i64)> {
    let Some(validity) = validity else {
        let lo = values.iter().copied().min()?;
        let hi = values.iter().copied().max()?;
        return Some((lo.into(), hi.into()));
    };
    values.iter().zip(validity.iter()).filter(|(_, valid)| *valid).fold(None, |acc, (&v, _)| {
        let v: i64 = v.into();
        match acc {
            None => Some((v, v)),
            Some((lo, hi)) => Some((v.min(lo), v.max(hi))),
        }
    })
}

/// A text value of at most 15 bytes as one integer: its bytes, then its length in the top
/// byte (so "a" and "a\0" differ). `None` for longer values.
#[inline]
fn short_text(bytes: &[u8]) -> Option<u128> {
    if bytes.len() > 15 {
        return None;
    }
    // A byte loop, not a copy into a buffer: short keys (country codes) would otherwise call
    // memcpy per row.
    let mut word = (bytes.len() as u128) << 120;
    for (k, &b) in bytes.iter().enumerate() {
        word |= (b as u128) << (8 * k);
    }
    Some(word)
}

/// [`short_text`] of `bytes[start..end]`, reading the 16 bytes at `start` as one word when the
/// buffer holds them (every row but the last few of a batch), so no loop runs per byte.
#[inline]
fn short_text_at(bytes: &[u8], start: usize, end: usize) -> Option<u128> {
    let len = end.checked_sub(start)?;
    if len > 15 {
        return None;
    }
    match bytes.get(start..start + 16) {
        Some(window) => {
            let mut word = [0u8; 16];
            word.copy_from_slice(window);
            let word = u128::from_le_bytes(word) & ((1u128 << (8 * len)) - 1);
            Some(word | (len as u128) << 120)
        }
        None => short_text(&bytes[start..end]),
    }
}

/// For a [`GroupTable::Pair`] whose first key is an integer: per value `a` of it (over a range
/// of at most [`FIRST_KEY_SLOTS`] values), the group of the first pair `(a, b)` seen and `b`'s
/// word. A row whose second value matches takes that group without hashing the pair: with a
/// second key that follows the first (`GROUP BY product_id, product_name`) every row does. The
/// pair map stays the table of record (merges read it); a row whose second value differs
/// looks the pair up there.
#[derive(Default)]
pub(super) struct FirstKeyCache {
    min: i64,
    /// `(group, second word)`, group `u32::MAX` for an empty slot.
    slots: Vec<(u32, u128)>,
    /// The first key's values spanned more than [`FIRST_KEY_SLOTS`]: no cache from then on.
    off: bool,
}

/// The widest range of first-key values a [`FirstKeyCache`] covers (16 MiB of slots).
const FIRST_KEY_SLOTS: i64 = 1 << 20;

impl FirstKeyCache {
    /// Makes the slots cover `lo..=hi`; false (and off for good) when the range is too wide.
    fn cover(&mut self, lo: i64, hi: i64) -> bool {
        if self.off {
            return false;
        }
        let (new_lo, new_hi) = if self.slots.is_empty() {
            (lo, hi)
        } else {
            (lo.min(self.min), hi.max(self.min + self.slots.len() as i64 - 1))
        };
        if new_hi.saturating_sub(new_lo) >= FIRST_KEY_SLOTS {
            self.off = true;
            self.slots = Vec::new();
            return false;
        }
        let len = (new_hi - new_lo + 1) as usize;
        if self.slots.is_empty() {
            self.slots = vec![(u32::MAX, 0); len];
        } else if new_lo < self.min || len > self.slots.len() {
            let mut slots = vec![(u32::MAX, 0); len];
            let at = (self.min - new_lo) as usize;
            slots[at..at + self.slots.len()].copy_from_slice(&self.slots);
            self.slots = slots;
        }
        self.min = new_lo;
        true
    }
}

/// One key column of [`GroupTable::Pair`].
enum PairKey<'a> {
    Int(std::borrow::Cow<'a, [i64]>),
    Text(&'a Utf8Array<i32>),
}

impl<'a> PairKey<'a> {
    fn new(key: &'a dyn Array) -> Result<PairKey<'a>> {
        match key.as_any().downcast_ref::<Utf8Array<i32>>() {
            Some(text) => Ok(PairKey::Text(text)),
            None => Ok(PairKey::Int(int_key(key)?)),
        }
    }

    /// The row's value as an integer; `None` for a text longer than 15 bytes.
    // Always: a call per row and key costs more than the hash lookup it feeds.
    #[inline(always)]
    fn word(&self, row_idx: usize) -> Option<u128> {
        match self {
            PairKey::Int(values) => Some(values[row_idx] as u64 as u128),
            PairKey::Text(text) => {
                let offsets = text.offsets().buffer();
                short_text_at(text.values().as_slice(), offsets[row_idx] as usize, offsets[row_idx + 1] as usize)
            }
        }
    }
}

fn int_key(key: &dyn Array) -> Result<std::borrow::Cow<'_, [i64]>> {
    int_values(key).ok_or_else(|| ExecError::Internal(format!("integer group key of {:?}", key.data_type())))
}

/// Hands out group ids: `next` is the next fresh id, `new_rows` collects the row of each
/// fresh group.
struct Ids<'a> {
    next: &'a mut u32,
    new_rows: &'a mut Vec<usize>,
}

impl Ids<'_> {
    #[inline]
    fn fresh(&mut self, row_idx: usize) -> u32 {
        self.new_rows.push(row_idx);
        *self.next += 1;
        *self.next - 1
    }
}

/// Slots indexed by an integer key, over a range that grows as keys arrive: `slots[k - min]`
/// for keys `k` in `min..min + slots.len()`, each `u32::MAX` until set.
pub(super) struct DenseSlots {
    pub min: i64,
    pub slots: Vec<u32>,
}

impl DenseSlots {
    /// Makes `dense` cover `lo..=hi` (creating it when `None`), growing it geometrically so
    /// keys that creep along do not copy it per batch; false (and `dense` unchanged) when that
    /// would take more than `limit` slots. Only the slots in use count against `limit`: the
    /// unused ends a doubling left are dropped rather than refuse keys that fit beside the
    /// used ones.
    pub(super) fn cover(dense: &mut Option<DenseSlots>, lo: i64, hi: i64, limit: usize) -> bool {
        // Range arithmetic in i128: keys may be anywhere in i64.
        let (lo, hi) = (lo as i128, hi as i128);
        // The kept slots: `slots[from..from + old_len]`, for keys from `old_lo` on.
        let (mut from, mut old_lo, mut old_len) = match dense {
            Some(d) => (0, d.min as i128, d.slots.len() as i128),
            None => (0, lo, 0),
        };
        let old_hi = old_lo + old_len - 1;
        if old_len > 0 && lo >= old_lo && hi <= old_hi {
            return true;
        }
        let union = |old_lo: i128, old_len: i128| {
            if old_len > 0 {
                (lo.min(old_lo), hi.max(old_lo + old_len - 1))
            } else {
                (lo, hi)
            }
        };
        let (mut new_lo, mut new_hi) = union(old_lo, old_len);
        if new_hi - new_lo + 1 > limit as i128 {
            let Some(d) = dense.as_ref() else { return false };
            (from, old_len) = match d.used() {
                Some((first, last)) => (first, (last - first + 1) as i128),
                None => (0, 0),
            };
            old_lo = d.min as i128 + from as i128;
            (new_lo, new_hi) = union(old_lo, old_len);
        }
        let span = new_hi - new_lo + 1;
        if span > limit as i128 {
            return false;
        }
        // Grow on the side that was extended; never past the ends of i64.
        let grown = span.max(old_len * 2).min(limit as i128);
        let slack = grown - span;
        let base = if old_len > 0 && new_lo < old_lo { (new_lo - slack).max(i64::MIN as i128) } else { new_lo };
        let len = grown.min(i64::MAX as i128 - base + 1) as usize;
        let mut fresh = vec![u32::MAX; len];
        if let Some(d) = dense.as_ref().filter(|_| old_len > 0) {
            let (at, n) = ((old_lo - base) as usize, old_len as usize);
            fresh[at..at + n].copy_from_slice(&d.slots[from..from + n]);
        }
        *dense = Some(DenseSlots { min: base as i64, slots: fresh });
        true
    }

    /// The first and last slot in use (not `u32::MAX`), or `None` when none is.
    pub(super) fn used(&self) -> Option<(usize, usize)> {
        let first = self.slots.iter().position(|&s| s != u32::MAX)?;
        let last = self.slots.iter().rposition(|&s| s != u32::MAX)?;
        Some((first, last))
    }

    /// The slot of `key`, which must lie in the covered range.
    #[inline]
    pub(super) fn slot(&mut self, key: i64) -> &mut u32 {
        &mut self.slots[(key - self.min) as usize]
    }
}

impl IntGroups {
    /// Makes the dense array cover `lo..=hi`, or gives it up when that is too wide.
    fn cover(&mut self, lo: i64, hi: i64) {
        if !self.sparse && !DenseSlots::cover(&mut self.dense, lo, hi, DENSE_GROUP_SLOTS) {
            self.go_sparse();
        }
    }

    fn go_sparse(&mut self) {
        if let Some(dense) = self.dense.take() {
            for (slot, &id) in dense.slots.iter().enumerate() {
                if id != u32::MAX {
                    self.map.insert(dense.min + slot as i64, id);
                }
            }
        }
        self.sparse = true;
    }

    fn ids(&mut self, key: &dyn Array, out: &mut Vec<u32>, ids: &mut Ids<'_>) -> Result<()> {
        // Read at the key's own width: widening a batch of SMALLINT codes or dates to i64
        // first cost as much as the lookups.
        let any = key.as_any();
        let validity = nulls(key);
        if let Some(a) = any.downcast_ref::<PrimitiveArray<i64>>() {
            self.ids_of(a.values(), validity, out, ids);
        } else if let Some(a) = any.downcast_ref::<PrimitiveArray<i32>>() {
            self.ids_of(a.values(), validity, out, ids);
        } else if let Some(a) = any.downcast_ref::<PrimitiveArray<i16>>() {
            self.ids_of(a.values(), validity, out, ids);
        } else {
            return Err(ExecError::Internal(format!("integer group key of {:?}", key.data_type())));
        }
        Ok(())
    }

    fn ids_of<T: Copy + Ord + Into<i64>>(
        &mut self,
        values: &[T],
        validity: Option<&Bitmap>,
        out: &mut Vec<u32>,
        ids: &mut Ids<'_>,
    ) {
        if !self.sparse {
            if let Some((lo, hi)) = valid_range(values, validity) {
                self.cover(lo, hi);
            }
        }
        let null = &mut self.null;
        let mut null_id = |row_idx: usize, ids: &mut Ids<'_>| *null.get_or_insert_with(|| ids.fresh(row_idx));
        out.reserve(values.len());
        match &mut self.dense {
            Some(dense) if !self.sparse && validity.is_none() => {
                // No NULLs: one slot read per row, no per-row capacity or validity test.
                let min = dense.min;
                let slots = &mut dense.slots[..];
                out.extend(values.iter().enumerate().map(|(row_idx, &v)| {
                    // In range: `cover` took this batch's range.
                    let slot = &mut slots[(v.into() - min) as usize];
                    if *slot == u32::MAX {
                        *slot = ids.fresh(row_idx);
                    }
                    *slot
                }));
            }
            Some(dense) if !self.sparse => {
                let min = dense.min;
                let slots = &mut dense.slots[..];
                for (row_idx, &v) in values.iter().enumerate() {
                    let id = if validity.is_some_and(|b| !b.get_bit(row_idx)) {
                        null_id(row_idx, ids)
                    } else {
                        // In range: `cover` took this batch's range.
                        let slot = &mut slots[(v.into() - min) as usize];
                        if *slot == u32::MAX {
                            *slot = ids.fresh(row_idx);
                        }
                        *slot
                    };
                    out.push(id);
                }
            }
            _ => {
                for (row_idx, &v) in values.iter().enumerate() {
                    let id = if validity.is_some_and(|b| !b.get_bit(row_idx)) {
                        null_id(row_idx, ids)
                    } else {
                        *self.map.entry(v.into()).or_insert_with(|| ids.fresh(row_idx))
                    };
                    out.push(id);
                }
            }
        }
    }

    /// Every (key, group): `None` is the NULL key.
    fn entries(&self) -> Vec<(Option<i64>, u32)> {
        let mut all: Vec<(Option<i64>, u32)> = self.map.iter().map(|(&k, &g)| (Some(k), g)).collect();
        if let (Some(dense), false) = (&self.dense, self.sparse) {
            all.extend(
                dense
                    .slots
                    .iter()
                    .enumerate()
                    .filter(|(_, &g)| g != u32::MAX)
                    .map(|(s, &g)| (Some(dense.min + s as i64), g)),
            );
        }
        all.extend(self.null.map(|g| (None, g)));
        all
    }

    /// The group of `key`, made with id `next` when it is new (then `true`).
    fn get_or_insert(&mut self, key: Option<i64>, next: u32) -> (u32, bool) {
        let Some(k) = key else {
            let fresh = self.null.is_none();
            return (*self.null.get_or_insert(next), fresh);
        };
        if !self.sparse {
            self.cover(k, k);
        }
        match &mut self.dense {
            Some(dense) if !self.sparse => {
                let slot = dense.slot(k);
                let fresh = *slot == u32::MAX;
                if fresh {
                    *slot = next;
                }
                (*slot, fresh)
            }
            _ => {
                let mut fresh = false;
                let id = *self.map.entry(k).or_insert_with(|| {
                    fresh = true;
                    next
                });
                (id, fresh)
            }
        }
    }
}

impl GroupTable {
    /// The table for these GROUP BY keys.
    pub(super) fn new(group_by: &[Expr]) -> GroupTable {
        match group_by {
            [] => GroupTable::Single,
            [key] if is_int_like(key.data_type()) => GroupTable::Int(IntGroups::default()),
            [key] if key.data_type() == DataType::Text => {
                GroupTable::Text { short: WordMap::default(), long: FastMap::default(), null: None, tiny: None }
            }
            [a, b] if [a, b].iter().all(|k| is_int_like(k.data_type()) || k.data_type() == DataType::Text) => {
                GroupTable::Pair {
                    short: FastMap::default(),
                    long: FastMap::default(),
                    first: FirstKeyCache::default(),
                }
            }
            _ => GroupTable::Rows(FastMap::default()),
        }
    }

    /// Appends the group id of every row of `keys` (the evaluated key columns) to `out`,
    /// creating groups as they first appear: `next` is the next fresh id, and each fresh
    /// group's first row goes to `new_rows`.
    pub(super) fn group_ids(
        &mut self,
        keys: &[ArrayRef],
        n_rows: usize,
        next: &mut u32,
        out: &mut Vec<u32>,
        new_rows: &mut Vec<usize>,
    ) -> Result<()> {
        let mut ids = Ids { next, new_rows };
        match self {
            GroupTable::Single => out.resize(out.len() + n_rows, 0),
            GroupTable::Int(groups) => groups.ids(keys[0].as_ref(), out, &mut ids)?,
            GroupTable::Text { short, long, null, tiny } => {
                text_ids(short, long, null, tiny, keys[0].as_ref(), n_rows, out, &mut ids)?
            }
            GroupTable::Pair { short, long, first } => pair_ids(short, long, first, keys, n_rows, out, &mut ids)?,
            GroupTable::Rows(map) => {
                let key_refs: Vec<&dyn Array> = keys.iter().map(|k| k.as_ref()).collect();
                let encoded = RowKeys::encode(&key_refs, n_rows)?;
                for row_idx in 0..n_rows {
                    out.push(bytes_id(map, encoded.get(row_idx), || ids.fresh(row_idx)));
                }
            }
        }
        Ok(())
    }

    /// Adds the groups of `other` (a table of the same keys): `map[g]` becomes the group here of
    /// other's group `g`; groups new here get ids from `n_groups` up and their other-side
    /// ids go to `fresh`, in that order.
    pub(super) fn merge(
        &mut self,
        other: &GroupTable,
        n_groups: usize,
        map: &mut [u32],
        fresh: &mut Vec<usize>,
    ) -> Result<()> {
        fn assign<K: std::hash::Hash + Eq>(
            mine: &mut FastMap<K, u32>,
            key: K,
            g: u32,
            n_groups: usize,
            map: &mut [u32],
            fresh: &mut Vec<usize>,
        ) {
            let next = (n_groups + fresh.len()) as u32;
            let id = *mine.entry(key).or_insert(next);
            if id == next {
                fresh.push(g as usize);
            }
            map[g as usize] = id;
        }
        fn assign_word<K: WordKey>(
            mine: &mut WordMap<K>,
            key: K,
            g: u32,
            n_groups: usize,
            map: &mut [u32],
            fresh: &mut Vec<usize>,
        ) {
            map[g as usize] = mine.get_or_insert_with(key, || {
                fresh.push(g as usize);
                (n_groups + fresh.len() - 1) as u32
            });
        }
        match (self, other) {
            (GroupTable::Single, GroupTable::Single) => map[0] = 0,
            (GroupTable::Int(mine), GroupTable::Int(theirs)) => {
                for (key, g) in theirs.entries() {
                    let (id, new) = mine.get_or_insert(key, (n_groups + fresh.len()) as u32);
                    if new {
                        fresh.push(g as usize);
                    }
                    map[g as usize] = id;
                }
            }
            (
                GroupTable::Text { short: mine, long: mine_long, null, .. },
                GroupTable::Text { short: theirs, long: theirs_long, null: their_null, .. },
            ) => {
                for (k, g) in theirs.iter() {
                    assign_word(mine, k, g, n_groups, map, fresh);
                }
                for (k, &g) in theirs_long {
                    assign(mine_long, k.clone(), g, n_groups, map, fresh);
                }
                if let Some(g) = *their_null {
                    map[g as usize] = *null.get_or_insert_with(|| {
                        fresh.push(g as usize);
                        (n_groups + fresh.len() - 1) as u32
                    });
                }
            }
            (
                GroupTable::Pair { short: mine, long: mine_long, .. },
                GroupTable::Pair { short: theirs, long: theirs_long, .. },
            ) => {
                for (&k, &g) in theirs {
                    assign(mine, k, g, n_groups, map, fresh);
                }
                for (k, &g) in theirs_long {
                    assign(mine_long, k.clone(), g, n_groups, map, fresh);
                }
            }
            (GroupTable::Rows(mine), GroupTable::Rows(theirs)) => {
                for (k, &g) in theirs {
                    assign(mine, k.clone(), g, n_groups, map, fresh);
                }
            }
            _ => return Err(ExecError::Internal("merging different group tables".into())),
        }
        Ok(())
    }
}

/// The id of a byte key, or `fresh()`'s (stored for it) when it is new. `get` first: `entry`
/// would copy the key into a box before every lookup.
#[inline]
fn bytes_id(map: &mut FastMap<Box<[u8]>, u32>, key: &[u8], fresh: impl FnOnce() -> u32) -> u32 {
    match map.get(key) {
        Some(&id) => id,
        None => {
            let id = fresh();
            map.insert(key.into(), id);
            id
        }
    }
}

/// Slots of the tiny-text cache: one per one-byte value, then one per two-byte value.
const TINY_SLOTS: usize = 256 + (1 << 16);

/// The ids of a batch of text values that are all `width` bytes long (1 or 2) and not NULL,
/// `records` holding them back to back (country codes, flags, single-letter statuses): each
/// value's bytes index `tiny` (257 KiB, the touched slots stay in L1), and only a value seen
/// there for the first time looks its packed word up in `short`, which stays the table of
/// record (partial tables merge through it). No offsets, no hashing per row.
fn tiny_text_ids(
    short: &mut WordMap<u128>,
    tiny: &mut Option<Box<[u32]>>,
    records: &[u8],
    width: usize,
    out: &mut Vec<u32>,
    ids: &mut Ids<'_>,
) -> Result<()> {
    let tiny = tiny.get_or_insert_with(|| vec![u32::MAX; TINY_SLOTS].into_boxed_slice());
    for (row_idx, value) in records.chunks_exact(width).enumerate() {
        let slot = match *value {
            [b] => b as usize,
            [b0, b1] => 256 + (b0 as usize | (b1 as usize) << 8),
            _ => return Err(ExecError::Internal(format!("a tiny text key of {} bytes", value.len()))),
        };
        let mut id = tiny[slot];
        if id == u32::MAX {
            let word = short_text(value).ok_or_else(|| ExecError::Internal("a tiny text key past 15 bytes".into()))?;
            id = short.get_or_insert_with(word, || ids.fresh(row_idx));
            tiny[slot] = id;
        }
        out.push(id);
    }
    Ok(())
}

/// [`GroupTable::group_ids`] of a [`GroupTable::Text`] table.
fn text_ids(
    short: &mut WordMap<u128>,
    long: &mut FastMap<Box<[u8]>, u32>,
    null: &mut Option<u32>,
    tiny: &mut Option<Box<[u32]>>,
    key: &dyn Array,
    n_rows: usize,
    out: &mut Vec<u32>,
    ids: &mut Ids<'_>,
) -> Result<()> {
    let text = key
        .as_any()
        .downcast_ref::<Utf8Array<i32>>()
        .ok_or_else(|| ExecError::Internal(format!("text group key of {:?}", key.data_type())))?;
    let validity = nulls(text);
    let offsets = text.offsets().buffer();
    let bytes = text.values().as_slice();
    if validity.is_none() && n_rows > 0 && n_rows == text.len() {
        let total = (offsets[n_rows] - offsets[0]) as usize;
        for width in [1, 2] {
            if total == width * n_rows && crate::kernels::text::uniform_length(offsets, width) {
                let records = &bytes[offsets[0] as usize..offsets[n_rows] as usize];
                return tiny_text_ids(short, tiny, records, width, out, ids);
            }
        }
    }
    for row_idx in 0..n_rows {
        let id = if validity.is_some_and(|b| !b.get_bit(row_idx)) {
            *null.get_or_insert_with(|| ids.fresh(row_idx))
        } else {
            let (start, end) = (offsets[row_idx] as usize, offsets[row_idx + 1] as usize);
            match short_text_at(bytes, start, end) {
                Some(packed) => short.get_or_insert_with(packed, || ids.fresh(row_idx)),
                None => bytes_id(long, &bytes[start..end], || ids.fresh(row_idx)),
            }
        };
        out.push(id);
    }
    Ok(())
}

/// [`GroupTable::group_ids`] of a [`GroupTable::Pair`] table.
fn pair_ids(
    short: &mut FastMap<(u128, u128, u8), u32>,
    long: &mut FastMap<Box<[u8]>, u32>,
    first: &mut FirstKeyCache,
    keys: &[ArrayRef],
    n_rows: usize,
    out: &mut Vec<u32>,
    ids: &mut Ids<'_>,
) -> Result<()> {
    let (a, b) = (PairKey::new(keys[0].as_ref())?, PairKey::new(keys[1].as_ref())?);
    let (va, vb) = (nulls(keys[0].as_ref()), nulls(keys[1].as_ref()));
    if let (PairKey::Int(values), None, None) = (&a, va, vb) {
        if let Some((lo, hi)) = valid_range(values, None) {
            if first.cover(lo, hi) {
                return cached_pair_ids(short, long, first, values, &b, keys, n_rows, out, ids);
            }
        }
    }
    // Row keys of the batch, made only when a row has a long text.
    let mut encoded: Option<RowKeys> = None;
    for row_idx in 0..n_rows {
        let a_null = va.is_some_and(|v| !v.get_bit(row_idx));
        let b_null = vb.is_some_and(|v| !v.get_bit(row_idx));
        let words = (if a_null { Some(0) } else { a.word(row_idx) }, if b_null { Some(0) } else { b.word(row_idx) });
        let id = match words {
            (Some(x), Some(y)) => {
                short_pair_id(short, (x, y, u8::from(a_null) | (u8::from(b_null) << 1)), row_idx, ids)
            }
            _ => long_pair_id(long, &mut encoded, keys, n_rows, row_idx, ids)?,
        };
        out.push(id);
    }
    Ok(())
}

/// The group of a pair of short values (see [`GroupTable::Pair`]), created at `row_idx` when new.
#[inline]
fn short_pair_id(
    short: &mut FastMap<(u128, u128, u8), u32>,
    key: (u128, u128, u8),
    row_idx: usize,
    ids: &mut Ids<'_>,
) -> u32 {
    // `get` first: `entry` reserves room before every lookup.
    match short.get(&key) {
        Some(&id) => id,
        None => {
            let id = ids.fresh(row_idx);
            short.insert(key, id);
            id
        }
    }
}

/// The group of a pair with a text longer than 15 bytes: by the row's key bytes, the batch's
/// row keys (`encoded`) made on the first such row.
fn long_pair_id(
    long: &mut FastMap<Box<[u8]>, u32>,
    encoded: &mut Option<RowKeys>,
    keys: &[ArrayRef],
    n_rows: usize,
    row_idx: usize,
    ids: &mut Ids<'_>,
) -> Result<u32> {
    if encoded.is_none() {
        let key_refs: Vec<&dyn Array> = keys.iter().map(|k| k.as_ref()).collect();
        *encoded = Some(RowKeys::encode(&key_refs, n_rows)?);
    }
    let key = encoded.as_ref().map_or(&[][..], |e| e.get(row_idx));
    Ok(bytes_id(long, key, || ids.fresh(row_idx)))
}

/// [`pair_ids`] for a batch without NULLs whose first key's `values` lie in `first`'s range.
#[allow(clippy::too_many_arguments)]
fn cached_pair_ids(
    short: &mut FastMap<(u128, u128, u8), u32>,
    long: &mut FastMap<Box<[u8]>, u32>,
    first: &mut FirstKeyCache,
    values: &[i64],
    b: &PairKey<'_>,
    keys: &[ArrayRef],
    n_rows: usize,
    out: &mut Vec<u32>,
    ids: &mut Ids<'_>,
) -> Result<()> {
    let mut encoded: Option<RowKeys> = None;
    for (row_idx, &x) in values.iter().enumerate().take(n_rows) {
        let Some(y) = b.word(row_idx) else {
            out.push(long_pair_id(long, &mut encoded, keys, n_rows, row_idx, ids)?);
            continue;
        };
        // In range: `cover` took this batch's range.
        let slot = &mut first.slots[(x - first.min) as usize];
        let id = if slot.0 != u32::MAX && slot.1 == y {
            slot.0
        } else {
            let id = short_pair_id(short, (x as u64 as u128, y, 0), row_idx, ids);
            if slot.0 == u32::MAX {
                *slot = (id, y);
            }
            id
        };
        out.push(id);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Int16Array, Int32Array, Int64Array, Utf8Array};
    use std::collections::HashMap;

    /// The keys `dense` holds, by their slots.
    fn held(dense: &Option<DenseSlots>) -> Vec<(i64, u32)> {
        let d = dense.as_ref().unwrap();
        d.slots.iter().enumerate().filter(|(_, &s)| s != u32::MAX).map(|(i, &s)| (d.min + i as i64, s)).collect()
    }

    #[test]
    fn dense_slots_grow_and_drop_unused_ends() {
        let mut dense = None;
        assert!(DenseSlots::cover(&mut dense, 10, 19, 64));
        *dense.as_mut().unwrap().slot(10) = 1;
        *dense.as_mut().unwrap().slot(19) = 2;
        // Growing downwards doubles, the slack below the new key.
        assert!(DenseSlots::cover(&mut dense, 9, 9, 64));
        let d = dense.as_ref().unwrap();
        assert_eq!((d.min, d.slots.len()), (0, 20));
        *dense.as_mut().unwrap().slot(9) = 3;
        assert!(DenseSlots::cover(&mut dense, 30, 40, 64));
        // Keys 9..=72 fit in 64 slots only without the unused slots below 9.
        assert!(DenseSlots::cover(&mut dense, 72, 72, 64));
        *dense.as_mut().unwrap().slot(72) = 4;
        assert_eq!(held(&dense), [(9, 3), (10, 1), (19, 2), (72, 4)]);
        assert!(dense.as_ref().unwrap().slots.len() <= 64);
        // Past the limit: refused, nothing lost.
        assert!(!DenseSlots::cover(&mut dense, 8, 8, 64));
        assert!(!DenseSlots::cover(&mut dense, i64::MIN, i64::MAX, 64));
        assert_eq!(held(&dense), [(9, 3), (10, 1), (19, 2), (72, 4)]);
        // Nothing held yet: any range within the limit.
        let mut empty = None;
        assert!(DenseSlots::cover(&mut empty, 100, 100, 4));
        assert!(DenseSlots::cover(&mut empty, 5, 7, 4));
        assert_eq!(empty.as_ref().unwrap().min, 5);
    }

    /// Group ids of batches of `keys` through one table, and the first row (global) of each
    /// group.
    fn run(table: &mut GroupTable, batches: &[ArrayRef]) -> (Vec<u32>, Vec<usize>) {
        let (mut next, mut out, mut firsts) = (0u32, Vec::new(), Vec::new());
        let mut offset = 0;
        for keys in batches {
            let mut new_rows = Vec::new();
            table.group_ids(std::slice::from_ref(keys), keys.len(), &mut next, &mut out, &mut new_rows).unwrap();
            firsts.extend(new_rows.iter().map(|r| r + offset));
            offset += keys.len();
        }
        (out, firsts)
    }

    #[test]
    fn tiny_text_values_get_the_ids_the_word_table_gives() {
        // Batches of one- and two-byte values only (the tiny cache), then mixed lengths and
        // NULLs (the word table), then a sliced tiny batch: one id per value throughout, by
        // first appearance, with multi-byte characters and a NUL byte among the values.
        let batches: Vec<ArrayRef> = vec![
            Utf8Array::<i32>::from_slice(["DE", "US", "DE", "é", "\0a", "US"]).boxed(),
            Utf8Array::<i32>::from_slice(["x", "y", "x"]).boxed(),
            Utf8Array::<i32>::from(vec![Some("US"), None, Some("x"), Some("FRA"), Some("é"), Some("")]).boxed(),
            Utf8Array::<i32>::from_slice(["zz", "DE", "FR", "y", "zz"]).boxed(),
            Utf8Array::<i32>::from_slice(["q", "DE", "FR", "JP", "y"]).sliced(1, 3).boxed(),
        ];
        let mut table = GroupTable::new(&[Expr::Column { idx: 0, name: "t".into(), data_type: DataType::Text }]);
        let (ids, firsts) = run(&mut table, &batches);
        let values: Vec<Option<String>> = batches
            .iter()
            .flat_map(|b| {
                let b = b.as_any().downcast_ref::<Utf8Array<i32>>().unwrap();
                b.iter().map(|v| v.map(str::to_string)).collect::<Vec<_>>()
            })
            .collect();
        let mut seen: Vec<&Option<String>> = Vec::new();
        let expected: Vec<u32> = values
            .iter()
            .map(|v| match seen.iter().position(|s| *s == v) {
                Some(id) => id as u32,
                None => {
                    seen.push(v);
                    seen.len() as u32 - 1
                }
            })
            .collect();
        assert_eq!(ids, expected);
        assert_eq!(firsts.len(), seen.len());
        assert!(matches!(&table, GroupTable::Text { tiny: Some(_), .. }));
        // A partial table filled through the cache merges through its word table.
        let mut other = GroupTable::new(&[Expr::Column { idx: 0, name: "t".into(), data_type: DataType::Text }]);
        run(&mut other, &[Utf8Array::<i32>::from_slice(["JP", "NO", "x"]).boxed()]);
        let (mut map, mut fresh) = (vec![u32::MAX; 3], Vec::new());
        let n = seen.len() as u32;
        table.merge(&other, n as usize, &mut map, &mut fresh).unwrap();
        let jp = expected[values.iter().position(|v| v.as_deref() == Some("JP")).unwrap()];
        let x = expected[values.iter().position(|v| v.as_deref() == Some("x")).unwrap()];
        assert_eq!((map[0], map[1], map[2]), (jp, n, x));
    }

    /// The reference: ids by first appearance of each distinct value.
    fn reference(values: &[Option<i64>]) -> Vec<u32> {
        let mut seen: Vec<Option<i64>> = Vec::new();
        values
            .iter()
            .map(|v| match seen.iter().position(|s| s == v) {
                Some(p) => p as u32,
                None => {
                    seen.push(*v);
                    seen.len() as u32 - 1
                }
            })
            .collect()
    }

    fn ints(batches: &[Vec<Option<i64>>]) -> Vec<ArrayRef> {
        batches.iter().map(|b| Int64Array::from(b.clone()).boxed()).collect()
    }

    #[test]
    fn int_groups_grow_both_ways_then_go_sparse() {
        let m = i64::MAX;
        let cases: Vec<Vec<Vec<Option<i64>>>> = vec![
            // Creeping upward, then downward, with NULLs.
            (0..50).map(|b| (0..7).map(|k| Some(b * 5 + k)).collect()).collect(),
            (0..50).map(|b| (0..7).map(|k| if k == 3 { None } else { Some(-b * 5 - k) }).collect()).collect(),
            // Past the dense limit: the groups move to the map and keep their ids.
            vec![vec![Some(1), Some(2), None], vec![Some(3), Some(1 << 40), Some(2)], vec![Some(1), Some(1 << 40)]],
            // The ends of i64.
            vec![vec![Some(m), Some(m - 3)], vec![Some(m - 1), Some(m)], vec![Some(i64::MIN), Some(m)]],
            vec![vec![Some(i64::MIN + 2), Some(i64::MIN)], vec![Some(i64::MIN + 1), None, Some(i64::MIN)]],
        ];
        for batches in cases {
            let flat: Vec<Option<i64>> = batches.concat();
            let mut table = GroupTable::Int(IntGroups::default());
            let (ids, firsts) = run(&mut table, &ints(&batches));
            assert_eq!(ids, reference(&flat), "{batches:?}");
            let expected_firsts: Vec<usize> = (0..flat.len()).filter(|&r| !flat[..r].contains(&flat[r])).collect();
            assert_eq!(firsts, expected_firsts);
        }
    }

    #[test]
    fn narrow_int_keys_group_as_their_i64_values() {
        // SMALLINT and INTEGER keys are read at their width: the same ids as BIGINT ones,
        // NULLs and both ends of the narrow types included, dense and then sparse.
        let batches: Vec<Vec<Option<i16>>> = vec![
            vec![Some(3), None, Some(-2), Some(3)],
            vec![Some(i16::MAX), Some(i16::MIN), None, Some(0)],
            vec![Some(-2), Some(i16::MIN), Some(7)],
        ];
        let flat: Vec<Option<i64>> = batches.concat().iter().map(|v| v.map(i64::from)).collect();
        let small: Vec<ArrayRef> = batches.iter().map(|b| Int16Array::from(b.clone()).boxed()).collect();
        let int: Vec<ArrayRef> = batches
            .iter()
            .map(|b| Int32Array::from(b.iter().map(|v| v.map(|x| i32::from(x) * 60_000)).collect::<Vec<_>>()).boxed())
            .collect();
        for arrays in [small, int] {
            let mut table = GroupTable::Int(IntGroups::default());
            assert_eq!(run(&mut table, &arrays).0, reference(&flat));
        }
    }

    #[test]
    fn merges_match_across_table_kinds() {
        // Two partial tables of the same key; merging maps other's groups onto mine.
        let mine_keys = ints(&[vec![Some(5), Some(7), None]]);
        let their_keys = ints(&[vec![Some(7), Some(1 << 50), Some(5), None, Some(9)]]);
        let mut mine = GroupTable::Int(IntGroups::default());
        run(&mut mine, &mine_keys);
        let mut theirs = GroupTable::Int(IntGroups::default());
        run(&mut theirs, &their_keys);
        let mut map = vec![u32::MAX; 5];
        let mut fresh = Vec::new();
        mine.merge(&theirs, 3, &mut map, &mut fresh).unwrap();
        assert_eq!(&[map[0], map[2], map[3]], &[1, 0, 2]);
        fresh.sort_unstable();
        assert_eq!(fresh, vec![1, 4]);
        assert!(map[1] >= 3 && map[4] >= 3 && map[1] != map[4]);

        let text = |v: Vec<Option<&str>>| -> ArrayRef { Utf8Array::<i32>::from(v).boxed() };
        let mut mine = GroupTable::new(&[Expr::Column { idx: 0, name: "t".into(), data_type: DataType::Text }]);
        let (ids, _) = run(&mut mine, &[text(vec![Some("a"), None, Some("b"), Some("a"), None])]);
        assert_eq!(ids, vec![0, 1, 2, 0, 1]);
        // Short and long values, a trailing NUL byte, and the empty string are all different.
        let long = "a value longer than fifteen bytes";
        let mut other = GroupTable::new(&[Expr::Column { idx: 0, name: "t".into(), data_type: DataType::Text }]);
        let (ids, _) = run(
            &mut other,
            &[text(vec![
                Some("a"),
                Some("a\0"),
                Some(""),
                Some(long),
                Some("a"),
                Some(long),
                Some(""),
                Some("123456789012345"),
            ])],
        );
        assert_eq!(ids, vec![0, 1, 2, 3, 0, 3, 2, 4]);
        let mut theirs = GroupTable::new(&[Expr::Column { idx: 0, name: "t".into(), data_type: DataType::Text }]);
        run(&mut theirs, &[text(vec![None, Some("c"), Some("b")])]);
        let (mut map, mut fresh) = (vec![u32::MAX; 3], Vec::new());
        mine.merge(&theirs, 3, &mut map, &mut fresh).unwrap();
        assert_eq!(map, vec![1, 3, 2]);
        assert_eq!(fresh, vec![1]);
    }

    #[test]
    fn short_text_reads_the_same_word_in_and_near_the_end_of_a_buffer() {
        let buffer: Vec<u8> = (0..64u32).map(|i| (i * 37 % 251) as u8).collect();
        for start in 0..buffer.len() {
            for end in start..=buffer.len().min(start + 20) {
                assert_eq!(short_text_at(&buffer, start, end), short_text(&buffer[start..end]), "{start}..{end}");
            }
        }
    }

    #[test]
    fn pair_keys_tell_null_from_zero() {
        let a: ArrayRef = Int64Array::from(vec![Some(0), None, Some(0), Some(1), None, Some(0)]).boxed();
        let b: ArrayRef = Int64Array::from(vec![Some(0), Some(0), None, Some(0), Some(0), Some(0)]).boxed();
        let col = |i| Expr::Column { idx: i, name: "k".into(), data_type: DataType::BigInt };
        let mut table = GroupTable::new(&[col(0), col(1)]);
        assert!(matches!(table, GroupTable::Pair { .. }));
        let (mut next, mut out, mut new_rows) = (0, Vec::new(), Vec::new());
        table.group_ids(&[a, b], 6, &mut next, &mut out, &mut new_rows).unwrap();
        assert_eq!(out, vec![0, 1, 2, 3, 1, 0]);
        assert_eq!(new_rows, vec![0, 1, 2, 3]);

        // An integer and a text key: short and long texts, NULLs, the empty text.
        let long = "a text of more than fifteen bytes";
        let a: ArrayRef = Int64Array::from(vec![Some(1), Some(1), None, Some(1), Some(1), None, Some(1)]).boxed();
        let b: ArrayRef =
            Utf8Array::<i32>::from(vec![Some("x"), Some(long), Some(""), None, Some(long), Some(""), Some("")]).boxed();
        let text = Expr::Column { idx: 1, name: "t".into(), data_type: DataType::Text };
        let mut table = GroupTable::new(&[col(0), text]);
        assert!(matches!(table, GroupTable::Pair { .. }));
        let (mut next, mut out, mut new_rows) = (0, Vec::new(), Vec::new());
        table.group_ids(&[a, b], 7, &mut next, &mut out, &mut new_rows).unwrap();
        assert_eq!(out, vec![0, 1, 2, 3, 1, 2, 4]);
    }

    /// Pairs through the first-key cache give the ids of first appearance: a second key that
    /// follows the first (hits), one that changes for the same first key (misses), a long
    /// text, batches with NULLs (no cache) in between, a batch extending the range below
    /// and above, one too wide (the cache off), and a table filled so merging another.
    #[test]
    fn first_key_cache_gives_first_appearance_ids() {
        let int = Expr::Column { idx: 0, name: "a".into(), data_type: DataType::Integer };
        let text = Expr::Column { idx: 1, name: "b".into(), data_type: DataType::Text };
        let long = "a text of more than fifteen bytes";
        let name = |a: i32, i: usize| -> Option<String> {
            match i % 17 {
                0 => Some(format!("other {}", a % 3)),
                5 => Some(long.to_string()),
                _ => Some(format!("p{a}")),
            }
        };
        let batches: Vec<Vec<(Option<i32>, Option<String>)>> = vec![
            (0..300i32).map(|i| Some(i * 7 % 100 + 50)).map(|a| (a, None)).collect(),
            (0..300i32).map(|i| (Some(i * 13 % 200), None)).collect(),
            (0..50i32).map(|i| (if i % 10 == 3 { None } else { Some(i % 30) }, None)).collect(),
            (0..100i32).map(|i| (Some(-40 + i * 11 % 500), None)).collect(),
            (0..40i32).map(|i| (Some(if i % 2 == 0 { 3 } else { 5_000_000 + i }), None)).collect(),
            (0..100i32).map(|i| (Some(i * 3 % 120), None)).collect(),
        ];
        let mut reference: HashMap<(Option<i32>, Option<String>), u32> = HashMap::new();
        let mut table = GroupTable::new(&[int.clone(), text.clone()]);
        let mut next = 0;
        let mut row = 0usize;
        for batch in &batches {
            let rows: Vec<(Option<i32>, Option<String>)> = batch
                .iter()
                .map(|(a, _)| {
                    row += 1;
                    // NULLs only in the third batch, which has NULL first keys too.
                    let b = if a.is_some() || row.is_multiple_of(2) { name(a.unwrap_or(0), row) } else { None };
                    (*a, b)
                })
                .collect();
            let a: ArrayRef = Int32Array::from(rows.iter().map(|r| r.0).collect::<Vec<_>>()).boxed();
            let b: ArrayRef = Utf8Array::<i32>::from(rows.iter().map(|r| r.1.clone()).collect::<Vec<_>>()).boxed();
            let (mut out, mut new_rows) = (Vec::new(), Vec::new());
            table.group_ids(&[a, b], rows.len(), &mut next, &mut out, &mut new_rows).unwrap();
            let want: Vec<u32> = rows
                .iter()
                .map(|r| {
                    let n = reference.len() as u32;
                    *reference.entry(r.clone()).or_insert(n)
                })
                .collect();
            assert_eq!(out, want);
            let GroupTable::Pair { first, .. } = &table else { panic!("a pair table") };
            assert!(first.off || !first.slots.is_empty(), "the cache took the batch");
        }
        assert_eq!(next as usize, reference.len());
        let GroupTable::Pair { first, .. } = &table else { panic!("a pair table") };
        assert!(first.off, "the wide batch turned the cache off");
        // A second table, cached only, merges through the pair map.
        let mut other = GroupTable::new(&[int, text]);
        let a: ArrayRef = Int32Array::from_slice([7, 8, 7, 9]).boxed();
        let b: ArrayRef = Utf8Array::<i32>::from_slice(["p7", "p8", "p7", "new"]).boxed();
        let (mut other_next, mut out, mut new_rows) = (0, Vec::new(), Vec::new());
        other.group_ids(&[a, b], 4, &mut other_next, &mut out, &mut new_rows).unwrap();
        assert_eq!(out, [0, 1, 0, 2]);
        let (mut map, mut fresh) = (vec![u32::MAX; 3], Vec::new());
        table.merge(&other, next as usize, &mut map, &mut fresh).unwrap();
        let p7 = reference[&(Some(7), Some("p7".to_string()))];
        assert_eq!(map[0], p7);
        assert_eq!(fresh, [2]);
    }
}
