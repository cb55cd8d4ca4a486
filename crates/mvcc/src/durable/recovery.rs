//! Opening a database directory: lock it, load the manifest and map its column files, replay
//! the WAL after the checkpoint, clean up what a crashed checkpoint left behind.

use super::stored::{PartData, StoredFile};
use super::{background, Durable, DurableOptions, KeyEncoder};
use crate::catalog::Catalog;
use crate::table::{Segment, Table};
use crate::timestamp::Timestamp;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use storage::dir_lock::{DirLock, LOCK_FILE};
use storage::manifest::TableEntry;
use storage::manifest::MANIFEST_FILE;
use storage::wal::{RecoveryReport, TornTail};
use storage::{Batch, ColumnFile, Compression, Manifest, StorageError, Wal, WalOp, WalOptions, WalRecord};

type Result<T, E = StorageError> = std::result::Result<T, E>;

/// The WAL's directory inside a database directory.
pub const WAL_DIR: &str = "wal";

/// What opening a database found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecoveryInfo {
    /// Whether the directory was created (or was empty) rather than opened.
    pub created: bool,
    pub tables: usize,
    pub column_files: usize,
    pub rows_in_files: u64,
    /// The WAL position the manifest's files cover.
    pub checkpoint_lsn: u64,
    /// WAL records (commits, CREATE, DROP) replayed after the checkpoint.
    pub replayed_records: usize,
    pub replayed_rows: u64,
    /// Where a torn or damaged WAL tail was cut (the commits in it were never acknowledged
    /// as durable, unless written with durability off or normal before a machine crash).
    pub torn_tail: Option<TornTail>,
    /// Files a crashed checkpoint left behind, removed.
    pub removed_files: Vec<PathBuf>,
}

impl RecoveryInfo {
    /// A one-line warning when recovery had to cut the WAL.
    pub fn warning(&self) -> Option<String> {
        self.torn_tail.as_ref().map(|t| {
            format!(
                "recovery cut a damaged WAL tail: {} truncated at byte {} ({} bytes dropped, {}); the last intact record is LSN {}",
                t.segment.display(),
                t.truncated_at,
                t.dropped_bytes,
                t.reason,
                t.last_good_lsn.0
            )
        })
    }
}

