//! MVCC: commit timestamps, snapshots, the catalog of tables, and the rule that decides which
//! committed data a reader sees.
//!
//! ```text
//! writer: Transaction::append(table, batch) ──commit()──► commit_ts assigned, segments published
//! reader: Catalog::snapshot() ──► read_ts ──► Table::scan(snapshot) ──► visible batches only
//! ```
//!
//! Today every table is append-only: a committed batch becomes a segment stamped with its
//! commit timestamp, and a snapshot sees exactly the segments committed at or before its
//! `read_ts` ([`visible`]). Version chains for UPDATE/DELETE arrive with the transactions issue.
//! This crate knows nothing of SQL, operators or encodings.

mod catalog;
pub mod durable;
mod error;
mod table;
mod timestamp;
mod txn;

pub use catalog::Catalog;
pub use durable::{Durability, DurableOptions, ScanPart};
pub use error::{Result, TxnError};
pub use table::Table;
pub use timestamp::{visible, Snapshot, Timestamp};
pub use txn::Transaction;
