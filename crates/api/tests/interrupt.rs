//! Stopping running statements: `Connection::interrupt_handle` from another thread, and
//! `SET statement_timeout`. A stopped statement fails with SQLSTATE 57014 and changes nothing;
//! the connection stays usable.
//!
//! The statements stopped here would run for years (a series of 9e18 rows, a cross join of
//! 10^10 pairs), so an answer can only come from the interrupt; each test waits for it with a
//! generous bound, so a broken interrupt fails the test instead of hanging the suite.

use heliosdb_nano::{Connection, Database, Error};
use std::sync::mpsc;
use std::time::Duration;

/// Far longer than any interrupt needs, even in a loaded debug build.
const BOUND: Duration = Duration::from_secs(120);

const ENDLESS: &str = "SELECT count(*) FROM generate_series(1, 9000000000000000000)";

/// Runs `sql` on a clone of `conn` on another thread and interrupts it (repeatedly, since an
/// interrupt that arrives before the statement starts is forgotten) until it answers.
fn run_interrupted(conn: &Connection, sql: &str) -> Result<usize, Error> {
    let (tx, rx) = mpsc::channel();
    let runner = conn.clone();
    let owned = sql.to_string();
    std::thread::spawn(move || {
        let _ = tx.send(runner.query(&owned, ()).map(|rows| rows.len()));
    });
    let handle = conn.interrupt_handle();
    let start = std::time::Instant::now();
    loop {
        match rx.recv_timeout(Duration::from_millis(20)) {
            Ok(result) => return result,
            Err(mpsc::RecvTimeoutError::Timeout) if start.elapsed() < BOUND => handle.interrupt(),
            Err(e) => panic!("no answer {BOUND:?} after interrupting {sql:?}: {e}"),
        }
    }
}

/// Runs `sql` and waits for its answer at most [`BOUND`].
fn run_bounded<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(BOUND).expect("the statement did not stop within the bound")
}

fn assert_cancelled(err: &Error, message: &str) {
    assert_eq!(err.sqlstate(), Some("57014"), "{err}");
    assert!(err.to_string().contains(message), "{err}");
}

/// A table of `n` rows: x = 1..n, g = x % 7.
fn table(conn: &Connection, n: usize) {
    conn.execute_batch(&format!(
        "CREATE TABLE t (x BIGINT, g BIGINT); INSERT INTO t SELECT i, i % 7 FROM generate_series(1, {n}) AS s(i);"
    ))
    .unwrap();
}

#[test]
fn an_interrupt_stops_an_endless_query_and_the_connection_goes_on() {
    let db = Database::open_in_memory().unwrap();
    let conn = db.connect();
    let err = run_interrupted(&conn, ENDLESS).unwrap_err();
    assert_cancelled(&err, "query interrupted");
    let rows = conn.query("SELECT count(*) FROM generate_series(1, 10)", ()).unwrap();
    assert_eq!(rows.row(0).unwrap().get::<i64>(0).unwrap(), 10);
}

#[test]
fn an_interrupt_between_statements_is_forgotten() {
    let db = Database::open_in_memory().unwrap();
    let conn = db.connect();
    conn.interrupt_handle().interrupt();
    let rows = conn.query("SELECT count(*) FROM generate_series(1, 100000)", ()).unwrap();
    assert_eq!(rows.row(0).unwrap().get::<i64>(0).unwrap(), 100_000);
}

#[test]
fn interrupts_reach_joins_correlated_subqueries_and_parallel_workers() {
    let db = Database::open_in_memory().unwrap();
    let conn = db.connect();
    table(&conn, 100_000);
    conn.execute("SET threads = 2", ()).unwrap();
    for sql in [
        // A nested-loop join of 10^10 pairs.
        "SELECT count(*) FROM t a JOIN t b ON a.x + b.x < 0",
        // A correlated subquery (ORDER BY + LIMIT: not decorrelated) run for each of 100,000
        // outer values, each scanning t.
        "SELECT count(*) FROM t WHERE (SELECT t2.x FROM t t2 WHERE t2.x * 2 > t.x ORDER BY t2.x DESC LIMIT 1) < 0",
        // A parallel aggregate over a scan whose filter calls that subquery.
        "SELECT g, count(*) FROM t WHERE x > (SELECT max(t2.x) FROM t t2 WHERE t2.g = t.g AND t2.x * 3 <> t.x) \
         GROUP BY g",
        // A window whose frames overlap: 10^10 rows fed to the aggregate.
        "SELECT count(s) FROM (SELECT sum(x) OVER (ORDER BY g RANGE BETWEEN 10 PRECEDING AND CURRENT ROW) AS s \
         FROM t) w",
        // A recursive CTE that never stops adding rows (it would hit the step limit first).
        "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r, t WHERE t.x = 1) SELECT count(*) FROM r",
    ] {
        match run_interrupted(&conn, sql) {
            Err(err) => assert_cancelled(&err, "query interrupted"),
            Ok(rows) => panic!("{sql} answered {rows} row(s)"),
        }
    }
    let rows = conn.query("SELECT count(*), sum(x) FROM t", ()).unwrap();
    assert_eq!(rows.row(0).unwrap().get::<i64>(0).unwrap(), 100_000);
}

