//! SIMD kernels on `wide` vectors (lane counts fixed at compile time; with
//! `-C target-cpu=native` they become AVX2 instructions, without it SSE2 pairs). Each kernel
//! has a scalar reference with the same signature (`*_scalar`); property tests assert that
//! both agree bit for bit, on random lengths, values (extremes, NaN, -0, infinities), validity
//! bitmaps and slice offsets.
//!
//! Values go through in blocks of 64 rows, each with a `u64` of validity bits
//! ([`blocks`]), so a bitmap costs one word per 64 rows and an all-valid or all-null block
//! takes a fast path. No `unsafe`: lanes are loaded from `chunks_exact` through arrays.

use super::compare::{cmp_f64, CmpOp};
use arrow::bitmap::Bitmap;
use wide::{f64x4, i32x8, i64x4, u64x4};

/// Calls `f(offset, block, bits)` for each block of up to 64 values of `values` and the
/// validity bits of its rows (bit `i` = row `offset + i`; bits past the block are 0). `None`
/// validity means every row is valid. `validity`, when given, is as long as `values` (it
/// may start at any bit offset).
#[inline]
pub fn blocks<T>(values: &[T], validity: Option<&Bitmap>, mut f: impl FnMut(usize, &[T], u64)) {
    let full = |len: usize| if len == 64 { u64::MAX } else { (1u64 << len) - 1 };
    match validity {
        None => {
            for (k, block) in values.chunks(64).enumerate() {
                f(k * 64, block, full(block.len()));
            }
        }
        Some(bitmap) => {
            debug_assert_eq!(bitmap.len(), values.len());
            let chunks = bitmap.chunks::<u64>();
            let rem = chunks.remainder() & full(chunks.remainder_len());
            let mut blocks = values.chunks_exact(64);
            for (k, (block, bits)) in (&mut blocks).zip(chunks).enumerate() {
                f(k * 64, block, bits);
            }
            let tail = blocks.remainder();
            if !tail.is_empty() {
                f(values.len() - tail.len(), tail, rem);
            }
        }
    }
}

/// `N` lanes of `chunk`, with `fill` where bit `i` of `bits` is 0.
#[inline(always)]
fn lanes<T: Copy, const N: usize>(chunk: &[T], bits: u64, fill: T) -> [T; N] {
    std::array::from_fn(|i| if bits >> i & 1 != 0 { chunk[i] } else { fill })
}

/// `N` lanes of `chunk` (exactly `N` long).
#[inline(always)]
fn load<T: Copy, const N: usize>(chunk: &[T]) -> [T; N] {
    // A slice-to-array conversion is one vector load; `array::from_fn` over indexes compiled
    // to a lane-by-lane insert (shuffles per lane) in the comparison kernels.
    chunk[..N].try_into().expect("N lanes")
}

// ---------------------------------------------------------------------------------------
// SUM
// ---------------------------------------------------------------------------------------

/// The exact sum of the valid values, and their number.
pub fn sum_i64_scalar(values: &[i64], validity: Option<&Bitmap>) -> (i128, i64) {
    let (mut sum, mut count) = (0i128, 0i64);
    for (row_idx, &v) in values.iter().enumerate() {
        if validity.is_none_or(|b| b.get_bit(row_idx)) {
            sum += v as i128;
            count += 1;
        }
    }
    (sum, count)
}

/// [`sum_i64_scalar`] in u64x4 lanes: each value is biased to unsigned (`v + 2^63`, a flip of
/// the sign bit) and split into its high and low 32-bit halves, summed separately in u64
/// lanes (a lane adds at most 2^14 halves below 2^32 before it is flushed into a u128, far
/// from overflowing); the total is recombined exactly and the bias taken off per valid row.
/// Only logical shifts: AVX2 has no 64-bit arithmetic shift.
pub fn sum_i64(values: &[i64], validity: Option<&Bitmap>) -> (i128, i64) {
    const FLUSH_ROWS: usize = 1 << 16;
    const BIAS: u64 = 1 << 63;
    let low = u64x4::splat(0xFFFF_FFFF);
    let mut biased = 0u128;
    let mut count = 0i64;
    let fold = |hi: u64x4, lo: u64x4| {
        (hi.to_array().iter().map(|&x| x as u128).sum::<u128>() << 32)
            + lo.to_array().iter().map(|&x| x as u128).sum::<u128>()
    };
    match validity.filter(|b| b.unset_bits() > 0) {
        None => {
            for part in values.chunks(FLUSH_ROWS) {
                let (mut hi, mut lo) = (u64x4::ZERO, u64x4::ZERO);
                let mut chunks = part.chunks_exact(4);
                for c in &mut chunks {
                    let v = u64x4::new(std::array::from_fn(|i| c[i] as u64 ^ BIAS));
                    hi += v >> 32;
                    lo += v & low;
                }
                biased += fold(hi, lo) + chunks.remainder().iter().map(|&v| (v as u64 ^ BIAS) as u128).sum::<u128>();
            }
            count = values.len() as i64;
        }
        Some(validity) => {
            let (mut hi, mut lo) = (u64x4::ZERO, u64x4::ZERO);
            let mut pending = 0usize;
            blocks(values, Some(validity), |_, block, bits| {
                if bits == 0 {
                    return;
                }
                count += bits.count_ones() as i64;
                let mut chunks = block.chunks_exact(4);
                for (i, c) in (&mut chunks).enumerate() {
                    // NULL rows read as i64::MIN, which the bias turns into 0.
                    let l: [i64; 4] = lanes(c, bits >> (4 * i), i64::MIN);
                    let v = u64x4::new(l.map(|x| x as u64 ^ BIAS));
                    hi += v >> 32;
                    lo += v & low;
                }
                let rest = chunks.remainder();
                let base = block.len() - rest.len();
                for (i, &v) in rest.iter().enumerate() {
                    if bits >> (base + i) & 1 != 0 {
                        biased += (v as u64 ^ BIAS) as u128;
                    }
                }
                pending += block.len();
                if pending >= FLUSH_ROWS {
                    biased += fold(hi, lo);
                    (hi, lo, pending) = (u64x4::ZERO, u64x4::ZERO, 0);
                }
            });
            biased += fold(hi, lo);
        }
    }
    (biased as i128 - ((count as i128) << 63), count)
}

