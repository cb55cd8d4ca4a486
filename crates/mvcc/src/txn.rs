//! [`Transaction`]: buffered writes that become visible all at once on commit.

use crate::catalog::Catalog;
use crate::durable::{CommitLog, Durability};
use crate::error::{Result, TxnError};
use crate::table::Table;
use crate::timestamp::Snapshot;
use std::sync::Arc;
use storage::{Batch, WalOp};

struct PendingAppend {
    table: Arc<Table>,
    batch: Batch,
    keys: Vec<Vec<u8>>,
}

/// A write transaction. Nothing it appends is visible to anyone until [`commit`](Self::commit);
/// dropping it without committing discards everything.
pub struct Transaction {
    catalog: Arc<Catalog>,
    snapshot: Snapshot,
    appends: Vec<PendingAppend>,
    /// How durable the commit must be before it returns; `None` is the database's default.
    durability: Option<Durability>,
}

impl std::fmt::Debug for Transaction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transaction").field("snapshot", &self.snapshot).finish_non_exhaustive()
    }
}

impl Transaction {
    pub(crate) fn new(catalog: Arc<Catalog>, snapshot: Snapshot) -> Transaction {
        Transaction { catalog, snapshot, appends: Vec::new(), durability: None }
    }

    /// Sets how durable the commit must be before [`commit`](Self::commit) returns (the
    /// session's `SET durability`); `None` keeps the database's default.
    pub fn set_durability(&mut self, durability: Option<Durability>) {
        self.durability = durability;
    }

    pub fn snapshot(&self) -> Snapshot {
        self.snapshot
    }

    /// Buffers `batch` for appending to `table`. `keys` holds one encoded primary key per row
    /// when the table has a primary key, and is empty otherwise.
    pub fn append(&mut self, table: Arc<Table>, batch: Batch, keys: Vec<Vec<u8>>) {
        debug_assert!(keys.is_empty() || keys.len() == batch.n_rows, "one key per row");
        if batch.n_rows > 0 {
            self.appends.push(PendingAppend { table, batch, keys });
        }
    }

    /// Makes every buffered write visible at one new commit timestamp, or none of them.
    /// `describe_key` renders an encoded key for the duplicate-key error message.
    pub fn commit(self, describe_key: impl Fn(&Table, &[u8]) -> String) -> Result<()> {
        if self.appends.is_empty() {
            return Ok(());
        }
        // Durable databases: the WAL record is encoded before the commit lock is taken.
        let log = CommitLog::prepare(&self.catalog, self.durability, || {
            self.appends.iter().map(|p| WalOp::Append { table_id: p.table.id(), batch: p.batch.clone() }).collect()
        })?;
        let guard = self.catalog.commit_lock.lock().unwrap_or_else(|p| p.into_inner());
        // Validate everything before publishing anything, so a failure changes nothing.
        for (idx, pending) in self.appends.iter().enumerate() {
            if !self.catalog.is_live(&pending.table) {
                return Err(TxnError::TableDropped(pending.table.schema().name.clone()));
            }
            if pending.keys.is_empty() {
                continue;
            }
            // Keys of this transaction's earlier appends to the same table count too.
            let mut all_keys: Vec<Vec<u8>> = self.appends[..idx]
                .iter()
                .filter(|p| Arc::ptr_eq(&p.table, &pending.table))
                .flat_map(|p| p.keys.iter().cloned())
                .collect();
            all_keys.extend(pending.keys.iter().cloned());
            if let Some(dup) = pending.table.find_duplicate(&all_keys) {
                return Err(TxnError::DuplicateKey {
                    table: pending.table.schema().name.clone(),
                    key: describe_key(&pending.table, dup),
                });
            }
        }
        let commit_ts = self.catalog.assign_commit_ts();
        // The commit is WAL-logged before anything is published; replaying the WAL in LSN
        // order repeats the publishing order below, so row ids come out the same.
        let ticket = log.append(commit_ts)?;
        for pending in self.appends {
            pending.table.publish(commit_ts, pending.batch, pending.keys);
        }
        drop(guard);
        // Group commit: committers wait for the WAL outside the commit lock, so many of them
        // share one fsync; the commit becomes visible only once it is durable.
        ticket.wait()?;
        self.catalog.publish_ts(commit_ts);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::Int64Array;
    use storage::{ColumnDef, DataType, TableSchema};

    fn schema(pk: bool) -> TableSchema {
        TableSchema {
            name: "t".into(),
            columns: vec![ColumnDef { name: "a".into(), data_type: DataType::BigInt, nullable: false }],
            primary_key: if pk { vec![0] } else { vec![] },
        }
    }

    fn batch(vals: &[i64]) -> Batch {
        Batch::new(vec![Int64Array::from_slice(vals).boxed()])
    }

    #[test]
    fn commit_is_atomic_and_snapshot_isolated() {
        let catalog = Catalog::new();
        let table = catalog.create_table(schema(false)).unwrap();
        let before = catalog.snapshot();
        let mut txn = catalog.begin();
        txn.append(table.clone(), batch(&[1, 2]), vec![]);
        txn.append(table.clone(), batch(&[3]), vec![]);
        assert_eq!(table.n_rows(catalog.snapshot()), 0, "uncommitted data is invisible");
        txn.commit(|_, _| String::new()).unwrap();
        assert_eq!(table.n_rows(catalog.snapshot()), 3);
        assert_eq!(table.n_rows(before), 0, "an older snapshot keeps its view");
    }

    #[test]
    fn duplicate_key_changes_nothing() {
        let catalog = Catalog::new();
        let table = catalog.create_table(schema(true)).unwrap();
        let mut txn = catalog.begin();
        txn.append(table.clone(), batch(&[1]), vec![vec![1]]);
        txn.commit(|_, _| String::new()).unwrap();
        let mut txn = catalog.begin();
        txn.append(table.clone(), batch(&[2, 1]), vec![vec![2], vec![1]]);
        let err = txn.commit(|_, k| format!("{k:?}")).unwrap_err();
        assert!(matches!(err, TxnError::DuplicateKey { .. }), "{err}");
        assert_eq!(table.n_rows(catalog.snapshot()), 1);
        assert!(!table.contains_key(&[2]));
        // A key repeated inside one statement is a duplicate too.
        let mut txn = catalog.begin();
        txn.append(table.clone(), batch(&[5, 5]), vec![vec![5], vec![5]]);
        assert!(txn.commit(|_, _| String::new()).is_err());
    }

    #[test]
    fn dropped_table_rejects_commit() {
        let catalog = Catalog::new();
        let table = catalog.create_table(schema(false)).unwrap();
        let mut txn = catalog.begin();
        txn.append(table, batch(&[1]), vec![]);
        catalog.drop_table("t").unwrap();
        assert!(matches!(txn.commit(|_, _| String::new()), Err(TxnError::TableDropped(_))));
    }
}
