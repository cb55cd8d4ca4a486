#!/usr/bin/env python3
"""Cross-check the project's .slt files against a real PostgreSQL.

The expected results in tests/slt/ must be what PostgreSQL returns, printed the way
/work/shared/slt/FORMAT.md says. This script runs each file's records on PostgreSQL (a fresh
database per file) and reports every record whose PostgreSQL outcome differs from the file:
a different result, an error where success is expected or the reverse, a different affected
count, or a header type letter that does not describe PostgreSQL's column type.

Two rewrites bridge the dialects before a statement goes to PostgreSQL: a decimal literal such
as `1.5` becomes `(1.5::float8)` (our engine types it DOUBLE, PostgreSQL NUMERIC), and the
type name `DOUBLE` becomes `DOUBLE PRECISION`. Records under `onlyif heliosdb` are skipped,
and so are records under `skipif postgresql`. PostgreSQL's NUMERIC results (AVG of integers,
SUM of BIGINT) print in plain notation without trailing zeros, which mostly but not always
matches our DOUBLE: review such differences by hand.

With --update, each query's expected rows are replaced by PostgreSQL's (sorted if the record
says rowsort); review the diff before committing.

Needs psycopg2 and a server: e.g. `apt-get install postgresql python3-psycopg2`, then
  initdb -D /tmp/pg/data --locale=C.UTF-8 && pg_ctl -D /tmp/pg/data -o '-k /tmp/pg' start
  /usr/bin/python3 tests/scripts/pg_check.py --host /tmp/pg tests/slt/*.slt
(run initdb and pg_ctl as a non-root user). The C locale matters: ORDER BY on text must be
byte order, as it is in our engine.
"""

import argparse
import datetime
import decimal
import re
import sys

import psycopg2

INT_TYPES = {20, 21, 23}
FLOAT_TYPES = {700, 701, 1700}
TEXT_TYPES = {25, 1043, 705, 18, 19, 1042}
LETTERS = {"I": INT_TYPES, "R": FLOAT_TYPES, "T": TEXT_TYPES, "B": {16}, "D": {1082}, "P": {1114}}


def translate(sql):
    """Rewrites our dialect into PostgreSQL's, outside string literals."""
    parts = re.split(r"('(?:[^']|'')*')", sql)
    for i in range(0, len(parts), 2):
        p = parts[i]
        p = re.sub(r"(?<![\w.])(\d+\.\d+)(?![\w.])", r"(\1::float8)", p)
        p = re.sub(r"\bDOUBLE\b(?!\s+PRECISION)", "DOUBLE PRECISION", p, flags=re.I)
        parts[i] = p
    return "".join(parts)


def fmt_float(x):
    if x != x:
        return "NaN"
    if x in (float("inf"), float("-inf")):
        return "Infinity" if x > 0 else "-Infinity"
    if x == 0:
        return "0"
    return fmt_decimal(decimal.Decimal(repr(x)))


def fmt_decimal(d):
    s = format(d, "f")
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def fmt(v):
    if v is None:
        return "NULL"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return fmt_float(v)
    if isinstance(v, decimal.Decimal):
        return fmt_decimal(v)
    if isinstance(v, datetime.datetime):
        s = v.strftime("%Y-%m-%d %H:%M:%S")
        if v.microsecond:
            s += ("." + "%06d" % v.microsecond).rstrip("0")
        return s
    if isinstance(v, datetime.date):
        return v.isoformat()
    if isinstance(v, str):
        return v if v != "" else "(empty)"
    return str(v)


