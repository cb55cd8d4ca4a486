//! CAST between the logical types, with PostgreSQL's rules: text parses strictly, doubles
//! round to the nearest integer (half to even, as PostgreSQL), out-of-range values are errors.

use super::{as_prim, unary, unary_try};
use crate::error::{ExecError, Result};
use arrow::array::{new_null_array, Array};
use arrow::types::NativeType;
use storage::datetime::{parse_date, parse_timestamp, MICROS_PER_DAY};
use storage::value::values_to_array;
use storage::{ArrayRef, DataType, Value};

/// Whether a cast from `from` to `to` exists (implicitly or explicitly).
pub fn can_cast(from: DataType, to: DataType) -> bool {
    use DataType::*;
    if from == to || from == Null || to == Text || from == Text {
        return true;
    }
    match (from, to) {
        (a, b) if a.is_numeric() && b.is_numeric() => true,
        (a, Boolean) | (Boolean, a) if a.is_integer() => true,
        (Date, Timestamp) | (Timestamp, Date) => true,
        _ => false,
    }
}

fn out_of_range(to: DataType) -> ExecError {
    ExecError::Overflow(match to {
        DataType::SmallInt => "smallint",
        DataType::Integer => "integer",
        DataType::BigInt => "bigint",
        DataType::Real => "real",
        _ => "value",
    })
}

/// Rounds a double to an integer the way PostgreSQL's numeric casts do, with a range check.
fn f64_to_i64(v: f64, to: DataType) -> Result<i64> {
    let r = v.round_ties_even();
    if r.is_nan() || !(-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&r) {
        return Err(out_of_range(to));
    }
    Ok(r as i64)
}

/// Casts one value. Used for literals, parameters and the slow paths of the array cast.
pub fn cast_value(value: &Value, to: DataType) -> Result<Value> {
    use DataType as T;
    if value.is_null() {
        return Ok(Value::Null);
    }
    if value.data_type() == to {
        return Ok(value.clone());
    }
    let invalid = || ExecError::InvalidCast { value: value.to_string(), to };
    let from_i64 = |v: i64| -> Result<Value> {
        Ok(match to {
            T::SmallInt => Value::SmallInt(i16::try_from(v).map_err(|_| out_of_range(to))?),
            T::Integer => Value::Integer(i32::try_from(v).map_err(|_| out_of_range(to))?),
            T::BigInt => Value::BigInt(v),
            T::Real => Value::Real(v as f32),
            T::Double => Value::Double(v as f64),
            T::Boolean => Value::Boolean(v != 0),
            T::Text => Value::Text(v.to_string()),
            _ => return Err(invalid()),
        })
    };
    match value {
        Value::SmallInt(_) | Value::Integer(_) | Value::BigInt(_) => from_i64(value.as_i64().unwrap_or(0)),
        Value::Real(_) | Value::Double(_) => {
            let v = value.as_f64().unwrap_or(0.0);
            match to {
                T::Real => Ok(Value::Real(v as f32)),
                T::Double => Ok(Value::Double(v)),
                T::Text => Ok(Value::Text(value.to_string())),
                t if t.is_integer() => from_i64(f64_to_i64(v, to)?),
                _ => Err(invalid()),
            }
        }
        Value::Boolean(b) => match to {
            T::Text => Ok(Value::Text(b.to_string())),
            t if t.is_integer() => from_i64(*b as i64),
            _ => Err(invalid()),
        },
        Value::Date(d) => match to {
            T::Timestamp => Ok(Value::Timestamp(*d as i64 * MICROS_PER_DAY)),
            T::Text => Ok(Value::Text(value.to_string())),
            _ => Err(invalid()),
        },
        Value::Timestamp(ts) => match to {
            T::Date => Ok(Value::Date(ts.div_euclid(MICROS_PER_DAY) as i32)),
            T::Text => Ok(Value::Text(value.to_string())),
            _ => Err(invalid()),
        },
        Value::Interval { .. } => match to {
            T::Text => Ok(Value::Text(value.to_string())),
            _ => Err(invalid()),
        },
        Value::Text(s) => {
            let t = s.trim();
            match to {
                T::SmallInt | T::Integer | T::BigInt => {
                    let v: i64 = t.parse().map_err(|_| {
                        // A number that parses but does not fit is out of range, not malformed.
                        if !t.is_empty() && t.trim_start_matches(['-', '+']).bytes().all(|b| b.is_ascii_digit()) {
                            out_of_range(to)
                        } else {
                            invalid()
                        }
                    })?;
                    from_i64(v)
                }
                T::Real | T::Double => {
                    let v: f64 = match t.to_ascii_lowercase().as_str() {
                        "nan" => f64::NAN,
                        "infinity" | "inf" | "+infinity" | "+inf" => f64::INFINITY,
                        "-infinity" | "-inf" => f64::NEG_INFINITY,
                        _ => t.parse().map_err(|_| invalid())?,
                    };
                    Ok(if to == T::Real { Value::Real(v as f32) } else { Value::Double(v) })
                }
                T::Boolean => match t.to_ascii_lowercase().as_str() {
                    "t" | "true" | "y" | "yes" | "on" | "1" => Ok(Value::Boolean(true)),
                    "f" | "false" | "n" | "no" | "off" | "0" => Ok(Value::Boolean(false)),
                    _ => Err(invalid()),
                },
                T::Date => parse_date(t)
                    .or_else(|| parse_timestamp(t).map(|ts| ts.div_euclid(MICROS_PER_DAY) as i32))
                    .map(Value::Date)
                    .ok_or_else(invalid),
                T::Timestamp => parse_timestamp(t).map(Value::Timestamp).ok_or_else(invalid),
                T::Interval => {
                    let iv = crate::time::parse_interval(t, None)?;
                    Ok(Value::Interval { months: iv.months, days: iv.days, micros: iv.micros })
                }
                _ => Err(invalid()),
            }
        }
        _ => Err(invalid()),
    }
}

