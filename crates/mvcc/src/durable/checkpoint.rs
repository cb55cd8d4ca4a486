//! Checkpoints: the in-memory tail of every table becomes a new immutable column file, the
//! manifest naming the files and the new checkpoint LSN replaces the old one (the commit
//! point), then the WAL segments before it and the files no longer listed are removed.
//!
//! ```text
//! commit lock:  sync + rotate the WAL (checkpoint LSN = last record), note each table's
//!               number of in-memory segments
//! no lock:      write those segments as row groups (encodings by statistics, the table's
//!               compression, zone maps, checksums) into t<id>-<file>.col; commits go on
//! manifest:     store (temp, fsync, rename, fsync dir)  ── the commit point
//! tables:       swap the folded segments for the file (segments + stored locks: atomic for scans)
//! cleanup:      WAL segments through the checkpoint LSN, files of dropped tables
//! ```
//!
//! A crash before the manifest swap leaves the old manifest and a complete WAL (stray files
//! are removed at the next open); after it, the new manifest and the WAL records after its LSN.

use super::stored::StoredFile;
use super::Durable;
use crate::catalog::Catalog;
use crate::error::Result;
use crate::table::Table;
use crate::timestamp::Timestamp;
use std::collections::HashSet;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use storage::column_file::DEFAULT_ROW_GROUP_ROWS;
use storage::manifest::{FileEntry, TableEntry};
use storage::{Batch, ColumnFile, ColumnFileWriter, StorageError};

/// What one checkpoint did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckpointStats {
    /// The WAL position now covered by column files.
    pub checkpoint_lsn: u64,
    pub files_written: usize,
    pub rows_written: u64,
    pub bytes_written: u64,
    pub wal_segments_removed: usize,
    pub files_removed: usize,
}

impl Durable {
    /// Runs a checkpoint now (the `CHECKPOINT` statement; the background thread calls it by
    /// WAL size and tail rows). Commits and queries go on meanwhile.
    pub fn checkpoint(&self, catalog: &Catalog) -> Result<CheckpointStats> {
        let mut stored_manifest = self.manifest.lock().unwrap_or_else(|p| p.into_inner());
        let (checkpoint_lsn, plan, last_table_id, wal_bytes, tail_rows) = {
            let _commit = catalog.commit_lock.lock().unwrap_or_else(|p| p.into_inner());
            // Everything logged so far is durable, and later records go to a new segment.
            let lsn = self.wal.sync_all()?;
            self.wal.rotate()?;
            let plan: Vec<(Arc<Table>, usize)> = catalog
                .tables()
                .into_iter()
                .map(|table| {
                    let n = table.n_segments();
                    (table, n)
                })
                .collect();
            (
                lsn,
                plan,
                catalog.last_table_id(),
                self.wal_bytes.load(Ordering::Relaxed),
                self.tail_rows.load(Ordering::Relaxed),
            )
        };

        let mut manifest = stored_manifest.clone();
        manifest.tables.clear();
        let mut stats = CheckpointStats { checkpoint_lsn: checkpoint_lsn.0, ..CheckpointStats::default() };
        let mut folds: Vec<(Arc<Table>, usize, Option<Arc<StoredFile>>)> = Vec::new();
        let mut new_names: Vec<String> = Vec::new();
        let written = (|| -> Result<()> {
            for (table, n_segments) in plan {
                let segments = table.tail_prefix(n_segments);
                let n_rows: usize = segments.iter().map(|(_, b)| b.n_rows).sum();
                let file = if n_rows > 0 {
                    let file_id = manifest.next_file_id.max(1);
                    manifest.next_file_id = file_id + 1;
                    let name = format!("t{}-{file_id:06}.col", table.id());
                    new_names.push(name.clone());
                    let file = write_file(self, &table, name, &segments)?;
                    stats.files_written += 1;
                    stats.rows_written += n_rows as u64;
                    stats.bytes_written += file.size_bytes();
                    Some(file)
                } else {
                    None
                };
                let files = table
                    .stored_files()
                    .iter()
                    .chain(file.iter())
                    .map(|f| FileEntry { name: f.name().to_string(), n_rows: f.n_rows(), size_bytes: f.size_bytes() })
                    .collect();
                manifest.tables.push(TableEntry {
                    table_id: table.id(),
                    schema: table.schema().clone(),
                    compression: table.compression(),
                    files,
                });
                folds.push((table, n_segments, file));
            }
            manifest.checkpoint_lsn = checkpoint_lsn;
            manifest.next_table_id = last_table_id + 1;
            manifest.store(&self.dir)?;
            Ok(())
        })();
        if let Err(e) = written {
            // The old manifest is still in force: the new files are garbage.
            for name in &new_names {
                let _ = std::fs::remove_file(self.dir.join(name));
            }
            return Err(e);
        }

        for (table, n_segments, file) in folds {
            table.fold_tail_prefix(n_segments, file);
        }
        self.wal_bytes.fetch_sub(wal_bytes.min(self.wal_bytes.load(Ordering::Relaxed)), Ordering::Relaxed);
        self.tail_rows.fetch_sub(tail_rows.min(self.tail_rows.load(Ordering::Relaxed)), Ordering::Relaxed);
        stats.wal_segments_removed = self.wal.remove_segments_through(checkpoint_lsn)?;
        let live: HashSet<&str> =
            manifest.tables.iter().flat_map(|t| t.files.iter().map(|f| f.name.as_str())).collect();
        for old in stored_manifest.tables.iter().flat_map(|t| &t.files) {
            // Files of dropped tables. Scans still reading them keep their mapping.
            if !live.contains(old.name.as_str()) && std::fs::remove_file(self.dir.join(&old.name)).is_ok() {
                stats.files_removed += 1;
            }
        }
        *stored_manifest = manifest;
        Ok(stats)
    }
}

