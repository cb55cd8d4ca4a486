//! The shell's core, shared by every input mode: collecting lines into statements, running
//! them, printing their results, and the dot commands.
//!
//! Input arrives one line at a time through [`Shell::feed_line`]. A line that starts with `.`
//! while no statement is pending is a dot command. Other lines are collected until the text
//! ends a statement (a top-level `;`, see [`heliosdb_nano::ends_statement`]); then every
//! statement in it runs, in order, and the first error stops the rest. At the end of the
//! input, [`Shell::finish`] runs what is left, so a last statement needs no `;`.
//!
//! What happens after an error (stop or go on) is the caller's choice: the interactive shell
//! goes on, scripts stop.

use crate::progress::ProgressLine;
use crate::table;
use heliosdb_nano::{Connection, Output};
use std::io::{self, BufRead, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The help text of `.help`.
pub const DOT_HELP: &str = "\
SQL statements end with ';' and may span several lines.
Dot commands (at the start of a line):
  .help               show this help
  .tables             list the tables
  .schema [TABLE]     show the CREATE TABLE statement of TABLE, or of every table
  .import FILE TABLE  load a CSV or .parquet file into a table (one commit; a CSV header line is skipped)
  .timer on|off       print the run time of each statement
  .quit, .exit        leave the shell
";

/// Whether the shell should keep reading input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Continue,
    Quit,
}

/// Why a line or statement failed.
#[derive(Debug)]
pub enum ShellError {
    /// The database refused a statement. `at` is where the statement starts in the input
    /// (line, column; 1-based) when the shell tracks input positions.
    Sql { err: heliosdb_nano::Error, at: Option<(u64, u64)> },
    /// A dot command was unknown or misused.
    Command(String),
    /// The engine panicked on a statement: a bug in HeliosDB, not in the input.
    Internal(String),
    /// Writing the output failed (for example, the reader of a pipe went away).
    Io(io::Error),
}

impl std::fmt::Display for ShellError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ShellError::Sql { err, at: None } => write!(f, "{err}"),
            ShellError::Sql { err, at: Some(at) } => f.write_str(&locate_in_input(err, *at)),
            ShellError::Command(msg) => f.write_str(msg),
            ShellError::Internal(msg) => write!(f, "internal error (a bug in HeliosDB): {msg}"),
            ShellError::Io(e) => write!(f, "writing output: {e}"),
        }
    }
}

impl From<io::Error> for ShellError {
    fn from(e: io::Error) -> ShellError {
        ShellError::Io(e)
    }
}

impl ShellError {
    /// The error as one line, `Error: ...`, ready for stderr.
    pub fn one_line(&self) -> String {
        let text = self.to_string();
        let parts: Vec<&str> = text.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
        format!("Error: {}", parts.join(" "))
    }
}

/// The error's text with its position moved from the statement to the input: the SQL layer
/// counts from the start of the statement, which starts at `at` in the input. Errors without
/// a position say which statement failed when it is not the first line of the input.
fn locate_in_input(err: &heliosdb_nano::Error, at: (u64, u64)) -> String {
    let text = err.to_string();
    let (start_line, start_col) = at;
    let Some((line, col)) = err.position() else {
        return if start_line > 1 { format!("{text} (in the statement at line {start_line})") } else { text };
    };
    let in_input_line = start_line + line.saturating_sub(1);
    let in_input_col = if line <= 1 { start_col + col.saturating_sub(1) } else { col };
    // `sql::Pos` prints as "line L, column C".
    let relative = format!("line {line}, column {col}");
    if text.contains(&relative) {
        text.replacen(&relative, &format!("line {in_input_line}, column {in_input_col}"), 1)
    } else {
        format!("{text} (at line {in_input_line}, column {in_input_col} of the input)")
    }
}

/// A connection plus the shell's state: settings and the statement being typed.
pub struct Shell {
    conn: Connection,
    timer: bool,
    pending: String,
    /// Whether errors report positions in the whole input rather than in the statement.
    track_lines: bool,
    /// The number of lines fed since [`Shell::begin_input`].
    n_lines: u64,
    /// The input line on which `pending` starts.
    pending_line: u64,
    /// The progress line of long imports, when shown.
    progress: Option<Arc<ProgressLine>>,
    /// Whether a statement is running (Ctrl-C then stops it rather than the shell).
    running: Arc<AtomicBool>,
}

impl Shell {
    pub fn new(conn: Connection) -> Shell {
        Shell {
            conn,
            timer: false,
            pending: String::new(),
            track_lines: false,
            n_lines: 0,
            pending_line: 1,
            progress: None,
            running: Arc::default(),
        }
    }

    /// Makes Ctrl-C (SIGINT) stop the running statement, which then fails with "query
    /// interrupted" like any other error; between statements Ctrl-C ends the process as
    /// usual (exit code 130). The line editor reads Ctrl-C at the prompt itself.
    pub fn interrupt_on_ctrl_c(&self) -> Result<(), String> {
        let handle = self.conn.interrupt_handle();
        let running = self.running.clone();
        ctrlc::set_handler(move || {
            if running.load(Ordering::SeqCst) {
                handle.interrupt();
            } else {
                std::process::exit(130);
            }
        })
        .map_err(|e| format!("cannot handle Ctrl-C: {e}"))
    }

