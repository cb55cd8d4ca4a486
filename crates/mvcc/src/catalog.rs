//! [`Catalog`]: the named tables of a database, the commit-timestamp oracle, the registry of
//! running snapshots (for garbage collection), and the commit-delta subscribers.

use crate::durable::{CommitLog, Durable};
use crate::error::{Result, TxnError};
use crate::table::{Table, TableDelta};
use crate::timestamp::{Snapshot, Timestamp, TxnId};
use crate::txn::Transaction;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, RwLock};
use storage::{Compression, TableSchema, WalOp};

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
    /// The newest commit timestamp handed out (under the commit lock). Ahead of `last_commit`
    /// while commits wait for the WAL to make them durable.
    last_assigned: AtomicU64,
    /// Serialises commits (and CREATE/DROP) so timestamps and WAL records follow one order.
    pub(crate) commit_lock: Mutex<()>,
    /// The last table id handed out.
    last_table_id: AtomicU64,
    /// The WAL and files of a database opened from a directory; unset in memory.
    pub(crate) durable: OnceLock<Arc<Durable>>,
    /// Bumped by every CREATE and DROP, so cached plans know when to bind again.
    schema_version: AtomicU64,
    next_txn: AtomicU64,
    /// Read timestamps of running transactions, with how many share each.
    active: Mutex<BTreeMap<Timestamp, usize>>,
    /// Committed deletes since the last garbage collection.
    garbage: AtomicU64,
    /// Whether the last collection left wholly deleted segments that an old snapshot still
    /// saw: the next transaction end that moves the oldest snapshot collects again.
    gc_blocked: std::sync::atomic::AtomicBool,
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
        // Deletes in segments that still hold live rows stay uncollectable until more deletes
        // come, so only new deletes (or a blocking snapshot ending) make a collection worth
        // its scan of every segment list.
        let due = self.garbage.load(Ordering::Relaxed) >= GC_THRESHOLD || self.gc_blocked.load(Ordering::Relaxed);
        if due && self.oldest_active().0 > self.gc_horizon.load(Ordering::Relaxed) {
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
        self.garbage.store(0, Ordering::Relaxed);
        let (mut reclaimed, mut blocked) = (0, false);
        for table in &tables {
            let (rows, b) = table.collect_garbage(oldest);
            reclaimed += rows;
            blocked |= b;
        }
        self.gc_blocked.store(blocked, Ordering::Relaxed);
        reclaimed
    }

    /// Row versions held by all tables.
    pub fn version_stats(&self) -> crate::VersionStats {
        let tables: Vec<Arc<Table>> = self.tables.read().unwrap_or_else(|p| p.into_inner()).values().cloned().collect();
        tables.iter().map(|t| t.storage_stats()).fold(Default::default(), |a, b| a + b)
    }

    /// Under the commit lock: runs `validate`, assigns the next commit timestamp, appends the
    /// commit's WAL record (`log`; nothing in memory) and runs `publish` with the timestamp.
    /// Then, outside the lock, waits until the record is as durable as the commit asked
    /// (committers waiting together share one fsync), makes the timestamp visible and sends the
    /// deltas to subscribers. A failure before `publish` changes nothing.
    pub(crate) fn commit(
        self: Arc<Self>,
        _txn: TxnId,
        log: CommitLog,
        validate: impl FnOnce() -> Result<()>,
        publish: impl FnOnce(Timestamp) -> Vec<TableDelta>,
    ) -> Result<()> {
        let guard = lock(&self.commit_lock);
        validate()?;
        let ts = self.assign_commit_ts();
        // In the WAL before anything is published; LSN order is commit order.
        let ticket = log.append(ts)?;
        let deltas = publish(ts);
        drop(guard);
        ticket.wait()?;
        self.publish_ts(ts);
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

    /// Makes everything committed at or before `ts` visible. Every commit before `ts` was
    /// published to its tables (under the commit lock) before `ts` was even assigned.
    pub(crate) fn publish_ts(&self, ts: Timestamp) {
        self.last_commit.fetch_max(ts.0, Ordering::AcqRel);
    }

    /// The next commit timestamp. Called under the commit lock.
    pub(crate) fn assign_commit_ts(&self) -> Timestamp {
        let ts = Timestamp(self.last_assigned.load(Ordering::Acquire)).next();
        self.last_assigned.store(ts.0, Ordering::Release);
        ts
    }

    /// The newest commit timestamp handed out.
    pub(crate) fn last_assigned(&self) -> Timestamp {
        Timestamp(self.last_assigned.load(Ordering::Acquire))
    }

    /// The durable storage behind this catalog, if it was opened from a directory.
    pub fn durable(&self) -> Option<&Arc<Durable>> {
        self.durable.get()
    }

    /// Every table, in name order.
    pub(crate) fn tables(&self) -> Vec<Arc<Table>> {
        self.tables.read().unwrap_or_else(|p| p.into_inner()).values().cloned().collect()
    }

    /// The last table id handed out.
    pub(crate) fn last_table_id(&self) -> u64 {
        self.last_table_id.load(Ordering::Acquire)
    }

    /// Registers a table rebuilt by recovery (no WAL record).
    pub(crate) fn restore_table(&self, table: Arc<Table>) {
        self.last_table_id.fetch_max(table.id(), Ordering::AcqRel);
        self.tables.write().unwrap_or_else(|p| p.into_inner()).insert(table.schema().name.clone(), table);
        self.schema_version.fetch_add(1, Ordering::AcqRel);
    }

    /// Removes a table by id during recovery (no WAL record); whether it was there.
    pub(crate) fn remove_table_by_id(&self, table_id: u64) -> bool {
        let mut tables = self.tables.write().unwrap_or_else(|p| p.into_inner());
        let name = tables.iter().find(|(_, t)| t.id() == table_id).map(|(name, _)| name.clone());
        name.is_some_and(|name| tables.remove(&name).is_some())
    }

    /// Raises the table-id counter (recovery: ids of the manifest and of replayed tables).
    pub(crate) fn reserve_table_ids(&self, last: u64) {
        self.last_table_id.fetch_max(last, Ordering::AcqRel);
    }

    /// Writes the in-memory rows of every table to column files and drops the WAL before
    /// them; nothing to do in memory. See `durable::checkpoint`.
    pub fn checkpoint(&self) -> Result<()> {
        match self.durable() {
            Some(durable) => durable.checkpoint(self).map(|_| ()),
            None => Ok(()),
        }
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
        self.create_table_with(schema, Compression::default())
    }

    /// Creates a table whose column files use `compression`. In a durable database the
    /// creation is WAL-logged (and durable, per the default mode) before the table is visible.
    pub fn create_table_with(&self, schema: TableSchema, compression: Compression) -> Result<Arc<Table>> {
        let _commit = lock(&self.commit_lock);
        if self.table(&schema.name).is_some() {
            return Err(TxnError::TableExists(schema.name));
        }
        let table_id = self.last_table_id.load(Ordering::Acquire) + 1;
        let ts = self.assign_commit_ts();
        if let Some(durable) = self.durable() {
            durable.log_catalog_change(ts, WalOp::CreateTable { table_id, schema: schema.clone(), compression })?;
        }
        self.last_table_id.store(table_id, Ordering::Release);
        let table = Arc::new(Table::new(table_id, schema, compression));
        self.tables.write().unwrap_or_else(|p| p.into_inner()).insert(table.schema().name.clone(), table.clone());
        self.schema_version.fetch_add(1, Ordering::AcqRel);
        self.publish_ts(ts);
        Ok(table)
    }

    /// Drops a table; in a durable database the drop is WAL-logged first.
    pub fn drop_table(&self, name: &str) -> Result<()> {
        let _commit = lock(&self.commit_lock);
        let table = self.table(name).ok_or_else(|| TxnError::NoSuchTable(name.to_string()))?;
        let ts = self.assign_commit_ts();
        if let Some(durable) = self.durable() {
            durable.log_catalog_change(ts, WalOp::DropTable { table_id: table.id() })?;
        }
        self.tables.write().unwrap_or_else(|p| p.into_inner()).remove(name);
        self.schema_version.fetch_add(1, Ordering::AcqRel);
        self.publish_ts(ts);
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
