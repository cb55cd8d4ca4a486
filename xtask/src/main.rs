//! Project automation, run as `cargo xtask <command>` (an alias in `.cargo/config.toml`).
//!
//! `cargo xtask slt [options] <FILE or DIR>...` runs sqllogictest files against a fresh
//! in-memory HeliosDB Nano database each: every `.slt` / `.test` file named, or found under a
//! named directory (recursively; `*.slt.part` and `_*` files, which are only included, are
//! left out). The corpus of each file (the project's own, SQLite, DataFusion, DuckDB or
//! RisingLight) is detected from its path and decides the conventions, as described in the
//! `heliosdb_tests::corpus` module. It prints one line per file, `path: P passed, F failed[, S
//! skipped]`, and as its last line the record totals `N passed, N failed`; it exits non-zero
//! if any record failed.
//!
//! `cargo xtask fuzz [options]` runs random SQL from a grammar against the workload schema and
//! reports panics, crashes, hangs and internal errors (see the `fuzz` module).
//!
//! `cargo xtask crash [--kills N] [--seed S]` runs the crash test of `crates/api/tests/crash.rs`
//! longer than CI does (500 SIGKILLs by default), in release mode.
//! `cargo xtask bench [options]` benchmarks the dashboard workload against DuckDB (see the
//! `bench` module).
//! `cargo xtask txnbench [--secs S] [--dir DIR] [--duckdb]` prints transaction throughput next
//! to SQLite (the `txnbench` example of `crates/bench`, in release mode).
//! `cargo xtask bank [--secs N]` runs the bank-transfer stress test of `crates/api/tests/bank.rs`
//! for N seconds (default 30) in release mode and prints commits/s and aborts/s.

use anyhow::{bail, Context, Result};
use heliosdb_tests::{install_quiet_panic_hook, run_file, test_files, Corpus, Options};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

mod bench;
mod fuzz;

const USAGE: &str = "\
usage: cargo xtask slt [options] <FILE or DIR>...
       cargo xtask fuzz [options]      (cargo xtask fuzz --help)
       cargo xtask crash [--kills N] [--seed S]
                                       kill a committing process N times (default 500) and
                                       check every acknowledged commit survives
       cargo xtask bench [options]     (cargo xtask bench --help)
       cargo xtask txnbench [--secs S] [--dir DIR] [--rows N] [--duckdb]
                                       single-row and 1,000-row transaction rates next to
                                       SQLite (and DuckDB), release build
       cargo xtask bank [--secs N]     the bank-transfer stress test for N seconds (default
                                       30), printing commits/s and aborts/s

Runs sqllogictest files against HeliosDB Nano, each against a fresh in-memory database.

options:
  -v, --verbose           print the first failures of each file (5 unless --failures says)
      --failures N        with -v, print up to N failures per file
      --corpus NAME       treat every file as NAME (project, sqlite, datafusion, duckdb,
                          risinglight) instead of detecting it from the path
      --timeout SECS      give up on a file after SECS seconds (default 300; 0 = never)
      --record-timeout SECS
                          give up on a file when one record runs SECS seconds
                          (default 30; 0 = never)
      --quiet             print only files with failures, and the totals
";

/// The parsed command line of `slt`.
struct SltArgs {
    paths: Vec<PathBuf>,
    verbose: bool,
    quiet: bool,
    show_failures: usize,
    options: Options,
}

fn seconds(value: Option<String>, flag: &str) -> Result<Option<Duration>> {
    let value = value.with_context(|| format!("{flag} needs a number of seconds"))?;
    let secs: f64 = value.parse().with_context(|| format!("{flag}: not a number: {value}"))?;
    if !secs.is_finite() || secs < 0.0 {
        bail!("{flag}: not a number of seconds: {value}");
    }
    Ok((secs > 0.0).then(|| Duration::from_secs_f64(secs)))
}

fn parse_slt_args(args: impl IntoIterator<Item = String>) -> Result<SltArgs> {
    let mut parsed = SltArgs {
        paths: Vec::new(),
        verbose: false,
        quiet: false,
        show_failures: 5,
        options: Options { keep_failures: 0, ..Options::default() },
    };
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-v" | "--verbose" => parsed.verbose = true,
            "--quiet" => parsed.quiet = true,
            "--failures" => {
                let n = args.next().context("--failures needs a number")?;
                parsed.show_failures = n.parse().with_context(|| format!("--failures: not a number: {n}"))?;
            }
            "--corpus" => {
                let name = args.next().context("--corpus needs a name")?;
                let corpus = Corpus::from_name(&name).with_context(|| format!("unknown corpus {name}"))?;
                parsed.options.corpus = Some(corpus);
            }
            "--timeout" => parsed.options.file_timeout = seconds(args.next(), "--timeout")?,
            "--record-timeout" => parsed.options.record_timeout = seconds(args.next(), "--record-timeout")?,
            "-h" | "--help" => {
                print!("{USAGE}");
                std::process::exit(0);
            }
            flag if flag.starts_with('-') && flag.len() > 1 => {
                bail!("unknown option {flag}\n\n{USAGE}")
            }
            path => parsed.paths.push(PathBuf::from(path)),
        }
    }
    if parsed.paths.is_empty() {
        bail!("no files or directories given\n\n{USAGE}");
    }
    if parsed.verbose {
        parsed.options.keep_failures = parsed.show_failures;
    }
    Ok(parsed)
}

