//! The write-ahead log: append-only, checksummed commit records in numbered segment files.
//!
//! ```text
//! committer ──append(ops)──► LSN      (encode outside the lock; frame into a shared buffer)
//! committer ──sync_to(LSN)──► durable (one leader writes + fsyncs the buffer; committers whose
//!                                      records were in it find their LSN durable and return)
//! ```
//!
//! [`Wal::append`] assigns the next log sequence number ([`Lsn`]) and buffers the framed
//! record; [`Wal::sync_to`] makes every record up to an LSN durable according to the
//! [`SyncMode`]. Because the buffer is shared, one fsync covers every committer that appended
//! before it (group commit) without any extra machinery.
//!
//! Recovery ([`Wal::open`]) replays records in LSN order. A short, checksum-failing or
//! out-of-sequence record in the **last** segment is a torn tail: the segment is truncated
//! after the last good record and the cut is reported. The same damage in an older segment is
//! real corruption and an error, because valid commits may follow it.

mod record;
mod segment;
#[cfg(test)]
mod tests;

pub(crate) use record::read_column;
pub use record::WalOp;
pub use segment::{SEGMENT_MAGIC, WAL_FORMAT_VERSION, WAL_OLDEST_READABLE_VERSION};

use crate::compression::Compression;
use crate::error::{Result, StorageError};
use crate::fsutil::sync_dir;
use segment::{BadHeader, HEADER_LEN};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};

/// A log sequence number: records are numbered 1, 2, 3, ... without gaps; `Lsn(0)` means
/// "no record".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[repr(transparent)]
pub struct Lsn(pub u64);

impl Lsn {
    pub const ZERO: Lsn = Lsn(0);

    /// The following LSN.
    pub fn next(self) -> Lsn {
        Lsn(self.0.checked_add(1).expect("LSN overflow: 2^64 records"))
    }
}

/// What [`Wal::sync_to`] promises. The log's [`WalOptions::sync_mode`] is the default; each
/// committer may ask for another with [`Wal::sync_to_mode`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub enum SyncMode {
    /// Records are written and fdatasync'ed: a commit survives power loss.
    #[default]
    Full,
    /// Records are handed to the operating system: a commit survives the process crashing,
    /// not the machine. Segments are fsynced when they are closed.
    Normal,
    /// Nothing is promised: records are written when the buffer fills, on [`Wal::sync_all`],
    /// [`Wal::flush`], on rotation and when the log is dropped.
    Off,
}

impl SyncMode {
    /// `full`, `normal` or `off`.
    pub fn name(self) -> &'static str {
        match self {
            SyncMode::Full => "full",
            SyncMode::Normal => "normal",
            SyncMode::Off => "off",
        }
    }

    /// Parses `full`, `normal` or `off` (any case).
    pub fn from_name(name: &str) -> Option<SyncMode> {
        match name.to_ascii_lowercase().as_str() {
            "full" => Some(SyncMode::Full),
            "normal" => Some(SyncMode::Normal),
            "off" => Some(SyncMode::Off),
            _ => None,
        }
    }
}

/// A commit's operations serialized by [`Wal::encode`] (outside any lock), waiting for
/// [`Wal::append_encoded`] to give it a commit timestamp and an LSN.
#[derive(Debug, Clone)]
pub struct EncodedRecord {
    payload: Vec<u8>,
}

impl EncodedRecord {
    /// The payload's size in bytes.
    pub fn len(&self) -> usize {
        self.payload.len()
    }

    pub fn is_empty(&self) -> bool {
        self.payload.is_empty()
    }
}

/// Settings of a log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WalOptions {
    pub sync_mode: SyncMode,
    /// A segment is closed and a new one started once it grows past this many bytes.
    pub segment_bytes: u64,
    /// Compression of the column chunks inside records.
    pub compression: Compression,
}

impl Default for WalOptions {
    fn default() -> WalOptions {
        WalOptions { sync_mode: SyncMode::Full, segment_bytes: 64 << 20, compression: Compression::None }
    }
}

