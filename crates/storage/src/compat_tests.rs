//! Format compatibility: files written by format version 1 (column file, manifest, WAL) are
//! checked in under `testdata/v1/`, and the WAL of format version 2 (catalog operations) under
//! `testdata/v2/`; they must stay readable, with the same contents, by every later build.
//!
//! `UPDATE_GOLDEN=1 cargo test -p storage compat` rewrites the files of the current WAL version
//! (`testdata/v2/`) only; do that only when adding a new format version directory, never to
//! make a failing read pass. The version-1 files can no longer be written by this build.

use crate::batch::Batch;
use crate::column_file::{ColumnFile, ColumnFileWriter};
use crate::compression::Compression;
use crate::manifest::{FileEntry, Manifest, TableEntry};
use crate::schema::{ColumnDef, TableSchema};
use crate::types::DataType;
use crate::value::{values_to_array, Value};
use crate::wal::{Lsn, Wal, WalOp, WalOptions};
use roaring::RoaringTreemap;
use std::path::{Path, PathBuf};

const TYPES: [DataType; 10] = [
    DataType::Boolean,
    DataType::SmallInt,
    DataType::Integer,
    DataType::BigInt,
    DataType::Real,
    DataType::Double,
    DataType::Text,
    DataType::Date,
    DataType::Timestamp,
    DataType::Interval,
];

fn golden(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/v1").join(name)
}

fn golden_v2(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/v2").join(name)
}

fn sample_value(dt: DataType, row_idx: i64) -> Value {
    if row_idx % 5 == 3 {
        return Value::Null;
    }
    match dt {
        DataType::Boolean => Value::Boolean(row_idx % 3 == 0),
        DataType::SmallInt => Value::SmallInt((row_idx * 3 - 40) as i16),
        DataType::Integer => Value::Integer((row_idx % 4) as i32 * 1_000_000),
        DataType::BigInt => Value::BigInt(row_idx * row_idx * 7919 - 5),
        DataType::Real => Value::Real(row_idx as f32 * 0.5),
        DataType::Double => Value::Double(if row_idx == 7 { f64::NAN } else { row_idx as f64 / 100.0 }),
        DataType::Text => Value::Text(["alpha", "beta", "gamma", "δέλτα"][row_idx as usize % 4].to_string()),
        DataType::Date => Value::Date(19_000 + row_idx as i32),
        DataType::Timestamp => Value::Timestamp(1_700_000_000_000_000 + row_idx * 1_000_123),
        _ => Value::Interval { months: row_idx as i32, days: 2, micros: -row_idx * 1000 },
    }
}

fn sample_batch(n_rows: i64, seed: i64) -> Batch {
    Batch::new(
        TYPES
            .iter()
            .map(|&dt| values_to_array(dt, &(0..n_rows).map(|i| sample_value(dt, i + seed)).collect::<Vec<_>>()))
            .collect(),
    )
}

fn sample_manifest() -> Manifest {
    let columns = TYPES
        .iter()
        .enumerate()
        .map(|(col_idx, &data_type)| ColumnDef { name: format!("c{col_idx}"), data_type, nullable: col_idx > 0 })
        .collect();
    Manifest {
        generation: 3,
        checkpoint_lsn: Lsn(2),
        next_table_id: 2,
        next_file_id: 5,
        tables: vec![TableEntry {
            table_id: 1,
            schema: TableSchema { name: "everything".into(), columns, primary_key: vec![0, 3] },
            compression: Compression::Zstd,
            next_row: 100,
            deleted: RoaringTreemap::new(),
            files: vec![FileEntry::contiguous("sample.col", 100, 4096, 0)],
        }],
    }
}

/// The version-2 golden manifest: row-id runs with a gap, deleted rows.
fn sample_manifest_v2() -> Manifest {
    let mut manifest = sample_manifest();
    let table = &mut manifest.tables[0];
    table.next_row = 130;
    table.deleted = [0, 7, 8, 9, 129].into_iter().collect();
    table.files[0].runs = vec![(0, 60), (90, 40)];
    manifest
}

