//! [`Corpus`]: which family a test file belongs to, and what that family needs.
//!
//! The project's own files follow the strict convention: values printed by FORMAT.md, type
//! letters checked against the result's column types, expected error messages matched. The
//! public corpora under `/work/shared/slt` were written for other engines; each gets the
//! rewrites its README recipe lists, so that what is compared is SQL semantics rather than
//! another runner's conventions:
//!
//! - **SQLite**: trailing `# ...` comments are cut from `onlyif` / `skipif` lines before
//!   parsing; results are value-wise; the label `postgresql` is set (so `skipif postgresql`
//!   records are skipped); values print by the header letters (`%.3f` for `R`); a conditional
//!   `halt` only halts when its condition holds (done by the record loop, for every corpus).
//! - **DataFusion**: `EXPLAIN` queries and records using `arrow_typeof` / `arrow_cast` are
//!   skipped; any error satisfies an expected error; floats are rounded to 12 decimal places;
//!   relative paths resolve from `datafusion/sqllogictest/` (the parent of `test_files/`).
//! - **DuckDB**: expected error messages are removed before parsing (DuckDB ends them at one
//!   blank line, the crate at two, which would swallow the records that follow); any error
//!   satisfies an expected error; numbers are compared with DuckDB's 1% tolerance.
//! - **RisingLight**: relative paths (`COPY ... FROM 'tests/sql/...'`) resolve from the
//!   corpus root.
//!
//! A file's corpus is found from its path: the nearest enclosing directory named `sqlite`,
//! `datafusion`, `duckdb` or `risinglight`; anything else is the project's.

use crate::types::SltType;
use sqllogictest::{default_validator, ExpectedError, Normalizer, QueryExpect, Record, StatementExpect};
use std::path::{Component, Path, PathBuf};

/// A family of test files with its own conventions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Corpus {
    /// The project's own files (`tests/slt/`): the strict convention.
    Project,
    /// SQLite's sqllogictest.
    Sqlite,
    /// Apache DataFusion's `test_files`.
    DataFusion,
    /// DuckDB's `test/sql`.
    DuckDb,
    /// RisingLight's `tests/sql`.
    RisingLight,
}

/// What the harness does with one record.
#[derive(Debug)]
pub enum Disposition {
    /// Run it (possibly rewritten).
    Run(Record<SltType>),
    /// Count it as skipped, with the reason.
    Skip(&'static str),
}

impl Corpus {
    /// Every corpus, for listing.
    pub const ALL: [Corpus; 5] =
        [Corpus::Project, Corpus::Sqlite, Corpus::DataFusion, Corpus::DuckDb, Corpus::RisingLight];

    /// The corpus's short name, as accepted by [`Corpus::from_name`].
    pub fn name(self) -> &'static str {
        match self {
            Corpus::Project => "project",
            Corpus::Sqlite => "sqlite",
            Corpus::DataFusion => "datafusion",
            Corpus::DuckDb => "duckdb",
            Corpus::RisingLight => "risinglight",
        }
    }

    /// The corpus named `name` (case-insensitive), if there is one.
    pub fn from_name(name: &str) -> Option<Corpus> {
        Corpus::ALL.into_iter().find(|c| c.name().eq_ignore_ascii_case(name))
    }

    /// The corpus of the file at `path`: the nearest enclosing directory with a corpus name.
    pub fn detect(path: &Path) -> Corpus {
        let path = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        let dirs: Vec<&str> = path
            .parent()
            .into_iter()
            .flat_map(Path::components)
            .filter_map(|c| match c {
                Component::Normal(name) => name.to_str(),
                _ => None,
            })
            .collect();
        dirs.iter()
            .rev()
            .find_map(|d| Corpus::from_name(d).filter(|c| *c != Corpus::Project))
            .unwrap_or(Corpus::Project)
    }

