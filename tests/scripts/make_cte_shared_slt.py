"""Writes tests/slt/cte_shared.slt: CTEs referenced more than once (computed once per
statement by HeliosDB Nano), with every expected result computed by DuckDB.

    /work/venv/bin/python tests/scripts/make_cte_shared_slt.py   # from the repository root

Values are printed as ../shared/slt/FORMAT.md says (doubles: shortest round-trip text)."""

import math
import sys

import duckdb

OUT = "tests/slt/cte_shared.slt"

SETUP = [
    "CREATE TABLE sales (order_id INTEGER, product INTEGER, region TEXT, amount INTEGER)",
    """INSERT INTO sales VALUES
  (1, 10, 'north', 100), (1, 20, 'north', 50), (1, 30, 'north', NULL),
  (2, 10, 'south', 200), (2, 20, 'south', 20),
  (3, 20, NULL, 70), (3, 30, NULL, 30), (3, 40, NULL, 5),
  (4, 10, 'north', 60), (4, 30, 'north', NULL),
  (5, NULL, 'east', 15), (5, 10, 'east', 25),
  (NULL, 20, 'west', 40)""",
    "CREATE TABLE products (product INTEGER, name TEXT)",
    "INSERT INTO products VALUES (10, 'ten'), (20, 'twenty'), (30, 'thirty'), (40, 'forty'), (50, 'fifty'), (NULL, 'none')",
    "CREATE TABLE regions (region TEXT, manager TEXT)",
    "INSERT INTO regions VALUES ('north', 'ann'), ('south', 'bob'), ('east', NULL), ('mars', 'zed'), (NULL, 'nil')",
]

