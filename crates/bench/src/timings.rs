//! The timings file each engine's side of `cargo xtask bench` writes (`heliosdb.tsv` by the
//! `heliosdb-bench` binary, `duckdb.tsv` by `scripts/bench_duckdb.py`) and the xtask reads.
//!
//! UTF-8 text, one record a line, fields separated by one TAB; `#` lines are comments:
//!
//! ```text
//! engine     HeliosDB Nano 0.1.0          free text
//! <key>      <value> ...                  any other facts, e.g. `load_ms 2331.5`
//! query      q01_kpi_last_day  1.2,1.3   the query's timed runs in ms (comma-separated),
//!            <peak bytes>  <base bytes>   optionally: peak and starting RSS during its runs ("-")
//!            <error>                      optionally: why it failed ("-" or absent if it did not)
//! ```

use std::collections::BTreeMap;
use std::fmt::Write as _;

/// One query's measurements.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct QueryTiming {
    pub name: String,
    /// The timed runs, in milliseconds (empty if the query failed).
    pub runs_ms: Vec<f64>,
    /// The peak resident size during the query's runs, in bytes.
    pub peak_bytes: Option<u64>,
    /// The resident size when the query started, in bytes.
    pub base_bytes: Option<u64>,
    pub error: Option<String>,
}

/// A whole timings file.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Timings {
    /// Every non-query record, by key (a key given twice keeps the last).
    pub facts: BTreeMap<String, Vec<String>>,
    pub queries: Vec<QueryTiming>,
}

fn opt_field<T: ToString>(value: &Option<T>) -> String {
    value.as_ref().map_or_else(|| "-".to_string(), T::to_string)
}

/// Keeps a free-text field on one line and free of TABs.
fn one_line(text: &str) -> String {
    text.replace(['\t', '\n', '\r'], " ")
}

impl Timings {
    /// Records a fact (values are made single-line).
    pub fn set(&mut self, key: &str, values: &[&str]) {
        self.facts.insert(key.to_string(), values.iter().map(|v| one_line(v)).collect());
    }

    /// The first value of a fact.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.facts.get(key).and_then(|v| v.first()).map(String::as_str)
    }

    /// The first value of a fact, as a number.
    pub fn get_f64(&self, key: &str) -> Option<f64> {
        self.get(key)?.parse().ok()
    }

    pub fn query(&self, name: &str) -> Option<&QueryTiming> {
        self.queries.iter().find(|q| q.name == name)
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        for (key, values) in &self.facts {
            let _ = writeln!(out, "{key}\t{}", values.join("\t"));
        }
        for q in &self.queries {
            let runs: Vec<String> = q.runs_ms.iter().map(|ms| format!("{ms:.4}")).collect();
            let runs = if runs.is_empty() { "-".to_string() } else { runs.join(",") };
            let error = q.error.as_deref().map(one_line);
            let _ = writeln!(
                out,
                "query\t{}\t{runs}\t{}\t{}\t{}",
                q.name,
                opt_field(&q.peak_bytes),
                opt_field(&q.base_bytes),
                opt_field(&error)
            );
        }
        out
    }

    pub fn parse(text: &str) -> Result<Timings, String> {
        let mut timings = Timings::default();
        for (line_idx, line) in text.lines().enumerate() {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let bad = |what: &str| format!("line {}: {what}: {line:?}", line_idx + 1);
            let mut fields = line.split('\t');
            let key = fields.next().unwrap_or_default();
            let values: Vec<&str> = fields.collect();
            if key != "query" {
                timings.facts.insert(key.to_string(), values.iter().map(|v| v.to_string()).collect());
                continue;
            }
            let field = |idx: usize| values.get(idx).copied().filter(|v| !v.is_empty() && *v != "-");
            let name = field(0).ok_or_else(|| bad("a query line needs a name"))?.to_string();
            let runs_ms = match field(1) {
                None => Vec::new(),
                Some(runs) => runs
                    .split(',')
                    .map(|ms| ms.trim().parse::<f64>().ok().filter(|ms| ms.is_finite() && *ms >= 0.0))
                    .collect::<Option<Vec<f64>>>()
                    .ok_or_else(|| bad("bad run times"))?,
            };
            let bytes = |idx: usize| -> Result<Option<u64>, String> {
                field(idx).map(|v| v.parse::<u64>().map_err(|_| bad("bad byte count"))).transpose()
            };
            timings.queries.push(QueryTiming {
                name,
                runs_ms,
                peak_bytes: bytes(2)?,
                base_bytes: bytes(3)?,
                error: field(4).map(str::to_string),
            });
        }
        Ok(timings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let mut t = Timings::default();
        t.set("engine", &["HeliosDB\tNano"]);
        t.set("load_ms", &["12.5"]);
        t.queries.push(QueryTiming {
            name: "q01".into(),
            runs_ms: vec![1.25, 2.0],
            peak_bytes: Some(1 << 20),
            base_bytes: Some(1 << 19),
            error: None,
        });
        t.queries.push(QueryTiming { name: "q02".into(), error: Some("boom\nbang".into()), ..Default::default() });
        let back = Timings::parse(&t.render()).unwrap();
        assert_eq!(back.get("engine"), Some("HeliosDB Nano"));
        assert_eq!(back.get_f64("load_ms"), Some(12.5));
        assert_eq!(back.queries[0], t.queries[0]);
        assert_eq!(back.query("q02").unwrap().error.as_deref(), Some("boom bang"));
        assert!(back.query("q02").unwrap().runs_ms.is_empty());
    }

    #[test]
    fn reads_the_python_side() {
        let t =
            Timings::parse("# duckdb\nversion\t2.0.1\nquery\tq01\t3.5,4\nquery\tq02\t-\t-\t-\tParser Error\n").unwrap();
        assert_eq!(t.query("q01").unwrap().runs_ms, [3.5, 4.0]);
        assert_eq!(t.query("q02").unwrap().error.as_deref(), Some("Parser Error"));
        assert!(Timings::parse("query\tq01\tfast\n").is_err());
        assert!(Timings::parse("query\n").is_err());
    }
}
