//! [`Database`] and [`Connection`]: opening a database and running statements on it.

use crate::error::{Error, Result};
use crate::params::Params;
use crate::persist::{Options, RecoveryReport};
use crate::rows::{ArrowResult, Column, Rows};
use sql::{Engine, Progress, QueryOutput, Session};
use std::path::Path;
use std::sync::{Arc, Mutex};

/// An open database. Cheap to clone; all clones share the same data.
#[derive(Clone)]
pub struct Database {
    engine: Arc<Engine>,
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database").finish_non_exhaustive()
    }
}

impl Database {
    /// A database that lives in memory and disappears when the last handle is dropped.
    pub fn open_in_memory() -> Result<Database> {
        Ok(Database { engine: Engine::new() })
    }

    /// Opens (or creates) the database stored in the directory `path`, with default
    /// [`Options`]: every commit is durable (fsynced) before it returns.
    ///
    /// Opening recovers: the column files listed in the manifest are mapped, the WAL after the
    /// last checkpoint is replayed, and a torn WAL tail is cut (see
    /// [`recovery_report`](Self::recovery_report)). One process owns a directory; a second one
    /// gets an error naming the owner's pid. A damaged or foreign directory is an error naming
    /// the file.
    ///
    /// ```
    /// use heliosdb_nano::Database;
    /// let dir = tempfile::tempdir().unwrap();
    /// {
    ///     let db = Database::open(dir.path())?;
    ///     db.connect().execute("CREATE TABLE t (id BIGINT PRIMARY KEY)", ())?;
    ///     db.connect().execute("INSERT INTO t VALUES (1), (2)", ())?;
    /// }
    /// let db = Database::open(dir.path())?;
    /// let n: i64 = db.connect().query("SELECT count(*) FROM t", ())?.row(0).unwrap().get(0)?;
    /// assert_eq!(n, 2);
    /// # Ok::<(), heliosdb_nano::Error>(())
    /// ```
    pub fn open(path: impl AsRef<Path>) -> Result<Database> {
        Database::open_with(path, Options::default())
    }

    /// Opens (or creates) the database in the directory `path` with `options`.
    pub fn open_with(path: impl AsRef<Path>, options: Options) -> Result<Database> {
        let catalog = crate::persist::open_catalog(path.as_ref(), &options)?;
        Ok(Database { engine: Engine::with_catalog(catalog) })
    }

    /// What opening the database found: files, replayed WAL records, and whether a torn WAL
    /// tail was cut. `None` for an in-memory database.
    pub fn recovery_report(&self) -> Option<RecoveryReport> {
        crate::persist::recovery_report(self.engine.catalog())
    }

    /// Writes every table's recent rows into column files and drops the WAL before them (what
    /// the `CHECKPOINT` statement does; the background thread does it by WAL size). Nothing to
    /// do in memory.
    pub fn checkpoint(&self) -> Result<()> {
        self.engine.catalog().checkpoint().map_err(|e| Error::Sql(e.into()))
    }

    /// The database directory, or `None` in memory.
    pub fn path(&self) -> Option<&Path> {
        self.engine.catalog().durable().map(|d| d.dir())
    }

    /// A channel that receives what every later commit changed, per table (appended row-id
    /// range, deleted row ids), in commit order: the feed for live queries.
    pub fn subscribe_commits(&self) -> std::sync::mpsc::Receiver<Arc<sql::CommitDelta>> {
        self.engine.catalog().subscribe()
    }

    /// Row versions held in memory (live rows plus old versions some snapshot may still
    /// read); old versions are reclaimed once no running transaction can see them.
    pub fn version_stats(&self) -> sql::VersionStats {
        self.engine.catalog().version_stats()
    }

    /// A new connection with its own session.
    pub fn connect(&self) -> Connection {
        let session = Session::new(self.engine.clone());
        Connection { interrupt: session.interrupt_handle(), session: Arc::new(Mutex::new(session)) }
    }
}

/// What one statement produced.
#[derive(Debug, Clone)]
pub enum Output {
    /// A query's rows.
    Rows(Rows),
    /// The number of rows an INSERT (later UPDATE, DELETE) changed.
    Affected(u64),
    /// A statement that changes no rows (CREATE, DROP, ...) succeeded.
    Ok,
}

