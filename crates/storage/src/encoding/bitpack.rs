//! Bit-packing of unsigned integers at a fixed width of 0..=64 bits, least significant bit
//! first, the layout every integer encoding ends in.
//!
//! `n` values of width `w` take exactly `ceil(n * w / 8)` bytes; width 0 takes none (all
//! values are zero).

// PERF-CRITICAL: unpacking runs once per value of every integer column read.

/// Bits needed to represent `v` (0 for 0).
pub(crate) fn bits_needed(v: u64) -> u8 {
    (64 - v.leading_zeros()) as u8
}

/// Bytes taken by `n` values of `width` bits, or `None` if that overflows `usize`.
pub(crate) fn packed_len(n: usize, width: u8) -> Option<usize> {
    n.checked_mul(width as usize)?.checked_add(7).map(|bits| bits / 8)
}

/// Appends `values`, each `< 2^width`, packed at `width` bits.
pub(crate) fn pack(values: impl Iterator<Item = u64>, width: u8, out: &mut Vec<u8>) {
    debug_assert!(width <= 64, "bit width {width} over 64");
    if width == 0 {
        return;
    }
    let width = width as u32;
    let mut acc: u128 = 0;
    let mut n_bits: u32 = 0;
    for v in values {
        debug_assert!(width == 64 || v >> width == 0, "value {v} wider than {width} bits");
        acc |= (v as u128) << n_bits;
        n_bits += width;
        if n_bits >= 64 {
            out.extend_from_slice(&(acc as u64).to_le_bytes());
            acc >>= 64;
            n_bits -= 64;
        }
    }
    let tail = n_bits.div_ceil(8) as usize;
    out.extend_from_slice(&(acc as u64).to_le_bytes()[..tail]);
}

/// Calls `sink` with each of the `n` values packed at `width` bits in `bytes`. The caller has
/// checked `bytes.len() >= packed_len(n, width)` and `width <= 64`.
pub(crate) fn unpack(bytes: &[u8], n: usize, width: u8, mut sink: impl FnMut(u64)) {
    debug_assert!(width <= 64 && packed_len(n, width).is_some_and(|len| bytes.len() >= len));
    if width == 0 {
        for _ in 0..n {
            sink(0);
        }
        return;
    }
    let width = width as u32;
    let mask = if width == 64 { u64::MAX } else { (1u64 << width) - 1 };
    let mut words = bytes.chunks(8);
    let mut acc: u128 = 0;
    let mut n_bits: u32 = 0;
    for _ in 0..n {
        if n_bits < width {
            let mut word = [0u8; 8];
            if let Some(chunk) = words.next() {
                word[..chunk.len()].copy_from_slice(chunk);
            }
            acc |= (u64::from_le_bytes(word) as u128) << n_bits;
            n_bits += 64;
        }
        sink(acc as u64 & mask);
        acc >>= width;
        n_bits -= width;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_width_round_trips() {
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        for width in 0..=64u8 {
            for n in [0usize, 1, 7, 8, 63, 64, 65, 200] {
                let mask = if width == 64 { u64::MAX } else { (1u64 << width) - 1 };
                let values: Vec<u64> = (0..n)
                    .map(|_| {
                        state ^= state << 13;
                        state ^= state >> 7;
                        state ^= state << 17;
                        state & mask
                    })
                    .collect();
                let mut buf = Vec::new();
                pack(values.iter().copied(), width, &mut buf);
                assert_eq!(buf.len(), packed_len(n, width).unwrap());
                let mut back = Vec::new();
                unpack(&buf, n, width, |v| back.push(v));
                assert_eq!(back, values, "width {width}, n {n}");
            }
        }
        assert_eq!(bits_needed(0), 0);
        assert_eq!(bits_needed(1), 1);
        assert_eq!(bits_needed(u64::MAX), 64);
        assert_eq!(packed_len(usize::MAX, 2), None);
    }
}
