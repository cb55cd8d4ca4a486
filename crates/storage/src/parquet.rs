//! Parquet files in and out (`COPY t FROM 'x.parquet'`, `COPY t TO 'x.parquet'`), through
//! arrow2's `io_parquet` (snappy, zstd, gzip and lz4 pages; brotli is not built in).
//!
//! Reading matches the file's top-level columns to the target columns by position, as CSV
//! does. Each file type loads into a target type only where no value can change: any integer
//! into a wider integer or one its values fit (checked per value), integers into REAL/DOUBLE
//! when each value is exact, REAL into DOUBLE, DECIMAL into DOUBLE (the nearest double, as
//! CAST does) or, at scale 0, into integers, UTF-8 strings (plain, large, dictionary-encoded,
//! or binary that is valid UTF-8) into TEXT, dates into DATE or TIMESTAMP, timestamps of every
//! unit (and zone, kept as UTC) into TIMESTAMP (nanoseconds round to the nearest microsecond,
//! as text with seven fraction digits does). Anything else is refused before any data is read;
//! a value that does not fit is an error naming the file, the column, the row and its row
//! group.
//!
//! [`ParquetFile::open`] reads only the footer. [`ParquetFile::read_row_groups`] reads the
//! bytes of a few row groups and decodes them, every (row group, column) pair one task on a
//! thread of its own, so an import holds the decoded batches plus a few row groups' bytes,
//! never the whole file. A caller that imports every row group in one commit imports all or
//! nothing. A panic inside arrow2 (it asserts on some malformed pages) is an error naming the
//! file, column and row group, and prints nothing (`quiet_panic`).

use crate::batch::{ArrayRef, Batch};
use crate::error::{Result, StorageError};
use crate::types::DataType;
use arrow::array::{
    new_null_array, Array, BinaryArray, DictionaryArray, MutableArray, MutableUtf8Array, PrimitiveArray, Utf8Array,
};
use arrow::chunk::Chunk;
use arrow::datatypes::{DataType as ArrowType, Field, IntegerType, Schema, TimeUnit};
use arrow::io::parquet::read as pq_read;
use arrow::io::parquet::write as pq_write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

const MICROS_PER_DAY: i64 = 86_400_000_000;

/// Rows per array the reader hands back (one batch per such run of a row group).
pub const READ_CHUNK_ROWS: usize = 65_536;

/// Rows per row group of a written file.
pub const WRITE_ROW_GROUP_ROWS: usize = 131_072;

fn external(message: String) -> StorageError {
    StorageError::External(message)
}

/// An opened parquet file: its footer, and the file to read row groups from.
pub struct ParquetFile {
    path: PathBuf,
    file: std::fs::File,
    metadata: pq_read::FileMetaData,
    fields: Vec<Field>,
    /// The file row (0-based) each row group starts at.
    first_rows: Vec<usize>,
}

impl std::fmt::Debug for ParquetFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParquetFile").field("path", &self.path).field("rows", &self.metadata.num_rows).finish()
    }
}

/// The column `col_idx` (0-based) of a file, as error messages name it.
fn column_label(col_idx: usize, field: &Field) -> String {
    format!("column {} \"{}\"", col_idx + 1, field.name)
}