/// A session on a [`Database`]. `Send + Sync` and cheap to clone; clones share the session,
/// so statements from clones run one after another.
#[derive(Clone)]
pub struct Connection {
    session: Arc<Mutex<Session>>,
    /// Reaches the running statement without the session's lock (which it holds).
    interrupt: sql::InterruptHandle,
}

/// Stops the statement a [`Connection`] is running (see [`Connection::interrupt_handle`]).
/// `Send + Sync`, cheap to clone.
#[derive(Debug, Clone)]
pub struct InterruptHandle(sql::InterruptHandle);

impl InterruptHandle {
    /// Asks the running statement to stop; it returns an error soon after.
    pub fn interrupt(&self) {
        self.0.interrupt();
    }
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection").finish_non_exhaustive()
    }
}

impl Connection {
    fn run_one(&self, sql: &str, params: Vec<storage::Value>) -> Result<QueryOutput> {
        // A statement that failed half-way left nothing behind (statements are atomic),
        // so a poisoned lock carries no broken state: recover it.
        let mut session = self.session.lock().unwrap_or_else(|p| p.into_inner());
        Ok(session.execute_one(sql, &params)?)
    }

    /// A handle that stops the statement this connection is running, from another thread
    /// (a dashboard's cancel button, a shell's Ctrl-C): the statement fails with "query
    /// interrupted" (SQLSTATE 57014) within about one batch of work and changes nothing; the
    /// connection stays usable. An interrupt between statements does nothing. For a time
    /// limit, `SET statement_timeout = '5s'` does the same without a second thread.
    ///
    /// ```
    /// # use heliosdb_nano::Database;
    /// let db = Database::open_in_memory()?;
    /// let conn = db.connect();
    /// let stop = conn.interrupt_handle();
    /// let canceller = std::thread::spawn(move || {
    ///     std::thread::sleep(std::time::Duration::from_millis(50));
    ///     stop.interrupt();
    /// });
    /// let endless = conn.query("SELECT count(*) FROM generate_series(1, 9000000000000000000)", ());
    /// canceller.join().unwrap();
    /// assert_eq!(endless.unwrap_err().sqlstate(), Some("57014"));
    /// assert_eq!(conn.query("SELECT 1", ())?.len(), 1);
    /// # Ok::<(), heliosdb_nano::Error>(())
    /// ```
    pub fn interrupt_handle(&self) -> InterruptHandle {
        InterruptHandle(self.interrupt.clone())
    }

    /// Runs one statement and says what it produced.
    pub fn run(&self, sql: &str, params: impl Params) -> Result<Output> {
        Ok(output(self.run_one(sql, params.into_values())?))
    }

    /// Parses (and, for a query, binds) one statement once, to run it many times with
    /// different parameters. Errors in the SQL text are reported here.
    ///
    /// ```
    /// use heliosdb_nano::{params, Database};
    /// let conn = Database::open_in_memory()?.connect();
    /// conn.execute("CREATE TABLE t (id INTEGER, name TEXT)", ())?;
    /// let insert = conn.prepare("INSERT INTO t VALUES (?, ?)")?;
    /// for (id, name) in [(1, "one"), (2, "two"), (3, "three")] {
    ///     insert.execute(params![id, name])?;
    /// }
    /// let by_id = conn.prepare("SELECT name FROM t WHERE id = $1")?;
    /// let name: String = by_id.query(params![2])?.row(0).unwrap().get(0)?;
    /// assert_eq!(name, "two");
    /// # Ok::<(), heliosdb_nano::Error>(())
    /// ```
    pub fn prepare(&self, sql: &str) -> Result<Statement> {
        let session = self.session.lock().unwrap_or_else(|p| p.into_inner());
        let prepared = session.prepare(sql)?;
        Ok(Statement { conn: self.clone(), prepared: Arc::new(prepared) })
    }

    /// Runs one statement and returns the number of rows it changed (0 for DDL and queries;
    /// INSERT, UPDATE or DELETE with RETURNING is a query: run it with [`query`](Self::query)).
    pub fn execute(&self, sql: &str, params: impl Params) -> Result<u64> {
        Ok(match self.run(sql, params)? {
            Output::Affected(n) => n,
            _ => 0,
        })
    }

    /// Runs every statement of a script, separated by `;`, stopping at the first error.
    pub fn execute_batch(&self, sql: &str) -> Result<()> {
        for stmt in sql::split_statements(sql) {
            self.run_one(&stmt, Vec::new())?;
        }
        Ok(())
    }

