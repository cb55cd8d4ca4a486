//! `cargo xtask bench`: the dashboard workload on HeliosDB Nano and DuckDB in the same run.
//!
//! 1. Builds `crates/bench`'s `heliosdb-bench` binary in release mode with
//!    `RUSTFLAGS="-C target-cpu=native"`, in `<target>/bench` so the flags do not thrash the
//!    normal build cache.
//! 2. Finds a Python that can `import duckdb` (`$HELIOSDB_PYTHON`, `../venv/bin/python` beside
//!    the repository, `python3`).
//! 3. Runs the binary (see `bench::runner`): bandwidth, CSV for DuckDB, load, the queries warm.
//! 4. Runs `scripts/bench_duckdb.py` on the CSV: load, the queries warm, their answers.
//! 5. Runs the optional peers that the same Python can import (chDB, Polars; not with
//!    `--no-peers`), each through `scripts/bench_peers.py --peer KEY` on the same CSV, the same
//!    way; then deletes the CSV.
//! 6. Checks every answer of ours against DuckDB's (`bench::fixture::compare`: floats to 1e-9
//!    relative error, row order only where the query orders by a unique key) or, without
//!    DuckDB at the fixtures' N, against `crates/bench/fixtures`, and each peer's against
//!    DuckDB's; prints the table (`report.rs`) and applies `crates/bench/gates.toml`
//!    (`gates.rs`), whose ratios are against DuckDB only.
//!
//! It fails on a wrong or failed answer, and on a ratio above its gate unless `--quick`. The
//! peers never change the outcome: a peer that is missing, fails, or answers differently is
//! reported and left out of the best-engine ratio.

mod gates;
mod report;

use anyhow::{bail, Context, Result};
use bench::fixture::{compare, Fixture};
use bench::queries::{fixture_path, read_queries, select, workload_queries_dir};
use bench::timings::Timings;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

pub const USAGE: &str = "\
usage: cargo xtask bench [--rows 1m|10m|100m|N] [--quick] [--runs K] [--queries q01,q05]
                         [--no-duckdb] [--no-peers] [--gates FILE]

Loads the dashboard workload (../shared/workload) into HeliosDB Nano through Connection::append
and into DuckDB (from the same generated data, as CSV), runs q01..q15 warm on both (one warm-up,
then K timed runs), checks our answers against DuckDB's and prints median and p99 times, the
ratio ours/DuckDB, peak memory, the geometric mean and q02's memory-bandwidth floor. The
benchmark binary is built with RUSTFLAGS=\"-C target-cpu=native\" in <target>/bench.

Optional peers: when the same Python can `import chdb` (chDB) or `import polars` (Polars), each
loads the same CSV into memory and runs the queries the same way (scripts/bench_peers.py; a
query its SQL dialect needs spelled differently runs from scripts/peer_queries/<peer>/, one it
cannot run is shown as n/a). Their answers are checked against DuckDB's; the table adds a column
per peer and /best, ours over the fastest of DuckDB and the peers whose answers match. Peers
never change the outcome or the gates; a missing peer is skipped with a line saying why.

options:
  --rows N         order lines: 1m, 10m, 100m, 500k or a number (default 10m; 1m with --quick)
  --quick          1m rows and 3 runs unless --rows/--runs say otherwise; checks answers but
                   never gates on timing (what CI runs)
  --runs K         timed runs per query (default 5, or 3 with --quick)
  --queries LIST   comma-separated query numbers or names (default: all)
  --no-duckdb      run HeliosDB alone (no peers either: their answers are checked against DuckDB's)
  --no-peers       do not run the optional peers (chDB, Polars) even when installed
  --gates FILE     the gates file (default crates/bench/gates.toml)

Fails when an answer differs from DuckDB's, a query fails, or (not with --quick) a ratio is
above its gate for this row count. DuckDB comes from the first Python that can `import duckdb`:
$HELIOSDB_PYTHON, ../venv/bin/python beside the repository, python3.
";

/// What the command line asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct BenchArgs {
    pub rows: u64,
    pub runs: usize,
    pub quick: bool,
    pub queries: Vec<String>,
    pub duckdb: bool,
    /// Run the optional peers that are installed.
    pub peers: bool,
    pub gates: Option<PathBuf>,
}

