//! The manifest: the catalog (table schemas), the live column files of each table and the
//! checkpoint LSN, in one small file that is replaced atomically. Replacing it is the commit
//! point of a checkpoint: files not listed are garbage, WAL records up to the checkpoint LSN are
//! folded into listed files.
//!
//! ```text
//! "HELIOSMF" | u32 format version | u32 flags (0) | u64 payload length | payload | u32 CRC-32 of all before
//! ```
//!
//! `docs/format.md` has the payload layout.

use crate::bytes::{ByteReader, DecodeResult, PutLe};
use crate::checksum::crc32;
use crate::compression::Compression;
use crate::error::{DecodeError, Result, StorageError};
use crate::fsutil::write_atomic;
use crate::schema::{ColumnDef, TableSchema};
use crate::types::DataType;
use crate::wal::Lsn;
pub use roaring::RoaringTreemap;
use std::collections::HashSet;
use std::path::Path;

pub const MANIFEST_FILE: &str = "MANIFEST";
pub const MANIFEST_MAGIC: [u8; 8] = *b"HELIOSMF";
/// The version this build writes. Version 2 added each table's next row id and deleted row
/// ids, and each file's row-id runs; version 3 stores the deleted row ids as a roaring bitmap
/// with its own checksum. Versions 1 and 2 are still read.
pub const MANIFEST_FORMAT_VERSION: u32 = 3;
/// The oldest version this build reads.
pub const MANIFEST_OLDEST_READABLE_VERSION: u32 = 1;
const HEADER_LEN: usize = 24;

/// One column file of a table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEntry {
    /// File name inside the database directory (no directories).
    pub name: String,
    pub n_rows: u64,
    pub size_bytes: u64,
    /// `(first row id, n_rows)`: the file's rows, in file order, have these row ids (a
    /// table's row ids are ordinals in commit order; gaps are rows reclaimed before they were
    /// ever checkpointed). The runs add up to `n_rows`.
    pub runs: Vec<(u64, u64)>,
}

impl FileEntry {
    /// A file whose `n_rows` rows have row ids `first_row ..`.
    pub fn contiguous(name: impl Into<String>, n_rows: u64, size_bytes: u64, first_row: u64) -> FileEntry {
        FileEntry { name: name.into(), n_rows, size_bytes, runs: vec![(first_row, n_rows)] }
    }
}

/// One table: its definition, settings and files (in row order).
#[derive(Debug, Clone, PartialEq)]
pub struct TableEntry {
    pub table_id: u64,
    pub schema: TableSchema,
    pub compression: Compression,
    /// The row id the table's next appended row gets (after every row of its files and of the
    /// WAL records up to the checkpoint).
    pub next_row: u64,
    /// Row ids of file rows deleted by commits up to the checkpoint.
    pub deleted: RoaringTreemap,
    pub files: Vec<FileEntry>,
}

/// The durable state of a database directory apart from the WAL.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Manifest {
    /// Incremented by every [`store`](Manifest::store).
    pub generation: u64,
    /// Every WAL record up to this LSN is reflected in the listed files.
    pub checkpoint_lsn: Lsn,
    pub next_table_id: u64,
    pub next_file_id: u64,
    pub tables: Vec<TableEntry>,
}

