//! Rendering query results as aligned text tables.
//!
//! A result prints as an ASCII box: a header row, a separator, one line per row, and a
//! `(N rows)` footer. Numeric cells are right-aligned, other cells and all headers left-aligned.
//! Values print through [`Value`]'s `Display` (the same text as the sqllogictest adapter,
//! see `/work/shared/slt/FORMAT.md`), except that the empty string stays empty: `NULL` is
//! the only placeholder, so NULL and `''` can be told apart.
//!
//! ```text
//! +----+-------+
//! | id | name  |
//! +----+-------+
//! |  1 | one   |
//! |  2 | NULL  |
//! +----+-------+
//! (2 rows)
//! ```
//!
//! Widths count `char`s, not terminal columns, so wide (CJK, emoji) text can misalign.
//! Control characters inside values are escaped (`\n`, `\t`, `\r`, `\u{7f}`) so that every
//! row stays on one line.

use heliosdb_nano::{Rows, Value};
use std::fmt::Write as _;

/// How a column's cells sit in their width.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

/// Renders a query result: the box, then the row count footer. Ends with a newline.
pub fn render_rows(rows: &Rows) -> String {
    let headers: Vec<String> = rows.columns().iter().map(|c| c.name.clone()).collect();
    let aligns: Vec<Align> =
        rows.columns().iter().map(|c| if c.data_type.is_numeric() { Align::Right } else { Align::Left }).collect();
    let cells: Vec<Vec<String>> = rows.iter().map(|row| row.values().iter().map(cell_text).collect()).collect();
    let mut out = render(&headers, &aligns, &cells);
    out.push_str(&footer(rows.len()));
    out.push('\n');
    out
}

/// The text of one cell: `NULL` for NULL, the value's `Display` otherwise (the empty string
/// stays empty), with control characters escaped.
pub fn cell_text(value: &Value) -> String {
    match value {
        Value::Null => "NULL".to_string(),
        Value::Text(s) => escape_controls(s),
        v => escape_controls(&v.to_string()),
    }
}

/// `(1 row)`, `(2 rows)`, `(0 rows)`.
pub fn footer(n_rows: usize) -> String {
    if n_rows == 1 {
        "(1 row)".to_string()
    } else {
        format!("({n_rows} rows)")
    }
}

/// Renders the box for already formatted cells. `aligns` gives one alignment per header;
/// missing entries mean left, and rows shorter than the header get empty cells.
/// Ends with a newline; with no columns at all it renders nothing.
pub fn render(headers: &[String], aligns: &[Align], cells: &[Vec<String>]) -> String {
    if headers.is_empty() {
        return String::new();
    }
    let headers: Vec<String> = headers.iter().map(|h| escape_controls(h)).collect();
    let mut widths: Vec<usize> = headers.iter().map(|h| width(h)).collect();
    for row in cells {
        for (col_idx, cell) in row.iter().enumerate().take(widths.len()) {
            widths[col_idx] = widths[col_idx].max(width(cell));
        }
    }
    let align_of = |col_idx: usize| aligns.get(col_idx).copied().unwrap_or(Align::Left);

    let mut rule = String::from("+");
    for w in &widths {
        rule.push_str(&"-".repeat(w + 2));
        rule.push('+');
    }
    rule.push('\n');

    let mut out = String::new();
    out.push_str(&rule);
    push_line(&mut out, &widths, |col_idx| (headers[col_idx].as_str(), Align::Left));
    out.push_str(&rule);
    for row in cells {
        push_line(&mut out, &widths, |col_idx| (row.get(col_idx).map_or("", String::as_str), align_of(col_idx)));
    }
    if !cells.is_empty() {
        out.push_str(&rule);
    }
    out
}

fn push_line<'a>(out: &mut String, widths: &[usize], cell: impl Fn(usize) -> (&'a str, Align)) {
    out.push('|');
    for (col_idx, &w) in widths.iter().enumerate() {
        let (text, align) = cell(col_idx);
        let pad = w.saturating_sub(width(text));
        out.push(' ');
        match align {
            Align::Left => {
                out.push_str(text);
                out.push_str(&" ".repeat(pad));
            }
            Align::Right => {
                out.push_str(&" ".repeat(pad));
                out.push_str(text);
            }
        }
        out.push_str(" |");
    }
    out.push('\n');
}

