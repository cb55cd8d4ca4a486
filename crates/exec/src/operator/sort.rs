//! SortExec: a full sort of its input (or the top `fetch` rows), by several keys with
//! ASC/DESC and NULLS FIRST/LAST each.
//!
//! Rows are gathered by [`RunBuilder`] sinks with their keys encoded ([`super::sort_key`]),
//! sorted into [`Run`]s (stable: equal keys keep their input order), and the runs of parallel
//! workers merged by [`merge_runs`] (ties by input position), so any thread count and batch
//! size give the same rows in the same order. [`lexsort`] (arrow2's comparators) orders
//! window partitions.

use super::sort_key::{merge, Keys};
use super::{Flow, Sink};
use crate::error::{ExecError, Result};
use crate::expr::{take_rows, Expr};
use crate::kernels::compare::cmp_interval;
use arrow::array::ord::DynComparator;
use arrow::array::Array;
use arrow::compute::sort::{lexsort_to_indices_impl, SortColumn};
use std::cmp::Ordering;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering as AtomicOrdering};
use std::sync::Arc;
use storage::{Batch, DataType};

/// One ORDER BY key.
#[derive(Debug, Clone, PartialEq)]
pub struct SortKey {
    pub expr: Expr,
    pub descending: bool,
    pub nulls_first: bool,
}

impl fmt::Display for SortKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} NULLS {}",
            self.expr,
            if self.descending { "DESC" } else { "ASC" },
            if self.nulls_first { "FIRST" } else { "LAST" }
        )
    }
}

/// Concatenates batches into one.
pub fn concat_batches(batches: &[Batch]) -> Result<Batch> {
    match batches {
        [] => Ok(Batch::empty_with_rows(0)),
        [one] => Ok(one.clone()),
        _ => {
            let n_cols = batches[0].columns.len();
            let mut columns = Vec::with_capacity(n_cols);
            for col_idx in 0..n_cols {
                let parts: Vec<&dyn Array> = batches.iter().map(|b| b.column(col_idx)).collect();
                columns.push(
                    arrow::compute::concatenate::concatenate(&parts)
                        .map_err(|e| ExecError::Internal(format!("concatenate: {e}")))?,
                );
            }
            Ok(Batch { columns, n_rows: batches.iter().map(|b| b.n_rows).sum() })
        }
    }
}

/// Intervals have no natural order in arrow2's sort: replaces each by its rank in
/// PostgreSQL's interval order (months as 30 days, days as 24 hours), keeping the NULLs.
pub(super) fn interval_ranks(array: &dyn Array) -> Result<Box<dyn Array>> {
    use arrow::array::{Int64Array, PrimitiveArray};
    use arrow::types::months_days_ns;
    let values = array
        .as_any()
        .downcast_ref::<PrimitiveArray<months_days_ns>>()
        .ok_or_else(|| ExecError::Internal(format!("expected an interval array, found {:?}", array.data_type())))?;
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|a, b| cmp_interval(values.value(*a), values.value(*b)));
    // Equal intervals ('1 day' and '24 hours') share a rank, so later keys break the tie.
    let mut ranks = vec![0i64; values.len()];
    let mut rank = 0i64;
    for (pos, &row_idx) in order.iter().enumerate() {
        if pos > 0 && cmp_interval(values.value(order[pos - 1]), values.value(row_idx)).is_ne() {
            rank += 1;
        }
        ranks[row_idx] = rank;
    }
    Ok(Box::new(Int64Array::from_vec(ranks).with_validity(values.validity().cloned())))
}

