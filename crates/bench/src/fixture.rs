//! Expected query results ("fixtures", made by DuckDB via `scripts/make_fixtures.py`) and the
//! comparison of an engine's result with them.
//!
//! A fixture file is UTF-8 text, one line per item, fields separated by one TAB:
//!
//! ```text
//! # comment lines start with '#'
//! n        1000000                    the workload's N the result was computed at
//! columns  country  revenue  lines    result column names
//! types    T        R        I        one type class per column (see TypeClass)
//! order    query                      `query`: rows in the query's ORDER BY order;
//!                                     `rowsort`: rows sorted as strings (no total ORDER BY)
//! ----                                end of the header
//! US       1234.5   12                one line per row, values printed as FORMAT.md says
//! ```
//!
//! Values are printed as `../shared/slt/FORMAT.md` prescribes (`NULL`, integers in base 10,
//! doubles as the shortest round-trip text in plain notation without a trailing `.0`, booleans
//! `true`/`false`, dates `YYYY-MM-DD`, timestamps `YYYY-MM-DD HH:MM:SS[.ffffff]`, text as is
//! with the empty string as `(empty)`); TAB rather than a space separates them because
//! timestamps contain a space.
//!
//! Comparison: names case-insensitively, type classes exactly, row counts exactly, `R` values
//! within a relative error of [`FLOAT_TOLERANCE`] (`|a - b| <= 1e-9 * max(|a|, |b|)`, the
//! workload README's bar: engines sum doubles in different orders), everything else as text.

use heliosdb_nano::{DataType, Rows, Value};
use std::fmt::Write as _;

/// The relative error allowed between two `R` values.
pub const FLOAT_TOLERANCE: f64 = 1e-9;

/// A result column's type, coarsely: integers of any width are `I`, floating-point and decimal
/// numbers `R`, so that DuckDB's `HUGEINT` sums compare with our `BIGINT` ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TypeClass {
    Integer,
    Real,
    Text,
    Boolean,
    Date,
    Timestamp,
    Interval,
    /// The type of an untyped NULL column; matches any class.
    Null,
}

impl TypeClass {
    pub fn code(self) -> &'static str {
        match self {
            TypeClass::Integer => "I",
            TypeClass::Real => "R",
            TypeClass::Text => "T",
            TypeClass::Boolean => "B",
            TypeClass::Date => "D",
            TypeClass::Timestamp => "TS",
            TypeClass::Interval => "V",
            TypeClass::Null => "N",
        }
    }

    pub fn from_code(code: &str) -> Option<TypeClass> {
        Some(match code {
            "I" => TypeClass::Integer,
            "R" => TypeClass::Real,
            "T" => TypeClass::Text,
            "B" => TypeClass::Boolean,
            "D" => TypeClass::Date,
            "TS" => TypeClass::Timestamp,
            "V" => TypeClass::Interval,
            "N" => TypeClass::Null,
            _ => return None,
        })
    }

    /// The class of one of our engine's types.
    pub fn of(data_type: DataType) -> TypeClass {
        match data_type {
            DataType::SmallInt | DataType::Integer | DataType::BigInt => TypeClass::Integer,
            DataType::Real | DataType::Double => TypeClass::Real,
            DataType::Text => TypeClass::Text,
            DataType::Boolean => TypeClass::Boolean,
            DataType::Date => TypeClass::Date,
            DataType::Timestamp => TypeClass::Timestamp,
            DataType::Interval => TypeClass::Interval,
            _ => TypeClass::Null,
        }
    }
}

/// Whether rows are compared in order or sorted first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowOrder {
    Query,
    RowSort,
}

/// A query result in printed form: an expected one read from a fixture file, or an engine's.
#[derive(Debug, Clone, PartialEq)]
pub struct ResultSet {
    pub columns: Vec<String>,
    pub types: Vec<TypeClass>,
    pub rows: Vec<Vec<String>>,
}

/// A parsed fixture file.
#[derive(Debug, Clone, PartialEq)]
pub struct Fixture {
    pub n: u64,
    pub order: RowOrder,
    pub result: ResultSet,
}

/// Prints one value as FORMAT.md says (the engine's `Display` does, except for the empty string).
pub fn format_value(value: &Value) -> String {
    match value {
        Value::Text(s) if s.is_empty() => "(empty)".to_string(),
        v => v.to_string(),
    }
}

impl ResultSet {
    /// The printed form of an engine's rows.
    pub fn from_rows(rows: &Rows) -> ResultSet {
        ResultSet {
            columns: rows.columns().iter().map(|c| c.name.clone()).collect(),
            types: rows.columns().iter().map(|c| TypeClass::of(c.data_type)).collect(),
            rows: rows.iter().map(|row| row.values().iter().map(format_value).collect()).collect(),
        }
    }
}

