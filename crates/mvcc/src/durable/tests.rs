//! Durable catalogs: reopen after commits, CREATE and DROP; checkpoints; group commit; old
//! snapshots across a checkpoint; the directory lock.

use super::*;
use crate::timestamp::Snapshot;
use arrow::array::{Array, Int64Array};
use storage::{Batch, ColumnDef, DataType, TableSchema};

fn keys() -> KeyEncoder {
    Arc::new(|columns: &[&dyn Array], n_rows: usize| {
        let ints = columns[0].as_any().downcast_ref::<Int64Array>().ok_or("not BIGINT")?;
        Ok((0..n_rows).map(|i| ints.value(i).to_le_bytes().to_vec()).collect())
    })
}

fn quiet() -> DurableOptions {
    DurableOptions { background_interval: Duration::ZERO, ..DurableOptions::default() }
}

fn schema(name: &str, pk: bool) -> TableSchema {
    TableSchema {
        name: name.into(),
        columns: vec![ColumnDef { name: "a".into(), data_type: DataType::BigInt, nullable: false }],
        primary_key: if pk { vec![0] } else { vec![] },
    }
}

fn batch(vals: &[i64]) -> Batch {
    Batch::new(vec![Int64Array::from_slice(vals).boxed()])
}

fn append(catalog: &Arc<Catalog>, table: &str, vals: &[i64]) -> crate::Result<()> {
    let table = catalog.table(table).unwrap();
    let mut txn = catalog.begin();
    let row_keys = if table.schema().primary_key.is_empty() {
        vec![]
    } else {
        vals.iter().map(|v| v.to_le_bytes().to_vec()).collect()
    };
    txn.append(table, batch(vals), row_keys);
    txn.commit()
}

/// Deletes the rows with these values (and their keys).
fn delete(catalog: &Arc<Catalog>, table: &str, vals: &[i64]) -> crate::Result<usize> {
    let table = catalog.table(table).unwrap();
    let mut txn = catalog.begin();
    let ids: Vec<u64> =
        rows_at(&table, txn.snapshot()).into_iter().filter(|(_, v)| vals.contains(v)).map(|(id, _)| id).collect();
    let row_keys = if table.schema().primary_key.is_empty() {
        vec![]
    } else {
        rows_at(&table, txn.snapshot())
            .into_iter()
            .filter(|(_, v)| vals.contains(v))
            .map(|(_, v)| v.to_le_bytes().to_vec())
            .collect()
    };
    let n = txn.delete(&table, &ids, row_keys)?;
    txn.commit()?;
    Ok(n)
}

/// (row id, value) of every row `snapshot` sees.
fn rows_at(table: &crate::Table, snapshot: Snapshot) -> Vec<(u64, i64)> {
    let mut cache = ReadCache::default();
    let mut out = Vec::new();
    for part in table.scan(snapshot) {
        let b = part.read(&[0], &mut cache).unwrap();
        let col = b.columns[0].as_any().downcast_ref::<Int64Array>().unwrap();
        for k in 0..b.n_rows {
            if part.live.as_ref().is_none_or(|l| l.get_bit(k)) {
                out.push((part.first_row + k as u64, col.value(k)));
            }
        }
    }
    out
}

/// Whether every committed row of `table` is read from a column file.
fn all_in_files(catalog: &Catalog, table: &str) -> bool {
    catalog.table(table).unwrap().scan(catalog.snapshot()).iter().all(|p| matches!(p.data, PartData::File { .. }))
}

fn values(catalog: &Catalog, table: &str) -> Vec<i64> {
    values_at(catalog, table, catalog.snapshot())
}

fn values_at(catalog: &Catalog, table: &str, snapshot: Snapshot) -> Vec<i64> {
    rows_at(&catalog.table(table).unwrap(), snapshot).into_iter().map(|(_, v)| v).collect()
}

#[test]
fn commits_ddl_and_keys_survive_reopen() {
    let dir = tempfile::tempdir().unwrap();
    {
        let catalog = open(dir.path(), quiet(), keys()).unwrap();
        assert!(catalog.durable().unwrap().recovery_info().created);
        catalog.create_table(schema("t", true)).unwrap();
        catalog.create_table(schema("gone", false)).unwrap();
        append(&catalog, "t", &[1, 2]).unwrap();
        append(&catalog, "gone", &[9]).unwrap();
        catalog.drop_table("gone").unwrap();
        append(&catalog, "t", &[3]).unwrap();
        assert!(append(&catalog, "t", &[4, 1]).is_err(), "duplicate key");
    }
    let catalog = open(dir.path(), quiet(), keys()).unwrap();
    let info = catalog.durable().unwrap().recovery_info().clone();
    assert_eq!((info.created, info.replayed_records, info.torn_tail), (false, 6, None));
    assert_eq!(catalog.table_names(), vec!["t".to_string()]);
    assert_eq!(values(&catalog, "t"), vec![1, 2, 3]);
    assert!(matches!(append(&catalog, "t", &[2]), Err(crate::TxnError::DuplicateKey { .. })));
    // A new table does not reuse the dropped table's id.
    let t2 = catalog.create_table(schema("gone", false)).unwrap();
    assert!(t2.id() > catalog.table("t").unwrap().id() + 1);
}

