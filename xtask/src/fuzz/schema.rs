//! The fuzz database: the workload's five tables (`../shared/workload/schema.sql`) with a few
//! hundred rows each from simple deterministic formulas, plus `misc` (every type, nullable,
//! with NULLs and edge values) and two scratch tables for `INSERT ... SELECT`.
//!
//! Everything is plain SQL (`setup_sql`), so a failure can be reproduced in the shell:
//! `cargo xtask fuzz --print-setup` prints the script.

use super::gen::Ty;

/// One column as the generator sees it.
#[derive(Debug, Clone, Copy)]
pub struct ColumnDef {
    pub name: &'static str,
    pub ty: Ty,
}

/// One table as the generator sees it.
#[derive(Debug, Clone, Copy)]
pub struct TableDef {
    pub name: &'static str,
    pub columns: &'static [ColumnDef],
    /// Rows after setup (scratch tables: a guess), to keep joins from exploding.
    pub rows: usize,
    /// A target of generated `INSERT ... SELECT` statements.
    pub scratch: bool,
}

const fn col(name: &'static str, ty: Ty) -> ColumnDef {
    ColumnDef { name, ty }
}

/// The workload's CREATE TABLE statements, verbatim (a test checks them against
/// `../shared/workload/schema.sql` when that file is there).
pub const WORKLOAD_SCHEMA: &str = include_str!("workload_schema.sql");

const EXTRA_SCHEMA: &str = "
CREATE TABLE misc (
    id INTEGER PRIMARY KEY, si SMALLINT, n INTEGER, b BIGINT, r REAL, d DOUBLE,
    s TEXT, f BOOLEAN, dt DATE, ts TIMESTAMP
);
CREATE TABLE scratch (
    id INTEGER, si SMALLINT, n INTEGER, b BIGINT, r REAL, d DOUBLE,
    s TEXT, f BOOLEAN, dt DATE, ts TIMESTAMP
);
CREATE TABLE scratch_k (k BIGINT PRIMARY KEY, v TEXT, amount DOUBLE);
";

const N_ORDERS: i64 = 240;
const N_CUSTOMERS: i64 = 60;
/// Orders and page views name customers `0..CUSTOMER_IDS`: some have no customers row.
const CUSTOMER_IDS: i64 = 70;
const N_PRODUCTS: i64 = 80;
/// Orders and cart events name products `1..=PRODUCT_IDS`: some have no products row.
const PRODUCT_IDS: i64 = 90;
const N_PAGEVIEWS: i64 = 200;
const N_CART_EVENTS: i64 = 60;
const N_MISC: i64 = 120;

pub const TABLES: &[TableDef] = &[
    TableDef {
        name: "customers",
        columns: &[
            col("customer_id", Ty::BigInt),
            col("registration_date", Ty::Timestamp),
            col("country", Ty::Text),
            col("segment", Ty::Text),
        ],
        rows: N_CUSTOMERS as usize,
        scratch: false,
    },
    TableDef {
        name: "products",
        columns: &[
            col("product_id", Ty::Int),
            col("product_name", Ty::Text),
            col("category", Ty::Text),
            col("price", Ty::Double),
        ],
        rows: N_PRODUCTS as usize,
        scratch: false,
    },
    TableDef {
        name: "orders",
        columns: &[
            col("order_id", Ty::BigInt),
            col("customer_id", Ty::BigInt),
            col("product_id", Ty::Int),
            col("product_name", Ty::Text),
            col("quantity", Ty::Int),
            col("amount", Ty::Double),
            col("country", Ty::Text),
            col("is_new_customer", Ty::Bool),
            col("timestamp", Ty::Timestamp),
        ],
        rows: N_ORDERS as usize,
        scratch: false,
    },
    TableDef {
        name: "pageviews",
        columns: &[
            col("session_id", Ty::BigInt),
            col("customer_id", Ty::BigInt),
            col("url", Ty::Text),
            col("timestamp", Ty::Timestamp),
        ],
        rows: N_PAGEVIEWS as usize,
        scratch: false,
    },
    TableDef {
        name: "cart_events",
        columns: &[col("session_id", Ty::BigInt), col("product_id", Ty::Int), col("timestamp", Ty::Timestamp)],
        rows: N_CART_EVENTS as usize,
        scratch: false,
    },
    TableDef { name: "misc", columns: MISC_COLUMNS, rows: N_MISC as usize, scratch: false },
    TableDef { name: "scratch", columns: MISC_COLUMNS, rows: 150, scratch: true },
    TableDef {
        name: "scratch_k",
        columns: &[col("k", Ty::BigInt), col("v", Ty::Text), col("amount", Ty::Double)],
        rows: 100,
        scratch: true,
    },
];

