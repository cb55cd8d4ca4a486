//! Durable databases through the public API: reopen keeps data, schema and keys; CHECKPOINT
//! and compression; SET durability; damaged, truncated, missing and foreign files give clear
//! errors naming the file (or a reported cut of the WAL tail), never a panic or a wrong answer;
//! a second process is refused with the owner's pid.

use heliosdb_nano::{Database, Durability, Error, Options};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// No background thread: tests decide when checkpoints happen.
fn quiet() -> Options {
    Options::default().background_interval(Duration::ZERO)
}

fn open(dir: &Path) -> Database {
    Database::open_with(dir, quiet()).unwrap()
}

/// A query's rows as text, one line per row.
fn rows(db: &Database, sql: &str) -> String {
    let rows = db.connect().query(sql, ()).unwrap();
    rows.iter()
        .map(|r| r.values().iter().map(|v| v.to_string()).collect::<Vec<_>>().join("|"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn try_rows(db: &Database, sql: &str) -> Result<String, Error> {
    let rows = db.connect().query(sql, ())?;
    Ok(rows
        .iter()
        .map(|r| r.values().iter().map(|v| v.to_string()).collect::<Vec<_>>().join("|"))
        .collect::<Vec<_>>()
        .join("\n"))
}

fn files_with(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = walk(dir).into_iter().filter(|p| p.to_string_lossy().ends_with(suffix)).collect();
    out.sort();
    out
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

const SETUP: &str = "
    CREATE TABLE orders (id BIGINT PRIMARY KEY, country TEXT NOT NULL, amount DOUBLE, day DATE, ok BOOLEAN);
    CREATE TABLE notes (k INTEGER, body TEXT) WITH (compression = 'zstd');
    INSERT INTO orders VALUES (1, 'DE', 9.5, '2024-01-02', true), (2, 'US', NULL, NULL, false), (3, 'FR', 7.25, '2023-12-31', NULL);
    INSERT INTO notes VALUES (1, 'first'), (2, NULL);
";

#[test]
fn data_schema_and_keys_survive_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let expected;
    {
        let db = open(dir.path());
        db.connect().execute_batch(SETUP).unwrap();
        db.connect().execute("CREATE TABLE gone (x INTEGER)", ()).unwrap();
        db.connect().execute("INSERT INTO gone VALUES (1)", ()).unwrap();
        db.connect().execute("DROP TABLE gone", ()).unwrap();
        db.connect().execute("CREATE TABLE copy AS SELECT id, amount * 2 AS double FROM orders", ()).unwrap();
        expected = rows(&db, "SELECT * FROM orders ORDER BY id");
        assert!(db.recovery_report().unwrap().created);
    }
    let db = open(dir.path());
    let report = db.recovery_report().unwrap();
    assert_eq!((report.created, report.tables, report.torn_tail.clone()), (false, 3, None));
    assert_eq!(rows(&db, "SELECT * FROM orders ORDER BY id"), expected);
    assert_eq!(rows(&db, "SELECT * FROM notes ORDER BY k"), "1|first\n2|NULL");
    assert_eq!(rows(&db, "SELECT * FROM copy ORDER BY id"), "1|19\n2|NULL\n3|14.5");
    let conn = db.connect();
    assert_eq!(conn.table_names(), vec!["copy", "notes", "orders"]);
    assert_eq!(conn.table_sql("orders"), open_in_memory_sql(SETUP, "orders"));
    let err = conn.execute("INSERT INTO orders VALUES (2, 'XX', 1, NULL, NULL)", ()).unwrap_err();
    assert!(err.to_string().contains("duplicate key"), "{err}");
    let err = conn.execute("INSERT INTO orders VALUES (4, NULL, 1, NULL, NULL)", ()).unwrap_err();
    assert!(err.to_string().contains("not-null"), "{err}");

    // The same after a checkpoint: keys and data come from column files.
    conn.execute("CHECKPOINT", ()).unwrap();
    drop(conn);
    drop(db);
    let db = open(dir.path());
    let report = db.recovery_report().unwrap();
    assert_eq!((report.column_files, report.rows_in_files, report.replayed_records), (3, 8, 0));
    assert_eq!(rows(&db, "SELECT * FROM orders ORDER BY id"), expected);
    assert!(db.connect().execute("INSERT INTO orders VALUES (3, 'XX', 1, NULL, NULL)", ()).is_err());
    db.connect().execute("INSERT INTO orders VALUES (4, 'IT', 1, NULL, NULL)", ()).unwrap();
    assert_eq!(rows(&db, "SELECT count(*), sum(id) FROM orders"), "4|10");
}

fn open_in_memory_sql(setup: &str, table: &str) -> Option<String> {
    let db = Database::open_in_memory().unwrap();
    db.connect().execute_batch(setup).unwrap();
    db.connect().table_sql(table)
}

#[test]
fn checkpointed_rows_and_tail_read_as_one_table() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    let conn = db.connect();
    conn.execute("CREATE TABLE t (id BIGINT, grp INTEGER, name TEXT)", ()).unwrap();
    conn.execute("CREATE TABLE z (id BIGINT, grp INTEGER, name TEXT) WITH (compression = zstd)", ()).unwrap();
    for table in ["t", "z"] {
        conn.execute(
            &format!(
                "INSERT INTO {table} SELECT i, i % 7, 'name-' || (i % 100) FROM \
                 (WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < 199999) SELECT i FROM s) q"
            ),
            (),
        )
        .unwrap();
    }
    let queries = [
        "SELECT count(*), sum(id), count(DISTINCT name) FROM t",
        "SELECT grp, count(*) FROM t WHERE id >= 150000 GROUP BY grp ORDER BY grp",
        "SELECT count(*) FROM t WHERE id = 70000 OR id = 3",
        "SELECT id FROM t WHERE id BETWEEN 65530 AND 65540 ORDER BY id",
        "SELECT count(*) FROM t WHERE name = 'name-42'",
        "SELECT count(*) FROM t WHERE id < 0",
    ];
    let before: Vec<String> = queries.iter().map(|q| rows(&db, q)).collect();
    conn.execute("CHECKPOINT", ()).unwrap();
    conn.execute("INSERT INTO t VALUES (-1, 0, 'tail')", ()).unwrap();
    assert_eq!(rows(&db, "SELECT count(*) FROM t WHERE id < 0"), "1");
    conn.execute("CREATE TABLE t2 AS SELECT * FROM t WHERE id >= 0", ()).unwrap();
    conn.execute("CHECKPOINT", ()).unwrap();
    let from_files: Vec<String> = queries.iter().map(|q| rows(&db, &q.replace(" t", " t2"))).collect();
    assert_eq!(from_files, before);
    drop(conn);
    drop(db);
    let db = open(dir.path());
    let after: Vec<String> = queries.iter().map(|q| rows(&db, &q.replace(" t", " t2"))).collect();
    assert_eq!(after, before);
    assert_eq!(rows(&db, "SELECT count(*) FROM t WHERE id < 0"), "1");
    assert_eq!(
        rows(&db, "SELECT count(*), sum(id) FROM z WHERE grp = 3"),
        rows(&db, "SELECT count(*), sum(id) FROM t WHERE grp = 3")
    );
    // Column files are named after table ids: t is 1, z (zstd) is 2, t2 is 3.
    let size = |prefix: &str| -> u64 {
        files_with(dir.path(), ".col")
            .iter()
            .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with(prefix))
            .map(|p| std::fs::metadata(p).unwrap().len())
            .sum()
    };
    assert!(size("t2-") > 0 && size("t2-") < size("t1-"), "zstd is smaller than lz4");
    assert!(size("t3-") > 0);
}

#[test]
fn set_and_show_durability() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open_with(dir.path(), quiet().durability(Durability::Normal)).unwrap();
    let conn = db.connect();
    assert_eq!(rows(&db, "SHOW durability"), "normal");
    conn.execute("SET durability = off", ()).unwrap();
    assert_eq!(conn.query("SHOW durability", ()).unwrap().row(0).unwrap().get::<String>(0).unwrap(), "off");
    conn.execute("SET durability TO 'FULL'", ()).unwrap();
    assert_eq!(conn.query("SHOW durability", ()).unwrap().row(0).unwrap().get::<String>(0).unwrap(), "full");
    conn.execute("SET durability = DEFAULT", ()).unwrap();
    assert_eq!(conn.query("SHOW durability", ()).unwrap().row(0).unwrap().get::<String>(0).unwrap(), "normal");
    let err = conn.execute("SET durability = sometimes", ()).unwrap_err();
    assert!(err.to_string().contains("full, normal or off"), "{err}");
    assert!(conn.execute("SET search_path = x", ()).is_err());
    conn.execute("SET durability = off", ()).unwrap();
    conn.execute("CREATE TABLE t (x INTEGER)", ()).unwrap();
    conn.execute("INSERT INTO t VALUES (1)", ()).unwrap();
    drop(conn);
    drop(db);
    // Dropping the database writes and fsyncs what `off` left buffered.
    let db = open(dir.path());
    assert_eq!(rows(&db, "SELECT * FROM t"), "1");
    // In memory, SET works too and CHECKPOINT does nothing.
    let mem = Database::open_in_memory().unwrap().connect();
    mem.execute("SET durability = normal", ()).unwrap();
    mem.execute("CHECKPOINT", ()).unwrap();
}