macro_rules! sum_narrow {
    ($name:ident, $scalar:ident, $t:ty) => {
        /// The exact sum of the valid values, and their number.
        pub fn $scalar(values: &[$t], validity: Option<&Bitmap>) -> (i128, i64) {
            let (mut sum, mut count) = (0i128, 0i64);
            for (row_idx, &v) in values.iter().enumerate() {
                if validity.is_none_or(|b| b.get_bit(row_idx)) {
                    sum += v as i128;
                    count += 1;
                }
            }
            (sum, count)
        }

        /// The scalar reference in i64x4 lanes (a lane sums at most 2^20 narrow values
        /// before it is flushed, so it cannot overflow).
        pub fn $name(values: &[$t], validity: Option<&Bitmap>) -> (i128, i64) {
            const FLUSH_BLOCKS: usize = 1 << 16;
            let mut acc = i64x4::ZERO;
            let (mut total, mut count, mut pending) = (0i128, 0i64, 0usize);
            if validity.is_none_or(|b| b.unset_bits() == 0) {
                // A plain widening sum, which the compiler vectorises with several independent
                // accumulators (an i64x4 built lane by lane was 20% slower over 5M values).
                // A part of 2^22 values sums below 2^53: no overflow.
                for part in values.chunks(FLUSH_BLOCKS * 64) {
                    total += part.iter().map(|&v| v as i64).sum::<i64>() as i128;
                }
                return (total, values.len() as i64);
            }
            blocks(values, validity, |_, block, bits| {
                if bits == 0 {
                    return;
                }
                count += bits.count_ones() as i64;
                let mut chunks = block.chunks_exact(4);
                if bits == u64::MAX {
                    for c in &mut chunks {
                        acc += i64x4::new(std::array::from_fn(|i| c[i] as i64));
                    }
                } else {
                    for (i, c) in (&mut chunks).enumerate() {
                        let l: [$t; 4] = lanes(c, bits >> (4 * i), 0);
                        acc += i64x4::new(l.map(|x| x as i64));
                    }
                }
                let rest = chunks.remainder();
                let base = block.len() - rest.len();
                for (i, &v) in rest.iter().enumerate() {
                    if bits >> (base + i) & 1 != 0 {
                        total += v as i128;
                    }
                }
                pending += 1;
                if pending == FLUSH_BLOCKS {
                    total += acc.to_array().iter().map(|&x| x as i128).sum::<i128>();
                    acc = i64x4::ZERO;
                    pending = 0;
                }
            });
            total += acc.to_array().iter().map(|&x| x as i128).sum::<i128>();
            (total, count)
        }
    };
}

sum_narrow!(sum_i32, sum_i32_scalar, i32);
sum_narrow!(sum_i16, sum_i16_scalar, i16);

/// A float sum kept in four lanes: the `p`-th row pushed (counting NULL rows, which add
/// nothing) goes to lane `p % 4`, and the total is `(l0 + l1) + (l2 + l3)`. The result
/// depends on the row order only, never on how the rows are cut into batches, and four
/// independent lanes let the SIMD kernel add four rows per instruction.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct F64Lanes {
    pub lanes: [f64; 4],
    /// Rows pushed so far, modulo 4.
    pub phase: usize,
}

impl F64Lanes {
    pub fn total(&self) -> f64 {
        (self.lanes[0] + self.lanes[1]) + (self.lanes[2] + self.lanes[3])
    }
}

/// Adds the valid values to `state` one row at a time; returns how many were valid.
pub fn sum_f64_scalar(values: &[f64], validity: Option<&Bitmap>, state: &mut F64Lanes) -> i64 {
    let mut count = 0;
    for (row_idx, &v) in values.iter().enumerate() {
        if validity.is_none_or(|b| b.get_bit(row_idx)) {
            state.lanes[state.phase] += v;
            count += 1;
        }
        state.phase = (state.phase + 1) % 4;
    }
    count
}

/// [`sum_f64_scalar`] with the lanes in an f64x4 (bit-identical: each lane adds the same
/// values in the same order; a NULL row adds +0.0, which changes no lane since a lane that
/// starts at +0.0 is never -0.0).
pub fn sum_f64(values: &[f64], validity: Option<&Bitmap>, state: &mut F64Lanes) -> i64 {
    // Rows until lane 0 comes round again go one at a time.
    let head = ((4 - state.phase) % 4).min(values.len());
    let mut count = sum_f64_scalar(&values[..head], validity.map(|b| b.clone().sliced(0, head)).as_ref(), state);
    let values = &values[head..];
    let validity = validity.map(|b| b.clone().sliced(head, values.len()));
    let mut acc = f64x4::new(state.lanes);
    blocks(values, validity.as_ref(), |_, block, bits| {
        if bits == 0 {
            return;
        }
        count += bits.count_ones() as i64;
        let mut chunks = block.chunks_exact(4);
        if bits == u64::MAX {
            for c in &mut chunks {
                acc += f64x4::new(load(c));
            }
        } else {
            for (i, c) in (&mut chunks).enumerate() {
                acc += f64x4::new(lanes(c, bits >> (4 * i), 0.0));
            }
        }
        // Only the last block can end part-way through the lanes: its rows go to lanes 0...
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let base = block.len() - rest.len();
            let mut a = acc.to_array();
            for (i, &v) in rest.iter().enumerate() {
                if bits >> (base + i) & 1 != 0 {
                    a[i] += v;
                }
            }
            acc = f64x4::new(a);
        }
    });
    state.lanes = acc.to_array();
    state.phase = (state.phase + values.len()) % 4;
    count
}

// ---------------------------------------------------------------------------------------
// MIN / MAX
// ---------------------------------------------------------------------------------------

macro_rules! int_min_max {
    ($min:ident, $max:ident, $min_s:ident, $max_s:ident, $t:ty, $v:ty, $n:literal, $plain:literal) => {
        /// The smallest valid value, `None` when no row is valid.
        pub fn $min_s(values: &[$t], validity: Option<&Bitmap>) -> Option<$t> {
            values.iter().enumerate().filter(|(i, _)| validity.is_none_or(|b| b.get_bit(*i))).map(|(_, &v)| v).min()
        }

        /// The largest valid value, `None` when no row is valid.
        pub fn $max_s(values: &[$t], validity: Option<&Bitmap>) -> Option<$t> {
            values.iter().enumerate().filter(|(i, _)| validity.is_none_or(|b| b.get_bit(*i))).map(|(_, &v)| v).max()
        }

        /// The scalar reference in SIMD lanes (NULL rows count as the type's largest value).
        pub fn $min(values: &[$t], validity: Option<&Bitmap>) -> Option<$t> {
            if $plain && validity.is_none_or(|b| b.unset_bits() == 0) {
                return plain_lanes::<$t, 8>(values, <$t>::MAX, |a, b| a.min(b));
            }
            int_reduce::<$t, $v, $n>(values, validity, <$t>::MAX, |a, b| a.min(b), |a, b| a.min(b))
        }

        /// The scalar reference in SIMD lanes (NULL rows count as the type's smallest value).
        pub fn $max(values: &[$t], validity: Option<&Bitmap>) -> Option<$t> {
            if $plain && validity.is_none_or(|b| b.unset_bits() == 0) {
                return plain_lanes::<$t, 8>(values, <$t>::MIN, |a, b| a.max(b));
            }
            int_reduce::<$t, $v, $n>(values, validity, <$t>::MIN, |a, b| a.max(b), |a, b| a.max(b))
        }
    };
}

