//! SQL: text in, results out. Parses with `sqlparser` (PostgreSQL dialect), binds names and
//! types into a logical plan, optimizes it, lowers it to an `exec` physical plan, and runs it
//! against an `mvcc` snapshot.
//!
//! ```text
//! text ─► parser ─► binder ─► LogicalPlan ─► optimizer ─► to_physical ─► exec::PhysicalPlan ─► batches
//! ```
//!
//! The `exec` crate never sees a sqlparser AST: the binder is the only place that reads one.

#![forbid(unsafe_code)]

mod binder;
mod copy;
mod csv_import;
mod ddl;
mod decorrelate;
mod dml;
mod error;
mod optimizer;
mod parser;
mod plan;
mod progress;
mod session;
mod split;
mod subquery;
mod write;

pub use error::{Pos, Result, SqlError};
pub use mvcc::{CommitDelta, TableDelta, VersionStats};
pub use plan::LogicalPlan;
pub use progress::{Progress, ProgressHandler};
pub use session::{Engine, InterruptHandle, Prepared, QueryOutput, Session};
pub use split::{ends_statement, split_statements};
