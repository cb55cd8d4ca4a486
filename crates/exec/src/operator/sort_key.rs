//! Normalized sort keys: every row's ORDER BY values encoded once, so that the sort compares
//! plain integers or byte strings instead of calling a comparator per key and type.
//!
//! One key of a fixed-width type (boolean, integers, dates, timestamps, floats) becomes a
//! `u128` per row: `rank << 96 | key << 32 | row`, where `key` is the value mapped to a `u64`
//! in SQL order (integers with the sign bit flipped, floats as PostgreSQL orders them: NaN
//! above +Infinity, -0 equal to 0; inverted for DESC), `rank` places NULLs first (0) or last
//! (2) around the values (1), and `row` breaks ties by position. Any other key list (several
//! keys, text, intervals) becomes one byte string per row compared with `memcmp`: per key a
//! marker byte (NULLs first 0, value 1, NULLs last 2), then the value's bytes in big-endian
//! order (text with its 0 bytes escaped and a 0 0 terminator, intervals as their span in
//! nanoseconds, a month being 30 days), inverted for DESC. Equal keys keep their row order,
//! so sorting by these keys is stable.

use super::accumulate::order_key;
use super::sort::SortKey;
use crate::error::{ExecError, Result};
use crate::kernels::as_prim;
use crate::kernels::compare::{downcast_bool, downcast_utf8};
use arrow::array::Array;
use arrow::types::months_days_ns;
use std::cmp::Ordering;
use storage::DataType;

/// Rows sorted at a time before their sorted chunks are merged: the statement's interrupt is
/// checked between chunks.
const CHUNK: usize = 1 << 20;

/// The encoded keys of a sequence of rows (row `i` is the `i`-th row pushed).
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Keys {
    /// One fixed-width key: `rank << 96 | key << 32 | row` per row.
    Words(Vec<u128>),
    /// Byte strings compared with `memcmp`: row `i`'s is `data[offsets[i]..offsets[i + 1]]`.
    Bytes { data: Vec<u8>, offsets: Vec<usize> },
}

/// Whether `data_type` sorts through [`Keys::Words`] when it is the only key.
fn is_word(data_type: DataType) -> bool {
    matches!(
        data_type,
        DataType::Boolean
            | DataType::SmallInt
            | DataType::Integer
            | DataType::BigInt
            | DataType::Real
            | DataType::Double
            | DataType::Date
            | DataType::Timestamp
    )
}

/// The value of row `row_idx` of a fixed-width array as a `u64` in ascending SQL order (an
/// integer of `w` bytes with its sign bit flipped in its low `w` bytes).
fn word(array: &dyn Array, data_type: DataType, row_idx: usize) -> Result<u64> {
    const SIGN: u64 = 1 << 63;
    Ok(match data_type {
        DataType::Boolean => downcast_bool(array)?.value(row_idx) as u64,
        DataType::SmallInt => ((as_prim::<i16>(array)?.value(row_idx) as u16) ^ (1 << 15)) as u64,
        DataType::Integer | DataType::Date => ((as_prim::<i32>(array)?.value(row_idx) as u32) ^ (1 << 31)) as u64,
        DataType::BigInt | DataType::Timestamp => (as_prim::<i64>(array)?.value(row_idx) as u64) ^ SIGN,
        DataType::Real => order_key(as_prim::<f32>(array)?.value(row_idx) as f64),
        DataType::Double => order_key(as_prim::<f64>(array)?.value(row_idx)),
        other => return Err(ExecError::Internal(format!("no word sort key for {other}"))),
    })
}

/// Calls `f(row_idx, key)` for every row of a fixed-width array, `key` in ascending order
/// (NULL rows get an arbitrary key; the caller looks at the validity).
fn each_word(array: &dyn Array, data_type: DataType, mut f: impl FnMut(usize, u64)) -> Result<()> {
    macro_rules! ints {
        ($t:ty, $u:ty) => {
            for (row_idx, &v) in as_prim::<$t>(array)?.values().iter().enumerate() {
                f(row_idx, ((v as $u) ^ (1 << (<$u>::BITS - 1))) as u64);
            }
        };
    }
    match data_type {
        DataType::SmallInt => ints!(i16, u16),
        DataType::Integer | DataType::Date => ints!(i32, u32),
        DataType::BigInt | DataType::Timestamp => ints!(i64, u64),
        DataType::Double => {
            for (row_idx, &v) in as_prim::<f64>(array)?.values().iter().enumerate() {
                f(row_idx, order_key(v));
            }
        }
        _ => {
            for row_idx in 0..array.len() {
                f(row_idx, word(array, data_type, row_idx)?);
            }
        }
    }
    Ok(())
}

