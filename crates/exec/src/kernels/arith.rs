//! Arithmetic: `+ - * / %` on same-typed numeric arrays, plus date arithmetic.
//! Integer overflow and division by zero are errors, as in PostgreSQL.

use super::simd::{self, LaneOp};
use super::{as_prim, binary_try};
use crate::error::{ExecError, Result};
use arrow::array::{Array, PrimitiveArray};
use arrow::bitmap::Bitmap;
use storage::{ArrayRef, DataType};

/// An arithmetic operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArithOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
}

impl ArithOp {
    pub fn symbol(self) -> &'static str {
        match self {
            ArithOp::Add => "+",
            ArithOp::Sub => "-",
            ArithOp::Mul => "*",
            ArithOp::Div => "/",
            ArithOp::Mod => "%",
        }
    }
}

macro_rules! int_op {
    ($t:ty, $name:literal) => {
        |op: ArithOp| -> Box<dyn Fn($t, $t) -> Result<$t>> {
            match op {
                ArithOp::Add => Box::new(|a: $t, b: $t| a.checked_add(b).ok_or(ExecError::Overflow($name))),
                ArithOp::Sub => Box::new(|a: $t, b: $t| a.checked_sub(b).ok_or(ExecError::Overflow($name))),
                ArithOp::Mul => Box::new(|a: $t, b: $t| a.checked_mul(b).ok_or(ExecError::Overflow($name))),
                ArithOp::Div => Box::new(|a: $t, b: $t| {
                    if b == 0 {
                        Err(ExecError::DivisionByZero)
                    } else {
                        a.checked_div(b).ok_or(ExecError::Overflow($name))
                    }
                }),
                ArithOp::Mod => {
                    Box::new(|a: $t, b: $t| if b == 0 { Err(ExecError::DivisionByZero) } else { Ok(a.wrapping_rem(b)) })
                }
            }
        }
    };
}

fn int_arith<T: arrow::types::NativeType>(
    lhs: &dyn Array,
    rhs: &dyn Array,
    dt: DataType,
    f: Box<dyn Fn(T, T) -> Result<T>>,
) -> Result<ArrayRef> {
    Ok(binary_try(as_prim::<T>(lhs)?, as_prim::<T>(rhs)?, dt.to_arrow(), f)?.boxed())
}

fn float_op<T: num_like::Float>(op: ArithOp) -> impl Fn(T, T) -> Result<T> {
    move |a: T, b: T| match op {
        ArithOp::Add => Ok(a + b),
        ArithOp::Sub => Ok(a - b),
        ArithOp::Mul => Ok(a * b),
        ArithOp::Div if b == T::ZERO => Err(ExecError::DivisionByZero),
        ArithOp::Div => Ok(a / b),
        ArithOp::Mod if b == T::ZERO => Err(ExecError::DivisionByZero),
        ArithOp::Mod => Ok(a % b),
    }
}

mod num_like {
    /// The float operations the arithmetic kernels need.
    pub trait Float:
        arrow::types::NativeType
        + std::ops::Add<Output = Self>
        + std::ops::Sub<Output = Self>
        + std::ops::Mul<Output = Self>
        + std::ops::Div<Output = Self>
        + std::ops::Rem<Output = Self>
    {
        const ZERO: Self;
    }
    impl Float for f32 {
        const ZERO: f32 = 0.0;
    }
    impl Float for f64 {
        const ZERO: f64 = 0.0;
    }
}

/// `lhs op rhs` where both arrays have type `dt` (the binder casts operands to a common type).
pub fn arith(op: ArithOp, lhs: &dyn Array, rhs: &dyn Array, dt: DataType) -> Result<ArrayRef> {
    let lane_op = match op {
        ArithOp::Add => Some(LaneOp::Add),
        ArithOp::Sub => Some(LaneOp::Sub),
        ArithOp::Mul => Some(LaneOp::Mul),
        ArithOp::Div | ArithOp::Mod => None,
    };
    match (dt, lane_op) {
        (DataType::Integer, Some(op)) => return lanes(lhs, rhs, dt, |l, r, v| simd::arith_i32(op, l, r, v), "integer"),
        (DataType::BigInt, Some(op)) => return lanes(lhs, rhs, dt, |l, r, v| simd::arith_i64(op, l, r, v), "bigint"),
        (DataType::Double, Some(op)) => {
            return lanes(lhs, rhs, dt, |l: &[f64], r: &[f64], _| Some(simd::arith_f64(op, l, r)), "double precision")
        }
        _ => {}
    }
    match dt {
        DataType::SmallInt => int_arith::<i16>(lhs, rhs, dt, int_op!(i16, "smallint")(op)),
        DataType::Integer => int_arith::<i32>(lhs, rhs, dt, int_op!(i32, "integer")(op)),
        DataType::BigInt => int_arith::<i64>(lhs, rhs, dt, int_op!(i64, "bigint")(op)),
        DataType::Real => {
            Ok(binary_try(as_prim::<f32>(lhs)?, as_prim::<f32>(rhs)?, dt.to_arrow(), float_op(op))?.boxed())
        }
        DataType::Double => {
            Ok(binary_try(as_prim::<f64>(lhs)?, as_prim::<f64>(rhs)?, dt.to_arrow(), float_op(op))?.boxed())
        }
        other => Err(ExecError::Internal(format!("arithmetic on {other}"))),
    }
}

