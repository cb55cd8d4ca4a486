//! Aggregate and window function calls: every aggregate (with DISTINCT, FILTER and WITHIN
//! GROUP), ranking and value window functions, window specs with PARTITION BY, ORDER BY and
//! ROWS/RANGE frames, and named windows.

use super::expr::Cx;
use super::{Gen, Ty};

impl Gen {
    /// An aggregate call whose result fits `ty`; its arguments are row expressions.
    pub(super) fn aggregate(&mut self, ty: Ty, cx: Cx) -> String {
        let a = cx.args();
        let d = self.rng.range(0, 2) as u32;
        let distinct = if self.rng.chance(10) { "DISTINCT " } else { "" };
        let call = match ty {
            Ty::SmallInt | Ty::Int | Ty::BigInt => match self.rng.weighted(&[10, 6, 4, 8, 6, 1, 1]) {
                0 => "count(*)".to_string(),
                1 => {
                    let t = self.any_type();
                    format!("count({distinct}{})", self.expr(t, a, d))
                }
                2 => format!("COUNT(DISTINCT {})", self.expr(Ty::Text, a, d)),
                3 => format!("sum({distinct}{})", self.expr(Ty::Int, a, d)),
                4 => format!("{}({})", self.rng.pick(&["min", "max"]), self.expr(Ty::Int, a, d)),
                5 => {
                    format!("percentile_disc({}) WITHIN GROUP (ORDER BY {})", self.fraction(), self.expr(Ty::Int, a, d))
                }
                _ => format!("mode() WITHIN GROUP (ORDER BY {})", self.expr(Ty::Int, a, d)),
            },
            Ty::Real | Ty::Double => match self.rng.weighted(&[10, 5, 6, 4, 2, 3]) {
                0 => format!("avg({distinct}{})", self.expr(Ty::Double, a, d)),
                1 => format!("sum({})", self.expr(Ty::Double, a, d)),
                2 => {
                    let f = self.rng.pick(&["stddev", "stddev_samp", "stddev_pop", "variance", "var_samp", "var_pop"]);
                    format!("{f}({})", self.expr(Ty::Double, a, d))
                }
                3 => {
                    let desc = if self.rng.chance(30) { " DESC" } else { "" };
                    format!(
                        "percentile_cont({}) WITHIN GROUP (ORDER BY {}{desc})",
                        self.fraction(),
                        self.expr(Ty::Double, a, d)
                    )
                }
                4 => format!("median({})", self.expr(Ty::Double, a, d)),
                _ => format!("{}({})", self.rng.pick(&["min", "max"]), self.expr(Ty::Double, a, d)),
            },
            Ty::Text => match self.rng.weighted(&[6, 4, 1, 1]) {
                0 => {
                    let sep = self.rng.pick(&["', '", "''", "'|'", "NULL"]);
                    format!("string_agg({distinct}{}, {sep})", self.expr(Ty::Text, a, d))
                }
                1 => format!("{}({})", self.rng.pick(&["min", "max"]), self.expr(Ty::Text, a, d)),
                2 => format!("percentile_disc(0.5) WITHIN GROUP (ORDER BY {})", self.expr(Ty::Text, a, d)),
                _ => format!("mode({})", self.expr(Ty::Text, a, d)),
            },
            Ty::Bool => {
                let f = self.rng.pick(&["bool_and", "bool_or", "every"]);
                format!("{f}({})", self.expr(Ty::Bool, a, d))
            }
            Ty::Date | Ty::Timestamp => format!("{}({})", self.rng.pick(&["min", "max", "mode"]), self.expr(ty, a, d)),
            Ty::Interval => {
                let e = self.expr(Ty::Timestamp, a, d);
                return format!("(max({e}) - min({e}))");
            }
        };
        if self.rng.chance(15) {
            format!("{call} FILTER (WHERE {})", self.expr(Ty::Bool, a, d))
        } else {
            call
        }
    }

