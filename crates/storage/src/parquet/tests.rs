use super::*;
use crate::value::{values_to_array, Value};
use arrow::io::parquet::write::{CompressionOptions, Encoding, FileWriter, RowGroupIterator, Version, WriteOptions};

fn all_types() -> (Vec<String>, Vec<DataType>) {
    let types = vec![
        DataType::Boolean,
        DataType::SmallInt,
        DataType::Integer,
        DataType::BigInt,
        DataType::Real,
        DataType::Double,
        DataType::Text,
        DataType::Date,
        DataType::Timestamp,
    ];
    let names = types.iter().map(|t| t.sql_name().to_lowercase()).collect();
    (names, types)
}

fn sample_rows() -> Vec<Vec<Value>> {
    vec![
        vec![
            Value::Boolean(true),
            Value::SmallInt(-7),
            Value::Integer(i32::MIN),
            Value::BigInt(i64::MAX),
            Value::Real(1.5),
            Value::Double(-0.1),
            Value::Text("héllo, \"world\"\n".into()),
            Value::Date(-1),
            Value::Timestamp(1_700_000_000_123_456),
        ],
        vec![Value::Null; 9],
        vec![
            Value::Boolean(false),
            Value::SmallInt(i16::MAX),
            Value::Integer(0),
            Value::BigInt(i64::MIN),
            Value::Real(f32::INFINITY),
            Value::Double(f64::NAN),
            Value::Text(String::new()),
            Value::Date(19_000),
            Value::Timestamp(-1),
        ],
    ]
}

fn batch_of(types: &[DataType], rows: &[Vec<Value>]) -> Batch {
    let columns = (0..types.len())
        .map(|c| values_to_array(types[c], &rows.iter().map(|r| r[c].clone()).collect::<Vec<_>>()))
        .collect();
    Batch { columns, n_rows: rows.len() }
}

fn rows_of(batches: &[Batch]) -> Vec<Vec<Value>> {
    let mut out = Vec::new();
    for b in batches {
        for r in 0..b.n_rows {
            out.push(b.columns.iter().map(|c| Value::from_array(c.as_ref(), r)).collect());
        }
    }
    out
}

fn targets(names: &[String], types: &[DataType]) -> Vec<(String, DataType)> {
    names.iter().cloned().zip(types.iter().copied()).collect()
}

/// Writes one arrow2 array per column with arrow2's writer directly (types we never write).
fn write_raw(path: &Path, columns: Vec<(&str, ArrayRef, Encoding)>) {
    let schema = Schema::from(
        columns.iter().map(|(n, a, _)| Field::new(n.to_string(), a.data_type().clone(), true)).collect::<Vec<_>>(),
    );
    let options = WriteOptions {
        write_statistics: true,
        compression: CompressionOptions::Zstd(None),
        version: Version::V2,
        data_pagesize_limit: None,
    };
    let encodings = columns.iter().map(|(_, _, e)| vec![*e]).collect();
    let chunk = Chunk::new(columns.into_iter().map(|(_, a, _)| a).collect::<Vec<_>>());
    let groups = RowGroupIterator::try_new(std::iter::once(Ok(chunk)), &schema, options, encodings).unwrap();
    let mut writer = FileWriter::try_new(std::fs::File::create(path).unwrap(), schema, options).unwrap();
    for g in groups {
        writer.write(g.unwrap()).unwrap();
    }
    writer.end(None).unwrap();
}

#[test]
fn round_trip_every_type_with_nulls() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("all.parquet");
    let (names, types) = all_types();
    let rows = sample_rows();
    // Many small batches become one row group; the reader hands back one batch.
    let batches: Vec<Batch> = rows.iter().map(|r| batch_of(&types, std::slice::from_ref(r))).collect();
    assert_eq!(write(&path, &names, &types, &batches).unwrap(), 3);
    let file = ParquetFile::open(&path).unwrap();
    assert_eq!(file.num_rows(), 3);
    assert_eq!(file.column_names(), names);
    for threads in [1, 2] {
        let back = file.read(&targets(&names, &types), threads).unwrap();
        let got = rows_of(&back);
        assert_eq!(got.len(), 3);
        for (g, w) in got.iter().zip(&rows) {
            for (gv, wv) in g.iter().zip(w) {
                // NaN != NaN: compare the printed forms.
                assert_eq!(gv.to_string(), wv.to_string());
                assert_eq!(gv.is_null(), wv.is_null());
            }
        }
    }
}

