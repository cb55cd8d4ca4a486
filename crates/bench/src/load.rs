//! Creating the workload's tables in a `heliosdb_nano` connection and bulk-loading them through
//! `Connection::append`, one chunk (one atomic commit) at a time.

use crate::gen::{Table, Workload};
use heliosdb_nano::{Connection, Result};

/// The workload's tables: `../shared/workload/schema.sql`, verbatim (the engine needs no
/// changes to it; a test checks that the two stay equal).
pub const SCHEMA_SQL: &str = "\
CREATE TABLE customers (
    customer_id       BIGINT NOT NULL PRIMARY KEY,
    registration_date TIMESTAMP NOT NULL,
    country           TEXT NOT NULL,
    segment           TEXT NOT NULL
);

CREATE TABLE products (
    product_id   INTEGER NOT NULL PRIMARY KEY,
    product_name TEXT NOT NULL,
    category     TEXT NOT NULL,
    price        DOUBLE NOT NULL
);

CREATE TABLE orders (
    order_id        BIGINT NOT NULL,
    customer_id     BIGINT NOT NULL,
    product_id      INTEGER NOT NULL,
    product_name    TEXT NOT NULL,
    quantity        INTEGER NOT NULL,
    amount          DOUBLE NOT NULL,
    country         TEXT NOT NULL,
    is_new_customer BOOLEAN NOT NULL,
    timestamp       TIMESTAMP NOT NULL
);

CREATE TABLE pageviews (
    session_id  BIGINT NOT NULL,
    customer_id BIGINT NOT NULL,
    url         TEXT NOT NULL,
    timestamp   TIMESTAMP NOT NULL
);

CREATE TABLE cart_events (
    session_id BIGINT NOT NULL,
    product_id INTEGER NOT NULL,
    timestamp  TIMESTAMP NOT NULL
);
";

/// Creates the five tables of [`SCHEMA_SQL`].
pub fn create_schema(conn: &Connection) -> Result<()> {
    conn.execute_batch(SCHEMA_SQL)
}

/// Appends all rows of `table`, `batch_rows` at a time; returns the number of rows appended.
pub fn load_table(conn: &Connection, workload: &Workload, table: Table, batch_rows: usize) -> Result<u64> {
    let mut n_rows = 0;
    for chunk in workload.chunks(table, batch_rows) {
        n_rows += conn.append(table.name(), chunk)?;
    }
    Ok(n_rows)
}

/// Creates the schema and loads every table; returns the rows appended per table.
pub fn load(conn: &Connection, workload: &Workload, batch_rows: usize) -> Result<Vec<(Table, u64)>> {
    create_schema(conn)?;
    Table::ALL.iter().map(|&table| Ok((table, load_table(conn, workload, table, batch_rows)?))).collect()
}
