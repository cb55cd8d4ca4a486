//! The benchmark's table and verdict.
//!
//! The optional peers (chDB and Polars, see `scripts/bench_peers.py`) add a column each and a
//! ratio to the best engine whose answer matched DuckDB's; they never change the verdict.

use super::gates::Tier;
use bench::stats::{geomean, Summary};
use bench::timings::Timings;
use std::path::Path;

/// How one query's answer compared.
#[derive(Debug, Clone, PartialEq)]
pub enum Check {
    Ok,
    /// The answers differ (what differs).
    Diff(String),
    /// Our engine failed the query.
    Error(String),
    /// DuckDB failed the query, so there is nothing to compare with.
    ReferenceError(String),
    /// No reference answer (no DuckDB, and N is not the fixtures').
    NotChecked,
}

impl Check {
    fn label(&self) -> &'static str {
        match self {
            Check::Ok => "ok",
            Check::Diff(_) => "DIFFERS",
            Check::Error(_) => "ERROR",
            Check::ReferenceError(_) => "DuckDB error",
            Check::NotChecked => "-",
        }
    }

    fn failed(&self) -> bool {
        !matches!(self, Check::Ok | Check::NotChecked)
    }
}

/// How an optional peer did on one query.
#[derive(Debug, Clone, PartialEq)]
pub enum PeerResult {
    /// Its answer matches DuckDB's: its time competes for the best.
    Matched(Summary),
    /// Its answer differs from DuckDB's or could not be checked (why): its time is shown,
    /// marked, and never the best.
    Differs(Summary, String),
    /// It could not run the query (`n/a: ...`) or failed.
    Failed(String),
}

impl PeerResult {
    /// The table cell: the median, `!` after it when the answer did not match, `n/a` on failure.
    pub fn cell(&self) -> String {
        match self {
            PeerResult::Matched(s) => ms(s.median),
            PeerResult::Differs(s, _) => format!("{}!", ms(s.median)),
            PeerResult::Failed(_) => "n/a".to_string(),
        }
    }
}

/// An optional peer of the run (chDB, Polars): its timings when it ran, or why not.
#[derive(Debug, Clone, Default)]
pub struct Peer {
    /// `scripts/bench_peers.py --peer KEY`: its files are `OUT/KEY.tsv` and `OUT/KEY/`.
    pub key: String,
    /// As the table shows it: `chDB`, `Polars`.
    pub name: String,
    pub timings: Option<Timings>,
    /// Why it did not run, or how its script failed (its timings then hold what it measured).
    pub problem: Option<String>,
    /// Queries it ran through its rewrite in `rewrite_dir` instead of the workload's SQL.
    pub rewritten: Vec<String>,
    pub rewrite_dir: String,
}

/// One query's line of the table.
#[derive(Debug, Clone)]
pub struct Row {
    pub name: String,
    pub ours: Option<Summary>,
    pub peak_bytes: Option<u64>,
    pub base_bytes: Option<u64>,
    pub duck: Option<Summary>,
    pub check: Check,
    pub gate: Option<f64>,
    /// The peers that ran, by name, in the order of [`Report::peers`].
    pub peers: Vec<(String, PeerResult)>,
}

impl Row {
    /// Our median over DuckDB's.
    pub fn ratio(&self) -> Option<f64> {
        let (ours, duck) = (self.ours?, self.duck?);
        (duck.median > 0.0).then(|| ours.median / duck.median)
    }

    /// The fastest of DuckDB and the peers whose answers matched DuckDB's: (who, median ms).
    /// A peer with a different answer, or none, never counts.
    pub fn best(&self) -> Option<(&str, f64)> {
        let duck = self.duck.map(|d| ("DuckDB", d.median));
        let peers = self.peers.iter().filter_map(|(name, result)| match result {
            PeerResult::Matched(s) => Some((name.as_str(), s.median)),
            _ => None,
        });
        duck.into_iter().chain(peers).min_by(|a, b| a.1.total_cmp(&b.1))
    }

    /// Our median over [`Row::best`]'s.
    pub fn best_ratio(&self) -> Option<f64> {
        let (ours, (_, best)) = (self.ours?, self.best()?);
        (best > 0.0).then(|| ours.median / best)
    }

