//! `heliosdb`, the HeliosDB Nano command-line shell.
//!
//! This crate owns the binary and everything about talking to a person or a script on a
//! terminal: argument parsing ([`args`]), collecting input lines into statements and the dot
//! commands ([`shell`]), the interactive line editor ([`repl`]), and printing results as
//! aligned tables ([`table`]). It uses only the public API of `heliosdb_nano`; it knows
//! nothing of the engine's internals.
//!
//! ```text
//! args ─► main ─┬─ stdin is a terminal ─► repl (rustyline) ─┐
//!               └─ -c SQL, or piped stdin ──────────────────┴─► shell ─► heliosdb_nano::Connection
//!                                                                  └──► table (result text)
//! ```
//!
//! Input modes:
//! - interactive (stdin is a terminal): errors are printed and the shell goes on;
//! - `-c SQL` and piped stdin: statements run as soon as they are complete, and the first
//!   error is printed as one `Error: ...` line on stderr and ends the run with exit code 1,
//!   like `sqlite3 -bail`. Stopping is the safe default for scripts: later statements
//!   usually depend on earlier ones. Error positions count lines and columns of the whole
//!   input (of each `-c` argument), not of the failing statement.
//!
//! `heliosdb PATH` opens (or creates) the durable database in the directory PATH: every
//! commit is fsynced before the shell goes on, and the next `heliosdb PATH` finds it. A
//! warning on stderr says when recovery cut a damaged WAL tail.
//!
//! Exit codes: 0 success, 1 an error while running (including a database that cannot be
//! opened: locked by another process, damaged, not a database), 2 bad command-line arguments
//! (or a bad `HELIOSDB_PROGRESS`).
//!
//! A long import (`COPY ... FROM`, `.import`) shows a progress line on stderr ([`progress`]):
//! when stderr is a terminal and the import has run for a second, or always with
//! `HELIOSDB_PROGRESS=on`.

#![forbid(unsafe_code)]

mod args;
mod progress;
mod repl;
mod shell;
mod table;

use args::Action;
use heliosdb_nano::Database;
use shell::{Flow, Shell, ShellError};
use std::io::{self, BufRead, IsTerminal, Write};
use std::process::ExitCode;

fn main() -> ExitCode {
    let code = match args::parse(std::env::args_os().skip(1)) {
        Ok(Action::Help) => print_stdout(args::USAGE),
        Ok(Action::Version) => print_stdout(&format!("heliosdb {}\n", env!("CARGO_PKG_VERSION"))),
        Ok(Action::Run(run_args)) => run(run_args),
        Err(msg) => {
            report(&format!("Error: {msg}\nTry 'heliosdb --help' for more information."));
            2
        }
    };
    ExitCode::from(code)
}

fn run(run_args: args::RunArgs) -> u8 {
    let progress_mode = match progress::Mode::parse(std::env::var(progress::ENV).ok().as_deref()) {
        Ok(mode) => mode,
        Err(msg) => {
            report(&format!("Error: {msg}"));
            return 2;
        }
    };
    let db = match &run_args.path {
        Some(path) => Database::open(path),
        None => Database::open_in_memory(),
    };
    let db = match db {
        Ok(db) => db,
        Err(e) => {
            report(&format!("Error: {e}"));
            return 1;
        }
    };
    if let Some(warning) = db.recovery_report().and_then(|r| r.torn_tail) {
        report(&format!("Warning: {warning}"));
    }
    let mut shell = Shell::new(db.connect());
    if let Err(warning) = shell.interrupt_on_ctrl_c() {
        report(&format!("Warning: {warning}"));
    }
    if let Some(line) = progress::ProgressLine::for_stderr(progress_mode, io::stderr().is_terminal()) {
        shell.show_progress(line);
    }

    if !run_args.commands.is_empty() {
        shell.track_lines(true);
        for command in &run_args.commands {
            shell.begin_input();
            let code = run_lines(&mut shell, command.split_inclusive('\n').map(|l| Ok(l.to_string())));
            if code != 0 {
                return code;
            }
        }
        return 0;
    }
    if io::stdin().is_terminal() {
        let banner = match &run_args.path {
            Some(path) => format!("HeliosDB Nano {} (database {})", env!("CARGO_PKG_VERSION"), path.display()),
            None => {
                format!("HeliosDB Nano {} (in-memory database; data is lost on exit)", env!("CARGO_PKG_VERSION"))
            }
        };
        return if repl::run(&mut shell, &banner) == 0 { 0 } else { 1 };
    }
    shell.track_lines(true);
    run_lines(&mut shell, StdinLines { stdin: io::stdin().lock(), buf: Vec::new() })
}

/// Runs script input line by line, stopping at the first error. Returns the exit code.
fn run_lines(shell: &mut Shell, lines: impl Iterator<Item = io::Result<String>>) -> u8 {
    let mut out = io::BufWriter::new(io::stdout().lock());
    let mut res = Ok(());
    for line in lines {
        let line = match line {
            Ok(line) => line,
            Err(e) => {
                let _ = out.flush();
                report(&format!("Error: reading standard input: {e}"));
                return 1;
            }
        };
        match shell.feed_line(&line, &mut out) {
            Ok(Flow::Continue) => {}
            Ok(Flow::Quit) => {
                shell.clear_pending();
                break;
            }
            Err(e) => {
                res = Err(e);
                break;
            }
        }
    }
    if res.is_ok() {
        res = shell.finish(&mut out);
    }
    let flushed = out.flush();
    match res.and(flushed.map_err(ShellError::Io)) {
        Ok(()) => 0,
        // The reader went away (`heliosdb ... | head`): nobody is left to tell.
        Err(ShellError::Io(e)) if e.kind() == io::ErrorKind::BrokenPipe => 1,
        Err(e) => {
            report(&e.one_line());
            1
        }
    }
}

/// Lines of standard input as they arrive; invalid UTF-8 is replaced, not an error.
struct StdinLines<R> {
    stdin: R,
    buf: Vec<u8>,
}

impl<R: BufRead> Iterator for StdinLines<R> {
    type Item = io::Result<String>;

    fn next(&mut self) -> Option<io::Result<String>> {
        self.buf.clear();
        match self.stdin.read_until(b'\n', &mut self.buf) {
            Ok(0) => None,
            Ok(_) => Some(Ok(String::from_utf8_lossy(&self.buf).into_owned())),
            Err(e) => Some(Err(e)),
        }
    }
}

fn print_stdout(text: &str) -> u8 {
    let mut out = io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => 0,
        Err(_) => 1,
    }
}

/// Writes a message line to stderr; a failing stderr is ignored rather than a panic.
pub(crate) fn report(msg: &str) {
    let _ = writeln!(io::stderr().lock(), "{msg}");
}
