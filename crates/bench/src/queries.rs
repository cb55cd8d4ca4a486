//! Where the dashboard queries live, and reading them.
//!
//! The workload's own queries (`q01` .. `q15`) are read from `../shared/workload/queries`, beside
//! the repository. The extra queries in this crate's `queries/` directory check the SQLite-style
//! "seed dialect" spellings dashboards use (`datetime('now', '-1 day')`, `DATE(x)`, `::float`);
//! where DuckDB spells a query differently, `NAME.duckdb.sql` beside `NAME.sql` holds DuckDB's
//! spelling, which `scripts/make_fixtures.py` runs to make the expected result.

use std::io;
use std::path::{Path, PathBuf};

/// One query file.
#[derive(Debug, Clone)]
pub struct Query {
    /// The file name without `.sql`, e.g. `q03_revenue_by_country`.
    pub name: String,
    pub sql: String,
}

/// This crate's directory.
pub fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `../shared/workload` (relative to the repository root).
pub fn workload_dir() -> PathBuf {
    crate_dir().join("../../../shared/workload")
}

/// The workload's queries, `q01` .. `q15`.
pub fn workload_queries_dir() -> PathBuf {
    workload_dir().join("queries")
}

/// The extra seed-dialect queries.
pub fn extra_queries_dir() -> PathBuf {
    crate_dir().join("queries")
}

/// The expected results.
pub fn fixtures_dir() -> PathBuf {
    crate_dir().join("fixtures")
}

/// The fixture file of a query.
pub fn fixture_path(name: &str) -> PathBuf {
    fixtures_dir().join(format!("{name}.result"))
}

/// Every `*.sql` file of `dir` except DuckDB's spellings (`*.duckdb.sql`), sorted by name.
pub fn read_queries(dir: &Path) -> io::Result<Vec<Query>> {
    let mut queries = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let Some(file_name) = path.file_name().and_then(|f| f.to_str()) else { continue };
        let Some(name) = file_name.strip_suffix(".sql") else { continue };
        if name.ends_with(".duckdb") {
            continue;
        }
        queries.push(Query { name: name.to_string(), sql: std::fs::read_to_string(&path)? });
    }
    queries.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(queries)
}

/// The workload's queries, then the extra ones.
pub fn all_queries() -> io::Result<Vec<Query>> {
    let dir = workload_queries_dir();
    let mut queries = read_queries(&dir)
        .map_err(|e| io::Error::new(e.kind(), format!("reading the workload queries in {}: {e}", dir.display())))?;
    queries.extend(read_queries(&extra_queries_dir())?);
    Ok(queries)
}

/// The queries named by `tokens`, in `queries`' order: a token is a whole name or the part before
/// its first `_` (`q01` picks `q01_kpi_last_day`); no tokens pick every query. An unknown token
/// is an error that lists the names.
pub fn select(queries: Vec<Query>, tokens: &[String]) -> Result<Vec<Query>, String> {
    if tokens.is_empty() {
        return Ok(queries);
    }
    let matches = |q: &Query, token: &str| q.name == token || q.name.split('_').next() == Some(token);
    for token in tokens {
        if !queries.iter().any(|q| matches(q, token)) {
            let names: Vec<&str> = queries.iter().map(|q| q.name.as_str()).collect();
            return Err(format!("no query {token:?}; the queries are {}", names.join(", ")));
        }
    }
    Ok(queries.into_iter().filter(|q| tokens.iter().any(|t| matches(q, t))).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(name: &str) -> Query {
        Query { name: name.to_string(), sql: String::new() }
    }

    #[test]
    fn selects_by_prefix_or_name() {
        let all = || vec![q("q01_kpi"), q("q02_totals"), q("q10_copurchase")];
        let names = |tokens: &[&str]| -> Result<Vec<String>, String> {
            let tokens: Vec<String> = tokens.iter().map(|t| t.to_string()).collect();
            Ok(select(all(), &tokens)?.into_iter().map(|q| q.name).collect())
        };
        assert_eq!(names(&[]).unwrap().len(), 3);
        assert_eq!(names(&["q10", "q01"]).unwrap(), ["q01_kpi", "q10_copurchase"]);
        assert_eq!(names(&["q02_totals"]).unwrap(), ["q02_totals"]);
        assert!(names(&["q1"]).unwrap_err().contains("q01_kpi, q02_totals"));
    }
}
