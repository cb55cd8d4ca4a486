//! Finding test files: `.slt` and `.test` files, recursively, in a stable (sorted) order.
//!
//! Files meant only to be `include`d are left out: `*.slt.part` (DataFusion) and names
//! starting with `_` (RisingLight's `_q1.slt`). A file named explicitly is always taken.

use std::path::{Path, PathBuf};

/// Whether `path` names a runnable test file (by its name alone).
pub fn is_test_file(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    !name.starts_with('_') && (name.ends_with(".slt") || name.ends_with(".test"))
}

/// The test files named by `path`: itself if it is a file, else every test file below it,
/// sorted. Unreadable directories are reported as errors.
pub fn test_files(path: &Path) -> Result<Vec<PathBuf>, String> {
    if path.is_file() {
        return Ok(vec![path.to_path_buf()]);
    }
    if !path.is_dir() {
        return Err(format!("{}: no such file or directory", path.display()));
    }
    let mut out = Vec::new();
    walk(path, &mut out)?;
    out.sort();
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for entry in entries {
        let path = entry.map_err(|e| format!("{}: {e}", dir.display()))?.path();
        if path.is_dir() {
            walk(&path, out)?;
        } else if is_test_file(&path) {
            out.push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(is_test_file(Path::new("a/select.slt")));
        assert!(is_test_file(Path::new("a/select1.test")));
        assert!(!is_test_file(Path::new("a/join.slt.part")));
        assert!(!is_test_file(Path::new("a/_q1.slt")));
        assert!(!is_test_file(Path::new("a/data.csv")));
    }
}