/// The marker byte of a key: where NULLs go relative to values.
fn marker(valid: bool, nulls_first: bool) -> u8 {
    match (valid, nulls_first) {
        (true, _) => 1,
        (false, true) => 0,
        (false, false) => 2,
    }
}

/// Writes `bytes` (inverted by `flip`) at `*cursor`, advancing it.
#[inline]
fn put(data: &mut [u8], cursor: &mut usize, bytes: &[u8], flip: u8) {
    for (o, b) in data[*cursor..*cursor + bytes.len()].iter_mut().zip(bytes) {
        *o = b ^ flip;
    }
    *cursor += bytes.len();
}

/// Writes one key column's encodings of rows `0..n` at `cursor[row]`, advancing each cursor.
fn write_column(
    data: &mut [u8],
    cursor: &mut [usize],
    array: &dyn Array,
    data_type: DataType,
    key: &SortKey,
) -> Result<()> {
    let flip = if key.descending { 0xFF } else { 0 };
    let validity = array.validity();
    for (row_idx, at) in cursor.iter_mut().enumerate() {
        let valid = validity.is_none_or(|v| v.get_bit(row_idx));
        data[*at] = marker(valid, key.nulls_first);
        *at += 1;
        if !valid {
            continue;
        }
        match data_type {
            DataType::Text => {
                for &b in downcast_utf8(array)?.value(row_idx).as_bytes() {
                    put(data, at, if b == 0 { &[0, 0xFF] } else { std::slice::from_ref(&b) }, flip);
                }
                put(data, at, &[0, 0], flip);
            }
            DataType::Interval => {
                let span = interval_span(as_prim::<months_days_ns>(array)?.value(row_idx));
                put(data, at, &((span as u128) ^ (1 << 127)).to_be_bytes(), flip);
            }
            DataType::Null => {}
            _ => {
                let bytes = word(array, data_type, row_idx)?.to_be_bytes();
                put(data, at, &bytes[8 - fixed_width(data_type)..], flip);
            }
        }
    }
    Ok(())
}

/// PostgreSQL's interval order: a month is 30 days, a day 24 hours.
fn interval_span(v: months_days_ns) -> i128 {
    (v.months() as i128 * 30 + v.days() as i128) * 86_400_000_000_000 + v.ns() as i128
}

/// Bytes of a fixed-width value in the byte encoding (the low bytes of its [`word`]).
fn fixed_width(data_type: DataType) -> usize {
    match data_type {
        DataType::Boolean => 1,
        DataType::SmallInt => 2,
        DataType::Integer | DataType::Date => 4,
        _ => 8,
    }
}

impl Keys {
    /// No rows yet, in the encoding for sort keys of `types` (the keys' types, in order).
    pub(super) fn new(types: &[DataType]) -> Keys {
        match types {
            [one] if is_word(*one) => Keys::Words(Vec::new()),
            _ => Keys::Bytes { data: Vec::new(), offsets: vec![0] },
        }
    }

    pub(super) fn len(&self) -> usize {
        match self {
            Keys::Words(words) => words.len(),
            Keys::Bytes { offsets, .. } => offsets.len() - 1,
        }
    }