    /// The printing rules of this corpus.
    pub fn style(self) -> crate::format::Style {
        use crate::format::Style;
        match self {
            Corpus::Sqlite => Style::Sqlite,
            Corpus::DataFusion => Style::DataFusion,
            Corpus::Project | Corpus::DuckDb | Corpus::RisingLight => Style::Project,
        }
    }

    /// Labels for `onlyif` / `skipif`, besides the engine name `heliosdb`.
    pub fn labels(self) -> &'static [&'static str] {
        match self {
            Corpus::Sqlite => &["postgresql"],
            _ => &[],
        }
    }

    /// Whether results are compared one value per line (`control resultmode valuewise`).
    pub fn value_wise(self) -> bool {
        self == Corpus::Sqlite
    }

    /// Whether the type letters of query headers are checked against the result.
    pub fn checks_types(self) -> bool {
        self == Corpus::Project
    }

    /// How results are compared.
    pub fn validator(self) -> sqllogictest::Validator {
        match self {
            Corpus::DuckDb => tolerant_validator,
            _ => default_validator,
        }
    }

    /// The directory relative paths in `file`'s SQL resolve from, if the corpus needs one.
    pub fn working_dir(self, file: &Path) -> Option<PathBuf> {
        let file = std::fs::canonicalize(file).ok()?;
        match self {
            Corpus::DataFusion => file
                .ancestors()
                .find(|a| a.file_name().is_some_and(|n| n == "test_files"))
                .and_then(Path::parent)
                .map(Path::to_path_buf),
            Corpus::RisingLight => file
                .ancestors()
                .skip(1)
                .find(|a| a.file_name().is_some_and(|n| n == "risinglight"))
                .map(Path::to_path_buf),
            _ => None,
        }
    }

    /// Rewrites a file's text before parsing. Lines come out `\n`-terminated whatever the
    /// input used (the `random/` SQLite files use CRLF).
    pub fn preprocess(self, text: &str) -> String {
        match self {
            Corpus::Sqlite => strip_condition_comments(text),
            Corpus::DuckDb => strip_error_messages(text),
            _ => text.to_string(),
        }
    }

    /// Decides what to do with one parsed record.
    pub fn disposition(self, record: Record<SltType>) -> Disposition {
        if self == Corpus::DataFusion {
            let sql = match &record {
                Record::Statement { sql, .. } | Record::Query { sql, .. } => Some(sql.as_str()),
                _ => None,
            };
            if let Some(sql) = sql {
                let lower = sql.to_ascii_lowercase();
                if matches!(record, Record::Query { .. }) && lower.trim_start().starts_with("explain") {
                    return Disposition::Skip("EXPLAIN output is DataFusion's plan text");
                }
                if lower.contains("arrow_typeof") || lower.contains("arrow_cast") {
                    return Disposition::Skip("arrow_typeof / arrow_cast are Arrow-specific");
                }
            }
        }
        if matches!(self, Corpus::DataFusion | Corpus::DuckDb) {
            return Disposition::Run(any_error(record));
        }
        Disposition::Run(record)
    }
}

/// Makes an expected error accept any error message.
fn any_error(record: Record<SltType>) -> Record<SltType> {
    match record {
        Record::Statement { loc, conditions, connection, sql, expected: StatementExpect::Error(_), retry } => {
            Record::Statement {
                loc,
                conditions,
                connection,
                sql,
                expected: StatementExpect::Error(ExpectedError::Empty),
                retry,
            }
        }
        Record::Query { loc, conditions, connection, sql, expected: QueryExpect::Error(_), retry } => Record::Query {
            loc,
            conditions,
            connection,
            sql,
            expected: QueryExpect::Error(ExpectedError::Empty),
            retry,
        },
        other => other,
    }
}

/// SQLite: `onlyif mysql # comment` becomes `onlyif mysql`.
fn strip_condition_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let is_condition = line.starts_with("onlyif") || line.starts_with("skipif");
        match line.find('#') {
            Some(hash) if is_condition => out.push_str(line[..hash].trim_end()),
            _ => out.push_str(line),
        }
        out.push('\n');
    }
    out
}