#[test]
fn checkpoint_folds_tails_into_files_and_drops_the_wal() {
    let dir = tempfile::tempdir().unwrap();
    let many: Vec<i64> = (0..100_000).collect();
    {
        let catalog = open(dir.path(), quiet(), keys()).unwrap();
        catalog.create_table(schema("t", true)).unwrap();
        catalog.create_table_with(schema("z", false), storage::Compression::Zstd).unwrap();
        append(&catalog, "t", &many[..70_000]).unwrap();
        append(&catalog, "z", &[5, 6]).unwrap();
        let before = catalog.snapshot();
        append(&catalog, "t", &many[70_000..]).unwrap();
        let durable = catalog.durable().unwrap();
        let stats = durable.checkpoint(&catalog).unwrap();
        assert_eq!((stats.files_written, stats.rows_written), (2, 100_002));
        assert!(stats.wal_segments_removed >= 1);
        // A snapshot from before the checkpoint still sees exactly its rows.
        assert_eq!(values_at(&catalog, "t", before).len(), 70_000);
        assert_eq!(values(&catalog, "t"), many);
        assert!(all_in_files(&catalog, "t"));
        append(&catalog, "t", &[100_000]).unwrap();
        assert!(append(&catalog, "t", &[5]).is_err(), "keys of checkpointed rows still count");
    }
    let names: Vec<String> = dir_names(dir.path());
    assert_eq!(names.iter().filter(|n| n.ends_with(".col")).count(), 2, "{names:?}");
    let catalog = open(dir.path(), quiet(), keys()).unwrap();
    let info = catalog.durable().unwrap().recovery_info().clone();
    assert_eq!((info.column_files, info.rows_in_files, info.replayed_records), (2, 100_002, 1));
    let mut expected = many.clone();
    expected.push(100_000);
    assert_eq!(values(&catalog, "t"), expected);
    assert_eq!(values(&catalog, "z"), vec![5, 6]);
    assert_eq!(catalog.table("z").unwrap().compression(), storage::Compression::Zstd);
    assert!(append(&catalog, "t", &[99_999]).is_err());
    // Dropping a table removes its files at the next checkpoint.
    catalog.drop_table("z").unwrap();
    let stats = catalog.durable().unwrap().checkpoint(&catalog).unwrap();
    assert_eq!((stats.files_written, stats.files_removed), (1, 1));
    drop(catalog);
    let catalog = open(dir.path(), quiet(), keys()).unwrap();
    assert_eq!(values(&catalog, "t"), expected);
    assert_eq!(catalog.table_names(), vec!["t".to_string()]);
}

fn dir_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

#[test]
fn concurrent_committers_share_fsyncs() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = open(dir.path(), quiet(), keys()).unwrap();
    catalog.create_table(schema("t", false)).unwrap();
    let n_threads = 8;
    let per_thread = 40;
    let fsyncs_before = catalog.durable().unwrap().wal().stats().n_fsyncs;
    std::thread::scope(|scope| {
        for t in 0..n_threads {
            let catalog = &catalog;
            scope.spawn(move || {
                for i in 0..per_thread {
                    append(catalog, "t", &[t * 1000 + i]).unwrap();
                }
            });
        }
    });
    let fsyncs = catalog.durable().unwrap().wal().stats().n_fsyncs - fsyncs_before;
    let commits = (n_threads * per_thread) as u64;
    assert_eq!(values(&catalog, "t").len() as u64, commits);
    eprintln!("group commit: {fsyncs} fsyncs for {commits} commits");
    assert!(fsyncs < commits, "group commit: {fsyncs} fsyncs for {commits} commits");
    drop(catalog);
    let catalog = open(dir.path(), quiet(), keys()).unwrap();
    assert_eq!(values(&catalog, "t").len() as u64, commits);
}

#[test]
fn durability_modes_per_transaction() {
    let dir = tempfile::tempdir().unwrap();
    let options = DurableOptions { durability: Durability::Off, ..quiet() };
    let catalog = open(dir.path(), options, keys()).unwrap();
    catalog.create_table(schema("t", false)).unwrap();
    let wal = catalog.durable().unwrap().wal();
    let synced = wal.synced_lsn();
    append(&catalog, "t", &[1]).unwrap();
    assert_eq!(wal.synced_lsn(), synced, "off: nothing synced at commit");
    let table = catalog.table("t").unwrap();
    let mut txn = catalog.begin();
    txn.set_durability(Some(Durability::Full));
    txn.append(table, batch(&[2]), vec![]);
    txn.commit().unwrap();
    assert_eq!(wal.synced_lsn(), Lsn(wal.next_lsn().unwrap().0 - 1), "full: synced, with the earlier record");
}

