//! Zone maps: the minimum, maximum and NULL count of a column chunk, stored beside the chunk so a
//! scan can skip row groups without decoding them.
//!
//! Orders follow SQL: NaN sorts above every other double, so a chunk holding a NaN has the NaN as
//! its maximum. `-0.0` and `0.0` both appear as themselves; a pruner must compare numerically
//! (where they are equal), not by bit pattern. Text bounds longer than
//! [`MAX_TEXT_BOUND_BYTES`] are shortened to a prefix (for the minimum) or to a prefix whose last
//! character is incremented (for the maximum), so they stay true bounds. Intervals have no
//! bounds (both are `Value::Null`).

use crate::bytes::{ByteReader, DecodeResult, PutLe};
use crate::types::DataType;
use crate::value::Value;
use arrow::array::{Array, BooleanArray, PrimitiveArray, Utf8Array};
use arrow::types::NativeType;
use std::cmp::Ordering;

/// Text bounds are at most this many bytes long.
pub const MAX_TEXT_BOUND_BYTES: usize = 64;

/// Statistics of one column chunk.
#[derive(Debug, Clone, PartialEq)]
pub struct ZoneMap {
    /// The smallest non-NULL value, or a lower bound for long text; `Value::Null` when every
    /// row is NULL or the type has no order.
    pub min: Value,
    /// The largest non-NULL value, or an upper bound for long text.
    pub max: Value,
    pub null_count: u64,
    pub n_rows: u64,
}

impl ZoneMap {
    /// Statistics of `array`, one of the arrays [`DataType::from_arrow`] accepts.
    pub fn compute(array: &dyn Array) -> ZoneMap {
        let (min, max) = match DataType::from_arrow(array.data_type()) {
            Some(DataType::Boolean) => bool_bounds(array),
            Some(DataType::SmallInt) => int_bounds::<i16>(array, Value::SmallInt),
            Some(DataType::Integer) => int_bounds::<i32>(array, Value::Integer),
            Some(DataType::BigInt) => int_bounds::<i64>(array, Value::BigInt),
            Some(DataType::Date) => int_bounds::<i32>(array, Value::Date),
            Some(DataType::Timestamp) => int_bounds::<i64>(array, Value::Timestamp),
            Some(DataType::Real) => float_bounds::<f32>(array, |v| v.is_nan(), f32::total_cmp, Value::Real),
            Some(DataType::Double) => float_bounds::<f64>(array, |v| v.is_nan(), f64::total_cmp, Value::Double),
            Some(DataType::Text) => text_bounds(array),
            _ => (Value::Null, Value::Null),
        };
        ZoneMap { min, max, null_count: array.null_count() as u64, n_rows: array.len() as u64 }
    }

    /// True when every row is NULL (or there are no rows).
    pub fn all_null(&self) -> bool {
        self.null_count == self.n_rows
    }

    pub(crate) fn write(&self, out: &mut Vec<u8>) {
        out.put_u64(self.n_rows);
        out.put_u64(self.null_count);
        write_value(&self.min, out);
        write_value(&self.max, out);
    }

    pub(crate) fn read(r: &mut ByteReader<'_>) -> DecodeResult<ZoneMap> {
        let n_rows = r.u64()?;
        let null_count = r.u64()?;
        if null_count > n_rows {
            return Err(r.error(format!("zone map null count {null_count} exceeds its {n_rows} rows")));
        }
        let min = read_value(r)?;
        let max = read_value(r)?;
        Ok(ZoneMap { min, max, null_count, n_rows })
    }
}

fn valid_values<'a, T: NativeType>(array: &'a dyn Array) -> Option<impl Iterator<Item = T> + 'a> {
    let array = array.as_any().downcast_ref::<PrimitiveArray<T>>()?;
    Some(array.iter().flatten().copied())
}

fn int_bounds<T: NativeType + Ord>(array: &dyn Array, wrap: fn(T) -> Value) -> (Value, Value) {
    let Some(values) = valid_values::<T>(array) else { return (Value::Null, Value::Null) };
    let mut bounds: Option<(T, T)> = None;
    for v in values {
        bounds = Some(match bounds {
            None => (v, v),
            Some((lo, hi)) => (lo.min(v), hi.max(v)),
        });
    }
    bounds.map_or((Value::Null, Value::Null), |(lo, hi)| (wrap(lo), wrap(hi)))
}

