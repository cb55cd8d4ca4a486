//! The dashboard queries on the workload at `bench::FIXTURE_N` order lines, checked against
//! DuckDB's answers in `fixtures/` (made by `scripts/make_fixtures.py`).
//!
//! Every query runs and is compared; the test then fails for each query that differs unless it
//! is in [`KNOWN_FAILURES`] with the reason, and also for a listed query that now matches, so the
//! list only ever shrinks. Floating-point values match within a relative error of 1e-9
//! (`bench::fixture::FLOAT_TOLERANCE`); see `bench::fixture` for the rest of the rules.

use bench::fixture::{compare, Fixture, ResultSet};
use bench::queries::{all_queries, fixture_path, fixtures_dir, workload_dir};
use bench::{load, Workload, FIXTURE_N, SCHEMA_SQL};
use heliosdb_nano::Database;
use std::time::{Duration, Instant};

/// Queries whose answer is known to differ from DuckDB's (an engine bug or gap), with the reason.
/// Fix the engine, then delete the entry: the test fails while a listed query matches.
const KNOWN_FAILURES: &[(&str, &str)] = &[];

/// Rows per `Connection::append` while loading: not a divisor of the table sizes, so every table
/// is loaded in several commits with a partial last one.
const LOAD_BATCH_ROWS: usize = 7_001;

/// Runs one query and compares it with its fixture; `Err` says what differs.
fn check(conn: &heliosdb_nano::Connection, name: &str, sql: &str) -> Result<(), String> {
    let path = fixture_path(name);
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("no fixture {} ({e}); run scripts/make_fixtures.py", path.display()))?;
    let fixture = Fixture::parse(&text).map_err(|e| format!("bad fixture {}: {e}", path.display()))?;
    if fixture.n != FIXTURE_N {
        return Err(format!("fixture made at N = {}, the test runs N = {FIXTURE_N}", fixture.n));
    }
    let rows = conn.query(sql, ()).map_err(|e| format!("error: {e}"))?;
    compare(&fixture, &ResultSet::from_rows(&rows))
}

#[test]
fn dashboard_queries_match_duckdb() {
    let started = Instant::now();
    let conn = Database::open_in_memory().unwrap().connect();
    load(&conn, &Workload::new(FIXTURE_N), LOAD_BATCH_ROWS).unwrap();
    let load_time = started.elapsed();

    let queries = all_queries().unwrap();
    assert!(queries.len() >= 15, "expected q01..q15 and the extra queries, found {}", queries.len());
    let mut outcomes: Vec<(String, Result<(), String>, Duration)> = Vec::new();
    for query in &queries {
        let t = Instant::now();
        let outcome = check(&conn, &query.name, &query.sql);
        outcomes.push((query.name.clone(), outcome, t.elapsed()));
    }

    eprintln!("loaded N = {FIXTURE_N} in {load_time:.2?}");
    let mut unexpected = Vec::new();
    let mut now_passing = Vec::new();
    for (name, outcome, took) in &outcomes {
        let known = KNOWN_FAILURES.iter().find(|(n, _)| n == name);
        let status = match (outcome, known) {
            (Ok(()), None) => "pass",
            (Ok(()), Some(_)) => {
                now_passing.push(name.clone());
                "PASS (listed in KNOWN_FAILURES)"
            }
            (Err(_), Some(_)) => "known failure",
            (Err(diff), None) => {
                unexpected.push(format!("{name}:\n{}", diff.trim_end()));
                "FAIL"
            }
        };
        eprintln!("{name:<32} {status:<14} {took:>10.2?}");
        if let (Err(diff), Some((_, why))) = (outcome, known) {
            eprintln!("    known: {why}\n    {}", diff.trim_end().replace('\n', "\n    "));
        }
    }
    let stale: Vec<&str> =
        KNOWN_FAILURES.iter().map(|(n, _)| *n).filter(|n| !outcomes.iter().any(|(name, ..)| name == n)).collect();
    let failures = outcomes.iter().filter(|(_, o, _)| o.is_err()).count();
    eprintln!(
        "{} passed, {} failed ({} known), total {:.2?}",
        outcomes.len() - failures,
        failures,
        KNOWN_FAILURES.len(),
        started.elapsed()
    );

    let mut problems = unexpected;
    for name in now_passing {
        problems.push(format!("{name} now matches DuckDB: remove it from KNOWN_FAILURES"));
    }
    for name in stale {
        problems.push(format!("{name} is in KNOWN_FAILURES but there is no such query"));
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n\n"));
}

#[test]
fn every_fixture_has_a_query() {
    let queries = all_queries().unwrap();
    for entry in std::fs::read_dir(fixtures_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "result") {
            let name = path.file_stem().unwrap().to_str().unwrap();
            assert!(queries.iter().any(|q| q.name == name), "stale fixture {}: no query {name}", path.display());
        }
    }
}

#[test]
fn schema_is_the_workloads() {
    let path = workload_dir().join("schema.sql");
    let shared = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    assert_eq!(SCHEMA_SQL, shared, "bench::SCHEMA_SQL differs from {}", path.display());
}
