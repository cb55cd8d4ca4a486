//! [`Engine`] (one per database) and [`Session`] (one per connection): where a statement's
//! life begins. Each statement runs in its own transaction (autocommit).

use crate::binder::Binder;
use crate::error::{Result, SqlError};
use crate::optimizer::optimize;
use crate::parser::parse_one;
use crate::progress::ProgressHandler;
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

/// What INSERT/UPDATE/DELETE report: the RETURNING rows, or the count of rows touched.
fn written(outcome: crate::write::WriteOutcome) -> QueryOutput {
    match outcome.returned {
        Some((columns, batches)) => QueryOutput::Rows { columns, batches },
        None => QueryOutput::Affected(outcome.affected),
    }
}

/// A statement parsed once, to run many times with different parameter values.
///
/// A query is also bound once, with its parameters left as placeholders typed by the first
/// values given; each run substitutes the values, optimizes (so folding and pushdown see
/// them), resolves subqueries and reads a fresh snapshot. The bound plan is kept while the
/// parameters keep their types and no table is created or dropped; otherwise, and for
/// statements other than queries, the statement is bound again from its parsed form.
#[derive(Debug)]
pub struct Prepared {
    statement: Statement,
    cache: std::sync::Mutex<Option<CachedQuery>>,
}

#[derive(Debug, Clone)]
struct CachedQuery {
    param_types: Vec<DataType>,
    schema_version: u64,
    bound: crate::binder::query::BoundQuery,
    subqueries: Vec<crate::binder::Subquery>,
}

/// Replaces every [`exec::Expr::Param`] of `e` by its value.
fn substitute_params(e: &mut exec::Expr, params: &[Value]) {
    if let exec::Expr::Param { idx, data_type } = e {
        let value = params.get(*idx).cloned().unwrap_or(Value::Null);
        *e = exec::Expr::Literal { value, data_type: *data_type };
        return;
    }
    for child in e.children_mut() {
        substitute_params(child, params);
    }
}

/// Drops a parsed statement. Dropping recurses through the syntax tree, and a long operator
/// chain (`1 + 1 + ... + 1`, which parses fine and is then refused by the binder) is as deep
/// as it is long, so a long statement is dropped on a fresh stack segment.
fn drop_statement(statement: Statement, sql_len: usize) {
    if sql_len < 4096 {
        drop(statement);
    } else {
        stacker::grow(sql_len.saturating_mul(256).clamp(1 << 20, 1 << 30), move || drop(statement));
    }
}

/// The error for any statement but COMMIT/ROLLBACK in a failed transaction (SQLSTATE 25P02).
fn aborted() -> SqlError {
    SqlError::TxnState("current transaction is aborted, commands ignored until end of transaction block".into())
}

/// The shared state of one database.
#[derive(Debug)]
pub struct Engine {
    catalog: Arc<mvcc::Catalog>,
}

impl Engine {
    /// An engine on a new in-memory catalog.
    pub fn new() -> Arc<Engine> {
        Engine::with_catalog(mvcc::Catalog::new())
    }

