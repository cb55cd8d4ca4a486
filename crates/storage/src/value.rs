//! [`Value`]: one SQL value, used for literals, parameters, row access and slow paths.
//! Hot paths work on arrow2 arrays, never on `Value`s.

use crate::datetime::{format_date, format_timestamp};
use crate::types::DataType;
use arrow::array::{
    Array, BooleanArray, MutableArray, MutableBooleanArray, MutablePrimitiveArray, MutableUtf8Array, PrimitiveArray,
    Utf8Array,
};
use arrow::types::months_days_ns;
use std::cmp::Ordering;
use std::fmt;

/// A single SQL value.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Value {
    Null,
    Boolean(bool),
    SmallInt(i16),
    Integer(i32),
    BigInt(i64),
    Real(f32),
    Double(f64),
    Text(String),
    /// Days since 1970-01-01.
    Date(i32),
    /// Microseconds since 1970-01-01 00:00:00.
    Timestamp(i64),
    /// Months, days and microseconds.
    Interval {
        months: i32,
        days: i32,
        micros: i64,
    },
}

impl Value {
    /// The logical type of this value (`Null` for NULL).
    pub fn data_type(&self) -> DataType {
        match self {
            Value::Null => DataType::Null,
            Value::Boolean(_) => DataType::Boolean,
            Value::SmallInt(_) => DataType::SmallInt,
            Value::Integer(_) => DataType::Integer,
            Value::BigInt(_) => DataType::BigInt,
            Value::Real(_) => DataType::Real,
            Value::Double(_) => DataType::Double,
            Value::Text(_) => DataType::Text,
            Value::Date(_) => DataType::Date,
            Value::Timestamp(_) => DataType::Timestamp,
            Value::Interval { .. } => DataType::Interval,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The value as an `i64` if it is an integer.
    pub fn as_i64(&self) -> Option<i64> {
        match *self {
            Value::SmallInt(v) => Some(v as i64),
            Value::Integer(v) => Some(v as i64),
            Value::BigInt(v) => Some(v),
            _ => None,
        }
    }

    /// The value as an `f64` if it is numeric.
    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            Value::Real(v) => Some(v as f64),
            Value::Double(v) => Some(v),
            _ => self.as_i64().map(|v| v as f64),
        }
    }

    /// Reads row `row_idx` of an arrow2 array. Unsupported array types read as NULL.
    pub fn from_array(array: &dyn Array, row_idx: usize) -> Value {
        if array.is_null(row_idx) {
            return Value::Null;
        }
        let any = array.as_any();
        match DataType::from_arrow(array.data_type()) {
            Some(DataType::Boolean) => {
                Value::Boolean(any.downcast_ref::<BooleanArray>().is_some_and(|a| a.value(row_idx)))
            }
            Some(DataType::SmallInt) => prim::<i16>(any, row_idx).map_or(Value::Null, Value::SmallInt),
            Some(DataType::Integer) => prim::<i32>(any, row_idx).map_or(Value::Null, Value::Integer),
            Some(DataType::BigInt) => prim::<i64>(any, row_idx).map_or(Value::Null, Value::BigInt),
            Some(DataType::Real) => prim::<f32>(any, row_idx).map_or(Value::Null, Value::Real),
            Some(DataType::Double) => prim::<f64>(any, row_idx).map_or(Value::Null, Value::Double),
            Some(DataType::Date) => prim::<i32>(any, row_idx).map_or(Value::Null, Value::Date),
            Some(DataType::Timestamp) => prim::<i64>(any, row_idx).map_or(Value::Null, Value::Timestamp),
            Some(DataType::Interval) => prim::<months_days_ns>(any, row_idx).map_or(Value::Null, |v| Value::Interval {
                months: v.months(),
                days: v.days(),
                micros: v.ns() / 1000,
            }),
            Some(DataType::Text) => {
                any.downcast_ref::<Utf8Array<i32>>().map_or(Value::Null, |a| Value::Text(a.value(row_idx).to_string()))
            }
            _ => Value::Null,
        }
    }

