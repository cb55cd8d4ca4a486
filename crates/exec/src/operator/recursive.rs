//! WITH RECURSIVE: `anchor UNION [ALL] recursive`, where the recursive term reads the rows the
//! previous step produced through a [`WorkingTable`]. Steps run until one produces no rows
//! (with UNION, no rows not seen before).

use super::{collect, Flow, PhysicalPlan, Sink};
use crate::error::{ExecError, Result};
use crate::expr::take_rows;
use crate::row_key::encode_rows;
use arrow::array::Array;
use std::collections::HashSet;
use std::sync::Mutex;
use storage::Batch;

/// The rows of the previous step, read by the recursive term.
#[derive(Debug, Default)]
pub struct WorkingTable {
    rows: Mutex<Vec<Batch>>,
}

impl WorkingTable {
    pub(super) fn rows(&self) -> Vec<Batch> {
        self.rows.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn set(&self, rows: Vec<Batch>) {
        *self.rows.lock().unwrap_or_else(|p| p.into_inner()) = rows;
    }
}

/// How many steps a recursive query may take before it is stopped as runaway.
pub const MAX_STEPS: usize = 10_000_000;

/// Keeps the rows not seen before (all of them for UNION ALL), remembering them.
fn fresh(batches: Vec<Batch>, seen: Option<&mut HashSet<Vec<u8>>>) -> Result<Vec<Batch>> {
    let Some(seen) = seen else {
        return Ok(batches.into_iter().filter(|b| b.n_rows > 0).collect());
    };
    let mut out = Vec::new();
    for b in batches {
        let cols: Vec<&dyn Array> = b.columns.iter().map(|c| c.as_ref()).collect();
        let keys = encode_rows(&cols, b.n_rows)?;
        let keep: Vec<u32> =
            keys.into_iter().enumerate().filter(|(_, k)| seen.insert(k.clone())).map(|(i, _)| i as u32).collect();
        if !keep.is_empty() {
            out.push(if keep.len() == b.n_rows { b } else { take_rows(&b, &keep)? });
        }
    }
    Ok(out)
}

pub(super) fn run_recursive(
    slot: &WorkingTable,
    anchor: &PhysicalPlan,
    recursive: &PhysicalPlan,
    distinct: bool,
    sink: &mut dyn Sink,
) -> Result<Flow> {
    let mut seen = distinct.then(HashSet::new);
    let mut working = fresh(collect(anchor)?, seen.as_mut())?;
    let mut steps = 0;
    while !working.is_empty() {
        crate::interrupt::check()?;
        for b in &working {
            if sink.push(b.clone())? == Flow::Stop {
                return Ok(Flow::Stop);
            }
        }
        steps += 1;
        if steps > MAX_STEPS {
            return Err(ExecError::InvalidArgument(format!(
                "recursive query did not finish after {MAX_STEPS} steps (is its stop condition right?)"
            )));
        }
        slot.set(std::mem::take(&mut working));
        working = fresh(collect(recursive)?, seen.as_mut())?;
    }
    slot.set(Vec::new());
    Ok(Flow::Continue)
}
