//! [`Table`]: a table's definition, its committed segments with their delete stamps, the
//! uncommitted appends of running transactions, and the primary-key index.
//!
//! ```text
//! segments (epoch-managed list versions over an append-only slot store: a commit appends in
//!           O(1); GC and recovery build a new store; readers never lock)
//!   Segment { commit_ts, first_row, n_rows, data, stamps: [AtomicU64; n] (allocated on first delete),
//!             zones (in-memory rows: per-column zone maps, computed by the first scan asking) }
//!   data: a batch in memory, or (after a checkpoint, in a durable database) a row range of a
//!         column file; a checkpoint swaps it in place, so stamps and identity stay
//! pending  (per running transaction: its own appends, invisible to everyone else)
//! ```
//!
//! Every committed row has a **row id**: the table-wide ordinal it got when its commit was
//! published, so row ids are assigned in commit order and stay stable (a WAL replay reproduces
//! them). An UPDATE is a delete of the old version plus an append of the new one; the old
//! version stays readable by every snapshot older than the delete until garbage collection
//! drops segments whose rows no running snapshot can see any more.
//!
//! A row's delete stamp is `LIVE`, the commit timestamp of its delete, or an uncommitted
//! transaction's marker. Setting a marker is a compare-and-swap from `LIVE`: that is the
//! write lock of a row, and losing it is a write-write conflict.

use crate::durable::{PartData, ReadCache};
use crate::error::{Result, TxnError};
use crate::timestamp::{visible, Snapshot, Timestamp, TxnId, LIVE, TXN_BIT};
use arrow::array::{growable::make_growable, Array, BooleanArray};
use arrow::bitmap::{Bitmap, MutableBitmap};
use crossbeam_epoch::{self as epoch, Atomic, Owned};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, RwLock};
use storage::{Batch, Compression, DataType, TableSchema, ZoneMap};

/// The pseudo column index of a scan's row-id column (a BIGINT holding [`RowId`]s).
pub const ROW_ID: usize = usize::MAX;

/// Row ids of a transaction's own uncommitted rows have this bit set; the rest of the id is
/// `(index of the pending batch) << 32 | offset`.
const PENDING_BIT: u64 = 1 << 63;

/// A committed batch of rows and the delete stamps of its rows.
pub(crate) struct Segment {
    commit_ts: Timestamp,
    first_row: u64,
    n_rows: usize,
    /// The rows: in memory until a checkpoint writes them to a column file.
    data: RwLock<PartData>,
    /// One stamp per row, allocated by the first delete in the segment.
    stamps: OnceLock<Box<[AtomicU64]>>,
    /// Committed deletes, and the newest of their timestamps (for garbage collection).
    n_deleted: AtomicUsize,
    last_delete: AtomicU64,
    /// Zone maps of the in-memory rows, one per column, computed by the first scan that asks
    /// (a checkpoint keeps the rows, so they stay true after the data moves to a file).
    zones: OnceLock<Arc<MemZones>>,
}

/// Lazily computed zone maps of an in-memory segment's columns.
#[derive(Debug)]
pub struct MemZones {
    maps: Box<[OnceLock<ZoneMap>]>,
}

impl MemZones {
    fn new(n_columns: usize) -> MemZones {
        MemZones { maps: (0..n_columns).map(|_| OnceLock::new()).collect() }
    }
}

impl Segment {
    pub(crate) fn new(commit_ts: Timestamp, first_row: u64, n_rows: usize, data: PartData) -> Segment {
        Segment {
            commit_ts,
            first_row,
            n_rows,
            data: RwLock::new(data),
            stamps: OnceLock::new(),
            n_deleted: AtomicUsize::new(0),
            last_delete: AtomicU64::new(0),
            zones: OnceLock::new(),
        }
    }

    /// The zone-map cache of the segment's in-memory rows (`None` when they are in a file,
    /// which has its own zone maps).
    fn mem_zones(&self, data: &PartData) -> Option<Arc<MemZones>> {
        match data {
            PartData::Batch(b) => Some(self.zones.get_or_init(|| Arc::new(MemZones::new(b.columns.len()))).clone()),
            PartData::File { .. } => None,
        }
    }

    fn stamps(&self) -> &[AtomicU64] {
        self.stamps.get_or_init(|| (0..self.n_rows).map(|_| AtomicU64::new(LIVE)).collect())
    }