fn sample_ops(seed: i64) -> Vec<WalOp> {
    vec![
        WalOp::Append { table_id: 1, batch: sample_batch(10, seed) },
        WalOp::Delete { table_id: 1, row_ids: vec![1, 5, seed as u64] },
    ]
}

/// How the version-1 golden files were written (kept for the record: this build writes WAL
/// version 2, so it cannot rewrite them).
#[allow(dead_code)]
fn regenerate_v1() {
    let dir = golden("");
    std::fs::create_dir_all(&dir).unwrap();
    let mut writer = ColumnFileWriter::create(&golden("sample.col"), TYPES.to_vec(), Compression::Lz4).unwrap();
    writer.set_column_compression(6, Compression::Zstd).unwrap();
    writer.set_column_compression(0, Compression::None).unwrap();
    writer.write_row_group(&sample_batch(60, 0)).unwrap();
    writer.write_row_group(&sample_batch(40, 60)).unwrap();
    writer.finish().unwrap();
    // (written with the version-1 manifest encoder)
    std::fs::write(golden("MANIFEST"), sample_manifest().encode().unwrap()).unwrap();
    let wal_dir = golden("wal");
    let _ = std::fs::remove_dir_all(&wal_dir);
    let (wal, _) = Wal::open(&wal_dir, WalOptions::default(), Lsn(1), |_| Ok(())).unwrap();
    for seed in 0..3 {
        wal.append_sync(100 + seed as u64, &sample_ops(seed)).unwrap();
    }
}

/// The operations of the version-2 golden WAL: a CREATE, appends and a delete, a DROP.
fn sample_ops_v2() -> Vec<Vec<WalOp>> {
    let manifest = sample_manifest();
    let table = &manifest.tables[0];
    vec![
        vec![WalOp::CreateTable { table_id: 1, schema: table.schema.clone(), compression: Compression::Zstd }],
        sample_ops(0),
        vec![WalOp::DropTable { table_id: 1 }],
    ]
}

fn golden_v3(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/v3").join(name)
}

/// The version-3 golden manifest: deleted ids in a roaring bitmap (single ids and a run,
/// above 2^32 too).
fn sample_manifest_v3() -> Manifest {
    let mut manifest = sample_manifest_v2();
    let table = &mut manifest.tables[0];
    table.next_row = (1 << 33) + 40;
    table.deleted.insert_range(20..50);
    table.deleted.insert(1 << 33);
    table.files[0].runs = vec![(0, 60), (1 << 33, 40)];
    table.files[0].n_rows = 100;
    manifest
}

/// Writes the version-2 golden WAL (only with `UPDATE_GOLDEN=1`; this build writes manifest
/// version 3, so the version-2 manifest stays as it was written) and the version-3 manifest.
fn regenerate_v2() {
    std::fs::create_dir_all(golden_v2("")).unwrap();
    std::fs::create_dir_all(golden_v3("")).unwrap();
    std::fs::write(golden_v3("MANIFEST"), sample_manifest_v3().encode().unwrap()).unwrap();
    let wal_dir = golden_v2("wal");
    let _ = std::fs::remove_dir_all(&wal_dir);
    let (wal, _) = Wal::open(&wal_dir, WalOptions::default(), Lsn(1), |_| Ok(())).unwrap();
    for (idx, ops) in sample_ops_v2().iter().enumerate() {
        wal.append_sync(200 + idx as u64, ops).unwrap();
    }
}

