//! Delta encoding: the first value, then the differences between neighbours stored with frame
//! of reference + bit-packing. Sorted timestamps and ids become a few bits per row.
//!
//! ```text
//! i64 first | i64 minimum delta | u8 bit width w | ceil((n - 1) * w / 8) bytes of packed (delta - minimum delta)
//! ```
//!
//! Deltas use wrapping arithmetic, so any sequence round-trips (unsorted ones just pack badly).

use super::bitpack;
use super::frame_of_reference::{read_packed, read_width};
use crate::bytes::{ByteReader, DecodeResult, PutLe};

pub(crate) fn encode(values: &[i64], out: &mut Vec<u8>) {
    let first = values.first().copied().unwrap_or(0);
    let deltas = || values.windows(2).map(|w| w[1].wrapping_sub(w[0]));
    let min = deltas().min().unwrap_or(0);
    let max = deltas().max().unwrap_or(0);
    let width = bitpack::bits_needed(max.wrapping_sub(min) as u64);
    out.put_i64(first);
    out.put_i64(min);
    out.put_u8(width);
    bitpack::pack(deltas().map(|d| d.wrapping_sub(min) as u64), width, out);
}

pub(crate) fn decode(r: &mut ByteReader<'_>, n: usize) -> DecodeResult<Vec<i64>> {
    let first = r.i64()?;
    let min = r.i64()?;
    let width = read_width(r)?;
    let n_deltas = n.saturating_sub(1);
    let bytes = read_packed(r, n_deltas, width)?;
    let mut res = Vec::with_capacity(n);
    if n == 0 {
        return Ok(res);
    }
    res.push(first);
    let mut acc = first;
    bitpack::unpack(bytes, n_deltas, width, |u| {
        acc = acc.wrapping_add(min.wrapping_add(u as i64));
        res.push(acc);
    });
    Ok(res)
}
