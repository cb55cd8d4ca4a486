//! Row keys: rows of several columns encoded into byte strings that are equal exactly when
//! the rows are equal under GROUP BY / DISTINCT / PRIMARY KEY semantics (NULLs equal each
//! other, -0 equals 0, every NaN equals every NaN).

use crate::error::{ExecError, Result};
use crate::kernels::as_prim;
use crate::kernels::compare::{downcast_bool, downcast_utf8};
use arrow::array::Array;
use arrow::types::months_days_ns;
use storage::DataType;

fn put_f64(buf: &mut Vec<u8>, v: f64) {
    let canon = if v.is_nan() {
        f64::NAN
    } else if v == 0.0 {
        0.0
    } else {
        v
    };
    buf.extend_from_slice(&canon.to_bits().to_le_bytes());
}

/// Appends the encoding of every row of `array` to the matching key in `keys`.
pub fn append_column(keys: &mut [Vec<u8>], array: &dyn Array) -> Result<()> {
    let dt = DataType::from_arrow(array.data_type())
        .ok_or_else(|| ExecError::Internal(format!("cannot key {:?}", array.data_type())))?;
    macro_rules! each_valid {
        ($get:expr) => {
            for (row_idx, key) in keys.iter_mut().enumerate() {
                if array.is_null(row_idx) {
                    key.push(0);
                } else {
                    key.push(1);
                    $get(key, row_idx);
                }
            }
        };
    }
    match dt {
        DataType::Null => keys.iter_mut().for_each(|k| k.push(0)),
        DataType::Boolean => {
            let a = downcast_bool(array)?;
            each_valid!(|k: &mut Vec<u8>, i| k.push(a.value(i) as u8));
        }
        DataType::SmallInt => {
            let a = as_prim::<i16>(array)?;
            each_valid!(|k: &mut Vec<u8>, i| k.extend_from_slice(&(a.value(i) as i64).to_le_bytes()));
        }
        DataType::Integer | DataType::Date => {
            let a = as_prim::<i32>(array)?;
            each_valid!(|k: &mut Vec<u8>, i| k.extend_from_slice(&(a.value(i) as i64).to_le_bytes()));
        }
        DataType::BigInt | DataType::Timestamp => {
            let a = as_prim::<i64>(array)?;
            each_valid!(|k: &mut Vec<u8>, i| k.extend_from_slice(&a.value(i).to_le_bytes()));
        }
        DataType::Real => {
            let a = as_prim::<f32>(array)?;
            each_valid!(|k: &mut Vec<u8>, i| put_f64(k, a.value(i) as f64));
        }
        DataType::Double => {
            let a = as_prim::<f64>(array)?;
            each_valid!(|k: &mut Vec<u8>, i| put_f64(k, a.value(i)));
        }
        DataType::Text => {
            let a = downcast_utf8(array)?;
            each_valid!(|k: &mut Vec<u8>, i| {
                let s = a.value(i).as_bytes();
                k.extend_from_slice(&(s.len() as u32).to_le_bytes());
                k.extend_from_slice(s);
            });
        }
        DataType::Interval => {
            // PostgreSQL's interval equality: a month is 30 days and a day 24 hours, so
            // '1 day' and '24 hours' are one group.
            let a = as_prim::<months_days_ns>(array)?;
            each_valid!(|k: &mut Vec<u8>, i| {
                let v: months_days_ns = a.value(i);
                let span = (v.months() as i128 * 30 + v.days() as i128) * 86_400_000_000_000 + v.ns() as i128;
                k.extend_from_slice(&span.to_le_bytes());
            });
        }
        other => return Err(ExecError::Internal(format!("cannot key {other} values"))),
    }
    Ok(())
}

/// One key per row over the given columns.
pub fn encode_rows(columns: &[&dyn Array], n_rows: usize) -> Result<Vec<Vec<u8>>> {
    let mut keys = vec![Vec::with_capacity(columns.len() * 9); n_rows];
    for c in columns {
        append_column(&mut keys, *c)?;
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Float64Array, Int32Array, Utf8Array};

    #[test]
    fn equal_rows_equal_keys() {
        let a = Int32Array::from([Some(1), None, Some(1), None]);
        let b = Utf8Array::<i32>::from([Some("x"), Some("y"), Some("x"), Some("y")]);
        let keys = encode_rows(&[&a, &b], 4).unwrap();
        assert_eq!(keys[0], keys[2]);
        assert_eq!(keys[1], keys[3]);
        assert_ne!(keys[0], keys[1]);
        let f = Float64Array::from_slice([0.0, -0.0, f64::NAN, -f64::NAN]);
        let keys = encode_rows(&[&f], 4).unwrap();
        assert_eq!(keys[0], keys[1]);
        assert_eq!(keys[2], keys[3]);
        // Strings are length-prefixed, so ("ab","c") and ("a","bc") differ.
        let x = Utf8Array::<i32>::from_slice(["ab", "a"]);
        let y = Utf8Array::<i32>::from_slice(["c", "bc"]);
        let keys = encode_rows(&[&x, &y], 2).unwrap();
        assert_ne!(keys[0], keys[1]);
        // Intervals key by their length: '1 day' = '24 hours' <> '1 hour'.
        let iv = arrow::array::PrimitiveArray::from_slice([
            months_days_ns::new(0, 1, 0),
            months_days_ns::new(0, 0, 86_400_000_000_000),
            months_days_ns::new(0, 0, 3_600_000_000_000),
        ]);
        let keys = encode_rows(&[&iv], 3).unwrap();
        assert_eq!(keys[0], keys[1]);
        assert_ne!(keys[0], keys[2]);
    }
}
