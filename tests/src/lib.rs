//! The sqllogictest harness of HeliosDB Nano, shared by `cargo xtask slt` and by
//! `cargo test`'s run of the project's own files (`tests/slt/`).
//!
//! - [`adapter`]: the `sqllogictest` `DB` implementation over a `heliosdb_nano::Connection`.
//! - [`format`]: how values print (FORMAT.md, plus the foreign corpora's own rules).
//! - [`types`]: the `query` header type letters and the project's strict check of them.
//! - [`corpus`]: per-corpus conventions and rewrites (SQLite, DataFusion, DuckDB, RisingLight).
//! - [`load`]: reading a file into records, includes expanded, without panicking.
//! - [`run`]: running a file record by record, with timeouts, into a [`FileReport`].
//! - [`discover`]: finding the test files under a directory.

pub mod adapter;
pub mod corpus;
pub mod discover;
pub mod format;
pub mod load;
pub mod run;
pub mod types;

pub use adapter::{EngineError, HeliosDb};
pub use corpus::Corpus;
pub use discover::test_files;
pub use run::{install_quiet_panic_hook, run_file, run_script, Failure, FileReport, Options};
