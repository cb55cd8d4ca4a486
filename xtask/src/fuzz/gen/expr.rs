//! Scalar expressions of a wanted type: operators, functions, CASE, casts, subqueries, and,
//! where the clause allows them, aggregate and window calls (`calls.rs`).
//!
//! `expr(ty, cx, depth)` returns SQL whose type fits `ty` (see [`Ty::fits`]). Every compound
//! result is parenthesized or is a call, so it can stand as any operand without precedence
//! surprises. `depth` bounds the nesting and the statement's node budget bounds the size.

use super::literal::{DATE_PARTS, TRUNC_UNITS};
use super::{Col, Gen, Rel, Ty};

/// A GROUP BY key: its exact SQL (repeated verbatim to refer to it) and type.
#[derive(Debug, Clone)]
pub struct Key {
    pub sql: String,
    pub ty: Ty,
}

/// What an expression may refer to.
#[derive(Clone, Copy)]
pub struct Cx<'a> {
    /// The FROM clause's columns.
    pub cols: &'a [Col],
    /// The enclosing query's columns (a subquery may correlate on them).
    pub outer: &'a [Col],
    /// `Some` in the output of an aggregate query: only keys, aggregates and constants.
    pub keys: Option<&'a [Key]>,
    /// Window functions are allowed (SELECT list and ORDER BY of a plain query).
    pub windows: bool,
    /// CTEs visible to subqueries.
    pub ctes: &'a [Rel],
    /// Subqueries may correlate on `cols` (the query is small enough to run them per row).
    pub corr: bool,
}

impl<'a> Cx<'a> {
    /// The context of an aggregate's or window function's arguments: plain row expressions.
    pub(super) fn args(self) -> Cx<'a> {
        Cx { keys: None, windows: false, ..self }
    }
}

const CMP_OPS: &[&str] = &["=", "<>", "!=", "<", "<=", ">", ">="];

impl Gen {
    /// An expression whose type fits `ty`.
    pub(super) fn expr(&mut self, ty: Ty, cx: Cx, depth: u32) -> String {
        if depth == 0 || self.budget == 0 {
            return self.leaf(ty, cx);
        }
        self.budget -= 1;
        let d = depth - 1;
        match self.rng.below(100) {
            0..=14 => return self.leaf(ty, cx),
            15..=26 => return self.generic(ty, cx, d),
            27..=30 if cx.keys.is_some() => return self.aggregate(ty, cx),
            31..=35 if cx.windows && cx.keys.is_none() => return self.window(ty, cx),
            _ => {}
        }
        match ty {
            Ty::Bool => self.bool_expr(cx, d),
            Ty::SmallInt | Ty::Int | Ty::BigInt => self.int_expr(cx, d),
            Ty::Real | Ty::Double => self.float_expr(cx, d),
            Ty::Text => self.text_expr(cx, d),
            Ty::Date => self.date_expr(cx, d),
            Ty::Timestamp => self.timestamp_expr(cx, d),
            Ty::Interval => self.interval_expr(cx, d),
        }
    }

    /// A column, a key, an aggregate or a literal.
    pub(super) fn leaf(&mut self, ty: Ty, cx: Cx) -> String {
        if let Some(keys) = cx.keys {
            let fitting: Vec<&Key> = keys.iter().filter(|k| k.ty.fits(ty)).collect();
            if !fitting.is_empty() && self.rng.chance(50) {
                return self.rng.pick(&fitting).sql.clone();
            }
            if self.rng.chance(75) {
                return self.aggregate(ty, cx);
            }
            return self.literal(ty);
        }
        let outer: Vec<&Col> = cx.outer.iter().filter(|c| c.ty.fits(ty)).collect();
        if !outer.is_empty() && self.rng.chance(20) {
            let c = self.rng.pick(&outer);
            return format!("{}.{}", c.qual, c.name);
        }
        let fitting: Vec<&Col> = cx.cols.iter().filter(|c| c.ty.fits(ty)).collect();
        if !fitting.is_empty() && self.rng.chance(75) {
            let c = (*self.rng.pick(&fitting)).clone();
            return self.col_ref(&c);
        }
        if !cx.cols.is_empty() && self.rng.chance(30) {
            if let Some(converted) = self.converted_column(ty, cx) {
                return converted;
            }
        }
        self.literal(ty)
    }

