//! Running test files record by record, each file against a fresh in-memory database.
//!
//! A file is parsed whole (see [`crate::load`]), then every record is fed to a
//! `sqllogictest::Runner` on its own, so one failing record does not stop the file. Each
//! `statement`, `query`, `let` and `system` record counts once: passed, failed or skipped
//! (skipped by `onlyif` / `skipif`, by the corpus's rules, by a `halt` before it; `system`
//! records are never run). Everything else (`control`, `hash-threshold`, ...) just runs.
//!
//! `halt` is resolved here rather than by the crate, which halts unconditionally and then
//! applies the `halt`'s `onlyif` / `skipif` to the next record: a `halt` halts only when its
//! conditions hold, and never lends them to the record after it.
//!
//! The records run on a worker thread. The caller waits with an optional per-record and
//! per-file timeout; when one expires, the record that was running and every record after it
//! count as failed and the worker is abandoned (a thread cannot be killed; it is left to
//! finish or spin on its own). An engine panic fails its record and the file goes on.

use crate::adapter::{EngineError, HeliosDb, RecordTypes};
use crate::corpus::{Corpus, Disposition};
use crate::load::load_records;
use crate::types::{strict_types, SltType};
use heliosdb_nano::Database;
use sqllogictest::{parse_with_name, Condition, Control, QueryExpect, Record, RecordOutput, ResultMode, Runner};
use std::cell::RefCell;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::{mpsc, Mutex};
use std::time::{Duration, Instant};

/// How to run files.
#[derive(Debug, Clone)]
pub struct Options {
    /// Run every file under this corpus's rules instead of detecting it from the path.
    pub corpus: Option<Corpus>,
    /// Give up on a file after this long.
    pub file_timeout: Option<Duration>,
    /// Give up on a file when one record runs this long.
    pub record_timeout: Option<Duration>,
    /// Keep at most this many failures per file in [`FileReport::failures`].
    pub keep_failures: usize,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            corpus: None,
            file_timeout: Some(Duration::from_secs(300)),
            record_timeout: Some(Duration::from_secs(30)),
            keep_failures: usize::MAX,
        }
    }
}

/// One failed record.
#[derive(Debug, Clone)]
pub struct Failure {
    /// `file:line` of the record.
    pub location: String,
    /// What went wrong: the SQL, and the error or the expected-vs-actual diff.
    pub message: String,
}

/// The outcome of one file.
#[derive(Debug, Clone)]
pub struct FileReport {
    pub path: PathBuf,
    pub corpus: Corpus,
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
    /// The first [`Options::keep_failures`] failures, in file order.
    pub failures: Vec<Failure>,
    /// Why the file did not run to its end (parse error, timeout), if it did not.
    pub error: Option<String>,
}

impl FileReport {
    fn new(path: &Path, corpus: Corpus) -> FileReport {
        FileReport {
            path: path.to_path_buf(),
            corpus,
            passed: 0,
            failed: 0,
            skipped: 0,
            failures: Vec::new(),
            error: None,
        }
    }

    /// `P passed, F failed[, S skipped]`, plus the file-level error if there is one.
    pub fn counts(&self) -> String {
        let mut s = format!("{} passed, {} failed", self.passed, self.failed);
        if self.skipped > 0 {
            s.push_str(&format!(", {} skipped", self.skipped));
        }
        if let Some(e) = &self.error {
            s.push_str(&format!(" ({})", e.lines().next().unwrap_or_default()));
        }
        s
    }

    /// Every kept failure, one after another, for a test failure message.
    pub fn failure_text(&self) -> String {
        let mut out = String::new();
        if let Some(e) = &self.error {
            out.push_str(e);
            out.push_str("\n\n");
        }
        for f in &self.failures {
            out.push_str(&format!("{}\n{}\n\n", f.location, f.message.trim_end()));
        }
        if self.failed > self.failures.len() {
            out.push_str(&format!("... and {} more failures\n", self.failed - self.failures.len()));
        }
        out
    }

    fn fail(&mut self, keep: usize, location: String, message: String) {
        self.failed += 1;
        if self.failures.len() < keep {
            self.failures.push(Failure { location, message });
        }
    }
}

/// What happened to one counted record.
#[derive(Debug)]
enum Outcome {
    Passed,
    Skipped,
    Failed(String),
}

thread_local! {
    /// The message and location of the last panic on this thread, saved by the quiet hook.
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Replaces the panic hook with one that prints nothing and keeps the message (with its
/// location) for the harness, which reports an engine panic as that record's failure.
pub fn install_quiet_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let msg = match info.payload().downcast_ref::<&str>() {
            Some(s) => s.to_string(),
            None => info.payload().downcast_ref::<String>().cloned().unwrap_or_default(),
        };
        let at = info.location().map(|l| format!(" at {}:{}", l.file(), l.line())).unwrap_or_default();
        LAST_PANIC.with(|p| *p.borrow_mut() = Some(format!("{msg}{at}")));
    }));
}

fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    if let Some(saved) = LAST_PANIC.with(|p| p.borrow_mut().take()) {
        return saved;
    }
    match payload.downcast::<String>() {
        Ok(s) => *s,
        Err(payload) => payload.downcast_ref::<&str>().map(|s| s.to_string()).unwrap_or_default(),
    }
}

/// The `file:line` of a counted record (`statement`, `query`, `let`, `system`), else `None`.
fn counted_location(record: &Record<SltType>) -> Option<String> {
    match record {
        Record::Statement { loc, .. }
        | Record::Query { loc, .. }
        | Record::Let { loc, .. }
        | Record::System { loc, .. } => Some(loc.to_string()),
        _ => None,
    }
}

/// Removes the first `n` conditions of a record: those of a `halt` that the parser lent it.
fn drop_conditions(record: &mut Record<SltType>, n: usize) {
    match record {
        Record::Statement { conditions, .. }
        | Record::Query { conditions, .. }
        | Record::Let { conditions, .. }
        | Record::System { conditions, .. } => {
            conditions.drain(..n.min(conditions.len()));
        }
        _ => {}
    }
}

fn skipped_by(conditions: &[Condition], labels: &[&str]) -> bool {
    conditions.iter().any(|c| match c {
        Condition::OnlyIf { label } => !labels.contains(&label.as_str()),
        Condition::SkipIf { label } => labels.contains(&label.as_str()),
    })
}

/// Runs `records` against a fresh in-memory database, calling `emit` once per counted record.
fn run_records(records: Vec<Record<SltType>>, corpus: Corpus, mut emit: impl FnMut(Outcome)) {
    let db = match Database::open_in_memory() {
        Ok(db) => db,
        Err(e) => {
            for _ in records.iter().filter_map(counted_location) {
                emit(Outcome::Failed(format!("cannot open an in-memory database: {e}")));
            }
            return;
        }
    };
    let types = RecordTypes::default();
    let (style, conn_db, conn_types) = (corpus.style(), db.clone(), types.clone());
    let mut runner = Runner::new(move || {
        std::future::ready(Ok::<_, EngineError>(HeliosDb::new(&conn_db, style, conn_types.clone())))
    });
    let mut labels = vec!["heliosdb"];
    for label in corpus.labels() {
        runner.add_label(label);
        labels.push(label);
    }
    runner.with_validator(corpus.validator());
    if corpus.checks_types() {
        runner.with_column_validator(strict_types);
    }
    if corpus.value_wise() {
        let _ = runner.run(Record::Control(Control::ResultMode(ResultMode::ValueWise)));
        // SQLite's files were generated with `-ht 8`: results of more than 8 values are
        // given as a hash even in files (select1.test) that never say `hash-threshold 8`.
        runner.with_hash_threshold(8);
    }

    let mut pending: Vec<Condition> = Vec::new();
    let mut lent = 0;
    let mut halted = false;
    for mut record in records {
        match &record {
            Record::Condition(c) => {
                pending.push(c.clone());
                continue;
            }
            Record::Halt { .. } => {
                if !skipped_by(&pending, &labels) {
                    halted = true;
                }
                lent += pending.len();
                pending.clear();
                continue;
            }
            _ => {}
        }
        if counted_location(&record).is_none() {
            if !halted && !matches!(record, Record::Include { .. } | Record::Sleep { .. }) {
                let _ = std::panic::catch_unwind(AssertUnwindSafe(|| runner.run(record)));
            }
            continue;
        }
        drop_conditions(&mut record, lent);
        (lent, pending) = (0, Vec::new());
        if halted || matches!(record, Record::System { .. }) {
            emit(Outcome::Skipped);
            continue;
        }
        let record = match corpus.disposition(record) {
            Disposition::Run(r) => r,
            Disposition::Skip(_) => {
                emit(Outcome::Skipped);
                continue;
            }
        };
        let header = match &record {
            Record::Query { expected: QueryExpect::Results { types, .. }, .. } => types.clone(),
            _ => Vec::new(),
        };
        *types.lock().unwrap_or_else(|p| p.into_inner()) = header;
        let outcome = match std::panic::catch_unwind(AssertUnwindSafe(|| runner.run(record))) {
            Ok(Ok(RecordOutput::Nothing)) => Outcome::Skipped,
            Ok(Ok(_)) => Outcome::Passed,
            Ok(Err(e)) => Outcome::Failed(e.kind().display(false).to_string()),
            Err(payload) => Outcome::Failed(format!("the engine panicked: {}", panic_message(payload))),
        };
        emit(outcome);
    }
}

/// Changing the working directory is process-wide: files that need one run one at a time.
static WORKING_DIR: Mutex<()> = Mutex::new(());

