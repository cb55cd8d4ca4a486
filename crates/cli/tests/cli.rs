//! End-to-end tests of the `heliosdb` binary: run it with arguments and piped input, check
//! its stdout, stderr and exit code.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

fn heliosdb() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_heliosdb"));
    // Keep tests away from the real history file (only the interactive shell uses it).
    cmd.env_remove("HOME");
    cmd
}

/// Runs the binary with `args`, `stdin` piped in.
fn run(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = heliosdb()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start heliosdb");
    let mut input = child.stdin.take().expect("stdin");
    let data = stdin.to_vec();
    // Write from a thread: the child may stop reading early (an error), or fill its pipes.
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let out = child.wait_with_output().expect("wait for heliosdb");
    let _ = writer.join();
    out
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).expect("utf-8 stdout")
}

fn stderr(out: &Output) -> String {
    String::from_utf8(out.stderr.clone()).expect("utf-8 stderr")
}

fn assert_success(out: &Output) {
    assert_eq!(out.status.code(), Some(0), "stdout:\n{}\nstderr:\n{}", stdout(out), stderr(out));
    assert_eq!(stderr(out), "");
}

#[test]
fn piped_select_prints_result() {
    let out = run(&[], b"SELECT 1 + 1;\n");
    assert_success(&out);
    let text = stdout(&out);
    assert!(text.lines().any(|l| l.trim_matches(|c| c == '|' || c == ' ') == "2"), "{text}");
    assert!(text.ends_with("(1 row)\n"), "{text}");
}

#[test]
fn command_syntax_error_reports_position() {
    let out = run(&["-c", "SELEC 1"], b"");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stdout(&out), "");
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("Error: syntax error at line 1, column 1"), "{err}");
}

#[test]
fn command_runs_several_statements() {
    let out = run(&["-c", "CREATE TABLE t (a INTEGER); INSERT INTO t VALUES (7), (8); SELECT sum(a) AS s FROM t"], b"");
    assert_success(&out);
    assert_eq!(stdout(&out), "OK\nINSERT 2\n+----+\n| s  |\n+----+\n| 15 |\n+----+\n(1 row)\n");
}

#[test]
fn piped_script_shows_null_and_alignment() {
    let script = "CREATE TABLE t (id INTEGER, name TEXT, score DOUBLE);\n\
                  INSERT INTO t VALUES (1, 'ann', 2.5), (20, NULL, NULL), (300, '', -1);\n\
                  SELECT id, name, score FROM t ORDER BY id;\n";
    let out = run(&[], script.as_bytes());
    assert_success(&out);
    let expect = "OK\n\
                  INSERT 3\n\
                  +-----+------+-------+\n\
                  | id  | name | score |\n\
                  +-----+------+-------+\n\
                  |   1 | ann  |   2.5 |\n\
                  |  20 | NULL |  NULL |\n\
                  | 300 |      |    -1 |\n\
                  +-----+------+-------+\n\
                  (3 rows)\n";
    assert_eq!(stdout(&out), expect);
}

#[test]
fn dot_tables_and_schema() {
    let script = "CREATE TABLE zoo (id BIGINT PRIMARY KEY, name TEXT NOT NULL);\n\
                  CREATE TABLE ant (x INTEGER);\n\
                  .tables\n\
                  .schema zoo\n";
    let out = run(&[], script.as_bytes());
    assert_success(&out);
    assert_eq!(
        stdout(&out),
        "OK\nOK\nant\nzoo\nCREATE TABLE zoo (\n    id BIGINT NOT NULL,\n    name TEXT NOT NULL,\n    PRIMARY KEY (id)\n);\n"
    );

    let out = run(&["-c", "CREATE TABLE a (x INTEGER);\n.schema"], b"");
    assert_success(&out);
    assert_eq!(stdout(&out), "OK\nCREATE TABLE a (\n    x INTEGER\n);\n");
}

#[test]
fn unknown_dot_command_is_an_error() {
    let out = run(&[], b".nope\nSELECT 1;\n");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stdout(&out), "");
    assert!(stderr(&out).contains("unknown command .nope"), "{}", stderr(&out));
}

