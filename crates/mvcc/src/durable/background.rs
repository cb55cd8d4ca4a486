//! The background thread of a durable database: every interval it fsyncs what `normal` and
//! `off` commits left unsynced, and starts a checkpoint once the WAL or the in-memory tails
//! have grown past their thresholds. It holds the catalog only weakly, so dropping the database
//! ends it.

use crate::catalog::Catalog;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Condvar, Mutex, Weak};
use std::thread::JoinHandle;
use std::time::Duration;

#[derive(Debug, Default)]
struct Stop {
    stopped: Mutex<bool>,
    wake: Condvar,
}

/// The running thread.
pub(crate) struct Handle {
    stop: Arc<Stop>,
    thread: Option<JoinHandle<()>>,
}

impl Handle {
    /// Tells the thread to end and waits for it (unless this is that thread: the last handle
    /// to the catalog can be dropped by the thread itself).
    pub(crate) fn stop(mut self) {
        *self.stop.stopped.lock().unwrap_or_else(|p| p.into_inner()) = true;
        self.stop.wake.notify_all();
        if let Some(thread) = self.thread.take() {
            if thread.thread().id() != std::thread::current().id() {
                let _ = thread.join();
            }
        }
    }
}

/// Starts the thread for `catalog` (which must be durable) if the interval is not zero.
pub(crate) fn start(catalog: &Arc<Catalog>) -> std::io::Result<Option<Handle>> {
    let Some(durable) = catalog.durable() else { return Ok(None) };
    let interval = durable.options.background_interval;
    if interval.is_zero() {
        return Ok(None);
    }
    let stop = Arc::new(Stop::default());
    let weak = Arc::downgrade(catalog);
    let thread = std::thread::Builder::new().name("heliosdb-background".into()).spawn({
        let stop = stop.clone();
        move || run(weak, stop, interval)
    })?;
    Ok(Some(Handle { stop, thread: Some(thread) }))
}

fn run(catalog: Weak<Catalog>, stop: Arc<Stop>, interval: Duration) {
    loop {
        {
            let stopped = stop.stopped.lock().unwrap_or_else(|p| p.into_inner());
            let (stopped, _) =
                stop.wake.wait_timeout_while(stopped, interval, |s| !*s).unwrap_or_else(|p| p.into_inner());
            if *stopped {
                return;
            }
        }
        let Some(catalog) = catalog.upgrade() else { return };
        tick(&catalog);
    }
}

fn tick(catalog: &Catalog) {
    let Some(durable) = catalog.durable() else { return };
    let mut result = durable.wal.flush(true).map_err(|e| e.to_string());
    let options = &durable.options;
    let due = (options.checkpoint_wal_bytes > 0
        && durable.wal_bytes.load(Ordering::Relaxed) >= options.checkpoint_wal_bytes)
        || (options.checkpoint_tail_rows > 0
            && durable.tail_rows.load(Ordering::Relaxed) >= options.checkpoint_tail_rows);
    if result.is_ok() && due {
        result = durable.checkpoint(catalog).map(|_| ()).map_err(|e| e.to_string());
    }
    if let Err(e) = result {
        *durable.background_error.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
    }
}
