//! Column-chunk encodings: an arrow2 array of one column becomes self-describing bytes, chosen
//! from the chunk's statistics, and back.
//!
//! ```text
//! chunk  = u8 type code (DataType::code) | u32 n_rows | validity block | u8 encoding id | body
//! ```
//!
//! | type | encodings tried |
//! |---|---|
//! | SMALLINT, INTEGER, BIGINT, DATE, TIMESTAMP | plain, frame of reference, delta, RLE, dictionary |
//! | REAL, DOUBLE | scaled decimal (over any integer encoding), plain |
//! | TEXT | dictionary, plain |
//! | BOOLEAN | RLE, plain |
//! | INTERVAL, NULL | plain |
//!
//! The estimator makes one statistics pass (min, max, runs, deltas, distinct values up to a
//! cap that depends on the best size so far) and keeps the smallest candidate (tantivy's
//! `u64_based` codec choice). NULLs live only in the validity block; the value slot of a NULL
//! row repeats the previous valid value so it costs no extra bits or runs.
//!
//! Decoding trusts nothing: every count, width, code and length is checked, and a bad one is a
//! [`DecodeError`] at the offending offset, never a panic or an out-of-memory abort (row counts
//! are capped at [`MAX_CHUNK_ROWS`], nested counts by their parent's).

mod bitpack;
mod delta;
mod dictionary;
mod frame_of_reference;
mod ints;
mod plain;
mod rle;
mod scaled;
#[cfg(test)]
mod tests;
mod validity;

use crate::batch::ArrayRef;
use crate::bytes::{ByteReader, DecodeResult, PutLe};
use crate::error::{DecodeError, Result, StorageError};
use crate::types::DataType;
use crate::zone_map::ZoneMap;
use arrow::array::{Array, BooleanArray, NullArray, PrimitiveArray, Utf8Array};
use arrow::bitmap::Bitmap;
use arrow::buffer::Buffer;
use arrow::offset::OffsetsBuffer;
use arrow::types::{months_days_ns, NativeType};
use scaled::ScalableFloat;
use std::fmt;

/// The most rows one chunk may hold; decoding rejects larger counts before allocating.
pub const MAX_CHUNK_ROWS: usize = 1 << 20;

/// How a chunk's values are laid out. The codes are part of the file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
#[non_exhaustive]
pub enum Encoding {
    /// Values as they are.
    Plain = 0,
    /// Sorted distinct values plus one order-preserving code per row.
    Dictionary = 1,
    /// Distance from the minimum, bit-packed.
    FrameOfReference = 2,
    /// First value plus bit-packed differences between neighbours.
    Delta = 3,
    /// Runs of equal values.
    Rle = 4,
    /// Doubles stored as integers times a power of ten.
    ScaledDecimal = 5,
}

impl Encoding {
    pub const ALL: [Encoding; 6] = [
        Encoding::Plain,
        Encoding::Dictionary,
        Encoding::FrameOfReference,
        Encoding::Delta,
        Encoding::Rle,
        Encoding::ScaledDecimal,
    ];

    pub fn code(self) -> u8 {
        self as u8
    }

    pub fn try_from_code(code: u8) -> Option<Encoding> {
        Encoding::ALL.into_iter().find(|e| e.code() == code)
    }

    pub fn name(self) -> &'static str {
        match self {
            Encoding::Plain => "plain",
            Encoding::Dictionary => "dictionary",
            Encoding::FrameOfReference => "frame-of-reference",
            Encoding::Delta => "delta",
            Encoding::Rle => "rle",
            Encoding::ScaledDecimal => "scaled-decimal",
        }
    }
}

impl fmt::Display for Encoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One encoded column chunk: self-describing bytes plus the statistics gathered on the way.
#[derive(Debug, Clone)]
pub struct EncodedChunk {
    pub data_type: DataType,
    pub encoding: Encoding,
    pub n_rows: usize,
    /// The chunk bytes that [`decode`] reads (uncompressed).
    pub bytes: Vec<u8>,
    pub zone_map: ZoneMap,
}

/// What the first bytes of an encoded chunk say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkHeader {
    pub data_type: DataType,
    pub n_rows: usize,
    pub encoding: Encoding,
}

/// Encodes `array` in the smallest encoding its statistics suggest.
pub fn encode(array: &dyn Array) -> Result<EncodedChunk> {
    encode_impl(array, None)
}

/// Encodes `array` in `encoding` (nested blocks still choose freely); an error if that encoding
/// does not apply to the type or the data (scaled decimal for doubles that are not decimals).
pub fn encode_as(array: &dyn Array, encoding: Encoding) -> Result<EncodedChunk> {
    encode_impl(array, Some(encoding))
}

