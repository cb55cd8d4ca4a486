//! How result values become the text that sqllogictest compares.
//!
//! The project's convention is `/work/shared/slt/FORMAT.md`: values print by their own type
//! (integers in base 10, floats as the shortest text that reads back to the same value, no
//! trailing `.0`, booleans `true` / `false`, dates `YYYY-MM-DD`, timestamps
//! `YYYY-MM-DD HH:MM:SS[.ffffff]`), NULL as `NULL` and the empty string as `(empty)`.
//! [`heliosdb_nano::Value`]'s `Display` already follows it except for the empty string and
//! REAL (which it widens to a double first, printing `0.1::REAL` as `0.10000000149011612`);
//! both are handled here. Foreign corpora bring their own rules, selected by [`Style`]:
//! SQLite prints by the header's type letter (`%.3f` for `R`), DataFusion rounds floats to 12
//! decimal places.

use crate::types::SltType;
use heliosdb_nano::Value;

/// A set of rules for printing values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// FORMAT.md: print by the value's type. Also used for DuckDB and RisingLight.
    Project,
    /// SQLite's runner: print by the header's type letter (`I` integer, `R` `%.3f`, `T` text).
    Sqlite,
    /// DataFusion's runner: floats rounded to 12 decimal places, trailing zeros removed.
    DataFusion,
}

/// Prints a float FORMAT.md's way: shortest round-trip text, plain notation, `-0` as `0`.
fn shortest<F: std::fmt::Display + Into<f64> + Copy>(v: F) -> String {
    let wide: f64 = v.into();
    if wide == 0.0 {
        "0".to_string()
    } else if wide.is_nan() {
        "NaN".to_string()
    } else if wide.is_infinite() {
        if wide > 0.0 { "Infinity" } else { "-Infinity" }.to_string()
    } else {
        format!("{v}")
    }
}

/// Rounds to 12 decimal places and drops trailing zeros, as DataFusion's runner does.
fn datafusion_float(v: f64) -> String {
    if v.is_nan() {
        return "NaN".to_string();
    }
    if v.is_infinite() {
        return if v > 0.0 { "Infinity" } else { "-Infinity" }.to_string();
    }
    let text = format!("{v:.12}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    match text {
        "-0" | "" => "0".to_string(),
        t => t.to_string(),
    }
}

/// The value in the project's convention (FORMAT.md).
pub fn format_project(value: &Value) -> String {
    match value {
        Value::Text(s) if s.is_empty() => "(empty)".to_string(),
        Value::Real(v) => shortest(*v),
        Value::Double(v) => shortest(*v),
        other => other.to_string(),
    }
}

/// The value as a number, when it is one.
fn as_number(value: &Value) -> Option<f64> {
    match value {
        Value::SmallInt(v) => Some(f64::from(*v)),
        Value::Integer(v) => Some(f64::from(*v)),
        Value::BigInt(v) => Some(*v as f64),
        Value::Real(v) => Some(f64::from(*v)),
        Value::Double(v) => Some(*v),
        Value::Boolean(b) => Some(f64::from(u8::from(*b))),
        _ => None,
    }
}

/// SQLite's `sqlite3_column_int64` reading of a text: its leading integer, else 0.
fn leading_integer(s: &str) -> i64 {
    let s = s.trim_start();
    let end = s
        .char_indices()
        .take_while(|&(i, c)| c.is_ascii_digit() || (i == 0 && (c == '-' || c == '+')))
        .map(|(i, c)| i + c.len_utf8())
        .last()
        .unwrap_or(0);
    s[..end].parse().unwrap_or(0)
}