fn float_bounds<T: NativeType>(
    array: &dyn Array,
    is_nan: fn(&T) -> bool,
    cmp: fn(&T, &T) -> Ordering,
    wrap: fn(T) -> Value,
) -> (Value, Value) {
    let Some(values) = valid_values::<T>(array) else { return (Value::Null, Value::Null) };
    let mut bounds: Option<(T, T)> = None;
    let mut nan: Option<T> = None;
    for v in values {
        if is_nan(&v) {
            nan = Some(v);
            continue;
        }
        bounds = Some(match bounds {
            None => (v, v),
            Some((lo, hi)) => (if cmp(&v, &lo).is_lt() { v } else { lo }, if cmp(&v, &hi).is_gt() { v } else { hi }),
        });
    }
    match (bounds, nan) {
        (Some((lo, _)), Some(nan)) => (wrap(lo), wrap(nan)),
        (Some((lo, hi)), None) => (wrap(lo), wrap(hi)),
        (None, Some(nan)) => (wrap(nan), wrap(nan)),
        (None, None) => (Value::Null, Value::Null),
    }
}

fn bool_bounds(array: &dyn Array) -> (Value, Value) {
    let Some(array) = array.as_any().downcast_ref::<BooleanArray>() else { return (Value::Null, Value::Null) };
    let (mut any_false, mut any_true) = (false, false);
    for v in array.iter().flatten() {
        any_true |= v;
        any_false |= !v;
    }
    match (any_false, any_true) {
        (false, false) => (Value::Null, Value::Null),
        (f, t) => (Value::Boolean(!f), Value::Boolean(t)),
    }
}

fn text_bounds(array: &dyn Array) -> (Value, Value) {
    let Some(array) = array.as_any().downcast_ref::<Utf8Array<i32>>() else { return (Value::Null, Value::Null) };
    let mut bounds: Option<(&str, &str)> = None;
    for v in array.iter().flatten() {
        bounds = Some(match bounds {
            None => (v, v),
            Some((lo, hi)) => (lo.min(v), hi.max(v)),
        });
    }
    bounds.map_or((Value::Null, Value::Null), |(lo, hi)| {
        (Value::Text(text_lower_bound(lo)), Value::Text(text_upper_bound(hi)))
    })
}

