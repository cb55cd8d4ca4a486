//! Read-only memory maps of immutable files: the one place in the storage layer with `unsafe`.
//!
//! Mapping is sound only while nobody changes the file underneath. Our files are never changed
//! after publication (see [`crate::fsutil`]): they are written under a temporary name, fsynced,
//! then renamed into place, and later replaced only by renaming another file over the name,
//! which leaves an existing mapping pointing at the old, unchanged inode.

use crate::error::{Result, StorageError};
use memmap2::Mmap;
use std::fs::File;
use std::path::{Path, PathBuf};

/// The bytes of an immutable file, mapped read-only.
#[derive(Debug)]
pub struct MappedFile {
    path: PathBuf,
    /// `None` for an empty file, which cannot be mapped on every platform.
    map: Option<Mmap>,
}

impl MappedFile {
    /// Maps the whole file at `path`.
    pub fn open(path: &Path) -> Result<MappedFile> {
        let file = File::open(path).map_err(|e| StorageError::io(path, e))?;
        let len = file.metadata().map_err(|e| StorageError::io(path, e))?.len();
        if len == 0 {
            return Ok(MappedFile { path: path.to_path_buf(), map: None });
        }
        // SAFETY: `Mmap::map` is unsafe because the mapped bytes may change (or vanish) if the
        // file is modified or truncated while mapped. Architecture Invariant (ARCHITECTURE.md):
        // a published column file is never modified; it is written under a temporary name,
        // fsynced and renamed into place, and a replacement is another rename, which does not
        // touch the mapped inode. We map read-only and only read through `&[u8]`. If another
        // process ignores this and truncates the file, touching the lost pages raises SIGBUS
        // and kills the process; that cannot be turned into an error, which is why the database
        // directory belongs to one process.
        let map = unsafe { Mmap::map(&file) }.map_err(|e| StorageError::io(path, e))?;
        Ok(MappedFile { path: path.to_path_buf(), map: Some(map) })
    }

    pub fn bytes(&self) -> &[u8] {
        self.map.as_deref().unwrap_or(&[])
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fsutil::write_atomic;

    #[test]
    fn maps_contents_and_survives_replacement() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("file.col");
        write_atomic(&path, b"first version").unwrap();
        let mapped = MappedFile::open(&path).unwrap();
        assert_eq!(mapped.bytes(), b"first version");
        // Publishing a new file under the same name leaves the mapping on the old inode.
        write_atomic(&path, b"second").unwrap();
        assert_eq!(mapped.bytes(), b"first version");
        assert_eq!(MappedFile::open(&path).unwrap().bytes(), b"second");
        // Removing the name does not invalidate the mapping either.
        std::fs::remove_file(&path).unwrap();
        assert_eq!(mapped.bytes(), b"first version");
        assert_eq!(mapped.path(), path.as_path());
    }

    #[test]
    fn empty_and_missing_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("empty");
        std::fs::write(&path, b"").unwrap();
        assert_eq!(MappedFile::open(&path).unwrap().bytes(), b"");
        assert!(matches!(MappedFile::open(&dir.path().join("missing")), Err(StorageError::Io { .. })));
    }
}
