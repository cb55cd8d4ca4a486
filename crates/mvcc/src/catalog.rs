//! [`Catalog`]: the named tables of a database, the commit-timestamp oracle, the registry of
//! running snapshots (for garbage collection), and the commit-delta subscribers.

use crate::error::{Result, TxnError};
use crate::table::{Table, TableDelta};
use crate::timestamp::{Snapshot, Timestamp, TxnId};
use crate::txn::Transaction;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use storage::TableSchema;

/// What one commit changed, per table: published to [`Catalog::subscribe`]rs after the
/// commit is visible.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitDelta {
    pub commit_ts: Timestamp,
    pub tables: Vec<TableDelta>,
}

/// Committed deletes that may be reclaimable before garbage collection is tried.
const GC_THRESHOLD: u64 = 4096;

/// All tables of one database, plus the timestamp oracle.
#[derive(Debug, Default)]
pub struct Catalog {
    tables: RwLock<BTreeMap<String, Arc<Table>>>,
    /// The newest commit timestamp whose data is fully published.
    last_commit: AtomicU64,
    /// Serialises commits so timestamps are published in order.
    commit_lock: Mutex<()>,
    /// Bumped by every CREATE and DROP, so cached plans know when to bind again.
    schema_version: AtomicU64,
    next_txn: AtomicU64,
    /// Read timestamps of running transactions, with how many share each.
    active: Mutex<BTreeMap<Timestamp, usize>>,
    /// Committed deletes since the last garbage collection that reclaimed everything.
    garbage: AtomicU64,
    /// The oldest snapshot at the last collection (none is tried again until it moves).
    gc_horizon: AtomicU64,
    subscribers: Mutex<Vec<Sender<Arc<CommitDelta>>>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Catalog {
    pub fn new() -> Arc<Catalog> {
        Arc::new(Catalog::default())
    }

    /// A snapshot of everything committed so far, outside any transaction. Its reads are not
    /// protected from garbage collection: use a [`Transaction`]'s snapshot for queries.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot::at(self.last_commit())
    }

    /// Starts a transaction reading at the current snapshot.
    pub fn begin(self: &Arc<Self>) -> Transaction {
        let id = TxnId(self.next_txn.fetch_add(1, Ordering::Relaxed) + 1);
        let mut active = lock(&self.active);
        // Registered under the lock, so a collection that computed its horizon before this
        // point cannot reclaim what this snapshot sees.
        let read_ts = self.last_commit();
        *active.entry(read_ts).or_default() += 1;
        Transaction::new(self.clone(), id, Snapshot { read_ts, txn: Some(id) })
    }

    /// Unregisters a finished transaction's snapshot, and collects garbage when worthwhile.
    pub(crate) fn end(&self, snapshot: Snapshot) {
        {
            let mut active = lock(&self.active);
            if let Some(n) = active.get_mut(&snapshot.read_ts) {
                *n -= 1;
                if *n == 0 {
                    active.remove(&snapshot.read_ts);
                }
            }
        }
        if self.garbage.load(Ordering::Relaxed) >= GC_THRESHOLD
            && self.oldest_active().0 > self.gc_horizon.load(Ordering::Relaxed)
        {
            self.collect_garbage();
        }
    }

    /// The oldest snapshot any running transaction reads (the newest commit if none runs).
    pub fn oldest_active(&self) -> Timestamp {
        let active = lock(&self.active);
        active.keys().next().copied().unwrap_or_else(|| self.last_commit())
    }

    /// Drops table data no running or future snapshot can see. Returns the rows reclaimed.
    pub fn collect_garbage(&self) -> usize {
        let oldest = self.oldest_active();
        self.gc_horizon.store(oldest.0, Ordering::Relaxed);
        let tables: Vec<Arc<Table>> = self.tables.read().unwrap_or_else(|p| p.into_inner()).values().cloned().collect();
        let reclaimed: usize = tables.iter().map(|t| t.collect_garbage(oldest)).sum();
        let _ = self
            .garbage
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |g| Some(g.saturating_sub(reclaimed as u64)));
        reclaimed
    }

    /// Row versions held by all tables.
    pub fn version_stats(&self) -> crate::VersionStats {
        let tables: Vec<Arc<Table>> = self.tables.read().unwrap_or_else(|p| p.into_inner()).values().cloned().collect();
        tables.iter().map(|t| t.storage_stats()).fold(Default::default(), |a, b| a + b)
    }

    /// Runs `publish` under the commit lock with the new commit timestamp; on success makes
    /// the timestamp visible and sends the deltas to subscribers.
    pub(crate) fn commit(
        self: Arc<Self>,
        _txn: TxnId,
        publish: impl FnOnce(Timestamp) -> Result<Vec<TableDelta>>,
    ) -> Result<()> {
        let guard = lock(&self.commit_lock);
        let ts = self.last_commit().next();
        let deltas = publish(ts)?;
        self.last_commit.store(ts.0, Ordering::Release);
        drop(guard);
        let deleted: usize = deltas.iter().map(|d| d.deleted.len()).sum();
        self.garbage.fetch_add(deleted as u64, Ordering::Relaxed);
        let mut subscribers = lock(&self.subscribers);
        if !subscribers.is_empty() {
            let delta = Arc::new(CommitDelta { commit_ts: ts, tables: deltas });
            subscribers.retain(|s| s.send(delta.clone()).is_ok());
        }
        Ok(())
    }

    /// A channel receiving every later commit's [`CommitDelta`], in commit order.
    pub fn subscribe(&self) -> Receiver<Arc<CommitDelta>> {
        let (tx, rx) = channel();
        lock(&self.subscribers).push(tx);
        rx
    }

    pub(crate) fn last_commit(&self) -> Timestamp {
        Timestamp(self.last_commit.load(Ordering::Acquire))
    }

    /// Changes whenever a table is created or dropped.
    pub fn schema_version(&self) -> u64 {
        self.schema_version.load(Ordering::Acquire)
    }

    pub fn table(&self, name: &str) -> Option<Arc<Table>> {
        self.tables.read().unwrap_or_else(|p| p.into_inner()).get(name).cloned()
    }

    pub fn table_names(&self) -> Vec<String> {
        self.tables.read().unwrap_or_else(|p| p.into_inner()).keys().cloned().collect()
    }

    pub fn create_table(&self, schema: TableSchema) -> Result<Arc<Table>> {
        let mut tables = self.tables.write().unwrap_or_else(|p| p.into_inner());
        if tables.contains_key(&schema.name) {
            return Err(TxnError::TableExists(schema.name));
        }
        let table = Arc::new(Table::new(schema));
        tables.insert(table.schema().name.clone(), table.clone());
        self.schema_version.fetch_add(1, Ordering::AcqRel);
        Ok(table)
    }

    pub fn drop_table(&self, name: &str) -> Result<()> {
        let mut tables = self.tables.write().unwrap_or_else(|p| p.into_inner());
        tables.remove(name).ok_or_else(|| TxnError::NoSuchTable(name.to_string()))?;
        self.schema_version.fetch_add(1, Ordering::AcqRel);
        Ok(())
    }

    /// Whether `table` is still the table registered under its name.
    pub(crate) fn is_live(&self, table: &Arc<Table>) -> bool {
        self.tables
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&table.schema().name)
            .is_some_and(|t| Arc::ptr_eq(t, table))
    }
}