#[test]
fn bad_compression_option_is_an_error() {
    let db = Database::open_in_memory().unwrap();
    let err = db.connect().execute("CREATE TABLE t (x INTEGER) WITH (compression = 'gzip')", ()).unwrap_err();
    assert!(err.to_string().contains("unknown compression"), "{err}");
    let err = db.connect().execute("CREATE TABLE t (x INTEGER) WITH (fillfactor = 70)", ()).unwrap_err();
    assert!(err.to_string().contains("fillfactor"), "{err}");
}

/// A database with one checkpointed table `t` (and the expected `SELECT *` text).
fn checkpointed(dir: &Path) -> String {
    let db = open(dir);
    let conn = db.connect();
    conn.execute("CREATE TABLE t (id BIGINT PRIMARY KEY, name TEXT, x DOUBLE)", ()).unwrap();
    conn.execute("INSERT INTO t VALUES (1, 'one', 1.5), (2, 'two', NULL), (3, NULL, -3)", ()).unwrap();
    conn.execute("CHECKPOINT", ()).unwrap();
    rows(&db, "SELECT * FROM t ORDER BY id")
}

#[test]
fn flipped_byte_in_a_column_file_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let expected = checkpointed(dir.path());
    let file = files_with(dir.path(), ".col").pop().unwrap();
    let name = file.file_name().unwrap().to_string_lossy().into_owned();
    let good = std::fs::read(&file).unwrap();
    let mut n_errors = 0;
    for pos in 0..good.len() {
        let mut bytes = good.clone();
        bytes[pos] ^= 0x10;
        std::fs::write(&file, &bytes).unwrap();
        match Database::open_with(dir.path(), quiet()) {
            Err(e) => {
                assert!(e.to_string().contains(&name), "flip at {pos}: {e}");
                n_errors += 1;
            }
            Ok(db) => match try_rows(&db, "SELECT * FROM t ORDER BY id") {
                Err(e) => {
                    assert!(e.to_string().contains(&name), "flip at {pos}: {e}");
                    n_errors += 1;
                }
                Ok(text) => assert_eq!(text, expected, "flip at {pos} gave a wrong answer"),
            },
        }
    }
    assert_eq!(n_errors, good.len(), "every byte is checked");
    std::fs::write(&file, &good).unwrap();
    assert_eq!(rows(&open(dir.path()), "SELECT * FROM t ORDER BY id"), expected);
}