/// Buffered records are written out once they pass this size, whatever the sync mode.
const BUFFER_LIMIT: usize = 4 << 20;

/// One replayed commit.
#[derive(Debug, Clone)]
pub struct WalRecord {
    pub lsn: Lsn,
    pub commit_ts: u64,
    pub ops: Vec<WalOp>,
}

/// Where recovery cut a torn or damaged tail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TornTail {
    pub segment: PathBuf,
    /// The segment now ends here: the end of its last good record (or it was removed, when
    /// even its header was incomplete; then 0).
    pub truncated_at: u64,
    pub dropped_bytes: u64,
    /// The last record that survived (`Lsn::ZERO` if none).
    pub last_good_lsn: Lsn,
    pub reason: String,
}

/// What recovery found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecoveryReport {
    /// The last valid record in the log (`Lsn::ZERO` if none).
    pub last_lsn: Lsn,
    /// Records passed to the replay callback.
    pub n_replayed: usize,
    pub torn_tail: Option<TornTail>,
}

/// Counters for tests and monitoring.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WalStats {
    pub n_appends: u64,
    pub n_writes: u64,
    pub n_fsyncs: u64,
}

struct Pending {
    bytes: Vec<u8>,
    next_lsn: Lsn,
}

struct Writer {
    file: File,
    path: PathBuf,
    len: u64,
    /// Live segments, oldest first; the last one is `file`.
    segments: Vec<(Lsn, PathBuf)>,
    /// Whether records were written to `file` since its last fsync.
    dirty: bool,
}

/// An open log. Share it between committers (`&Wal` is `Sync`).
pub struct Wal {
    dir: PathBuf,
    options: WalOptions,
    pending: Mutex<Pending>,
    writer: Mutex<Writer>,
    /// Group commit: whether a leader is writing for everyone, and the signal that it is done.
    group: Mutex<bool>,
    group_done: Condvar,
    /// The highest LSN handed to the operating system.
    written: AtomicU64,
    /// The highest LSN fsynced.
    synced: AtomicU64,
    /// Set after a failed write or fsync: what reached the disk is unknown, so every later
    /// call fails until the database is reopened and recovers.
    poisoned: AtomicBool,
    n_appends: AtomicU64,
    n_writes: AtomicU64,
    n_fsyncs: AtomicU64,
}

impl std::fmt::Debug for Wal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Wal").field("dir", &self.dir).field("options", &self.options).finish_non_exhaustive()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> Result<MutexGuard<'_, T>> {
    mutex.lock().map_err(|_| StorageError::Invalid("a WAL lock was poisoned by a panic".into()))
}

