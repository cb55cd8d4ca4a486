//! Parsing: SQL text to one sqlparser statement, with errors that carry line and column.
//!
//! The PostgreSQL dialect reads `?` as a JSON operator, so positional `?` placeholders are
//! first rewritten to `$1`, `$2`, ... (outside quotes and comments).

use crate::error::{Pos, Result, SqlError};
use sqlparser::ast::Statement;
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;

/// Rewrites bare `?` placeholders to numbered `$n` ones.
fn number_placeholders(sql: &str) -> String {
    if !sql.contains('?') {
        return sql.to_string();
    }
    let mut out = String::with_capacity(sql.len() + 8);
    let mut chars = sql.chars().peekable();
    let mut n = 0;
    let (mut single, mut double, mut line_comment, mut block_comment) = (false, false, false, false);
    while let Some(c) = chars.next() {
        match c {
            _ if line_comment => line_comment = c != '\n',
            '*' if block_comment && chars.peek() == Some(&'/') => {
                out.push(c);
                out.push(chars.next().unwrap_or('/'));
                block_comment = false;
                continue;
            }
            _ if block_comment => {}
            '\'' if !double => single = !single,
            '"' if !single => double = !double,
            '-' if !single && !double && chars.peek() == Some(&'-') => line_comment = true,
            '/' if !single && !double && chars.peek() == Some(&'*') => block_comment = true,
            '?' if !single && !double => {
                n += 1;
                out.push_str(&format!("${n}"));
                continue;
            }
            _ => {}
        }
        out.push(c);
    }
    out
}

/// Pulls `Line: L, Column: C` out of a sqlparser message and drops it from the text.
fn split_position(message: &str) -> (String, Pos) {
    if let Some(at) = message.rfind(" at Line: ") {
        let tail = &message[at + " at Line: ".len()..];
        if let Some((line, col)) = tail.split_once(", Column: ") {
            let line = line.trim().parse().unwrap_or(1);
            let column = col.trim().trim_end_matches(|c: char| !c.is_ascii_digit()).parse().unwrap_or(1);
            return (message[..at].to_string(), Pos { line, column });
        }
    }
    (message.to_string(), Pos { line: 1, column: 1 })
}

/// Parses exactly one statement.
pub fn parse_one(sql: &str) -> Result<Statement> {
    let sql = number_placeholders(sql);
    let mut statements = Parser::parse_sql(&PostgreSqlDialect {}, &sql).map_err(|e| {
        let text = match e {
            sqlparser::parser::ParserError::TokenizerError(s) | sqlparser::parser::ParserError::ParserError(s) => s,
            sqlparser::parser::ParserError::RecursionLimitExceeded => "the statement is nested too deeply".to_string(),
        };
        let (message, pos) = split_position(&text);
        SqlError::Parse { message, pos }
    })?;
    match statements.len() {
        1 => Ok(statements.remove(0)),
        0 => Err(SqlError::Parse { message: "empty statement".into(), pos: Pos { line: 1, column: 1 } }),
        n => Err(SqlError::Parse {
            message: format!("expected one statement, found {n}; run scripts with execute_batch"),
            pos: Pos { line: 1, column: 1 },
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_outside_strings() {
        assert_eq!(number_placeholders("select ?, '?', ? -- ?\n"), "select $1, '?', $2 -- ?\n");
    }

    #[test]
    fn parse_errors_have_positions() {
        let err = parse_one("SELEC 1").unwrap_err();
        assert_eq!(err.position(), Some((1, 1)), "{err}");
        let err = parse_one("SELECT 1,\n  ,2").unwrap_err();
        assert_eq!(err.position().map(|p| p.0), Some(2), "{err}");
        assert!(parse_one("select 1; select 2").is_err());
    }
}