fn int_to_int<I: NativeType + Into<i64>, O: NativeType + TryFrom<i64>>(
    array: &dyn Array,
    to: DataType,
) -> Result<ArrayRef> {
    Ok(unary_try(as_prim::<I>(array)?, to.to_arrow(), |v: I| O::try_from(v.into()).map_err(|_| out_of_range(to)))?
        .boxed())
}

fn int_to_float<I: NativeType + Into<i64>>(array: &dyn Array, to: DataType) -> Result<ArrayRef> {
    let a = as_prim::<I>(array)?;
    Ok(if to == DataType::Real {
        unary(a, to.to_arrow(), |v: I| v.into() as f32).boxed()
    } else {
        unary(a, to.to_arrow(), |v: I| v.into() as f64).boxed()
    })
}

/// Casts an array to logical type `to`.
pub fn cast(array: &dyn Array, to: DataType) -> Result<ArrayRef> {
    use DataType as T;
    let from = DataType::from_arrow(array.data_type())
        .ok_or_else(|| ExecError::Internal(format!("unsupported array type {:?}", array.data_type())))?;
    if from == to {
        return Ok(array.to_boxed());
    }
    if from == T::Null {
        return Ok(new_null_array(to.to_arrow(), array.len()));
    }
    match (from, to) {
        (T::SmallInt, T::Integer) => int_to_int::<i16, i32>(array, to),
        (T::SmallInt, T::BigInt) => int_to_int::<i16, i64>(array, to),
        (T::Integer, T::SmallInt) => int_to_int::<i32, i16>(array, to),
        (T::Integer, T::BigInt) => int_to_int::<i32, i64>(array, to),
        (T::BigInt, T::SmallInt) => int_to_int::<i64, i16>(array, to),
        (T::BigInt, T::Integer) => int_to_int::<i64, i32>(array, to),
        (T::SmallInt, T::Real | T::Double) => int_to_float::<i16>(array, to),
        (T::Integer, T::Real | T::Double) => int_to_float::<i32>(array, to),
        (T::BigInt, T::Real | T::Double) => int_to_float::<i64>(array, to),
        (T::Real, T::Double) => Ok(unary(as_prim::<f32>(array)?, to.to_arrow(), |v: f32| v as f64).boxed()),
        (T::Double, T::Real) => Ok(unary(as_prim::<f64>(array)?, to.to_arrow(), |v: f64| v as f32).boxed()),
        (T::Double, T::BigInt) => {
            Ok(unary_try(as_prim::<f64>(array)?, to.to_arrow(), |v: f64| f64_to_i64(v, to))?.boxed())
        }
        (T::Date, T::Timestamp) => Ok(unary_try(as_prim::<i32>(array)?, to.to_arrow(), |d: i32| {
            (d as i64).checked_mul(MICROS_PER_DAY).ok_or(ExecError::Overflow("timestamp"))
        })?
        .boxed()),
        (T::Timestamp, T::Date) => {
            Ok(unary(as_prim::<i64>(array)?, to.to_arrow(), |t: i64| t.div_euclid(MICROS_PER_DAY) as i32).boxed())
        }
        _ => {
            // The general path: one value at a time.
            let mut out = Vec::with_capacity(array.len());
            for row_idx in 0..array.len() {
                out.push(cast_value(&Value::from_array(array, row_idx), to)?);
            }
            Ok(values_to_array(to, &out))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Float64Array, Int32Array, Utf8Array};

    #[test]
    fn text_casts_are_strict() {
        assert_eq!(cast_value(&Value::from(" 42 "), DataType::Integer).unwrap(), Value::Integer(42));
        assert!(matches!(cast_value(&Value::from("4x"), DataType::Integer), Err(ExecError::InvalidCast { .. })));
        assert!(matches!(cast_value(&Value::from("99999999999"), DataType::Integer), Err(ExecError::Overflow(_))));
        assert_eq!(cast_value(&Value::from("yes"), DataType::Boolean).unwrap(), Value::Boolean(true));
        assert_eq!(cast_value(&Value::from("2024-02-29"), DataType::Date).unwrap(), Value::Date(19782));
        assert_eq!(cast_value(&Value::Double(2.5), DataType::Integer).unwrap(), Value::Integer(2));
        assert_eq!(cast_value(&Value::Double(-2.5), DataType::Integer).unwrap(), Value::Integer(-2));
        assert_eq!(cast_value(&Value::Double(1.5), DataType::Text).unwrap(), Value::from("1.5"));
    }

    #[test]
    fn array_casts() {
        let a = Int32Array::from([Some(1), None]);
        let d = cast(&a, DataType::Double).unwrap();
        assert_eq!(d.as_any().downcast_ref::<Float64Array>().unwrap(), &Float64Array::from([Some(1.0), None]));
        let t = cast(&a, DataType::Text).unwrap();
        assert_eq!(t.as_any().downcast_ref::<Utf8Array<i32>>().unwrap(), &Utf8Array::<i32>::from([Some("1"), None]));
        let big = Float64Array::from([Some(1e300)]);
        assert!(cast(&big, DataType::Integer).is_err());
    }
}
