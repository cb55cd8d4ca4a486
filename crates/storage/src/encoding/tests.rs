//! Round trips per type and per encoding, the estimator's choices, and decoding of random and
//! damaged bytes.

use super::*;
use crate::value::Value;
use arrow::array::{Float32Array, Float64Array, Int16Array, Int32Array, Int64Array, MutablePrimitiveArray};
use arrow::datatypes::{DataType as ArrowType, TimeUnit};
use proptest::prelude::*;

/// A row's value in a form where floats compare by bit pattern.
fn row_key(array: &dyn Array, row_idx: usize) -> String {
    match Value::from_array(array, row_idx) {
        Value::Double(x) => format!("double {:#x}", x.to_bits()),
        Value::Real(x) => format!("real {:#x}", x.to_bits()),
        v => format!("{v:?}"),
    }
}

fn assert_same(expected: &dyn Array, actual: &dyn Array) {
    assert_eq!(expected.data_type(), actual.data_type());
    assert_eq!(expected.len(), actual.len());
    assert_eq!(expected.null_count(), actual.null_count());
    for row_idx in 0..expected.len() {
        assert_eq!(expected.is_null(row_idx), actual.is_null(row_idx), "validity of row {row_idx}");
        assert_eq!(row_key(expected, row_idx), row_key(actual, row_idx), "row {row_idx}");
    }
}

/// Encodes `array` with the estimator and with every encoding that applies, decodes each, and
/// returns the chosen encoding.
fn check(array: &dyn Array) -> Encoding {
    let chunk = encode(array).unwrap();
    assert_eq!(chunk.n_rows, array.len());
    assert_eq!(
        read_header(&chunk.bytes).unwrap(),
        ChunkHeader { data_type: chunk.data_type, n_rows: array.len(), encoding: chunk.encoding }
    );
    let zone_map_bytes = |z: &ZoneMap| {
        let mut buf = Vec::new();
        z.write(&mut buf);
        buf
    };
    assert_eq!(zone_map_bytes(&chunk.zone_map), zone_map_bytes(&ZoneMap::compute(array)));
    assert_same(array, decode(&chunk.bytes).unwrap().as_ref());
    let mut applicable = 0;
    for encoding in Encoding::ALL {
        if let Ok(forced) = encode_as(array, encoding) {
            assert_eq!(forced.encoding, encoding);
            assert_same(array, decode(&forced.bytes).unwrap().as_ref());
            applicable += 1;
        }
    }
    assert!(applicable >= 1);
    chunk.encoding
}

fn timestamps(values: &[Option<i64>]) -> ArrayRef {
    PrimitiveArray::<i64>::from(values).to(ArrowType::Timestamp(TimeUnit::Microsecond, None)).boxed()
}

#[test]
fn integers_edge_cases() {
    check(&Int64Array::from_slice([] as [i64; 0]));
    check(&Int64Array::from_slice([42]));
    check(&Int64Array::from([None, None, None]));
    check(&Int64Array::from([None, Some(i64::MIN), None, Some(i64::MAX), Some(0)]));
    check(&Int64Array::from_slice([i64::MIN, i64::MAX, i64::MIN, i64::MAX]));
    check(&Int32Array::from_slice([i32::MIN, -1, 0, 1, i32::MAX]));
    check(&Int16Array::from([Some(i16::MIN), None, Some(i16::MAX)]));
    check(&PrimitiveArray::<i32>::from([Some(19_000), None, Some(19_001)]).to(ArrowType::Date32));
    check(timestamps(&[Some(1), None, Some(3), Some(-5)]).as_ref());
    // A sliced array starts mid-buffer and mid-bitmap.
    let long = Int32Array::from((0..100).map(|v| if v % 3 == 0 { None } else { Some(v * 7) }).collect::<Vec<_>>());
    check(&long.sliced(5, 60));
}

#[test]
fn integer_encoding_choices() {
    let sorted: Vec<Option<i64>> = (0..10_000).map(|i| Some(1_700_000_000_000_000 + i * 1_000_000 + i % 7)).collect();
    assert_eq!(check(timestamps(&sorted).as_ref()), Encoding::Delta);
    let runs: Vec<i32> = (0..10_000).map(|i| i / 1000 * 1_000_000).collect();
    assert_eq!(check(&Int32Array::from_slice(&runs)), Encoding::Rle);
    let small: Vec<i64> = (0..10_000).map(|i| (i * 7919) % 1000).collect();
    assert_eq!(check(&Int64Array::from_slice(&small)), Encoding::FrameOfReference);
    let sparse: Vec<i64> = (0..10_000).map(|i| [3, 1 << 40, -(1 << 50), 77][(i * 7) % 4]).collect();
    assert_eq!(check(&Int64Array::from_slice(&sparse)), Encoding::Dictionary);
    let constant = Int64Array::from_slice([5; 1000]);
    assert_eq!(check(&constant), Encoding::FrameOfReference);
    assert!(encode(&constant).unwrap().bytes.len() < 32);
    // Invalid forced choices are errors, not panics.
    assert!(encode_as(&constant, Encoding::ScaledDecimal).is_err());
    assert!(encode_as(&Utf8Array::<i32>::from_slice(["a"]), Encoding::Delta).is_err());
}

