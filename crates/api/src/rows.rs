//! Query results: [`Rows`] of [`Row`]s with typed access, and arrow2 export.

use crate::error::{Error, Result};
use arrow::array::Array;
use arrow::chunk::Chunk;
use arrow::datatypes::{Field, Schema};
use storage::{Batch, DataType, Value};

/// The name and type of a result column.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub name: String,
    pub data_type: DataType,
}

/// The rows a query returned, held as columnar batches.
#[derive(Debug, Clone)]
pub struct Rows {
    columns: Vec<Column>,
    batches: Vec<Batch>,
    /// `starts[k]` is the index of the first row of `batches[k]`.
    starts: Vec<usize>,
    n_rows: usize,
}

impl Rows {
    pub(crate) fn new(columns: Vec<Column>, batches: Vec<Batch>) -> Rows {
        let batches: Vec<Batch> = batches.into_iter().filter(|b| b.n_rows > 0).collect();
        let mut starts = Vec::with_capacity(batches.len());
        let mut n_rows = 0;
        for b in &batches {
            starts.push(n_rows);
            n_rows += b.n_rows;
        }
        Rows { columns, batches, starts, n_rows }
    }

    /// The result columns, in order.
    pub fn columns(&self) -> &[Column] {
        &self.columns
    }

    pub fn column_names(&self) -> Vec<&str> {
        self.columns.iter().map(|c| c.name.as_str()).collect()
    }

    /// The number of rows.
    pub fn len(&self) -> usize {
        self.n_rows
    }

    pub fn is_empty(&self) -> bool {
        self.n_rows == 0
    }

    /// Row `row_idx`, if there is one.
    pub fn row(&self, row_idx: usize) -> Option<Row<'_>> {
        if row_idx >= self.n_rows {
            return None;
        }
        let batch_idx = self.starts.partition_point(|&s| s <= row_idx) - 1;
        Some(Row { rows: self, batch_idx, row_in_batch: row_idx - self.starts[batch_idx] })
    }

    /// All rows in order.
    pub fn iter(&self) -> impl Iterator<Item = Row<'_>> + '_ {
        self.batches.iter().enumerate().flat_map(move |(batch_idx, b)| {
            (0..b.n_rows).map(move |row_in_batch| Row { rows: self, batch_idx, row_in_batch })
        })
    }

    /// The value at (`row_idx`, `col_idx`); panics if either is out of range, like slice indexing.
    pub fn value(&self, row_idx: usize, col_idx: usize) -> Value {
        let row = self.row(row_idx).expect("row index out of range");
        row.value_at(col_idx)
    }

    /// The result as arrow2: a schema and its chunks.
    pub fn into_arrow(self) -> ArrowResult {
        let schema = Schema::from(
            self.columns.iter().map(|c| Field::new(c.name.clone(), c.data_type.to_arrow(), true)).collect::<Vec<_>>(),
        );
        let chunks = self.batches.into_iter().map(Batch::into_chunk).collect();
        ArrowResult { schema, chunks }
    }
}

/// A query result in arrow2 form, ready to hand to any Arrow consumer.
#[derive(Debug, Clone)]
pub struct ArrowResult {
    pub schema: Schema,
    pub chunks: Vec<Chunk<Box<dyn Array>>>,
}

/// One row of [`Rows`].
#[derive(Debug, Clone, Copy)]
pub struct Row<'a> {
    rows: &'a Rows,
    batch_idx: usize,
    row_in_batch: usize,
}

impl<'a> Row<'a> {
    /// The number of columns.
    pub fn len(&self) -> usize {
        self.rows.columns.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.columns.is_empty()
    }

    fn value_at(&self, col_idx: usize) -> Value {
        Value::from_array(self.rows.batches[self.batch_idx].column(col_idx), self.row_in_batch)
    }

    /// The value of a column, by index or name, as a [`Value`].
    pub fn value(&self, idx: impl ColumnIndex) -> Result<Value> {
        let col_idx = idx.column_index(&self.rows.columns)?;
        Ok(self.value_at(col_idx))
    }

