//! Queries and INSERTs: WITH, set operations, SELECT with joins, WHERE, GROUP BY, HAVING,
//! named windows, ORDER BY and LIMIT/OFFSET; subqueries for expressions; INSERT ... SELECT
//! and INSERT ... VALUES into the scratch tables.
//!
//! Joins are kept from exploding: each FROM clause tracks a rough row count and stops adding
//! relations (or picks an equi-join) when a cross product would pass a cap, and subqueries
//! correlate only on small outer queries. Statements should finish in milliseconds, so that a
//! timeout means a hang.

use super::expr::{Cx, Key};
use super::{mark_unique, Col, Gen, Rel, Ty};

/// A generated query: its SQL, output columns and a rough row count.
pub struct Query {
    pub sql: String,
    pub cols: Vec<(String, Ty)>,
    pub rows: usize,
}

/// Rows a top-level FROM clause may produce.
const MAX_ROWS_TOP: usize = 60_000;
/// Rows a nested FROM clause may produce (it may run once per outer row).
const MAX_ROWS_NESTED: usize = 4_000;
/// Rows the FROM clause of a correlated subquery may produce (it runs per outer row).
const MAX_ROWS_CORRELATED_FROM: usize = 500;
/// Outer queries larger than this get uncorrelated subqueries only.
const MAX_ROWS_CORRELATED: usize = 3_000;
/// Join columns that are (nearly) keys, so an equi-join on them stays small.
const KEY_NAMES: &[&str] = &["customer_id", "product_id", "order_id", "session_id", "id", "k"];

/// A relation placed in a FROM clause.
struct FromItem {
    sql: String,
    alias: String,
    cols: Vec<(String, Ty)>,
    rows: usize,
}

fn joinable(a: Ty, b: Ty) -> bool {
    (a.is_numeric() && b.is_numeric()) || a == b
}

impl Gen {
    fn depth(&mut self) -> u32 {
        *self.rng.pick(&[1, 1, 2, 2, 2, 3, 3, 4, 5])
    }

    /// A statement-level query.
    pub(super) fn top_query(&mut self) -> String {
        self.query(None, &[], &[], false, None).sql
    }

    /// A query with columns of the `want` types (or any), correlated on `outer`, returning at
    /// most one row when `single_row` and at most `cap` rows when given.
    pub(super) fn query(
        &mut self,
        want: Option<&[Ty]>,
        outer: &[Col],
        ctes: &[Rel],
        single_row: bool,
        cap: Option<usize>,
    ) -> Query {
        self.query_depth += 1;
        let mut ctes = ctes.to_vec();
        let mut with = String::new();
        let with_chance = if self.query_depth == 1 { 18 } else { 4 };
        if self.query_depth <= 2 && self.budget > 10 && self.rng.chance(with_chance) {
            let mut defs = Vec::new();
            for _ in 0..self.rng.range(1, 3) {
                let body = self.query(None, &[], &ctes, false, None);
                let name = self.alias("cte");
                let (cols, list) = if self.rng.chance(25) {
                    let names: Vec<String> = (0..body.cols.len()).map(|i| format!("{name}_{i}")).collect();
                    let cols = names.iter().cloned().zip(body.cols.iter().map(|c| c.1)).collect();
                    (cols, format!(" ({})", names.join(", ")))
                } else {
                    (body.cols.clone(), String::new())
                };
                defs.push(format!("{name}{list} AS ({})", body.sql));
                ctes.push(Rel { name, cols, rows: body.rows });
            }
            with = format!("WITH {} ", defs.join(", "));
        }
        let body = if self.budget > 8 && self.rng.chance(if single_row { 4 } else { 12 }) {
            self.set_operation(want, outer, &ctes, single_row, cap)
        } else {
            self.select(want, outer, &ctes, single_row, cap, true)
        };
        self.query_depth -= 1;
        Query { sql: format!("{with}{}", body.sql), ..body }
    }