    /// Runs one query and returns its rows.
    pub fn query(&self, sql: &str, params: impl Params) -> Result<Rows> {
        match self.run(sql, params)? {
            Output::Rows(rows) => Ok(rows),
            _ => Err(Error::InvalidArgument(
                "query() needs a statement that returns rows; use execute() for this one".into(),
            )),
        }
    }

    /// Runs one query and returns its result as arrow2 chunks.
    pub fn query_arrow(&self, sql: &str, params: impl Params) -> Result<ArrowResult> {
        Ok(self.query(sql, params)?.into_arrow())
    }

    /// Appends rows to `table` in one atomic commit: the fast bulk-load path.
    ///
    /// `chunk` holds one arrow2 array per table column, in table order, of the column's type
    /// (see [`DataType::to_arrow`](crate::DataType::to_arrow)). NOT NULL and PRIMARY KEY are
    /// enforced; on any error nothing is appended. Returns the number of rows appended.
    pub fn append(&self, table: &str, chunk: arrow::chunk::Chunk<Box<dyn arrow::array::Array>>) -> Result<u64> {
        let mut session = self.session.lock().unwrap_or_else(|p| p.into_inner());
        Ok(session.append(table, storage::Batch::new(chunk.into_arrays()))?)
    }

    /// Calls `handler` as a long statement on this connection (or its clones) makes progress:
    /// today `COPY ... FROM` (and so the shell's `.import`), which reports the bytes of its
    /// file read so far. The handler sees [`Progress::done`] grow and its last call has
    /// `done == total`; then the import commits. Calls come one at a time, from the import's
    /// threads, at most once per 64Ki rows per thread, so a handler that prints should
    /// rate-limit itself (with [`Progress::elapsed`], say). Replaces an earlier handler.
    ///
    /// ```
    /// use heliosdb_nano::{Database, Progress};
    /// use std::sync::{Arc, Mutex};
    /// let dir = tempfile::tempdir().unwrap();
    /// let csv = dir.path().join("t.csv");
    /// std::fs::write(&csv, "1,one\n2,two\n").unwrap();
    /// let conn = Database::open_in_memory()?.connect();
    /// conn.execute("CREATE TABLE t (id INTEGER, name TEXT)", ())?;
    /// let seen = Arc::new(Mutex::new(Vec::new()));
    /// let sink = seen.clone();
    /// conn.set_progress_handler(move |p: &Progress| sink.lock().unwrap().push((p.done, p.total)));
    /// conn.execute(&format!("COPY t FROM '{}'", csv.display()), ())?;
    /// assert_eq!(seen.lock().unwrap().last(), Some(&(12, 12)));
    /// # Ok::<(), heliosdb_nano::Error>(())
    /// ```
    pub fn set_progress_handler(&self, handler: impl Fn(&Progress) + Send + Sync + 'static) {
        let mut session = self.session.lock().unwrap_or_else(|p| p.into_inner());
        session.set_progress_handler(Some(Arc::new(handler)));
    }

    /// Removes the progress handler (see [`Connection::set_progress_handler`]).
    pub fn clear_progress_handler(&self) {
        let mut session = self.session.lock().unwrap_or_else(|p| p.into_inner());
        session.set_progress_handler(None);
    }

    /// Starts a transaction on this connection (`BEGIN`): statements run on the connection
    /// (or its clones, which share the session) until [`Transaction::commit`] or
    /// [`Transaction::rollback`] read one snapshot and become visible to others all at once.
    /// Dropping the handle without committing rolls back.
    ///
    /// ```
    /// use heliosdb_nano::Database;
    /// let conn = Database::open_in_memory()?.connect();
    /// conn.execute("CREATE TABLE acct (id INTEGER PRIMARY KEY, balance BIGINT)", ())?;
    /// conn.execute("INSERT INTO acct VALUES (1, 100), (2, 0)", ())?;
    /// let tx = conn.transaction()?;
    /// tx.execute("UPDATE acct SET balance = balance - 30 WHERE id = 1", ())?;
    /// tx.execute("UPDATE acct SET balance = balance + 30 WHERE id = 2", ())?;
    /// tx.commit()?;
    /// let total: i64 = conn.query("SELECT sum(balance) FROM acct", ())?.row(0).unwrap().get(0)?;
    /// assert_eq!(total, 100);
    /// # Ok::<(), heliosdb_nano::Error>(())
    /// ```
    pub fn transaction(&self) -> Result<Transaction> {
        self.run_one("BEGIN", Vec::new())?;
        Ok(Transaction { conn: self.clone(), done: false })
    }