    pub(crate) fn first_row(&self) -> u64 {
        self.first_row
    }

    pub(crate) fn n_rows(&self) -> usize {
        self.n_rows
    }

    pub(crate) fn data(&self) -> PartData {
        self.data.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Points the segment at its rows in a column file (a checkpoint's last step).
    pub(crate) fn set_data(&self, data: PartData) {
        *self.data.write().unwrap_or_else(|p| p.into_inner()) = data;
    }

    /// Marks rows deleted for every snapshot (recovery: deletes a checkpoint recorded).
    pub(crate) fn mark_recovered_deletes(&self, offsets: &[usize]) {
        let stamps = self.stamps();
        for &k in offsets {
            stamps[k].store(Timestamp::ZERO.0, Ordering::Release);
        }
        self.n_deleted.fetch_add(offsets.len(), Ordering::AcqRel);
    }

    /// Offsets of rows whose delete committed at or before `ts`.
    pub(crate) fn deleted_at_or_before(&self, ts: Timestamp) -> Vec<usize> {
        let Some(stamps) = self.stamps.get() else { return Vec::new() };
        stamps
            .iter()
            .enumerate()
            .filter(|(_, s)| {
                let stamp = s.load(Ordering::Acquire);
                stamp & TXN_BIT == 0 && stamp <= ts.0
            })
            .map(|(k, _)| k)
            .collect()
    }

    /// The rows of this segment `snapshot` sees, or `None` when it sees all of them.
    fn live_rows(&self, snapshot: Snapshot) -> Option<Bitmap> {
        let stamps = self.stamps.get()?;
        let mut any_deleted = false;
        let bits: MutableBitmap = stamps
            .iter()
            .map(|s| {
                let deleted = snapshot.sees_deleted(s.load(Ordering::Acquire));
                any_deleted |= deleted;
                !deleted
            })
            .collect();
        any_deleted.then(|| bits.into())
    }

    fn is_dead_before(&self, oldest: Timestamp) -> bool {
        self.is_dead() && self.last_delete.load(Ordering::Acquire) <= oldest.0
    }

    /// Whether every row has a committed delete.
    fn is_dead(&self) -> bool {
        self.n_deleted.load(Ordering::Acquire) == self.n_rows
    }
}

/// Slots in the first bucket of a [`SegmentStore`]; bucket `b` has `FIRST_BUCKET << b`.
const FIRST_BUCKET: usize = 32;
/// Enough buckets for more segments than memory can hold.
const BUCKETS: usize = 40;

/// Append-only storage of segments that successive versions of a table's segment list share,
/// so a commit appends in O(1) instead of copying the list. Slot `i` is written once, under
/// the table's write lock, before any list with `len > i` is published; buckets never move,
/// so readers index them without locks.
struct SegmentStore {
    buckets: [OnceLock<Box<[OnceLock<Arc<Segment>>]>>; BUCKETS],
}

impl SegmentStore {
    fn new() -> SegmentStore {
        SegmentStore { buckets: std::array::from_fn(|_| OnceLock::new()) }
    }

    /// The bucket and offset of slot `i`.
    fn locate(i: usize) -> (usize, usize) {
        let j = i + FIRST_BUCKET;
        let b = (usize::BITS - 1 - j.leading_zeros()) as usize - FIRST_BUCKET.trailing_zeros() as usize;
        (b, j - (FIRST_BUCKET << b))
    }

    fn get(&self, i: usize) -> Option<&Arc<Segment>> {
        let (b, off) = Self::locate(i);
        self.buckets.get(b)?.get()?.get(off)?.get()
    }

    /// Fills slot `i`; false when it was filled already (or out of range).
    fn set(&self, i: usize, segment: Arc<Segment>) -> bool {
        let (b, off) = Self::locate(i);
        let Some(bucket) = self.buckets.get(b) else { return false };
        let bucket = bucket.get_or_init(|| (0..FIRST_BUCKET << b).map(|_| OnceLock::new()).collect());
        bucket[off].set(segment).is_ok()
    }
}

/// One version of a table's segment list, in row-id order: the first `len` slots of a shared
/// [`SegmentStore`]. Immutable once published; cloning shares the store.
#[derive(Clone)]
struct SegmentList {
    store: Arc<SegmentStore>,
    len: usize,
}

impl SegmentList {
    fn from_vec(segments: Vec<Arc<Segment>>) -> SegmentList {
        let store = SegmentStore::new();
        let len = segments.len();
        for (i, segment) in segments.into_iter().enumerate() {
            store.set(i, segment);
        }
        SegmentList { store: Arc::new(store), len }
    }

    fn len(&self) -> usize {
        self.len
    }

    fn get(&self, i: usize) -> &Arc<Segment> {
        self.store.get(i).expect("every slot below a published length is filled")
    }

    fn iter(&self) -> impl Iterator<Item = &Arc<Segment>> + '_ {
        (0..self.len).map(|i| self.get(i))
    }

    fn to_vec(&self) -> Vec<Arc<Segment>> {
        self.iter().cloned().collect()
    }

    /// This list with `segment` appended (not published). The caller holds the table's write
    /// lock and `self` is the newest list of its store, so the next slot is free; if it is not
    /// (a bug elsewhere), the list is copied into a new store instead.
    fn push(&self, segment: Arc<Segment>) -> SegmentList {
        if self.store.get(self.len).is_none() && self.store.set(self.len, segment.clone()) {
            return SegmentList { store: self.store.clone(), len: self.len + 1 };
        }
        let mut all = self.to_vec();
        all.push(segment);
        SegmentList::from_vec(all)
    }

    fn find(&self, row_id: u64) -> Option<(&Arc<Segment>, usize)> {
        // partition_point over the slots: the first segment starting after `row_id`.
        let (mut lo, mut hi) = (0, self.len);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self.get(mid).first_row <= row_id {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        let seg = self.get(lo.checked_sub(1)?);
        let offset = (row_id - seg.first_row) as usize;
        (offset < seg.n_rows).then_some((seg, offset))
    }
}

/// Rows a running transaction appended to this table.
struct PendingBatch {
    batch: Batch,
    keys: Vec<Vec<u8>>,
    deleted: Vec<bool>,
}

impl PendingBatch {
    /// The rows that reach the table on commit: those the transaction did not delete again.
    /// The WAL record and the published segments are both made from this.
    fn survivors(&self) -> Batch {
        if !self.deleted.iter().any(|&d| d) {
            return self.batch.clone();
        }
        let keep: BooleanArray = self.deleted.iter().map(|&d| Some(!d)).collect();
        let columns = self
            .batch
            .columns
            .iter()
            .map(|c| arrow::compute::filter::filter(c.as_ref(), &keep).expect("mask and columns have one length"))
            .collect();
        Batch { columns, n_rows: self.deleted.iter().filter(|&&d| !d).count() }
    }
}

/// State only writers touch, under the table's lock.
#[derive(Default)]
struct WriteState {
    next_row: u64,
    /// Encoded primary key -> row id of the newest committed live row with that key.
    keys: HashMap<Vec<u8>, u64>,
}

/// A part of a table as one scan sees it.
#[derive(Debug, Clone)]
pub struct ScanPart {
    /// The part's rows (in memory, or in a column file: read them with [`ScanPart::read`]).
    pub data: PartData,
    pub n_rows: usize,
    /// The row id of the part's first row; row `k` has id `first_row + k`.
    pub first_row: u64,
    /// The rows the scan sees, when it does not see them all.
    pub live: Option<Bitmap>,
    /// The zone maps of in-memory committed rows, computed on demand and shared by scans.
    pub mem_zones: Option<Arc<MemZones>>,
}

impl ScanPart {
    /// Table columns `projection` of every row of the part (`live` not applied). A damaged
    /// column file is an error naming it.
    pub fn read(&self, projection: &[usize], cache: &mut ReadCache) -> Result<Batch> {
        self.data.read(self.n_rows, projection, cache)
    }

    /// The zone map of table column `col_idx`: of the row group of a file the part lies in,
    /// or of the committed in-memory rows (computed on first use and kept with the segment).
    pub fn zone_map(&self, col_idx: usize) -> Option<&ZoneMap> {
        match (&self.data, &self.mem_zones) {
            (PartData::Batch(batch), Some(zones)) => {
                let array = batch.columns.get(col_idx)?;
                Some(zones.maps.get(col_idx)?.get_or_init(|| ZoneMap::compute(array.as_ref())))
            }
            _ => self.data.zone_map(self.n_rows, col_idx),
        }
    }
}

/// What a transaction's snapshot knows of a primary key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyLookup {
    /// No row with the key is visible, and none was committed after the snapshot.
    Absent,
    /// This visible row has the key.
    Visible(u64),
    /// A transaction that committed after the snapshot wrote a row with this key.
    Concurrent,
}

/// Appended row range and deleted row ids of one table in one commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableDelta {
    pub table: String,
    pub appended: std::ops::Range<u64>,
    pub deleted: Vec<u64>,
}