#[test]
fn statement_timeout_stops_a_statement_and_can_be_shown_and_reset() {
    let db = Database::open_in_memory().unwrap();
    let conn = db.connect();
    let show = |conn: &Connection| -> String {
        conn.query("SHOW statement_timeout", ()).unwrap().row(0).unwrap().get::<String>(0).unwrap()
    };
    assert_eq!(show(&conn), "0");
    conn.execute("SET statement_timeout = 50", ()).unwrap();
    assert_eq!(show(&conn), "50ms");
    let c = conn.clone();
    let err = run_bounded(move || c.query(ENDLESS, ()).unwrap_err());
    assert_cancelled(&err, "canceling statement due to statement timeout (50 ms)");
    // A statement within the limit is not touched.
    assert_eq!(conn.query("SELECT 1", ()).unwrap().len(), 1);

    for (value, shown) in [("'2s'", "2000ms"), ("'1.5 min'", "90000ms"), ("'250ms'", "250ms"), ("0", "0")] {
        conn.execute(&format!("SET statement_timeout = {value}"), ()).unwrap();
        assert_eq!(show(&conn), shown, "SET statement_timeout = {value}");
    }
    conn.execute("SET statement_timeout = 10", ()).unwrap();
    conn.execute("SET statement_timeout TO DEFAULT", ()).unwrap();
    assert_eq!(show(&conn), "0");
    for bad in ["'soon'", "'-5s'", "'5 fortnights'", "'99999999999'"] {
        let err = conn.execute(&format!("SET statement_timeout = {bad}"), ()).unwrap_err();
        assert!(err.to_string().contains("invalid value for statement_timeout"), "{bad}: {err}");
    }
    assert_eq!(show(&conn), "0", "a bad value changes nothing");
}

#[test]
fn a_cancelled_write_changes_nothing() {
    let db = Database::open_in_memory().unwrap();
    let conn = db.connect();
    table(&conn, 1_000);
    conn.execute("SET statement_timeout = '100ms'", ()).unwrap();
    let c = conn.clone();
    let err = run_bounded(move || {
        c.execute("INSERT INTO t SELECT i, 0 FROM generate_series(1, 9000000000000000000) AS s(i)", ()).unwrap_err()
    });
    assert_cancelled(&err, "statement timeout");
    let c = conn.clone();
    let err = run_bounded(move || {
        c.execute("DELETE FROM t WHERE x IN (SELECT i FROM generate_series(1, 9000000000000000000) AS s(i))", ())
            .unwrap_err()
    });
    assert_cancelled(&err, "statement timeout");
    conn.execute("SET statement_timeout = 0", ()).unwrap();
    let count = |conn: &Connection| conn.query("SELECT count(*) FROM t", ()).unwrap().row(0).unwrap().get::<i64>(0);
    assert_eq!(count(&conn).unwrap(), 1_000);

    // Inside a transaction the cancelled statement fails the transaction, as any error does:
    // nothing of it commits.
    conn.execute("BEGIN", ()).unwrap();
    conn.execute("INSERT INTO t VALUES (-1, -1)", ()).unwrap();
    let err = run_interrupted(&conn, "SELECT count(*) FROM t a, t b, t c WHERE a.x + b.x + c.x < 0").unwrap_err();
    assert_cancelled(&err, "query interrupted");
    assert!(conn.execute("COMMIT", ()).is_err(), "a failed transaction does not commit");
    assert_eq!(count(&conn).unwrap(), 1_000);
}
