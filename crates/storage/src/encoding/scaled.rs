//! Scaled-decimal doubles: when every value of a chunk is `k / 10^e` for integers `k` and one
//! small `e` (prices in whole cents are `e = 2`), store `e` and the integers `k`, which then get
//! the integer encodings (frame of reference, dictionary, ...).
//!
//! ```text
//! u8 exponent e | int block of n integers k      value = k as float / 10^e
//! ```
//!
//! The encoder checks that every value comes back bit for bit, so `-0.0`, NaN, infinities and
//! values needing more digits make the chunk fall back to plain; decoding cannot be inexact.

use super::ints::{self, TOP};
use crate::bytes::{ByteReader, DecodeResult, PutLe};
use arrow::types::NativeType;

/// Exact powers of ten as doubles.
const POW10: [f64; 19] =
    [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18];

/// A float type that scaled-decimal encoding supports.
pub(crate) trait ScalableFloat: NativeType {
    /// The largest exponent tried; `10^MAX_EXPONENT` is exact in this type.
    const MAX_EXPONENT: u8;
    /// The largest `|k|` that converts to this type exactly.
    const MAX_EXACT: f64;

    fn as_f64(self) -> f64;
    fn unscale(k: i64, exponent: u8) -> Self;
    fn same_bits(self, other: Self) -> bool;

    /// The integer `k` with `unscale(k, exponent)` bit-identical to `self`, if there is one.
    fn scale(self, exponent: u8) -> Option<i64> {
        let k = (self.as_f64() * POW10[exponent as usize]).round();
        if k.is_nan() || k.abs() > Self::MAX_EXACT {
            return None;
        }
        let k = k as i64;
        Self::unscale(k, exponent).same_bits(self).then_some(k)
    }
}

impl ScalableFloat for f64 {
    const MAX_EXPONENT: u8 = 18;
    const MAX_EXACT: f64 = (1u64 << 53) as f64;
    fn as_f64(self) -> f64 {
        self
    }
    fn unscale(k: i64, exponent: u8) -> f64 {
        k as f64 / POW10[exponent as usize]
    }
    fn same_bits(self, other: f64) -> bool {
        self.to_bits() == other.to_bits()
    }
}

impl ScalableFloat for f32 {
    const MAX_EXPONENT: u8 = 10;
    const MAX_EXACT: f64 = (1u64 << 24) as f64;
    fn as_f64(self) -> f64 {
        self as f64
    }
    fn unscale(k: i64, exponent: u8) -> f32 {
        k as f32 / POW10[exponent as usize] as f32
    }
    fn same_bits(self, other: f32) -> bool {
        self.to_bits() == other.to_bits()
    }
}

/// The smallest exponent that represents every value exactly, and the integers, if any.
pub(crate) fn scale<T: ScalableFloat>(values: &[T]) -> Option<(u8, Vec<i64>)> {
    let mut exponent = 0u8;
    for &v in values {
        while v.scale(exponent).is_none() {
            exponent += 1;
            if exponent > T::MAX_EXPONENT {
                return None;
            }
        }
    }
    // A larger exponent represents every earlier value too in exact arithmetic; the second pass
    // makes sure of it in floating point.
    let ks = values.iter().map(|v| v.scale(exponent)).collect::<Option<Vec<i64>>>()?;
    Some((exponent, ks))
}

pub(crate) fn encode(exponent: u8, ks: &[i64], out: &mut Vec<u8>) {
    out.put_u8(exponent);
    ints::write_block(ks, TOP, out);
}

pub(crate) fn decode<T: ScalableFloat>(r: &mut ByteReader<'_>, n: usize) -> DecodeResult<Vec<T>> {
    let exponent = r.u8()?;
    if exponent > T::MAX_EXPONENT {
        return Err(r.error(format!("decimal exponent {exponent} over {}", T::MAX_EXPONENT)));
    }
    let ks = ints::read_block(r, n, TOP)?;
    Ok(ks.into_iter().map(|k| T::unscale(k, exponent)).collect())
}
