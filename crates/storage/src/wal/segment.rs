//! WAL segment files: naming, the segment header, record framing, and the recovery scan that
//! finds where the valid records of a segment end.
//!
//! ```text
//! segment  = header | record*
//! header   = "HELIOSWL" | u32 format version | u32 flags (0) | u64 first LSN | u32 CRC-32 of the previous 24 bytes
//! record   = u32 payload length | u64 LSN | payload | u32 CRC-32 of (length, LSN, payload)
//! ```

use super::Lsn;
use crate::bytes::PutLe;
use crate::checksum::crc32_parts;
use crate::error::{Result, StorageError};
use std::path::{Path, PathBuf};

pub const SEGMENT_MAGIC: [u8; 8] = *b"HELIOSWL";
/// The version this build writes. Version 2 added the CreateTable and DropTable operations;
/// version 1 segments (Append and Delete only) are still read.
pub const WAL_FORMAT_VERSION: u32 = 2;
/// The oldest version this build reads.
pub const WAL_OLDEST_READABLE_VERSION: u32 = 1;
pub(crate) const HEADER_LEN: usize = 28;
/// Length, LSN and CRC around each payload.
pub(crate) const RECORD_OVERHEAD: usize = 16;

/// `wal-<first LSN, 20 digits>.log`, so names sort by LSN.
pub(crate) fn segment_name(first_lsn: Lsn) -> String {
    format!("wal-{:020}.log", first_lsn.0)
}

/// The first LSN encoded in a segment file name.
pub(crate) fn parse_segment_name(name: &str) -> Option<Lsn> {
    let digits = name.strip_prefix("wal-")?.strip_suffix(".log")?;
    if digits.len() != 20 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok().map(Lsn)
}

/// The live segments in `dir`, oldest first.
pub(crate) fn list_segments(dir: &Path) -> Result<Vec<(Lsn, PathBuf)>> {
    let mut segments = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| StorageError::io(dir, e))? {
        let entry = entry.map_err(|e| StorageError::io(dir, e))?;
        if let Some(first) = entry.file_name().to_str().and_then(parse_segment_name) {
            segments.push((first, entry.path()));
        }
    }
    segments.sort();
    Ok(segments)
}

pub(crate) fn header(first_lsn: Lsn) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN);
    out.extend_from_slice(&SEGMENT_MAGIC);
    out.put_u32(WAL_FORMAT_VERSION);
    out.put_u32(0);
    out.put_u64(first_lsn.0);
    let crc = crc32_parts(&[&out]);
    out.put_u32(crc);
    out
}

/// Appends one framed record.
pub(crate) fn frame_record(lsn: Lsn, payload: &[u8], out: &mut Vec<u8>) {
    let len = (payload.len() as u32).to_le_bytes();
    let lsn_bytes = lsn.0.to_le_bytes();
    out.extend_from_slice(&len);
    out.extend_from_slice(&lsn_bytes);
    out.extend_from_slice(payload);
    out.put_u32(crc32_parts(&[&len, &lsn_bytes, payload]));
}

fn le_u32(bytes: &[u8], at: usize) -> u32 {
    let mut word = [0u8; 4];
    word.copy_from_slice(&bytes[at..at + 4]);
    u32::from_le_bytes(word)
}

fn le_u64(bytes: &[u8], at: usize) -> u64 {
    let mut word = [0u8; 8];
    word.copy_from_slice(&bytes[at..at + 8]);
    u64::from_le_bytes(word)
}

/// Why a segment's header is unusable.
pub(crate) enum BadHeader {
    /// Written by another format version: never ours to repair.
    Version(u32),
    /// Short, wrong magic, bad checksum or wrong LSN: what a crash while creating leaves.
    Damaged(String),
}

/// Checks a segment header and returns its first LSN and format version.
pub(crate) fn check_header(bytes: &[u8]) -> Result<(Lsn, u32), BadHeader> {
    if bytes.len() < HEADER_LEN {
        return Err(BadHeader::Damaged(format!("header of {} bytes", bytes.len())));
    }
    if bytes[..8] != SEGMENT_MAGIC {
        return Err(BadHeader::Damaged("bad magic".into()));
    }
    let version = le_u32(bytes, 8);
    if crc32_parts(&[&bytes[..24]]) != le_u32(bytes, 24) {
        return Err(BadHeader::Damaged("header checksum mismatch".into()));
    }
    if !(WAL_OLDEST_READABLE_VERSION..=WAL_FORMAT_VERSION).contains(&version) {
        return Err(BadHeader::Version(version));
    }
    if le_u32(bytes, 12) != 0 {
        return Err(BadHeader::Damaged("unknown header flags".into()));
    }
    let first = le_u64(bytes, 16);
    // LSNs start at 1; the upper bound keeps LSN arithmetic far from overflow.
    if first == 0 || first > u64::MAX / 2 {
        return Err(BadHeader::Damaged(format!("first LSN {first} out of range")));
    }
    Ok((Lsn(first), version))
}

/// One valid record found by [`scan`].
pub(crate) struct ScannedRecord<'a> {
    pub offset: usize,
    pub lsn: Lsn,
    pub payload: &'a [u8],
}

/// Where and why the valid records of a segment stop before its end.
pub(crate) struct Stop {
    pub offset: usize,
    pub reason: String,
}

/// Walks the records after the header, expecting consecutive LSNs from `first_lsn`; stops at
/// the first record that is short, fails its checksum, or has an unexpected LSN.
pub(crate) fn scan(bytes: &[u8], first_lsn: Lsn) -> (Vec<ScannedRecord<'_>>, Option<Stop>) {
    let mut records = Vec::new();
    let mut pos = HEADER_LEN;
    let mut expected = first_lsn;
    while pos < bytes.len() {
        let remaining = bytes.len() - pos;
        if remaining < RECORD_OVERHEAD {
            return (records, Some(Stop { offset: pos, reason: format!("{remaining} bytes of a record header") }));
        }
        let len = le_u32(bytes, pos) as usize;
        if len > remaining - RECORD_OVERHEAD {
            let reason = format!("record of {len} bytes but only {} remain", remaining - RECORD_OVERHEAD);
            return (records, Some(Stop { offset: pos, reason }));
        }
        let lsn = Lsn(le_u64(bytes, pos + 4));
        let payload = &bytes[pos + 12..pos + 12 + len];
        let stored = le_u32(bytes, pos + 12 + len);
        if crc32_parts(&[&bytes[pos..pos + 12], payload]) != stored {
            return (records, Some(Stop { offset: pos, reason: "record checksum mismatch".into() }));
        }
        if lsn != expected {
            return (
                records,
                Some(Stop { offset: pos, reason: format!("record has LSN {} where {} was due", lsn.0, expected.0) }),
            );
        }
        records.push(ScannedRecord { offset: pos, lsn, payload });
        pos += RECORD_OVERHEAD + len;
        expected = expected.next();
    }
    (records, None)
}