    fn peer(&self, name: &str) -> Option<&PeerResult> {
        self.peers.iter().find(|(n, _)| n == name).map(|(_, r)| r)
    }
}

/// Everything the table shows.
pub struct Report<'a> {
    pub rows: u64,
    pub runs: usize,
    pub quick: bool,
    pub ours: &'a Timings,
    pub duck: Option<&'a Timings>,
    /// Why DuckDB did not run, when it did not.
    pub duck_problem: Option<String>,
    pub queries: Vec<Row>,
    pub tier_name: String,
    pub tier: Option<&'a Tier>,
    pub gates_path: &'a Path,
    pub checked_against_fixtures: bool,
    pub rustflags: &'a str,
    /// How many cores' worth of CPU other processes used while the engines ran.
    pub others_cores: Option<f64>,
    /// The optional peers, run or skipped (empty with `--no-duckdb`).
    pub peers: Vec<Peer>,
}

/// `12345678` as `12,345,678`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (idx, c) in digits.chars().enumerate() {
        if idx > 0 && (digits.len() - idx).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Milliseconds with three significant digits or more.
fn ms(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

fn opt(v: Option<String>) -> String {
    v.unwrap_or_else(|| "-".to_string())
}

/// `(rows, ms)` of a `load` fact.
fn load_fact(t: &Timings) -> Option<(u64, f64)> {
    let values = t.facts.get("load")?;
    Some((values.first()?.parse().ok()?, values.get(1)?.parse().ok()?))
}

/// The bytes q02 reads: `amount` (DOUBLE, 8 bytes) and `quantity` (INTEGER, 4 bytes) of every
/// order line; `COUNT(*)` reads no column.
pub fn q02_bytes(rows: u64) -> u64 {
    rows * (8 + 4)
}

impl Report<'_> {
    fn header(&self) {
        let duck = self.duck.and_then(|d| d.get("engine")).unwrap_or("DuckDB");
        let threads = self.duck.and_then(|d| d.get("threads")).map_or(String::new(), |t| format!(" ({t} threads)"));
        let vs = if self.duck.is_some() { format!(" vs {duck}{threads}") } else { String::new() };
        println!();
        println!("== {}{vs}: N = {} order lines", self.ours.get("engine").unwrap_or("HeliosDB"), thousands(self.rows));
        if let Some(cpu) = self.ours.facts.get("cpu") {
            println!("   machine: {} ({} cores)", cpu.first().map_or("?", |s| s), cpu.get(1).map_or("?", |s| s));
        }
        println!(
            "   heliosdb-bench built with RUSTFLAGS=\"{}\"; target features: {}",
            self.rustflags,
            self.ours.get("target_features").unwrap_or("(unknown)")
        );
        if let Some(others) = self.others_cores {
            let note = if others >= 0.2 { ": timings are noisy" } else { "" };
            println!("   other processes used {others:.2} cores on average while the engines ran{note}");
        }
        if let Some(size) = self.ours.get("batch_size") {
            println!("   HELIOSDB_BATCH_SIZE={size}");
        }
        if let (Some((n, load_ms)), Some(values)) = (load_fact(self.ours), self.ours.facts.get("load")) {
            let gen_ms: f64 = values.get(2).and_then(|v| v.parse().ok()).unwrap_or(0.0);
            println!(
                "   load: HeliosDB {} rows in {:.2} s through Connection::append ({:.2}M rows/s; generating them took {:.2} s more, not counted)",
                thousands(n),
                load_ms / 1e3,
                n as f64 / (load_ms / 1e3).max(1e-9) / 1e6,
                gen_ms / 1e3
            );
        }
        if let Some((n, load_ms)) = self.duck.and_then(load_fact) {
            let csv = self
                .ours
                .get_f64("csv_ms")
                .map_or(String::new(), |c| format!("; writing the CSV took {:.2} s", c / 1e3));
            println!(
                "         DuckDB   {} rows in {:.2} s from CSV (parsing included{csv})",
                thousands(n),
                load_ms / 1e3
            );
        }
        for peer in &self.peers {
            let Some(t) = &peer.timings else { continue };
            let (threads, engine) = (t.get("threads").unwrap_or("?"), t.get("engine").unwrap_or(&peer.name));
            match load_fact(t) {
                Some((n, load_ms)) => println!(
                    "         {:<8} {} rows in {:.2} s from CSV ({engine}, {threads} threads; an optional peer)",
                    peer.name,
                    thousands(n),
                    load_ms / 1e3
                ),
                None => println!("         {:<8} did not load ({engine})", peer.name),
            }
        }
        // One line per reason: "optional peers chDB, Polars skipped (--no-peers)".
        let mut skipped: Vec<(&str, Vec<&str>)> = Vec::new();
        for peer in self.peers.iter().filter(|p| p.timings.is_none()) {
            let why = peer.problem.as_deref().unwrap_or("no timings");
            match skipped.iter_mut().find(|(w, _)| *w == why) {
                Some((_, names)) => names.push(&peer.name),
                None => skipped.push((why, vec![&peer.name])),
            }
        }
        for (why, names) in skipped {
            let s = if names.len() > 1 { "s" } else { "" };
            println!("   optional peer{s} {} {why}", names.join(", "));
        }
        if let Some(why) = &self.duck_problem {
            println!(
                "   {why}: HeliosDB alone{}",
                if self.checked_against_fixtures {
                    ", answers checked against crates/bench/fixtures (DuckDB's, made at this N)"
                } else {
                    ", answers not checked"
                }
            );
        }
        println!();
    }

    /// The peers that ran, in order: the table's extra columns.
    fn peer_columns(&self) -> Vec<&str> {
        self.peers.iter().filter(|p| p.timings.is_some()).map(|p| p.name.as_str()).collect()
    }

    fn table(&self) {
        let peers = self.peer_columns();
        let mut header: Vec<String> = ["query", "HeliosDB ms", "p99", "DuckDB ms", "p99", "ratio", "gate"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        header.extend(peers.iter().map(|p| p.to_string()));
        if !peers.is_empty() {
            header.push("/best".to_string());
        }
        header.extend(["peak MB", "+MB", "check"].iter().map(|s| s.to_string()));
        let mut lines: Vec<Vec<String>> = vec![header.clone()];
        for row in &self.queries {
            let ratio = row.ratio();
            let over = matches!((ratio, row.gate), (Some(r), Some(g)) if r > g);
            let mut line = vec![
                row.name.clone(),
                opt(row.ours.map(|s| ms(s.median))),
                opt(row.ours.map(|s| ms(s.p99))),
                opt(row.duck.map(|s| ms(s.median))),
                opt(row.duck.map(|s| ms(s.p99))),
                opt(ratio.map(|r| format!("{r:.2}"))),
                opt(row.gate.map(|g| if over { format!("{g} OVER") } else { g.to_string() })),
            ];
            line.extend(peers.iter().map(|p| opt(row.peer(p).map(PeerResult::cell))));
            if !peers.is_empty() {
                line.push(opt(row.best_ratio().map(|r| format!("{r:.2}"))));
            }
            line.extend([
                opt(row.peak_bytes.map(|b| (b >> 20).to_string())),
                opt(row.peak_bytes.zip(row.base_bytes).map(|(p, b)| (p.saturating_sub(b) >> 20).to_string())),
                row.check.label().to_string(),
            ]);
            lines.push(line);
        }
        let widths: Vec<usize> =
            (0..header.len()).map(|col| lines.iter().map(|l| l[col].len()).max().unwrap_or(0)).collect();
        for (line_idx, line) in lines.iter().enumerate() {
            let cells: Vec<String> = line
                .iter()
                .enumerate()
                .map(|(col, cell)| {
                    if col == 0 || col == header.len() - 1 {
                        format!("{cell:<w$}", w = widths[col])
                    } else {
                        format!("{cell:>w$}", w = widths[col])
                    }
                })
                .collect();
            println!("{}", cells.join("  ").trim_end());
            if line_idx == 0 {
                println!("{}", "-".repeat(widths.iter().sum::<usize>() + 2 * (widths.len() - 1)));
            }
        }
    }

    /// Prints everything; returns whether the run passes (answers right, gates held).
    pub fn print(&self) -> bool {
        self.header();
        self.table();
        let mut pass = true;

        let ratios: Vec<f64> = self.queries.iter().filter_map(Row::ratio).collect();
        let mean = geomean(&ratios);
        let geo_gate = self.tier.and_then(|t| t.geomean);
        println!();
        match mean {
            Some(m) => println!(
                "geometric mean ratio (ours/DuckDB): {m:.2} over {} queries{}",
                ratios.len(),
                geo_gate.map_or(String::new(), |g| format!(" (gate {g})"))
            ),
            None => println!("geometric mean ratio: - (no DuckDB timings)"),
        }
        self.peer_summary();

        println!(
            "times: median of {} timed runs after 1 warm-up, per engine; p99 is the nearest-rank 99th percentile, \
             which with fewer than 100 runs is the slowest run{}.",
            self.runs,
            if self.runs < 100 { format!(" (here: the max of {})", self.runs) } else { String::new() }
        );
        match self.ours.facts.get("peak_method").and_then(|v| v.first()).map(String::as_str) {
            Some("clear_refs") => println!(
                "peak MB: our process's peak resident size during the query's runs (VmHWM, reset before each query \
                 through /proc/self/clear_refs), loaded tables included; +MB: that peak over the resident size when \
                 the query started."
            ),
            _ => println!(
                "peak MB: the process's peak resident size so far (VmHWM could not be reset per query: {}); +MB: \
                 that peak over the resident size when the query started.",
                self.ours.facts.get("peak_method").and_then(|v| v.get(1)).map_or("no /proc/self", |s| s)
            ),
        }
        if let Some(rss) = self.duck.and_then(|d| d.get_f64("process_peak_rss")) {
            let peers: Vec<String> = self
                .peers
                .iter()
                .filter_map(|p| {
                    let rss = p.timings.as_ref()?.get_f64("process_peak_rss")? as u64;
                    Some(format!("{}{} {} MB", p.name, if p.name.ends_with('s') { "'" } else { "'s" }, rss >> 20))
                })
                .collect();
            let peers = if peers.is_empty() { String::new() } else { format!(" ({})", peers.join(", ")) };
            println!("DuckDB's Python process peak RSS over the whole run: {} MB{peers}.", (rss as u64) >> 20);
        }
        self.bandwidth_floor();

        // Answers.
        let failures: Vec<&Row> = self.queries.iter().filter(|r| r.check.failed()).collect();
        let checked = self.queries.iter().filter(|r| r.check != Check::NotChecked).count();
        let against = if self.duck.is_some() { "DuckDB's" } else { "the fixtures'" };
        if checked == 0 {
            println!("answers: not checked (no reference answers at this N without DuckDB).");
        } else if failures.is_empty() {
            println!("answers: all {checked} match {against}.");
        } else {
            pass = false;
            println!("answers: {} of {checked} FAIL against {against}:", failures.len());
            for row in failures {
                let detail = match &row.check {
                    Check::Diff(d) => d.trim_end().to_string(),
                    Check::Error(e) => format!("HeliosDB error: {e}"),
                    Check::ReferenceError(e) => format!("DuckDB error: {e}"),
                    _ => String::new(),
                };
                println!("  {}:\n    {}", row.name, detail.replace('\n', "\n    "));
            }
        }

        self.peer_answers();

        // Gates.
        let where_ = format!("{} [{}]", self.gates_path.display(), self.tier_name);
        if self.duck.is_none() {
            println!("gates: not applied (no DuckDB timings to compare with).");
        } else if self.tier.is_none() {
            println!(
                "gates: none for N = {} (no [{}] tier in {}).",
                thousands(self.rows),
                self.tier_name,
                self.gates_path.display()
            );
        } else if self.quick {
            println!("gates: not applied (--quick never gates on timing; {where_} shown for reference).");
        } else {
            let mut over: Vec<String> = self
                .queries
                .iter()
                .filter_map(|r| match (r.ratio(), r.gate) {
                    (Some(ratio), Some(gate)) if ratio > gate => Some(format!("{} ratio {ratio:.2} > {gate}", r.name)),
                    _ => None,
                })
                .collect();
            if let (Some(m), Some(g)) = (mean, geo_gate) {
                if m > g {
                    over.push(format!("geometric mean {m:.2} > {g}"));
                }
            }
            let ungated: Vec<&str> =
                self.queries.iter().filter(|r| r.gate.is_none()).map(|r| r.name.as_str()).collect();
            let n_gated = self.queries.len() - ungated.len() + usize::from(geo_gate.is_some());
            if !ungated.is_empty() {
                println!("gates: no gate for {} in {where_}.", ungated.join(", "));
            }
            if over.is_empty() {
                println!("gates ({where_}): all {n_gated} held.");
            } else {
                pass = false;
                println!("gates ({where_}): {} of {n_gated} EXCEEDED: {}.", over.len(), over.join("; "));
            }
        }
        println!("{}", if pass { "PASS" } else { "FAIL" });
        pass
    }

    /// The peers' columns explained, the best engines and the geometric mean of `/best`.
    fn peer_summary(&self) {
        let peers = self.peer_columns();
        if peers.is_empty() {
            return;
        }
        let ratios: Vec<f64> = self.queries.iter().filter_map(Row::best_ratio).collect();
        let mut wins: Vec<(String, usize)> = Vec::new();
        for who in self.queries.iter().filter(|r| r.ours.is_some()).filter_map(|r| r.best().map(|(who, _)| who)) {
            match wins.iter_mut().find(|(w, _)| w == who) {
                Some((_, n)) => *n += 1,
                None => wins.push((who.to_string(), 1)),
            }
        }
        let wins: Vec<String> = wins.iter().map(|(who, n)| format!("{who} on {n}")).collect();
        println!(
            "geometric mean ratio (ours/best of DuckDB, {}): {} over {} queries; fastest engine that answered right: {} \
             (not gated).",
            peers.join(", "),
            geomean(&ratios).map_or("-".to_string(), |m| format!("{m:.2}")),
            ratios.len(),
            if wins.is_empty() { "-".to_string() } else { wins.join(", ") }
        );
        println!(
            "optional peers ({}): median ms (\"!\": the answer differs from DuckDB's, so the time does not count; n/a: \
             the peer could not run the query); /best: ours over the fastest of DuckDB and the peers whose answers \
             match. Peers never change PASS or FAIL.",
            peers.join(", ")
        );
    }

    /// Which peers answered right, and why the others did not.
    fn peer_answers(&self) {
        for peer in self.peers.iter().filter(|p| p.timings.is_some()) {
            let results: Vec<(&str, &PeerResult)> =
                self.queries.iter().filter_map(|r| Some((r.name.as_str(), r.peer(&peer.name)?))).collect();
            let matched = results.iter().filter(|(_, r)| matches!(r, PeerResult::Matched(_))).count();
            let engine = peer.timings.as_ref().and_then(|t| t.get("engine")).unwrap_or(&peer.name);
            let rewritten = if peer.rewritten.is_empty() {
                String::new()
            } else {
                format!(" (rewritten for it in {}/: {})", peer.rewrite_dir, peer.rewritten.join(", "))
            };
            println!("peer {engine}: {matched} of {} answers match DuckDB's{rewritten}.", results.len());
            if let Some(problem) = &peer.problem {
                println!("  {problem}");
            }
            for (name, result) in results {
                match result {
                    PeerResult::Matched(_) => {}
                    PeerResult::Differs(_, diff) => {
                        println!("  {name}: DIFFERS: {}", diff.trim_end().replace('\n', "\n    "))
                    }
                    PeerResult::Failed(why) => println!("  {name}: {why}"),
                }
            }
        }
    }

    fn bandwidth_floor(&self) {
        let Some(bw) = self.ours.facts.get("bandwidth") else { return };
        let num = |idx: usize| bw.get(idx).and_then(|v| v.parse::<f64>().ok());
        let (Some(bytes), Some(one), Some(all)) = (num(0), num(1), num(2)) else { return };
        let threads = bw.get(3).map_or("?", |s| s);
        let best = one.max(all);
        let q02 = q02_bytes(self.rows);
        let floor_ms = q02 as f64 / best * 1e3;
        let ours = self.queries.iter().find(|r| r.name.starts_with("q02")).and_then(|r| r.ours);
        println!(
            "q02 memory-bandwidth floor: q02 reads amount (8 B) + quantity (4 B) per order line = {} MB; at {:.1} GB/s \
             (best sum over {} MiB of i64: {:.1} GB/s on 1 thread, {:.1} GB/s on {threads}) that is {:.2} ms{}",
            q02 / 1_000_000,
            best / 1e9,
            (bytes as u64) >> 20,
            one / 1e9,
            all / 1e9,
            floor_ms,
            ours.map_or(".".to_string(), |s| format!(
                "; HeliosDB's median {} ms is {:.1}x the floor.",
                ms(s.median),
                s.median / floor_ms
            ))
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_numbers() {
        assert_eq!(thousands(10_000_000), "10,000,000");
        assert_eq!(thousands(999), "999");
        assert_eq!(ms(1234.4), "1234");
        assert_eq!(ms(12.34), "12.3");
        assert_eq!(ms(1.234), "1.23");
        assert_eq!(q02_bytes(100_000_000), 1_200_000_000);
    }

    #[test]
    fn ratio_needs_both_engines() {
        let s = |median| Summary { runs: 5, median, p99: median, min: median, max: median };
        let mut row = Row {
            name: "q01".into(),
            ours: Some(s(10.0)),
            peak_bytes: None,
            base_bytes: None,
            duck: Some(s(4.0)),
            check: Check::Ok,
            gate: None,
            peers: Vec::new(),
        };
        assert_eq!(row.ratio(), Some(2.5));
        row.duck = None;
        assert_eq!(row.ratio(), None);
    }

    fn summary(median: f64) -> Summary {
        Summary { runs: 3, median, p99: median, min: median, max: median }
    }

    fn row(duck: Option<f64>, peers: &[(&str, PeerResult)]) -> Row {
        Row {
            name: "q01".into(),
            ours: Some(summary(6.0)),
            peak_bytes: None,
            base_bytes: None,
            duck: duck.map(summary),
            check: Check::Ok,
            gate: None,
            peers: peers.iter().map(|(n, r)| (n.to_string(), r.clone())).collect(),
        }
    }

    #[test]
    fn best_counts_only_matching_answers() {
        let differs = PeerResult::Differs(summary(1.0), "row 0".into());
        let failed = PeerResult::Failed("n/a: unsupported function".into());
        // A faster peer with a wrong answer, or a failed one, never wins.
        let r = row(Some(4.0), &[("chDB", differs.clone()), ("Polars", failed.clone())]);
        assert_eq!(r.best(), Some(("DuckDB", 4.0)));
        assert_eq!(r.best_ratio(), Some(1.5));
        // The fastest matching peer wins over DuckDB and a slower matching peer.
        let r = row(
            Some(4.0),
            &[("chDB", PeerResult::Matched(summary(5.0))), ("Polars", PeerResult::Matched(summary(3.0)))],
        );
        assert_eq!(r.best(), Some(("Polars", 3.0)));
        assert_eq!(r.best_ratio(), Some(2.0));
        // Without DuckDB's time a matching peer still counts; with nothing, there is no best.
        let r = row(None, &[("chDB", PeerResult::Matched(summary(12.0))), ("Polars", differs)]);
        assert_eq!(r.best(), Some(("chDB", 12.0)));
        assert_eq!(r.best_ratio(), Some(0.5));
        let r = row(None, &[("Polars", failed)]);
        assert_eq!((r.best(), r.best_ratio()), (None, None));
        // No ratio without our own time.
        let mut r = row(Some(4.0), &[]);
        r.ours = None;
        assert_eq!(r.best_ratio(), None);
    }

    #[test]
    fn peer_cells() {
        assert_eq!(PeerResult::Matched(summary(12.34)).cell(), "12.3");
        assert_eq!(PeerResult::Differs(summary(1.234), "x".into()).cell(), "1.23!");
        assert_eq!(PeerResult::Failed("n/a: no".into()).cell(), "n/a");
        let r = row(Some(1.0), &[("chDB", PeerResult::Matched(summary(2.0)))]);
        assert_eq!(r.peer("chDB"), Some(&PeerResult::Matched(summary(2.0))));
        assert_eq!(r.peer("Polars"), None);
    }
}
