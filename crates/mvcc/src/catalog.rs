//! [`Catalog`]: the named tables of a database and the commit-timestamp oracle.

use crate::error::{Result, TxnError};
use crate::table::Table;
use crate::timestamp::{Snapshot, Timestamp};
use crate::txn::Transaction;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use storage::TableSchema;

/// All tables of one database, plus the timestamp oracle.
#[derive(Debug, Default)]
pub struct Catalog {
    tables: RwLock<BTreeMap<String, Arc<Table>>>,
    /// The newest commit timestamp whose data is fully published.
    last_commit: AtomicU64,
    /// Serialises commits so timestamps are published in order.
    pub(crate) commit_lock: Mutex<()>,
    /// Bumped by every CREATE and DROP, so cached plans know when to bind again.
    schema_version: AtomicU64,
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

    pub(crate) fn publish_ts(&self, ts: Timestamp) {
        self.last_commit.store(ts.0, Ordering::Release);
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