/// Folds the valid values with `op` (lane-wise `vop`), NULL rows replaced by `identity`.
#[inline(always)]
fn int_reduce<T: Copy, V: Copy + From<[T; N]>, const N: usize>(
    values: &[T],
    validity: Option<&Bitmap>,
    identity: T,
    op: impl Fn(T, T) -> T,
    vop: impl Fn(V, V) -> V,
) -> Option<T>
where
    [T; N]: From<V>,
{
    let mut acc = V::from([identity; N]);
    let mut scalar = identity;
    if validity.is_none_or(|b| b.unset_bits() == 0) {
        let mut chunks = values.chunks_exact(N);
        for c in &mut chunks {
            acc = vop(acc, V::from(load(c)));
        }
        let rest = chunks.remainder().iter().fold(scalar, |a, &b| op(a, b));
        return (!values.is_empty()).then(|| <[T; N]>::from(acc).into_iter().fold(rest, op));
    }
    let mut count = 0u64;
    blocks(values, validity, |_, block, bits| {
        if bits == 0 {
            return;
        }
        count += bits.count_ones() as u64;
        let mut chunks = block.chunks_exact(N);
        if bits == u64::MAX {
            for c in &mut chunks {
                acc = vop(acc, V::from(load(c)));
            }
        } else {
            for (i, c) in (&mut chunks).enumerate() {
                acc = vop(acc, V::from(lanes(c, bits >> (N * i), identity)));
            }
        }
        let rest = chunks.remainder();
        let base = block.len() - rest.len();
        for (i, &v) in rest.iter().enumerate() {
            if bits >> (base + i) & 1 != 0 {
                scalar = op(scalar, v);
            }
        }
    });
    (count > 0).then(|| <[T; N]>::from(acc).into_iter().fold(scalar, op))
}

/// `N` independent lanes as a plain array, folded with `op` (LLVM turns the lane loop into
/// vector min/max). Without NULLs, i64 MIN/MAX take this: `wide`'s i64x4 min/max is a
/// compare and blend per lane (AVX2 has no 64-bit min), measured 4-5x slower than this loop
/// with `-C target-cpu=native` (criterion `simd/min i64`). `None` for no values.
fn plain_lanes<T: Copy, const N: usize>(values: &[T], identity: T, op: impl Fn(T, T) -> T) -> Option<T> {
    let mut acc = [identity; N];
    let mut chunks = values.chunks_exact(N);
    for c in &mut chunks {
        for i in 0..N {
            acc[i] = op(acc[i], c[i]);
        }
    }
    let rest = chunks.remainder().iter().fold(identity, |a, &b| op(a, b));
    (!values.is_empty()).then(|| acc.into_iter().fold(rest, op))
}

int_min_max!(min_i64, max_i64, min_i64_scalar, max_i64_scalar, i64, i64x4, 4, true);
int_min_max!(min_i32, max_i32, min_i32_scalar, max_i32_scalar, i32, i32x8, 8, false);
int_min_max!(min_i16, max_i16, min_i16_scalar, max_i16_scalar, i16, wide::i16x16, 16, false);

/// The first valid value in row order that no other valid value beats in PostgreSQL's float
/// order (NaN above everything, -0 = 0): `is_min` for MIN, else MAX. `None` when no row is
/// valid.
pub fn min_max_f64_scalar(values: &[f64], validity: Option<&Bitmap>, is_min: bool) -> Option<f64> {
    let mut best: Option<f64> = None;
    for (row_idx, &v) in values.iter().enumerate() {
        if validity.is_none_or(|b| b.get_bit(row_idx)) {
            let better = best.is_none_or(|b| {
                let ord = cmp_f64(v, b);
                if is_min {
                    ord.is_lt()
                } else {
                    ord.is_gt()
                }
            });
            if better {
                best = Some(v);
            }
        }
    }
    best
}

/// [`min_max_f64_scalar`] in f64x4 lanes (NULL rows read as the infinity that loses). The
/// lanes cannot order NaN, so input with a valid NaN is settled by the scalar reference
/// (rare in data); nor can they tell which of -0 and 0 came first, so a zero result is the
/// first valid zero in row order.
pub fn min_max_f64(values: &[f64], validity: Option<&Bitmap>, is_min: bool) -> Option<f64> {
    let fill = if is_min { f64::INFINITY } else { f64::NEG_INFINITY };
    let mut acc = f64x4::splat(fill);
    let mut nan = f64x4::ZERO;
    let mut scalar = fill;
    let mut count = 0u64;
    let pick = |a: f64x4, b: f64x4| if is_min { a.fast_min(b) } else { a.fast_max(b) };
    blocks(values, validity, |_, block, bits| {
        if bits == 0 {
            return;
        }
        count += bits.count_ones() as u64;
        let mut chunks = block.chunks_exact(4);
        if bits == u64::MAX {
            for c in &mut chunks {
                let v = f64x4::new(load(c));
                nan |= v.simd_ne(v);
                acc = pick(acc, v);
            }
        } else {
            for (i, c) in (&mut chunks).enumerate() {
                let v = f64x4::new(lanes(c, bits >> (4 * i), fill));
                nan |= v.simd_ne(v);
                acc = pick(acc, v);
            }
        }
        let rest = chunks.remainder();
        let base = block.len() - rest.len();
        for (i, &v) in rest.iter().enumerate() {
            if bits >> (base + i) & 1 != 0 {
                if v.is_nan() {
                    scalar = f64::NAN;
                } else if (is_min && v < scalar) || (!is_min && v > scalar) {
                    scalar = v;
                }
            }
        }
    });
    if count == 0 {
        return None;
    }
    let lanes = acc.to_array();
    let best = lanes.into_iter().fold(scalar, |a, b| if (is_min && b < a) || (!is_min && b > a) { b } else { a });
    if nan.any() || scalar.is_nan() {
        return min_max_f64_scalar(values, validity, is_min);
    }
    if best == 0.0 {
        // -0 or 0: the first valid zero in row order.
        return values
            .iter()
            .enumerate()
            .find(|(i, v)| **v == 0.0 && validity.is_none_or(|b| b.get_bit(*i)))
            .map(|(_, v)| *v);
    }
    // (A result equal to the filler is a valid infinity: the filler is only a lane's start.)
    Some(best)
}

