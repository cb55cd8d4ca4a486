//! Joins: HashJoinExec for equality conditions (build the smaller side, probe with the other),
//! NestedLoopJoinExec for everything else. Both support INNER, LEFT, RIGHT and FULL joins and a
//! residual filter; output columns are always the left input's, then the right input's.

use super::aggregate::{int_values, is_int_like};
use super::group_table::valid_range;
use super::{collect, execute, sort::concat_batches, Flow, PhysicalPlan, Sink};
use crate::error::{ExecError, Result};
use crate::expr::Expr;
use crate::kernels::boolean::true_mask;
use crate::kernels::compare::downcast_bool;
use crate::row_key::{FastMap, RowKeys};
use arrow::array::{new_null_array, Array, PrimitiveArray};
use arrow::types::NativeType;
use storage::{ArrayRef, Batch, DataType};

/// Which rows a join keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JoinKind {
    Inner,
    Left,
    Right,
    Full,
    /// Left rows with at least one match (EXISTS / IN); output is the left columns only.
    Semi,
    /// Left rows without a match (NOT EXISTS); output is the left columns only.
    Anti,
}

impl JoinKind {
    /// Whether the output is the left input's columns only.
    pub fn left_only(self) -> bool {
        matches!(self, JoinKind::Semi | JoinKind::Anti)
    }

    pub fn keeps_unmatched_left(self) -> bool {
        matches!(self, JoinKind::Left | JoinKind::Full)
    }
    pub fn keeps_unmatched_right(self) -> bool {
        matches!(self, JoinKind::Right | JoinKind::Full)
    }
}

/// One flag per build row: which rows some probe row matched. A bitset, so the flags of a
/// large build side stay in a core's cache while the probe sets them in random order (5M
/// customers: 625 KB, against 5 MB as bytes).
#[derive(Debug, Clone, Default)]
pub(super) struct Flags {
    words: Vec<u64>,
    len: usize,
}

impl Flags {
    /// `len` flags, all clear.
    pub fn new(len: usize) -> Flags {
        Flags { words: vec![0; len.div_ceil(64)], len }
    }

    /// Whether there are no flags (the join does not flag its build rows).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Sets flag `i` (below [`Flags::new`]'s `len`).
    pub fn set(&mut self, i: usize) {
        self.words[i >> 6] |= 1 << (i & 63);
    }

    pub fn get(&self, i: usize) -> bool {
        self.words[i >> 6] >> (i & 63) & 1 == 1
    }

    /// Sets every flag set in `other` (of the same length).
    pub fn or(&mut self, other: &Flags) {
        self.words.iter_mut().zip(&other.words).for_each(|(w, o)| *w |= o);
    }

    /// The indexes of the flags that are set (`true`) or clear (`false`), in order.
    pub fn indexes(&self, set: bool) -> impl Iterator<Item = u32> + '_ {
        (0..self.len as u32).filter(move |&i| self.get(i as usize) == set)
    }
}

/// Gathers rows by optional index: `None` yields NULL.
pub(super) fn gather(array: &dyn Array, indices: &[Option<u32>]) -> Result<ArrayRef> {
    if array.data_type() == &arrow::datatypes::DataType::Null {
        return Ok(new_null_array(array.data_type().clone(), indices.len()));
    }
    // Without a NULL index (an inner join's pairs) the indices need no validity bitmap, which
    // also lets `take` skip its per-row index checks.
    let idx = if indices.iter().all(Option::is_some) {
        PrimitiveArray::<u32>::from_vec(indices.iter().map(|i| i.unwrap_or(0)).collect())
    } else {
        PrimitiveArray::<u32>::from(indices.to_vec())
    };
    arrow::compute::take::take(array, &idx).map_err(|e| ExecError::Internal(format!("take: {e}")))
}

fn gather_batch(batch: &Batch, types: &[DataType], indices: &[Option<u32>]) -> Result<Vec<ArrayRef>> {
    if batch.n_rows == 0 {
        return Ok(types.iter().map(|t| new_null_array(t.to_arrow(), indices.len())).collect());
    }
    batch.columns.iter().map(|c| gather(c.as_ref(), indices)).collect()
}

/// All rows of `plan` as one batch; an empty input still has its typed columns.
fn collect_one(plan: &PhysicalPlan, types: &[DataType]) -> Result<Batch> {
    let batches = collect(plan)?;
    if batches.is_empty() {
        return Ok(Batch {
            columns: types.iter().map(|t| arrow::array::new_empty_array(t.to_arrow())).collect(),
            n_rows: 0,
        });
    }
    concat_batches(&batches)
}

/// Emits joined rows `(left_idx, right_idx)` pairs as one batch.
struct Pairs {
    left: Vec<Option<u32>>,
    right: Vec<Option<u32>>,
}

fn joined(
    left: &Batch,
    left_types: &[DataType],
    right: &Batch,
    right_types: &[DataType],
    pairs: &Pairs,
) -> Result<Batch> {
    let mut columns = gather_batch(left, left_types, &pairs.left)?;
    columns.extend(gather_batch(right, right_types, &pairs.right)?);
    Ok(Batch { columns, n_rows: pairs.left.len() })
}