# (comment, sql, sort mode): every query orders its rows fully, or says rowsort.
QUERIES = [
    ("The q10 shape: a grouped self-join used in FROM (joined twice) and in a scalar subquery",
     """WITH pairs AS (
    SELECT a.product AS p1, b.product AS p2, count(*) AS n
    FROM sales a JOIN sales b ON a.order_id = b.order_id AND a.product < b.product
    GROUP BY a.product, b.product
)
SELECT x.name, y.name, n, CAST(n AS DOUBLE) / (SELECT sum(n) FROM pairs)
FROM pairs JOIN products x ON x.product = p1 JOIN products y ON y.product = p2
ORDER BY n DESC, 1, 2""", None),
    ("Totals with their share of the grand total (the NULL region is a group; a NULL amount is skipped)",
     """WITH totals AS (SELECT region, sum(amount) AS s, count(amount) AS c, count(*) AS n FROM sales GROUP BY region)
SELECT region, s, c, n, CAST(s AS DOUBLE) / (SELECT sum(s) FROM totals), (SELECT max(n) FROM totals)
FROM totals ORDER BY region NULLS LAST""", None),
    ("A CTE joined with itself: NULL keys never match",
     """WITH r AS (SELECT region, product FROM sales)
SELECT a.region, count(*) FROM r a JOIN r b ON a.region = b.region AND a.product = b.product
GROUP BY a.region ORDER BY a.region""", None),
    ("A self-join of a CTE on an inequality (nested loop)",
     """WITH t AS (SELECT order_id, sum(amount) AS s FROM sales GROUP BY order_id)
SELECT a.order_id, count(b.order_id) FROM t a LEFT JOIN t b ON b.s > a.s
GROUP BY a.order_id ORDER BY a.order_id NULLS FIRST""", None),
    ("Used in a correlated scalar subquery and in an uncorrelated one",
     """WITH t AS (SELECT region, amount FROM sales WHERE amount IS NOT NULL)
SELECT r.region, r.manager, (SELECT max(amount) FROM t WHERE t.region = r.region), (SELECT count(*) FROM t)
FROM regions r ORDER BY r.region NULLS LAST""", None),
    ("Used in a correlated EXISTS, a correlated comparison and FROM",
     """WITH t AS (SELECT region, sum(amount) AS s FROM sales GROUP BY region)
SELECT r.region FROM regions r, (SELECT count(*) AS k FROM t) c
WHERE EXISTS (SELECT 1 FROM t WHERE t.region = r.region AND t.s > 50) AND c.k = 5
  AND (SELECT s FROM t WHERE t.region = r.region) < 400
ORDER BY 1""", None),
    ("Used under IN and NOT IN (a NULL in the list makes NOT IN unknown)",
     """WITH p AS (SELECT DISTINCT product FROM sales WHERE region = 'north')
SELECT name, product IN (SELECT product FROM p), product NOT IN (SELECT product FROM p), (SELECT count(*) FROM p)
FROM products ORDER BY name""", None),
    ("The NOT IN list with a NULL in it",
     """WITH p AS (SELECT product FROM sales WHERE order_id = 5)
SELECT name, product NOT IN (SELECT product FROM p), (SELECT count(*) FROM p), (SELECT count(product) FROM p)
FROM products ORDER BY name""", None),
    ("A CTE inside a correlated subquery, reading the outer row, used twice there",
     """SELECT r.region, (WITH c AS (SELECT amount FROM sales s WHERE s.region = r.region) SELECT count(*) FROM c x, c y)
FROM regions r ORDER BY 1 NULLS LAST""", None),
    ("A CTE inside a subquery, not reading the outer row, used twice",
     """SELECT r.region, (WITH c AS (SELECT region, amount FROM sales WHERE amount > 40)
                    SELECT count(*) FROM c x JOIN c y ON x.region = y.region WHERE x.region = r.region)
FROM regions r ORDER BY 1 NULLS LAST""", None),
    ("A CTE built on another; both used twice",
     """WITH a AS (SELECT order_id, product, amount FROM sales WHERE amount IS NOT NULL),
     b AS (SELECT x.order_id, count(*) AS n FROM a x JOIN a y ON x.order_id = y.order_id GROUP BY x.order_id)
SELECT b1.order_id, b1.n, b2.n, (SELECT count(*) FROM a)
FROM b b1 JOIN b b2 ON b1.order_id = b2.order_id ORDER BY 1""", None),
    ("UNION ALL, INTERSECT and EXCEPT of two references",
     """WITH c AS (SELECT region FROM sales WHERE amount > 20)
SELECT region, count(*) FROM (SELECT region FROM c UNION ALL SELECT region FROM c) u
GROUP BY region ORDER BY region NULLS FIRST""", None),
    ("INTERSECT of two references",
     """WITH c AS (SELECT product FROM sales WHERE amount > 20)
SELECT product FROM c INTERSECT SELECT product FROM c ORDER BY 1 NULLS FIRST""", None),
    ("EXCEPT ALL of a reference from another",
     """WITH c AS (SELECT product, amount FROM sales)
SELECT count(*) FROM (SELECT product FROM c EXCEPT ALL SELECT product FROM c WHERE amount > 60) e""", None),
    ("An empty CTE used twice: the scalar subquery is NULL",
     """WITH e AS (SELECT product, amount FROM sales WHERE amount > 1000)
SELECT (SELECT sum(amount) FROM e), (SELECT count(*) FROM e), count(*) FROM e a, e b""", None),
    ("ORDER BY and LIMIT inside a shared CTE (ties broken, so the rows are fixed)",
     """WITH top AS (SELECT order_id, product, amount FROM sales WHERE amount IS NOT NULL ORDER BY amount DESC, product LIMIT 4)
SELECT t1.product, t1.amount, (SELECT min(amount) FROM top) FROM top t1 JOIN top t2 ON t1.product = t2.product AND t1.order_id = t2.order_id
ORDER BY t1.amount DESC""", None),
    ("A filter above one reference does not change another's rows",
     """WITH c AS (SELECT region, amount FROM sales)
SELECT (SELECT count(*) FROM c WHERE region = 'north'), (SELECT count(*) FROM c), (SELECT count(*) FROM c WHERE amount IS NULL)""", None),
    ("Only some of the CTE's columns read by each reference",
     """WITH c AS (SELECT order_id, product, region, amount FROM sales)
SELECT (SELECT count(DISTINCT region) FROM c), (SELECT sum(amount) FROM c), (SELECT max(product) FROM c), count(*)
FROM c WHERE order_id = 1""", None),
    ("Column aliases on a shared CTE",
     """WITH c(o, p) AS (SELECT order_id, product FROM sales)
SELECT x.o, count(*) FROM c x JOIN c y ON x.o = y.o AND x.p <> y.p GROUP BY x.o ORDER BY 1""", None),
    ("A nested WITH shadows an outer CTE of the same name; each is used twice",
     """WITH c AS (SELECT 1 AS v)
SELECT (SELECT count(*) FROM c a, c b), (WITH c AS (SELECT product AS v FROM sales) SELECT count(*) FROM c a JOIN c b ON a.v = b.v)""", None),
    ("MATERIALIZED with one reference, NOT MATERIALIZED with two",
     """WITH m AS MATERIALIZED (SELECT product, amount FROM sales), n AS NOT MATERIALIZED (SELECT product FROM products)
SELECT count(*), sum(amount) FROM m WHERE product IN (SELECT product FROM n) AND product > (SELECT min(product) FROM n)""", None),
    ("A recursive CTE used twice",
     """WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 6)
SELECT a.n, count(*) FROM r a JOIN r b ON b.n <= a.n GROUP BY a.n ORDER BY 1""", None),
    ("A shared CTE read by a recursive one",
     """WITH RECURSIVE base AS (SELECT DISTINCT order_id FROM sales WHERE order_id IS NOT NULL),
  walk(k) AS (SELECT min(order_id) FROM base UNION ALL SELECT k + 1 FROM walk WHERE k < (SELECT max(order_id) FROM base))
SELECT k, k IN (SELECT order_id FROM base) FROM walk ORDER BY 1""", None),
    ("A window over a shared CTE, and the CTE again in a scalar subquery",
     """WITH t AS (SELECT region, sum(amount) AS s FROM sales WHERE region IS NOT NULL GROUP BY region)
SELECT region, s, rank() OVER (ORDER BY s DESC), s = (SELECT max(s) FROM t) FROM t ORDER BY 3, 1""", None),
]

