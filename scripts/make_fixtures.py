#!/usr/bin/env python3
"""Make the expected results of the dashboard queries with DuckDB.

Writes crates/bench/fixtures/<query>.result for every query q01..q15 of
../shared/workload/queries and every extra seed-dialect query of crates/bench/queries
(running NAME.duckdb.sql, DuckDB's spelling, where it exists), at N order lines.

The data is the Rust generator's own output: this script runs
`cargo run -p bench --example gen_csv -- --n N --out DIR`, loads the CSV files into DuckDB
with ../shared/workload/schema.sql, and first checks that DuckDB computes, from the loaded
data, exactly the checksums the generator wrote beside the CSV files (checksums.txt).

Usage (from anywhere; needs `pip install duckdb`, e.g. in a venv):

    python3 scripts/make_fixtures.py [--n N] [--csv-dir DIR] [--reuse-csv] [--release]

N defaults to bench::FIXTURE_N (crates/bench/src/lib.rs), the size tests/workload.rs runs.

The fixture format is described in crates/bench/src/fixture.rs and crates/bench/fixtures/README.md.
"""

import argparse
import datetime
import decimal
import math
import os
import pathlib
import re
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
BENCH = ROOT / "crates" / "bench"
WORKLOAD = ROOT.parent / "shared" / "workload"
TABLES = ["customers", "products", "orders", "pageviews", "cart_events"]

# Queries whose ORDER BY does not fix the order of every row: compared after sorting rows as
# strings. Every other query orders by a unique key (or returns one row).
ROWSORT = {
    "q11_funnel": "ORDER BY sessions DESC: stages with equal counts may come in any order",
}

# Queries ordered by a floating-point key (a sum of doubles) before their unique tie-breaker:
# make_fixtures.py checks that the key has no near-ties, which engines could order differently.
FLOAT_SORT_KEYS = {
    "q03_revenue_by_country": "revenue",
    "q04_top_products_24h": "revenue",
    "q05_top_products_all": "revenue",
    "q14_filtered_groupby": "revenue",
}

# The checksums of crates/bench/src/checksum.rs, in SQL (timestamps as microseconds, money as cents).
CHECKSUM_SQL = {
    "orders": {
        "rows": "COUNT(*)",
        "sum_amount_cents": "SUM(CAST(round(amount * 100) AS BIGINT))",
        "distinct_customer_id": "COUNT(DISTINCT customer_id)",
        "sum_order_id": "SUM(order_id)",
        "sum_product_id": "SUM(product_id)",
        "sum_quantity": "SUM(quantity)",
        "count_is_new_customer": "COUNT(*) FILTER (WHERE is_new_customer)",
        "distinct_product_id": "COUNT(DISTINCT product_id)",
        "max_timestamp": "MAX(epoch_us(timestamp))",
        "sum_timestamp": "SUM(CAST(epoch_us(timestamp) AS HUGEINT))",
    },
    "customers": {
        "rows": "COUNT(*)",
        "max_registration_date": "MAX(epoch_us(registration_date))",
        "sum_registration_date": "SUM(CAST(epoch_us(registration_date) AS HUGEINT))",
    },
    "products": {"rows": "COUNT(*)", "sum_price_cents": "SUM(CAST(round(price * 100) AS BIGINT))"},
    "pageviews": {
        "rows": "COUNT(*)",
        "distinct_session_id": "COUNT(DISTINCT session_id)",
        "distinct_url": "COUNT(DISTINCT url)",
        "sum_length_url": "SUM(LENGTH(url))",
    },
    "cart_events": {
        "rows": "COUNT(*)",
        "sum_session_id": "SUM(session_id)",
        "sum_product_id": "SUM(product_id)",
        "max_timestamp": "MAX(epoch_us(timestamp))",
    },
}


def fail(msg):
    print(f"make_fixtures: {msg}", file=sys.stderr)
    sys.exit(1)


