//! `cargo xtask fuzz`: random SQL from a grammar (SQLsmith-style) against an in-memory
//! database with the workload schema, looking for panics, crashes, hangs and internal errors.
//!
//! ```text
//! gen/ ──SQL──► Executor ──Outcome──► Stats ──► summary, target/fuzz-failures.sql
//!                 ├ worker.rs: child processes (crashes and hangs survive)
//!                 └ exec.rs:   this process, catch_unwind (CI test, --in-process)
//!                                  failures ──► reduce.rs ──► minimal SQL
//! ```
//!
//! Every `--reset-every` cases (default 250) the database starts over, so the scratch tables
//! stay small and a case depends only on the INSERTs since the last reset (replayed after a
//! crash, and kept with each failure as its setup).

mod exec;
mod gen;
mod mutate;
mod reduce;
mod report;
mod rng;
mod schema;
mod worker;

#[cfg(test)]
mod tests;

use anyhow::{bail, Context, Result};
use exec::{Executor, InProcess, Outcome};
use gen::Config;
use report::Stats;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

const USAGE: &str = "\
usage: cargo xtask fuzz [options]

Generates random SQL statements over the workload schema and runs each against an in-memory
HeliosDB Nano database in worker processes. A panic, an internal error, a crash of the worker
or a statement running past the timeout is a failure; failures are reduced to small statements
and written to target/fuzz-failures.sql. Exits non-zero if any case failed. Statements run with
the engine's `statement_timeout` (half the timeout unless given): a statement the engine
cancels there ended cleanly (it is counted as timed out); a hang is one the engine did not
stop.

options:
      --cases N           statements to run (default 1000)
      --seed S            seed of the run (default 1); case K of seed S is always the same SQL
      --timeout-ms T      per-statement timeout (default 10000)
      --statement-timeout-ms T
                          the engine's statement_timeout (default half of --timeout-ms; 0: none)
      --in-process        run statements in this process (no crash or hang protection)
      --stack-kb K        stack of the thread running statements in a worker (default 2048)
      --max-stress N      size limit of the deep/long stress statements (default 100000)
      --reset-every N     start from a fresh database every N cases (default 250)
      --failures-file F   where to write failing statements (default target/fuzz-failures.sql)
      --no-reduce         report failing statements as generated
      --print             print the statements of the cases instead of running them
      --print-setup       print the SQL script that builds the fuzz database
      --sql STATEMENT     run STATEMENT on a fresh fuzz database in this process and print
                          how it ended, reduced if it fails (repeatable; to check a
                          reported failure; --no-reduce to skip the reduction)
      --sql-file FILE     the same for each statement of FILE (e.g. target/fuzz-failures.sql)
      --quiet             no progress lines
      --examples N        show the N most frequent errors of statements meant to be valid,
                          each with an example (to tune the generator)
";

/// How a run goes.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub cases: u64,
    pub seed: u64,
    pub timeout: Duration,
    /// The engine's `statement_timeout`; `None` lets statements run until `timeout`.
    pub statement_timeout: Option<Duration>,
    pub reset_every: u64,
    pub config: Config,
    /// How hard to reduce each distinct failure; `None` reports them as generated.
    pub reduce: Option<reduce::Budget>,
}

impl Default for RunOptions {
    fn default() -> RunOptions {
        RunOptions {
            cases: 1_000,
            seed: 1,
            timeout: Duration::from_secs(10),
            statement_timeout: Some(Duration::from_secs(5)),
            reset_every: 250,
            config: Config::default(),
            reduce: Some(reduce::Budget { checks: 400, time: Duration::from_secs(60), replace_groups: true }),
        }
    }
}

