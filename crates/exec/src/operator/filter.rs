//! FilterExec: keeps the rows where the predicate is true (not false, not NULL).

use super::{Flow, Sink};
use crate::error::{ExecError, Result};
use crate::expr::Expr;
use crate::kernels::boolean::true_mask;
use crate::kernels::compare::downcast_bool;
use arrow::array::BooleanArray;
use storage::Batch;

/// Applies a boolean mask to every column of a batch.
pub fn filter_batch(batch: &Batch, mask: &BooleanArray) -> Result<Batch> {
    let bits = true_mask(mask);
    let n_rows = bits.len() - bits.unset_bits();
    if n_rows == batch.n_rows {
        return Ok(batch.clone());
    }
    let mask = BooleanArray::new(arrow::datatypes::DataType::Boolean, bits, None);
    let columns = batch
        .columns
        .iter()
        .map(|c| {
            arrow::compute::filter::filter(c.as_ref(), &mask).map_err(|e| ExecError::Internal(format!("filter: {e}")))
        })
        .collect::<Result<_>>()?;
    Ok(Batch { columns, n_rows })
}

pub(super) struct FilterSink<'a> {
    pub predicate: &'a Expr,
    pub next: &'a mut dyn Sink,
}

impl Sink for FilterSink<'_> {
    fn push(&mut self, batch: Batch) -> Result<Flow> {
        let mask = self.predicate.evaluate(&batch)?;
        let filtered = filter_batch(&batch, downcast_bool(mask.as_ref())?)?;
        if filtered.n_rows == 0 {
            return Ok(Flow::Continue);
        }
        self.next.push(filtered)
    }
}
