//! [`DirLock`]: one process owns a database directory. The `LOCK` file holds the owner's process
//! id and an OS advisory lock (`flock` on Unix, `LockFileEx` on Windows, through
//! `std::fs::File::try_lock`); the lock goes away with the process, however it ends, so a
//! crashed owner never leaves a stale lock behind. The pid in the file is only for the error
//! message.

use crate::error::{Result, StorageError};
use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub const LOCK_FILE: &str = "LOCK";

/// An exclusive lock on a database directory, released when dropped.
#[derive(Debug)]
pub struct DirLock {
    path: PathBuf,
    _file: File,
}

impl DirLock {
    /// Takes the lock of `dir` or fails with [`StorageError::Locked`] naming the owner's pid.
    ///
    /// A lock held by this very process (a database dropped on one thread while its background
    /// thread finishes, then reopened) is waited for up to `wait_for_own`; another process's
    /// lock is an error at once.
    pub fn acquire(dir: &Path, wait_for_own: Duration) -> Result<DirLock> {
        let path = dir.join(LOCK_FILE);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| StorageError::io(&path, e))?;
        let started = Instant::now();
        loop {
            match file.try_lock() {
                Ok(()) => break,
                Err(TryLockError::WouldBlock) => {
                    let pid = read_pid(&mut file);
                    if pid == Some(std::process::id()) && started.elapsed() < wait_for_own {
                        std::thread::sleep(Duration::from_millis(5));
                        continue;
                    }
                    return Err(StorageError::Locked { path: dir.to_path_buf(), pid });
                }
                Err(TryLockError::Error(e)) => return Err(StorageError::io(&path, e)),
            }
        }
        let pid = std::process::id().to_string();
        file.set_len(0)
            .and_then(|()| file.seek(SeekFrom::Start(0)))
            .and_then(|_| file.write_all(pid.as_bytes()))
            .map_err(|e| StorageError::io(&path, e))?;
        Ok(DirLock { path, _file: file })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

fn read_pid(file: &mut File) -> Option<u32> {
    let mut text = String::new();
    file.seek(SeekFrom::Start(0)).ok()?;
    file.take(32).read_to_string(&mut text).ok()?;
    text.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_lock_names_the_owner() {
        let dir = tempfile::tempdir().unwrap();
        let lock = DirLock::acquire(dir.path(), Duration::ZERO).unwrap();
        assert_eq!(std::fs::read_to_string(lock.path()).unwrap(), std::process::id().to_string());
        let err = DirLock::acquire(dir.path(), Duration::from_millis(20)).unwrap_err();
        assert!(matches!(err, StorageError::Locked { pid: Some(p), .. } if p == std::process::id()), "{err}");
        assert!(err.to_string().contains(&format!("locked by pid {}", std::process::id())), "{err}");
        drop(lock);
        DirLock::acquire(dir.path(), Duration::ZERO).unwrap();
    }
}
