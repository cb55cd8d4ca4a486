//! MVCC: commit timestamps, snapshots, transactions, the catalog of tables, and the rules
//! that decide which committed data a reader sees.
//!
//! ```text
//! writer: Catalog::begin() ─► Transaction::{append, delete} ─► commit(): validate, stamp, publish ts
//! reader: Transaction::snapshot() ─► Table::scan(snapshot) ─► visible parts (+ live-row bitmaps)
//! ```
//!
//! A committed batch becomes a segment stamped with its commit timestamp; a snapshot sees the
//! segments committed at or before its `read_ts` ([`visible`]), minus rows whose delete
//! stamp it sees, plus its own transaction's pending appends. An UPDATE is a delete plus an
//! append; deletes are per-row stamps set by compare-and-swap (first writer wins, the other
//! gets [`TxnError::SerializationFailure`]). Segments no running snapshot can see are
//! reclaimed through `crossbeam-epoch`. Every commit sends a [`CommitDelta`] to subscribers.
//! A catalog opened from a directory ([`durable::open`]) logs every commit to a WAL before it
//! becomes visible and keeps checkpointed rows in column files ([`durable`]).
//! This crate knows nothing of SQL, operators or encodings.

mod catalog;
pub mod durable;
mod error;
mod table;
mod timestamp;
mod txn;

pub use catalog::{Catalog, CommitDelta};
pub use durable::{Durability, DurableOptions, PartData, ReadCache};
pub use error::{Result, TxnError};
pub use table::{is_pending_row, KeyLookup, MemZones, ScanPart, Table, TableDelta, VersionStats, ROW_ID};
pub use timestamp::{visible, Snapshot, Timestamp, TxnId};
pub use txn::Transaction;
