//! Run-length encoding: each run of equal values becomes one value and one length.
//!
//! ```text
//! integers  u32 n_runs | int block of run values (Plain or FrameOfReference) | int block of run lengths (same)
//! booleans  u8 value of the first run | u32 n_runs | int block of run lengths; runs alternate values
//! ```
//!
//! Decoding checks that every run is non-empty and that the lengths add up to the row count.

use super::ints::{self, LEAF};
use crate::bytes::{ByteReader, DecodeResult, PutLe};
use crate::error::DecodeError;
use arrow::bitmap::MutableBitmap;

/// Runs of `values` as (value, length) pairs in two vectors.
fn runs<T: PartialEq + Copy>(values: impl Iterator<Item = T>) -> (Vec<T>, Vec<i64>) {
    let (mut run_values, mut run_lengths) = (Vec::new(), Vec::new());
    for v in values {
        match (run_values.last(), run_lengths.last_mut()) {
            (Some(last), Some(len)) if *last == v => *len += 1,
            _ => {
                run_values.push(v);
                run_lengths.push(1);
            }
        }
    }
    (run_values, run_lengths)
}

pub(crate) fn encode_ints(values: &[i64], out: &mut Vec<u8>) {
    let (run_values, run_lengths) = runs(values.iter().copied());
    out.put_u32(run_values.len() as u32);
    ints::write_block(&run_values, LEAF, out);
    ints::write_block(&run_lengths, LEAF, out);
}

/// Reads the run count and checks it against the row count.
fn read_n_runs(r: &mut ByteReader<'_>, n: usize) -> DecodeResult<usize> {
    let n_runs = r.u32()? as usize;
    if n_runs > n || (n > 0 && n_runs == 0) {
        return Err(r.error(format!("{n_runs} runs for {n} rows")));
    }
    Ok(n_runs)
}

/// Checks that `lengths` are positive and sum to `n`, calling `sink` with each run's index and
/// length.
fn for_each_run(start: usize, lengths: &[i64], n: usize, mut sink: impl FnMut(usize, usize)) -> DecodeResult<()> {
    let mut total = 0usize;
    for (run_idx, &len) in lengths.iter().enumerate() {
        let len = usize::try_from(len)
            .ok()
            .filter(|len| *len > 0 && total + len <= n)
            .ok_or_else(|| DecodeError::new(start, format!("run length {len} invalid for {n} rows")))?;
        total += len;
        sink(run_idx, len);
    }
    if total != n {
        return Err(DecodeError::new(start, format!("runs cover {total} of {n} rows")));
    }
    Ok(())
}

pub(crate) fn decode_ints(r: &mut ByteReader<'_>, n: usize) -> DecodeResult<Vec<i64>> {
    let start = r.pos();
    let n_runs = read_n_runs(r, n)?;
    let run_values = ints::read_block(r, n_runs, LEAF)?;
    let run_lengths = ints::read_block(r, n_runs, LEAF)?;
    let mut res = Vec::with_capacity(n);
    for_each_run(start, &run_lengths, n, |run_idx, len| res.extend(std::iter::repeat_n(run_values[run_idx], len)))?;
    Ok(res)
}

/// Bytes an RLE encoding of these booleans would take, roughly.
pub(crate) fn estimate_bools(values: impl Iterator<Item = bool>) -> usize {
    let (run_values, run_lengths) = runs(values);
    let max_run = run_lengths.iter().copied().max().unwrap_or(0);
    16 + super::bitpack::packed_len(run_values.len(), super::bitpack::bits_needed(max_run as u64)).unwrap_or(usize::MAX)
}

pub(crate) fn encode_bools(values: impl Iterator<Item = bool>, out: &mut Vec<u8>) {
    let (run_values, run_lengths) = runs(values);
    out.put_u8(run_values.first().copied().unwrap_or(false) as u8);
    out.put_u32(run_values.len() as u32);
    ints::write_block(&run_lengths, LEAF, out);
}

pub(crate) fn decode_bools(r: &mut ByteReader<'_>, n: usize) -> DecodeResult<MutableBitmap> {
    let start = r.pos();
    let first = match r.u8()? {
        0 => false,
        1 => true,
        b => return Err(DecodeError::new(start, format!("boolean byte {b}"))),
    };
    let n_runs = read_n_runs(r, n)?;
    let run_lengths = ints::read_block(r, n_runs, LEAF)?;
    let mut res = MutableBitmap::with_capacity(n);
    for_each_run(start, &run_lengths, n, |run_idx, len| res.extend_constant(len, first ^ (run_idx % 2 == 1)))?;
    Ok(res)
}
