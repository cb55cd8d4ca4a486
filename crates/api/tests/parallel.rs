//! Parallel pipelines (`SET threads = N`) give the single-threaded answers: the same rows in
//! the same order (GROUP BY without ORDER BY included), the same errors; floating-point sums
//! and statistics may differ in their last bits only.

use heliosdb_nano::{Connection, Database, Value};

/// `orders` in 12 commits (so 12 scan parts: the workers' morsels) and `customers` in one.
fn conn() -> Connection {
    let db = Database::open_in_memory().unwrap();
    let conn = db.connect();
    conn.execute_batch(
        "CREATE TABLE orders (id BIGINT, cust INTEGER, amount DOUBLE, qty INTEGER, country TEXT, day DATE);
         CREATE TABLE customers (cust INTEGER, segment TEXT);",
    )
    .unwrap();
    let mut seed: u64 = 42;
    let mut next = move |m: u64| {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (seed >> 33) % m
    };
    let countries = ["'DE'", "'FR'", "'US'", "'JP'", "NULL"];
    let mut id = 0;
    for _ in 0..12 {
        let rows: Vec<String> = (0..150)
            .map(|_| {
                id += 1;
                let qty = if next(20) == 0 { "NULL".to_string() } else { next(9).to_string() };
                let amount = if next(25) == 0 { "NULL".to_string() } else { format!("{}.{}", next(500), next(100)) };
                format!(
                    "({id}, {}, {amount}, {qty}, {}, DATE '2025-11-01' + {})",
                    next(40),
                    countries[next(5) as usize],
                    next(10)
                )
            })
            .collect();
        conn.execute(&format!("INSERT INTO orders VALUES {}", rows.join(", ")), ()).unwrap();
    }
    // Customers 0..34, plus one without orders, one with a NULL key and one with a NULL segment.
    let mut customers: Vec<String> =
        (0..35).map(|c| format!("({c}, '{}')", ["retail", "pro", "enterprise"][c % 3])).collect();
    customers.extend(["(90, 'pro')", "(NULL, 'retail')", "(36, NULL)"].map(String::from));
    conn.execute(&format!("INSERT INTO customers VALUES {}", customers.join(", ")), ()).unwrap();
    // A dimension in key order (smaller than orders, so the joins build it) whose label comes
    // in runs of 600 ids, but for one id.
    conn.execute_batch(
        "CREATE TABLE dim (id INTEGER, label TEXT);
         INSERT INTO dim SELECT i, CASE WHEN i = 1234 THEN 'odd' ELSE 'L' || (i / 600) END
         FROM generate_series(0, 1699) AS t(i);",
    )
    .unwrap();
    conn
}

/// Every row of `sql`'s answer, or its error message.
fn answer(conn: &Connection, threads: usize, sql: &str) -> Result<Vec<Vec<Value>>, String> {
    conn.execute(&format!("SET threads = {threads}"), ()).unwrap();
    let rows = conn.query(sql, ()).map_err(|e| e.to_string())?;
    Ok((0..rows.len()).map(|i| rows.row(i).unwrap().values()).collect())
}

fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Double(x), Value::Double(y)) => x == y || (x - y).abs() <= 1e-9 * x.abs().max(y.abs()),
        _ => a == b,
    }
}