    /// The SQL of a subquery for an expression: `IN (...)` or a scalar subquery.
    pub(super) fn subquery(&mut self, want: &[Ty], cx: Cx, single_row: bool) -> String {
        let correlate = cx.corr && cx.keys.is_none() && !self.in_correlated && !cx.cols.is_empty();
        let outer: &[Col] = if correlate { cx.cols } else { &[] };
        let was = self.in_correlated;
        self.in_correlated = was || correlate;
        let sql = self.query(Some(want), outer, cx.ctes, single_row, None).sql;
        self.in_correlated = was;
        sql
    }

    pub(super) fn scalar_subquery(&mut self, ty: Ty, cx: Cx) -> String {
        self.subquery(&[ty], cx, true)
    }

    pub(super) fn exists_subquery(&mut self, cx: Cx) -> String {
        let t = self.any_type();
        let n = self.rng.range(1, 2) as usize;
        self.subquery(&vec![t; n], cx, false)
    }

    fn set_operation(
        &mut self,
        want: Option<&[Ty]>,
        outer: &[Col],
        ctes: &[Rel],
        single_row: bool,
        cap: Option<usize>,
    ) -> Query {
        let branch = |g: &mut Gen, want: Option<&[Ty]>| -> Query {
            if g.rng.chance(10) {
                let q = g.select(want, outer, ctes, false, None, true);
                Query { sql: format!("({})", q.sql), ..q }
            } else {
                g.select(want, outer, ctes, false, None, false)
            }
        };
        let first = branch(self, want);
        let types: Vec<Ty> = match want {
            Some(w) => w.to_vec(),
            None => first.cols.iter().map(|c| c.1).collect(),
        };
        let mut sql = first.sql;
        let mut rows = first.rows;
        for _ in 0..self.rng.range(1, 2) {
            let op = self.rng.pick(&[
                "UNION",
                "UNION ALL",
                "UNION ALL",
                "INTERSECT",
                "EXCEPT",
                "INTERSECT ALL",
                "EXCEPT ALL",
                "UNION DISTINCT",
            ]);
            let next = branch(self, Some(&types));
            sql = format!("{sql} {op} {}", next.sql);
            rows += next.rows;
        }
        if self.rng.chance(40) || single_row {
            let n = types.len();
            let keys: Vec<String> = (0..self.rng.range(1, n.min(3) as i64))
                .map(|_| format!("{}{}", self.rng.range(1, n as i64), self.rng.pick(&["", " DESC", " NULLS FIRST"])))
                .collect();
            sql += &format!(" ORDER BY {}", keys.join(", "));
        }
        sql += &self.limit(single_row, cap, &mut rows);
        Query { sql, cols: first.cols, rows }
    }

    /// `LIMIT/OFFSET` text for the end of a query (updates the row estimate).
    fn limit(&mut self, single_row: bool, cap: Option<usize>, rows: &mut usize) -> String {
        if single_row {
            *rows = 1;
            return " LIMIT 1".into();
        }
        if let Some(cap) = cap {
            let n = self.rng.range(0, cap as i64);
            *rows = (*rows).min(n as usize);
            return format!(" LIMIT {n}");
        }
        match self.rng.below(100) {
            0..=17 => {
                let n = *self.rng.pick(&[0usize, 1, 2, 3, 5, 10, 10, 50, 100, 1_000_000]);
                *rows = (*rows).min(n);
                let offset = if self.rng.chance(30) {
                    format!(" OFFSET {}", self.rng.pick(&[0, 1, 2, 5, 100]))
                } else {
                    String::new()
                };
                format!(" LIMIT {n}{offset}")
            }
            18..=20 => format!(" OFFSET {}", self.rng.pick(&[1, 3, 1000])),
            21 => self
                .rng
                .pick(&[
                    " LIMIT ALL",
                    " LIMIT NULL",
                    " LIMIT 9223372036854775807",
                    " LIMIT 2 OFFSET 9223372036854775807",
                ])
                .to_string(),
            _ => String::new(),
        }
    }

