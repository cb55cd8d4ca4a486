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
fixtures' ones.
"""

import argparse
import pathlib
import resource
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

import duckdb  # noqa: E402
import make_fixtures as mf  # noqa: E402


def one_line(text):
    return " ".join(str(text).split())


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--csv-dir", type=pathlib.Path, required=True)
    ap.add_argument("--out", type=pathlib.Path, required=True)
    ap.add_argument("--n", type=int, required=True, help="order lines in the CSV files (checked)")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--queries", default="", help="comma-separated query names (default: all of q01..q15)")
    ap.add_argument("--threads", type=int, help="DuckDB threads (default: DuckDB's, all cores)")
    args = ap.parse_args()
    if args.runs < 1 or args.warmup < 1:
        mf.fail("--runs and --warmup must be at least 1")

    wanted = [q for q in args.queries.split(",") if q]
    queries = [(p.stem, p) for p in sorted((mf.WORKLOAD / "queries").glob("*.sql"))]
    if wanted:
        unknown = set(wanted) - {name for name, _ in queries}
        if unknown:
            mf.fail(f"no such queries: {', '.join(sorted(unknown))}")
        queries = [(name, path) for name, path in queries if name in wanted]

    results = args.out / "duckdb"
    results.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    if args.threads:
        con.execute(f"SET threads = {int(args.threads)}")
    try:
        con.execute("SET TimeZone = 'UTC'")  # now() cast to TIMESTAMP is UTC, like our engine
    except duckdb.Error:
        pass
    threads = con.execute("SELECT current_setting('threads')").fetchall()[0][0]
    facts = [("engine", f"DuckDB {duckdb.__version__}"), ("threads", str(threads))]
    print(f"bench_duckdb: DuckDB {duckdb.__version__}, {threads} threads, N = {args.n}", file=sys.stderr)

    started = time.perf_counter()
    mf.load(con, args.csv_dir)
    load_ms = (time.perf_counter() - started) * 1e3
    n = con.execute("SELECT COUNT(*) FROM orders").fetchall()[0][0]
    if n != args.n:
        mf.fail(f"the CSV holds {n} order lines, not --n {args.n}")
    total = sum(con.execute(f"SELECT COUNT(*) FROM {t}").fetchall()[0][0] for t in mf.TABLES)
    facts.append(("load", f"{total}\t{load_ms}"))
    print(f"loaded {total} rows from CSV in {load_ms / 1e3:.2f} s", file=sys.stderr)

    lines = []

    def write_timings():
        rows = [f"{key}\t{one_line(value) if key != 'load' else value}" for key, value in facts]
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # kB on Linux
        rows.append(f"process_peak_rss\t{rss}")
        (args.out / "duckdb.tsv").write_text("\n".join(rows + lines) + "\n")

    for name, path in queries:
        sql = path.read_text()
        try:
            rel = con.sql(sql)
            columns, types = rel.columns, [mf.type_class(t) for t in rel.types]
            rows = rel.fetchall()
            for _ in range(args.warmup - 1):
                con.execute(sql).fetchall()
            times = []
            for _ in range(args.runs):
                t = time.perf_counter()
                con.execute(sql).fetchall()
                times.append((time.perf_counter() - t) * 1e3)
        except duckdb.Error as e:
            lines.append(f"query\t{name}\t-\t-\t-\t{one_line(e)}")
            print(f"{name:<28} error: {e}", file=sys.stderr)
            write_timings()
            continue
        printed = [[mf.format_value(v) for v in row] for row in rows]
        order = "rowsort" if name in mf.ROWSORT else "query"
        if order == "rowsort":
            printed.sort(key=lambda r: "\t".join(r))
        text = [f"# {name}: DuckDB {duckdb.__version__}'s answer at N = {n}"]
        if order == "rowsort":
            text.append(f"# rowsort: {mf.ROWSORT[name]}")
        text += [f"n\t{n}", "columns\t" + "\t".join(columns), "types\t" + "\t".join(types), f"order\t{order}", "----"]
        text += ["\t".join(r) for r in printed]
        (results / f"{name}.result").write_text("\n".join(text) + "\n")
        lines.append(f"query\t{name}\t{','.join(f'{t:.4f}' for t in times)}")
        times.sort()
        print(f"{name:<28} median {times[len(times) // 2]:>10.2f} ms", file=sys.stderr)
        write_timings()
    write_timings()


if __name__ == "__main__":
    main()