/// `1m`, `10m`, `100m`, `500k`, `1000000`, `1_000_000`: a positive number of rows.
pub fn parse_rows(text: &str) -> Result<u64> {
    let bad = || anyhow::anyhow!("--rows: not a row count: {text:?} (use 1m, 10m, 100m, 500k or a number)");
    let clean = text.trim().to_ascii_lowercase().replace(['_', ','], "");
    let (digits, scale) = match clean.strip_suffix('m') {
        Some(d) => (d, 1_000_000),
        None => match clean.strip_suffix('k') {
            Some(d) => (d, 1_000),
            None => (clean.as_str(), 1),
        },
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let rows = digits.parse::<u64>().ok().and_then(|d| d.checked_mul(scale)).ok_or_else(bad)?;
    if !(1..=3_000_000_000).contains(&rows) {
        bail!("--rows: {rows} is out of range (1 to 3,000,000,000 order lines)");
    }
    Ok(rows)
}

pub fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Option<BenchArgs>> {
    let (mut rows, mut runs, mut quick, mut queries, mut duckdb, mut peers, mut gates) =
        (None, None, false, Vec::new(), true, true, None);
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--rows" => rows = Some(parse_rows(&args.next().context("--rows needs a value")?)?),
            "--runs" => {
                let value = args.next().context("--runs needs a number")?;
                let k: usize = value
                    .parse()
                    .ok()
                    .filter(|k| *k >= 1)
                    .with_context(|| format!("--runs: not a positive number: {value:?}"))?;
                runs = Some(k);
            }
            "--quick" => quick = true,
            "--queries" => {
                let list = args.next().context("--queries needs a comma-separated list")?;
                queries.extend(list.split(',').map(str::trim).filter(|t| !t.is_empty()).map(str::to_string));
            }
            "--no-duckdb" => duckdb = false,
            "--no-peers" => peers = false,
            "--gates" => gates = Some(PathBuf::from(args.next().context("--gates needs a file")?)),
            "-h" | "--help" => return Ok(None),
            other => bail!("unknown argument {other}"),
        }
    }
    let rows = rows.unwrap_or(if quick { 1_000_000 } else { 10_000_000 });
    let runs = runs.unwrap_or(if quick { 3 } else { 5 });
    Ok(Some(BenchArgs { rows, runs, quick, queries, duckdb, peers, gates }))
}

/// The repository root (xtask's parent directory).
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask sits in the repository").to_path_buf()
}

/// `<target>/bench`: `$CARGO_TARGET_DIR/bench` or `target/bench`.
fn bench_target_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root().join("target"), PathBuf::from);
    let target = if target.is_absolute() { target } else { root().join(target) };
    target.join("bench")
}

const RUSTFLAGS: &str = "-C target-cpu=native";

/// Builds the benchmark binary; returns its path.
fn build_runner(target_dir: &Path) -> Result<PathBuf> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    eprintln!("== building heliosdb-bench (release, RUSTFLAGS=\"{RUSTFLAGS}\", target dir {})", target_dir.display());
    let started = Instant::now();
    let status = Command::new(&cargo)
        .args(["build", "--release", "-p", "bench", "--bin", "heliosdb-bench"])
        .current_dir(root())
        .env("CARGO_TARGET_DIR", target_dir)
        .env("RUSTFLAGS", RUSTFLAGS)
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .status()
        .with_context(|| format!("running {cargo}"))?;
    if !status.success() {
        bail!("building the benchmark binary failed ({status})");
    }
    eprintln!("   built in {:.1} s", started.elapsed().as_secs_f64());
    Ok(target_dir.join("release").join(format!("heliosdb-bench{}", std::env::consts::EXE_SUFFIX)))
}