/// Runs the cases of `opts` on `ex`; `progress` sees the stats after every case.
pub fn run(opts: &RunOptions, ex: &mut dyn Executor, progress: &mut dyn FnMut(&Stats)) -> Result<Stats> {
    let start = Instant::now();
    let mut stats = Stats::default();
    let mut inserts: Vec<String> = Vec::new();
    for case in 0..opts.cases {
        if case > 0 && case % opts.reset_every.max(1) == 0 {
            ex.reset()?;
            inserts.clear();
        }
        let stmt = gen::statement(opts.seed, case, opts.config);
        let started = Instant::now();
        let outcome = ex.run(&stmt.sql)?;
        stats.note_time(started.elapsed(), case, stmt.kind);
        stats.record(case, &stmt, &outcome, &inserts);
        if ex.take_lost_state() {
            for sql in &inserts {
                ex.run(sql)?;
            }
            ex.take_lost_state();
        }
        if matches!(outcome, Outcome::Ok { .. }) && stmt.sql.starts_with("INSERT") {
            inserts.push(stmt.sql);
        }
        stats.elapsed = start.elapsed();
        progress(&stats);
    }
    if let Some(budget) = opts.reduce {
        for group in stats.failures.iter_mut().take(30) {
            // Each hang check waits for the timeout: only a few.
            let budget = if group.signature == "hang" { reduce::Budget { checks: 8, ..budget } } else { budget };
            group.reduced = Some(reduce::reduce(ex, &group.setup, &group.sql, &group.signature, budget)?);
        }
        stats.elapsed = start.elapsed();
    }
    Ok(stats)
}

/// The command line of `fuzz`.
struct FuzzArgs {
    opts: RunOptions,
    in_process: bool,
    stack_kb: usize,
    failures_file: Option<PathBuf>,
    quiet: bool,
    examples: usize,
    mode: Mode,
}

enum Mode {
    Run,
    /// Run these statements on a fresh fuzz database in this process and print the outcomes.
    Sql(Vec<String>),
    Worker,
    Print,
    PrintSetup,
}

fn parse_args(args: impl IntoIterator<Item = String>) -> Result<FuzzArgs> {
    let mut parsed = FuzzArgs {
        opts: RunOptions::default(),
        in_process: false,
        stack_kb: 2048,
        failures_file: None,
        quiet: false,
        examples: 0,
        mode: Mode::Run,
    };
    let mut args = args.into_iter();
    let number = |args: &mut dyn Iterator<Item = String>, flag: &str| -> Result<u64> {
        let v = args.next().with_context(|| format!("{flag} needs a number"))?;
        v.replace('_', "").parse().with_context(|| format!("{flag}: not a number: {v}"))
    };
    let mut statement_timeout_given = false;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--cases" => parsed.opts.cases = number(&mut args, "--cases")?,
            "--seed" => parsed.opts.seed = number(&mut args, "--seed")?,
            "--timeout-ms" => {
                parsed.opts.timeout = Duration::from_millis(number(&mut args, "--timeout-ms")?.max(1));
                if !statement_timeout_given {
                    parsed.opts.statement_timeout = Some(parsed.opts.timeout / 2);
                }
            }
            "--statement-timeout-ms" => {
                let ms = number(&mut args, "--statement-timeout-ms")?;
                parsed.opts.statement_timeout = (ms > 0).then(|| Duration::from_millis(ms));
                statement_timeout_given = true;
            }
            "--stack-kb" => parsed.stack_kb = number(&mut args, "--stack-kb")?.max(64) as usize,
            "--max-stress" => parsed.opts.config.max_stress = number(&mut args, "--max-stress")? as usize,
            "--reset-every" => parsed.opts.reset_every = number(&mut args, "--reset-every")?.max(1),
            "--failures-file" => {
                parsed.failures_file = Some(args.next().context("--failures-file needs a path")?.into())
            }
            "--in-process" => parsed.in_process = true,
            "--no-reduce" => parsed.opts.reduce = None,
            "--quiet" => parsed.quiet = true,
            "--examples" => parsed.examples = number(&mut args, "--examples")? as usize,
            "--worker" => parsed.mode = Mode::Worker,
            "--print" => parsed.mode = Mode::Print,
            "--print-setup" => parsed.mode = Mode::PrintSetup,
            "--sql" | "--sql-file" => {
                let value = args.next().with_context(|| format!("{arg} needs a value"))?;
                let statements = if arg == "--sql" {
                    vec![value]
                } else {
                    let text = std::fs::read_to_string(&value).with_context(|| format!("reading {value}"))?;
                    heliosdb_nano::split_statements(&text)
                };
                match &mut parsed.mode {
                    Mode::Sql(list) => list.extend(statements),
                    _ => parsed.mode = Mode::Sql(statements),
                }
            }
            "-h" | "--help" => {
                print!("{USAGE}");
                std::process::exit(0);
            }
            other => bail!("unknown option {other}\n\n{USAGE}"),
        }
    }
    Ok(parsed)
}

