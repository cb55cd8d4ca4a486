//! [`HeliosDb`]: the `sqllogictest` [`DB`] adapter over a [`heliosdb_nano::Connection`].
//!
//! Each statement goes through [`Connection::run`]. Rows come back formatted by the adapter's
//! [`Style`] (FORMAT.md by default); `INSERT` and friends report their real affected count as
//! [`DBOutput::StatementComplete`], so `statement count N` works; other statements report 0;
//! errors stay errors. The result's column types are reported as [`SltType`]s.
//!
//! The header type letters of the record being run are not visible to a `DB` (the crate keeps
//! them), yet SQLite's convention prints by them. The harness therefore stores them in the
//! shared [`RecordTypes`] slot before running each record.

use crate::format::{format_value, Style};
use crate::types::SltType;
use heliosdb_nano::{Connection, Database, Output};
use sqllogictest::{DBOutput, DB};
use std::sync::{Arc, Mutex};

/// The type letters of the record about to run, shared between the harness and the adapter.
pub type RecordTypes = Arc<Mutex<Vec<SltType>>>;

/// An error the engine reported, as its message.
#[derive(Debug, Clone)]
pub struct EngineError(pub String);

impl std::fmt::Display for EngineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for EngineError {}

/// One connection to a HeliosDB Nano database, as sqllogictest sees it.
#[derive(Debug)]
pub struct HeliosDb {
    conn: Connection,
    style: Style,
    types: RecordTypes,
}

impl HeliosDb {
    /// A connection to `db` that prints values by `style`, reading the current record's type
    /// letters from `types`.
    pub fn new(db: &Database, style: Style, types: RecordTypes) -> HeliosDb {
        HeliosDb { conn: db.connect(), style, types }
    }

    /// A fresh in-memory database with one connection, printing values the project's way.
    pub fn in_memory() -> Result<HeliosDb, EngineError> {
        let db = Database::open_in_memory().map_err(|e| EngineError(e.to_string()))?;
        Ok(HeliosDb::new(&db, Style::Project, RecordTypes::default()))
    }
}

impl DB for HeliosDb {
    type Error = EngineError;
    type ColumnType = SltType;

    fn run(&mut self, sql: &str) -> Result<DBOutput<SltType>, EngineError> {
        let output = self.conn.run(sql, ()).map_err(|e| EngineError(e.to_string()))?;
        Ok(match output {
            Output::Rows(rows) => {
                let header = self.types.lock().unwrap_or_else(|p| p.into_inner()).clone();
                let types = rows.columns().iter().map(|c| SltType::of(c.data_type)).collect();
                let rows = rows
                    .iter()
                    .map(|row| {
                        row.values().iter().enumerate().map(|(i, v)| format_value(self.style, v, i, &header)).collect()
                    })
                    .collect();
                DBOutput::Rows { types, rows }
            }
            Output::Affected(n) => DBOutput::StatementComplete(n),
            Output::Ok => DBOutput::StatementComplete(0),
        })
    }

    fn engine_name(&self) -> &str {
        "heliosdb"
    }
}