    /// Shows the progress of long statements on `line` (wiped when each statement ends).
    pub fn show_progress(&mut self, line: ProgressLine) {
        let line = Arc::new(line);
        let feed = line.clone();
        self.conn.set_progress_handler(move |p| feed.update(p));
        self.progress = Some(line);
    }

    /// Runs one statement, the progress line wiped after it.
    fn run_sql(&self, sql: &str) -> Result<Output, ShellError> {
        self.running.store(true, Ordering::SeqCst);
        let res = self.conn.run(sql, ());
        self.running.store(false, Ordering::SeqCst);
        if let Some(line) = &self.progress {
            line.clear();
        }
        res.map_err(|err| ShellError::Sql { err, at: None })
    }

    /// Makes errors point into the whole input (line 1 is the first line fed since
    /// [`Shell::begin_input`]) instead of into the failing statement. Scripts want this; at
    /// the interactive prompt the statement just typed is the natural frame.
    pub fn track_lines(&mut self, on: bool) {
        self.track_lines = on;
    }

    /// A new input starts (another `-c` script): line numbers start again at 1.
    pub fn begin_input(&mut self) {
        self.pending.clear();
        self.n_lines = 0;
        self.pending_line = 1;
    }

    /// Whether part of a statement is waiting for more lines (the continuation prompt).
    /// Blank lines and comments alone do not count.
    pub fn has_pending(&self) -> bool {
        !self.pending.trim().is_empty() && !heliosdb_nano::split_statements(&self.pending).is_empty()
    }

    /// Forgets the statement being typed (Ctrl-C, or after an error).
    pub fn clear_pending(&mut self) {
        self.pending.clear();
    }

    /// Takes one line of input (with or without its line break).
    pub fn feed_line(&mut self, line: &str, out: &mut dyn Write) -> Result<Flow, ShellError> {
        let line = line.strip_suffix('\n').unwrap_or(line);
        let line = line.strip_suffix('\r').unwrap_or(line);
        self.n_lines += 1;
        let trimmed = line.trim_start();
        if trimmed.starts_with('.') && !self.has_pending() {
            self.pending.clear();
            return self.dot_command(trimmed, out);
        }
        if self.pending.is_empty() {
            self.pending_line = self.n_lines;
        }
        self.pending.push_str(line);
        self.pending.push('\n');
        // Without a `;` or the end of a block comment, the new line cannot complete a
        // statement; skipping the rescan keeps long multi-line statements linear.
        if (line.contains(';') || line.contains("*/")) && heliosdb_nano::ends_statement(&self.pending) {
            let text = std::mem::take(&mut self.pending);
            self.run_script(&text, out)?;
        }
        Ok(Flow::Continue)
    }

    /// The input ended: runs what is pending, even without a final `;`.
    pub fn finish(&mut self, out: &mut dyn Write) -> Result<(), ShellError> {
        let text = std::mem::take(&mut self.pending);
        self.run_script(&text, out)
    }

