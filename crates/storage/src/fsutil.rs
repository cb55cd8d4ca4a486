//! Durable file replacement: write under a temporary name, fsync, rename into place, fsync the
//! directory. Every file the storage layer publishes (column files, the manifest) goes through
//! here, which is what makes a published file immutable and its appearance atomic.

use crate::error::{Result, StorageError};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The temporary name a file is written under before it is renamed to `path`.
pub fn temp_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".tmp");
    path.with_file_name(name)
}

/// The directory holding `path` (`.` for a bare file name).
pub fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

/// Makes the directory entries of `dir` (creations, renames, removals) durable.
pub fn sync_dir(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        File::open(dir).and_then(|d| d.sync_all()).map_err(|e| StorageError::io(dir, e))?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// Creates (or truncates) `path` for writing.
pub(crate) fn create_file(path: &Path) -> Result<File> {
    OpenOptions::new().write(true).create(true).truncate(true).open(path).map_err(|e| StorageError::io(path, e))
}

/// Renames the fsynced file `tmp` to `path` and makes the rename durable.
pub(crate) fn publish(tmp: &Path, path: &Path) -> Result<()> {
    std::fs::rename(tmp, path).map_err(|e| StorageError::io(path, e))?;
    sync_dir(parent_dir(path))
}

/// Atomically replaces `path` with `bytes`: after a crash the file holds either the old or the
/// new contents, never a mix.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = temp_path(path);
    let mut file = create_file(&tmp)?;
    file.write_all(bytes).and_then(|()| file.sync_all()).map_err(|e| StorageError::io(&tmp, e))?;
    drop(file);
    publish(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_replace() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("MANIFEST");
        write_atomic(&path, b"one").unwrap();
        write_atomic(&path, b"two").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        assert!(!temp_path(&path).exists());
        assert_eq!(temp_path(Path::new("a/b.col")), Path::new("a/b.col.tmp"));
        assert_eq!(parent_dir(Path::new("x")), Path::new("."));
        let missing = dir.path().join("no/such/dir/file");
        assert!(matches!(write_atomic(&missing, b"x"), Err(StorageError::Io { .. })));
    }
}
