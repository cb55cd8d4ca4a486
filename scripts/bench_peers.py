#!/usr/bin/env python3
"""The optional peers of `cargo xtask bench` (run that instead; it calls this script once per
peer that the chosen Python can import, after DuckDB): chDB (`pip install chdb`, ClickHouse
in process) and Polars (`pip install polars`, its SQLContext).

Loads the workload CSV files that the benchmark binary wrote into the peer's in-memory tables
(chDB: `ENGINE = Memory` tables of a chdb session filled by `INSERT ... SELECT` from `file()`;
Polars: `pl.read_csv` with the schema's types, registered in a `pl.SQLContext`), with the
column types of ../shared/workload/schema.sql, then runs each query warm the way
scripts/bench_duckdb.py runs DuckDB (the loop of scripts/bench_common.py): --warmup untimed
runs, the first one's answer written to OUT/<peer>/<query>.result, then --runs timed runs.
Timings go to OUT/<peer>.tsv. Each timed run fetches the whole result as Python values, like
DuckDB's `fetchall()`.

A query the peer's dialect cannot run unchanged may have a rewrite with the same meaning in
scripts/peer_queries/<peer>/<query>.sql, which then runs instead (its answer is still checked
against DuckDB's by the xtask). A query the peer fails on is recorded as `n/a: <why>`: a gap of
the peer, never a failure of the run.

Usage:

    python3 scripts/bench_peers.py --peer chdb|polars --csv-dir DIR --out DIR --n N
                                   [--runs K] [--warmup W] [--queries q01_kpi_last_day,...]
                                   [--threads T]

Each peer uses all cores unless --threads says otherwise.
"""

import os
import pathlib
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

import bench_common as bc  # noqa: E402
import make_fixtures as mf  # noqa: E402

REWRITES = pathlib.Path(__file__).resolve().parent / "peer_queries"


class PeerError(Exception):
    """A peer's failure on a query, its message shortened to one line."""


def first_line(error, limit=300):
    """An engine's error message, shortened to its first line (chDB appends stack traces)."""
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."


class Chdb:
    """ClickHouse in process: one session, `ENGINE = Memory` tables."""

    key, label = "chdb", "chDB"
    TYPES = {
        "BIGINT": "Int64",
        "INTEGER": "Int32",
        "TEXT": "String",
        "DOUBLE": "Float64",
        "BOOLEAN": "Bool",
        "TIMESTAMP": "DateTime64(6)",
    }
    FORMAT = "TabSeparatedWithNamesAndTypes"

    def __init__(self, threads):
        import chdb
        from chdb import session

        self.version = chdb.__version__
        self.session = session.Session()
        # SQL semantics where ClickHouse's defaults differ: timestamps without a zone are UTC
        # (like ours and DuckDB's), and an outer join's missing side is NULL, not 0 or ''.
        self.session.query("SET session_timezone = 'UTC'")
        self.session.query("SET join_use_nulls = 1")
        if threads:
            self.session.query(f"SET max_threads = {int(threads)}")
        self.threads = self.scalar("SELECT getSetting('max_threads')")

    def scalar(self, sql):
        return self.session.query(sql, "TabSeparated").bytes().decode().strip()

    def load(self, csv_dir, schema):
        for table in mf.TABLES:
            structure = ", ".join(f"{col} {self.TYPES[t]}" for col, t in schema[table])
            path = str((csv_dir / f"{table}.csv").resolve()).replace("\\", "\\\\").replace("'", "\\'")
            self.session.query(f"CREATE TABLE {table} ({structure}) ENGINE = Memory")
            quoted = structure.replace("'", "\\'")
            self.session.query(f"INSERT INTO {table} SELECT * FROM file('{path}', 'CSVWithNames', '{quoted}')")

    def count(self, table):
        return int(self.scalar(f"SELECT COUNT(*) FROM {table}"))

    def answer(self, sql):
        return parse_clickhouse_tsv(self.session.query(sql, self.FORMAT).bytes().decode())

    def close(self):
        self.session.close()


class Polars:
    """Polars DataFrames registered in a SQLContext; queries run eagerly."""

    key, label = "polars", "Polars"

    def __init__(self, threads):
        if threads:
            os.environ["POLARS_MAX_THREADS"] = str(int(threads))  # read when polars is imported
        import polars as pl

        self.pl = pl
        self.version = pl.__version__
        self.threads = str(pl.thread_pool_size())
        self.types = {
            "BIGINT": pl.Int64,
            "INTEGER": pl.Int32,
            "TEXT": pl.String,
            "DOUBLE": pl.Float64,
            "BOOLEAN": pl.Boolean,
            "TIMESTAMP": pl.Datetime("us"),
        }
        self.ctx = pl.SQLContext()
        self.frames = {}

    def load(self, csv_dir, schema):
        for table in mf.TABLES:
            types = {col: self.types[t] for col, t in schema[table]}
            frame = self.pl.read_csv(csv_dir / f"{table}.csv", schema=types)
            self.frames[table] = frame
            self.ctx.register(table, frame)

    def count(self, table):
        return self.frames[table].height

    def type_class(self, dtype):
        pl = self.pl
        if dtype.is_integer():
            return "I"
        if dtype.is_float() or dtype.is_decimal():
            return "R"
        if dtype == pl.String:
            return "T"
        if dtype == pl.Boolean:
            return "B"
        if dtype == pl.Date:
            return "D"
        if isinstance(dtype, pl.Datetime):
            return "TS"
        if isinstance(dtype, pl.Duration):
            return "V"
        if dtype == pl.Null:
            return "N"
        raise ValueError(f"no type class for Polars type {dtype}")

    def answer(self, sql):
        frame = self.ctx.execute(sql, eager=True)
        return frame.columns, [self.type_class(t) for t in frame.dtypes], frame.rows()

    def close(self):
        pass


