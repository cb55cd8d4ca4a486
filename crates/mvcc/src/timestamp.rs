//! Timestamps, snapshots, transaction ids, and the visibility rules.

/// A commit timestamp; strictly increasing across commits.
#[repr(transparent)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub u64);

impl Timestamp {
    pub const ZERO: Timestamp = Timestamp(0);

    /// The next timestamp. Overflow would need 2^63 commits and is treated as a bug.
    pub fn next(self) -> Timestamp {
        assert!(self.0 < TXN_BIT - 1, "commit timestamp overflow");
        Timestamp(self.0 + 1)
    }
}

/// Identifies a running transaction. Its uncommitted deletes are stamped with
/// [`TxnId::marker`], which no commit timestamp can equal.
#[repr(transparent)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TxnId(pub u64);

/// The high bit of a row's delete stamp marks an uncommitted delete (the low bits name the
/// transaction); without it the stamp is the commit timestamp of the delete.
pub(crate) const TXN_BIT: u64 = 1 << 63;
/// The delete stamp of a row nobody has deleted.
pub(crate) const LIVE: u64 = u64::MAX;

impl TxnId {
    /// The delete stamp this transaction puts on rows it deletes before it commits.
    pub(crate) fn marker(self) -> u64 {
        TXN_BIT | self.0
    }
}

/// A consistent view of the database: everything committed at or before `read_ts`, plus the
/// uncommitted writes of transaction `txn` (the reader's own transaction), if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Snapshot {
    pub read_ts: Timestamp,
    pub txn: Option<TxnId>,
}

impl Snapshot {
    /// A snapshot outside any transaction (tests and estimates).
    pub fn at(read_ts: Timestamp) -> Snapshot {
        Snapshot { read_ts, txn: None }
    }

    /// Whether a row with this delete stamp is deleted for this snapshot: deleted by a commit
    /// the snapshot sees, or by the snapshot's own transaction.
    pub(crate) fn sees_deleted(&self, stamp: u64) -> bool {
        if stamp & TXN_BIT == 0 {
            stamp <= self.read_ts.0
        } else {
            self.txn.is_some_and(|t| t.marker() == stamp)
        }
    }
}

/// The visibility rule: data committed at `commit_ts` is visible to `snapshot` exactly when it
/// was committed at or before the snapshot's read timestamp.
pub fn visible(commit_ts: Timestamp, snapshot: Snapshot) -> bool {
    commit_ts <= snapshot.read_ts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn visibility_rule() {
        let snap = Snapshot::at(Timestamp(5));
        assert!(visible(Timestamp(4), snap));
        assert!(visible(Timestamp(5), snap));
        assert!(!visible(Timestamp(6), snap));
        assert_eq!(Timestamp(5).next(), Timestamp(6));
    }

    #[test]
    fn delete_stamps() {
        let mine = Snapshot { read_ts: Timestamp(5), txn: Some(TxnId(7)) };
        assert!(!mine.sees_deleted(LIVE));
        assert!(mine.sees_deleted(5));
        assert!(!mine.sees_deleted(6), "deleted after the snapshot: still visible");
        assert!(mine.sees_deleted(TxnId(7).marker()), "own uncommitted delete");
        assert!(!mine.sees_deleted(TxnId(8).marker()), "another's uncommitted delete");
        assert!(!Snapshot::at(Timestamp(9)).sees_deleted(TxnId(7).marker()));
    }
}
