//! CRC-32 (IEEE, via `crc32fast`, hardware-accelerated where the CPU allows) over every chunk,
//! footer, manifest and WAL record.
//!
//! A CRC detects torn writes and bit rot; it is not a defence against an adversary.

/// The CRC-32 of `bytes`.
pub fn crc32(bytes: &[u8]) -> u32 {
    crc32fast::hash(bytes)
}

/// The CRC-32 of several byte slices as if they were concatenated.
pub fn crc32_parts(parts: &[&[u8]]) -> u32 {
    let mut hasher = crc32fast::Hasher::new();
    for part in parts {
        hasher.update(part);
    }
    hasher.finalize()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_value_and_parts() {
        // The standard CRC-32 check value.
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32_parts(&[b"1234", b"56789"]), 0xCBF4_3926);
        assert_ne!(crc32(b"123456789"), crc32(b"123456788"));
    }
}
