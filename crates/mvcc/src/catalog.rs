//! [`Catalog`]: the named tables of a database and the commit-timestamp oracle.

use crate::durable::Durable;
use crate::error::{Result, TxnError};
use crate::table::Table;
use crate::timestamp::{Snapshot, Timestamp};
use crate::txn::Transaction;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use storage::{Compression, TableSchema, WalOp};

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
    /// Bumped by every CREATE and DROP, so cached plans know when to bind again.
    schema_version: AtomicU64,
    /// The last table id handed out.
    last_table_id: AtomicU64,
    /// The WAL and files of a database opened from a directory; unset in memory.
    pub(crate) durable: OnceLock<Arc<Durable>>,
}

impl Catalog {
    pub fn new() -> Arc<Catalog> {
        Arc::new(Catalog::default())
    }

    /// A snapshot of everything committed so far.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot { read_ts: Timestamp(self.last_commit.load(Ordering::Acquire)) }
    }

    /// Starts a write transaction reading at the current snapshot.
    pub fn begin(self: &Arc<Self>) -> Transaction {
        Transaction::new(self.clone(), self.snapshot())
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

    /// Writes the in-memory tail of every table to column files and drops the WAL before
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
        let _commit = self.commit_lock.lock().unwrap_or_else(|p| p.into_inner());
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
        let _commit = self.commit_lock.lock().unwrap_or_else(|p| p.into_inner());
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