    /// One SELECT. `tail` allows ORDER BY and LIMIT (a set operation's branches have none).
    fn select(
        &mut self,
        want: Option<&[Ty]>,
        outer: &[Col],
        ctes: &[Rel],
        single_row: bool,
        cap: Option<usize>,
        tail: bool,
    ) -> Query {
        self.named_windows.push(Vec::new());
        let max_rows = match (self.query_depth, self.in_correlated) {
            (_, true) => MAX_ROWS_CORRELATED_FROM,
            (1, false) => MAX_ROWS_TOP,
            _ => MAX_ROWS_NESTED,
        };
        let (from, cols, mut rows) =
            if self.rng.chance(6) { (String::new(), Vec::new(), 1) } else { self.build_from(ctes, max_rows) };
        let rows_cx = Cx { cols: &cols, outer, keys: None, windows: false, ctes, corr: rows <= MAX_ROWS_CORRELATED };
        let mut sql = String::from("SELECT ");
        let filter = if !cols.is_empty() && self.rng.chance(55) {
            let d = self.depth();
            rows = rows / 3 + 1;
            format!(" WHERE {}", self.expr(Ty::Bool, rows_cx, d))
        } else {
            String::new()
        };
        let one_value = single_row && want.is_some_and(|w| w.len() == 1);
        let grouped = self.rng.chance(if one_value { 50 } else { 28 });
        let mut keys: Vec<Key> = Vec::new();
        if grouped && !cols.is_empty() && self.rng.chance(70) {
            for _ in 0..self.rng.range(1, 3) {
                let key = if self.rng.chance(70) {
                    let c = self.rng.pick(&cols).clone();
                    Key { sql: self.col_ref(&c), ty: c.ty }
                } else {
                    let t = self.comparable_type();
                    Key { sql: self.expr(t, rows_cx, 2), ty: t }
                };
                // An integer literal key would be read as a select-list position.
                let literal = key.sql.trim_start_matches(['-', '(', ' ']).starts_with(|c: char| c.is_ascii_digit());
                if !literal && !keys.iter().any(|k| k.sql == key.sql) {
                    keys.push(key);
                }
            }
        }
        let windows = !grouped && self.rng.chance(25);
        let out_cx = Cx { keys: grouped.then_some(keys.as_slice()), windows, ..rows_cx };
        let distinct = self.rng.chance(9);
        if distinct {
            sql += "DISTINCT ";
        } else if self.rng.chance(4) {
            // The first row of each value of the first output column, in ORDER BY order.
            sql += "DISTINCT ON (1) ";
        }
        // The select list.
        let mut out_cols: Vec<(String, Ty)> = Vec::new();
        let mut items: Vec<String> = Vec::new();
        let top = self.query_depth == 1;
        // `*` only when its names are distinct, so that it can be a derived table.
        let star_ok = cols.len() <= 12 && !cols.is_empty() && cols.iter().all(|c| c.unique);
        if want.is_none() && !grouped && star_ok && self.rng.chance(5) {
            items.push("*".into());
            out_cols = cols.iter().map(|c| (c.name.clone(), c.ty)).collect();
        } else {
            let types: Vec<Ty> = match want {
                Some(w) => w.to_vec(),
                None => {
                    let mut types: Vec<Ty> = Vec::new();
                    if !keys.is_empty() && self.rng.chance(60) {
                        types.extend(keys.iter().map(|k| k.ty));
                    }
                    for _ in 0..self.rng.range(if types.is_empty() { 1 } else { 0 }, 4) {
                        types.push(self.any_type());
                    }
                    types
                }
            };
            for (idx, &ty) in types.iter().enumerate() {
                let e = match keys.get(idx) {
                    Some(k) if want.is_none() && k.ty == ty && self.rng.chance(80) => k.sql.clone(),
                    _ => {
                        let d = self.depth();
                        self.expr(ty, out_cx, d)
                    }
                };
                let name = format!("c{idx}");
                if top && self.rng.chance(25) {
                    items.push(e);
                } else {
                    items.push(format!("{e} AS {name}"));
                }
                out_cols.push((name, ty));
            }
        }
        sql += &items.join(", ");
        if !from.is_empty() {
            sql += &format!(" FROM {from}");
        }
        sql += &filter;
        if !keys.is_empty() {
            let parts: Vec<String> = keys
                .iter()
                .enumerate()
                .map(|(k, key)| {
                    let pos = items.iter().position(|i| i == &key.sql || i.starts_with(&format!("{} AS ", key.sql)));
                    match pos {
                        Some(p) if self.rng.chance(25) => (p + 1).to_string(),
                        Some(p) if self.rng.chance(10) && items[p].ends_with(&format!(" AS c{p}")) => format!("c{p}"),
                        _ if k == 0 && self.rng.chance(3) => format!("{}, {}", key.sql, key.sql),
                        _ => key.sql.clone(),
                    }
                })
                .collect();
            sql += &format!(" GROUP BY {}", parts.join(", "));
            rows = rows.min(100);
        } else if grouped {
            rows = 1;
        }
        if grouped && self.rng.chance(35) {
            let d = self.depth();
            sql += &format!(" HAVING {}", self.expr(Ty::Bool, Cx { windows: false, ..out_cx }, d));
        }
        let mut order = String::new();
        if tail && self.rng.chance(45) {
            let n_items = out_cols.len();
            let mut parts = Vec::new();
            for _ in 0..self.rng.range(1, 3) {
                let key = match self.rng.below(10) {
                    0..=3 => self.rng.range(1, n_items as i64).to_string(),
                    4..=5 => {
                        // An output alias, where the item has one.
                        let k = self.rng.below(n_items);
                        if items.get(k).is_some_and(|i| i.ends_with(&format!(" AS c{k}"))) {
                            format!("c{k}")
                        } else {
                            (k + 1).to_string()
                        }
                    }
                    _ if !distinct => {
                        let t = self.comparable_type();
                        let d = self.depth().min(2);
                        let e = self.expr(t, out_cx, d);
                        // A constant would be read as a position or refused: sort by the first item.
                        if e.starts_with(|c: char| c.is_ascii_digit() || c == '\'' || c == '-') {
                            "1".to_string()
                        } else {
                            e
                        }
                    }
                    _ => "1".to_string(),
                };
                let dir = self.rng.pick(&["", " ASC", " DESC", " DESC NULLS FIRST", " ASC NULLS LAST", " NULLS LAST"]);
                parts.push(format!("{key}{dir}"));
            }
            order = format!(" ORDER BY {}", parts.join(", "));
        }
        if out_cx.windows && self.rng.chance(15) {
            let d = self.depth().min(2);
            // Mostly a window comparison (QUALIFY without a window call is an error).
            let q = if self.rng.chance(85) {
                let w = self.window(Ty::BigInt, out_cx);
                format!("({w} {} {})", self.rng.pick(&["=", "<=", ">", "<>"]), self.rng.range(0, 3))
            } else {
                self.expr(Ty::Bool, out_cx, d)
            };
            sql += &format!(" QUALIFY {q}");
        }
        let named = self.named_windows.pop().unwrap_or_default();
        if !named.is_empty() {
            let defs: Vec<String> = named.iter().map(|(name, spec)| format!("{name} AS {spec}")).collect();
            sql += &format!(" WINDOW {}", defs.join(", "));
        }
        sql += &order;
        if tail {
            let single = single_row && !(grouped && keys.is_empty());
            sql += &self.limit(single, cap, &mut rows);
        }
        Query { sql, cols: out_cols, rows }
    }