/// Opens (or creates) the database in `dir` and returns its catalog, recovered.
///
/// `keys` encodes primary keys, to rebuild each table's key index from its files and the
/// replayed WAL.
pub fn open(dir: &Path, options: DurableOptions, keys: KeyEncoder) -> Result<Arc<Catalog>> {
    match std::fs::metadata(dir) {
        Ok(meta) if !meta.is_dir() => {
            return Err(StorageError::NotADatabase {
                path: dir.to_path_buf(),
                reason: "it is a file; a database is a directory".into(),
            })
        }
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(dir).map_err(|e| StorageError::io(dir, e))?;
        }
        Err(e) => return Err(StorageError::io(dir, e)),
    }
    let lock = DirLock::acquire(dir, Duration::from_secs(2))?;
    let mut info = RecoveryInfo::default();
    let manifest = match Manifest::load(dir)? {
        Some(manifest) => manifest,
        None => {
            let others = dir_entries(dir)?.into_iter().filter(|name| name != LOCK_FILE).collect::<Vec<_>>();
            if !others.is_empty() {
                let reason = if others.iter().any(|n| n == WAL_DIR || n.ends_with(".col")) {
                    format!("its {MANIFEST_FILE} is missing")
                } else {
                    format!("it has no {MANIFEST_FILE} but holds other files ({})", others.join(", "))
                };
                return Err(StorageError::NotADatabase { path: dir.to_path_buf(), reason });
            }
            let mut manifest = Manifest { next_table_id: 1, next_file_id: 1, ..Manifest::default() };
            manifest.store(dir)?;
            info.created = true;
            manifest
        }
    };

    let catalog = Catalog::new();
    catalog.reserve_table_ids(manifest.next_table_id.saturating_sub(1));
    let mut by_id: HashMap<u64, Arc<Table>> = HashMap::new();
    for entry in &manifest.tables {
        let table = restore_table(dir, entry, &keys, &mut info)?;
        by_id.insert(entry.table_id, table.clone());
        catalog.restore_table(table);
    }

    let wal_options = WalOptions {
        sync_mode: options.durability,
        segment_bytes: options.wal_segment_bytes,
        compression: Compression::None,
    };
    let wal_dir = dir.join(WAL_DIR);
    let mut replayed_rows = 0u64;
    let catalog_ref = &catalog;
    let (wal, report) = Wal::open(&wal_dir, wal_options, manifest.checkpoint_lsn.next(), |record| {
        replayed_rows += replay(catalog_ref, &mut by_id, &keys, &wal_dir, record)?;
        Ok(())
    })?;
    let RecoveryReport { n_replayed, torn_tail, .. } = report;
    // A crash between a checkpoint's manifest swap and its WAL cleanup leaves old segments.
    wal.remove_segments_through(manifest.checkpoint_lsn)?;
    info.removed_files = remove_strays(dir, &manifest)?;
    info.tables = catalog.table_names().len();
    info.checkpoint_lsn = manifest.checkpoint_lsn.0;
    info.replayed_records = n_replayed;
    info.replayed_rows = replayed_rows;
    info.torn_tail = torn_tail;

    let durable = Durable {
        dir: dir.to_path_buf(),
        wal,
        options,
        manifest: Mutex::new(manifest),
        wal_bytes: AtomicU64::new(0),
        tail_rows: AtomicU64::new(replayed_rows),
        recovery: info,
        background: Mutex::new(None),
        background_error: Mutex::new(None),
        _lock: lock,
    };
    if catalog.durable.set(Arc::new(durable)).is_err() {
        return Err(StorageError::Invalid("catalog already durable".into()));
    }
    let handle = background::start(&catalog).map_err(|e| StorageError::io(dir, e))?;
    if let Some(durable) = catalog.durable() {
        *durable.background.lock().unwrap_or_else(|p| p.into_inner()) = handle;
    }
    Ok(catalog)
}

fn dir_entries(dir: &Path) -> Result<Vec<String>> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| StorageError::io(dir, e))? {
        let entry = entry.map_err(|e| StorageError::io(dir, e))?;
        names.push(entry.file_name().to_string_lossy().into_owned());
    }
    names.sort();
    Ok(names)
}

/// Maps a column file the manifest lists, with a clear error when it is missing or has
/// another size than the manifest recorded.
fn open_listed_file(path: &Path, size_bytes: u64) -> Result<ColumnFile> {
    let actual = match std::fs::metadata(path) {
        Ok(meta) => meta.len(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(StorageError::corrupted(path, 0, format!("column file listed in {MANIFEST_FILE} is missing")))
        }
        Err(e) => return Err(StorageError::io(path, e)),
    };
    if actual != size_bytes {
        return Err(StorageError::corrupted(
            path,
            actual.min(size_bytes),
            format!("column file has {actual} bytes; {MANIFEST_FILE} says {size_bytes} (truncated or overwritten?)"),
        ));
    }
    ColumnFile::open(path)
}