#[test]
fn floats_edge_cases() {
    check(&Float64Array::from_slice([] as [f64; 0]));
    check(&Float64Array::from([None, None]));
    let odd = [f64::NAN, -0.0, 0.0, f64::INFINITY, f64::NEG_INFINITY, f64::MIN_POSITIVE, 1e-310, f64::MAX];
    assert_eq!(check(&Float64Array::from_slice(odd)), Encoding::Plain);
    // A NaN with a payload keeps its bits.
    check(&Float64Array::from_slice([f64::from_bits(0x7ff8_0000_dead_beef), 1.0]));
    // -0.0 alone cannot be scaled (it would come back as +0.0).
    assert!(encode_as(&Float64Array::from_slice([-0.0]), Encoding::ScaledDecimal).is_err());
    let cents: Vec<Option<f64>> =
        (0..5000).map(|i| if i % 10 == 0 { None } else { Some((i * 37 % 100_000) as f64 / 100.0) }).collect();
    let cents = Float64Array::from(cents);
    assert_eq!(check(&cents), Encoding::ScaledDecimal);
    assert!(encode(&cents).unwrap().bytes.len() * 3 < 5000 * 8);
    check(&Float64Array::from_slice([0.1, 0.2, 0.30000000000000004]));
    check(&Float64Array::from_slice([1e15, -1e15, 12345.678, 9_007_199_254_740_992.0]));
    check(&Float32Array::from([Some(1.25f32), None, Some(-3.5), Some(f32::NAN), Some(-0.0)]));
    assert_eq!(check(&Float32Array::from_slice([0.1f32, 0.25, 19.99])), Encoding::ScaledDecimal);
}

#[test]
fn text_edge_cases() {
    check(&Utf8Array::<i32>::from_slice([] as [&str; 0]));
    check(&Utf8Array::<i32>::from([None::<&str>, None]));
    check(&Utf8Array::<i32>::from([Some(""), None, Some("héllo wörld ✓"), Some("")]));
    let low_card: Vec<Option<&str>> =
        (0..5000).map(|i| if i % 13 == 0 { None } else { Some(["eu-west", "us-east", "ap-south"][i % 3]) }).collect();
    let low_card = Utf8Array::<i32>::from(low_card);
    assert_eq!(check(&low_card), Encoding::Dictionary);
    assert!(encode(&low_card).unwrap().bytes.len() < 5000 / 2);
    let unique: Vec<String> = (0..1000).map(|i| format!("user-{i}-{}", i * 7919)).collect();
    assert_eq!(check(&Utf8Array::<i32>::from_slice(&unique)), Encoding::Plain);
    check(&Utf8Array::<i32>::from_slice(&unique).sliced(10, 500));
    // Leading NULLs before the first dictionary value.
    check(&Utf8Array::<i32>::from([None, None, Some("b"), Some("a"), None, Some("b")]));
}

#[test]
fn booleans_intervals_and_nulls() {
    check(&BooleanArray::from_slice([] as [bool; 0]));
    check(&BooleanArray::from([Some(true), None, Some(false), Some(true)]));
    check(&BooleanArray::from([None, None]));
    let runs: Vec<bool> = (0..10_000).map(|i| (i / 2500) % 2 == 0).collect();
    assert_eq!(check(&BooleanArray::from_slice(&runs)), Encoding::Rle);
    let noisy: Vec<bool> = (0..10_000).map(|i| (i * 7919) % 3 == 0).collect();
    assert_eq!(check(&BooleanArray::from_slice(&noisy)), Encoding::Plain);
    check(&BooleanArray::from_slice(&noisy).sliced(3, 77));
    let intervals: MutablePrimitiveArray<months_days_ns> =
        [Some(months_days_ns::new(1, 2, 3_000)), None].into_iter().collect();
    let intervals: PrimitiveArray<months_days_ns> = intervals.into();
    check(&intervals.to(DataType::Interval.to_arrow()));
    check(&NullArray::new(ArrowType::Null, 5));
    check(&NullArray::new(ArrowType::Null, 0));
}

