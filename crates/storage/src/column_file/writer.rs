//! [`ColumnFileWriter`]: encodes, compresses and checksums row groups into a temporary file,
//! then publishes it with fsync + rename + directory fsync.

use super::{ChunkMeta, Footer, RowGroupMeta, DEFAULT_ROW_GROUP_ROWS, FORMAT_VERSION, HEADER_LEN, MAGIC};
use crate::batch::Batch;
use crate::bytes::PutLe;
use crate::checksum::crc32;
use crate::compression::{compress, Compression};
use crate::encoding::{encode, MAX_CHUNK_ROWS};
use crate::error::{Result, StorageError};
use crate::fsutil::{create_file, publish, temp_path};
use crate::types::DataType;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// What a finished column file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ColumnFileSummary {
    pub n_rows: u64,
    pub n_row_groups: usize,
    pub size_bytes: u64,
}

/// Writes one column file. Nothing is visible under the final name until [`finish`] returns;
/// dropping an unfinished writer removes its temporary file.
///
/// [`finish`]: ColumnFileWriter::finish
#[derive(Debug)]
pub struct ColumnFileWriter {
    path: PathBuf,
    tmp_path: PathBuf,
    file: Option<BufWriter<File>>,
    pos: u64,
    column_types: Vec<DataType>,
    compression: Vec<Compression>,
    row_groups: Vec<RowGroupMeta>,
}

impl ColumnFileWriter {
    /// Starts a file at `path` (written as `path.tmp` until finished) for columns of
    /// `column_types`, compressing every column with `compression`.
    pub fn create(path: &Path, column_types: Vec<DataType>, compression: Compression) -> Result<ColumnFileWriter> {
        let tmp_path = temp_path(path);
        let file = create_file(&tmp_path)?;
        let mut writer = ColumnFileWriter {
            path: path.to_path_buf(),
            tmp_path,
            file: Some(BufWriter::with_capacity(1 << 20, file)),
            pos: 0,
            compression: vec![compression; column_types.len()],
            column_types,
            row_groups: Vec::new(),
        };
        let mut header = Vec::with_capacity(HEADER_LEN);
        header.extend_from_slice(&MAGIC);
        header.put_u32(FORMAT_VERSION);
        header.put_u32(0);
        writer.write_bytes(&header)?;
        Ok(writer)
    }

    /// Overrides the compression of one column.
    pub fn set_column_compression(&mut self, col_idx: usize, compression: Compression) -> Result<()> {
        let n_columns = self.compression.len();
        let slot = self
            .compression
            .get_mut(col_idx)
            .ok_or_else(|| StorageError::Invalid(format!("column {col_idx} of a {n_columns}-column file")))?;
        *slot = compression;
        Ok(())
    }

    fn write_bytes(&mut self, bytes: &[u8]) -> Result<()> {
        let file = self.file.as_mut().ok_or_else(|| StorageError::Invalid("column file already finished".into()))?;
        file.write_all(bytes).map_err(|e| StorageError::io(&self.tmp_path, e))?;
        self.pos += bytes.len() as u64;
        Ok(())
    }

    /// Appends `batch` as one row group (at most [`MAX_CHUNK_ROWS`] rows).
    pub fn write_row_group(&mut self, batch: &Batch) -> Result<()> {
        if batch.columns.len() != self.column_types.len() {
            return Err(StorageError::Invalid(format!(
                "batch of {} columns for a file of {}",
                batch.columns.len(),
                self.column_types.len()
            )));
        }
        if batch.n_rows > MAX_CHUNK_ROWS {
            return Err(StorageError::Invalid(format!("row group of {} rows, at most {MAX_CHUNK_ROWS}", batch.n_rows)));
        }
        let mut chunks = Vec::with_capacity(batch.columns.len());
        let mut frame = Vec::new();
        for (col_idx, column) in batch.columns.iter().enumerate() {
            let expected = self.column_types[col_idx];
            if DataType::from_arrow(column.data_type()) != Some(expected) || column.len() != batch.n_rows {
                return Err(StorageError::Invalid(format!(
                    "column {col_idx} is {:?} with {} rows, expected {expected} with {}",
                    column.data_type(),
                    column.len(),
                    batch.n_rows
                )));
            }
            let encoded = encode(column.as_ref())?;
            frame.clear();
            compress(self.compression[col_idx], &encoded.bytes, &mut frame)?;
            let len = u32::try_from(frame.len())
                .map_err(|_| StorageError::Invalid(format!("chunk of {} bytes is over 4 GiB", frame.len())))?;
            let offset = self.pos;
            let crc = crc32(&frame);
            frame.put_u32(crc);
            self.write_bytes(&frame)?;
            chunks.push(ChunkMeta { offset, len, encoding: encoded.encoding, zone_map: encoded.zone_map });
        }
        self.row_groups.push(RowGroupMeta { n_rows: batch.n_rows as u64, chunks });
        Ok(())
    }

    /// Appends `batch` split into row groups of [`DEFAULT_ROW_GROUP_ROWS`] rows.
    pub fn write_batch(&mut self, batch: &Batch) -> Result<()> {
        let mut offset = 0;
        while offset < batch.n_rows {
            let len = DEFAULT_ROW_GROUP_ROWS.min(batch.n_rows - offset);
            self.write_row_group(&batch.slice(offset, len))?;
            offset += len;
        }
        Ok(())
    }

    /// Writes the footer and trailer, fsyncs, and renames the file into place.
    pub fn finish(mut self) -> Result<ColumnFileSummary> {
        let footer =
            Footer { column_types: self.column_types.clone(), row_groups: std::mem::take(&mut self.row_groups) };
        let mut bytes = Vec::new();
        footer.write(&mut bytes);
        let footer_offset = self.pos;
        let footer_len = u32::try_from(bytes.len())
            .map_err(|_| StorageError::Invalid(format!("footer of {} bytes is over 4 GiB", bytes.len())))?;
        let footer_crc = crc32(&bytes);
        bytes.put_u64(footer_offset);
        bytes.put_u32(footer_len);
        bytes.put_u32(footer_crc);
        bytes.put_u32(FORMAT_VERSION);
        bytes.extend_from_slice(&MAGIC);
        self.write_bytes(&bytes)?;
        let file = self.file.take().ok_or_else(|| StorageError::Invalid("column file already finished".into()))?;
        let file = file.into_inner().map_err(|e| StorageError::io(&self.tmp_path, e.into_error()))?;
        file.sync_all().map_err(|e| StorageError::io(&self.tmp_path, e))?;
        drop(file);
        publish(&self.tmp_path, &self.path)?;
        Ok(ColumnFileSummary {
            n_rows: footer.row_groups.iter().map(|rg| rg.n_rows).sum(),
            n_row_groups: footer.row_groups.len(),
            size_bytes: self.pos,
        })
    }
}

impl Drop for ColumnFileWriter {
    fn drop(&mut self) {
        if self.file.take().is_some() {
            // Best effort: an abandoned temporary file is garbage either way.
            let _ = std::fs::remove_file(&self.tmp_path);
        }
    }
}
