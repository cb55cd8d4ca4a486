//! Comparisons `= <> < <= > >=` of same-typed arrays into a BooleanArray. Floats order as
//! PostgreSQL orders them: NaN equals NaN and is greater than every other value; -0 = 0.

use super::{as_prim, combine_validity, simd};
use crate::error::{ExecError, Result};
use arrow::array::{Array, BooleanArray, PrimitiveArray, Utf8Array};
use arrow::bitmap::{Bitmap, MutableBitmap};
use arrow::types::{months_days_ns, NativeType};
use std::cmp::Ordering;
use storage::{DataType, Value};

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    NotEq,
    Lt,
    LtEq,
    Gt,
    GtEq,
}

impl CmpOp {
    pub fn symbol(self) -> &'static str {
        match self {
            CmpOp::Eq => "=",
            CmpOp::NotEq => "<>",
            CmpOp::Lt => "<",
            CmpOp::LtEq => "<=",
            CmpOp::Gt => ">",
            CmpOp::GtEq => ">=",
        }
    }

    /// Whether an ordering satisfies the operator.
    #[inline]
    pub fn holds(self, ord: Ordering) -> bool {
        match self {
            CmpOp::Eq => ord == Ordering::Equal,
            CmpOp::NotEq => ord != Ordering::Equal,
            CmpOp::Lt => ord == Ordering::Less,
            CmpOp::LtEq => ord != Ordering::Greater,
            CmpOp::Gt => ord == Ordering::Greater,
            CmpOp::GtEq => ord != Ordering::Less,
        }
    }

    /// The operator with its operands swapped (`a < b` is `b > a`).
    pub fn flip(self) -> CmpOp {
        match self {
            CmpOp::Lt => CmpOp::Gt,
            CmpOp::LtEq => CmpOp::GtEq,
            CmpOp::Gt => CmpOp::Lt,
            CmpOp::GtEq => CmpOp::LtEq,
            other => other,
        }
    }
}

/// PostgreSQL's float order.
#[inline]
pub fn cmp_f64(a: f64, b: f64) -> Ordering {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        _ => a.partial_cmp(&b).unwrap_or(Ordering::Equal),
    }
}

/// PostgreSQL's interval order: a month counts as 30 days and a day as 24 hours, so
/// `'1 day' = '24 hours'` and `'30 days' = '1 month'`.
#[inline]
pub fn cmp_interval(a: months_days_ns, b: months_days_ns) -> Ordering {
    const NS_PER_DAY: i128 = 86_400_000_000_000;
    let span = |v: months_days_ns| (v.months() as i128 * 30 + v.days() as i128) * NS_PER_DAY + v.ns() as i128;
    span(a).cmp(&span(b))
}

fn cmp_prim<T: NativeType>(
    op: CmpOp,
    lhs: &PrimitiveArray<T>,
    rhs: &PrimitiveArray<T>,
    cmp: impl Fn(T, T) -> Ordering,
) -> BooleanArray {
    let validity = combine_validity(lhs.validity(), rhs.validity());
    let mut bits = MutableBitmap::with_capacity(lhs.len());
    for (a, b) in lhs.values().iter().zip(rhs.values().iter()) {
        bits.push(op.holds(cmp(*a, *b)));
    }
    BooleanArray::new(arrow::datatypes::DataType::Boolean, bits.into(), validity)
}

/// A column-against-column comparison by a SIMD kernel over the value slices.
fn cmp_lanes<T: NativeType>(
    lhs: &PrimitiveArray<T>,
    rhs: &PrimitiveArray<T>,
    kernel: impl Fn(&[T], &[T]) -> Bitmap,
) -> Result<BooleanArray> {
    if lhs.len() != rhs.len() {
        return Err(ExecError::Internal(format!("comparing {} rows with {}", lhs.len(), rhs.len())));
    }
    let validity = combine_validity(lhs.validity(), rhs.validity());
    Ok(BooleanArray::new(arrow::datatypes::DataType::Boolean, kernel(lhs.values(), rhs.values()), validity))
}

