//! ProjectExec: computes the output expressions of each row.

use super::{Flow, Sink};
use crate::error::Result;
use crate::expr::Expr;
use storage::Batch;

pub(super) struct ProjectSink<'a> {
    pub exprs: &'a [Expr],
    pub next: &'a mut dyn Sink,
}

impl Sink for ProjectSink<'_> {
    fn push(&mut self, batch: Batch) -> Result<Flow> {
        let columns = self.exprs.iter().map(|e| e.evaluate(&batch)).collect::<Result<Vec<_>>>()?;
        self.next.push(Batch { columns, n_rows: batch.n_rows })
    }
}
