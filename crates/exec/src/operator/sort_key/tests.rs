//! Sorting through encoded keys against a reference comparator written from SQL's rules:
//! random integers (extremes included), floats (NaN, ±0, ±Infinity), text (empty strings,
//! prefixes, NUL bytes), NULLs, several keys, ASC/DESC, NULLS FIRST/LAST, with and without a
//! fetch, in one run or several merged runs, over random batch boundaries.

use super::*;
use crate::expr::Expr;
use crate::interrupt::{InterruptFlag, StatementScope};
use crate::operator::sort::{merge_runs, RunBuilder};
use crate::operator::Sink;
use arrow::array::{Int64Array, PrimitiveArray, Utf8Array};
use proptest::prelude::*;
use std::sync::Arc;
use std::time::Duration;
use storage::Batch;

#[derive(Debug, Clone)]
struct Row {
    int: Option<i64>,
    float: Option<f64>,
    text: Option<String>,
    small: Option<i32>,
}

fn cmp_float(a: f64, b: f64) -> Ordering {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        // -0 == 0.
        _ => a.partial_cmp(&b).unwrap_or(Ordering::Equal),
    }
}

/// SQL's order of two rows by key `col` (0 int, 1 float, 2 text, 3 small).
fn cmp_key(a: &Row, b: &Row, col: usize, key: &SortKey) -> Ordering {
    fn with_nulls<T>(a: &Option<T>, b: &Option<T>, key: &SortKey, cmp: impl Fn(&T, &T) -> Ordering) -> Ordering {
        match (a, b) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) => {
                if key.nulls_first {
                    Ordering::Less
                } else {
                    Ordering::Greater
                }
            }
            (Some(_), None) => {
                if key.nulls_first {
                    Ordering::Greater
                } else {
                    Ordering::Less
                }
            }
            (Some(x), Some(y)) => {
                let o = cmp(x, y);
                if key.descending {
                    o.reverse()
                } else {
                    o
                }
            }
        }
    }
    match col {
        0 => with_nulls(&a.int, &b.int, key, |x, y| x.cmp(y)),
        1 => with_nulls(&a.float, &b.float, key, |x, y| cmp_float(*x, *y)),
        2 => with_nulls(&a.text, &b.text, key, |x, y| x.as_bytes().cmp(y.as_bytes())),
        _ => with_nulls(&a.small, &b.small, key, |x, y| x.cmp(y)),
    }
}

const TYPES: [DataType; 4] = [DataType::BigInt, DataType::Double, DataType::Text, DataType::Integer];

fn sort_key(col: usize, descending: bool, nulls_first: bool) -> SortKey {
    SortKey { expr: Expr::Column { idx: col, name: format!("c{col}"), data_type: TYPES[col] }, descending, nulls_first }
}

/// The rows as one batch: the four key columns and each row's index (column 4).
fn batch(rows: &[Row]) -> Batch {
    let columns: Vec<Box<dyn Array>> = vec![
        Int64Array::from(rows.iter().map(|r| r.int).collect::<Vec<_>>()).boxed(),
        PrimitiveArray::<f64>::from(rows.iter().map(|r| r.float).collect::<Vec<_>>()).boxed(),
        Utf8Array::<i32>::from_iter(rows.iter().map(|r| r.text.as_deref())).boxed(),
        PrimitiveArray::<i32>::from(rows.iter().map(|r| r.small).collect::<Vec<_>>()).boxed(),
        Int64Array::from_vec((0..rows.len() as i64).collect()).boxed(),
    ];
    Batch { columns, n_rows: rows.len() }
}

/// The row indices the reference gives: a stable sort by the keys.
fn expected(rows: &[Row], cols: &[usize], keys: &[SortKey], fetch: Option<usize>) -> Vec<i64> {
    let mut order: Vec<usize> = (0..rows.len()).collect();
    order.sort_by(|&a, &b| {
        cols.iter()
            .zip(keys)
            .map(|(&c, k)| cmp_key(&rows[a], &rows[b], c, k))
            .find(|o| o.is_ne())
            .unwrap_or(Ordering::Equal)
    });
    order.truncate(fetch.unwrap_or(usize::MAX));
    order.into_iter().map(|i| i as i64).collect()
}

/// Sorts `rows` in batches of `batch_rows`, the batches dealt round-robin to `n_runs` runs
/// (each batch's position is its index, as parallel workers record parts), then merged.
fn actual(rows: &[Row], keys: &[SortKey], fetch: Option<usize>, batch_rows: usize, n_runs: usize) -> Vec<i64> {
    let all = batch(rows);
    let mut builders: Vec<RunBuilder> = (0..n_runs).map(|_| RunBuilder::new(keys, fetch)).collect();
    for (idx, start) in (0..rows.len()).step_by(batch_rows).enumerate() {
        let b = &mut builders[idx % n_runs];
        b.set_position((idx as u64) << 32);
        b.push(all.slice(start, batch_rows.min(rows.len() - start))).unwrap();
    }
    let runs = builders.into_iter().map(|b| b.finish().unwrap()).collect();
    let out = merge_runs(runs, fetch).unwrap();
    out.iter()
        .flat_map(|b| {
            let ids = b.columns[4].as_any().downcast_ref::<Int64Array>().unwrap();
            ids.values().to_vec()
        })
        .collect()
}