const QUERIES: &[&str] = &[
    "SELECT country, COUNT(*), SUM(qty), MIN(amount), MAX(id), COUNT(amount) FROM orders GROUP BY country",
    "SELECT cust, COUNT(DISTINCT qty), SUM(amount), AVG(qty) FROM orders WHERE qty > 2 GROUP BY cust",
    "SELECT country, cust, SUM(qty), COUNT(DISTINCT day) FROM orders WHERE amount < 300.0 GROUP BY country, cust",
    "SELECT day, AVG(amount), var_pop(qty), stddev(amount), MIN(country) FROM orders GROUP BY day",
    "SELECT COUNT(*), COUNT(DISTINCT country), SUM(amount), percentile_cont(0.5) WITHIN GROUP (ORDER BY amount),
            percentile_disc(0.9) WITHIN GROUP (ORDER BY qty), bool_and(qty >= 0), bool_or(qty > 7) FROM orders",
    "SELECT c.segment, COUNT(*), SUM(o.qty), percentile_cont(0.99) WITHIN GROUP (ORDER BY o.amount)
     FROM orders o JOIN customers c ON o.cust = c.cust GROUP BY c.segment",
    "SELECT o.country, COUNT(c.segment), COUNT(*) FROM orders o LEFT JOIN customers c ON o.cust = c.cust
     GROUP BY o.country",
    "SELECT qty, COUNT(*) FROM orders WHERE day >= DATE '2025-11-05' GROUP BY qty HAVING COUNT(*) > 10",
    "SELECT string_agg(country, ',') FROM orders WHERE id < 40",
    "SELECT SUM(qty / (qty - 5)) FROM orders",
    "SELECT country, SUM(amount) AS s FROM orders GROUP BY country ORDER BY s DESC LIMIT 2",
    // COUNT(DISTINCT int) without GROUP BY: bitmaps over small ranges (negative ones too), and
    // a range that outgrows the bitmap midway (from id 1000 on).
    "SELECT COUNT(DISTINCT cust), COUNT(DISTINCT id), COUNT(DISTINCT day), COUNT(DISTINCT cust - 20),
            COUNT(DISTINCT CASE WHEN id > 1000 THEN id * 100000000 ELSE id % 7 END), COUNT(DISTINCT qty)
     FROM orders",
    "SELECT SUM(DISTINCT cust), COUNT(DISTINCT qty) FILTER (WHERE amount > 100.0) FROM orders WHERE id % 3 = 0",
    // LEFT / RIGHT / FULL joins that keep unmatched build rows (customers, the smaller side, is
    // built), NULL join keys and NULL group keys among them.
    "SELECT c.segment, COUNT(DISTINCT c.cust), COUNT(o.id), SUM(o.amount), COUNT(*)
     FROM customers c LEFT JOIN orders o ON c.cust = o.cust AND o.qty = 3 GROUP BY c.segment",
    "SELECT o.day, COUNT(DISTINCT c.cust), SUM(CASE WHEN o.qty > 4 THEN 1 ELSE 0 END), AVG(o.amount)
     FROM customers c LEFT JOIN orders o ON c.cust = o.cust GROUP BY o.day",
    "SELECT c.cust, COUNT(o.id) FROM orders o RIGHT JOIN customers c ON o.cust = c.cust AND o.day > DATE '2025-11-08'
     GROUP BY c.cust",
    "SELECT COUNT(*), COUNT(o.id), COUNT(c.cust), COUNT(DISTINCT c.segment) FROM orders o FULL JOIN customers c
     ON o.cust = c.cust",
    // GROUP BY a build-side text column, through its codes or not (another reader of it).
    "SELECT c.segment, COUNT(*), SUM(o.amount) FROM orders o JOIN customers c ON o.cust = c.cust
     WHERE o.qty > 1 GROUP BY c.segment",
    "SELECT c.segment, MIN(c.segment), COUNT(*) FROM orders o JOIN customers c ON o.cust = c.cust GROUP BY c.segment",
    "SELECT upper(c.segment), COUNT(*) FROM orders o LEFT JOIN customers c ON o.cust = c.cust GROUP BY upper(c.segment)",
    "SELECT c.segment, COUNT(*) FROM orders o LEFT JOIN customers c ON o.cust = c.cust GROUP BY c.segment",
    // GROUP BY expressions over build-side columns, coded once per build row: two keys; one
    // that fails on a build row no order matches (customer 90), as the join never does; a
    // LEFT JOIN keeping its unmatched build rows (the shape of q09).
    "SELECT upper(c.segment), length(c.segment) AS n, COUNT(*), SUM(o.amount) FROM orders o JOIN customers c
     ON o.cust = c.cust GROUP BY upper(c.segment), length(c.segment)",
    "SELECT c.segment, 10 / (c.cust - 90) AS k, COUNT(*) FROM orders o JOIN customers c ON o.cust = c.cust
     GROUP BY c.segment, 10 / (c.cust - 90)",
    "SELECT c.segment IS NULL, COUNT(DISTINCT c.cust), SUM(o.qty), COUNT(*) FROM customers c LEFT JOIN orders o
     ON c.cust = o.cust GROUP BY c.segment IS NULL",
    // Aggregates that duplicates do not change, over build-side columns, answered from the
    // build rows that reach them: the matched ones of an inner join (few, through a probe
    // filter), every one of a LEFT JOIN; with FILTER; alone; none matched. Not with a filter
    // above the join (it drops some joined rows of a customer) nor a FULL JOIN (its
    // NULL-extended probe rows).
    "SELECT c.segment, COUNT(DISTINCT c.cust), MIN(c.cust), MAX(c.cust) FILTER (WHERE c.cust > 5),
            COUNT(DISTINCT c.cust % 4), bool_or(c.cust > 30), COUNT(*), SUM(o.amount)
     FROM orders o JOIN customers c ON o.cust = c.cust WHERE o.qty > 6 AND o.day = DATE '2025-11-01' GROUP BY c.segment",
    "SELECT upper(c.segment), COUNT(DISTINCT c.cust) FROM orders o JOIN customers c ON o.cust = c.cust GROUP BY upper(c.segment)",
    "SELECT c.segment, COUNT(DISTINCT c.cust), MAX(c.cust) FROM orders o JOIN customers c ON o.cust = c.cust
     WHERE o.qty > 100 GROUP BY c.segment",
    "SELECT upper(c.segment), COUNT(DISTINCT c.cust), MAX(c.cust), MIN(c.cust), COUNT(o.id) FROM customers c
     LEFT JOIN orders o ON c.cust = o.cust GROUP BY upper(c.segment)",
    "SELECT upper(c.segment), COUNT(DISTINCT c.cust), MAX(c.cust), COUNT(o.id) FROM customers c
     LEFT JOIN orders o ON c.cust = o.cust WHERE o.qty IS NULL OR o.qty < 2 GROUP BY upper(c.segment)",
    "SELECT c.segment, COUNT(DISTINCT c.cust), COUNT(*) FROM orders o FULL JOIN customers c ON o.cust = c.cust
     GROUP BY c.segment",
    // GROUP BY a dimension's label that comes in runs (block codes), inner and LEFT JOIN.
    "SELECT d.label, COUNT(*), SUM(o.qty), COUNT(DISTINCT d.id) FROM orders o JOIN dim d ON o.id = d.id GROUP BY d.label",
    "SELECT d.label, COUNT(*), SUM(o.qty), MAX(o.day) FROM dim d LEFT JOIN orders o ON d.id = o.id GROUP BY d.label",
    // mode: per-worker value counts merged by adding.
    "SELECT day, mode(qty), mode() WITHIN GROUP (ORDER BY country), mode(cust % 3) FROM orders GROUP BY day",
    "SELECT mode(country), mode(qty) FILTER (WHERE amount > 100.0) FROM orders",
    // A self-join on a dense integer key with a residual condition, grouped by two integers
    // (the shape of q10); the same join on a sparse key (a hashed join table); probe keys
    // below, inside and above the build keys' range, and NULL ones.
    "SELECT a.cust, b.cust, COUNT(*), SUM(b.qty) FROM orders a JOIN orders b ON a.id / 3 = b.id / 3 AND a.cust < b.cust
     GROUP BY a.cust, b.cust",
    "SELECT a.cust, b.cust, COUNT(*) FROM orders a JOIN orders b ON a.id * 1000003 = b.id * 1000003 + 3000009
     GROUP BY a.cust, b.cust",
    "SELECT c.segment, COUNT(*), COUNT(o.qty) FROM orders o JOIN customers c ON o.qty * 9 - 20 = c.cust GROUP BY c.segment",
    // Group tables: one integer key indexing an array while its range is small, and moving
    // to a hash map when a later batch widens it past the limit (ids kept); two integer keys
    // with NULLs in either; one text key with NULLs (above, GROUP BY country).
    // Grouped COUNT(DISTINCT int): values in one group each (the last-group cache hits), in
    // several groups, and over a range too wide for the cache.
    "SELECT cust % 7, COUNT(DISTINCT cust), COUNT(DISTINCT qty), COUNT(DISTINCT id * 1000003) FROM orders GROUP BY cust % 7",
    // Percentiles sharing one accumulator (same function and input, other fractions).
    "SELECT day, percentile_cont(0.5) WITHIN GROUP (ORDER BY amount), percentile_cont(0.9) WITHIN GROUP (ORDER BY amount),
            percentile_disc(0.1) WITHIN GROUP (ORDER BY qty), percentile_disc(0.7) WITHIN GROUP (ORDER BY qty) FROM orders GROUP BY day",
    "SELECT CASE WHEN id > 1500 THEN id * 1000003 ELSE id % 37 END AS k, COUNT(*), SUM(qty) FROM orders GROUP BY k",
    "SELECT -id / 5 AS k, COUNT(*), MIN(country) FROM orders GROUP BY k",
    "SELECT qty, cust % 5, COUNT(*), SUM(amount) FROM orders GROUP BY qty, cust % 5",
    "SELECT qty, day, COUNT(*) FROM orders WHERE amount > 100.0 OR amount IS NULL GROUP BY day, qty",
    "WITH p AS (SELECT a.cust AS c1, b.cust AS c2, COUNT(*) AS n FROM orders a JOIN orders b
                ON a.id / 3 = b.id / 3 AND a.cust < b.cust GROUP BY a.cust, b.cust)
     SELECT c1, c2, n, CAST(n AS DOUBLE) / (SELECT SUM(n) FROM p) FROM p ORDER BY n DESC, c1, c2 LIMIT 7",
];