    /// A column reference: qualified, or bare when the name is unique; sometimes quoted.
    pub(super) fn col_ref(&mut self, c: &Col) -> String {
        let name = if self.rng.chance(8) { format!("\"{}\"", c.name) } else { c.name.clone() };
        if c.unique && self.rng.chance(35) {
            name
        } else {
            format!("{}.{name}", c.qual)
        }
    }

    /// A column of another type turned into `ty`.
    fn converted_column(&mut self, ty: Ty, cx: Cx) -> Option<String> {
        let pick = |g: &mut Gen, pred: &dyn Fn(Ty) -> bool| -> Option<String> {
            let cols: Vec<&Col> = cx.cols.iter().filter(|c| pred(c.ty)).collect();
            if cols.is_empty() {
                return None;
            }
            let c = (*g.rng.pick(&cols)).clone();
            Some(g.col_ref(&c))
        };
        Some(match ty {
            Ty::Text => format!("CAST({} AS TEXT)", pick(self, &|t| t != Ty::Text)?),
            Ty::SmallInt | Ty::Int | Ty::BigInt => match self.rng.below(2) {
                0 => format!("length({})", pick(self, &|t| t == Ty::Text)?),
                _ => format!("CAST({} AS {})", pick(self, &Ty::is_numeric)?, ty.sql()),
            },
            Ty::Real | Ty::Double => {
                format!("EXTRACT({} FROM {})", self.rng.pick(DATE_PARTS), pick(self, &Ty::is_temporal)?)
            }
            Ty::Date => format!("CAST({} AS DATE)", pick(self, &|t| t == Ty::Timestamp)?),
            Ty::Timestamp => format!("CAST({} AS TIMESTAMP)", pick(self, &|t| t == Ty::Date)?),
            Ty::Bool => format!("({} IS NULL)", pick(self, &|_| true)?),
            Ty::Interval => format!("({} - TIMESTAMP '2025-09-01 00:00:00')", pick(self, &|t| t == Ty::Timestamp)?),
        })
    }

    /// Productions that work for any type.
    fn generic(&mut self, ty: Ty, cx: Cx, d: u32) -> String {
        let can_subquery = self.query_depth < 3 && self.budget > 10;
        match self.rng.weighted(&[
            30,
            10,
            16,
            7,
            if ty == Ty::Interval { 0 } else { 8 },
            if can_subquery { 12 } else { 0 },
            8,
            4,
        ]) {
            0 => {
                let mut s = String::from("CASE");
                for _ in 0..self.rng.range(1, 3) {
                    let (cond, then) = (self.expr(Ty::Bool, cx, d), self.expr(ty, cx, d));
                    s += &format!(" WHEN {cond} THEN {then}");
                }
                if self.rng.chance(70) {
                    s += &format!(" ELSE {}", self.expr(ty, cx, d));
                }
                s + " END"
            }
            1 => {
                let t = self.comparable_type();
                let mut s = format!("CASE {}", self.expr(t, cx, d));
                for _ in 0..self.rng.range(1, 3) {
                    let (when, then) = (self.expr(t, cx, d), self.expr(ty, cx, d));
                    s += &format!(" WHEN {when} THEN {then}");
                }
                if self.rng.chance(60) {
                    s += &format!(" ELSE {}", self.expr(ty, cx, d));
                }
                s + " END"
            }
            2 => {
                let n = self.rng.range(1, 4);
                let args: Vec<String> = (0..n).map(|_| self.expr(ty, cx, d)).collect();
                format!("{}({})", self.rng.pick(&["COALESCE", "coalesce", "ifnull"]), args.join(", "))
            }
            3 => format!("NULLIF({}, {})", self.expr(ty, cx, d), self.expr(ty, cx, d)),
            4 => {
                let n = self.rng.range(1, 3);
                let args: Vec<String> = (0..n).map(|_| self.expr(ty, cx, d)).collect();
                format!("{}({})", self.rng.pick(&["GREATEST", "LEAST"]), args.join(", "))
            }
            5 => format!("({})", self.scalar_subquery(ty, cx)),
            6 => self.cast_into(ty, cx, d),
            _ => format!("({})", self.expr(ty, cx, d)),
        }
    }

