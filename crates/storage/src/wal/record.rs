//! WAL record payloads: a commit's operations serialized with the column-chunk encodings, so a
//! logged batch costs about what it will cost in a column file.
//!
//! ```text
//! payload  = u64 commit_ts | u32 n_ops | op*
//! op       = u8 kind, then
//!   1 Append       u64 table_id | u64 n_rows | u32 n_columns | column*
//!   2 Delete       u64 table_id | column (BIGINT row ids, as i64 bit patterns)
//!   3 CreateTable  u64 table_id | table definition (as in the manifest)      (format version 2)
//!   4 DropTable    u64 table_id                                              (format version 2)
//! column   = u32 n_pieces | (u32 frame length | compression frame of an encoded chunk)*
//! ```
//!
//! A column longer than [`MAX_CHUNK_ROWS`] is split into pieces and concatenated on replay.

use crate::batch::{ArrayRef, Batch};
use crate::bytes::{ByteReader, DecodeResult, PutLe};
use crate::compression::{compress, decompress, Compression};
use crate::encoding::{decode, encode, MAX_CHUNK_ROWS};
use crate::error::{DecodeError, Result, StorageError};
use crate::manifest::{put_table_def, read_table_def};
use crate::schema::TableSchema;
use crate::types::DataType;
use arrow::array::{Array, PrimitiveArray};

/// One change inside a commit.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum WalOp {
    /// Rows appended to a table.
    Append { table_id: u64, batch: Batch },
    /// Rows deleted from a table, by row id: the table-wide ordinal of the row in commit order
    /// (rows of column files first, in manifest order, then replayed appends).
    Delete { table_id: u64, row_ids: Vec<u64> },
    /// A table created with `table_id` (never reused).
    CreateTable { table_id: u64, schema: TableSchema, compression: Compression },
    /// A table dropped.
    DropTable { table_id: u64 },
}

const APPEND: u8 = 1;
const DELETE: u8 = 2;
const CREATE_TABLE: u8 = 3;
const DROP_TABLE: u8 = 4;

pub(crate) fn write_column(array: &dyn Array, compression: Compression, out: &mut Vec<u8>) -> Result<()> {
    let n_pieces = array.len().div_ceil(MAX_CHUNK_ROWS).max(1);
    out.put_u32(n_pieces as u32);
    let mut frame = Vec::new();
    for piece_idx in 0..n_pieces {
        let offset = piece_idx * MAX_CHUNK_ROWS;
        let len = MAX_CHUNK_ROWS.min(array.len() - offset);
        let chunk = encode(array.sliced(offset, len).as_ref())?;
        frame.clear();
        compress(compression, &chunk.bytes, &mut frame)?;
        let frame_len = u32::try_from(frame.len())
            .map_err(|_| StorageError::Invalid(format!("WAL chunk of {} bytes is over 4 GiB", frame.len())))?;
        out.put_u32(frame_len);
        out.extend_from_slice(&frame);
    }
    Ok(())
}

pub(crate) fn read_column(r: &mut ByteReader<'_>) -> DecodeResult<ArrayRef> {
    let n_pieces = r.count(4)?;
    let mut pieces = Vec::with_capacity(n_pieces);
    for _ in 0..n_pieces {
        let start = r.pos();
        let frame = r.len_bytes()?;
        let raw = decompress(frame).map_err(|e| DecodeError::new(start + 4 + e.offset, e.reason))?;
        let array =
            decode(&raw).map_err(|e| DecodeError::new(start, format!("chunk byte {}: {}", e.offset, e.reason)))?;
        pieces.push(array);
    }
    match pieces.as_slice() {
        [] => Err(r.error("column without pieces")),
        [single] => Ok(single.clone()),
        [first, rest @ ..] => {
            if rest.iter().any(|p| p.data_type() != first.data_type()) {
                return Err(r.error("column pieces of different types"));
            }
            let refs: Vec<&dyn Array> = pieces.iter().map(|p| p.as_ref()).collect();
            arrow::compute::concatenate::concatenate(&refs).map_err(|e| r.error(format!("concatenating pieces: {e}")))
        }
    }
}

/// Overwrites the commit timestamp of an encoded payload (its first eight bytes).
pub(crate) fn set_commit_ts(payload: &mut [u8], commit_ts: u64) {
    payload[..8].copy_from_slice(&commit_ts.to_le_bytes());
}

/// Rows of appended data from which a record's columns are encoded on several threads.
const PARALLEL_ROWS: usize = 1 << 17;