/// A file name that stays inside the database directory.
fn is_plain_file_name(name: &str) -> bool {
    !name.is_empty()
        && name != "."
        && name != ".."
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

impl Manifest {
    pub fn table(&self, table_id: u64) -> Option<&TableEntry> {
        self.tables.iter().find(|t| t.table_id == table_id)
    }

    pub fn table_mut(&mut self, table_id: u64) -> Option<&mut TableEntry> {
        self.tables.iter_mut().find(|t| t.table_id == table_id)
    }

    /// The manifest's bytes.
    pub fn encode(&self) -> Result<Vec<u8>> {
        let mut payload = Vec::new();
        payload.put_u64(self.generation);
        payload.put_u64(self.checkpoint_lsn.0);
        payload.put_u64(self.next_table_id);
        payload.put_u64(self.next_file_id);
        payload.put_u32(self.tables.len() as u32);
        for table in &self.tables {
            payload.put_u64(table.table_id);
            put_table_def(&table.schema, table.compression, &mut payload);
            payload.put_u64(table.next_row);
            put_deleted(&table.deleted, &mut payload)?;
            payload.put_u32(table.files.len() as u32);
            for file in &table.files {
                if !is_plain_file_name(&file.name) {
                    return Err(StorageError::Invalid(format!(
                        "column file name {:?} is not a plain file name",
                        file.name
                    )));
                }
                payload.put_str(&file.name);
                payload.put_u64(file.n_rows);
                payload.put_u64(file.size_bytes);
                payload.put_u32(file.runs.len() as u32);
                for &(first_row, n_rows) in &file.runs {
                    payload.put_u64(first_row);
                    payload.put_u64(n_rows);
                }
            }
        }
        let mut out = Vec::with_capacity(HEADER_LEN + payload.len() + 4);
        out.extend_from_slice(&MANIFEST_MAGIC);
        out.put_u32(MANIFEST_FORMAT_VERSION);
        out.put_u32(0);
        out.put_u64(payload.len() as u64);
        out.extend_from_slice(&payload);
        let crc = crc32(&out);
        out.put_u32(crc);
        Ok(out)
    }

    /// Parses manifest bytes read from `path` (named in errors).
    pub fn decode(bytes: &[u8], path: &Path) -> Result<Manifest> {
        if bytes.len() < HEADER_LEN + 4 || bytes[..8] != MANIFEST_MAGIC {
            return Err(StorageError::corrupted(path, 0, "not a HeliosDB manifest (bad magic or too short)"));
        }
        let body_len = bytes.len() - 4;
        let mut crc_bytes = [0u8; 4];
        crc_bytes.copy_from_slice(&bytes[body_len..]);
        if crc32(&bytes[..body_len]) != u32::from_le_bytes(crc_bytes) {
            return Err(StorageError::corrupted(path, body_len as u64, "manifest checksum mismatch"));
        }
        let mut r = ByteReader::new(&bytes[..body_len]);
        let header = (|| -> DecodeResult<(u32, u32, u64)> {
            r.bytes(8)?;
            Ok((r.u32()?, r.u32()?, r.u64()?))
        })()
        .map_err(|e| e.in_file(path, 0))?;
        let (version, flags, payload_len) = header;
        if !(MANIFEST_OLDEST_READABLE_VERSION..=MANIFEST_FORMAT_VERSION).contains(&version) {
            return Err(StorageError::UnsupportedVersion {
                path: path.to_path_buf(),
                found: version,
                supported: MANIFEST_FORMAT_VERSION,
            });
        }
        if flags != 0 || payload_len != (body_len - HEADER_LEN) as u64 {
            return Err(StorageError::corrupted(path, 12, "bad manifest flags or payload length"));
        }
        let mut r = ByteReader::new(&bytes[HEADER_LEN..body_len]);
        decode_payload(&mut r, version).map_err(|e| e.in_file(path, HEADER_LEN as u64))
    }

    /// Reads `dir/MANIFEST`; `None` when there is none yet (a new database).
    pub fn load(dir: &Path) -> Result<Option<Manifest>> {
        let path = dir.join(MANIFEST_FILE);
        match std::fs::read(&path) {
            Ok(bytes) => Manifest::decode(&bytes, &path).map(Some),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(StorageError::io(path, e)),
        }
    }

    /// Increments the generation and atomically replaces `dir/MANIFEST` (temp file, fsync,
    /// rename, directory fsync). On error the previous manifest stays in force.
    pub fn store(&mut self, dir: &Path) -> Result<()> {
        self.generation += 1;
        let bytes = self.encode()?;
        write_atomic(&dir.join(MANIFEST_FILE), &bytes)
    }
}

/// Writes deleted row ids (version 3): `u64 n_bytes | roaring treemap (portable format) | u32
/// CRC-32 of those bytes`.
fn put_deleted(deleted: &RoaringTreemap, out: &mut Vec<u8>) -> Result<()> {
    let mut bytes = Vec::with_capacity(deleted.serialized_size());
    deleted
        .serialize_into(&mut bytes)
        .map_err(|e| StorageError::Invalid(format!("serializing a delete bitmap: {e}")))?;
    out.put_u64(bytes.len() as u64);
    out.extend_from_slice(&bytes);
    out.put_u32(crc32(&bytes));
    Ok(())
}

/// Reads what [`put_deleted`] wrote; every id must lie below `next_row`.
fn read_deleted(r: &mut ByteReader<'_>, next_row: u64) -> DecodeResult<RoaringTreemap> {
    let at = r.pos();
    let len = r.u64()?;
    let len = usize::try_from(len).map_err(|_| DecodeError::new(at, format!("delete bitmap of {len} bytes")))?;
    let bytes = r.bytes(len)?;
    let crc = r.u32()?;
    if crc32(bytes) != crc {
        return Err(DecodeError::new(at, "delete bitmap checksum mismatch"));
    }
    let deleted = RoaringTreemap::deserialize_from(bytes)
        .map_err(|e| DecodeError::new(at, format!("delete bitmap does not parse: {e}")))?;
    if deleted.max().is_some_and(|id| id >= next_row) {
        return Err(DecodeError::new(at, "deleted row ids are not below the next row id"));
    }
    Ok(deleted)
}

/// Writes a table definition: `str name | u32 n_columns | (str name | u8 type code | u8 nullable)*
/// | u32 n_primary_key | u32 column index* | u8 compression code` (shared with the WAL's
/// CreateTable record).
pub(crate) fn put_table_def(schema: &TableSchema, compression: Compression, out: &mut Vec<u8>) {
    out.put_str(&schema.name);
    out.put_u32(schema.columns.len() as u32);
    for column in &schema.columns {
        out.put_str(&column.name);
        out.put_u8(column.data_type.code());
        out.put_u8(column.nullable as u8);
    }
    out.put_u32(schema.primary_key.len() as u32);
    for &col_idx in &schema.primary_key {
        out.put_u32(col_idx as u32);
    }
    out.put_u8(compression.code());
}

/// Reads what [`put_table_def`] wrote.
pub(crate) fn read_table_def(r: &mut ByteReader<'_>) -> DecodeResult<(TableSchema, Compression)> {
    let name = r.str()?.to_string();
    let n_columns = r.count(6)?;
    let mut columns = Vec::with_capacity(n_columns);
    for _ in 0..n_columns {
        let name = r.str()?.to_string();
        let code = r.u8()?;
        let data_type = DataType::try_from_code(code).ok_or_else(|| r.error(format!("unknown type code {code}")))?;
        let nullable = match r.u8()? {
            0 => false,
            1 => true,
            b => return Err(r.error(format!("nullable byte {b}"))),
        };
        columns.push(ColumnDef { name, data_type, nullable });
    }
    let n_pk = r.count(4)?;
    let mut primary_key = Vec::with_capacity(n_pk);
    for _ in 0..n_pk {
        let col_idx = r.u32()? as usize;
        if col_idx >= n_columns {
            return Err(r.error(format!("primary key column {col_idx} of {n_columns}")));
        }
        primary_key.push(col_idx);
    }
    let code = r.u8()?;
    let compression = Compression::try_from_code(code).ok_or_else(|| r.error(format!("unknown compression {code}")))?;
    Ok((TableSchema { name, columns, primary_key }, compression))
}

fn decode_payload(r: &mut ByteReader<'_>, version: u32) -> DecodeResult<Manifest> {
    let generation = r.u64()?;
    let checkpoint_lsn = Lsn(r.u64()?);
    let next_table_id = r.u64()?;
    let next_file_id = r.u64()?;
    let n_tables = r.count(8)?;
    let mut tables = Vec::with_capacity(n_tables);
    let mut seen_ids = HashSet::new();
    for _ in 0..n_tables {
        let start = r.pos();
        let table_id = r.u64()?;
        if !seen_ids.insert(table_id) {
            return Err(DecodeError::new(start, format!("table id {table_id} listed twice")));
        }
        let (schema, compression) = read_table_def(r)?;
        let (next_row, deleted) = if version >= 3 {
            let next_row = r.u64()?;
            (next_row, read_deleted(r, next_row)?)
        } else if version == 2 {
            let next_row = r.u64()?;
            let at = r.pos();
            let column = crate::wal::read_column(r)?;
            let ids = column
                .as_any()
                .downcast_ref::<arrow::array::PrimitiveArray<i64>>()
                .filter(|a| {
                    a.data_type() == &arrow::datatypes::DataType::Int64 && arrow::array::Array::null_count(*a) == 0
                })
                .ok_or_else(|| DecodeError::new(at, "deleted row ids are not a BIGINT column without NULLs"))?;
            let deleted: Vec<u64> = ids.values().iter().map(|&id| id as u64).collect();
            if deleted.windows(2).any(|w| w[0] >= w[1]) || deleted.last().is_some_and(|&id| id >= next_row) {
                return Err(DecodeError::new(at, "deleted row ids are not ascending below the next row id"));
            }
            let deleted = RoaringTreemap::from_sorted_iter(deleted)
                .map_err(|_| DecodeError::new(at, "deleted row ids are not ascending"))?;
            (next_row, deleted)
        } else {
            (0, RoaringTreemap::new())
        };
        let n_files = r.count(20)?;
        let mut files = Vec::with_capacity(n_files);
        let mut v1_next_row = 0u64;
        for _ in 0..n_files {
            let name_start = r.pos();
            let name = r.str()?.to_string();
            if !is_plain_file_name(&name) {
                return Err(DecodeError::new(name_start, format!("file name {name:?} is not a plain file name")));
            }
            let (n_rows, size_bytes) = (r.u64()?, r.u64()?);
            let runs = if version >= 2 {
                let n_runs = r.count(16)?;
                let mut runs = Vec::with_capacity(n_runs);
                for _ in 0..n_runs {
                    let (first_row, run_rows) = (r.u64()?, r.u64()?);
                    if first_row.checked_add(run_rows).is_none_or(|end| end > next_row) {
                        return Err(r.error(format!("rows {first_row}+{run_rows} past the next row id {next_row}")));
                    }
                    runs.push((first_row, run_rows));
                }
                if runs.iter().map(|r| r.1).sum::<u64>() != n_rows {
                    return Err(DecodeError::new(
                        name_start,
                        format!("row-id runs of {name} do not add up to {n_rows}"),
                    ));
                }
                runs
            } else {
                // Version 1: files hold consecutive rows, in order.
                let run = vec![(v1_next_row, n_rows)];
                v1_next_row = v1_next_row.saturating_add(n_rows);
                run
            };
            files.push(FileEntry { name, n_rows, size_bytes, runs });
        }
        let next_row = if version >= 2 { next_row } else { v1_next_row };
        tables.push(TableEntry { table_id, schema, compression, next_row, deleted, files });
    }
    r.finish()?;
    Ok(Manifest { generation, checkpoint_lsn, next_table_id, next_file_id, tables })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Manifest {
        let schema = TableSchema {
            name: "events".into(),
            columns: vec![
                ColumnDef { name: "ts".into(), data_type: DataType::Timestamp, nullable: false },
                ColumnDef { name: "région".into(), data_type: DataType::Text, nullable: true },
                ColumnDef { name: "price".into(), data_type: DataType::Double, nullable: true },
            ],
            primary_key: vec![0],
        };
        let other = TableSchema { name: "empty".into(), columns: vec![], primary_key: vec![] };
        Manifest {
            generation: 0,
            checkpoint_lsn: Lsn(42),
            next_table_id: 3,
            next_file_id: 8,
            tables: vec![
                TableEntry {
                    table_id: 1,
                    schema,
                    compression: Compression::Zstd,
                    next_row: (1 << 40) + 1,
                    deleted: [3, 4, 5, 65_540, 1 << 40].into_iter().collect(),
                    files: vec![
                        FileEntry::contiguous("t1-000005.col", 65_536, 123_456, 0),
                        FileEntry {
                            name: "t1-000007.col".into(),
                            n_rows: 10,
                            size_bytes: 999,
                            runs: vec![(65_536, 4), (69_990, 6)],
                        },
                    ],
                },
                TableEntry {
                    table_id: 2,
                    schema: other,
                    compression: Compression::Lz4,
                    next_row: 0,
                    deleted: RoaringTreemap::new(),
                    files: vec![],
                },
            ],
        }
    }

    #[test]
    fn store_load_replace() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(Manifest::load(dir.path()).unwrap(), None);
        let mut manifest = sample();
        manifest.store(dir.path()).unwrap();
        assert_eq!(manifest.generation, 1);
        assert_eq!(Manifest::load(dir.path()).unwrap().as_ref(), Some(&manifest));
        manifest.checkpoint_lsn = Lsn(99);
        manifest.table_mut(1).unwrap().files.remove(0);
        manifest.store(dir.path()).unwrap();
        let loaded = Manifest::load(dir.path()).unwrap().unwrap();
        assert_eq!((loaded.generation, loaded.checkpoint_lsn), (2, Lsn(99)));
        assert_eq!(loaded.table(1).unwrap().files.len(), 1);
        assert_eq!(loaded.table(2).unwrap().schema.name, "empty");
        assert!(loaded.table(3).is_none());
        assert!(!dir.path().join("MANIFEST.tmp").exists());
    }

    #[test]
    fn every_byte_flip_and_truncation_is_an_error() {
        let path = Path::new("db/MANIFEST");
        let good = sample().encode().unwrap();
        Manifest::decode(&good, path).unwrap();
        for pos in 0..good.len() {
            let mut bytes = good.clone();
            bytes[pos] ^= 0x04;
            assert!(Manifest::decode(&bytes, path).is_err(), "flip at {pos}");
        }
        for len in 0..good.len() {
            let err = Manifest::decode(&good[..len], path).unwrap_err();
            assert!(matches!(err, StorageError::Corrupted { .. }), "{err}");
            assert!(err.to_string().contains("db/MANIFEST"));
        }
    }

    /// Rewrites the checksum after tampering, as a buggy or hostile writer would.
    fn resealed(mut bytes: Vec<u8>) -> Vec<u8> {
        let body_len = bytes.len() - 4;
        let crc = crc32(&bytes[..body_len]);
        bytes[body_len..].copy_from_slice(&crc.to_le_bytes());
        bytes
    }

    #[test]
    fn delete_bitmap_round_trips_and_its_damage_names_the_file() {
        let path = Path::new("db/MANIFEST");
        let mut manifest = sample();
        let deleted = &mut manifest.tables[0].deleted;
        deleted.insert_range(100_000..300_000);
        deleted.insert((1 << 40) - 7);
        let bytes = manifest.encode().unwrap();
        assert_eq!(Manifest::decode(&bytes, path).unwrap(), manifest);
        assert!(
            bytes.len() < 40_000,
            "200,000 deleted ids take 8 KiB bitmap containers, not 8 bytes each: {}",
            bytes.len()
        );
        // A flipped byte inside the bitmap, with the manifest's own checksum made good again:
        // the bitmap's checksum catches it, and the error names the file.
        let mut bitmap_bytes = Vec::new();
        manifest.tables[0].deleted.serialize_into(&mut bitmap_bytes).unwrap();
        let at = bytes.windows(bitmap_bytes.len()).position(|w| w == bitmap_bytes.as_slice()).unwrap();
        for pos in [at, at + bitmap_bytes.len() / 2, at + bitmap_bytes.len() - 1] {
            let mut damaged = bytes.clone();
            damaged[pos] ^= 0x10;
            let err = Manifest::decode(&resealed(damaged), path).unwrap_err();
            assert!(matches!(err, StorageError::Corrupted { .. }), "{err}");
            let text = err.to_string();
            assert!(text.contains("db/MANIFEST") && text.contains("delete bitmap checksum"), "{text}");
        }
        // An id at or past the next row id is corruption too.
        manifest.tables[0].next_row = 1 << 40;
        let err = Manifest::decode(&manifest.encode().unwrap(), path).unwrap_err();
        assert!(err.to_string().contains("below the next row id"), "{err}");
    }

    #[test]
    fn version_mismatch_and_unsafe_names() {
        let path = Path::new("MANIFEST");
        let mut bytes = sample().encode().unwrap();
        bytes[8..12].copy_from_slice(&9u32.to_le_bytes());
        let err = Manifest::decode(&resealed(bytes), path).unwrap_err();
        assert!(matches!(err, StorageError::UnsupportedVersion { found: 9, supported: 3, .. }), "{err}");

        let mut escaping = sample();
        escaping.tables[0].files[0].name = "../../etc/passwd".into();
        assert!(matches!(escaping.encode(), Err(StorageError::Invalid(_))));
        let good = sample().encode().unwrap();
        let name_at = good.windows(13).position(|w| w == b"t1-000005.col").unwrap();
        let mut bytes = good.clone();
        bytes[name_at..name_at + 3].copy_from_slice(b"../");
        assert!(matches!(Manifest::decode(&resealed(bytes), path), Err(StorageError::Corrupted { .. })));
    }
}