/// The rows of `batch` at `indices` (all valid row numbers), one column per type. Rows taken
/// in order exactly once (a probe batch whose every row matched one build row, as a foreign
/// key join gives) are the batch itself: its columns are shared, not copied. Columns listed
/// in `given` are those arrays instead (already at `indices`).
fn take_matched(
    batch: &Batch,
    types: &[DataType],
    (indices, in_order): (&[u32], bool),
    unread: &[bool],
    given: &[(usize, ArrayRef)],
) -> Result<Vec<ArrayRef>> {
    if in_order || is_identity(indices, batch.n_rows) {
        return Ok(batch.columns.clone());
    }
    if batch.n_rows == 0 {
        return Ok(types.iter().map(|t| new_null_array(t.to_arrow(), indices.len())).collect());
    }
    batch
        .columns
        .iter()
        .enumerate()
        .map(|(k, c)| {
            if unread.get(k).copied().unwrap_or(false) {
                Ok(new_null_array(c.data_type().clone(), indices.len()))
            } else if let Some((_, array)) = given.iter().find(|(col, _)| *col == k) {
                Ok(array.clone())
            } else {
                crate::expr::take_array(c.as_ref(), indices)
            }
        })
        .collect()
}

/// Whether `indices` are `0..n_rows`, each once in order.
fn is_identity(indices: &[u32], n_rows: usize) -> bool {
    indices.len() == n_rows && indices.iter().enumerate().all(|(k, &i)| i as usize == k)
}

/// One side of matched pairs: its rows, column types, row of each pair (and whether those are
/// known to be every row once, in order), unread columns, and columns given already taken
/// (see [`take_matched`]).
type Side<'a> = (&'a Batch, &'a [DataType], (&'a [u32], bool), &'a [bool], &'a [(usize, ArrayRef)]);

/// The joined rows of matched pairs.
fn joined_matches(
    (left, left_types, left_idx, left_unread, left_given): Side<'_>,
    (right, right_types, right_idx, right_unread, right_given): Side<'_>,
) -> Result<Batch> {
    let mut columns = take_matched(left, left_types, left_idx, left_unread, left_given)?;
    columns.extend(take_matched(right, right_types, right_idx, right_unread, right_given)?);
    Ok(Batch { columns, n_rows: left_idx.0.len() })
}

/// Keeps the pairs whose joined row passes `filter`, returning the joined batch and the mask.
fn apply_filter(batch: Batch, filter: Option<&Expr>) -> Result<(Batch, Option<arrow::bitmap::Bitmap>)> {
    match filter {
        None => Ok((batch, None)),
        Some(f) => {
            let mask = f.evaluate(&batch)?;
            let bits = true_mask(downcast_bool(mask.as_ref())?);
            let filtered = super::filter::filter_batch(
                &batch,
                &arrow::array::BooleanArray::new(arrow::datatypes::DataType::Boolean, bits.clone(), None),
            )?;
            Ok((filtered, Some(bits)))
        }
    }
}

/// The shared description of a join.
#[derive(Debug, Clone)]
pub struct JoinSpec {
    pub kind: JoinKind,
    pub left_types: Vec<DataType>,
    pub right_types: Vec<DataType>,
    /// Residual condition over the joined row (left columns, then right columns).
    pub filter: Option<Expr>,
    /// The output columns (left, then right) that nothing above the join reads, nor its
    /// filter (a join key, a column only a scan filter read): a hash join's matched rows get
    /// NULLs there instead of gathered values. Empty when every column may be read.
    pub unread: Vec<bool>,
}

impl JoinSpec {
    /// The unread flags of the left (`true`) or right side's columns; empty when all are read.
    fn unread_side(&self, left: bool) -> &[bool] {
        if self.unread.is_empty() {
            &[]
        } else if left {
            &self.unread[..self.left_types.len()]
        } else {
            &self.unread[self.left_types.len()..]
        }
    }
}

/// The hash table of a join's build side: key to the first build row with that key; further
/// rows with the key follow through [`JoinBuild::next`], in row order.
pub(super) enum JoinTable {
    /// One integer-like key on both sides whose build values span a small range (at most
    /// [`DENSE_SLOTS_PER_ROW`] slots per build row): `heads[key - min]` is the first build row
    /// with the key, or `u32::MAX`. An array index instead of a hash probe. `identity` when
    /// build row `i` holds key `min + i` for every row (a dimension stored in key order):
    /// the probe computes the row from the key and never reads `heads`, one random access
    /// less per probe row.
    Dense { min: i64, heads: Vec<u32>, identity: bool },
    /// One integer-like key on both sides.
    Int(FastMap<i64, u32>),
    /// Row-key bytes.
    Bytes(FastMap<Box<[u8]>, u32>),
}

/// The build side of a hash join: its rows and the hash table from key to row indexes.
pub(super) struct JoinBuild {
    pub build: Batch,
    pub table: JoinTable,
    /// The next build row with the same key, or `u32::MAX`.
    pub next: Vec<u32>,
    /// Whether no two build rows share a key (every `next` is `u32::MAX`): a probe takes the
    /// head of its key's chain without reading `next`.
    pub unique: bool,
    /// `(build column, key position)` for build columns that are join keys compared with
    /// probe keys of the same exact type ([`key_aliases`]): in a matched pair the build value
    /// equals the probe key's value, so it is taken from the probe batch instead of gathered
    /// from random build rows.
    pub aliases: Vec<(usize, usize)>,
    /// A build column of SMALLINT codes gathered through a smaller copy ([`PackedCodes`]).
    pub packed: Option<PackedCodes>,
}

/// Rows per block of [`Packing::Blocks`], as a shift.
const BLOCK_SHIFT: u32 = 6;

/// A build column of SMALLINT codes (the coded GROUP BY keys of a join's build side) in a form
/// much smaller than two bytes per row, so that the probe, which reads the code of a random
/// build row per probe row, finds it in the cache: 5M customers' codes are 10 MB as SMALLINT.
pub(super) struct PackedCodes {
    col: usize,
    packing: Packing,
}