const MISC_COLUMNS: &[ColumnDef] = &[
    col("id", Ty::Int),
    col("si", Ty::SmallInt),
    col("n", Ty::Int),
    col("b", Ty::BigInt),
    col("r", Ty::Real),
    col("d", Ty::Double),
    col("s", Ty::Text),
    col("f", Ty::Bool),
    col("dt", Ty::Date),
    col("ts", Ty::Timestamp),
];

const COUNTRIES: [&str; 20] = [
    "US", "GB", "DE", "FR", "JP", "CA", "AU", "BR", "IN", "ES", "IT", "NL", "SE", "MX", "KR", "PL", "CH", "BE", "AT",
    "IE",
];
const SEGMENTS: [&str; 3] = ["consumer", "smb", "enterprise"];
const CATEGORIES: [&str; 12] = [
    "books",
    "electronics",
    "toys",
    "garden",
    "kitchen",
    "sports",
    "beauty",
    "grocery",
    "fashion",
    "music",
    "games",
    "office",
];

const MICROS_PER_DAY: i64 = 86_400_000_000;
/// 2025-09-01 00:00:00 in microseconds since the epoch (the workload's BASE).
const BASE: i64 = 20_332 * MICROS_PER_DAY;

fn hash(i: i64) -> i64 {
    (i * 2_654_435_761 + 12_345) % 4_294_967_296
}

fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// `DATE 'YYYY-MM-DD'` text for a day number.
pub fn date_text(days: i64) -> String {
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}")
}

