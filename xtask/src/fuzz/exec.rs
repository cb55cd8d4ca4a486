//! Running one statement and judging the outcome: a result or a clean error is fine; a panic,
//! an internal error, a crash of the worker process or a hang is a failure.
//!
//! [`InProcess`] runs statements in this process under `catch_unwind` (the CI test and
//! `--in-process`); `worker.rs` runs them in a child process that may crash.

use heliosdb_nano::{Connection, Database, Output};
use std::cell::{Cell, RefCell};
use std::panic::AssertUnwindSafe;
use std::sync::Once;
use std::time::{Duration, Instant};

/// How a statement ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A result: rows returned or changed.
    Ok { rows: u64 },
    /// A clean error; `kind` is the error's variant path, e.g. `Bind` or `Exec::DivisionByZero`.
    Error { kind: String, message: String },
    /// An error whose message says it is the engine's fault.
    Internal { message: String },
    /// The engine panicked; `location` is `file:line` of the panic, `trace` the engine frames.
    Panic { message: String, location: String, trace: String },
    /// The worker process died (abort, stack overflow, signal).
    Crash { detail: String },
    /// No answer within the timeout.
    Hang { millis: u64 },
}

impl Outcome {
    pub fn is_failure(&self) -> bool {
        !matches!(self, Outcome::Ok { .. } | Outcome::Error { .. })
    }

    /// What identifies the bug behind a failure: two failures with the same signature are
    /// taken to be the same bug (the reducer keeps a candidate only if it keeps the signature).
    pub fn signature(&self) -> String {
        match self {
            Outcome::Ok { .. } => "ok".into(),
            Outcome::Error { kind, message } => format!("error {kind}: {}", normalize_message(message)),
            Outcome::Internal { message } => format!("internal error: {}", normalize_message(message)),
            Outcome::Panic { location, .. } => format!("panic at {location}"),
            Outcome::Crash { detail } => {
                let line = detail
                    .lines()
                    .rev()
                    .find(|l| {
                        l.contains("fatal") || l.contains("overflow") || l.contains("signal") || l.contains("abort")
                    })
                    .or_else(|| detail.lines().next())
                    .unwrap_or("");
                // "thread '<name>' has overflowed its stack": the thread name is no part of the bug.
                format!("crash: {}", normalize_message(line))
            }
            Outcome::Hang { .. } => "hang".into(),
        }
    }

    /// One line for reports.
    pub fn describe(&self) -> String {
        match self {
            Outcome::Ok { rows } => format!("ok ({rows} rows)"),
            Outcome::Error { kind, message } => format!("error {kind}: {message}"),
            Outcome::Internal { message } => message.clone(),
            Outcome::Panic { message, location, .. } => format!("panic at {location}: {message}"),
            Outcome::Crash { detail } => format!("worker crashed: {}", detail.trim()),
            Outcome::Hang { millis } => format!("no answer after {millis} ms"),
        }
    }

    /// A one-line encoding for the worker protocol (tab-separated, escaped fields).
    pub fn encode(&self) -> String {
        let fields: Vec<String> = match self {
            Outcome::Ok { rows } => vec!["ok".into(), rows.to_string()],
            Outcome::Error { kind, message } => vec!["err".into(), kind.clone(), message.clone()],
            Outcome::Internal { message } => vec!["internal".into(), message.clone()],
            Outcome::Panic { message, location, trace } => {
                vec!["panic".into(), message.clone(), location.clone(), trace.clone()]
            }
            Outcome::Crash { detail } => vec!["crash".into(), detail.clone()],
            Outcome::Hang { millis } => vec!["hang".into(), millis.to_string()],
        };
        fields.iter().map(|f| escape(f)).collect::<Vec<_>>().join("\t")
    }

    pub fn decode(line: &str) -> Option<Outcome> {
        let fields: Vec<String> = line.split('\t').map(unescape).collect();
        let field = |k: usize| fields.get(k).cloned().unwrap_or_default();
        Some(match fields.first()?.as_str() {
            "ok" => Outcome::Ok { rows: field(1).parse().ok()? },
            "err" => Outcome::Error { kind: field(1), message: field(2) },
            "internal" => Outcome::Internal { message: field(1) },
            "panic" => Outcome::Panic { message: field(1), location: field(2), trace: field(3) },
            "crash" => Outcome::Crash { detail: field(1) },
            "hang" => Outcome::Hang { millis: field(1).parse().ok()? },
            _ => return None,
        })
    }
}

