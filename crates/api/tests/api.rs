//! End-to-end tests of the public API: statements, parameters, typed row access, arrow export,
//! and the promise that bad input gets a clear error and changes nothing.

use heliosdb_nano::{params, Database, Error, Output, Value};

fn conn() -> heliosdb_nano::Connection {
    let db = Database::open_in_memory().unwrap();
    let conn = db.connect();
    conn.execute_batch(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, score DOUBLE, born DATE);
         INSERT INTO t VALUES (1, 'ann', 9.5, '2000-01-02'), (2, 'bob', NULL, NULL), (3, NULL, 7.25, '1999-12-31');",
    )
    .unwrap();
    conn
}

fn count(conn: &heliosdb_nano::Connection, table: &str) -> i64 {
    conn.query(&format!("SELECT COUNT(*) FROM {table}"), ()).unwrap().row(0).unwrap().get(0).unwrap()
}

#[test]
fn select_with_params_and_typed_access() {
    let conn = conn();
    let rows = conn.query("SELECT id, name, score FROM t WHERE id >= ? AND name IS NOT NULL ORDER BY id", [1]).unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows.column_names(), vec!["id", "name", "score"]);
    let first = rows.row(0).unwrap();
    assert_eq!(first.get::<i32>("id").unwrap(), 1);
    assert_eq!(first.get::<String>(1).unwrap(), "ann");
    assert_eq!(first.get::<f64>("score").unwrap(), 9.5);
    let second = rows.row(1).unwrap();
    assert_eq!(second.get::<Option<f64>>("score").unwrap(), None);
    // $n parameters, mixed types.
    let rows = conn.query("SELECT name FROM t WHERE id = $2 OR name = $1", params!["ann", 2]).unwrap();
    assert_eq!(rows.len(), 2);
}

#[test]
fn row_access_errors_are_clear() {
    let conn = conn();
    let rows = conn.query("SELECT id, name, score FROM t WHERE id = 2", ()).unwrap();
    let row = rows.row(0).unwrap();
    let err = row.get::<i64>("nmae").unwrap_err().to_string();
    assert!(err.contains("no column named \"nmae\""), "{err}");
    let err = row.get::<i64>("name").unwrap_err().to_string();
    assert!(err.contains("TEXT") && err.contains("i64"), "{err}");
    let err = row.get::<f64>("score").unwrap_err().to_string();
    assert!(err.contains("NULL"), "{err}");
    assert!(row.get::<i64>(7).is_err());
}

#[test]
fn arrow_export() {
    let conn = conn();
    let res = conn.query_arrow("SELECT id, score FROM t ORDER BY id", ()).unwrap();
    assert_eq!(res.schema.fields.len(), 2);
    assert_eq!(res.schema.fields[1].name, "score");
    let n: usize = res.chunks.iter().map(|c| c.len()).sum();
    assert_eq!(n, 3);
}

#[test]
fn aggregates_group_by_having_order() {
    let conn = conn();
    conn.execute("INSERT INTO t VALUES (4, 'ann', 0.5, NULL), (5, 'bob', 1.0, NULL)", ()).unwrap();
    let rows = conn
        .query(
            "SELECT name, COUNT(*) AS n, SUM(score), AVG(score), MIN(id), MAX(id), COUNT(DISTINCT name) FROM t \
             GROUP BY name HAVING COUNT(*) > 1 ORDER BY name DESC NULLS LAST",
            (),
        )
        .unwrap();
    let got: Vec<Vec<Value>> = rows.iter().map(|r| r.values()).collect();
    assert_eq!(
        got,
        vec![
            vec![
                Value::from("bob"),
                Value::BigInt(2),
                Value::Double(1.0),
                Value::Double(1.0),
                Value::Integer(2),
                Value::Integer(5),
                Value::BigInt(1)
            ],
            vec![
                Value::from("ann"),
                Value::BigInt(2),
                Value::Double(10.0),
                Value::Double(5.0),
                Value::Integer(1),
                Value::Integer(4),
                Value::BigInt(1)
            ],
        ]
    );
}