enum Packing {
    /// Codes that come in runs (a dimension stored in key order whose grouped attribute
    /// follows the key: customers and their registration cohort): per block of 64 build rows,
    /// the code when every row of the block has it, else -1 (read the column there). 312 KB
    /// for 5M customers.
    Blocks(Vec<i32>),
    /// Codes below `1 << bits` (`bits` 1, 2, 4 or 8; q08's three segments: 2 bits), packed
    /// into words: 1.25 MB for 5M customers at 2 bits.
    Bits { bits: u32, words: Vec<u64> },
    /// A small build side (at most [`PLAIN_CODES`] rows, the codes in L2 as they are): the
    /// column read directly, without the general `take`.
    Plain,
}

/// The most build rows whose SMALLINT codes the probe reads as they are (64 KiB).
const PLAIN_CODES: usize = 1 << 15;

impl PackedCodes {
    /// The packed form of column `col` of `build` when it holds SMALLINT codes without NULLs
    /// in runs (at most one block in eight mixed) or below 256, or the plain column of a small
    /// build side; `None` otherwise.
    pub fn new(build: &Batch, col: usize) -> Option<PackedCodes> {
        let codes = build.columns.get(col)?.as_any().downcast_ref::<PrimitiveArray<i16>>()?;
        if codes.null_count() > 0 {
            return None;
        }
        let values = codes.values().as_slice();
        if values.len() <= PLAIN_CODES {
            return Some(PackedCodes { col, packing: Packing::Plain });
        }
        let blocks: Vec<i32> = values
            .chunks(1 << BLOCK_SHIFT)
            .map(|block| if block.iter().all(|&c| c == block[0]) { i32::from(block[0]) } else { -1 })
            .collect();
        let mixed = blocks.iter().filter(|&&b| b < 0).count();
        if mixed * 8 <= blocks.len() {
            return Some(PackedCodes { col, packing: Packing::Blocks(blocks) });
        }
        let max = values.iter().copied().max().unwrap_or(0);
        let bits = match max {
            ..=1 => 1,
            2..=3 => 2,
            4..=15 => 4,
            16..=255 => 8,
            _ => return None,
        };
        let per_word = 64 / bits as usize;
        // Codes are never negative (group ids), so `c as u64` keeps their bits.
        let words = values
            .chunks(per_word)
            .map(|chunk| chunk.iter().enumerate().fold(0u64, |w, (k, &c)| w | (c as u64) << (k as u32 * bits)))
            .collect();
        Some(PackedCodes { col, packing: Packing::Bits { bits, words } })
    }

    /// The codes of build `rows` (valid row numbers of `build`).
    fn gather(&self, build: &Batch, rows: &[u32]) -> Result<ArrayRef> {
        let codes = build
            .columns
            .get(self.col)
            .and_then(|c| c.as_any().downcast_ref::<PrimitiveArray<i16>>())
            .ok_or_else(|| ExecError::Internal("packed codes of another column".into()))?;
        let out: Vec<i16> = match &self.packing {
            Packing::Blocks(blocks) => {
                let values = codes.values().as_slice();
                rows.iter()
                    .map(|&r| match blocks[(r >> BLOCK_SHIFT) as usize] {
                        -1 => values[r as usize],
                        b => b as i16,
                    })
                    .collect()
            }
            Packing::Bits { bits, words } => {
                let (shift, mask) = ((64 / bits).trailing_zeros(), (1u64 << bits) - 1);
                let slot = (64 / bits) - 1;
                rows.iter().map(|&r| (words[(r >> shift) as usize] >> ((r & slot) * bits) & mask) as i16).collect()
            }
            Packing::Plain => {
                let values = codes.values().as_slice();
                rows.iter().map(|&r| values[r as usize]).collect()
            }
        };
        Ok(PrimitiveArray::<i16>::new(codes.data_type().clone(), out.into(), None).boxed())
    }
}

impl JoinBuild {
    /// With an identity table ([`JoinTable::Dense`]), when every probe key is non-NULL and
    /// inside the build range: the build row of each probe row (its key minus the smallest
    /// key), every probe row matching exactly that one. A subtraction per row that the
    /// compiler vectorises, instead of a match loop that appends pairs one at a time.
    fn identity_rows(&self, keys: &[ArrayRef], n_rows: usize) -> Option<Vec<u32>> {
        let JoinTable::Dense { min, heads, identity: true } = &self.table else { return None };
        let [key] = keys else { return None };
        if key.null_count() > 0 || heads.is_empty() {
            return None;
        }
        // Build rows are `u32`, so the range's top is at most `min + u32::MAX`: no overflow.
        let max = *min + (heads.len() as i64 - 1);
        // Read at the key's own width, the range checked first: both loops vectorise.
        fn rows_of<T: NativeType + Ord + Into<i64>>(key: &dyn Array, min: i64, max: i64) -> Option<Vec<u32>> {
            let values = key.as_any().downcast_ref::<PrimitiveArray<T>>()?.values().as_slice();
            let (lo, hi) = valid_range(values, None)?;
            // In range, `v - min` fits in 32 bits, so its low 32 bits are the row.
            (lo >= min && hi <= max)
                .then(|| values.iter().map(|&v| (v.into() as u32).wrapping_sub(min as u32)).collect())
        }
        let rows = match DataType::from_arrow(key.data_type())? {
            DataType::BigInt | DataType::Timestamp => rows_of::<i64>(key.as_ref(), *min, max),
            DataType::Integer | DataType::Date => rows_of::<i32>(key.as_ref(), *min, max),
            DataType::SmallInt => rows_of::<i16>(key.as_ref(), *min, max),
            _ => None,
        }?;
        (rows.len() == n_rows).then_some(rows)
    }

