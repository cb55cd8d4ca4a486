//! [`ColumnFile`]: a published column file, mapped read-only. Opening checks the magic, the
//! format version and the footer checksum; reading a chunk checks its checksum, then
//! decompresses and decodes it straight into an arrow2 array.

use super::{ChunkMeta, Footer, RowGroupMeta, CHUNK_CRC_LEN, FORMAT_VERSION, HEADER_LEN, MAGIC, TRAILER_LEN};
use crate::batch::{ArrayRef, Batch};
use crate::checksum::crc32;
use crate::compression::decompress;
use crate::encoding::decode;
use crate::error::{Result, StorageError};
use crate::mmap::MappedFile;
use crate::types::DataType;
use crate::zone_map::ZoneMap;
use std::path::Path;

/// An open column file. Cheap to share between threads (`&ColumnFile` is `Sync`); every read
/// decodes fresh arrays from the mapped bytes.
#[derive(Debug)]
pub struct ColumnFile {
    file: MappedFile,
    footer: Footer,
}

fn le_u32(bytes: &[u8], at: usize) -> u32 {
    let mut word = [0u8; 4];
    word.copy_from_slice(&bytes[at..at + 4]);
    u32::from_le_bytes(word)
}

fn le_u64(bytes: &[u8], at: usize) -> u64 {
    let mut word = [0u8; 8];
    word.copy_from_slice(&bytes[at..at + 8]);
    u64::from_le_bytes(word)
}

impl ColumnFile {
    /// Maps and validates the file at `path`.
    pub fn open(path: &Path) -> Result<ColumnFile> {
        let file = MappedFile::open(path)?;
        let bytes = file.bytes();
        let len = bytes.len();
        if len < HEADER_LEN || bytes[..8] != MAGIC {
            return Err(StorageError::corrupted(path, 0, "not a HeliosDB column file (bad magic)"));
        }
        let version = le_u32(bytes, 8);
        if version != FORMAT_VERSION {
            return Err(StorageError::UnsupportedVersion {
                path: path.to_path_buf(),
                found: version,
                supported: FORMAT_VERSION,
            });
        }
        if le_u32(bytes, 12) != 0 {
            return Err(StorageError::corrupted(path, 12, "unknown header flags"));
        }
        if len < HEADER_LEN + TRAILER_LEN {
            return Err(StorageError::corrupted(path, len as u64, "file too short for its trailer"));
        }
        let trailer = len - TRAILER_LEN;
        if bytes[len - 8..] != MAGIC {
            return Err(StorageError::corrupted(path, (len - 8) as u64, "bad trailing magic (truncated file?)"));
        }
        let trailer_version = le_u32(bytes, trailer + 16);
        if trailer_version != version {
            return Err(StorageError::corrupted(
                path,
                (trailer + 16) as u64,
                format!("trailer says version {trailer_version}, header {version}"),
            ));
        }
        let footer_offset = le_u64(bytes, trailer);
        let footer_len = le_u32(bytes, trailer + 8) as u64;
        let footer_crc = le_u32(bytes, trailer + 12);
        if footer_offset < HEADER_LEN as u64 || footer_offset.saturating_add(footer_len) != trailer as u64 {
            return Err(StorageError::corrupted(
                path,
                trailer as u64,
                format!("footer at {footer_offset}+{footer_len} does not end at the trailer"),
            ));
        }
        let footer_bytes = &bytes[footer_offset as usize..trailer];
        if crc32(footer_bytes) != footer_crc {
            return Err(StorageError::corrupted(path, footer_offset, "footer checksum mismatch"));
        }
        let footer =
            Footer::read(footer_bytes, HEADER_LEN as u64, footer_offset).map_err(|e| e.in_file(path, footer_offset))?;
        Ok(ColumnFile { file, footer })
    }

    pub fn path(&self) -> &Path {
        self.file.path()
    }

    pub fn column_types(&self) -> &[DataType] {
        &self.footer.column_types
    }

    pub fn row_groups(&self) -> &[RowGroupMeta] {
        &self.footer.row_groups
    }

    pub fn n_rows(&self) -> u64 {
        self.footer.row_groups.iter().map(|rg| rg.n_rows).sum()
    }

    /// The zone map of one chunk, read from the footer without decoding anything.
    pub fn zone_map(&self, rg_idx: usize, col_idx: usize) -> Option<&ZoneMap> {
        Some(&self.footer.row_groups.get(rg_idx)?.chunks.get(col_idx)?.zone_map)
    }

    fn row_group(&self, rg_idx: usize) -> Result<&RowGroupMeta> {
        self.footer.row_groups.get(rg_idx).ok_or_else(|| {
            StorageError::Invalid(format!(
                "row group {rg_idx} of {} in {}",
                self.footer.row_groups.len(),
                self.path().display()
            ))
        })
    }

    fn chunk(&self, rg_idx: usize, col_idx: usize) -> Result<(&RowGroupMeta, &ChunkMeta)> {
        let rg = self.row_group(rg_idx)?;
        let chunk = rg.chunks.get(col_idx).ok_or_else(|| {
            StorageError::Invalid(format!("column {col_idx} of {} in {}", rg.chunks.len(), self.path().display()))
        })?;
        Ok((rg, chunk))
    }

    /// Decodes one column of one row group.
    pub fn read_column(&self, rg_idx: usize, col_idx: usize) -> Result<ArrayRef> {
        let (rg, chunk) = self.chunk(rg_idx, col_idx)?;
        let path = self.path();
        // The footer check on open guarantees the range is inside the file.
        let start = chunk.offset as usize;
        let frame_end = start + chunk.len as usize;
        let bytes = self.file.bytes();
        let frame = &bytes[start..frame_end];
        let stored_crc = le_u32(bytes, frame_end);
        debug_assert_eq!(CHUNK_CRC_LEN, 4);
        if crc32(frame) != stored_crc {
            return Err(StorageError::corrupted(
                path,
                chunk.offset,
                format!("checksum mismatch in row group {rg_idx}, column {col_idx}"),
            ));
        }
        let raw = decompress(frame).map_err(|e| e.in_file(path, chunk.offset))?;
        let array = decode(&raw).map_err(|e| {
            StorageError::corrupted(
                path,
                chunk.offset,
                format!("row group {rg_idx}, column {col_idx}: decoded byte {}: {}", e.offset, e.reason),
            )
        })?;
        let expected = self.footer.column_types[col_idx];
        if DataType::from_arrow(array.data_type()) != Some(expected) || array.len() as u64 != rg.n_rows {
            return Err(StorageError::corrupted(
                path,
                chunk.offset,
                format!(
                    "row group {rg_idx}, column {col_idx} holds {:?} x {} where the footer says {expected} x {}",
                    array.data_type(),
                    array.len(),
                    rg.n_rows
                ),
            ));
        }
        Ok(array)
    }

    /// Decodes the columns `projection` (in that order) of one row group. An empty projection
    /// gives a batch with the row count and no columns.
    pub fn read_row_group(&self, rg_idx: usize, projection: &[usize]) -> Result<Batch> {
        let n_rows = self.row_group(rg_idx)?.n_rows as usize;
        let columns =
            projection.iter().map(|&col_idx| self.read_column(rg_idx, col_idx)).collect::<Result<Vec<_>>>()?;
        Ok(Batch { columns, n_rows })
    }
}