#[test]
fn path_argument_opens_a_durable_database() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let db = tmp.path().join("shop");
    let dir = db.to_str().expect("utf-8 temp dir");
    let out =
        run(&[dir, "-c", "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO t VALUES (1, 'one')"], b"");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = run(&[dir], b"INSERT INTO t VALUES (2, 'two');\nCHECKPOINT;\n");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = run(&[dir, "-c", "SELECT count(*) AS n FROM t"], b"");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains('2'), "{}", stdout(&out));
    let out = run(&[dir, "-c", "INSERT INTO t VALUES (1, 'again')"], b"");
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("duplicate key"), "{}", stderr(&out));

    // A file is not a database directory: a clear error, no fallback to memory.
    let file = tmp.path().join("file.db");
    std::fs::write(&file, b"x").expect("write");
    let file = file.to_str().expect("utf-8");
    let out = run(&[file, "-c", "SELECT 1"], b"");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stdout(&out), "", "must not fall back to an in-memory database");
    let err = stderr(&out);
    assert!(err.starts_with("Error: ") && err.contains(file) && err.contains("not a HeliosDB database"), "{err}");
}

#[test]
fn error_mid_stream_stops() {
    let script = "CREATE TABLE t (a INTEGER);\nSELECT nope FROM t;\nINSERT INTO t VALUES (1);\nSELECT 1;\n";
    let out = run(&[], script.as_bytes());
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stdout(&out), "OK\n", "nothing after the error runs");
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("Error: ") && err.contains("nope") && err.contains("line 2, column 8"), "{err}");
}

#[test]
fn multi_line_statement() {
    let out = run(&[], b"SELECT\n  1 AS one,\n  'x;y' AS s -- a comment;\n;\n");
    assert_success(&out);
    assert_eq!(stdout(&out), "+-----+-----+\n| one | s   |\n+-----+-----+\n|   1 | x;y |\n+-----+-----+\n(1 row)\n");
}

#[test]
fn last_statement_needs_no_semicolon() {
    let out = run(&[], b"SELECT 5 AS five");
    assert_success(&out);
    assert_eq!(stdout(&out), "+------+\n| five |\n+------+\n|    5 |\n+------+\n(1 row)\n");
}

#[test]
fn statements_run_before_end_of_input() {
    let mut child =
        heliosdb().stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("start heliosdb");
    let mut input = child.stdin.take().expect("stdin");
    let output = child.stdout.take().expect("stdout");
    input.write_all(b"SELECT 42 AS answer;\n").expect("write");
    input.flush().expect("flush");

    // Read until the footer while stdin stays open; give up after a while instead of hanging.
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut seen = String::new();
        for line in BufReader::new(output).lines() {
            let Ok(line) = line else { break };
            seen.push_str(&line);
            seen.push('\n');
            if line.starts_with('(') {
                break;
            }
        }
        let _ = tx.send(seen);
    });
    let seen = rx.recv_timeout(Duration::from_secs(30));
    drop(input);
    let status = child.wait().expect("wait");
    let seen = seen.expect("the result arrives before stdin is closed");
    assert!(seen.contains(" 42 |"), "{seen}");
    assert_eq!(status.code(), Some(0));
}

#[test]
fn timer_prints_run_time() {
    let out = run(&[], b".timer on\nSELECT 1;\n");
    assert_success(&out);
    let text = stdout(&out);
    let last = text.lines().last().unwrap_or_default();
    assert!(last.starts_with("Run Time: ") && last.ends_with(" s"), "{text}");
}

#[test]
fn quit_stops_reading() {
    let out = run(&[], b"SELECT 1 AS x;\n.quit\nSELEC broken;\n");
    assert_success(&out);
    assert!(stdout(&out).ends_with("(1 row)\n"));
}

#[test]
fn empty_and_odd_input() {
    let out = run(&[], b"");
    assert_success(&out);
    assert_eq!(stdout(&out), "");

    let out = run(&[], b"-- only a comment\n\n");
    assert_success(&out);

    // Invalid UTF-8 and an unterminated string: an error, not a panic.
    let out = run(&[], b"SELECT '\xff\xfe\n");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).starts_with("Error: "), "{}", stderr(&out));
}

#[test]
fn help_and_version() {
    let out = run(&["--help"], b"");
    assert_success(&out);
    assert!(stdout(&out).starts_with("Usage: heliosdb [OPTIONS] [PATH]"));

    let out = run(&["-h"], b"");
    assert_success(&out);

    let out = run(&["--version"], b"");
    assert_success(&out);
    assert_eq!(stdout(&out), format!("heliosdb {}\n", env!("CARGO_PKG_VERSION")));
}

