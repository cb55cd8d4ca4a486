//! Storage: everything about bytes — the logical types and their arrow2 representation,
//! single [`Value`]s, [`Batch`]es of columns, table definitions, and (with the storage issue)
//! column files, encodings, the WAL and checkpoints.
//!
//! ```text
//! mvcc ──(Batch, TableSchema)──► storage ──► files on disk (later: manifest, WAL, row groups)
//! ```
//!
//! This crate knows nothing of transactions or SQL.

pub mod batch;
mod bytes;
pub mod checksum;
pub mod column_file;
pub mod compression;
pub mod datetime;
pub mod encoding;
pub mod error;
pub mod fsutil;
pub mod mmap;
pub mod schema;
pub mod types;
pub mod value;
pub mod wal;
pub mod zone_map;

pub use batch::{ArrayRef, Batch};
pub use error::{Result, StorageError};
pub use schema::{ColumnDef, TableSchema};
pub use types::DataType;
pub use value::Value;
