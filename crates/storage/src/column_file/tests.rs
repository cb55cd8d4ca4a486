//! Column files: round trips with projections and zone maps, per-column compression, version
//! and magic checks, and damage anywhere in the file caught as `Corrupted`.

use super::*;
use crate::batch::{ArrayRef, Batch};
use crate::compression::Compression;
use crate::error::StorageError;
use arrow::array::{BooleanArray, Float64Array, Int32Array, PrimitiveArray, Utf8Array};
use arrow::datatypes::{DataType as ArrowType, TimeUnit};
use std::path::{Path, PathBuf};

const TYPES: [DataType; 5] =
    [DataType::Timestamp, DataType::Text, DataType::Double, DataType::Integer, DataType::Boolean];

fn sample(n_rows: usize) -> Batch {
    let ts: Vec<i64> = (0..n_rows as i64).map(|i| 1_700_000_000_000_000 + i * 250_000).collect();
    let region: Vec<Option<&str>> =
        (0..n_rows).map(|i| if i % 17 == 0 { None } else { Some(["eu", "us", "apac", "latam"][i % 4]) }).collect();
    let price: Vec<f64> = (0..n_rows).map(|i| ((i * 7919) % 100_000) as f64 / 100.0).collect();
    let qty: Vec<Option<i32>> =
        (0..n_rows).map(|i| if i % 5 == 0 { None } else { Some((i * 31 % 1000) as i32) }).collect();
    let flag: Vec<bool> = (0..n_rows).map(|i| i % 3 == 0).collect();
    let columns: Vec<ArrayRef> = vec![
        PrimitiveArray::<i64>::from_vec(ts).to(ArrowType::Timestamp(TimeUnit::Microsecond, None)).boxed(),
        Utf8Array::<i32>::from(region).boxed(),
        Float64Array::from_vec(price).boxed(),
        Int32Array::from(qty).boxed(),
        BooleanArray::from_slice(flag).boxed(),
    ];
    Batch::new(columns)
}

fn write(path: &Path, batch: &Batch, compression: Compression) -> ColumnFileSummary {
    let mut writer = ColumnFileWriter::create(path, TYPES.to_vec(), compression).unwrap();
    writer.write_batch(batch).unwrap();
    writer.finish().unwrap()
}

fn assert_batches_equal(expected: &Batch, actual: &Batch) {
    assert_eq!(expected.n_rows, actual.n_rows);
    assert_eq!(expected.columns.len(), actual.columns.len());
    for (e, a) in expected.columns.iter().zip(&actual.columns) {
        assert_eq!(e.as_ref(), a.as_ref());
    }
}

fn corrupted_at(err: StorageError) -> (PathBuf, u64) {
    match err {
        StorageError::Corrupted { path, offset, .. } => (path, offset),
        other => panic!("expected Corrupted, got {other}"),
    }
}

#[test]
fn round_trip_with_projection_and_zone_maps() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t1.col");
    let n_rows = 2 * DEFAULT_ROW_GROUP_ROWS + 1234;
    let batch = sample(n_rows);
    let summary = write(&path, &batch, Compression::Lz4);
    assert_eq!(summary.n_rows, n_rows as u64);
    assert_eq!(summary.n_row_groups, 3);
    assert_eq!(summary.size_bytes, std::fs::metadata(&path).unwrap().len());
    assert!(!crate::fsutil::temp_path(&path).exists());

    let file = ColumnFile::open(&path).unwrap();
    assert_eq!(file.column_types(), &TYPES);
    assert_eq!(file.n_rows(), n_rows as u64);
    let mut offset = 0;
    for (rg_idx, rg) in file.row_groups().iter().enumerate() {
        let expected = batch.slice(offset, rg.n_rows as usize);
        assert_batches_equal(&expected, &file.read_row_group(rg_idx, &[0, 1, 2, 3, 4]).unwrap());
        assert_batches_equal(&expected.project(&[3, 1]), &file.read_row_group(rg_idx, &[3, 1]).unwrap());
        let nothing = file.read_row_group(rg_idx, &[]).unwrap();
        assert_eq!((nothing.n_rows, nothing.columns.len()), (rg.n_rows as usize, 0));
        for col_idx in 0..TYPES.len() {
            assert_eq!(file.zone_map(rg_idx, col_idx).unwrap(), &ZoneMap::compute(expected.column(col_idx)));
        }
        offset += rg.n_rows as usize;
    }
    // Encodings follow the data: sorted timestamps delta, regions a dictionary, cents scaled.
    let encodings: Vec<Encoding> = file.row_groups()[0].chunks.iter().map(|c| c.encoding).collect();
    assert_eq!(&encodings[..3], &[Encoding::Delta, Encoding::Dictionary, Encoding::ScaledDecimal]);
    assert!(file.zone_map(3, 0).is_none());
    assert!(matches!(file.read_row_group(3, &[0]), Err(StorageError::Invalid(_))));
    assert!(matches!(file.read_column(0, 9), Err(StorageError::Invalid(_))));
}