PEERS = {peer.key: peer for peer in (Chdb, Polars)}


def clickhouse_unescape(text):
    """A TabSeparated field: backslash escapes (\\t, \\n, \\\\, \\', ...) undone."""
    if "\\" not in text:
        return text
    out, chars = [], iter(text)
    escapes = {"t": "\t", "n": "\n", "r": "\r", "0": "\0", "b": "\b", "f": "\f", "a": "\a", "v": "\v"}
    for c in chars:
        if c == "\\":
            nxt = next(chars, "")
            out.append(escapes.get(nxt, nxt))
        else:
            out.append(c)
    return "".join(out)


def clickhouse_type(text):
    """A ClickHouse type without its Nullable(...) / LowCardinality(...) wrappers."""
    t = text.strip()
    while True:
        for wrapper in ("Nullable(", "LowCardinality("):
            if t.startswith(wrapper) and t.endswith(")"):
                t = t[len(wrapper) : -1].strip()
                break
        else:
            return t


def clickhouse_class(type_name):
    t = clickhouse_type(type_name)
    if t.startswith(("Int", "UInt")):
        return "I"
    if t.startswith(("Float", "Decimal", "BFloat")):
        return "R"
    if t.startswith(("String", "FixedString")):
        return "T"
    if t == "Bool":
        return "B"
    if t in ("Date", "Date32"):
        return "D"
    if t.startswith("DateTime"):
        return "TS"
    if t.startswith("Interval"):
        return "V"
    if t == "Nothing":
        return "N"
    raise ValueError(f"no type class for ClickHouse type {type_name}")


def clickhouse_value(text, type_name):
    """One TabSeparated field as the Python value make_fixtures.format_value prints."""
    import datetime
    import decimal

    if text == "\\N":
        return None
    t = clickhouse_type(type_name)
    cls = clickhouse_class(t)
    if cls == "I":
        return int(text)
    if cls == "R":
        return decimal.Decimal(text) if t.startswith("Decimal") else float(text)
    if cls == "B":
        return text == "true"
    if cls == "D":
        return datetime.date.fromisoformat(text)
    if cls == "TS":
        return datetime.datetime.fromisoformat(text)
    return clickhouse_unescape(text)


def parse_clickhouse_tsv(text):
    """`TabSeparatedWithNamesAndTypes` output as (columns, type classes, rows)."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if len(lines) < 2:
        raise ValueError(f"chDB returned no header: {text[:200]!r}")
    columns = [clickhouse_unescape(c) for c in lines[0].split("\t")]
    types = [clickhouse_unescape(t) for t in lines[1].split("\t")]
    rows = [[clickhouse_value(v, t) for v, t in zip(line.split("\t"), types)] for line in lines[2:]]
    return columns, [clickhouse_class(t) for t in types], rows


def main():
    ap = bc.arg_parser(__doc__)
    ap.add_argument("--peer", required=True, choices=sorted(PEERS))
    args = ap.parse_args()
    bc.check_args(args)
    queries = bc.select_queries(args.queries)
    schema = bc.read_schema()

    peer = PEERS[args.peer](args.threads)
    bench = bc.Bench(args.out, peer.key, f"{peer.label} {peer.version}", args.n)
    bench.fact("threads", peer.threads)
    print(f"bench_peers: {peer.label} {peer.version}, {peer.threads} threads, N = {args.n}", file=sys.stderr)

    started = time.perf_counter()
    peer.load(args.csv_dir, schema)
    load_ms = (time.perf_counter() - started) * 1e3
    n = peer.count("orders")
    if n != args.n:
        mf.fail(f"{peer.label}: the CSV holds {n} order lines, not --n {args.n}")
    total = sum(peer.count(t) for t in mf.TABLES)
    bench.fact("load", f"{total}\t{load_ms}")
    print(f"loaded {total} rows from CSV in {load_ms / 1e3:.2f} s", file=sys.stderr)
    bench.write_timings()

    def answer(sql):
        try:
            return peer.answer(sql)
        except Exception as e:  # noqa: BLE001 -- any failure of the peer is a gap of the peer
            raise PeerError(first_line(e)) from None

    def execute(sql):
        answer(sql)  # fetched and converted like the answer, as DuckDB's fetchall() does

    for name, path in queries:
        rewrite = REWRITES / peer.key / f"{name}.sql"
        if rewrite.exists():
            sql, source = rewrite.read_text(), os.path.relpath(rewrite, mf.ROOT)
            prefix = f"n/a: its rewrite {source} failed: "
        else:
            sql, source = path.read_text(), None
            prefix = f"n/a: {peer.label} cannot run it as written: "
        bench.run(name, sql, answer, execute, args.warmup, args.runs, PeerError, source, prefix)
    bench.write_timings()
    peer.close()


if __name__ == "__main__":
    main()