/// `lhs op rhs` for two arrays of logical type `dt`.
pub fn compare(op: CmpOp, lhs: &dyn Array, rhs: &dyn Array, dt: DataType) -> Result<BooleanArray> {
    Ok(match dt {
        DataType::SmallInt => cmp_prim(op, as_prim::<i16>(lhs)?, as_prim::<i16>(rhs)?, |a, b| a.cmp(&b)),
        DataType::Integer | DataType::Date => {
            cmp_lanes(as_prim::<i32>(lhs)?, as_prim::<i32>(rhs)?, |l, r| simd::compare_i32_cols(op, l, r))?
        }
        DataType::BigInt | DataType::Timestamp => {
            cmp_lanes(as_prim::<i64>(lhs)?, as_prim::<i64>(rhs)?, |l, r| simd::compare_i64_cols(op, l, r))?
        }
        DataType::Real => cmp_prim(op, as_prim::<f32>(lhs)?, as_prim::<f32>(rhs)?, |a, b| cmp_f64(a as f64, b as f64)),
        DataType::Double => {
            cmp_lanes(as_prim::<f64>(lhs)?, as_prim::<f64>(rhs)?, |l, r| simd::compare_f64_cols(op, l, r))?
        }
        DataType::Interval => {
            cmp_prim(op, as_prim::<months_days_ns>(lhs)?, as_prim::<months_days_ns>(rhs)?, cmp_interval)
        }
        DataType::Text => {
            let (l, r) = (downcast_utf8(lhs)?, downcast_utf8(rhs)?);
            let validity = combine_validity(l.validity(), r.validity());
            let mut bits = MutableBitmap::with_capacity(l.len());
            for row_idx in 0..l.len() {
                bits.push(op.holds(l.value(row_idx).cmp(r.value(row_idx))));
            }
            BooleanArray::new(arrow::datatypes::DataType::Boolean, bits.into(), validity)
        }
        DataType::Boolean => {
            let (l, r) = (downcast_bool(lhs)?, downcast_bool(rhs)?);
            let validity = combine_validity(l.validity(), r.validity());
            let mut bits = MutableBitmap::with_capacity(l.len());
            for (a, b) in l.values().iter().zip(r.values().iter()) {
                bits.push(op.holds(a.cmp(&b)));
            }
            BooleanArray::new(arrow::datatypes::DataType::Boolean, bits.into(), validity)
        }
        DataType::Null => BooleanArray::new_null(arrow::datatypes::DataType::Boolean, lhs.len()),
        other => return Err(ExecError::Internal(format!("comparison of {other} values"))),
    })
}

/// `lhs op rhs` with a non-NULL constant `rhs` of `lhs`'s type, without materialising the
/// constant as an array; `None` for types it does not cover (the caller falls back to
/// [`compare`]). Same results as [`compare`] with the constant repeated.
pub fn compare_scalar(op: CmpOp, lhs: &dyn Array, rhs: &Value) -> Result<Option<BooleanArray>> {
    fn ints<T: NativeType + Ord>(op: CmpOp, a: &PrimitiveArray<T>, v: T) -> BooleanArray {
        let values = a.values().iter();
        let bits: Bitmap = match op {
            CmpOp::Eq => values.map(|&x| x == v).collect(),
            CmpOp::NotEq => values.map(|&x| x != v).collect(),
            CmpOp::Lt => values.map(|&x| x < v).collect(),
            CmpOp::LtEq => values.map(|&x| x <= v).collect(),
            CmpOp::Gt => values.map(|&x| x > v).collect(),
            CmpOp::GtEq => values.map(|&x| x >= v).collect(),
        };
        BooleanArray::new(arrow::datatypes::DataType::Boolean, bits, a.validity().cloned())
    }
    fn floats<T: NativeType>(op: CmpOp, a: &PrimitiveArray<T>, v: f64, conv: impl Fn(T) -> f64) -> BooleanArray {
        let bits: Bitmap = a.values().iter().map(|&x| op.holds(cmp_f64(conv(x), v))).collect();
        BooleanArray::new(arrow::datatypes::DataType::Boolean, bits, a.validity().cloned())
    }
    fn lanes<T: NativeType>(a: &PrimitiveArray<T>, kernel: impl Fn(&[T]) -> Bitmap) -> BooleanArray {
        BooleanArray::new(arrow::datatypes::DataType::Boolean, kernel(a.values()), a.validity().cloned())
    }
    let dt = DataType::from_arrow(lhs.data_type());
    Ok(Some(match (dt, rhs) {
        (Some(DataType::SmallInt), Value::SmallInt(v)) => ints(op, as_prim::<i16>(lhs)?, *v),
        (Some(DataType::Integer), Value::Integer(v)) | (Some(DataType::Date), Value::Date(v)) => {
            lanes(as_prim::<i32>(lhs)?, |x| simd::compare_i32(op, x, *v))
        }
        (Some(DataType::BigInt), Value::BigInt(v)) | (Some(DataType::Timestamp), Value::Timestamp(v)) => {
            lanes(as_prim::<i64>(lhs)?, |x| simd::compare_i64(op, x, *v))
        }
        (Some(DataType::Double), Value::Double(v)) => lanes(as_prim::<f64>(lhs)?, |x| simd::compare_f64(op, x, *v)),
        (Some(DataType::Real), Value::Real(v)) => floats(op, as_prim::<f32>(lhs)?, *v as f64, |x| x as f64),
        (Some(DataType::Text), Value::Text(v)) => {
            let a = downcast_utf8(lhs)?;
            let v = v.as_bytes();
            let bits: Bitmap = match op {
                CmpOp::Eq => super::text::eq_scalar(a, v),
                CmpOp::NotEq => !&super::text::eq_scalar(a, v),
                _ => a.values_iter().map(|x| op.holds(x.as_bytes().cmp(v))).collect(),
            };
            BooleanArray::new(arrow::datatypes::DataType::Boolean, bits, a.validity().cloned())
        }
        _ => return Ok(None),
    }))
}

