//! Column files: an immutable file of row groups, each holding one compressed, checksummed
//! chunk per column, located by a footer that also carries every chunk's zone map.
//!
//! ```text
//! header   "HELIOSCF" | u32 format version | u32 flags (0)                      16 bytes
//! chunks   compression frame | u32 CRC-32 of the frame                          per row group, per column
//! footer   column types, then per row group: rows, and per column: offset, length, encoding, zone map
//! trailer  u64 footer offset | u32 footer length | u32 footer CRC-32 | u32 format version | "HELIOSCF"
//! ```
//!
//! `docs/format.md` has the byte-level layout. A file is written by [`ColumnFileWriter`]
//! under a temporary name and published by rename; [`ColumnFile`] maps it read-only, checks
//! magic, version and footer checksum on open, and each chunk's checksum when the chunk is read.
//!
//! **API Boundary:** the byte layout is the on-disk format; changing it means a new
//! [`FORMAT_VERSION`].

mod reader;
#[cfg(test)]
mod tests;
mod writer;

pub use reader::ColumnFile;
pub use writer::{ColumnFileSummary, ColumnFileWriter};

use crate::bytes::{ByteReader, DecodeResult, PutLe};
use crate::encoding::{Encoding, MAX_CHUNK_ROWS};
use crate::error::DecodeError;
use crate::types::DataType;
use crate::zone_map::ZoneMap;

/// The first and last eight bytes of every column file.
pub const MAGIC: [u8; 8] = *b"HELIOSCF";
/// The column-file format this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;
/// Rows per row group when a batch is split by [`ColumnFileWriter::write_batch`].
pub const DEFAULT_ROW_GROUP_ROWS: usize = 1 << 16;

pub(crate) const HEADER_LEN: usize = 16;
pub(crate) const TRAILER_LEN: usize = 28;
/// The CRC-32 after each chunk frame.
pub(crate) const CHUNK_CRC_LEN: usize = 4;

/// Where one column chunk lives and what it holds.
#[derive(Debug, Clone, PartialEq)]
pub struct ChunkMeta {
    /// File offset of the chunk's compression frame.
    pub offset: u64,
    /// Length of the frame (the CRC-32 follows it).
    pub len: u32,
    pub encoding: Encoding,
    pub zone_map: ZoneMap,
}

/// One row group: its row count and one chunk per column.
#[derive(Debug, Clone, PartialEq)]
pub struct RowGroupMeta {
    pub n_rows: u64,
    pub chunks: Vec<ChunkMeta>,
}

/// The decoded footer.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Footer {
    pub column_types: Vec<DataType>,
    pub row_groups: Vec<RowGroupMeta>,
}

impl Footer {
    pub fn write(&self, out: &mut Vec<u8>) {
        out.put_u32(self.column_types.len() as u32);
        for dt in &self.column_types {
            out.put_u8(dt.code());
        }
        out.put_u32(self.row_groups.len() as u32);
        for rg in &self.row_groups {
            out.put_u64(rg.n_rows);
            for chunk in &rg.chunks {
                out.put_u64(chunk.offset);
                out.put_u32(chunk.len);
                out.put_u8(chunk.encoding.code());
                chunk.zone_map.write(out);
            }
        }
    }

    /// Parses a footer and checks that every chunk lies inside `data_start..data_end`.
    pub fn read(bytes: &[u8], data_start: u64, data_end: u64) -> DecodeResult<Footer> {
        let mut r = ByteReader::new(bytes);
        let n_columns = r.count(1)?;
        let mut column_types = Vec::with_capacity(n_columns);
        for _ in 0..n_columns {
            let code = r.u8()?;
            column_types
                .push(DataType::try_from_code(code).ok_or_else(|| r.error(format!("unknown type code {code}")))?);
        }
        let n_row_groups = r.count(8)?;
        let mut row_groups = Vec::with_capacity(n_row_groups);
        for _ in 0..n_row_groups {
            let rg_start = r.pos();
            let n_rows = r.u64()?;
            if n_rows > MAX_CHUNK_ROWS as u64 {
                return Err(DecodeError::new(rg_start, format!("row group of {n_rows} rows")));
            }
            let mut chunks = Vec::with_capacity(n_columns);
            for _ in 0..n_columns {
                let chunk_start = r.pos();
                let offset = r.u64()?;
                let len = r.u32()?;
                let code = r.u8()?;
                let encoding =
                    Encoding::try_from_code(code).ok_or_else(|| r.error(format!("unknown encoding {code}")))?;
                let zone_map = ZoneMap::read(&mut r)?;
                let end = offset.checked_add(len as u64 + CHUNK_CRC_LEN as u64);
                if offset < data_start || end.is_none_or(|end| end > data_end) {
                    return Err(DecodeError::new(
                        chunk_start,
                        format!("chunk at {offset}+{len} outside the data region"),
                    ));
                }
                if zone_map.n_rows != n_rows {
                    return Err(DecodeError::new(chunk_start, "zone map row count differs from its row group"));
                }
                chunks.push(ChunkMeta { offset, len, encoding, zone_map });
            }
            row_groups.push(RowGroupMeta { n_rows, chunks });
        }
        r.finish()?;
        Ok(Footer { column_types, row_groups })
    }
}
