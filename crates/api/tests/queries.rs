//! Multi-table queries through the public API: joins of every kind, set operations,
//! CTEs, derived tables and uncorrelated subqueries.

use heliosdb_nano::{Connection, Database, Value};

fn setup() -> Connection {
    let conn = Database::open_in_memory().unwrap().connect();
    conn.execute_batch(
        "CREATE TABLE a (id INTEGER, x TEXT);
         CREATE TABLE b (id INTEGER, y DOUBLE);
         INSERT INTO a VALUES (1, 'one'), (2, 'two'), (3, 'three'), (NULL, 'null');
         INSERT INTO b VALUES (2, 2.5), (3, 3.5), (3, 30.5), (4, 4.5), (NULL, 0.0);",
    )
    .unwrap();
    conn
}

fn rows(conn: &Connection, sql: &str) -> Vec<String> {
    let rows = conn.query(sql, ()).unwrap_or_else(|e| panic!("{sql}: {e}"));
    let mut out: Vec<String> =
        rows.iter().map(|r| r.values().iter().map(Value::to_string).collect::<Vec<_>>().join(" ")).collect();
    out.sort();
    out
}

#[test]
fn joins() {
    let c = setup();
    assert_eq!(
        rows(&c, "SELECT a.id, x, y FROM a JOIN b ON a.id = b.id"),
        ["2 two 2.5", "3 three 3.5", "3 three 30.5"]
    );
    assert_eq!(
        rows(&c, "SELECT a.id, y FROM a LEFT JOIN b ON a.id = b.id"),
        ["1 NULL", "2 2.5", "3 3.5", "3 30.5", "NULL NULL"]
    );
    assert_eq!(
        rows(&c, "SELECT b.id, x FROM a RIGHT JOIN b ON a.id = b.id"),
        ["2 two", "3 three", "3 three", "4 NULL", "NULL NULL"]
    );
    assert_eq!(rows(&c, "SELECT COUNT(*) FROM a FULL JOIN b ON a.id = b.id"), ["7"]);
    assert_eq!(rows(&c, "SELECT COUNT(*) FROM a, b"), ["20"]);
    assert_eq!(rows(&c, "SELECT COUNT(*) FROM a CROSS JOIN b WHERE a.id < b.id"), ["8"]);
    assert_eq!(rows(&c, "SELECT a.id, b.id FROM a JOIN b ON a.id + 1 = b.id AND b.y > 3"), ["2 3", "2 3", "3 4"]);
    assert_eq!(rows(&c, "SELECT id, x, y FROM a JOIN b USING (id)"), ["2 two 2.5", "3 three 3.5", "3 three 30.5"]);
    assert_eq!(rows(&c, "SELECT * FROM a NATURAL JOIN b WHERE y < 3"), ["2 two 2.5"]);
    // Self-join with aliases; a WHERE equality becomes a hash join.
    assert_eq!(rows(&c, "SELECT p.id, q.id FROM b p, b q WHERE p.id = q.id AND p.y < q.y"), ["3 3"]);
    let plan = rows(&c, "EXPLAIN SELECT * FROM a, b WHERE a.id = b.id").join("\n");
    assert!(plan.contains("HashJoinExec"), "{plan}");
    assert!(!plan.contains("unread"), "every column is read: {plan}");
    // Join keys nothing above reads are not gathered (output columns: a.id, b.id, b.y); a
    // residual condition reads its columns.
    let plan = rows(&c, "EXPLAIN SELECT SUM(y) FROM a JOIN b ON a.id = b.id").join("\n");
    assert!(plan.contains("unread=[0, 1]"), "{plan}");
    let plan = rows(&c, "EXPLAIN SELECT SUM(y) FROM a JOIN b ON a.id = b.id AND a.id < b.y").join("\n");
    assert!(plan.contains("unread=[1]"), "{plan}");
    assert_eq!(rows(&c, "SELECT SUM(y) FROM a JOIN b ON a.id = b.id AND a.id < b.y"), ["36.5"]);
    let err = c.query("SELECT id FROM a JOIN b ON a.id = b.id", ()).unwrap_err().to_string();
    assert!(err.contains("ambiguous"), "{err}");
}