// ---------------------------------------------------------------------------------------
// Comparisons
// ---------------------------------------------------------------------------------------

/// Packs predicate words (bit `i` of word `k` = row `64k + i`) into a bitmap of `len` bits,
/// inverted when `invert`.
fn words_to_bitmap(mut words: Vec<u64>, len: usize, invert: bool) -> Bitmap {
    if invert {
        words.iter_mut().for_each(|w| *w = !*w);
    }
    if !len.is_multiple_of(64) {
        if let Some(last) = words.last_mut() {
            *last &= (1u64 << (len % 64)) - 1;
        }
    }
    let mut bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
    bytes.truncate(len.div_ceil(8));
    Bitmap::from_u8_vec(bytes, len)
}

/// One word of predicate bits per 64 rows: `pred` maps `N` lanes of `lhs` (and of `rhs`) to a
/// lane mask. The last chunk is padded with `T::default()`; its extra bits are dropped.
#[inline(always)]
fn pred_words<T: Copy + Default, V: Copy + From<[T; N]>, const N: usize>(
    lhs: &[T],
    rhs: Option<&[T]>,
    bitmask: impl Fn(V) -> u64,
    pred: impl Fn(V, V) -> V,
    scalar_rhs: V,
) -> Vec<u64> {
    let mut words = Vec::with_capacity(lhs.len().div_ceil(64));
    // Whole words first, without per-chunk length tests (the loop the kernels spend their
    // time in), then the last partial word with padded lanes.
    let full = lhs.len() / 64 * 64;
    match rhs {
        None => {
            for block in lhs[..full].chunks_exact(64) {
                let mut word = 0u64;
                for (i, c) in block.chunks_exact(N).enumerate() {
                    word |= bitmask(pred(V::from(load(c)), scalar_rhs)) << (N * i);
                }
                words.push(word);
            }
        }
        Some(r) => {
            for (block, r_block) in lhs[..full].chunks_exact(64).zip(r[..full].chunks_exact(64)) {
                let mut word = 0u64;
                for (i, (c, rc)) in block.chunks_exact(N).zip(r_block.chunks_exact(N)).enumerate() {
                    word |= bitmask(pred(V::from(load(c)), V::from(load(rc)))) << (N * i);
                }
                words.push(word);
            }
        }
    }
    let tail = &lhs[full..];
    if !tail.is_empty() {
        let padded = |c: &[T]| V::from(std::array::from_fn(|i| c.get(i).copied().unwrap_or_default()));
        let r_tail = rhs.map(|r| &r[full..lhs.len()]);
        let mut word = 0u64;
        for (i, c) in tail.chunks(N).enumerate() {
            let b = match r_tail {
                Some(r) => padded(&r[i * N..i * N + c.len()]),
                None => scalar_rhs,
            };
            word |= bitmask(pred(padded(c), b)) << (N * i);
        }
        words.push(word);
    }
    words
}

/// The comparison as a base predicate (`=`, `<` or `>`) and whether to invert it.
fn int_pred(op: CmpOp) -> (CmpOp, bool) {
    match op {
        CmpOp::Eq => (CmpOp::Eq, false),
        CmpOp::NotEq => (CmpOp::Eq, true),
        CmpOp::Lt => (CmpOp::Lt, false),
        CmpOp::GtEq => (CmpOp::Lt, true),
        CmpOp::Gt => (CmpOp::Gt, false),
        CmpOp::LtEq => (CmpOp::Gt, true),
    }
}

macro_rules! int_compare {
    ($name:ident, $scalar_name:ident, $cols:ident, $cols_scalar:ident, $t:ty, $v:ty, $n:literal) => {
        /// Bit `i`: whether `values[i] op rhs` (validity is the caller's).
        pub fn $scalar_name(op: CmpOp, values: &[$t], rhs: $t) -> Bitmap {
            values.iter().map(|x| op.holds(x.cmp(&rhs))).collect()
        }

        /// [`Self::$scalar_name`] from SIMD lane masks, 64 rows per word.
        pub fn $name(op: CmpOp, values: &[$t], rhs: $t) -> Bitmap {
            let (base, invert) = int_pred(op);
            let bitmask = |m: $v| m.to_bitmask() as u64;
            let words = match base {
                CmpOp::Eq => pred_words::<$t, $v, $n>(values, None, bitmask, |a, b| a.simd_eq(b), <$v>::splat(rhs)),
                CmpOp::Lt => pred_words::<$t, $v, $n>(values, None, bitmask, |a, b| a.simd_lt(b), <$v>::splat(rhs)),
                _ => pred_words::<$t, $v, $n>(values, None, bitmask, |a, b| a.simd_gt(b), <$v>::splat(rhs)),
            };
            words_to_bitmap(words, values.len(), invert)
        }

        /// Bit `i`: whether `lhs[i] op rhs[i]` (equally long slices).
        pub fn $cols_scalar(op: CmpOp, lhs: &[$t], rhs: &[$t]) -> Bitmap {
            lhs.iter().zip(rhs).map(|(a, b)| op.holds(a.cmp(b))).collect()
        }

        /// The column-against-column comparison from SIMD lane masks.
        pub fn $cols(op: CmpOp, lhs: &[$t], rhs: &[$t]) -> Bitmap {
            let (base, invert) = int_pred(op);
            let bitmask = |m: $v| m.to_bitmask() as u64;
            let (r, z) = (Some(rhs), <$v>::ZERO);
            let words = match base {
                CmpOp::Eq => pred_words::<$t, $v, $n>(lhs, r, bitmask, |a, b| a.simd_eq(b), z),
                CmpOp::Lt => pred_words::<$t, $v, $n>(lhs, r, bitmask, |a, b| a.simd_lt(b), z),
                _ => pred_words::<$t, $v, $n>(lhs, r, bitmask, |a, b| a.simd_gt(b), z),
            };
            words_to_bitmap(words, lhs.len(), invert)
        }
    };
}

int_compare!(compare_i64, compare_i64_scalar, compare_i64_cols, compare_i64_cols_scalar, i64, i64x4, 4);
int_compare!(compare_i32, compare_i32_scalar, compare_i32_cols, compare_i32_cols_scalar, i32, i32x8, 8);

