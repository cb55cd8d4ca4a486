//! Text comparisons against a constant, walking the offsets and bytes of a `Utf8Array`
//! directly and packing the result bits a byte at a time.

use arrow::array::Utf8Array;
use arrow::bitmap::Bitmap;

/// Packs `f(0..n)` into a bitmap, eight rows per byte.
#[inline]
pub fn pack_bits(n: usize, mut f: impl FnMut(usize) -> bool) -> Bitmap {
    let mut bytes = Vec::with_capacity(n.div_ceil(8));
    let full = n / 8;
    for chunk in 0..full {
        let base = chunk * 8;
        let mut byte = 0u8;
        for bit in 0..8 {
            byte |= u8::from(f(base + bit)) << bit;
        }
        bytes.push(byte);
    }
    if !n.is_multiple_of(8) {
        let mut byte = 0u8;
        for (bit, row) in (full * 8..n).enumerate() {
            byte |= u8::from(f(row)) << bit;
        }
        bytes.push(byte);
    }
    Bitmap::try_new(bytes, n).expect("one bit per row")
}

/// Whether each value of `a` equals `v` (byte-wise), ignoring validity. When every value has
/// the constant's length (codes: countries, currencies, statuses) and it is at most 8 bytes,
/// the values are fixed-width records compared as words, without reading the offsets per row;
/// otherwise lengths are compared first from the offsets, so most unequal values never touch
/// their bytes.
pub fn eq_scalar(a: &Utf8Array<i32>, v: &[u8]) -> Bitmap {
    let n = a.len();
    let offsets = &a.offsets().buffer()[..=n];
    let bytes = a.values().as_slice();
    let len = v.len();
    if (1..=8).contains(&len) && uniform_length(offsets, len) {
        let records = &bytes[offsets[0] as usize..offsets[n] as usize];
        return match len {
            1 => eq_fixed::<1>(records, v),
            2 => eq_fixed::<2>(records, v),
            3 => eq_fixed::<3>(records, v),
            4 => eq_fixed::<4>(records, v),
            5 => eq_fixed::<5>(records, v),
            6 => eq_fixed::<6>(records, v),
            7 => eq_fixed::<7>(records, v),
            _ => eq_fixed::<8>(records, v),
        };
    }
    pack_bits(n, |row| {
        let (start, end) = (offsets[row] as usize, offsets[row + 1] as usize);
        // A short loop the compiler inlines, instead of a memcmp call per row.
        end - start == len && bytes[start..end].iter().zip(v).all(|(x, y)| x == y)
    })
}

/// Whether every value between these offsets is `len` bytes long (one vectorised pass).
pub(crate) fn uniform_length(offsets: &[i32], len: usize) -> bool {
    let len = len as i32;
    offsets[1..].iter().zip(offsets).map(|(&end, &start)| u32::from(end - start != len)).sum::<u32>() == 0
}

/// `records` as consecutive `L`-byte values, each compared with `v` (`L` bytes).
fn eq_fixed<const L: usize>(records: &[u8], v: &[u8]) -> Bitmap {
    let needle: [u8; L] = v.try_into().expect("the constant has L bytes");
    let n = records.len() / L;
    let mut out = Vec::with_capacity(n.div_ceil(8));
    let mut blocks = records.chunks_exact(8 * L);
    for block in &mut blocks {
        let mut byte = 0u8;
        for (bit, value) in block.chunks_exact(L).enumerate() {
            byte |= u8::from(value == needle) << bit;
        }
        out.push(byte);
    }
    let rest = blocks.remainder();
    if !rest.is_empty() {
        let mut byte = 0u8;
        for (bit, value) in rest.chunks_exact(L).enumerate() {
            byte |= u8::from(value == needle) << bit;
        }
        out.push(byte);
    }
    Bitmap::try_new(out, n).expect("one bit per row")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eq_scalar_matches_a_plain_comparison_on_sliced_arrays() {
        let values: Vec<Option<String>> = (0..53)
            .map(|k| match k % 7 {
                0 => None,
                1 => Some("DE".into()),
                2 => Some("D".into()),
                3 => Some("DEU".into()),
                4 => Some(String::new()),
                5 => Some("ED".into()),
                _ if k % 2 == 0 => Some(format!("DE{}", 123456 + k * 1000)),
                _ => Some(format!("DE{k}")),
            })
            .collect();
        let array = Utf8Array::<i32>::from(values);
        for (offset, len) in [(0, 53), (3, 41), (9, 8), (5, 0), (52, 1)] {
            let sliced = array.clone().sliced(offset, len);
            for needle in ["DE", "", "D", "DE12", "DE5", "DE50", "DE12345", "DE123456", "DE1234567"] {
                let bits = eq_scalar(&sliced, needle.as_bytes());
                assert_eq!(bits.len(), len);
                for row in 0..len {
                    assert_eq!(bits.get_bit(row), sliced.value(row) == needle, "{offset}+{row} vs {needle:?}");
                }
            }
        }
    }

    proptest::proptest! {
        /// Short values from a two-letter alphabet (many equal, many sharing a prefix), compared
        /// with needles of 0..=10 bytes (both sides of the one-word path), at any offset.
        #[test]
        fn eq_scalar_agrees_with_str_equality(
            values in proptest::collection::vec("[ab]{0,10}", 0..80),
            needle in "[ab]{0,10}",
            offset in 0usize..8,
        ) {
            let array = Utf8Array::<i32>::from_slice(&values);
            let offset = offset.min(values.len());
            let sliced = array.sliced(offset, values.len() - offset);
            let bits = eq_scalar(&sliced, needle.as_bytes());
            for row in 0..sliced.len() {
                proptest::prop_assert_eq!(bits.get_bit(row), sliced.value(row) == needle);
            }
        }

        /// Values all of one width (the fixed-record path for widths up to 8, the general one
        /// past it), compared with needles of that width.
        #[test]
        fn eq_scalar_on_fixed_width_values(
            width in 1usize..=9,
            picks in proptest::collection::vec(0u32..4, 0..150),
            needle_pick in 0u32..4,
            offset in 0usize..8,
        ) {
            // Four values of `width` bytes that differ in their first or last byte.
            let value = |p: u32| -> String {
                (0..width).map(|k| if (k == 0 && p & 1 == 1) || (k == width - 1 && p & 2 == 2) { 'b' } else { 'a' }).collect()
            };
            let values: Vec<String> = picks.iter().map(|&p| value(p)).collect();
            let needle = value(needle_pick);
            let array = Utf8Array::<i32>::from_slice(&values);
            let offset = offset.min(values.len());
            let sliced = array.sliced(offset, values.len() - offset);
            let bits = eq_scalar(&sliced, needle.as_bytes());
            proptest::prop_assert_eq!(bits.len(), sliced.len());
            for row in 0..sliced.len() {
                proptest::prop_assert_eq!(bits.get_bit(row), sliced.value(row) == needle);
            }
        }
    }
}