impl ParquetFile {
    /// Opens `path` and reads its footer (nothing else: row groups are read when asked for).
    /// A missing file, or one that is not parquet, is an error naming it.
    pub fn open(path: &Path) -> Result<ParquetFile> {
        let shown = path.display();
        let mut file =
            std::fs::File::open(path).map_err(|e| external(format!("could not open file \"{shown}\": {e}")))?;
        let file_len = file.metadata().map_err(|e| external(format!("could not open file \"{shown}\": {e}")))?.len();
        let metadata = pq_read::read_metadata(&mut file)
            .map_err(|e| external(format!("\"{shown}\" is not a readable parquet file: {e}")))?;
        let schema = pq_read::infer_schema(&metadata)
            .map_err(|e| external(format!("\"{shown}\" is not a readable parquet file: {e}")))?;
        let leaves = metadata.schema_descr.columns().len();
        if leaves != schema.fields.len() {
            return Err(external(format!(
                "\"{shown}\" has nested columns ({} top-level columns, {leaves} leaf columns); only flat files can be imported",
                schema.fields.len()
            )));
        }
        let mut first_rows = Vec::with_capacity(metadata.row_groups.len());
        let mut declared = 0usize;
        for (rg_idx, rg) in metadata.row_groups.iter().enumerate() {
            first_rows.push(declared);
            declared = declared.saturating_add(rg.num_rows());
            if rg.columns().len() != leaves {
                return Err(external(format!(
                    "\"{shown}\" is not a readable parquet file: row group {rg_idx} has {} columns, the schema {leaves}",
                    rg.columns().len()
                )));
            }
            for column in rg.columns() {
                let (start, len) = column.byte_range();
                if start.checked_add(len).is_none_or(|end| end > file_len) {
                    return Err(external(format!(
                        "\"{shown}\" is not a readable parquet file: row group {rg_idx} column \"{}\" lies past the end of the file (truncated?)",
                        column.descriptor().path_in_schema.join(".")
                    )));
                }
            }
        }
        if declared != metadata.num_rows {
            return Err(external(format!(
                "\"{shown}\" is not a readable parquet file: its row groups hold {declared} rows, its footer says {}",
                metadata.num_rows
            )));
        }
        Ok(ParquetFile { path: path.to_path_buf(), file, metadata, fields: schema.fields, first_rows })
    }

    /// Rows in the file.
    pub fn num_rows(&self) -> usize {
        self.metadata.num_rows
    }

    /// Number of top-level columns.
    pub fn num_columns(&self) -> usize {
        self.fields.len()
    }

    /// Names of the file's columns.
    pub fn column_names(&self) -> Vec<String> {
        self.fields.iter().map(|f| f.name.clone()).collect()
    }

    /// Number of row groups.
    pub fn num_row_groups(&self) -> usize {
        self.metadata.row_groups.len()
    }

    /// Bytes of column data (compressed, as stored) in row group `rg_idx`: what reading it
    /// reads from the file. The sum over all row groups measures an import's progress.
    pub fn row_group_bytes(&self, rg_idx: usize) -> u64 {
        self.metadata.row_groups.get(rg_idx).map_or(0, |rg| rg.columns().iter().map(|c| c.byte_range().1).sum())
    }

    /// Checks that every file column can load into the target column at its position:
    /// `targets` are (name, type) pairs. Nothing is decoded.
    pub fn check(&self, targets: &[(String, DataType)]) -> Result<()> {
        let shown = self.path.display();
        if targets.len() != self.fields.len() {
            return Err(external(format!(
                "\"{shown}\" has {} columns, but the import expects {} ({})",
                self.fields.len(),
                targets.len(),
                targets.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(", ")
            )));
        }
        for (col_idx, (field, (name, ty))) in self.fields.iter().zip(targets).enumerate() {
            if !loads_into(&field.data_type, *ty) {
                return Err(external(format!(
                    "\"{shown}\": {} has parquet type {}, which does not load into column \"{name}\" of type {} without changing values",
                    column_label(col_idx, field),
                    arrow_type_name(&field.data_type),
                    ty.sql_name()
                )));
            }
        }
        Ok(())
    }

    /// Decodes the whole file into batches of at most [`READ_CHUNK_ROWS`] rows, in file
    /// order, each column coerced to its target type (after [`ParquetFile::check`], which this
    /// runs first). Uses up to `threads` threads. Holds every decoded batch at once; an import
    /// reads a few row groups at a time with [`ParquetFile::read_row_groups`] instead.
    pub fn read(&self, targets: &[(String, DataType)], threads: usize) -> Result<Vec<Batch>> {
        self.check(targets)?;
        self.read_row_groups(0..self.num_row_groups(), targets, threads, &|_| {})
    }

    /// How many row groups to read at once so that `threads` threads have work (every
    /// (row group, column) pair is a task) while few row groups are resident: at least one,
    /// at most four.
    pub fn row_groups_per_read(&self, threads: usize) -> usize {
        (2 * threads.max(1)).div_ceil(self.fields.len().max(1)).clamp(1, 4)
    }

