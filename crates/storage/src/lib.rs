//! Storage: everything about bytes — the logical types and their arrow2 representation,
//! single [`Value`]s, [`Batch`]es of columns, table definitions, and the on-disk building
//! blocks of a database directory: column-chunk encodings, block compression, zone maps,
//! checksums, immutable column files read through `memmap2`, the write-ahead log and the
//! manifest.
//!
//! ```text
//!                 ┌──────────── write path ────────────┐
//! mvcc ──Batch──► wal::Wal::append ── sync_to(LSN) ──► wal-<LSN>.log      (commit durability)
//!      ──Batch──► column_file::ColumnFileWriter                            (checkpoint)
//!                   └ per column: encoding::encode ─► compression ─► CRC ─► <name>.col.tmp ─rename─► <name>.col
//!      ──────────► manifest::Manifest::store ─► MANIFEST  (tables, live files, checkpoint LSN; atomic)
//!
//!                 ┌──────────── read path ─────────────┐
//! exec ◄─Batch── column_file::ColumnFile::read_row_group(rg, projection)   (mmap, CRC, decompress, decode)
//!      ◄─ZoneMap─ column_file::ColumnFile::zone_map(rg, col)               (footer only, nothing decoded)
//! ```
//!
//! Module map: [`encoding`] (plain, dictionary, frame of reference, delta, RLE, scaled decimal;
//! chosen per chunk by estimate), [`compression`] (lz4 default, zstd, none), [`zone_map`]
//! (min/max/NULL count), [`checksum`] (CRC-32), [`column_file`] (row groups + footer),
//! [`mmap`] (the only `unsafe`), [`fsutil`] (temp + fsync + rename + directory fsync), [`dir_lock`] (one owner per directory),
//! [`wal`] (segments, records, group commit, recovery), [`manifest`] (catalog + live files),
//! [`parquet`] (parquet files in and out, for `COPY`).
//! The byte layouts are in `docs/format.md`.
//!
//! Corrupt or foreign bytes are never trusted: every decoder bounds-checks, every file carries
//! checksums, and damage is a [`StorageError::Corrupted`] naming the file and byte offset.
//!
//! This crate knows nothing of transactions or SQL.

#![deny(clippy::host_endian_bytes, clippy::big_endian_bytes)]

pub mod batch;
mod bytes;
pub mod checksum;
pub mod column_file;
#[cfg(test)]
mod compat_tests;
pub mod compression;
pub mod datetime;
pub mod dir_lock;
pub mod encoding;
pub mod error;
pub mod fsutil;
pub mod manifest;
pub mod mmap;
pub mod parquet;
mod quiet_panic;
pub mod schema;
pub mod types;
pub mod value;
pub mod wal;
pub mod zone_map;

pub use batch::{ArrayRef, Batch};
pub use column_file::{ColumnFile, ColumnFileWriter};
pub use compression::Compression;
pub use encoding::{EncodedChunk, Encoding};
pub use error::{DecodeError, Result, StorageError};
pub use manifest::Manifest;
pub use schema::{ColumnDef, TableSchema};
pub use types::DataType;
pub use value::Value;
pub use wal::{Lsn, SyncMode, Wal, WalOp, WalOptions, WalRecord};
pub use zone_map::ZoneMap;