/// Rebuilds a table from its manifest entry: its column files as segments (one per row group
/// and row-id run, committed at timestamp zero), the deletes the manifest recorded, and the key
/// index of the live rows.
fn restore_table(dir: &Path, entry: &TableEntry, keys: &KeyEncoder, info: &mut RecoveryInfo) -> Result<Arc<Table>> {
    let table = Arc::new(Table::new(entry.table_id, entry.schema.clone(), entry.compression));
    let pk = &entry.schema.primary_key;
    let is_deleted = |id: u64| entry.deleted.contains(id);
    let mut segments: Vec<Arc<Segment>> = Vec::new();
    let mut key_index: HashMap<Vec<u8>, u64> = HashMap::new();
    for file_entry in &entry.files {
        let path = dir.join(&file_entry.name);
        let file = open_listed_file(&path, file_entry.size_bytes)?;
        let types: Vec<_> = entry.schema.columns.iter().map(|c| c.data_type).collect();
        if file.column_types() != types.as_slice() || file.n_rows() != file_entry.n_rows {
            return Err(StorageError::corrupted(
                &path,
                0,
                format!(
                    "holds {} rows of types {:?}; {MANIFEST_FILE} says {} rows of table \"{}\" ({types:?})",
                    file.n_rows(),
                    file.column_types(),
                    file_entry.n_rows,
                    entry.schema.name
                ),
            ));
        }
        info.column_files += 1;
        info.rows_in_files += file.n_rows();
        // (first file row, end, first row id) of each run.
        let mut runs: Vec<(u64, u64, u64)> = Vec::with_capacity(file_entry.runs.len());
        let mut at = 0u64;
        for &(first_row, n) in &file_entry.runs {
            runs.push((at, at + n, first_row));
            at += n;
        }
        let id_of = |offset: u64| -> u64 {
            let k = runs.partition_point(|&(_, end, _)| end <= offset).min(runs.len().saturating_sub(1));
            let (start, _, first_row) = runs[k];
            first_row + (offset - start)
        };
        let stored =
            Arc::new(StoredFile::new(file_entry.name.clone(), file, file_entry.size_bytes, file_entry.runs.clone()));
        let mut rg_start = 0u64;
        for (rg_idx, rg) in stored.column_file().row_groups().iter().enumerate() {
            let rg_end = rg_start + rg.n_rows;
            // One segment per piece of the row group inside one run.
            for &(run_start, run_end, first_row) in &runs {
                let (from, to) = (run_start.max(rg_start), run_end.min(rg_end));
                if from >= to {
                    continue;
                }
                let segment = Segment::new(
                    Timestamp::ZERO,
                    first_row + (from - run_start),
                    (to - from) as usize,
                    PartData::File { file: stored.clone(), offset: from },
                );
                // The piece holds row ids `first .. first + (to - from)`: its deletes are that
                // range of the deleted bitmap.
                let first = first_row + (from - run_start);
                let mut ids = entry.deleted.iter();
                ids.advance_to(first);
                let dead: Vec<usize> =
                    ids.take_while(|&id| id < first + (to - from)).map(|id| (id - first) as usize).collect();
                if !dead.is_empty() {
                    segment.mark_recovered_deletes(&dead);
                }
                segments.push(Arc::new(segment));
            }
            if !pk.is_empty() {
                let batch = stored.column_file().read_row_group(rg_idx, pk)?;
                let columns: Vec<&dyn arrow::array::Array> = batch.columns.iter().map(|c| c.as_ref()).collect();
                let encoded = keys(&columns, batch.n_rows)
                    .map_err(|e| StorageError::corrupted(&path, 0, format!("row group {rg_idx}: primary key: {e}")))?;
                for (k, key) in encoded.into_iter().enumerate() {
                    let id = id_of(rg_start + k as u64);
                    if !is_deleted(id) {
                        key_index.insert(key, id);
                    }
                }
            }
            rg_start = rg_end;
        }
    }
    segments.sort_by_key(|s| s.first_row());
    table.restore(segments, key_index, entry.next_row);
    Ok(table)
}