fn width(s: &str) -> usize {
    s.chars().count()
}

/// Escapes control characters so that a cell stays on one line; other text is unchanged.
fn escape_controls(s: &str) -> String {
    if !s.chars().any(char::is_control) {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use heliosdb_nano::Database;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    fn check(headers: &[&str], aligns: &[Align], cells: &[&[&str]], expect: &str) {
        let cells: Vec<Vec<String>> = cells.iter().map(|row| strings(row)).collect();
        let got = render(&strings(headers), aligns, &cells);
        assert_eq!(got, expect, "\ngot:\n{got}\nexpected:\n{expect}");
    }

    fn query(script: &str, sql: &str) -> String {
        let db = Database::open_in_memory().unwrap();
        let conn = db.connect();
        conn.execute_batch(script).unwrap();
        render_rows(&conn.query(sql, ()).unwrap())
    }

    #[test]
    fn aligns_left_and_right() {
        check(
            &["id", "name"],
            &[Align::Right, Align::Left],
            &[&["1", "one"], &["100", "x"]],
            "+-----+------+\n\
             | id  | name |\n\
             +-----+------+\n\
             |   1 | one  |\n\
             | 100 | x    |\n\
             +-----+------+\n",
        );
    }

    #[test]
    fn header_wider_than_cells() {
        check(
            &["total"],
            &[Align::Right],
            &[&["7"]],
            "+-------+\n\
             | total |\n\
             +-------+\n\
             |     7 |\n\
             +-------+\n",
        );
    }

    #[test]
    fn no_rows_keeps_header() {
        check(&["a"], &[Align::Left], &[], "+---+\n| a |\n+---+\n");
    }

    #[test]
    fn no_columns_renders_nothing() {
        check(&[], &[], &[&[]], "");
    }

    #[test]
    fn short_rows_and_missing_aligns_do_not_panic() {
        check(
            &["a", "b"],
            &[],
            &[&["x"], &["1", "2", "3"]],
            "+---+---+\n| a | b |\n+---+---+\n| x |   |\n| 1 | 2 |\n+---+---+\n",
        );
    }

    #[test]
    fn counts_chars_not_bytes() {
        check(&["s"], &[Align::Left], &[&["héé"], &["a"]], "+-----+\n| s   |\n+-----+\n| héé |\n| a   |\n+-----+\n");
    }

    #[test]
    fn cell_text_distinguishes_null_and_empty() {
        assert_eq!(cell_text(&Value::Null), "NULL");
        assert_eq!(cell_text(&Value::Text(String::new())), "");
        assert_eq!(cell_text(&Value::Text("a\nb\tc".into())), "a\\nb\\tc");
        assert_eq!(cell_text(&Value::Text("\u{1}".into())), "\\u{1}");
        assert_eq!(cell_text(&Value::Double(2.5)), "2.5");
        assert_eq!(cell_text(&Value::Double(19.0)), "19");
        assert_eq!(cell_text(&Value::Boolean(true)), "true");
    }

    #[test]
    fn footer_counts() {
        assert_eq!(footer(0), "(0 rows)");
        assert_eq!(footer(1), "(1 row)");
        assert_eq!(footer(2), "(2 rows)");
    }

    #[test]
    fn renders_query_results() {
        let got = query(
            "CREATE TABLE t (id INTEGER, name TEXT); INSERT INTO t VALUES (1, 'one'), (20, NULL), (3, '')",
            "SELECT id, name FROM t ORDER BY id",
        );
        let expect = "+----+------+\n\
                      | id | name |\n\
                      +----+------+\n\
                      |  1 | one  |\n\
                      |  3 |      |\n\
                      | 20 | NULL |\n\
                      +----+------+\n\
                      (3 rows)\n";
        assert_eq!(got, expect, "\n{got}");
    }

    #[test]
    fn renders_empty_result() {
        let got = query("CREATE TABLE t (id INTEGER)", "SELECT id FROM t");
        assert_eq!(got, "+----+\n| id |\n+----+\n(0 rows)\n");
    }
}
