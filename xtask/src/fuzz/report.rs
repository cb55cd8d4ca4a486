//! What a run found: counts per statement kind, error kinds and messages, timings, and the
//! distinct failures, printed as a summary and written as a SQL file.

use super::exec::{self, Executor, Outcome};
use super::gen::{self, Kind};
use super::reduce;
use anyhow::Result;
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::time::Duration;

/// One bug, as seen in one or more cases.
#[derive(Debug, Clone)]
pub struct FailureGroup {
    /// The signature, with the stress shape for crashes and hangs.
    pub key: String,
    pub signature: String,
    /// The first failing case.
    pub case: u64,
    pub outcome: Outcome,
    pub sql: String,
    /// INSERTs that ran before it since the last reset.
    pub setup: Vec<String>,
    pub count: u64,
    pub reduced: Option<reduce::Reduced>,
}

/// Counts of a run.
#[derive(Debug, Default)]
pub struct Stats {
    pub cases: u64,
    pub ok: u64,
    pub errors: u64,
    /// Clean errors that were the engine cancelling a statement at its `statement_timeout`.
    pub timed_out: u64,
    pub failed: u64,
    /// Per statement kind: [ok, clean error, failure].
    pub by_kind: BTreeMap<Kind, [u64; 3]>,
    pub error_kinds: HashMap<String, u64>,
    pub error_messages: HashMap<String, u64>,
    /// The first statement of each error message (for `--examples`).
    pub error_examples: HashMap<String, (u64, String, Outcome)>,
    pub failures: Vec<FailureGroup>,
    pub elapsed: Duration,
    /// The slowest statements: time, case, kind (near-hangs worth a look).
    pub slowest: Vec<(Duration, u64, Kind)>,
    /// Time spent per statement kind.
    pub time_by_kind: BTreeMap<Kind, Duration>,
}

impl Stats {
    pub fn record(&mut self, case: u64, stmt: &gen::Statement, outcome: &Outcome, setup: &[String]) {
        let (stmt_kind, sql) = (stmt.kind, stmt.sql.as_str());
        self.cases += 1;
        let slot = self.by_kind.entry(stmt_kind).or_default();
        match outcome {
            Outcome::Ok { .. } => {
                self.ok += 1;
                slot[0] += 1;
            }
            Outcome::Error { kind, message } => {
                self.errors += 1;
                slot[1] += 1;
                if exec::is_statement_timeout(message) {
                    self.timed_out += 1;
                }
                *self.error_kinds.entry(kind.clone()).or_default() += 1;
                let normalized = exec::normalize_message(message);
                if stmt_kind.meant_valid() {
                    self.error_examples
                        .entry(normalized.clone())
                        .or_insert_with(|| (case, sql.to_string(), outcome.clone()));
                }
                *self.error_messages.entry(normalized).or_default() += 1;
            }
            failure => {
                self.failed += 1;
                slot[2] += 1;
                let signature = failure.signature();
                // A crash or hang says nothing about where: tell stress shapes apart.
                let key = match failure {
                    Outcome::Crash { .. } | Outcome::Hang { .. } if !stmt.shape.is_empty() => {
                        format!("{signature} [{}]", stmt.shape)
                    }
                    _ => signature.clone(),
                };
                match self.failures.iter_mut().find(|f| f.key == key) {
                    Some(group) => {
                        group.count += 1;
                        // Keep the shortest example: it reduces fastest.
                        if sql.len() < group.sql.len() {
                            (group.case, group.sql, group.setup) = (case, sql.to_string(), setup.to_vec());
                            group.outcome = failure.clone();
                        }
                    }
                    None => self.failures.push(FailureGroup {
                        key,
                        signature,
                        case,
                        outcome: failure.clone(),
                        sql: sql.to_string(),
                        setup: setup.to_vec(),
                        count: 1,
                        reduced: None,
                    }),
                }
            }
        }
    }