    /// A FROM clause of one to three relations with joins, its columns and a row estimate.
    fn build_from(&mut self, ctes: &[Rel], max_rows: usize) -> (String, Vec<Col>, usize) {
        let n = 1 + self.rng.weighted(&[55, 33, 12]);
        let first = self.relation(ctes);
        let mut sql = first.sql;
        let mut rows = first.rows;
        let mut cols: Vec<Col> = first
            .cols
            .iter()
            .map(|(name, ty)| Col { qual: first.alias.clone(), name: name.clone(), ty: *ty, unique: false })
            .collect();
        let mut aliases = vec![first.alias];
        for join_idx in 1..n {
            let item = self.relation(ctes);
            if aliases.contains(&item.alias) {
                continue;
            }
            let right: Vec<Col> = item
                .cols
                .iter()
                .map(|(name, ty)| Col { qual: item.alias.clone(), name: name.clone(), ty: *ty, unique: false })
                .collect();
            let pairs: Vec<(Col, Col)> = cols
                .iter()
                .flat_map(|l| right.iter().filter(|r| joinable(l.ty, r.ty)).map(move |r| (l.clone(), r.clone())))
                .collect();
            let named: Vec<(Col, Col)> = pairs.iter().filter(|(l, r)| l.name == r.name).cloned().collect();
            let left_once = |name: &str| cols.iter().filter(|c| c.name == name).count() == 1;
            let using: Vec<String> =
                named.iter().filter(|(l, _)| left_once(&l.name)).map(|(l, _)| l.name.clone()).collect();
            let key_pairs: Vec<(Col, Col)> =
                named.iter().filter(|(l, _)| KEY_NAMES.contains(&l.name.as_str())).cloned().collect();
            let cross_rows = rows.saturating_mul(item.rows);
            let equi_rows = if key_pairs.is_empty() { cross_rows / 8 } else { rows.max(item.rows) * 3 };
            // Choose how to join, falling back to an equi-join when a cross product is too big.
            let mut how = self.rng.weighted(&[34, 16, 8, 8, 12, 2, 6, 5, 9]);
            if matches!(how, 4 | 5) && (using.is_empty() || equi_rows > max_rows) {
                how = 0;
            }
            if matches!(how, 6..=8) && cross_rows > max_rows {
                how = 0;
            }
            // `a, b JOIN c ON ...` joins b and c first, so ON could not see `a`: a comma only
            // before the last relation.
            if how == 7 && join_idx + 1 < n {
                how = 6;
            }
            let equi = !key_pairs.is_empty() || !pairs.is_empty();
            if how <= 3 && (!equi || equi_rows > max_rows) && cross_rows > max_rows {
                break;
            }
            let mut scope = cols.clone();
            scope.extend(right.iter().cloned());
            let on = |g: &mut Gen| -> String {
                let cx = Cx { cols: &scope, outer: &[], keys: None, windows: false, ctes, corr: false };
                // Any condition when even a cross product is small, else an equality.
                if equi && (cross_rows > max_rows || g.rng.chance(85)) {
                    let (l, r) = if !key_pairs.is_empty() && g.rng.chance(70) {
                        g.rng.pick(&key_pairs).clone()
                    } else if !named.is_empty() && g.rng.chance(60) {
                        g.rng.pick(&named).clone()
                    } else {
                        g.rng.pick(&pairs).clone()
                    };
                    let mut cond = format!("{}.{} = {}.{}", l.qual, l.name, r.qual, r.name);
                    if g.rng.chance(25) {
                        cond += &format!(" AND {}", g.expr(Ty::Bool, cx, 2));
                    }
                    cond
                } else {
                    g.expr(Ty::Bool, cx, 2)
                }
            };
            let (join, est) = match how {
                0..=3 => {
                    let kw = match how {
                        0 => *self.rng.pick(&["JOIN", "INNER JOIN"]),
                        1 => *self.rng.pick(&["LEFT JOIN", "LEFT OUTER JOIN"]),
                        2 => "RIGHT JOIN",
                        _ => *self.rng.pick(&["FULL JOIN", "FULL OUTER JOIN"]),
                    };
                    let cond = on(self);
                    (format!(" {kw} {} ON {cond}", item.sql), equi_rows.max(rows))
                }
                4 => {
                    let n_using = self.rng.range(1, using.len().min(2) as i64) as usize;
                    let names: Vec<String> = (0..n_using).map(|k| using[k].clone()).collect();
                    let kw = self.rng.pick(&["JOIN", "LEFT JOIN", "RIGHT JOIN", "FULL JOIN"]);
                    (format!(" {kw} {} USING ({})", item.sql, names.join(", ")), equi_rows)
                }
                5 => (format!(" NATURAL JOIN {}", item.sql), equi_rows),
                6 => (format!(" CROSS JOIN {}", item.sql), cross_rows),
                7 => (format!(", {}", item.sql), cross_rows),
                _ => {
                    let kw = self.rng.pick(&["JOIN", "LEFT JOIN"]);
                    let cx = Cx { cols: &scope, outer: &[], keys: None, windows: false, ctes, corr: false };
                    (format!(" {kw} {} ON {}", item.sql, self.expr(Ty::Bool, cx, 2)), cross_rows)
                }
            };
            sql += &join;
            rows = est.max(1);
            cols.extend(right);
            aliases.push(item.alias);
        }
        mark_unique(&mut cols);
        (sql, cols, rows)
    }

