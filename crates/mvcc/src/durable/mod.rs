//! Durable storage behind a [`Catalog`]: a database directory with a manifest, WAL segments
//! and column files (`crates/storage` has their byte layouts; `docs/format.md` documents them).
//!
//! ```text
//! <dir>/LOCK                      owner's pid + OS advisory lock (storage::dir_lock)
//! <dir>/MANIFEST                  tables, their column files, checkpoint LSN (replaced atomically)
//! <dir>/t<table>-<file>.col       immutable column files written by checkpoints, mmapped
//! <dir>/wal/wal-<first LSN>.log   WAL segments: one record per commit, CREATE and DROP
//! ```
//!
//! One commit (`Transaction::commit`):
//!
//! ```text
//! CommitLog::prepare   encode Delete{table id, row ids} + Append{table id, batch} ops (no lock)
//! ── commit lock ──     validate, assign commit ts, Wal::append_encoded (LSN order = commit order)
//!                      stamp deletes, publish segments (invisible: ts > visible ts)
//! ── unlock ──         CommitTicket::wait: Wal::sync_to_mode       (group commit: one fsync for
//!                      then the catalog's visible ts moves to ts    all committers waiting)
//! ```
//!
//! Recovery ([`open`]): the manifest's tables and column files (as segments, with the deletes
//! the manifest lists), then every WAL record after the checkpoint LSN replayed in LSN order as
//! a transaction (so rows get the same ids), a torn tail cut and reported. Checkpoints
//! ([`Durable::checkpoint`], `checkpoint.rs`) write in-memory segments into a new column file
//! and point them at it in place, record deleted row ids, swap the manifest, and drop the WAL
//! before it. A background thread (`background.rs`) fsyncs for the `normal` and `off` modes and
//! checkpoints by WAL size and rows appended.

mod background;
mod checkpoint;
mod recovery;
mod stored;
#[cfg(test)]
mod tests;

pub use checkpoint::CheckpointStats;
pub use recovery::{open, RecoveryInfo};
pub use stored::{PartData, ReadCache, StoredFile};

use crate::catalog::Catalog;
use crate::error::Result;
use crate::timestamp::Timestamp;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use storage::dir_lock::DirLock;
use storage::wal::{EncodedRecord, Lsn};
use storage::{Manifest, Wal, WalOp};

/// How durable a commit is when it returns: `Full` (fsynced: survives power loss; the
/// default), `Normal` (written to the OS: survives the process crashing; fsynced by the
/// background thread every [`DurableOptions::background_interval`]), `Off` (buffered; written
/// and fsynced by the background thread).
pub use storage::wal::SyncMode as Durability;

/// Encodes the primary keys of rows, given the key columns: the same bytes the layer above
/// hands to [`Transaction::append`](crate::Transaction::append). Recovery rebuilds the key
/// index with it.
pub type KeyEncoder =
    Arc<dyn Fn(&[&dyn arrow::array::Array], usize) -> std::result::Result<Vec<Vec<u8>>, String> + Send + Sync>;

/// Settings of a durable database.
#[derive(Debug, Clone)]
pub struct DurableOptions {
    /// The default durability of commits (sessions may choose another).
    pub durability: Durability,
    /// A background checkpoint starts once this many WAL bytes were logged since the last one
    /// (0: never by size).
    pub checkpoint_wal_bytes: u64,
    /// ... or once this many rows were appended since the last one (0: never by rows).
    pub checkpoint_tail_rows: u64,
    /// How often the background thread wakes to fsync and to check the thresholds; zero
    /// disables the thread (tests).
    pub background_interval: Duration,
    /// WAL segments are closed once they pass this size.
    pub wal_segment_bytes: u64,
}

impl Default for DurableOptions {
    fn default() -> DurableOptions {
        DurableOptions {
            durability: Durability::Full,
            checkpoint_wal_bytes: 64 << 20,
            checkpoint_tail_rows: 1 << 20,
            background_interval: Duration::from_millis(200),
            wal_segment_bytes: 64 << 20,
        }
    }
}

/// The files behind a durable catalog. Owned by the [`Catalog`]; dropping it stops the
/// background thread and releases the directory lock.
pub struct Durable {
    dir: PathBuf,
    wal: Wal,
    options: DurableOptions,
    /// The manifest as last stored; its lock is held for a whole checkpoint, so checkpoints
    /// run one at a time.
    manifest: Mutex<Manifest>,
    /// WAL bytes and rows appended since the last checkpoint (its trigger).
    wal_bytes: AtomicU64,
    tail_rows: AtomicU64,
    recovery: RecoveryInfo,
    background: Mutex<Option<background::Handle>>,
    /// The last error of a background flush or checkpoint.
    background_error: Mutex<Option<String>>,
    /// Declared last: released after everything above is closed.
    _lock: DirLock,
}

