//! SortExec: a full sort of its input (or the top `fetch` rows), by several keys with
//! ASC/DESC and NULLS FIRST/LAST each.

use crate::error::{ExecError, Result};
use crate::expr::{take_rows, Expr};
use crate::kernels::compare::cmp_interval;
use arrow::array::Array;
use arrow::compute::sort::{lexsort_to_indices, SortColumn, SortOptions};
use std::fmt;
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
    let indices = lexsort_to_indices::<u32>(&columns, fetch).map_err(|e| ExecError::Internal(format!("sort: {e}")))?;
    let indices: Vec<u32> = indices.values().iter().copied().collect();
    Ok(vec![take_rows(&all, &indices)?])
}