    /// A table, CTE, derived table or VALUES list with an alias.
    fn relation(&mut self, ctes: &[Rel]) -> FromItem {
        let derived = self.query_depth < 3 && self.budget > 12;
        let weights = [70, if ctes.is_empty() { 0 } else { 18 }, if derived { 12 } else { 0 }, 3, 2];
        match self.rng.weighted(&weights) {
            0 | 1 => {
                let rel = if weights[1] > 0 && self.rng.chance(50) {
                    self.rng.pick(ctes).clone()
                } else {
                    let tables = Gen::tables();
                    self.rng.pick(&tables).clone()
                };
                if self.rng.chance(12) {
                    // Unaliased: the relation's own name qualifies its columns.
                    return FromItem { sql: rel.name.clone(), alias: rel.name, cols: rel.cols, rows: rel.rows };
                }
                let alias = self.alias("t");
                let kw = if self.rng.chance(80) { " AS " } else { " " };
                FromItem { sql: format!("{}{kw}{alias}", rel.name), alias, cols: rel.cols, rows: rel.rows }
            }
            2 => {
                let q = self.query(None, &[], ctes, false, None);
                let alias = self.alias("d");
                if self.rng.chance(20) {
                    let names: Vec<String> = (0..q.cols.len()).map(|i| format!("{alias}_{i}")).collect();
                    let cols = names.iter().cloned().zip(q.cols.iter().map(|c| c.1)).collect();
                    let sql = format!("({}) AS {alias} ({})", q.sql, names.join(", "));
                    return FromItem { sql, alias, cols, rows: q.rows.max(1) };
                }
                FromItem { sql: format!("({}) AS {alias}", q.sql), alias, cols: q.cols, rows: q.rows.max(1) }
            }
            4 => {
                // A series: integers, or timestamps stepped by an interval.
                let alias = self.alias("g");
                let (sql, ty, rows) = if self.rng.chance(60) {
                    let (a, b) = (self.rng.range(-3, 5), self.rng.range(-3, 40));
                    let step = if self.rng.chance(30) {
                        format!(", {}", self.rng.pick(&["2", "-1", "7", "0"]))
                    } else {
                        String::new()
                    };
                    let f = self.rng.pick(&["generate_series", "range"]);
                    (format!("{f}({a}, {b}{step})"), Ty::BigInt, (b - a).unsigned_abs() as usize + 1)
                } else {
                    let step = self.rng.pick(&["'1 day'", "'6 hours'", "'1 month'", "'-1 day'", "'1 month -30 days'"]);
                    (
                        format!("generate_series(TIMESTAMP '2025-11-20 00:00:00', TIMESTAMP '2025-11-30 00:00:00', INTERVAL {step})"),
                        Ty::Timestamp,
                        41,
                    )
                };
                let col = format!("{alias}_0");
                FromItem { sql: format!("{sql} AS {alias}({col})"), alias, cols: vec![(col, ty)], rows }
            }
            _ => {
                let alias = self.alias("v");
                let types: Vec<Ty> = (0..self.rng.range(1, 3)).map(|_| self.any_type()).collect();
                let n_rows = self.rng.range(1, 4) as usize;
                let rows: Vec<String> = (0..n_rows)
                    .map(|_| {
                        let values: Vec<String> = types.iter().map(|&t| self.literal(t)).collect();
                        format!("({})", values.join(", "))
                    })
                    .collect();
                let names: Vec<String> = (0..types.len()).map(|i| format!("{alias}_{i}")).collect();
                let sql = format!("(VALUES {}) AS {alias} ({})", rows.join(", "), names.join(", "));
                FromItem { sql, alias, cols: names.into_iter().zip(types).collect(), rows: n_rows }
            }
        }
    }