#[test]
fn files_are_shareable_between_workers() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<ColumnFile>();
}

#[test]
fn per_column_compression_and_empty_files() {
    let dir = tempfile::tempdir().unwrap();
    let batch = sample(5000);
    let mut sizes = Vec::new();
    for compression in [Compression::None, Compression::Lz4, Compression::Zstd] {
        let path = dir.path().join(format!("{}.col", compression.name()));
        sizes.push(write(&path, &batch, compression).size_bytes);
        assert_batches_equal(&batch, &ColumnFile::open(&path).unwrap().read_row_group(0, &[0, 1, 2, 3, 4]).unwrap());
    }
    assert!(sizes[2] <= sizes[0], "zstd {} vs none {}", sizes[2], sizes[0]);

    let path = dir.path().join("mixed.col");
    let mut writer = ColumnFileWriter::create(&path, TYPES.to_vec(), Compression::Lz4).unwrap();
    writer.set_column_compression(1, Compression::Zstd).unwrap();
    writer.set_column_compression(2, Compression::None).unwrap();
    assert!(writer.set_column_compression(5, Compression::None).is_err());
    writer.write_row_group(&batch).unwrap();
    writer.write_row_group(&batch.slice(0, 0)).unwrap();
    writer.finish().unwrap();
    let file = ColumnFile::open(&path).unwrap();
    assert_batches_equal(&batch, &file.read_row_group(0, &[0, 1, 2, 3, 4]).unwrap());
    assert_eq!(file.read_row_group(1, &[1]).unwrap().n_rows, 0);

    let path = dir.path().join("empty.col");
    let summary = ColumnFileWriter::create(&path, vec![DataType::Integer], Compression::Lz4).unwrap().finish().unwrap();
    assert_eq!((summary.n_rows, summary.n_row_groups), (0, 0));
    let file = ColumnFile::open(&path).unwrap();
    assert_eq!(file.n_rows(), 0);
    assert_eq!(file.column_types(), &[DataType::Integer]);
}

#[test]
fn writer_rejects_mismatched_batches_and_cleans_up() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.col");
    let mut writer = ColumnFileWriter::create(&path, vec![DataType::Integer], Compression::Lz4).unwrap();
    let wrong_type = Batch::new(vec![Float64Array::from_slice([1.0]).boxed()]);
    assert!(matches!(writer.write_row_group(&wrong_type), Err(StorageError::Invalid(_))));
    let wrong_width = sample(3);
    assert!(matches!(writer.write_row_group(&wrong_width), Err(StorageError::Invalid(_))));
    assert!(crate::fsutil::temp_path(&path).exists());
    assert!(!path.exists());
    drop(writer);
    assert!(!crate::fsutil::temp_path(&path).exists());
    assert!(!path.exists());
}