/// Decodes chunk bytes produced by [`encode`] into an arrow2 array of the chunk's type.
pub fn decode(bytes: &[u8]) -> Result<ArrayRef, DecodeError> {
    let mut r = ByteReader::new(bytes);
    let (data_type, n) = read_type_and_rows(&mut r)?;
    let validity = validity::read(&mut r, n)?;
    let encoding = read_encoding(&mut r)?;
    let start = r.pos();
    let array = match data_type {
        DataType::Null => {
            expect(encoding, &[Encoding::Plain], start)?;
            NullArray::new(data_type.to_arrow(), n).boxed()
        }
        DataType::Boolean => {
            let values = match encoding {
                Encoding::Plain => Bitmap::from_u8_slice(plain::decode_bools(&mut r, n)?, n),
                Encoding::Rle => rle::decode_bools(&mut r, n)?.into(),
                _ => return Err(unexpected(encoding, data_type, start)),
            };
            BooleanArray::try_new(data_type.to_arrow(), values, validity).map_err(|e| arrow_error(e, start))?.boxed()
        }
        DataType::SmallInt => int_array::<i16>(&mut r, n, encoding, data_type, validity)?,
        DataType::Integer | DataType::Date => int_array::<i32>(&mut r, n, encoding, data_type, validity)?,
        DataType::BigInt | DataType::Timestamp => int_array::<i64>(&mut r, n, encoding, data_type, validity)?,
        DataType::Real => float_array::<f32>(&mut r, n, encoding, data_type, validity)?,
        DataType::Double => float_array::<f64>(&mut r, n, encoding, data_type, validity)?,
        DataType::Interval => {
            expect(encoding, &[Encoding::Plain], start)?;
            let values = plain::decode_native::<months_days_ns>(&mut r, n)?;
            primitive(values, data_type, validity, start)?
        }
        DataType::Text => {
            let (offsets, bytes) = match encoding {
                Encoding::Plain => {
                    let (offsets, bytes) = plain::decode_strings(&mut r, n)?;
                    (offsets, bytes.to_vec())
                }
                Encoding::Dictionary => dictionary::decode_strings(&mut r, n)?,
                _ => return Err(unexpected(encoding, data_type, start)),
            };
            let offsets = OffsetsBuffer::try_from(offsets).map_err(|e| arrow_error(e, start))?;
            Utf8Array::<i32>::try_new(data_type.to_arrow(), offsets, Buffer::from(bytes), validity)
                .map_err(|e| arrow_error(e, start))?
                .boxed()
        }
    };
    r.finish()?;
    Ok(array)
}

/// Reads only the header of a chunk (type, rows, encoding), skipping the validity block.
pub fn read_header(bytes: &[u8]) -> Result<ChunkHeader, DecodeError> {
    let mut r = ByteReader::new(bytes);
    let (data_type, n_rows) = read_type_and_rows(&mut r)?;
    validity::read(&mut r, n_rows)?;
    let encoding = read_encoding(&mut r)?;
    Ok(ChunkHeader { data_type, n_rows, encoding })
}

fn read_type_and_rows(r: &mut ByteReader<'_>) -> DecodeResult<(DataType, usize)> {
    let code = r.u8()?;
    let data_type =
        DataType::try_from_code(code).ok_or_else(|| DecodeError::new(0, format!("unknown type code {code}")))?;
    let n = r.u32()? as usize;
    if n > MAX_CHUNK_ROWS {
        return Err(DecodeError::new(1, format!("chunk claims {n} rows, more than {MAX_CHUNK_ROWS}")));
    }
    Ok((data_type, n))
}

fn read_encoding(r: &mut ByteReader<'_>) -> DecodeResult<Encoding> {
    let code = r.u8()?;
    Encoding::try_from_code(code).ok_or_else(|| DecodeError::new(r.pos() - 1, format!("unknown encoding {code}")))
}

fn unexpected(encoding: Encoding, data_type: DataType, offset: usize) -> DecodeError {
    DecodeError::new(offset, format!("encoding {encoding} is not used for {data_type}"))
}

fn expect(encoding: Encoding, allowed: &[Encoding], offset: usize) -> DecodeResult<()> {
    if allowed.contains(&encoding) {
        Ok(())
    } else {
        Err(DecodeError::new(offset, format!("unexpected encoding {encoding}")))
    }
}

fn arrow_error(e: arrow::error::Error, offset: usize) -> DecodeError {
    DecodeError::new(offset, format!("invalid array: {e}"))
}

fn primitive<T: NativeType>(
    values: Vec<T>,
    data_type: DataType,
    validity: Option<Bitmap>,
    offset: usize,
) -> DecodeResult<ArrayRef> {
    Ok(PrimitiveArray::<T>::try_new(data_type.to_arrow(), values.into(), validity)
        .map_err(|e| arrow_error(e, offset))?
        .boxed())
}