/// The permutation that sorts `columns` (the first `limit` positions of it, if given), as
/// arrow2's `lexsort_to_indices`, but interruptible: every 8,192 comparisons the statement's
/// scope is checked ([`crate::interrupt`]); once it is stopped, all further comparisons say
/// "equal", so the sort ends quickly, and the error is returned instead of the order.
pub(super) fn lexsort(columns: &[SortColumn], limit: Option<usize>) -> Result<Vec<u32>> {
    let scope = crate::interrupt::current();
    let stopped = Arc::new(AtomicBool::new(false));
    // Comparisons counted on the first key's comparator (every comparison calls it). The
    // sort runs on one thread: plain loads and stores, no read-modify-write.
    let calls = Arc::new(AtomicU32::new(0));
    let first = AtomicBool::new(true);
    let build = |left: &dyn Array, right: &dyn Array| -> arrow::error::Result<DynComparator> {
        let cmp = arrow::array::ord::build_compare(left, right)?;
        let Some(scope) = scope.clone() else { return Ok(cmp) };
        let stopped = stopped.clone();
        if !first.swap(false, AtomicOrdering::Relaxed) {
            // Later keys only say "equal" once the sort is stopped.
            return Ok(Box::new(move |a, b| {
                if stopped.load(AtomicOrdering::Relaxed) {
                    return Ordering::Equal;
                }
                cmp(a, b)
            }));
        }
        let calls = calls.clone();
        Ok(Box::new(move |a, b| {
            if stopped.load(AtomicOrdering::Relaxed) {
                return Ordering::Equal;
            }
            let n = calls.load(AtomicOrdering::Relaxed).wrapping_add(1);
            calls.store(n, AtomicOrdering::Relaxed);
            if n.is_multiple_of(8192) && scope.check().is_err() {
                stopped.store(true, AtomicOrdering::Relaxed);
                return Ordering::Equal;
            }
            cmp(a, b)
        }))
    };
    let indices = lexsort_to_indices_impl::<u32>(columns, limit, &build)
        .map_err(|e| ExecError::Internal(format!("sort: {e}")))?;
    if stopped.load(AtomicOrdering::Relaxed) {
        crate::interrupt::check()?;
    }
    Ok(indices.values().to_vec())
}

/// The key expressions of a sort that order anything (an untyped NULL key orders nothing)
/// and their types.
fn ordering_keys(keys: &[SortKey]) -> (Vec<SortKey>, Vec<DataType>) {
    let keys: Vec<SortKey> = keys.iter().filter(|k| k.expr.data_type() != DataType::Null).cloned().collect();
    let types = keys.iter().map(|k| k.expr.data_type()).collect();
    (keys, types)
}

/// A sink that gathers rows to sort with their encoded keys ([`Keys`]), as the single thread
/// or one parallel worker sees them; `finish` sorts them into a [`Run`]. With `fetch`, it
/// keeps only its best `fetch` rows once it holds twice as many (and at least
/// [`COMPACT_ROWS`]), so its memory stays O(fetch) beyond the batch it is given.
pub(super) struct RunBuilder {
    keys: Vec<SortKey>,
    types: Vec<DataType>,
    fetch: Option<usize>,
    batches: Vec<Batch>,
    n_rows: usize,
    encoded: Keys,
    /// Each row's input position (see [`RunBuilder::set_position`]).
    positions: Vec<u64>,
    position: u64,
}

/// The fewest rows a top-N builder holds before it drops rows.
const COMPACT_ROWS: usize = 8192;

impl RunBuilder {
    pub(super) fn new(keys: &[SortKey], fetch: Option<usize>) -> RunBuilder {
        let (keys, types) = ordering_keys(keys);
        let encoded = Keys::new(&types);
        RunBuilder { keys, types, fetch, batches: Vec::new(), n_rows: 0, encoded, positions: Vec::new(), position: 0 }
    }

    /// Rows pushed from now on sort after earlier positions when their keys tie (a parallel
    /// worker's part index, see `parallel.rs`).
    pub(super) fn set_position(&mut self, pos: u64) {
        self.position = pos;
    }

    /// Keeps only the best `fetch` rows, in order.
    fn compact(&mut self, fetch: usize) -> Result<()> {
        let order = self.encoded.sorted(Some(fetch))?;
        let all = concat_batches(&std::mem::take(&mut self.batches))?;
        self.batches = vec![take_rows(&all, &order)?];
        self.encoded = self.encoded.select(&order);
        self.positions = order.iter().map(|&row| self.positions[row as usize]).collect();
        self.n_rows = order.len();
        Ok(())
    }

    /// Sorts the rows (the best `fetch` of them, if given).
    pub(super) fn finish(self) -> Result<Run> {
        let order = self.encoded.sorted(self.fetch)?;
        let batch = concat_batches(&self.batches)?;
        Ok(Run { batch, keys: self.encoded, order, positions: self.positions })
    }
}

