//! Transaction throughput next to SQLite, in one run (issue 4's "Must show"): single-row
//! autocommit INSERT and UPDATE (by primary key, on a table of `--rows` rows) transactions per
//! second with durability `full` and `off`, from one session and from eight concurrent ones
//! (which share fsyncs: group commit); rows per second of 1,000-row append transactions
//! (durability `full`; one multi-row INSERT per transaction, and `Connection::append`, the bulk
//! API). Our side uses prepared statements (`Connection::prepare`), as an application would.
//!
//! SQLite runs the same workloads through python3's `sqlite3` (WAL journal, `synchronous` FULL
//! and NORMAL, one transaction per row, and 1,000-row `executemany` transactions), on files in
//! the same directory. `--duckdb` adds DuckDB (`$HELIOSDB_PYTHON`, default `../venv/bin/python`
//! or `python3`, needs `duckdb`).
//!
//! ```sh
//! cargo xtask txnbench [--secs S] [--dir DIR] [--duckdb]
//! cargo run --release -p bench --example txnbench -- --secs 2 --dir /tmp/helios-txn
//! ```
//!
//! Not a test: it prints figures.

use heliosdb_nano::{Connection, Database, Durability, Options, Value};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const USAGE: &str = "usage: txnbench [--secs S] [--dir DIR] [--rows N] [--sessions N] [--duckdb] [--only ours|sqlite]";

/// Rows per append transaction.
const BATCH: usize = 1_000;

const SQLITE_SCRIPT: &str = r#"
import os, random, sqlite3, sys, time
d, secs, nrows, batch = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
def fresh(name, sync):
    p = os.path.join(d, name)
    for s in ("", "-wal", "-shm"):
        if os.path.exists(p + s):
            os.remove(p + s)
    c = sqlite3.connect(p, isolation_level=None, check_same_thread=False)
    c.execute("PRAGMA journal_mode=WAL")
    c.execute(f"PRAGMA synchronous={sync}")
    c.execute("CREATE TABLE kv (id INTEGER PRIMARY KEY, v TEXT, n INTEGER)")
    return c
def timed(f):
    n, t0 = 0, time.perf_counter()
    end = t0 + secs
    while time.perf_counter() < end:
        n += f(n)
    return n / (time.perf_counter() - t0)
for sync in ("FULL", "NORMAL"):
    c = fresh(f"sqlite-{sync}.db", sync)
    def ins(i):
        c.execute("INSERT INTO kv VALUES (?, ?, ?)", (i, "value", i))
        return 1
    print(f"insert {sync} {timed(ins):.1f}", flush=True)
    c.execute("DELETE FROM kv")
    c.execute("BEGIN")
    c.executemany("INSERT INTO kv VALUES (?, ?, ?)", ((i, "value", 0) for i in range(nrows)))
    c.execute("COMMIT")
    rng = random.Random(7)
    def upd(i):
        c.execute("UPDATE kv SET n = n + 1 WHERE id = ?", (rng.randrange(nrows),))
        return 1
    print(f"update {sync} {timed(upd):.1f}", flush=True)
    c.execute("DELETE FROM kv")
    base = [0]
    def app(i):
        b = base[0]
        c.execute("BEGIN")
        c.executemany("INSERT INTO kv VALUES (?, ?, ?)", ((b + k, "value", k) for k in range(batch)))
        c.execute("COMMIT")
        base[0] += batch
        return batch
    print(f"append {sync} {timed(app):.1f}", flush=True)
    c.close()
"#;

const DUCKDB_SCRIPT: &str = r#"
import os, random, sys, time, duckdb
d, secs, nrows, batch = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
p = os.path.join(d, "duck.db")
for s in ("", ".wal"):
    if os.path.exists(p + s):
        os.remove(p + s)
c = duckdb.connect(p)
c.execute("CREATE TABLE kv (id BIGINT PRIMARY KEY, v VARCHAR, n BIGINT)")
def timed(f):
    n, t0 = 0, time.perf_counter()
    end = t0 + secs
    while time.perf_counter() < end:
        n += f(n)
    return n / (time.perf_counter() - t0)
def ins(i):
    c.execute("INSERT INTO kv VALUES (?, ?, ?)", (i, "value", i))
    return 1