#[test]
fn set_operations() {
    let c = setup();
    assert_eq!(rows(&c, "SELECT id FROM a UNION SELECT id FROM b"), ["1", "2", "3", "4", "NULL"]);
    assert_eq!(rows(&c, "SELECT id FROM a UNION ALL SELECT id FROM b").len(), 9);
    assert_eq!(rows(&c, "SELECT id FROM b INTERSECT SELECT id FROM a"), ["2", "3", "NULL"]);
    assert_eq!(rows(&c, "SELECT id FROM b INTERSECT ALL SELECT id FROM b WHERE id = 3"), ["3", "3"]);
    assert_eq!(rows(&c, "SELECT id FROM b INTERSECT SELECT id FROM b WHERE id = 3"), ["3"]);
    assert_eq!(rows(&c, "SELECT id FROM b EXCEPT SELECT id FROM a"), ["4"]);
    assert_eq!(rows(&c, "SELECT id FROM b EXCEPT ALL SELECT id FROM a"), ["3", "4"]);
    // Column types unify; ORDER BY names the left side's columns.
    let r = c.query("SELECT 1 AS v UNION ALL SELECT 2.5 ORDER BY v DESC", ()).unwrap();
    assert_eq!(r.value(0, 0), Value::Double(2.5));
    assert!(c.query("SELECT 1, 2 UNION SELECT 3", ()).is_err());
}

#[test]
fn ctes_and_derived_tables() {
    let c = setup();
    assert_eq!(rows(&c, "WITH big AS (SELECT id, y FROM b WHERE y > 3) SELECT COUNT(*), SUM(y) FROM big"), ["3 38.5"]);
    // A CTE used twice, and column aliases.
    assert_eq!(
        rows(&c, "WITH t(k) AS (SELECT DISTINCT id FROM b WHERE id IS NOT NULL) SELECT l.k, r.k FROM t l JOIN t r ON l.k + 1 = r.k"),
        ["2 3", "3 4"]
    );
    assert_eq!(rows(&c, "SELECT s.n FROM (SELECT COUNT(*) AS n FROM a) AS s"), ["4"]);
}

#[test]
fn subqueries() {
    let c = setup();
    assert_eq!(rows(&c, "SELECT x FROM a WHERE id = (SELECT MAX(id) FROM b WHERE y < 4)"), ["three"]);
    assert_eq!(rows(&c, "SELECT x FROM a WHERE id IN (SELECT id FROM b)"), ["three", "two"]);
    // NOT IN with a NULL in the list is never true.
    assert!(rows(&c, "SELECT x FROM a WHERE id NOT IN (SELECT id FROM b)").is_empty());
    assert_eq!(rows(&c, "SELECT x FROM a WHERE id NOT IN (SELECT id FROM b WHERE id IS NOT NULL)"), ["one"]);
    assert_eq!(rows(&c, "SELECT COUNT(*) FROM a WHERE EXISTS (SELECT 1 FROM b WHERE y > 30)"), ["4"]);
    assert_eq!(rows(&c, "SELECT (SELECT COUNT(*) FROM b) + 1"), ["6"]);
    let err = c.query("SELECT (SELECT id FROM b)", ()).unwrap_err().to_string();
    assert!(err.contains("more than one row"), "{err}");
}

#[test]
fn correlated_subqueries() {
    let c = setup();
    assert_eq!(rows(&c, "SELECT x FROM a WHERE EXISTS (SELECT 1 FROM b WHERE b.id = a.id)"), ["three", "two"]);
    assert_eq!(rows(&c, "SELECT x FROM a WHERE NOT EXISTS (SELECT 1 FROM b WHERE b.id = a.id)"), ["null", "one"]);
    assert_eq!(
        rows(&c, "SELECT x, (SELECT COUNT(*) FROM b WHERE b.id <= a.id) FROM a"),
        ["null 0", "one 0", "three 3", "two 1"]
    );
    assert_eq!(rows(&c, "SELECT x FROM a WHERE id IN (SELECT id FROM b WHERE b.y > a.id * 10)"), ["three"]);
    assert_eq!(
        rows(&c, "SELECT id, (SELECT MAX(y) FROM b WHERE b.id = a.id) AS m FROM a WHERE id IS NOT NULL ORDER BY m DESC NULLS LAST"),
        ["1 NULL", "2 2.5", "3 30.5"]
    );
    let err = c.query("SELECT x, (SELECT y FROM b WHERE b.id = a.id) FROM a", ()).unwrap_err().to_string();
    assert!(err.contains("more than one row"), "{err}");
}

