//! The Hermitage isolation tests (github.com/ept/hermitage), as run against PostgreSQL's
//! REPEATABLE READ: each test interleaves transactions on separate connections step by step.
//!
//! HeliosDB Nano gives snapshot isolation with first-writer-wins row locks that never wait:
//! where PostgreSQL blocks the second writer of a row until the first commits and then
//! raises "could not serialize access", we raise that error (SQLSTATE 40001) at once. Every
//! anomaly PostgreSQL's REPEATABLE READ prevents is prevented here; write skew (G2-item) and
//! anti-dependency cycles (G2) are allowed, as under any snapshot isolation.

use heliosdb_nano::{Connection, Database};

fn setup() -> (Database, Connection, Connection, Connection) {
    let db = Database::open_in_memory().unwrap();
    let setup = db.connect();
    setup.execute("CREATE TABLE test (id INTEGER PRIMARY KEY, value INTEGER)", ()).unwrap();
    setup.execute("INSERT INTO test (id, value) VALUES (1, 10), (2, 20)", ()).unwrap();
    let (t1, t2, t3) = (db.connect(), db.connect(), db.connect());
    (db, t1, t2, t3)
}

fn ok(c: &Connection, sql: &str) {
    c.execute(sql, ()).unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// `id value` pairs of a query over `test`, in order.
fn rows(c: &Connection, sql: &str) -> Vec<(i32, i32)> {
    let rows = c.query(sql, ()).unwrap_or_else(|e| panic!("{sql}: {e}"));
    rows.iter().map(|r| (r.get(0).unwrap(), r.get(1).unwrap())).collect()
}

fn serialization_failure(c: &Connection, sql: &str) {
    let err = c.execute(sql, ()).expect_err(sql);
    assert_eq!(err.sqlstate(), Some("40001"), "{sql}: {err}");
}

#[test]
fn g0_write_cycles_prevented() {
    let (_db, t1, t2, t3) = setup();
    ok(&t1, "BEGIN");
    ok(&t2, "BEGIN");
    ok(&t1, "UPDATE test SET value = 11 WHERE id = 1");
    serialization_failure(&t2, "UPDATE test SET value = 12 WHERE id = 1");
    ok(&t1, "UPDATE test SET value = 21 WHERE id = 2");
    ok(&t1, "COMMIT");
    assert_eq!(rows(&t3, "SELECT * FROM test ORDER BY id"), vec![(1, 11), (2, 21)]);
    ok(&t2, "ROLLBACK");
    assert_eq!(rows(&t3, "SELECT * FROM test ORDER BY id"), vec![(1, 11), (2, 21)]);
}

#[test]
fn g1a_aborted_reads_prevented() {
    let (_db, t1, t2, _t3) = setup();
    ok(&t1, "BEGIN");
    ok(&t2, "BEGIN");
    ok(&t1, "UPDATE test SET value = 101 WHERE id = 1");
    assert_eq!(rows(&t2, "SELECT * FROM test ORDER BY id"), vec![(1, 10), (2, 20)]);
    ok(&t1, "ROLLBACK");
    assert_eq!(rows(&t2, "SELECT * FROM test ORDER BY id"), vec![(1, 10), (2, 20)]);
    ok(&t2, "COMMIT");
}

#[test]
fn g1b_intermediate_reads_prevented() {
    let (_db, t1, t2, _t3) = setup();
    ok(&t1, "BEGIN");
    ok(&t2, "BEGIN");
    ok(&t1, "UPDATE test SET value = 101 WHERE id = 1");
    assert_eq!(rows(&t2, "SELECT * FROM test ORDER BY id"), vec![(1, 10), (2, 20)]);
    ok(&t1, "UPDATE test SET value = 11 WHERE id = 1");
    ok(&t1, "COMMIT");
    assert_eq!(rows(&t2, "SELECT * FROM test ORDER BY id"), vec![(1, 10), (2, 20)]);
    ok(&t2, "COMMIT");
}

#[test]
fn g1c_circular_information_flow_prevented() {
    let (_db, t1, t2, _t3) = setup();
    ok(&t1, "BEGIN");
    ok(&t2, "BEGIN");
    ok(&t1, "UPDATE test SET value = 11 WHERE id = 1");
    ok(&t2, "UPDATE test SET value = 22 WHERE id = 2");
    assert_eq!(rows(&t1, "SELECT * FROM test WHERE id = 2"), vec![(2, 20)]);
    assert_eq!(rows(&t2, "SELECT * FROM test WHERE id = 1"), vec![(1, 10)]);
    ok(&t1, "COMMIT");
    ok(&t2, "COMMIT");
}

#[test]
fn otv_observed_transaction_vanishes_prevented() {
    let (_db, t1, t2, t3) = setup();
    ok(&t1, "BEGIN");
    ok(&t2, "BEGIN");
    ok(&t3, "BEGIN");
    ok(&t1, "UPDATE test SET value = 11 WHERE id = 1");
    ok(&t1, "UPDATE test SET value = 19 WHERE id = 2");
    serialization_failure(&t2, "UPDATE test SET value = 12 WHERE id = 1");
    ok(&t1, "COMMIT");
    // t3 began before t1 committed: it sees neither of t1's writes, never half of them.
    assert_eq!(rows(&t3, "SELECT * FROM test WHERE id = 1"), vec![(1, 10)]);
    ok(&t2, "ROLLBACK");
    assert_eq!(rows(&t3, "SELECT * FROM test WHERE id = 2"), vec![(2, 20)]);
    ok(&t3, "COMMIT");
    assert_eq!(rows(&t3, "SELECT * FROM test ORDER BY id"), vec![(1, 11), (2, 19)]);
}

#[test]
fn pmp_predicate_many_preceders_prevented() {
    let (_db, t1, t2, _t3) = setup();
    ok(&t1, "BEGIN");
    ok(&t2, "BEGIN");
    assert_eq!(rows(&t1, "SELECT * FROM test WHERE value = 30"), vec![]);
    ok(&t2, "INSERT INTO test (id, value) VALUES (3, 30)");
    ok(&t2, "COMMIT");
    assert_eq!(rows(&t1, "SELECT * FROM test WHERE value % 3 = 0"), vec![]);
    ok(&t1, "COMMIT");
}

#[test]
fn pmp_write_predicates_prevented() {
    let (_db, t1, t2, t3) = setup();
    ok(&t1, "BEGIN");
    ok(&t2, "BEGIN");
    ok(&t1, "UPDATE test SET value = value + 10");
    serialization_failure(&t2, "DELETE FROM test WHERE value = 20");
    ok(&t1, "COMMIT");
    ok(&t2, "ROLLBACK");
    assert_eq!(rows(&t3, "SELECT * FROM test ORDER BY id"), vec![(1, 20), (2, 30)]);
}

#[test]
fn p4_lost_update_prevented() {
    let (_db, t1, t2, t3) = setup();
    ok(&t1, "BEGIN");
    ok(&t2, "BEGIN");
    assert_eq!(rows(&t1, "SELECT * FROM test WHERE id = 1"), vec![(1, 10)]);
    assert_eq!(rows(&t2, "SELECT * FROM test WHERE id = 1"), vec![(1, 10)]);
    ok(&t1, "UPDATE test SET value = 11 WHERE id = 1");
    serialization_failure(&t2, "UPDATE test SET value = 11 WHERE id = 1");
    ok(&t1, "COMMIT");
    ok(&t2, "ROLLBACK");
    // The same interleaving with t2 writing after t1 committed: still refused.
    ok(&t1, "BEGIN");
    ok(&t2, "BEGIN");
    assert_eq!(rows(&t2, "SELECT * FROM test WHERE id = 1"), vec![(1, 11)]);
    ok(&t1, "UPDATE test SET value = value + 1 WHERE id = 1");
    ok(&t1, "COMMIT");
    serialization_failure(&t2, "UPDATE test SET value = value + 1 WHERE id = 1");
    ok(&t2, "ROLLBACK");
    assert_eq!(rows(&t3, "SELECT * FROM test WHERE id = 1"), vec![(1, 12)]);
}

#[test]
fn g_single_read_skew_prevented() {
    let (_db, t1, t2, _t3) = setup();
    ok(&t1, "BEGIN");
    ok(&t2, "BEGIN");
    assert_eq!(rows(&t1, "SELECT * FROM test WHERE id = 1"), vec![(1, 10)]);
    assert_eq!(rows(&t2, "SELECT * FROM test WHERE id = 1"), vec![(1, 10)]);
    assert_eq!(rows(&t2, "SELECT * FROM test WHERE id = 2"), vec![(2, 20)]);
    ok(&t2, "UPDATE test SET value = 12 WHERE id = 1");
    ok(&t2, "UPDATE test SET value = 18 WHERE id = 2");
    ok(&t2, "COMMIT");
    assert_eq!(rows(&t1, "SELECT * FROM test WHERE id = 2"), vec![(2, 20)]);
    ok(&t1, "COMMIT");
}

#[test]
fn g_single_write_predicate_prevented() {
    let (_db, t1, t2, t3) = setup();
    ok(&t1, "BEGIN");
    ok(&t2, "BEGIN");
    assert_eq!(rows(&t1, "SELECT * FROM test WHERE id = 1"), vec![(1, 10)]);
    ok(&t2, "UPDATE test SET value = 12 WHERE id = 1");
    ok(&t2, "UPDATE test SET value = 18 WHERE id = 2");
    ok(&t2, "COMMIT");
    serialization_failure(&t1, "DELETE FROM test WHERE value = 20");
    ok(&t1, "ROLLBACK");
    assert_eq!(rows(&t3, "SELECT * FROM test ORDER BY id"), vec![(1, 12), (2, 18)]);
}

#[test]
fn g2_item_write_skew_is_allowed() {
    // Allowed under snapshot isolation, as in PostgreSQL's REPEATABLE READ: each transaction
    // reads both rows, writes a different one, and both commit.
    let (_db, t1, t2, t3) = setup();
    ok(&t1, "BEGIN");
    ok(&t2, "BEGIN");
    assert_eq!(rows(&t1, "SELECT * FROM test WHERE id IN (1, 2) ORDER BY id"), vec![(1, 10), (2, 20)]);
    assert_eq!(rows(&t2, "SELECT * FROM test WHERE id IN (1, 2) ORDER BY id"), vec![(1, 10), (2, 20)]);
    ok(&t1, "UPDATE test SET value = 11 WHERE id = 1");
    ok(&t2, "UPDATE test SET value = 21 WHERE id = 2");
    ok(&t1, "COMMIT");
    ok(&t2, "COMMIT");
    assert_eq!(rows(&t3, "SELECT * FROM test ORDER BY id"), vec![(1, 11), (2, 21)]);
}

#[test]
fn g2_anti_dependency_cycles_are_allowed() {
    // Also allowed under snapshot isolation (PostgreSQL prevents it only in SERIALIZABLE).
    let (_db, t1, t2, t3) = setup();
    ok(&t1, "BEGIN");
    ok(&t2, "BEGIN");
    assert_eq!(rows(&t1, "SELECT * FROM test WHERE value % 3 = 0"), vec![]);
    assert_eq!(rows(&t2, "SELECT * FROM test WHERE value % 3 = 0"), vec![]);
    ok(&t1, "INSERT INTO test (id, value) VALUES (3, 30)");
    ok(&t2, "INSERT INTO test (id, value) VALUES (4, 42)");
    ok(&t1, "COMMIT");
    ok(&t2, "COMMIT");
    assert_eq!(rows(&t3, "SELECT * FROM test WHERE value % 3 = 0 ORDER BY id"), vec![(3, 30), (4, 42)]);
}

#[test]
fn concurrent_inserts_of_one_key_first_committer_wins() {
    let (_db, t1, t2, t3) = setup();
    ok(&t1, "BEGIN");
    ok(&t2, "BEGIN");
    ok(&t1, "INSERT INTO test VALUES (5, 50)");
    ok(&t2, "INSERT INTO test VALUES (5, 51)");
    ok(&t1, "COMMIT");
    let err = t2.execute("COMMIT", ()).unwrap_err();
    assert_eq!(err.sqlstate(), Some("23505"), "{err}");
    assert_eq!(rows(&t3, "SELECT * FROM test WHERE id = 5"), vec![(5, 50)]);
    // ON CONFLICT against a key committed after the snapshot is a serialization failure.
    ok(&t1, "BEGIN");
    ok(&t2, "BEGIN");
    ok(&t1, "SELECT 1");
    ok(&t3, "INSERT INTO test VALUES (6, 60)");
    serialization_failure(&t1, "INSERT INTO test VALUES (6, 61) ON CONFLICT (id) DO NOTHING");
    ok(&t1, "ROLLBACK");
    ok(&t2, "ROLLBACK");
}

#[test]
fn transaction_handle_rolls_back_on_drop() {
    let (_db, t1, _t2, t3) = setup();
    {
        let tx = t1.transaction().unwrap();
        tx.execute("DELETE FROM test", ()).unwrap();
        assert_eq!(rows(&tx, "SELECT * FROM test"), vec![]);
    }
    assert!(!t1.in_transaction());
    assert_eq!(rows(&t3, "SELECT * FROM test ORDER BY id"), vec![(1, 10), (2, 20)]);
    let tx = t1.transaction().unwrap();
    tx.execute("DELETE FROM test WHERE id = 1", ()).unwrap();
    tx.commit().unwrap();
    assert_eq!(rows(&t3, "SELECT * FROM test"), vec![(2, 20)]);
}