impl std::fmt::Debug for Durable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Durable").field("dir", &self.dir).field("options", &self.options).finish_non_exhaustive()
    }
}

impl Durable {
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn options(&self) -> &DurableOptions {
        &self.options
    }

    /// What recovery found when the database was opened.
    pub fn recovery_info(&self) -> &RecoveryInfo {
        &self.recovery
    }

    /// The WAL (for statistics and tests).
    pub fn wal(&self) -> &Wal {
        &self.wal
    }

    /// The last error of the background thread, if any.
    pub fn background_error(&self) -> Option<String> {
        self.background_error.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Logs a CREATE or DROP and waits until it is durable per the default mode. Called under
    /// the commit lock: DDL is rare and must be ordered with commits.
    pub(crate) fn log_catalog_change(&self, ts: Timestamp, op: WalOp) -> Result<()> {
        let record = self.wal.encode(std::slice::from_ref(&op))?;
        self.wal_bytes.fetch_add(record.len() as u64, Ordering::Relaxed);
        let lsn = self.wal.append_encoded(ts.0, record)?;
        self.wal.sync_to_mode(lsn, self.options.durability)?;
        Ok(())
    }

    fn stop_background(&self) {
        let handle = self.background.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(handle) = handle {
            handle.stop();
        }
    }
}

impl Drop for Durable {
    fn drop(&mut self) {
        self.stop_background();
        // Commits in the `normal` and `off` modes may still be buffered: hand them to the OS
        // and fsync (best effort; `Wal`'s own drop writes too).
        let _ = self.wal.flush(true);
    }
}

/// A commit's WAL record, encoded before the commit lock (nothing for an in-memory catalog).
pub(crate) struct CommitLog {
    inner: Option<(Arc<Durable>, EncodedRecord, Durability, u64)>,
}

impl CommitLog {
    /// Encodes the commit's changes, in the order replay must apply them: `ops` is called only
    /// for a durable catalog. (`WalOp::Append { table id, batch }` per batch; `WalOp::Delete
    /// { table id, row ids }` is the record kind for deleted rows, by table-wide ordinal.)
    pub(crate) fn prepare(
        catalog: &Catalog,
        durability: Option<Durability>,
        ops: impl FnOnce() -> Vec<WalOp>,
    ) -> Result<CommitLog> {
        let Some(durable) = catalog.durable() else {
            return Ok(CommitLog { inner: None });
        };
        let ops = ops();
        let n_rows: u64 = ops
            .iter()
            .map(|op| match op {
                WalOp::Append { batch, .. } => batch.n_rows as u64,
                _ => 0,
            })
            .sum();
        let record = durable.wal.encode(&ops)?;
        let mode = durability.unwrap_or(durable.options.durability);
        Ok(CommitLog { inner: Some((durable.clone(), record, mode, n_rows)) })
    }

    /// Appends the record at `commit_ts` (under the commit lock, so LSNs follow commit order).
    pub(crate) fn append(self, commit_ts: Timestamp) -> Result<CommitTicket> {
        let Some((durable, record, mode, n_rows)) = self.inner else {
            return Ok(CommitTicket { inner: None });
        };
        let n_bytes = record.len() as u64;
        let lsn = durable.wal.append_encoded(commit_ts.0, record)?;
        durable.wal_bytes.fetch_add(n_bytes, Ordering::Relaxed);
        durable.tail_rows.fetch_add(n_rows, Ordering::Relaxed);
        Ok(CommitTicket { inner: Some((durable, lsn, mode)) })
    }
}

/// A logged commit waiting to be durable.
pub(crate) struct CommitTicket {
    inner: Option<(Arc<Durable>, Lsn, Durability)>,
}

impl CommitTicket {
    /// Returns once the record is as durable as the commit's mode promises (outside the commit
    /// lock: concurrent committers share fsyncs).
    pub(crate) fn wait(self) -> Result<()> {
        if let Some((durable, lsn, mode)) = self.inner {
            durable.wal.sync_to_mode(lsn, mode)?;
        }
        Ok(())
    }
}
