//! Opening a database directory: [`Options`], [`Durability`], [`RecoveryReport`].
//!
//! The work happens below: `mvcc::durable` locks the directory, loads the manifest and its
//! column files, replays the WAL and runs the background thread; `storage` holds the file
//! formats. This module only turns the public options into theirs and back.

use crate::error::Result;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// How durable a commit is when it returns.
///
/// - `Full` (the default): the commit's WAL record is fsynced first, so it survives a power
///   loss. Concurrent commits share fsyncs (group commit).
/// - `Normal`: the record is handed to the operating system, so the commit survives the
///   process crashing; a background thread fsyncs a few times a second.
/// - `Off`: the record is buffered; the background thread writes and fsyncs it soon after.
///   A crash can lose the last commits (never part of one).
///
/// Set per database with [`Options::durability`], per connection with
/// `SET durability = full | normal | off | DEFAULT`.
pub use mvcc::Durability;

/// Settings for [`Database::open_with`](crate::Database::open_with).
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub(crate) inner: mvcc::DurableOptions,
}

impl Options {
    /// The default durability of commits (`Full` unless changed).
    pub fn durability(mut self, durability: Durability) -> Options {
        self.inner.durability = durability;
        self
    }

    /// Checkpoint in the background once this many bytes were logged to the WAL since the last
    /// checkpoint (default 64 MiB; 0 never by size).
    pub fn checkpoint_wal_bytes(mut self, bytes: u64) -> Options {
        self.inner.checkpoint_wal_bytes = bytes;
        self
    }

    /// ... or once this many rows were committed since the last one (default 2^20; 0 never
    /// by rows).
    pub fn checkpoint_rows(mut self, rows: u64) -> Options {
        self.inner.checkpoint_tail_rows = rows;
        self
    }

    /// How often the background thread fsyncs `normal`/`off` commits and checks the
    /// checkpoint thresholds (default 200 ms). Zero turns the thread off: no background
    /// fsyncs or checkpoints (`CHECKPOINT` still works).
    pub fn background_interval(mut self, interval: Duration) -> Options {
        self.inner.background_interval = interval;
        self
    }
}

/// What opening a database directory found (see [`Database::recovery_report`]).
///
/// [`Database::recovery_report`]: crate::Database::recovery_report
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RecoveryReport {
    /// The directory was created (or empty) rather than opened.
    pub created: bool,
    pub tables: usize,
    pub column_files: usize,
    pub rows_in_files: u64,
    /// WAL records (commits, CREATE, DROP) replayed after the last checkpoint.
    pub replayed_records: usize,
    pub replayed_rows: u64,
    /// Set when the end of the WAL was torn or damaged (a crash while writing it) and was cut
    /// at the last intact record: says which file, where and why.
    pub torn_tail: Option<String>,
    /// Files left behind by a checkpoint that crashed, removed.
    pub removed_files: Vec<PathBuf>,
}

impl RecoveryReport {
    fn from_info(info: &mvcc::durable::RecoveryInfo) -> RecoveryReport {
        RecoveryReport {
            created: info.created,
            tables: info.tables,
            column_files: info.column_files,
            rows_in_files: info.rows_in_files,
            replayed_records: info.replayed_records,
            replayed_rows: info.replayed_rows,
            torn_tail: info.warning(),
            removed_files: info.removed_files.clone(),
        }
    }
}

/// Opens the catalog of the database in `path`.
pub(crate) fn open_catalog(path: &Path, options: &Options) -> Result<Arc<mvcc::Catalog>> {
    let keys: mvcc::durable::KeyEncoder = Arc::new(|columns: &[&dyn arrow::array::Array], n_rows: usize| {
        exec::row_key::encode_rows(columns, n_rows).map_err(|e| e.to_string())
    });
    Ok(mvcc::durable::open(path, options.inner.clone(), keys)?)
}

/// The recovery report of a durable catalog.
pub(crate) fn recovery_report(catalog: &mvcc::Catalog) -> Option<RecoveryReport> {
    catalog.durable().map(|d| RecoveryReport::from_info(d.recovery_info()))
}