    /// Decodes the row groups `row_groups` into batches of at most [`READ_CHUNK_ROWS`] rows,
    /// in file order, each column coerced to its target type (call [`ParquetFile::check`]
    /// first). Only these row groups' bytes are read from the file; the (row group, column)
    /// pairs decode on up to `threads` threads. `decoded` is called with the stored size of
    /// each column chunk once it is decoded (from the decoding threads).
    pub fn read_row_groups(
        &self,
        row_groups: std::ops::Range<usize>,
        targets: &[(String, DataType)],
        threads: usize,
        decoded: &(dyn Fn(u64) + Sync),
    ) -> Result<Vec<Batch>> {
        let shown = self.path.display();
        let n_cols = self.fields.len();
        if targets.len() != n_cols {
            return Err(StorageError::Invalid(format!("{} targets for {n_cols} parquet columns", targets.len())));
        }
        let row_groups = row_groups.start.min(self.num_row_groups())..row_groups.end.min(self.num_row_groups());
        // The column chunks' bytes, read in file order, one task each.
        let mut tasks: Vec<(usize, usize, Vec<u8>)> = Vec::with_capacity(row_groups.len() * n_cols);
        for rg_idx in row_groups.clone() {
            for (col_idx, meta) in self.metadata.row_groups[rg_idx].columns().iter().enumerate() {
                let (start, len) = meta.byte_range();
                let bytes = self.read_bytes(start, len).map_err(|e| {
                    external(format!(
                        "could not read file \"{shown}\" ({} in row group {rg_idx}): {e}",
                        column_label(col_idx, &self.fields[col_idx])
                    ))
                })?;
                tasks.push((rg_idx, col_idx, bytes));
            }
        }
        let tasks: Vec<Mutex<Option<(usize, usize, Vec<u8>)>>> =
            tasks.into_iter().map(|t| Mutex::new(Some(t))).collect();
        let results: Vec<Mutex<Option<Result<Vec<ArrayRef>>>>> = tasks.iter().map(|_| Mutex::new(None)).collect();
        let next = AtomicUsize::new(0);
        let failed = std::sync::atomic::AtomicBool::new(false);
        let work = || loop {
            let task_idx = next.fetch_add(1, Ordering::Relaxed);
            let Some(task) = tasks.get(task_idx) else { break };
            if failed.load(Ordering::Relaxed) {
                break;
            }
            let Some((rg_idx, col_idx, bytes)) = task.lock().ok().and_then(|mut t| t.take()) else { continue };
            let size = bytes.len() as u64;
            let result = self.read_column(rg_idx, col_idx, bytes, targets[col_idx].1);
            if result.is_err() {
                failed.store(true, Ordering::Relaxed);
            } else {
                decoded(size);
            }
            if let Ok(mut slot) = results[task_idx].lock() {
                *slot = Some(result);
            }
        };
        let threads = threads.clamp(1, tasks.len().max(1));
        if threads == 1 {
            work();
        } else {
            std::thread::scope(|scope| {
                for _ in 0..threads {
                    scope.spawn(work);
                }
            });
        }
        let mut columns: Vec<Vec<ArrayRef>> = Vec::with_capacity(tasks.len());
        let mut first_error = None;
        for slot in results {
            match slot.into_inner().ok().flatten() {
                Some(Ok(arrays)) => columns.push(arrays),
                Some(Err(e)) => {
                    first_error.get_or_insert(e);
                    columns.push(Vec::new());
                }
                None => columns.push(Vec::new()),
            }
        }
        if let Some(e) = first_error {
            return Err(e);
        }
        let mut batches = Vec::new();
        let mut columns = columns.into_iter();
        for rg in &self.metadata.row_groups[row_groups] {
            let per_col: Vec<Vec<ArrayRef>> = columns.by_ref().take(n_cols).collect();
            let mut iters: Vec<_> = per_col.into_iter().map(Vec::into_iter).collect();
            let mut rows_left = rg.num_rows();
            while rows_left > 0 {
                let arrays: Vec<ArrayRef> = iters.iter_mut().filter_map(Iterator::next).collect();
                let n_rows = arrays.first().map_or(rows_left.min(READ_CHUNK_ROWS), |a| a.len());
                if arrays.len() != n_cols || arrays.iter().any(|a| a.len() != n_rows) || n_rows == 0 {
                    return Err(external(format!(
                        "\"{shown}\" is not a readable parquet file: its columns decode to different row counts"
                    )));
                }
                rows_left -= n_rows.min(rows_left);
                batches.push(Batch { columns: arrays, n_rows });
            }
        }
        Ok(batches)
    }