#[test]
fn unsupported_and_oversized_arrays_are_errors() {
    let unsigned = PrimitiveArray::<u32>::from_slice([1, 2]);
    assert!(matches!(encode(&unsigned), Err(StorageError::NotSupported(_))));
    let huge = NullArray::new(ArrowType::Null, MAX_CHUNK_ROWS + 1);
    assert!(matches!(encode(&huge), Err(StorageError::Invalid(_))));
}

#[test]
fn every_truncation_and_byte_flip_is_handled() {
    let arrays: Vec<ArrayRef> = vec![
        Int64Array::from((0..300).map(|i| if i % 11 == 0 { None } else { Some(i * 1000 + i % 3) }).collect::<Vec<_>>())
            .boxed(),
        Float64Array::from_slice((0..200).map(|i| i as f64 / 100.0).collect::<Vec<_>>()).boxed(),
        Utf8Array::<i32>::from((0..200).map(|i| Some(["x", "yy", "zzz"][i % 3])).collect::<Vec<_>>()).boxed(),
        BooleanArray::from_slice((0..200).map(|i| i < 100).collect::<Vec<_>>()).boxed(),
    ];
    for array in arrays {
        for encoding in Encoding::ALL {
            let Ok(chunk) = encode_as(array.as_ref(), encoding) else { continue };
            for len in 0..chunk.bytes.len() {
                assert!(decode(&chunk.bytes[..len]).is_err(), "{encoding} truncated to {len} bytes decoded");
            }
            for pos in 0..chunk.bytes.len() {
                for flip in [0x01u8, 0x80, 0xff] {
                    let mut bytes = chunk.bytes.clone();
                    bytes[pos] ^= flip;
                    // Either an error or some array: never a panic.
                    let _ = decode(&bytes);
                }
            }
        }
    }
}

fn opt_i64s() -> impl Strategy<Value = Vec<Option<i64>>> {
    let value = prop_oneof![
        any::<i64>(),
        -1000i64..1000,
        Just(0i64),
        Just(i64::MIN),
        Just(i64::MAX),
        (0i64..5).prop_map(|v| v << 40)
    ];
    prop::collection::vec(prop::option::weighted(0.9, value), 0..300)
}

fn opt_f64s() -> impl Strategy<Value = Vec<Option<f64>>> {
    let value = prop_oneof![
        any::<f64>(),
        (-100_000i64..100_000).prop_map(|c| c as f64 / 100.0),
        Just(f64::NAN),
        Just(-0.0),
        Just(f64::INFINITY)
    ];
    prop::collection::vec(prop::option::weighted(0.9, value), 0..300)
}

proptest! {
    #[test]
    fn prop_integers_round_trip(values in opt_i64s(), sorted in any::<bool>()) {
        let mut values = values;
        if sorted {
            values.sort();
        }
        check(&Int64Array::from(values.clone()));
        check(timestamps(&values).as_ref());
        let narrow: Vec<Option<i32>> = values.iter().map(|v| v.map(|v| v as i32)).collect();
        check(&Int32Array::from(narrow));
        let narrow: Vec<Option<i16>> = values.iter().map(|v| v.map(|v| v as i16)).collect();
        check(&Int16Array::from(narrow));
    }

    #[test]
    fn prop_floats_round_trip(values in opt_f64s()) {
        check(&Float64Array::from(values.clone()));
        let narrow: Vec<Option<f32>> = values.iter().map(|v| v.map(|v| v as f32)).collect();
        check(&Float32Array::from(narrow));
    }

    #[test]
    fn prop_text_and_bools_round_trip(
        values in prop::collection::vec(prop::option::weighted(0.9, "[a-c]{0,3}|\\PC{0,12}"), 0..200),
        bools in prop::collection::vec(prop::option::of(any::<bool>()), 0..300),
    ) {
        check(&Utf8Array::<i32>::from(values));
        check(&BooleanArray::from(bools));
    }

    #[test]
    fn prop_random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = decode(&bytes);
        let _ = read_header(&bytes);
    }

    #[test]
    fn prop_plausible_headers_never_panic(
        type_code in 0u8..12,
        n_rows in prop_oneof![0u32..64, Just(u32::MAX), Just(MAX_CHUNK_ROWS as u32)],
        validity_kind in 0u8..4,
        encoding in 0u8..7,
        body in prop::collection::vec(any::<u8>(), 0..256),
    ) {
        let mut bytes = vec![type_code];
        bytes.extend_from_slice(&n_rows.to_le_bytes());
        bytes.push(validity_kind);
        if validity_kind == 2 {
            bytes.extend(std::iter::repeat_n(0xAA, (n_rows as usize).div_ceil(8).min(64)));
        }
        bytes.push(encoding);
        bytes.extend_from_slice(&body);
        let _ = decode(&bytes);
    }
}