    /// An explicit cast into `ty` from a type that casts to it.
    fn cast_into(&mut self, ty: Ty, cx: Cx, d: u32) -> String {
        if ty == Ty::Interval {
            // Casts to INTERVAL are not supported.
            return self.expr(ty, cx, d);
        }
        let from = match ty {
            Ty::Text => self.any_type(),
            _ if ty.is_numeric() => {
                *self.rng.pick(&[Ty::Int, Ty::BigInt, Ty::Double, Ty::Real, Ty::SmallInt, Ty::Bool])
            }
            Ty::Bool => *self.rng.pick(&[Ty::Int, Ty::Bool]),
            Ty::Date => Ty::Timestamp,
            Ty::Timestamp => Ty::Date,
            _ => ty,
        };
        let from =
            if from == Ty::Bool && !ty.is_integer() && ty != Ty::Bool && ty != Ty::Text { Ty::Int } else { from };
        let inner = self.expr(from, cx, d);
        let target = match ty {
            Ty::Text if self.rng.chance(30) => "VARCHAR",
            Ty::Int if self.rng.chance(20) => "INT",
            Ty::Double if self.rng.chance(30) => "DOUBLE PRECISION",
            Ty::Double if self.rng.chance(20) => "FLOAT8",
            _ => ty.sql(),
        };
        if self.rng.chance(40) {
            format!("({inner})::{target}")
        } else {
            format!("CAST({inner} AS {target})")
        }
    }