    /// Calls `f(probe_row, build_row)` for every match of the keys of probe rows `start..`,
    /// probe rows in order and each one's build rows in order, stopping after the first probe
    /// row that brings the number of matches to `cap`; returns the probe row to start from
    /// next (`n_rows` when all are done). NULL keys match nothing.
    fn matches(
        &self,
        keys: &[ArrayRef],
        n_rows: usize,
        start: usize,
        cap: usize,
        mut f: impl FnMut(u32, u32),
    ) -> Result<usize> {
        let mut found = 0;
        let unique = self.unique;
        let mut chain = |probe: u32, mut b: u32| {
            if unique {
                f(probe, b);
                found += 1;
                return found >= cap;
            }
            while b != u32::MAX {
                f(probe, b);
                found += 1;
                b = self.next[b as usize];
            }
            found >= cap
        };
        match &self.table {
            JoinTable::Dense { min, heads, identity: true } => {
                let values = int_values(keys[0].as_ref())
                    .ok_or_else(|| ExecError::Internal(format!("integer join key of {:?}", keys[0].data_type())))?;
                let validity = keys[0].validity().filter(|v| v.unset_bits() > 0);
                let n_build = heads.len();
                for (row_idx, v) in values.iter().enumerate().skip(start) {
                    if validity.is_some_and(|b| !b.get_bit(row_idx)) {
                        continue;
                    }
                    // Keys outside the build range (or whose distance overflows) match nothing.
                    let slot = v.checked_sub(*min).and_then(|d| usize::try_from(d).ok());
                    if let Some(build_row) = slot.filter(|&d| d < n_build) {
                        // Unique keys: the build row is the only match.
                        f(row_idx as u32, build_row as u32);
                        found += 1;
                        if found >= cap {
                            return Ok(row_idx + 1);
                        }
                    }
                }
            }
            JoinTable::Dense { min, heads, identity: false } => {
                let values = int_values(keys[0].as_ref())
                    .ok_or_else(|| ExecError::Internal(format!("integer join key of {:?}", keys[0].data_type())))?;
                let validity = keys[0].validity().filter(|v| v.unset_bits() > 0);
                for (row_idx, v) in values.iter().enumerate().skip(start) {
                    if validity.is_some_and(|b| !b.get_bit(row_idx)) {
                        continue;
                    }
                    // Keys outside the build range (or whose distance overflows) match nothing.
                    let slot = v.checked_sub(*min).and_then(|d| usize::try_from(d).ok());
                    if let Some(&first) = slot.and_then(|d| heads.get(d)) {
                        if first != u32::MAX && chain(row_idx as u32, first) {
                            return Ok(row_idx + 1);
                        }
                    }
                }
            }
            JoinTable::Int(map) => {
                let values = int_values(keys[0].as_ref())
                    .ok_or_else(|| ExecError::Internal(format!("integer join key of {:?}", keys[0].data_type())))?;
                let validity = keys[0].validity().filter(|v| v.unset_bits() > 0);
                for (row_idx, v) in values.iter().enumerate().skip(start) {
                    if validity.is_some_and(|b| !b.get_bit(row_idx)) {
                        continue;
                    }
                    if let Some(&first) = map.get(v) {
                        if chain(row_idx as u32, first) {
                            return Ok(row_idx + 1);
                        }
                    }
                }
            }
            JoinTable::Bytes(map) => {
                let key_refs: Vec<&dyn Array> = keys.iter().map(|a| a.as_ref()).collect();
                let encoded = RowKeys::encode(&key_refs, n_rows)?;
                for row_idx in start..n_rows {
                    if key_refs.iter().any(|a| a.is_null(row_idx)) {
                        continue;
                    }
                    if let Some(&first) = map.get(encoded.get(row_idx)) {
                        if chain(row_idx as u32, first) {
                            return Ok(row_idx + 1);
                        }
                    }
                }
            }
        }
        Ok(n_rows)
    }
}

/// How many direct-address slots per build row a dense join table may use (4 bytes each: a
/// hash table entry of the `Int` table costs about as much as 4 slots).
const DENSE_SLOTS_PER_ROW: usize = 4;

/// `(min, max - min + 1)` of the non-NULL build keys when that range is small enough for a
/// [`JoinTable::Dense`] table; `None` otherwise (or with no non-NULL key).
fn dense_range(values: &[i64], keys: &dyn Array) -> Option<(i64, usize)> {
    let validity = keys.validity().filter(|v| v.unset_bits() > 0);
    let mut range: Option<(i64, i64)> = None;
    for (row_idx, &v) in values.iter().enumerate() {
        if validity.is_some_and(|b| !b.get_bit(row_idx)) {
            continue;
        }
        range = Some(match range {
            None => (v, v),
            Some((lo, hi)) => (lo.min(v), hi.max(v)),
        });
    }
    let (lo, hi) = range?;
    let span = usize::try_from(hi.checked_sub(lo)?).ok()?.checked_add(1)?;
    (span <= values.len().saturating_mul(DENSE_SLOTS_PER_ROW).max(1024)).then_some((lo, span))
}