    /// Whether a transaction is open on this connection.
    pub fn in_transaction(&self) -> bool {
        self.session.lock().unwrap_or_else(|p| p.into_inner()).in_transaction()
    }

    /// The names of all tables, sorted.
    pub fn table_names(&self) -> Vec<String> {
        let session = self.session.lock().unwrap_or_else(|p| p.into_inner());
        session.engine().table_names()
    }

    /// `CREATE TABLE` text for a table, or `None` when there is no such table.
    pub fn table_sql(&self, name: &str) -> Option<String> {
        let session = self.session.lock().unwrap_or_else(|p| p.into_inner());
        session.engine().table_schema(name).map(|s| s.to_sql())
    }
}

/// An open transaction on a [`Connection`] (see [`Connection::transaction`]). Runs statements
/// like the connection it came from (it dereferences to it); rolls back when dropped
/// uncommitted.
#[derive(Debug)]
pub struct Transaction {
    conn: Connection,
    done: bool,
}

impl Transaction {
    /// Commits. On a write-write conflict the error's [`Error::sqlstate`] is `40001` and the
    /// transaction was rolled back: run it again.
    pub fn commit(mut self) -> Result<()> {
        self.done = true;
        self.conn.run_one("COMMIT", Vec::new()).map(|_| ())
    }

    /// Discards every change of the transaction.
    pub fn rollback(mut self) -> Result<()> {
        self.done = true;
        self.conn.run_one("ROLLBACK", Vec::new()).map(|_| ())
    }
}

impl std::ops::Deref for Transaction {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        &self.conn
    }
}

impl Drop for Transaction {
    fn drop(&mut self) {
        if !self.done && self.conn.in_transaction() {
            let _ = self.conn.run_one("ROLLBACK", Vec::new());
        }
    }
}

fn output(out: QueryOutput) -> Output {
    match out {
        QueryOutput::Rows { columns, batches } => Output::Rows(Rows::new(
            columns.into_iter().map(|(name, data_type)| Column { name, data_type }).collect(),
            batches,
        )),
        QueryOutput::Affected(n) => Output::Affected(n),
        QueryOutput::Done => Output::Ok,
    }
}

/// A prepared statement (see [`Connection::prepare`]); cheap to clone, `Send + Sync`.
#[derive(Clone)]
pub struct Statement {
    conn: Connection,
    prepared: Arc<sql::Prepared>,
}

impl std::fmt::Debug for Statement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Statement").finish_non_exhaustive()
    }
}

impl Statement {
    /// Runs the statement with `params` and says what it produced.
    pub fn run(&self, params: impl Params) -> Result<Output> {
        let mut session = self.conn.session.lock().unwrap_or_else(|p| p.into_inner());
        Ok(output(session.execute_prepared(&self.prepared, &params.into_values())?))
    }

    /// Runs the statement and returns the number of rows it changed.
    pub fn execute(&self, params: impl Params) -> Result<u64> {
        Ok(match self.run(params)? {
            Output::Affected(n) => n,
            _ => 0,
        })
    }

    /// Runs the query and returns its rows.
    pub fn query(&self, params: impl Params) -> Result<Rows> {
        match self.run(params)? {
            Output::Rows(rows) => Ok(rows),
            _ => Err(Error::InvalidArgument(
                "query() needs a statement that returns rows; use execute() for this one".into(),
            )),
        }
    }

    /// Runs the query and returns its result as arrow2 chunks.
    pub fn query_arrow(&self, params: impl Params) -> Result<ArrowResult> {
        Ok(self.query(params)?.into_arrow())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync + Clone>() {}

    #[test]
    fn connection_is_send_sync_clone() {
        assert_send_sync::<Connection>();
        assert_send_sync::<Statement>();
        assert_send_sync::<Database>();
    }

    #[test]
    fn open_file_path_is_refused_clearly() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("data.duckdb");
        std::fs::write(&file, b"not ours").unwrap();
        let err = Database::open(&file).unwrap_err().to_string();
        assert!(err.contains("not a HeliosDB database directory"), "{err}");
    }
}
