//! UNION ALL (inputs one after another) and INTERSECT / EXCEPT [ALL] (hash-based, rows
//! compared with NULLs equal, as set operations require).

use super::{collect, execute, Flow, PhysicalPlan, Sink};
use crate::error::Result;
use crate::expr::take_rows;
use crate::row_key::encode_rows;
use arrow::array::Array;
use std::collections::HashMap;
use storage::Batch;

/// INTERSECT or EXCEPT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetOpKind {
    Intersect,
    Except,
}

pub(super) fn run_union(inputs: &[PhysicalPlan], sink: &mut dyn Sink) -> Result<Flow> {
    for input in inputs {
        if execute(input, sink)? == Flow::Stop {
            return Ok(Flow::Stop);
        }
    }
    Ok(Flow::Continue)
}

fn keys(batch: &Batch) -> Result<Vec<Vec<u8>>> {
    let cols: Vec<&dyn Array> = batch.columns.iter().map(|c| c.as_ref()).collect();
    encode_rows(&cols, batch.n_rows)
}

pub(super) fn run_set_op(
    left: &PhysicalPlan,
    right: &PhysicalPlan,
    kind: SetOpKind,
    all: bool,
    sink: &mut dyn Sink,
) -> Result<Flow> {
    let mut counts: HashMap<Vec<u8>, usize> = HashMap::new();
    for b in collect(right)? {
        for k in keys(&b)? {
            *counts.entry(k).or_default() += 1;
        }
    }
    let mut probe = SetOpSink { counts, emitted: HashMap::new(), kind, all, next: sink };
    execute(left, &mut probe)
}

struct SetOpSink<'a> {
    counts: HashMap<Vec<u8>, usize>,
    emitted: HashMap<Vec<u8>, ()>,
    kind: SetOpKind,
    all: bool,
    next: &'a mut dyn Sink,
}

impl Sink for SetOpSink<'_> {
    fn push(&mut self, batch: Batch) -> Result<Flow> {
        let mut keep = Vec::new();
        for (row_idx, k) in keys(&batch)?.into_iter().enumerate() {
            let in_right = self.counts.get(&k).copied().unwrap_or(0);
            let emit = match (self.kind, self.all) {
                (SetOpKind::Intersect, true) => {
                    if in_right > 0 {
                        self.counts.insert(k, in_right - 1);
                        true
                    } else {
                        false
                    }
                }
                (SetOpKind::Except, true) => {
                    if in_right > 0 {
                        self.counts.insert(k, in_right - 1);
                        false
                    } else {
                        true
                    }
                }
                (SetOpKind::Intersect, false) => in_right > 0 && self.emitted.insert(k, ()).is_none(),
                (SetOpKind::Except, false) => in_right == 0 && self.emitted.insert(k, ()).is_none(),
            };
            if emit {
                keep.push(row_idx as u32);
            }
        }
        if keep.is_empty() {
            return Ok(Flow::Continue);
        }
        self.next.push(take_rows(&batch, &keep)?)
    }
}
