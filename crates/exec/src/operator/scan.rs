//! Sources: ScanExec over a table snapshot (parts in row order: row ranges of column files,
//! decoded as they come and skipped by their zone maps when the filter cannot hold, and
//! in-memory batches), and ValuesExec over literal rows.

use super::{filter::filter_batch, Flow, Sink};
use crate::error::{ExecError, Result};
use crate::expr::Expr;
use crate::kernels::boolean::true_mask;
use crate::kernels::cast::cast_value;
use crate::kernels::compare::downcast_bool;
use arrow::array::{BooleanArray, Int64Array};
use arrow::bitmap::Bitmap;
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
    let scan = PartScan::new(columns, filter);
    let mut cache = mvcc::ReadCache::default();
    for part in table.scan(snapshot) {
        if scan.run(&part, &mut cache, sink)? == Flow::Stop {
            return Ok(Flow::Stop);
        }
    }
    Ok(Flow::Continue)
}

/// How a scan reads one part: the columns, the filter and its zone-map test. Shared by the
/// worker threads of a parallel pipeline, each scanning whole parts.
pub(super) struct PartScan<'a> {
    columns: &'a [usize],
    /// The table columns to read (the row-id pseudo column is made here).
    stored: Vec<usize>,
    filter: Option<&'a Expr>,
    /// The filter's conjuncts, cheapest first ([`cost`]).
    conjuncts: Vec<&'a Expr>,
    skip: Option<super::prune::RowGroupFilter>,
}

/// The conjuncts of `e` (its AND operands, nested ANDs flattened), in order.
fn conjuncts<'a>(e: &'a Expr, out: &mut Vec<&'a Expr>) {
    match e {
        Expr::And(l, r) => {
            conjuncts(l, out);
            conjuncts(r, out);
        }
        _ => out.push(e),
    }
}

/// A rough cost of evaluating `e` per row: one per node, more for reading text and for
/// pattern matching, functions and subqueries. Only orders a filter's conjuncts.
fn cost(e: &Expr) -> u32 {
    let own = match e {
        Expr::Column { data_type: DataType::Text, .. } => 4,
        Expr::Like { .. } | Expr::Function { .. } | Expr::Subquery { .. } | Expr::Correlated(_) => 16,
        _ => 1,
    };
    own + e.children().into_iter().map(cost).sum::<u32>()
}

impl<'a> PartScan<'a> {
    pub(super) fn new(columns: &'a [usize], filter: Option<&'a Expr>) -> PartScan<'a> {
        let mut parts = Vec::new();
        if let Some(f) = filter {
            conjuncts(f, &mut parts);
        }
        // Stable: conjuncts of equal cost keep their written order.
        parts.sort_by_key(|e| cost(e));
        PartScan {
            columns,
            stored: columns.iter().copied().filter(|&c| c != mvcc::ROW_ID).collect(),
            filter,
            conjuncts: parts,
            skip: filter.map(|f| super::prune::RowGroupFilter::new(f, columns)),
        }
    }

    /// Whether the zone maps of `part` prove that no row passes the filter.
    pub(super) fn skips(&self, part: &mvcc::ScanPart) -> bool {
        self.skip.as_ref().is_some_and(|s| s.skips(part))
    }

    /// Pushes the visible rows of `part` that pass the filter, in morsels of at most
    /// [`crate::batch_size`] rows.
    pub(super) fn run(&self, part: &mvcc::ScanPart, cache: &mut mvcc::ReadCache, sink: &mut dyn Sink) -> Result<Flow> {
        let size = crate::batch_size();
        if self.skips(part) {
            return Ok(Flow::Continue);
        }
        let read = part.read(&self.stored, cache).map_err(|e| ExecError::Storage(e.to_string()))?;
        let mut read_columns = read.columns.into_iter();
        let batch = Batch {
            columns: self
                .columns
                .iter()
                .map(|&c| {
                    if c == mvcc::ROW_ID {
                        let ids: Vec<i64> = (0..part.n_rows as u64).map(|k| (part.first_row + k) as i64).collect();
                        Int64Array::from_vec(ids).boxed()
                    } else {
                        read_columns.next().expect("one column per stored column")
                    }
                })
                .collect(),
            n_rows: part.n_rows,
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
            if self.filter.is_some() {
                morsel = self.keep_passing(morsel)?;
                if morsel.n_rows == 0 {
                    continue;
                }
            }
            crate::interrupt::check()?;
            if sink.push(morsel)? == Flow::Stop {
                return Ok(Flow::Stop);
            }
        }
        Ok(Flow::Continue)
    }
}

impl PartScan<'_> {
    /// The rows of `morsel` for which every conjunct of the filter is true, evaluated cheapest
    /// first. Once fewer than half the rows pass the conjuncts so far, the morsel is narrowed
    /// to them and the next conjunct only sees those rows (q14's `country = 'DE'` compares the
    /// text of the tenth of the rows with `amount > 450.0`); otherwise the masks are AND-ed.
    /// A conjunct that would fail (division by zero) on a row an earlier one excluded may so
    /// never see it, as in PostgreSQL, which does not fix the order either.
    fn keep_passing(&self, mut morsel: Batch) -> Result<Batch> {
        let mut passing: Option<Bitmap> = None;
        for conjunct in &self.conjuncts {
            if let Some(bits) = passing.take_if(|bits| bits.unset_bits() * 2 > bits.len()) {
                morsel = filter_batch(&morsel, &BooleanArray::new(arrow::datatypes::DataType::Boolean, bits, None))?;
                if morsel.n_rows == 0 {
                    return Ok(morsel);
                }
            }
            let bits = true_mask(downcast_bool(conjunct.evaluate(&morsel)?.as_ref())?);
            passing = Some(match passing {
                Some(before) => &before & &bits,
                None => bits,
            });
        }
        match passing {
            Some(bits) => filter_batch(&morsel, &BooleanArray::new(arrow::datatypes::DataType::Boolean, bits, None)),
            None => Ok(morsel),
        }
    }
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
