//! Splitting SQL text into statements at top-level `;`, outside quotes and comments.
//! The shell and `execute_batch` use it; the parser never sees more than one statement.

#[derive(Clone, Copy, PartialEq)]
enum State {
    Normal,
    Single,
    Double,
    LineComment,
    BlockComment(u32),
}

/// Scans `sql` and calls `on_semicolon(byte_offset)` for every top-level `;`.
/// Returns whether the text ends inside a quote or block comment.
fn scan(sql: &str, mut on_semicolon: impl FnMut(usize)) -> bool {
    let bytes = sql.as_bytes();
    let mut state = State::Normal;
    let mut idx = 0;
    while idx < bytes.len() {
        let b = bytes[idx];
        let next = bytes.get(idx + 1).copied();
        match state {
            State::Normal => match b {
                b'\'' => state = State::Single,
                b'"' => state = State::Double,
                b'-' if next == Some(b'-') => {
                    state = State::LineComment;
                    idx += 1;
                }
                b'/' if next == Some(b'*') => {
                    state = State::BlockComment(1);
                    idx += 1;
                }
                b';' => on_semicolon(idx),
                _ => {}
            },
            State::Single if b == b'\'' => state = State::Normal,
            State::Double if b == b'"' => state = State::Normal,
            State::LineComment if b == b'\n' => state = State::Normal,
            State::BlockComment(depth) => {
                if b == b'*' && next == Some(b'/') {
                    state = if depth == 1 { State::Normal } else { State::BlockComment(depth - 1) };
                    idx += 1;
                } else if b == b'/' && next == Some(b'*') {
                    state = State::BlockComment(depth + 1);
                    idx += 1;
                }
            }
            _ => {}
        }
        idx += 1;
    }
    matches!(state, State::Single | State::Double | State::BlockComment(_))
}

fn is_blank(sql: &str) -> bool {
    // Only whitespace and comments.
    let mut rest = sql.trim_start();
    loop {
        if rest.is_empty() {
            return true;
        }
        if let Some(r) = rest.strip_prefix("--") {
            rest = r.split_once('\n').map_or("", |(_, after)| after).trim_start();
        } else if let Some(r) = rest.strip_prefix("/*") {
            match r.find("*/") {
                Some(end) => rest = r[end + 2..].trim_start(),
                None => return true,
            }
        } else {
            return false;
        }
    }
}

/// Splits a script into its statements (without the `;`), dropping empty ones.
pub fn split_statements(sql: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut start = 0;
    scan(sql, |pos| {
        let stmt = &sql[start..pos];
        if !is_blank(stmt) {
            out.push(stmt.trim().to_string());
        }
        start = pos + 1;
    });
    let tail = &sql[start..];
    if !is_blank(tail) {
        out.push(tail.trim().to_string());
    }
    out
}

/// Whether `sql` ends a statement: it has a top-level `;` followed only by blanks and
/// comments. The shell keeps reading lines until this holds.
pub fn ends_statement(sql: &str) -> bool {
    let mut last = None;
    let open = scan(sql, |pos| last = Some(pos));
    !open && last.is_some_and(|pos| is_blank(&sql[pos + 1..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_outside_quotes_and_comments() {
        assert_eq!(
            split_statements("select 1; select ';' -- ; \n; /* ; */ select \"a;b\";;"),
            vec!["select 1", "select ';' -- ; \n", "/* ; */ select \"a;b\""]
                .into_iter()
                .map(|s| s.trim().to_string())
                .collect::<Vec<_>>()
        );
        assert_eq!(split_statements("select 1"), vec!["select 1"]);
        assert!(split_statements("  -- nothing\n").is_empty());
    }

    #[test]
    fn statement_end() {
        assert!(ends_statement("select 1;"));
        assert!(ends_statement("select 1; -- done"));
        assert!(!ends_statement("select ';"));
        assert!(!ends_statement("select 1"));
        assert!(!ends_statement("select 1; select 2"));
    }
}