/// Bit `i`: whether `values[i] op rhs` in PostgreSQL's float order.
pub fn compare_f64_scalar(op: CmpOp, values: &[f64], rhs: f64) -> Bitmap {
    values.iter().map(|&x| op.holds(cmp_f64(x, rhs))).collect()
}

/// The float comparison as a base predicate (`=`, `<` or `<=`) and whether to invert it.
fn float_pred(op: CmpOp) -> (CmpOp, bool) {
    match op {
        CmpOp::Eq => (CmpOp::Eq, false),
        CmpOp::NotEq => (CmpOp::Eq, true),
        CmpOp::Lt => (CmpOp::Lt, false),
        CmpOp::GtEq => (CmpOp::Lt, true),
        CmpOp::LtEq => (CmpOp::LtEq, false),
        CmpOp::Gt => (CmpOp::LtEq, true),
    }
}

/// [`compare_f64_scalar`] from f64x4 lane masks. Against a number, IEEE `==`, `<` and `<=`
/// are PostgreSQL's (a NaN row is greater: none of them holds); against NaN, `=` is "is
/// NaN", `<` is "is not NaN" and `<=` always holds.
pub fn compare_f64(op: CmpOp, values: &[f64], rhs: f64) -> Bitmap {
    let (base, invert) = float_pred(op);
    let bitmask = |m: f64x4| m.to_bitmask() as u64;
    let s = f64x4::splat(rhs);
    let words = match (base, rhs.is_nan()) {
        (CmpOp::Eq, false) => pred_words::<f64, f64x4, 4>(values, None, bitmask, |a, b| a.simd_eq(b), s),
        (CmpOp::Lt, false) => pred_words::<f64, f64x4, 4>(values, None, bitmask, |a, b| a.simd_lt(b), s),
        (_, false) => pred_words::<f64, f64x4, 4>(values, None, bitmask, |a, b| a.simd_le(b), s),
        (CmpOp::Eq, true) => pred_words::<f64, f64x4, 4>(values, None, bitmask, |a, _| a.simd_ne(a), s),
        (CmpOp::Lt, true) => pred_words::<f64, f64x4, 4>(values, None, bitmask, |a, _| a.simd_eq(a), s),
        (_, true) => vec![u64::MAX; values.len().div_ceil(64)],
    };
    words_to_bitmap(words, values.len(), invert)
}

/// Bit `i`: whether `lhs[i] op rhs[i]` in PostgreSQL's float order.
pub fn compare_f64_cols_scalar(op: CmpOp, lhs: &[f64], rhs: &[f64]) -> Bitmap {
    lhs.iter().zip(rhs).map(|(&a, &b)| op.holds(cmp_f64(a, b))).collect()
}

/// [`compare_f64_cols_scalar`] from f64x4 lane masks: `a = b` is IEEE equality or both
/// NaN; `a < b` is IEEE less or only `b` NaN.
pub fn compare_f64_cols(op: CmpOp, lhs: &[f64], rhs: &[f64]) -> Bitmap {
    let (base, invert) = float_pred(op);
    let bitmask = |m: f64x4| m.to_bitmask() as u64;
    let eq = |a: f64x4, b: f64x4| a.simd_eq(b) | (a.simd_ne(a) & b.simd_ne(b));
    let lt = |a: f64x4, b: f64x4| a.simd_lt(b) | (a.simd_eq(a) & b.simd_ne(b));
    let (r, z) = (Some(rhs), f64x4::ZERO);
    let words = match base {
        CmpOp::Eq => pred_words::<f64, f64x4, 4>(lhs, r, bitmask, eq, z),
        CmpOp::Lt => pred_words::<f64, f64x4, 4>(lhs, r, bitmask, lt, z),
        _ => pred_words::<f64, f64x4, 4>(lhs, r, bitmask, |a, b| lt(a, b) | eq(a, b), z),
    };
    words_to_bitmap(words, lhs.len(), invert)
}

// ---------------------------------------------------------------------------------------
// Arithmetic
// ---------------------------------------------------------------------------------------

/// `+`, `-` or `*` (the operators the SIMD kernels cover).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LaneOp {
    Add,
    Sub,
    Mul,
}

macro_rules! int_arith {
    ($name:ident, $scalar_name:ident, $t:ty, $v:ty, $n:literal) => {
        /// `lhs[i] op rhs[i]`, or `None` when it overflows on a row `validity` marks valid
        /// (rows it marks NULL hold an unspecified value).
        pub fn $scalar_name(op: LaneOp, lhs: &[$t], rhs: &[$t], validity: Option<&Bitmap>) -> Option<Vec<$t>> {
            let mut out = Vec::with_capacity(lhs.len());
            for (row_idx, (&a, &b)) in lhs.iter().zip(rhs).enumerate() {
                let r = match op {
                    LaneOp::Add => a.checked_add(b),
                    LaneOp::Sub => a.checked_sub(b),
                    LaneOp::Mul => a.checked_mul(b),
                };
                match r {
                    Some(v) => out.push(v),
                    None if validity.is_none_or(|v| v.get_bit(row_idx)) => return None,
                    None => out.push(0),
                }
            }
            Some(out)
        }

        /// The scalar reference without a branch per row: wrapping results and an overflow
        /// bit per row (the sign rule in SIMD lanes for `+`/`-`, `overflowing_mul` for `*`),
        /// checked against the validity 64 rows at a time. Invalid rows that overflow hold
        /// the wrapped value.
        pub fn $name(op: LaneOp, lhs: &[$t], rhs: &[$t], validity: Option<&Bitmap>) -> Option<Vec<$t>> {
            let mut out: Vec<$t> = Vec::with_capacity(lhs.len());
            let mut overflow = false;
            blocks(lhs, validity, |offset, block, bits| {
                let r = &rhs[offset..offset + block.len()];
                let mut word = 0u64;
                let (mut ca, mut cb) = (block.chunks_exact($n), r.chunks_exact($n));
                match op {
                    LaneOp::Add | LaneOp::Sub => {
                        // Overflow is the sign bit of (a ^ s) & (b ^ s) for +, of (a ^ b) & (a ^ s) for -.
                        for (i, (a, b)) in (&mut ca).zip(&mut cb).enumerate() {
                            let (a, b) = (<$v>::new(load(a)), <$v>::new(load(b)));
                            let (s, o) = if op == LaneOp::Add {
                                let s = a + b;
                                (s, (a ^ s) & (b ^ s))
                            } else {
                                let s = a - b;
                                (s, (a ^ b) & (a ^ s))
                            };
                            out.extend_from_slice(s.as_array());
                            word |= (o.to_bitmask() as u64) << ($n * i);
                        }
                        let base = block.len() - ca.remainder().len();
                        for (i, (&a, &b)) in ca.remainder().iter().zip(cb.remainder()).enumerate() {
                            let (s, o) = if op == LaneOp::Add { a.overflowing_add(b) } else { a.overflowing_sub(b) };
                            out.push(s);
                            word |= (o as u64) << (base + i);
                        }
                    }
                    LaneOp::Mul => {
                        for (i, (&a, &b)) in block.iter().zip(r).enumerate() {
                            let (s, o) = a.overflowing_mul(b);
                            out.push(s);
                            word |= o as u64 * (1 << i);
                        }
                    }
                }
                overflow |= word & bits != 0;
            });
            (!overflow).then_some(out)
        }
    };
}

