//! Errors raised by the storage layer.

use std::path::{Path, PathBuf};

/// Whatever can go wrong below transactions: I/O and corrupted or foreign files.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StorageError {
    /// The operating system refused an operation on a file.
    #[error("I/O error on {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    /// A file's bytes are not what we wrote (bad checksum, truncated, garbage): the data's fault
    /// (disk, another program), never a reason to panic. `offset` is the byte offset in the file
    /// where the bad structure starts.
    #[error("database file {path} is corrupted at byte offset {offset}: {reason}")]
    Corrupted { path: PathBuf, offset: u64, reason: String },
    /// The file is one of ours but written in a format version this build cannot read.
    #[error("{path} has format version {found}, but this build reads only version {supported}")]
    UnsupportedVersion { path: PathBuf, found: u32, supported: u32 },
    /// The caller handed the storage layer something inconsistent, such as a batch whose columns
    /// do not match the file being written: a bug in the layer above.
    #[error("invalid storage request: {0}")]
    Invalid(String),
    /// The path is not a database directory (a file, or a directory of something else), or a
    /// file every database has is missing.
    #[error("{path} is not a HeliosDB database directory: {reason}")]
    NotADatabase { path: PathBuf, reason: String },
    /// Another process (or another open handle in this one) owns the database directory.
    #[error("database {path} is locked by {}", match .pid { Some(pid) => format!("pid {pid}"), None => "another process".to_string() })]
    Locked { path: PathBuf, pid: Option<u32> },
    /// A file outside the database (the input or output of `COPY`) is missing, unreadable,
    /// or holds values that do not fit; the message names the file and where.
    #[error("{0}")]
    External(String),
    /// The feature exists in the design but not yet in this build.
    #[error("not supported yet: {0}")]
    NotSupported(String),
}

pub type Result<T, E = StorageError> = std::result::Result<T, E>;

impl StorageError {
    /// An I/O error on `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> StorageError {
        StorageError::Io { path: path.into(), source }
    }

    /// Corruption of `path` at `offset`.
    pub fn corrupted(path: impl AsRef<Path>, offset: u64, reason: impl Into<String>) -> StorageError {
        StorageError::Corrupted { path: path.as_ref().to_path_buf(), offset, reason: reason.into() }
    }
}

/// A structural error found while decoding bytes that are not tied to a file yet (a chunk held
/// in memory, a WAL payload). `offset` is relative to the start of the decoded buffer;
/// [`DecodeError::in_file`] turns it into a [`StorageError::Corrupted`] naming the file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("corrupted bytes at offset {offset}: {reason}")]
pub struct DecodeError {
    pub offset: usize,
    pub reason: String,
}

impl DecodeError {
    pub fn new(offset: usize, reason: impl Into<String>) -> DecodeError {
        DecodeError { offset, reason: reason.into() }
    }

    /// The same error located in `path`, whose decoded buffer started at file offset `base`.
    pub fn in_file(self, path: impl AsRef<Path>, base: u64) -> StorageError {
        StorageError::corrupted(path, base + self.offset as u64, self.reason)
    }
}
