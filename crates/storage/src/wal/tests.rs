//! WAL: replay round trips, torn tails at every cut, damage in older segments, group commit,
//! sync modes, rotation and segment removal, version mismatch.

use super::*;
use crate::batch::Batch;
use crate::types::DataType;
use crate::value::{values_to_array, Value};
use proptest::prelude::*;

fn batch(seed: i64, n_rows: usize) -> Batch {
    let ints: Vec<Value> = (0..n_rows as i64)
        .map(|i| if (i + seed) % 7 == 0 { Value::Null } else { Value::BigInt(seed * 1000 + i) })
        .collect();
    let texts: Vec<Value> = (0..n_rows).map(|i| Value::Text(format!("row {i} of {seed}"))).collect();
    let prices: Vec<Value> = (0..n_rows).map(|i| Value::Double((i as f64) * 0.25 + seed as f64)).collect();
    Batch::new(vec![
        values_to_array(DataType::BigInt, &ints),
        values_to_array(DataType::Text, &texts),
        values_to_array(DataType::Double, &prices),
    ])
}

fn ops(seed: i64) -> Vec<WalOp> {
    vec![
        WalOp::Append { table_id: seed as u64 % 3, batch: batch(seed, (seed as usize % 5) + 1) },
        WalOp::Delete { table_id: 9, row_ids: vec![seed as u64, u64::MAX, 0] },
    ]
}

fn open(dir: &Path, options: WalOptions, from: Lsn) -> (Wal, Vec<WalRecord>, RecoveryReport) {
    let mut records = Vec::new();
    let (wal, report) = Wal::open(dir, options, from, |rec| {
        records.push(rec);
        Ok(())
    })
    .unwrap();
    (wal, records, report)
}

/// Tests that reopen logs many times skip the per-commit fsync.
fn fast() -> WalOptions {
    WalOptions { sync_mode: SyncMode::Normal, ..WalOptions::default() }
}

fn assert_ops_equal(expected: &[WalOp], actual: &[WalOp]) {
    assert_eq!(expected.len(), actual.len());
    for (e, a) in expected.iter().zip(actual) {
        match (e, a) {
            (WalOp::Append { table_id: t1, batch: b1 }, WalOp::Append { table_id: t2, batch: b2 }) => {
                assert_eq!(t1, t2);
                assert_eq!(b1.n_rows, b2.n_rows);
                for (c1, c2) in b1.columns.iter().zip(&b2.columns) {
                    assert_eq!(c1.as_ref(), c2.as_ref());
                }
            }
            (WalOp::Delete { table_id: t1, row_ids: r1 }, WalOp::Delete { table_id: t2, row_ids: r2 }) => {
                assert_eq!((t1, r1), (t2, r2));
            }
            _ => panic!("operation kinds differ"),
        }
    }
}

/// The segment file of a single-segment log, and the offsets where each record starts.
fn record_offsets(path: &Path) -> Vec<usize> {
    let bytes = std::fs::read(path).unwrap();
    let first = match segment::check_header(&bytes) {
        Ok((first, _)) => first,
        Err(_) => panic!("bad header"),
    };
    let (records, stop) = segment::scan(&bytes, first);
    assert!(stop.is_none());
    records.iter().map(|r| r.offset).collect()
}

#[test]
fn append_replay_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    {
        let (wal, records, report) = open(dir.path(), WalOptions::default(), Lsn(1));
        assert!(records.is_empty());
        assert_eq!(report, RecoveryReport { last_lsn: Lsn::ZERO, n_replayed: 0, torn_tail: None });
        for seed in 0..20 {
            assert_eq!(wal.append_sync(seed as u64 + 100, &ops(seed)).unwrap(), Lsn(seed as u64 + 1));
        }
        // An empty commit and an empty batch are records too.
        wal.append_sync(7, &[]).unwrap();
        let empty = WalOp::Append { table_id: 1, batch: Batch::empty_with_rows(3) };
        wal.append_sync(8, std::slice::from_ref(&empty)).unwrap();
        assert_eq!(wal.durable_lsn(), Lsn(22));
    }
    let (wal, records, report) = open(dir.path(), WalOptions::default(), Lsn(1));
    assert_eq!((report.last_lsn, report.n_replayed, report.torn_tail), (Lsn(22), 22, None));
    for (seed, rec) in records.iter().take(20).enumerate() {
        assert_eq!((rec.lsn, rec.commit_ts), (Lsn(seed as u64 + 1), seed as u64 + 100));
        assert_ops_equal(&ops(seed as i64), &rec.ops);
    }
    assert!(records[20].ops.is_empty());
    match &records[21].ops[..] {
        [WalOp::Append { batch, .. }] => assert_eq!((batch.n_rows, batch.columns.len()), (3, 0)),
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(wal.next_lsn().unwrap(), Lsn(23));
    drop(wal);
    // Replaying from a checkpoint skips older records.
    let (_, records, report) = open(dir.path(), WalOptions::default(), Lsn(15));
    assert_eq!(records.first().map(|r| r.lsn), Some(Lsn(15)));
    assert_eq!(report.n_replayed, 8);
}