int_arith!(arith_i64, arith_i64_scalar, i64, i64x4, 4);
int_arith!(arith_i32, arith_i32_scalar, i32, i32x8, 8);

/// `lhs[i] op rhs[i]` for floats.
pub fn arith_f64_scalar(op: LaneOp, lhs: &[f64], rhs: &[f64]) -> Vec<f64> {
    lhs.iter()
        .zip(rhs)
        .map(|(&a, &b)| match op {
            LaneOp::Add => a + b,
            LaneOp::Sub => a - b,
            LaneOp::Mul => a * b,
        })
        .collect()
}

/// [`arith_f64_scalar`] in f64x4 lanes.
pub fn arith_f64(op: LaneOp, lhs: &[f64], rhs: &[f64]) -> Vec<f64> {
    let mut out = Vec::with_capacity(lhs.len());
    let (mut l, mut r) = (lhs.chunks_exact(4), rhs.chunks_exact(4));
    for (a, b) in (&mut l).zip(&mut r) {
        let (a, b) = (f64x4::new(load(a)), f64x4::new(load(b)));
        let v = match op {
            LaneOp::Add => a + b,
            LaneOp::Sub => a - b,
            LaneOp::Mul => a * b,
        };
        out.extend_from_slice(v.as_array());
    }
    out.extend(arith_f64_scalar(op, l.remainder(), r.remainder()));
    out
}

// ---------------------------------------------------------------------------------------
// COUNT
// ---------------------------------------------------------------------------------------

/// Adds 1 to `counts[groups[i]]` for each valid row `i`.
pub fn count_grouped_scalar(groups: &[u32], validity: &Bitmap, counts: &mut [i64]) {
    for (row_idx, &g) in groups.iter().enumerate() {
        if validity.get_bit(row_idx) {
            counts[g as usize] += 1;
        }
    }
}

/// [`count_grouped_scalar`] reading the validity a word at a time (all-valid and all-NULL
/// blocks skip the per-bit test).
pub fn count_grouped(groups: &[u32], validity: &Bitmap, counts: &mut [i64]) {
    blocks(groups, Some(validity), |_, block, bits| match bits {
        0 => {}
        u64::MAX => block.iter().for_each(|&g| counts[g as usize] += 1),
        mut bits => {
            while bits != 0 {
                counts[block[bits.trailing_zeros() as usize] as usize] += 1;
                bits &= bits - 1;
            }
        }
    });
}

/// The most groups [`sum_grouped_few`] and [`count_grouped_few`] take: their four copies of
/// each group's slots stay within a few cache lines.
pub const FEW_GROUPS: usize = 64;

/// How many copies of each group's slot the few-group kernels interleave.
const LANES: usize = 4;

/// Adds `conv(values[i])` to `sums[groups[i]]` and 1 to `counts[groups[i]]` for every row:
/// [`sum_grouped_scalar`] for at most [`FEW_GROUPS`] groups. With few groups consecutive rows
/// mostly hit the same slot, and each add waits for the previous one's store to come back
/// (several cycles a row); here row `k` of every four adds to copy `k % 4` of its group's
/// slot, so four chains are in flight, and the copies are folded at the end. Floating sums
/// add in a different order than the rows (as the parallel pipeline's partial sums already
/// do).
pub fn sum_grouped_few<T: Copy, S: Copy + Default + std::ops::AddAssign>(
    values: &[T],
    groups: &[u32],
    sums: &mut [S],
    counts: &mut [i64],
    conv: impl Fn(T) -> S,
) {
    let n = sums.len().min(counts.len());
    let mut lane_sums = [S::default(); LANES * FEW_GROUPS];
    let mut lane_counts = [0i64; LANES * FEW_GROUPS];
    let (lane_sums, lane_counts) = (&mut lane_sums[..LANES * n], &mut lane_counts[..LANES * n]);
    let rows = values.len().min(groups.len());
    let body = rows - rows % LANES;
    for (v, g) in values[..body].chunks_exact(LANES).zip(groups[..body].chunks_exact(LANES)) {
        for k in 0..LANES {
            let slot = g[k] as usize * LANES + k;
            lane_sums[slot] += conv(v[k]);
            lane_counts[slot] += 1;
        }
    }
    sum_grouped_scalar(&values[body..rows], &groups[body..rows], sums, counts, &conv);
    for g in 0..n {
        for k in 0..LANES {
            sums[g] += lane_sums[g * LANES + k];
            counts[g] += lane_counts[g * LANES + k];
        }
    }
}

/// The reference of [`sum_grouped_few`]: one add per row, in row order.
pub fn sum_grouped_scalar<T: Copy, S: Copy + std::ops::AddAssign>(
    values: &[T],
    groups: &[u32],
    sums: &mut [S],
    counts: &mut [i64],
    conv: impl Fn(T) -> S,
) {
    for (&v, &g) in values.iter().zip(groups) {
        sums[g as usize] += conv(v);
        counts[g as usize] += 1;
    }
}

/// Adds 1 to `counts[groups[i]]` for every row, for at most [`FEW_GROUPS`] groups, with
/// interleaved copies of the counters (see [`sum_grouped_few`]).
pub fn count_grouped_few(groups: &[u32], counts: &mut [i64]) {
    let n = counts.len();
    let mut lanes = [0i64; LANES * FEW_GROUPS];
    let lanes = &mut lanes[..LANES * n];
    let groups_4 = groups.chunks_exact(LANES);
    for &g in groups_4.remainder() {
        counts[g as usize] += 1;
    }
    for g in groups_4 {
        for k in 0..LANES {
            lanes[g[k] as usize * LANES + k] += 1;
        }
    }
    for g in 0..n {
        counts[g] += lanes[g * LANES..(g + 1) * LANES].iter().sum::<i64>();
    }
}

