//! Plain layouts: values as they are, the fallback of every type and the fastest to decode.
//!
//! ```text
//! integers   u8 byte width b (1, 2, 4 or 8, the narrowest that holds min and max) | n * b bytes, sign-extended on read
//! floats     n * 4 or n * 8 bytes: the IEEE bits (NaN payloads and -0.0 survive)
//! intervals  n * 16 bytes: i32 months, i32 days, i64 nanoseconds
//! booleans   ceil(n / 8) bytes, LSB first
//! text       int block of n lengths (Plain, FrameOfReference or Rle) | the concatenated UTF-8 bytes
//! ```

use super::ints::{self, CODES};
use crate::bytes::{ByteReader, DecodeResult, PutLe};
use crate::error::DecodeError;
use arrow::types::NativeType;

/// The narrowest byte width among 1, 2, 4 and 8 that holds every value in `min..=max`.
pub(crate) fn int_width(min: i64, max: i64) -> u8 {
    let fits = |lo: i64, hi: i64| lo <= min && max <= hi;
    if fits(i8::MIN as i64, i8::MAX as i64) {
        1
    } else if fits(i16::MIN as i64, i16::MAX as i64) {
        2
    } else if fits(i32::MIN as i64, i32::MAX as i64) {
        4
    } else {
        8
    }
}

pub(crate) fn encode_ints(values: &[i64], out: &mut Vec<u8>) {
    let min = values.iter().copied().min().unwrap_or(0);
    let max = values.iter().copied().max().unwrap_or(0);
    let width = int_width(min, max);
    out.put_u8(width);
    out.reserve(values.len() * width as usize);
    for v in values {
        out.extend_from_slice(&v.to_le_bytes()[..width as usize]);
    }
}

pub(crate) fn decode_ints(r: &mut ByteReader<'_>, n: usize) -> DecodeResult<Vec<i64>> {
    let width = r.u8()?;
    if !matches!(width, 1 | 2 | 4 | 8) {
        return Err(r.error(format!("plain integer width {width}")));
    }
    let bytes = take(r, n, width as usize)?;
    let res = match width {
        1 => bytes.iter().map(|&b| b as i8 as i64).collect(),
        2 => bytes.chunks_exact(2).map(|c| i16::from_le_bytes([c[0], c[1]]) as i64).collect(),
        4 => bytes.chunks_exact(4).map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]) as i64).collect(),
        _ => bytes
            .chunks_exact(8)
            .map(|c| i64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
            .collect(),
    };
    Ok(res)
}

/// The bytes of `n` items of `size` bytes each.
fn take<'a>(r: &mut ByteReader<'a>, n: usize, size: usize) -> DecodeResult<&'a [u8]> {
    let len = n.checked_mul(size).ok_or_else(|| r.error("length overflows"))?;
    r.bytes(len)
}

/// Fixed-width native values (floats, intervals) as their little-endian bytes.
pub(crate) fn encode_native<T: NativeType>(values: &[T], out: &mut Vec<u8>) {
    out.reserve(std::mem::size_of_val(values));
    for v in values {
        out.extend_from_slice(v.to_le_bytes().as_ref());
    }
}

pub(crate) fn decode_native<T: NativeType>(r: &mut ByteReader<'_>, n: usize) -> DecodeResult<Vec<T>> {
    let size = std::mem::size_of::<T>();
    let start = r.pos();
    let bytes = take(r, n, size)?;
    bytes
        .chunks_exact(size)
        .map(|c| {
            T::Bytes::try_from(c).map(T::from_le_bytes).map_err(|_| DecodeError::new(start, "bad native value width"))
        })
        .collect()
}

pub(crate) fn encode_bools(bitmap_bytes: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(bitmap_bytes);
}

pub(crate) fn decode_bools<'a>(r: &mut ByteReader<'a>, n: usize) -> DecodeResult<&'a [u8]> {
    r.bytes(n.div_ceil(8))
}

/// Appends strings given as `lengths` and their concatenated bytes.
pub(crate) fn encode_strings(lengths: &[i64], bytes: &[u8], out: &mut Vec<u8>) {
    ints::write_block(lengths, CODES, out);
    out.extend_from_slice(bytes);
}

/// Reads `n` strings as arrow offsets (starting at 0) and their bytes; UTF-8 is checked by the
/// caller when it builds the array.
pub(crate) fn decode_strings<'a>(r: &mut ByteReader<'a>, n: usize) -> DecodeResult<(Vec<i32>, &'a [u8])> {
    let start = r.pos();
    let lengths = ints::read_block(r, n, CODES)?;
    let mut offsets = Vec::with_capacity(n + 1);
    offsets.push(0i32);
    let mut total: i32 = 0;
    for len in lengths {
        total = i32::try_from(len)
            .ok()
            .filter(|len| *len >= 0)
            .and_then(|len| total.checked_add(len))
            .ok_or_else(|| DecodeError::new(start, format!("string length {len} invalid or total over 2 GiB")))?;
        offsets.push(total);
    }
    let bytes = r.bytes(total as usize)?;
    Ok((offsets, bytes))
}