    fn bool_expr(&mut self, cx: Cx, d: u32) -> String {
        let can_subquery = self.query_depth < 3 && self.budget > 10;
        let sub = if can_subquery { 5 } else { 0 };
        match self.rng.weighted(&[26, 16, 5, 8, 3, 4, 5, 7, sub, sub, 6, 1, 2]) {
            0 => {
                let t = self.comparable_type();
                let op = self.rng.pick(CMP_OPS);
                format!("({} {op} {})", self.expr(t, cx, d), self.expr(t, cx, d))
            }
            1 => {
                let op = self.rng.pick(&["AND", "OR", "and", "or"]);
                format!("({} {op} {})", self.expr(Ty::Bool, cx, d), self.expr(Ty::Bool, cx, d))
            }
            2 => format!("(NOT {})", self.expr(Ty::Bool, cx, d)),
            3 => {
                let t = self.any_type();
                let not = if self.rng.chance(40) { " NOT" } else { "" };
                format!("({} IS{not} NULL)", self.expr(t, cx, d))
            }
            4 => {
                let what = self.rng.pick(&["TRUE", "FALSE", "UNKNOWN", "NOT TRUE", "NOT FALSE", "NOT UNKNOWN"]);
                format!("({} IS {what})", self.expr(Ty::Bool, cx, d))
            }
            5 => {
                let t = self.comparable_type();
                let not = if self.rng.chance(50) { " NOT" } else { "" };
                format!("({} IS{not} DISTINCT FROM {})", self.expr(t, cx, d), self.expr(t, cx, d))
            }
            6 => {
                let t = self.comparable_type();
                let not = if self.rng.chance(25) { " NOT" } else { "" };
                // sqlparser does not know SYMMETRIC: rarely, for the error path.
                let sym = if self.rng.chance(1) { " SYMMETRIC" } else { "" };
                let (x, lo, hi) = (self.expr(t, cx, d), self.expr(t, cx, d), self.expr(t, cx, d));
                format!("({x}{not} BETWEEN{sym} {lo} AND {hi})")
            }
            7 => {
                let t = self.comparable_type();
                let not = if self.rng.chance(25) { " NOT" } else { "" };
                let needle = self.expr(t, cx, d);
                let n = self.rng.range(1, 5);
                let items: Vec<String> = (0..n).map(|_| self.expr(t, cx, d.min(1))).collect();
                format!("({needle}{not} IN ({}))", items.join(", "))
            }
            8 => {
                let t = self.comparable_type();
                let not = if self.rng.chance(25) { " NOT" } else { "" };
                let needle = self.expr(t, cx, d);
                let q = self.subquery(&[t], cx, false);
                format!("({needle}{not} IN ({q}))")
            }
            9 => {
                let not = if self.rng.chance(30) { "NOT " } else { "" };
                let q = self.exists_subquery(cx);
                format!("({not}EXISTS ({q}))")
            }
            10 => {
                let op = self.rng.pick(&["LIKE", "LIKE", "NOT LIKE", "ILIKE", "NOT ILIKE"]);
                let pattern = if self.rng.chance(75) {
                    self.rng
                        .pick(&[
                            "'%'",
                            "'a%'",
                            "'%a%'",
                            "'product-1%'",
                            "'_'",
                            "'__'",
                            "'%-_'",
                            "''",
                            "'U%'",
                            "'%s'",
                            "'/p/%'",
                            "'%\\%%'",
                        ])
                        .to_string()
                } else {
                    self.expr(Ty::Text, cx, d)
                };
                if self.rng.chance(25) {
                    // Regular expressions: the operators and regexp_matches / regexp_full_match.
                    let re =
                        self.rng.pick(&["'^p'", "'[0-9]+'", "'(a|b)c'", "'^$'", "'.*'", "'('", "'\\d{2}'"]).to_string();
                    let re = if self.rng.chance(80) { re } else { self.expr(Ty::Text, cx, d) };
                    let s = self.expr(Ty::Text, cx, d);
                    return match self.rng.range(0, 5) {
                        0 => format!("regexp_matches({s}, {re})"),
                        1 => format!("regexp_full_match({s}, {re})"),
                        2 => format!("regexp_matches({s}, {re}, {})", self.rng.pick(&["'i'", "'c'", "'x'"])),
                        _ => format!("({s} {} {re})", self.rng.pick(&["~", "~*", "!~", "!~*"])),
                    };
                }
                format!("({} {op} {pattern})", self.expr(Ty::Text, cx, d))
            }
            11 => format!("starts_with({}, {})", self.expr(Ty::Text, cx, d), self.expr(Ty::Text, cx, d)),
            _ => self.literal(Ty::Bool),
        }
    }

    /// A divisor that is rarely zero.
    fn divisor(&mut self, ty: Ty, cx: Cx, d: u32) -> String {
        let e = self.expr(ty, cx, d);
        if self.rng.chance(85) {
            format!("NULLIF({e}, 0)")
        } else {
            e
        }
    }

