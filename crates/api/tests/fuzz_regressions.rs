//! Statements the SQL fuzzer (`cargo xtask fuzz`) once crashed the engine with, reduced.
//! Each must end in a result or a clean error.

use heliosdb_nano::{Database, Value};

fn conn() -> heliosdb_nano::Connection {
    let conn = Database::open_in_memory().unwrap().connect();
    conn.execute_batch(
        "CREATE TABLE t (k BIGINT PRIMARY KEY, name TEXT, r REAL, ts TIMESTAMP);
         INSERT INTO t VALUES (1, 'a', 1.5, TIMESTAMP '2024-01-01 00:00:00'), (2, 'b', 'NaN', NULL), (3, NULL, NULL, NULL);
         CREATE TABLE s (k BIGINT, v TEXT);",
    )
    .unwrap();
    conn
}

#[test]
fn no_select_list_with_a_repeated_order_key() {
    let rows = conn().query("SELECT FROM t ORDER BY ts, ts", ()).unwrap();
    assert_eq!((rows.len(), rows.columns().len()), (3, 0));
}

#[test]
fn percentile_of_nulls_only_is_null() {
    let rows = conn().query("SELECT percentile_cont(0.9) WITHIN GROUP (ORDER BY NULL)", ()).unwrap();
    assert_eq!(rows.row(0).unwrap().value(0).unwrap(), Value::Null);
}

#[test]
fn insert_select_with_an_in_subquery_keeps_the_columns_it_reads() {
    let conn = conn();
    let n = conn.execute("INSERT INTO s (k) SELECT k FROM t WHERE name IN (SELECT 'a')", ()).unwrap();
    assert_eq!(n, 1);
}

#[test]
fn window_keys_holding_nan_are_computed() {
    let conn = conn();
    let rows = conn.query("SELECT count(*) OVER (ORDER BY CAST('NaN' AS REAL))", ()).unwrap();
    assert_eq!(rows.row(0).unwrap().get::<i64>(0).unwrap(), 1);
    let rows = conn.query("SELECT (SELECT count(*) OVER (ORDER BY t.r)) FROM t ORDER BY k", ()).unwrap();
    assert_eq!(rows.len(), 3);
}

#[test]
fn very_long_operator_chains_are_refused_not_a_stack_overflow() {
    let conn = conn();
    let chain = format!("SELECT {}", vec!["1"; 100_000].join(" + "));
    let err = conn.query(&chain, ()).unwrap_err().to_string();
    assert!(err.contains("nested too deeply"), "{err}");
}

#[test]
fn quoted_literals_alone_are_text() {
    let rows = conn().query("SELECT coalesce('a'), greatest('a', 'b'), nullif('a', 'b')", ()).unwrap();
    assert_eq!(rows.row(0).unwrap().values(), vec![Value::from("a"), Value::from("b"), Value::from("a")]);
}

#[test]
fn a_window_call_as_the_operand_of_an_in_subquery() {
    let rows = conn().query("SELECT k, row_number() OVER (ORDER BY k) IN (SELECT 2) FROM t ORDER BY k", ()).unwrap();
    let got: Vec<Value> = rows.iter().map(|r| r.value(1).unwrap()).collect();
    assert_eq!(got, vec![Value::Boolean(false), Value::Boolean(true), Value::Boolean(false)]);
}
