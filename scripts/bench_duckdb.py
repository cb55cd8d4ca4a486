#!/usr/bin/env python3
"""DuckDB's side of `cargo xtask bench` (run that instead; it calls this script).

Loads the workload CSV files that the benchmark binary wrote (the Rust generator's output, so
both engines read identical data) into DuckDB in-memory tables with
../shared/workload/schema.sql, then runs each query warm: --warmup untimed runs (the first
one's answer is written to OUT/duckdb/<query>.result in the fixture format of
crates/bench/src/fixture.rs, for the xtask to check HeliosDB's answer against), then --runs
timed runs. Timings go to OUT/duckdb.tsv in the format of crates/bench/src/timings.rs.

Usage:

    python3 scripts/bench_duckdb.py --csv-dir DIR --out DIR --n N [--runs K] [--warmup W]
                                    [--queries q01_kpi_last_day,...] [--threads T]

DuckDB uses all cores unless --threads says otherwise. Values are printed and rows ordered the
way scripts/make_fixtures.py does (its helpers are reused), so the comparison rules are the
fixtures' ones. The loop and the files are scripts/bench_common.py's, shared with the optional
peers of scripts/bench_peers.py.
"""

import pathlib
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

import bench_common as bc  # noqa: E402
import duckdb  # noqa: E402
import make_fixtures as mf  # noqa: E402


def main():
    args = bc.arg_parser(__doc__).parse_args()
    bc.check_args(args)
    queries = bc.select_queries(args.queries)

    con = duckdb.connect()
    if args.threads:
        con.execute(f"SET threads = {int(args.threads)}")
    try:
        con.execute("SET TimeZone = 'UTC'")  # now() cast to TIMESTAMP is UTC, like our engine
    except duckdb.Error:
        pass
    threads = con.execute("SELECT current_setting('threads')").fetchall()[0][0]
    bench = bc.Bench(args.out, "duckdb", f"DuckDB {duckdb.__version__}", args.n)
    bench.fact("threads", str(threads))
    print(f"bench_duckdb: DuckDB {duckdb.__version__}, {threads} threads, N = {args.n}", file=sys.stderr)

    started = time.perf_counter()
    mf.load(con, args.csv_dir)
    load_ms = (time.perf_counter() - started) * 1e3
    n = con.execute("SELECT COUNT(*) FROM orders").fetchall()[0][0]
    if n != args.n:
        mf.fail(f"the CSV holds {n} order lines, not --n {args.n}")
    total = sum(con.execute(f"SELECT COUNT(*) FROM {t}").fetchall()[0][0] for t in mf.TABLES)
    bench.fact("load", f"{total}\t{load_ms}")
    print(f"loaded {total} rows from CSV in {load_ms / 1e3:.2f} s", file=sys.stderr)

    def answer(sql):
        rel = con.sql(sql)
        return rel.columns, [mf.type_class(t) for t in rel.types], rel.fetchall()

    def execute(sql):
        con.execute(sql).fetchall()

    for name, path in queries:
        bench.run(name, path.read_text(), answer, execute, args.warmup, args.runs, duckdb.Error)
    bench.write_timings()


if __name__ == "__main__":
    main()