#[test]
fn errors_change_nothing() {
    let conn = conn();
    // A failing row in a multi-row INSERT inserts nothing.
    let err = conn.execute("INSERT INTO t VALUES (10, 'x', 1, NULL), (11, 'y', 1 / 0, NULL)", ()).unwrap_err();
    assert!(err.to_string().contains("division by zero"), "{err}");
    assert_eq!(count(&conn, "t"), 3);
    // Duplicate primary key, within the statement and against committed rows.
    let err = conn.execute("INSERT INTO t VALUES (20, 'a', 1, NULL), (1, 'b', 2, NULL)", ()).unwrap_err();
    assert!(err.to_string().contains("duplicate key") && err.to_string().contains("(id)=(1)"), "{err}");
    let err = conn.execute("INSERT INTO t (id) VALUES (30), (30)", ()).unwrap_err();
    assert!(err.to_string().contains("duplicate key"), "{err}");
    assert_eq!(count(&conn, "t"), 3);
    // NOT NULL (the primary key implies it).
    let err = conn.execute("INSERT INTO t (name) VALUES ('nobody')", ()).unwrap_err();
    assert!(err.to_string().contains("not-null"), "{err}");
    // Type mismatch and bad literal.
    let err = conn.execute("INSERT INTO t (id, born) VALUES (40, 'not a date')", ()).unwrap_err();
    assert!(err.to_string().contains("invalid input syntax for type DATE"), "{err}");
    let err = conn.query("SELECT name + 1 FROM t", ()).unwrap_err();
    assert!(err.to_string().contains("operator does not exist: TEXT + INTEGER"), "{err}");
    assert_eq!(count(&conn, "t"), 3);
}

#[test]
fn unknown_names_suggest_the_closest() {
    let conn = conn();
    let err = conn.query("SELECT nmae FROM t", ()).unwrap_err();
    assert_eq!(err.to_string(), "column \"nmae\" does not exist; did you mean \"name\"? (at line 1, column 8)");
    assert_eq!(err.position(), Some((1, 8)));
    let err = conn.query("SELECT * FROM tt", ()).unwrap_err();
    assert!(err.to_string().contains("did you mean \"t\""), "{err}");
    let err = conn.query("SELECT lenght(name) FROM t", ()).unwrap_err();
    assert!(err.to_string().contains("did you mean \"length\""), "{err}");
}

#[test]
fn parse_errors_point_at_the_position() {
    let conn = conn();
    let err = conn.query("SELEC 1", ()).unwrap_err();
    assert!(matches!(err, Error::Sql(_)));
    assert_eq!(err.position(), Some((1, 1)));
    assert!(err.to_string().starts_with("syntax error at line 1, column 1"), "{err}");
}

#[test]
fn run_reports_what_a_statement_did() {
    let db = Database::open_in_memory().unwrap();
    let conn = db.connect();
    assert!(matches!(conn.run("CREATE TABLE x (a INT)", ()).unwrap(), Output::Ok));
    assert!(matches!(conn.run("INSERT INTO x SELECT 1", ()).unwrap(), Output::Affected(1)));
    assert!(matches!(conn.run("INSERT INTO x SELECT a + 1 FROM x", ()).unwrap(), Output::Affected(1)));
    match conn.run("SELECT SUM(a) FROM x", ()).unwrap() {
        Output::Rows(rows) => assert_eq!(rows.value(0, 0), Value::BigInt(3)),
        other => panic!("expected rows, got {other:?}"),
    }
    assert_eq!(conn.table_names(), vec!["x".to_string()]);
    assert!(conn.table_sql("x").unwrap().contains("a INTEGER"));
    conn.execute("DROP TABLE x", ()).unwrap();
    assert!(conn.table_names().is_empty());
}

