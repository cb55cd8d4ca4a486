//! [`Table`]: a table's definition and its committed segments.

use crate::durable::{ScanPart, StoredFile};
use crate::error::Result;
use crate::timestamp::{visible, Snapshot, Timestamp};
use std::collections::HashSet;
use std::sync::{Arc, Mutex, RwLock};
use storage::{Batch, Compression, TableSchema};

/// One committed batch and the timestamp it was committed at.
#[derive(Debug)]
struct Segment {
    commit_ts: Timestamp,
    batch: Batch,
}

/// A table: schema, committed data, and the primary-key index.
///
/// Rows are `stored` (checkpointed into column files, `crate::durable`) followed by the
/// in-memory tail of `segments`; a row's id is its ordinal in that order, which is commit order.
/// Lock order: `segments` before `stored`.
#[derive(Debug)]
pub struct Table {
    /// Never reused within a database; names the table in the WAL and the manifest.
    id: u64,
    schema: TableSchema,
    /// Block compression of the table's column files.
    compression: Compression,
    /// Segments in commit order (so in `commit_ts` order).
    segments: RwLock<Vec<Segment>>,
    /// Column files holding the rows before `segments`, in row order.
    stored: RwLock<Vec<Arc<StoredFile>>>,
    /// Encoded primary keys of every committed row; empty when the table has no key.
    keys: Mutex<HashSet<Vec<u8>>>,
}

impl Table {
    pub(crate) fn new(id: u64, schema: TableSchema, compression: Compression) -> Table {
        Table {
            id,
            schema,
            compression,
            segments: RwLock::new(Vec::new()),
            stored: RwLock::new(Vec::new()),
            keys: Mutex::new(HashSet::new()),
        }
    }

    pub fn id(&self) -> u64 {
        self.id
    }

    pub fn schema(&self) -> &TableSchema {
        &self.schema
    }

    pub fn compression(&self) -> Compression {
        self.compression
    }

    /// The rows visible to `snapshot`, in row order: row groups of column files (read lazily,
    /// see [`ScanPart::read`]) and then in-memory batches.
    pub fn scan_parts(&self, snapshot: Snapshot) -> Vec<ScanPart> {
        let segments = self.segments.read().unwrap_or_else(|p| p.into_inner());
        let stored = self.stored.read().unwrap_or_else(|p| p.into_inner());
        let mut parts = Vec::new();
        for file in stored.iter() {
            file.visible_row_groups(snapshot, &mut parts);
        }
        parts.extend(
            segments.iter().take_while(|s| visible(s.commit_ts, snapshot)).map(|s| ScanPart::Batch(s.batch.clone())),
        );
        parts
    }

    /// The batches visible to `snapshot`, in commit order, with column files decoded. Cloning
    /// a batch shares its buffers. Fails only when a column file is damaged.
    pub fn scan(&self, snapshot: Snapshot) -> Result<Vec<Batch>> {
        let all: Vec<usize> = (0..self.schema.columns.len()).collect();
        self.scan_parts(snapshot).into_iter().map(|part| part.read(&all)).collect()
    }

    /// The number of rows visible to `snapshot`.
    pub fn n_rows(&self, snapshot: Snapshot) -> usize {
        let segments = self.segments.read().unwrap_or_else(|p| p.into_inner());
        let stored = self.stored.read().unwrap_or_else(|p| p.into_inner());
        let in_files: u64 = stored.iter().map(|f| f.visible_rows(snapshot)).sum();
        in_files as usize
            + segments.iter().take_while(|s| visible(s.commit_ts, snapshot)).map(|s| s.batch.n_rows).sum::<usize>()
    }

    /// Whether a committed row has this encoded primary key.
    pub fn contains_key(&self, key: &[u8]) -> bool {
        self.keys.lock().unwrap_or_else(|p| p.into_inner()).contains(key)
    }

    /// Returns the first key of `keys` already committed or repeated within `keys`.
    pub(crate) fn find_duplicate<'k>(&self, keys: &'k [Vec<u8>]) -> Option<&'k [u8]> {
        let committed = self.keys.lock().unwrap_or_else(|p| p.into_inner());
        let mut seen = HashSet::with_capacity(keys.len());
        keys.iter().find(|k| committed.contains(*k) || !seen.insert(k.as_slice())).map(|k| k.as_slice())
    }

    /// Publishes a batch at `commit_ts`. Called only under the commit lock, in timestamp order.
    pub(crate) fn publish(&self, commit_ts: Timestamp, batch: Batch, keys: Vec<Vec<u8>>) {
        if !keys.is_empty() {
            self.keys.lock().unwrap_or_else(|p| p.into_inner()).extend(keys);
        }
        let mut segments = self.segments.write().unwrap_or_else(|p| p.into_inner());
        debug_assert!(segments.last().is_none_or(|s| s.commit_ts <= commit_ts), "commit order");
        segments.push(Segment { commit_ts, batch });
    }

    /// The first `n` in-memory segments with their commit timestamps (for a checkpoint).
    pub(crate) fn tail_prefix(&self, n: usize) -> Vec<(Timestamp, Batch)> {
        let segments = self.segments.read().unwrap_or_else(|p| p.into_inner());
        segments.iter().take(n).map(|s| (s.commit_ts, s.batch.clone())).collect()
    }

    /// The number of in-memory segments.
    pub(crate) fn n_segments(&self) -> usize {
        self.segments.read().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// The column files, in row order.
    pub(crate) fn stored_files(&self) -> Vec<Arc<StoredFile>> {
        self.stored.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Replaces the first `n` in-memory segments by `file`, which holds exactly their rows
    /// (`None` when they held none): a checkpoint's last step, atomic for readers.
    pub(crate) fn fold_tail_prefix(&self, n: usize, file: Option<Arc<StoredFile>>) {
        let mut segments = self.segments.write().unwrap_or_else(|p| p.into_inner());
        let mut stored = self.stored.write().unwrap_or_else(|p| p.into_inner());
        let n = n.min(segments.len());
        segments.drain(..n);
        stored.extend(file);
    }

    /// Adds a column file recovered at open, with the encoded primary keys of its rows.
    pub(crate) fn restore_file(&self, file: Arc<StoredFile>, keys: Vec<Vec<u8>>) {
        if !keys.is_empty() {
            self.keys.lock().unwrap_or_else(|p| p.into_inner()).extend(keys);
        }
        self.stored.write().unwrap_or_else(|p| p.into_inner()).push(file);
    }
}
