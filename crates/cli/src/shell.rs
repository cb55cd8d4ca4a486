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

use crate::table;
use heliosdb_nano::{Connection, Output};
use std::io::{self, Write};
use std::time::{Duration, Instant};

/// The help text of `.help`.
pub const DOT_HELP: &str = "\
SQL statements end with ';' and may span several lines.
Dot commands (at the start of a line):
  .help               show this help
  .tables             list the tables
  .schema [TABLE]     show the CREATE TABLE statement of TABLE, or of every table
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
    /// The database refused a statement.
    Sql(heliosdb_nano::Error),
    /// A dot command was unknown or misused.
    Command(String),
    /// Writing the output failed (for example, the reader of a pipe went away).
    Io(io::Error),
}

impl std::fmt::Display for ShellError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ShellError::Sql(e) => write!(f, "{e}"),
            ShellError::Command(msg) => f.write_str(msg),
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
        let text: Vec<&str> = text.split_whitespace().collect();
        format!("Error: {}", text.join(" "))
    }
}

/// A connection plus the shell's state: settings and the statement being typed.
pub struct Shell {
    conn: Connection,
    timer: bool,
    pending: String,
}

impl Shell {
    pub fn new(conn: Connection) -> Shell {
        Shell { conn, timer: false, pending: String::new() }
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
        let trimmed = line.trim_start();
        if trimmed.starts_with('.') && !self.has_pending() {
            self.pending.clear();
            return self.dot_command(trimmed, out);
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
    fn run_script(&mut self, text: &str, out: &mut dyn Write) -> Result<(), ShellError> {
        for stmt in heliosdb_nano::split_statements(text) {
            self.run_statement(&stmt, out)?;
        }
        Ok(())
    }

    fn run_statement(&mut self, sql: &str, out: &mut dyn Write) -> Result<(), ShellError> {
        let start = Instant::now();
        let res = self.conn.run(sql, ());
        let elapsed = start.elapsed();
        match res.map_err(ShellError::Sql)? {
            Output::Rows(rows) => out.write_all(table::render_rows(&rows).as_bytes())?,
            Output::Affected(n) => writeln!(out, "{}", affected_message(sql, n))?,
            Output::Ok => writeln!(out, "OK")?,
        }
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