    /// Runs every statement of `text`, stopping at the first error.
    /// `text` starts at input line `self.pending_line`.
    fn run_script(&mut self, text: &str, out: &mut dyn Write) -> Result<(), ShellError> {
        let mut cursor = 0;
        for stmt in heliosdb_nano::split_statements(text) {
            // Statements come back trimmed and in order, so each one is the first match
            // after the previous one.
            let offset = text.get(cursor..).and_then(|rest| rest.find(&stmt)).map_or(cursor, |pos| cursor + pos);
            cursor = offset + stmt.len();
            let at = self.track_lines.then(|| {
                let before = text.get(..offset).unwrap_or("");
                let line = self.pending_line + before.matches('\n').count() as u64;
                let col = before.rsplit('\n').next().unwrap_or("").chars().count() as u64 + 1;
                (line, col)
            });
            // A panic in the engine is a bug; report it like an error so that an interactive
            // session survives it (the connection recovers its lock, statements are atomic).
            let res = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.run_statement(&stmt, out)))
                .unwrap_or_else(|payload| Err(ShellError::Internal(panic_message(payload.as_ref()))));
            res.map_err(|e| match e {
                ShellError::Sql { err, .. } => ShellError::Sql { err, at },
                e => e,
            })?;
        }
        Ok(())
    }

    fn run_statement(&mut self, sql: &str, out: &mut dyn Write) -> Result<(), ShellError> {
        let start = Instant::now();
        let res = self.run_sql(sql);
        let elapsed = start.elapsed();
        let text = match res? {
            Output::Rows(rows) => table::render_rows(&rows),
            Output::Affected(n) => format!("{}\n", affected_message(sql, n)),
            Output::Ok => "OK\n".to_string(),
        };
        out.write_all(text.as_bytes())?;
        if self.timer {
            writeln!(out, "{}", run_time(elapsed))?;
        }
        out.flush()?;
        Ok(())
    }

    fn dot_command(&mut self, line: &str, out: &mut dyn Write) -> Result<Flow, ShellError> {
        let mut words = line.split_whitespace();
        let name = words.next().unwrap_or(".");
        let args: Vec<&str> = words.collect();
        let no_args = |args: &[&str]| {
            if args.is_empty() {
                Ok(())
            } else {
                Err(ShellError::Command(format!("{name} takes no arguments")))
            }
        };
        match name {
            ".quit" | ".exit" => {
                no_args(&args)?;
                return Ok(Flow::Quit);
            }
            ".help" => {
                no_args(&args)?;
                out.write_all(DOT_HELP.as_bytes())?;
            }
            ".tables" => {
                no_args(&args)?;
                for name in self.conn.table_names() {
                    writeln!(out, "{name}")?;
                }
            }
            ".schema" => match args.as_slice() {
                [] => {
                    for name in self.conn.table_names() {
                        if let Some(sql) = self.conn.table_sql(&name) {
                            writeln!(out, "{sql}")?;
                        }
                    }
                }
                [table] => writeln!(out, "{}", self.table_sql(table)?)?,
                _ => return Err(ShellError::Command("usage: .schema [TABLE]".into())),
            },
            ".import" => match args.as_slice() {
                [file, table] if file.to_ascii_lowercase().ends_with(".parquet") => {
                    let sql = format!("COPY {table} FROM '{}' (FORMAT parquet)", file.replace('\'', "''"));
                    let n = imported(self.run_sql(&sql)?);
                    writeln!(out, "imported {n} rows into {table}")?;
                }
                [file, table] => {
                    // CSV; the first line is a header when it names the table's columns.
                    let header = first_line(file)
                        .zip(self.conn.query(&format!("SELECT * FROM {table} LIMIT 0"), ()).ok())
                        .is_some_and(|(first, rows)| {
                            let names: Vec<String> = rows.column_names().iter().map(|n| n.to_lowercase()).collect();
                            first.split(',').map(|f| f.trim().trim_matches('"').to_lowercase()).eq(names)
                        });
                    let sql = format!("COPY {table} FROM '{}' (FORMAT csv, HEADER {header})", file.replace('\'', "''"));
                    let n = imported(self.run_sql(&sql)?);
                    writeln!(out, "imported {n} rows into {table}")?;
                }
                _ => return Err(ShellError::Command("usage: .import FILE TABLE".into())),
            },
            ".timer" => match args.as_slice() {
                ["on"] => self.timer = true,
                ["off"] => self.timer = false,
                _ => return Err(ShellError::Command("usage: .timer on|off".into())),
            },
            _ => {
                return Err(ShellError::Command(format!(
                    "unknown command {name}; enter .help for the list of commands"
                )))
            }
        }
        out.flush()?;
        Ok(Flow::Continue)
    }

    /// `CREATE TABLE` text of `name`; an unquoted name also matches case-insensitively,
    /// as it would in SQL.
    fn table_sql(&self, name: &str) -> Result<String, ShellError> {
        let unquoted = name.strip_prefix('"').and_then(|n| n.strip_suffix('"'));
        let found = match unquoted {
            Some(exact) => self.conn.table_sql(exact),
            None => self.conn.table_sql(name).or_else(|| {
                let names = self.conn.table_names();
                let same = names.iter().find(|t| t.eq_ignore_ascii_case(name))?;
                self.conn.table_sql(same)
            }),
        };
        found.ok_or_else(|| ShellError::Command(format!("no such table: {name}")))
    }
}

/// The first line of the file at `path`, without reading the rest; `None` when it cannot be
/// read (the COPY that follows reports why).
fn first_line(path: &str) -> Option<String> {
    let mut line = String::new();
    io::BufReader::new(std::fs::File::open(path).ok()?).read_line(&mut line).ok()?;
    Some(line.trim_end_matches(['\n', '\r']).to_string())
}

/// The row count of an import's output.
fn imported(out: Output) -> u64 {
    match out {
        Output::Affected(n) => n,
        _ => 0,
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "the engine panicked".to_string()
    }
}

/// `INSERT 3`, `UPDATE 2`, `DELETE 0`: the statement's verb and the row count.
fn affected_message(sql: &str, n: u64) -> String {
    match first_keyword(sql) {
        Some(verb) => format!("{verb} {n}"),
        None => format!("{n} rows affected"),
    }
}

/// The first word of a statement, upper-cased, after leading blanks and comments.
fn first_keyword(sql: &str) -> Option<String> {
    let mut rest = sql.trim_start();
    loop {
        if let Some(r) = rest.strip_prefix("--") {
            rest = r.split_once('\n').map_or("", |(_, after)| after).trim_start();
        } else if let Some(r) = rest.strip_prefix("/*") {
            rest = r.split_once("*/").map_or("", |(_, after)| after).trim_start();
        } else {
            break;
        }
    }
    let word: String = rest.chars().take_while(|c| c.is_ascii_alphabetic()).collect();
    (!word.is_empty()).then(|| word.to_ascii_uppercase())
}

/// `Run Time: 0.012 s`.
fn run_time(elapsed: Duration) -> String {
    format!("Run Time: {:.3} s", elapsed.as_secs_f64())
}

#[cfg(test)]
mod tests;