#[test]
fn torn_tail_is_truncated_at_every_cut() {
    let dir = tempfile::tempdir().unwrap();
    let master = dir.path().join("master");
    {
        let (wal, _, _) = open(&master, fast(), Lsn(1));
        for seed in 0..4 {
            wal.append_sync(seed as u64, &ops(seed)).unwrap();
        }
    }
    let segment_path = segment::list_segments(&master).unwrap().pop().unwrap().1;
    let good = std::fs::read(&segment_path).unwrap();
    let offsets = record_offsets(&segment_path);
    let last_start = offsets[3];
    for cut in last_start..good.len() {
        let case = dir.path().join(format!("cut{cut}"));
        std::fs::create_dir(&case).unwrap();
        let name = segment_path.file_name().unwrap();
        std::fs::write(case.join(name), &good[..cut]).unwrap();
        let (wal, records, report) = open(&case, fast(), Lsn(1));
        assert_eq!(records.len(), 3);
        if cut == last_start {
            assert_eq!(report.torn_tail, None);
        } else {
            let torn = report.torn_tail.expect("torn tail reported");
            assert_eq!(
                (torn.truncated_at, torn.dropped_bytes, torn.last_good_lsn),
                (last_start as u64, (cut - last_start) as u64, Lsn(3))
            );
        }
        assert_eq!(std::fs::metadata(case.join(name)).unwrap().len(), last_start as u64);
        // The log continues where the good records end.
        assert_eq!(wal.append_sync(99, &ops(99)).unwrap(), Lsn(4));
        drop(wal);
        let (_, records, report) = open(&case, fast(), Lsn(1));
        assert_eq!((records.len(), report.torn_tail), (4, None));
        assert_ops_equal(&ops(99), &records[3].ops);
        std::fs::remove_dir_all(&case).unwrap();
    }
}

#[test]
fn damaged_record_in_last_segment_cuts_there() {
    let dir = tempfile::tempdir().unwrap();
    {
        let (wal, _, _) = open(dir.path(), WalOptions::default(), Lsn(1));
        for seed in 0..5 {
            wal.append_sync(seed as u64, &ops(seed)).unwrap();
        }
    }
    let path = segment::list_segments(dir.path()).unwrap().pop().unwrap().1;
    let offsets = record_offsets(&path);
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[offsets[2] + 20] ^= 0x40;
    std::fs::write(&path, &bytes).unwrap();
    let (_, records, report) = open(dir.path(), WalOptions::default(), Lsn(1));
    assert_eq!(records.len(), 2);
    let torn = report.torn_tail.unwrap();
    assert_eq!((torn.segment, torn.truncated_at, torn.last_good_lsn), (path, offsets[2] as u64, Lsn(2)));
    assert!(torn.reason.contains("checksum"), "{}", torn.reason);
}

fn small_segments() -> WalOptions {
    WalOptions { segment_bytes: 1024, ..WalOptions::default() }
}