    /// Total order used by ORDER BY on values and by MIN/MAX on slow paths: NULL sorts
    /// after everything, NaN after every other double. Values of different types compare
    /// numerically when both are numbers, otherwise by type.
    pub fn total_cmp(&self, other: &Value) -> Ordering {
        use Value::*;
        match (self, other) {
            (Null, Null) => Ordering::Equal,
            (Null, _) => Ordering::Greater,
            (_, Null) => Ordering::Less,
            (Boolean(a), Boolean(b)) => a.cmp(b),
            (Text(a), Text(b)) => a.cmp(b),
            (Date(a), Date(b)) => a.cmp(b),
            (Timestamp(a), Timestamp(b)) => a.cmp(b),
            // PostgreSQL's interval order: a month is 30 days, a day 24 hours.
            (Interval { months: m1, days: d1, micros: u1 }, Interval { months: m2, days: d2, micros: u2 }) => {
                let span = |m: i32, d: i32, u: i64| (m as i128 * 30 + d as i128) * 86_400_000_000 + u as i128;
                span(*m1, *d1, *u1).cmp(&span(*m2, *d2, *u2))
            }
            (a, b) => match (a.as_i64(), b.as_i64()) {
                (Some(x), Some(y)) => x.cmp(&y),
                _ => match (a.as_f64(), b.as_f64()) {
                    (Some(x), Some(y)) => x.total_cmp(&y),
                    _ => (a.data_type() as u8).cmp(&(b.data_type() as u8)),
                },
            },
        }
    }
}

fn prim<T: arrow::types::NativeType>(any: &dyn std::any::Any, row_idx: usize) -> Option<T> {
    any.downcast_ref::<PrimitiveArray<T>>().map(|a| a.value(row_idx))
}

/// Formats a double the way the project's sqllogictest adapter and shell print it: the shortest
/// text that reads back as the same value, in plain notation, without a trailing `.0`; `-0`
/// prints as `0`.
pub fn format_f64(v: f64) -> String {
    if v == 0.0 {
        return "0".to_string();
    }
    if v.is_nan() {
        return "NaN".to_string();
    }
    if v.is_infinite() {
        return if v > 0.0 { "Infinity" } else { "-Infinity" }.to_string();
    }
    format!("{v}")
}

/// Formats an interval PostgreSQL-style: `1 year 2 mons 3 days 04:05:06`. As in PostgreSQL's
/// `EncodeInterval`, every count but exactly 1 is plural (`-1 days`), and a positive part after
/// a negative one carries a `+` (`-1 days +02:00:00`).
pub fn format_interval(months: i32, days: i32, micros: i64) -> String {
    let mut out = String::new();
    let (mut is_before, mut is_zero) = (false, true);
    for (value, unit) in [(months / 12, "year"), (months % 12, "mon"), (days, "day")] {
        if value == 0 {
            continue;
        }
        let sep = if is_zero { "" } else { " " };
        let plus = if is_before && value > 0 { "+" } else { "" };
        let plural = if value == 1 { "" } else { "s" };
        out.push_str(&format!("{sep}{plus}{value} {unit}{plural}"));
        is_before = value < 0;
        is_zero = false;
    }
    if micros != 0 || is_zero {
        let sign = if micros < 0 {
            "-"
        } else if is_before {
            "+"
        } else {
            ""
        };
        let m = micros.unsigned_abs();
        let secs = m / 1_000_000;
        let frac = m % 1_000_000;
        let sep = if is_zero { "" } else { " " };
        out.push_str(&format!("{sep}{sign}{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60));
        if frac != 0 {
            out.push_str(format!(".{frac:06}").trim_end_matches('0'));
        }
    }
    out
}

impl fmt::Display for Value {
    /// Prints the value as FORMAT.md of the shared sqllogictest corpora says: NULL as `NULL`,
    /// doubles shortest-round-trip, dates and timestamps in ISO form.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("NULL"),
            Value::Boolean(b) => write!(f, "{b}"),
            Value::SmallInt(v) => write!(f, "{v}"),
            Value::Integer(v) => write!(f, "{v}"),
            Value::BigInt(v) => write!(f, "{v}"),
            Value::Real(v) => f.write_str(&format_f64(*v as f64)),
            Value::Double(v) => f.write_str(&format_f64(*v)),
            Value::Text(s) => f.write_str(s),
            Value::Date(d) => f.write_str(&format_date(*d)),
            Value::Timestamp(t) => f.write_str(&format_timestamp(*t)),
            Value::Interval { months, days, micros } => f.write_str(&format_interval(*months, *days, *micros)),
        }
    }
}

macro_rules! impl_from {
    ($($t:ty => $variant:ident),*) => {$(
        impl From<$t> for Value {
            fn from(v: $t) -> Value { Value::$variant(v.into()) }
        }
    )*};
}
impl_from!(bool => Boolean, i16 => SmallInt, i32 => Integer, i64 => BigInt, f32 => Real, f64 => Double, String => Text);

