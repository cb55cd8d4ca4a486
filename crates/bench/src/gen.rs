//! The dashboard workload's formulas (`../shared/workload/README.md`), one row at a time.
//!
//! Every value is plain integer arithmetic on the row's index, so any engine (DuckDB, a Python
//! script, this crate) reproduces the same data without shipping it. `/` below is integer division
//! that truncates and `%` the remainder, exactly as the README writes them. The only floating-point
//! steps are `amount` and `price`, which follow the README's `1.0 + x / 100.0` literally in `f64`
//! arithmetic (what DuckDB computes for that expression); 207 of the 50,000 possible values are
//! then one ulp away from the double nearest to the decimal `x.yy`, so a whole-cents encoder must
//! check that each value round-trips rather than assume it.

/// `BASE` = 2025-09-01 00:00:00, in microseconds since 1970-01-01 00:00:00 (no time zone).
pub const BASE_MICROS: i64 = 1_756_684_800_000_000;
/// 90 days in microseconds: the span of the fact tables' timestamps.
pub const SPAN_90_DAYS_MICROS: i64 = 7_776_000_000_000;
/// 365 days in microseconds: the span of the customers' registration dates.
pub const SPAN_365_DAYS_MICROS: i64 = 31_536_000_000_000;
/// `NOW` = BASE + 90 days = 2025-11-30 00:00:00: the benchmark queries' fixed "now".
pub const NOW_MICROS: i64 = BASE_MICROS + SPAN_90_DAYS_MICROS;
/// `NOW` as the SQL literal text the queries use.
pub const NOW_TEXT: &str = "2025-11-30 00:00:00";
/// The number of products (ids 1 ..= 10007).
pub const N_PRODUCTS: i64 = 10_007;

/// Knuth's multiplicative hash constant used by `h` and by the url / cart product ids.
const HASH_MUL: i64 = 2_654_435_761;
const HASH_MOD: i64 = 4_294_967_296;

pub const COUNTRIES: [&str; 20] = [
    "US", "GB", "DE", "FR", "JP", "CA", "AU", "BR", "IN", "ES", "IT", "NL", "SE", "MX", "KR", "PL", "CH", "BE", "AT",
    "IE",
];
pub const SEGMENTS: [&str; 3] = ["consumer", "smb", "enterprise"];
pub const CATEGORIES: [&str; 12] = [
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

/// One order line (`orders` row `i`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Order {
    pub order_id: i64,
    pub customer_id: i64,
    /// `product_name` is `'product-' || product_id`.
    pub product_id: i32,
    pub quantity: i32,
    pub amount: f64,
    /// Index into [`COUNTRIES`].
    pub country: usize,
    pub is_new_customer: bool,
    /// Microseconds since 1970-01-01.
    pub timestamp: i64,
}

/// One customer (`customers` row `k`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Customer {
    pub customer_id: i64,
    /// Microseconds since 1970-01-01.
    pub registration_date: i64,
    /// Index into [`COUNTRIES`].
    pub country: usize,
    /// Index into [`SEGMENTS`].
    pub segment: usize,
}

/// One product (`products` row for id `p`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Product {
    /// `product_name` is `'product-' || product_id`.
    pub product_id: i32,
    /// Index into [`CATEGORIES`].
    pub category: usize,
    pub price: f64,
}

/// One page view (`pageviews` row `j`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pageview {
    pub session_id: i64,
    pub customer_id: i64,
    /// `url` is `'/p/' || url_product`.
    pub url_product: i64,
    /// Microseconds since 1970-01-01.
    pub timestamp: i64,
}

/// One add-to-cart event (`cart_events` row `j`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CartEvent {
    pub session_id: i64,
    pub product_id: i32,
    /// Microseconds since 1970-01-01.
    pub timestamp: i64,
}

/// The workload at one scale: `n` order lines (and as many page views, `n / 4` cart events,
/// `max(n / 20, 1000)` customers and 10,007 products).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Workload {
    n: i64,
    n_customers: i64,
}

/// `x * span / n` without overflow: the README's `x * (K / N) + (x * (K % N)) / N`, exact for
/// `0 <= x <= n` while `n * n` fits in 64 bits (checked in [`Workload::new`]).
fn scaled(x: i64, span: i64, n: i64) -> i64 {
    x * (span / n) + (x * (span % n)) / n
}

impl Workload {
    /// The workload with `n` order lines. Panics unless `1 <= n <= 3,000,000,000`
    /// (the timestamp formula needs `n * n` to fit in 64 bits).
    pub fn new(n: u64) -> Workload {
        assert!((1..=3_000_000_000).contains(&n), "the workload needs 1 <= N <= 3e9 order lines, got {n}");
        let n = n as i64;
        Workload { n, n_customers: (n / 20).max(1000) }
    }

    /// `N`: the number of order lines (and page views).
    pub fn n(&self) -> u64 {
        self.n as u64
    }

    /// `C = max(N / 20, 1000)`: the number of customers.
    pub fn n_customers(&self) -> u64 {
        self.n_customers as u64
    }

    /// The number of rows of `table`.
    pub fn n_rows(&self, table: Table) -> u64 {
        match table {
            Table::Customers => self.n_customers as u64,
            Table::Products => N_PRODUCTS as u64,
            Table::Orders | Table::Pageviews => self.n as u64,
            Table::CartEvents => (self.n / 4) as u64,
        }
    }

