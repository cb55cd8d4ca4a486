//! Durable storage figures: bytes on disk for the workload's `orders` table, next to DuckDB's
//! database file for the same rows; bulk load and checkpoint time; time to reopen; single-row
//! durable commits per second (one session, and eight sessions sharing fsyncs).
//!
//! ```sh
//! cargo run --release -p bench --example durable -- --n 10000000 --dir /tmp/helios-orders --duckdb
//! ```
//!
//! `--duckdb` also writes `orders.csv` beside the directory and loads it into a DuckDB file with
//! `$HELIOSDB_PYTHON` (default `python3`, which needs `duckdb`). Not a test: it prints figures.

use bench::{load, Table, Workload, DEFAULT_BATCH_ROWS};
use heliosdb_nano::{Database, Durability, Options};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const USAGE: &str = "usage: durable --n N --dir DIR [--compression lz4|zstd] [--duckdb] [--commit-secs S]";

const DUCKDB_SCRIPT: &str = r#"
import duckdb, os, sys, time
db, csv, schema = sys.argv[1], sys.argv[2], sys.argv[3]
for p in (db, db + ".wal"):
    if os.path.exists(p):
        os.remove(p)
con = duckdb.connect(db)
con.execute("SET enable_progress_bar = false")
con.execute(schema)
t = time.time()
con.execute(f"COPY orders FROM '{csv}' (FORMAT csv, HEADER true)")
load = time.time() - t
con.execute("CHECKPOINT")
n = con.execute("SELECT count(*) FROM orders").fetchone()[0]
con.close()
t = time.time()
con = duckdb.connect(db)
con.execute("SELECT count(*) FROM orders").fetchone()
reopen = time.time() - t
con.close()
print(f"{n} {os.path.getsize(db)} {load:.3f} {reopen:.4f}")
"#;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut n = None;
    let mut dir = None;
    let mut duckdb = false;
    let mut commit_secs = 3.0;
    let mut compression = "lz4".to_string();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{arg} needs a value\n{USAGE}"));
        match arg.as_str() {
            "--n" => n = Some(value()?.replace([',', '_'], "").parse::<u64>()?),
            "--dir" => dir = Some(PathBuf::from(value()?)),
            "--duckdb" => duckdb = true,
            "--compression" => compression = value()?,
            "--commit-secs" => commit_secs = value()?.parse()?,
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(());
            }
            other => return Err(format!("unknown argument {other}\n{USAGE}").into()),
        }
    }
    let (n, dir) = (n.ok_or(USAGE)?, dir.ok_or(USAGE)?);
    let workload = Workload::new(n);
    let _ = std::fs::remove_dir_all(&dir);
    // Checkpoints only when asked, so the load and the checkpoint are timed apart.
    let options = Options::default().checkpoint_rows(0).checkpoint_wal_bytes(0);

    let db = Database::open_with(&dir, options.clone())?;
    let conn = db.connect();
    let orders = orders_schema();
    let with = format!("{} WITH (compression = '{compression}');", orders.trim_end_matches(';'));
    conn.execute_batch(&load::SCHEMA_SQL.replace(&orders, &with))?;
    let started = Instant::now();
    let rows = load::load_table(&conn, &workload, Table::Orders, DEFAULT_BATCH_ROWS)?;
    let load_secs = started.elapsed().as_secs_f64();
    let wal_bytes = dir_bytes(&dir.join("wal"));
    let started = Instant::now();
    conn.execute("CHECKPOINT", ())?;
    let checkpoint_secs = started.elapsed().as_secs_f64();
    drop(conn);
    drop(db);
    let col_bytes: u64 = files(&dir).iter().filter(|p| has_suffix(p, ".col")).map(|p| size(p)).sum();
    let total = dir_bytes(&dir);
    println!("orders rows                 {rows} (compression {compression})");
    println!(
        "bulk load (durable)         {load_secs:.2} s = {:.2} M rows/s ({} rows per commit; WAL {:.1} MB)",
        rows as f64 / load_secs / 1e6,
        DEFAULT_BATCH_ROWS,
        wal_bytes as f64 / 1e6
    );
    println!("CHECKPOINT                  {checkpoint_secs:.2} s");
    println!(
        "on disk                     {total} bytes ({:.1} MB; column files {:.1} MB, {:.2} bytes/row)",
        total as f64 / 1e6,
        col_bytes as f64 / 1e6,
        col_bytes as f64 / rows as f64
    );

    // The best of three reopens (the first pays for cold page-cache misses on the manifest).
    let mut reopen = Duration::MAX;
    for _ in 0..2 {
        let started = Instant::now();
        let db = Database::open_with(&dir, options.clone())?;
        reopen = reopen.min(started.elapsed());
        drop(db);
    }
    let started = Instant::now();
    let db = Database::open_with(&dir, options.clone())?;
    let reopen = reopen.min(started.elapsed());
    let started = Instant::now();
    let check = db.connect().query("SELECT count(*), sum(quantity) FROM orders", ())?;
    let first_query = started.elapsed();
    let count: i64 = check.row(0).ok_or("no row")?.get(0)?;
    println!(
        "reopen                      {:.1} ms (then SELECT count(*), sum(quantity) over {count} rows: {:.1} ms)",
        ms(reopen),
        ms(first_query)
    );
    drop(db);

    let commit_dir = PathBuf::from(format!("{}-commits", dir.display()));
    println!(
        "raw fdatasync               {:>9.0} per second (100-byte appends, this disk, now)",
        bench::sys::fdatasyncs_per_sec(&dir)?
    );
    for (mode, sessions) in
        [(Durability::Full, 1), (Durability::Full, 8), (Durability::Normal, 1), (Durability::Off, 1)]
    {
        let _ = std::fs::remove_dir_all(&commit_dir);
        let db = Database::open_with(&commit_dir, Options::default().durability(mode))?;
        db.connect().execute("CREATE TABLE kv (id BIGINT, v TEXT)", ())?;
        let deadline = Instant::now() + Duration::from_secs_f64(commit_secs);
        let started = Instant::now();
        let total: u64 = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..sessions)
                .map(|s| {
                    let conn = db.connect();
                    scope.spawn(move || -> u64 {
                        let insert = conn.prepare("INSERT INTO kv VALUES ($1, $2)").expect("prepare");
                        let mut i = 0u64;
                        while Instant::now() < deadline {
                            insert.execute((s * 1_000_000_000 + i as i64, "value")).expect("insert");
                            i += 1;
                        }
                        i
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().expect("session")).sum()
        });
        let secs = started.elapsed().as_secs_f64();
        println!(
            "single-row commits          {:>9.0} commits/s (durability {}, {sessions} session{})",
            total as f64 / secs,
            mode.name(),
            if sessions > 1 { "s" } else { "" }
        );
    }
    let _ = std::fs::remove_dir_all(&commit_dir);

    if duckdb {
        let csv = PathBuf::from(format!("{}-orders.csv", dir.display()));
        let started = Instant::now();
        let mut out = std::io::BufWriter::new(std::fs::File::create(&csv)?);
        bench::csv::write_table(&workload, Table::Orders, DEFAULT_BATCH_ROWS, &mut out)?;
        std::io::Write::flush(&mut out)?;
        drop(out);
        eprintln!("wrote {} in {:.1} s", csv.display(), started.elapsed().as_secs_f64());
        let duck = PathBuf::from(format!("{}.duckdb", dir.display()));
        let schema = orders_schema();
        let python = std::env::var("HELIOSDB_PYTHON").unwrap_or_else(|_| "python3".into());
        let output =
            std::process::Command::new(python).args(["-c", DUCKDB_SCRIPT]).arg(&duck).arg(&csv).arg(schema).output()?;
        if !output.status.success() {
            return Err(format!("duckdb script failed: {}", String::from_utf8_lossy(&output.stderr)).into());
        }
        let text = String::from_utf8(output.stdout)?;
        let fields: Vec<&str> = text.lines().last().unwrap_or_default().split_whitespace().collect();
        let [duck_rows, duck_bytes, duck_load, duck_reopen] = fields.as_slice() else {
            return Err(format!("unexpected duckdb output {text:?}").into());
        };
        let duck_bytes: u64 = duck_bytes.parse()?;
        println!(
            "DuckDB file                 {duck_bytes} bytes ({:.1} MB) for {duck_rows} rows: HeliosDB/DuckDB = {:.2}",
            duck_bytes as f64 / 1e6,
            total as f64 / duck_bytes as f64
        );
        println!("DuckDB CSV load, reopen     {duck_load} s, {:.1} ms", duck_reopen.parse::<f64>()? * 1e3);
        let _ = std::fs::remove_file(&csv);
    }
    Ok(())
}

/// The `orders` statement of the workload schema.
fn orders_schema() -> String {
    let start = load::SCHEMA_SQL.find("CREATE TABLE orders").expect("orders in the schema");
    let end = load::SCHEMA_SQL[start..].find(");").expect("end of orders") + start + 2;
    load::SCHEMA_SQL[start..end].to_string()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn size(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}

fn has_suffix(path: &Path, suffix: &str) -> bool {
    path.to_string_lossy().ends_with(suffix)
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                out.extend(files(&path));
            } else {
                out.push(path);
            }
        }
    }
    out
}

fn dir_bytes(dir: &Path) -> u64 {
    files(dir).iter().map(|p| size(p)).sum()
}