    /// An engine on `catalog` (a durable one opened by `mvcc::durable::open`, say).
    pub fn with_catalog(catalog: Arc<mvcc::Catalog>) -> Arc<Engine> {
        Arc::new(Engine { catalog })
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

impl Drop for Engine {
    /// A closed database gives back the working memory its queries kept for later ones
    /// (shared by the process's databases: another one refills it as it needs).
    fn drop(&mut self) {
        exec::operator::release_spare_chunks();
    }
}

/// A connection's state: its open transaction, if any.
pub struct Session {
    engine: Arc<Engine>,
    txn: Option<OpenTxn>,
    /// `SET durability = full | normal | off`; `None` (or `DEFAULT`) is the database's.
    durability: Option<mvcc::Durability>,
    /// Told how far a long statement (`COPY ... FROM`) has got.
    progress: Option<ProgressHandler>,
    /// `SET threads = N`: worker threads of parallel pipelines; `None` (or `DEFAULT`) is
    /// [`exec::default_threads`], 1 runs every pipeline on the session's thread.
    threads: Option<usize>,
    /// `SET statement_timeout`: a statement running longer fails (and changes nothing).
    statement_timeout: Option<std::time::Duration>,
    /// Raised by an [`InterruptHandle`] to stop the running statement.
    interrupt: Arc<exec::interrupt::InterruptFlag>,
}

/// Stops the statement a session is running, from any thread: it fails with "query
/// interrupted" within about one batch of work, and its transaction rolls back as after any
/// error. Interrupting between statements does nothing (each statement starts clear).
#[derive(Debug, Clone)]
pub struct InterruptHandle(Arc<exec::interrupt::InterruptFlag>);

impl InterruptHandle {
    pub fn interrupt(&self) {
        self.0.raise();
    }
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("txn", &self.txn)
            .field("durability", &self.durability)
            .field("progress", &self.progress.is_some())
            .field("threads", &self.threads)
            .field("statement_timeout", &self.statement_timeout)
            .finish_non_exhaustive()
    }
}

/// The value of `SET name = value`: one word or literal, unquoted (`'5s'` and `5s` alike).
fn setting_value(values: &[ast::Expr]) -> Option<String> {
    match values {
        [ast::Expr::Identifier(id)] => Some(id.value.clone()),
        [ast::Expr::Value(v)] => Some(match &v.value {
            ast::Value::SingleQuotedString(s) => s.clone(),
            other => other.to_string(),
        }),
        _ => None,
    }
}

/// Milliseconds from a `statement_timeout` value: a whole number (milliseconds) or a number
/// with one of PostgreSQL's units (`ms`, `s`, `min`, `h`, `d`), optionally spaced.
fn parse_timeout(text: &str) -> Option<u64> {
    let text = text.trim();
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().ok().filter(|n: &f64| n.is_finite() && *n >= 0.0)?;
    let scale = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "ms" => 1.0,
        "s" => 1e3,
        "min" => 60e3,
        "h" => 3600e3,
        "d" => 86400e3,
        _ => return None,
    };
    let ms = (number * scale).round();
    // PostgreSQL's limit: INT_MAX milliseconds (about 24.8 days).
    (ms <= i32::MAX as f64).then_some(ms as u64)
}

/// Whether `sql` is the `CHECKPOINT` statement (sqlparser has no such statement).
fn is_checkpoint(sql: &str) -> bool {
    let words: Vec<String> =
        sql.trim().trim_end_matches(';').split_whitespace().map(|w| w.to_ascii_lowercase()).collect();
    matches!(words.iter().map(String::as_str).collect::<Vec<_>>().as_slice(), ["checkpoint"] | ["force", "checkpoint"])
}

/// An explicit transaction (BEGIN ... COMMIT | ROLLBACK).
#[derive(Debug)]
struct OpenTxn {
    txn: mvcc::Transaction,
    /// A statement failed: the transaction can only be rolled back (as in PostgreSQL).
    failed: bool,
}

impl Session {
    pub fn new(engine: Arc<Engine>) -> Session {
        Session {
            engine,
            txn: None,
            durability: None,
            progress: None,
            threads: None,
            statement_timeout: None,
            interrupt: Arc::default(),
        }
    }

    /// A handle that stops this session's running statement from another thread.
    pub fn interrupt_handle(&self) -> InterruptHandle {
        InterruptHandle(self.interrupt.clone())
    }

    /// The durability this session's commits ask for.
    pub fn durability(&self) -> mvcc::Durability {
        self.durability.or_else(|| self.engine.catalog.durable().map(|d| d.options().durability)).unwrap_or_default()
    }

    pub fn engine(&self) -> &Arc<Engine> {
        &self.engine
    }