/// Applies one WAL record to the recovering catalog; returns the rows it appended. A commit
/// is replayed as a transaction doing the same deletes and appends, so rows get the same ids.
fn replay(
    catalog: &Arc<Catalog>,
    by_id: &mut HashMap<u64, Arc<Table>>,
    keys: &KeyEncoder,
    wal_dir: &Path,
    record: WalRecord,
) -> Result<u64> {
    let bad =
        |reason: String| StorageError::corrupted(wal_dir, 0, format!("WAL record LSN {}: {reason}", record.lsn.0));
    let mut txn = catalog.begin();
    let mut n_rows = 0u64;
    for op in record.ops.iter() {
        match op {
            WalOp::CreateTable { table_id, schema, compression } => {
                if by_id.contains_key(table_id) || catalog.table(&schema.name).is_some() {
                    return Err(bad(format!("creates table {table_id} \"{}\", which exists", schema.name)));
                }
                let table = Arc::new(Table::new(*table_id, schema.clone(), *compression));
                by_id.insert(*table_id, table.clone());
                catalog.restore_table(table);
            }
            WalOp::DropTable { table_id } => {
                if by_id.remove(table_id).is_none() || !catalog.remove_table_by_id(*table_id) {
                    return Err(bad(format!("drops table {table_id}, which does not exist")));
                }
            }
            WalOp::Append { table_id, batch } => {
                let table = by_id.get(table_id).ok_or_else(|| bad(format!("appends to unknown table {table_id}")))?;
                check_batch(table, batch).map_err(bad)?;
                let row_keys = encode_keys(table, batch, keys).map_err(|e| bad(format!("primary key: {e}")))?;
                n_rows += batch.n_rows as u64;
                txn.append(table.clone(), batch.clone(), row_keys);
            }
            WalOp::Delete { table_id, row_ids } => {
                let table = by_id.get(table_id).ok_or_else(|| bad(format!("deletes from unknown table {table_id}")))?;
                let row_keys = if table.schema().primary_key.is_empty() {
                    Vec::new()
                } else {
                    let rows = table.fetch(txn.snapshot(), row_ids).map_err(|e| bad(format!("deleted rows: {e}")))?;
                    encode_keys(table, &rows, keys).map_err(|e| bad(format!("primary key: {e}")))?
                };
                txn.delete(table, row_ids, row_keys).map_err(|e| bad(format!("delete: {e}")))?;
            }
            other => return Err(bad(format!("unknown operation {other:?}"))),
        }
    }
    if txn.has_writes() {
        txn.commit().map_err(|e| bad(format!("commit: {e}")))?;
    }
    Ok(n_rows)
}

/// The encoded primary keys of `batch`'s rows (none when the table has no key).
fn encode_keys(table: &Table, batch: &Batch, keys: &KeyEncoder) -> std::result::Result<Vec<Vec<u8>>, String> {
    let pk = &table.schema().primary_key;
    if pk.is_empty() {
        return Ok(Vec::new());
    }
    let columns: Vec<&dyn arrow::array::Array> = pk.iter().map(|&c| batch.column(c)).collect();
    keys(&columns, batch.n_rows)
}

/// Checks that a replayed batch has the table's column types.
fn check_batch(table: &Table, batch: &Batch) -> std::result::Result<(), String> {
    let schema = table.schema();
    if batch.columns.len() != schema.columns.len() {
        return Err(format!(
            "appends {} columns to table \"{}\" of {}",
            batch.columns.len(),
            schema.name,
            schema.columns.len()
        ));
    }
    for (col, def) in batch.columns.iter().zip(&schema.columns) {
        if storage::DataType::from_arrow(col.data_type()) != Some(def.data_type) {
            return Err(format!(
                "column \"{}\" of table \"{}\" arrives as {:?}",
                def.name,
                schema.name,
                col.data_type()
            ));
        }
    }
    Ok(())
}

/// Removes column files the manifest does not list and temporary files: what a checkpoint
/// that crashed before its manifest swap left behind.
fn remove_strays(dir: &Path, manifest: &Manifest) -> Result<Vec<PathBuf>> {
    let listed: std::collections::HashSet<&str> =
        manifest.tables.iter().flat_map(|t| t.files.iter().map(|f| f.name.as_str())).collect();
    let mut removed = Vec::new();
    for name in dir_entries(dir)? {
        let stray = name.ends_with(".tmp") || (name.ends_with(".col") && !listed.contains(name.as_str()));
        if stray {
            let path = dir.join(&name);
            std::fs::remove_file(&path).map_err(|e| StorageError::io(&path, e))?;
            removed.push(path);
        }
    }
    if !removed.is_empty() {
        storage::fsutil::sync_dir(dir)?;
    }
    Ok(removed)
}