    fn int_expr(&mut self, cx: Cx, d: u32) -> String {
        match self.rng.weighted(&[24, 3, 4, 5, 2, 4, 2, 3, 2, 2, 1]) {
            0 => {
                let op = *self.rng.pick(&["+", "-", "*", "/", "%", "+", "-"]);
                let l = self.expr(Ty::Int, cx, d);
                let r = if matches!(op, "/" | "%") { self.divisor(Ty::Int, cx, d) } else { self.expr(Ty::Int, cx, d) };
                format!("({l} {op} {r})")
            }
            1 => format!("(- {})", self.expr(Ty::Int, cx, d)),
            2 => format!("abs({})", self.expr(Ty::Int, cx, d)),
            3 => format!("{}({})", self.rng.pick(&["length", "char_length", "LENGTH"]), self.expr(Ty::Text, cx, d)),
            4 => match self.rng.below(2) {
                0 => format!("strpos({}, {})", self.expr(Ty::Text, cx, d), self.expr(Ty::Text, cx, d)),
                _ => format!("POSITION({} IN {})", self.expr(Ty::Text, cx, d), self.expr(Ty::Text, cx, d)),
            },
            5 => {
                let part = self.rng.pick(&["year", "month", "day", "hour", "dow", "quarter"]);
                let src = if self.rng.chance(60) { Ty::Timestamp } else { Ty::Date };
                format!("CAST(EXTRACT({part} FROM {}) AS INTEGER)", self.expr(src, cx, d))
            }
            6 => format!("({} - {})", self.expr(Ty::Date, cx, d), self.expr(Ty::Date, cx, d)),
            7 => {
                let f = self.rng.pick(&["round", "floor", "ceil", "ceiling"]);
                format!("{f}({})", self.expr(Ty::Int, cx, d))
            }
            8 => format!("mod({}, {})", self.expr(Ty::Int, cx, d), self.divisor(Ty::Int, cx, d)),
            9 => format!("CAST({} AS BIGINT)", self.expr(Ty::Double, cx, d)),
            _ => format!("({} % 100)::SMALLINT", self.expr(Ty::SmallInt, cx, d)),
        }
    }

    fn float_expr(&mut self, cx: Cx, d: u32) -> String {
        match self.rng.weighted(&[22, 4, 3, 5, 4, 3, 3, 5, 4, 2, 2, 2]) {
            0 => {
                let op = *self.rng.pick(&["+", "-", "*", "/", "+", "*"]);
                let lt = *self.rng.pick(&[Ty::Double, Ty::Double, Ty::Int, Ty::Real]);
                let l = self.expr(lt, cx, d);
                let r = if op == "/" { self.divisor(Ty::Double, cx, d) } else { self.expr(Ty::Double, cx, d) };
                format!("({l} {op} {r})")
            }
            1 => format!("sqrt(abs({}))", self.expr(Ty::Double, cx, d)),
            2 => format!(
                "{}({}, {})",
                self.rng.pick(&["power", "pow"]),
                self.expr(Ty::Double, cx, d),
                self.rng.pick(&["2", "0.5", "3", "-1", "0"])
            ),
            3 => {
                let places = if self.rng.chance(50) { format!(", {}", self.rng.range(-2, 4)) } else { String::new() };
                format!("round({}{places})", self.expr(Ty::Double, cx, d))
            }
            4 => format!(
                "{}({})",
                self.rng.pick(&["floor", "ceil", "abs", "sign", "trunc"]),
                self.expr(Ty::Double, cx, d)
            ),
            5 => {
                let f = self.rng.pick(&["ln", "log", "log2", "log10"]);
                // Mostly a positive argument: a logarithm of zero or less is an error.
                if self.rng.chance(75) {
                    format!("{f}(abs({}) + 1)", self.expr(Ty::Double, cx, d))
                } else {
                    format!("{}({})", self.rng.pick(&[*f, "exp"]), self.expr(Ty::Double, cx, d))
                }
            }
            6 => format!("(- {})", self.expr(Ty::Double, cx, d)),
            7 => {
                let src = if self.rng.chance(70) { Ty::Timestamp } else { Ty::Date };
                let part = self.rng.pick(DATE_PARTS);
                match self.rng.below(2) {
                    0 => format!("EXTRACT({part} FROM {})", self.expr(src, cx, d)),
                    _ => format!("date_part('{part}', {})", self.expr(src, cx, d)),
                }
            }
            8 => format!("CAST({} AS DOUBLE)", self.expr(Ty::Int, cx, d)),
            9 => format!("CAST({} AS REAL)", self.expr(Ty::Double, cx, d)),
            10 => "pi()".to_string(),
            _ => format!("(CAST({} AS DOUBLE) / 3)", self.expr(Ty::Int, cx, d)),
        }
    }