#[test]
fn unknown_option_exits_2() {
    let out = run(&["--bogus"], b"SELECT 1;\n");
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(stdout(&out), "");
    assert!(stderr(&out).starts_with("Error: unknown option --bogus"), "{}", stderr(&out));

    let out = run(&["-c"], b"");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn dot_import_loads_a_csv_file_in_one_commit() {
    let path = std::env::temp_dir().join(format!("heliosdb-import-{}.csv", std::process::id()));
    std::fs::write(&path, "id,name\n1,a\n2,\"b,c\"\n").unwrap();
    let script = format!(
        "CREATE TABLE imp (id INTEGER, name TEXT);\n.import {} imp\nSELECT count(*), max(name) FROM imp;\n",
        path.display()
    );
    let out = run(&[], script.as_bytes());
    assert_success(&out);
    let text = stdout(&out);
    assert!(text.contains("imported 2 rows into imp"), "{text}");
    assert!(text.contains("b,c"), "{text}");
    // A bad row: an error naming the line, and nothing imported.
    std::fs::write(&path, "1,a\nx,b\n").unwrap();
    let script = format!("CREATE TABLE imp (id INTEGER, name TEXT);\n.import {} imp\n", path.display());
    let out = run(&[], script.as_bytes());
    assert!(!out.status.success());
    assert!(stderr(&out).contains(":2: column \"id\""), "{}", stderr(&out));
    let _ = std::fs::remove_file(&path);
}

#[test]
fn dot_import_loads_a_parquet_file() {
    let path = std::env::temp_dir().join(format!("heliosdb-import-{}.parquet", std::process::id()));
    let script = format!(
        "CREATE TABLE src (id INTEGER, name TEXT);\nINSERT INTO src VALUES (1, 'a'), (2, NULL), (3, 'c');\n\
         COPY src TO '{p}';\nCREATE TABLE imp (id BIGINT, name TEXT);\n.import {p} imp\n\
         SELECT count(*), count(name), sum(id) FROM imp;\n",
        p = path.display()
    );
    let out = run(&[], script.as_bytes());
    assert_success(&out);
    let text = stdout(&out);
    assert!(text.contains("imported 3 rows into imp"), "{text}");
    assert!(text.contains("|     3 |     2 |   6 |"), "{text}");
    // A type that does not load: an error naming the file and column, nothing imported.
    let script = format!("CREATE TABLE imp (id INTEGER, name INTEGER);\n.import {} imp\n", path.display());
    let out = run(&[], script.as_bytes());
    assert!(!out.status.success());
    assert!(stderr(&out).contains("column 2 \"name\" has parquet type string"), "{}", stderr(&out));
    let _ = std::fs::remove_file(&path);
}

#[test]
fn long_imports_show_progress_on_stderr_only() {
    let dir = tempfile::tempdir().unwrap();
    // About 3 MB: several batches and pieces of CSV, two row groups of parquet.
    let csv = dir.path().join("big.csv");
    let mut text = String::from("id,name\n");
    for i in 0..150_000 {
        text.push_str(&format!("{i},name number {i}\n"));
    }
    std::fs::write(&csv, &text).unwrap();
    let parquet = dir.path().join("big.parquet");
    let (csv, parquet) = (csv.display().to_string(), parquet.display().to_string());
    let commands = [
        "CREATE TABLE t (id INTEGER, name TEXT); CREATE TABLE u (id INTEGER, name TEXT);".to_string(),
        format!(".import {csv} t"),
        format!("COPY t TO '{parquet}'"),
        format!(".import {parquet} u"),
        format!("COPY u FROM '{csv}' (HEADER true)"),
        "SELECT count(*) FROM u".to_string(),
    ];
    let mut args = Vec::new();
    for c in &commands {
        args.extend(["-c", c.as_str()]);
    }
    let out = heliosdb().args(&args).env("HELIOSDB_PROGRESS", "on").output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // Standard output is exactly what it is without progress.
    let quiet = heliosdb().args(&args).env("HELIOSDB_PROGRESS", "off").output().unwrap();
    assert_eq!(stdout(&out), stdout(&quiet));
    assert_eq!(stderr(&quiet), "");
    let text = stdout(&out);
    assert!(
        text.starts_with(
            "OK\nOK\nimported 150000 rows into t\nCOPY 150000\nimported 150000 rows into u\nCOPY 150000\n"
        ),
        "{text}"
    );
    // Standard error holds progress lines updated in place and wiped: every piece between
    // carriage returns is a bar or blanks, each import reached 100%, and the last is wiped.
    let err = stderr(&out);
    let pieces: Vec<&str> = err.split('\r').filter(|p| !p.is_empty()).collect();
    assert!(pieces.iter().all(|p| p.starts_with('[') || p.trim().is_empty()), "{err:?}");
    assert_eq!(pieces.iter().filter(|p| p.contains("] 100% of ")).count(), 3, "{err:?}");
    assert!(pieces.last().is_some_and(|p| p.trim().is_empty()) && err.ends_with('\r'), "{err:?}");

    // A bad value for the variable is refused.
    let out = heliosdb().args(["-c", "SELECT 1"]).env("HELIOSDB_PROGRESS", "loud").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("HELIOSDB_PROGRESS must be on, off or auto"), "{}", stderr(&out));
}