/// Writes `segments` of `table` as one column file named `name` in row groups of
/// [`DEFAULT_ROW_GROUP_ROWS`], and maps it.
fn write_file(
    durable: &Durable,
    table: &Table,
    name: String,
    segments: &[(Timestamp, Batch)],
) -> Result<Arc<StoredFile>> {
    let path = durable.dir.join(&name);
    let types = table.schema().columns.iter().map(|c| c.data_type).collect();
    let mut writer = ColumnFileWriter::create(&path, types, table.compression())?;
    let mut pending: Vec<Batch> = Vec::new();
    let mut pending_rows = 0;
    for (_, batch) in segments {
        let mut offset = 0;
        while offset < batch.n_rows {
            let take = (DEFAULT_ROW_GROUP_ROWS - pending_rows).min(batch.n_rows - offset);
            pending.push(batch.slice(offset, take));
            pending_rows += take;
            offset += take;
            if pending_rows == DEFAULT_ROW_GROUP_ROWS {
                writer.write_row_group(&concat(&pending, &path)?)?;
                pending.clear();
                pending_rows = 0;
            }
        }
    }
    if pending_rows > 0 {
        writer.write_row_group(&concat(&pending, &path)?)?;
    }
    let summary = writer.finish()?;
    let file = ColumnFile::open(&path)?;
    let mut ts_runs: Vec<(u64, Timestamp)> = Vec::new();
    let mut end = 0u64;
    for (ts, batch) in segments {
        end += batch.n_rows as u64;
        match ts_runs.last_mut() {
            Some(last) if last.1 == *ts => last.0 = end,
            _ => ts_runs.push((end, *ts)),
        }
    }
    Ok(Arc::new(StoredFile::new(name, file, summary.size_bytes, ts_runs)))
}

/// One batch of the rows of `batches`.
fn concat(batches: &[Batch], path: &std::path::Path) -> Result<Batch> {
    if let [single] = batches {
        return Ok(single.clone());
    }
    let n_rows = batches.iter().map(|b| b.n_rows).sum();
    let n_columns = batches.first().map_or(0, |b| b.columns.len());
    let mut columns = Vec::with_capacity(n_columns);
    for col_idx in 0..n_columns {
        let arrays: Vec<&dyn arrow::array::Array> = batches.iter().map(|b| b.columns[col_idx].as_ref()).collect();
        columns.push(arrow::compute::concatenate::concatenate(&arrays).map_err(|e| {
            StorageError::Invalid(format!("checkpoint of {}: concatenating column {col_idx}: {e}", path.display()))
        })?);
    }
    Ok(Batch { columns, n_rows })
}