#[test]
fn parallel_answers_equal_single_threaded_ones() {
    let conn = conn();
    for sql in QUERIES {
        let one = answer(&conn, 1, sql);
        for threads in [2, 3, 8] {
            let many = answer(&conn, threads, sql);
            match (&one, &many) {
                (Ok(a), Ok(b)) => {
                    assert_eq!(a.len(), b.len(), "{sql} with {threads} threads");
                    for (ra, rb) in a.iter().zip(b) {
                        assert!(
                            ra.len() == rb.len() && ra.iter().zip(rb).all(|(x, y)| same(x, y)),
                            "{sql} with {threads} threads: {ra:?} vs {rb:?}"
                        );
                    }
                }
                (Err(a), Err(b)) => assert_eq!(a, b, "{sql}"),
                _ => panic!("{sql} with {threads} threads: {one:?} vs {many:?}"),
            }
        }
    }
    // The data is not degenerate: groups exist and the error query fails.
    assert!(answer(&conn, 1, QUERIES[0]).unwrap().len() == 5);
    let distinct = answer(&conn, 1, QUERIES[11]).unwrap();
    assert_eq!(distinct[0][..3], [Value::BigInt(40), Value::BigInt(1800), Value::BigInt(10)]);
    // Customer 90, the NULL key and customer 36 have no orders: the LEFT JOIN keeps them.
    let left = answer(&conn, 2, QUERIES[13]).unwrap();
    assert_eq!(left.len(), 4, "{left:?}");
    let right = answer(&conn, 2, QUERIES[15]).unwrap();
    assert_eq!(right.len(), 38, "{right:?}");
    assert!(answer(&conn, 2, "SELECT SUM(qty / (qty - 5)) FROM orders").is_err());
    // The key that fails on customer 90 never fails: no order has that customer.
    let guarded = QUERIES.iter().find(|q| q.contains("10 / (c.cust - 90)")).unwrap();
    assert!(answer(&conn, 2, guarded).unwrap().len() >= 3);
    // Customers without orders (NULL segment: customer 36) are kept, in their own group.
    let flags = answer(&conn, 2, QUERIES.iter().find(|q| q.contains("GROUP BY c.segment IS NULL")).unwrap()).unwrap();
    assert_eq!(flags.len(), 2, "{flags:?}");
    // The probe filter leaves few customers: their distinct count is below all customers'.
    let few = answer(&conn, 2, QUERIES.iter().find(|q| q.contains("o.qty > 6 AND")).unwrap()).unwrap();
    let counted: i64 = few.iter().map(|r| if let Value::BigInt(n) = r[1] { n } else { 0 }).sum();
    assert!(few.len() >= 2 && (2..30).contains(&counted), "{few:?}");
}