#[test]
fn truncated_or_missing_column_file_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    checkpointed(dir.path());
    let file = files_with(dir.path(), ".col").pop().unwrap();
    let name = file.file_name().unwrap().to_string_lossy().into_owned();
    let good = std::fs::read(&file).unwrap();
    for len in [0, 1, good.len() / 2, good.len() - 1] {
        std::fs::write(&file, &good[..len]).unwrap();
        let err = Database::open_with(dir.path(), quiet()).unwrap_err().to_string();
        assert!(err.contains(&name) && err.contains("corrupted"), "cut at {len}: {err}");
    }
    std::fs::remove_file(&file).unwrap();
    let err = Database::open_with(dir.path(), quiet()).unwrap_err().to_string();
    assert!(err.contains(&name) && err.contains("missing"), "{err}");
}

#[test]
fn garbage_wal_tail_is_cut_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    {
        let db = open(dir.path());
        db.connect().execute_batch(SETUP).unwrap();
    }
    let segment = files_with(&dir.path().join("wal"), ".log").pop().unwrap();
    let len = std::fs::metadata(&segment).unwrap().len();
    let mut bytes = std::fs::read(&segment).unwrap();
    bytes.extend_from_slice(b"\x40\x00\x00\x00garbage after the last record, as a crash mid-write leaves it");
    std::fs::write(&segment, &bytes).unwrap();
    let db = open(dir.path());
    let report = db.recovery_report().unwrap();
    let warning = report.torn_tail.expect("the cut is reported");
    assert!(warning.contains(&segment.file_name().unwrap().to_string_lossy().into_owned()), "{warning}");
    assert!(warning.contains(&format!("truncated at byte {len}")), "{warning}");
    assert_eq!(rows(&db, "SELECT count(*) FROM orders"), "3");
    assert_eq!(std::fs::metadata(&segment).unwrap().len(), len, "the garbage is gone");
    db.connect().execute("INSERT INTO orders VALUES (4, 'IT', 1, NULL, NULL)", ()).unwrap();
    drop(db);
    let db = open(dir.path());
    assert_eq!(db.recovery_report().unwrap().torn_tail, None);
    assert_eq!(rows(&db, "SELECT count(*) FROM orders"), "4");
}