fn int_array<T: NativeType + TryFrom<i64>>(
    r: &mut ByteReader<'_>,
    n: usize,
    encoding: Encoding,
    data_type: DataType,
    validity: Option<Bitmap>,
) -> DecodeResult<ArrayRef> {
    let start = r.pos();
    if !ints::TOP.allows(encoding) {
        return Err(unexpected(encoding, data_type, start));
    }
    let wide = ints::read_body(r, n, encoding)?;
    let values = wide
        .into_iter()
        .map(|v| T::try_from(v).map_err(|_| DecodeError::new(start, format!("value {v} out of range for {data_type}"))))
        .collect::<DecodeResult<Vec<T>>>()?;
    primitive(values, data_type, validity, start)
}

fn float_array<T: ScalableFloat>(
    r: &mut ByteReader<'_>,
    n: usize,
    encoding: Encoding,
    data_type: DataType,
    validity: Option<Bitmap>,
) -> DecodeResult<ArrayRef> {
    let start = r.pos();
    let values = match encoding {
        Encoding::Plain => plain::decode_native::<T>(r, n)?,
        Encoding::ScaledDecimal => scaled::decode::<T>(r, n)?,
        _ => return Err(unexpected(encoding, data_type, start)),
    };
    primitive(values, data_type, validity, start)
}

fn downcast<T: 'static>(array: &dyn Array) -> Result<&T> {
    array
        .as_any()
        .downcast_ref::<T>()
        .ok_or_else(|| StorageError::Invalid(format!("array of type {:?} has an unexpected layout", array.data_type())))
}

/// `values` with every NULL slot replaced by the previous valid value (the first valid value
/// for leading NULLs), so NULLs add no runs and widen no ranges.
fn fill_nulls<T: Copy + Default>(values: &[T], validity: Option<&Bitmap>) -> Vec<T> {
    let Some(validity) = validity.filter(|v| v.unset_bits() > 0) else { return values.to_vec() };
    let mut last = values.iter().zip(validity.iter()).find(|(_, ok)| *ok).map_or(T::default(), |(v, _)| *v);
    values
        .iter()
        .zip(validity.iter())
        .map(|(&v, ok)| {
            if ok {
                last = v;
            }
            last
        })
        .collect()
}

fn int_values<T: NativeType + Into<i64>>(array: &dyn Array) -> Result<Vec<i64>> {
    let array = downcast::<PrimitiveArray<T>>(array)?;
    Ok(fill_nulls(array.values(), array.validity()).into_iter().map(Into::into).collect())
}

fn not_applicable(encoding: Encoding, data_type: DataType) -> StorageError {
    StorageError::Invalid(format!("encoding {encoding} does not apply to this {data_type} chunk"))
}

fn encode_impl(array: &dyn Array, force: Option<Encoding>) -> Result<EncodedChunk> {
    let data_type = DataType::from_arrow(array.data_type())
        .ok_or_else(|| StorageError::NotSupported(format!("storing arrays of type {:?}", array.data_type())))?;
    let n = array.len();
    if n > MAX_CHUNK_ROWS {
        return Err(StorageError::Invalid(format!("a chunk holds at most {MAX_CHUNK_ROWS} rows, got {n}")));
    }
    let mut out = Vec::new();
    out.put_u8(data_type.code());
    out.put_u32(n as u32);
    let check = |allowed: &[Encoding]| match force {
        Some(e) if !allowed.contains(&e) => Err(not_applicable(e, data_type)),
        _ => Ok(()),
    };
    let encoding = match data_type {
        DataType::Null => {
            check(&[Encoding::Plain])?;
            validity::write(Some(&Bitmap::new_zeroed(n)), n, &mut out);
            out.put_u8(Encoding::Plain as u8);
            Encoding::Plain
        }
        DataType::Interval => {
            check(&[Encoding::Plain])?;
            let array = downcast::<PrimitiveArray<months_days_ns>>(array)?;
            validity::write(array.validity(), n, &mut out);
            out.put_u8(Encoding::Plain as u8);
            plain::encode_native(array.values(), &mut out);
            Encoding::Plain
        }
        DataType::Boolean => {
            check(&[Encoding::Plain, Encoding::Rle])?;
            let array = downcast::<BooleanArray>(array)?;
            validity::write(array.validity(), n, &mut out);
            encode_bools(array, force, &mut out)
        }
        DataType::SmallInt | DataType::Integer | DataType::BigInt | DataType::Date | DataType::Timestamp => {
            let values = match data_type {
                DataType::SmallInt => int_values::<i16>(array)?,
                DataType::Integer | DataType::Date => int_values::<i32>(array)?,
                _ => int_values::<i64>(array)?,
            };
            validity::write(array.validity(), n, &mut out);
            let (encoding, distinct) = match force {
                None => {
                    let choice = ints::choose(&values, ints::TOP);
                    (choice.encoding, choice.distinct)
                }
                Some(e) if ints::TOP.allows(e) => (e, None),
                Some(e) => return Err(not_applicable(e, data_type)),
            };
            out.put_u8(encoding as u8);
            ints::write_body(&values, encoding, distinct, &mut out);
            encoding
        }
        DataType::Real => encode_floats(downcast::<PrimitiveArray<f32>>(array)?, data_type, force, &mut out)?,
        DataType::Double => encode_floats(downcast::<PrimitiveArray<f64>>(array)?, data_type, force, &mut out)?,
        DataType::Text => {
            check(&[Encoding::Plain, Encoding::Dictionary])?;
            let array = downcast::<Utf8Array<i32>>(array)?;
            validity::write(array.validity(), n, &mut out);
            encode_text(array, force, &mut out)
        }
    };
    Ok(EncodedChunk { data_type, encoding, n_rows: n, bytes: out, zone_map: ZoneMap::compute(array) })
}

