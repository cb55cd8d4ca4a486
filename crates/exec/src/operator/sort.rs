//! SortExec: a full sort of its input (or the top `fetch` rows), by several keys with
//! ASC/DESC and NULLS FIRST/LAST each.

use crate::error::{ExecError, Result};
use crate::expr::{take_rows, Expr};
use crate::kernels::compare::cmp_interval;
use arrow::array::ord::DynComparator;
use arrow::array::Array;
use arrow::compute::sort::{lexsort_to_indices_impl, SortColumn, SortOptions};
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

/// Sorts all rows of `batches` by `keys`, keeping the first `fetch` rows if given.
pub fn sort_batches(batches: Vec<Batch>, keys: &[SortKey], fetch: Option<usize>) -> Result<Vec<Batch>> {
    let all = concat_batches(&batches)?;
    if all.n_rows == 0 {
        return Ok(vec![]);
    }
    let key_arrays: Vec<(Box<dyn Array>, &SortKey)> = keys
        .iter()
        .filter(|k| k.expr.data_type() != DataType::Null)
        .map(|k| {
            let array = k.expr.evaluate(&all)?;
            let array = if k.expr.data_type() == DataType::Interval { interval_ranks(array.as_ref())? } else { array };
            Ok((array, k))
        })
        .collect::<Result<_>>()?;
    if key_arrays.is_empty() {
        let n = fetch.map_or(all.n_rows, |f| f.min(all.n_rows));
        return Ok(vec![all.slice(0, n)]);
    }
    let columns: Vec<SortColumn> = key_arrays
        .iter()
        .map(|(a, k)| SortColumn {
            values: a.as_ref(),
            options: Some(SortOptions { descending: k.descending, nulls_first: k.nulls_first }),
        })
        .collect();
    let indices = lexsort(&columns, fetch)?;
    Ok(vec![take_rows(&all, &indices)?])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interrupt::{InterruptFlag, StatementScope};
    use arrow::array::Int64Array;
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