#[test]
fn many_row_groups_and_chunks_keep_order() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.parquet");
    let n = WRITE_ROW_GROUP_ROWS + READ_CHUNK_ROWS + 17;
    let ids = PrimitiveArray::<i64>::from_vec((0..n as i64).collect()).boxed();
    let names = vec!["id".to_string()];
    write(&path, &names, &[DataType::BigInt], &[Batch { columns: vec![ids], n_rows: n }]).unwrap();
    let file = ParquetFile::open(&path).unwrap();
    assert_eq!(file.num_row_groups(), 2);
    let back = file.read(&targets(&names, &[DataType::BigInt]), 2).unwrap();
    assert!(back.iter().all(|b| b.n_rows <= READ_CHUNK_ROWS));
    let all: Vec<i64> = back.iter().flat_map(|b| prim::<i64>(b.column(0)).values().to_vec()).collect();
    assert_eq!(all, (0..n as i64).collect::<Vec<_>>());
}

#[test]
fn lossless_coercions() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("coerce.parquet");
    let dict = DictionaryArray::<i32>::try_from_keys(
        PrimitiveArray::<i32>::from([Some(1), None, Some(0), Some(1)]),
        Utf8Array::<i32>::from_slice(["de", "fr"]).boxed(),
    )
    .unwrap();
    write_raw(
        &path,
        vec![
            ("i32", PrimitiveArray::<i32>::from([Some(1), None, Some(-3), Some(i32::MAX)]).boxed(), Encoding::Plain),
            ("u8", PrimitiveArray::<u8>::from([Some(255), Some(0), None, Some(1)]).boxed(), Encoding::Plain),
            (
                "ns",
                PrimitiveArray::<i64>::from([Some(1_500), Some(-1_500), None, Some(2_000_000_499)])
                    .to(ArrowType::Timestamp(TimeUnit::Nanosecond, None))
                    .boxed(),
                Encoding::Plain,
            ),
            (
                "ms",
                PrimitiveArray::<i64>::from([Some(1), Some(-1), None, Some(0)])
                    .to(ArrowType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())))
                    .boxed(),
                Encoding::Plain,
            ),
            ("dict", dict.boxed(), Encoding::RleDictionary),
            (
                "large",
                arrow::array::Utf8Array::<i64>::from([Some("a"), Some(""), None, Some("z")]).boxed(),
                Encoding::Plain,
            ),
            ("f32", PrimitiveArray::<f32>::from([Some(0.5), None, Some(-2.0), Some(1e10)]).boxed(), Encoding::Plain),
            (
                "date",
                PrimitiveArray::<i32>::from([Some(1), None, Some(-1), Some(0)]).to(ArrowType::Date32).boxed(),
                Encoding::Plain,
            ),
        ],
    );
    let file = ParquetFile::open(&path).unwrap();
    let types = [
        DataType::BigInt,
        DataType::SmallInt,
        DataType::Timestamp,
        DataType::Timestamp,
        DataType::Text,
        DataType::Text,
        DataType::Double,
        DataType::Timestamp,
    ];
    let names: Vec<String> = (0..types.len()).map(|i| format!("c{i}")).collect();
    let got = rows_of(&file.read(&targets(&names, &types), 2).unwrap());
    let col = |c: usize| got.iter().map(|r| r[c].clone()).collect::<Vec<_>>();
    assert_eq!(col(0), [Value::BigInt(1), Value::Null, Value::BigInt(-3), Value::BigInt(i32::MAX as i64)]);
    assert_eq!(col(1), [Value::SmallInt(255), Value::SmallInt(0), Value::Null, Value::SmallInt(1)]);
    assert_eq!(
        col(2),
        [Value::Timestamp(2), Value::Timestamp(-1), Value::Null, Value::Timestamp(2_000_000)],
        "nanoseconds round to the nearest microsecond"
    );
    assert_eq!(col(3), [Value::Timestamp(1_000), Value::Timestamp(-1_000), Value::Null, Value::Timestamp(0)]);
    assert_eq!(col(4), [Value::Text("fr".into()), Value::Null, Value::Text("de".into()), Value::Text("fr".into())]);
    assert_eq!(col(5), [Value::Text("a".into()), Value::Text("".into()), Value::Null, Value::Text("z".into())]);
    assert_eq!(col(6), [Value::Double(0.5), Value::Null, Value::Double(-2.0), Value::Double(1e10)]);
    assert_eq!(col(7)[0], Value::Timestamp(MICROS_PER_DAY));
}