/// Runs the build side and hashes its keys (rows with a NULL key are left out: they match
/// nothing). `probe_keys` choose the table: integer-like keys on both sides hash as i64.
pub(super) fn build_side(
    plan: &PhysicalPlan,
    keys: &[Expr],
    probe_keys: &[Expr],
    types: &[DataType],
) -> Result<JoinBuild> {
    let build = collect_one(plan, types)?;
    let key_arrays = keys.iter().map(|k| k.evaluate(&build)).collect::<Result<Vec<_>>>()?;
    let key_refs: Vec<&dyn Array> = key_arrays.iter().map(|a| a.as_ref()).collect();
    let mut next = vec![u32::MAX; build.n_rows];
    // Rows are inserted last to first at the head of their key's chain, so chains run in row
    // order.
    let int_keys = match (keys, probe_keys) {
        ([k], [p]) if is_int_like(k.data_type()) && is_int_like(p.data_type()) => int_values(key_refs[0]),
        _ => None,
    };
    let dense = int_keys.as_ref().and_then(|values| dense_range(values, key_refs[0]));
    let table = match (int_keys, dense) {
        (Some(values), Some((min, slots))) => {
            let mut heads = vec![u32::MAX; slots];
            let validity = key_refs[0].validity().filter(|v| v.unset_bits() > 0);
            for row_idx in (0..build.n_rows).rev() {
                if validity.is_some_and(|v| !v.get_bit(row_idx)) {
                    continue;
                }
                // In range by construction of `dense_range`.
                let slot = (values[row_idx] - min) as usize;
                next[row_idx] = heads[slot];
                heads[slot] = row_idx as u32;
            }
            // Row i in slot i for every row: each row has its own key, in key order.
            let identity = heads.len() == build.n_rows && heads.iter().enumerate().all(|(i, &h)| h as usize == i);
            JoinTable::Dense { min, heads, identity }
        }
        (Some(values), None) => {
            let mut map: FastMap<i64, u32> = FastMap::default();
            map.reserve(build.n_rows);
            let validity = key_refs[0].validity().filter(|v| v.unset_bits() > 0);
            for row_idx in (0..build.n_rows).rev() {
                if validity.is_some_and(|v| !v.get_bit(row_idx)) {
                    continue;
                }
                if let Some(old) = map.insert(values[row_idx], row_idx as u32) {
                    next[row_idx] = old;
                }
            }
            JoinTable::Int(map)
        }
        (None, _) => {
            let encoded = RowKeys::encode(&key_refs, build.n_rows)?;
            let mut map: FastMap<Box<[u8]>, u32> = FastMap::default();
            for row_idx in (0..build.n_rows).rev() {
                if key_refs.iter().any(|a| a.is_null(row_idx)) {
                    continue;
                }
                let key = encoded.get(row_idx);
                match map.get_mut(key) {
                    Some(head) => {
                        next[row_idx] = *head;
                        *head = row_idx as u32;
                    }
                    None => {
                        map.insert(key.into(), row_idx as u32);
                    }
                }
            }
            JoinTable::Bytes(map)
        }
    };
    let unique = next.iter().all(|&n| n == u32::MAX);
    Ok(JoinBuild { build, table, next, unique, aliases: key_aliases(keys, probe_keys), packed: None })
}

/// The build columns whose value in a matched pair is the probe key's: build keys that are
/// plain columns, compared with probe keys of the same type whose equal values are identical
/// (integers, dates, timestamps, booleans, text; not floats, where -0 = 0).
fn key_aliases(keys: &[Expr], probe_keys: &[Expr]) -> Vec<(usize, usize)> {
    keys.iter()
        .zip(probe_keys)
        .enumerate()
        .filter_map(|(pos, (k, p))| match k {
            Expr::Column { idx, data_type, .. }
                if *data_type == p.data_type()
                    && (is_int_like(*data_type) || matches!(data_type, DataType::Text | DataType::Boolean)) =>
            {
                Some((*idx, pos))
            }
            _ => None,
        })
        .collect()
}

/// A probe of `join` for a parallel pipeline's worker. `build_matched` is the worker's own
/// flags of the build rows matched so far (one per build row when the join keeps unmatched
/// build rows or its matched ones answer aggregates, else empty); get them back with [`HashProbe::take_matched`]. The workers' flags
/// OR-ed together give the build rows no probe row matched ([`unmatched_build`]).
pub(super) fn probe_sink<'a>(
    join: &'a JoinBuild,
    probe_keys: &'a [Expr],
    build_left: bool,
    spec: &'a JoinSpec,
    build_matched: Flags,
    next: &'a mut dyn Sink,
) -> HashProbe<'a> {
    let keep_unmatched_probe =
        if build_left { spec.kind.keeps_unmatched_right() } else { spec.kind.keeps_unmatched_left() };
    HashProbe { join, probe_keys, build_left, spec, keep_unmatched_probe, build_matched, next }
}

/// The build rows whose `matched` flag is false, joined with NULLs for the probe side's
/// columns (the rows a LEFT/RIGHT/FULL join adds after the probe); `None` when there are none.
pub(super) fn unmatched_build(
    join: &JoinBuild,
    build_left: bool,
    spec: &JoinSpec,
    matched: &Flags,
) -> Result<Option<Batch>> {
    let unmatched: Vec<Option<u32>> = matched.indexes(false).map(Some).collect();
    if unmatched.is_empty() {
        return Ok(None);
    }
    let nulls = vec![None; unmatched.len()];
    let empty = Batch::empty_with_rows(0);
    let out = if build_left {
        joined(&join.build, &spec.left_types, &empty, &spec.right_types, &Pairs { left: unmatched, right: nulls })?
    } else {
        joined(&empty, &spec.left_types, &join.build, &spec.right_types, &Pairs { left: nulls, right: unmatched })?
    };
    Ok(Some(out))
}

/// Whether the build side of a join keeps its unmatched rows (emitted after the probe).
pub(super) fn keeps_unmatched_build(build_left: bool, kind: JoinKind) -> bool {
    if build_left {
        kind.keeps_unmatched_left()
    } else {
        kind.keeps_unmatched_right()
    }
}