    /// Appends the keys of `n_rows` rows: `arrays[k]` holds key `k`'s values (of type
    /// `types[k]`).
    pub(super) fn push(
        &mut self,
        n_rows: usize,
        arrays: &[Box<dyn Array>],
        types: &[DataType],
        keys: &[SortKey],
    ) -> Result<()> {
        let first = self.len();
        if first + n_rows > u32::MAX as usize {
            return Err(ExecError::Internal("a sort run of more than 2^32 rows".into()));
        }
        match self {
            Keys::Words(words) => {
                let (array, key) = (arrays[0].as_ref(), &keys[0]);
                let null_rank: u128 = if key.nulls_first { 0 } else { 2 };
                let flip = if key.descending { u64::MAX } else { 0 };
                let validity = array.validity().filter(|v| v.unset_bits() > 0);
                words.reserve(n_rows);
                each_word(array, types[0], |row_idx, k| {
                    let row = (first + row_idx) as u128;
                    words.push(if validity.is_none_or(|v| v.get_bit(row_idx)) {
                        (1 << 96) | (((k ^ flip) as u128) << 32) | row
                    } else {
                        (null_rank << 96) | row
                    });
                })?;
            }
            Keys::Bytes { data, offsets } => {
                let base = *offsets.last().unwrap_or(&0);
                let mut len = vec![0usize; n_rows];
                for ((array, &data_type), _) in arrays.iter().zip(types).zip(keys) {
                    let text = (data_type == DataType::Text).then(|| downcast_utf8(array.as_ref())).transpose()?;
                    for (row_idx, l) in len.iter_mut().enumerate() {
                        *l += 1;
                        if !array.is_valid(row_idx) {
                            continue;
                        }
                        *l += match (data_type, &text) {
                            (DataType::Text, Some(t)) => {
                                let s = t.value(row_idx).as_bytes();
                                s.len() + s.iter().filter(|&&b| b == 0).count() + 2
                            }
                            (DataType::Interval, _) => 16,
                            (DataType::Null, _) => 0,
                            (other, _) => fixed_width(other),
                        };
                    }
                }
                let mut cursor = Vec::with_capacity(n_rows);
                let mut end = base;
                for l in &len {
                    cursor.push(end - base);
                    end += l;
                    offsets.push(end);
                }
                let mut block = vec![0u8; end - base];
                for ((array, &data_type), key) in arrays.iter().zip(types).zip(keys) {
                    write_column(&mut block, &mut cursor, array.as_ref(), data_type, key)?;
                }
                data.extend_from_slice(&block);
            }
        }
        Ok(())
    }

    /// The byte key of row `row`.
    #[inline]
    fn bytes<'a>(data: &'a [u8], offsets: &[usize], row: u32) -> &'a [u8] {
        &data[offsets[row as usize]..offsets[row as usize + 1]]
    }

    /// Compares row `a`'s key with row `b`'s key of `other` (encoded alike); rows are not
    /// compared.
    #[inline]
    pub(super) fn cmp(&self, a: u32, other: &Keys, b: u32) -> Ordering {
        match (self, other) {
            (Keys::Words(x), Keys::Words(y)) => (x[a as usize] >> 32).cmp(&(y[b as usize] >> 32)),
            (Keys::Bytes { data: d1, offsets: o1 }, Keys::Bytes { data: d2, offsets: o2 }) => {
                cmp_bytes(Keys::bytes(d1, o1, a), Keys::bytes(d2, o2, b))
            }
            _ => Ordering::Equal,
        }
    }

    /// The rows in sorted order, ties in row order; only the first `fetch` when given.
    /// Interruptible: the statement's scope is checked between chunks of [`CHUNK`] rows.
    pub(super) fn sorted(&self, fetch: Option<usize>) -> Result<Vec<u32>> {
        let n = self.len();
        let limit = fetch.map_or(n, |f| f.min(n));
        let mut chunks: Vec<Vec<u32>> = Vec::new();
        for start in (0..n).step_by(CHUNK) {
            crate::interrupt::check()?;
            let end = (start + CHUNK).min(n);
            chunks.push(match self {
                Keys::Words(words) => {
                    let mut items = words[start..end].to_vec();
                    top(&mut items, limit, |a, b| a.cmp(b));
                    items.iter().map(|&w| w as u32).collect()
                }
                Keys::Bytes { data, offsets } => {
                    let mut items: Vec<(u64, u32)> =
                        (start as u32..end as u32).map(|row| (prefix(Keys::bytes(data, offsets, row)), row)).collect();
                    top(&mut items, limit, |a, b| {
                        a.0.cmp(&b.0)
                            .then_with(|| {
                                let (x, y) = (Keys::bytes(data, offsets, a.1), Keys::bytes(data, offsets, b.1));
                                // Equal prefixes: both keys have 8 bytes or more, or they are
                                // equal (no key is a prefix of another).
                                cmp_bytes(&x[x.len().min(8)..], &y[y.len().min(8)..])
                            })
                            .then(a.1.cmp(&b.1))
                    });
                    items.iter().map(|&(_, row)| row).collect()
                }
            });
        }
        crate::interrupt::check()?;
        if chunks.len() <= 1 {
            return Ok(chunks.pop().unwrap_or_default());
        }
        let heads: Vec<&[u32]> = chunks.iter().map(Vec::as_slice).collect();
        let merged = merge(&heads, limit, |(_, a), (_, b)| self.cmp(a, self, b).then(a.cmp(&b)))?;
        Ok(merged.into_iter().map(|(chunk, at)| chunks[chunk][at]).collect())
    }

    /// The keys of `rows` (in that order), renumbered `0..rows.len()`.
    pub(super) fn select(&self, rows: &[u32]) -> Keys {
        match self {
            Keys::Words(words) => Keys::Words(
                rows.iter().enumerate().map(|(new, &row)| ((words[row as usize] >> 32) << 32) | new as u128).collect(),
            ),
            Keys::Bytes { data, offsets } => {
                let mut out = Vec::new();
                let mut out_offsets = Vec::with_capacity(rows.len() + 1);
                out_offsets.push(0);
                for &row in rows {
                    out.extend_from_slice(Keys::bytes(data, offsets, row));
                    out_offsets.push(out.len());
                }
                Keys::Bytes { data: out, offsets: out_offsets }
            }
        }
    }
}

