//! Reading a test file into records: the corpus's text rewrite, then the `sqllogictest`
//! parser, then `include`s expanded in place.
//!
//! This does what `sqllogictest::parse_file` does, with two differences: the text is rewritten
//! by [`Corpus::preprocess`] before parsing (for the file and every file it includes), and
//! nothing panics: an unreadable file, an invalid UTF-8 byte (replaced), a missing include or
//! an include cycle all come back as an error message for the file.

use crate::corpus::Corpus;
use crate::types::SltType;
use sqllogictest::{parse_with_name, Record};
use std::path::Path;

/// Includes nested deeper than this are reported as a cycle.
const MAX_INCLUDE_DEPTH: usize = 16;

/// The records of the file at `path`, with included files' records spliced in after each
/// `include` record.
pub fn load_records(path: &Path, corpus: Corpus) -> Result<Vec<Record<SltType>>, String> {
    let mut records = Vec::new();
    load_into(path, corpus, 0, &mut records)?;
    Ok(records)
}

fn load_into(path: &Path, corpus: Corpus, depth: usize, out: &mut Vec<Record<SltType>>) -> Result<(), String> {
    if depth > MAX_INCLUDE_DEPTH {
        return Err(format!("{}: includes nested more than {MAX_INCLUDE_DEPTH} deep (a cycle?)", path.display()));
    }
    let bytes = std::fs::read(path).map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    let text = corpus.preprocess(&String::from_utf8_lossy(&bytes));
    let records = parse_with_name::<SltType>(&text, path.display().to_string()).map_err(|e| e.to_string())?;
    for record in records {
        let include = match &record {
            Record::Include { filename, loc } => Some((filename.clone(), loc.clone())),
            _ => None,
        };
        out.push(record);
        if let Some((filename, loc)) = include {
            let target = path.parent().unwrap_or(Path::new(".")).join(&filename);
            if !target.is_file() {
                return Err(format!("{loc}: included file {} not found", target.display()));
            }
            load_into(&target, corpus, depth + 1, out)?;
        }
    }
    Ok(())
}