def fixture_n():
    text = (BENCH / "src" / "lib.rs").read_text()
    m = re.search(r"pub const FIXTURE_N: u64 = ([0-9_]+);", text)
    if not m:
        fail("cannot find `pub const FIXTURE_N: u64 = ...;` in crates/bench/src/lib.rs")
    return int(m.group(1).replace("_", ""))


def generate_csv(n, out_dir, release):
    cmd = ["cargo", "run", "-q", "-p", "bench", "--example", "gen_csv"]
    if release:
        cmd.append("--release")
    cmd += ["--", "--n", str(n), "--out", str(out_dir)]
    print("+", " ".join(cmd), file=sys.stderr)
    subprocess.run(cmd, cwd=ROOT, check=True)


def load(con, csv_dir):
    con.execute((WORKLOAD / "schema.sql").read_text())
    for table in TABLES:
        path = csv_dir / f"{table}.csv"
        con.execute(f"COPY {table} FROM '{path}' (FORMAT csv, HEADER true)")


def verify_checksums(con, csv_dir):
    expected = {}
    for line in (csv_dir / "checksums.txt").read_text().splitlines():
        name, value = line.split(" ")
        expected[name] = int(value)
    got = {}
    for table, metrics in CHECKSUM_SQL.items():
        names = list(metrics)
        row = con.execute(f"SELECT {', '.join(metrics[m] for m in names)} FROM {table}").fetchall()[0]
        for metric, value in zip(names, row):
            got[f"{table}.{metric}"] = int(value)
    if got != expected:
        diffs = [f"  {k}: generator {expected.get(k)}, DuckDB {got.get(k)}"
                 for k in sorted(set(got) | set(expected)) if got.get(k) != expected.get(k)]
        fail("DuckDB's checksums of the loaded CSV differ from the generator's:\n" + "\n".join(diffs))
    print(f"checksums: all {len(got)} agree between the generator and DuckDB", file=sys.stderr)


def type_class(duck_type):
    t = str(duck_type).upper()
    if t in ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT",
             "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT"):
        return "I"
    if t in ("FLOAT", "DOUBLE") or t.startswith("DECIMAL"):
        return "R"
    if t == "VARCHAR":
        return "T"
    if t == "BOOLEAN":
        return "B"
    if t == "DATE":
        return "D"
    if t == "TIMESTAMP":
        return "TS"
    if t == "INTERVAL":
        return "V"
    if t == '"NULL"' or t == "NULL":
        return "N"
    fail(f"no type class for DuckDB type {t}")


