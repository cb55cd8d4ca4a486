//! Integer blocks: the estimator that picks an integer encoding from one pass of statistics,
//! and the tagged-block framing that lets encodings nest (dictionary codes, run lengths,
//! string lengths and scaled doubles are all integer blocks).
//!
//! ```text
//! int block = u8 encoding id, then that encoding's body for n values (n comes from the parent)
//! ```
//!
//! Every nesting level allows a strictly smaller [`IntMask`], checked when decoding too, so
//! corrupt input can never recurse deeply.

use super::{delta, dictionary, frame_of_reference, plain, rle, Encoding};
use crate::bytes::{ByteReader, DecodeResult, PutLe};
use crate::error::DecodeError;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// The set of integer encodings a block may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct IntMask(u8);

impl IntMask {
    const fn of(encodings: &[Encoding]) -> IntMask {
        let mut bits = 0u8;
        let mut idx = 0;
        while idx < encodings.len() {
            bits |= 1 << encodings[idx] as u8;
            idx += 1;
        }
        IntMask(bits)
    }

    pub fn allows(self, encoding: Encoding) -> bool {
        self.0 & (1 << encoding as u8) != 0
    }
}

/// A column of integers, or the integers behind scaled doubles.
pub(crate) const TOP: IntMask =
    IntMask::of(&[Encoding::Plain, Encoding::FrameOfReference, Encoding::Delta, Encoding::Rle, Encoding::Dictionary]);
/// Dictionary codes and string lengths: runs matter, another dictionary would not help.
pub(crate) const CODES: IntMask = IntMask::of(&[Encoding::Plain, Encoding::FrameOfReference, Encoding::Rle]);
/// The sorted distinct values of a dictionary.
pub(crate) const SORTED: IntMask = IntMask::of(&[Encoding::Plain, Encoding::FrameOfReference, Encoding::Delta]);
/// Run values and run lengths: leaves.
pub(crate) const LEAF: IntMask = IntMask::of(&[Encoding::Plain, Encoding::FrameOfReference]);

/// A fast multiplicative hasher for distinct counting (keys are not attacker-chosen in a way
/// that matters: a bad distribution only slows encoding down).
#[derive(Default)]
pub(crate) struct FastHasher(u64);

impl Hasher for FastHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(word));
        }
        let mut tail = [0u8; 8];
        tail[..chunks.remainder().len()].copy_from_slice(chunks.remainder());
        self.write_u64(u64::from_le_bytes(tail));
    }

    fn write_u64(&mut self, v: u64) {
        self.0 = (self.0.rotate_left(5) ^ v).wrapping_mul(0x517c_c1b7_2722_0a95);
    }

    fn finish(&self) -> u64 {
        // Fold the high bits down: hashbrown picks buckets from the low bits.
        self.0 ^ (self.0 >> 29)
    }
}

pub(crate) type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FastHasher>>;

/// One pass of statistics over integer values.
#[derive(Debug, Clone)]
pub(crate) struct IntStats {
    pub n: usize,
    pub min: i64,
    pub max: i64,
    pub n_runs: usize,
    pub max_run: usize,
    pub delta_min: i64,
    pub delta_max: i64,
}

impl IntStats {
    pub fn compute(values: &[i64]) -> IntStats {
        let Some(&first) = values.first() else {
            return IntStats { n: 0, min: 0, max: 0, n_runs: 0, max_run: 0, delta_min: 0, delta_max: 0 };
        };
        let (mut min, mut max) = (first, first);
        let (mut delta_min, mut delta_max) = (i64::MAX, i64::MIN);
        let (mut n_runs, mut max_run, mut run) = (1, 1, 1);
        let mut prev = first;
        for &v in &values[1..] {
            min = min.min(v);
            max = max.max(v);
            let delta = v.wrapping_sub(prev);
            delta_min = delta_min.min(delta);
            delta_max = delta_max.max(delta);
            if v == prev {
                run += 1;
            } else {
                max_run = max_run.max(run);
                n_runs += 1;
                run = 1;
            }
            prev = v;
        }
        max_run = max_run.max(run);
        if values.len() == 1 {
            (delta_min, delta_max) = (0, 0);
        }
        IntStats { n: values.len(), min, max, n_runs, max_run, delta_min, delta_max }
    }

    /// Bits per value of frame-of-reference.
    pub fn for_width(&self) -> u8 {
        super::bitpack::bits_needed(self.max.wrapping_sub(self.min) as u64)
    }
}

fn packed(n: usize, width: u8) -> usize {
    super::bitpack::packed_len(n, width).unwrap_or(usize::MAX)
}