/// The default failures file: `target/fuzz-failures.sql` in the workspace.
fn default_failures_file() -> PathBuf {
    let xtask = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    xtask.parent().unwrap_or(xtask).join("target").join("fuzz-failures.sql")
}

/// `--sql`: runs statements on one fresh database in this process, printing each outcome
/// (and the first rows), and reduces the failing ones.
fn run_statements(statements: &[String], opts: &RunOptions) -> Result<()> {
    let mut ex = InProcess::new(Duration::from_secs(3600), opts.statement_timeout)?;
    for sql in statements {
        let outcome = ex.run(sql)?;
        println!("{}", outcome.describe());
        if let Outcome::Ok { rows } = outcome {
            if rows > 0 && !sql.trim_start().to_ascii_uppercase().starts_with("INSERT") {
                println!("{}", ex.show_rows(sql, 20));
            }
        }
        if opts.reduce.is_some() && outcome.is_failure() {
            let budget = reduce::Budget { checks: 2_000, time: Duration::from_secs(120), replace_groups: true };
            let reduced = reduce::reduce(&mut ex, &[], sql, &outcome.signature(), budget)?;
            println!("reduced ({} runs): {}", reduced.checks, reduced.sql);
            ex.reset()?;
        }
    }
    Ok(())
}

/// The entry point of `cargo xtask fuzz`.
pub fn main(args: impl IntoIterator<Item = String>) -> Result<ExitCode> {
    let args = parse_args(args)?;
    match args.mode {
        Mode::Worker => {
            worker::worker_main(args.stack_kb, args.opts.statement_timeout)?;
            return Ok(ExitCode::SUCCESS);
        }
        Mode::PrintSetup => {
            for sql in schema::setup_sql() {
                println!("{sql};");
            }
            return Ok(ExitCode::SUCCESS);
        }
        Mode::Print => {
            for case in 0..args.opts.cases {
                let stmt = gen::statement(args.opts.seed, case, args.opts.config);
                println!("-- case {case} ({})\n{};", stmt.kind.name(), stmt.sql);
            }
            return Ok(ExitCode::SUCCESS);
        }
        Mode::Sql(statements) => {
            // On a thread with the workers' stack size, so that depth limits match a run.
            let (opts, stack_kb) = (args.opts.clone(), args.stack_kb);
            let thread = std::thread::Builder::new()
                .stack_size(stack_kb * 1024)
                .spawn(move || run_statements(&statements, &opts))
                .context("starting the statement thread")?;
            thread.join().map_err(|_| anyhow::anyhow!("the statement thread panicked"))??;
            return Ok(ExitCode::SUCCESS);
        }
        Mode::Run => {}
    }
    let opts = &args.opts;
    let mut ex: Box<dyn Executor> = if args.in_process {
        Box::new(InProcess::new(opts.timeout, opts.statement_timeout)?)
    } else {
        let exe = std::env::current_exe().context("finding the xtask binary")?;
        Box::new(worker::Subprocess::new(worker::WorkerOptions {
            exe,
            stack_kb: args.stack_kb,
            timeout: opts.timeout,
            statement_timeout: opts.statement_timeout,
        })?)
    };
    let every = (opts.cases / 20).max(1);
    let mut last = Instant::now();
    let quiet = args.quiet;
    let mut progress = |s: &Stats| {
        if !quiet && (s.cases.is_multiple_of(every) || last.elapsed() > Duration::from_secs(10)) {
            last = Instant::now();
            println!("{}", s.progress_line(opts.cases));
        }
    };
    let stats = run(opts, ex.as_mut(), &mut progress)?;
    print!("{}", stats.summary(opts.seed));
    if args.examples > 0 {
        print!("{}", stats.error_examples(args.examples, ex.as_mut())?);
    }
    let path = args.failures_file.clone().unwrap_or_else(default_failures_file);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    std::fs::write(&path, stats.failures_file(opts.seed)).with_context(|| format!("writing {}", path.display()))?;
    println!("failing statements written to {}", path.display());
    Ok(if stats.failed == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}
