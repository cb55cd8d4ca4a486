//! Old row versions are reclaimed once no snapshot can see them. Its own test binary, so
//! the resident-memory figures printed are this test's alone.

use heliosdb_nano::Database;

fn rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[test]
fn versions_are_reclaimed_after_the_oldest_snapshot_ends() {
    const ROWS: i64 = 1_000;
    const ROUNDS: usize = 1_000; // 1M row updates in all
    let db = Database::open_in_memory().unwrap();
    let conn = db.connect();
    conn.execute("CREATE TABLE hot (id BIGINT PRIMARY KEY, n BIGINT, pad TEXT)", ()).unwrap();
    let values: Vec<String> = (0..ROWS).map(|i| format!("({i}, 0, 'padding padding padding')")).collect();
    conn.execute(&format!("INSERT INTO hot VALUES {}", values.join(", ")), ()).unwrap();
    let baseline = db.version_stats();
    let rss_baseline = rss_kib();

    let reader = db.connect();
    let mut old = Some(reader.transaction().unwrap());
    let before: i64 =
        old.as_ref().unwrap().query("SELECT sum(n) FROM hot", ()).unwrap().row(0).unwrap().get(0).unwrap();
    let mut peak = baseline;
    for round in 0..ROUNDS {
        assert_eq!(conn.execute("UPDATE hot SET n = n + 1", ()).unwrap(), ROWS as u64);
        if round == ROUNDS / 2 {
            peak = db.version_stats();
            // The long-lived snapshot still reads the first versions.
            let tx = old.take().unwrap();
            let still: i64 = tx.query("SELECT sum(n) FROM hot", ()).unwrap().row(0).unwrap().get(0).unwrap();
            assert_eq!(still, before);
            tx.commit().unwrap();
        }
    }
    let after = db.version_stats();
    let rss_after = rss_kib();
    println!("versions: baseline {baseline:?}, held by the old snapshot {peak:?}, after {after:?}");
    println!("resident memory KiB: baseline {rss_baseline:?}, after {rss_after:?}");
    assert!(peak.rows >= (ROUNDS as usize / 2) * ROWS as usize, "old versions kept while a snapshot needs them");
    // Reclamation runs in batches (every few thousand deleted rows): allow a few rounds.
    assert!(after.rows <= 10 * ROWS as usize, "old versions reclaimed: {after:?}");
    let sum: i64 = conn.query("SELECT sum(n) FROM hot", ()).unwrap().row(0).unwrap().get(0).unwrap();
    assert_eq!(sum, ROWS * ROUNDS as i64);
}
