//! Row keys: rows of several columns encoded into byte strings that are equal exactly when
//! the rows are equal under GROUP BY / DISTINCT / PRIMARY KEY semantics (NULLs equal each
//! other, -0 equals 0, every NaN equals every NaN).
//!
//! [`encode_rows`] gives one owned key per row (primary-key indexes keep them);
//! [`RowKeys::encode`] writes the same bytes for a whole batch into one buffer, without an
//! allocation per row (hash aggregation, joins, DISTINCT). [`FastHash`] is the hasher of the
//! executor's hash tables: keys are the engine's own encodings, so no per-table random seed.

use crate::error::{ExecError, Result};
use crate::kernels::as_prim;
use crate::kernels::compare::{downcast_bool, downcast_utf8};
use arrow::array::{Array, BooleanArray, PrimitiveArray, Utf8Array};
use arrow::types::months_days_ns;
use std::hash::{BuildHasherDefault, Hasher};
use storage::DataType;

const MUL: u64 = 0x9E37_79B9_7F4A_7C15;

/// A fast non-cryptographic hasher: each word is mixed in with a rotate, xor and multiply, and
/// `finish` folds the high bits down (hashbrown takes bucket bits from the low end and tag
/// bits from the high end, so both must depend on every input bit).
#[derive(Debug, Default, Clone, Copy)]
pub struct FastHasher {
    h: u64,
}

impl FastHasher {
    #[inline]
    fn add(&mut self, x: u64) {
        self.h = (self.h.rotate_left(23) ^ x).wrapping_mul(MUL);
    }
}

impl Hasher for FastHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.add(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(w) ^ ((rest.len() as u64) << 59));
        }
    }
    #[inline]
    fn write_u8(&mut self, x: u8) {
        self.add(x as u64)
    }
    #[inline]
    fn write_u32(&mut self, x: u32) {
        self.add(x as u64)
    }
    #[inline]
    fn write_u64(&mut self, x: u64) {
        self.add(x)
    }
    #[inline]
    fn write_i64(&mut self, x: i64) {
        self.add(x as u64)
    }
    #[inline]
    fn write_usize(&mut self, x: usize) {
        self.add(x as u64)
    }
    #[inline]
    fn write_u128(&mut self, x: u128) {
        self.add(x as u64);
        self.add((x >> 64) as u64)
    }
    #[inline]
    fn finish(&self) -> u64 {
        let h = self.h ^ (self.h >> 29);
        let h = h.wrapping_mul(0xBF58_476D_1CE4_E5B9);
        h ^ (h >> 32)
    }
}

/// The `BuildHasher` of [`FastHasher`].
pub type FastHash = BuildHasherDefault<FastHasher>;
/// A `HashMap` with [`FastHasher`].
pub type FastMap<K, V> = std::collections::HashMap<K, V, FastHash>;
/// A `HashSet` with [`FastHasher`].
pub type FastSet<K> = std::collections::HashSet<K, FastHash>;

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