#[test]
fn a_parquet_file_arrow2_panics_on_is_a_quiet_clear_error() {
    use heliosdb_nano::Database;
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.parquet");
    let conn = Database::open_in_memory().unwrap().connect();
    let values: Vec<String> = (0..200)
        .map(|i| if i % 5 == 0 { "(NULL, NULL)".to_string() } else { format!("({}, {})", i * 7919 % 1000, i % 3 == 0) })
        .collect();
    conn.execute_batch(&format!(
        "CREATE TABLE n (i INTEGER, b BOOLEAN); INSERT INTO n VALUES {}; COPY n TO '{}'",
        values.join(", "),
        good.display()
    ))
    .unwrap();
    // Find damage that makes arrow2 panic: the error then ends in "corrupt data" with no
    // decoder message after it. The writer is deterministic, so this finds the same byte on
    // every run.
    let bytes = std::fs::read(&good).unwrap();
    let bad = dir.path().join("bad.parquet");
    let copy = format!("COPY n FROM '{}'", bad.display());
    let found = (4..bytes.len() / 2).find(|&at| {
        let mut damaged = bytes.clone();
        damaged[at] ^= 0x5a;
        std::fs::write(&bad, &damaged).unwrap();
        conn.execute(&copy, ()).is_err_and(|e| e.to_string().ends_with(": corrupt data"))
    });
    assert!(found.is_some(), "no damage made arrow2 panic");
    // The shell reports it as one clear line; no panic message reaches stderr.
    let out = heliosdb().args(["-c", "CREATE TABLE n (i INTEGER, b BOOLEAN)", "-c", &copy]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.starts_with("Error: ") && err.contains("bad.parquet\": column 1 \"i\" in row group 0"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

/// Sends SIGINT (what Ctrl-C sends) to a child process.
fn sigint(child: &std::process::Child) {
    let status = Command::new("kill").args(["-INT", &child.id().to_string()]).status().expect("run kill");
    assert!(status.success() || status.code() == Some(1), "kill failed: {status}");
}

/// Starts the binary with stdin kept open, writes `input`, waits `delay`, then sends SIGINT
/// every 50 ms until it exits (at most a minute). Returns the exit code and stderr.
fn interrupted_run(input: &'static [u8], delay: Duration) -> (Option<i32>, String) {
    let mut child =
        heliosdb().stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("start heliosdb");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin.write_all(input).expect("write input");
    std::thread::sleep(delay);
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "heliosdb did not stop after SIGINT");
        sigint(&child);
        std::thread::sleep(Duration::from_millis(50));
    };
    drop(stdin);
    let out = child.wait_with_output().expect("collect output");
    (status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn ctrl_c_stops_the_running_statement_and_between_statements_ends_the_shell() {
    // The statement would run for centuries: only the interrupt can end it, and the script
    // then stops at its error (exit 1). A SIGINT that lands before the statement starts ends
    // the process another way (130, or the signal itself before the handler is installed),
    // so a loaded machine gets a few tries with longer delays.
    let mut seen = Vec::new();
    for delay_ms in [300, 1_000, 3_000, 6_000] {
        let (code, err) = interrupted_run(
            b"SELECT count(*) FROM generate_series(1, 9000000000000000000);\n",
            Duration::from_millis(delay_ms),
        );
        if code == Some(1) {
            assert!(err.contains("query interrupted"), "{err}");
            break;
        }
        seen.push((code, err));
        assert!(seen.len() < 4, "SIGINT never stopped the statement: {seen:?}");
    }
    // Between statements (waiting for input), Ctrl-C ends the shell with 130, as a shell would.
    let mut seen = Vec::new();
    for delay_ms in [300, 1_000, 3_000] {
        let (code, err) = interrupted_run(b"SELECT 1;\n", Duration::from_millis(delay_ms));
        if code == Some(130) {
            break;
        }
        seen.push((code, err));
        assert!(seen.len() < 3, "SIGINT while idle did not exit with 130: {seen:?}");
    }
}