#[cfg(test)]
mod tests {
    //! Every SIMD kernel against its scalar reference: random lengths (0 to a few blocks, so
    //! empty, single-row, lane-size +-1 and multi-block inputs all occur), values with the
    //! type's extremes (and NaN, -0, infinities for floats), random validity, and a random
    //! slice offset applied to both values and bitmap (arrow arrays are sliced in place).
    use super::*;
    use proptest::prelude::*;

    const OPS: [CmpOp; 6] = [CmpOp::Eq, CmpOp::NotEq, CmpOp::Lt, CmpOp::LtEq, CmpOp::Gt, CmpOp::GtEq];

    fn i64s() -> impl Strategy<Value = i64> {
        prop_oneof![4 => any::<i64>(), 2 => -3i64..3, 1 => Just(i64::MIN), 1 => Just(i64::MAX), 1 => Just(i64::MIN + 1)]
    }
    fn i32s() -> impl Strategy<Value = i32> {
        prop_oneof![4 => any::<i32>(), 2 => -3i32..3, 1 => Just(i32::MIN), 1 => Just(i32::MAX)]
    }
    fn i16s() -> impl Strategy<Value = i16> {
        prop_oneof![4 => any::<i16>(), 2 => -3i16..3, 1 => Just(i16::MIN), 1 => Just(i16::MAX)]
    }
    fn f64s() -> impl Strategy<Value = f64> {
        prop_oneof![
            12 => -1e6f64..1e6,
            2 => any::<f64>(),
            1 => Just(0.0),
            1 => Just(-0.0),
            1 => Just(f64::NAN),
            1 => Just(f64::INFINITY),
            1 => Just(f64::NEG_INFINITY),
            1 => -2.0f64..2.0f64,
        ]
    }
    /// Finite non-zero floats: the min/max kernels' lane path without fallback.
    fn plain_f64s() -> impl Strategy<Value = f64> {
        prop_oneof![1e-3f64..1e9, -1e9f64..-1e-3]
    }

    /// Values with their validity, sliced at a random offset: `(values[off..], bitmap)`.
    fn column<T: std::fmt::Debug + Clone>(
        elem: impl Strategy<Value = T>,
    ) -> impl Strategy<Value = (Vec<T>, Option<Bitmap>)> {
        (prop::collection::vec((elem, prop::bool::weighted(0.8)), 0..300), 0usize..70, any::<bool>()).prop_map(
            |(rows, off, with_validity)| {
                let off = off.min(rows.len());
                let values: Vec<T> = rows.iter().map(|(v, _)| v.clone()).collect();
                let bitmap: Bitmap = rows.iter().map(|(_, ok)| *ok).collect();
                let n = rows.len() - off;
                (values[off..].to_vec(), with_validity.then(|| bitmap.sliced(off, n)))
            },
        )
    }

    fn same(a: f64, b: f64) -> bool {
        a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
    }

    fn same_opt(a: Option<f64>, b: Option<f64>) -> bool {
        match (a, b) {
            (Some(a), Some(b)) => same(a, b),
            (a, b) => a.is_none() && b.is_none(),
        }
    }