/// Escapes backslashes, tabs and line breaks so that any text fits one protocol field.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    out
}

pub fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

/// A message with the parts that vary between instances of one problem blanked out: quoted
/// names and values, numbers, positions.
pub fn normalize_message(message: &str) -> String {
    let mut out = String::new();
    let mut chars = message.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' | '\'' => {
                for d in chars.by_ref() {
                    if d == c {
                        break;
                    }
                }
                out.push(c);
                out.push('…');
                out.push(c);
            }
            '0'..='9' => {
                while chars.peek().is_some_and(|d| d.is_ascii_digit() || *d == '.') {
                    chars.next();
                }
                out.push('N');
            }
            c => out.push(c),
        }
    }
    let out = out.replace("thread '…'", "thread").replace("thread '<unnamed>'", "thread");
    let mut out: String = out.split_whitespace().collect::<Vec<_>>().join(" ");
    if let Some(cut) = out.char_indices().nth(100).map(|(k, _)| k) {
        out.truncate(cut);
        out.push('…');
    }
    out
}

/// The variant path of an API error from its `Debug` text: `Sql(Exec(DivisionByZero))` is
/// `Exec::DivisionByZero`, `Sql(Bind { .. })` is `Bind`.
pub fn error_kind(debug: &str) -> String {
    let mut parts = Vec::new();
    let mut rest = debug;
    loop {
        let name: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
        if name.is_empty() {
            break;
        }
        rest = &rest[name.len()..];
        parts.push(name);
        match rest.strip_prefix('(') {
            Some(r) => rest = r,
            None => break,
        }
    }
    if parts.first().is_some_and(|p| p == "Sql") && parts.len() > 1 {
        parts.remove(0);
    }
    parts.join("::")
}

thread_local! {
    /// The last panic on this thread: message, location and engine frames.
    static LAST_PANIC: RefCell<Option<(String, String, String)>> = const { RefCell::new(None) };
    /// This thread is inside [`execute`]: its panics are recorded, not printed.
    static IN_ENGINE: Cell<bool> = const { Cell::new(false) };
}

/// Installs (once) a panic hook that, for panics inside [`execute`], prints nothing and
/// records the message, location and the engine frames of a backtrace; other panics go to
/// the previous hook as before (test assertions keep their messages).
pub fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !IN_ENGINE.with(Cell::get) {
                return previous(info);
            }
            let message = match info.payload().downcast_ref::<&str>() {
                Some(s) => s.to_string(),
                None => info.payload().downcast_ref::<String>().cloned().unwrap_or_default(),
            };
            let location =
                info.location().map(|l| format!("{}:{}", short_path(l.file()), l.line())).unwrap_or_default();
            let trace = engine_frames(&std::backtrace::Backtrace::force_capture().to_string());
            LAST_PANIC.with(|p| *p.borrow_mut() = Some((message, location, trace)));
        }));
    });
}

/// A source path relative to the workspace (`crates/...`) or to the registry (`arrow2-0.18.0/...`),
/// so that signatures do not depend on where the checkout is.
fn short_path(path: &str) -> &str {
    if let Some(idx) = path.find("crates/").filter(|&i| i == 0 || path[..i].ends_with('/')) {
        if !path[..idx].contains("registry") {
            return &path[idx..];
        }
    }
    if let Some(idx) = path.find("/registry/src/") {
        let rest = &path[idx + "/registry/src/".len()..];
        return rest.split_once('/').map_or(rest, |(_, r)| r);
    }
    path.trim_start_matches("./")
}