#[test]
fn cut_inside_the_last_record_loses_only_that_commit() {
    let dir = tempfile::tempdir().unwrap();
    {
        let db = open(dir.path());
        db.connect().execute_batch(SETUP).unwrap();
        db.connect().execute("INSERT INTO orders VALUES (10, 'NL', 1, NULL, NULL)", ()).unwrap();
    }
    let segment = files_with(&dir.path().join("wal"), ".log").pop().unwrap();
    let len = std::fs::metadata(&segment).unwrap().len();
    let bytes = std::fs::read(&segment).unwrap();
    std::fs::write(&segment, &bytes[..len as usize - 3]).unwrap();
    let db = open(dir.path());
    assert!(db.recovery_report().unwrap().torn_tail.is_some());
    assert_eq!(rows(&db, "SELECT count(*) FROM orders WHERE id = 10"), "0");
    assert_eq!(rows(&db, "SELECT count(*) FROM orders"), "3");
}

#[test]
fn missing_manifest_or_wal_segment_and_other_versions_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    {
        // Small segments: several of them.
        let db = open(dir.path());
        db.connect().execute_batch(SETUP).unwrap();
        db.connect().execute("CHECKPOINT", ()).unwrap();
        for i in 10..20 {
            db.connect().execute(&format!("INSERT INTO orders VALUES ({i}, 'NL', 1, NULL, NULL)"), ()).unwrap();
            db.checkpoint().ok();
            db.connect().execute(&format!("INSERT INTO notes VALUES ({i}, 'x')"), ()).unwrap();
        }
    }
    // A WAL segment with another format version.
    let segments = files_with(&dir.path().join("wal"), ".log");
    let last = segments.last().unwrap().clone();
    let good = std::fs::read(&last).unwrap();
    let mut bytes = good.clone();
    bytes[8..12].copy_from_slice(&9u32.to_le_bytes());
    let crc = crc32fast::hash(&bytes[..24]);
    bytes[24..28].copy_from_slice(&crc.to_le_bytes());
    std::fs::write(&last, &bytes).unwrap();
    let err = Database::open_with(dir.path(), quiet()).unwrap_err().to_string();
    assert!(err.contains("format version 9") && err.contains(&*last.to_string_lossy()), "{err}");
    std::fs::write(&last, &good).unwrap();

    // A manifest with another format version.
    let manifest = dir.path().join("MANIFEST");
    let good = std::fs::read(&manifest).unwrap();
    let mut bytes = good.clone();
    bytes[8..12].copy_from_slice(&7u32.to_le_bytes());
    let body = bytes.len() - 4;
    let crc = crc32fast::hash(&bytes[..body]);
    bytes[body..].copy_from_slice(&crc.to_le_bytes());
    std::fs::write(&manifest, &bytes).unwrap();
    let err = Database::open_with(dir.path(), quiet()).unwrap_err().to_string();
    assert!(err.contains("MANIFEST has format version 7"), "{err}");
    std::fs::remove_file(&manifest).unwrap();
    let err = Database::open_with(dir.path(), quiet()).unwrap_err().to_string();
    assert!(err.contains("MANIFEST is missing"), "{err}");
    std::fs::write(&manifest, &good).unwrap();
    open(dir.path());
}