/// DuckDB: drops the `----` + message part of `statement error` / `query error` records (the
/// message ends at the first blank line), leaving bare error records.
fn strip_error_messages(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        out.push_str(line);
        out.push('\n');
        let mut tokens = line.split_whitespace();
        let is_error = matches!(tokens.next(), Some("statement" | "query")) && tokens.next() == Some("error");
        if !is_error {
            continue;
        }
        // The SQL, up to a blank line or the delimiter.
        let mut in_message = false;
        for line in lines.by_ref() {
            if line.trim().is_empty() {
                out.push('\n');
                break;
            }
            if in_message {
                continue;
            }
            if line == "----" {
                in_message = true;
                continue;
            }
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// DuckDB's comparison: each row equal after whitespace normalization, except that two
/// numbers within 1% of each other (plus 1e-8) are equal, as DuckDB's runner treats floats.
fn tolerant_validator(normalizer: Normalizer, actual: &[Vec<String>], expected: &[String]) -> bool {
    if actual.len() != expected.len() {
        return false;
    }
    actual.iter().zip(expected).all(|(row, want)| {
        let got = row.iter().map(normalizer).collect::<Vec<_>>().join(" ");
        let want = normalizer(want);
        got == want || {
            let (g, w): (Vec<&str>, Vec<&str>) = (got.split(' ').collect(), want.split(' ').collect());
            g.len() == w.len() && g.iter().zip(&w).all(|(g, w)| g == w || numbers_close(g, w))
        }
    })
}

fn numbers_close(got: &str, want: &str) -> bool {
    match (got.parse::<f64>(), want.parse::<f64>()) {
        (Ok(g), Ok(w)) => (g - w).abs() <= w.abs() * 0.01 + 1e-8,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_corpus_from_path() {
        let p = |s: &str| Corpus::detect(Path::new(s));
        assert_eq!(p("/x/slt/sqlite/select1.test"), Corpus::Sqlite);
        assert_eq!(p("/x/slt/sqlite/evidence/in1.test"), Corpus::Sqlite);
        assert_eq!(p("/x/datafusion/datafusion/sqllogictest/test_files/cte.slt"), Corpus::DataFusion);
        assert_eq!(p("/x/duckdb/test/sql/order/a.test"), Corpus::DuckDb);
        assert_eq!(p("/x/risinglight/tests/sql/select.slt"), Corpus::RisingLight);
        assert_eq!(p("/x/tests/slt/nulls.slt"), Corpus::Project);
        // The file's own name does not count.
        assert_eq!(p("/x/tests/slt/sqlite.slt"), Corpus::Project);
    }

    #[test]
    fn sqlite_condition_comments() {
        let text = "onlyif mysql # aggregate syntax\r\nquery I\r\nSELECT 1 # not a comment\r\n";
        assert_eq!(strip_condition_comments(text), "onlyif mysql\nquery I\nSELECT 1 # not a comment\n");
    }

    #[test]
    fn duckdb_error_messages() {
        let text = "statement error\nSELECT x\n----\nBinder Error: x\n\nstatement ok\nSELECT 1\n\nquery error\nSELECT y\n----\nmsg";
        assert_eq!(
            strip_error_messages(text),
            "statement error\nSELECT x\n\nstatement ok\nSELECT 1\n\nquery error\nSELECT y\n"
        );
    }

    #[test]
    fn duckdb_numbers() {
        let n: Normalizer = sqllogictest::default_normalizer;
        assert!(tolerant_validator(n, &[vec!["42".into(), "x y".into()]], &["42.000000 x  y".into()]));
        assert!(tolerant_validator(n, &[vec!["0.3333333333333333".into()]], &["0.333333".into()]));
        assert!(!tolerant_validator(n, &[vec!["1".into()]], &["2".into()]));
        assert!(!tolerant_validator(n, &[vec!["a".into()]], &["b".into()]));
    }
}
