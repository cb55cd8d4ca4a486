//! [`Transaction`]: a snapshot to read at, plus writes that become visible all at once on
//! commit (or vanish on rollback).

use crate::catalog::Catalog;
use crate::error::{Result, TxnError};
use crate::table::{Table, TableDelta};
use crate::timestamp::{Snapshot, TxnId};
use std::collections::HashSet;
use std::sync::Arc;
use storage::Batch;

/// The writes of one transaction to one table.
struct TableWrites {
    table: Arc<Table>,
    /// Committed rows this transaction marked deleted, with their encoded primary keys
    /// (empty when the table has none).
    deleted: Vec<(u64, Vec<u8>)>,
    appended: bool,
}

/// A transaction. It reads one snapshot (plus its own writes); nothing it writes is visible
/// to others until [`commit`](Self::commit); dropping it without committing rolls back.
pub struct Transaction {
    catalog: Arc<Catalog>,
    id: TxnId,
    snapshot: Snapshot,
    writes: Vec<TableWrites>,
    done: bool,
}

impl std::fmt::Debug for Transaction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transaction").field("id", &self.id).field("snapshot", &self.snapshot).finish_non_exhaustive()
    }
}

impl Transaction {
    pub(crate) fn new(catalog: Arc<Catalog>, id: TxnId, snapshot: Snapshot) -> Transaction {
        Transaction { catalog, id, snapshot, writes: Vec::new(), done: false }
    }

    /// What this transaction reads: its snapshot and its own writes.
    pub fn snapshot(&self) -> Snapshot {
        self.snapshot
    }

    pub fn id(&self) -> TxnId {
        self.id
    }

    /// Whether the transaction has written anything.
    pub fn has_writes(&self) -> bool {
        !self.writes.is_empty()
    }

    fn writes_for(&mut self, table: &Arc<Table>) -> &mut TableWrites {
        let idx = match self.writes.iter().position(|w| Arc::ptr_eq(&w.table, table)) {
            Some(idx) => idx,
            None => {
                self.writes.push(TableWrites { table: table.clone(), deleted: Vec::new(), appended: false });
                self.writes.len() - 1
            }
        };
        &mut self.writes[idx]
    }

    /// Buffers `batch` for appending to `table`. `keys` holds one encoded primary key per row
    /// when the table has a primary key, and is empty otherwise. Key uniqueness is checked at
    /// commit.
    pub fn append(&mut self, table: Arc<Table>, batch: Batch, keys: Vec<Vec<u8>>) {
        debug_assert!(keys.is_empty() || keys.len() == batch.n_rows, "one key per row");
        if batch.n_rows > 0 {
            table.add_pending(self.id, batch, keys);
            self.writes_for(&table).appended = true;
        }
    }

    /// Deletes the rows `ids` (row ids this transaction's snapshot sees) of `table`; `keys`
    /// holds their encoded primary keys (empty when the table has none). A row another
    /// transaction has deleted or updated since (committed or not) is a write-write conflict:
    /// the error says so, and this call then changed nothing. Returns the rows deleted.
    pub fn delete(&mut self, table: &Arc<Table>, ids: &[u64], keys: Vec<Vec<u8>>) -> Result<usize> {
        debug_assert!(keys.is_empty() || keys.len() == ids.len(), "one key per row");
        let id = self.id;
        let writes = self.writes_for(table);
        let mut locked = Vec::new();
        let n = table.mark_deleted(id, ids, &mut locked)?;
        let locked_set: HashSet<u64> = locked.iter().copied().collect();
        for (k, &row) in ids.iter().enumerate() {
            if locked_set.contains(&row) {
                writes.deleted.push((row, keys.get(k).cloned().unwrap_or_default()));
            }
        }
        Ok(n)
    }

    /// Makes every write visible at one new commit timestamp, or none of them (the
    /// transaction is rolled back on error).
    pub fn commit(mut self) -> Result<()> {
        self.done = true;
        if self.writes.is_empty() {
            self.catalog.end(self.snapshot);
            return Ok(());
        }
        let result = self.catalog.clone().commit(self.id, |ts| {
            // Validate everything before publishing anything, so a failure changes nothing.
            for w in &self.writes {
                if !self.catalog.is_live(&w.table) {
                    return Err(TxnError::TableDropped(w.table.schema().name.clone()));
                }
                if w.appended {
                    let deleted: HashSet<u64> = w.deleted.iter().map(|(id, _)| *id).collect();
                    if let Some(key) = w.table.find_duplicate(self.id, &deleted) {
                        return Err(TxnError::DuplicateKey { table: w.table.schema().name.clone(), key });
                    }
                }
            }
            let deltas: Vec<TableDelta> =
                self.writes.iter().map(|w| w.table.publish(self.id, ts, &w.deleted)).collect();
            Ok(deltas)
        });
        if result.is_err() {
            self.release();
        }
        self.catalog.end(self.snapshot);
        result
    }

