//! Checkpointed rows: [`StoredFile`] (a column file of a table, with the commit timestamps of
//! its rows) and [`ScanPart`] (what a scan reads: a row group of a file or an in-memory batch).

use crate::error::Result;
use crate::timestamp::{visible, Snapshot, Timestamp};
use std::sync::Arc;
use storage::{Batch, ColumnFile, ZoneMap};

/// One immutable column file of a table, mapped read-only.
#[derive(Debug)]
pub struct StoredFile {
    name: String,
    file: ColumnFile,
    size_bytes: u64,
    /// `(end, ts)`: rows `previous end .. end` were committed at `ts`; timestamps ascend.
    /// A file recovered at open has one run at timestamp zero (visible to every snapshot); a
    /// file written by a checkpoint keeps the timestamps of the segments it folded, so a
    /// snapshot older than the checkpoint still sees exactly its rows.
    ts_runs: Vec<(u64, Timestamp)>,
    /// The first row of each row group.
    rg_starts: Vec<u64>,
}

impl StoredFile {
    pub(crate) fn new(name: String, file: ColumnFile, size_bytes: u64, ts_runs: Vec<(u64, Timestamp)>) -> StoredFile {
        let mut rg_starts = Vec::with_capacity(file.row_groups().len());
        let mut start = 0;
        for rg in file.row_groups() {
            rg_starts.push(start);
            start += rg.n_rows;
        }
        debug_assert_eq!(ts_runs.last().map_or(0, |r| r.0), start, "timestamp runs cover every row");
        StoredFile { name, file, size_bytes, ts_runs, rg_starts }
    }

    /// The file's name inside the database directory.
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn size_bytes(&self) -> u64 {
        self.size_bytes
    }

    pub fn n_rows(&self) -> u64 {
        self.rg_starts.last().zip(self.file.row_groups().last()).map_or(0, |(start, rg)| start + rg.n_rows)
    }

    pub fn column_file(&self) -> &ColumnFile {
        &self.file
    }

    /// How many leading rows `snapshot` sees.
    pub(crate) fn visible_rows(&self, snapshot: Snapshot) -> u64 {
        let k = self.ts_runs.partition_point(|(_, ts)| visible(*ts, snapshot));
        if k == 0 {
            0
        } else {
            self.ts_runs[k - 1].0
        }
    }

    /// Pushes the row groups (or their leading rows) that `snapshot` sees.
    pub(crate) fn visible_row_groups(self: &Arc<Self>, snapshot: Snapshot, out: &mut Vec<ScanPart>) {
        let visible_rows = self.visible_rows(snapshot);
        for (rg_idx, rg) in self.file.row_groups().iter().enumerate() {
            let start = self.rg_starts[rg_idx];
            if start >= visible_rows {
                break;
            }
            let n_rows = (visible_rows - start).min(rg.n_rows) as usize;
            out.push(ScanPart::RowGroup { file: self.clone(), row_group: rg_idx, n_rows });
        }
    }
}

/// A piece of a table as a scan sees it, in row order.
#[derive(Debug, Clone)]
pub enum ScanPart {
    /// Committed rows still in memory.
    Batch(Batch),
    /// The first `n_rows` rows of one row group of a column file (all of them, unless a
    /// checkpoint folded rows the scan's snapshot does not see).
    RowGroup { file: Arc<StoredFile>, row_group: usize, n_rows: usize },
}

impl ScanPart {
    pub fn n_rows(&self) -> usize {
        match self {
            ScanPart::Batch(batch) => batch.n_rows,
            ScanPart::RowGroup { n_rows, .. } => *n_rows,
        }
    }

    /// The zone map (min, max, NULL count) of table column `col_idx`, for a row group; it may
    /// cover more rows than the part (never fewer), so it is good for skipping, not counting.
    pub fn zone_map(&self, col_idx: usize) -> Option<&ZoneMap> {
        match self {
            ScanPart::Batch(_) => None,
            ScanPart::RowGroup { file, row_group, .. } => file.file.zone_map(*row_group, col_idx),
        }
    }

    /// The table columns `projection` of this part, decoded (checksums checked) for a row
    /// group. A damaged file is an error naming it.
    pub fn read(&self, projection: &[usize]) -> Result<Batch> {
        match self {
            ScanPart::Batch(batch) => Ok(batch.project(projection)),
            ScanPart::RowGroup { file, row_group, n_rows } => {
                let batch = file.file.read_row_group(*row_group, projection)?;
                Ok(if *n_rows < batch.n_rows { batch.slice(0, *n_rows) } else { batch })
            }
        }
    }
}
