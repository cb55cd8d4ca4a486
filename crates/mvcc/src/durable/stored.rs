//! Checkpointed rows: [`StoredFile`] (a column file of a table and the row ids of its rows),
//! [`PartData`] (where a segment's rows are: in memory, or a row range of a file) and
//! [`ReadCache`] (the last decoded row group, so consecutive small segments of one row group
//! decode it once).

use crate::error::Result;
use std::sync::Arc;
use storage::{Batch, ColumnFile, StorageError, ZoneMap};

/// One immutable column file of a table, mapped read-only.
#[derive(Debug)]
pub struct StoredFile {
    name: String,
    file: ColumnFile,
    size_bytes: u64,
    /// `(first row id, n_rows)` runs, in file order: the file's rows are these row ids.
    runs: Vec<(u64, u64)>,
    /// The first file row of each row group.
    rg_starts: Vec<u64>,
}

impl StoredFile {
    pub(crate) fn new(name: String, file: ColumnFile, size_bytes: u64, runs: Vec<(u64, u64)>) -> StoredFile {
        let mut rg_starts = Vec::with_capacity(file.row_groups().len());
        let mut start = 0;
        for rg in file.row_groups() {
            rg_starts.push(start);
            start += rg.n_rows;
        }
        debug_assert_eq!(runs.iter().map(|r| r.1).sum::<u64>(), start, "runs cover every row");
        StoredFile { name, file, size_bytes, runs, rg_starts }
    }

    /// The file's name inside the database directory.
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn size_bytes(&self) -> u64 {
        self.size_bytes
    }

    pub fn n_rows(&self) -> u64 {
        self.file.n_rows()
    }

    pub fn runs(&self) -> &[(u64, u64)] {
        &self.runs
    }

    pub fn column_file(&self) -> &ColumnFile {
        &self.file
    }

    /// The row groups overlapping file rows `offset .. offset + n_rows`, with the range of
    /// each that belongs to it.
    fn pieces(&self, offset: u64, n_rows: u64) -> impl Iterator<Item = (usize, usize, usize)> + '_ {
        let end = offset + n_rows;
        let first = self.rg_starts.partition_point(|&s| s <= offset).saturating_sub(1);
        (first..self.rg_starts.len()).map_while(move |rg| {
            let start = self.rg_starts[rg];
            let rg_rows = self.file.row_groups()[rg].n_rows;
            if start >= end {
                return None;
            }
            let from = offset.max(start) - start;
            let to = end.min(start + rg_rows) - start;
            Some((rg, from as usize, (to - from) as usize))
        })
    }

    /// The row group holding all of file rows `offset .. offset + n_rows`, if one does.
    fn single_row_group(&self, offset: u64, n_rows: u64) -> Option<usize> {
        let mut pieces = self.pieces(offset, n_rows);
        let (rg, _, _) = pieces.next()?;
        pieces.next().is_none().then_some(rg)
    }
}

/// Where a segment's rows are.
#[derive(Debug, Clone)]
pub enum PartData {
    /// In memory (committed since the last checkpoint, or a transaction's own rows).
    Batch(Batch),
    /// Rows `offset .. offset + n_rows` of a column file.
    File { file: Arc<StoredFile>, offset: u64 },
}

/// The last row group a scan decoded (one entry: parts come in row order).
#[derive(Debug, Default)]
pub struct ReadCache {
    key: Option<(usize, usize, Vec<usize>)>,
    batch: Option<Batch>,
}

impl ReadCache {
    fn row_group(&mut self, file: &Arc<StoredFile>, rg: usize, projection: &[usize]) -> Result<Batch> {
        let key = (Arc::as_ptr(file) as usize, rg, projection.to_vec());
        if self.key.as_ref() != Some(&key) || self.batch.is_none() {
            self.batch = Some(file.file.read_row_group(rg, projection)?);
            self.key = Some(key);
        }
        Ok(self.batch.clone().unwrap_or_else(|| Batch::empty_with_rows(0)))
    }
}

impl PartData {
    /// Table columns `projection` of this data's `n_rows` rows (decoded, checksums checked,
    /// for a file: a damaged file is an error naming it).
    pub fn read(&self, n_rows: usize, projection: &[usize], cache: &mut ReadCache) -> Result<Batch> {
        match self {
            PartData::Batch(batch) => Ok(batch.project(projection)),
            PartData::File { file, offset } => {
                let mut pieces = Vec::new();
                for (rg, from, len) in file.pieces(*offset, n_rows as u64) {
                    let batch = cache.row_group(file, rg, projection)?;
                    pieces.push(if from == 0 && len == batch.n_rows { batch } else { batch.slice(from, len) });
                }
                let got: usize = pieces.iter().map(|b| b.n_rows).sum();
                if got != n_rows {
                    return Err(StorageError::corrupted(
                        file.file.path(),
                        0,
                        format!("rows {offset}..{} of a file of {} rows", *offset + n_rows as u64, file.n_rows()),
                    )
                    .into());
                }
                concat(pieces, projection.len(), n_rows)
            }
        }
    }

    /// The zone map of table column `col_idx` covering these rows, when they lie in one row
    /// group of a file (it may cover more rows: good for skipping, not for counting).
    pub fn zone_map(&self, n_rows: usize, col_idx: usize) -> Option<&ZoneMap> {
        match self {
            PartData::Batch(_) => None,
            PartData::File { file, offset } => {
                let rg = file.single_row_group(*offset, n_rows as u64)?;
                file.file.zone_map(rg, col_idx)
            }
        }
    }
}

/// One batch of `pieces`' rows.
pub(crate) fn concat(mut pieces: Vec<Batch>, n_columns: usize, n_rows: usize) -> Result<Batch> {
    if pieces.len() == 1 {
        return Ok(pieces.pop().unwrap_or_else(|| Batch::empty_with_rows(0)));
    }
    let mut columns = Vec::with_capacity(n_columns);
    for col_idx in 0..n_columns {
        let arrays: Vec<&dyn arrow::array::Array> = pieces.iter().map(|b| b.columns[col_idx].as_ref()).collect();
        columns.push(
            arrow::compute::concatenate::concatenate(&arrays)
                .map_err(|e| StorageError::Invalid(format!("concatenating column {col_idx}: {e}")))?,
        );
    }
    Ok(Batch { columns, n_rows })
}