#[test]
fn values_that_do_not_fit_name_column_row_and_row_group() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wide.parquet");
    let mut values: Vec<Option<i64>> = vec![Some(1); 10];
    values[6] = Some(i64::from(i32::MAX) + 2);
    write_raw(
        &path,
        vec![
            ("a", PrimitiveArray::<i64>::from(values).boxed(), Encoding::Plain),
            ("b", Utf8Array::<i32>::from_slice(["x"; 10]).boxed(), Encoding::Plain),
        ],
    );
    let file = ParquetFile::open(&path).unwrap();
    let names = vec!["a".to_string(), "b".to_string()];
    let err = file.read(&targets(&names, &[DataType::Integer, DataType::Text]), 2).unwrap_err().to_string();
    assert!(err.contains("wide.parquet"), "{err}");
    assert!(err.contains("column 1 \"a\", row 7 (row group 0)"), "{err}");
    assert!(err.contains("2147483649 is out of range for INTEGER"), "{err}");
    // A type that cannot load is refused before any data is read.
    let err = file.check(&targets(&names, &[DataType::BigInt, DataType::Integer])).unwrap_err().to_string();
    assert!(err.contains("column 2 \"b\" has parquet type string"), "{err}");
    assert!(err.contains("of type INTEGER"), "{err}");
    // So is a different number of columns.
    let err = file.check(&targets(&names[..1], &[DataType::BigInt])).unwrap_err().to_string();
    assert!(err.contains("has 2 columns, but the import expects 1"), "{err}");
    // Exactness of integers in floating columns is checked per value.
    let err = file.read(&targets(&names, &[DataType::Real, DataType::Text]), 1).unwrap_err().to_string();
    assert!(err.contains("no exact REAL form"), "{err}");
}

#[test]
fn broken_files_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.parquet");
    let err = ParquetFile::open(&missing).unwrap_err().to_string();
    assert!(err.contains("could not open file") && err.contains("missing.parquet"), "{err}");

    let csv = dir.path().join("not.parquet");
    std::fs::write(&csv, "a,b\n1,2\n").unwrap();
    let err = ParquetFile::open(&csv).unwrap_err().to_string();
    assert!(err.contains("not.parquet\" is not a readable parquet file"), "{err}");

    let good = dir.path().join("good.parquet");
    let (names, types) = all_types();
    write(&good, &names, &types, &[batch_of(&types, &sample_rows())]).unwrap();
    let bytes = std::fs::read(&good).unwrap();
    // Every truncation, and garbage over every stretch of the data, is an error or (for bytes
    // the reader never checks, such as statistics) a successful read — never a panic.
    let cut = dir.path().join("cut.parquet");
    for len in (0..bytes.len()).step_by(7) {
        std::fs::write(&cut, &bytes[..len]).unwrap();
        let result = ParquetFile::open(&cut).and_then(|f| f.read(&targets(&names, &types), 1));
        let err = result.expect_err("a truncated file is an error").to_string();
        assert!(err.contains("cut.parquet"), "{err}");
    }
    for at in (4..bytes.len().saturating_sub(8)).step_by(5) {
        let mut damaged = bytes.clone();
        damaged[at] ^= 0x5a;
        std::fs::write(&cut, &damaged).unwrap();
        if let Err(e) = ParquetFile::open(&cut).and_then(|f| f.read(&targets(&names, &types), 1)) {
            assert!(e.to_string().contains("cut.parquet"), "{e}");
        }
    }
    // Damage arrow2 panics on (this byte of the integer column's page): the panic is caught and
    // is an error naming the file, the column and the row group (and prints nothing, which
    // the shell's tests check).
    let mut damaged = bytes.clone();
    damaged[174] ^= 0x5a;
    std::fs::write(&cut, &damaged).unwrap();
    let err = ParquetFile::open(&cut).and_then(|f| f.read(&targets(&names, &types), 1)).unwrap_err().to_string();
    assert!(err.ends_with("cut.parquet\": column 3 \"integer\" in row group 0: corrupt data"), "{err}");
}

#[test]
fn intervals_have_no_parquet_form() {
    let dir = tempfile::tempdir().unwrap();
    let err = write(&dir.path().join("i.parquet"), &["span".into()], &[DataType::Interval], &[]).unwrap_err();
    assert!(err.to_string().contains("column \"span\" of type INTERVAL has no parquet form"), "{err}");
}
