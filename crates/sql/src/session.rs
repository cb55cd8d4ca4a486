//! [`Engine`] (one per database) and [`Session`] (one per connection): where a statement's
//! life begins. Each statement runs in its own transaction (autocommit).

use crate::binder::Binder;
use crate::error::{Result, SqlError};
use crate::optimizer::optimize;
use crate::parser::parse_one;
use crate::{ddl, dml};
use sqlparser::ast::{self, Statement};
use std::sync::Arc;
use storage::value::values_to_array;
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
        let statement = parse_one(sql)?;
        let catalog = self.engine.catalog.clone();
        let binder = Binder::new(&catalog, params);
        match &statement {
            Statement::Query(q) => {
                let bound = binder.query(q)?;
                let types = bound.types();
                let snapshot = catalog.snapshot();
                let plan = crate::subquery::resolve(bound.plan, binder.subqueries.take(), snapshot)?;
                let batches = exec::collect(&optimize(plan).to_physical(snapshot))?;
                Ok(QueryOutput::Rows { columns: bound.names.into_iter().zip(types).collect(), batches })
            }
            Statement::Insert(ins) => Ok(QueryOutput::Affected(dml::insert(&binder, &catalog, ins)?)),
            Statement::CreateTable(ct) => {
                let schema = ddl::table_schema(ct)?;
                match catalog.create_table(schema) {
                    Ok(_) => Ok(QueryOutput::Done),
                    Err(mvcc::TxnError::TableExists(_)) if ct.if_not_exists => Ok(QueryOutput::Done),
                    Err(e) => Err(e.into()),
                }
            }
            Statement::Drop { object_type: ast::ObjectType::Table, if_exists, names, .. } => {
                // Check every name first so a failing DROP drops nothing.
                let mut found = Vec::new();
                for name in names {
                    match binder.table(name) {
                        Ok(t) => found.push(t.schema().name.clone()),
                        Err(_) if *if_exists => {}
                        Err(e) => return Err(e),
                    }
                }
                for name in found {
                    catalog.drop_table(&name)?;
                }
                Ok(QueryOutput::Done)
            }
            Statement::Explain { statement, analyze, .. } => {
                if *analyze {
                    return crate::unsupported!("EXPLAIN ANALYZE");
                }
                let Statement::Query(q) = statement.as_ref() else {
                    return crate::unsupported!("EXPLAIN of anything but a query");
                };
                let plan = optimize(binder.query(q)?.plan);
                let text = plan.to_physical(catalog.snapshot()).display_tree();
                let lines: Vec<Value> = text.lines().map(|l| Value::Text(l.to_string())).collect();
                let n_rows = lines.len();
                Ok(QueryOutput::Rows {
                    columns: vec![("plan".to_string(), DataType::Text)],
                    batches: vec![Batch { columns: vec![values_to_array(DataType::Text, &lines)], n_rows }],
                })
            }
            other => Err(SqlError::NotSupported {
                message: format!(
                    "statement {}",
                    other.to_string().split_whitespace().take(2).collect::<Vec<_>>().join(" ")
                ),
                pos: None,
            }),
        }
    }

    /// Appends columns to a table in one atomic commit (the bulk-load path): the arrays must
    /// match the table's column types in order; NOT NULL and the primary key are enforced.
    pub fn append(&mut self, table: &str, batch: Batch) -> Result<u64> {
        let catalog = self.engine.catalog.clone();
        let t = catalog.table(table).ok_or_else(|| {
            let names = catalog.table_names();
            crate::binder::unknown_name("table", table, names.iter().map(String::as_str), None)
        })?;
        let schema = t.schema();
        if batch.columns.len() != schema.columns.len() {
            return crate::bind_err!(
                "table \"{}\" has {} columns but {} arrays were given",
                schema.name,
                schema.columns.len(),
                batch.columns.len()
            );
        }
        for (col, def) in batch.columns.iter().zip(&schema.columns) {
            if col.data_type() != &def.data_type.to_arrow() {
                return crate::bind_err!(
                    "column \"{}\" has type {} (arrow {:?}) but the array has arrow type {:?}",
                    def.name,
                    def.data_type,
                    def.data_type.to_arrow(),
                    col.data_type()
                );
            }
        }
        dml::append_batches(&catalog, &t, vec![batch])
    }
}
