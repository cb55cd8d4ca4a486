//! Binding window function calls: `f(args) OVER (PARTITION BY ... ORDER BY ... frame)`.
//!
//! A call is bound against the same context as the rest of its SELECT list (the aggregate's
//! output in an aggregate query, so `sum(sum(x)) OVER ()` works), registered in
//! [`Binder::windows`], and replaced by a placeholder column `WINDOW_BASE + k`. Once the
//! SELECT list and ORDER BY are bound, `select` puts a Window node under the projection and
//! renumbers the placeholders to the Window node's output columns.

use super::coerce::{self, cast_to};
use super::expr::{Cx, PROBE};
use super::{normalize, pos_of, Binder};
use crate::error::{Result, SqlError};
use exec::{AggFunc, Expr, FrameBound, FrameUnits, WindowExpr, WindowFrame, WindowFunc};
use sqlparser::ast::{self, FunctionArg, FunctionArgExpr, FunctionArguments};
use storage::{DataType, Value};

/// Placeholder column numbers of window results start here (see the module comment).
pub const WINDOW_BASE: usize = 1 << 30;

fn bind_error(message: String, pos: Option<crate::error::Pos>) -> SqlError {
    SqlError::Bind { message, pos }
}

impl Binder<'_> {
    /// Resolves `OVER w` / `OVER (w ORDER BY ...)` against the WINDOW clause.
    fn window_spec(&self, over: &ast::WindowType) -> Result<ast::WindowSpec> {
        let named = |id: &ast::Ident| -> Result<ast::WindowSpec> {
            let name = normalize(id);
            let found = self.named_windows.borrow().iter().find(|(n, _)| *n == name).map(|(_, s)| s.clone());
            found.ok_or_else(|| bind_error(format!("window \"{name}\" does not exist"), super::ident_pos(id)))
        };
        match over {
            ast::WindowType::NamedWindow(id) => named(id),
            ast::WindowType::WindowSpec(spec) => match &spec.window_name {
                None => Ok(spec.clone()),
                Some(base_name) => {
                    // A window that copies a named one: PARTITION BY comes from the base, and
                    // ORDER BY too unless this one has its own.
                    let base = named(base_name)?;
                    if !spec.partition_by.is_empty() {
                        return crate::bind_err!("cannot override PARTITION BY clause of window \"{base_name}\"");
                    }
                    if !spec.order_by.is_empty() && !base.order_by.is_empty() {
                        return crate::bind_err!("cannot override ORDER BY clause of window \"{base_name}\"");
                    }
                    Ok(ast::WindowSpec {
                        window_name: None,
                        partition_by: base.partition_by.clone(),
                        order_by: if spec.order_by.is_empty() { base.order_by.clone() } else { spec.order_by.clone() },
                        window_frame: spec.window_frame.clone().or(base.window_frame.clone()),
                    })
                }
            },
        }
    }

    /// Binds a window function call; `name` is the lower-cased function name.
    pub(super) fn window_call(
        &self,
        name: &str,
        f: &ast::Function,
        over: &ast::WindowType,
        cx: &mut Cx,
    ) -> Result<Expr> {
        let pos = pos_of(&f.name);
        let spec = self.window_spec(over)?;
        let (args, distinct) = match &f.args {
            FunctionArguments::None => (vec![], false),
            FunctionArguments::List(list) => {
                if !list.clauses.is_empty() {
                    return Err(SqlError::NotSupported { message: format!("clauses in {name}()"), pos });
                }
                let mut args = Vec::new();
                let mut star = false;
                for a in &list.args {
                    match a {
                        FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => args.push(Some(e)),
                        FunctionArg::Unnamed(FunctionArgExpr::Wildcard) => star = true,
                        other => {
                            return Err(SqlError::NotSupported {
                                message: format!("argument {other} of {name}()"),
                                pos,
                            })
                        }
                    }
                }
                if star {
                    args.push(None);
                }
                (args, matches!(list.duplicate_treatment, Some(ast::DuplicateTreatment::Distinct)))
            }
            FunctionArguments::Subquery(_) => return crate::unsupported!("subquery as function argument"),
        };
        if cx.clause == PROBE {
            // Only aggregates inside the call matter to the probe.
            for e in args
                .iter()
                .flatten()
                .copied()
                .chain(spec.partition_by.iter())
                .chain(spec.order_by.iter().map(|o| &o.expr))
            {
                let _ = self.expr(e, cx);
            }
            if let Some(filter) = &f.filter {
                let _ = self.expr(filter, cx);
            }
            return Ok(Expr::literal(Value::Null));
        }
        if !matches!(cx.clause, "SELECT" | "ORDER BY" | "QUALIFY") {
            let message = if cx.clause == "window function argument" {
                "window function calls cannot be nested".to_string()
            } else {
                format!("window functions are not allowed in {}", cx.clause)
            };
            return Err(bind_error(message, pos));
        }
        if f.null_treatment.is_some() {
            return Err(SqlError::NotSupported { message: "IGNORE NULLS / RESPECT NULLS".into(), pos });
        }
        if !f.within_group.is_empty() {
            return Err(bind_error(format!("WITHIN GROUP is not allowed in a window call of {name}()"), pos));
        }
        let outer_clause = cx.clause;
        cx.clause = "window function argument";
        let bound = self.window_parts(name, f, &spec, &args, distinct, cx);
        cx.clause = outer_clause;
        let w = bound?;
        let data_type = w.data_type;
        let mut windows = self.windows.borrow_mut();
        let k = match windows.iter().position(|x| *x == w) {
            Some(k) => k,
            None => {
                windows.push(w);
                windows.len() - 1
            }
        };
        Ok(Expr::Column { idx: WINDOW_BASE + k, name: name.to_string(), data_type })
    }

    fn window_parts(
        &self,
        name: &str,
        f: &ast::Function,
        spec: &ast::WindowSpec,
        args: &[Option<&ast::Expr>],
        distinct: bool,
        cx: &mut Cx,
    ) -> Result<WindowExpr> {
        let pos = pos_of(&f.name);
        let mut bound = Vec::with_capacity(args.len());
        for a in args {
            bound.push(match a {
                Some(e) => Some(self.expr(e, cx)?),
                None => None,
            });
        }
        let arity = |lo: usize, hi: usize| -> Result<()> {
            if bound.len() < lo || bound.len() > hi || bound.iter().any(Option::is_none) {
                let wanted = if lo == hi { format!("{lo}") } else { format!("{lo} to {hi}") };
                return Err(bind_error(format!("{name}() takes {wanted} argument(s)"), pos));
            }
            Ok(())
        };
        let mut extra = None;
        let (func, args, data_type) = match (WindowFunc::lookup(name), AggFunc::lookup(name)) {
            (Some(func), _) => {
                if distinct {
                    return Err(bind_error(format!("DISTINCT is not allowed in {name}()"), pos));
                }
                if f.filter.is_some() {
                    return Err(bind_error(format!("FILTER is not allowed in {name}(): it is not an aggregate"), pos));
                }
                let args: Vec<Expr> = bound.iter().flatten().cloned().collect();
                match func {
                    WindowFunc::RowNumber | WindowFunc::Rank | WindowFunc::DenseRank => {
                        arity(0, 0)?;
                        (func, args, DataType::BigInt)
                    }
                    WindowFunc::PercentRank | WindowFunc::CumeDist => {
                        arity(0, 0)?;
                        (func, args, DataType::Double)
                    }
                    WindowFunc::Ntile => {
                        arity(1, 1)?;
                        (func, vec![integer_arg(args, 0, name)?], DataType::BigInt)
                    }
                    WindowFunc::Lag | WindowFunc::Lead => {
                        arity(1, 3)?;
                        let mut it = args.into_iter();
                        let value = it.next().ok_or_else(|| bind_error(format!("{name}() needs a value"), pos))?;
                        let offset = match it.next() {
                            Some(o) => integer_arg(vec![o], 0, name)?,
                            None => Expr::literal(Value::BigInt(1)),
                        };
                        match it.next() {
                            None => {
                                let t = value.data_type();
                                (func, vec![value, offset], t)
                            }
                            Some(default) => {
                                let t = coerce::common_type(&[&value, &default], name).map_err(|e| match e {
                                    SqlError::Bind { message, pos: None } => SqlError::Bind { message, pos },
                                    e => e,
                                })?;
                                let t = if t == DataType::Null { DataType::Text } else { t };
                                (func, vec![cast_to(value, t)?, offset, cast_to(default, t)?], t)
                            }
                        }
                    }
                    WindowFunc::FirstValue | WindowFunc::LastValue => {
                        arity(1, 1)?;
                        let t = args[0].data_type();
                        (func, args, t)
                    }
                    WindowFunc::NthValue => {
                        arity(2, 2)?;
                        let t = args[0].data_type();
                        let n = integer_arg(args.clone(), 1, name)?;
                        (func, vec![args[0].clone(), n], t)
                    }
                    WindowFunc::Aggregate(_) => unreachable_aggregate(name)?,
                }
            }
            (None, Some(agg)) => {
                let (agg, arg) = match (agg, bound.as_slice()) {
                    (AggFunc::Count, [] | [None]) if !distinct => (AggFunc::CountStar, None),
                    (AggFunc::PercentileCont | AggFunc::PercentileDisc | AggFunc::Mode, _) => {
                        return Err(SqlError::NotSupported { message: format!("{name}() as a window function"), pos })
                    }
                    (AggFunc::StringAgg, [Some(a), Some(_)]) => {
                        let sep = match args.get(1).copied().flatten() {
                            Some(e) => self.constant(e, "the string_agg separator")?,
                            None => Value::Null,
                        };
                        extra = Some(match sep {
                            Value::Null => Value::Text(String::new()),
                            v => v,
                        });
                        let a = if a.data_type() == DataType::Text {
                            a.clone()
                        } else {
                            cast_to(a.clone(), DataType::Text)?
                        };
                        (agg, Some(a))
                    }
                    (AggFunc::StringAgg, _) => {
                        return Err(bind_error("string_agg() takes an expression and a separator".into(), pos))
                    }
                    (_, [Some(a)]) => (agg, Some(a.clone())),
                    _ => return Err(bind_error(format!("{name}() takes exactly one argument"), pos)),
                };
                let input_type = arg.as_ref().map_or(DataType::BigInt, Expr::data_type);
                let data_type = agg.return_type(input_type).map_err(|m| bind_error(m, pos))?;
                (WindowFunc::Aggregate(agg), arg.into_iter().collect(), data_type)
            }
            (None, None) => {
                let mut known: Vec<&str> = vec![
                    "row_number",
                    "rank",
                    "dense_rank",
                    "percent_rank",
                    "cume_dist",
                    "ntile",
                    "lag",
                    "lead",
                    "first_value",
                    "last_value",
                    "nth_value",
                ];
                known.extend(["count", "sum", "avg", "min", "max", "stddev", "variance", "string_agg"]);
                return Err(super::unknown_name("window function", name, known, pos));
            }
        };
        let filter = match &f.filter {
            Some(cond) => Some(coerce::boolean(self.expr(cond, cx)?, "FILTER")?),
            None => None,
        };
        let partition_by = spec.partition_by.iter().map(|e| self.expr(e, cx)).collect::<Result<Vec<_>>>()?;
        let mut order_by = Vec::with_capacity(spec.order_by.len());
        for ob in &spec.order_by {
            let e = self.expr(&ob.expr, cx)?;
            order_by.push(super::query::sort_key(e, ob)?);
        }
        let frame = match &spec.window_frame {
            None => WindowFrame::default_frame(),
            Some(fr) => self.frame(fr, &order_by)?,
        };
        Ok(WindowExpr { func, args, distinct, filter, extra, partition_by, order_by, frame, data_type })
    }

    fn frame(&self, fr: &ast::WindowFrame, order_by: &[exec::SortKey]) -> Result<WindowFrame> {
        let units = match fr.units {
            ast::WindowFrameUnits::Rows => FrameUnits::Rows,
            ast::WindowFrameUnits::Range => FrameUnits::Range,
            ast::WindowFrameUnits::Groups => return crate::unsupported!("GROUPS frames"),
        };
        let bound = |b: &ast::WindowFrameBound| -> Result<FrameBound> {
            let offset = |e: &ast::Expr| -> Result<Value> {
                let v = self.constant(e, "a frame offset")?;
                let ok = match (&v, units) {
                    (Value::Null, _) => false,
                    (v, FrameUnits::Rows) => v.as_i64().is_some_and(|k| k >= 0),
                    (Value::Interval { .. }, FrameUnits::Range) => true,
                    (v, FrameUnits::Range) => v.as_f64().is_some_and(|x| x >= 0.0),
                };
                if !ok {
                    return crate::bind_err!("frame offset must be a non-negative constant, not {v}");
                }
                if units == FrameUnits::Range {
                    let key_type = match order_by {
                        [k] => k.expr.data_type(),
                        _ => {
                            return crate::bind_err!(
                                "RANGE with offset PRECEDING/FOLLOWING requires exactly one ORDER BY column"
                            )
                        }
                    };
                    let fits = match &v {
                        Value::Interval { .. } => matches!(key_type, DataType::Date | DataType::Timestamp),
                        _ => key_type.is_numeric(),
                    };
                    if !fits {
                        return crate::bind_err!("RANGE offset {v} does not fit an ORDER BY column of type {key_type}");
                    }
                }
                Ok(v)
            };
            Ok(match b {
                ast::WindowFrameBound::CurrentRow => FrameBound::CurrentRow,
                ast::WindowFrameBound::Preceding(None) => FrameBound::UnboundedPreceding,
                ast::WindowFrameBound::Preceding(Some(e)) => FrameBound::Preceding(offset(e)?),
                ast::WindowFrameBound::Following(None) => FrameBound::UnboundedFollowing,
                ast::WindowFrameBound::Following(Some(e)) => FrameBound::Following(offset(e)?),
            })
        };
        let start = bound(&fr.start_bound)?;
        let end = match &fr.end_bound {
            Some(b) => bound(b)?,
            None => FrameBound::CurrentRow,
        };
        if start == FrameBound::UnboundedFollowing {
            return crate::bind_err!("frame start cannot be UNBOUNDED FOLLOWING");
        }
        if end == FrameBound::UnboundedPreceding {
            return crate::bind_err!("frame end cannot be UNBOUNDED PRECEDING");
        }
        if matches!(start, FrameBound::CurrentRow) && matches!(end, FrameBound::Preceding(_)) {
            return crate::bind_err!("frame starting from current row cannot have preceding rows");
        }
        if matches!(start, FrameBound::Following(_)) && matches!(end, FrameBound::Preceding(_) | FrameBound::CurrentRow)
        {
            return crate::bind_err!("frame starting from following row cannot have preceding rows");
        }
        Ok(WindowFrame { units, start, end })
    }
}

/// Argument `k` of `args`, which must be an integer, as BIGINT.
fn integer_arg(args: Vec<Expr>, k: usize, name: &str) -> Result<Expr> {
    let Some(a) = args.into_iter().nth(k) else {
        return crate::bind_err!("{name}() is missing an argument");
    };
    let t = a.data_type();
    if !(t.is_integer() || t == DataType::Null || coerce::is_untyped_literal(&a)) {
        return crate::bind_err!("argument {} of {name}() must be an integer, not {t}", k + 1);
    }
    cast_to(a, DataType::BigInt)
}

fn unreachable_aggregate(name: &str) -> Result<(WindowFunc, Vec<Expr>, DataType)> {
    crate::bind_err!("{name}() is not a window function")
}