/// One column of a key, typed once per batch.
enum KeyCol<'a> {
    Null,
    Bool(&'a BooleanArray),
    I16(&'a PrimitiveArray<i16>),
    I32(&'a PrimitiveArray<i32>),
    I64(&'a PrimitiveArray<i64>),
    F32(&'a PrimitiveArray<f32>),
    F64(&'a PrimitiveArray<f64>),
    Text(&'a Utf8Array<i32>),
    Interval(&'a PrimitiveArray<months_days_ns>),
}

impl<'a> KeyCol<'a> {
    fn new(array: &'a dyn Array) -> Result<KeyCol<'a>> {
        let dt = DataType::from_arrow(array.data_type())
            .ok_or_else(|| ExecError::Internal(format!("cannot key {:?}", array.data_type())))?;
        Ok(match dt {
            DataType::Null => KeyCol::Null,
            DataType::Boolean => KeyCol::Bool(downcast_bool(array)?),
            DataType::SmallInt => KeyCol::I16(as_prim::<i16>(array)?),
            DataType::Integer | DataType::Date => KeyCol::I32(as_prim::<i32>(array)?),
            DataType::BigInt | DataType::Timestamp => KeyCol::I64(as_prim::<i64>(array)?),
            DataType::Real => KeyCol::F32(as_prim::<f32>(array)?),
            DataType::Double => KeyCol::F64(as_prim::<f64>(array)?),
            DataType::Text => KeyCol::Text(downcast_utf8(array)?),
            DataType::Interval => KeyCol::Interval(as_prim::<months_days_ns>(array)?),
            other => return Err(ExecError::Internal(format!("cannot key {other} values"))),
        })
    }

    /// Appends row `i`'s encoding, exactly as [`append_column`] writes it.
    #[inline]
    fn put(&self, i: usize, k: &mut Vec<u8>) {
        let valid = |a: &dyn Array| a.is_valid(i);
        match self {
            KeyCol::Null => k.push(0),
            KeyCol::Bool(a) if valid(*a) => k.extend_from_slice(&[1, a.value(i) as u8]),
            KeyCol::I16(a) if valid(*a) => put_int(k, a.value(i) as i64),
            KeyCol::I32(a) if valid(*a) => put_int(k, a.value(i) as i64),
            KeyCol::I64(a) if valid(*a) => put_int(k, a.value(i)),
            KeyCol::F32(a) if valid(*a) => {
                k.push(1);
                put_f64(k, a.value(i) as f64)
            }
            KeyCol::F64(a) if valid(*a) => {
                k.push(1);
                put_f64(k, a.value(i))
            }
            KeyCol::Text(a) if valid(*a) => {
                let s = a.value(i).as_bytes();
                k.push(1);
                k.extend_from_slice(&(s.len() as u32).to_le_bytes());
                k.extend_from_slice(s);
            }
            KeyCol::Interval(a) if valid(*a) => {
                let v: months_days_ns = a.value(i);
                let span = (v.months() as i128 * 30 + v.days() as i128) * 86_400_000_000_000 + v.ns() as i128;
                k.push(1);
                k.extend_from_slice(&span.to_le_bytes());
            }
            _ => k.push(0),
        }
    }
}

#[inline]
fn put_int(k: &mut Vec<u8>, v: i64) {
    let mut w = [0u8; 9];
    w[0] = 1;
    w[1..].copy_from_slice(&v.to_le_bytes());
    k.extend_from_slice(&w);
}

/// The keys of every row of a batch in one buffer: row `i`'s key is
/// `bytes[ends[i - 1]..ends[i]]`, the same bytes as [`encode_rows`] gives it.
#[derive(Debug, Default)]
pub struct RowKeys {
    bytes: Vec<u8>,
    ends: Vec<usize>,
}

impl RowKeys {
    /// The keys of `n_rows` rows over the given columns.
    pub fn encode(columns: &[&dyn Array], n_rows: usize) -> Result<RowKeys> {
        let cols = columns.iter().map(|c| KeyCol::new(*c)).collect::<Result<Vec<_>>>()?;
        let mut bytes = Vec::with_capacity(n_rows * columns.len() * 9);
        let mut ends = Vec::with_capacity(n_rows);
        for i in 0..n_rows {
            for c in &cols {
                c.put(i, &mut bytes);
            }
            ends.push(bytes.len());
        }
        Ok(RowKeys { bytes, ends })
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Row `i`'s key.
    #[inline]
    pub fn get(&self, i: usize) -> &[u8] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.bytes[start..self.ends[i]]
    }
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

    #[test]
    fn flat_keys_equal_row_keys() {
        use arrow::array::{BooleanArray, Float32Array, Int16Array, Int64Array};
        let cols: Vec<Box<dyn Array>> = vec![
            Int32Array::from([Some(1), None, Some(-7), Some(0)]).boxed(),
            Utf8Array::<i32>::from([Some("x"), Some(""), None, Some("a longer string")]).boxed(),
            Float64Array::from([Some(-0.0), Some(f64::NAN), None, Some(2.5)]).boxed(),
            BooleanArray::from([Some(true), None, Some(false), Some(true)]).boxed(),
            Int16Array::from([Some(3), Some(4), None, Some(-1)]).boxed(),
            Int64Array::from([None, Some(i64::MAX), Some(i64::MIN), Some(9)]).boxed(),
            Float32Array::from([Some(1.5), None, Some(-0.0), Some(f32::NAN)]).boxed(),
            arrow::array::new_null_array(arrow::datatypes::DataType::Null, 4),
            arrow::array::PrimitiveArray::from([
                Some(months_days_ns::new(1, 2, 3)),
                None,
                Some(months_days_ns::new(0, 30, 0)),
                Some(months_days_ns::new(-1, 0, 5)),
            ])
            .boxed(),
        ];
        let refs: Vec<&dyn Array> = cols.iter().map(|c| c.as_ref()).collect();
        let rows = encode_rows(&refs, 4).unwrap();
        let flat = RowKeys::encode(&refs, 4).unwrap();
        assert_eq!(flat.len(), 4);
        for (i, row) in rows.iter().enumerate() {
            assert_eq!(flat.get(i), row.as_slice(), "row {i}");
        }
    }

    #[test]
    fn fast_hasher_spreads_small_integers() {
        use std::hash::BuildHasher;
        let build = FastHash::default();
        let hash = |v: i64| build.hash_one(v);
        // Low 10 bits (bucket choice) and high 7 bits (hashbrown's tag) both vary.
        let low: std::collections::HashSet<u64> = (0..1024).map(|v| hash(v) & 1023).collect();
        let high: std::collections::HashSet<u64> = (0..1024).map(|v| hash(v) >> 57).collect();
        assert!(low.len() > 600, "{}", low.len());
        assert_eq!(high.len(), 128);
        // Byte strings that differ only in length differ.
        let mut a = build.build_hasher();
        a.write(&[0]);
        let mut b = build.build_hasher();
        b.write(&[0, 0]);
        assert_ne!(a.finish(), b.finish());
    }
}