#[test]
fn rotation_replay_and_segment_removal() {
    let dir = tempfile::tempdir().unwrap();
    {
        let (wal, _, _) = open(dir.path(), small_segments(), Lsn(1));
        for seed in 0..30 {
            wal.append_sync(seed as u64, &ops(seed)).unwrap();
        }
        assert!(wal.segments().unwrap().len() > 3);
    }
    let (wal, records, report) = open(dir.path(), small_segments(), Lsn(1));
    assert_eq!((records.len(), report.last_lsn), (30, Lsn(30)));
    let before = wal.segments().unwrap().len();
    let removed = wal.remove_segments_through(Lsn(20)).unwrap();
    assert!(removed > 0 && removed < before);
    assert_eq!(segment::list_segments(dir.path()).unwrap().len(), before - removed);
    wal.append_sync(30, &ops(30)).unwrap();
    drop(wal);
    // Records after the checkpoint are all still there.
    let (wal, records, _) = open(dir.path(), small_segments(), Lsn(21));
    assert_eq!(records.iter().map(|r| r.lsn.0).collect::<Vec<_>>(), (21..=31).collect::<Vec<_>>());
    // Removing everything keeps the current segment, and numbering continues.
    wal.rotate().unwrap();
    wal.remove_segments_through(Lsn(31)).unwrap();
    assert_eq!(wal.segments().unwrap().len(), 1);
    drop(wal);
    let (wal, records, _) = open(dir.path(), small_segments(), Lsn(32));
    assert!(records.is_empty());
    assert_eq!(wal.append(1, &[]).unwrap(), Lsn(32));
}

#[test]
fn damage_in_an_older_segment_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    {
        let (wal, _, _) = open(dir.path(), small_segments(), Lsn(1));
        for seed in 0..20 {
            wal.append_sync(seed as u64, &ops(seed)).unwrap();
        }
    }
    let segments = segment::list_segments(dir.path()).unwrap();
    let path = &segments[0].1;
    let offsets = record_offsets(path);
    let mut bytes = std::fs::read(path).unwrap();
    bytes[offsets[1] + 13] ^= 1;
    std::fs::write(path, &bytes).unwrap();
    match Wal::open(dir.path(), small_segments(), Lsn(1), |_| Ok(())) {
        Err(StorageError::Corrupted { path: p, offset, .. }) => assert_eq!((&p, offset), (path, offsets[1] as u64)),
        other => panic!("expected Corrupted, got {other:?}"),
    }
    // A missing middle segment is corruption too.
    std::fs::write(path, segment::header(segments[0].0)).unwrap();
    std::fs::remove_file(&segments[1].1).unwrap();
    assert!(matches!(Wal::open(dir.path(), small_segments(), Lsn(1), |_| Ok(())), Err(StorageError::Corrupted { .. })));
}

#[test]
fn incomplete_new_segment_is_removed() {
    let dir = tempfile::tempdir().unwrap();
    {
        let (wal, _, _) = open(dir.path(), WalOptions::default(), Lsn(1));
        wal.append_sync(1, &ops(1)).unwrap();
    }
    // A crash right after creating the next segment's file.
    let stray = dir.path().join(segment::segment_name(Lsn(2)));
    std::fs::write(&stray, &segment::header(Lsn(2))[..10]).unwrap();
    let (wal, records, report) = open(dir.path(), WalOptions::default(), Lsn(1));
    assert_eq!(records.len(), 1);
    let torn = report.torn_tail.unwrap();
    assert_eq!((torn.segment, torn.truncated_at, torn.dropped_bytes), (stray.clone(), 0, 10));
    assert!(!stray.exists());
    assert_eq!(wal.append_sync(2, &ops(2)).unwrap(), Lsn(2));
}

#[test]
fn other_version_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    drop(open(dir.path(), WalOptions::default(), Lsn(1)).0);
    let path = segment::list_segments(dir.path()).unwrap().pop().unwrap().1;
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[8..12].copy_from_slice(&7u32.to_le_bytes());
    let crc = crate::checksum::crc32(&bytes[..24]);
    bytes[24..28].copy_from_slice(&crc.to_le_bytes());
    std::fs::write(&path, &bytes).unwrap();
    let err = Wal::open(dir.path(), WalOptions::default(), Lsn(1), |_| Ok(())).unwrap_err();
    assert!(matches!(err, StorageError::UnsupportedVersion { found: 7, supported: WAL_FORMAT_VERSION, .. }), "{err}");
}

#[test]
fn wal_is_shareable_between_committers() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Wal>();
    assert_send_sync::<WalRecord>();
}