def parse(text):
    """Yields (first_line_index, kind, header_tokens, sql, results, conditions, end_line_index)."""
    lines = text.split("\n")
    i, conds = 0, []
    while i < len(lines):
        line = lines[i]
        toks = line.split()
        if not toks or line.startswith("#"):
            i += 1
            continue
        if toks[0] in ("onlyif", "skipif"):
            conds.append((toks[0], toks[1]))
            i += 1
            continue
        if toks[0] in ("statement", "query"):
            start = i
            i += 1
            sql = []
            while i < len(lines) and lines[i].strip() != "" and lines[i] != "----":
                sql.append(lines[i])
                i += 1
            results = None
            if i < len(lines) and lines[i] == "----":
                i += 1
                results = []
                while i < len(lines) and lines[i] != "":
                    results.append(lines[i])
                    i += 1
            yield start, toks[0], toks[1:], "\n".join(sql), results, conds, i
            conds = []
            continue
        conds = []
        i += 1


def run_file(path, host, update):
    text = open(path).read()
    admin = psycopg2.connect(host=host, dbname="postgres", user="postgres")
    admin.autocommit = True
    with admin.cursor() as c:
        c.execute("DROP DATABASE IF EXISTS slt_check")
        c.execute("CREATE DATABASE slt_check")
    conn = psycopg2.connect(host=host, dbname="slt_check", user="postgres")
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute("SET extra_float_digits = 1")
    problems, replacements = 0, []
    for start, kind, header, sql, results, conds, end in parse(text):
        where = f"{path}:{start + 1}"
        if any((k, l) in (("onlyif", "heliosdb"), ("skipif", "postgresql")) for k, l in conds):
            continue
        if any(k == "onlyif" and l != "postgresql" for k, l in conds):
            continue
        expect_error = header[:1] == ["error"]
        try:
            cur.execute(translate(sql))
            err = None
        except psycopg2.Error as e:
            err = (e.pgerror or str(e)).strip().splitlines()[0]
        if expect_error:
            if err is None:
                print(f"{where}: expected an error, PostgreSQL succeeded\n  {sql}")
                problems += 1
            elif len(header) > 1 and not re.search(" ".join(header[1:]), err):
                print(f"{where}: error message {err!r} does not match {' '.join(header[1:])!r}")
                problems += 1
            continue
        if err is not None:
            print(f"{where}: PostgreSQL error: {err}\n  {sql}")
            problems += 1
            continue
        if kind == "statement":
            if header[:1] == ["count"] and int(header[1]) != cur.rowcount:
                print(f"{where}: count {header[1]} but PostgreSQL affected {cur.rowcount}")
                problems += 1
            continue
        rows = [[fmt(v) for v in r] for r in cur.fetchall()] if cur.description else []
        letters = header[0] if header else ""
        codes = [d.type_code for d in cur.description or []]
        if len(letters) != len(codes):
            print(f"{where}: header has {len(letters)} letters, PostgreSQL returned {len(codes)} columns")
            problems += 1
        else:
            for letter, code in zip(letters, codes):
                if letter in LETTERS and code not in LETTERS[letter]:
                    print(f"{where}: letter {letter} but PostgreSQL column type oid {code}")
                    problems += 1
        if "rowsort" in header[1:]:
            rows.sort()
        got = [" ".join(" ".join(r).split()) for r in rows]
        want = [" ".join(l.split()) for l in (results or [])]
        if got != want:
            problems += 1
            print(f"{where}: result differs\n  {sql}\n  expected: {want}\n  postgres: {got}")
            replacements.append((start, end, got))
    conn.close()
    with admin.cursor() as c:
        c.execute("DROP DATABASE IF EXISTS slt_check")
    admin.close()
    if update and replacements:
        lines = text.split("\n")
        for start, end, got in reversed(replacements):
            j = start + 1
            while j < end and lines[j] != "----":
                j += 1
            lines[j:end] = ["----"] + got if got else []
        open(path, "w").write("\n".join(lines))
    return problems


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="/tmp/pg", help="server host or socket directory")
    ap.add_argument("--update", action="store_true", help="rewrite expected rows with PostgreSQL's")
    ap.add_argument("files", nargs="+")
    args = ap.parse_args()
    total = 0
    for f in args.files:
        n = run_file(f, args.host, args.update)
        print(f"{f}: {n} differences from PostgreSQL")
        total += n
    sys.exit(1 if total else 0)


if __name__ == "__main__":
    main()
