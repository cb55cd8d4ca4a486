//! HeliosDB Nano's side of `cargo xtask bench`: the `heliosdb-bench` binary (a release build
//! with `-C target-cpu=native`, made and run by the xtask) calls [`main`].
//!
//! It measures the machine's sum-over-array bandwidth, optionally writes the workload as CSV for
//! DuckDB, generates the workload for N order lines and loads it through `Connection::append`
//! (timing only the appends), then runs each query warm: warm-up runs (the first one's answer is
//! written to `OUT/heliosdb/<query>.result` for the xtask to check against DuckDB's), then the
//! timed runs, with the process's peak resident size reset before each query. Everything
//! measured goes to `OUT/heliosdb.tsv` (see [`crate::timings`]); progress goes to stderr.

use crate::fixture::{Fixture, ResultSet, RowOrder};
use crate::queries::{read_queries, select, workload_queries_dir, Query};
use crate::sys::{self, Memory};
use crate::timings::{QueryTiming, Timings};
use crate::{create_schema, csv, Table, Workload, DEFAULT_BATCH_ROWS};
use heliosdb_nano::{Connection, Database};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub const USAGE: &str = "\
usage: heliosdb-bench --rows N --out DIR [--runs K] [--warmup W] [--queries q01,q05]
                      [--csv-dir DIR] [--bandwidth-mb MB]

HeliosDB Nano's side of `cargo xtask bench` (run that instead; it builds this binary with
-C target-cpu=native, runs DuckDB on the same data and compares).

  --rows N          order lines (page views too; the other tables follow the workload README)
  --out DIR         where heliosdb.tsv and heliosdb/<query>.result go
  --runs K          timed runs per query (default 5)
  --warmup W        untimed runs before them (default 1; at least 1, the first gives the answer)
  --queries LIST    comma-separated query names or prefixes (default: q01..q15)
  --csv-dir DIR     also write the workload as CSV there (for DuckDB)
  --bandwidth-mb MB size of the array the bandwidth is measured on
                    (default: 8 bytes per order line, at least 128 MB)

HELIOSDB_BENCH_QUERIES=DIR times the .sql files in DIR instead of the workload's queries
(to profile variants of a query; their answers are not checked).
";

/// What [`parse_args`] returns for `--help`.
const HELP: &str = "--help";

/// The parsed command line.
#[derive(Debug, Clone, PartialEq)]
pub struct Args {
    pub rows: u64,
    pub out: PathBuf,
    pub runs: usize,
    pub warmup: usize,
    pub queries: Vec<String>,
    pub csv_dir: Option<PathBuf>,
    pub bandwidth_bytes: Option<u64>,
}

fn number<T: std::str::FromStr>(flag: &str, value: Option<String>) -> Result<T, String> {
    let value = value.ok_or_else(|| format!("{flag} needs a value"))?;
    value.replace(['_', ','], "").parse().map_err(|_| format!("{flag}: not a number: {value}"))
}

pub fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Args, String> {
    let (mut rows, mut out, mut csv_dir, mut bandwidth_bytes) = (None, None, None, None);
    let (mut runs, mut warmup, mut queries) = (5, 1, Vec::new());
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--rows" => rows = Some(number::<u64>("--rows", args.next())?),
            "--runs" => runs = number("--runs", args.next())?,
            "--warmup" => warmup = number("--warmup", args.next())?,
            "--out" => out = Some(PathBuf::from(args.next().ok_or("--out needs a directory")?)),
            "--csv-dir" => csv_dir = Some(PathBuf::from(args.next().ok_or("--csv-dir needs a directory")?)),
            "--queries" => {
                let list = args.next().ok_or("--queries needs a list")?;
                queries.extend(list.split(',').map(str::trim).filter(|t| !t.is_empty()).map(str::to_string));
            }
            "--bandwidth-mb" => bandwidth_bytes = Some(number::<u64>("--bandwidth-mb", args.next())? << 20),
            "-h" | "--help" => return Err(HELP.into()),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    let rows = rows.ok_or("--rows is required")?;
    if !(1..=3_000_000_000).contains(&rows) {
        return Err(format!("--rows must be between 1 and 3,000,000,000, not {rows}"));
    }
    if runs == 0 || warmup == 0 {
        return Err("--runs and --warmup must be at least 1".into());
    }
    Ok(Args { rows, out: out.ok_or("--out is required")?, runs, warmup, queries, csv_dir, bandwidth_bytes })
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("writing {}: {e}", path.display()))
}