    pub fn note_time(&mut self, took: Duration, case: u64, kind: Kind) {
        *self.time_by_kind.entry(kind).or_default() += took;
        const KEEP: usize = 5;
        if self.slowest.len() < KEEP || took > self.slowest[KEEP - 1].0 {
            self.slowest.push((took, case, kind));
            self.slowest.sort_by_key(|s| std::cmp::Reverse(s.0));
            self.slowest.truncate(KEEP);
        }
    }

    /// Percent of `n` in all cases.
    fn pct(&self, n: u64) -> f64 {
        100.0 * n as f64 / self.cases.max(1) as f64
    }

    /// The share of statements meant to be valid that ran to a result.
    pub fn valid_ok_rate(&self) -> f64 {
        let (mut ok, mut all) = (0, 0);
        for (kind, counts) in &self.by_kind {
            if kind.meant_valid() {
                ok += counts[0];
                all += counts.iter().sum::<u64>();
            }
        }
        ok as f64 / all.max(1) as f64
    }

    pub fn progress_line(&self, total: u64) -> String {
        let rate = self.cases as f64 / self.elapsed.as_secs_f64().max(1e-9);
        format!(
            "[{:>w$}/{total}] {rate:>7.0} cases/s  ok {:5.1}%  errors {:5.1}%  failures {} ({} distinct)",
            self.cases,
            self.pct(self.ok),
            self.pct(self.errors),
            self.failed,
            self.failures.len(),
            w = total.to_string().len()
        )
    }

    /// The end-of-run summary.
    pub fn summary(&self, seed: u64) -> String {
        let mut s = String::new();
        let rate = self.cases as f64 / self.elapsed.as_secs_f64().max(1e-9);
        let _ = writeln!(
            s,
            "fuzz: seed {seed}, {} cases in {:.1} s ({rate:.0} cases/s)",
            self.cases,
            self.elapsed.as_secs_f64()
        );
        let _ = writeln!(s, "  ok            {:>8} ({:.1}%)", self.ok, self.pct(self.ok));
        let _ = writeln!(s, "  clean errors  {:>8} ({:.1}%)", self.errors, self.pct(self.errors));
        let _ =
            writeln!(s, "    of which timed out {:>8} (cancelled by the engine's statement_timeout)", self.timed_out);
        let _ = writeln!(s, "  failures      {:>8} ({} distinct)", self.failed, self.failures.len());
        let _ =
            writeln!(s, "  valid statements (query, insert, explain) that ran: {:.1}%", 100.0 * self.valid_ok_rate());
        let _ = writeln!(s, "by statement kind:            ok    errors  failures   seconds");
        for (kind, [ok, err, fail]) in &self.by_kind {
            let secs = self.time_by_kind.get(kind).map_or(0.0, Duration::as_secs_f64);
            let _ = writeln!(s, "  {:<20} {ok:>10} {err:>9} {fail:>9} {secs:>9.1}", kind.name());
        }
        let top = |map: &HashMap<String, u64>| {
            let mut v: Vec<(&String, &u64)> = map.iter().collect();
            v.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
            v.into_iter().take(10).map(|(k, n)| format!("  {n:>8}  {k}\n")).collect::<String>()
        };
        let slow: Vec<String> = self
            .slowest
            .iter()
            .map(|(t, case, kind)| format!("case {case} ({}) {:.0} ms", kind.name(), t.as_secs_f64() * 1e3))
            .collect();
        let _ = writeln!(s, "slowest: {}", slow.join(", "));
        let _ = write!(s, "clean errors by kind (top 10):\n{}", top(&self.error_kinds));
        let _ = write!(s, "clean errors by message (top 10):\n{}", top(&self.error_messages));
        if self.failures.is_empty() {
            let _ = writeln!(s, "no failures");
        }
        for (idx, f) in self.failures.iter().enumerate() {
            let _ = writeln!(s, "failure {}: {} ({} cases, first case {})", idx + 1, f.key, f.count, f.case);
            for line in f.outcome.describe().lines().take(12) {
                let _ = writeln!(s, "    {line}");
            }
            if let Outcome::Panic { trace, .. } = &f.outcome {
                for line in trace.lines() {
                    let _ = writeln!(s, "      {line}");
                }
            }
            match &f.reduced {
                Some(r) if r.reproduced => {
                    let setup = if r.setup.is_empty() {
                        String::new()
                    } else {
                        format!(" after {} setup INSERTs", r.setup.len())
                    };
                    let _ = writeln!(s, "    minimal SQL{setup}: {}", one_line(&r.sql, 600));
                }
                Some(_) => {
                    let _ = writeln!(s, "    (did not reproduce on a fresh database; see the original)");
                }
                None => {}
            }
            let _ = writeln!(s, "    original SQL: {}", one_line(&f.sql, 300));
        }
        s
    }

