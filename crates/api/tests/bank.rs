//! Concurrency under snapshot isolation: transfers between accounts from several threads
//! while readers check the invariant; commit deltas; reclamation of old row versions.

use heliosdb_nano::{Connection, Database};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const ACCOUNTS: i64 = 100;
const INITIAL: i64 = 1_000;

/// A small deterministic generator per thread.
fn next(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

fn total(c: &Connection) -> i64 {
    c.query("SELECT sum(balance) FROM accounts", ()).unwrap().row(0).unwrap().get(0).unwrap()
}

#[test]
fn bank_transfers_keep_the_total() {
    // HELIOSDB_BANK_SECS runs it longer and prints rates (cargo xtask can set it).
    let secs: f64 = std::env::var("HELIOSDB_BANK_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(2.0);
    let db = Database::open_in_memory().unwrap();
    let setup = db.connect();
    setup.execute("CREATE TABLE accounts (id BIGINT PRIMARY KEY, balance BIGINT NOT NULL)", ()).unwrap();
    let values: Vec<String> = (0..ACCOUNTS).map(|i| format!("({i}, {INITIAL})")).collect();
    setup.execute(&format!("INSERT INTO accounts VALUES {}", values.join(", ")), ()).unwrap();
    let expected = ACCOUNTS * INITIAL;

    let stop = Arc::new(AtomicBool::new(false));
    let (commits, aborts, reads) =
        (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let mut handles = Vec::new();
    for w in 0..8u64 {
        let (conn, stop, commits, aborts) = (db.connect(), stop.clone(), commits.clone(), aborts.clone());
        handles.push(std::thread::spawn(move || {
            let mut rng = 0x9E37_79B9_7F4A_7C15 ^ (w + 1);
            while !stop.load(Ordering::Relaxed) {
                let from = (next(&mut rng) % ACCOUNTS as u64) as i64;
                let to = (next(&mut rng) % ACCOUNTS as u64) as i64;
                let amount = (next(&mut rng) % 50) as i64;
                let result = (|| {
                    let tx = conn.transaction()?;
                    tx.execute("UPDATE accounts SET balance = balance - ? WHERE id = ?", (amount, from))?;
                    tx.execute("UPDATE accounts SET balance = balance + ? WHERE id = ?", (amount, to))?;
                    tx.commit()
                })();
                match result {
                    Ok(()) => commits.fetch_add(1, Ordering::Relaxed),
                    Err(e) => {
                        assert_eq!(e.sqlstate(), Some("40001"), "only serialization failures are expected: {e}");
                        assert!(!conn.in_transaction(), "a failed transaction is rolled back");
                        aborts.fetch_add(1, Ordering::Relaxed)
                    }
                };
            }
        }));
    }
    for _ in 0..2 {
        let (conn, stop, reads) = (db.connect(), stop.clone(), reads.clone());
        handles.push(std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                assert_eq!(total(&conn), expected, "a reader saw part of a transfer");
                // Inside one transaction, two reads see the same snapshot.
                let tx = conn.transaction().unwrap();
                let first: Vec<i64> = tx
                    .query("SELECT balance FROM accounts ORDER BY id", ())
                    .unwrap()
                    .iter()
                    .map(|r| r.get(0).unwrap())
                    .collect();
                std::thread::yield_now();
                let second: Vec<i64> = tx
                    .query("SELECT balance FROM accounts ORDER BY id", ())
                    .unwrap()
                    .iter()
                    .map(|r| r.get(0).unwrap())
                    .collect();
                assert_eq!(first, second, "repeatable reads within a transaction");
                assert_eq!(first.iter().sum::<i64>(), expected);
                tx.commit().unwrap();
                reads.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    let start = Instant::now();
    std::thread::sleep(Duration::from_secs_f64(secs));
    stop.store(true, Ordering::Relaxed);
    for h in handles {
        h.join().expect("a worker panicked");
    }
    let elapsed = start.elapsed().as_secs_f64();
    let (c, a, r) = (commits.load(Ordering::Relaxed), aborts.load(Ordering::Relaxed), reads.load(Ordering::Relaxed));
    println!(
        "bank: {c} commits ({:.0}/s), {a} aborts ({:.0}/s), {r} consistent reads in {elapsed:.1} s",
        c as f64 / elapsed,
        a as f64 / elapsed
    );
    assert!(c > 0, "some transfers committed");
    assert!(r > 0, "some reads ran");
    assert_eq!(total(&setup), expected);
    let n: i64 = setup.query("SELECT count(*) FROM accounts", ()).unwrap().row(0).unwrap().get(0).unwrap();
    assert_eq!(n, ACCOUNTS, "every account exists exactly once");
}

#[test]
fn commit_deltas_describe_each_commit() {
    let db = Database::open_in_memory().unwrap();
    let conn = db.connect();
    conn.execute("CREATE TABLE t (k INTEGER PRIMARY KEY, v INTEGER)", ()).unwrap();
    let feed = db.subscribe_commits();
    conn.execute("INSERT INTO t VALUES (1, 1), (2, 2), (3, 3)", ()).unwrap();
    conn.execute("UPDATE t SET v = 20 WHERE k = 2", ()).unwrap();
    conn.execute("DELETE FROM t WHERE k = 3", ()).unwrap();
    conn.execute("SELECT * FROM t", ()).unwrap();
    let tx = conn.transaction().unwrap();
    tx.execute("INSERT INTO t VALUES (4, 4)", ()).unwrap();
    tx.rollback().unwrap();
    // Replaying the deltas over the appended rows reproduces the table.
    let mut live = std::collections::BTreeSet::new();
    let mut deltas = Vec::new();
    while let Ok(d) = feed.try_recv() {
        deltas.push(d);
    }
    assert_eq!(deltas.len(), 3, "one delta per commit; reads and rollbacks send none");
    assert!(deltas.windows(2).all(|w| w[0].commit_ts < w[1].commit_ts));
    for d in &deltas {
        assert_eq!(d.tables.len(), 1);
        assert_eq!(d.tables[0].table, "t");
        for id in &d.tables[0].deleted {
            assert!(live.remove(id), "a deleted row was live");
        }
        live.extend(d.tables[0].appended.clone());
    }
    assert_eq!(deltas[1].tables[0].deleted.len(), 1, "an UPDATE deletes the old version...");
    assert_eq!(deltas[1].tables[0].appended.clone().count(), 1, "...and appends the new one");
    assert_eq!(live.len(), 2);
}
