//! The dashboard workload (`../shared/workload/README.md`) for benchmarks and correctness checks:
//! a deterministic generator, bulk loading into `heliosdb_nano`, CSV export for other engines,
//! and DuckDB-made expected results for the dashboard queries.
//!
//! ```text
//! gen (formulas, one row) ─► chunks (arrow2, a batch at a time) ─┬─► load  (Connection::append)
//!                                                                ├─► csv   (DuckDB, scripts/make_fixtures.py)
//!                                                                └─► checksum (the README's checks)
//! queries (q01..q15 + seed dialect) ─► engine ─► fixture::compare ◄─ fixtures/*.result (DuckDB)
//! runner (heliosdb-bench: load, warm timed runs, peak RSS) ─► timings + answers ─► cargo xtask bench
//! ```
//!
//! ```
//! use bench::{load, Workload, DEFAULT_BATCH_ROWS};
//! let conn = heliosdb_nano::Database::open_in_memory()?.connect();
//! load(&conn, &Workload::new(1_000), DEFAULT_BATCH_ROWS)?;
//! let rows = conn.query("SELECT COUNT(*) FROM orders", ())?;
//! assert_eq!(rows.row(0).unwrap().get::<i64>(0)?, 1_000);
//! # Ok::<(), heliosdb_nano::Error>(())
//! ```

pub mod checksum;
pub mod chunks;
pub mod csv;
pub mod fixture;
pub mod gen;
pub mod load;
pub mod queries;
pub mod runner;
pub mod stats;
pub mod sys;
pub mod timings;

pub use chunks::{ArrowChunk, Chunks, DEFAULT_BATCH_ROWS};
pub use gen::{Table, Workload};
pub use load::{create_schema, load, load_table, SCHEMA_SQL};

/// The workload size the fixtures in `fixtures/` were made at, and `tests/workload.rs` runs:
/// the README's smallest scale (where it lists checksums). A debug build loads it and runs all
/// the queries in a few seconds; `scripts/make_fixtures.py` reads this line for its default N.
pub const FIXTURE_N: u64 = 1_000_000;