    /// The `n` most frequent error messages of statements meant to be valid, each with the
    /// first statement that produced it, reduced: where the generator's typing is off, or
    /// what the engine does not support yet.
    pub fn error_examples(&self, n: usize, ex: &mut dyn Executor) -> Result<String> {
        let mut v: Vec<(&String, u64)> =
            self.error_examples.keys().map(|k| (k, self.error_messages.get(k).copied().unwrap_or(0))).collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        let mut s = format!("errors of valid statements, with a reduced example (top {n}):\n");
        let budget = reduce::Budget { checks: 300, time: Duration::from_secs(20), replace_groups: false };
        ex.reset()?;
        for (msg, count) in v.into_iter().take(n) {
            let (case, sql, outcome) = &self.error_examples[msg];
            let reduced = reduce::reduce(ex, &[], sql, &outcome.signature(), budget)?;
            let _ = writeln!(s, "{count:>8}  {msg}\n          case {case}: {}", one_line(&reduced.sql, 400));
        }
        Ok(s)
    }

    /// The failures as a SQL file: comments, then each failure's setup and minimal statement.
    pub fn failures_file(&self, seed: u64) -> String {
        let mut s = format!(
            "-- cargo xtask fuzz --seed {seed} --cases {}: {} failing cases, {} distinct failures.\n\
             -- Statements run on the fuzz database: `cargo xtask fuzz --print-setup` prints its script.\n",
            self.cases,
            self.failed,
            self.failures.len()
        );
        for (idx, f) in self.failures.iter().enumerate() {
            let _ = writeln!(s, "\n-- failure {}: {} ({} cases, first case {})", idx + 1, f.key, f.count, f.case);
            for line in f.outcome.describe().lines() {
                let _ = writeln!(s, "--   {line}");
            }
            if let Outcome::Panic { trace, .. } = &f.outcome {
                for line in trace.lines() {
                    let _ = writeln!(s, "--     {line}");
                }
            }
            let _ = writeln!(s, "-- original statement (case {}):", f.case);
            for line in f.sql.lines() {
                let _ = writeln!(s, "--   {line}");
            }
            let (sql, setup, note) = match &f.reduced {
                Some(r) if r.reproduced => (&r.sql, &r.setup, format!("reduced (in {} runs)", r.checks)),
                Some(_) => (&f.sql, &f.setup, "did not reproduce on a fresh database; as generated".to_string()),
                None => (&f.sql, &f.setup, "as generated".to_string()),
            };
            let _ = writeln!(s, "-- {note}:");
            for stmt in setup {
                let _ = writeln!(s, "{stmt};");
            }
            let _ = writeln!(s, "{sql};");
        }
        s
    }
}

/// `sql` on one line, cut after `max` characters.
fn one_line(sql: &str, max: usize) -> String {
    let flat: String = sql.split_whitespace().collect::<Vec<_>>().join(" ");
    match flat.char_indices().nth(max) {
        Some((cut, _)) => format!("{}… ({} characters)", &flat[..cut], flat.chars().count()),
        None => flat,
    }
}