def format_float(x):
    """Rust's `format!("{}", x)`: shortest round-trip digits, plain notation, no trailing .0."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if x == 0:
        return "0"
    return format_decimal(decimal.Decimal(repr(x)))


def format_decimal(d):
    text = format(d, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def format_value(v):
    """A value as ../shared/slt/FORMAT.md prints it."""
    if v is None:
        return "NULL"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return format_float(v)
    if isinstance(v, decimal.Decimal):
        return format_decimal(v)
    if isinstance(v, str):
        if "\t" in v or "\n" in v:
            fail(f"text value {v!r} holds a TAB or line break, which the fixture format cannot hold")
        return v if v else "(empty)"
    if isinstance(v, datetime.datetime):
        text = v.strftime("%Y-%m-%d %H:%M:%S")
        if v.microsecond:
            text += "." + f"{v.microsecond:06d}".rstrip("0")
        return text
    if isinstance(v, datetime.date):
        return v.isoformat()
    fail(f"no fixture form for {type(v).__name__} value {v!r}")


def near_ties(con, name, sql, columns):
    """Rows whose order rests on a floating-point sort key that ties within 1e-9 with the next
    row's (including the first row past a LIMIT): another engine's summation order could break
    such a tie differently, so a fixture with one would be fragile. Returns the ties found."""
    key = FLOAT_SORT_KEYS.get(name)
    if key is None:
        return []
    extended = re.sub(r"LIMIT\s+(\d+)", lambda m: f"LIMIT {int(m.group(1)) + 1}", sql, flags=re.I)
    rows = con.sql(extended).fetchall()
    col_idx = columns.index(key)
    out = []
    for row_idx in range(1, len(rows)):
        a, b = rows[row_idx - 1][col_idx], rows[row_idx][col_idx]
        if abs(a - b) <= 1e-9 * max(abs(a), abs(b)):
            out.append(f"{name}: rows {row_idx - 1} and {row_idx} tie on {key} ({a!r}, {b!r})")
    return out


def queries():
    out = []
    for path in sorted((WORKLOAD / "queries").glob("*.sql")):
        out.append((path.stem, path))
    for path in sorted((BENCH / "queries").glob("*.sql")):
        if path.name.endswith(".duckdb.sql"):
            continue
        duck = path.with_name(path.stem + ".duckdb.sql")
        out.append((path.stem, duck if duck.exists() else path))
    return out


def main():
    import duckdb  # here, not at the top: the other scripts reuse the helpers without DuckDB

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=fixture_n(), help="order lines (default: bench::FIXTURE_N)")
    ap.add_argument("--csv-dir", type=pathlib.Path, help="where the CSV files go (default: a temporary dir)")
    ap.add_argument("--reuse-csv", action="store_true", help="use the CSV files already in --csv-dir")
    ap.add_argument("--release", action="store_true", help="build gen_csv in release mode")
    ap.add_argument("--out", type=pathlib.Path, default=BENCH / "fixtures")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        csv_dir = args.csv_dir or pathlib.Path(tmp)
        if not args.reuse_csv:
            generate_csv(args.n, csv_dir, args.release)
        con = duckdb.connect()
        con.execute("SET threads = 1")  # a fixed summation order: fixtures do not churn
        try:
            con.execute("SET TimeZone = 'UTC'")  # now() cast to TIMESTAMP is UTC, like our engine
        except duckdb.Error:
            pass
        load(con, csv_dir)
        verify_checksums(con, csv_dir)
        n = con.execute("SELECT COUNT(*) FROM orders").fetchall()[0][0]
        if n != args.n:
            fail(f"the CSV holds {n} order lines, not --n {args.n}")

        args.out.mkdir(parents=True, exist_ok=True)
        warnings = []
        names = set()
        for name, path in queries():
            names.add(name)
            sql = path.read_text()
            rel = con.sql(sql)
            columns, types = rel.columns, [type_class(t) for t in rel.types]
            rows = rel.fetchall()
            warnings += near_ties(con, name, sql, columns)
            printed = [[format_value(v) for v in row] for row in rows]
            order = "rowsort" if name in ROWSORT else "query"
            if order == "rowsort":
                printed.sort(key=lambda r: "\t".join(r))
            source = os.path.relpath(path, ROOT)
            lines = [
                f"# {name}: DuckDB {duckdb.__version__}'s answer at N = {n} ({source}).",
                "# Made by scripts/make_fixtures.py; do not edit by hand.",
            ]
            if order == "rowsort":
                lines.append(f"# rowsort: {ROWSORT[name]}")
            lines += [
                f"n\t{n}",
                "columns\t" + "\t".join(columns),
                "types\t" + "\t".join(types),
                f"order\t{order}",
                "----",
            ]
            lines += ["\t".join(r) for r in printed]
            (args.out / f"{name}.result").write_text("\n".join(lines) + "\n")
            print(f"{name}: {len(rows)} rows", file=sys.stderr)
        for stale in args.out.glob("*.result"):
            if stale.stem not in names:
                stale.unlink()
                print(f"removed {stale.name}: no such query any more", file=sys.stderr)
        if warnings:
            fail("float sort keys tie, so the row order is fragile; pick another --n:\n  " + "\n  ".join(warnings))
        print(f"no near-ties on the float sort keys of {', '.join(FLOAT_SORT_KEYS)}", file=sys.stderr)


if __name__ == "__main__":
    main()
