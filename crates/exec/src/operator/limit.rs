//! LimitExec: skips `offset` rows, passes at most `limit`, then stops its input.

use super::{Flow, Sink};
use crate::error::Result;
use storage::Batch;

pub(super) struct LimitSink<'a> {
    pub skip: usize,
    pub remaining: Option<usize>,
    pub next: &'a mut dyn Sink,
}

impl Sink for LimitSink<'_> {
    fn push(&mut self, mut batch: Batch) -> Result<Flow> {
        if self.skip > 0 {
            let skipped = self.skip.min(batch.n_rows);
            self.skip -= skipped;
            batch = batch.slice(skipped, batch.n_rows - skipped);
        }
        if let Some(remaining) = self.remaining {
            if batch.n_rows > remaining {
                batch = batch.slice(0, remaining);
            }
            self.remaining = Some(remaining - batch.n_rows);
        }
        if batch.n_rows > 0 && self.next.push(batch)? == Flow::Stop {
            return Ok(Flow::Stop);
        }
        Ok(if self.remaining == Some(0) { Flow::Stop } else { Flow::Continue })
    }
}