/// A join on a key whose build values span a small range uses a direct-address table, on a
/// sparse key a hash table: the same pairs either way.
#[test]
fn dense_and_hashed_join_tables_agree() {
    let conn = conn();
    let dense = "SELECT a.cust, COUNT(*), SUM(b.qty) FROM orders a JOIN orders b ON a.id / 3 = b.id / 3 + 1
                 GROUP BY a.cust ORDER BY a.cust";
    let sparse = "SELECT a.cust, COUNT(*), SUM(b.qty) FROM orders a JOIN orders b
                  ON (a.id / 3) * 1000003 = (b.id / 3 + 1) * 1000003 GROUP BY a.cust ORDER BY a.cust";
    for threads in [1, 2] {
        let d = answer(&conn, threads, dense).unwrap();
        assert_eq!(d.len(), 40);
        assert_eq!(d, answer(&conn, threads, sparse).unwrap());
    }
    // Extreme keys: differences from the build range overflow, and match nothing.
    conn.execute_batch(
        "CREATE TABLE big (k BIGINT); INSERT INTO big VALUES (9223372036854775807), (-9223372036854775808), (0), (NULL);
         CREATE TABLE small (k BIGINT); INSERT INTO small VALUES (-5), (0), (0), (7), (NULL);",
    )
    .unwrap();
    let rows = answer(&conn, 1, "SELECT b.k, COUNT(*) FROM big b JOIN small s ON b.k = s.k GROUP BY b.k").unwrap();
    assert_eq!(rows, vec![vec![Value::BigInt(0), Value::BigInt(2)]]);
    let rows = answer(&conn, 1, "SELECT COUNT(*) FROM small s JOIN big b ON b.k = s.k").unwrap();
    assert_eq!(rows, vec![vec![Value::BigInt(2)]]);
}

