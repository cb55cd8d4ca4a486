//! Checkpoints: the in-memory rows of every table become a new immutable column file, the
//! manifest naming the files, the deleted rows and the new checkpoint LSN replaces the old
//! one (the commit point), then the WAL segments before it and the files no longer listed are
//! removed.
//!
//! ```text
//! commit lock:  sync + rotate the WAL (checkpoint LSN = last record, checkpoint ts = last
//!               commit ts), capture each table's segment list and next row id
//! no lock:      write the in-memory segments as row groups (encodings by statistics, the
//!               table's compression, zone maps, checksums) into t<id>-<file>.col; collect the
//!               rows deleted at or before the checkpoint ts; commits go on
//! manifest:     store (temp, fsync, rename, fsync dir)  ── the commit point
//! segments:     each written segment now reads its rows from the file (swapped in place:
//!               its delete stamps, row ids and commit timestamp stay)
//! cleanup:      WAL segments through the checkpoint LSN, files no longer listed
//! ```
//!
//! A crash before the manifest swap leaves the old manifest and a complete WAL (stray files
//! are removed at the next open); after it, the new manifest and the WAL records after its LSN.

use super::stored::{PartData, StoredFile};
use super::Durable;
use crate::catalog::Catalog;
use crate::error::Result;
use crate::table::{Segment, Table};
use std::collections::HashSet;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use storage::column_file::DEFAULT_ROW_GROUP_ROWS;
use storage::manifest::{FileEntry, RoaringTreemap, TableEntry};
use storage::{Batch, ColumnFile, ColumnFileWriter};

/// What one checkpoint did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckpointStats {
    /// The WAL position now covered by column files.
    pub checkpoint_lsn: u64,
    pub files_written: usize,
    pub rows_written: u64,
    pub bytes_written: u64,
    pub wal_segments_removed: usize,
    /// Files of dropped tables, and files whose every row was deleted.
    pub files_removed: usize,
}

/// One table's share of a checkpoint: its in-memory segments and where they went.
struct Fold {
    segments: Vec<(Arc<Segment>, u64)>,
    file: Option<Arc<StoredFile>>,
}

