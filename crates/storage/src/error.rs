//! Errors raised by the storage layer.

use std::path::PathBuf;

/// Whatever can go wrong below transactions: I/O and corrupted or foreign files.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StorageError {
    /// The operating system refused an operation on a file.
    #[error("I/O error on {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    /// A file's bytes are not what we wrote (bad checksum, truncated, garbage).
    #[error("database file {path} is corrupted: {reason}")]
    Corrupted { path: PathBuf, reason: String },
    /// The feature exists in the design but not yet in this build.
    #[error("not supported yet: {0}")]
    NotSupported(String),
}

pub type Result<T, E = StorageError> = std::result::Result<T, E>;