/// The `at crates/...` lines of a backtrace, with the function line before each: where in
/// the engine the panic came from.
fn engine_frames(trace: &str) -> String {
    let lines: Vec<&str> = trace.lines().collect();
    let mut out = Vec::new();
    for (idx, line) in lines.iter().enumerate() {
        let line = line.trim();
        if line.starts_with("at ") && line.contains("crates/") && !line.contains("/registry/") {
            let function = lines.get(idx.wrapping_sub(1)).map(|l| l.trim()).unwrap_or("");
            let function = function.split_once(": ").map(|(_, f)| f).unwrap_or(function);
            out.push(format!("{function} at {}", short_path(&line[3..])));
            if out.len() == 8 {
                break;
            }
        }
    }
    out.join("\n")
}

/// Runs one statement under `catch_unwind` and reads every value of its result (so a panic
/// while converting values counts too).
pub fn execute(conn: &Connection, sql: &str) -> Outcome {
    install_panic_hook();
    LAST_PANIC.with(|p| p.borrow_mut().take());
    IN_ENGINE.with(|f| f.set(true));
    let res = std::panic::catch_unwind(AssertUnwindSafe(|| {
        conn.run(sql, ()).map(|out| match out {
            Output::Rows(rows) => {
                let mut n_chars = 0usize;
                for row in rows.iter().take(2_000) {
                    for v in row.values() {
                        n_chars += v.to_string().len();
                    }
                }
                std::hint::black_box(n_chars);
                rows.len() as u64
            }
            Output::Affected(n) => n,
            _ => 0,
        })
    }));
    IN_ENGINE.with(|f| f.set(false));
    match res {
        Ok(Ok(rows)) => Outcome::Ok { rows },
        Ok(Err(e)) => {
            let message = e.to_string();
            let kind = error_kind(&format!("{e:?}"));
            if message.starts_with("internal error") || kind.ends_with("Internal") {
                Outcome::Internal { message }
            } else {
                Outcome::Error { kind, message }
            }
        }
        Err(payload) => {
            let (message, location, trace) = LAST_PANIC.with(|p| p.borrow_mut().take()).unwrap_or_else(|| {
                let message = payload
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                (message, String::new(), String::new())
            });
            Outcome::Panic { message, location, trace }
        }
    }
}

/// A fresh in-memory database with the fuzz schema and data.
/// A database with the fuzz schema and data, and a connection whose statements the engine
/// cancels after `statement_timeout` (`SET statement_timeout`), if given.
pub fn fresh_database(statement_timeout: Option<Duration>) -> anyhow::Result<(Database, Connection)> {
    let db = Database::open_in_memory()?;
    let conn = db.connect();
    for sql in super::schema::setup_sql() {
        conn.run(&sql, ()).map_err(|e| anyhow::anyhow!("setup statement failed: {e}\n{sql}"))?;
    }
    if let Some(t) = statement_timeout {
        conn.run(&format!("SET statement_timeout = {}", t.as_millis().max(1)), ())?;
    }
    Ok((db, conn))
}

/// Whether an error is the engine cancelling a statement at its `statement_timeout`.
pub fn is_statement_timeout(message: &str) -> bool {
    message.starts_with("canceling statement due to statement timeout")
}

/// Where statements run: this process or a worker process.
pub trait Executor {
    /// Runs one statement on the current database. An `Err` means the executor itself
    /// failed (a worker could not be started), not the statement.
    fn run(&mut self, sql: &str) -> anyhow::Result<Outcome>;
    /// Starts over from a fresh database.
    fn reset(&mut self) -> anyhow::Result<()>;
    /// Whether the last statement lost the database (a crashed or hung worker is replaced
    /// by one with a fresh database), so the caller must replay its INSERTs.
    fn take_lost_state(&mut self) -> bool {
        false
    }
}

/// Runs statements in this process. A statement that takes longer than the timeout is
/// reported as a hang after it finishes (only the engine's `statement_timeout` can stop it).
pub struct InProcess {
    conn: Connection,
    _db: Database,
    timeout: Duration,
    statement_timeout: Option<Duration>,
}

impl InProcess {
    pub fn new(timeout: Duration, statement_timeout: Option<Duration>) -> anyhow::Result<InProcess> {
        let (db, conn) = fresh_database(statement_timeout)?;
        Ok(InProcess { conn, _db: db, timeout, statement_timeout })
    }

