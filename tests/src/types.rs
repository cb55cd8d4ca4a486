//! [`SltType`]: the type letters of a `query` header, and how they match result columns.
//!
//! The letters are `I` (any integer type), `R` (REAL or DOUBLE), `T` (text), `B` (boolean),
//! `D` (date), `P` (timestamp) and `?` (anything). Every other letter parses as `?`, so the
//! foreign corpora's headers (`V`, lower case, ...) always parse. Only the project's own files
//! check the letters against the result (see [`strict_types`]); the foreign corpora disagree
//! among themselves, so for them the letters only steer formatting (SQLite's `R`).

use heliosdb_nano::DataType;
use sqllogictest::ColumnType;

/// A column type letter, or the type of a result column described by one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SltType {
    /// `I`: SMALLINT, INTEGER or BIGINT.
    Integer,
    /// `R`: REAL or DOUBLE.
    Float,
    /// `T`: TEXT.
    Text,
    /// `B`: BOOLEAN.
    Boolean,
    /// `D`: DATE.
    Date,
    /// `P`: TIMESTAMP.
    Timestamp,
    /// `?` (or any other letter): no claim. As a result column: a type no letter names
    /// (INTERVAL, the type of a bare NULL), which any letter accepts.
    Any,
}

impl ColumnType for SltType {
    fn from_char(value: char) -> Option<Self> {
        Some(match value {
            'I' => SltType::Integer,
            'R' => SltType::Float,
            'T' => SltType::Text,
            'B' => SltType::Boolean,
            'D' => SltType::Date,
            'P' => SltType::Timestamp,
            _ => SltType::Any,
        })
    }

    fn to_char(&self) -> char {
        match self {
            SltType::Integer => 'I',
            SltType::Float => 'R',
            SltType::Text => 'T',
            SltType::Boolean => 'B',
            SltType::Date => 'D',
            SltType::Timestamp => 'P',
            SltType::Any => '?',
        }
    }
}

impl SltType {
    /// The letter that describes a result column of type `dt`.
    pub fn of(dt: DataType) -> SltType {
        match dt {
            DataType::SmallInt | DataType::Integer | DataType::BigInt => SltType::Integer,
            DataType::Real | DataType::Double => SltType::Float,
            DataType::Text => SltType::Text,
            DataType::Boolean => SltType::Boolean,
            DataType::Date => SltType::Date,
            DataType::Timestamp => SltType::Timestamp,
            _ => SltType::Any,
        }
    }
}

/// The project's column check: as many letters as columns, and each letter names the column's
/// type (`?` in the header, or a column whose type no letter names, matches anything).
#[allow(clippy::ptr_arg)] // the signature is sqllogictest's `ColumnTypeValidator`
pub fn strict_types(actual: &Vec<SltType>, expected: &Vec<SltType>) -> bool {
    actual.len() == expected.len()
        && actual.iter().zip(expected).all(|(a, e)| a == e || *a == SltType::Any || *e == SltType::Any)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters_round_trip() {
        for c in "IRTBDP?".chars() {
            assert_eq!(SltType::from_char(c).map(|t| t.to_char()), Some(c));
        }
        assert_eq!(SltType::from_char('V'), Some(SltType::Any));
    }

    #[test]
    fn strict_check() {
        use SltType::*;
        assert!(strict_types(&vec![Integer, Any], &vec![Integer, Text]));
        assert!(strict_types(&vec![Integer, Float], &vec![Any, Float]));
        assert!(!strict_types(&vec![Integer], &vec![Float]));
        assert!(!strict_types(&vec![Integer], &vec![Integer, Integer]));
    }
}
