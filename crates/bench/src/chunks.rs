//! The workload as arrow2 chunks, a batch of rows at a time, so that no table (100M rows at the
//! largest scale) ever sits in memory whole.
//!
//! Each chunk holds one array per column in `schema.sql` order, of the arrow type the engine
//! stores that column as (`BIGINT` Int64, `INTEGER` Int32, `TEXT` Utf8, `DOUBLE` Float64,
//! `BOOLEAN` Boolean, `TIMESTAMP` Timestamp(Microsecond, no zone)): ready for
//! `Connection::append`.

use crate::gen::{Table, Workload, CATEGORIES, COUNTRIES, SEGMENTS};
use arrow::array::{Array, BooleanArray, MutableUtf8Array, PrimitiveArray, Utf8Array};
use arrow::chunk::Chunk;
use arrow::datatypes::{DataType, TimeUnit};
use std::fmt::Write as _;
use std::ops::Range;

/// One batch of rows of one table.
pub type ArrowChunk = Chunk<Box<dyn Array>>;

/// The default number of rows per chunk (one row group, 64Ki rows).
pub const DEFAULT_BATCH_ROWS: usize = 65_536;

fn ints64(values: Vec<i64>) -> Box<dyn Array> {
    PrimitiveArray::<i64>::from_vec(values).boxed()
}

fn ints32(values: Vec<i32>) -> Box<dyn Array> {
    PrimitiveArray::<i32>::from_vec(values).boxed()
}

fn doubles(values: Vec<f64>) -> Box<dyn Array> {
    PrimitiveArray::<f64>::from_vec(values).boxed()
}

fn timestamps(values: Vec<i64>) -> Box<dyn Array> {
    PrimitiveArray::<i64>::from_vec(values).to(DataType::Timestamp(TimeUnit::Microsecond, None)).boxed()
}

/// A Utf8 column of `prefix || number` strings.
fn prefixed(prefix: &str, numbers: impl ExactSizeIterator<Item = i64>) -> Box<dyn Array> {
    let n_rows = numbers.len();
    let mut out = MutableUtf8Array::<i32>::with_capacities(n_rows, n_rows * (prefix.len() + 5));
    let mut buf = String::with_capacity(prefix.len() + 20);
    for number in numbers {
        buf.clear();
        buf.push_str(prefix);
        write!(buf, "{number}").expect("writing to a String cannot fail");
        out.push(Some(buf.as_str()));
    }
    let array: Utf8Array<i32> = out.into();
    array.boxed()
}

/// A Utf8 column of `names[idx]` strings.
fn named(names: &[&str], indexes: impl ExactSizeIterator<Item = usize>) -> Box<dyn Array> {
    let n_rows = indexes.len();
    let mut out = MutableUtf8Array::<i32>::with_capacities(n_rows, n_rows * 4);
    for idx in indexes {
        out.push(Some(names[idx]));
    }
    let array: Utf8Array<i32> = out.into();
    array.boxed()
}

impl Workload {
    /// Rows `rows` (by 0-based row index; for products, index `p - 1` is product `p`) of `table`
    /// as one chunk. Panics if the range goes past the table's end.
    pub fn chunk(&self, table: Table, rows: Range<u64>) -> ArrowChunk {
        assert!(
            rows.start <= rows.end && rows.end <= self.n_rows(table),
            "rows {rows:?} out of range for {} ({} rows)",
            table.name(),
            self.n_rows(table)
        );
        let arrays = match table {
            Table::Orders => {
                let v: Vec<_> = rows.map(|i| self.order(i)).collect();
                vec![
                    ints64(v.iter().map(|o| o.order_id).collect()),
                    ints64(v.iter().map(|o| o.customer_id).collect()),
                    ints32(v.iter().map(|o| o.product_id).collect()),
                    prefixed("product-", v.iter().map(|o| o.product_id as i64)),
                    ints32(v.iter().map(|o| o.quantity).collect()),
                    doubles(v.iter().map(|o| o.amount).collect()),
                    named(&COUNTRIES, v.iter().map(|o| o.country)),
                    BooleanArray::from_slice(v.iter().map(|o| o.is_new_customer).collect::<Vec<_>>()).boxed(),
                    timestamps(v.iter().map(|o| o.timestamp).collect()),
                ]
            }
            Table::Customers => {
                let v: Vec<_> = rows.map(|k| self.customer(k)).collect();
                vec![
                    ints64(v.iter().map(|c| c.customer_id).collect()),
                    timestamps(v.iter().map(|c| c.registration_date).collect()),
                    named(&COUNTRIES, v.iter().map(|c| c.country)),
                    named(&SEGMENTS, v.iter().map(|c| c.segment)),
                ]
            }
            Table::Products => {
                let v: Vec<_> = rows.map(|idx| Workload::product(idx + 1)).collect();
                vec![
                    ints32(v.iter().map(|p| p.product_id).collect()),
                    prefixed("product-", v.iter().map(|p| p.product_id as i64)),
                    named(&CATEGORIES, v.iter().map(|p| p.category)),
                    doubles(v.iter().map(|p| p.price).collect()),
                ]
            }
            Table::Pageviews => {
                let v: Vec<_> = rows.map(|j| self.pageview(j)).collect();
                vec![
                    ints64(v.iter().map(|p| p.session_id).collect()),
                    ints64(v.iter().map(|p| p.customer_id).collect()),
                    prefixed("/p/", v.iter().map(|p| p.url_product)),
                    timestamps(v.iter().map(|p| p.timestamp).collect()),
                ]
            }
            Table::CartEvents => {
                let v: Vec<_> = rows.map(|j| self.cart_event(j)).collect();
                vec![
                    ints64(v.iter().map(|c| c.session_id).collect()),
                    ints32(v.iter().map(|c| c.product_id).collect()),
                    timestamps(v.iter().map(|c| c.timestamp).collect()),
                ]
            }
        };
        Chunk::new(arrays)
    }

    /// All of `table`, as chunks of at most `batch_rows` rows, generated lazily.
    pub fn chunks(&self, table: Table, batch_rows: usize) -> Chunks {
        assert!(batch_rows > 0, "batch_rows must be positive");
        Chunks { workload: *self, table, next_row: 0, end: self.n_rows(table), batch_rows: batch_rows as u64 }
    }
}

/// The iterator [`Workload::chunks`] returns.
#[derive(Debug, Clone)]
pub struct Chunks {
    workload: Workload,
    table: Table,
    next_row: u64,
    end: u64,
    batch_rows: u64,
}

impl Iterator for Chunks {
    type Item = ArrowChunk;

    fn next(&mut self) -> Option<ArrowChunk> {
        if self.next_row >= self.end {
            return None;
        }
        let stop = (self.next_row + self.batch_rows).min(self.end);
        let chunk = self.workload.chunk(self.table, self.next_row..stop);
        self.next_row = stop;
        Some(chunk)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = (self.end - self.next_row).div_ceil(self.batch_rows) as usize;
        (left, Some(left))
    }
}

impl ExactSizeIterator for Chunks {}