/// Estimated body bytes of `encoding` (not counting the tag), `None` when it needs the distinct
/// values (dictionary) or cannot apply.
fn estimate(stats: &IntStats, encoding: Encoding) -> Option<usize> {
    let n = stats.n;
    Some(match encoding {
        Encoding::Plain => 1 + n * plain::int_width(stats.min, stats.max) as usize,
        Encoding::FrameOfReference => 9 + packed(n, stats.for_width()),
        Encoding::Delta => {
            let width = super::bitpack::bits_needed(stats.delta_max.wrapping_sub(stats.delta_min) as u64);
            17 + packed(n.saturating_sub(1), width)
        }
        Encoding::Rle => {
            let length_width = super::bitpack::bits_needed(stats.max_run as u64);
            4 + 20 + packed(stats.n_runs, stats.for_width()) + packed(stats.n_runs, length_width)
        }
        _ => return None,
    })
}

/// The distinct values, if there are at most `cap` of them.
pub(crate) fn distinct_capped(values: &[i64], cap: usize) -> Option<Vec<i64>> {
    let mut seen: FastMap<i64, ()> = FastMap::default();
    for &v in values {
        seen.insert(v, ());
        if seen.len() > cap {
            return None;
        }
    }
    Some(seen.into_keys().collect())
}

/// The encoding chosen for `values`, and the distinct values when it is a dictionary.
pub(crate) struct Choice {
    pub encoding: Encoding,
    pub distinct: Option<Vec<i64>>,
}

/// Picks the smallest allowed encoding by estimate; ties go to the cheaper decoder (the order
/// of the candidates below).
pub(crate) fn choose(values: &[i64], mask: IntMask) -> Choice {
    let stats = IntStats::compute(values);
    let mut best = (Encoding::Plain, usize::MAX);
    for encoding in [Encoding::Plain, Encoding::FrameOfReference, Encoding::Delta, Encoding::Rle] {
        if mask.allows(encoding) {
            if let Some(size) = estimate(&stats, encoding) {
                if size < best.1 {
                    best = (encoding, size);
                }
            }
        }
    }
    // A dictionary only wins when its codes are narrower than the best bits per value so far,
    // which bounds how many distinct values are worth counting.
    let bits_per_value = best.1.saturating_mul(8) / stats.n.max(1);
    let cap = if bits_per_value >= 17 { 1 << 16 } else { 1usize << bits_per_value }.min(stats.n / 2);
    if mask.allows(Encoding::Dictionary) && cap >= 2 && stats.for_width() > 1 {
        if let Some(distinct) = distinct_capped(values, cap) {
            let code_width = super::bitpack::bits_needed(distinct.len() as u64 - 1);
            let codes = packed(stats.n, code_width)
                .min(packed(stats.n_runs, code_width + super::bitpack::bits_needed(stats.max_run as u64)));
            let size = 4 + 10 + packed(distinct.len(), stats.for_width()) + 10 + codes;
            if size < best.1 {
                return Choice { encoding: Encoding::Dictionary, distinct: Some(distinct) };
            }
        }
    }
    Choice { encoding: best.0, distinct: None }
}

/// Appends the body of `encoding` for `values`. `distinct` may carry the distinct values for a
/// dictionary (computed here otherwise).
pub(crate) fn write_body(values: &[i64], encoding: Encoding, distinct: Option<Vec<i64>>, out: &mut Vec<u8>) {
    match encoding {
        Encoding::FrameOfReference => frame_of_reference::encode(values, out),
        Encoding::Delta => delta::encode(values, out),
        Encoding::Rle => rle::encode_ints(values, out),
        Encoding::Dictionary => {
            let distinct = distinct.unwrap_or_else(|| distinct_capped(values, usize::MAX).unwrap_or_default());
            dictionary::encode_ints(values, distinct, out)
        }
        _ => plain::encode_ints(values, out),
    }
}

/// Appends a tagged block of `values` in the smallest encoding `mask` allows.
pub(crate) fn write_block(values: &[i64], mask: IntMask, out: &mut Vec<u8>) -> Encoding {
    let choice = choose(values, mask);
    out.put_u8(choice.encoding as u8);
    write_body(values, choice.encoding, choice.distinct, out);
    choice.encoding
}

/// Reads a tagged block of `n` values whose encoding must be in `mask`.
pub(crate) fn read_block(r: &mut ByteReader<'_>, n: usize, mask: IntMask) -> DecodeResult<Vec<i64>> {
    let start = r.pos();
    let code = r.u8()?;
    match Encoding::try_from_code(code) {
        Some(encoding) if mask.allows(encoding) => read_body(r, n, encoding),
        _ => Err(DecodeError::new(start, format!("integer encoding {code} not allowed here"))),
    }
}

/// Reads the body of `encoding` for `n` values.
pub(crate) fn read_body(r: &mut ByteReader<'_>, n: usize, encoding: Encoding) -> DecodeResult<Vec<i64>> {
    match encoding {
        Encoding::Plain => plain::decode_ints(r, n),
        Encoding::FrameOfReference => frame_of_reference::decode(r, n),
        Encoding::Delta => delta::decode(r, n),
        Encoding::Rle => rle::decode_ints(r, n),
        Encoding::Dictionary => dictionary::decode_ints(r, n),
        Encoding::ScaledDecimal => Err(r.error("scaled-decimal is not an integer encoding")),
    }
}