    /// Sets (or, with `None`, removes) the handler told how far each later long statement
    /// has got (see [`crate::Progress`]).
    pub fn set_progress_handler(&mut self, handler: Option<ProgressHandler>) {
        self.progress = handler;
    }

    /// Whether an explicit transaction is open.
    pub fn in_transaction(&self) -> bool {
        self.txn.is_some()
    }

    /// Parses, plans and runs exactly one statement.
    pub fn execute_one(&mut self, sql: &str, params: &[Value]) -> Result<QueryOutput> {
        if is_checkpoint(sql) {
            self.no_open_txn("CHECKPOINT")?;
            self.engine.catalog.checkpoint()?;
            return Ok(QueryOutput::Done);
        }
        let statement = match parse_one(sql) {
            Ok(s) => s,
            Err(e) => {
                self.fail();
                return Err(e);
            }
        };
        let out = self.execute_statement(&statement, params);
        drop_statement(statement, sql.len());
        out
    }

    /// Marks the open transaction failed after an error.
    fn fail(&mut self) {
        if let Some(open) = &mut self.txn {
            open.failed = true;
        }
    }

    /// Runs `f` in the open transaction, or in a new one committed when `f` succeeds (and
    /// rolled back when it fails). An error inside an explicit transaction fails it.
    fn in_txn<R>(&mut self, f: impl FnOnce(&mut mvcc::Transaction) -> Result<R>) -> Result<R> {
        let _threads = exec::ThreadsGuard::set(self.threads);
        let _scope = exec::interrupt::StatementScope::enter(self.interrupt.clone(), self.statement_timeout);
        match &mut self.txn {
            Some(open) if open.failed => Err(aborted()),
            Some(open) => {
                let out = f(&mut open.txn);
                if out.is_err() {
                    open.failed = true;
                }
                out
            }
            None => {
                let mut txn = self.engine.catalog.begin();
                let out = f(&mut txn)?;
                if txn.has_writes() {
                    txn.set_durability(self.durability);
                    txn.commit()?;
                }
                Ok(out)
            }
        }
    }

    /// Refuses a schema change inside an explicit transaction.
    fn no_open_txn(&self, what: &str) -> Result<()> {
        match self.txn {
            Some(_) => crate::unsupported!("{what} inside a transaction block (run it outside BEGIN ... COMMIT)"),
            None => Ok(()),
        }
    }

    fn begin(&mut self) -> Result<QueryOutput> {
        if self.txn.is_some() {
            return Err(SqlError::TxnState("there is already a transaction in progress".into()));
        }
        self.txn = Some(OpenTxn { txn: self.engine.catalog.begin(), failed: false });
        Ok(QueryOutput::Done)
    }

    fn commit(&mut self) -> Result<QueryOutput> {
        match self.txn.take() {
            None => Err(SqlError::TxnState("there is no transaction in progress".into())),
            Some(OpenTxn { txn, failed: true }) => {
                txn.rollback();
                Err(SqlError::TxnState(
                    "the transaction failed earlier and was rolled back; nothing was committed".into(),
                ))
            }
            Some(OpenTxn { mut txn, failed: false }) => {
                txn.set_durability(self.durability);
                Ok(txn.commit().map(|_| QueryOutput::Done)?)
            }
        }
    }

    fn rollback(&mut self) -> Result<QueryOutput> {
        match self.txn.take() {
            None => Err(SqlError::TxnState("there is no transaction in progress".into())),
            Some(open) => {
                open.txn.rollback();
                Ok(QueryOutput::Done)
            }
        }
    }

    /// Parses one statement for [`Session::execute_prepared`].
    pub fn prepare(&self, sql: &str) -> Result<Prepared> {
        if is_checkpoint(sql) {
            return crate::unsupported!("preparing CHECKPOINT (run it directly)");
        }
        Ok(Prepared { statement: parse_one(sql)?, cache: std::sync::Mutex::new(None) })
    }