fn row() -> impl Strategy<Value = Row> {
    let int = prop_oneof![
        Just(None),
        Just(Some(i64::MIN)),
        Just(Some(i64::MAX)),
        Just(Some(0)),
        (-5i64..5).prop_map(Some),
        any::<i64>().prop_map(Some),
    ];
    let float = prop_oneof![
        Just(None),
        Just(Some(f64::NAN)),
        Just(Some(-f64::NAN)),
        Just(Some(0.0)),
        Just(Some(-0.0)),
        Just(Some(f64::INFINITY)),
        Just(Some(f64::NEG_INFINITY)),
        (-3i32..3).prop_map(|v| Some(v as f64 / 2.0)),
        any::<f64>().prop_map(Some),
    ];
    let text = prop_oneof![Just(None), Just(Some(String::new())), "[ab\\x00é]{0,4}".prop_map(Some)];
    let small = prop_oneof![Just(None), Just(Some(i32::MIN)), Just(Some(i32::MAX)), (-3i32..3).prop_map(Some)];
    (int, float, text, small).prop_map(|(int, float, text, small)| Row { int, float, text, small })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn sorting_by_encoded_keys_matches_the_reference(
        rows in proptest::collection::vec(row(), 0..120),
        key_specs in proptest::collection::vec((0usize..4, any::<bool>(), any::<bool>()), 1..4),
        fetch in proptest::option::of(0usize..130),
        batch_rows in 1usize..40,
        n_runs in 1usize..4,
    ) {
        let cols: Vec<usize> = key_specs.iter().map(|s| s.0).collect();
        let keys: Vec<SortKey> = key_specs.iter().map(|&(c, d, n)| sort_key(c, d, n)).collect();
        prop_assert_eq!(actual(&rows, &keys, fetch, batch_rows, n_runs), expected(&rows, &cols, &keys, fetch));
    }

    #[test]
    fn cmp_bytes_is_slice_order(a in proptest::collection::vec(0u8..3, 0..30), b in proptest::collection::vec(0u8..3, 0..30)) {
        prop_assert_eq!(cmp_bytes(&a, &b), a.cmp(&b));
    }

    #[test]
    fn a_single_word_key_matches_the_reference(
        rows in proptest::collection::vec(row(), 0..200),
        col in prop_oneof![Just(0usize), Just(1), Just(3)],
        descending in any::<bool>(),
        nulls_first in any::<bool>(),
        fetch in proptest::option::of(0usize..50),
        n_runs in 1usize..4,
    ) {
        let keys = [sort_key(col, descending, nulls_first)];
        prop_assert!(matches!(Keys::new(&[TYPES[col]]), Keys::Words(_)));
        prop_assert_eq!(actual(&rows, &keys, fetch, 7, n_runs), expected(&rows, &[col], &keys, fetch));
    }
}

#[test]
fn byte_keys_order_text_by_bytes_with_prefixes_first() {
    let texts = ["b", "", "a\u{0}", "a", "ab", "\u{0}", "é", "a\u{0}\u{0}"];
    let rows: Vec<Row> =
        texts.iter().map(|t| Row { int: None, float: None, text: Some(t.to_string()), small: None }).collect();
    let keys = [sort_key(2, false, false)];
    let order = actual(&rows, &keys, None, 3, 2);
    let sorted: Vec<&str> = order.iter().map(|&i| texts[i as usize]).collect();
    assert_eq!(sorted, ["", "\u{0}", "a", "a\u{0}", "a\u{0}\u{0}", "ab", "b", "é"]);
}

#[test]
fn large_top_n_keeps_the_first_rows_and_ties_in_input_order() {
    // Many more rows than the compaction threshold, keys with many ties.
    let rows: Vec<Row> =
        (0..50_000i64).map(|i| Row { int: Some((i * 7919) % 13), float: None, text: None, small: None }).collect();
    let keys = [sort_key(0, true, false)];
    for fetch in [Some(1), Some(100), Some(20_000), None] {
        assert_eq!(actual(&rows, &keys, fetch, 1000, 3), expected(&rows, &[0], &keys, fetch), "{fetch:?}");
    }
}

#[test]
fn chunked_sorts_merge_and_stop_when_the_statement_is_stopped() {
    let n = CHUNK * 2 + 10;
    let values: Vec<Option<i64>> = (0..n as i64).map(|i| (i % 5 != 0).then_some((i * 7919) % 1000)).collect();
    let array: Box<dyn Array> = Int64Array::from(values.clone()).boxed();
    let keys = [sort_key(0, false, true)];
    for types in [[DataType::BigInt, DataType::BigInt], [DataType::BigInt, DataType::Text]] {
        // Words for one key, bytes for two (the second key a copy of the first).
        let (arrays, key_list): (Vec<Box<dyn Array>>, Vec<SortKey>) = if types[1] == DataType::Text {
            (vec![array.clone(), array.clone()], vec![keys[0].clone(), keys[0].clone()])
        } else {
            (vec![array.clone()], vec![keys[0].clone()])
        };
        let types = &[DataType::BigInt, DataType::BigInt][..arrays.len()];
        let mut encoded = Keys::new(types);
        encoded.push(n, &arrays, types, &key_list).unwrap();
        for fetch in [None, Some(CHUNK + 3)] {
            let order = encoded.sorted(fetch).unwrap();
            let mut reference: Vec<u32> = (0..n as u32).collect();
            reference.sort_by_key(|&r| (values[r as usize].is_some(), values[r as usize]));
            reference.truncate(fetch.unwrap_or(n));
            assert_eq!(order, reference);
        }
        let _scope = StatementScope::enter(Arc::new(InterruptFlag::default()), Some(Duration::ZERO));
        assert!(matches!(encoded.sorted(None), Err(ExecError::StatementTimeout { .. })));
    }
}