impl Fixture {
    /// Parses a fixture file's text.
    pub fn parse(text: &str) -> Result<Fixture, String> {
        let mut lines = text.lines().enumerate().filter(|(_, l)| !l.starts_with('#'));
        let (mut n, mut columns, mut types, mut order) = (None, None, None, None);
        for (line_idx, line) in lines.by_ref() {
            if line == "----" {
                break;
            }
            let mut fields = line.split('\t');
            let key = fields.next().unwrap_or_default();
            let values: Vec<String> = fields.map(str::to_string).collect();
            let bad = |what: &str| format!("line {}: {what}: {line:?}", line_idx + 1);
            match key {
                "n" => n = Some(values.first().and_then(|v| v.parse().ok()).ok_or_else(|| bad("bad n"))?),
                "columns" => columns = Some(values),
                "types" => {
                    let parsed: Option<Vec<TypeClass>> = values.iter().map(|v| TypeClass::from_code(v)).collect();
                    types = Some(parsed.ok_or_else(|| bad("unknown type class"))?);
                }
                "order" => {
                    order = Some(match values.first().map(String::as_str) {
                        Some("query") => RowOrder::Query,
                        Some("rowsort") => RowOrder::RowSort,
                        _ => return Err(bad("order must be query or rowsort")),
                    })
                }
                _ => return Err(bad("unknown header line")),
            }
        }
        let columns = columns.ok_or("no columns line")?;
        let types = types.ok_or("no types line")?;
        if types.len() != columns.len() {
            return Err(format!("{} columns but {} types", columns.len(), types.len()));
        }
        let mut rows = Vec::new();
        for (line_idx, line) in lines {
            let row: Vec<String> = line.split('\t').map(str::to_string).collect();
            if row.len() != columns.len() {
                return Err(format!("line {}: {} values for {} columns", line_idx + 1, row.len(), columns.len()));
            }
            rows.push(row);
        }
        Ok(Fixture {
            n: n.ok_or("no n line")?,
            order: order.ok_or("no order line")?,
            result: ResultSet { columns, types, rows },
        })
    }
}

impl Fixture {
    /// The file text [`Fixture::parse`] reads back, after one `# ` line per comment.
    /// (The benchmark writes each engine's answers this way to compare them.)
    pub fn render(&self, comments: &[&str]) -> String {
        let mut out = String::new();
        for comment in comments {
            let _ = writeln!(out, "# {comment}");
        }
        let order = match self.order {
            RowOrder::Query => "query",
            RowOrder::RowSort => "rowsort",
        };
        let codes: Vec<&str> = self.result.types.iter().map(|t| t.code()).collect();
        let _ = writeln!(out, "n\t{}", self.n);
        let _ = writeln!(out, "columns\t{}", self.result.columns.join("\t"));
        let _ = writeln!(out, "types\t{}", codes.join("\t"));
        let _ = writeln!(out, "order\t{order}\n----");
        for row in &self.result.rows {
            let _ = writeln!(out, "{}", row.join("\t"));
        }
        out
    }
}

/// Whether two printed values agree (see the module docs).
pub fn values_match(class: TypeClass, expected: &str, got: &str) -> bool {
    if expected == got {
        return true;
    }
    if class != TypeClass::Real {
        return false;
    }
    match (expected.parse::<f64>(), got.parse::<f64>()) {
        (Ok(a), Ok(b)) => (a - b).abs() <= FLOAT_TOLERANCE * a.abs().max(b.abs()),
        _ => false,
    }
}

fn sorted(rows: &[Vec<String>]) -> Vec<Vec<String>> {
    let mut rows = rows.to_vec();
    rows.sort_by_cached_key(|row| row.join("\t"));
    rows
}

