//! The validity (NULL) bitmap of a chunk, stored ahead of the values and apart from them.
//!
//! ```text
//! u8 kind: 0 = no NULLs (nothing follows)
//!          1 = every row NULL (nothing follows)
//!          2 = bitmap: ceil(n_rows / 8) bytes, bit i (LSB first) set when row i is valid
//! ```

use crate::bytes::{ByteReader, DecodeResult, PutLe};
use arrow::bitmap::{Bitmap, MutableBitmap};

const NO_NULLS: u8 = 0;
const ALL_NULL: u8 = 1;
const BITMAP: u8 = 2;

/// The bytes of `bitmap` with bit 0 at the least significant bit of byte 0.
pub(crate) fn bitmap_bytes(bitmap: &Bitmap) -> Vec<u8> {
    let (bytes, offset, len) = bitmap.as_slice();
    if offset == 0 {
        bytes[..len.div_ceil(8)].to_vec()
    } else {
        let mut copy = MutableBitmap::with_capacity(len);
        copy.extend_from_trusted_len_iter(bitmap.iter());
        copy.as_slice().to_vec()
    }
}

/// Appends the validity block of an array of `n_rows` rows.
pub(crate) fn write(validity: Option<&Bitmap>, n_rows: usize, out: &mut Vec<u8>) {
    match validity {
        Some(bitmap) if n_rows > 0 && bitmap.unset_bits() == n_rows => out.put_u8(ALL_NULL),
        Some(bitmap) if bitmap.unset_bits() > 0 => {
            out.put_u8(BITMAP);
            out.extend_from_slice(&bitmap_bytes(bitmap));
        }
        _ => out.put_u8(NO_NULLS),
    }
}

/// Reads a validity block; `None` means no NULLs.
pub(crate) fn read(r: &mut ByteReader<'_>, n_rows: usize) -> DecodeResult<Option<Bitmap>> {
    match r.u8()? {
        NO_NULLS => Ok(None),
        ALL_NULL => Ok(Some(Bitmap::new_zeroed(n_rows))),
        BITMAP => {
            let bytes = r.bytes(n_rows.div_ceil(8))?;
            Ok(Some(Bitmap::from_u8_slice(bytes, n_rows)))
        }
        kind => Err(r.error(format!("unknown validity kind {kind}"))),
    }
}