#[test]
fn version_2_files_stay_readable() {
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        regenerate_v2();
    }
    let scratch = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(golden_v2("wal")).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), scratch.path().join(entry.file_name())).unwrap();
    }
    let mut records = Vec::new();
    let (_, report) = Wal::open(scratch.path(), WalOptions::default(), Lsn(1), |rec| {
        records.push(rec);
        Ok(())
    })
    .unwrap();
    assert_eq!((report.last_lsn, report.torn_tail), (Lsn(3), None));
    let manifest_bytes = std::fs::read(golden_v2("MANIFEST")).unwrap();
    assert_eq!(Manifest::decode(&manifest_bytes, &golden_v2("MANIFEST")).unwrap(), sample_manifest_v2());
    let manifest_bytes = std::fs::read(golden_v3("MANIFEST")).unwrap();
    assert_eq!(Manifest::decode(&manifest_bytes, &golden_v3("MANIFEST")).unwrap(), sample_manifest_v3());
    let expected = sample_ops_v2();
    assert_eq!(records.len(), expected.len());
    for (idx, rec) in records.iter().enumerate() {
        assert_eq!((rec.lsn, rec.commit_ts), (Lsn(idx as u64 + 1), 200 + idx as u64));
        match (&rec.ops[..], &expected[idx][..]) {
            (
                [WalOp::CreateTable { table_id: 1, schema, compression: Compression::Zstd }],
                [WalOp::CreateTable { schema: expected_schema, .. }],
            ) => assert_eq!(schema, expected_schema),
            (
                [WalOp::Append { table_id: 1, batch }, WalOp::Delete { table_id: 1, row_ids }],
                [WalOp::Append { batch: expected, .. }, WalOp::Delete { row_ids: expected_ids, .. }],
            ) => {
                assert_batches_equal(expected, batch);
                assert_eq!(row_ids, expected_ids);
            }
            ([WalOp::DropTable { table_id: 1 }], [WalOp::DropTable { .. }]) => {}
            other => panic!("unexpected operations {other:?}"),
        }
    }
}

fn assert_batches_equal(expected: &Batch, actual: &Batch) {
    assert_eq!(expected.n_rows, actual.n_rows);
    for (col_idx, (e, a)) in expected.columns.iter().zip(&actual.columns).enumerate() {
        for row_idx in 0..expected.n_rows {
            // Debug text compares NaN equal to itself.
            let (e, a) = (Value::from_array(e.as_ref(), row_idx), Value::from_array(a.as_ref(), row_idx));
            assert_eq!(format!("{e:?}"), format!("{a:?}"), "column {col_idx}, row {row_idx}");
        }
    }
}

#[test]
fn version_1_files_stay_readable() {
    let file = ColumnFile::open(&golden("sample.col")).unwrap();
    assert_eq!(file.column_types(), &TYPES);
    assert_eq!(file.row_groups().len(), 2);
    let all: Vec<usize> = (0..TYPES.len()).collect();
    assert_batches_equal(&sample_batch(60, 0), &file.read_row_group(0, &all).unwrap());
    assert_batches_equal(&sample_batch(40, 60), &file.read_row_group(1, &all).unwrap());

    let manifest_bytes = std::fs::read(golden("MANIFEST")).unwrap();
    assert_eq!(Manifest::decode(&manifest_bytes, &golden("MANIFEST")).unwrap(), sample_manifest());

    // Recovery may repair files, so replay a copy.
    let scratch = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(golden("wal")).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), scratch.path().join(entry.file_name())).unwrap();
    }
    let mut records = Vec::new();
    let (_, report) = Wal::open(scratch.path(), WalOptions::default(), Lsn(1), |rec| {
        records.push(rec);
        Ok(())
    })
    .unwrap();
    assert_eq!((report.last_lsn, report.torn_tail), (Lsn(3), None));
    for (seed, rec) in records.iter().enumerate() {
        assert_eq!((rec.lsn, rec.commit_ts), (Lsn(seed as u64 + 1), 100 + seed as u64));
        match (&rec.ops[..], &sample_ops(seed as i64)[..]) {
            (
                [WalOp::Append { table_id: 1, batch }, WalOp::Delete { table_id: 1, row_ids }],
                [WalOp::Append { batch: expected, .. }, WalOp::Delete { row_ids: expected_ids, .. }],
            ) => {
                assert_batches_equal(expected, batch);
                assert_eq!(row_ids, expected_ids);
            }
            other => panic!("unexpected operations {other:?}"),
        }
    }
}
