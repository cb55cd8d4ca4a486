//! Writes the dashboard workload as CSV files (one per table, with a header) plus
//! `checksums.txt`, for loading into another engine:
//!
//! ```sh
//! cargo run --release -p bench --example gen_csv -- --n 30000 --out /tmp/workload
//! cargo run --release -p bench --example gen_csv -- --n 10000000 --checksums-only
//! ```

use bench::{checksum, csv, Workload, DEFAULT_BATCH_ROWS};
use std::path::PathBuf;
use std::time::Instant;

const USAGE: &str = "usage: gen_csv --n N (--out DIR | --checksums-only) [--batch ROWS]";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut n = None;
    let mut out = None;
    let mut batch_rows = DEFAULT_BATCH_ROWS;
    let mut checksums_only = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{arg} needs a value\n{USAGE}"));
        match arg.as_str() {
            "--n" => n = Some(value()?.replace([',', '_'], "").parse::<u64>()?),
            "--out" => out = Some(PathBuf::from(value()?)),
            "--batch" => batch_rows = value()?.parse()?,
            "--checksums-only" => checksums_only = true,
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(());
            }
            other => return Err(format!("unknown argument {other}\n{USAGE}").into()),
        }
    }
    let workload = Workload::new(n.ok_or(USAGE)?);
    let started = Instant::now();
    if !checksums_only {
        let dir = out.ok_or(USAGE)?;
        for file in csv::write_dir(&workload, &dir, batch_rows)? {
            eprintln!("wrote {}", file.display());
        }
        std::fs::write(dir.join("checksums.txt"), checksum::render(&checksum::checksums(&workload)))?;
        eprintln!("wrote {}", dir.join("checksums.txt").display());
    } else {
        print!("{}", checksum::render(&checksum::checksums(&workload)));
    }
    eprintln!("N = {} in {:.2?}", workload.n(), started.elapsed());
    Ok(())
}