/// Compares an engine's result with a fixture; `Err` describes every difference found
/// (names, types, row count, and up to 10 differing rows).
pub fn compare(expected: &Fixture, got: &ResultSet) -> Result<(), String> {
    let want = &expected.result;
    let mut diff = String::new();
    let names_match = want.columns.len() == got.columns.len()
        && want.columns.iter().zip(&got.columns).all(|(a, b)| a.eq_ignore_ascii_case(b));
    if !names_match {
        let _ = writeln!(diff, "column names: expected {:?}, got {:?}", want.columns, got.columns);
    }
    if want.columns.len() != got.columns.len() {
        return Err(diff);
    }
    let types_match =
        want.types.iter().zip(&got.types).all(|(a, b)| a == b || *a == TypeClass::Null || *b == TypeClass::Null);
    if !types_match {
        let codes = |t: &[TypeClass]| t.iter().map(|c| c.code()).collect::<Vec<_>>().join(" ");
        let _ = writeln!(diff, "column types: expected {}, got {}", codes(&want.types), codes(&got.types));
    }
    if want.rows.len() != got.rows.len() {
        let _ = writeln!(diff, "row count: expected {}, got {}", want.rows.len(), got.rows.len());
    }
    let (want_rows, got_rows) = match expected.order {
        RowOrder::Query => (want.rows.clone(), got.rows.clone()),
        RowOrder::RowSort => (sorted(&want.rows), sorted(&got.rows)),
    };
    let mut n_bad = 0;
    for (row_idx, (w, g)) in want_rows.iter().zip(&got_rows).enumerate() {
        let ok = w.iter().zip(g).zip(&want.types).all(|((a, b), class)| values_match(*class, a, b));
        if !ok {
            n_bad += 1;
            if n_bad <= 10 {
                let _ = writeln!(
                    diff,
                    "row {row_idx}: expected [{}]\n{:>width$} got [{}]",
                    w.join(", "),
                    "",
                    g.join(", "),
                    width = 8 + row_idx.to_string().len()
                );
            }
        }
    }
    if n_bad > 10 {
        let _ = writeln!(diff, "... {} differing rows in all", n_bad);
    }
    for (row_idx, extra) in want_rows.iter().enumerate().skip(got_rows.len()).take(5) {
        let _ = writeln!(diff, "row {row_idx}: expected [{}], missing", extra.join(", "));
    }
    for (row_idx, extra) in got_rows.iter().enumerate().skip(want_rows.len()).take(5) {
        let _ = writeln!(diff, "row {row_idx}: unexpected [{}]", extra.join(", "));
    }
    if diff.is_empty() {
        Ok(())
    } else {
        Err(diff)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "# a comment\nn\t30000\ncolumns\tday\trevenue\tn\ntypes\tD\tR\tI\norder\tquery\n----\n\
                        2025-11-29\t100.5\t3\n2025-11-28\tNULL\t0\n";

    fn got(rows: &[[&str; 3]]) -> ResultSet {
        ResultSet {
            columns: vec!["DAY".into(), "revenue".into(), "n".into()],
            types: vec![TypeClass::Date, TypeClass::Real, TypeClass::Integer],
            rows: rows.iter().map(|r| r.iter().map(|v| v.to_string()).collect()).collect(),
        }
    }

    #[test]
    fn parses() {
        let f = Fixture::parse(TEXT).unwrap();
        assert_eq!(f.n, 30_000);
        assert_eq!(f.order, RowOrder::Query);
        assert_eq!(f.result.rows.len(), 2);
        assert!(Fixture::parse("n\t1\ncolumns\ta\ntypes\tQ\norder\tquery\n----\n").is_err());
        assert!(Fixture::parse("n\t1\ncolumns\ta\ntypes\tI\norder\tquery\n----\n1\t2\n").is_err());
    }

    #[test]
    fn renders_what_it_parses() {
        let f = Fixture::parse(TEXT).unwrap();
        let text = f.render(&["made by a test"]);
        assert!(text.starts_with("# made by a test\n"), "{text}");
        assert_eq!(Fixture::parse(&text).unwrap(), f);
    }

    #[test]
    fn floats_within_tolerance_match() {
        let f = Fixture::parse(TEXT).unwrap();
        assert_eq!(compare(&f, &got(&[["2025-11-29", "100.50000000001", "3"], ["2025-11-28", "NULL", "0"]])), Ok(()));
        let err = compare(&f, &got(&[["2025-11-29", "100.6", "3"], ["2025-11-28", "NULL", "0"]])).unwrap_err();
        assert!(err.contains("row 0"), "{err}");
        // Integers are exact, and NULL is not zero.
        assert!(compare(&f, &got(&[["2025-11-29", "100.5", "4"], ["2025-11-28", "NULL", "0"]])).is_err());
        assert!(compare(&f, &got(&[["2025-11-29", "100.5", "3"], ["2025-11-28", "0", "0"]])).is_err());
    }

    #[test]
    fn order_and_shape() {
        let f = Fixture::parse(TEXT).unwrap();
        assert!(compare(&f, &got(&[["2025-11-28", "NULL", "0"], ["2025-11-29", "100.5", "3"]])).is_err());
        let mut sorted = f.clone();
        sorted.order = RowOrder::RowSort;
        assert_eq!(compare(&sorted, &got(&[["2025-11-28", "NULL", "0"], ["2025-11-29", "100.5", "3"]])), Ok(()));
        let err = compare(&f, &got(&[["2025-11-29", "100.5", "3"]])).unwrap_err();
        assert!(err.contains("row count") && err.contains("missing"), "{err}");
        let mut wrong_type = got(&[["2025-11-29", "100.5", "3"], ["2025-11-28", "NULL", "0"]]);
        wrong_type.types[2] = TypeClass::Real;
        assert!(compare(&f, &wrong_type).unwrap_err().contains("column types"));
    }
}