    /// Every value of the row.
    pub fn values(&self) -> Vec<Value> {
        (0..self.len()).map(|c| self.value_at(c)).collect()
    }

    /// The value of a column, by index or name, converted to `T`.
    /// A NULL reads as `None` into `Option<T>` and is an error for any other `T`.
    pub fn get<T: FromValue>(&self, idx: impl ColumnIndex) -> Result<T> {
        let col_idx = idx.column_index(&self.rows.columns)?;
        let col = &self.rows.columns[col_idx];
        T::from_value(self.value_at(col_idx)).map_err(|why| {
            Error::Column(format!(
                "cannot read column {} ({}, type {}) as {}: {why}",
                col_idx,
                col.name,
                col.data_type,
                std::any::type_name::<T>()
            ))
        })
    }
}

/// Names a column: by position (`usize`, 0-based) or by name (`&str`).
pub trait ColumnIndex {
    fn column_index(&self, columns: &[Column]) -> Result<usize>;
}

impl ColumnIndex for usize {
    fn column_index(&self, columns: &[Column]) -> Result<usize> {
        if *self < columns.len() {
            Ok(*self)
        } else {
            Err(Error::Column(format!(
                "column index {} is out of range: the result has {} column(s)",
                self,
                columns.len()
            )))
        }
    }
}

impl ColumnIndex for &str {
    fn column_index(&self, columns: &[Column]) -> Result<usize> {
        if let Some(pos) = columns.iter().position(|c| c.name == *self) {
            return Ok(pos);
        }
        if let Some(pos) = columns.iter().position(|c| c.name.eq_ignore_ascii_case(self)) {
            return Ok(pos);
        }
        let names: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
        Err(Error::Column(format!("no column named \"{}\" in the result (columns: {})", self, names.join(", "))))
    }
}

impl ColumnIndex for String {
    fn column_index(&self, columns: &[Column]) -> Result<usize> {
        self.as_str().column_index(columns)
    }
}

/// Rust types a [`Value`] converts into. The error string says why the conversion failed.
pub trait FromValue: Sized {
    fn from_value(value: Value) -> std::result::Result<Self, String>;
}

impl FromValue for Value {
    fn from_value(value: Value) -> std::result::Result<Self, String> {
        Ok(value)
    }
}

impl<T: FromValue> FromValue for Option<T> {
    fn from_value(value: Value) -> std::result::Result<Self, String> {
        match value {
            Value::Null => Ok(None),
            v => T::from_value(v).map(Some),
        }
    }
}

fn mismatch(value: &Value) -> String {
    match value {
        Value::Null => "the value is NULL (read it as an Option)".to_string(),
        v => format!("the value {v} has type {}", v.data_type()),
    }
}

macro_rules! from_int {
    ($($t:ty),*) => {$(
        impl FromValue for $t {
            fn from_value(value: Value) -> std::result::Result<Self, String> {
                match value.as_i64() {
                    Some(v) => <$t>::try_from(v).map_err(|_| format!("{v} is out of range")),
                    None => Err(mismatch(&value)),
                }
            }
        }
    )*};
}
from_int!(i16, i32, i64, u32, u64, usize);

impl FromValue for f64 {
    fn from_value(value: Value) -> std::result::Result<Self, String> {
        value.as_f64().ok_or_else(|| mismatch(&value))
    }
}

impl FromValue for f32 {
    fn from_value(value: Value) -> std::result::Result<Self, String> {
        match value {
            Value::Real(v) => Ok(v),
            v => v.as_f64().map(|x| x as f32).ok_or_else(|| mismatch(&v)),
        }
    }
}

impl FromValue for bool {
    fn from_value(value: Value) -> std::result::Result<Self, String> {
        match value {
            Value::Boolean(b) => Ok(b),
            v => Err(mismatch(&v)),
        }
    }
}

impl FromValue for String {
    fn from_value(value: Value) -> std::result::Result<Self, String> {
        match value {
            Value::Text(s) => Ok(s),
            v => Err(mismatch(&v)),
        }
    }
}