#[test]
fn set_threads_checks_its_value() {
    let conn = conn();
    for bad in ["SET threads = 0", "SET threads = -1", "SET threads = many", "SET threads = 100000"] {
        let err = conn.execute(bad, ()).unwrap_err().to_string();
        assert!(err.contains("threads"), "{bad}: {err}");
    }
    conn.execute("SET threads = 2", ()).unwrap();
    conn.execute("SET threads TO DEFAULT", ()).unwrap();
    let n: i64 = conn.query("SELECT COUNT(*) FROM orders", ()).unwrap().row(0).unwrap().get(0).unwrap();
    assert_eq!(n, 1800);
}

/// `sales`: 12 commits of 1,000 rows (more than four batches, so sorts run on the workers),
/// with ties, NULLs, NaN and text keys; `labels` a small table to join, with an unmatched row.
fn sales() -> Connection {
    let db = Database::open_in_memory().unwrap();
    let conn = db.connect();
    conn.execute_batch(
        "CREATE TABLE sales (id BIGINT, grp INTEGER, amount DOUBLE, name TEXT, day DATE);
         CREATE TABLE labels (grp INTEGER, label TEXT);
         INSERT INTO labels VALUES (0, 'zero'), (1, 'one'), (2, 'two'), (3, NULL), (4, 'four'), (5, 'five'), (99, 'none');",
    )
    .unwrap();
    for part in 0..12 {
        let (lo, hi) = (part * 1000 + 1, part * 1000 + 1000);
        conn.execute(
            &format!(
                "INSERT INTO sales SELECT i, i % 7,
                   CASE WHEN i % 13 = 0 THEN NULL WHEN i % 101 = 0 THEN CAST('NaN' AS DOUBLE)
                        WHEN i % 103 = 0 THEN -0.0 ELSE (i * 7919 % 500) / 4.0 - 20.0 END,
                   CASE WHEN i % 11 = 0 THEN NULL WHEN i % 17 = 0 THEN '' ELSE 'n' || (i * 31 % 97) END,
                   DATE '2025-01-01' + CAST(i % 30 AS INTEGER)
                 FROM generate_series({lo}, {hi}) AS t(i)"
            ),
            (),
        )
        .unwrap();
    }
    conn
}