    /// `INSERT INTO scratch... [(columns)] SELECT ...` (at most a few dozen rows).
    pub(super) fn insert_select(&mut self) -> String {
        let (table, columns) = self.insert_target();
        let types: Vec<Ty> = columns.iter().map(|c| c.1).collect();
        let q = self.query(Some(&types), &[], &[], false, Some(30));
        format!("INSERT INTO {table}{} {}", Self::column_list(&columns), q.sql)
    }

    /// `INSERT INTO scratch... [(columns)] VALUES (...), ...`.
    pub(super) fn insert_values(&mut self) -> String {
        let (table, columns) = self.insert_target();
        let cx = Cx { cols: &[], outer: &[], keys: None, windows: false, ctes: &[], corr: false };
        let rows: Vec<String> = (0..self.rng.range(1, 4))
            .map(|_| {
                let values: Vec<String> = columns
                    .iter()
                    .map(|c| {
                        let d = self.rng.range(0, 2) as u32;
                        self.expr(c.1, cx, d)
                    })
                    .collect();
                format!("({})", values.join(", "))
            })
            .collect();
        format!("INSERT INTO {table}{} VALUES {}", Self::column_list(&columns), rows.join(", "))
    }

    /// A scratch table and the columns to insert: all in order (written without a column
    /// list half the time), or a shuffled subset.
    fn insert_target(&mut self) -> (String, Vec<(String, Ty, bool)>) {
        let scratch: Vec<Rel> = super::super::schema::TABLES
            .iter()
            .filter(|t| t.scratch)
            .map(|t| Rel {
                name: t.name.into(),
                cols: t.columns.iter().map(|c| (c.name.to_string(), c.ty)).collect(),
                rows: 0,
            })
            .collect();
        let table = self.rng.pick(&scratch).clone();
        if self.rng.chance(40) {
            let listed = self.rng.chance(50);
            let all = table.cols.iter().map(|(n, t)| (n.clone(), *t, listed)).collect();
            return (table.name, all);
        }
        let mut cols = table.cols.clone();
        for idx in (1..cols.len()).rev() {
            let other = self.rng.below(idx + 1);
            cols.swap(idx, other);
        }
        cols.truncate(self.rng.range(1, cols.len() as i64) as usize);
        (table.name, cols.into_iter().map(|(n, t)| (n, t, true)).collect())
    }

    /// ` (a, b)` when any column asks to be listed, else nothing (all columns, in order).
    fn column_list(columns: &[(String, Ty, bool)]) -> String {
        if columns.iter().any(|c| c.2) {
            let names: Vec<&str> = columns.iter().map(|c| c.0.as_str()).collect();
            format!(" ({})", names.join(", "))
        } else {
            String::new()
        }
    }
}