#[test]
fn statistical_and_collecting_aggregates() {
    let c = Database::open_in_memory().unwrap().connect();
    c.execute_batch(
        "CREATE TABLE v (g TEXT, x DOUBLE, ok BOOLEAN);
         INSERT INTO v VALUES ('a', 1, true), ('a', 2, true), ('a', 3, false), ('a', 4, NULL), ('b', 10, true), ('b', NULL, NULL);",
    )
    .unwrap();
    assert_eq!(
        rows(&c, "SELECT g, var_samp(x), var_pop(x), stddev_pop(x), median(x) FROM v GROUP BY g"),
        ["a 1.6666666666666667 1.25 1.118033988749895 2.5", "b NULL 0 0 10"]
    );
    assert_eq!(
        rows(&c, "SELECT percentile_cont(0.25) WITHIN GROUP (ORDER BY x), percentile_disc(0.5) WITHIN GROUP (ORDER BY x) FROM v"),
        ["2 3"]
    );
    assert_eq!(
        rows(&c, "SELECT g, string_agg(CAST(x AS TEXT), '|'), bool_and(ok), bool_or(ok) FROM v GROUP BY g"),
        ["a 1|2|3|4 false true", "b 10 true true"]
    );
    assert_eq!(
        rows(&c, "SELECT COUNT(*) FILTER (WHERE x > 1), SUM(x) FILTER (WHERE g = 'a'), COUNT(*) FROM v"),
        ["4 10 6"]
    );
    assert!(c.query("SELECT percentile_cont(1.5) WITHIN GROUP (ORDER BY x) FROM v", ()).is_err());
    assert!(c.query("SELECT stddev(g) FROM v", ()).is_err());
}

#[test]
fn dates_times_and_intervals() {
    let c = Database::open_in_memory().unwrap().connect();
    c.execute_batch(
        "CREATE TABLE e (ts TIMESTAMP, d DATE);
         INSERT INTO e VALUES ('2025-11-29 13:45:12.5', '2024-02-29'), ('2025-11-30 00:00:00', '2024-03-01');",
    )
    .unwrap();
    assert_eq!(
        rows(&c, "SELECT date_trunc('hour', ts), EXTRACT(year FROM ts), date_part('dow', ts) FROM e"),
        ["2025-11-29 13:00:00 2025 6", "2025-11-30 00:00:00 2025 0"]
    );
    assert_eq!(
        rows(&c, "SELECT ts + INTERVAL '1 day', ts - INTERVAL '90 minutes', d + 1, d - DATE '2024-01-01' FROM e WHERE d = '2024-02-29'"),
        ["2025-11-30 13:45:12.5 2025-11-29 12:15:12.5 2024-03-01 59"]
    );
    assert_eq!(rows(&c, "SELECT MAX(ts) - MIN(ts) FROM e"), ["10:14:47.5"]);
    assert_eq!(rows(&c, "SELECT COUNT(*) FROM e WHERE ts > datetime('2025-11-30', '-1 day')"), ["2"]);
    assert_eq!(rows(&c, "SELECT DATE(ts), CAST(ts AS DATE) FROM e WHERE d > '2024-02-29'"), ["2025-11-30 2025-11-30"]);
    assert_eq!(rows(&c, "SELECT date_trunc('month', d) FROM e WHERE d < '2024-03-01'"), ["2024-02-01 00:00:00"]);
    assert_eq!(rows(&c, "SELECT INTERVAL '1 year 2 months 3 days'"), ["1 year 2 mons 3 days"]);
    // now() is a timestamp close to the wall clock.
    assert_eq!(rows(&c, "SELECT now() > TIMESTAMP '2020-01-01', current_date > DATE '2020-01-01'"), ["true true"]);
    assert!(c.query("SELECT date_trunc('fortnight', ts) FROM e", ()).is_err());
    assert!(c.query("SELECT INTERVAL 'soon'", ()).is_err());
}

