//! Block compression of encoded chunk bytes: `lz4_flex` (the default: fast to decode) or `zstd`
//! (smaller), chosen per table and overridable per column.
//!
//! ```text
//! frame = u8 codec (0 none, 1 lz4, 2 zstd) | u32 uncompressed length | payload
//! ```
//!
//! A codec that does not make the bytes smaller is replaced by `none`, so incompressible
//! chunks cost five bytes more than their encoding. Decompression checks the uncompressed
//! length against what the payload can possibly expand to before allocating.

use crate::bytes::{ByteReader, PutLe};
use crate::error::{DecodeError, Result, StorageError};
use std::borrow::Cow;

/// The zstd level used for [`Compression::Zstd`].
pub const ZSTD_LEVEL: i32 = 3;
/// Bytes of frame header before the payload.
pub const FRAME_HEADER_LEN: usize = 5;

/// A block compression codec. The codes are part of the file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[repr(u8)]
pub enum Compression {
    None = 0,
    #[default]
    Lz4 = 1,
    Zstd = 2,
}

impl Compression {
    pub fn code(self) -> u8 {
        self as u8
    }

    pub fn try_from_code(code: u8) -> Option<Compression> {
        match code {
            0 => Some(Compression::None),
            1 => Some(Compression::Lz4),
            2 => Some(Compression::Zstd),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Lz4 => "lz4",
            Compression::Zstd => "zstd",
        }
    }
}

/// Appends a frame holding `raw` compressed with `codec` (or stored as is when that is smaller).
pub fn compress(codec: Compression, raw: &[u8], out: &mut Vec<u8>) -> Result<()> {
    let raw_len = u32::try_from(raw.len()).map_err(|_| {
        StorageError::Invalid(format!("a compressed block holds at most 4 GiB, got {} bytes", raw.len()))
    })?;
    let compressed = match codec {
        Compression::None => None,
        Compression::Lz4 => Some(lz4_flex::block::compress(raw)),
        Compression::Zstd => Some(
            zstd::bulk::compress(raw, ZSTD_LEVEL)
                .map_err(|e| StorageError::Invalid(format!("zstd compression failed: {e}")))?,
        ),
    };
    match compressed {
        Some(payload) if payload.len() < raw.len() => {
            out.put_u8(codec.code());
            out.put_u32(raw_len);
            out.extend_from_slice(&payload);
        }
        _ => {
            out.put_u8(Compression::None.code());
            out.put_u32(raw_len);
            out.extend_from_slice(raw);
        }
    }
    Ok(())
}

/// The uncompressed bytes of a frame (borrowed when it was stored uncompressed).
pub fn decompress(frame: &[u8]) -> Result<Cow<'_, [u8]>, DecodeError> {
    let mut r = ByteReader::new(frame);
    let code = r.u8()?;
    let codec =
        Compression::try_from_code(code).ok_or_else(|| DecodeError::new(0, format!("unknown compression {code}")))?;
    let raw_len = r.u32()? as usize;
    let payload = r.bytes(r.remaining())?;
    let at_payload = |reason: String| DecodeError::new(FRAME_HEADER_LEN, reason);
    let raw = match codec {
        Compression::None => {
            if payload.len() != raw_len {
                return Err(at_payload(format!("stored block of {} bytes, header says {raw_len}", payload.len())));
            }
            return Ok(Cow::Borrowed(payload));
        }
        Compression::Lz4 => {
            // An LZ4 sequence expands at most about 255-fold.
            if raw_len > payload.len().saturating_mul(255).saturating_add(16) {
                return Err(at_payload(format!("lz4 block of {} bytes cannot expand to {raw_len}", payload.len())));
            }
            lz4_flex::block::decompress(payload, raw_len).map_err(|e| at_payload(format!("lz4: {e}")))?
        }
        Compression::Zstd => {
            match zstd::zstd_safe::get_frame_content_size(payload) {
                Ok(Some(size)) if size == raw_len as u64 => {}
                _ => return Err(at_payload(format!("zstd frame does not declare {raw_len} bytes"))),
            }
            zstd::bulk::decompress(payload, raw_len).map_err(|e| at_payload(format!("zstd: {e}")))?
        }
    };
    if raw.len() != raw_len {
        return Err(at_payload(format!("block decompressed to {} bytes, header says {raw_len}", raw.len())));
    }
    Ok(Cow::Owned(raw))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn round_trip(codec: Compression, raw: &[u8]) -> Vec<u8> {
        let mut frame = Vec::new();
        compress(codec, raw, &mut frame).unwrap();
        assert_eq!(decompress(&frame).unwrap().as_ref(), raw);
        frame
    }

    #[test]
    fn codecs_round_trip_and_shrink() {
        let text = "the quick brown fox jumps over the lazy dog. ".repeat(200);
        for codec in [Compression::None, Compression::Lz4, Compression::Zstd] {
            let frame = round_trip(codec, text.as_bytes());
            assert_eq!(frame[0], codec.code());
            if codec != Compression::None {
                assert!(frame.len() < text.len() / 10, "{} ratio", codec.name());
            }
            round_trip(codec, b"");
            // Incompressible bytes are stored as they are.
            let mut state = 0x2545_F491_4F6C_DD1Du64;
            let noise: Vec<u8> = (0..300)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    (state >> 32) as u8
                })
                .collect();
            assert_eq!(round_trip(codec, &noise)[0], Compression::None.code());
        }
        assert_eq!(Compression::default(), Compression::Lz4);
        assert_eq!(Compression::try_from_code(3), None);
    }

    #[test]
    fn damaged_frames_are_errors() {
        let text = "abcabcabc".repeat(100);
        for codec in [Compression::None, Compression::Lz4, Compression::Zstd] {
            let mut frame = Vec::new();
            compress(codec, text.as_bytes(), &mut frame).unwrap();
            for len in 0..frame.len() {
                assert!(decompress(&frame[..len]).is_err());
            }
            let mut wrong_len = frame.clone();
            wrong_len[1] ^= 1;
            assert!(decompress(&wrong_len).is_err());
            let mut huge = frame.clone();
            huge[1..5].copy_from_slice(&u32::MAX.to_le_bytes());
            assert!(decompress(&huge).is_err());
        }
    }

    proptest! {
        #[test]
        fn prop_random_frames_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..300), codec in 0u8..3) {
            let mut frame = bytes;
            if !frame.is_empty() {
                frame[0] = codec;
            }
            let _ = decompress(&frame);
        }

        #[test]
        fn prop_round_trip(raw in prop::collection::vec(0u8..4, 0..2000)) {
            for codec in [Compression::None, Compression::Lz4, Compression::Zstd] {
                round_trip(codec, &raw);
            }
        }
    }
}