    /// Discards every write.
    pub fn rollback(mut self) {
        self.done = true;
        self.release();
        self.catalog.end(self.snapshot);
    }

    fn release(&mut self) {
        for w in std::mem::take(&mut self.writes) {
            let ids: Vec<u64> = w.deleted.iter().map(|(id, _)| *id).collect();
            w.table.unmark(self.id, &ids);
            w.table.drop_pending(self.id);
        }
    }
}

impl Drop for Transaction {
    fn drop(&mut self) {
        if !self.done {
            self.release();
            self.catalog.end(self.snapshot);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::{ScanPart, ROW_ID};
    use arrow::array::{Int64Array, PrimitiveArray};
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

    fn key(v: i64) -> Vec<u8> {
        v.to_be_bytes().to_vec()
    }

    /// (row id, value) of every row `snapshot` sees.
    fn rows(table: &Table, snapshot: Snapshot) -> Vec<(u64, i64)> {
        let mut out = Vec::new();
        for ScanPart { batch, first_row, live } in table.scan(snapshot) {
            let col = batch.columns[0].as_any().downcast_ref::<PrimitiveArray<i64>>().unwrap();
            for k in 0..batch.n_rows {
                if live.as_ref().is_none_or(|l| l.get_bit(k)) {
                    out.push((first_row + k as u64, col.value(k)));
                }
            }
        }
        out
    }

    fn values(table: &Table, snapshot: Snapshot) -> Vec<i64> {
        rows(table, snapshot).into_iter().map(|(_, v)| v).collect()
    }

    #[test]
    fn commit_is_atomic_and_snapshot_isolated() {
        let catalog = Catalog::new();
        let table = catalog.create_table(schema(false)).unwrap();
        let before = catalog.begin();
        let mut txn = catalog.begin();
        txn.append(table.clone(), batch(&[1, 2]), vec![]);
        txn.append(table.clone(), batch(&[3]), vec![]);
        assert_eq!(values(&table, catalog.snapshot()), Vec::<i64>::new(), "uncommitted data is invisible");
        assert_eq!(values(&table, txn.snapshot()), vec![1, 2, 3], "a transaction reads its own writes");
        txn.commit().unwrap();
        assert_eq!(values(&table, catalog.snapshot()), vec![1, 2, 3]);
        assert!(values(&table, before.snapshot()).is_empty(), "an older snapshot keeps its view");
        assert_eq!(ROW_ID, usize::MAX);
    }

    #[test]
    fn deletes_are_versioned_and_conflicts_detected() {
        let catalog = Catalog::new();
        let table = catalog.create_table(schema(false)).unwrap();
        let mut txn = catalog.begin();
        txn.append(table.clone(), batch(&[10, 20, 30]), vec![]);
        txn.commit().unwrap();
        let ids: Vec<u64> = rows(&table, catalog.snapshot()).into_iter().map(|(id, _)| id).collect();
        assert_eq!(ids, vec![0, 1, 2], "row ids are ordinals in commit order");

        let reader = catalog.begin();
        let mut t1 = catalog.begin();
        let mut t2 = catalog.begin();
        assert_eq!(t1.delete(&table, &[1], vec![]).unwrap(), 1);
        assert_eq!(values(&table, t1.snapshot()), vec![10, 30]);
        assert_eq!(values(&table, t2.snapshot()), vec![10, 20, 30], "uncommitted delete is invisible");
        // t2 touches the same row: a write-write conflict, and t2's other marks are released.
        let err = t2.delete(&table, &[2, 1], vec![]).unwrap_err();
        assert!(matches!(err, TxnError::SerializationFailure { .. }), "{err}");
        t1.commit().unwrap();
        assert_eq!(values(&table, catalog.snapshot()), vec![10, 30]);
        assert_eq!(values(&table, reader.snapshot()), vec![10, 20, 30], "old snapshot still sees the old row");
        // Row 2 was released by t2's failed statement, so a new transaction can take it.
        assert!(t2.delete(&table, &[1], vec![]).is_err(), "deleted by a commit after t2's snapshot");
        drop(t2);
        let mut t3 = catalog.begin();
        assert_eq!(t3.delete(&table, &[2], vec![]).unwrap(), 1);
        t3.rollback();
        assert_eq!(values(&table, catalog.snapshot()), vec![10, 30], "rollback restores the row");
    }

    #[test]
    fn duplicate_key_changes_nothing_and_deleted_keys_are_free() {
        let catalog = Catalog::new();
        let table = catalog.create_table(schema(true)).unwrap();
        let mut txn = catalog.begin();
        txn.append(table.clone(), batch(&[1]), vec![key(1)]);
        txn.commit().unwrap();
        let mut txn = catalog.begin();
        txn.append(table.clone(), batch(&[2, 1]), vec![key(2), key(1)]);
        let err = txn.commit().unwrap_err();
        assert!(matches!(err, TxnError::DuplicateKey { .. }), "{err}");
        assert_eq!(values(&table, catalog.snapshot()), vec![1]);
        // A key repeated inside one transaction is a duplicate too.
        let mut txn = catalog.begin();
        txn.append(table.clone(), batch(&[5, 5]), vec![key(5), key(5)]);
        assert!(txn.commit().is_err());
        // Deleting the row frees its key in the same transaction (an UPDATE of the key).
        let mut txn = catalog.begin();
        txn.delete(&table, &[0], vec![key(1)]).unwrap();
        txn.append(table.clone(), batch(&[1]), vec![key(1)]);
        txn.commit().unwrap();
        assert_eq!(rows(&table, catalog.snapshot()), vec![(1, 1)]);
        assert_eq!(table.lookup_key(catalog.snapshot(), &key(1)), crate::KeyLookup::Visible(1));
    }

    #[test]
    fn own_appends_can_be_deleted_before_commit() {
        let catalog = Catalog::new();
        let table = catalog.create_table(schema(false)).unwrap();
        let mut txn = catalog.begin();
        txn.append(table.clone(), batch(&[1, 2, 3]), vec![]);
        let own: Vec<u64> = rows(&table, txn.snapshot()).into_iter().map(|(id, _)| id).collect();
        assert!(own.iter().all(|&id| crate::is_pending_row(id)));
        txn.delete(&table, &own[1..2], vec![]).unwrap();
        assert_eq!(values(&table, txn.snapshot()), vec![1, 3]);
        let fetched = table.fetch(txn.snapshot(), &[own[2], own[0]]).unwrap();
        assert_eq!(fetched.columns[0].as_any().downcast_ref::<Int64Array>().unwrap().values().as_slice(), &[3, 1]);
        txn.commit().unwrap();
        assert_eq!(rows(&table, catalog.snapshot()), vec![(0, 1), (1, 3)]);
    }

    #[test]
    fn dropped_table_rejects_commit() {
        let catalog = Catalog::new();
        let table = catalog.create_table(schema(false)).unwrap();
        let mut txn = catalog.begin();
        txn.append(table, batch(&[1]), vec![]);
        catalog.drop_table("t").unwrap();
        assert!(matches!(txn.commit(), Err(TxnError::TableDropped(_))));
    }

    #[test]
    fn garbage_is_reclaimed_once_no_snapshot_sees_it() {
        let catalog = Catalog::new();
        let table = catalog.create_table(schema(false)).unwrap();
        let mut txn = catalog.begin();
        txn.append(table.clone(), batch(&[1, 2]), vec![]);
        txn.commit().unwrap();
        let old = catalog.begin();
        let mut txn = catalog.begin();
        txn.delete(&table, &[0, 1], vec![]).unwrap();
        txn.append(table.clone(), batch(&[3, 4]), vec![]);
        txn.commit().unwrap();
        catalog.collect_garbage();
        assert_eq!(table.storage_stats().segments, 2, "the old snapshot still needs the first segment");
        assert_eq!(values(&table, old.snapshot()), vec![1, 2]);
        drop(old);
        catalog.collect_garbage();
        assert_eq!(table.storage_stats().segments, 1);
        assert_eq!(rows(&table, catalog.snapshot()), vec![(2, 3), (3, 4)], "row ids survive reclamation");
    }

    #[test]
    fn commit_deltas_reach_subscribers() {
        let catalog = Catalog::new();
        let table = catalog.create_table(schema(false)).unwrap();
        let rx = catalog.subscribe();
        let mut txn = catalog.begin();
        txn.append(table.clone(), batch(&[1, 2, 3]), vec![]);
        txn.commit().unwrap();
        let mut txn = catalog.begin();
        txn.delete(&table, &[1], vec![]).unwrap();
        txn.append(table.clone(), batch(&[9]), vec![]);
        txn.commit().unwrap();
        let first = rx.recv().unwrap();
        let second = rx.recv().unwrap();
        assert_eq!(first.tables[0].appended, 0..3);
        assert!(second.commit_ts > first.commit_ts);
        assert_eq!(second.tables[0].appended, 3..4);
        assert_eq!(second.tables[0].deleted, vec![1]);
    }
}
