//! The interactive shell: rustyline line editing and history around a [`Shell`].
//!
//! Errors are printed and the shell goes on. Ctrl-C drops the statement being typed,
//! Ctrl-D (end of input) leaves. History lives in `$HOME/.heliosdb_history` when `HOME` is
//! set; failing to read or write it is not an error. A complete statement is one history
//! entry, even when it was typed over several lines.
//!
//! Ctrl-C while a statement runs stops the statement ("query interrupted") and the shell goes
//! on (see `Shell::interrupt_on_ctrl_c`).

use crate::shell::{Flow, Shell, ShellError};
use rustyline::error::ReadlineError;
use rustyline::DefaultEditor;
use std::io::{self, Write};
use std::path::PathBuf;

const PROMPT: &str = "heliosdb> ";
const CONTINUATION: &str = "   ...> ";

/// Runs the interactive loop until `.quit` or end of input. Returns the exit code.
pub fn run(shell: &mut Shell, banner: &str) -> i32 {
    let mut editor = match DefaultEditor::new() {
        Ok(editor) => editor,
        Err(e) => {
            crate::report(&format!("Error: cannot start line editing: {e}"));
            return 1;
        }
    };
    let history = history_path();
    if let Some(path) = &history {
        let _ = editor.load_history(path);
    }
    let _ = writeln!(io::stdout(), "{banner}\nEnter .help for usage hints.");

    let stdout = io::stdout();
    let mut entry = String::new();
    let code = loop {
        let prompt = if shell.has_pending() { CONTINUATION } else { PROMPT };
        let line = match editor.readline(prompt) {
            Ok(line) => line,
            Err(ReadlineError::Interrupted) => {
                shell.clear_pending();
                entry.clear();
                continue;
            }
            Err(ReadlineError::Eof) => break 0,
            Err(e) => {
                crate::report(&format!("Error: reading input: {e}"));
                break 1;
            }
        };
        if !entry.is_empty() {
            entry.push('\n');
        }
        entry.push_str(&line);

        let mut out = stdout.lock();
        let res = shell.feed_line(&line, &mut out);
        drop(out);
        if !shell.has_pending() {
            if !entry.trim().is_empty() {
                let _ = editor.add_history_entry(entry.as_str());
            }
            entry.clear();
        }
        match res {
            Ok(Flow::Continue) => {}
            Ok(Flow::Quit) => break 0,
            Err(ShellError::Io(e)) => {
                crate::report(&ShellError::Io(e).one_line());
                break 1;
            }
            Err(e) => {
                let _ = io::stdout().flush();
                crate::report(&e.one_line());
                shell.clear_pending();
                entry.clear();
            }
        }
    };
    if let Some(path) = &history {
        let _ = editor.save_history(path);
    }
    code
}

fn history_path() -> Option<PathBuf> {
    let home = std::env::var_os("HOME").filter(|h| !h.is_empty())?;
    Some(PathBuf::from(home).join(".heliosdb_history"))
}