/// A scan filter of several conjuncts is evaluated cheapest first, narrowing the rows between
/// conjuncts once fewer than half pass: every selectivity, NULLs in either operand, and a
/// conjunct order that differs from the cost order give the rows Rust counts directly.
#[test]
fn conjunctive_scan_filters_keep_exactly_the_rows_passing_every_conjunct() {
    let conn = Database::open_in_memory().unwrap().connect();
    conn.execute_batch("CREATE TABLE t (v INTEGER, s TEXT, w DOUBLE)").unwrap();
    let row = |i: i64| {
        let v = if i % 11 == 0 { None } else { Some(i % 100) };
        let s = if i % 13 == 0 { None } else { Some(["DE", "FR", "US"][(i % 3) as usize]) };
        (v, s, (i % 7) as f64)
    };
    let values: Vec<String> = (0..3000)
        .map(|i| {
            let (v, s, w) = row(i);
            let v = v.map_or("NULL".into(), |v| v.to_string());
            let s = s.map_or("NULL".into(), |s| format!("'{s}'"));
            format!("({v}, {s}, {w})")
        })
        .collect();
    conn.execute(&format!("INSERT INTO t VALUES {}", values.join(", ")), ()).unwrap();
    let count = |sql: &str| -> i64 {
        match conn.query(sql, ()).unwrap().row(0).unwrap().values()[0] {
            Value::BigInt(n) => n,
            ref v => panic!("{sql}: {v:?}"),
        }
    };
    for (lo, text, w) in [(90, "DE", 3.0), (5, "FR", 0.0), (0, "US", 6.0), (50, "XX", 2.0), (99, "DE", -1.0)] {
        let expected = (0..3000)
            .filter(|&i| {
                let (v, s, ww) = row(i);
                v.is_some_and(|v| v >= lo) && s == Some(text) && ww > w
            })
            .count() as i64;
        for sql in [
            format!("SELECT COUNT(*) FROM t WHERE s = '{text}' AND v >= {lo} AND w > {w}"),
            format!("SELECT COUNT(*) FROM t WHERE w > {w} AND (s = '{text}' AND v >= {lo})"),
            format!("SELECT COUNT(*) FROM t WHERE upper(s) = '{text}' AND v >= {lo} AND w > {w}"),
        ] {
            assert_eq!(count(&sql), expected, "{sql}");
        }
    }
    // The data is not degenerate: some but not all rows pass.
    let some = count("SELECT COUNT(*) FROM t WHERE s = 'DE' AND v >= 5 AND w > 0.0");
    assert!(some > 100 && some < 3000, "{some}");
}

