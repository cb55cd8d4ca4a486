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

/// Whether each value of `a` equals `v` (byte-wise), ignoring validity. Lengths are compared
/// first from the offsets, so most unequal values never touch their bytes.
pub fn eq_scalar(a: &Utf8Array<i32>, v: &[u8]) -> Bitmap {
    let offsets = a.offsets().buffer();
    let bytes = a.values().as_slice();
    let len = v.len();
    pack_bits(a.len(), |row| {
        let (start, end) = (offsets[row] as usize, offsets[row + 1] as usize);
        // A short loop the compiler inlines, instead of a memcmp call per row.
        end - start == len && bytes[start..end].iter().zip(v).all(|(x, y)| x == y)
    })
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
                _ => Some(format!("DE{k}")),
            })
            .collect();
        let array = Utf8Array::<i32>::from(values);
        for (offset, len) in [(0, 53), (3, 41), (9, 8), (5, 0), (52, 1)] {
            let sliced = array.clone().sliced(offset, len);
            for needle in ["DE", "", "D", "DE12"] {
                let bits = eq_scalar(&sliced, needle.as_bytes());
                assert_eq!(bits.len(), len);
                for row in 0..len {
                    assert_eq!(bits.get_bit(row), sliced.value(row) == needle, "{offset}+{row} vs {needle:?}");
                }
            }
        }
    }
}