fn slt(args: SltArgs) -> Result<ExitCode> {
    let mut files = Vec::new();
    for path in &args.paths {
        files.extend(test_files(path).map_err(anyhow::Error::msg)?);
    }
    if files.is_empty() {
        bail!("no .slt or .test files found under {:?}", args.paths);
    }
    install_quiet_panic_hook();
    let (mut passed, mut failed, mut skipped, mut failed_files) = (0, 0, 0, 0);
    for file in &files {
        let report = run_file(file, &args.options);
        passed += report.passed;
        failed += report.failed;
        skipped += report.skipped;
        if report.failed > 0 {
            failed_files += 1;
        }
        if !args.quiet || report.failed > 0 {
            println!("{}: {}", file.display(), report.counts());
        }
        for failure in &report.failures {
            println!("  {}", failure.location);
            for line in failure.message.trim_end().lines() {
                println!("    {line}");
            }
        }
        if args.verbose && report.failed > report.failures.len() {
            println!("  ... and {} more failures", report.failed - report.failures.len());
        }
    }
    println!("{} files, {failed_files} with failures; {skipped} records skipped", files.len());
    println!("{passed} passed, {failed} failed");
    Ok(if failed == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

fn main() -> Result<ExitCode> {
    let mut args = std::env::args().skip(1);
    match args.next().as_deref() {
        Some("slt") => slt(parse_slt_args(args)?),
        Some("fuzz") => fuzz::main(args),
        Some("crash") => crash(args),
        Some("bench") => bench::main(args),
        Some("txnbench") => txnbench(args),
        Some("bank") => bank(args),
        Some("-h" | "--help") | None => {
            print!("{USAGE}");
            Ok(ExitCode::SUCCESS)
        }
        Some(other) => bail!("unknown command {other}\n\n{USAGE}"),
    }
}

/// `cargo xtask crash`: the crash test with more kills, in release mode.
fn crash(args: impl Iterator<Item = String>) -> Result<ExitCode> {
    let mut kills = "500".to_string();
    let mut seed = None;
    let mut args = args;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--kills" => kills = args.next().context("--kills needs a number")?,
            "--seed" => seed = Some(args.next().context("--seed needs a number")?),
            other => bail!("unknown option {other} (cargo xtask crash [--kills N] [--seed S])"),
        }
    }
    kills.parse::<usize>().with_context(|| format!("--kills: not a number: {kills}"))?;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = std::process::Command::new(cargo);
    cmd.args(["test", "--release", "-p", "heliosdb-nano", "--test", "crash", "--", "--nocapture"]);
    cmd.env("HELIOSDB_CRASH_KILLS", &kills);
    if let Some(seed) = seed {
        cmd.env("HELIOSDB_CRASH_SEED", seed);
    }
    let status = cmd.status().context("running cargo test")?;
    Ok(if status.success() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// `cargo xtask txnbench`: the transaction benchmark example, built in release mode; the
/// arguments go to it unchanged.
fn txnbench(args: impl Iterator<Item = String>) -> Result<ExitCode> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = std::process::Command::new(cargo);
    cmd.args(["run", "--release", "-p", "bench", "--example", "txnbench", "--"]).args(args);
    let status = cmd.status().context("running cargo run")?;
    Ok(if status.success() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// `cargo xtask bank`: the bank-transfer stress test for longer, in release mode.
fn bank(args: impl Iterator<Item = String>) -> Result<ExitCode> {
    let mut secs = "30".to_string();
    let mut args = args;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--secs" => secs = args.next().context("--secs needs a number")?,
            other => bail!("unknown option {other} (cargo xtask bank [--secs N])"),
        }
    }
    let n: f64 = secs.parse().with_context(|| format!("--secs: not a number: {secs}"))?;
    if !n.is_finite() || n <= 0.0 {
        bail!("--secs: not a positive number of seconds: {secs}");
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = std::process::Command::new(cargo);
    cmd.args(["test", "--release", "-p", "heliosdb-nano", "--test", "bank", "bank_transfers_keep_the_total"]);
    cmd.args(["--", "--nocapture", "--exact"]);
    cmd.env("HELIOSDB_BANK_SECS", &secs);
    let status = cmd.status().context("running cargo test")?;
    Ok(if status.success() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<SltArgs> {
        parse_slt_args(args.iter().map(|s| s.to_string()))
    }

    #[test]
    fn parses_options() {
        let a = parse(&["-v", "--failures", "2", "--timeout", "0", "--record-timeout", "1.5", "x.slt"]).unwrap();
        assert!(a.verbose);
        assert_eq!(a.options.keep_failures, 2);
        assert_eq!(a.options.file_timeout, None);
        assert_eq!(a.options.record_timeout, Some(Duration::from_millis(1500)));
        assert_eq!(a.paths, [PathBuf::from("x.slt")]);
        assert!(parse(&["--corpus", "sqlite", "x"]).unwrap().options.corpus == Some(Corpus::Sqlite));
    }

    #[test]
    fn rejects_bad_arguments() {
        assert!(parse(&[]).is_err());
        assert!(parse(&["--bogus", "x"]).is_err());
        assert!(parse(&["--timeout", "soon", "x"]).is_err());
        assert!(parse(&["--corpus", "oracle", "x"]).is_err());
    }
}
