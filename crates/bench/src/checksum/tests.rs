//! The checksums that `../shared/workload/README.md` lists, reproduced.

use super::*;
use crate::csv::format_timestamp;

fn timestamp_text(micros: i128) -> String {
    let mut out = Vec::new();
    format_timestamp(micros as i64, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

/// Checks the README's values for one table: `(metric, value)` with timestamps as text.
fn check(workload: &Workload, table: Table, expected: &[(&str, &str)]) {
    let got = table_checksums(workload, table);
    for (metric, want) in expected {
        let key = format!("{}.{metric}", table.name());
        let value = *got.get(&key).unwrap_or_else(|| panic!("no checksum {key}"));
        let value = if metric.starts_with("max_") { timestamp_text(value) } else { value.to_string() };
        assert_eq!(value, *want, "N = {}: {key}", workload.n());
    }
}

#[test]
fn readme_checksums_at_1m() {
    let w = Workload::new(1_000_000);
    check(
        &w,
        Table::Orders,
        &[
            ("rows", "1000000"),
            ("sum_amount_cents", "25098583412"),
            ("distinct_customer_id", "50000"),
            ("sum_order_id", "166666166667"),
            ("sum_product_id", "3335759425"),
            ("sum_quantity", "2999963"),
            ("count_is_new_customer", "99998"),
            ("distinct_product_id", "7505"),
            ("max_timestamp", "2025-11-29 23:59:52.224"),
            ("sum_timestamp", "1760572796112000000000"),
        ],
    );
    check(
        &w,
        Table::Customers,
        &[
            ("rows", "50000"),
            ("max_registration_date", "2025-08-31 23:49:29.28"),
            ("sum_registration_date", "87045824232000000000"),
        ],
    );
    check(&w, Table::Products, &[("rows", "10007"), ("sum_price_cents", "251147432")]);
    check(
        &w,
        Table::Pageviews,
        &[
            ("rows", "1000000"),
            ("distinct_session_id", "200000"),
            ("distinct_url", "10007"),
            ("sum_length_url", "6890180"),
        ],
    );
    check(
        &w,
        Table::CartEvents,
        &[
            ("rows", "250000"),
            ("sum_session_id", "24999800000"),
            ("sum_product_id", "1251017265"),
            ("max_timestamp", "2025-11-29 23:59:28.896"),
        ],
    );
}

/// The 10M checksums (about 4 s in a debug build).
#[test]
fn readme_checksums_at_10m() {
    let w = Workload::new(10_000_000);
    check(
        &w,
        Table::Orders,
        &[
            ("rows", "10000000"),
            ("sum_amount_cents", "250985899096"),
            ("distinct_customer_id", "500000"),
            ("sum_order_id", "16666661666667"),
            ("sum_product_id", "33356769372"),
            ("sum_quantity", "29999978"),
            ("count_is_new_customer", "999994"),
            ("max_timestamp", "2025-11-29 23:59:59.2224"),
            ("sum_timestamp", "17605727996112000000000"),
        ],
    );
    check(
        &w,
        Table::Pageviews,
        &[("rows", "10000000"), ("distinct_session_id", "2000000"), ("sum_length_url", "68901766")],
    );
    check(
        &w,
        Table::CartEvents,
        &[("rows", "2500000"), ("sum_session_id", "2499998000000"), ("sum_product_id", "12510046251")],
    );
}

#[test]
fn batch_size_does_not_change_the_data() {
    let w = Workload::new(10_000);
    let whole: Vec<_> = w.chunks(Table::Orders, 10_000).collect();
    let pieces: Vec<_> = w.chunks(Table::Orders, 333).collect();
    assert_eq!(whole.len(), 1);
    assert_eq!(pieces.len(), 31);
    let mut row = 0;
    for piece in &pieces {
        for (col_idx, array) in piece.arrays().iter().enumerate() {
            let expected = whole[0].arrays()[col_idx].sliced(row, piece.len());
            assert_eq!(array.as_ref(), expected.as_ref(), "column {col_idx} at row {row}");
        }
        row += piece.len();
    }
}