#[test]
fn missing_wal_segment_in_the_middle_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    {
        let db = open(dir.path());
        db.connect().execute("CREATE TABLE t (x INTEGER)", ()).unwrap();
    }
    for i in 0..3 {
        let db = open(dir.path());
        let conn = db.connect();
        conn.execute(&format!("INSERT INTO t VALUES ({i})"), ()).unwrap();
        // A checkpoint rotates the WAL; the insert after it starts a new segment.
        db.checkpoint().unwrap();
        conn.execute(&format!("INSERT INTO t VALUES ({})", i + 10), ()).unwrap();
    }
    let db = open(dir.path());
    assert_eq!(rows(&db, "SELECT count(*) FROM t"), "6");
    drop(db);
    // Fake a lost segment: a copy of the last one that claims to start five records later.
    let segments = files_with(&dir.path().join("wal"), ".log");
    let last = segments.last().unwrap();
    let first_lsn: u64 = last.file_name().unwrap().to_string_lossy()[4..24].parse().unwrap();
    let bytes = std::fs::read(last).unwrap();
    let mut moved = bytes.clone();
    moved[16..24].copy_from_slice(&(first_lsn + 5).to_le_bytes());
    let crc = crc32fast::hash(&moved[..24]);
    moved[24..28].copy_from_slice(&crc.to_le_bytes());
    let gap = last.with_file_name(format!("wal-{:020}.log", first_lsn + 5));
    std::fs::write(&gap, &moved).unwrap();
    let err = Database::open_with(dir.path(), quiet()).unwrap_err().to_string();
    assert!(err.contains(&*gap.to_string_lossy()) && err.contains("corrupted"), "{err}");
}

#[test]
fn a_second_process_is_refused_with_the_owners_pid() {
    if let Some(dir) = std::env::var_os("HELIOSDB_LOCK_CHILD") {
        let _db = open(Path::new(&dir));
        println!("OPEN");
        std::thread::sleep(Duration::from_secs(30));
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "a_second_process_is_refused_with_the_owners_pid", "--nocapture", "--test-threads=1"])
        .env("HELIOSDB_LOCK_CHILD", dir.path())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    while !line.contains("OPEN") {
        line.clear();
        assert!(std::io::BufRead::read_line(&mut out, &mut line).unwrap() > 0, "child ended");
    }
    let err = Database::open_with(dir.path(), quiet()).unwrap_err().to_string();
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(err.contains(&format!("is locked by pid {}", child.id())), "{err}");
    // The lock dies with its process.
    open(dir.path());
}

