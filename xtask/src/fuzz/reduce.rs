//! Shrinking a failing statement to a small one that fails the same way (same
//! [`Outcome::signature`]; this works for clean errors too, which `--examples` uses), by deleting tokens: whole parenthesized groups first (replaced by
//! `NULL` or `1`, or unwrapped), then runs of tokens in halving sizes (delta debugging).
//! Every candidate runs on a fresh database with the failure's setup statements replayed.

use super::exec::{Executor, Outcome};
use super::mutate::{render, tokenize, TokKind, Token};
use anyhow::Result;
use std::time::{Duration, Instant};

/// How much work one reduction may do.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    pub checks: usize,
    pub time: Duration,
    /// Also try replacing parenthesized groups by `NULL` or `1`. Strong, but it changes
    /// types, so a clean error may come back for another reason: off for errors.
    pub replace_groups: bool,
}

/// A reduced failure: the statement, and the setup statements it still needs.
#[derive(Debug, Clone)]
pub struct Reduced {
    pub sql: String,
    pub setup: Vec<String>,
    /// The reduced statement still failed the same way when last run.
    pub reproduced: bool,
    pub checks: usize,
}

struct Checker<'a> {
    ex: &'a mut dyn Executor,
    setup: Vec<String>,
    signature: String,
    /// The database may differ from the fresh one plus setup (an INSERT ran).
    dirty: bool,
    checks: usize,
    budget: Budget,
    start: Instant,
}

impl Checker<'_> {
    fn exhausted(&self) -> bool {
        self.checks >= self.budget.checks || self.start.elapsed() >= self.budget.time
    }

    /// Whether `sql` fails with the signature on a fresh database plus the setup.
    fn fails(&mut self, sql: &str) -> Result<bool> {
        self.checks += 1;
        if self.dirty || !self.setup.is_empty() {
            self.ex.reset()?;
            for s in &self.setup {
                self.ex.run(s)?;
            }
            self.ex.take_lost_state();
        }
        self.dirty =
            !self.setup.is_empty() || sql.trim_start().get(..6).is_some_and(|w| w.eq_ignore_ascii_case("insert"));
        let outcome: Outcome = self.ex.run(sql)?;
        if self.ex.take_lost_state() {
            self.dirty = false;
        }
        Ok(outcome.signature() == self.signature)
    }
}

/// Reduces `sql`, which failed with `signature` after `setup` ran on a fresh database.
pub fn reduce(ex: &mut dyn Executor, setup: &[String], sql: &str, signature: &str, budget: Budget) -> Result<Reduced> {
    let mut c = Checker {
        ex,
        setup: Vec::new(),
        signature: signature.to_string(),
        dirty: true,
        checks: 0,
        budget,
        start: Instant::now(),
    };
    // Without the setup, if it still fails so: a standalone reproduction is the best one.
    if !c.fails(sql)? {
        c.setup = setup.to_vec();
        c.dirty = true;
        if !c.fails(sql)? {
            return Ok(Reduced { sql: sql.to_string(), setup: setup.to_vec(), reproduced: false, checks: c.checks });
        }
    }
    let mut tokens = tokenize(sql);
    loop {
        let before = tokens.len();
        reduce_groups(&mut c, &mut tokens)?;
        reduce_chunks(&mut c, &mut tokens)?;
        if tokens.len() >= before || c.exhausted() {
            break;
        }
    }
    Ok(Reduced { sql: render(&tokens), setup: c.setup.clone(), reproduced: true, checks: c.checks })
}

/// Index of the `)` matching the `(` at `open`.
fn matching_paren(tokens: &[Token], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (idx, t) in tokens.iter().enumerate().skip(open) {
        match t.text.as_str() {
            "(" => depth += 1,
            ")" => {
                depth -= 1;
                if depth == 0 {
                    return Some(idx);
                }
            }
            _ => {}
        }
    }
    None
}

/// Replaces parenthesized groups (with the function name before them) by `NULL` or `1`,
/// or removes their parentheses, outermost first.
fn reduce_groups(c: &mut Checker, tokens: &mut Vec<Token>) -> Result<()> {
    let mut open = 0;
    while open < tokens.len() && !c.exhausted() {
        if tokens[open].text != "(" {
            open += 1;
            continue;
        }
        let Some(close) = matching_paren(tokens, open) else { break };
        let start = if open > 0 && tokens[open - 1].kind == TokKind::Word { open - 1 } else { open };
        let mut replaced = false;
        let replacements: &[&str] = if c.budget.replace_groups { &["NULL", "1"] } else { &[] };
        for replacement in replacements {
            let mut candidate = tokens[..start].to_vec();
            candidate.push(Token::new(replacement, TokKind::Word));
            candidate.extend_from_slice(&tokens[close + 1..]);
            if c.fails(&render(&candidate))? {
                *tokens = candidate;
                replaced = true;
                break;
            }
        }
        if replaced {
            open = start + 1;
            continue;
        }
        let mut unwrapped = tokens[..open].to_vec();
        unwrapped.extend_from_slice(&tokens[open + 1..close]);
        unwrapped.extend_from_slice(&tokens[close + 1..]);
        if close > open + 1 && c.fails(&render(&unwrapped))? {
            *tokens = unwrapped;
            continue;
        }
        open += 1;
    }
    Ok(())
}

/// Deletes runs of tokens, halving the run length down to one token.
fn reduce_chunks(c: &mut Checker, tokens: &mut Vec<Token>) -> Result<()> {
    let mut size = (tokens.len() / 2).max(1);
    loop {
        let mut start = 0;
        while start < tokens.len() && !c.exhausted() {
            let end = (start + size).min(tokens.len());
            let mut candidate = tokens[..start].to_vec();
            candidate.extend_from_slice(&tokens[end..]);
            if !candidate.is_empty() && c.fails(&render(&candidate))? {
                *tokens = candidate;
            } else {
                start += size;
            }
        }
        if size == 1 || c.exhausted() {
            return Ok(());
        }
        size /= 2;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fails (with an internal error) whenever the statement contains `boom`.
    struct Fake;

    impl Executor for Fake {
        fn run(&mut self, sql: &str) -> Result<Outcome> {
            Ok(if sql.contains("boom") {
                Outcome::Internal { message: "internal error: boom".into() }
            } else {
                Outcome::Ok { rows: 0 }
            })
        }

        fn reset(&mut self) -> Result<()> {
            Ok(())
        }
    }

    #[test]
    fn shrinks_to_the_failing_part() {
        let sql = "SELECT a + (b * coalesce(c, boom(1, 2))) FROM t WHERE x = (SELECT 1) ORDER BY 1";
        let budget = Budget { checks: 1_000, time: Duration::from_secs(10), replace_groups: true };
        let sig = Outcome::Internal { message: "internal error: boom".into() }.signature();
        let r = reduce(&mut Fake, &[], sql, &sig, budget).unwrap();
        assert!(r.reproduced);
        assert_eq!(r.sql, "boom");
        assert!(r.setup.is_empty());
    }
}
