//! Progress of a long statement (today: `COPY ... FROM`), reported to a handler the session
//! holds (`Session::set_progress_handler`, `heliosdb_nano::Connection::set_progress_handler`).
//!
//! Work is measured in bytes of the input file: the file's length for CSV and text, the
//! column data of its row groups for parquet. The handler sees `done` grow monotonically and
//! its last call has `done == total` (before the commit, which follows). It is called from the
//! import's threads, one call at a time, at most once per batch of rows (64Ki) per thread: a
//! handler that does anything slow should rate-limit itself (the shell prints at most ten
//! times a second, and nothing during the first second).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How far a statement has got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Progress {
    /// Work done, in bytes of the input.
    pub done: u64,
    /// All the work, in bytes of the input (`done` ends here).
    pub total: u64,
    /// Time since the statement started.
    pub elapsed: Duration,
}

impl Progress {
    /// A report (handlers receive them; this is for tests of handlers).
    pub fn new(done: u64, total: u64, elapsed: Duration) -> Progress {
        Progress { done, total, elapsed }
    }

    /// `done` as a fraction of `total` (1 when there is nothing to do).
    pub fn fraction(&self) -> f64 {
        if self.total == 0 {
            1.0
        } else {
            self.done.min(self.total) as f64 / self.total as f64
        }
    }
}

/// A progress handler.
pub type ProgressHandler = Arc<dyn Fn(&Progress) + Send + Sync>;

/// Counts one statement's work and reports it to the handler, if any.
pub(crate) struct Tracker {
    handler: Option<ProgressHandler>,
    total: u64,
    started: Instant,
    done: AtomicU64,
    /// The last `done` reported; calls are serialized under this lock.
    reported: Mutex<Option<u64>>,
}

impl Tracker {
    pub fn new(handler: Option<ProgressHandler>, total: u64) -> Tracker {
        Tracker { handler, total, started: Instant::now(), done: AtomicU64::new(0), reported: Mutex::new(None) }
    }

    /// A tracker that reports nothing.
    #[cfg(test)]
    pub fn none() -> Tracker {
        Tracker::new(None, 0)
    }

    /// `n` more units are done.
    pub fn advance(&self, n: u64) {
        if self.handler.is_none() {
            return;
        }
        let done = self.done.fetch_add(n, Ordering::Relaxed).saturating_add(n);
        self.report(done.min(self.total));
    }

    /// The work starts over (a second pass over the same input): nothing is reported until
    /// it passes what was reported already.
    pub fn restart(&self) {
        self.done.store(0, Ordering::Relaxed);
    }

    /// All the work is done.
    pub fn finish(&self) {
        self.report(self.total);
    }

    fn report(&self, done: u64) {
        let Some(handler) = &self.handler else { return };
        let mut reported = self.reported.lock().unwrap_or_else(|p| p.into_inner());
        if reported.is_some_and(|r| r >= done) {
            return;
        }
        *reported = Some(done);
        handler(&Progress { done, total: self.total, elapsed: self.started.elapsed() });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_grow_and_end_at_the_total() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = seen.clone();
        let handler: ProgressHandler = Arc::new(move |p: &Progress| sink.lock().unwrap().push((p.done, p.total)));
        let t = Tracker::new(Some(handler), 100);
        t.advance(30);
        t.advance(30);
        t.restart();
        t.advance(50); // below what was reported: silent
        t.advance(20);
        t.advance(500); // capped at the total
        t.finish(); // already reported
        assert_eq!(*seen.lock().unwrap(), vec![(30, 100), (60, 100), (70, 100), (100, 100)]);
        let empty = Tracker::new(None, 10);
        empty.advance(5);
        empty.finish();
        assert_eq!(Progress { done: 0, total: 0, elapsed: Duration::ZERO }.fraction(), 1.0);
    }
}
