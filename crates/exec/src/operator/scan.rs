//! Sources: ScanExec over a table snapshot (row groups of column files decoded as they come,
//! skipped by their zone maps when the filter cannot hold; then in-memory batches), and
//! ValuesExec over literal rows.

use super::{filter::filter_batch, Flow, Sink};
use crate::error::{ExecError, Result};
use crate::expr::Expr;
use crate::kernels::cast::cast_value;
use crate::kernels::compare::downcast_bool;
use storage::value::values_to_array;
use storage::{Batch, DataType};

/// Pushes the visible rows of `table` in morsels of at most [`crate::batch_size`] rows.
pub(super) fn run_scan(
    table: &mvcc::Table,
    snapshot: mvcc::Snapshot,
    columns: &[usize],
    filter: Option<&Expr>,
    sink: &mut dyn Sink,
) -> Result<Flow> {
    let size = crate::batch_size();
    let skip = filter.map(|f| super::prune::RowGroupFilter::new(f, columns));
    for part in table.scan_parts(snapshot) {
        if skip.as_ref().is_some_and(|s| s.skips(&part)) {
            continue;
        }
        let batch = part.read(columns).map_err(|e| ExecError::Storage(e.to_string()))?;
        let mut offset = 0;
        while offset < batch.n_rows {
            let len = size.min(batch.n_rows - offset);
            let mut morsel = batch.slice(offset, len);
            offset += len;
            if let Some(pred) = filter {
                let mask = pred.evaluate(&morsel)?;
                morsel = filter_batch(&morsel, downcast_bool(mask.as_ref())?)?;
                if morsel.n_rows == 0 {
                    continue;
                }
            }
            if sink.push(morsel)? == Flow::Stop {
                return Ok(Flow::Stop);
            }
        }
    }
    Ok(Flow::Continue)
}

/// Evaluates literal rows (cast to the column types) and pushes them as one batch.
pub(super) fn run_values(rows: &[Vec<Expr>], types: &[DataType], sink: &mut dyn Sink) -> Result<Flow> {
    if types.is_empty() {
        return sink.push(Batch::empty_with_rows(rows.len()));
    }
    let mut columns = Vec::with_capacity(types.len());
    for (col_idx, dt) in types.iter().enumerate() {
        let mut values = Vec::with_capacity(rows.len());
        for row in rows {
            values.push(cast_value(&row[col_idx].evaluate_constant()?, *dt)?);
        }
        columns.push(values_to_array(*dt, &values));
    }
    sink.push(Batch { columns, n_rows: rows.len() })
}