AFTER = [
    ("statement ok", "CREATE TABLE pair_counts AS WITH c AS (SELECT order_id, product FROM sales) "
     "SELECT a.product AS p1, b.product AS p2 FROM c a JOIN c b ON a.order_id = b.order_id AND a.product < b.product"),
]

AFTER_QUERIES = [
    ("CREATE TABLE AS with a shared CTE",
     "SELECT p1, p2, count(*) FROM pair_counts GROUP BY p1, p2 ORDER BY 1, 2", None),
]


def fmt(v):
    if v is None:
        return "NULL"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        if v == 0:
            return "0"
        if math.isfinite(v) and v == int(v) and abs(v) < 1e16:
            return str(int(v))
        r = repr(v)
        if "e" in r:
            sys.exit(f"float {r} would need plain notation: change the query")
        return r
    if isinstance(v, str):
        return v if v != "" else "(empty)"
    return str(v)


def types(desc):
    out = ""
    for d in desc:
        t = str(d[1]).upper()
        out += "B" if t == "BOOLEAN" else "I" if ("INT" in t) else "R" if ("DOUBLE" in t or "FLOAT" in t or "DECIMAL" in t) else "T"
    return out


def main():
    con = duckdb.connect()
    lines = [
        "# name: tests/slt/cte_shared.slt",
        "# description: CTEs referenced more than once, which run once per statement: in FROM and",
        "#              in scalar subqueries, joined with themselves, under correlated subqueries,",
        "#              IN / NOT IN, set operations, recursion, windows, with NULLs throughout.",
        "# Written by tests/scripts/make_cte_shared_slt.py: every expected result is DuckDB's.",
        "",
    ]
    for s in SETUP:
        con.execute(s)
        lines += ["statement ok", s, ""]

    def query(comment, sql, sort):
        cur = con.execute(sql)
        rows = cur.fetchall()
        text = [" ".join(fmt(v) for v in row) for row in rows]
        if sort == "rowsort":
            text.sort()
        lines.append(f"# {comment}")
        lines.append(f"query {types(cur.description)}" + (f" {sort}" if sort else ""))
        lines.append(sql)
        lines.append("----")
        lines.extend(text)
        lines.append("")

    for comment, sql, sort in QUERIES:
        query(comment, sql, sort)
    for kind, s in AFTER:
        con.execute(s)
        lines += [kind, s, ""]
    query(*AFTER_QUERIES[0])
    ins = ("INSERT INTO pair_counts WITH c AS (SELECT DISTINCT product FROM sales WHERE product IS NOT NULL) "
           "SELECT a.product, b.product FROM c a JOIN c b ON a.product + 10 = b.product")
    con.execute(ins)
    lines += ["statement ok", ins, ""]
    query("INSERT ... WITH: the CTE used twice", "SELECT count(*), sum(p1), sum(p2) FROM pair_counts", None)
    with open(OUT, "w") as f:
        f.write("\n".join(lines).rstrip("\n") + "\n")
    print(f"wrote {OUT}")


main()