/// Hash join: `left_keys[k] = right_keys[k]` for all k, plus the residual filter.
pub(super) fn run_hash_join(
    left: &PhysicalPlan,
    right: &PhysicalPlan,
    left_keys: &[Expr],
    right_keys: &[Expr],
    build_left: bool,
    spec: &JoinSpec,
    sink: &mut dyn Sink,
) -> Result<Flow> {
    let (build_plan, probe_plan, build_keys, probe_keys) =
        if build_left { (left, right, left_keys, right_keys) } else { (right, left, right_keys, left_keys) };
    let join =
        build_side(build_plan, build_keys, probe_keys, if build_left { &spec.left_types } else { &spec.right_types })?;
    let build = &join.build;
    let keep_unmatched_build =
        if build_left { spec.kind.keeps_unmatched_left() } else { spec.kind.keeps_unmatched_right() };
    let keep_unmatched_probe =
        if build_left { spec.kind.keeps_unmatched_right() } else { spec.kind.keeps_unmatched_left() };
    let mut probe_sink = HashProbe {
        join: &join,
        probe_keys,
        build_left,
        spec,
        keep_unmatched_probe,
        build_matched: Flags::new(if keep_unmatched_build { build.n_rows } else { 0 }),
        next: sink,
    };
    if execute(probe_plan, &mut probe_sink)? == Flow::Stop {
        return Ok(Flow::Stop);
    }
    if keep_unmatched_build {
        let matched = probe_sink.take_matched();
        if let Some(out) = unmatched_build(&join, build_left, spec, &matched)? {
            return sink.push(out);
        }
    }
    Ok(Flow::Continue)
}

pub(super) struct HashProbe<'a> {
    join: &'a JoinBuild,
    probe_keys: &'a [Expr],
    build_left: bool,
    spec: &'a JoinSpec,
    keep_unmatched_probe: bool,
    build_matched: Flags,
    next: &'a mut dyn Sink,
}

impl HashProbe<'_> {
    /// The flags of the build rows matched so far (see [`probe_sink`]).
    pub(super) fn take_matched(&mut self) -> Flags {
        std::mem::take(&mut self.build_matched)
    }

    /// The read build key columns of matched pairs, taken from the probe keys at `probe_idx`
    /// ([`JoinBuild::aliases`]): the probe batch's rows are near each other (or all of them,
    /// in order), the build rows of a large build side are not.
    fn key_columns(
        &self,
        key_arrays: &[ArrayRef],
        (probe_idx, in_order): (&[u32], bool),
        n_rows: usize,
        build_unread: &[bool],
    ) -> Result<Vec<(usize, ArrayRef)>> {
        let identity = !self.join.aliases.is_empty() && (in_order || is_identity(probe_idx, n_rows));
        self.join
            .aliases
            .iter()
            .filter(|&&(col, pos)| {
                !build_unread.get(col).copied().unwrap_or(false)
                    && self.join.build.columns.get(col).map(|c| c.data_type()) == Some(key_arrays[pos].data_type())
            })
            .map(|&(col, pos)| {
                let array = if identity {
                    key_arrays[pos].clone()
                } else {
                    crate::expr::take_array(key_arrays[pos].as_ref(), probe_idx)?
                };
                Ok((col, array))
            })
            .collect()
    }
}

/// Semi and anti joins: keeps the left rows whose `matched` flag says so.
fn emit_left_rows(left: &Batch, matched: &[bool], kind: JoinKind, next: &mut dyn Sink) -> Result<Flow> {
    let keep_matched = kind == JoinKind::Semi;
    let rows: Vec<u32> = (0..left.n_rows as u32).filter(|&r| matched[r as usize] == keep_matched).collect();
    if rows.is_empty() {
        return Ok(Flow::Continue);
    }
    if rows.len() == left.n_rows {
        return next.push(left.clone());
    }
    next.push(crate::expr::take_rows(left, &rows)?)
}