    /// `len` bytes of the file from `start` (checked against the file's length at open).
    fn read_bytes(&self, start: u64, len: u64) -> std::io::Result<Vec<u8>> {
        use std::io::{Read, Seek, SeekFrom};
        let len = usize::try_from(len).map_err(|_| std::io::Error::other("column chunk too large"))?;
        let mut file = &self.file;
        file.seek(SeekFrom::Start(start))?;
        let mut bytes = vec![0; len];
        file.read_exact(&mut bytes)?;
        Ok(bytes)
    }

    /// Decodes column `col_idx` of row group `rg_idx` from its bytes `chunk` into arrays of
    /// [`READ_CHUNK_ROWS`] rows of type `target`.
    fn read_column(&self, rg_idx: usize, col_idx: usize, chunk: Vec<u8>, target: DataType) -> Result<Vec<ArrayRef>> {
        let shown = self.path.display();
        let field = &self.fields[col_idx];
        let rg = &self.metadata.row_groups[rg_idx];
        let first_row = self.first_rows[rg_idx];
        let meta = &rg.columns()[col_idx];
        let where_ = || format!("\"{shown}\": {} in row group {rg_idx}", column_label(col_idx, field));
        let num_rows = rg.num_rows();
        // arrow2 asserts on some malformed pages; a panic in it is this file's fault, and is
        // reported as an error (quietly: see `quiet_panic`).
        let decoded = crate::quiet_panic::catch(|| -> Result<Vec<ArrayRef>> {
            let iter =
                pq_read::to_deserializer(vec![(meta, chunk)], field.clone(), num_rows, Some(READ_CHUNK_ROWS), None)
                    .map_err(|e| external(format!("{}: {e}", where_())))?;
            let mut out = Vec::new();
            let mut row = first_row;
            for array in iter {
                let array = array.map_err(|e| external(format!("{}: corrupt data: {e}", where_())))?;
                let len = array.len();
                let coerced = coerce(array.as_ref(), target).map_err(|(idx, reason)| {
                    external(format!(
                        "\"{shown}\": {}, row {} (row group {rg_idx}): {reason}",
                        column_label(col_idx, field),
                        row + idx + 1
                    ))
                })?;
                out.push(coerced);
                row += len;
            }
            Ok(out)
        });
        let arrays = decoded.unwrap_or_else(|_| Err(external(format!("{}: corrupt data", where_()))))?;
        let total: usize = arrays.iter().map(|a| a.len()).sum();
        if total != num_rows {
            return Err(external(format!("{}: decoded {total} values for {num_rows} rows", where_())));
        }
        Ok(arrays)
    }
}

/// The name of a file column's type in messages.
fn arrow_type_name(dt: &ArrowType) -> String {
    match dt {
        ArrowType::Utf8 | ArrowType::LargeUtf8 => "string".into(),
        ArrowType::Dictionary(_, values, _) => format!("dictionary of {}", arrow_type_name(values)),
        ArrowType::Timestamp(unit, _) => format!("timestamp ({unit:?})").to_lowercase(),
        other => format!("{other:?}").to_lowercase(),
    }
}

/// Whether a file column of arrow type `from` may load into `to` (values are still checked).
fn loads_into(from: &ArrowType, to: DataType) -> bool {
    use ArrowType as A;
    use DataType as T;
    let int_target = matches!(to, T::SmallInt | T::Integer | T::BigInt);
    match from {
        A::Null => true,
        A::Boolean => to == T::Boolean,
        A::Int8 | A::Int16 | A::Int32 | A::Int64 | A::UInt8 | A::UInt16 | A::UInt32 | A::UInt64 => {
            int_target || matches!(to, T::Real | T::Double)
        }
        A::Float32 => matches!(to, T::Real | T::Double),
        A::Float64 => to == T::Double,
        A::Decimal(_, scale) => to == T::Double || (*scale == 0 && int_target),
        A::Utf8 | A::LargeUtf8 | A::Binary | A::LargeBinary => to == T::Text,
        A::Dictionary(_, values, _) => matches!(**values, A::Utf8 | A::LargeUtf8) && to == T::Text,
        A::Date32 | A::Date64 => matches!(to, T::Date | T::Timestamp),
        A::Timestamp(_, _) => to == T::Timestamp,
        other => DataType::from_arrow(other) == Some(to),
    }
}

type CoerceResult = std::result::Result<ArrayRef, (usize, String)>;

