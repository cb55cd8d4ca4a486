//! [`Table`]: a table's definition and its committed segments.

use crate::timestamp::{visible, Snapshot, Timestamp};
use std::collections::HashSet;
use std::sync::{Mutex, RwLock};
use storage::{Batch, TableSchema};

/// One committed batch and the timestamp it was committed at.
#[derive(Debug)]
struct Segment {
    commit_ts: Timestamp,
    batch: Batch,
}

/// A table: schema, committed data, and the primary-key index.
#[derive(Debug)]
pub struct Table {
    schema: TableSchema,
    /// Segments in commit order (so in `commit_ts` order).
    segments: RwLock<Vec<Segment>>,
    /// Encoded primary keys of every committed row; empty when the table has no key.
    keys: Mutex<HashSet<Vec<u8>>>,
}

impl Table {
    pub(crate) fn new(schema: TableSchema) -> Table {
        Table { schema, segments: RwLock::new(Vec::new()), keys: Mutex::new(HashSet::new()) }
    }

    pub fn schema(&self) -> &TableSchema {
        &self.schema
    }

    /// The batches visible to `snapshot`, in commit order. Cloning a batch shares its buffers.
    pub fn scan(&self, snapshot: Snapshot) -> Vec<Batch> {
        let segments = self.segments.read().unwrap_or_else(|p| p.into_inner());
        segments.iter().take_while(|s| visible(s.commit_ts, snapshot)).map(|s| s.batch.clone()).collect()
    }

    /// The number of rows visible to `snapshot`.
    pub fn n_rows(&self, snapshot: Snapshot) -> usize {
        let segments = self.segments.read().unwrap_or_else(|p| p.into_inner());
        segments.iter().take_while(|s| visible(s.commit_ts, snapshot)).map(|s| s.batch.n_rows).sum()
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
}
