//! HeliosDB Nano: an embedded, real-time analytics SQL database.
//!
//! Open a [`Database`], [`connect`](Database::connect) to it, and run SQL on the
//! [`Connection`]: `execute` for statements, `query` for rows, `query_arrow` for arrow2 chunks.
//!
//! ```
//! use heliosdb_nano::{params, Database};
//!
//! let db = Database::open_in_memory()?;
//! let conn = db.connect();
//! conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)", ())?;
//! let n = conn.execute("INSERT INTO t VALUES (?, ?), ($3, $4)", params![1, "one", 2, "two"])?;
//! assert_eq!(n, 2);
//! let rows = conn.query("SELECT id, name FROM t WHERE id > ? ORDER BY id", [0])?;
//! for row in rows.iter() {
//!     let id: i32 = row.get("id")?;
//!     let name: Option<String> = row.get(1)?;
//!     println!("{id}: {name:?}");
//! }
//! # Ok::<(), heliosdb_nano::Error>(())
//! ```
//!
//! ```text
//! api (this crate) ─► sql (parse, bind, plan) ─► exec (pipelines) ─► mvcc (snapshots) ─► storage
//! ```
//!
//! This crate is the **API boundary**: everything public here is a promise to applications.

#![forbid(unsafe_code)]

mod connection;
mod error;
mod params;
mod persist;
mod rows;

pub use connection::{Connection, Database, InterruptHandle, Output, Statement, Transaction};
pub use error::{Error, Result};
pub use params::Params;
pub use persist::{Durability, Options, RecoveryReport};
pub use rows::{ArrowResult, Column, ColumnIndex, FromValue, Row, Rows};
pub use sql::{ends_statement, split_statements};
pub use sql::{CommitDelta, Progress, TableDelta, VersionStats};
pub use storage::{DataType, Value};

/// The arrow2 crate, re-exported so callers of [`Connection::query_arrow`] name the same types.
pub use arrow;