/// `SUM(CASE WHEN c THEN 1 ELSE 0 END)` with GROUP BY is counted under the condition's mask,
/// and SUM and AVG of the same argument share one accumulator: both give what Rust computes
/// from the rows, with NULL conditions, NULL arguments, a group whose arguments are all NULL,
/// a FILTER that leaves a group empty (NULL, not 0), and no GROUP BY over no rows (NULL).
#[test]
fn counted_case_sums_and_shared_sum_avg_agree_with_their_definitions() {
    let conn = Database::open_in_memory().unwrap().connect();
    conn.execute_batch("CREATE TABLE t (g INTEGER, x INTEGER, d DOUBLE)").unwrap();
    let row = |i: i64| {
        let g = i % 5;
        let x = if i % 7 == 0 || g == 4 { None } else { Some(i % 23 - 5) };
        let d = if i % 9 == 0 || g == 4 { None } else { Some((i % 17) as f64 * 0.5) };
        (g, x, d)
    };
    let n = 4000;
    let values: Vec<String> = (0..n)
        .map(|i| {
            let (g, x, d) = row(i);
            let x = x.map_or("NULL".into(), |x| x.to_string());
            let d = d.map_or("NULL".into(), |d| d.to_string());
            format!("({g}, {x}, {d})")
        })
        .collect();
    conn.execute(&format!("INSERT INTO t VALUES {}", values.join(", ")), ()).unwrap();
    let sql = "SELECT g, SUM(CASE WHEN x > 3 THEN 1 ELSE 0 END), SUM(x), AVG(x), SUM(d), AVG(d), \
               SUM(d) FILTER (WHERE x > 100), AVG(x) FILTER (WHERE x > 3), SUM(x) FILTER (WHERE x > 3) \
               FROM t GROUP BY g ORDER BY g";
    let got = conn.query(sql, ()).unwrap();
    assert_eq!(got.len(), 5);
    for (k, r) in got.iter().enumerate() {
        let rows: Vec<_> = (0..n).map(row).filter(|r| r.0 == k as i64).collect();
        let xs: Vec<i64> = rows.iter().filter_map(|r| r.1).collect();
        let ds: Vec<f64> = rows.iter().filter_map(|r| r.2).collect();
        let big: Vec<i64> = xs.iter().copied().filter(|&x| x > 3).collect();
        let v = r.values();
        assert_eq!(v[0], Value::Integer(k as i32));
        assert_eq!(v[1], Value::BigInt(big.len() as i64), "group {k}");
        let sum_or_null = |xs: &[i64]| if xs.is_empty() { Value::Null } else { Value::BigInt(xs.iter().sum()) };
        let avg_or_null = |xs: &[i64]| {
            if xs.is_empty() {
                Value::Null
            } else {
                Value::Double(xs.iter().sum::<i64>() as f64 / xs.len() as f64)
            }
        };
        assert_eq!(v[2], sum_or_null(&xs), "group {k}");
        assert_eq!(v[3], avg_or_null(&xs), "group {k}");
        match (&v[4], &v[5]) {
            (Value::Double(s), Value::Double(a)) => {
                let want: f64 = ds.iter().sum();
                assert!((s - want).abs() < 1e-9, "group {k}: {s} vs {want}");
                assert!((a - want / ds.len() as f64).abs() < 1e-9, "group {k}: {a}");
            }
            (Value::Null, Value::Null) => assert!(ds.is_empty(), "group {k}"),
            other => panic!("group {k}: {other:?}"),
        }
        assert_eq!(v[6], Value::Null, "group {k}");
        assert_eq!(v[7], avg_or_null(&big), "group {k}");
        assert_eq!(v[8], sum_or_null(&big), "group {k}");
    }
    // Group 4 has only NULL arguments and conditions: a count of 0, NULL sums and averages.
    assert_eq!(got.row(4).unwrap().values()[1..4], [Value::BigInt(0), Value::Null, Value::Null]);
    // The data is not degenerate: some but not all rows of group 1 count.
    let counted = match got.row(1).unwrap().values()[1] {
        Value::BigInt(c) => c,
        ref v => panic!("{v:?}"),
    };
    assert!(counted > 50 && counted < n / 5, "{counted}");
    // Over no rows (and without GROUP BY) the sum is NULL, not a count of 0.
    for sql in [
        "SELECT SUM(CASE WHEN x > 3 THEN 1 ELSE 0 END), SUM(x), AVG(x) FROM t WHERE g > 10",
        "SELECT SUM(CASE WHEN x > 3 THEN 1 ELSE 0 END) FILTER (WHERE g > 10), SUM(x) FILTER (WHERE g > 10), \
         AVG(x) FILTER (WHERE g > 10) FROM t GROUP BY g HAVING g = 1",
    ] {
        let got = conn.query(sql, ()).unwrap();
        assert_eq!(got.row(0).unwrap().values(), [Value::Null, Value::Null, Value::Null], "{sql}");
    }
}