    /// `orders` row `i` (0-based insert order).
    pub fn order(&self, i: u64) -> Order {
        let i = i as i64;
        let h = (i * HASH_MUL + 12345) % HASH_MOD;
        let order_id = i / 3;
        let customer_id = (order_id * 40503 + 7) % self.n_customers;
        let r = h % 10007;
        Order {
            order_id,
            customer_id,
            product_id: (1 + (r * r) / 10007) as i32,
            quantity: (1 + (h / 256) % 5) as i32,
            amount: 1.0 + ((h / 16) % 50000) as f64 / 100.0,
            country: ((customer_id % 97) % 20) as usize,
            is_new_customer: (h / 4096) % 10 == 0,
            timestamp: BASE_MICROS + scaled(i, SPAN_90_DAYS_MICROS, self.n),
        }
    }

    /// `customers` row `k` (`customer_id = k`).
    pub fn customer(&self, k: u64) -> Customer {
        let k = k as i64;
        Customer {
            customer_id: k,
            registration_date: BASE_MICROS - SPAN_365_DAYS_MICROS + scaled(k, SPAN_365_DAYS_MICROS, self.n_customers),
            country: ((k % 97) % 20) as usize,
            segment: (k % 3) as usize,
        }
    }

    /// The product with id `p` (1 ..= 10007); it does not depend on `N`.
    pub fn product(p: u64) -> Product {
        let p = p as i64;
        Product { product_id: p as i32, category: (p % 12) as usize, price: 1.0 + ((p * 7919) % 50000) as f64 / 100.0 }
    }

    /// `pageviews` row `j`.
    pub fn pageview(&self, j: u64) -> Pageview {
        let j = j as i64;
        Pageview {
            session_id: j / 5,
            customer_id: ((j / 5) * 40503 + 7) % self.n_customers,
            url_product: 1 + (j * HASH_MUL % HASH_MOD) % 10007,
            timestamp: BASE_MICROS + scaled(j, SPAN_90_DAYS_MICROS, self.n),
        }
    }

    /// `cart_events` row `j`.
    pub fn cart_event(&self, j: u64) -> CartEvent {
        let j = j as i64;
        CartEvent {
            session_id: (j * 4) / 5,
            product_id: (1 + (j * HASH_MUL % HASH_MOD) % 10007) as i32,
            timestamp: BASE_MICROS + scaled(j * 4, SPAN_90_DAYS_MICROS, self.n),
        }
    }
}

/// The workload's tables, in the order they are created and loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Table {
    Customers,
    Products,
    Orders,
    Pageviews,
    CartEvents,
}

impl Table {
    pub const ALL: [Table; 5] = [Table::Customers, Table::Products, Table::Orders, Table::Pageviews, Table::CartEvents];

    /// The SQL name of the table.
    pub fn name(self) -> &'static str {
        match self {
            Table::Customers => "customers",
            Table::Products => "products",
            Table::Orders => "orders",
            Table::Pageviews => "pageviews",
            Table::CartEvents => "cart_events",
        }
    }

    /// The column names, in table order (as in `schema.sql`).
    pub fn columns(self) -> &'static [&'static str] {
        match self {
            Table::Customers => &["customer_id", "registration_date", "country", "segment"],
            Table::Products => &["product_id", "product_name", "category", "price"],
            Table::Orders => &[
                "order_id",
                "customer_id",
                "product_id",
                "product_name",
                "quantity",
                "amount",
                "country",
                "is_new_customer",
                "timestamp",
            ],
            Table::Pageviews => &["session_id", "customer_id", "url", "timestamp"],
            Table::CartEvents => &["session_id", "product_id", "timestamp"],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_and_now() {
        // 2025-09-01 is day 20332 since 1970-01-01.
        assert_eq!(BASE_MICROS, 20_332 * 86_400_000_000);
        assert_eq!(NOW_MICROS, (20_332 + 90) * 86_400_000_000);
    }

    #[test]
    fn scaled_matches_128_bit_arithmetic() {
        for n in [1_i64, 7, 1_000_000, 1_190_000, 10_000_000, 100_000_000, 3_000_000_000] {
            for x in [0, 1, n / 3, n / 2, n - 1, n] {
                let exact = (x as i128 * SPAN_90_DAYS_MICROS as i128 / n as i128) as i64;
                assert_eq!(scaled(x, SPAN_90_DAYS_MICROS, n), exact, "x = {x}, n = {n}");
            }
        }
    }

    #[test]
    fn first_rows() {
        let w = Workload::new(1_000_000);
        assert_eq!(w.n_customers(), 50_000);
        let o = w.order(0);
        // h = 12345: r = 2338, product 1 + 2338^2 / 10007 = 547, quantity 1 + 48 % 5 = 4,
        // amount 1 + 771 / 100, is_new_customer 3 % 10 = 3 -> false.
        assert_eq!(
            o,
            Order {
                order_id: 0,
                customer_id: 7,
                product_id: 547,
                quantity: 4,
                amount: 8.71,
                country: 7,
                is_new_customer: false,
                timestamp: BASE_MICROS,
            }
        );
        assert_eq!(Workload::new(10_000).n_customers(), 1000);
        assert_eq!(Workload::new(30_000).n_customers(), 1500);
        assert_eq!(w.customer(0).registration_date, BASE_MICROS - SPAN_365_DAYS_MICROS);
        assert_eq!(Workload::product(10_007).category, 10_007 % 12);
    }
}