    /// Runs a prepared statement with `params`.
    pub fn execute_prepared(&mut self, prepared: &Prepared, params: &[Value]) -> Result<QueryOutput> {
        let Statement::Query(q) = &prepared.statement else {
            return self.execute_statement(&prepared.statement, params);
        };
        let catalog = self.engine.catalog.clone();
        let param_types: Vec<DataType> = params.iter().map(Value::data_type).collect();
        let version = catalog.schema_version();
        let cached = {
            let guard = prepared.cache.lock().unwrap_or_else(|p| p.into_inner());
            guard.clone().filter(|c| c.param_types == param_types && c.schema_version == version)
        };
        let cached = match cached {
            Some(c) => c,
            None => {
                let binder = Binder::new(&catalog, params);
                binder.keep_params.set(true);
                let bound = match binder.query(q) {
                    Ok(b) if !binder.params_inlined.get() => b,
                    // Parameters needed as values (LIMIT $1), or a typed parameter that only
                    // binds as an untyped literal ('5' compared with a number): bind this run.
                    _ => return self.execute_statement(&prepared.statement, params),
                };
                let c =
                    CachedQuery { param_types, schema_version: version, bound, subqueries: binder.subqueries.take() };
                *prepared.cache.lock().unwrap_or_else(|p| p.into_inner()) = Some(c.clone());
                c
            }
        };
        let CachedQuery { bound, mut subqueries, .. } = cached;
        let types = bound.types();
        let subst = |e: &mut exec::Expr| substitute_params(e, params);
        let plan = crate::optimizer::map_exprs(bound.plan, &subst);
        for sub in &mut subqueries {
            sub.plan = crate::optimizer::map_exprs(
                std::mem::replace(&mut sub.plan, crate::plan::LogicalPlan::Values { rows: vec![], types: vec![] }),
                &subst,
            );
            sub.captures.iter_mut().for_each(subst);
        }
        let batches = self.in_txn(|txn| {
            let snapshot = txn.snapshot();
            let plan = crate::subquery::resolve(plan, subqueries, snapshot)?;
            Ok(exec::collect(&optimize(plan).to_physical(snapshot))?)
        })?;
        Ok(QueryOutput::Rows { columns: bound.names.into_iter().zip(types).collect(), batches })
    }

    fn execute_statement(&mut self, statement: &Statement, params: &[Value]) -> Result<QueryOutput> {
        match statement {
            Statement::StartTransaction { .. } => return self.begin(),
            Statement::Commit { chain: false, .. } => return self.commit(),
            Statement::Rollback { chain: false, savepoint: None } => return self.rollback(),
            _ => {}
        }
        let out = self.execute_in_session(statement, params);
        if out.is_err() {
            self.fail();
        }
        out
    }