/// `a.cmp(b)` on byte strings, 8 bytes at a time: keys are short, and a call to `memcmp`
/// per comparison cost more than the comparison.
#[inline]
fn cmp_bytes(a: &[u8], b: &[u8]) -> Ordering {
    let mut xs = a.chunks_exact(8);
    let mut ys = b.chunks_exact(8);
    for (x, y) in (&mut xs).zip(&mut ys) {
        let (x, y) =
            (u64::from_be_bytes(x.try_into().unwrap_or([0; 8])), u64::from_be_bytes(y.try_into().unwrap_or([0; 8])));
        if x != y {
            return x.cmp(&y);
        }
    }
    let done = a.len().min(b.len()) / 8 * 8;
    a[done..].cmp(&b[done..])
}

/// The first 8 bytes of a key as a big-endian integer (zero-padded): ordered as the keys.
#[inline]
fn prefix(key: &[u8]) -> u64 {
    let mut word = [0u8; 8];
    let n = key.len().min(8);
    word[..n].copy_from_slice(&key[..n]);
    u64::from_be_bytes(word)
}

/// Sorts `items` by `cmp` (a total order), keeping only the first `limit`.
fn top<T>(items: &mut Vec<T>, limit: usize, mut cmp: impl FnMut(&T, &T) -> Ordering) {
    if limit == 0 {
        items.clear();
        return;
    }
    if limit < items.len() {
        items.select_nth_unstable_by(limit - 1, &mut cmp);
        items.truncate(limit);
    }
    items.sort_unstable_by(cmp);
}

/// Merges sorted sequences into the first `limit` positions `(sequence, index)` of their
/// union in `cmp` order (`cmp` gets `(sequence, item)` pairs and must break every tie).
/// Checks the statement's interrupt every 65,536 rows.
pub(super) fn merge(
    seqs: &[&[u32]],
    limit: usize,
    cmp: impl Fn((usize, u32), (usize, u32)) -> Ordering,
) -> Result<Vec<(usize, usize)>> {
    let total: usize = seqs.iter().map(|s| s.len()).sum();
    let mut out = Vec::with_capacity(limit.min(total));
    // A binary min-heap of the sequences with rows left, by their next row.
    let mut at = vec![0usize; seqs.len()];
    let mut heap: Vec<usize> = (0..seqs.len()).filter(|&s| !seqs[s].is_empty()).collect();
    let less = |at: &[usize], x: usize, y: usize| cmp((x, seqs[x][at[x]]), (y, seqs[y][at[y]])) == Ordering::Less;
    let sift_down = |heap: &mut [usize], at: &[usize], mut i: usize| loop {
        let (l, r) = (2 * i + 1, 2 * i + 2);
        let mut min = i;
        if l < heap.len() && less(at, heap[l], heap[min]) {
            min = l;
        }
        if r < heap.len() && less(at, heap[r], heap[min]) {
            min = r;
        }
        if min == i {
            break;
        }
        heap.swap(i, min);
        i = min;
    };
    for i in (0..heap.len() / 2).rev() {
        sift_down(&mut heap, &at, i);
    }
    while out.len() < limit {
        let Some(&s) = heap.first() else { break };
        out.push((s, at[s]));
        at[s] += 1;
        if at[s] == seqs[s].len() {
            let last = heap.len() - 1;
            heap.swap(0, last);
            heap.pop();
        }
        sift_down(&mut heap, &at, 0);
        if out.len().is_multiple_of(1 << 16) {
            crate::interrupt::check()?;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
