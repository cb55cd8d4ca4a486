//! The SQL types the engine knows, and how each maps onto an arrow2 [`arrow::datatypes::DataType`].
//!
//! arrow2 is the physical vocabulary; [`DataType`] is the logical one the binder reasons about.
//! Every logical type has exactly one arrow2 representation, so converting is total both ways
//! for the types we produce.

use arrow::datatypes::{DataType as ArrowType, TimeUnit};
use std::fmt;

/// A logical SQL type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DataType {
    /// The type of an untyped `NULL` literal; it casts implicitly to anything.
    Null,
    Boolean,
    SmallInt,
    Integer,
    BigInt,
    Real,
    Double,
    Text,
    /// Days since 1970-01-01.
    Date,
    /// Microseconds since 1970-01-01 00:00:00, no time zone.
    Timestamp,
    /// A time span: months, days and microseconds (PostgreSQL's layout).
    Interval,
}

impl DataType {
    /// The arrow2 type that carries values of this type.
    pub fn to_arrow(self) -> ArrowType {
        match self {
            DataType::Null => ArrowType::Null,
            DataType::Boolean => ArrowType::Boolean,
            DataType::SmallInt => ArrowType::Int16,
            DataType::Integer => ArrowType::Int32,
            DataType::BigInt => ArrowType::Int64,
            DataType::Real => ArrowType::Float32,
            DataType::Double => ArrowType::Float64,
            DataType::Text => ArrowType::Utf8,
            DataType::Date => ArrowType::Date32,
            DataType::Timestamp => ArrowType::Timestamp(TimeUnit::Microsecond, None),
            DataType::Interval => ArrowType::Interval(arrow::datatypes::IntervalUnit::MonthDayNano),
        }
    }

    /// The logical type of an arrow2 type, if the engine supports it.
    pub fn from_arrow(dt: &ArrowType) -> Option<DataType> {
        Some(match dt {
            ArrowType::Null => DataType::Null,
            ArrowType::Boolean => DataType::Boolean,
            ArrowType::Int16 => DataType::SmallInt,
            ArrowType::Int32 => DataType::Integer,
            ArrowType::Int64 => DataType::BigInt,
            ArrowType::Float32 => DataType::Real,
            ArrowType::Float64 => DataType::Double,
            ArrowType::Utf8 => DataType::Text,
            ArrowType::Date32 => DataType::Date,
            ArrowType::Timestamp(TimeUnit::Microsecond, None) => DataType::Timestamp,
            ArrowType::Interval(arrow::datatypes::IntervalUnit::MonthDayNano) => DataType::Interval,
            _ => return None,
        })
    }

    /// The stable one-byte code of this type in files (column files, WAL, manifest).
    /// Codes are never reused; a new type gets a new code.
    pub fn code(self) -> u8 {
        match self {
            DataType::Null => 0,
            DataType::Boolean => 1,
            DataType::SmallInt => 2,
            DataType::Integer => 3,
            DataType::BigInt => 4,
            DataType::Real => 5,
            DataType::Double => 6,
            DataType::Text => 7,
            DataType::Date => 8,
            DataType::Timestamp => 9,
            DataType::Interval => 10,
        }
    }

    /// The type with file code `code`, if there is one.
    pub fn try_from_code(code: u8) -> Option<DataType> {
        Some(match code {
            0 => DataType::Null,
            1 => DataType::Boolean,
            2 => DataType::SmallInt,
            3 => DataType::Integer,
            4 => DataType::BigInt,
            5 => DataType::Real,
            6 => DataType::Double,
            7 => DataType::Text,
            8 => DataType::Date,
            9 => DataType::Timestamp,
            10 => DataType::Interval,
            _ => return None,
        })
    }

    /// The SQL spelling used in `.schema`, EXPLAIN and error messages.
    pub fn sql_name(self) -> &'static str {
        match self {
            DataType::Null => "NULL",
            DataType::Boolean => "BOOLEAN",
            DataType::SmallInt => "SMALLINT",
            DataType::Integer => "INTEGER",
            DataType::BigInt => "BIGINT",
            DataType::Real => "REAL",
            DataType::Double => "DOUBLE",
            DataType::Text => "TEXT",
            DataType::Date => "DATE",
            DataType::Timestamp => "TIMESTAMP",
            DataType::Interval => "INTERVAL",
        }
    }

    pub fn is_integer(self) -> bool {
        matches!(self, DataType::SmallInt | DataType::Integer | DataType::BigInt)
    }

    pub fn is_float(self) -> bool {
        matches!(self, DataType::Real | DataType::Double)
    }

    pub fn is_numeric(self) -> bool {
        self.is_integer() || self.is_float()
    }

    pub fn is_temporal(self) -> bool {
        matches!(self, DataType::Date | DataType::Timestamp)
    }

    /// Rank of a numeric type in the implicit widening order
    /// SMALLINT < INTEGER < BIGINT < REAL < DOUBLE.
    pub fn numeric_rank(self) -> Option<u8> {
        Some(match self {
            DataType::SmallInt => 1,
            DataType::Integer => 2,
            DataType::BigInt => 3,
            DataType::Real => 4,
            DataType::Double => 5,
            _ => return None,
        })
    }
}

impl fmt::Display for DataType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.sql_name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrow_round_trip() {
        for dt in [
            DataType::Null,
            DataType::Boolean,
            DataType::SmallInt,
            DataType::Integer,
            DataType::BigInt,
            DataType::Real,
            DataType::Double,
            DataType::Text,
            DataType::Date,
            DataType::Timestamp,
            DataType::Interval,
        ] {
            assert_eq!(DataType::from_arrow(&dt.to_arrow()), Some(dt));
            assert_eq!(DataType::try_from_code(dt.code()), Some(dt));
        }
        assert_eq!(DataType::from_arrow(&ArrowType::UInt8), None);
        assert_eq!(DataType::try_from_code(11), None);
    }

    #[test]
    fn numeric_order() {
        assert!(DataType::Integer.numeric_rank() < DataType::Double.numeric_rank());
        assert_eq!(DataType::Text.numeric_rank(), None);
    }
}
