//! Bulk import figures: rows per second of `COPY orders FROM` a CSV file and a parquet file
//! into a database on disk (the COPY statement, commit and fsync included), next to DuckDB's
//! `COPY` into a database file and SQLite's shell `.import`, in one run. Medians of `--runs`.
//!
//! ```sh
//! cargo run --release -p bench --example import -- --n 1000000 --dir /tmp/helios-import
//! ```
//!
//! The workload's `orders` table is written as CSV (`bench::csv`, with a header) and then as
//! parquet by DuckDB (its defaults: snappy, dictionary pages), or by HeliosDB's own `COPY TO`
//! when DuckDB is missing. DuckDB runs through `$HELIOSDB_PYTHON` (default `../venv/bin/python`
//! when it exists, else `python3`); SQLite through the `sqlite3` shell when it is on the PATH.
//! Not a test: it prints figures.

use bench::{load, Table, Workload, DEFAULT_BATCH_ROWS};
use heliosdb_nano::{Database, Options};
use std::path::{Path, PathBuf};
use std::time::Instant;

const USAGE: &str = "usage: import [--n N] [--dir DIR] [--runs R] [--no-duckdb]";

const DUCKDB_SCRIPT: &str = r#"
import duckdb, os, sys, time
mode = sys.argv[1]
if mode == "convert":
    csv, parquet, schema = sys.argv[2], sys.argv[3], sys.argv[4]
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    con.execute(schema)
    con.execute(f"COPY orders FROM '{csv}' (FORMAT csv, HEADER true)")
    con.execute(f"COPY orders TO '{parquet}' (FORMAT parquet)")
    print("ok")
else:
    db, path, schema = sys.argv[2], sys.argv[3], sys.argv[4]
    for p in (db, db + ".wal"):
        if os.path.exists(p):
            os.remove(p)
    con = duckdb.connect(db)
    con.execute("SET enable_progress_bar = false")
    con.execute(schema)
    options = "(FORMAT csv, HEADER true)" if path.endswith(".csv") else "(FORMAT parquet)"
    t = time.time()
    con.execute(f"COPY orders FROM '{path}' {options}")
    secs = time.time() - t
    n = con.execute("SELECT count(*) FROM orders").fetchone()[0]
    con.close()
    print(f"{n} {secs:.4f}")