    fn text_expr(&mut self, cx: Cx, d: u32) -> String {
        match self.rng.weighted(&[6, 4, 6, 3, 5, 9, 8, 3, 1, 2, 1, 2, 2, 2]) {
            0 => format!("{}({})", self.rng.pick(&["lower", "upper", "LOWER", "UPPER"]), self.expr(Ty::Text, cx, d)),
            1 => format!("{}({})", self.rng.pick(&["trim", "ltrim", "rtrim", "btrim"]), self.expr(Ty::Text, cx, d)),
            2 => {
                let s = self.expr(Ty::Text, cx, d);
                let from = self.int_arg(cx, d);
                if self.rng.chance(60) {
                    format!("substring({s}, {from}, {})", self.int_arg(cx, d))
                } else if self.rng.chance(50) {
                    format!("substr({s}, {from})")
                } else {
                    format!("SUBSTRING({s} FROM {from} FOR {})", self.int_arg(cx, d))
                }
            }
            3 => {
                let (a, b, c) = (self.expr(Ty::Text, cx, d), self.expr(Ty::Text, cx, d), self.expr(Ty::Text, cx, d));
                format!("replace({a}, {b}, {c})")
            }
            4 => {
                let n = self.rng.range(1, 4);
                let args: Vec<String> = (0..n)
                    .map(|_| {
                        let t = self.any_type();
                        self.expr(t, cx, d)
                    })
                    .collect();
                format!("concat({})", args.join(", "))
            }
            5 => {
                let t = if self.rng.chance(70) { Ty::Text } else { self.any_type() };
                format!("({} || {})", self.expr(Ty::Text, cx, d), self.expr(t, cx, d))
            }
            6 => {
                let t = self.any_type();
                self.cast_text(t, cx, d)
            }
            7 => format!(
                "{}({}, {})",
                self.rng.pick(&["left", "right"]),
                self.expr(Ty::Text, cx, d),
                self.int_arg(cx, d)
            ),
            8 => format!("repeat({}, {})", self.expr(Ty::Text, cx, d), self.small_int()),
            9 => {
                let f = self.rng.pick(&["lpad", "rpad"]);
                let fill = if self.rng.chance(50) { ", '*'".to_string() } else { String::new() };
                format!("{f}({}, {}{fill})", self.expr(Ty::Text, cx, d), self.rng.range(0, 12))
            }
            10 => format!("reverse({})", self.expr(Ty::Text, cx, d)),
            11 => {
                let field = if self.rng.chance(95) { self.rng.range(1, 3) } else { self.rng.range(-1, 0) };
                format!(
                    "split_part({}, {}, {field})",
                    self.expr(Ty::Text, cx, d),
                    self.rng.pick(&["'-'", "'/'", "' '", "''"])
                )
            }
            12 => {
                let side = self.rng.pick(&["LEADING", "TRAILING", "BOTH"]);
                format!(
                    "TRIM({side} {} FROM {})",
                    self.rng.pick(&["' '", "'p'", "'/'", "'x'"]),
                    self.expr(Ty::Text, cx, d)
                )
            }
            _ if self.rng.chance(50) => {
                let s = self.expr(Ty::Text, cx, d);
                match self.rng.range(0, 3) {
                    0 => format!("regexp_replace({s}, '[aeiou]', '\\1-', {})", self.rng.pick(&["'g'", "'gi'", "''"])),
                    1 => format!("regexp_extract({s}, '([a-z]+)-([0-9]+)', {})", self.rng.range(-1, 3)),
                    _ => {
                        let t = self.expr(Ty::Timestamp, cx, d);
                        let f = self.rng.pick(&[
                            "'YYYY-MM-DD'",
                            "'FMMonth DDth'",
                            "'HH12:MI AM Dy'",
                            "'IYYY-IW Q'",
                            "'\"x\" Y,YYY'",
                        ]);
                        format!("to_char({t}, {f})")
                    }
                }
            }
            _ => format!("replace({}, 'a', '')", self.expr(Ty::Text, cx, d)),
        }
    }

