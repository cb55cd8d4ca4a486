//! Command-line arguments, parsed by hand: the shell has few options and no subcommands yet,
//! so a parser crate would not earn its place.

use std::ffi::OsString;
use std::path::PathBuf;

/// The usage text printed by `--help`.
pub const USAGE: &str = "\
Usage: heliosdb [OPTIONS] [PATH]

The HeliosDB Nano SQL shell.

Without PATH the database lives in memory and is gone when the shell exits.
With PATH it is the database directory, created if it does not exist: every
committed statement is durable, and the next run finds it. One process at a
time owns a database directory.

When standard input is a terminal the shell is interactive. Otherwise SQL is
read from standard input and run statement by statement; the first error
stops the run with exit code 1.

Options:
  -c, --command SQL   run SQL (one or more statements or dot commands) and exit;
                      may be given more than once
  -h, --help          print this help and exit
  -V, --version       print the version and exit

Environment:
  HELIOSDB_PROGRESS   auto (default): a long import shows a progress line on
                      stderr when stderr is a terminal; on: always, from the
                      start; off: never

Exit codes: 0 success, 1 an error while running, 2 bad command-line arguments
(or a bad HELIOSDB_PROGRESS).
Enter .help in the shell for its dot commands.
";

/// What the command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Help,
    Version,
    Run(RunArgs),
}

/// The arguments of a normal run.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RunArgs {
    /// The database directory; `None` for an in-memory database.
    pub path: Option<PathBuf>,
    /// The `-c` scripts, in order; empty means read standard input.
    pub commands: Vec<String>,
}

/// Parses the arguments after the program name. The error is a message for the user.
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Action, String> {
    let mut run = RunArgs::default();
    let mut args = args.into_iter();
    let mut only_paths = false;
    while let Some(arg) = args.next() {
        let text = arg.to_str();
        if only_paths || !text.is_some_and(|t| t.starts_with('-') && t.len() > 1) {
            if let Some(prev) = &run.path {
                return Err(format!(
                    "more than one database path given ({} and {})",
                    prev.display(),
                    PathBuf::from(&arg).display()
                ));
            }
            run.path = Some(PathBuf::from(arg));
            continue;
        }
        // `text` is Some and starts with '-' here.
        let flag = text.unwrap_or_default();
        match flag {
            "--" => only_paths = true,
            "-h" | "--help" => return Ok(Action::Help),
            "-V" | "--version" => return Ok(Action::Version),
            "-c" | "--command" => {
                let Some(sql) = args.next() else {
                    return Err(format!("{flag} needs an argument: the SQL to run"));
                };
                run.commands.push(utf8(sql, flag)?);
            }
            _ => {
                if let Some(sql) = flag.strip_prefix("--command=") {
                    run.commands.push(sql.to_string());
                } else if let Some(sql) = flag.strip_prefix("-c").filter(|s| !s.is_empty()) {
                    run.commands.push(sql.to_string());
                } else {
                    return Err(format!("unknown option {flag}"));
                }
            }
        }
    }
    Ok(Action::Run(run))
}

fn utf8(arg: OsString, flag: &str) -> Result<String, String> {
    arg.into_string().map_err(|_| format!("the argument of {flag} is not valid UTF-8"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_strs(args: &[&str]) -> Result<Action, String> {
        parse(args.iter().map(OsString::from))
    }

    fn run(path: Option<&str>, commands: &[&str]) -> Action {
        Action::Run(RunArgs {
            path: path.map(PathBuf::from),
            commands: commands.iter().map(|s| s.to_string()).collect(),
        })
    }

    #[test]
    fn no_arguments_is_in_memory() {
        assert_eq!(parse_strs(&[]), Ok(run(None, &[])));
    }

    #[test]
    fn path_and_commands() {
        assert_eq!(parse_strs(&["db", "-c", "SELECT 1"]), Ok(run(Some("db"), &["SELECT 1"])));
        assert_eq!(parse_strs(&["--command=SELECT 1", "-cSELECT 2"]), Ok(run(None, &["SELECT 1", "SELECT 2"])));
        assert_eq!(parse_strs(&["--command", "a", "-c", "b"]), Ok(run(None, &["a", "b"])));
        assert_eq!(parse_strs(&["--", "-odd-dir"]), Ok(run(Some("-odd-dir"), &[])));
        assert_eq!(parse_strs(&["-"]), Ok(run(Some("-"), &[])));
    }

    #[test]
    fn help_and_version() {
        assert_eq!(parse_strs(&["--help"]), Ok(Action::Help));
        assert_eq!(parse_strs(&["-h", "--bogus"]), Ok(Action::Help));
        assert_eq!(parse_strs(&["-V"]), Ok(Action::Version));
        assert_eq!(parse_strs(&["--version"]), Ok(Action::Version));
    }

    #[test]
    fn errors() {
        assert_eq!(parse_strs(&["--bogus"]), Err("unknown option --bogus".to_string()));
        assert!(parse_strs(&["-c"]).unwrap_err().contains("needs an argument"));
        assert!(parse_strs(&["a", "b"]).unwrap_err().contains("more than one database path"));
    }
}