/// A Python that can `import duckdb`, with DuckDB's version; or why there is none.
fn find_python() -> Result<(PathBuf, String), String> {
    let mut candidates: Vec<(PathBuf, &str)> = Vec::new();
    if let Some(py) = std::env::var_os("HELIOSDB_PYTHON").filter(|p| !p.is_empty()) {
        candidates.push((PathBuf::from(py), "$HELIOSDB_PYTHON"));
    }
    if let Some(parent) = root().parent() {
        candidates.push((parent.join("venv/bin/python"), "a venv beside the repository"));
    }
    candidates.push((PathBuf::from("python3"), "python3 on PATH"));
    let mut reasons = Vec::new();
    for (python, what) in candidates {
        match module_version(&python, "duckdb") {
            Ok(version) => return Ok((python, version)),
            Err(why) => reasons.push(format!("{} ({what}): {why}", python.display())),
        }
    }
    Err(reasons.join("; "))
}

/// `module.__version__` as `python` imports it, or why it cannot (the error's last line).
fn module_version(python: &Path, module: &str) -> Result<String, String> {
    let output = Command::new(python)
        .args(["-c", &format!("import {module}; print(getattr({module}, '__version__', '?'))")])
        .stdin(Stdio::null())
        .output();
    match output {
        Ok(out) if out.status.success() => Ok(String::from_utf8_lossy(&out.stdout).trim().to_string()),
        Ok(out) => {
            let err = String::from_utf8_lossy(&out.stderr);
            Err(err.trim().lines().last().unwrap_or("failed").to_string())
        }
        Err(e) => Err(e.to_string()),
    }
}

/// The optional peers: `scripts/bench_peers.py --peer KEY` (which writes `OUT/KEY.tsv` and
/// `OUT/KEY/<query>.result`), the name the table shows, and the Python module it needs.
const PEERS: [(&str, &str, &str); 2] = [("chdb", "chDB", "chdb"), ("polars", "Polars", "polars")];

/// Where a peer's rewrites of the queries live (relative to the repository).
fn rewrite_dir(key: &str) -> String {
    format!("scripts/peer_queries/{key}")
}

/// The queries among `names` that `key` runs through a rewrite.
fn rewritten(key: &str, names: &[String]) -> Vec<String> {
    let dir = root().join(rewrite_dir(key));
    names.iter().filter(|name| dir.join(format!("{name}.sql")).is_file()).cloned().collect()
}

/// A peer's result on one query: its timing (`None`: it has no line for the query) and answer,
/// checked against DuckDB's answer `reference` when DuckDB answered.
fn peer_result(
    timing: Option<&bench::timings::QueryTiming>,
    answer: &Path,
    reference: Option<&Path>,
    rows: u64,
) -> report::PeerResult {
    let Some(timing) = timing else {
        return report::PeerResult::Failed("no measurement (its script stopped before this query)".into());
    };
    if let Some(e) = &timing.error {
        return report::PeerResult::Failed(e.clone());
    }
    let Some(summary) = bench::stats::summarize(&timing.runs_ms) else {
        return report::PeerResult::Failed("no timed runs".into());
    };
    if !answer.is_file() {
        return report::PeerResult::Failed(format!("no answer in {}", answer.display()));
    }
    let Some(reference) = reference else {
        return report::PeerResult::Differs(summary, "not checked: DuckDB has no answer to this query".into());
    };
    match check_answer(answer, reference, rows) {
        report::Check::Ok => report::PeerResult::Matched(summary),
        report::Check::Diff(d) => report::PeerResult::Differs(summary, d),
        other => report::PeerResult::Differs(summary, format!("{other:?}")),
    }
}

