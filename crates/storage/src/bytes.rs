//! Little-endian byte writing and bounds-checked reading, the only way the on-disk formats touch
//! integers (STYLE.md §6: every integer on disk is little-endian via `to_le_bytes`).
//!
//! [`ByteReader`] never panics: every read past the end, every length that does not fit and
//! every invalid UTF-8 string is a [`DecodeError`] at the offset where the bad field starts.

use crate::error::DecodeError;

/// Appends little-endian fields to a byte vector.
pub(crate) trait PutLe {
    fn put_u8(&mut self, v: u8);
    fn put_u16(&mut self, v: u16);
    fn put_u32(&mut self, v: u32);
    fn put_u64(&mut self, v: u64);
    fn put_i64(&mut self, v: i64);
    /// A `u32` length followed by the bytes.
    fn put_len_bytes(&mut self, bytes: &[u8]);
    /// A `u32` length followed by the UTF-8 bytes.
    fn put_str(&mut self, s: &str) {
        self.put_len_bytes(s.as_bytes());
    }
}

impl PutLe for Vec<u8> {
    fn put_u8(&mut self, v: u8) {
        self.push(v);
    }
    fn put_u16(&mut self, v: u16) {
        self.extend_from_slice(&v.to_le_bytes());
    }
    fn put_u32(&mut self, v: u32) {
        self.extend_from_slice(&v.to_le_bytes());
    }
    fn put_u64(&mut self, v: u64) {
        self.extend_from_slice(&v.to_le_bytes());
    }
    fn put_i64(&mut self, v: i64) {
        self.extend_from_slice(&v.to_le_bytes());
    }
    fn put_len_bytes(&mut self, bytes: &[u8]) {
        debug_assert!(bytes.len() <= u32::MAX as usize, "length-prefixed field over 4 GiB");
        self.put_u32(bytes.len() as u32);
        self.extend_from_slice(bytes);
    }
}

/// A cursor over untrusted bytes.
#[derive(Debug, Clone)]
pub(crate) struct ByteReader<'a> {
    buf: &'a [u8],
    pos: usize,
}

pub(crate) type DecodeResult<T> = Result<T, DecodeError>;

impl<'a> ByteReader<'a> {
    pub fn new(buf: &'a [u8]) -> ByteReader<'a> {
        ByteReader { buf, pos: 0 }
    }

    /// Current offset from the start of the buffer.
    pub fn pos(&self) -> usize {
        self.pos
    }

    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// An error at the current offset.
    pub fn error(&self, reason: impl Into<String>) -> DecodeError {
        DecodeError::new(self.pos, reason)
    }

    /// The next `n` bytes.
    pub fn bytes(&mut self, n: usize) -> DecodeResult<&'a [u8]> {
        if n > self.remaining() {
            return Err(self.error(format!("needs {n} bytes but only {} remain", self.remaining())));
        }
        let res = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(res)
    }

    fn array<const N: usize>(&mut self) -> DecodeResult<[u8; N]> {
        let bytes = self.bytes(N)?;
        let mut res = [0u8; N];
        res.copy_from_slice(bytes);
        Ok(res)
    }

    pub fn u8(&mut self) -> DecodeResult<u8> {
        Ok(self.array::<1>()?[0])
    }
    pub fn u16(&mut self) -> DecodeResult<u16> {
        self.array().map(u16::from_le_bytes)
    }
    pub fn u32(&mut self) -> DecodeResult<u32> {
        self.array().map(u32::from_le_bytes)
    }
    pub fn u64(&mut self) -> DecodeResult<u64> {
        self.array().map(u64::from_le_bytes)
    }
    pub fn i64(&mut self) -> DecodeResult<i64> {
        self.array().map(i64::from_le_bytes)
    }

    /// A `u32`-length-prefixed byte string.
    pub fn len_bytes(&mut self) -> DecodeResult<&'a [u8]> {
        let n = self.u32()? as usize;
        self.bytes(n)
    }

    /// A `u32`-length-prefixed UTF-8 string.
    pub fn str(&mut self) -> DecodeResult<&'a str> {
        let start = self.pos;
        let bytes = self.len_bytes()?;
        std::str::from_utf8(bytes).map_err(|_| DecodeError::new(start, "string is not valid UTF-8"))
    }

    /// A `u32` count of items that each take at least `min_item_bytes` bytes; rejects counts the
    /// remaining bytes cannot hold, so a corrupt count never drives a huge allocation.
    pub fn count(&mut self, min_item_bytes: usize) -> DecodeResult<usize> {
        let start = self.pos;
        let n = self.u32()? as usize;
        if min_item_bytes > 0 && n.saturating_mul(min_item_bytes) > self.remaining() {
            return Err(DecodeError::new(start, format!("count {n} exceeds the remaining {} bytes", self.remaining())));
        }
        Ok(n)
    }

    /// Fails unless every byte was consumed.
    pub fn finish(&self) -> DecodeResult<()> {
        if self.remaining() != 0 {
            return Err(self.error(format!("{} unexpected trailing bytes", self.remaining())));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_bounds() {
        let mut buf = Vec::new();
        buf.put_u8(7);
        buf.put_u16(0xBEEF);
        buf.put_u32(0xDEAD_BEEF);
        buf.put_u64(u64::MAX - 1);
        buf.put_i64(-5);
        buf.put_str("héllo");
        let mut r = ByteReader::new(&buf);
        assert_eq!(r.u8().unwrap(), 7);
        assert_eq!(r.u16().unwrap(), 0xBEEF);
        assert_eq!(r.u32().unwrap(), 0xDEAD_BEEF);
        assert_eq!(r.u64().unwrap(), u64::MAX - 1);
        assert_eq!(r.i64().unwrap(), -5);
        assert_eq!(r.str().unwrap(), "héllo");
        r.finish().unwrap();
        let err = r.u32().unwrap_err();
        assert_eq!(err.offset, buf.len());

        let mut bad = Vec::new();
        bad.put_len_bytes(&[0xff, 0xfe]);
        assert_eq!(ByteReader::new(&bad).str().unwrap_err().offset, 0);
        let mut huge = Vec::new();
        huge.put_u32(u32::MAX);
        assert!(ByteReader::new(&huge).count(1).is_err());
        assert!(ByteReader::new(&huge).len_bytes().is_err());
    }
}