/// Loads every table, `DEFAULT_BATCH_ROWS` rows per append (one commit each); returns the rows
/// loaded, the time spent in `Connection::append` and the time spent generating chunks.
fn load(conn: &Connection, workload: &Workload) -> Result<(u64, Duration, Duration), String> {
    create_schema(conn).map_err(|e| format!("creating the schema: {e}"))?;
    let (mut n_rows, mut appending, mut generating) = (0, Duration::ZERO, Duration::ZERO);
    for table in Table::ALL {
        let mut chunks = workload.chunks(table, DEFAULT_BATCH_ROWS);
        loop {
            let t = Instant::now();
            let Some(chunk) = chunks.next() else { break };
            generating += t.elapsed();
            let t = Instant::now();
            n_rows += conn.append(table.name(), chunk).map_err(|e| format!("loading {}: {e}", table.name()))?;
            appending += t.elapsed();
        }
    }
    Ok((n_rows, appending, generating))
}

/// Runs one query: warm-up, timed runs; returns its timing and its answer (from the first
/// warm-up run).
fn run_query(conn: &Connection, query: &Query, args: &Args, peak_reset: bool) -> (QueryTiming, Option<ResultSet>) {
    let mut timing = QueryTiming { name: query.name.clone(), ..Default::default() };
    if peak_reset {
        // Checked once in `main`; a failure here only makes this query's peak the process's.
        let _ = sys::reset_peak();
    }
    timing.base_bytes = sys::memory().map(|m: Memory| m.rss);
    let mut answer = None;
    for _ in 0..args.warmup {
        match conn.query(&query.sql, ()) {
            Ok(rows) => {
                if answer.is_none() {
                    answer = Some(ResultSet::from_rows(&rows));
                }
            }
            Err(e) => {
                timing.error = Some(e.to_string());
                return (timing, answer);
            }
        }
    }
    for _ in 0..args.runs {
        let t = Instant::now();
        let result = conn.query(&query.sql, ());
        let took = t.elapsed();
        match result {
            Ok(rows) => {
                drop(rows);
                timing.runs_ms.push(ms(took));
            }
            Err(e) => {
                timing.error = Some(e.to_string());
                break;
            }
        }
    }
    timing.peak_bytes = sys::memory().map(|m| m.peak);
    (timing, answer)
}

fn mib(bytes: u64) -> u64 {
    bytes >> 20
}

/// Runs the benchmark as `args` say; `Err` only for a failure that stops it (a failing query is
/// recorded in the timings file instead).
pub fn run(args: &Args) -> Result<(), String> {
    // HELIOSDB_BENCH_QUERIES=DIR times the queries in DIR instead (for profiling variants).
    let dir = std::env::var_os("HELIOSDB_BENCH_QUERIES").map_or_else(workload_queries_dir, std::path::PathBuf::from);
    let queries = read_queries(&dir).map_err(|e| format!("reading the queries in {}: {e}", dir.display()))?;
    let queries = select(queries, &args.queries)?;
    let results_dir = args.out.join("heliosdb");
    std::fs::create_dir_all(&results_dir).map_err(|e| format!("creating {}: {e}", results_dir.display()))?;
    let workload = Workload::new(args.rows);
    let mut timings = Timings::default();
    let (cpu, cores) = sys::cpu();
    let features = sys::target_features();
    timings.set("engine", &[&format!("HeliosDB Nano {}", env!("CARGO_PKG_VERSION"))]);
    timings.set("rows", &[&args.rows.to_string()]);
    timings.set("cpu", &[&cpu, &cores.to_string()]);
    timings.set("target_features", &[&features.join(" ")]);
    timings.set("runs", &[&args.runs.to_string(), &args.warmup.to_string()]);
    if let Ok(size) = std::env::var("HELIOSDB_BATCH_SIZE") {
        timings.set("batch_size", &[&size]);
    }
    eprintln!("heliosdb-bench: N = {} on {cpu} ({cores} cores); target features: {}", args.rows, features.join(" "));

    let bw_bytes = args.bandwidth_bytes.unwrap_or((args.rows * 8).max(128 << 20));
    let bw = sys::measure_bandwidth((bw_bytes / 8).max(1) as usize, 10);
    timings.set(
        "bandwidth",
        &[&bw.bytes.to_string(), &bw.one_thread.to_string(), &bw.all_threads.to_string(), &bw.threads.to_string()],
    );
    eprintln!(
        "bandwidth: sum over {} MiB of i64: {:.1} GB/s on 1 thread, {:.1} GB/s on {}",
        mib(bw.bytes),
        bw.one_thread / 1e9,
        bw.all_threads / 1e9,
        bw.threads
    );

    if let Some(dir) = &args.csv_dir {
        let t = Instant::now();
        csv::write_dir(&workload, dir, DEFAULT_BATCH_ROWS)
            .map_err(|e| format!("writing CSV to {}: {e}", dir.display()))?;
        timings.set("csv_ms", &[&ms(t.elapsed()).to_string()]);
        eprintln!("wrote the workload as CSV to {} in {:.2?}", dir.display(), t.elapsed());
    }

    let conn = Database::open_in_memory().map_err(|e| format!("opening a database: {e}"))?.connect();
    let (n_rows, appending, generating) = load(&conn, &workload)?;
    let tables: Vec<String> = Table::ALL.iter().map(|&t| format!("{}={}", t.name(), workload.n_rows(t))).collect();
    timings.set("load", &[&n_rows.to_string(), &ms(appending).to_string(), &ms(generating).to_string()]);
    timings.set("tables", &[&tables.join(" ")]);
    let after_load = sys::memory();
    if let Some(mem) = after_load {
        timings.set("rss_after_load", &[&mem.rss.to_string()]);
    }
    eprintln!(
        "loaded {n_rows} rows ({}) through Connection::append in {:.2?} ({:.1}M rows/s; generating took {:.2?} more){}",
        tables.join(", "),
        appending,
        n_rows as f64 / appending.as_secs_f64().max(1e-9) / 1e6,
        generating,
        after_load.map_or(String::new(), |m| format!("; RSS {} MiB", mib(m.rss)))
    );

    let peak_reset = match sys::reset_peak() {
        Ok(()) => {
            timings.set("peak_method", &["clear_refs"]);
            true
        }
        Err(why) => {
            timings.set("peak_method", &["process", &why]);
            eprintln!("cannot reset the peak RSS per query ({why}): peak MB is the process's peak so far");
            false
        }
    };
    for query in &queries {
        let (timing, answer) = run_query(&conn, query, args, peak_reset);
        if let Some(answer) = answer {
            let fixture = Fixture { n: args.rows, order: RowOrder::Query, result: answer };
            let text = fixture.render(&[&format!("{}: HeliosDB Nano's answer at N = {}", query.name, args.rows)]);
            write(&results_dir.join(format!("{}.result", query.name)), &text)?;
        }
        let summary = crate::stats::summarize(&timing.runs_ms);
        match (&timing.error, summary) {
            (Some(e), _) => eprintln!("{:<28} error: {e}", query.name),
            (None, Some(s)) => eprintln!(
                "{:<28} median {:>10.2} ms  max {:>10.2} ms  peak {} MiB",
                query.name,
                s.median,
                s.max,
                timing.peak_bytes.map_or(0, mib)
            ),
            (None, None) => {}
        }
        timings.queries.push(timing);
        // Written after every query, so an interrupted run still leaves what it measured.
        write(&args.out.join("heliosdb.tsv"), &timings.render())?;
    }
    write(&args.out.join("heliosdb.tsv"), &timings.render())
}