/// The encoded columns of every `Append` op, in order, on up to `available_parallelism`
/// threads (a bulk import's record is the bulk of its commit's cost).
fn encode_append_columns(ops: &[WalOp], compression: Compression) -> Result<Vec<Vec<u8>>> {
    let columns: Vec<&dyn Array> = ops
        .iter()
        .flat_map(|op| match op {
            WalOp::Append { batch, .. } => batch.columns.iter().map(|c| c.as_ref()).collect::<Vec<_>>(),
            _ => Vec::new(),
        })
        .collect();
    let rows: usize = ops
        .iter()
        .map(|op| match op {
            WalOp::Append { batch, .. } => batch.n_rows,
            _ => 0,
        })
        .sum();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(8).min(columns.len());
    let encode_one = |column: &dyn Array| -> Result<Vec<u8>> {
        let mut out = Vec::new();
        write_column(column, compression, &mut out)?;
        Ok(out)
    };
    if threads <= 1 || rows < PARALLEL_ROWS {
        return columns.into_iter().map(encode_one).collect();
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: Vec<Vec<(usize, Result<Vec<u8>>)>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let idx = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(column) = columns.get(idx) else { break };
                        done.push((idx, encode_one(*column)));
                    }
                    done
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or_default()).collect()
    });
    let mut encoded: Vec<Option<Result<Vec<u8>>>> = (0..columns.len()).map(|_| None).collect();
    for (idx, r) in results.into_iter().flatten() {
        encoded[idx] = Some(r);
    }
    encoded
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Err(StorageError::Invalid("a WAL encoding thread panicked".into()))))
        .collect()
}

/// Serializes a commit's operations.
pub(crate) fn encode_payload(commit_ts: u64, ops: &[WalOp], compression: Compression) -> Result<Vec<u8>> {
    let mut encoded = encode_append_columns(ops, compression)?.into_iter();
    let mut out = Vec::new();
    out.put_u64(commit_ts);
    out.put_u32(
        u32::try_from(ops.len()).map_err(|_| StorageError::Invalid("too many operations in one commit".into()))?,
    );
    for op in ops {
        match op {
            WalOp::Append { table_id, batch } => {
                out.put_u8(APPEND);
                out.put_u64(*table_id);
                out.put_u64(batch.n_rows as u64);
                out.put_u32(batch.columns.len() as u32);
                for column in &batch.columns {
                    if column.len() != batch.n_rows {
                        return Err(StorageError::Invalid(format!(
                            "batch column of {} rows in a batch of {}",
                            column.len(),
                            batch.n_rows
                        )));
                    }
                    let bytes = encoded
                        .next()
                        .ok_or_else(|| StorageError::Invalid("fewer encoded columns than appended".into()))?;
                    out.extend_from_slice(&bytes);
                }
            }
            WalOp::Delete { table_id, row_ids } => {
                out.put_u8(DELETE);
                out.put_u64(*table_id);
                let ids = PrimitiveArray::<i64>::from_vec(row_ids.iter().map(|&id| id as i64).collect());
                write_column(&ids, compression, &mut out)?;
            }
            WalOp::CreateTable { table_id, schema, compression } => {
                out.put_u8(CREATE_TABLE);
                out.put_u64(*table_id);
                put_table_def(schema, *compression, &mut out);
            }
            WalOp::DropTable { table_id } => {
                out.put_u8(DROP_TABLE);
                out.put_u64(*table_id);
            }
        }
    }
    Ok(out)
}

/// Parses a payload written by [`encode_payload`] into a segment of format `version`.
pub(crate) fn decode_payload(bytes: &[u8], version: u32) -> DecodeResult<(u64, Vec<WalOp>)> {
    let mut r = ByteReader::new(bytes);
    let commit_ts = r.u64()?;
    let n_ops = r.count(9)?;
    let mut ops = Vec::with_capacity(n_ops);
    for _ in 0..n_ops {
        let start = r.pos();
        match r.u8()? {
            APPEND => {
                let table_id = r.u64()?;
                let n_rows = r.u64()?;
                let n_columns = r.count(4)?;
                let mut columns = Vec::with_capacity(n_columns);
                for _ in 0..n_columns {
                    let col_start = r.pos();
                    let column = read_column(&mut r)?;
                    if column.len() as u64 != n_rows {
                        return Err(DecodeError::new(
                            col_start,
                            format!("column of {} rows in a batch of {n_rows}", column.len()),
                        ));
                    }
                    columns.push(column);
                }
                let n_rows = usize::try_from(n_rows).map_err(|_| DecodeError::new(start, "row count overflows"))?;
                if columns.is_empty() && n_rows > u32::MAX as usize {
                    return Err(DecodeError::new(start, format!("column-less batch of {n_rows} rows")));
                }
                ops.push(WalOp::Append { table_id, batch: Batch { columns, n_rows } });
            }
            DELETE => {
                let table_id = r.u64()?;
                let col_start = r.pos();
                let column = read_column(&mut r)?;
                let ids = column
                    .as_any()
                    .downcast_ref::<PrimitiveArray<i64>>()
                    .filter(|a| DataType::from_arrow(a.data_type()) == Some(DataType::BigInt) && a.null_count() == 0)
                    .ok_or_else(|| DecodeError::new(col_start, "row ids are not a BIGINT column without NULLs"))?;
                ops.push(WalOp::Delete { table_id, row_ids: ids.values().iter().map(|&id| id as u64).collect() });
            }
            CREATE_TABLE if version >= 2 => {
                let table_id = r.u64()?;
                let (schema, compression) = read_table_def(&mut r)?;
                ops.push(WalOp::CreateTable { table_id, schema, compression });
            }
            DROP_TABLE if version >= 2 => ops.push(WalOp::DropTable { table_id: r.u64()? }),
            kind => return Err(DecodeError::new(start, format!("unknown WAL operation {kind}"))),
        }
    }
    r.finish()?;
    Ok((commit_ts, ops))
}