/// A table: schema, committed data, pending appends, and the primary-key index.
pub struct Table {
    /// Never reused within a database; names the table in the WAL and the manifest.
    id: u64,
    schema: TableSchema,
    /// Block compression of the table's column files.
    compression: Compression,
    segments: Atomic<SegmentList>,
    write: Mutex<WriteState>,
    pending: Mutex<HashMap<TxnId, Vec<PendingBatch>>>,
}

impl std::fmt::Debug for Table {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Table").field("name", &self.schema.name).finish_non_exhaustive()
    }
}

impl Drop for Table {
    fn drop(&mut self) {
        // SAFETY: `&mut self` proves no other thread can reach this table, so no reader holds
        // a reference into the current list; older lists were handed to `defer_destroy`.
        let list = unsafe { self.segments.load(Ordering::Acquire, epoch::unprotected()) };
        if !list.is_null() {
            // SAFETY: as above; the pointer came from `Owned::new` and is dropped once.
            drop(unsafe { list.into_owned() });
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Table {
    pub(crate) fn new(id: u64, schema: TableSchema, compression: Compression) -> Table {
        Table {
            id,
            schema,
            compression,
            segments: Atomic::new(SegmentList::from_vec(Vec::new())),
            write: Mutex::new(WriteState::default()),
            pending: Mutex::new(HashMap::new()),
        }
    }

    pub fn schema(&self) -> &TableSchema {
        &self.schema
    }

    pub fn id(&self) -> u64 {
        self.id
    }

    pub fn compression(&self) -> Compression {
        self.compression
    }

    /// The type of scan column `idx` ([`ROW_ID`] included).
    pub fn column_type(&self, idx: usize) -> DataType {
        if idx == ROW_ID {
            DataType::BigInt
        } else {
            self.schema.columns[idx].data_type
        }
    }

    /// The name of scan column `idx` ([`ROW_ID`] included).
    pub fn column_name(&self, idx: usize) -> &str {
        if idx == ROW_ID {
            "rowid"
        } else {
            &self.schema.columns[idx].name
        }
    }

    /// The current segment list (a lock-free read: pin the epoch, share the store).
    fn segments(&self) -> SegmentList {
        let guard = epoch::pin();
        let list = self.segments.load(Ordering::Acquire, &guard);
        // SAFETY: the list pointer is never null (set in `new`, replaced only by non-null
        // lists), and a replaced list is destroyed only after every guard pinned before the
        // replacement is dropped (`defer_destroy`), so it is valid while `guard` lives.
        unsafe { list.deref() }.clone()
    }

    /// Replaces the segment list; the caller holds the write lock.
    fn replace_segments(&self, segments: SegmentList, _write: &MutexGuard<'_, WriteState>) {
        let guard = epoch::pin();
        let old = self.segments.swap(Owned::new(segments), Ordering::AcqRel, &guard);
        // SAFETY: `old` is no longer reachable from the table; readers that loaded it pinned
        // the epoch first, so destruction waits for them.
        unsafe { guard.defer_destroy(old) };
    }

    /// The parts of the table `snapshot` sees, in row-id order (its own appends last).
    /// Cloning a batch shares its buffers.
    pub fn scan(&self, snapshot: Snapshot) -> Vec<ScanPart> {
        let mut parts = Vec::new();
        let list = self.segments();
        for seg in list.iter() {
            if !visible(seg.commit_ts, snapshot) {
                continue;
            }
            let live = seg.live_rows(snapshot);
            if live.as_ref().is_some_and(|l| l.unset_bits() == l.len()) {
                continue;
            }
            let data = seg.data();
            let mem_zones = seg.mem_zones(&data);
            parts.push(ScanPart { data, n_rows: seg.n_rows, first_row: seg.first_row, live, mem_zones });
        }
        if let Some(txn) = snapshot.txn {
            if let Some(own) = lock(&self.pending).get(&txn) {
                for (idx, p) in own.iter().enumerate() {
                    let live = p.deleted.iter().any(|&d| d).then(|| p.deleted.iter().map(|&d| !d).collect());
                    parts.push(ScanPart {
                        data: PartData::Batch(p.batch.clone()),
                        n_rows: p.batch.n_rows,
                        first_row: PENDING_BIT | (idx as u64) << 32,
                        live,
                        mem_zones: None,
                    });
                }
            }
        }
        parts
    }

    /// The number of rows `snapshot` sees (committed deletes after it are not subtracted;
    /// an estimate for planning).
    pub fn n_rows(&self, snapshot: Snapshot) -> usize {
        self.segments()
            .iter()
            .filter(|s| visible(s.commit_ts, snapshot))
            .map(|s| s.n_rows - s.n_deleted.load(Ordering::Relaxed).min(s.n_rows))
            .sum()
    }

    /// Gathers the rows `ids` (visible to `snapshot`) into one batch, in the order given.
    pub fn fetch(&self, snapshot: Snapshot, ids: &[u64]) -> Result<Batch> {
        let list = self.segments();
        let pending = lock(&self.pending);
        let own = snapshot.txn.and_then(|t| pending.get(&t));
        let all: Vec<usize> = (0..self.schema.columns.len()).collect();
        let mut cache = ReadCache::default();
        let mut sources: Vec<Batch> = Vec::new();
        let mut picks: Vec<(usize, usize)> = Vec::with_capacity(ids.len());
        let mut source_of: HashMap<u64, usize> = HashMap::new();
        for &id in ids {
            let (key, offset) = if id & PENDING_BIT != 0 {
                let idx = ((id & !PENDING_BIT) >> 32) as usize;
                let offset = (id & 0xffff_ffff) as usize;
                let p = own.and_then(|o| o.get(idx)).ok_or(TxnError::NoSuchRow(id))?;
                if offset >= p.batch.n_rows {
                    return Err(TxnError::NoSuchRow(id));
                }
                let key = PENDING_BIT | (idx as u64) << 32;
                if let std::collections::hash_map::Entry::Vacant(slot) = source_of.entry(key) {
                    slot.insert(sources.len());
                    sources.push(p.batch.clone());
                }
                (key, offset)
            } else {
                let (seg, offset) = list.find(id).ok_or(TxnError::NoSuchRow(id))?;
                if let std::collections::hash_map::Entry::Vacant(slot) = source_of.entry(seg.first_row) {
                    slot.insert(sources.len());
                    sources.push(seg.data().read(seg.n_rows, &all, &mut cache)?);
                }
                (seg.first_row, offset)
            };
            picks.push((source_of[&key], offset));
        }
        let mut columns = Vec::with_capacity(self.schema.columns.len());
        for (c, def) in self.schema.columns.iter().enumerate() {
            if sources.is_empty() {
                columns.push(arrow::array::new_empty_array(def.data_type.to_arrow()));
                continue;
            }
            let arrays: Vec<&dyn Array> = sources.iter().map(|b| b.columns[c].as_ref()).collect();
            let mut growable = make_growable(&arrays, true, picks.len());
            for &(src, offset) in &picks {
                growable.extend(src, offset, 1);
            }
            columns.push(growable.as_box());
        }
        Ok(Batch { columns, n_rows: ids.len() })
    }

    /// Where the newest row with primary key `key` stands for `snapshot`.
    pub fn lookup_key(&self, snapshot: Snapshot, key: &[u8]) -> KeyLookup {
        if let Some(txn) = snapshot.txn {
            if let Some(own) = lock(&self.pending).get(&txn) {
                for (idx, p) in own.iter().enumerate() {
                    if let Some(off) = p.keys.iter().enumerate().position(|(k, kk)| !p.deleted[k] && kk == key) {
                        return KeyLookup::Visible(PENDING_BIT | (idx as u64) << 32 | off as u64);
                    }
                }
            }
        }
        let Some(&id) = lock(&self.write).keys.get(key) else {
            return KeyLookup::Absent;
        };
        let list = self.segments();
        let Some((seg, offset)) = list.find(id) else {
            return KeyLookup::Absent;
        };
        if !visible(seg.commit_ts, snapshot) {
            return KeyLookup::Concurrent;
        }
        let stamp = seg.stamps.get().map_or(LIVE, |s| s[offset].load(Ordering::Acquire));
        if snapshot.sees_deleted(stamp) {
            KeyLookup::Absent
        } else {
            KeyLookup::Visible(id)
        }
    }

    /// Buffers an uncommitted append of transaction `txn`.
    pub(crate) fn add_pending(&self, txn: TxnId, batch: Batch, keys: Vec<Vec<u8>>) {
        let deleted = vec![false; batch.n_rows];
        lock(&self.pending).entry(txn).or_default().push(PendingBatch { batch, keys, deleted });
    }

    /// Drops the pending appends of `txn` (rollback).
    pub(crate) fn drop_pending(&self, txn: TxnId) {
        lock(&self.pending).remove(&txn);
    }

    /// Marks rows deleted by `txn`. Committed rows get the transaction's marker (their write
    /// lock); `locked` collects them so a failure or a rollback can release them. A row
    /// another transaction deleted (committed after our snapshot, or still running) is a
    /// write-write conflict: everything this call marked is released again.
    pub(crate) fn mark_deleted(&self, txn: TxnId, ids: &[u64], locked: &mut Vec<u64>) -> Result<usize> {
        let list = self.segments();
        let start = locked.len();
        let mut own_marked: Vec<(usize, usize)> = Vec::new();
        let mut n = 0;
        let result = (|| {
            for &id in ids {
                if id & PENDING_BIT != 0 {
                    let idx = ((id & !PENDING_BIT) >> 32) as usize;
                    let offset = (id & 0xffff_ffff) as usize;
                    let mut pending = lock(&self.pending);
                    let p = pending.get_mut(&txn).and_then(|o| o.get_mut(idx)).ok_or(TxnError::NoSuchRow(id))?;
                    let flag = p.deleted.get_mut(offset).ok_or(TxnError::NoSuchRow(id))?;
                    if !*flag {
                        *flag = true;
                        own_marked.push((idx, offset));
                        n += 1;
                    }
                    continue;
                }
                let (seg, offset) = list.find(id).ok_or(TxnError::NoSuchRow(id))?;
                let stamp = &seg.stamps()[offset];
                match stamp.compare_exchange(LIVE, txn.marker(), Ordering::AcqRel, Ordering::Acquire) {
                    Ok(_) => {
                        locked.push(id);
                        n += 1;
                    }
                    Err(cur) if cur == txn.marker() => {}
                    Err(_) => return Err(TxnError::SerializationFailure { table: self.schema.name.clone() }),
                }
            }
            Ok(n)
        })();
        if result.is_err() {
            self.unmark(txn, &locked[start..]);
            locked.truncate(start);
            let mut pending = lock(&self.pending);
            if let Some(own) = pending.get_mut(&txn) {
                for (idx, offset) in own_marked {
                    own[idx].deleted[offset] = false;
                }
            }
        }
        result
    }

    /// Releases row locks of `txn` (rollback, or a failed statement).
    pub(crate) fn unmark(&self, txn: TxnId, ids: &[u64]) {
        if ids.is_empty() {
            return;
        }
        let list = self.segments();
        for &id in ids {
            if let Some((seg, offset)) = list.find(id) {
                let _ = seg.stamps()[offset].compare_exchange(txn.marker(), LIVE, Ordering::AcqRel, Ordering::Acquire);
            }
        }
    }

    /// The first primary key `txn` would duplicate on commit, if any (a key repeated among
    /// its appends, or held by a committed row it has not deleted), rendered as
    /// `a, b)=(1, 2` for the error message. Called under the commit lock.
    pub(crate) fn find_duplicate(&self, txn: TxnId, deleted: &HashSet<u64>) -> Option<String> {
        let pk = &self.schema.primary_key;
        if pk.is_empty() {
            return None;
        }
        let pending = lock(&self.pending);
        let own = pending.get(&txn)?;
        let write = lock(&self.write);
        let mut seen = HashSet::new();
        for p in own {
            for (k, key) in p.keys.iter().enumerate() {
                if p.deleted[k] {
                    continue;
                }
                let committed = write.keys.get(key).is_some_and(|id| !deleted.contains(id));
                if committed || !seen.insert(key.as_slice()) {
                    let names: Vec<&str> = pk.iter().map(|&c| self.schema.columns[c].name.as_str()).collect();
                    let values: Vec<String> = pk
                        .iter()
                        .map(|&c| storage::Value::from_array(p.batch.columns[c].as_ref(), k).to_string())
                        .collect();
                    return Some(format!("{})=({}", names.join(", "), values.join(", ")));
                }
            }
        }
        None
    }

    /// Publishes `txn`'s writes to this table at `ts`: stamps its deletes, appends its rows
    /// as new segments, updates the key index. Called under the commit lock, before the
    /// catalog publishes `ts`, so no reader sees any of it until then.
    pub(crate) fn publish(&self, txn: TxnId, ts: Timestamp, deleted: &[(u64, Vec<u8>)]) -> TableDelta {
        let mut write = lock(&self.write);
        let mut list = self.segments();
        for (id, key) in deleted {
            if let Some((seg, offset)) = list.find(*id) {
                seg.stamps()[offset].store(ts.0, Ordering::Release);
                seg.n_deleted.fetch_add(1, Ordering::AcqRel);
                seg.last_delete.fetch_max(ts.0, Ordering::AcqRel);
            }
            if !key.is_empty() && write.keys.get(key) == Some(id) {
                write.keys.remove(key);
            }
        }
        let own = lock(&self.pending).remove(&txn).unwrap_or_default();
        let start = write.next_row;
        for p in own {
            let batch = p.survivors();
            let keys = if p.deleted.iter().any(|&d| d) {
                p.keys.into_iter().zip(&p.deleted).filter(|(_, &d)| !d).map(|(k, _)| k).collect()
            } else {
                p.keys
            };
            if batch.n_rows == 0 {
                continue;
            }
            let first_row = write.next_row;
            for (k, key) in keys.into_iter().enumerate() {
                write.keys.insert(key, first_row + k as u64);
            }
            write.next_row += batch.n_rows as u64;
            let n_rows = batch.n_rows;
            list = list.push(Arc::new(Segment::new(ts, first_row, n_rows, PartData::Batch(batch))));
        }
        let appended = start..write.next_row;
        if !appended.is_empty() {
            self.replace_segments(list, &write);
        }
        TableDelta { table: self.schema.name.clone(), appended, deleted: deleted.iter().map(|(id, _)| *id).collect() }
    }

    /// The rows `txn` will append on commit (its pending batches without the rows it deleted
    /// again, empty ones left out): exactly the segments `publish` will create, for the WAL.
    pub(crate) fn pending_for_log(&self, txn: TxnId) -> Vec<Batch> {
        let pending = lock(&self.pending);
        let Some(own) = pending.get(&txn) else { return Vec::new() };
        let mut out = Vec::with_capacity(own.len());
        for p in own {
            let batch = p.survivors();
            if batch.n_rows > 0 {
                out.push(batch);
            }
        }
        out
    }

    /// The committed segments and the next row id (a checkpoint, under the commit lock).
    pub(crate) fn checkpoint_capture(&self) -> (Vec<Arc<Segment>>, u64) {
        let write = lock(&self.write);
        (self.segments().to_vec(), write.next_row)
    }

    /// Installs what recovery rebuilt from column files: segments in row-id order, the key
    /// index of their live rows, and the next row id.
    pub(crate) fn restore(&self, segments: Vec<Arc<Segment>>, keys: HashMap<Vec<u8>, u64>, next_row: u64) {
        let mut write = lock(&self.write);
        write.keys = keys;
        write.next_row = next_row;
        self.replace_segments(SegmentList::from_vec(segments), &write);
    }

    /// Drops segments whose every row was deleted at or before `oldest` (so no running or
    /// future snapshot sees any of them). Returns the number of rows reclaimed, and whether
    /// some segment is wholly deleted but still seen by a snapshot older than its last delete
    /// (so a later collection, once that snapshot ends, would reclaim more).
    pub(crate) fn collect_garbage(&self, oldest: Timestamp) -> (usize, bool) {
        let write = lock(&self.write);
        let list = self.segments();
        let blocked = list.iter().any(|s| s.is_dead() && !s.is_dead_before(oldest));
        if !list.iter().any(|s| s.is_dead_before(oldest)) {
            return (0, blocked);
        }
        let (dead, live): (Vec<_>, Vec<_>) = list.iter().cloned().partition(|s| s.is_dead_before(oldest));
        self.replace_segments(SegmentList::from_vec(live), &write);
        (dead.iter().map(|s| s.n_rows).sum(), blocked)
    }

    /// What the table holds in memory: row versions (live or not yet reclaimed), committed
    /// deletes among them, and segments.
    pub fn storage_stats(&self) -> VersionStats {
        let list = self.segments();
        VersionStats {
            rows: list.iter().map(|s| s.n_rows).sum(),
            deleted: list.iter().map(|s| s.n_deleted.load(Ordering::Relaxed)).sum(),
            segments: list.len(),
        }
    }
}

/// Row versions a table holds (see [`Table::storage_stats`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VersionStats {
    pub rows: usize,
    pub deleted: usize,
    pub segments: usize,
}

impl std::ops::Add for VersionStats {
    type Output = VersionStats;
    fn add(self, o: VersionStats) -> VersionStats {
        VersionStats {
            rows: self.rows + o.rows,
            deleted: self.deleted + o.deleted,
            segments: self.segments + o.segments,
        }
    }
}

/// Whether `id` names a transaction's own uncommitted row.
pub fn is_pending_row(id: u64) -> bool {
    id & PENDING_BIT != 0
}

const _: () = assert!(PENDING_BIT == TXN_BIT);

#[cfg(test)]
mod tests {
    use super::*;

    fn segment(first_row: u64, n_rows: usize) -> Arc<Segment> {
        let batch = Batch::new(vec![arrow::array::Int64Array::from_vec(vec![0; n_rows]).boxed()]);
        Arc::new(Segment::new(Timestamp(1), first_row, n_rows, PartData::Batch(batch)))
    }

    #[test]
    fn slot_store_buckets_cover_every_index_once() {
        assert_eq!(SegmentStore::locate(0), (0, 0));
        assert_eq!(SegmentStore::locate(31), (0, 31));
        assert_eq!(SegmentStore::locate(32), (1, 0));
        assert_eq!(SegmentStore::locate(95), (1, 63));
        assert_eq!(SegmentStore::locate(96), (2, 0));
        let mut seen = HashSet::new();
        for i in 0..5_000 {
            let (b, off) = SegmentStore::locate(i);
            assert!(off < FIRST_BUCKET << b, "slot {i}");
            assert!(seen.insert((b, off)), "slot {i} shares a place");
        }
    }

    #[test]
    fn list_versions_share_a_store_and_find_rows() {
        let mut list = SegmentList::from_vec(vec![segment(0, 3)]);
        let first = list.clone();
        let mut next = 3;
        for k in 0..200u64 {
            // Gaps between segments, as garbage collection leaves them.
            next += k % 3;
            list = list.push(segment(next, 2));
            next += 2;
        }
        assert!(Arc::ptr_eq(&first.store, &list.store), "appends reuse the store");
        assert_eq!((first.len(), list.len()), (1, 201));
        assert_eq!(first.iter().count(), 1, "an old version keeps its length");
        assert_eq!(list.find(2).map(|(s, o)| (s.first_row, o)), Some((0, 2)));
        assert_eq!(list.find(next - 1).map(|(s, o)| (s.first_row, o)), Some((next - 2, 1)));
        assert!(list.find(next).is_none());
        assert!(list.find(5).is_none(), "row 5 falls in a gap");
        for seg in list.iter() {
            for k in 0..seg.n_rows {
                let (found, offset) = list.find(seg.first_row + k as u64).unwrap();
                assert!(Arc::ptr_eq(found, seg) && offset == k);
            }
        }
        // Pushing onto an old version (never done under the write lock) copies instead of
        // overwriting a slot a newer version owns.
        let forked = first.push(segment(10_000, 1));
        assert!(!Arc::ptr_eq(&forked.store, &list.store));
        assert_eq!(list.get(1).first_row, 3);
        assert_eq!(forked.len(), 2);
        assert_eq!(forked.get(1).first_row, 10_000);
    }
}