/// The binary's entry point: exit code 2 for a bad command line, 1 for a failed run.
pub fn main() -> std::process::ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(e) if e == HELP => {
            print!("{USAGE}");
            return std::process::ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("heliosdb-bench: {e}\n\n{USAGE}");
            return std::process::ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("heliosdb-bench: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Args, String> {
        parse_args(args.iter().map(|s| s.to_string()))
    }

    #[test]
    fn parses_arguments() {
        let a = parse(&["--rows", "1_000", "--out", "o", "--runs", "3", "--queries", "q01, q02"]).unwrap();
        assert_eq!((a.rows, a.runs, a.warmup), (1_000, 3, 1));
        assert_eq!(a.queries, ["q01", "q02"]);
        assert!(parse(&["--rows", "abc", "--out", "o"]).unwrap_err().contains("not a number"));
        assert!(parse(&["--out", "o"]).is_err());
        assert!(parse(&["--rows", "10", "--out", "o", "--runs", "0"]).is_err());
        assert!(parse(&["--rows", "10", "--out", "o", "--bogus"]).is_err());
    }

    #[test]
    fn runs_a_tiny_workload() {
        let out = std::env::temp_dir().join(format!("heliosdb-bench-test-{}", std::process::id()));
        let args = parse(&["--rows", "3000", "--out", out.to_str().unwrap(), "--runs", "1", "--queries", "q02,q03"])
            .map(|a| Args { bandwidth_bytes: Some(1 << 16), csv_dir: Some(out.join("csv")), ..a })
            .unwrap();
        run(&args).unwrap();
        let timings = Timings::parse(&std::fs::read_to_string(out.join("heliosdb.tsv")).unwrap()).unwrap();
        assert_eq!(timings.queries.len(), 2);
        assert!(timings.queries.iter().all(|q| q.error.is_none() && q.runs_ms.len() == 1));
        // orders 3000, customers max(3000 / 20, 1000), products 10007, pageviews 3000, cart_events 750
        assert_eq!(timings.get("load"), Some("17757"));
        let answer = std::fs::read_to_string(out.join("heliosdb/q02_totals.result")).unwrap();
        assert_eq!(Fixture::parse(&answer).unwrap().result.rows[0][0], "3000");
        assert!(out.join("csv/orders.csv").exists());
        std::fs::remove_dir_all(&out).unwrap();
    }
}