/// Runs already-loaded records and tallies them.
fn run_loaded(path: &Path, corpus: Corpus, records: Vec<Record<SltType>>, opts: &Options) -> FileReport {
    let mut report = FileReport::new(path, corpus);
    let locations: Vec<String> = records.iter().filter_map(counted_location).collect();

    let working_dir = corpus.working_dir(path);
    let _guard = working_dir.as_ref().map(|_| WORKING_DIR.lock().unwrap_or_else(|p| p.into_inner()));
    let previous_dir = std::env::current_dir().ok();
    if let Some(dir) = &working_dir {
        if let Err(e) = std::env::set_current_dir(dir) {
            report.error = Some(format!("cannot change to the working directory {}: {e}", dir.display()));
        }
    }

    let (tx, rx) = mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name(format!("slt {}", path.display()))
        .stack_size(64 << 20)
        .spawn(move || run_records(records, corpus, |o| drop(tx.send(o))));
    if let Err(e) = spawned {
        report.failed = locations.len();
        report.error = Some(format!("cannot start a thread: {e}"));
        return report;
    }

    let started = Instant::now();
    let mut done = 0;
    loop {
        let left_in_file = opts.file_timeout.map(|t| t.saturating_sub(started.elapsed()));
        let wait = match (left_in_file, opts.record_timeout) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let received = match wait {
            Some(wait) => rx.recv_timeout(wait),
            None => rx.recv().map_err(|_| mpsc::RecvTimeoutError::Disconnected),
        };
        match received {
            Ok(outcome) => {
                let location = locations.get(done).cloned().unwrap_or_default();
                done += 1;
                match outcome {
                    Outcome::Passed => report.passed += 1,
                    Outcome::Skipped => report.skipped += 1,
                    Outcome::Failed(message) => report.fail(opts.keep_failures, location, message),
                }
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                if done < locations.len() {
                    let missing = locations.len() - done;
                    report.failed += missing;
                    report.error = Some(format!("the run stopped early: {missing} records did not run"));
                }
                break;
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                let missing = locations.len() - done;
                if missing == 0 {
                    // Every counted record finished; only trailing directives were left.
                    break;
                }
                let location = locations.get(done).cloned().unwrap_or_default();
                let secs = started.elapsed().as_secs_f64();
                let message = format!(
                    "timed out after {secs:.1}s running the record at {location}; it and the {} records after it count as failed",
                    missing - 1
                );
                report.fail(opts.keep_failures, location, message.clone());
                report.failed += missing - 1;
                report.error = Some(message);
                break;
            }
        }
    }

    if let (Some(_), Some(dir)) = (&working_dir, previous_dir) {
        let _ = std::env::set_current_dir(dir);
    }
    report
}

/// Runs the test file at `path` against a fresh in-memory database. A file that cannot be
/// read or parsed counts as one failed record, with the reason in [`FileReport::error`].
pub fn run_file(path: &Path, opts: &Options) -> FileReport {
    let corpus = opts.corpus.unwrap_or_else(|| Corpus::detect(path));
    match load_records(path, corpus) {
        Ok(records) => run_loaded(path, corpus, records, opts),
        Err(e) => {
            let mut report = FileReport::new(path, corpus);
            report.fail(opts.keep_failures, path.display().to_string(), e.clone());
            report.error = Some(e);
            report
        }
    }
}

/// Runs a script given as text (no `include`s), as if it were the file `name` of `corpus`.
pub fn run_script(name: &str, script: &str, corpus: Corpus, opts: &Options) -> FileReport {
    let path = Path::new(name);
    match parse_with_name::<SltType>(&corpus.preprocess(script), name) {
        Ok(records) => run_loaded(path, corpus, records, opts),
        Err(e) => {
            let mut report = FileReport::new(path, corpus);
            report.fail(opts.keep_failures, name.to_string(), e.to_string());
            report.error = Some(e.to_string());
            report
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(script: &str, corpus: Corpus) -> FileReport {
        run_script("inline.slt", script, corpus, &Options::default())
    }

    #[test]
    fn conditional_halt_only_halts_when_its_condition_holds() {
        // `onlyif mssql` + `halt`: we are not MS SQL, so nothing halts and the next record
        // runs (the crate would halt, then skip `statement ok` because of `onlyif mssql`).
        let report = run("onlyif mssql\nhalt\n\nstatement error\nSELECT nope\n\nskipif heliosdb\nhalt\n\nstatement error\nSELECT nope\n\nhalt\n\nstatement error\nSELECT nope\n", Corpus::Sqlite);
        assert_eq!((report.passed, report.failed, report.skipped), (2, 0, 1), "{report:?}");
    }

    #[test]
    fn unparsable_file_is_one_failure() {
        let report = run("statement ok\nSELECT 1\n----\n1\n", Corpus::Project);
        assert_eq!(report.failed, 1);
        assert!(report.error.is_some());
    }

    #[test]
    fn datafusion_skips_explain_and_accepts_any_error() {
        let report = run(
            "query T\nEXPLAIN SELECT 1\n----\nplan\n\nstatement error DataFusion error: x\nSELECT nope\n",
            Corpus::DataFusion,
        );
        assert_eq!((report.passed, report.failed, report.skipped), (1, 0, 1), "{report:?}");
    }

    #[test]
    fn project_mode_checks_error_messages() {
        let report = run("statement error this message never appears\nSELECT nope\n", Corpus::Project);
        assert_eq!(report.failed, 1, "{report:?}");
    }
}