    /// The first `n` rows of a query's result, one line each (for `--sql`).
    pub fn show_rows(&self, sql: &str, n: usize) -> String {
        match self.conn.query(sql, ()) {
            Ok(rows) => rows
                .iter()
                .take(n)
                .map(|row| row.values().iter().map(|v| v.to_string()).collect::<Vec<_>>().join(" | "))
                .collect::<Vec<_>>()
                .join("\n"),
            Err(_) => String::new(),
        }
    }
}

impl Executor for InProcess {
    fn run(&mut self, sql: &str) -> anyhow::Result<Outcome> {
        let start = Instant::now();
        let outcome = execute(&self.conn, sql);
        let took = start.elapsed();
        if took > self.timeout && !outcome.is_failure() {
            return Ok(Outcome::Hang { millis: took.as_millis() as u64 });
        }
        Ok(outcome)
    }

    fn reset(&mut self) -> anyhow::Result<()> {
        let (db, conn) = fresh_database(self.statement_timeout)?;
        self.conn = conn;
        self._db = db;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_survive_the_protocol() {
        let all = [
            Outcome::Ok { rows: 3 },
            Outcome::Error { kind: "Bind".into(), message: "column \"x\"\tdoes\nnot exist \\".into() },
            Outcome::Internal { message: "internal error: x".into() },
            Outcome::Panic { message: "boom".into(), location: "a.rs:1".into(), trace: "f at a.rs:1\ng".into() },
            Outcome::Crash { detail: "signal 6".into() },
            Outcome::Hang { millis: 10 },
        ];
        for o in all {
            assert_eq!(Outcome::decode(&o.encode()), Some(o.clone()));
            assert!(!o.encode().contains('\n'));
        }
    }

    #[test]
    fn paths_are_shortened() {
        assert_eq!(short_path("/work/x/crates/sql/src/a.rs"), "crates/sql/src/a.rs");
        assert_eq!(short_path("./crates/sql/src/a.rs"), "crates/sql/src/a.rs");
        assert_eq!(
            short_path("/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/arrow2-0.18.0/src/x.rs"),
            "arrow2-0.18.0/src/x.rs"
        );
    }

    #[test]
    fn error_kinds_and_messages() {
        assert_eq!(error_kind("Sql(Exec(DivisionByZero))"), "Exec::DivisionByZero");
        assert_eq!(error_kind("Sql(Bind { message: \"x\", pos: None })"), "Bind");
        assert_eq!(error_kind("Sql(Exec(Overflow(\"integer\")))"), "Exec::Overflow");
        assert_eq!(error_kind("InvalidArgument(\"x\")"), "InvalidArgument");
        assert_eq!(
            normalize_message("column \"foo\" does not exist (at line 1, column 12)"),
            "column \"…\" does not exist (at line N, column N)"
        );
    }

    #[test]
    fn in_process_runs_and_classifies() {
        let mut ex = InProcess::new(Duration::from_secs(60), None).unwrap();
        assert_eq!(ex.run("SELECT count(*) FROM orders").unwrap(), Outcome::Ok { rows: 1 });
        assert!(matches!(ex.run("SELECT 1/0").unwrap(), Outcome::Error { .. }));
        assert!(matches!(ex.run("SELEC 1").unwrap(), Outcome::Error { .. }));
        assert!(matches!(ex.run("INSERT INTO scratch_k VALUES (1, 'x', 1.0)").unwrap(), Outcome::Error { .. }));
    }

    #[test]
    fn the_engine_cancels_a_statement_at_its_statement_timeout() {
        let mut ex = InProcess::new(Duration::from_secs(600), Some(Duration::from_millis(50))).unwrap();
        let outcome = ex.run("SELECT count(*) FROM generate_series(1, 9000000000000000000)").unwrap();
        match &outcome {
            Outcome::Error { message, .. } => assert!(is_statement_timeout(message), "{message}"),
            other => panic!("expected a statement timeout, got {other:?}"),
        }
        assert_eq!(ex.run("SELECT count(*) FROM orders").unwrap(), Outcome::Ok { rows: 1 });
        // A fresh database keeps the timeout.
        ex.reset().unwrap();
        assert!(matches!(
            ex.run("SELECT count(*) FROM generate_series(1, 9000000000000000000)").unwrap(),
            Outcome::Error { .. }
        ));
    }
}