/// The longest prefix of `s` of at most `max` bytes that ends on a character boundary.
fn prefix(s: &str, max: usize) -> &str {
    let mut end = max.min(s.len());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// A string of at most [`MAX_TEXT_BOUND_BYTES`] bytes that is `<= s`.
pub fn text_lower_bound(s: &str) -> String {
    prefix(s, MAX_TEXT_BOUND_BYTES).to_string()
}

/// A short string that is `>= s`: a prefix whose last incrementable character is incremented,
/// or `s` itself when it is short already or no character can be incremented.
pub fn text_upper_bound(s: &str) -> String {
    if s.len() <= MAX_TEXT_BOUND_BYTES {
        return s.to_string();
    }
    let mut chars: Vec<char> = prefix(s, MAX_TEXT_BOUND_BYTES - 4).chars().collect();
    while let Some(last) = chars.pop() {
        let next = match last as u32 + 1 {
            0xD800 => Some('\u{E000}'),
            code => char::from_u32(code),
        };
        if let Some(next) = next {
            chars.push(next);
            return chars.into_iter().collect();
        }
    }
    s.to_string()
}

/// Appends a value: its type code, then its payload.
pub(crate) fn write_value(v: &Value, out: &mut Vec<u8>) {
    out.put_u8(v.data_type().code());
    match v {
        Value::Null => {}
        Value::Boolean(b) => out.put_u8(*b as u8),
        Value::SmallInt(x) => out.put_u16(*x as u16),
        Value::Integer(x) | Value::Date(x) => out.put_u32(*x as u32),
        Value::BigInt(x) | Value::Timestamp(x) => out.put_i64(*x),
        Value::Real(x) => out.put_u32(x.to_bits()),
        Value::Double(x) => out.put_u64(x.to_bits()),
        Value::Text(s) => out.put_str(s),
        Value::Interval { months, days, micros } => {
            out.put_u32(*months as u32);
            out.put_u32(*days as u32);
            out.put_i64(*micros);
        }
    }
}

pub(crate) fn read_value(r: &mut ByteReader<'_>) -> DecodeResult<Value> {
    let start = r.pos();
    let code = r.u8()?;
    let Some(dt) = DataType::try_from_code(code) else {
        return Err(crate::error::DecodeError::new(start, format!("unknown value type code {code}")));
    };
    Ok(match dt {
        DataType::Null => Value::Null,
        DataType::Boolean => match r.u8()? {
            0 => Value::Boolean(false),
            1 => Value::Boolean(true),
            b => return Err(r.error(format!("boolean byte {b}"))),
        },
        DataType::SmallInt => Value::SmallInt(r.u16()? as i16),
        DataType::Integer => Value::Integer(r.u32()? as i32),
        DataType::Date => Value::Date(r.u32()? as i32),
        DataType::BigInt => Value::BigInt(r.i64()?),
        DataType::Timestamp => Value::Timestamp(r.i64()?),
        DataType::Real => Value::Real(f32::from_bits(r.u32()?)),
        DataType::Double => Value::Double(f64::from_bits(r.u64()?)),
        DataType::Text => Value::Text(r.str()?.to_string()),
        DataType::Interval => Value::Interval { months: r.u32()? as i32, days: r.u32()? as i32, micros: r.i64()? },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Float64Array, Int32Array, Utf8Array};

    fn check(array: &dyn Array, min: Value, max: Value, null_count: u64) {
        let zm = ZoneMap::compute(array);
        // Debug text compares NaN equal to itself and tells -0.0 from 0.0.
        assert_eq!(format!("{:?}", (&zm.min, &zm.max, zm.null_count)), format!("{:?}", (min, max, null_count)));
        let mut buf = Vec::new();
        zm.write(&mut buf);
        let mut r = ByteReader::new(&buf);
        let back = ZoneMap::read(&mut r).unwrap();
        r.finish().unwrap();
        // Compare through bits so NaN bounds round-trip too.
        let mut again = Vec::new();
        back.write(&mut again);
        assert_eq!(buf, again);
    }

    #[test]
    fn bounds_per_type() {
        check(&Int32Array::from([Some(3), None, Some(-7), Some(5)]), Value::Integer(-7), Value::Integer(5), 1);
        check(&Int32Array::from([None, None]), Value::Null, Value::Null, 2);
        check(&Int32Array::from_slice([] as [i32; 0]), Value::Null, Value::Null, 0);
        check(&Float64Array::from_slice([1.5, f64::NAN, -2.0]), Value::Double(-2.0), Value::Double(f64::NAN), 0);
        check(&Float64Array::from_slice([-0.0, 0.0]), Value::Double(-0.0), Value::Double(0.0), 0);
        check(&BooleanArray::from([Some(true), None]), Value::Boolean(true), Value::Boolean(true), 1);
        check(&Utf8Array::<i32>::from([Some("b"), Some("a"), None]), Value::from("a"), Value::from("b"), 1);
        assert!(ZoneMap::compute(&Int32Array::from([None, None])).all_null());
    }

    #[test]
    fn long_text_bounds_stay_bounds() {
        let long_a = "a".repeat(100);
        let long_z = format!("{}{}", "z".repeat(70), "\u{10FFFF}".repeat(20));
        for s in [long_a.as_str(), long_z.as_str(), "short"] {
            let lo = text_lower_bound(s);
            let hi = text_upper_bound(s);
            assert!(lo.as_str() <= s && s <= hi.as_str(), "{s}");
            assert!(lo.len() <= MAX_TEXT_BOUND_BYTES);
            assert!(hi.len() <= MAX_TEXT_BOUND_BYTES);
        }
        let maxes = "\u{10FFFF}".repeat(30);
        assert_eq!(text_upper_bound(&maxes), maxes);
        assert_eq!(
            text_upper_bound(&format!("{}\u{D7FF}{}", "x".repeat(57), "y".repeat(9))).chars().last(),
            Some('\u{E000}')
        );
    }
}