"#;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut n = 1_000_000u64;
    let mut dir = PathBuf::from("/tmp/helios-import");
    let mut runs = 3usize;
    let mut duckdb = true;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{arg} needs a value\n{USAGE}"));
        match arg.as_str() {
            "--n" => n = value()?.replace([',', '_'], "").parse()?,
            "--dir" => dir = PathBuf::from(value()?),
            "--runs" => runs = value()?.parse::<usize>()?.max(1),
            "--no-duckdb" => duckdb = false,
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(());
            }
            other => return Err(format!("unknown argument {other}\n{USAGE}").into()),
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let workload = Workload::new(n);
    let schema = orders_schema();
    let python = python();

    let csv = dir.join("orders.csv");
    let started = Instant::now();
    let mut out = std::io::BufWriter::new(std::fs::File::create(&csv)?);
    bench::csv::write_table(&workload, Table::Orders, DEFAULT_BATCH_ROWS, &mut out)?;
    std::io::Write::flush(&mut out)?;
    drop(out);
    eprintln!("wrote {} ({:.1} MB) in {:.1} s", csv.display(), mb(&csv), started.elapsed().as_secs_f64());
    let parquet = dir.join("orders.parquet");
    let by_duckdb = duckdb
        && std::process::Command::new(&python)
            .args(["-c", DUCKDB_SCRIPT, "convert"])
            .arg(&csv)
            .arg(&parquet)
            .arg(&schema)
            .output()
            .is_ok_and(|o| o.status.success());
    if !by_duckdb {
        let db = Database::open_in_memory()?;
        let conn = db.connect();
        conn.execute(&schema, ())?;
        conn.execute(&format!("COPY orders FROM '{}' (HEADER true)", csv.display()), ())?;
        conn.execute(&format!("COPY orders TO '{}'", parquet.display()), ())?;
    }
    eprintln!(
        "wrote {} ({:.1} MB, by {})",
        parquet.display(),
        mb(&parquet),
        if by_duckdb { "DuckDB" } else { "HeliosDB" }
    );

    println!(
        "bulk import of {n} orders rows into a database on disk (median of {runs} runs; COPY incl. commit + fsync)"
    );
    for (label, file, options) in [("CSV", &csv, " (HEADER true)"), ("Parquet", &parquet, "")] {
        let mut secs = Vec::new();
        for _ in 0..runs {
            let db_dir = dir.join("helios-db");
            let _ = std::fs::remove_dir_all(&db_dir);
            // Checkpoints only when asked: the COPY is timed alone, then the CHECKPOINT.
            let options_db = Options::default().checkpoint_rows(0).checkpoint_wal_bytes(0);
            let db = Database::open_with(&db_dir, options_db)?;
            let conn = db.connect();
            conn.execute(&schema, ())?;
            let started = Instant::now();
            let rows = conn.execute(&format!("COPY orders FROM '{}'{options}", file.display()), ())?;
            let copy = started.elapsed().as_secs_f64();
            let started = Instant::now();
            conn.execute("CHECKPOINT", ())?;
            let checkpoint = started.elapsed().as_secs_f64();
            assert_eq!(rows, n, "rows imported");
            secs.push((copy, checkpoint));
        }
        let copy = median(secs.iter().map(|s| s.0).collect());
        let checkpoint = median(secs.iter().map(|s| s.1).collect());
        println!(
            "HeliosDB {label:<8} {:>6.2} M rows/s  (COPY {copy:.3} s; then CHECKPOINT {checkpoint:.3} s)",
            n as f64 / copy / 1e6
        );
        if duckdb {
            let mut secs = Vec::new();
            for _ in 0..runs {
                let output = std::process::Command::new(&python)
                    .args(["-c", DUCKDB_SCRIPT, "load"])
                    .arg(dir.join("duck.db"))
                    .arg(file)
                    .arg(&schema)
                    .output()?;
                if !output.status.success() {
                    println!("DuckDB   {label:<8} skipped: {}", String::from_utf8_lossy(&output.stderr).trim());
                    break;
                }
                let text = String::from_utf8(output.stdout)?;
                let fields: Vec<&str> = text.split_whitespace().collect();
                secs.push(fields.get(1).ok_or("duckdb output")?.parse::<f64>()?);
            }
            if !secs.is_empty() {
                let s = median(secs);
                println!("DuckDB   {label:<8} {:>6.2} M rows/s  (COPY {s:.3} s)", n as f64 / s / 1e6);
            }
        }
    }
    sqlite(&csv, n, runs)?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// SQLite's shell `.import` of the CSV into a database file, when `sqlite3` exists.
fn sqlite(csv: &Path, n: u64, runs: usize) -> Result<(), Box<dyn std::error::Error>> {
    if std::process::Command::new("sqlite3").arg("-version").output().is_err() {
        println!("SQLite   CSV      skipped: no sqlite3 shell on the PATH");
        return Ok(());
    }
    let db = csv.with_file_name("sqlite.db");
    let schema = orders_schema().replace("TIMESTAMP", "TEXT");
    let mut secs = Vec::new();
    for _ in 0..runs {
        let _ = std::fs::remove_file(&db);
        let script = format!("{schema}\n.mode csv\n.import --skip 1 {} orders\n", csv.display());
        let started = Instant::now();
        let out = std::process::Command::new("sqlite3")
            .arg(&db)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .spawn()
            .and_then(|mut child| {
                use std::io::Write;
                child.stdin.take().expect("stdin").write_all(script.as_bytes())?;
                child.wait()
            })?;
        if !out.success() {
            println!("SQLite   CSV      failed");
            return Ok(());
        }
        secs.push(started.elapsed().as_secs_f64());
    }
    let s = median(secs);
    println!("SQLite   CSV      {:>6.2} M rows/s  (.import {s:.3} s)", n as f64 / s / 1e6);
    let _ = std::fs::remove_file(&db);
    Ok(())
}

fn python() -> String {
    std::env::var("HELIOSDB_PYTHON").unwrap_or_else(|_| {
        let venv = Path::new("../venv/bin/python");
        if venv.exists() {
            venv.display().to_string()
        } else {
            "python3".into()
        }
    })
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn mb(path: &Path) -> f64 {
    std::fs::metadata(path).map_or(0.0, |m| m.len() as f64 / 1e6)
}

/// The `orders` statement of the workload schema.
fn orders_schema() -> String {
    let start = load::SCHEMA_SQL.find("CREATE TABLE orders").expect("orders in the schema");
    let end = load::SCHEMA_SQL[start..].find(");").expect("end of orders") + start + 2;
    load::SCHEMA_SQL[start..end].to_string()
}