impl From<&str> for Value {
    fn from(v: &str) -> Value {
        Value::Text(v.to_string())
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Value {
        v.map_or(Value::Null, Into::into)
    }
}

/// Builds an array of logical type `dt` from values that are NULL or already of type `dt`
/// (a value of another type becomes NULL: callers cast first).
pub fn values_to_array(dt: DataType, values: &[Value]) -> Box<dyn Array> {
    fn build<T: arrow::types::NativeType>(
        values: &[Value],
        arrow_type: arrow::datatypes::DataType,
        get: impl Fn(&Value) -> Option<T>,
    ) -> Box<dyn Array> {
        let mut b = MutablePrimitiveArray::<T>::with_capacity(values.len()).to(arrow_type);
        for v in values {
            b.push(get(v));
        }
        b.as_box()
    }
    match dt {
        DataType::Null => Box::new(arrow::array::NullArray::new(dt.to_arrow(), values.len())),
        DataType::Boolean => {
            let mut b = MutableBooleanArray::with_capacity(values.len());
            for v in values {
                b.push(match v {
                    Value::Boolean(x) => Some(*x),
                    _ => None,
                });
            }
            b.as_box()
        }
        DataType::SmallInt => build::<i16>(values, dt.to_arrow(), |v| match v {
            Value::SmallInt(x) => Some(*x),
            _ => None,
        }),
        DataType::Integer => build::<i32>(values, dt.to_arrow(), |v| match v {
            Value::Integer(x) => Some(*x),
            _ => None,
        }),
        DataType::BigInt => build::<i64>(values, dt.to_arrow(), |v| match v {
            Value::BigInt(x) => Some(*x),
            _ => None,
        }),
        DataType::Real => build::<f32>(values, dt.to_arrow(), |v| match v {
            Value::Real(x) => Some(*x),
            _ => None,
        }),
        DataType::Double => build::<f64>(values, dt.to_arrow(), |v| match v {
            Value::Double(x) => Some(*x),
            _ => None,
        }),
        DataType::Date => build::<i32>(values, dt.to_arrow(), |v| match v {
            Value::Date(x) => Some(*x),
            _ => None,
        }),
        DataType::Timestamp => build::<i64>(values, dt.to_arrow(), |v| match v {
            Value::Timestamp(x) => Some(*x),
            _ => None,
        }),
        DataType::Interval => build::<months_days_ns>(values, dt.to_arrow(), |v| match v {
            Value::Interval { months, days, micros } => {
                Some(months_days_ns::new(*months, *days, micros.saturating_mul(1000)))
            }
            _ => None,
        }),
        DataType::Text => {
            let mut b = MutableUtf8Array::<i32>::with_capacity(values.len());
            for v in values {
                match v {
                    Value::Text(s) => b.push(Some(s.as_str())),
                    _ => b.push::<&str>(None),
                }
            }
            b.as_box()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_follows_format_md() {
        assert_eq!(Value::Double(2.5).to_string(), "2.5");
        assert_eq!(Value::Double(19.0).to_string(), "19");
        assert_eq!(Value::Double(-0.0).to_string(), "0");
        assert_eq!(Value::Double(0.1 + 0.2).to_string(), "0.30000000000000004");
        assert_eq!(Value::Null.to_string(), "NULL");
        assert_eq!(Value::Boolean(true).to_string(), "true");
        assert_eq!(Value::Date(0).to_string(), "1970-01-01");
        assert_eq!(Value::Double(1e20).to_string(), "100000000000000000000");
    }

    #[test]
    fn array_round_trip() {
        let vals = vec![Value::Integer(3), Value::Null, Value::Integer(-7)];
        let arr = values_to_array(DataType::Integer, &vals);
        let back: Vec<Value> = (0..arr.len()).map(|i| Value::from_array(arr.as_ref(), i)).collect();
        assert_eq!(back, vals);
        let texts = vec![Value::from("a"), Value::Null, Value::from("")];
        let arr = values_to_array(DataType::Text, &texts);
        let back: Vec<Value> = (0..arr.len()).map(|i| Value::from_array(arr.as_ref(), i)).collect();
        assert_eq!(back, texts);
    }

    #[test]
    fn null_sorts_last() {
        assert_eq!(Value::Null.total_cmp(&Value::Integer(1)), Ordering::Greater);
        assert_eq!(Value::Integer(1).total_cmp(&Value::Double(1.5)), Ordering::Less);
    }

    #[test]
    fn interval_text() {
        assert_eq!(format_interval(14, 3, 3_600_000_000), "1 year 2 mons 3 days 01:00:00");
        assert_eq!(format_interval(0, 0, 0), "00:00:00");
        assert_eq!(format_interval(0, -1, 0), "-1 days");
        assert_eq!(format_interval(-13, 0, 0), "-1 years -1 mons");
        assert_eq!(format_interval(0, -1, 7_200_000_000), "-1 days +02:00:00");
        assert_eq!(format_interval(1, -1, -1_500_000), "1 mon -1 days -00:00:01.5");
    }
}
