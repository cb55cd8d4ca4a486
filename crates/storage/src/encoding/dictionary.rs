//! Dictionary encoding: the sorted distinct values once, then one small code per row. Codes
//! preserve order (code a < code b exactly when value a < value b), so range filters can run
//! on codes before decoding.
//!
//! ```text
//! integers  u32 d | int block of the d sorted values (Plain, FrameOfReference or Delta) | int block of n codes
//! text      u32 d | plain text of the d sorted values | int block of n codes
//! codes     Plain, FrameOfReference or Rle
//! ```
//!
//! NULL rows repeat the previous row's code (the first valid code for leading NULLs), which
//! keeps runs intact; their values are masked by the validity block.

use super::ints::{self, FastMap, CODES, SORTED};
use super::plain;
use crate::bytes::{ByteReader, DecodeResult, PutLe};
use crate::error::DecodeError;
use arrow::array::{Array, Utf8Array};

pub(crate) fn encode_ints(values: &[i64], mut distinct: Vec<i64>, out: &mut Vec<u8>) {
    distinct.sort_unstable();
    let index: FastMap<i64, u32> = distinct.iter().enumerate().map(|(code, &v)| (v, code as u32)).collect();
    let codes: Vec<i64> = values.iter().map(|v| index.get(v).copied().unwrap_or(0) as i64).collect();
    out.put_u32(distinct.len() as u32);
    ints::write_block(&distinct, SORTED, out);
    ints::write_block(&codes, CODES, out);
}

/// Reads the dictionary size, which is at most the row count and positive when there are rows.
fn read_dict_len(r: &mut ByteReader<'_>, n: usize) -> DecodeResult<usize> {
    let d = r.u32()? as usize;
    if d > n || (n > 0 && d == 0) {
        return Err(r.error(format!("dictionary of {d} values for {n} rows")));
    }
    Ok(d)
}

/// Reads `n` codes, each below `d`.
fn read_codes(r: &mut ByteReader<'_>, n: usize, d: usize) -> DecodeResult<Vec<usize>> {
    let start = r.pos();
    let codes = ints::read_block(r, n, CODES)?;
    codes
        .into_iter()
        .map(|c| {
            usize::try_from(c)
                .ok()
                .filter(|c| *c < d)
                .ok_or_else(|| DecodeError::new(start, format!("dictionary code {c} out of range 0..{d}")))
        })
        .collect()
}

pub(crate) fn decode_ints(r: &mut ByteReader<'_>, n: usize) -> DecodeResult<Vec<i64>> {
    let d = read_dict_len(r, n)?;
    let dict = ints::read_block(r, d, SORTED)?;
    let codes = read_codes(r, n, d)?;
    Ok(codes.into_iter().map(|c| dict[c]).collect())
}

/// The sorted distinct strings of `array` and one code per row, if there are at most `cap`
/// distinct strings.
pub(crate) fn build_string_dictionary(array: &Utf8Array<i32>, cap: usize) -> Option<(Vec<&str>, Vec<i64>)> {
    let mut index: FastMap<&str, u32> = FastMap::default();
    let mut first_seen: Vec<&str> = Vec::new();
    let mut codes: Vec<i64> = Vec::with_capacity(array.len());
    let mut leading_nulls = 0usize;
    for v in array.iter() {
        match v {
            Some(s) => {
                let code = *index.entry(s).or_insert_with(|| {
                    first_seen.push(s);
                    first_seen.len() as u32 - 1
                });
                if first_seen.len() > cap {
                    return None;
                }
                if codes.is_empty() {
                    codes.resize(leading_nulls, code as i64);
                }
                codes.push(code as i64);
            }
            None => match codes.last() {
                Some(&last) => codes.push(last),
                None => leading_nulls += 1,
            },
        }
    }
    if first_seen.is_empty() && !array.is_empty() {
        first_seen.push("");
    }
    codes.resize(array.len(), 0);
    // Renumber in sorted order so codes preserve the order of values.
    let mut order: Vec<u32> = (0..first_seen.len() as u32).collect();
    order.sort_unstable_by_key(|&code| first_seen[code as usize]);
    let mut rank = vec![0i64; order.len()];
    for (new_code, &old_code) in order.iter().enumerate() {
        rank[old_code as usize] = new_code as i64;
    }
    for code in &mut codes {
        *code = rank[*code as usize];
    }
    let sorted = order.into_iter().map(|code| first_seen[code as usize]).collect();
    Some((sorted, codes))
}

pub(crate) fn encode_strings(dict: &[&str], codes: &[i64], out: &mut Vec<u8>) {
    out.put_u32(dict.len() as u32);
    let lengths: Vec<i64> = dict.iter().map(|s| s.len() as i64).collect();
    plain::encode_strings(&lengths, dict.concat().as_bytes(), out);
    ints::write_block(codes, CODES, out);
}

/// Reads `n` dictionary-encoded strings as arrow offsets and bytes.
pub(crate) fn decode_strings(r: &mut ByteReader<'_>, n: usize) -> DecodeResult<(Vec<i32>, Vec<u8>)> {
    let start = r.pos();
    let d = read_dict_len(r, n)?;
    let (dict_offsets, dict_bytes) = plain::decode_strings(r, d)?;
    let codes = read_codes(r, n, d)?;
    let mut offsets = Vec::with_capacity(n + 1);
    offsets.push(0i32);
    let mut total: i32 = 0;
    for &code in &codes {
        let len = dict_offsets[code + 1] - dict_offsets[code];
        total = total.checked_add(len).ok_or_else(|| DecodeError::new(start, "decoded text over 2 GiB"))?;
        offsets.push(total);
    }
    let mut bytes = Vec::with_capacity(total as usize);
    for &code in &codes {
        bytes.extend_from_slice(&dict_bytes[dict_offsets[code] as usize..dict_offsets[code + 1] as usize]);
    }
    Ok((offsets, bytes))
}
