//! Vectorized kernels over arrow2 arrays. Each computes values as if there were no nulls and
//! combines validity bitmaps separately; errors (overflow, division by zero) are raised only
//! for rows where every input is valid.

pub mod arith;
pub mod boolean;
pub mod cast;
pub mod compare;
pub mod like;
pub mod simd;
pub mod text;

use arrow::array::{Array, PrimitiveArray};
use arrow::bitmap::Bitmap;
use arrow::types::NativeType;

/// The validity of a row-wise combination of two arrays: valid where both are.
pub fn combine_validity(lhs: Option<&Bitmap>, rhs: Option<&Bitmap>) -> Option<Bitmap> {
    match (lhs, rhs) {
        (None, None) => None,
        (Some(v), None) | (None, Some(v)) => Some(v.clone()),
        (Some(l), Some(r)) => Some(l & r),
    }
}

/// Downcasts to a primitive array, or reports an internal error (the binder guarantees types).
pub fn as_prim<T: NativeType>(array: &dyn Array) -> crate::Result<&PrimitiveArray<T>> {
    array.as_any().downcast_ref::<PrimitiveArray<T>>().ok_or_else(|| {
        crate::ExecError::Internal(format!("expected a {:?} array, found {:?}", T::PRIMITIVE, array.data_type()))
    })
}

/// Applies `op` to each pair of values of two equally long primitive arrays. `op` may fail;
/// a failure counts only on rows where both inputs are valid.
pub fn binary_try<T: NativeType, O: NativeType>(
    lhs: &PrimitiveArray<T>,
    rhs: &PrimitiveArray<T>,
    out_type: arrow::datatypes::DataType,
    op: impl Fn(T, T) -> crate::Result<O>,
) -> crate::Result<PrimitiveArray<O>> {
    let validity = combine_validity(lhs.validity(), rhs.validity());
    let (l, r) = (lhs.values().as_slice(), rhs.values().as_slice());
    let mut out = Vec::with_capacity(l.len());
    match &validity {
        None => {
            for (a, b) in l.iter().zip(r) {
                out.push(op(*a, *b)?);
            }
        }
        Some(valid) => {
            for (row_idx, (a, b)) in l.iter().zip(r).enumerate() {
                match op(*a, *b) {
                    Ok(v) => out.push(v),
                    Err(e) if valid.get_bit(row_idx) => return Err(e),
                    Err(_) => out.push(O::default()),
                }
            }
        }
    }
    Ok(PrimitiveArray::new(out_type, out.into(), validity))
}

/// Applies an infallible `op` to each value of a primitive array, keeping its validity.
pub fn unary<T: NativeType, O: NativeType>(
    array: &PrimitiveArray<T>,
    out_type: arrow::datatypes::DataType,
    op: impl Fn(T) -> O,
) -> PrimitiveArray<O> {
    let out: Vec<O> = array.values().iter().map(|v| op(*v)).collect();
    PrimitiveArray::new(out_type, out.into(), array.validity().cloned())
}

/// Applies a fallible `op` to each value; failures count only on valid rows.
pub fn unary_try<T: NativeType, O: NativeType>(
    array: &PrimitiveArray<T>,
    out_type: arrow::datatypes::DataType,
    op: impl Fn(T) -> crate::Result<O>,
) -> crate::Result<PrimitiveArray<O>> {
    let mut out = Vec::with_capacity(array.len());
    for (row_idx, v) in array.values().iter().enumerate() {
        match op(*v) {
            Ok(x) => out.push(x),
            Err(e) if array.is_valid(row_idx) => return Err(e),
            Err(_) => out.push(O::default()),
        }
    }
    Ok(PrimitiveArray::new(out_type, out.into(), array.validity().cloned()))
}