/// Runs each optional peer that `python` can import on the CSV in `csv_dir`; every peer comes
/// back, with its timings or why it has none. Never fails the run.
fn run_peers(python: &Path, csv_dir: &Path, run_dir: &Path, args: &BenchArgs, names: &[String]) -> Vec<report::Peer> {
    let mut peers = Vec::new();
    for (key, name, module) in PEERS {
        let mut peer = report::Peer {
            key: key.to_string(),
            name: name.to_string(),
            rewritten: rewritten(key, names),
            rewrite_dir: rewrite_dir(key),
            ..Default::default()
        };
        let version = match module_version(python, module) {
            Ok(version) => version,
            Err(why) => {
                let why = format!("skipped: {} cannot `import {module}` ({why})", python.display());
                eprintln!("== optional peer {name} {why}");
                peer.problem = Some(why);
                peers.push(peer);
                continue;
            }
        };
        eprintln!("== optional peer {name} {version} ({})", python.display());
        let status = Command::new(python)
            .arg(root().join("scripts/bench_peers.py"))
            .args(["--peer", key])
            .arg("--csv-dir")
            .arg(csv_dir)
            .arg("--out")
            .arg(run_dir)
            .args(["--n", &args.rows.to_string(), "--runs", &args.runs.to_string()])
            .args(["--queries", &names.join(",")])
            .stdin(Stdio::null())
            .status();
        match status {
            Ok(status) if status.success() => {}
            Ok(status) => {
                peer.problem = Some(format!("failed: scripts/bench_peers.py --peer {key} ended with {status}"))
            }
            Err(e) => peer.problem = Some(format!("failed: running {}: {e}", python.display())),
        }
        let tsv = run_dir.join(format!("{key}.tsv"));
        if tsv.is_file() {
            match read_timings(&tsv) {
                Ok(t) => peer.timings = Some(t),
                Err(e) => peer.problem = Some(format!("failed: {e:#}")),
            }
        } else if peer.problem.is_none() {
            peer.problem = Some(format!("failed: scripts/bench_peers.py --peer {key} wrote no {}", tsv.display()));
        }
        if let Some(problem) = &peer.problem {
            eprintln!("   optional peer {name} {problem} (the run goes on)");
        }
        peers.push(peer);
    }
    peers
}

fn read_timings(path: &Path) -> Result<Timings> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    Timings::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

fn read_fixture(path: &Path) -> Result<Fixture, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    Fixture::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Checks our answer to `name` against the reference answer in `expected`.
fn check_answer(ours: &Path, expected: &Path, rows: u64) -> report::Check {
    let got = match read_fixture(ours) {
        Ok(f) => f,
        Err(e) => return report::Check::Diff(format!("our answer: {e}")),
    };
    let want = match read_fixture(expected) {
        Ok(f) => f,
        Err(e) => return report::Check::Diff(format!("the reference answer: {e}")),
    };
    if want.n != rows {
        return report::Check::Diff(format!("the reference answer is for N = {}, not {rows}", want.n));
    }
    match compare(&want, &got.result) {
        Ok(()) => report::Check::Ok,
        Err(diff) => report::Check::Diff(diff),
    }
}