impl Sink for HashProbe<'_> {
    /// Joins one probe batch. Its matches are taken a slice of probe rows at a time, each
    /// slice's output at most about eight batches (or one probe row's matches), so a key that
    /// matches many build rows never builds one huge batch, and the statement can be
    /// interrupted between slices.
    fn push(&mut self, probe: Batch) -> Result<Flow> {
        let key_arrays = self.probe_keys.iter().map(|k| k.evaluate(&probe)).collect::<Result<Vec<_>>>()?;
        let cap = crate::batch_size().saturating_mul(8);
        let left_only = self.spec.kind.left_only();
        // Probe rows with a match that passes the filter (semi/anti joins, and joins that keep
        // unmatched probe rows).
        let mut probe_matched = if left_only || self.keep_unmatched_probe { vec![false; probe.n_rows] } else { vec![] };
        let mut start = 0;
        while start < probe.n_rows {
            if start > 0 {
                crate::interrupt::check()?;
            }
            let first = start;
            let whole = start == 0 && probe.n_rows <= cap;
            let (probe_idx, build_idx) = match whole.then(|| self.join.identity_rows(&key_arrays, probe.n_rows)) {
                Some(Some(build_idx)) => {
                    start = probe.n_rows;
                    ((0..probe.n_rows as u32).collect(), build_idx)
                }
                _ => {
                    let mut probe_idx: Vec<u32> = Vec::with_capacity(probe.n_rows.min(cap));
                    let mut build_idx: Vec<u32> = Vec::with_capacity(probe.n_rows.min(cap));
                    start = self.join.matches(&key_arrays, probe.n_rows, start, cap, |p, b| {
                        probe_idx.push(p);
                        build_idx.push(b);
                    })?;
                    (probe_idx, build_idx)
                }
            };
            // Every probe row matched once, in order: with unique build keys, as many matches
            // as probe rows in one slice (each row has at most one).
            let probe_all = first == 0 && self.join.unique && probe_idx.len() == probe.n_rows;
            if left_only {
                // The planner always builds the right side of a semi or anti join.
                if self.spec.filter.is_none() {
                    probe_idx.iter().for_each(|&p| probe_matched[p as usize] = true);
                } else {
                    let all = joined_matches(
                        (&probe, &self.spec.left_types[..], (&probe_idx[..], probe_all), &[], &[]),
                        (&self.join.build, &self.spec.right_types[..], (&build_idx[..], false), &[], &[]),
                    )?;
                    let (_, mask) = apply_filter(all, self.spec.filter.as_ref())?;
                    for (k, &p) in probe_idx.iter().enumerate() {
                        if mask.as_ref().is_none_or(|m| m.get_bit(k)) {
                            probe_matched[p as usize] = true;
                        }
                    }
                }
                continue;
            }
            if probe_idx.is_empty() {
                continue;
            }
            let build_unread = self.spec.unread_side(self.build_left);
            let mut given = self.key_columns(&key_arrays, (&probe_idx, probe_all), probe.n_rows, build_unread)?;
            if let Some(packed) =
                self.join.packed.as_ref().filter(|p| !build_unread.get(p.col).copied().unwrap_or(false))
            {
                given.push((packed.col, packed.gather(&self.join.build, &build_idx)?));
            }
            let probe_side = (
                &probe,
                if self.build_left { &self.spec.right_types[..] } else { &self.spec.left_types[..] },
                (&probe_idx[..], probe_all),
                self.spec.unread_side(!self.build_left),
                &[][..],
            );
            let build_side = (
                &self.join.build,
                if self.build_left { &self.spec.left_types[..] } else { &self.spec.right_types[..] },
                (&build_idx[..], false),
                build_unread,
                &given[..],
            );
            let all = if self.build_left {
                joined_matches(build_side, probe_side)?
            } else {
                joined_matches(probe_side, build_side)?
            };
            let (out, mask) = apply_filter(all, self.spec.filter.as_ref())?;
            let passes = |k: usize| mask.as_ref().is_none_or(|m| m.get_bit(k));
            if !self.build_matched.is_empty() {
                match &mask {
                    None => build_idx.iter().for_each(|&b| self.build_matched.set(b as usize)),
                    Some(_) => {
                        for (k, &b) in build_idx.iter().enumerate() {
                            if passes(k) {
                                self.build_matched.set(b as usize);
                            }
                        }
                    }
                }
            }
            if self.keep_unmatched_probe {
                for (k, &p) in probe_idx.iter().enumerate() {
                    if passes(k) {
                        probe_matched[p as usize] = true;
                    }
                }
            }
            if out.n_rows > 0 && self.next.push(out)? == Flow::Stop {
                return Ok(Flow::Stop);
            }
        }
        if left_only {
            return emit_left_rows(&probe, &probe_matched, self.spec.kind, self.next);
        }
        if self.keep_unmatched_probe {
            let unmatched: Vec<Option<u32>> =
                probe_matched.iter().enumerate().filter(|(_, m)| !**m).map(|(i, _)| Some(i as u32)).collect();
            if !unmatched.is_empty() {
                let nulls = vec![None; unmatched.len()];
                let empty = Batch::empty_with_rows(0);
                let out = if self.build_left {
                    joined(
                        &empty,
                        &self.spec.left_types,
                        &probe,
                        &self.spec.right_types,
                        &Pairs { left: nulls, right: unmatched },
                    )?
                } else {
                    joined(
                        &probe,
                        &self.spec.left_types,
                        &empty,
                        &self.spec.right_types,
                        &Pairs { left: unmatched, right: nulls },
                    )?
                };
                return self.next.push(out);
            }
        }
        Ok(Flow::Continue)
    }
}

/// Nested-loop join: every left row against every right row, filtered.
pub(super) fn run_nested_loop_join(
    left: &PhysicalPlan,
    right: &PhysicalPlan,
    spec: &JoinSpec,
    sink: &mut dyn Sink,
) -> Result<Flow> {
    let right_all = collect_one(right, &spec.right_types)?;
    let mut probe = LoopProbe {
        right: &right_all,
        spec,
        right_matched: vec![false; if spec.kind.keeps_unmatched_right() { right_all.n_rows } else { 0 }],
        next: sink,
    };
    if execute(left, &mut probe)? == Flow::Stop {
        return Ok(Flow::Stop);
    }
    if spec.kind.keeps_unmatched_right() {
        let unmatched: Vec<Option<u32>> =
            probe.right_matched.iter().enumerate().filter(|(_, m)| !**m).map(|(i, _)| Some(i as u32)).collect();
        if !unmatched.is_empty() {
            let nulls = vec![None; unmatched.len()];
            let out = joined(
                &Batch::empty_with_rows(0),
                &spec.left_types,
                &right_all,
                &spec.right_types,
                &Pairs { left: nulls, right: unmatched },
            )?;
            return sink.push(out);
        }
    }
    Ok(Flow::Continue)
}

struct LoopProbe<'a> {
    right: &'a Batch,
    spec: &'a JoinSpec,
    right_matched: Vec<bool>,
    next: &'a mut dyn Sink,
}

