//! Tests of the shell core: feed lines, compare the printed text.

use super::*;
use heliosdb_nano::Database;

fn shell() -> Shell {
    Shell::new(Database::open_in_memory().unwrap().connect())
}

/// Feeds `input` line by line, then finishes; returns the output, or the output so far and
/// the first error.
fn run(shell: &mut Shell, input: &str) -> (String, Option<String>) {
    let mut out = Vec::new();
    let mut err = None;
    for line in input.split_inclusive('\n') {
        match shell.feed_line(line, &mut out) {
            Ok(Flow::Continue) => {}
            Ok(Flow::Quit) => return (String::from_utf8(out).unwrap(), None),
            Err(e) => {
                err = Some(e.one_line());
                break;
            }
        }
    }
    if err.is_none() {
        if let Err(e) = shell.finish(&mut out) {
            err = Some(e.one_line());
        }
    }
    (String::from_utf8(out).unwrap(), err)
}

fn check(input: &str, expect: &str) {
    let (out, err) = run(&mut shell(), input);
    assert_eq!(err, None, "output so far:\n{out}");
    assert_eq!(out, expect, "\ngot:\n{out}\nexpected:\n{expect}");
}

fn check_err(input: &str, expect_out: &str, expect_err: &str) {
    let (out, err) = run(&mut shell(), input);
    assert_eq!(out, expect_out);
    let err = err.expect("an error");
    assert!(err.contains(expect_err), "{err}");
}

#[test]
fn statements_and_messages() {
    check(
        "CREATE TABLE t (a INTEGER);\nINSERT INTO t VALUES (1), (2);\nSELECT a FROM t ORDER BY a;\n",
        "OK\nINSERT 2\n+---+\n| a |\n+---+\n| 1 |\n| 2 |\n+---+\n(2 rows)\n",
    );
}

#[test]
fn multi_line_statement_and_several_per_line() {
    check("SELECT\n  1 AS x\n;", "+---+\n| x |\n+---+\n| 1 |\n+---+\n(1 row)\n");
    check(
        "SELECT 1 AS a; SELECT 2 AS b;",
        "+---+\n| a |\n+---+\n| 1 |\n+---+\n(1 row)\n+---+\n| b |\n+---+\n| 2 |\n+---+\n(1 row)\n",
    );
}

#[test]
fn last_statement_needs_no_semicolon() {
    check("SELECT 3 AS x", "+---+\n| x |\n+---+\n| 3 |\n+---+\n(1 row)\n");
}

#[test]
fn semicolons_in_quotes_and_comments_do_not_end() {
    let mut sh = shell();
    let mut out = Vec::new();
    sh.feed_line("SELECT ';' AS s -- ;\n", &mut out).unwrap();
    assert!(sh.has_pending());
    sh.feed_line("/* ; */ ;\n", &mut out).unwrap();
    assert!(!sh.has_pending());
    assert_eq!(String::from_utf8(out).unwrap(), "+---+\n| s |\n+---+\n| ; |\n+---+\n(1 row)\n");
}

#[test]
fn closing_block_comment_completes() {
    let mut sh = shell();
    let mut out = Vec::new();
    sh.feed_line("SELECT 1 AS x; /* trailing\n", &mut out).unwrap();
    assert!(out.is_empty());
    sh.feed_line("comment */\n", &mut out).unwrap();
    assert!(!out.is_empty());
    assert!(!sh.has_pending());
}

#[test]
fn comment_only_lines_are_not_pending() {
    let mut sh = shell();
    let mut out = Vec::new();
    sh.feed_line("-- just a comment\n", &mut out).unwrap();
    assert!(!sh.has_pending());
    sh.feed_line(".tables\n", &mut out).unwrap();
}

#[test]
fn first_error_stops_the_script() {
    check_err("SELECT 1 AS x; SELEC 2; SELECT 3;", "+---+\n| x |\n+---+\n| 1 |\n+---+\n(1 row)\n", "syntax error");
}

#[test]
fn errors_are_one_line() {
    let (_, err) = run(&mut shell(), "SELEC 1;");
    let err = err.unwrap();
    assert!(err.starts_with("Error: syntax error at line 1, column 1"), "{err}");
    assert!(!err.contains('\n'));
}