    fn execute_in_session(&mut self, statement: &Statement, params: &[Value]) -> Result<QueryOutput> {
        let catalog = self.engine.catalog.clone();
        let binder = Binder::new(&catalog, params);
        if self.txn.as_ref().is_some_and(|t| t.failed) {
            return Err(aborted());
        }
        match statement {
            Statement::Set(set) => self.set(set),
            Statement::ShowVariable { variable } => {
                let name = variable.iter().map(|v| v.value.to_lowercase()).collect::<Vec<_>>().join(" ");
                let value = match name.as_str() {
                    "durability" => self.durability().name().to_string(),
                    "threads" => self.threads.unwrap_or_else(exec::default_threads).to_string(),
                    // PostgreSQL shows 0 for no timeout, and milliseconds with a unit.
                    "statement_timeout" => match self.statement_timeout {
                        None => "0".to_string(),
                        Some(t) => format!("{}ms", t.as_millis()),
                    },
                    _ => {
                        return crate::unsupported!(
                            "SHOW {name} (only durability, threads and statement_timeout are known)"
                        )
                    }
                };
                let value = Value::Text(value);
                Ok(QueryOutput::Rows {
                    columns: vec![(name, DataType::Text)],
                    batches: vec![Batch { columns: vec![values_to_array(DataType::Text, &[value])], n_rows: 1 }],
                })
            }
            Statement::Query(q) => {
                let bound = binder.query(q)?;
                let types = bound.types();
                let batches = self.in_txn(|txn| {
                    let snapshot = txn.snapshot();
                    let plan = crate::subquery::resolve(bound.plan, binder.subqueries.take(), snapshot)?;
                    Ok(exec::collect(&optimize(plan).to_physical(snapshot))?)
                })?;
                Ok(QueryOutput::Rows { columns: bound.names.into_iter().zip(types).collect(), batches })
            }
            Statement::Insert(ins) => Ok(written(self.in_txn(|txn| dml::insert(&binder, txn, ins))?)),
            Statement::Update(upd) => Ok(written(self.in_txn(|txn| crate::write::update(&binder, txn, upd))?)),
            Statement::Delete(del) => Ok(written(self.in_txn(|txn| crate::write::delete(&binder, txn, del))?)),
            Statement::CreateIndex(ci) => {
                // Scans are columnar and skip data by zone maps; a secondary index would not be
                // used, so a plain CREATE INDEX is checked (table and columns exist) and accepted.
                if ci.unique {
                    return crate::unsupported!("CREATE UNIQUE INDEX (use PRIMARY KEY)");
                }
                let table = binder.table(&ci.table_name)?;
                let scope = crate::binder::Scope::of_table(&table);
                for c in &ci.columns {
                    let mut cx = crate::binder::expr_cx(&scope, "CREATE INDEX");
                    binder.expr(&c.column.expr, &mut cx)?;
                }
                Ok(QueryOutput::Done)
            }
            Statement::Copy { source, to, target, options, legacy_options, .. } => {
                let progress = self.progress.clone();
                Ok(QueryOutput::Affected(self.in_txn(|txn| {
                    crate::copy::copy(&binder, txn, source, *to, target, options, legacy_options, progress)
                })?))
            }
            Statement::CreateTable(ct) if ct.query.is_some() => {
                self.no_open_txn("CREATE TABLE ... AS")?;
                Ok(QueryOutput::Affected(dml::create_table_as(&binder, &catalog, ct, self.durability)?))
            }
            Statement::CreateTable(ct) => {
                self.no_open_txn("CREATE TABLE")?;
                let schema = ddl::table_schema(ct)?;
                match catalog.create_table_with(schema, ddl::table_compression(ct)?) {
                    Ok(_) => Ok(QueryOutput::Done),
                    Err(mvcc::TxnError::TableExists(_)) if ct.if_not_exists => Ok(QueryOutput::Done),
                    Err(e) => Err(e.into()),
                }
            }
            Statement::Drop { object_type: ast::ObjectType::Table, if_exists, names, .. } => {
                self.no_open_txn("DROP TABLE")?;
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
                let bound = binder.query(q)?;
                let mut subqueries = binder.subqueries.take();
                let plan = optimize(crate::decorrelate::decorrelate(bound.plan, &mut subqueries));
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
        self.in_txn(|txn| dml::append_batches(txn, &t, vec![batch]))
    }

    /// `SET threads = N | DEFAULT`: how many worker threads a parallel pipeline uses (1 to 1024).
    fn set_threads(&mut self, values: &[ast::Expr]) -> Result<QueryOutput> {
        let Some(text) = setting_value(values) else {
            return crate::bind_err!("SET threads needs a number of threads or DEFAULT");
        };
        if text.eq_ignore_ascii_case("default") {
            self.threads = None;
            return Ok(QueryOutput::Done);
        }
        match text.parse::<usize>() {
            Ok(n) if (1..=1024).contains(&n) => {
                self.threads = Some(n);
                Ok(QueryOutput::Done)
            }
            _ => crate::bind_err!("invalid value for threads: \"{text}\" (use a number from 1 to 1024 or DEFAULT)"),
        }
    }

    /// `SET statement_timeout = 5000 | '5s' | '250ms' | '2min' | 0 | DEFAULT`: as in PostgreSQL,
    /// a bare number is milliseconds and 0 (or DEFAULT) means no timeout. A statement running
    /// longer fails with "canceling statement due to statement timeout" and changes nothing.
    fn set_statement_timeout(&mut self, values: &[ast::Expr]) -> Result<QueryOutput> {
        let Some(text) = setting_value(values) else {
            return crate::bind_err!("SET statement_timeout needs a duration (5000, '5s', '250ms') or DEFAULT");
        };
        if text.eq_ignore_ascii_case("default") {
            self.statement_timeout = None;
            return Ok(QueryOutput::Done);
        }
        match parse_timeout(&text) {
            Some(ms) => {
                self.statement_timeout = (ms > 0).then(|| std::time::Duration::from_millis(ms));
                Ok(QueryOutput::Done)
            }
            None => crate::bind_err!(
                "invalid value for statement_timeout: \"{text}\" (use milliseconds, or a number with a unit: ms, s, min, h, d)"
            ),
        }
    }

    /// `SET durability = full | normal | off | DEFAULT` (also `TO`, quoted or not): how durable
    /// this session's commits are before they return.
    fn set(&mut self, set: &ast::Set) -> Result<QueryOutput> {
        let ast::Set::SingleAssignment { variable, values, .. } = set else {
            return crate::unsupported!("SET {set}");
        };
        let name = variable.to_string().to_lowercase();
        if name == "threads" {
            return self.set_threads(values);
        }
        if name == "statement_timeout" {
            return self.set_statement_timeout(values);
        }
        if name != "durability" {
            return crate::unsupported!("SET {name} (only durability, threads and statement_timeout are known)");
        }
        let Some(value) = setting_value(values.as_slice()) else {
            return crate::bind_err!("SET durability needs one of full, normal, off or DEFAULT");
        };
        if value.eq_ignore_ascii_case("default") {
            self.durability = None;
            return Ok(QueryOutput::Done);
        }
        match mvcc::Durability::from_name(&value) {
            Some(mode) => {
                self.durability = Some(mode);
                Ok(QueryOutput::Done)
            }
            None => crate::bind_err!("invalid value for durability: \"{value}\" (use full, normal or off)"),
        }
    }
}

#[cfg(test)]
mod prepared_tests {
    use super::*;

    fn cached(p: &Prepared) -> bool {
        p.cache.lock().unwrap().is_some()
    }

    #[test]
    fn queries_are_bound_once_and_rebound_when_needed() {
        let mut s = Session::new(Engine::new());
        s.execute_one("CREATE TABLE t (a INTEGER, b TEXT)", &[]).unwrap();
        s.execute_one("INSERT INTO t VALUES (1, 'x'), (2, 'y'), (3, 'x')", &[]).unwrap();
        let p = s.prepare("SELECT count(*) FROM t WHERE a >= $1 AND b = $2").unwrap();
        let count = |s: &mut Session, params: &[Value]| match s.execute_prepared(&p, params).unwrap() {
            QueryOutput::Rows { batches, .. } => Value::from_array(batches[0].column(0), 0),
            other => panic!("{other:?}"),
        };
        assert_eq!(count(&mut s, &[Value::Integer(1), Value::from("x")]), Value::BigInt(2));
        assert!(cached(&p));
        let before = p.cache.lock().unwrap().as_ref().map(|c| c.schema_version);
        assert_eq!(count(&mut s, &[Value::Integer(2), Value::from("x")]), Value::BigInt(1));
        assert_eq!(p.cache.lock().unwrap().as_ref().map(|c| c.schema_version), before);
        // LIMIT needs the value itself: such a statement is bound on every run.
        let limited = s.prepare("SELECT a FROM t LIMIT $1").unwrap();
        s.execute_prepared(&limited, &[Value::Integer(1)]).unwrap();
        assert!(!cached(&limited));
    }
}