#[test]
fn nulls_missing_columns_and_every_type_survive_wal_and_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let script = "
        CREATE TABLE t (a INTEGER, b TEXT, c DOUBLE, d DATE, e TIMESTAMP, f BOOLEAN, g SMALLINT, h REAL, i BIGINT);
        INSERT INTO t (a) VALUES (1);
        INSERT INTO t VALUES (NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
        INSERT INTO t SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL;
        INSERT INTO t VALUES (2, 'x', 0.5, '2024-02-29', '2024-02-29 12:34:56.789', false, -3, 1.25, 9007199254740993);
        CREATE TABLE n AS SELECT NULL AS x, 1 AS y;
    ";
    let expected;
    {
        let db = open(dir.path());
        db.connect().execute_batch(script).unwrap();
        expected = (rows(&db, "SELECT * FROM t ORDER BY a NULLS FIRST, b"), rows(&db, "SELECT * FROM n"));
    }
    let db = open(dir.path());
    assert_eq!((rows(&db, "SELECT * FROM t ORDER BY a NULLS FIRST, b"), rows(&db, "SELECT * FROM n")), expected);
    db.checkpoint().unwrap();
    drop(db);
    let db = open(dir.path());
    assert_eq!(db.recovery_report().unwrap().replayed_records, 0);
    assert_eq!((rows(&db, "SELECT * FROM t ORDER BY a NULLS FIRST, b"), rows(&db, "SELECT * FROM n")), expected);
    assert_eq!(rows(&db, "SELECT count(*) FROM t WHERE a IS NULL"), "2");
    assert_eq!(rows(&db, "SELECT count(*) FROM t WHERE b IS NOT NULL"), "1");
}

#[test]
fn updates_deletes_and_transactions_survive_reopen_and_checkpoints() {
    let dir = tempfile::tempdir().unwrap();
    let query = "SELECT id, country, amount FROM orders ORDER BY id";
    let expected;
    {
        let db = open(dir.path());
        let conn = db.connect();
        conn.execute_batch(SETUP).unwrap();
        conn.execute("UPDATE orders SET amount = amount * 2 WHERE country = 'DE'", ()).unwrap();
        conn.execute("DELETE FROM orders WHERE id = 2", ()).unwrap();
        conn.execute("CHECKPOINT", ()).unwrap();
        // After the checkpoint: changes to checkpointed rows live in the WAL.
        conn.execute("UPDATE orders SET id = 20 WHERE id = 3", ()).unwrap();
        conn.execute("INSERT INTO orders VALUES (2, 'NL', 4, NULL, NULL)", ()).unwrap();
        let tx = conn.transaction().unwrap();
        tx.execute("INSERT INTO orders VALUES (5, 'PL', 1, NULL, NULL)", ()).unwrap();
        tx.execute("DELETE FROM orders WHERE id = 1", ()).unwrap();
        tx.commit().unwrap();
        let tx = conn.transaction().unwrap();
        tx.execute("DELETE FROM orders", ()).unwrap();
        tx.rollback().unwrap();
        conn.execute(
            "INSERT INTO orders VALUES (5, 'XX', 0, NULL, NULL) ON CONFLICT (id) DO UPDATE SET amount = 6",
            (),
        )
        .unwrap();
        expected = rows(&db, query);
        assert_eq!(expected, "2|NL|4\n5|PL|6\n20|FR|7.25");
    }
    let db = open(dir.path());
    assert_eq!(rows(&db, query), expected);
    let err = db.connect().execute("INSERT INTO orders VALUES (20, 'XX', 1, NULL, NULL)", ()).unwrap_err();
    assert!(err.to_string().contains("duplicate key"), "{err}");
    db.connect().execute("INSERT INTO orders VALUES (3, 'FR', 1, NULL, NULL)", ()).unwrap();
    db.checkpoint().unwrap();
    db.connect().execute("DELETE FROM orders WHERE id = 3", ()).unwrap();
    drop(db);
    let db = open(dir.path());
    assert_eq!(rows(&db, query), expected);
    db.checkpoint().unwrap();
    drop(db);
    let db = open(dir.path());
    assert_eq!(db.recovery_report().unwrap().replayed_records, 0);
    assert_eq!(rows(&db, query), expected);
    assert_eq!(rows(&db, "SELECT count(*) FROM orders WHERE id = 1 OR id = 3"), "0");
}