print(f"insert DuckDB {timed(ins):.1f}", flush=True)
c.execute("DELETE FROM kv")
c.execute(f"INSERT INTO kv SELECT i, 'value', 0 FROM range({nrows}) t(i)")
rng = random.Random(7)
def upd(i):
    c.execute("UPDATE kv SET n = n + 1 WHERE id = ?", (rng.randrange(nrows),))
    return 1
print(f"update DuckDB {timed(upd):.1f}", flush=True)
c.execute("DELETE FROM kv")
base = [10 * nrows]
values = ",".join("(?, 'value', ?)" for _ in range(batch))
def app(i):
    b = base[0]
    args = []
    for k in range(batch):
        args += [b + k, k]
    c.execute(f"INSERT INTO kv VALUES {values}", args)
    base[0] += batch
    return batch
print(f"append DuckDB {timed(app):.1f}", flush=True)
c.close()
"#;

struct Args {
    secs: f64,
    dir: PathBuf,
    rows: i64,
    sessions: usize,
    duckdb: bool,
    ours: bool,
    sqlite: bool,
}

fn parse_args() -> Result<Args, Box<dyn std::error::Error>> {
    let mut a = Args {
        secs: 2.0,
        dir: std::env::temp_dir().join("heliosdb-txnbench"),
        rows: 10_000,
        sessions: 8,
        duckdb: false,
        ours: true,
        sqlite: true,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{arg} needs a value\n{USAGE}"));
        match arg.as_str() {
            "--secs" => a.secs = value()?.parse()?,
            "--dir" => a.dir = PathBuf::from(value()?),
            "--rows" => a.rows = value()?.replace([',', '_'], "").parse()?,
            "--sessions" => a.sessions = value()?.parse()?,
            "--duckdb" => a.duckdb = true,
            "--only" => match value()?.as_str() {
                "ours" => a.sqlite = false,
                "sqlite" => a.ours = false,
                other => return Err(format!("--only {other}: ours or sqlite\n{USAGE}").into()),
            },
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other}\n{USAGE}").into()),
        }
    }
    if !a.secs.is_finite() || a.secs <= 0.0 || a.rows < 1 || a.sessions < 1 {
        return Err(format!("--secs, --rows and --sessions must be positive\n{USAGE}").into());
    }
    Ok(a)
}

/// One measured figure.
struct Figure {
    what: String,
    rate: f64,
    unit: &'static str,
    note: String,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = parse_args()?;
    std::fs::create_dir_all(&args.dir)?;
    let mut figures: Vec<Figure> = Vec::new();
    println!("directory {} (one filesystem for every engine); {} s per figure", args.dir.display(), args.secs);
    println!("raw fdatasync: {:.0}/s (100-byte appends)", bench::sys::fdatasyncs_per_sec(&args.dir)?);
    if args.ours {
        ours(&args, &mut figures)?;
    }
    if args.sqlite {
        let python = std::env::var("HELIOSDB_PYTHON").unwrap_or_else(|_| "python3".into());
        figures.extend(script(&python, SQLITE_SCRIPT, &args, "SQLite WAL synchronous=")?);
    }
    if args.duckdb {
        let python = std::env::var("HELIOSDB_PYTHON").unwrap_or_else(|_| {
            let venv = Path::new("../venv/bin/python");
            if venv.exists() {
                venv.display().to_string()
            } else {
                "python3".into()
            }
        });
        figures.extend(script(&python, DUCKDB_SCRIPT, &args, "")?);
    }
    println!();
    println!("{:<58} {:>14}", "workload", "rate");
    for f in &figures {
        println!("{:<58} {:>10.0} {:<7} {}", f.what, f.rate, f.unit, f.note);
    }
    // Ratios against SQLite FULL from the same run.
    let find = |prefix: &str| figures.iter().find(|f| f.what.starts_with(prefix)).map(|f| f.rate);
    let pairs = [
        ("HeliosDB INSERT 1 session full", "SQLite WAL synchronous=FULL INSERT"),
        ("HeliosDB INSERT 8 sessions full", "SQLite WAL synchronous=FULL INSERT"),
        ("HeliosDB UPDATE 1 session full", "SQLite WAL synchronous=FULL UPDATE"),
        ("HeliosDB UPDATE 8 sessions full", "SQLite WAL synchronous=FULL UPDATE"),
        ("HeliosDB INSERT 1 session off", "SQLite WAL synchronous=NORMAL INSERT"),
        ("HeliosDB UPDATE 1 session off", "SQLite WAL synchronous=NORMAL UPDATE"),
        ("HeliosDB 1,000-row multi-row INSERT full", "SQLite WAL synchronous=FULL 1,000-row"),
        ("HeliosDB 1,000-row Connection::append full", "SQLite WAL synchronous=FULL 1,000-row"),
    ];
    let mut header = false;
    for (ours, theirs) in pairs {
        if let (Some(a), Some(b)) = (find(ours), find(theirs)) {
            if !header {
                println!();
                println!("ratios (same run)");
                header = true;
            }
            println!("  {ours:<44} / {theirs:<38} = {:>6.2}x", a / b);
        }
    }
    Ok(())
}