impl Wal {
    /// Opens (or creates) the log in `dir`, repairs a torn tail, and calls `apply` with every
    /// record whose LSN is at least `replay_from`, in order. New records continue after the
    /// last valid one (and never below `replay_from`).
    pub fn open(
        dir: &Path,
        options: WalOptions,
        replay_from: Lsn,
        mut apply: impl FnMut(WalRecord) -> Result<()>,
    ) -> Result<(Wal, RecoveryReport)> {
        std::fs::create_dir_all(dir).map_err(|e| StorageError::io(dir, e))?;
        let segments = segment::list_segments(dir)?;
        let mut live: Vec<(Lsn, PathBuf, u64, u32)> = Vec::new();
        let mut expected: Option<Lsn> = None;
        let mut report = RecoveryReport { last_lsn: Lsn::ZERO, n_replayed: 0, torn_tail: None };
        for (seg_idx, (name_lsn, path)) in segments.iter().enumerate() {
            let is_last = seg_idx + 1 == segments.len();
            let bytes = std::fs::read(path).map_err(|e| StorageError::io(path, e))?;
            let (first, version) = match segment::check_header(&bytes) {
                Ok(header) => header,
                Err(BadHeader::Version(found)) => {
                    return Err(StorageError::UnsupportedVersion {
                        path: path.clone(),
                        found,
                        supported: WAL_FORMAT_VERSION,
                    })
                }
                Err(BadHeader::Damaged(reason)) if is_last => {
                    // A crash while creating the segment: it never held a record.
                    std::fs::remove_file(path).map_err(|e| StorageError::io(path, e))?;
                    sync_dir(dir)?;
                    report.torn_tail = Some(TornTail {
                        segment: path.clone(),
                        truncated_at: 0,
                        dropped_bytes: bytes.len() as u64,
                        last_good_lsn: report.last_lsn,
                        reason: format!("segment header: {reason}"),
                    });
                    break;
                }
                Err(BadHeader::Damaged(reason)) => return Err(StorageError::corrupted(path, 0, reason)),
            };
            if first != *name_lsn {
                return Err(StorageError::corrupted(
                    path,
                    16,
                    format!("header starts at LSN {}, name says {}", first.0, name_lsn.0),
                ));
            }
            if let Some(expected) = expected {
                // A gap is fine only if every missing record is below the replay point.
                if first < expected || (first > expected && first > replay_from) {
                    return Err(StorageError::corrupted(
                        path,
                        16,
                        format!("segment starts at LSN {} but the previous one ends before {}", first.0, expected.0),
                    ));
                }
            }
            let (records, stop) = segment::scan(&bytes, first);
            for rec in &records {
                if rec.lsn >= replay_from {
                    let (commit_ts, ops) = record::decode_payload(rec.payload, version)
                        .map_err(|e| e.in_file(path, (rec.offset + 12) as u64))?;
                    apply(WalRecord { lsn: rec.lsn, commit_ts, ops })?;
                    report.n_replayed += 1;
                }
                report.last_lsn = rec.lsn;
            }
            let next = Lsn(first.0 + records.len() as u64);
            expected = Some(next);
            let mut good_len = bytes.len() as u64;
            if let Some(stop) = stop {
                if !is_last {
                    return Err(StorageError::corrupted(path, stop.offset as u64, stop.reason));
                }
                let file = OpenOptions::new().write(true).open(path).map_err(|e| StorageError::io(path, e))?;
                file.set_len(stop.offset as u64)
                    .and_then(|()| file.sync_all())
                    .map_err(|e| StorageError::io(path, e))?;
                good_len = stop.offset as u64;
                report.torn_tail = Some(TornTail {
                    segment: path.clone(),
                    truncated_at: good_len,
                    dropped_bytes: bytes.len() as u64 - good_len,
                    last_good_lsn: report.last_lsn,
                    reason: stop.reason,
                });
            }
            live.push((first, path.clone(), good_len, version));
        }

        let next_lsn = expected.unwrap_or(Lsn(1)).max(replay_from).max(Lsn(1));
        // New records go on in the last segment, unless the log jumps ahead or that segment is of
        // an older format version (whose readers would not know this build's operations).
        let writer = match live.last() {
            Some((_, path, len, version)) if expected == Some(next_lsn) && *version == WAL_FORMAT_VERSION => {
                let file = OpenOptions::new().append(true).open(path).map_err(|e| StorageError::io(path, e))?;
                let segments = live.iter().map(|(first, path, _, _)| (*first, path.clone())).collect();
                Writer { file, path: path.clone(), len: *len, segments, dirty: false }
            }
            _ => {
                let mut segments: Vec<(Lsn, PathBuf)> =
                    live.iter().map(|(first, path, _, _)| (*first, path.clone())).collect();
                let (file, path) = create_segment(dir, next_lsn)?;
                segments.push((next_lsn, path.clone()));
                Writer { file, path, len: HEADER_LEN as u64, segments, dirty: false }
            }
        };
        let wal = Wal {
            dir: dir.to_path_buf(),
            options,
            pending: Mutex::new(Pending { bytes: Vec::new(), next_lsn }),
            writer: Mutex::new(writer),
            group: Mutex::new(false),
            group_done: Condvar::new(),
            written: AtomicU64::new(next_lsn.0 - 1),
            synced: AtomicU64::new(next_lsn.0 - 1),
            poisoned: AtomicBool::new(false),
            n_appends: AtomicU64::new(0),
            n_writes: AtomicU64::new(0),
            n_fsyncs: AtomicU64::new(0),
        };
        Ok((wal, report))
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn options(&self) -> WalOptions {
        self.options
    }

    /// The LSN the next record will get.
    pub fn next_lsn(&self) -> Result<Lsn> {
        Ok(lock(&self.pending)?.next_lsn)
    }

    /// The highest LSN covered by the default sync mode's promise.
    pub fn durable_lsn(&self) -> Lsn {
        match self.options.sync_mode {
            SyncMode::Full => self.synced_lsn(),
            SyncMode::Normal | SyncMode::Off => self.written_lsn(),
        }
    }

    /// The highest LSN handed to the operating system (survives a crash of the process).
    pub fn written_lsn(&self) -> Lsn {
        Lsn(self.written.load(Ordering::Acquire))
    }

    /// The highest LSN fsynced (survives a crash of the machine).
    pub fn synced_lsn(&self) -> Lsn {
        Lsn(self.synced.load(Ordering::Acquire))
    }

    pub fn stats(&self) -> WalStats {
        WalStats {
            n_appends: self.n_appends.load(Ordering::Relaxed),
            n_writes: self.n_writes.load(Ordering::Relaxed),
            n_fsyncs: self.n_fsyncs.load(Ordering::Relaxed),
        }
    }

    fn check_poisoned(&self) -> Result<()> {
        if self.poisoned.load(Ordering::Acquire) {
            return Err(StorageError::Invalid(format!(
                "the WAL in {} failed an earlier write or fsync; reopen the database to recover",
                self.dir.display()
            )));
        }
        Ok(())
    }

    fn poison<T>(&self, path: &Path, e: std::io::Error) -> Result<T> {
        self.poisoned.store(true, Ordering::Release);
        Err(StorageError::io(path, e))
    }

    /// Logs one commit and returns its LSN. The record is durable only after
    /// [`sync_to`](Wal::sync_to) with this LSN (or a later one) returns.
    pub fn append(&self, commit_ts: u64, ops: &[WalOp]) -> Result<Lsn> {
        let record = self.encode(ops)?;
        self.append_encoded(commit_ts, record)
    }

    /// Serializes a commit's operations without taking any lock, so that committers can encode
    /// in parallel and then append in commit order.
    pub fn encode(&self, ops: &[WalOp]) -> Result<EncodedRecord> {
        let payload = record::encode_payload(0, ops, self.options.compression)?;
        if payload.len() > u32::MAX as usize {
            return Err(StorageError::Invalid(format!("WAL record of {} bytes is over 4 GiB", payload.len())));
        }
        Ok(EncodedRecord { payload })
    }

    /// Logs a record made by [`encode`](Wal::encode) at `commit_ts` and returns its LSN. The
    /// record is durable only after [`sync_to`](Wal::sync_to) with this LSN (or a later one).
    pub fn append_encoded(&self, commit_ts: u64, record: EncodedRecord) -> Result<Lsn> {
        self.check_poisoned()?;
        let mut payload = record.payload;
        record::set_commit_ts(&mut payload, commit_ts);
        let (lsn, full) = {
            let mut pending = lock(&self.pending)?;
            let lsn = pending.next_lsn;
            pending.next_lsn = lsn.next();
            segment::frame_record(lsn, &payload, &mut pending.bytes);
            (lsn, pending.bytes.len() >= BUFFER_LIMIT)
        };
        self.n_appends.fetch_add(1, Ordering::Relaxed);
        if full {
            let mut writer = lock(&self.writer)?;
            self.write_pending(&mut writer)?;
        }
        Ok(lsn)
    }

    /// Makes every record up to `lsn` durable as the default sync mode promises.
    pub fn sync_to(&self, lsn: Lsn) -> Result<()> {
        self.sync_to_mode(lsn, self.options.sync_mode)
    }

    /// Makes every record up to `lsn` durable as `mode` promises.
    ///
    /// Group commit, leader and followers: a committer that finds no leader becomes one; it
    /// writes everything appended so far (its own record and every record appended before it
    /// took the buffer) and fsyncs once. Committers arriving meanwhile wait for it as followers;
    /// when it is done they all wake, those it covered return at once, and one of the others
    /// becomes the next leader, taking along everyone behind it.
    pub fn sync_to_mode(&self, lsn: Lsn, mode: SyncMode) -> Result<()> {
        self.check_poisoned()?;
        let next = self.next_lsn()?;
        if lsn >= next {
            return Err(StorageError::Invalid(format!(
                "sync to LSN {} but the last appended is {}",
                lsn.0,
                next.0 - 1
            )));
        }
        let covered = || match mode {
            SyncMode::Full => self.synced_lsn() >= lsn,
            SyncMode::Normal => self.written_lsn() >= lsn,
            SyncMode::Off => true,
        };
        if covered() {
            return Ok(());
        }
        let mut leader_active = lock(&self.group)?;
        loop {
            // The previous leader may have covered our record.
            if covered() {
                return Ok(());
            }
            self.check_poisoned()?;
            if !*leader_active {
                break;
            }
            // A follower: wait for the leader's write (and fsync) to end, then look again.
            leader_active = self
                .group_done
                .wait(leader_active)
                .map_err(|_| StorageError::Invalid("a WAL lock was poisoned by a panic".into()))?;
        }
        // The leader: write everything appended so far (our record and every follower's that
        // was appended before the buffer is taken) and fsync once for all of them.
        *leader_active = true;
        drop(leader_active);
        let result = (|| {
            let mut writer = lock(&self.writer)?;
            self.write_pending(&mut writer)?;
            if mode == SyncMode::Full {
                self.fsync(&mut writer)?;
            }
            Ok(())
        })();
        *lock(&self.group)? = false;
        self.group_done.notify_all();
        result
    }

    /// Writes what is buffered and, when `sync` is set and something was written since the
    /// last fsync, fsyncs: the periodic flush behind the `normal` and `off` modes. Cheap when
    /// there is nothing to do.
    pub fn flush(&self, sync: bool) -> Result<()> {
        self.check_poisoned()?;
        let appended = Lsn(self.next_lsn()?.0 - 1);
        if self.synced_lsn() >= appended || (!sync && self.written_lsn() >= appended) {
            return Ok(());
        }
        let mut writer = lock(&self.writer)?;
        self.write_pending(&mut writer)?;
        if sync && writer.dirty {
            self.fsync(&mut writer)?;
        }
        Ok(())
    }

    /// Appends one commit and waits until it is durable.
    pub fn append_sync(&self, commit_ts: u64, ops: &[WalOp]) -> Result<Lsn> {
        let lsn = self.append(commit_ts, ops)?;
        self.sync_to(lsn)?;
        Ok(lsn)
    }

    /// Writes and fsyncs everything appended so far, whatever the sync mode; returns the last
    /// LSN (used at checkpoints and clean shutdown).
    pub fn sync_all(&self) -> Result<Lsn> {
        self.check_poisoned()?;
        let mut writer = lock(&self.writer)?;
        let last = self.write_pending(&mut writer)?;
        self.fsync(&mut writer)?;
        Ok(last)
    }

    /// Fsyncs the current segment; everything written to it (and to older segments, which
    /// were fsynced when closed) is then synced.
    fn fsync(&self, writer: &mut Writer) -> Result<()> {
        if let Err(e) = writer.file.sync_data() {
            return self.poison(&writer.path, e);
        }
        writer.dirty = false;
        self.n_fsyncs.fetch_add(1, Ordering::Relaxed);
        self.synced.fetch_max(self.written.load(Ordering::Acquire), Ordering::AcqRel);
        Ok(())
    }

    /// Writes the buffered records (rotating the segment when it is full) and returns the last
    /// LSN written.
    fn write_pending(&self, writer: &mut Writer) -> Result<Lsn> {
        let (bytes, last) = {
            let mut pending = lock(&self.pending)?;
            (std::mem::take(&mut pending.bytes), Lsn(pending.next_lsn.0 - 1))
        };
        if !bytes.is_empty() {
            if let Err(e) = writer.file.write_all(&bytes) {
                return self.poison(&writer.path, e);
            }
            writer.len += bytes.len() as u64;
            writer.dirty = true;
            self.n_writes.fetch_add(1, Ordering::Relaxed);
            self.written.fetch_max(last.0, Ordering::AcqRel);
        }
        if writer.len >= self.options.segment_bytes {
            self.rotate_locked(writer, last.next())?;
        }
        Ok(last)
    }

    /// Closes the current segment and starts one whose first record will be `first_lsn`.
    fn rotate_locked(&self, writer: &mut Writer, first_lsn: Lsn) -> Result<()> {
        if writer.segments.last().is_some_and(|(first, _)| *first == first_lsn) {
            return Ok(());
        }
        // A closed segment is always fsynced (whatever the mode), so only the current segment
        // can hold written but unsynced records.
        if writer.dirty {
            self.fsync(writer)?;
        }
        let (file, path) = match create_segment(&self.dir, first_lsn) {
            Ok(created) => created,
            Err(e) => {
                self.poisoned.store(true, Ordering::Release);
                return Err(e);
            }
        };
        writer.segments.push((first_lsn, path.clone()));
        *writer =
            Writer { file, path, len: HEADER_LEN as u64, segments: std::mem::take(&mut writer.segments), dirty: false };
        Ok(())
    }

    /// Writes what is buffered and starts a new segment, so that a checkpoint can later drop
    /// everything before it.
    pub fn rotate(&self) -> Result<()> {
        self.check_poisoned()?;
        let mut writer = lock(&self.writer)?;
        let last = self.write_pending(&mut writer)?;
        self.rotate_locked(&mut writer, last.next())
    }

    /// Deletes the segments whose records all have LSNs at most `lsn` (they are folded into
    /// column files by a checkpoint). The current segment always stays. Returns how many went.
    pub fn remove_segments_through(&self, lsn: Lsn) -> Result<usize> {
        self.check_poisoned()?;
        let mut writer = lock(&self.writer)?;
        let mut n_removed = 0;
        while writer.segments.len() > 1 && writer.segments[1].0 <= lsn.next() {
            let (_, path) = writer.segments.remove(0);
            std::fs::remove_file(&path).map_err(|e| StorageError::io(&path, e))?;
            n_removed += 1;
        }
        if n_removed > 0 {
            sync_dir(&self.dir)?;
        }
        Ok(n_removed)
    }

    /// The live segment files, oldest first.
    pub fn segments(&self) -> Result<Vec<PathBuf>> {
        Ok(lock(&self.writer)?.segments.iter().map(|(_, path)| path.clone()).collect())
    }
}

impl Drop for Wal {
    fn drop(&mut self) {
        // Best effort for the relaxed modes; `Full` committers have synced already.
        if !self.poisoned.load(Ordering::Acquire) {
            if let Ok(mut writer) = self.writer.lock() {
                let _ = self.write_pending(&mut writer);
            }
        }
    }
}

/// Creates a segment with its header, durably.
fn create_segment(dir: &Path, first_lsn: Lsn) -> Result<(File, PathBuf)> {
    let path = dir.join(segment::segment_name(first_lsn));
    let mut file = OpenOptions::new()
        .append(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|e| StorageError::io(&path, e))?;
    file.set_len(0)
        .and_then(|()| file.write_all(&segment::header(first_lsn)))
        .and_then(|()| file.sync_all())
        .map_err(|e| StorageError::io(&path, e))?;
    sync_dir(dir)?;
    Ok((file, path))
}
