//! Operators end to end through the public API, on the workload loaded once at
//! `HELIOSDB_BENCH_ROWS` order lines (default 1,000,000): hash aggregation (low and high
//! cardinality), hash joins to the dimension tables, sort and top-N, window functions, and a
//! filtered scan. Each query wraps its operator so that only a row or a few come back, keeping
//! result conversion out of the measurement. `{last_order}` in a query is replaced by N - 1.
//!
//! `cargo bench -p bench --bench operators` (the whole-workload comparison with DuckDB is
//! `cargo xtask bench`).

use bench::{load, Workload, DEFAULT_BATCH_ROWS};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use heliosdb_nano::{Connection, Database};
use std::time::Duration;

const GROUPS: &[(&str, &[(&str, &str)])] = &[
    (
        "aggregate",
        &[
            ("scalar SUM/COUNT (q02)", "SELECT COUNT(*), SUM(amount), SUM(quantity) FROM orders"),
            ("20 groups: country", "SELECT country, SUM(amount), COUNT(*) FROM orders GROUP BY country"),
            (
                "~7.5k groups: product_id",
                "SELECT COUNT(*), SUM(s) FROM (SELECT product_id, SUM(amount) AS s FROM orders GROUP BY product_id) t",
            ),
            (
                "N:20 groups: customer_id",
                "SELECT COUNT(*), SUM(s) FROM (SELECT customer_id, SUM(amount) AS s FROM orders GROUP BY customer_id) t",
            ),
            ("COUNT(DISTINCT customer_id) (q12)", "SELECT COUNT(DISTINCT customer_id) FROM orders"),
        ],
    ),
    (
        "join",
        &[
            (
                "orders x customers (N:20 build rows)",
                "SELECT c.segment, SUM(o.amount) FROM orders o JOIN customers c ON o.customer_id = c.customer_id \
                 GROUP BY c.segment",
            ),
            (
                "orders x products (10k build rows)",
                "SELECT p.category, COUNT(*) FROM orders o JOIN products p ON p.product_id = o.product_id \
                 GROUP BY p.category",
            ),
        ],
    ),
    (
        "sort",
        &[
            ("top-10 by amount", "SELECT order_id, amount FROM orders ORDER BY amount DESC, order_id LIMIT 10"),
            (
                "full sort by amount (last row)",
                "SELECT amount, order_id FROM orders ORDER BY amount, order_id \
                 LIMIT 1 OFFSET {last_order}",
            ),
        ],
    ),
    (
        "window",
        &[
            (
                "row_number() per country by amount",
                "SELECT MAX(r) FROM (SELECT row_number() OVER (PARTITION BY country ORDER BY amount) AS r FROM orders) t",
            ),
            (
                "8-row moving AVG per product by time",
                "SELECT SUM(m) FROM (SELECT AVG(amount) OVER (PARTITION BY product_id ORDER BY timestamp \
                 ROWS BETWEEN 7 PRECEDING AND CURRENT ROW) AS m FROM orders) t",
            ),
        ],
    ),
    (
        "scan",
        &[
            ("filter country = 'DE' AND amount > 450", "SELECT COUNT(*) FROM orders WHERE country = 'DE' AND amount > 450.0"),
            ("needle product_id = 4242 (q13)", "SELECT COUNT(*), SUM(amount) FROM orders WHERE product_id = 4242"),
        ],
    ),
];

fn rows() -> u64 {
    std::env::var("HELIOSDB_BENCH_ROWS").ok().and_then(|v| v.replace('_', "").parse().ok()).unwrap_or(1_000_000)
}

fn connection(rows: u64) -> Connection {
    let conn = Database::open_in_memory().expect("an in-memory database").connect();
    load(&conn, &Workload::new(rows), DEFAULT_BATCH_ROWS).expect("loading the workload");
    conn
}

fn operators(c: &mut Criterion) {
    let rows = rows();
    let conn = connection(rows);
    for (group_name, queries) in GROUPS {
        let mut group = c.benchmark_group(*group_name);
        group.sample_size(10).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(5));
        group.throughput(Throughput::Elements(rows));
        for (name, sql) in *queries {
            let sql = &sql.replace("{last_order}", &(rows - 1).to_string());
            // Fail early, with the query, rather than inside the timing loop.
            conn.query(sql, ()).unwrap_or_else(|e| panic!("{name}: {e}\n{sql}"));
            group.bench_function(*name, |b| b.iter(|| conn.query(sql, ()).unwrap()));
        }
        group.finish();
    }
}

criterion_group!(benches, operators);
criterion_main!(benches);