#[test]
fn connection_is_shared_across_threads() {
    let conn = conn();
    let handles: Vec<_> = (0..4)
        .map(|k| {
            let c = conn.clone();
            std::thread::spawn(move || {
                c.execute("INSERT INTO t (id, name) VALUES (?, 'thread')", [100 + k]).unwrap();
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(count(&conn, "t"), 7);
}

#[test]
fn append_is_atomic_and_checked() {
    use heliosdb_nano::arrow::array::{Float64Array, Int32Array, Int32Array as I, Utf8Array};
    use heliosdb_nano::arrow::chunk::Chunk;
    let conn = conn();
    let ok = Chunk::new(vec![
        I::from_slice([50, 51]).boxed(),
        Utf8Array::<i32>::from_slice(["p", "q"]).boxed(),
        Float64Array::from_slice([1.0, 2.0]).boxed(),
        heliosdb_nano::arrow::array::PrimitiveArray::<i32>::from([None::<i32>, None])
            .to(heliosdb_nano::DataType::Date.to_arrow())
            .boxed(),
    ]);
    assert_eq!(conn.append("t", ok.clone()).unwrap(), 2);
    assert!(conn.append("t", ok).unwrap_err().to_string().contains("duplicate key"));
    let wrong = Chunk::new(vec![Int32Array::from_slice([60]).boxed()]);
    assert!(conn.append("t", wrong).is_err());
    assert_eq!(count(&conn, "t"), 5);
}

#[test]
fn prepared_statements_run_many_times() {
    let conn = Database::open_in_memory().unwrap().connect();
    conn.execute("CREATE TABLE ev (id BIGINT, kind TEXT, v DOUBLE)", ()).unwrap();
    let insert = conn.prepare("INSERT INTO ev VALUES (?, ?, ?)").unwrap();
    for i in 0..20i64 {
        let kind = if i % 2 == 0 { "even" } else { "odd" };
        assert_eq!(insert.execute(params![i, kind, i as f64 * 1.5]).unwrap(), 1);
    }
    let by_kind = conn.prepare("SELECT count(*), sum(v) FROM ev WHERE kind = $1 AND id >= $2").unwrap();
    let row = |rows: heliosdb_nano::Rows| {
        (rows.row(0).unwrap().get::<i64>(0).unwrap(), rows.row(0).unwrap().value(1).unwrap())
    };
    assert_eq!(row(by_kind.query(params!["even", 0]).unwrap()), (10, Value::Double(135.0)));
    assert_eq!(row(by_kind.query(params!["odd", 10]).unwrap()), (5, Value::Double(112.5)));
    // Another parameter type binds again and still answers.
    assert_eq!(row(by_kind.query(params!["even", 10.5]).unwrap()).0, 4);
    // A committed write is visible to the next run of the same statement.
    insert.execute(params![100, "odd", 1.0]).unwrap();
    assert_eq!(row(by_kind.query(params!["odd", 10]).unwrap()).0, 6);
    // Parameters in LIMIT and in subqueries.
    let top = conn
        .prepare("SELECT id FROM ev WHERE v > (SELECT avg(v) FROM ev WHERE kind = $1) ORDER BY id LIMIT $2")
        .unwrap();
    assert_eq!(top.query(params!["even", 3]).unwrap().len(), 3);
    assert_eq!(top.query(params!["even", 1]).unwrap().len(), 1);
    // A text parameter compared with a number behaves like a quoted literal.
    let by_id = conn.prepare("SELECT kind FROM ev WHERE id = ?").unwrap();
    assert_eq!(by_id.query(params!["3"]).unwrap().row(0).unwrap().get::<String>(0).unwrap(), "odd");
    assert_eq!(by_id.query(params![4]).unwrap().row(0).unwrap().get::<String>(0).unwrap(), "even");
    // Dropping and recreating the table with another shape: the statement binds again.
    conn.execute("DROP TABLE ev", ()).unwrap();
    assert!(by_id.query(params![4]).unwrap_err().to_string().contains("ev"));
    conn.execute("CREATE TABLE ev (kind TEXT, id INTEGER)", ()).unwrap();
    conn.execute("INSERT INTO ev VALUES ('new', 4)", ()).unwrap();
    assert_eq!(by_id.query(params![4]).unwrap().row(0).unwrap().get::<String>(0).unwrap(), "new");
    // Bad SQL fails at prepare time, with its position; a missing parameter at run time.
    let err = conn.prepare("SELECT FROM WHERE").unwrap_err();
    assert!(err.position().is_some(), "{err}");
    assert!(by_id.query(()).unwrap_err().to_string().contains("parameter $1"));
}

#[test]
fn deep_expressions_are_refused_cleanly() {
    // Runs on a test thread (2 MiB of stack): the depth limit must hold well inside it.
    let conn = Database::open_in_memory().unwrap().connect();
    let sum = |n: usize| format!("SELECT {}", vec!["1"; n].join(" + "));
    let ok = conn.query(&sum(250), ()).unwrap();
    assert_eq!(ok.row(0).unwrap().get::<i64>(0).unwrap(), 250);
    let err = conn.query(&sum(20_000), ()).unwrap_err().to_string();
    assert!(err.contains("nested too deeply"), "{err}");
    let parens = format!("SELECT {}1{}", "(".repeat(5000), ")".repeat(5000));
    assert!(conn.query(&parens, ()).is_err());
    // A long IN list is not deep.
    let list: Vec<String> = (0..20_000).map(|i| i.to_string()).collect();
    let rows = conn.query(&format!("SELECT 7 IN ({})", list.join(", ")), ()).unwrap();
    assert!(rows.row(0).unwrap().get::<bool>(0).unwrap());
}

/// `UPDATE`/`DELETE ... WHERE pk = constant` take the key index instead of a scan: the
/// results must be those of the scan (own uncommitted rows, keys that are absent, other
/// predicates, a changed key, a conflict with a concurrent writer).
#[test]
fn updates_by_primary_key_match_the_scan() {
    let db = Database::open_in_memory().unwrap();
    let conn = db.connect();
    conn.execute_batch(
        "CREATE TABLE kv (k BIGINT PRIMARY KEY, v BIGINT); INSERT INTO kv VALUES (1, 10), (2, 20), (3, 30);",
    )
    .unwrap();
    let update = conn.prepare("UPDATE kv SET v = v + 1 WHERE k = $1").unwrap();
    assert_eq!(update.execute((2i64,)).unwrap(), 1);
    assert_eq!(update.execute((2i64,)).unwrap(), 1, "the new version is found by its key");
    assert_eq!(update.execute((9i64,)).unwrap(), 0, "absent key");
    assert_eq!(conn.execute("UPDATE kv SET v = 0 WHERE 3 = k", ()).unwrap(), 1);
    assert_eq!(conn.execute("UPDATE kv SET v = 0 WHERE k = 1 AND v = 99", ()).unwrap(), 0);
    assert_eq!(conn.execute("UPDATE kv SET k = 5 WHERE k = 1", ()).unwrap(), 1, "a changed key");
    assert_eq!(conn.execute("DELETE FROM kv WHERE k = 1", ()).unwrap(), 0);
    let tx = conn.transaction().unwrap();
    tx.execute("INSERT INTO kv VALUES (7, 70)", ()).unwrap();
    assert_eq!(tx.execute("UPDATE kv SET v = 71 WHERE k = 7", ()).unwrap(), 1, "own uncommitted row");
    assert_eq!(tx.execute("DELETE FROM kv WHERE k = 5", ()).unwrap(), 1);
    tx.commit().unwrap();
    let rows: Vec<(i64, i64)> = conn
        .query("SELECT k, v FROM kv ORDER BY k", ())
        .unwrap()
        .iter()
        .map(|r| (r.get(0).unwrap(), r.get(1).unwrap()))
        .collect();
    assert_eq!(rows, vec![(2, 22), (3, 0), (7, 71)]);
    // A concurrent writer: the key index already points at its new version, which the old
    // snapshot does not see; the scan finds the old version and the delete conflicts.
    let other = db.connect();
    let tx = conn.transaction().unwrap();
    assert_eq!(count_kv(&tx), 3);
    other.execute("UPDATE kv SET v = 0 WHERE k = 2", ()).unwrap();
    let err = tx.execute("UPDATE kv SET v = 1 WHERE k = 2", ()).unwrap_err();
    assert_eq!(err.sqlstate(), Some("40001"), "{err}");
}

fn count_kv(conn: &heliosdb_nano::Connection) -> i64 {
    conn.query("SELECT count(*) FROM kv", ()).unwrap().row(0).unwrap().get(0).unwrap()
}

/// INSERT/UPDATE/DELETE ... RETURNING come back through `query` as rows, with parameters.
#[test]
fn returning_rows_come_back_through_query() {
    let conn = Database::open_in_memory().unwrap().connect();
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)", params![]).unwrap();
    let rows =
        conn.query("INSERT INTO t VALUES ($1, $2), (2, 'b') RETURNING id, upper(name) AS up", params![1, "a"]).unwrap();
    assert_eq!(rows.column_names(), vec!["id", "up"]);
    assert_eq!(rows.len(), 2);
    assert_eq!(rows.row(0).unwrap().get::<String>(1).unwrap(), "A");
    let rows = conn.query("UPDATE t SET name = name || '!' WHERE id = $1 RETURNING name", params![2]).unwrap();
    assert_eq!(rows.row(0).unwrap().get::<String>(0).unwrap(), "b!");
    let rows = conn.query("DELETE FROM t RETURNING id", params![]).unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(conn.query("SELECT count(*) FROM t", params![]).unwrap().row(0).unwrap().get::<i64>(0).unwrap(), 0);
}

/// All rows of `sql`, each row's values as text, sorted.
fn sorted_rows(conn: &heliosdb_nano::Connection, sql: &str) -> Vec<String> {
    let rows = conn.query(sql, ()).unwrap_or_else(|e| panic!("{sql}: {e}"));
    let mut out: Vec<String> =
        rows.iter().map(|r| r.values().iter().map(|v| format!("{v:?}")).collect::<Vec<_>>().join("|")).collect();
    out.sort();
    out
}

#[test]
fn a_join_key_matching_many_rows_is_joined_in_slices_with_the_same_answer() {
    // Each probe row of `a` matches 20 build rows of `b`: a batch of 2,048 probe rows makes
    // 40,960 pairs, more than one slice (8 batches). The hash joins must agree with the same
    // conditions written so that only a nested-loop join can run them.
    let conn = conn();
    conn.execute_batch(
        "CREATE TABLE a (i BIGINT, k BIGINT); CREATE TABLE b (j BIGINT, k BIGINT);
         INSERT INTO a SELECT i, CASE WHEN i % 50 = 0 THEN NULL ELSE i % 3 END FROM generate_series(1, 5000) s(i);
         INSERT INTO b SELECT j, j % 2 FROM generate_series(1, 40) s(j);",
    )
    .unwrap();
    for (hash, nested) in [
        ("a JOIN b ON a.k = b.k", "a JOIN b ON a.k <= b.k AND a.k >= b.k"),
        (
            "a LEFT JOIN b ON a.k = b.k AND a.i % 7 <> b.j % 5",
            "a LEFT JOIN b ON a.k <= b.k AND a.k >= b.k AND a.i % 7 <> b.j % 5",
        ),
        ("a RIGHT JOIN b ON a.k = b.k AND a.i < b.j", "a RIGHT JOIN b ON a.k <= b.k AND a.k >= b.k AND a.i < b.j"),
        (
            "a FULL JOIN b ON a.k = b.k AND a.i + b.j < 30",
            "a FULL JOIN b ON a.k <= b.k AND a.k >= b.k AND a.i + b.j < 30",
        ),
    ] {
        let q = |from: &str| format!("SELECT count(*), count(a.i), sum(a.i), count(b.j), sum(a.i * b.j) FROM {from}");
        assert_eq!(sorted_rows(&conn, &q(hash)), sorted_rows(&conn, &q(nested)), "{hash}");
    }
    for (hash, nested) in [
        (
            "EXISTS (SELECT 1 FROM b WHERE b.k = a.k AND b.j > a.i % 45)",
            "EXISTS (SELECT 1 FROM b WHERE b.k <= a.k AND b.k >= a.k AND b.j > a.i % 45)",
        ),
        (
            "NOT EXISTS (SELECT 1 FROM b WHERE b.k = a.k AND b.j > a.i % 45)",
            "NOT EXISTS (SELECT 1 FROM b WHERE b.k <= a.k AND b.k >= a.k AND b.j > a.i % 45)",
        ),
    ] {
        let q = |cond: &str| format!("SELECT count(*), sum(i) FROM a WHERE {cond}");
        assert_eq!(sorted_rows(&conn, &q(hash)), sorted_rows(&conn, &q(nested)), "{hash}");
    }
    let joined = sorted_rows(&conn, "SELECT count(*) FROM a JOIN b ON a.k = b.k");
    // Rows of `a` with key 1 or 0 (not NULL) each match b's 20 rows with that key.
    let ones = (1..=5000).filter(|i| i % 50 != 0 && i % 3 == 1).count() * 20;
    let zeros = (1..=5000).filter(|i| i % 50 != 0 && i % 3 == 0).count() * 20;
    assert_eq!(joined, vec![format!("{:?}", Value::BigInt((ones + zeros) as i64))]);
}
