//! SortExec: a full sort of its input (or the top `fetch` rows), by several keys with
//! ASC/DESC and NULLS FIRST/LAST each.

use crate::error::{ExecError, Result};
use crate::expr::{take_rows, Expr};
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

/// Sorts all rows of `batches` by `keys`, keeping the first `fetch` rows if given.
pub fn sort_batches(batches: Vec<Batch>, keys: &[SortKey], fetch: Option<usize>) -> Result<Vec<Batch>> {
    let all = concat_batches(&batches)?;
    if all.n_rows == 0 {
        return Ok(vec![]);
    }
    let key_arrays: Vec<(Box<dyn Array>, &SortKey)> = keys
        .iter()
        .filter(|k| k.expr.data_type() != DataType::Null)
        .map(|k| Ok((k.expr.evaluate(&all)?, k)))
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