fn prim<T: arrow::types::NativeType>(array: &dyn Array) -> &PrimitiveArray<T> {
    array.as_any().downcast_ref::<PrimitiveArray<T>>().expect("array type matches its data type")
}

/// Maps every valid value of `array` through `f` (an error names the value's index).
fn map_values<I, O>(array: &PrimitiveArray<I>, to: DataType, f: impl Fn(I) -> Result<O, String>) -> CoerceResult
where
    I: arrow::types::NativeType,
    O: arrow::types::NativeType,
{
    let mut out = Vec::with_capacity(array.len());
    for (idx, &v) in array.values().iter().enumerate() {
        if array.is_valid(idx) {
            out.push(f(v).map_err(|reason| (idx, reason))?);
        } else {
            out.push(O::default());
        }
    }
    Ok(PrimitiveArray::<O>::new(to.to_arrow(), out.into(), array.validity().cloned()).boxed())
}

/// Integer value `v` into the integer or floating type `to`, refusing any change.
fn int_into<I: arrow::types::NativeType + Into<i128>>(array: &PrimitiveArray<I>, to: DataType) -> CoerceResult {
    let range = |v: I| -> Result<i64, String> {
        let wide: i128 = v.into();
        i64::try_from(wide).map_err(|_| format!("value {wide} is out of range for {}", to.sql_name()))
    };
    match to {
        DataType::SmallInt => map_values(array, to, |v| {
            let wide: i128 = v.into();
            i16::try_from(wide).map_err(|_| format!("value {wide} is out of range for SMALLINT"))
        }),
        DataType::Integer => map_values(array, to, |v| {
            let wide: i128 = v.into();
            i32::try_from(wide).map_err(|_| format!("value {wide} is out of range for INTEGER"))
        }),
        DataType::BigInt => map_values(array, to, range),
        DataType::Real => map_values(array, to, |v| {
            let wide: i128 = v.into();
            let f = wide as f32;
            if f as i128 == wide {
                Ok(f)
            } else {
                Err(format!("value {wide} has no exact REAL form"))
            }
        }),
        DataType::Double => map_values(array, to, |v| {
            let wide: i128 = v.into();
            let f = wide as f64;
            if f as i128 == wide {
                Ok(f)
            } else {
                Err(format!("value {wide} has no exact DOUBLE form"))
            }
        }),
        _ => Err((0, format!("no conversion to {}", to.sql_name()))),
    }
}

fn text_from_binary<O: arrow::offset::Offset>(array: &BinaryArray<O>) -> CoerceResult {
    let mut out = MutableUtf8Array::<i32>::with_capacity(array.len());
    for (idx, v) in array.iter().enumerate() {
        match v {
            None => out.push_null(),
            Some(bytes) => {
                let s = std::str::from_utf8(bytes).map_err(|_| (idx, "value is not valid UTF-8 text".to_string()))?;
                out.push(Some(s));
            }
        }
    }
    Ok(Box::new(Into::<Utf8Array<i32>>::into(out)))
}

fn text_from_utf8<O: arrow::offset::Offset>(array: &Utf8Array<O>) -> CoerceResult {
    let mut out = MutableUtf8Array::<i32>::with_capacities(array.len(), array.values().len());
    for v in array.iter() {
        out.push(v);
    }
    Ok(Box::new(Into::<Utf8Array<i32>>::into(out)))
}

fn text_from_dictionary<K: arrow::array::DictionaryKey>(array: &DictionaryArray<K>) -> CoerceResult {
    fn gather<O: arrow::offset::Offset>(
        keys: impl Iterator<Item = Option<usize>>,
        values: &Utf8Array<O>,
    ) -> CoerceResult {
        let mut out = MutableUtf8Array::<i32>::new();
        for (idx, key) in keys.enumerate() {
            match key {
                None => out.push_null(),
                Some(k) if k < values.len() => out.push(values.get(k)),
                Some(k) => return Err((idx, format!("dictionary key {k} is out of range"))),
            }
        }
        Ok(Box::new(Into::<Utf8Array<i32>>::into(out)))
    }
    let values = array.values().as_any();
    if let Some(values) = values.downcast_ref::<Utf8Array<i32>>() {
        gather(array.keys_iter(), values)
    } else if let Some(values) = values.downcast_ref::<Utf8Array<i64>>() {
        gather(array.keys_iter(), values)
    } else {
        Err((0, "a dictionary of non-text values does not load into TEXT".into()))
    }
}

