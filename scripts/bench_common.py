"""What every Python side of `cargo xtask bench` shares (scripts/bench_duckdb.py and
scripts/bench_peers.py): the command line, the query selection, the warm-run loop, and the
files it writes for the xtask to read:

- OUT/<key>.tsv: the timings, in the format of crates/bench/src/timings.rs (facts, then one
  `query` line per query: its timed runs in ms, or `-` and the error);
- OUT/<key>/<query>.result: the answer of the first warm-up run, in the fixture format of
  crates/bench/src/fixture.rs, values printed and rows ordered the way scripts/make_fixtures.py
  does (its helpers are reused), so the xtask compares them with the fixtures' rules.

An engine plugs in two functions: `answer(sql)` runs a query once and returns
`(columns, type_classes, rows)` (rows as Python values that make_fixtures.format_value prints),
and `execute(sql)` runs it once more and fetches the whole result (the timed runs).
"""

import argparse
import pathlib
import re
import resource
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

import make_fixtures as mf  # noqa: E402


def one_line(text):
    return " ".join(str(text).split())


def arg_parser(doc):
    """The options every engine's script takes (the xtask passes the same ones to each)."""
    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--csv-dir", type=pathlib.Path, required=True)
    ap.add_argument("--out", type=pathlib.Path, required=True)
    ap.add_argument("--n", type=int, required=True, help="order lines in the CSV files (checked)")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--queries", default="", help="comma-separated query names (default: all of q01..q15)")
    ap.add_argument("--threads", type=int, help="threads (default: the engine's, all cores)")
    return ap


def check_args(args):
    if args.runs < 1 or args.warmup < 1:
        mf.fail("--runs and --warmup must be at least 1")


def select_queries(spec):
    """[(name, path)] of the workload queries named in the comma-separated `spec` (all if empty)."""
    wanted = [q for q in spec.split(",") if q]
    queries = [(p.stem, p) for p in sorted((mf.WORKLOAD / "queries").glob("*.sql"))]
    if wanted:
        unknown = set(wanted) - {name for name, _ in queries}
        if unknown:
            mf.fail(f"no such queries: {', '.join(sorted(unknown))}")
        queries = [(name, path) for name, path in queries if name in wanted]
    return queries


def read_schema():
    """The workload's tables as {table: [(column, SQL type)]}, from ../shared/workload/schema.sql
    (types as written there, upper-cased: BIGINT, INTEGER, TEXT, DOUBLE, BOOLEAN, TIMESTAMP)."""
    text = re.sub(r"--[^\n]*", "", (mf.WORKLOAD / "schema.sql").read_text())
    tables = {}
    for m in re.finditer(r"CREATE\s+TABLE\s+(\w+)\s*\((.*?)\)\s*;", text, flags=re.I | re.S):
        columns = []
        for item in m.group(2).split(","):
            words = item.split()
            if len(words) < 2 or words[0].upper() in ("PRIMARY", "UNIQUE", "CONSTRAINT", "FOREIGN", "CHECK"):
                continue
            columns.append((words[0], words[1].upper()))
        tables[m.group(1)] = columns
    missing = [t for t in mf.TABLES if t not in tables]
    if missing:
        mf.fail(f"no CREATE TABLE for {', '.join(missing)} in {mf.WORKLOAD / 'schema.sql'}")
    return tables


class Bench:
    """One engine's run: collects facts and query lines, writes OUT/<key>.tsv after each query
    (so a crash leaves what was measured) and OUT/<key>/<query>.result."""

    def __init__(self, out, key, engine, n):
        self.out, self.key, self.engine, self.n = out, key, engine, n
        self.facts = [("engine", engine)]
        self.lines = []
        self.results = out / key
        self.results.mkdir(parents=True, exist_ok=True)

    def fact(self, key, value):
        self.facts.append((key, value))

    def write_timings(self):
        rows = [f"{key}\t{one_line(value) if key != 'load' else value}" for key, value in self.facts]
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # kB on Linux
        rows.append(f"process_peak_rss\t{rss}")
        (self.out / f"{self.key}.tsv").write_text("\n".join(rows + self.lines) + "\n")

    def error(self, name, message):
        """Records `name` as failed (`message` becomes the timings' error field)."""
        self.lines.append(f"query\t{name}\t-\t-\t-\t{one_line(message)}")
        print(f"{name:<28} error: {message}", file=sys.stderr)
        self.write_timings()

    def write_answer(self, name, columns, types, rows, source=None):
        printed = [[mf.format_value(v) for v in row] for row in rows]
        order = "rowsort" if name in mf.ROWSORT else "query"
        if order == "rowsort":
            printed.sort(key=lambda r: "\t".join(r))
        via = f" ({source})" if source else ""
        text = [f"# {name}: {self.engine}'s answer at N = {self.n}{via}"]
        if order == "rowsort":
            text.append(f"# rowsort: {mf.ROWSORT[name]}")
        text += [f"n\t{self.n}", "columns\t" + "\t".join(columns), "types\t" + "\t".join(types), f"order\t{order}"]
        text += ["----"] + ["\t".join(r) for r in printed]
        (self.results / f"{name}.result").write_text("\n".join(text) + "\n")

    def run(self, name, sql, answer, execute, warmup, runs, errors, source=None, error_prefix=""):
        """Runs `sql` warm: `warmup` untimed runs (the first one's answer is written), then
        `runs` timed ones. An exception of the classes `errors` records the query as failed
        (`error_prefix` + the message) and the run goes on."""
        try:
            columns, types, rows = answer(sql)
            for _ in range(warmup - 1):
                execute(sql)
            times = []
            for _ in range(runs):
                t = time.perf_counter()
                execute(sql)
                times.append((time.perf_counter() - t) * 1e3)
        except errors as e:
            self.error(name, f"{error_prefix}{e}")
            return
        self.write_answer(name, columns, types, rows, source)
        self.lines.append(f"query\t{name}\t{','.join(f'{t:.4f}' for t in times)}")
        times.sort()
        print(f"{name:<28} median {times[len(times) // 2]:>10.2f} ms", file=sys.stderr)
        self.write_timings()