impl Sink for RunBuilder {
    fn push(&mut self, batch: Batch) -> Result<Flow> {
        if batch.n_rows == 0 {
            return Ok(Flow::Continue);
        }
        // Without keys (nothing orders) every row gets an empty key: rows stay in input order.
        let arrays: Vec<Box<dyn Array>> = self.keys.iter().map(|k| k.expr.evaluate(&batch)).collect::<Result<_>>()?;
        self.encoded.push(batch.n_rows, &arrays, &self.types, &self.keys)?;
        self.positions.extend(std::iter::repeat_n(self.position, batch.n_rows));
        self.n_rows += batch.n_rows;
        self.batches.push(batch);
        if let Some(fetch) = self.fetch {
            if self.n_rows >= COMPACT_ROWS.max(fetch.saturating_mul(2)) {
                self.compact(fetch)?;
            }
        }
        Ok(Flow::Continue)
    }
}

/// Sorted rows: `batch`'s rows `order[0]`, `order[1]`, ...; `keys` and `positions` are by
/// row of `batch`.
pub(super) struct Run {
    batch: Batch,
    keys: Keys,
    order: Vec<u32>,
    positions: Vec<u64>,
}

/// Merges sorted runs into batches, keeping the first `fetch` rows if given; rows with equal
/// keys come in input position order (runs hold rows of disjoint positions; within a run, rows
/// of one position are in input order already).
pub(super) fn merge_runs(mut runs: Vec<Run>, fetch: Option<usize>) -> Result<Vec<Batch>> {
    runs.retain(|r| !r.order.is_empty());
    let total: usize = runs.iter().map(|r| r.order.len()).sum();
    let limit = fetch.map_or(total, |f| f.min(total));
    if limit == 0 {
        return Ok(vec![]);
    }
    if runs.len() == 1 {
        let run = runs.pop().unwrap_or_else(|| unreachable!());
        return Ok(vec![take_rows(&run.batch, &run.order[..limit])?]);
    }
    let seqs: Vec<&[u32]> = runs.iter().map(|r| r.order.as_slice()).collect();
    let merged = merge(&seqs, limit, |(x, a), (y, b)| {
        runs[x].keys.cmp(a, &runs[y].keys, b).then(runs[x].positions[a as usize].cmp(&runs[y].positions[b as usize]))
    })?;
    let mut offsets = Vec::with_capacity(runs.len());
    let mut start = 0u32;
    for run in &runs {
        offsets.push(start);
        start += run.batch.n_rows as u32;
    }
    let indices: Vec<u32> = merged.iter().map(|&(run, at)| offsets[run] + runs[run].order[at]).collect();
    let batches: Vec<Batch> = runs.into_iter().map(|r| r.batch).collect();
    let all = concat_batches(&batches)?;
    drop(batches);
    Ok(vec![take_rows(&all, &indices)?])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interrupt::{InterruptFlag, StatementScope};
    use arrow::array::Int64Array;
    use arrow::compute::sort::SortOptions;
    use std::time::Duration;

    fn columns<'a>(a: &'a Int64Array, b: &'a Int64Array) -> Vec<SortColumn<'a>> {
        vec![
            SortColumn { values: a, options: Some(SortOptions { descending: false, nulls_first: false }) },
            SortColumn { values: b, options: Some(SortOptions { descending: true, nulls_first: true }) },
        ]
    }

    #[test]
    fn lexsort_orders_by_every_key_and_stops_when_the_statement_is_stopped() {
        let n = 100_000i64;
        let a = Int64Array::from_vec((0..n).map(|i| (i * 7919) % 100).collect());
        let b = Int64Array::from((0..n).map(|i| (i % 3 != 0).then_some(i)).collect::<Vec<_>>());
        let order = lexsort(&columns(&a, &b), None).unwrap();
        for w in order.windows(2) {
            let (x, y) = (w[0] as usize, w[1] as usize);
            assert!(a.value(x) <= a.value(y));
            if a.value(x) == a.value(y) {
                // Descending, NULLs first.
                match (b.get(x), b.get(y)) {
                    (Some(p), Some(q)) => assert!(p >= q),
                    (Some(_), None) => panic!("NULL after a value"),
                    _ => {}
                }
            }
        }
        let top = lexsort(&columns(&a, &b), Some(10)).unwrap();
        let keys = |rows: &[u32]| rows.iter().map(|&r| (a.value(r as usize), b.get(r as usize))).collect::<Vec<_>>();
        assert_eq!(keys(&top), keys(&order[..10]), "ties may come in another order, keys may not");

        let _scope = StatementScope::enter(Arc::new(InterruptFlag::default()), Some(Duration::ZERO));
        assert!(matches!(lexsort(&columns(&a, &b), None), Err(ExecError::StatementTimeout { .. })));
    }
}