fn timestamp_into_micros(array: &PrimitiveArray<i64>, unit: TimeUnit) -> CoerceResult {
    let to = DataType::Timestamp;
    let overflow = || "timestamp is out of range".to_string();
    match unit {
        TimeUnit::Second => map_values(array, to, |v| v.checked_mul(1_000_000).ok_or_else(overflow)),
        TimeUnit::Millisecond => map_values(array, to, |v| v.checked_mul(1_000).ok_or_else(overflow)),
        TimeUnit::Microsecond => map_values(array, to, Ok),
        TimeUnit::Nanosecond => map_values(array, to, |v| Ok((v as i128 + 500).div_euclid(1_000) as i64)),
    }
}

/// Converts a decoded array to the arrow type of `to` (see the module comment); an error is
/// the index of the offending value and why.
fn coerce(array: &dyn Array, to: DataType) -> CoerceResult {
    use ArrowType as A;
    use DataType as T;
    let from = array.data_type();
    if from == &to.to_arrow() {
        return Ok(array.to_boxed());
    }
    let mismatch = || Err((0, format!("a {} value does not load into {}", arrow_type_name(from), to.sql_name())));
    match (from, to) {
        (A::Null, _) => Ok(new_null_array(to.to_arrow(), array.len())),
        (A::Int8, _) => int_into(prim::<i8>(array), to),
        (A::Int16, _) => int_into(prim::<i16>(array), to),
        (A::Int32, _) => int_into(prim::<i32>(array), to),
        (A::Int64, _) => int_into(prim::<i64>(array), to),
        (A::UInt8, _) => int_into(prim::<u8>(array), to),
        (A::UInt16, _) => int_into(prim::<u16>(array), to),
        (A::UInt32, _) => int_into(prim::<u32>(array), to),
        (A::UInt64, _) => int_into(prim::<u64>(array), to),
        (A::Float32, T::Double) => map_values(prim::<f32>(array), to, |v| Ok(v as f64)),
        (A::Decimal(_, scale), T::Double) => {
            let div = 10f64.powi(*scale as i32);
            map_values(prim::<i128>(array), to, |v| Ok(v as f64 / div))
        }
        (A::Decimal(_, 0), T::SmallInt | T::Integer | T::BigInt) => {
            let ints = PrimitiveArray::<i128>::new(
                ArrowType::Decimal(38, 0),
                prim::<i128>(array).values().clone(),
                array.validity().cloned(),
            );
            int_into(&ints, to)
        }
        (A::Utf8, T::Text) => text_from_utf8(array.as_any().downcast_ref::<Utf8Array<i32>>().expect("utf8")),
        (A::LargeUtf8, T::Text) => text_from_utf8(array.as_any().downcast_ref::<Utf8Array<i64>>().expect("utf8")),
        (A::Binary, T::Text) => text_from_binary(array.as_any().downcast_ref::<BinaryArray<i32>>().expect("binary")),
        (A::LargeBinary, T::Text) => {
            text_from_binary(array.as_any().downcast_ref::<BinaryArray<i64>>().expect("binary"))
        }
        (A::Dictionary(key, _, _), T::Text) => {
            macro_rules! dict {
                ($k:ty) => {
                    text_from_dictionary(array.as_any().downcast_ref::<DictionaryArray<$k>>().expect("dictionary"))
                };
            }
            match key {
                IntegerType::Int8 => dict!(i8),
                IntegerType::Int16 => dict!(i16),
                IntegerType::Int32 => dict!(i32),
                IntegerType::Int64 => dict!(i64),
                IntegerType::UInt8 => dict!(u8),
                IntegerType::UInt16 => dict!(u16),
                IntegerType::UInt32 => dict!(u32),
                IntegerType::UInt64 => dict!(u64),
            }
        }
        (A::Date32, T::Timestamp) => map_values(prim::<i32>(array), to, |d| Ok(d as i64 * MICROS_PER_DAY)),
        (A::Date64, T::Date) => map_values(prim::<i64>(array), to, |ms| {
            if ms.rem_euclid(86_400_000) != 0 {
                return Err(format!("date64 value {ms} is not midnight"));
            }
            i32::try_from(ms.div_euclid(86_400_000)).map_err(|_| "date is out of range".to_string())
        }),
        (A::Date64, T::Timestamp) => {
            map_values(prim::<i64>(array), to, |ms| ms.checked_mul(1_000).ok_or_else(|| "date is out of range".into()))
        }
        (A::Timestamp(unit, _), T::Timestamp) => timestamp_into_micros(prim::<i64>(array), *unit),
        _ => mismatch(),
    }
}