/// A dimension stored in key order with consecutive keys joins by arithmetic (probe key minus
/// the smallest key), read at the key's own width: SMALLINT, INTEGER and BIGINT keys starting
/// below zero, probe batches wholly inside the range and some with keys outside it or NULL,
/// give the matches Rust counts.
#[test]
fn consecutive_dimension_keys_join_at_every_width() {
    for ty in ["SMALLINT", "INTEGER", "BIGINT"] {
        let conn = Database::open_in_memory().unwrap().connect();
        conn.execute_batch(&format!("CREATE TABLE d (k {ty}, v INTEGER); CREATE TABLE f (k {ty}, x INTEGER)")).unwrap();
        let dim: Vec<String> = (-300i64..700).map(|k| format!("({k}, {})", k.rem_euclid(7))).collect();
        conn.execute(&format!("INSERT INTO d VALUES {}", dim.join(", ")), ()).unwrap();
        // The first 5000 fact rows all hit the range; later ones sometimes miss it or are NULL.
        let key = |i: i64| -> Option<i64> {
            if i < 5000 {
                Some(i % 1000 - 300)
            } else if i % 97 == 0 {
                None
            } else {
                Some(i % 1100 - 350)
            }
        };
        let fact: Vec<String> =
            (0..9000).map(|i| format!("({}, {i})", key(i).map_or("NULL".into(), |k| k.to_string()))).collect();
        conn.execute(&format!("INSERT INTO f VALUES {}", fact.join(", ")), ()).unwrap();
        let got = conn
            .query("SELECT d.v, COUNT(*), SUM(f.x) FROM f JOIN d ON f.k = d.k GROUP BY d.v ORDER BY d.v", ())
            .unwrap();
        let mut want = [(0i64, 0i64); 7];
        for i in 0..9000 {
            if let Some(k) = key(i).filter(|k| (-300..700).contains(k)) {
                want[k.rem_euclid(7) as usize].0 += 1;
                want[k.rem_euclid(7) as usize].1 += i;
            }
        }
        assert_eq!(got.len(), 7, "{ty}");
        for (v, r) in got.iter().enumerate() {
            assert_eq!(
                r.values(),
                [Value::Integer(v as i32), Value::BigInt(want[v].0), Value::BigInt(want[v].1)],
                "{ty}"
            );
        }
    }
}

/// percentile_cont per group, with few groups and with hundreds, NULL inputs among them,
/// equals the interpolation Rust computes over each group's sorted values.
#[test]
fn grouped_percentiles_with_few_and_many_groups() {
    let conn = Database::open_in_memory().unwrap().connect();
    conn.execute_batch("CREATE TABLE t (g INTEGER, x DOUBLE)").unwrap();
    let x = |i: i64| if i % 13 == 0 { None } else { Some(((i * 7919) % 1009) as f64 * 0.25 - 40.0) };
    let n = 6000;
    let values: Vec<String> =
        (0..n).map(|i| format!("({i}, {})", x(i).map_or("NULL".into(), |x| x.to_string()))).collect();
    conn.execute(&format!("INSERT INTO t VALUES {}", values.join(", ")), ()).unwrap();
    let cont = |xs: &mut Vec<f64>, f: f64| -> Value {
        if xs.is_empty() {
            return Value::Null;
        }
        xs.sort_by(f64::total_cmp);
        let pos = f * (xs.len() - 1) as f64;
        let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
        Value::Double(xs[lo] + (xs[hi] - xs[lo]) * (pos - lo as f64))
    };
    for groups in [3, 700] {
        let sql = format!(
            "SELECT g % {groups} AS k, percentile_cont(0.5) WITHIN GROUP (ORDER BY x), \
             percentile_cont(0.9) WITHIN GROUP (ORDER BY x) FROM t GROUP BY k ORDER BY k"
        );
        let got = conn.query(&sql, ()).unwrap();
        assert_eq!(got.len(), groups as usize);
        for (k, r) in got.iter().enumerate() {
            let mut xs: Vec<f64> = (0..n).filter(|i| i % groups == k as i64).filter_map(x).collect();
            let want = [Value::Integer(k as i32), cont(&mut xs, 0.5), cont(&mut xs, 0.9)];
            for (g, w) in r.values().iter().zip(&want) {
                match (g, w) {
                    (Value::Double(a), Value::Double(b)) => {
                        assert!((a - b).abs() < 1e-9, "{sql}: group {k}: {a} vs {b}")
                    }
                    (a, b) => assert_eq!(a, b, "{sql}: group {k}"),
                }
            }
        }
    }
}