#[test]
fn background_thread_checkpoints_by_rows_and_stops_on_drop() {
    let dir = tempfile::tempdir().unwrap();
    let options = DurableOptions {
        checkpoint_tail_rows: 10,
        background_interval: Duration::from_millis(5),
        durability: Durability::Normal,
        ..DurableOptions::default()
    };
    let catalog = open(dir.path(), options.clone(), keys()).unwrap();
    catalog.create_table(schema("t", false)).unwrap();
    append(&catalog, "t", &(0..20).collect::<Vec<_>>()).unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !all_in_files(&catalog, "t") {
        assert!(std::time::Instant::now() < deadline, "no background checkpoint");
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(catalog.durable().unwrap().background_error(), None);
    drop(catalog);
    // Reopening right away works: the thread is gone and the lock released.
    let catalog = open(dir.path(), options, keys()).unwrap();
    assert_eq!(values(&catalog, "t"), (0..20).collect::<Vec<_>>());
}

#[test]
fn second_open_is_refused_and_foreign_directories_too() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = open(dir.path(), quiet(), keys()).unwrap();
    // Another process would get the error at once; this one waits a little for itself first.
    let err = open(dir.path(), quiet(), keys()).unwrap_err();
    assert!(err.to_string().contains(&format!("locked by pid {}", std::process::id())), "{err}");
    drop(catalog);

    let foreign = tempfile::tempdir().unwrap();
    std::fs::write(foreign.path().join("notes.txt"), b"hello").unwrap();
    let err = open(foreign.path(), quiet(), keys()).unwrap_err();
    assert!(err.to_string().contains("not a HeliosDB database directory"), "{err}");
    let file = foreign.path().join("notes.txt");
    let err = open(&file, quiet(), keys()).unwrap_err();
    assert!(err.to_string().contains("is a file"), "{err}");
}

#[test]
fn deletes_survive_the_wal_and_checkpoints_with_stable_row_ids() {
    let dir = tempfile::tempdir().unwrap();
    let ids = |catalog: &Arc<Catalog>| rows_at(&catalog.table("t").unwrap(), catalog.snapshot());
    let expected;
    {
        let catalog = open(dir.path(), quiet(), keys()).unwrap();
        catalog.create_table(schema("t", true)).unwrap();
        append(&catalog, "t", &(0..10).collect::<Vec<_>>()).unwrap();
        assert_eq!(delete(&catalog, "t", &[3, 4]).unwrap(), 2);
        // An UPDATE of a key: delete the old row, append the new one in one transaction.
        let table = catalog.table("t").unwrap();
        let mut txn = catalog.begin();
        txn.delete(&table, &[5], vec![5i64.to_le_bytes().to_vec()]).unwrap();
        txn.append(table.clone(), batch(&[3]), vec![3i64.to_le_bytes().to_vec()]);
        txn.commit().unwrap();
        expected = ids(&catalog);
        assert_eq!(expected.last(), Some(&(10, 3)));
    }
    let catalog = open(dir.path(), quiet(), keys()).unwrap();
    assert_eq!(ids(&catalog), expected, "replayed deletes and appends keep row ids");
    assert!(append(&catalog, "t", &[3]).is_err(), "key 3 is taken again");
    append(&catalog, "t", &[4]).unwrap();
    catalog.checkpoint().unwrap();
    delete(&catalog, "t", &[0]).unwrap();
    let mut expected: Vec<(u64, i64)> = expected.into_iter().filter(|&(_, v)| v != 0).collect();
    expected.push((11, 4));
    assert_eq!(ids(&catalog), expected);
    drop(catalog);
    let catalog = open(dir.path(), quiet(), keys()).unwrap();
    assert_eq!(ids(&catalog), expected, "checkpointed deletes come from the manifest, the last from the WAL");
    catalog.checkpoint().unwrap();
    drop(catalog);
    let catalog = open(dir.path(), quiet(), keys()).unwrap();
    assert_eq!(ids(&catalog), expected);
    assert!(append(&catalog, "t", &[4]).is_err());
    append(&catalog, "t", &[0]).unwrap();
    // Deleting everything and checkpointing drops the files.
    let all: Vec<i64> = ids(&catalog).into_iter().map(|(_, v)| v).collect();
    delete(&catalog, "t", &all).unwrap();
    catalog.collect_garbage();
    let stats = catalog.durable().unwrap().checkpoint(&catalog).unwrap();
    assert_eq!((stats.files_written, stats.files_removed), (0, 1), "{stats:?}");
    drop(catalog);
    let catalog = open(dir.path(), quiet(), keys()).unwrap();
    assert!(ids(&catalog).is_empty());
    append(&catalog, "t", &[1]).unwrap();
    assert_eq!(ids(&catalog), vec![(13, 1)], "row ids are never reused");
}
