//! Crash test: a child process commits transactions in a loop and reports each acknowledged
//! commit on stdout; the parent kills it with SIGKILL at random moments, reopens the database,
//! and checks that every acknowledged commit is there, whole, and that no transaction is
//! visible in part.
//!
//! Each transaction `id` inserts `rows_for(id)` rows tagged with its id, so "count per id is 0
//! or rows_for(id), and rows_for(id) for every acknowledged id" is the main check. The child
//! commits from four sessions at once (group commit), one of them with `durability = normal`
//! (which also survives a process crash), checkpoints often (by rows in the background and with
//! CHECKPOINT), and mixes single-row INSERTs with bulk appends. The fourth session runs
//! explicit transactions: a transfer between two accounts (two UPDATEs and an INSERT; the total
//! balance never changes) and, now and then, a DELETE of an earlier acknowledged transaction's
//! rows (which must then stay gone).
//!
//! `HELIOSDB_CRASH_KILLS=N` changes the number of kills (default 50); `HELIOSDB_CRASH_SEED`
//! fixes the random moments.

use heliosdb_nano::arrow::array::{Array, Int32Array, Int64Array, Utf8Array};
use heliosdb_nano::arrow::chunk::Chunk;
use heliosdb_nano::{Database, Options};
use std::collections::HashMap;
use std::io::{BufRead, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const TEST_NAME: &str = "acknowledged_commits_survive_sigkill";
const N_ACCOUNTS: u64 = 16;
const BALANCE: i64 = 1000;

fn accounts() -> String {
    (1..=N_ACCOUNTS).map(|i| format!("({i})")).collect::<Vec<_>>().join(", ")
}

/// What a child acknowledged.
#[derive(Debug, Default)]
struct Acks {
    inserts: Vec<u64>,
    /// Deletes started (maybe committed) and acknowledged.
    tries: Vec<u64>,
    deletes: Vec<u64>,
    transfers: Vec<u64>,
}

fn rows_for(id: u64) -> u64 {
    if id.is_multiple_of(17) {
        300
    } else {
        1 + id % 4
    }
}

/// The child: commits forever (until killed), printing `ACK <id>` after each commit returns.
fn child(dir: &Path, base: u64) {
    let options = Options::default().checkpoint_rows(400).background_interval(Duration::from_millis(10));
    let db = Database::open_with(dir, options).expect("child open");
    let setup = db.connect();
    setup
        .execute_batch(
            "CREATE TABLE IF NOT EXISTS t (txn BIGINT NOT NULL, k INTEGER NOT NULL, payload TEXT);
             CREATE TABLE IF NOT EXISTS acct (id INTEGER PRIMARY KEY, balance BIGINT NOT NULL);
             CREATE TABLE IF NOT EXISTS transfers (id BIGINT PRIMARY KEY);",
        )
        .expect("create");
    let n_accounts: i64 = setup.query("SELECT count(*) FROM acct", ()).expect("count").row(0).unwrap().get(0).unwrap();
    if n_accounts == 0 {
        setup
            .execute(&format!("INSERT INTO acct SELECT i, {BALANCE} FROM (VALUES {}) v(i)", accounts()), ())
            .expect("accounts");
    }
    let next = AtomicU64::new(0);
    let acked: std::sync::Mutex<Vec<u64>> = std::sync::Mutex::new(Vec::new());
    let ack = |line: String| {
        let mut out = std::io::stdout().lock();
        out.write_all(line.as_bytes()).and_then(|()| out.flush()).expect("stdout");
    };
    std::thread::scope(|scope| {
        let (db, next, acked, ack) = (&db, &next, &acked, &ack);
        scope.spawn(move || {
            let conn = db.connect();
            let mut i = 0u64;
            loop {
                i += 1;
                let victim = {
                    let acked = acked.lock().unwrap();
                    (i.is_multiple_of(5) && !acked.is_empty()).then(|| acked[(i as usize * 7919) % acked.len()])
                };
                let tx = conn.transaction().expect("begin");
                if let Some(victim) = victim {
                    // Announced first: a kill after the commit but before the DEL line must
                    // not count as a lost insert.
                    ack(format!("TRY {victim}\n"));
                    tx.execute(&format!("DELETE FROM t WHERE txn = {victim}"), ()).expect("delete");
                    tx.commit().expect("commit delete");
                    ack(format!("DEL {victim}\n"));
                    continue;
                }
                let id = base + (1 << 31) + i;
                let (from, to) = (1 + (i * 7) % N_ACCOUNTS, 1 + (i * 13 + 5) % N_ACCOUNTS);
                tx.execute(&format!("UPDATE acct SET balance = balance - {} WHERE id = {from}", i % 50), ())
                    .expect("debit");
                tx.execute(&format!("UPDATE acct SET balance = balance + {} WHERE id = {to}", i % 50), ())
                    .expect("credit");
                tx.execute(&format!("INSERT INTO transfers VALUES ({id})"), ()).expect("transfer");
                tx.commit().expect("commit transfer");
                ack(format!("XFER {id}\n"));
            }
        });
        for session in 0..3 {
            scope.spawn(move || {
                let conn = db.connect();
                if session == 2 {
                    conn.execute("SET durability = normal", ()).expect("set");
                }
                loop {
                    let id = base + next.fetch_add(1, Ordering::Relaxed);
                    let n = rows_for(id);
                    if n > 10 {
                        let txn = Int64Array::from_vec(vec![id as i64; n as usize]).boxed();
                        let k = Int32Array::from_vec((0..n as i32).collect()).boxed();
                        let payload =
                            Utf8Array::<i32>::from_iter((0..n).map(|j| Some(format!("bulk {id} {j}")))).boxed();
                        let chunk: Chunk<Box<dyn Array>> = Chunk::new(vec![txn, k, payload]);
                        conn.append("t", chunk).expect("append");
                    } else {
                        let values: Vec<String> = (0..n).map(|j| format!("({id}, {j}, 'row {j} of {id}')")).collect();
                        conn.execute(&format!("INSERT INTO t VALUES {}", values.join(", ")), ()).expect("insert");
                    }
                    ack(format!("ACK {id}\n"));
                    acked.lock().unwrap().push(id);
                    if id.is_multiple_of(41) {
                        conn.execute("CHECKPOINT", ()).expect("checkpoint");
                    }
                }
            });
        }
    });
}

/// A small xorshift generator: no dependency for a few random delays.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

/// Runs one child, kills it after a random moment, and returns the ids it acknowledged.
fn run_and_kill(dir: &Path, base: u64, rng: &mut Rng) -> Acks {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", TEST_NAME, "--nocapture", "--test-threads=1"])
        .env("HELIOSDB_CRASH_CHILD", dir)
        .env("HELIOSDB_CRASH_BASE", base.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn child");
    let stdout = child.stdout.take().unwrap();
    let (first_ack, first_ack_rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut acks = Acks::default();
        let mut lines = std::io::BufReader::new(stdout);
        let mut line = String::new();
        loop {
            line.clear();
            match lines.read_line(&mut line) {
                Ok(0) | Err(_) => break,
                // Only whole lines: a line cut by the kill was never acknowledged.
                Ok(_) if line.ends_with('\n') => {
                    let Some((kind, id)) = line.trim_end().split_once(' ') else { continue };
                    let Ok(id) = id.parse::<u64>() else { continue };
                    match kind {
                        "ACK" => acks.inserts.push(id),
                        "TRY" => acks.tries.push(id),
                        "DEL" => acks.deletes.push(id),
                        "XFER" => acks.transfers.push(id),
                        _ => continue,
                    }
                    let _ = first_ack.send(());
                }
                Ok(_) => {}
            }
        }
        acks
    });
    if rng.below(5) == 0 {
        // Sometimes during startup and recovery.
        std::thread::sleep(Duration::from_millis(rng.below(40)));
    } else {
        let _ = first_ack_rx.recv_timeout(Duration::from_secs(30));
        std::thread::sleep(Duration::from_millis(rng.below(120)));
    }
    child.kill().expect("SIGKILL");
    child.wait().expect("wait");
    reader.join().expect("reader")
}

/// Reopens the database and checks every transaction is all there or not at all, and every
/// acknowledged one is there.
fn check(dir: &Path, all: &Acks, round: usize) -> (usize, bool) {
    let acked = &all.inserts;
    let db = Database::open_with(dir, Options::default().background_interval(Duration::ZERO))
        .unwrap_or_else(|e| panic!("round {round}: reopen failed: {e}"));
    let torn = db.recovery_report().unwrap().torn_tail.is_some();
    let conn = db.connect();
    let tables = conn.table_names();
    if tables.is_empty() {
        assert!(acked.is_empty(), "round {round}: table lost with {} acknowledged commits", acked.len());
        return (0, torn);
    }
    let rows = conn.query("SELECT txn, count(*), count(DISTINCT k) FROM t GROUP BY txn", ()).unwrap();
    let mut counts: HashMap<u64, (i64, i64)> = HashMap::new();
    for row in rows.iter() {
        counts.insert(row.get::<i64>(0).unwrap() as u64, (row.get(1).unwrap(), row.get(2).unwrap()));
    }
    for (&id, &(n, distinct)) in &counts {
        let expected = rows_for(id) as i64;
        assert_eq!((n, distinct), (expected, expected), "round {round}: transaction {id} is partly visible");
    }
    let deleted: std::collections::HashSet<u64> = all.tries.iter().copied().collect();
    let lost: Vec<u64> = acked.iter().copied().filter(|id| !counts.contains_key(id) && !deleted.contains(id)).collect();
    assert!(
        lost.is_empty(),
        "round {round}: {} acknowledged commits lost, e.g. {:?}",
        lost.len(),
        &lost[..lost.len().min(5)]
    );
    let back: Vec<u64> = all.deletes.iter().copied().filter(|id| counts.contains_key(id)).collect();
    assert!(back.is_empty(), "round {round}: acknowledged deletes undone: {back:?}");
    // Each CREATE TABLE of the child commits alone: a kill between them leaves the later
    // tables missing, before any transfer was acknowledged.
    if !["acct", "transfers"].iter().all(|name| tables.iter().any(|t| t == name)) {
        assert!(all.transfers.is_empty(), "round {round}: transfers acknowledged without their tables");
        return (counts.len(), torn);
    }
    let accounts = conn.query("SELECT count(*), sum(balance) FROM acct", ()).unwrap();
    let row = accounts.row(0).unwrap();
    let (n, total): (i64, Option<i64>) = (row.get(0).unwrap(), row.get(1).unwrap());
    assert!(
        n == 0 || (n, total) == (N_ACCOUNTS as i64, Some(N_ACCOUNTS as i64 * BALANCE)),
        "round {round}: accounts {n}, total {total:?}"
    );
    let transfers = conn.query("SELECT id FROM transfers", ()).unwrap();
    let present: std::collections::HashSet<u64> = transfers.iter().map(|r| r.get::<i64>(0).unwrap() as u64).collect();
    let lost: Vec<u64> = all.transfers.iter().copied().filter(|id| !present.contains(id)).collect();
    assert!(lost.is_empty(), "round {round}: acknowledged transfers lost: {lost:?}");
    (counts.len(), torn)
}

#[test]
fn acknowledged_commits_survive_sigkill() {
    if let Some(dir) = std::env::var_os("HELIOSDB_CRASH_CHILD") {
        let base = std::env::var("HELIOSDB_CRASH_BASE").unwrap().parse().unwrap();
        child(Path::new(&dir), base);
        return;
    }
    let kills: usize = std::env::var("HELIOSDB_CRASH_KILLS").ok().and_then(|v| v.parse().ok()).unwrap_or(50);
    let seed = std::env::var("HELIOSDB_CRASH_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64 | 1
    });
    let mut rng = Rng(seed);
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let mut acked = Acks::default();
    let mut committed = 0;
    let mut torn_tails = 0;
    for round in 0..kills {
        let base = (round as u64 + 1) << 32;
        let round_acks = run_and_kill(dir.path(), base, &mut rng);
        acked.inserts.extend(round_acks.inserts);
        acked.tries.extend(round_acks.tries);
        acked.deletes.extend(round_acks.deletes);
        acked.transfers.extend(round_acks.transfers);
        let (present, torn) = check(dir.path(), &acked, round);
        committed = present;
        torn_tails += usize::from(torn);
    }
    eprintln!(
        "crash test: {kills} kills (seed {seed}), {} acknowledged inserts, {} deletes, {} transfers; \
         {committed} transactions present, {torn_tails} torn WAL tails cut, {:.1} s",
        acked.inserts.len(),
        acked.deletes.len(),
        acked.transfers.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(acked.inserts.len() >= kills, "the child committed too little to test anything");
    assert!(!acked.transfers.is_empty() && !acked.deletes.is_empty(), "no transfers or deletes were tested");
}
