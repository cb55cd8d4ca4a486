//! [`Engine`] (one per database) and [`Session`] (one per connection): where a statement's
//! life begins.

use crate::error::Result;
use std::sync::Arc;
use storage::{Batch, DataType, TableSchema, Value};

/// What a statement produced.
#[derive(Debug, Clone)]
pub enum QueryOutput {
    Rows { columns: Vec<(String, DataType)>, batches: Vec<Batch> },
    Affected(u64),
    Done,
}

/// The shared state of one database.
#[derive(Debug)]
pub struct Engine {
    catalog: Arc<mvcc::Catalog>,
}

impl Engine {
    pub fn new() -> Arc<Engine> {
        Arc::new(Engine { catalog: mvcc::Catalog::new() })
    }

    pub fn catalog(&self) -> &Arc<mvcc::Catalog> {
        &self.catalog
    }

    pub fn table_names(&self) -> Vec<String> {
        self.catalog.table_names()
    }

    pub fn table_schema(&self, name: &str) -> Option<TableSchema> {
        self.catalog.table(name).map(|t| t.schema().clone())
    }
}

/// A connection's state: settings and (later) its open transaction.
#[derive(Debug)]
pub struct Session {
    engine: Arc<Engine>,
}

impl Session {
    pub fn new(engine: Arc<Engine>) -> Session {
        Session { engine }
    }

    pub fn engine(&self) -> &Arc<Engine> {
        &self.engine
    }

    /// Parses, plans and runs exactly one statement.
    pub fn execute_one(&mut self, sql: &str, params: &[Value]) -> Result<QueryOutput> {
        let _ = (sql, params);
        crate::unsupported!("statements")
    }

    /// Appends columns to a table in one atomic commit (the bulk-load path): the arrays must
    /// match the table's column types in order; NOT NULL and the primary key are enforced.
    pub fn append(&mut self, table: &str, batch: Batch) -> Result<u64> {
        let _ = (table, batch);
        crate::unsupported!("append")
    }
}