/// `YYYY-MM-DD HH:MM:SS[.ffffff]` for microseconds since the epoch.
pub fn timestamp_text(micros: i64) -> String {
    let (days, rem) = (micros.div_euclid(MICROS_PER_DAY), micros.rem_euclid(MICROS_PER_DAY));
    let secs = rem / 1_000_000;
    let frac = rem % 1_000_000;
    let time = format!("{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60);
    if frac == 0 {
        format!("{} {time}", date_text(days))
    } else {
        format!("{} {time}.{frac:06}", date_text(days))
    }
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn ts_literal(micros: i64) -> String {
    quote(&timestamp_text(micros))
}

/// `INSERT INTO table VALUES ...` statements, 50 rows each.
fn inserts(out: &mut Vec<String>, table: &str, rows: impl Iterator<Item = String>) {
    let rows: Vec<String> = rows.collect();
    for chunk in rows.chunks(50) {
        out.push(format!("INSERT INTO {table} VALUES {}", chunk.join(", ")));
    }
}

/// A value of `misc` column `col_idx` for row `row`, or NULL; edge values come up often.
fn misc_value(row: i64, col_idx: usize) -> String {
    let h = hash(row * 31 + col_idx as i64);
    if row > 0 && h % 7 == 0 {
        return "NULL".into();
    }
    // Edge values sit in a few rows only: one extreme value makes every row's arithmetic on
    // its column overflow, and a statement fails when any row does.
    let edge_row = row % 23 == 5 || row % 37 == 11;
    let pick =
        |edges: &[&str]| -> Option<String> { edge_row.then(|| edges[(h / 5) as usize % edges.len()].to_string()) };
    let small = h % 2001 - 1000;
    match col_idx {
        1 => pick(&["0", "-1", "32767", "-32768", "1"]).unwrap_or_else(|| (small % 300).to_string()),
        2 => pick(&["0", "-1", "2147483647", "-2147483648", "1"]).unwrap_or_else(|| small.to_string()),
        3 => pick(&["0", "-9223372036854775808", "9223372036854775807", "4294967296", "-1"])
            .unwrap_or_else(|| (small * 1_000_003).to_string()),
        4 => pick(&["0", "-0.5", "3.4e38", "1e-30", "'NaN'"]).unwrap_or_else(|| format!("{}.25", small)),
        5 => pick(&["0.0", "-0.0", "1e300", "-1e-300", "'NaN'", "'Infinity'", "'-Infinity'", "0.1"])
            .unwrap_or_else(|| format!("{}.{:02}", small, h % 100)),
        6 => pick(&["''", "' '", "'O''Brien'", "'%'", "'_'", "'x_y%z'", "'ünïcødé'", "'日本語'", "'line\nbreak'"])
            .unwrap_or_else(|| {
                let words = ["a", "A", "abc", "US", "product-7", "books", "  padded  ", "Zz", "0", "42", "true"];
                quote(words[(h / 7) as usize % words.len()])
            }),
        7 => ["TRUE", "FALSE"][(h / 3) as usize % 2].to_string(),
        8 => pick(&["'1970-01-01'", "'2000-02-29'", "'0001-01-01'", "'9999-12-31'", "'1900-03-01'"])
            .unwrap_or_else(|| quote(&date_text(20_332 + small))),
        9 => pick(&["'1970-01-01 00:00:00'", "'2000-02-29 23:59:59.999999'", "'1900-01-01 12:00:00'"])
            .unwrap_or_else(|| ts_literal(BASE + small * 3_600_000_000 + h % 1_000_000)),
        _ => unreachable!("misc has 10 columns"),
    }
}

/// The whole setup script: CREATE TABLE for every table, then the rows.
pub fn setup_sql() -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for ddl in WORKLOAD_SCHEMA.split(';').chain(EXTRA_SCHEMA.split(';')) {
        if !ddl.trim().is_empty() {
            out.push(ddl.trim().to_string());
        }
    }
    inserts(
        &mut out,
        "customers",
        (0..N_CUSTOMERS).map(|k| {
            let reg = BASE - 365 * MICROS_PER_DAY + k * (365 * MICROS_PER_DAY / N_CUSTOMERS);
            let country = COUNTRIES[((k % 97) % 20) as usize];
            format!("({k}, {}, '{country}', '{}')", ts_literal(reg), SEGMENTS[(k % 3) as usize])
        }),
    );
    inserts(
        &mut out,
        "products",
        (1..=N_PRODUCTS).map(|p| {
            let price = 1.0 + ((p * 7919) % 50_000) as f64 / 100.0;
            format!("({p}, 'product-{p}', '{}', {price})", CATEGORIES[(p % 12) as usize])
        }),
    );
    inserts(
        &mut out,
        "orders",
        (0..N_ORDERS).map(|i| {
            let h = hash(i);
            let order_id = i / 3;
            let customer_id = (order_id * 40_503 + 7) % CUSTOMER_IDS;
            let product_id = 1 + h % PRODUCT_IDS;
            let quantity = 1 + (h / 256) % 5;
            let amount = 1.0 + ((h / 16) % 50_000) as f64 / 100.0;
            let country = COUNTRIES[((customer_id % 97) % 20) as usize];
            let is_new = (h / 4096) % 10 == 0;
            let ts = BASE + i * (90 * MICROS_PER_DAY / N_ORDERS);
            format!(
                "({order_id}, {customer_id}, {product_id}, 'product-{product_id}', {quantity}, {amount}, '{country}', \
                 {is_new}, {})",
                ts_literal(ts)
            )
        }),
    );
    inserts(
        &mut out,
        "pageviews",
        (0..N_PAGEVIEWS).map(|j| {
            let customer_id = ((j / 5) * 40_503 + 7) % CUSTOMER_IDS;
            let url = 1 + hash(j) % PRODUCT_IDS;
            let ts = BASE + j * (90 * MICROS_PER_DAY / N_PAGEVIEWS);
            format!("({}, {customer_id}, '/p/{url}', {})", j / 5, ts_literal(ts))
        }),
    );
    inserts(
        &mut out,
        "cart_events",
        (0..N_CART_EVENTS).map(|j| {
            let ts = BASE + j * 4 * (90 * MICROS_PER_DAY / N_PAGEVIEWS);
            format!("({}, {}, {})", (j * 4) / 5, 1 + hash(j) % PRODUCT_IDS, ts_literal(ts))
        }),
    );
    let misc_rows = |n: i64, offset: i64| {
        (0..n).map(move |row| {
            let values: Vec<String> = (1..10).map(|c| misc_value(row + offset, c)).collect();
            format!("({}, {})", row + offset, values.join(", "))
        })
    };
    inserts(&mut out, "misc", misc_rows(N_MISC, 0));
    inserts(&mut out, "scratch", misc_rows(20, 1000));
    inserts(&mut out, "scratch_k", (0..10).map(|k| format!("({k}, 'v{k}', {}.5)", k * 10)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn normalize(sql: &str) -> String {
        sql.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    #[test]
    fn embedded_schema_matches_the_workload() {
        let shared = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/workload/schema.sql");
        // The shared directory sits beside the clone in CI and development; a bare clone
        // without it still builds and tests the embedded copy.
        if let Ok(text) = std::fs::read_to_string(&shared) {
            assert_eq!(
                normalize(&text),
                normalize(WORKLOAD_SCHEMA),
                "{} changed: update workload_schema.sql",
                shared.display()
            );
        }
    }

    #[test]
    fn dates_format_like_iso() {
        assert_eq!(date_text(0), "1970-01-01");
        assert_eq!(date_text(20_332), "2025-09-01");
        assert_eq!(timestamp_text(BASE + 1_500_000), "2025-09-01 00:00:01.500000");
        assert_eq!(date_text(-1), "1969-12-31");
    }
}