#[test]
fn other_versions_and_foreign_files_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v.col");
    write(&path, &sample(100), Compression::Lz4);
    let good = std::fs::read(&path).unwrap();

    let mut future = good.clone();
    future[8..12].copy_from_slice(&2u32.to_le_bytes());
    std::fs::write(&path, &future).unwrap();
    match ColumnFile::open(&path) {
        Err(StorageError::UnsupportedVersion { found: 2, supported: FORMAT_VERSION, path: p }) => assert_eq!(p, path),
        other => panic!("expected UnsupportedVersion, got {other:?}"),
    }
    let message = ColumnFile::open(&path).unwrap_err().to_string();
    assert!(message.contains("format version 2") && message.contains("v.col"), "{message}");

    std::fs::write(&path, b"PAR1 definitely not ours").unwrap();
    assert_eq!(corrupted_at(ColumnFile::open(&path).unwrap_err()), (path.clone(), 0));
    std::fs::write(&path, b"").unwrap();
    assert_eq!(corrupted_at(ColumnFile::open(&path).unwrap_err()).1, 0);
}

#[test]
fn damaged_chunk_names_file_and_offset() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("d.col");
    write(&path, &sample(1000), Compression::Lz4);
    let chunk = ColumnFile::open(&path).unwrap().row_groups()[0].chunks[2].clone();
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[chunk.offset as usize + chunk.len as usize / 2] ^= 0x10;
    std::fs::write(&path, &bytes).unwrap();
    let file = ColumnFile::open(&path).unwrap();
    // Other columns still read; the damaged one is an error at its offset.
    file.read_column(0, 1).unwrap();
    let err = file.read_column(0, 2).unwrap_err();
    assert!(err.to_string().contains("d.col"), "{err}");
    assert_eq!(corrupted_at(err), (path, chunk.offset));
}

/// Every single-byte change and every truncation of a small file is reported as an error by
/// `open` or by reading all of it: nothing in the file is unchecked.
#[test]
fn every_byte_flip_and_truncation_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f.col");
    let batch = sample(60);
    let mut writer = ColumnFileWriter::create(&path, TYPES.to_vec(), Compression::Lz4).unwrap();
    writer.write_row_group(&batch.slice(0, 40)).unwrap();
    writer.write_row_group(&batch.slice(40, 20)).unwrap();
    writer.finish().unwrap();
    let good = std::fs::read(&path).unwrap();
    let read_all = |path: &Path| -> Result<(), StorageError> {
        let file = ColumnFile::open(path)?;
        for rg_idx in 0..file.row_groups().len() {
            file.read_row_group(rg_idx, &[0, 1, 2, 3, 4])?;
        }
        Ok(())
    };
    read_all(&path).unwrap();
    // A fresh name per case: rewriting one file in place makes ext4 flush on every close.
    let check_damaged = |name: String, bytes: &[u8]| {
        let damaged = dir.path().join(name);
        std::fs::write(&damaged, bytes).unwrap();
        let res = read_all(&damaged);
        std::fs::remove_file(&damaged).unwrap();
        res.is_err()
    };
    for pos in 0..good.len() {
        let mut bytes = good.clone();
        bytes[pos] ^= 0x01 << (pos % 8);
        assert!(check_damaged(format!("flip{pos}"), &bytes), "flip at byte {pos} of {} went unnoticed", good.len());
    }
    for len in 0..good.len() {
        assert!(check_damaged(format!("cut{len}"), &good[..len]), "truncation to {len} bytes went unnoticed");
    }
}

mod fuzz {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]
        #[test]
        fn prop_random_files_never_panic(tail in prop::collection::vec(any::<u8>(), 0..400), keep_header in any::<bool>()) {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("r.col");
            let mut bytes = Vec::new();
            if keep_header {
                bytes.extend_from_slice(&MAGIC);
                bytes.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
                bytes.extend_from_slice(&0u32.to_le_bytes());
            }
            bytes.extend_from_slice(&tail);
            if keep_header {
                bytes.extend_from_slice(&MAGIC);
            }
            std::fs::write(&path, &bytes).unwrap();
            if let Ok(file) = ColumnFile::open(&path) {
                for rg_idx in 0..file.row_groups().len() {
                    let _ = file.read_row_group(rg_idx, &(0..file.column_types().len()).collect::<Vec<_>>());
                }
            }
        }
    }
}