#[test]
fn tables_and_schema() {
    check(
        "CREATE TABLE b (x INTEGER);\nCREATE TABLE a (id BIGINT PRIMARY KEY, s TEXT);\n.tables\n.schema a\n",
        "OK\nOK\na\nb\nCREATE TABLE a (\n    id BIGINT NOT NULL,\n    s TEXT,\n    PRIMARY KEY (id)\n);\n",
    );
    check(
        "CREATE TABLE b (x INTEGER);\nCREATE TABLE a (y TEXT);\n.schema\n.schema B\n",
        "OK\nOK\nCREATE TABLE a (\n    y TEXT\n);\nCREATE TABLE b (\n    x INTEGER\n);\nCREATE TABLE b (\n    x INTEGER\n);\n",
    );
    check_err(".schema nope", "", "no such table: nope");
    check(".tables\n", "");
}

#[test]
fn dot_commands() {
    check(".help\n", DOT_HELP);
    check(".quit\nSELECT 1;\n", "");
    check(".exit\n", "");
    check_err(".frobnicate", "", "unknown command .frobnicate");
    check_err(".timer maybe", "", "usage: .timer on|off");
    check_err(".tables x", "", ".tables takes no arguments");
    check_err(".", "", "unknown command .");
}

#[test]
fn dot_inside_a_statement_is_sql() {
    check("SELECT\n.5 AS x;", "+-----+\n| x   |\n+-----+\n| 0.5 |\n+-----+\n(1 row)\n");
}

#[test]
fn timer_prints_run_time() {
    let (out, err) = run(&mut shell(), ".timer on\nSELECT 1 AS x;\n.timer off\nSELECT 2 AS y;\n");
    assert_eq!(err, None);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.iter().filter(|l| l.starts_with("Run Time: ") && l.ends_with(" s")).count(), 1, "{out}");
}

#[test]
fn affected_verbs() {
    assert_eq!(affected_message("insert into t values (1)", 1), "INSERT 1");
    assert_eq!(affected_message("-- c\n/* x */ DELETE FROM t", 0), "DELETE 0");
    assert_eq!(affected_message("(", 4), "4 rows affected");
    assert_eq!(first_keyword("/* open"), None);
}

#[test]
fn run_time_format() {
    assert_eq!(run_time(Duration::from_millis(12)), "Run Time: 0.012 s");
}

#[test]
fn odd_input_does_not_panic() {
    for input in ["'", "\"", "/*", ";;;", "\u{0}", "SELECT 'é\u{1}';", "--", ". ", "\r\n", "SELECT 1/0;"] {
        let _ = run(&mut shell(), input);
    }
}

#[test]
fn script_errors_point_into_the_input() {
    let mut sh = shell();
    sh.track_lines(true);
    let (_, err) = run(&mut sh, "SELECT 1;\n\n  SELECT 2; SELEC 3;\n");
    let err = err.unwrap();
    assert!(err.starts_with("Error: syntax error at line 3, column 13:"), "{err}");

    let mut sh = shell();
    sh.track_lines(true);
    let (_, err) = run(&mut sh, "SELECT 1;\nSELECT\n  1 +* 2;\n");
    let err = err.unwrap();
    assert!(err.starts_with("Error: syntax error at line 3, column "), "{err}");

    // Without tracking, positions are relative to the statement.
    let (_, err) = run(&mut shell(), "SELECT 1;\n\n  SELECT 2; SELEC 3;\n");
    assert!(err.unwrap().starts_with("Error: syntax error at line 1, column 1:"));

    // Errors without a position name the statement's line.
    let mut sh = shell();
    sh.track_lines(true);
    let (_, err) = run(&mut sh, "SELECT 1;\nSELECT nope;\n");
    let err = err.unwrap();
    assert!(err.ends_with("(in the statement at line 2)") || err.contains("line 2"), "{err}");
}

#[test]
fn begin_input_restarts_line_numbers() {
    let mut sh = shell();
    sh.track_lines(true);
    let mut out = Vec::new();
    sh.feed_line("SELECT 1;\n", &mut out).unwrap();
    sh.begin_input();
    let err = sh.feed_line("SELEC 1;\n", &mut out).unwrap_err().one_line();
    assert!(err.starts_with("Error: syntax error at line 1, column 1:"), "{err}");
}