pub fn downcast_utf8(array: &dyn Array) -> Result<&Utf8Array<i32>> {
    array
        .as_any()
        .downcast_ref::<Utf8Array<i32>>()
        .ok_or_else(|| ExecError::Internal(format!("expected a text array, found {:?}", array.data_type())))
}

pub fn downcast_bool(array: &dyn Array) -> Result<&BooleanArray> {
    array
        .as_any()
        .downcast_ref::<BooleanArray>()
        .ok_or_else(|| ExecError::Internal(format!("expected a boolean array, found {:?}", array.data_type())))
}

#[cfg(test)]
mod scalar_tests {
    use super::*;
    use arrow::array::{Float64Array, Int32Array, Int64Array};

    /// `compare_scalar` agrees with `compare` against the constant repeated, for every operator.
    #[test]
    fn scalar_comparisons_match_array_comparisons() {
        let ops = [CmpOp::Eq, CmpOp::NotEq, CmpOp::Lt, CmpOp::LtEq, CmpOp::Gt, CmpOp::GtEq];
        let cases: Vec<(Box<dyn Array>, Value, DataType)> = vec![
            (Int32Array::from([Some(1), None, Some(3), Some(-2)]).boxed(), Value::Integer(1), DataType::Integer),
            (Int64Array::from([Some(5), Some(7), None]).boxed(), Value::BigInt(6), DataType::BigInt),
            (
                Float64Array::from([Some(f64::NAN), Some(-0.0), None, Some(2.5), Some(f64::INFINITY)]).boxed(),
                Value::Double(0.0),
                DataType::Double,
            ),
            (
                Float64Array::from([Some(f64::NAN), Some(1.0), Some(f64::INFINITY)]).boxed(),
                Value::Double(f64::NAN),
                DataType::Double,
            ),
            (
                Utf8Array::<i32>::from([Some("DE"), Some("D"), None, Some("FR"), Some("")]).boxed(),
                Value::Text("DE".into()),
                DataType::Text,
            ),
        ];
        for (array, value, dt) in &cases {
            let repeated = storage::value::values_to_array(*dt, &vec![value.clone(); array.len()]);
            for op in ops {
                let want = compare(op, array.as_ref(), repeated.as_ref(), *dt).unwrap();
                let got = compare_scalar(op, array.as_ref(), value).unwrap().expect("covered type");
                assert_eq!(got, want, "{op:?} {value:?}");
            }
        }
        assert!(compare_scalar(CmpOp::Eq, cases[0].0.as_ref(), &Value::BigInt(1)).unwrap().is_none());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::Float64Array;

    #[test]
    fn float_order_matches_postgres() {
        let a = Float64Array::from_slice([f64::NAN, -0.0, 1.0]);
        let b = Float64Array::from_slice([f64::NAN, 0.0, f64::NAN]);
        let eq = compare(CmpOp::Eq, &a, &b, DataType::Double).unwrap();
        assert_eq!(eq, BooleanArray::from_slice([true, true, false]));
        let lt = compare(CmpOp::Lt, &a, &b, DataType::Double).unwrap();
        assert_eq!(lt, BooleanArray::from_slice([false, false, true]));
    }

    #[test]
    fn intervals_compare_normalized() {
        use arrow::array::PrimitiveArray;
        let day = months_days_ns::new(0, 1, 0);
        let hours_24 = months_days_ns::new(0, 0, 86_400_000_000_000);
        let month = months_days_ns::new(1, 0, 0);
        let days_31 = months_days_ns::new(0, 31, 0);
        let a = PrimitiveArray::from_slice([day, month, month]);
        let b = PrimitiveArray::from_slice([hours_24, days_31, months_days_ns::new(0, 30, 0)]);
        let eq = compare(CmpOp::Eq, &a, &b, DataType::Interval).unwrap();
        assert_eq!(eq, BooleanArray::from_slice([true, false, true]));
        let lt = compare(CmpOp::Lt, &a, &b, DataType::Interval).unwrap();
        assert_eq!(lt, BooleanArray::from_slice([false, true, false]));
    }

    #[test]
    fn nulls_propagate() {
        let a = Utf8Array::<i32>::from([Some("a"), None]);
        let b = Utf8Array::<i32>::from([Some("b"), Some("b")]);
        let lt = compare(CmpOp::Lt, &a, &b, DataType::Text).unwrap();
        assert_eq!(lt, BooleanArray::from([Some(true), None]));
    }
}