    proptest! {
        #[test]
        fn sums_match((v, b) in column(i64s()), (v32, b32) in column(i32s()), (v16, b16) in column(i16s())) {
            prop_assert_eq!(sum_i64(&v, b.as_ref()), sum_i64_scalar(&v, b.as_ref()));
            prop_assert_eq!(sum_i32(&v32, b32.as_ref()), sum_i32_scalar(&v32, b32.as_ref()));
            prop_assert_eq!(sum_i16(&v16, b16.as_ref()), sum_i16_scalar(&v16, b16.as_ref()));
        }

        /// Bit-identical lanes, and cutting the input anywhere does not change them.
        #[test]
        fn float_sums_match((v, b) in column(f64s()), phase in 0usize..4, start in prop::array::uniform4(-10.0f64..10.0), cut in 0usize..300) {
            let init = F64Lanes { lanes: start, phase };
            let (mut simd, mut scalar) = (init, init);
            let n = sum_f64(&v, b.as_ref(), &mut simd);
            prop_assert_eq!(n, sum_f64_scalar(&v, b.as_ref(), &mut scalar));
            prop_assert_eq!(simd.phase, scalar.phase);
            for (x, y) in simd.lanes.iter().zip(&scalar.lanes) {
                prop_assert!(same(*x, *y), "{:?} vs {:?}", simd, scalar);
            }
            let cut = cut.min(v.len());
            let mut split = init;
            sum_f64(&v[..cut], b.clone().map(|b| b.sliced(0, cut)).as_ref(), &mut split);
            sum_f64(&v[cut..], b.map(|b| b.sliced(cut, v.len() - cut)).as_ref(), &mut split);
            for (x, y) in split.lanes.iter().zip(&scalar.lanes) {
                prop_assert!(same(*x, *y), "{:?} vs {:?}", split, scalar);
            }
        }

        #[test]
        fn int_min_max_match((v, b) in column(i64s()), (v32, b32) in column(i32s()), (v16, b16) in column(i16s())) {
            prop_assert_eq!(min_i64(&v, b.as_ref()), min_i64_scalar(&v, b.as_ref()));
            prop_assert_eq!(max_i64(&v, b.as_ref()), max_i64_scalar(&v, b.as_ref()));
            prop_assert_eq!(min_i32(&v32, b32.as_ref()), min_i32_scalar(&v32, b32.as_ref()));
            prop_assert_eq!(max_i32(&v32, b32.as_ref()), max_i32_scalar(&v32, b32.as_ref()));
            prop_assert_eq!(min_i16(&v16, b16.as_ref()), min_i16_scalar(&v16, b16.as_ref()));
            prop_assert_eq!(max_i16(&v16, b16.as_ref()), max_i16_scalar(&v16, b16.as_ref()));
        }

        #[test]
        fn float_min_max_match((v, b) in column(f64s()), (p, pb) in column(plain_f64s())) {
            for is_min in [true, false] {
                let (got, want) = (min_max_f64(&v, b.as_ref(), is_min), min_max_f64_scalar(&v, b.as_ref(), is_min));
                prop_assert!(same_opt(got, want), "{:?} vs {:?}", got, want);
                let (got, want) = (min_max_f64(&p, pb.as_ref(), is_min), min_max_f64_scalar(&p, pb.as_ref(), is_min));
                prop_assert!(same_opt(got, want), "{:?} vs {:?}", got, want);
            }
        }

        #[test]
        fn comparisons_match(
            (v, _) in column(i64s()),
            (v32, _) in column(i32s()),
            (f, _) in column(f64s()),
            op in prop::sample::select(OPS.to_vec()),
            (s, s32, sf) in (i64s(), i32s(), f64s()),
            pick in any::<prop::sample::Index>(),
        ) {
            // The constant is often one of the values, so `=` holds somewhere.
            let s = if v.is_empty() { s } else { v[pick.index(v.len())] };
            let sf = if f.is_empty() || s % 2 == 0 { sf } else { f[pick.index(f.len())] };
            prop_assert_eq!(compare_i64(op, &v, s), compare_i64_scalar(op, &v, s));
            prop_assert_eq!(compare_i32(op, &v32, s32), compare_i32_scalar(op, &v32, s32));
            prop_assert_eq!(compare_f64(op, &f, sf), compare_f64_scalar(op, &f, sf));
            let r: Vec<i64> = v.iter().rev().copied().collect();
            prop_assert_eq!(compare_i64_cols(op, &v, &r), compare_i64_cols_scalar(op, &v, &r));
            let r32: Vec<i32> = v32.iter().rev().copied().collect();
            prop_assert_eq!(compare_i32_cols(op, &v32, &r32), compare_i32_cols_scalar(op, &v32, &r32));
            let rf: Vec<f64> = f.iter().rev().copied().collect();
            prop_assert_eq!(compare_f64_cols(op, &f, &rf), compare_f64_cols_scalar(op, &f, &rf));
        }

        #[test]
        fn arithmetic_matches(
            (v, b) in column(i64s()),
            (v32, b32) in column(i32s()),
            (f, _) in column(f64s()),
            op in prop::sample::select(vec![LaneOp::Add, LaneOp::Sub, LaneOp::Mul]),
        ) {
            let valid = |b: &Option<Bitmap>, i: usize| b.as_ref().is_none_or(|b| b.get_bit(i));
            let r: Vec<i64> = v.iter().rev().copied().collect();
            let (got, want) = (arith_i64(op, &v, &r, b.as_ref()), arith_i64_scalar(op, &v, &r, b.as_ref()));
            prop_assert_eq!(got.is_some(), want.is_some());
            if let (Some(got), Some(want)) = (got, want) {
                prop_assert!((0..v.len()).all(|i| !valid(&b, i) || got[i] == want[i]));
            }
            let r32: Vec<i32> = v32.iter().rev().copied().collect();
            let (got, want) = (arith_i32(op, &v32, &r32, b32.as_ref()), arith_i32_scalar(op, &v32, &r32, b32.as_ref()));
            prop_assert_eq!(got.is_some(), want.is_some());
            if let (Some(got), Some(want)) = (got, want) {
                prop_assert!((0..v32.len()).all(|i| !valid(&b32, i) || got[i] == want[i]));
            }
            let rf: Vec<f64> = f.iter().rev().copied().collect();
            let (got, want) = (arith_f64(op, &f, &rf), arith_f64_scalar(op, &f, &rf));
            prop_assert!(got.len() == want.len() && got.iter().zip(&want).all(|(a, b)| same(*a, *b)));
        }

        #[test]
        fn grouped_counts_match((g, b) in column(0u32..7)) {
            let b = b.unwrap_or_else(|| g.iter().map(|x| x % 3 != 0).collect());
            let (mut got, mut want) = (vec![0i64; 7], vec![0i64; 7]);
            count_grouped(&g, &b, &mut got);
            count_grouped_scalar(&g, &b, &mut want);
            prop_assert_eq!(got, want);
        }

        /// The interleaved few-group kernels against one add per row, with the most groups
        /// they take and starting sums that are not zero.
        #[test]
        fn few_group_sums_match(
            rows in proptest::collection::vec((any::<i64>(), 0u32..FEW_GROUPS as u32), 0..300),
            n_groups in 1usize..=FEW_GROUPS,
        ) {
            let values: Vec<i64> = rows.iter().map(|r| r.0).collect();
            let groups: Vec<u32> = rows.iter().map(|r| r.1 % n_groups as u32).collect();
            let start: Vec<i128> = (0..n_groups as i128).map(|g| g * 1000 - 7).collect();
            let (mut got, mut want) = (start.clone(), start);
            let (mut got_n, mut want_n) = (vec![3i64; n_groups], vec![3i64; n_groups]);
            sum_grouped_few(&values, &groups, &mut got, &mut got_n, |v| v as i128);
            sum_grouped_scalar(&values, &groups, &mut want, &mut want_n, |v| v as i128);
            prop_assert_eq!(&got, &want);
            prop_assert_eq!(&got_n, &want_n);
            // Small integers as doubles add exactly in any order.
            let floats: Vec<f64> = values.iter().map(|&v| (v % 1000) as f64).collect();
            let (mut got, mut want) = (vec![0.5f64; n_groups], vec![0.5f64; n_groups]);
            sum_grouped_few(&floats, &groups, &mut got, &mut got_n, |v| v);
            sum_grouped_scalar(&floats, &groups, &mut want, &mut want_n, |v| v);
            prop_assert_eq!(got, want);
            let (mut got, mut want) = (vec![1i64; n_groups], vec![1i64; n_groups]);
            count_grouped_few(&groups, &mut got);
            groups.iter().for_each(|&g| want[g as usize] += 1);
            prop_assert_eq!(got, want);
        }
    }

    /// Exactness past i64: a sum of many extremes still comes out right.
    #[test]
    fn i64_sum_is_exact_beyond_i64() {
        let v = vec![i64::MAX; 1000];
        assert_eq!(sum_i64(&v, None), (i64::MAX as i128 * 1000, 1000));
        let v = vec![i64::MIN; 1001];
        assert_eq!(sum_i64(&v, None), (i64::MIN as i128 * 1001, 1001));
    }

    /// MIN keeps the first of -0 and 0 in row order, as the scalar path does.
    #[test]
    fn float_min_keeps_first_zero() {
        let v = [1.0, -0.0, 0.0, 2.0, 3.0];
        assert_eq!(min_max_f64(&v, None, true).map(f64::to_bits), Some((-0.0f64).to_bits()));
        let v = [1.0, 0.0, -0.0, 2.0, 3.0];
        assert_eq!(min_max_f64(&v, None, true).map(f64::to_bits), Some(0.0f64.to_bits()));
        assert!(min_max_f64(&[1.0, f64::NAN], None, false).is_some_and(f64::is_nan));
        assert_eq!(min_max_f64(&[f64::NAN, 5.0], None, true), Some(5.0));
    }
}
