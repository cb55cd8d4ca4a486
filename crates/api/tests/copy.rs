//! COPY FROM / COPY TO with real files.

use heliosdb_nano::{Database, Value};

fn conn() -> heliosdb_nano::Connection {
    let conn = Database::open_in_memory().unwrap().connect();
    conn.execute(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, amount DOUBLE, day DATE, at TIMESTAMP, ok BOOLEAN)",
        (),
    )
    .unwrap();
    conn
}

fn count(conn: &heliosdb_nano::Connection, table: &str) -> i64 {
    conn.query(&format!("SELECT count(*) FROM {table}"), ()).unwrap().row(0).unwrap().get(0).unwrap()
}

#[test]
fn csv_round_trip_keeps_every_value() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.csv");
    let conn = conn();
    conn.execute(
        "INSERT INTO t VALUES (1, 'plain', 1.5, DATE '2024-01-02', TIMESTAMP '2024-01-02 03:04:05.25', true), \
         (2, 'comma, \"quote\"\nnewline', -0.125, NULL, NULL, false), (3, '', NULL, DATE '1999-12-31', NULL, NULL), \
         (4, NULL, 1e300, NULL, NULL, true)",
        (),
    )
    .unwrap();
    let p = path.display();
    assert_eq!(conn.execute(&format!("COPY t TO '{p}' (HEADER true)"), ()).unwrap(), 4);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.starts_with("id,name,amount,day,at,ok\n"), "{text}");
    conn.execute("CREATE TABLE u (id INTEGER, name TEXT, amount DOUBLE, day DATE, at TIMESTAMP, ok BOOLEAN)", ())
        .unwrap();
    assert_eq!(conn.execute(&format!("COPY u FROM '{p}' (FORMAT csv, HEADER true)"), ()).unwrap(), 4);
    let a = conn.query("SELECT * FROM t ORDER BY id", ()).unwrap();
    let b = conn.query("SELECT * FROM u ORDER BY id", ()).unwrap();
    for r in 0..4 {
        assert_eq!(a.row(r).unwrap().values(), b.row(r).unwrap().values(), "row {r}");
    }
    // The empty string and NULL stay apart.
    assert_eq!(b.row(2).unwrap().value(1).unwrap(), Value::Text(String::new()));
    assert_eq!(b.row(3).unwrap().value(1).unwrap(), Value::Null);
}

#[test]
fn a_bad_row_names_file_line_and_column_and_imports_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.csv");
    std::fs::write(&path, "1,a,1.0,2024-01-01,,true\n2,b,oops,2024-01-01,,true\n").unwrap();
    let conn = conn();
    let err = conn.execute(&format!("COPY t FROM '{}'", path.display()), ()).unwrap_err().to_string();
    assert!(err.contains("bad.csv:2") && err.contains("\"amount\"") && err.contains("oops"), "{err}");
    assert_eq!(count(&conn, "t"), 0);
    // Too few fields, a duplicate key and a missing file are errors too, and change nothing.
    std::fs::write(&path, "1,a\n").unwrap();
    let err = conn.execute(&format!("COPY t FROM '{}'", path.display()), ()).unwrap_err().to_string();
    assert!(err.contains("bad.csv:1") && err.contains("expected 6 fields"), "{err}");
    std::fs::write(&path, "1,a,,,,\n1,b,,,,\n").unwrap();
    assert!(conn.execute(&format!("COPY t FROM '{}'", path.display()), ()).is_err());
    let missing = dir.path().join("nope.csv");
    let err = conn.execute(&format!("COPY t FROM '{}'", missing.display()), ()).unwrap_err().to_string();
    assert!(err.contains("nope.csv"), "{err}");
    assert_eq!(count(&conn, "t"), 0);
}

#[test]
fn delimiters_column_lists_queries_and_trailing_delimiters() {
    let dir = tempfile::tempdir().unwrap();
    let tbl = dir.path().join("t.tbl");
    // TPC-H style: '|' separated with a trailing '|'.
    std::fs::write(&tbl, "1|one|1.25|\n2|two|2.5|\n").unwrap();
    let conn = conn();
    let n = conn.execute(&format!("COPY t (id, name, amount) FROM '{}' (DELIMITER '|')", tbl.display()), ()).unwrap();
    assert_eq!(n, 2);
    let rows = conn.query("SELECT name, amount, day FROM t ORDER BY id", ()).unwrap();
    assert_eq!(rows.row(1).unwrap().values(), vec![Value::from("two"), Value::Double(2.5), Value::Null]);
    // Text format: tab-separated, \N for NULL.
    let out = dir.path().join("q.txt");
    let n = conn
        .execute(&format!("COPY (SELECT id, name, day FROM t ORDER BY id) TO '{}' (FORMAT text)", out.display()), ())
        .unwrap();
    assert_eq!(n, 2);
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "1\tone\t\\N\n2\ttwo\t\\N\n");
}