/// `+ - *` by a SIMD kernel: `kernel` returns `None` when a valid row overflows.
fn lanes<T: arrow::types::NativeType>(
    lhs: &dyn Array,
    rhs: &dyn Array,
    dt: DataType,
    kernel: impl Fn(&[T], &[T], Option<&Bitmap>) -> Option<Vec<T>>,
    type_name: &'static str,
) -> Result<ArrayRef> {
    let (lhs, rhs) = (as_prim::<T>(lhs)?, as_prim::<T>(rhs)?);
    if lhs.len() != rhs.len() {
        return Err(ExecError::Internal(format!("arithmetic on {} rows with {}", lhs.len(), rhs.len())));
    }
    let validity = super::combine_validity(lhs.validity(), rhs.validity());
    let out = kernel(lhs.values(), rhs.values(), validity.as_ref()).ok_or(ExecError::Overflow(type_name))?;
    Ok(PrimitiveArray::new(dt.to_arrow(), out.into(), validity).boxed())
}

/// `date ± days` (days as INTEGER).
pub fn date_add_days(date: &dyn Array, days: &dyn Array, negate: bool) -> Result<ArrayRef> {
    let out = binary_try(as_prim::<i32>(date)?, as_prim::<i32>(days)?, DataType::Date.to_arrow(), |d, n| {
        let n = if negate { n.checked_neg().ok_or(ExecError::Overflow("date"))? } else { n };
        d.checked_add(n).ok_or(ExecError::Overflow("date"))
    })?;
    Ok(out.boxed())
}

/// `date - date` in days (INTEGER).
pub fn date_diff(lhs: &dyn Array, rhs: &dyn Array) -> Result<ArrayRef> {
    let out: PrimitiveArray<i32> =
        binary_try(as_prim::<i32>(lhs)?, as_prim::<i32>(rhs)?, DataType::Integer.to_arrow(), |a, b| {
            a.checked_sub(b).ok_or(ExecError::Overflow("integer"))
        })?;
    Ok(out.boxed())
}

/// Unary minus.
pub fn negate(array: &dyn Array, dt: DataType) -> Result<ArrayRef> {
    use super::unary_try;
    Ok(match dt {
        DataType::SmallInt => unary_try(as_prim::<i16>(array)?, dt.to_arrow(), |v: i16| {
            v.checked_neg().ok_or(ExecError::Overflow("smallint"))
        })?
        .boxed(),
        DataType::Integer => unary_try(as_prim::<i32>(array)?, dt.to_arrow(), |v: i32| {
            v.checked_neg().ok_or(ExecError::Overflow("integer"))
        })?
        .boxed(),
        DataType::BigInt => unary_try(as_prim::<i64>(array)?, dt.to_arrow(), |v: i64| {
            v.checked_neg().ok_or(ExecError::Overflow("bigint"))
        })?
        .boxed(),
        DataType::Real => super::unary(as_prim::<f32>(array)?, dt.to_arrow(), |v: f32| -v).boxed(),
        DataType::Double => super::unary(as_prim::<f64>(array)?, dt.to_arrow(), |v: f64| -v).boxed(),
        other => return Err(ExecError::Internal(format!("negation of {other}"))),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::Int32Array;

    #[test]
    fn integer_division_truncates_and_checks() {
        let a = Int32Array::from([Some(7), Some(-7), None]);
        let b = Int32Array::from([Some(2), Some(2), Some(0)]);
        let out = arith(ArithOp::Div, &a, &b, DataType::Integer).unwrap();
        let out = out.as_any().downcast_ref::<Int32Array>().unwrap();
        assert_eq!(out, &Int32Array::from([Some(3), Some(-3), None]));
        let zero = Int32Array::from([Some(0), Some(1), Some(1)]);
        assert_eq!(arith(ArithOp::Div, &b, &zero, DataType::Integer).unwrap_err(), ExecError::DivisionByZero);
        let max = Int32Array::from([Some(i32::MAX)]);
        let one = Int32Array::from([Some(1)]);
        assert_eq!(arith(ArithOp::Add, &max, &one, DataType::Integer).unwrap_err(), ExecError::Overflow("integer"));
    }
}