    /// `CAST(x AS TEXT)` or `x::TEXT` for an expression of type `t`.
    fn cast_text(&mut self, t: Ty, cx: Cx, d: u32) -> String {
        let e = self.expr(t, cx, d);
        if self.rng.chance(50) {
            format!("({e})::TEXT")
        } else {
            format!("CAST({e} AS {})", self.rng.pick(&["TEXT", "VARCHAR"]))
        }
    }

    /// An integer argument that is usually small.
    fn int_arg(&mut self, cx: Cx, d: u32) -> String {
        if self.rng.chance(70) {
            self.rng.range(-1, 8).to_string()
        } else {
            self.expr(Ty::Int, cx, d.min(1))
        }
    }

    fn date_expr(&mut self, cx: Cx, d: u32) -> String {
        match self.rng.weighted(&[10, 3, 4, 6, 2, 1]) {
            0 => format!("({} + {})", self.expr(Ty::Date, cx, d), self.int_arg(cx, d)),
            1 => format!("({} + {})", self.int_arg(cx, d), self.expr(Ty::Date, cx, d)),
            2 => format!("({} - {})", self.expr(Ty::Date, cx, d), self.int_arg(cx, d)),
            3 => match self.rng.below(2) {
                0 => format!("CAST({} AS DATE)", self.expr(Ty::Timestamp, cx, d)),
                _ => format!("({})::DATE", self.expr(Ty::Timestamp, cx, d)),
            },
            4 => {
                let text =
                    if self.rng.chance(10) { *self.rng.pick(&["'20250901'", "'2025-13-01'"]) } else { "'2025-09-30'" };
                format!("CAST({text} AS DATE)")
            }
            _ => "current_date".to_string(),
        }
    }

    fn timestamp_expr(&mut self, cx: Cx, d: u32) -> String {
        match self.rng.weighted(&[12, 2, 3, 7, 3, 2, 1]) {
            0 => {
                let op = self.rng.pick(&["+", "-"]);
                format!("({} {op} {})", self.expr(Ty::Timestamp, cx, d), self.expr(Ty::Interval, cx, d))
            }
            1 => format!("({} + {})", self.expr(Ty::Interval, cx, d), self.expr(Ty::Timestamp, cx, d)),
            2 => format!("({} + {})", self.expr(Ty::Date, cx, d), self.expr(Ty::Interval, cx, d)),
            3 => {
                let src = if self.rng.chance(80) { Ty::Timestamp } else { Ty::Date };
                format!("date_trunc('{}', {})", self.rng.pick(TRUNC_UNITS), self.expr(src, cx, d))
            }
            4 => format!("CAST({} AS TIMESTAMP)", self.expr(Ty::Date, cx, d)),
            5 => format!("to_timestamp({})", self.expr(Ty::Double, cx, d)),
            _ => self.rng.pick(&["now()", "current_timestamp"]).to_string(),
        }
    }

    fn interval_expr(&mut self, cx: Cx, d: u32) -> String {
        match self.rng.weighted(&[8, 4, 1, 2]) {
            0 => format!("({} - {})", self.expr(Ty::Timestamp, cx, d), self.expr(Ty::Timestamp, cx, d)),
            1 => self.literal(Ty::Interval),
            2 => format!("({} - {})", self.expr(Ty::Timestamp, cx, d), self.expr(Ty::Date, cx, d)),
            _ if self.rng.chance(30) => format!("age({})", self.expr(Ty::Timestamp, cx, d)),
            _ => format!("age({}, {})", self.expr(Ty::Timestamp, cx, d), self.expr(Ty::Date, cx, d)),
        }
    }
}
