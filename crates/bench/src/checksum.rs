//! The README's generator checksums, computed from the chunks the generator produces.
//!
//! Each checksum is an exact integer named `table.metric` (timestamps as microseconds since
//! 1970-01-01, money as whole cents), so the same list can be computed in SQL by another engine
//! from the CSV files and compared exactly (`scripts/make_fixtures.py` does this with DuckDB).

use crate::chunks::DEFAULT_BATCH_ROWS;
use crate::gen::{Table, Workload};
use arrow::array::{Array, BooleanArray, PrimitiveArray, Utf8Array};
use std::collections::{BTreeMap, HashSet};

/// `table.metric` -> value, sorted by name.
pub type Checksums = BTreeMap<String, i128>;

fn column<'a, T: 'static>(chunk: &'a crate::chunks::ArrowChunk, table: Table, name: &str) -> &'a T {
    let col_idx = table.columns().iter().position(|c| *c == name).expect("known column");
    chunk.arrays()[col_idx].as_any().downcast_ref::<T>().expect("column of the expected arrow type")
}

fn ints<'a>(chunk: &'a crate::chunks::ArrowChunk, table: Table, name: &str) -> Box<dyn Iterator<Item = i64> + 'a> {
    let array: &dyn Array =
        chunk.arrays()[table.columns().iter().position(|c| *c == name).expect("known column")].as_ref();
    if let Some(a) = array.as_any().downcast_ref::<PrimitiveArray<i64>>() {
        Box::new(a.values().iter().copied())
    } else {
        let a = array.as_any().downcast_ref::<PrimitiveArray<i32>>().expect("an integer column");
        Box::new(a.values().iter().map(|&v| v as i64))
    }
}

fn wide<'a>(values: Box<dyn Iterator<Item = i64> + 'a>) -> impl Iterator<Item = i128> + 'a {
    values.map(i128::from)
}

/// Whole cents of a double that holds a whole number of cents.
fn cents(value: f64) -> i128 {
    (value * 100.0).round() as i128
}

#[derive(Default)]
struct Acc {
    rows: i128,
    sums: BTreeMap<&'static str, i128>,
    maxes: BTreeMap<&'static str, i128>,
    distinct_ints: BTreeMap<&'static str, HashSet<i64>>,
    distinct_texts: BTreeMap<&'static str, HashSet<String>>,
}

impl Acc {
    fn sum(&mut self, metric: &'static str, values: impl Iterator<Item = i128>) {
        *self.sums.entry(metric).or_default() += values.sum::<i128>();
    }

    fn max(&mut self, metric: &'static str, values: impl Iterator<Item = i128>) {
        if let Some(m) = values.max() {
            let slot = self.maxes.entry(metric).or_insert(i128::MIN);
            *slot = (*slot).max(m);
        }
    }

    fn distinct(&mut self, metric: &'static str, values: impl Iterator<Item = i64>) {
        self.distinct_ints.entry(metric).or_default().extend(values);
    }

    fn finish(self, table: Table, out: &mut Checksums) {
        let name = table.name();
        out.insert(format!("{name}.rows"), self.rows);
        for (metric, v) in self.sums.into_iter().chain(self.maxes) {
            out.insert(format!("{name}.{metric}"), v);
        }
        for (metric, set) in self.distinct_ints {
            out.insert(format!("{name}.{metric}"), set.len() as i128);
        }
        for (metric, set) in self.distinct_texts {
            out.insert(format!("{name}.{metric}"), set.len() as i128);
        }
    }
}

/// The checksums of one table (see the module docs for the names).
pub fn table_checksums(workload: &Workload, table: Table) -> Checksums {
    let mut acc = Acc::default();
    for chunk in workload.chunks(table, DEFAULT_BATCH_ROWS) {
        acc.rows += chunk.len() as i128;
        match table {
            Table::Orders => {
                let amounts = column::<PrimitiveArray<f64>>(&chunk, table, "amount");
                acc.sum("sum_amount_cents", amounts.values().iter().map(|&a| cents(a)));
                acc.sum("sum_order_id", wide(ints(&chunk, table, "order_id")));
                acc.sum("sum_product_id", wide(ints(&chunk, table, "product_id")));
                acc.sum("sum_quantity", wide(ints(&chunk, table, "quantity")));
                let is_new = column::<BooleanArray>(&chunk, table, "is_new_customer");
                acc.sum("count_is_new_customer", is_new.values_iter().map(i128::from));
                acc.sum("sum_timestamp", wide(ints(&chunk, table, "timestamp")));
                acc.max("max_timestamp", wide(ints(&chunk, table, "timestamp")));
                acc.distinct("distinct_customer_id", ints(&chunk, table, "customer_id"));
                acc.distinct("distinct_product_id", ints(&chunk, table, "product_id"));
            }
            Table::Customers => {
                acc.sum("sum_registration_date", wide(ints(&chunk, table, "registration_date")));
                acc.max("max_registration_date", wide(ints(&chunk, table, "registration_date")));
            }
            Table::Products => {
                let prices = column::<PrimitiveArray<f64>>(&chunk, table, "price");
                acc.sum("sum_price_cents", prices.values().iter().map(|&p| cents(p)));
            }
            Table::Pageviews => {
                acc.distinct("distinct_session_id", ints(&chunk, table, "session_id"));
                let urls = column::<Utf8Array<i32>>(&chunk, table, "url");
                acc.sum("sum_length_url", urls.values_iter().map(|u| u.chars().count() as i128));
                acc.distinct_texts.entry("distinct_url").or_default().extend(urls.values_iter().map(str::to_owned));
            }
            Table::CartEvents => {
                acc.sum("sum_session_id", wide(ints(&chunk, table, "session_id")));
                acc.sum("sum_product_id", wide(ints(&chunk, table, "product_id")));
                acc.max("max_timestamp", wide(ints(&chunk, table, "timestamp")));
            }
        }
    }
    let mut out = Checksums::new();
    acc.finish(table, &mut out);
    out
}

/// The checksums of every table.
pub fn checksums(workload: &Workload) -> Checksums {
    Table::ALL.iter().flat_map(|&table| table_checksums(workload, table)).collect()
}

/// `name value` lines, sorted by name: the form `gen_csv` writes beside the CSV files.
pub fn render(checksums: &Checksums) -> String {
    checksums.iter().map(|(name, v)| format!("{name} {v}\n")).collect()
}

#[cfg(test)]
mod tests;