fn encode_bools(array: &BooleanArray, force: Option<Encoding>, out: &mut Vec<u8>) -> Encoding {
    let filled = || {
        let mut last = array.iter().flatten().next().unwrap_or(false);
        array.iter().map(move |v| {
            if let Some(v) = v {
                last = v;
            }
            last
        })
    };
    let plain_len = array.len().div_ceil(8);
    let use_rle = match force {
        Some(e) => e == Encoding::Rle,
        None => rle::estimate_bools(filled()) < plain_len,
    };
    if use_rle {
        out.put_u8(Encoding::Rle as u8);
        rle::encode_bools(filled(), out);
        Encoding::Rle
    } else {
        out.put_u8(Encoding::Plain as u8);
        plain::encode_bools(&validity::bitmap_bytes(array.values()), out);
        Encoding::Plain
    }
}

fn encode_floats<T: ScalableFloat + Default>(
    array: &PrimitiveArray<T>,
    data_type: DataType,
    force: Option<Encoding>,
    out: &mut Vec<u8>,
) -> Result<Encoding> {
    if let Some(e) = force.filter(|e| !matches!(e, Encoding::Plain | Encoding::ScaledDecimal)) {
        return Err(not_applicable(e, data_type));
    }
    validity::write(array.validity(), array.len(), out);
    let values = fill_nulls(array.values(), array.validity());
    if force != Some(Encoding::Plain) {
        match scaled::scale(&values) {
            Some((exponent, ks)) => {
                let mut body = Vec::new();
                scaled::encode(exponent, &ks, &mut body);
                if force.is_some() || body.len() < std::mem::size_of_val(values.as_slice()) {
                    out.put_u8(Encoding::ScaledDecimal as u8);
                    out.extend_from_slice(&body);
                    return Ok(Encoding::ScaledDecimal);
                }
            }
            None if force.is_some() => return Err(not_applicable(Encoding::ScaledDecimal, data_type)),
            None => {}
        }
    }
    out.put_u8(Encoding::Plain as u8);
    plain::encode_native(&values, out);
    Ok(Encoding::Plain)
}

fn encode_text(array: &Utf8Array<i32>, force: Option<Encoding>, out: &mut Vec<u8>) -> Encoding {
    let n = array.len();
    // Plain: NULL rows are empty strings.
    let lengths: Vec<i64> = array.iter().map(|v| v.map_or(0, |s| s.len() as i64)).collect();
    let total: usize = lengths.iter().map(|&len| len as usize).sum();
    let max_len = lengths.iter().copied().max().unwrap_or(0);
    let plain_estimate =
        total + 10 + bitpack::packed_len(n, bitpack::bits_needed(max_len as u64)).unwrap_or(usize::MAX);
    if force != Some(Encoding::Plain) {
        let cap = if force.is_some() { usize::MAX } else { (n / 2).min(MAX_CHUNK_ROWS) };
        if let Some((dict, codes)) = dictionary::build_string_dictionary(array, cap) {
            let mut body = Vec::new();
            dictionary::encode_strings(&dict, &codes, &mut body);
            if force.is_some() || body.len() < plain_estimate {
                out.put_u8(Encoding::Dictionary as u8);
                out.extend_from_slice(&body);
                return Encoding::Dictionary;
            }
        }
    }
    out.put_u8(Encoding::Plain as u8);
    let mut bytes = Vec::with_capacity(total);
    for s in array.iter().flatten() {
        bytes.extend_from_slice(s.as_bytes());
    }
    plain::encode_strings(&lengths, &bytes, out);
    Encoding::Plain
}