impl Sink for LoopProbe<'_> {
    fn push(&mut self, left: Batch) -> Result<Flow> {
        let m = self.right.n_rows;
        // Bound the size of each cross-product batch.
        let rows_per_step = (crate::batch_size() * 4 / m.max(1)).max(1);
        let mut left_matched = vec![false; left.n_rows];
        let mut start = 0;
        while start < left.n_rows {
            crate::interrupt::check()?;
            let end = (start + rows_per_step).min(left.n_rows);
            let mut pairs = Pairs { left: Vec::new(), right: Vec::new() };
            for l in start..end {
                for r in 0..m {
                    pairs.left.push(Some(l as u32));
                    pairs.right.push(Some(r as u32));
                }
            }
            start = end;
            if pairs.left.is_empty() {
                continue;
            }
            let all = joined(&left, &self.spec.left_types, self.right, &self.spec.right_types, &pairs)?;
            let (out, mask) = apply_filter(all, self.spec.filter.as_ref())?;
            if self.spec.kind.left_only() {
                for (k, l) in pairs.left.iter().enumerate() {
                    if let (Some(l), true) = (l, mask.as_ref().is_none_or(|mk| mk.get_bit(k))) {
                        left_matched[*l as usize] = true;
                    }
                }
                continue;
            }
            for (k, (l, r)) in pairs.left.iter().zip(&pairs.right).enumerate() {
                if mask.as_ref().is_none_or(|mk| mk.get_bit(k)) {
                    if let Some(l) = l {
                        left_matched[*l as usize] = true;
                    }
                    if let (Some(r), false) = (r, self.right_matched.is_empty()) {
                        self.right_matched[*r as usize] = true;
                    }
                }
            }
            if out.n_rows > 0 && self.next.push(out)? == Flow::Stop {
                return Ok(Flow::Stop);
            }
        }
        if self.spec.kind.left_only() {
            return emit_left_rows(&left, &left_matched, self.spec.kind, self.next);
        }
        if self.spec.kind.keeps_unmatched_left() {
            let unmatched: Vec<Option<u32>> =
                left_matched.iter().enumerate().filter(|(_, m)| !**m).map(|(i, _)| Some(i as u32)).collect();
            if !unmatched.is_empty() {
                let nulls = vec![None; unmatched.len()];
                let out = joined(
                    &left,
                    &self.spec.left_types,
                    &Batch::empty_with_rows(0),
                    &self.spec.right_types,
                    &Pairs { left: unmatched, right: nulls },
                )?;
                return self.next.push(out);
            }
        }
        Ok(Flow::Continue)
    }
}

#[cfg(test)]
mod tests {
    use super::{Flags, PackedCodes, Packing, BLOCK_SHIFT, PLAIN_CODES};
    use arrow::array::PrimitiveArray;
    use storage::Batch;

    fn codes(values: Vec<i16>, validity: Option<arrow::bitmap::Bitmap>) -> Batch {
        let n_rows = values.len();
        let array = PrimitiveArray::<i16>::new(arrow::datatypes::DataType::Int16, values.into(), validity);
        Batch { columns: vec![array.boxed()], n_rows }
    }

    /// Gathers `rows` through `packed` and checks each code against `values`.
    fn gathers_like_the_column(packed: &PackedCodes, batch: &Batch, values: &[i16]) {
        let n = values.len() as u32;
        let rows: Vec<u32> = (0..n).rev().chain((0..3000).map(|k| (k * 7919) % n)).collect();
        let got = packed.gather(batch, &rows).unwrap();
        let got = got.as_any().downcast_ref::<PrimitiveArray<i16>>().unwrap();
        assert!(rows.iter().zip(got.values().iter()).all(|(&r, &c)| values[r as usize] == c));
    }

    #[test]
    fn packed_codes_gather_the_codes_of_any_row() {
        // Runs of 1000 (ending inside a block), a lone other code every 2999 rows, and a last
        // block of 29 rows: 51 mixed blocks of 601, a block table.
        let n: usize = 64 * 600 + 29;
        assert!(n > PLAIN_CODES);
        let values: Vec<i16> = (0..n).map(|i| if i % 2999 == 3 { 7000 } else { (i / 1000) as i16 }).collect();
        let batch = codes(values.clone(), None);
        let packed = PackedCodes::new(&batch, 0).unwrap();
        let Packing::Blocks(blocks) = &packed.packing else { panic!("runs make blocks") };
        assert!(blocks.iter().any(|&b| b < 0) && blocks.len() == n.div_ceil(1 << BLOCK_SHIFT));
        gathers_like_the_column(&packed, &batch, &values);
        // Codes that change every row, below 2, 4, 16 and 256: packed bits; a word's last
        // code included (n not a multiple of the codes per word).
        for (top, bits) in [(2, 1), (3, 2), (4, 2), (11, 4), (16, 4), (200, 8), (256, 8)] {
            let values: Vec<i16> = (0..n).map(|i| ((i * 7 + i / 5) % top) as i16).collect();
            let batch = codes(values.clone(), None);
            let packed = PackedCodes::new(&batch, 0).unwrap();
            assert!(matches!(packed.packing, Packing::Bits { bits: b, .. } if b == bits), "{top}");
            gathers_like_the_column(&packed, &batch, &values);
        }
        // Codes past 255 that change every row, NULL codes, or other columns: none.
        assert!(PackedCodes::new(&codes((0..n).map(|i| (i % 300) as i16).collect(), None), 0).is_none());
        // A small build side: its codes read as they are, whatever they are.
        let small: Vec<i16> = (0..640).map(|i| (i * 7 % 300) as i16).collect();
        let batch_small = codes(small.clone(), None);
        let plain = PackedCodes::new(&batch_small, 0).unwrap();
        assert!(matches!(plain.packing, Packing::Plain));
        gathers_like_the_column(&plain, &batch_small, &small);
        let some_null = arrow::bitmap::Bitmap::from_iter((0..n).map(|i| i != 5));
        assert!(PackedCodes::new(&codes(values, Some(some_null)), 0).is_none());
        assert!(PackedCodes::new(&batch, 1).is_none());
    }

    #[test]
    fn flags_set_or_and_list_their_indexes() {
        // 130 flags: two full words and two bits of a third.
        let mut a = Flags::new(130);
        let mut b = Flags::new(130);
        assert!(!a.is_empty() && Flags::default().is_empty());
        for i in [0, 63, 64, 129] {
            a.set(i);
        }
        b.set(5);
        b.set(129);
        a.or(&b);
        let set: Vec<u32> = a.indexes(true).collect();
        assert_eq!(set, [0, 5, 63, 64, 129]);
        let clear: Vec<u32> = a.indexes(false).collect();
        assert_eq!(clear.len(), 125);
        assert!(clear.iter().all(|&i| !a.get(i as usize) && i < 130));
        assert!(!a.get(1) && a.get(64));
    }
}
