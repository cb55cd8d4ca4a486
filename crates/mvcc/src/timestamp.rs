//! Timestamps and snapshots, and the visibility rule.

/// A commit timestamp; strictly increasing across commits.
#[repr(transparent)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub u64);

impl Timestamp {
    pub const ZERO: Timestamp = Timestamp(0);

    /// The next timestamp. Overflow would need 2^64 commits and is treated as a bug.
    pub fn next(self) -> Timestamp {
        Timestamp(self.0.checked_add(1).expect("commit timestamp overflow"))
    }
}

/// A consistent view of the database: everything committed at or before `read_ts`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Snapshot {
    pub read_ts: Timestamp,
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
        let snap = Snapshot { read_ts: Timestamp(5) };
        assert!(visible(Timestamp(4), snap));
        assert!(visible(Timestamp(5), snap));
        assert!(!visible(Timestamp(6), snap));
        assert_eq!(Timestamp(5).next(), Timestamp(6));
    }
}
