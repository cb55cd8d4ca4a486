//! Sources: ScanExec over a table snapshot, and ValuesExec over literal rows.

use super::{filter::filter_batch, Flow, Sink};
use crate::error::Result;
use crate::expr::Expr;
use crate::kernels::cast::cast_value;
use crate::kernels::compare::downcast_bool;
use arrow::array::{BooleanArray, Int64Array};
use storage::value::values_to_array;
use storage::{Batch, DataType};

/// Pushes the visible rows of `table` in morsels of at most [`crate::batch_size`] rows.
/// `columns` are table column indexes; [`mvcc::ROW_ID`] among them yields each row's id.
pub(super) fn run_scan(
    table: &mvcc::Table,
    snapshot: mvcc::Snapshot,
    columns: &[usize],
    filter: Option<&Expr>,
    sink: &mut dyn Sink,
) -> Result<Flow> {
    let size = crate::batch_size();
    for part in table.scan(snapshot) {
        let batch = Batch {
            columns: columns
                .iter()
                .map(|&c| {
                    if c == mvcc::ROW_ID {
                        let ids: Vec<i64> =
                            (0..part.batch.n_rows as u64).map(|k| (part.first_row + k) as i64).collect();
                        Int64Array::from_vec(ids).boxed()
                    } else {
                        part.batch.columns[c].clone()
                    }
                })
                .collect(),
            n_rows: part.batch.n_rows,
        };
        let mut offset = 0;
        while offset < batch.n_rows {
            let len = size.min(batch.n_rows - offset);
            let mut morsel = batch.slice(offset, len);
            if let Some(live) = &part.live {
                let live =
                    BooleanArray::new(arrow::datatypes::DataType::Boolean, live.clone().sliced(offset, len), None);
                morsel = filter_batch(&morsel, &live)?;
            }
            offset += len;
            if morsel.n_rows == 0 {
                continue;
            }
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