pub fn main(args: impl Iterator<Item = String>) -> Result<ExitCode> {
    let args = match parse_args(args) {
        Ok(Some(args)) => args,
        Ok(None) => {
            print!("{USAGE}");
            return Ok(ExitCode::SUCCESS);
        }
        Err(e) => {
            eprintln!("cargo xtask bench: {e:#}\n\n{USAGE}");
            return Ok(ExitCode::from(2));
        }
    };
    let queries = read_queries(&workload_queries_dir())
        .with_context(|| format!("reading the workload queries in {}", workload_queries_dir().display()))?;
    let queries = match select(queries, &args.queries) {
        Ok(queries) => queries,
        Err(e) => {
            eprintln!("cargo xtask bench: --queries: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    let names: Vec<String> = queries.iter().map(|q| q.name.clone()).collect();
    let gates_path = args.gates.clone().unwrap_or_else(|| root().join("crates/bench/gates.toml"));
    let gates_text =
        std::fs::read_to_string(&gates_path).with_context(|| format!("reading {}", gates_path.display()))?;
    let all_gates = gates::Gates::parse(&gates_text).with_context(|| format!("in {}", gates_path.display()))?;

    let started = Instant::now();
    let target_dir = bench_target_dir();
    let runner = build_runner(&target_dir)?;
    let build_secs = started.elapsed().as_secs_f64();

    let python = if args.duckdb { Some(find_python()) } else { None };
    let run_dir = target_dir.join("run");
    if run_dir.exists() {
        std::fs::remove_dir_all(&run_dir).with_context(|| format!("clearing {}", run_dir.display()))?;
    }
    let csv_dir = run_dir.join("csv");
    let with_duckdb = matches!(python, Some(Ok(_)));

    let ticks_before = bench::sys::cpu_ticks();
    eprintln!("== HeliosDB Nano: N = {}, {} timed runs per query after 1 warm-up", args.rows, args.runs);
    let mut cmd = Command::new(&runner);
    cmd.arg("--rows").arg(args.rows.to_string());
    cmd.arg("--runs").arg(args.runs.to_string());
    cmd.arg("--out").arg(&run_dir);
    cmd.arg("--queries").arg(names.join(","));
    if with_duckdb {
        cmd.arg("--csv-dir").arg(&csv_dir);
    }
    let status = cmd.status().with_context(|| format!("running {}", runner.display()))?;
    if !status.success() {
        let _ = std::fs::remove_dir_all(&csv_dir);
        bail!("the benchmark binary failed ({status})");
    }
    let ours = read_timings(&run_dir.join("heliosdb.tsv"))?;

    let mut duck_problem = None;
    let duck = match &python {
        None => {
            duck_problem = Some("DuckDB not run (--no-duckdb)".to_string());
            None
        }
        Some(Err(why)) => {
            duck_problem = Some(format!("DuckDB not available, no Python here can `import duckdb`: {why}"));
            None
        }
        Some(Ok((python, version))) => {
            eprintln!("== DuckDB {version} ({})", python.display());
            let status = Command::new(python)
                .arg(root().join("scripts/bench_duckdb.py"))
                .arg("--csv-dir")
                .arg(&csv_dir)
                .arg("--out")
                .arg(&run_dir)
                .args(["--n", &args.rows.to_string(), "--runs", &args.runs.to_string()])
                .args(["--queries", &names.join(",")])
                .status();
            let status = match status {
                Ok(status) => status,
                Err(e) => {
                    let _ = std::fs::remove_dir_all(&csv_dir);
                    return Err(e).with_context(|| format!("running {}", python.display()));
                }
            };
            if !status.success() {
                let _ = std::fs::remove_dir_all(&csv_dir);
                bail!("scripts/bench_duckdb.py failed ({status})");
            }
            Some(read_timings(&run_dir.join("duckdb.tsv")))
        }
    };

    // The optional peers, on the same CSV (so after DuckDB, before the CSV goes).
    let peers = match (&python, &duck) {
        (Some(Ok((python, _))), Some(Ok(_))) if args.peers => run_peers(python, &csv_dir, &run_dir, &args, &names),
        _ => {
            let why = if !args.peers {
                "skipped (--no-peers)".to_string()
            } else {
                "skipped: their answers are checked against DuckDB's, and DuckDB did not run".to_string()
            };
            let skipped: Vec<&str> = PEERS.iter().map(|(_, name, _)| *name).collect();
            eprintln!("== optional peers {} {why}", skipped.join(", "));
            PEERS
                .iter()
                .map(|(key, name, _)| report::Peer {
                    key: key.to_string(),
                    name: name.to_string(),
                    problem: Some(why.clone()),
                    ..Default::default()
                })
                .collect()
        }
    };
    let _ = std::fs::remove_dir_all(&csv_dir);
    let duck = duck.transpose()?;

    // The reference answers: DuckDB's, or the committed fixtures at their N.
    let reference = |name: &str| -> Option<PathBuf> {
        if duck.is_some() {
            Some(run_dir.join("duckdb").join(format!("{name}.result")))
        } else if args.rows == bench::FIXTURE_N {
            Some(fixture_path(name))
        } else {
            None
        }
    };
    let tier_name = gates::tier_name(args.rows);
    let tier = all_gates.tiers.get(&tier_name);
    let mut rows = Vec::new();
    for name in &names {
        let timing = ours.query(name);
        let duck_timing = duck.as_ref().and_then(|d| d.query(name));
        let ours_error = match timing {
            None => Some("no measurement (the benchmark binary stopped?)".to_string()),
            Some(t) => t.error.clone(),
        };
        let duck_answered = duck_timing.is_some_and(|t| t.error.is_none());
        let duck_answer = run_dir.join("duckdb").join(format!("{name}.result"));
        let peer_results = peers
            .iter()
            .filter_map(|peer| {
                let answer = run_dir.join(&peer.key).join(format!("{name}.result"));
                let reference = duck_answered.then_some(duck_answer.as_path());
                Some((
                    peer.name.clone(),
                    peer_result(peer.timings.as_ref()?.query(name), &answer, reference, args.rows),
                ))
            })
            .collect();
        let check = if let Some(e) = &ours_error {
            report::Check::Error(e.clone())
        } else if let Some(e) = duck_timing.and_then(|t| t.error.clone()) {
            report::Check::ReferenceError(e)
        } else if duck.is_some() && duck_timing.is_none() {
            report::Check::ReferenceError("DuckDB has no measurement".into())
        } else {
            match reference(name) {
                Some(path) => check_answer(&run_dir.join("heliosdb").join(format!("{name}.result")), &path, args.rows),
                None => report::Check::NotChecked,
            }
        };
        rows.push(report::Row {
            name: name.clone(),
            ours: timing.and_then(|t| bench::stats::summarize(&t.runs_ms)),
            peak_bytes: timing.and_then(|t| t.peak_bytes),
            base_bytes: timing.and_then(|t| t.base_bytes),
            duck: duck_timing.and_then(|t| bench::stats::summarize(&t.runs_ms)),
            check,
            gate: tier.and_then(|t| t.query(name)),
            peers: peer_results,
        });
    }
    let report = report::Report {
        rows: args.rows,
        runs: args.runs,
        quick: args.quick,
        ours: &ours,
        duck: duck.as_ref(),
        duck_problem,
        queries: rows,
        tier_name,
        tier,
        gates_path: &gates_path,
        checked_against_fixtures: duck.is_none() && args.rows == bench::FIXTURE_N,
        rustflags: RUSTFLAGS,
        others_cores: bench::sys::others_cores(ticks_before, bench::sys::cpu_ticks(), bench::sys::cpu().1),
        peers,
    };
    let verdict = report.print();
    eprintln!("(build {build_secs:.1} s, whole run {:.1} s)", started.elapsed().as_secs_f64());
    Ok(if verdict { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Option<BenchArgs>> {
        parse_args(args.iter().map(|s| s.to_string()))
    }

    #[test]
    fn parses_row_counts() {
        assert_eq!(parse_rows("1m").unwrap(), 1_000_000);
        assert_eq!(parse_rows("10M").unwrap(), 10_000_000);
        assert_eq!(parse_rows("100m").unwrap(), 100_000_000);
        assert_eq!(parse_rows("500k").unwrap(), 500_000);
        assert_eq!(parse_rows("1_000_000").unwrap(), 1_000_000);
        for bad in ["abc", "", "m", "1.5m", "-3", "0", "4000000000", "99999999999999999999m"] {
            assert!(parse_rows(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn parses_options() {
        let a = parse(&[]).unwrap().unwrap();
        assert_eq!((a.rows, a.runs, a.quick, a.duckdb, a.peers), (10_000_000, 5, false, true, true));
        let p = parse(&["--quick", "--no-peers"]).unwrap().unwrap();
        assert_eq!((p.rows, p.duckdb, p.peers), (1_000_000, true, false));
        let q = parse(&["--quick"]).unwrap().unwrap();
        assert_eq!((q.rows, q.runs, q.quick), (1_000_000, 3, true));
        let q = parse(&["--quick", "--rows", "10m", "--runs", "7", "--queries", "q01,q05", "--no-duckdb"])
            .unwrap()
            .unwrap();
        assert_eq!((q.rows, q.runs, q.duckdb), (10_000_000, 7, false));
        assert_eq!(q.queries, ["q01", "q05"]);
        assert_eq!(parse(&["--help"]).unwrap(), None);
        let err = parse(&["--rows", "abc"]).unwrap_err().to_string();
        assert!(err.contains("not a row count"), "{err}");
        assert!(parse(&["--runs", "0"]).is_err());
        assert!(parse(&["--rows"]).is_err());
        assert!(parse(&["--fast"]).unwrap_err().to_string().contains("unknown argument --fast"));
    }

    #[test]
    fn checks_answers() {
        let dir = std::env::temp_dir().join(format!("xtask-bench-check-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = |name: &str, n: u64, order: &str, rows: &str| {
            let path = dir.join(name);
            let text = format!("n\t{n}\ncolumns\tc\tv\ntypes\tT\tR\norder\t{order}\n----\n{rows}");
            std::fs::write(&path, text).unwrap();
            path
        };
        let ours = file("ours", 10, "query", "b\t2.0000000000001\na\t1\n");
        let same = file("same", 10, "rowsort", "a\t1\nb\t2\n");
        let ordered = file("ordered", 10, "query", "a\t1\nb\t2\n");
        let other_n = file("other_n", 11, "rowsort", "a\t1\nb\t2\n");
        assert_eq!(check_answer(&ours, &same, 10), report::Check::Ok);
        assert!(matches!(check_answer(&ours, &ordered, 10), report::Check::Diff(d) if d.contains("row 0")));
        assert!(matches!(check_answer(&ours, &other_n, 10), report::Check::Diff(d) if d.contains("N = 11")));
        assert!(matches!(check_answer(&dir.join("missing"), &same, 10), report::Check::Diff(_)));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn peer_results() {
        use bench::timings::QueryTiming;
        use report::PeerResult;
        let dir = std::env::temp_dir().join(format!("xtask-bench-peer-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = |name: &str, rows: &str| {
            let path = dir.join(name);
            std::fs::write(&path, format!("n\t10\ncolumns\tc\ntypes\tI\norder\tquery\n----\n{rows}")).unwrap();
            path
        };
        let duck = file("duck", "1\n2\n");
        let right = file("right", "1\n2\n");
        let wrong = file("wrong", "1\n3\n");
        let timing = |runs: &[f64], error: Option<&str>| QueryTiming {
            name: "q01".into(),
            runs_ms: runs.to_vec(),
            error: error.map(str::to_string),
            ..Default::default()
        };
        let ok = timing(&[3.0, 1.0, 2.0], None);
        assert!(matches!(peer_result(Some(&ok), &right, Some(&duck), 10), PeerResult::Matched(s) if s.median == 2.0));
        assert!(
            matches!(peer_result(Some(&ok), &wrong, Some(&duck), 10), PeerResult::Differs(s, d) if s.median == 2.0 && d.contains("row 1"))
        );
        // Without DuckDB's answer the time is shown but cannot count.
        assert!(
            matches!(peer_result(Some(&ok), &right, None, 10), PeerResult::Differs(_, d) if d.contains("not checked"))
        );
        // A query the peer could not run, no line for it, no runs, or no answer file: failed.
        let na = timing(&[], Some("n/a: Polars cannot run it as written: unsupported function 'percentile_cont'"));
        assert!(
            matches!(peer_result(Some(&na), &right, Some(&duck), 10), PeerResult::Failed(e) if e.starts_with("n/a: "))
        );
        assert!(
            matches!(peer_result(None, &right, Some(&duck), 10), PeerResult::Failed(e) if e.contains("no measurement"))
        );
        assert!(matches!(peer_result(Some(&timing(&[], None)), &right, Some(&duck), 10), PeerResult::Failed(_)));
        assert!(
            matches!(peer_result(Some(&ok), &dir.join("missing"), Some(&duck), 10), PeerResult::Failed(e) if e.contains("no answer"))
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn peer_rewrites_name_workload_queries() {
        let names: Vec<String> = read_queries(&workload_queries_dir()).unwrap().into_iter().map(|q| q.name).collect();
        for (key, _, _) in PEERS {
            let dir = root().join(rewrite_dir(key));
            let Ok(entries) = std::fs::read_dir(&dir) else { continue };
            let mut found = Vec::new();
            for entry in entries {
                let file = entry.unwrap().file_name().into_string().unwrap();
                let stem = file.strip_suffix(".sql").unwrap_or_else(|| panic!("{key}: {file} is not a .sql file"));
                assert!(names.iter().any(|n| n == stem), "{key}: {file} rewrites no workload query");
                found.push(stem.to_string());
            }
            found.sort();
            assert_eq!(rewritten(key, &names), found);
        }
    }

    #[test]
    fn the_committed_gates_parse() {
        let path = root().join("crates/bench/gates.toml");
        let gates = gates::Gates::parse(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let queries = read_queries(&workload_queries_dir()).unwrap();
        for name in ["10m", "100m"] {
            let tier = &gates.tiers[name];
            assert!(tier.geomean.is_some());
            for q in &queries {
                assert!(tier.query(&q.name).is_some(), "no {name} gate for {}", q.name);
            }
        }
    }
}