#[test]
fn group_commit_shares_fsyncs() {
    let dir = tempfile::tempdir().unwrap();
    let (wal, _, _) = open(dir.path(), WalOptions::default(), Lsn(1));
    let n_threads = 8;
    let per_thread = 25;
    let lsns: Vec<Vec<Lsn>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..n_threads)
            .map(|t| {
                let wal = &wal;
                scope.spawn(move || {
                    (0..per_thread).map(|i| wal.append_sync(t * 1000 + i, &ops(i as i64)).unwrap()).collect::<Vec<_>>()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut all: Vec<u64> = lsns.into_iter().flatten().map(|l| l.0).collect();
    all.sort_unstable();
    assert_eq!(all, (1..=(n_threads * per_thread)).collect::<Vec<_>>());
    let stats = wal.stats();
    assert_eq!(stats.n_appends, n_threads * per_thread);
    assert!(stats.n_fsyncs <= stats.n_appends);
    drop(wal);
    let (_, records, _) = open(dir.path(), WalOptions::default(), Lsn(1));
    assert_eq!(records.len() as u64, n_threads * per_thread);
}

#[test]
fn sync_modes() {
    let dir = tempfile::tempdir().unwrap();
    for mode in [SyncMode::Full, SyncMode::Normal, SyncMode::Off] {
        let sub = dir.path().join(format!("{mode:?}"));
        let options = WalOptions { sync_mode: mode, ..WalOptions::default() };
        let (wal, _, _) = open(&sub, options, Lsn(1));
        let lsn = wal.append(1, &ops(1)).unwrap();
        wal.sync_to(lsn).unwrap();
        let segment_len = || std::fs::metadata(&wal.segments().unwrap()[0]).unwrap().len();
        match mode {
            SyncMode::Full => assert_eq!((wal.stats().n_fsyncs, wal.durable_lsn()), (1, lsn)),
            SyncMode::Normal => assert_eq!((wal.stats().n_fsyncs, wal.durable_lsn()), (0, lsn)),
            SyncMode::Off => assert_eq!(segment_len(), HEADER_LEN as u64),
        }
        assert!(wal.sync_to(Lsn(5)).is_err(), "syncing past the end is a caller bug");
        assert_eq!(wal.sync_all().unwrap(), lsn);
        assert!(segment_len() > HEADER_LEN as u64);
        wal.append(2, &ops(2)).unwrap();
        drop(wal);
        // Dropping writes what was buffered.
        let (_, records, _) = open(&sub, options, Lsn(1));
        assert_eq!(records.len(), 2);
    }
}

#[test]
fn long_columns_are_split_into_pieces() {
    let n_rows = crate::encoding::MAX_CHUNK_ROWS + 10;
    let ids: Vec<u64> = (0..n_rows as u64).collect();
    let column = arrow::array::PrimitiveArray::<i64>::from_vec((0..n_rows as i64).collect()).boxed();
    let op = vec![
        WalOp::Append { table_id: 1, batch: Batch::new(vec![column]) },
        WalOp::Delete { table_id: 1, row_ids: ids },
    ];
    let payload = record::encode_payload(5, &op, Compression::Lz4).unwrap();
    let (ts, back) = record::decode_payload(&payload, WAL_FORMAT_VERSION).unwrap();
    assert_eq!(ts, 5);
    assert_ops_equal(&op, &back);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn prop_garbage_after_good_records_is_cut(garbage in prop::collection::vec(any::<u8>(), 1..300)) {
        let dir = tempfile::tempdir().unwrap();
        {
            let (wal, _, _) = open(dir.path(), fast(), Lsn(1));
            wal.append_sync(1, &ops(1)).unwrap();
            wal.append_sync(2, &ops(2)).unwrap();
        }
        let path = segment::list_segments(dir.path()).unwrap().pop().unwrap().1;
        let good_len = std::fs::metadata(&path).unwrap().len();
        let mut bytes = std::fs::read(&path).unwrap();
        bytes.extend_from_slice(&garbage);
        std::fs::write(&path, &bytes).unwrap();
        let (_, records, report) = open(dir.path(), fast(), Lsn(1));
        prop_assert_eq!(records.len(), 2);
        prop_assert_eq!(report.torn_tail.map(|t| t.truncated_at), Some(good_len));
    }

    #[test]
    fn prop_random_payloads_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let _ = record::decode_payload(&bytes, WAL_FORMAT_VERSION);
    }
}

#[test]
fn catalog_operations_round_trip() {
    use crate::schema::{ColumnDef, TableSchema};
    let dir = tempfile::tempdir().unwrap();
    let schema = TableSchema {
        name: "événements".into(),
        columns: vec![
            ColumnDef { name: "id".into(), data_type: DataType::BigInt, nullable: false },
            ColumnDef { name: "note".into(), data_type: DataType::Text, nullable: true },
        ],
        primary_key: vec![0],
    };
    let (wal, _, _) = open(dir.path(), fast(), Lsn(1));
    let create = vec![WalOp::CreateTable { table_id: 7, schema: schema.clone(), compression: Compression::Zstd }];
    wal.append_sync(1, &create).unwrap();
    // Encoding outside the lock, appending later with the timestamp.
    let record = wal.encode(&[WalOp::DropTable { table_id: 7 }]).unwrap();
    assert!(!record.is_empty());
    let lsn = wal.append_encoded(2, record).unwrap();
    wal.sync_to_mode(lsn, SyncMode::Off).unwrap();
    wal.flush(true).unwrap();
    assert_eq!(wal.synced_lsn(), lsn);
    drop(wal);
    let (_, records, _) = open(dir.path(), fast(), Lsn(1));
    assert_eq!(records.len(), 2);
    match (&records[0].ops[..], &records[1].ops[..]) {
        (
            [WalOp::CreateTable { table_id: 7, schema: back, compression: Compression::Zstd }],
            [WalOp::DropTable { table_id: 7 }],
        ) => assert_eq!(back, &schema),
        other => panic!("{other:?}"),
    }
    assert_eq!((records[0].commit_ts, records[1].commit_ts), (1, 2));
}

#[test]
fn per_commit_sync_modes_and_flush() {
    let dir = tempfile::tempdir().unwrap();
    let (wal, _, _) = open(dir.path(), WalOptions::default(), Lsn(1));
    let lsn = wal.append(1, &ops(1)).unwrap();
    wal.sync_to_mode(lsn, SyncMode::Off).unwrap();
    assert_eq!((wal.written_lsn(), wal.synced_lsn()), (Lsn(0), Lsn(0)));
    wal.sync_to_mode(lsn, SyncMode::Normal).unwrap();
    assert_eq!((wal.written_lsn(), wal.synced_lsn(), wal.stats().n_fsyncs), (lsn, Lsn(0), 0));
    wal.flush(true).unwrap();
    assert_eq!((wal.synced_lsn(), wal.stats().n_fsyncs), (lsn, 1));
    wal.flush(true).unwrap();
    assert_eq!(wal.stats().n_fsyncs, 1, "nothing new: no fsync");
    let lsn = wal.append(2, &ops(2)).unwrap();
    wal.sync_to_mode(lsn, SyncMode::Full).unwrap();
    assert_eq!((wal.synced_lsn(), wal.stats().n_fsyncs), (lsn, 2));
    assert_eq!(SyncMode::from_name("NORMAL"), Some(SyncMode::Normal));
    assert_eq!(SyncMode::from_name("sometimes"), None);
    assert_eq!(SyncMode::Off.name(), "off");
}

#[test]
fn version_1_segment_is_continued_in_a_new_segment() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/v1/wal/wal-00000000000000000001.log"),
        dir.path().join("wal-00000000000000000001.log"),
    )
    .unwrap();
    let (wal, records, _) = open(dir.path(), fast(), Lsn(1));
    assert_eq!(records.len(), 3);
    wal.append_sync(9, &[WalOp::DropTable { table_id: 1 }]).unwrap();
    assert_eq!(wal.segments().unwrap().len(), 2, "a v2 record never goes into a v1 segment");
    drop(wal);
    let (_, records, _) = open(dir.path(), fast(), Lsn(1));
    assert_eq!(records.len(), 4);
    assert!(matches!(records[3].ops[..], [WalOp::DropTable { table_id: 1 }]));
}