/// ORDER BY on the parallel path: the same rows in the same order for every thread count, and
/// ties in input (id) order: each query equals itself with `id` appended to its keys.
#[test]
fn parallel_sorts_equal_single_threaded_ones_and_keep_ties_in_input_order() {
    let conn = sales();
    let show = |rows: Vec<Vec<Value>>| -> Vec<String> { rows.iter().map(|r| format!("{r:?}")).collect() };
    let sorts: &[(&str, &str)] = &[
        ("SELECT id, amount FROM sales ORDER BY amount DESC", ""),
        ("SELECT id, amount FROM sales ORDER BY amount DESC", " LIMIT 10"),
        ("SELECT id, amount FROM sales ORDER BY amount NULLS FIRST", " LIMIT 1500"),
        ("SELECT id, grp, name FROM sales ORDER BY grp, name DESC NULLS LAST", ""),
        ("SELECT id, name, day FROM sales WHERE grp <> 3 ORDER BY name, day DESC", " LIMIT 77"),
        ("SELECT id, day FROM sales ORDER BY day", " LIMIT 5000"),
        ("SELECT name, id FROM sales ORDER BY upper(name) DESC NULLS FIRST", ""),
        ("SELECT s.id, c.label, s.amount FROM sales s JOIN labels c ON s.grp = c.grp ORDER BY c.label, s.amount", ""),
        ("SELECT s.id, c.label FROM sales s JOIN labels c ON s.grp = c.grp ORDER BY c.label DESC", " LIMIT 25"),
        (
            "SELECT c.label, s.id, s.grp FROM labels c LEFT JOIN sales s ON s.grp = c.grp AND s.amount > 50.0
             ORDER BY c.label NULLS FIRST, s.grp NULLS FIRST",
            "",
        ),
        ("SELECT id FROM sales ORDER BY grp", " LIMIT 0"),
    ];
    for (query, limit) in sorts {
        let sql = format!("{query}{limit}");
        let one = show(answer(&conn, 1, &sql).unwrap());
        assert!(!one.is_empty() || limit.contains(" 0"), "{sql}");
        let by_id = format!("{query}, {} {limit}", if query.contains("s.id") { "s.id" } else { "id" });
        assert_eq!(one, show(answer(&conn, 1, &by_id).unwrap()), "ties of {sql} are not in input order");
        for threads in [2, 3, 8] {
            assert_eq!(show(answer(&conn, threads, &sql).unwrap()), one, "{sql} with {threads} threads");
        }
    }
    // The keys are not degenerate: NaN sorts above every number, -0 ties with 0, NULLs first
    // for DESC.
    let top = answer(&conn, 2, "SELECT amount FROM sales ORDER BY amount DESC LIMIT 1000").unwrap();
    assert_eq!(top[0][0], Value::Null);
    assert!(top.iter().any(|r| matches!(r[0], Value::Double(x) if x.is_nan())));
    let zeros = answer(&conn, 3, "SELECT id, amount FROM sales WHERE amount = 0.0 ORDER BY amount").unwrap();
    let ids: Vec<&Value> = zeros.iter().map(|r| &r[0]).collect();
    assert!(ids.windows(2).all(|w| matches!((w[0], w[1]), (Value::BigInt(a), Value::BigInt(b)) if a < b)), "{ids:?}");
    assert!(zeros.len() > 100);
}