/// The value as SQLite's runner prints it in a column of header type `ty`.
fn format_sqlite(value: &Value, ty: Option<&SltType>) -> String {
    if matches!(value, Value::Null) {
        return "NULL".to_string();
    }
    match ty {
        Some(SltType::Integer) => match value {
            Value::Real(_) | Value::Double(_) => {
                let v = as_number(value).unwrap_or(0.0);
                // `as` saturates, like SQLite's conversion of an out-of-range double.
                format!("{}", v.trunc() as i64)
            }
            Value::Boolean(b) => u8::from(*b).to_string(),
            Value::Text(s) => leading_integer(s).to_string(),
            other => format_project(other),
        },
        Some(SltType::Float) => match as_number(value) {
            Some(v) => format!("{v:.3}"),
            None => format_project(value),
        },
        _ => match value {
            // SQLite has no booleans: a comparison is the integer 0 or 1.
            Value::Boolean(b) => u8::from(*b).to_string(),
            other => format_project(other),
        },
    }
}

/// The value as DataFusion's runner prints it.
fn format_datafusion(value: &Value) -> String {
    match value {
        Value::Real(v) => datafusion_float(f64::from(*v)),
        Value::Double(v) => datafusion_float(*v),
        Value::Text(s) => {
            let s = s.trim_end_matches('\n');
            if s.is_empty() {
                "(empty)".to_string()
            } else {
                s.to_string()
            }
        }
        other => format_project(other),
    }
}

/// Prints `value`, the `column`-th value of a row, by `style`. `types` are the type letters of
/// the record's header (only [`Style::Sqlite`] looks at them).
pub fn format_value(style: Style, value: &Value, column: usize, types: &[SltType]) -> String {
    match style {
        Style::Project => format_project(value),
        Style::Sqlite => format_sqlite(value, types.get(column)),
        Style::DataFusion => format_datafusion(value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_convention() {
        assert_eq!(format_project(&Value::Null), "NULL");
        assert_eq!(format_project(&Value::Text(String::new())), "(empty)");
        assert_eq!(format_project(&Value::Text("a b".into())), "a b");
        assert_eq!(format_project(&Value::Double(2.5)), "2.5");
        assert_eq!(format_project(&Value::Double(19.0)), "19");
        assert_eq!(format_project(&Value::Double(-0.0)), "0");
        assert_eq!(format_project(&Value::Double(0.1 + 0.2)), "0.30000000000000004");
        assert_eq!(format_project(&Value::Real(0.1)), "0.1");
        assert_eq!(format_project(&Value::Real(-0.0)), "0");
        assert_eq!(format_project(&Value::BigInt(i64::MAX)), "9223372036854775807");
        assert_eq!(format_project(&Value::Integer(-7)), "-7");
        assert_eq!(format_project(&Value::Boolean(true)), "true");
        assert_eq!(format_project(&Value::Date(19782)), "2024-02-29");
        let ts = (19782_i64 * 86_400 + 12 * 3600) * 1_000_000 + 250_000;
        assert_eq!(format_project(&Value::Timestamp(ts)), "2024-02-29 12:00:00.25");
    }

    #[test]
    fn sqlite_convention() {
        let types = [SltType::Integer, SltType::Float, SltType::Text];
        let row = [Value::Double(2.9), Value::Integer(3), Value::Boolean(true)];
        let printed: Vec<String> =
            row.iter().enumerate().map(|(i, v)| format_value(Style::Sqlite, v, i, &types)).collect();
        assert_eq!(printed, ["2", "3.000", "1"]);
        assert_eq!(format_value(Style::Sqlite, &Value::Null, 1, &types), "NULL");
        assert_eq!(format_value(Style::Sqlite, &Value::Text(String::new()), 2, &types), "(empty)");
        assert_eq!(format_value(Style::Sqlite, &Value::Text("12abc".into()), 0, &types), "12");
    }

    #[test]
    fn datafusion_convention() {
        assert_eq!(format_datafusion(&Value::Double(1.50)), "1.5");
        assert_eq!(format_datafusion(&Value::Double(2.0)), "2");
        assert_eq!(format_datafusion(&Value::Double(0.1 + 0.2)), "0.3");
        assert_eq!(format_datafusion(&Value::Double(-0.0)), "0");
        assert_eq!(format_datafusion(&Value::Text("x\n".into())), "x");
    }
}