fn ours(args: &Args, figures: &mut Vec<Figure>) -> Result<(), Box<dyn std::error::Error>> {
    let dir = args.dir.join("helios");
    for mode in [Durability::Full, Durability::Off] {
        for sessions in [1, args.sessions] {
            let plural = if sessions > 1 { "sessions" } else { "session" };
            // INSERT: every session inserts its own keys, one row per transaction.
            let db = fresh(&dir, mode)?;
            let (n, secs, _) = run_sessions(&db, sessions, args.secs, |conn, s| {
                let insert = conn.prepare("INSERT INTO kv VALUES ($1, $2, $3)")?;
                let mut i = 0i64;
                Ok(Box::new(move || {
                    let id = s as i64 * 1_000_000_000 + i;
                    i += 1;
                    insert.execute((id, "value", id)).map(|_| ())
                }))
            })?;
            let stats = db.version_stats();
            figures.push(Figure {
                what: format!("HeliosDB INSERT {sessions} {plural} {}", mode.name()),
                rate: n as f64 / secs,
                unit: "tx/s",
                note: format!("({} segments at the end)", stats.segments),
            });
            drop(db);
            // UPDATE by primary key on a table of `rows` rows; each session owns the keys
            // `k % sessions == s`, so sessions do not conflict (a conflict would be retried).
            let db = fresh(&dir, mode)?;
            load_rows(&db.connect(), args.rows)?;
            let rows = args.rows;
            let (n, secs, aborts) = run_sessions(&db, sessions, args.secs, |conn, s| {
                let update = conn.prepare("UPDATE kv SET n = n + 1 WHERE id = $1")?;
                let mut state = 0x9e37_79b9_7f4a_7c15u64 ^ (s as u64 + 1);
                let per = (rows / sessions as i64).max(1);
                Ok(Box::new(move || {
                    let k = (next(&mut state) % per as u64) as i64 * sessions as i64 + s as i64;
                    update.execute((k.min(rows - 1),)).map(|_| ())
                }))
            })?;
            figures.push(Figure {
                what: format!("HeliosDB UPDATE {sessions} {plural} {}", mode.name()),
                rate: n as f64 / secs,
                unit: "tx/s",
                note: format!("({} rows; {aborts} conflicts retried)", rows),
            });
        }
    }
    // 1,000-row append transactions, durability full, one session.
    let db = fresh(&dir, Durability::Full)?;
    let values: Vec<String> = (0..BATCH).map(|k| format!("(${}, 'value', ${})", 2 * k + 1, 2 * k + 2)).collect();
    let sql = format!("INSERT INTO kv VALUES {}", values.join(", "));
    let (n, secs, _) = run_sessions(&db, 1, args.secs, |conn, _| {
        let insert = conn.prepare(&sql)?;
        let mut base = 0i64;
        Ok(Box::new(move || {
            let params: Vec<Value> =
                (0..BATCH as i64).flat_map(|k| [Value::BigInt(base + k), Value::BigInt(k)]).collect();
            base += BATCH as i64;
            insert.execute(params).map(|_| ())
        }))
    })?;
    figures.push(Figure {
        what: "HeliosDB 1,000-row multi-row INSERT full".into(),
        rate: (n * BATCH as u64) as f64 / secs,
        unit: "rows/s",
        note: "(prepared, 2,000 parameters)".into(),
    });
    drop(db);
    let db = fresh(&dir, Durability::Full)?;
    let (n, secs, _) = run_sessions(&db, 1, args.secs, |conn, _| {
        let conn = conn.clone();
        let mut base = 0i64;
        Ok(Box::new(move || {
            use heliosdb_nano::arrow::array::{Int64Array, Utf8Array};
            let ids = Int64Array::from_vec((base..base + BATCH as i64).collect());
            let v = Utf8Array::<i32>::from_slice(vec!["value"; BATCH]);
            let n = Int64Array::from_vec((0..BATCH as i64).collect());
            base += BATCH as i64;
            conn.append("kv", heliosdb_nano::arrow::chunk::Chunk::new(vec![ids.boxed(), v.boxed(), n.boxed()]))
                .map(|_| ())
        }))
    })?;
    figures.push(Figure {
        what: "HeliosDB 1,000-row Connection::append full".into(),
        rate: (n * BATCH as u64) as f64 / secs,
        unit: "rows/s",
        note: "(arrow chunk per transaction)".into(),
    });
    drop(db);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

type Step = Box<dyn FnMut() -> heliosdb_nano::Result<()> + Send>;

/// Runs one step per transaction on `sessions` connections for `secs`; returns the
/// transactions committed, the seconds taken and the serialization failures retried.
fn run_sessions(
    db: &Database,
    sessions: usize,
    secs: f64,
    make: impl Fn(&Connection, usize) -> heliosdb_nano::Result<Step>,
) -> Result<(u64, f64, u64), Box<dyn std::error::Error>> {
    let mut steps = Vec::with_capacity(sessions);
    for s in 0..sessions {
        steps.push(make(&db.connect(), s)?);
    }
    let deadline = Instant::now() + Duration::from_secs_f64(secs);
    let started = Instant::now();
    let results: Vec<heliosdb_nano::Result<(u64, u64)>> = std::thread::scope(|scope| {
        let handles: Vec<_> = steps
            .into_iter()
            .map(|mut step| {
                scope.spawn(move || {
                    let (mut n, mut aborts) = (0u64, 0u64);
                    while Instant::now() < deadline {
                        match step() {
                            Ok(()) => n += 1,
                            Err(e) if e.sqlstate() == Some("40001") => aborts += 1,
                            Err(e) => return Err(e),
                        }
                    }
                    Ok((n, aborts))
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("session thread")).collect()
    });
    let secs = started.elapsed().as_secs_f64();
    let (mut n, mut aborts) = (0, 0);
    for r in results {
        let (a, b) = r?;
        n += a;
        aborts += b;
    }
    Ok((n, secs, aborts))
}

fn fresh(dir: &Path, mode: Durability) -> Result<Database, Box<dyn std::error::Error>> {
    let _ = std::fs::remove_dir_all(dir);
    let db = Database::open_with(dir, Options::default().durability(mode))?;
    db.connect().execute("CREATE TABLE kv (id BIGINT PRIMARY KEY, v TEXT, n BIGINT)", ())?;
    Ok(db)
}

fn load_rows(conn: &Connection, rows: i64) -> heliosdb_nano::Result<()> {
    use heliosdb_nano::arrow::array::{Int64Array, Utf8Array};
    let ids = Int64Array::from_vec((0..rows).collect());
    let v = Utf8Array::<i32>::from_slice(vec!["value"; rows as usize]);
    let n = Int64Array::from_vec(vec![0; rows as usize]);
    conn.append("kv", heliosdb_nano::arrow::chunk::Chunk::new(vec![ids.boxed(), v.boxed(), n.boxed()]))?;
    Ok(())
}

fn next(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

/// Runs a python side script; each output line is `workload mode rate`.
fn script(python: &str, code: &str, args: &Args, prefix: &str) -> Result<Vec<Figure>, Box<dyn std::error::Error>> {
    let output = std::process::Command::new(python)
        .args(["-c", code])
        .arg(&args.dir)
        .arg(args.secs.to_string())
        .arg(args.rows.to_string())
        .arg(BATCH.to_string())
        .output()?;
    if !output.status.success() {
        return Err(format!("{python} script failed: {}", String::from_utf8_lossy(&output.stderr)).into());
    }
    let mut out = Vec::new();
    for line in String::from_utf8(output.stdout)?.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [workload, mode, rate] = fields.as_slice() else {
            return Err(format!("unexpected script output {line:?}").into());
        };
        let rate: f64 = rate.parse()?;
        let (what, unit, note) = match *workload {
            "insert" => (format!("{prefix}{mode} INSERT 1 session"), "tx/s", ""),
            "update" => (format!("{prefix}{mode} UPDATE 1 session"), "tx/s", "(same rows)"),
            _ => (format!("{prefix}{mode} 1,000-row transactions"), "rows/s", "(executemany)"),
        };
        out.push(Figure { what, rate, unit, note: note.into() });
    }
    Ok(out)
}
