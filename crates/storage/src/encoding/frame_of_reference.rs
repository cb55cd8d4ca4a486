//! Frame of reference + bit-packing: each value is stored as its distance from the chunk's
//! minimum, packed at the bit width of the largest distance.
//!
//! ```text
//! i64 reference (the minimum) | u8 bit width w | ceil(n * w / 8) bytes of packed (v - reference)
//! ```
//!
//! Distances use wrapping arithmetic, so the full `i64` range round-trips at width 64.

use super::bitpack;
use crate::bytes::{ByteReader, DecodeResult, PutLe};

pub(crate) fn encode(values: &[i64], out: &mut Vec<u8>) {
    let min = values.iter().copied().min().unwrap_or(0);
    let max = values.iter().copied().max().unwrap_or(0);
    let width = bitpack::bits_needed(max.wrapping_sub(min) as u64);
    out.put_i64(min);
    out.put_u8(width);
    bitpack::pack(values.iter().map(|&v| v.wrapping_sub(min) as u64), width, out);
}

pub(crate) fn decode(r: &mut ByteReader<'_>, n: usize) -> DecodeResult<Vec<i64>> {
    let min = r.i64()?;
    let width = read_width(r)?;
    let bytes = read_packed(r, n, width)?;
    let mut res = Vec::with_capacity(n);
    bitpack::unpack(bytes, n, width, |u| res.push(min.wrapping_add(u as i64)));
    Ok(res)
}

/// Reads a bit width, which must be at most 64.
pub(crate) fn read_width(r: &mut ByteReader<'_>) -> DecodeResult<u8> {
    let width = r.u8()?;
    if width > 64 {
        return Err(r.error(format!("bit width {width} over 64")));
    }
    Ok(width)
}

/// Takes the packed bytes of `n` values at `width` bits.
pub(crate) fn read_packed<'a>(r: &mut ByteReader<'a>, n: usize, width: u8) -> DecodeResult<&'a [u8]> {
    let len = bitpack::packed_len(n, width).ok_or_else(|| r.error("packed length overflows"))?;
    r.bytes(len)
}