impl Durable {
    /// Runs a checkpoint now (the `CHECKPOINT` statement; the background thread calls it by
    /// WAL size and tail rows). Commits and queries go on meanwhile.
    pub fn checkpoint(&self, catalog: &Catalog) -> Result<CheckpointStats> {
        let mut stored_manifest = self.manifest.lock().unwrap_or_else(|p| p.into_inner());
        let (checkpoint_lsn, checkpoint_ts, plan, last_table_id, wal_bytes, tail_rows) = {
            let _commit = catalog.commit_lock.lock().unwrap_or_else(|p| p.into_inner());
            // Everything logged so far is durable, and later records go to a new segment.
            let lsn = self.wal.sync_all()?;
            self.wal.rotate()?;
            let plan: Vec<(Arc<Table>, Vec<Arc<Segment>>, u64)> = catalog
                .tables()
                .into_iter()
                .map(|table| {
                    let (segments, next_row) = table.checkpoint_capture();
                    (table, segments, next_row)
                })
                .collect();
            (
                lsn,
                catalog.last_assigned(),
                plan,
                catalog.last_table_id(),
                self.wal_bytes.load(Ordering::Relaxed),
                self.tail_rows.load(Ordering::Relaxed),
            )
        };

        let mut manifest = stored_manifest.clone();
        manifest.tables.clear();
        let mut stats = CheckpointStats { checkpoint_lsn: checkpoint_lsn.0, ..CheckpointStats::default() };
        let mut folds: Vec<Fold> = Vec::new();
        let mut new_names: Vec<String> = Vec::new();
        let written = (|| -> Result<()> {
            for (table, segments, next_row) in plan {
                let previous = stored_manifest.table(table.id());
                let memory: Vec<(Arc<Segment>, Batch)> = segments
                    .iter()
                    .filter_map(|s| match s.data() {
                        PartData::Batch(batch) => Some((s.clone(), batch)),
                        PartData::File { .. } => None,
                    })
                    .collect();
                let mut fold = Fold { segments: Vec::new(), file: None };
                let mut files: Vec<FileEntry> = previous.map(|p| p.files.clone()).unwrap_or_default();
                if !memory.is_empty() {
                    let file_id = manifest.next_file_id.max(1);
                    manifest.next_file_id = file_id + 1;
                    let name = format!("t{}-{file_id:06}.col", table.id());
                    new_names.push(name.clone());
                    let file = write_file(self, &table, name, &memory)?;
                    stats.files_written += 1;
                    stats.rows_written += file.n_rows();
                    stats.bytes_written += file.size_bytes();
                    let mut offset = 0u64;
                    for (segment, batch) in &memory {
                        fold.segments.push((segment.clone(), offset));
                        offset += batch.n_rows as u64;
                    }
                    files.push(FileEntry {
                        name: file.name().to_string(),
                        n_rows: file.n_rows(),
                        size_bytes: file.size_bytes(),
                        runs: file.runs().to_vec(),
                    });
                    fold.file = Some(file);
                }
                // Rows deleted as of the checkpoint: recorded before, stamped since, and rows
                // of files whose segments garbage collection dropped (every row deleted).
                let mut deleted: RoaringTreemap = previous.map(|p| p.deleted.clone()).unwrap_or_default();
                for segment in &segments {
                    let first = segment.first_row();
                    deleted.extend(segment.deleted_at_or_before(checkpoint_ts).into_iter().map(|k| first + k as u64));
                }
                let covered: Vec<(u64, u64)> =
                    segments.iter().map(|s| (s.first_row(), s.first_row() + s.n_rows() as u64)).collect();
                for file in previous.map(|p| p.files.as_slice()).unwrap_or_default() {
                    for &(start, n) in &file.runs {
                        for (from, to) in uncovered(start, start + n, &covered) {
                            deleted.insert_range(from..to);
                        }
                    }
                }
                // Files with no live row left are dropped (their ids leave the deleted list).
                files.retain(|f| {
                    let dead = f.runs.iter().all(|&(start, n)| count_in(&deleted, start, start + n) == n);
                    if dead {
                        for &(start, n) in &f.runs {
                            deleted.remove_range(start..start + n);
                        }
                    }
                    !dead
                });
                // Only ids of rows the remaining files hold are worth recording.
                let mut held = RoaringTreemap::new();
                for f in &files {
                    for &(start, n) in &f.runs {
                        held.insert_range(start..start + n);
                    }
                }
                deleted &= held;
                manifest.tables.push(TableEntry {
                    table_id: table.id(),
                    schema: table.schema().clone(),
                    compression: table.compression(),
                    next_row,
                    deleted,
                    files,
                });
                folds.push(fold);
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

        for fold in folds {
            if let Some(file) = fold.file {
                for (segment, offset) in fold.segments {
                    segment.set_data(PartData::File { file: file.clone(), offset });
                }
            }
        }
        self.wal_bytes.fetch_sub(wal_bytes.min(self.wal_bytes.load(Ordering::Relaxed)), Ordering::Relaxed);
        self.tail_rows.fetch_sub(tail_rows.min(self.tail_rows.load(Ordering::Relaxed)), Ordering::Relaxed);
        stats.wal_segments_removed = self.wal.remove_segments_through(checkpoint_lsn)?;
        let live: HashSet<&str> =
            manifest.tables.iter().flat_map(|t| t.files.iter().map(|f| f.name.as_str())).collect();
        for old in stored_manifest.tables.iter().flat_map(|t| &t.files) {
            // Scans still reading a removed file keep their mapping.
            if !live.contains(old.name.as_str()) && std::fs::remove_file(self.dir.join(&old.name)).is_ok() {
                stats.files_removed += 1;
            }
        }
        *stored_manifest = manifest;
        Ok(stats)
    }
}

/// How many ids of `from..to` are in `set`.
fn count_in(set: &RoaringTreemap, from: u64, to: u64) -> u64 {
    if to <= from {
        return 0;
    }
    let below = |id: u64| if id == 0 { 0 } else { set.rank(id - 1) };
    below(to) - below(from)
}

/// The parts of `from..to` outside every interval of `covered` (sorted, disjoint).
fn uncovered(from: u64, to: u64, covered: &[(u64, u64)]) -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    let mut at = from;
    let first = covered.partition_point(|&(_, end)| end <= from);
    for &(start, end) in &covered[first..] {
        if start >= to {
            break;
        }
        if start > at {
            out.push((at, start));
        }
        at = at.max(end);
    }
    if at < to {
        out.push((at, to));
    }
    out
}

/// Writes the rows of `segments` of `table` as one column file named `name`, in row groups of
/// [`DEFAULT_ROW_GROUP_ROWS`], and maps it.
fn write_file(
    durable: &Durable,
    table: &Table,
    name: String,
    segments: &[(Arc<Segment>, Batch)],
) -> Result<Arc<StoredFile>> {
    let path = durable.dir.join(&name);
    let types = table.schema().columns.iter().map(|c| c.data_type).collect();
    let n_columns = table.schema().columns.len();
    let mut writer = ColumnFileWriter::create(&path, types, table.compression())?;
    let mut pending: Vec<Batch> = Vec::new();
    let mut pending_rows = 0;
    let mut runs: Vec<(u64, u64)> = Vec::new();
    for (segment, batch) in segments {
        match runs.last_mut() {
            Some(last) if last.0 + last.1 == segment.first_row() => last.1 += batch.n_rows as u64,
            _ => runs.push((segment.first_row(), batch.n_rows as u64)),
        }
        let mut offset = 0;
        while offset < batch.n_rows {
            let take = (DEFAULT_ROW_GROUP_ROWS - pending_rows).min(batch.n_rows - offset);
            pending.push(batch.slice(offset, take));
            pending_rows += take;
            offset += take;
            if pending_rows == DEFAULT_ROW_GROUP_ROWS {
                writer.write_row_group(&super::stored::concat(
                    std::mem::take(&mut pending),
                    n_columns,
                    pending_rows,
                )?)?;
                pending_rows = 0;
            }
        }
    }
    if pending_rows > 0 {
        writer.write_row_group(&super::stored::concat(pending, n_columns, pending_rows)?)?;
    }
    let summary = writer.finish()?;
    let file = ColumnFile::open(&path)?;
    Ok(Arc::new(StoredFile::new(name, file, summary.size_bytes, runs)))
}

#[cfg(test)]
mod tests {
    #[test]
    fn count_in_ranges() {
        let set: super::RoaringTreemap = [0, 5, 6, 9, 1 << 35].into_iter().collect();
        assert_eq!(super::count_in(&set, 0, 10), 4);
        assert_eq!(super::count_in(&set, 1, 9), 2);
        assert_eq!(super::count_in(&set, 6, 6), 0);
        assert_eq!(super::count_in(&set, 10, 1 << 36), 1);
    }

    #[test]
    fn uncovered_ranges() {
        let covered = [(10, 20), (25, 30)];
        assert_eq!(super::uncovered(0, 40, &covered), vec![(0, 10), (20, 25), (30, 40)]);
        assert_eq!(super::uncovered(12, 18, &covered), vec![]);
        assert_eq!(super::uncovered(18, 27, &covered), vec![(20, 25)]);
        assert_eq!(super::uncovered(0, 5, &[]), vec![(0, 5)]);
    }
}