    fn fraction(&mut self) -> &'static str {
        if self.rng.chance(3) {
            return "1.5";
        }
        const FRACTIONS: &[&str] = &["0.5", "0.5", "0.25", "0.9", "0", "1", "0.999"];
        FRACTIONS[self.rng.below(FRACTIONS.len())]
    }

    /// A window function call whose result fits `ty`.
    pub(super) fn window(&mut self, ty: Ty, cx: Cx) -> String {
        let a = cx.args();
        let d = self.rng.range(0, 1) as u32;
        let value_fn = |g: &mut Gen, t: Ty| -> String {
            let e = g.expr(t, a, d);
            match g.rng.below(5) {
                0 => format!("lag({e})"),
                1 => format!("lead({e}, {})", g.rng.range(0, 3)),
                2 => format!("{}({e})", g.rng.pick(&["first_value", "last_value"])),
                3 => format!("nth_value({e}, {})", g.rng.range(1, 3)),
                _ => {
                    let default = g.literal(t);
                    format!("{}({e}, 1, {default})", g.rng.pick(&["lag", "lead"]))
                }
            }
        };
        let call = match ty {
            Ty::SmallInt | Ty::Int | Ty::BigInt => match self.rng.weighted(&[8, 5, 3, 2, 4, 4, 4]) {
                0 => "row_number()".to_string(),
                1 => self.rng.pick(&["rank()", "dense_rank()"]).to_string(),
                2 => format!("ntile({})", self.rng.range(1, 4)),
                3 => "count(*)".to_string(),
                4 => format!("sum({})", self.expr(Ty::Int, a, d)),
                5 => format!("{}({})", self.rng.pick(&["min", "max", "count"]), self.expr(Ty::Int, a, d)),
                _ => value_fn(self, Ty::Int),
            },
            Ty::Real | Ty::Double => match self.rng.weighted(&[3, 6, 3, 3]) {
                0 => self.rng.pick(&["percent_rank()", "cume_dist()"]).to_string(),
                1 => format!(
                    "{}({})",
                    self.rng.pick(&["avg", "sum", "stddev", "min", "max"]),
                    self.expr(Ty::Double, a, d)
                ),
                2 => value_fn(self, Ty::Double),
                _ => format!("avg({})", self.expr(Ty::Int, a, d)),
            },
            Ty::Text if self.rng.chance(10) => {
                // Over a frame of a few rows: a running or whole-partition string_agg makes a
                // result quadratic in the input (a hang or an out-of-memory, not a finding).
                let over = self.window_spec(cx, true);
                return format!("string_agg({}, ',') OVER {over}", self.expr(Ty::Text, a, d));
            }
            Ty::Bool if self.rng.chance(30) => format!("bool_or({})", self.expr(Ty::Bool, a, d)),
            Ty::Date | Ty::Timestamp | Ty::Text if self.rng.chance(30) => {
                format!("{}({})", self.rng.pick(&["min", "max"]), self.expr(ty, a, d))
            }
            _ => value_fn(self, ty),
        };
        let over = self.window_spec(cx, false);
        format!("{call} OVER {over}")
    }

    /// `(PARTITION BY ... ORDER BY ... frame)` or the name of a window of the current SELECT;
    /// `few_rows` asks for a frame of at most three rows.
    fn window_spec(&mut self, cx: Cx, few_rows: bool) -> String {
        let named = self.named_windows.last().map(|w| w.len()).filter(|_| !few_rows);
        if let Some(n) = named {
            if n > 0 && self.rng.chance(30) {
                let k = self.rng.below(n);
                return self.named_windows.last().map(|w| w[k].0.clone()).unwrap_or_default();
            }
        }
        let a = cx.args();
        let mut parts = Vec::new();
        if !cx.cols.is_empty() && self.rng.chance(50) {
            let n = self.rng.range(1, 2);
            let keys: Vec<String> = (0..n)
                .map(|_| {
                    let t = self.comparable_type();
                    self.expr(t, a, 1)
                })
                .collect();
            parts.push(format!("PARTITION BY {}", keys.join(", ")));
        }
        let ordered = self.rng.chance(70);
        let mut order_ty = None;
        if ordered {
            let t = *self.rng.pick(&[Ty::Int, Ty::Double, Ty::Timestamp, Ty::Text, Ty::BigInt]);
            order_ty = Some(t);
            let key = self.expr(t, a, 1);
            let dir = self.rng.pick(&["", " ASC", " DESC", " DESC NULLS LAST", " NULLS FIRST"]);
            parts.push(format!("ORDER BY {key}{dir}"));
        }
        if few_rows {
            parts.push("ROWS BETWEEN 2 PRECEDING AND CURRENT ROW".into());
        } else if self.rng.chance(35) {
            parts.push(self.frame(order_ty));
        }
        let spec = format!("({})", parts.join(" "));
        if named.is_some() && self.rng.chance(12) {
            let name = self.alias("w");
            if let Some(w) = self.named_windows.last_mut() {
                w.push((name.clone(), spec));
            }
            return name;
        }
        spec
    }

    /// A ROWS or RANGE frame; RANGE offsets only with one numeric or temporal ORDER BY key.
    /// Nearly all frames are valid (start before end); a few are not, for the error path.
    fn frame(&mut self, order_ty: Option<Ty>) -> String {
        const STARTS: &[&str] = &["UNBOUNDED PRECEDING", "2 PRECEDING", "1 PRECEDING", "CURRENT ROW", "1 FOLLOWING"];
        const ENDS: &[&str] = &["2 PRECEDING", "CURRENT ROW", "0 FOLLOWING", "3 FOLLOWING", "UNBOUNDED FOLLOWING"];
        match (self.rng.below(3), order_ty) {
            (0, Some(t)) if t.is_numeric() || t == Ty::Timestamp => {
                let offset = if t == Ty::Timestamp {
                    "INTERVAL '7 days'".to_string()
                } else {
                    self.rng.range(0, 50).to_string()
                };
                let end = if self.rng.chance(50) { "CURRENT ROW".to_string() } else { format!("{offset} FOLLOWING") };
                format!("RANGE BETWEEN {offset} PRECEDING AND {end}")
            }
            (1, Some(_)) => "RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW".to_string(),
            _ if self.rng.chance(20) => {
                format!("ROWS {}", self.rng.pick(&["UNBOUNDED PRECEDING", "CURRENT ROW", "2 PRECEDING"]))
            }
            _ => {
                let start = self.rng.below(STARTS.len());
                // An end at or after the start (ENDS[k] is not before STARTS[k]), but for 3%.
                let end =
                    if self.rng.chance(97) { self.rng.range(start as i64, 4) as usize } else { self.rng.below(5) };
                format!("ROWS BETWEEN {} AND {}", STARTS[start], ENDS[end])
            }
        }
    }
}