/// Writes `batches` (columns of `types`, named `names`) to a new parquet file at `path`:
/// snappy pages, plain encoding, statistics, row groups of [`WRITE_ROW_GROUP_ROWS`] rows.
/// Returns the number of rows written.
pub fn write(path: &Path, names: &[String], types: &[DataType], batches: &[Batch]) -> Result<u64> {
    let shown = path.display();
    if let Some((name, ty)) = names.iter().zip(types).find(|(_, t)| matches!(t, DataType::Interval | DataType::Null)) {
        return Err(external(format!(
            "column \"{name}\" of type {} has no parquet form; cast it to TEXT to export it",
            ty.sql_name()
        )));
    }
    let fields: Vec<Field> =
        names.iter().zip(types).map(|(name, ty)| Field::new(name.clone(), ty.to_arrow(), true)).collect();
    let schema = Schema::from(fields);
    let options = pq_write::WriteOptions {
        write_statistics: true,
        compression: pq_write::CompressionOptions::Snappy,
        version: pq_write::Version::V1,
        data_pagesize_limit: None,
    };
    let encodings: Vec<Vec<pq_write::Encoding>> =
        schema.fields.iter().map(|_| vec![pq_write::Encoding::Plain]).collect();
    // Row groups of WRITE_ROW_GROUP_ROWS rows (the last may be shorter), whatever the batches'
    // sizes.
    let mut groups: Vec<Vec<ArrayRef>> = Vec::new();
    let mut pending: Vec<Batch> = Vec::new();
    let mut pending_rows = 0;
    let flush = |pending: &mut Vec<Batch>, groups: &mut Vec<Vec<ArrayRef>>| -> Result<()> {
        if pending.is_empty() {
            return Ok(());
        }
        let mut columns = Vec::with_capacity(types.len());
        for col_idx in 0..types.len() {
            let parts: Vec<&dyn Array> = pending.iter().map(|b| b.columns[col_idx].as_ref()).collect();
            columns.push(if parts.len() == 1 {
                parts[0].to_boxed()
            } else {
                arrow::compute::concatenate::concatenate(&parts)
                    .map_err(|e| StorageError::Invalid(format!("concatenating batches: {e}")))?
            });
        }
        groups.push(columns);
        pending.clear();
        Ok(())
    };
    for batch in batches.iter().filter(|b| b.n_rows > 0) {
        if batch.columns.len() != types.len() {
            return Err(StorageError::Invalid(format!(
                "batch of {} columns for {} names",
                batch.columns.len(),
                types.len()
            )));
        }
        let mut offset = 0;
        while offset < batch.n_rows {
            let take = (WRITE_ROW_GROUP_ROWS - pending_rows).min(batch.n_rows - offset);
            pending.push(batch.slice(offset, take));
            offset += take;
            pending_rows += take;
            if pending_rows == WRITE_ROW_GROUP_ROWS {
                flush(&mut pending, &mut groups)?;
                pending_rows = 0;
            }
        }
    }
    flush(&mut pending, &mut groups)?;
    let n_rows: usize = groups.iter().map(|g| g.first().map_or(0, |a| a.len())).sum();
    let chunks = groups.into_iter().map(|g| Ok(Chunk::new(g)));
    let write_err = |e: arrow::error::Error| external(format!("could not write file \"{shown}\": {e}"));
    let row_groups = pq_write::RowGroupIterator::try_new(chunks, &schema, options, encodings).map_err(write_err)?;
    let file = std::fs::File::create(path).map_err(|e| external(format!("could not open file \"{shown}\": {e}")))?;
    let mut writer =
        pq_write::FileWriter::try_new(std::io::BufWriter::new(file), schema, options).map_err(write_err)?;
    for group in row_groups {
        writer.write(group.map_err(write_err)?).map_err(write_err)?;
    }
    writer.end(None).map_err(write_err)?;
    let mut inner = writer.into_inner();
    std::io::Write::flush(&mut inner).map_err(|e| external(format!("could not write file \"{shown}\": {e}")))?;
    Ok(n_rows as u64)
}

#[cfg(test)]
mod tests;