#[test]
fn transfers_and_readers_across_background_checkpoints() {
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    use std::sync::Arc;
    const ACCOUNTS: u64 = 40;
    let dir = tempfile::tempdir().unwrap();
    // Checkpoints every few dozen rows, while transfers and readers run.
    let options = Options::default().checkpoint_rows(30).background_interval(Duration::from_millis(2));
    let db = Database::open_with(dir.path(), options.clone()).unwrap();
    let setup = db.connect();
    setup.execute("CREATE TABLE accounts (id BIGINT PRIMARY KEY, balance BIGINT NOT NULL)", ()).unwrap();
    let values: Vec<String> = (0..ACCOUNTS).map(|i| format!("({i}, 100)")).collect();
    setup.execute(&format!("INSERT INTO accounts VALUES {}", values.join(", ")), ()).unwrap();
    let total = |conn: &heliosdb_nano::Connection| -> (i64, i64) {
        let rows = conn.query("SELECT count(*), sum(balance) FROM accounts", ()).unwrap();
        let row = rows.row(0).unwrap();
        (row.get(0).unwrap(), row.get(1).unwrap())
    };
    let stop = Arc::new(AtomicBool::new(false));
    let commits = Arc::new(AtomicU64::new(0));
    let mut handles = Vec::new();
    for w in 0..3u64 {
        let (conn, stop, commits) = (db.connect(), stop.clone(), commits.clone());
        handles.push(std::thread::spawn(move || {
            let mut i = w;
            while !stop.load(Ordering::Relaxed) {
                i += 3;
                let (from, to, amount) = (i * 7 % ACCOUNTS, (i * 11 + 1) % ACCOUNTS, (i % 9) as i64);
                let result = (|| {
                    let tx = conn.transaction()?;
                    tx.execute("UPDATE accounts SET balance = balance - ? WHERE id = ?", (amount, from as i64))?;
                    tx.execute("UPDATE accounts SET balance = balance + ? WHERE id = ?", (amount, to as i64))?;
                    tx.commit()
                })();
                match result {
                    Ok(()) => {
                        commits.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(e) => assert_eq!(e.sqlstate(), Some("40001"), "{e}"),
                }
            }
        }));
    }
    let reader = db.connect();
    let deadline = std::time::Instant::now() + Duration::from_millis(1500);
    let mut reads = 0;
    while std::time::Instant::now() < deadline {
        assert_eq!(total(&reader), (ACCOUNTS as i64, ACCOUNTS as i64 * 100), "after {reads} reads");
        reads += 1;
    }
    stop.store(true, Ordering::Relaxed);
    for h in handles {
        h.join().unwrap();
    }
    assert!(commits.load(Ordering::Relaxed) > 10, "too few transfers");
    let files = files_with(dir.path(), ".col").len();
    drop((setup, reader, db));
    assert!(files >= 1, "no background checkpoint happened");
    let db = Database::open_with(dir.path(), options).unwrap();
    assert_eq!(total(&db.connect()), (ACCOUNTS as i64, ACCOUNTS as i64 * 100));
}
