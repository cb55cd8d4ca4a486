//! Binding scalar expressions: names to column positions, literals to values, operators to
//! typed `exec::Expr`s with the implicit casts made explicit.
//!
//! Inside an aggregate query, expressions in SELECT, HAVING and ORDER BY are bound against
//! the aggregate's output: a subexpression equal to a GROUP BY key becomes a reference to that
//! key, an aggregate call becomes a reference to its result, and any other column is an error.

use super::coerce::{self, cast_to};
use super::{ident_pos, normalize, pos_of, unknown_name, Binder, Scope};
use crate::error::{Pos, Result, SqlError};
use exec::{AggFunc, AggregateExpr, ArithOp, CmpOp, Expr, ScalarFunction};
use sqlparser::ast::{self, BinaryOperator, FunctionArg, FunctionArgExpr, FunctionArguments, UnaryOperator};
use storage::{DataType, Value};

/// The GROUP BY keys and aggregate calls of an aggregate query.
#[derive(Debug, Default)]
pub struct AggState {
    pub group_by: Vec<Expr>,
    pub aggregates: Vec<AggregateExpr>,
    /// The order the aggregate's input is sorted in (`string_agg(x, ',' ORDER BY k)`).
    pub input_order: Option<Vec<exec::SortKey>>,
    /// With grouping sets: the index in `group_by` of the hidden grouping-id key.
    pub grouping_id: Option<usize>,
}

/// What an expression may refer to.
pub struct Cx<'s> {
    pub scope: &'s Scope,
    /// Present when binding against an aggregate's output.
    pub agg: Option<&'s mut AggState>,
    /// The clause being bound, for error messages ("WHERE", "GROUP BY", ...).
    pub clause: &'static str,
    /// Set by a probe when it meets an aggregate call.
    pub found_aggregate: bool,
    /// The SELECT list's expressions by output alias, which HAVING and ORDER BY expressions
    /// may name where no input column has the name (as DuckDB and SQLite allow).
    pub aliases: &'s [(&'s ast::Expr, Option<String>)],
}

impl<'s> Cx<'s> {
    pub fn plain(scope: &'s Scope, clause: &'static str) -> Cx<'s> {
        Cx { scope, agg: None, clause, found_aggregate: false, aliases: &[] }
    }

    pub fn aggregate(scope: &'s Scope, agg: Option<&'s mut AggState>, clause: &'static str) -> Cx<'s> {
        Cx { scope, agg, clause, found_aggregate: false, aliases: &[] }
    }

    /// The same, where output aliases of the SELECT list can stand for their expressions.
    pub fn with_aliases(mut self, aliases: &'s [(&'s ast::Expr, Option<String>)]) -> Cx<'s> {
        self.aliases = aliases;
        self
    }
}

/// The clause name of a probe: binding that only looks for aggregate calls.
pub(super) const PROBE: &str = "probe";

fn bind_error(message: String, pos: Option<Pos>) -> SqlError {
    SqlError::Bind { message, pos }
}

/// How deeply expressions may nest (operators, function calls, subqueries).
pub const MAX_EXPR_DEPTH: usize = 256;

/// Parses a numeric literal: INTEGER if it fits, else BIGINT, else DOUBLE.
pub fn number_literal(text: &str) -> Result<Value> {
    let is_float = text.contains(['.', 'e', 'E']);
    if !is_float {
        if let Ok(v) = text.parse::<i64>() {
            return Ok(match i32::try_from(v) {
                Ok(small) => Value::Integer(small),
                Err(_) => Value::BigInt(v),
            });
        }
    }
    text.parse::<f64>().map(Value::Double).map_err(|_| bind_error(format!("invalid number \"{text}\""), None))
}

impl Binder<'_> {
    /// Whether `e` calls an aggregate function (outside any subquery or window), found by a
    /// binding pass that stops caring at the first aggregate. An expression that fails to
    /// bind for another reason reports that error when it is bound for real.
    pub fn contains_aggregate(&self, e: &ast::Expr, scope: &Scope) -> bool {
        let mut cx = Cx::plain(scope, PROBE);
        let n_subqueries = self.subqueries.borrow().len();
        let _ = self.expr(e, &mut cx);
        self.subqueries.borrow_mut().truncate(n_subqueries);
        cx.found_aggregate
    }

    /// Binds an expression that must be a constant (LIMIT, OFFSET, VALUES in some places).
    pub fn constant(&self, e: &ast::Expr, clause: &'static str) -> Result<Value> {
        let scope = Scope::default();
        // A parameter here is needed as a value now: bind it inline (the plan then depends
        // on it, see `params_inlined`).
        let keep = self.keep_params.replace(false);
        let bound = self.expr(e, &mut Cx::plain(&scope, clause));
        self.keep_params.set(keep);
        let bound = bound?;
        if !bound.is_constant() {
            return crate::bind_err!("{clause} must be a constant");
        }
        Ok(bound.evaluate_constant()?)
    }

    /// Binds a scalar expression.
    pub fn expr(&self, e: &ast::Expr, cx: &mut Cx) -> Result<Expr> {
        // Every later pass (folding, evaluation, display) recurses over the bound expression,
        // so the depth is capped here, where it is cheap to report.
        let depth = self.depth.get();
        if depth >= MAX_EXPR_DEPTH {
            // (No position: the span of a very deep expression is itself computed recursively.)
            return Err(bind_error(
                format!("expression is nested too deeply (more than {MAX_EXPR_DEPTH} levels)"),
                None,
            ));
        }
        self.depth.set(depth + 1);
        let bound = self.expr_inner(e, cx);
        self.depth.set(depth);
        bound
    }

    fn expr_inner(&self, e: &ast::Expr, cx: &mut Cx) -> Result<Expr> {
        if let Some(agg) = cx.agg.as_deref() {
            if !matches!(e, ast::Expr::Value(_)) && !agg.group_by.is_empty() {
                let mut plain = Cx::plain(cx.scope, cx.clause);
                let n_subqueries = self.subqueries.borrow().len();
                let n_windows = self.windows.borrow().len();
                let trial = self.expr(e, &mut plain);
                self.subqueries.borrow_mut().truncate(n_subqueries);
                self.windows.borrow_mut().truncate(n_windows);
                if let Ok(bound) = trial {
                    if let Some(k) = agg.group_by.iter().position(|g| *g == bound) {
                        return Ok(Expr::Column { idx: k, name: e.to_string(), data_type: bound.data_type() });
                    }
                }
            }
        }
        use ast::Expr as A;
        match e {
            A::Identifier(id) => self.column(None, id, cx),
            A::CompoundIdentifier(ids) => match ids.as_slice() {
                [.., q, name] => self.column(Some(q), name, cx),
                _ => crate::unsupported!("identifier {e}"),
            },
            A::Value(v) => match &v.value {
                ast::Value::Placeholder(p) if self.keep_params.get() => {
                    let n = self.param_number(p, pos_of(v))?;
                    let data_type = self.params[n].data_type();
                    Ok(Expr::Param { idx: n, data_type })
                }
                other => self.value(other, pos_of(v)),
            },
            A::TypedString(ts) => {
                let dt = super::bind_type(&ts.data_type)?;
                let text = match &ts.value.value {
                    ast::Value::SingleQuotedString(s) => s.clone(),
                    other => other.to_string(),
                };
                cast_to(Expr::literal(Value::Text(text)), dt)
            }
            A::Nested(inner) => self.expr(inner, cx),
            A::UnaryOp { op, expr } => match op {
                UnaryOperator::Minus => {
                    if let A::Value(v) = expr.as_ref() {
                        if let ast::Value::Number(n, _) = &v.value {
                            return Ok(Expr::literal(number_literal(&format!("-{n}"))?));
                        }
                    }
                    let inner = self.expr(expr, cx)?;
                    let inner =
                        if coerce::is_untyped_literal(&inner) { cast_to(inner, DataType::Double)? } else { inner };
                    if inner.data_type() == DataType::Interval {
                        return Ok(Expr::Function {
                            func: ScalarFunction::IntervalMul,
                            args: vec![inner, Expr::literal(Value::Double(-1.0))],
                            data_type: DataType::Interval,
                        });
                    }
                    if !inner.data_type().is_numeric() {
                        return crate::bind_err!("operator does not exist: - {}", inner.data_type());
                    }
                    Ok(Expr::Negate(Box::new(inner)))
                }
                UnaryOperator::Plus => {
                    let inner = self.expr(expr, cx)?;
                    if !inner.data_type().is_numeric() && !coerce::is_untyped_literal(&inner) {
                        return crate::bind_err!("operator does not exist: + {}", inner.data_type());
                    }
                    Ok(inner)
                }
                UnaryOperator::Not => Ok(Expr::Not(Box::new(coerce::boolean(self.expr(expr, cx)?, "NOT")?))),
                other => crate::unsupported!("operator {other}"),
            },
            A::BinaryOp { left, op, right } => {
                let l = self.expr(left, cx)?;
                let r = self.expr(right, cx)?;
                self.binary(op, l, r)
            }
            A::IsNull(x) => Ok(Expr::IsNull { expr: Box::new(self.expr(x, cx)?), negated: false }),
            A::IsNotNull(x) => Ok(Expr::IsNull { expr: Box::new(self.expr(x, cx)?), negated: true }),
            A::IsTrue(x) | A::IsNotTrue(x) | A::IsFalse(x) | A::IsNotFalse(x) => {
                let inner = coerce::boolean(self.expr(x, cx)?, "IS TRUE")?;
                Ok(Expr::IsBool {
                    expr: Box::new(inner),
                    value: matches!(e, A::IsTrue(_) | A::IsNotTrue(_)),
                    negated: matches!(e, A::IsNotTrue(_) | A::IsNotFalse(_)),
                })
            }
            A::IsUnknown(x) | A::IsNotUnknown(x) => {
                let inner = coerce::boolean(self.expr(x, cx)?, "IS UNKNOWN")?;
                Ok(Expr::IsNull { expr: Box::new(inner), negated: matches!(e, A::IsNotUnknown(_)) })
            }
            A::IsDistinctFrom(a, b) | A::IsNotDistinctFrom(a, b) => {
                let (a, b) = (self.expr(a, cx)?, self.expr(b, cx)?);
                let distinct = distinct_from(a, b)?;
                Ok(if matches!(e, A::IsNotDistinctFrom(..)) { Expr::Not(Box::new(distinct)) } else { distinct })
            }
            A::In { expr, target, negated, .. } => match target {
                ast::InTarget::List(list) => {
                    let needle = self.expr(expr, cx)?;
                    if list.is_empty() {
                        return Ok(Expr::literal(Value::Boolean(*negated)));
                    }
                    let mut eqs = Vec::with_capacity(list.len());
                    for item in list {
                        eqs.push(coerce::compare(CmpOp::Eq, needle.clone(), self.expr(item, cx)?)?);
                    }
                    // A balanced OR: a list of thousands of values must not make a deep tree.
                    let any = balanced_or(eqs);
                    Ok(if *negated { Expr::Not(Box::new(any)) } else { any })
                }
                ast::InTarget::Subquery(q) => {
                    let needle = self.expr(expr, cx)?;
                    let (bound, captures) = self.subquery(q, cx)?;
                    let types = bound.types();
                    if types.len() != 1 {
                        return crate::bind_err!("subquery has too many columns");
                    }
                    // Compare in the common type of the needle and the subquery column.
                    let probe = Expr::Column { idx: 0, name: "?".into(), data_type: types[0] };
                    let t = coerce::comparison_type(&needle, &probe, "IN")?;
                    let needle = cast_to(needle, t)?;
                    let plan = if types[0] == t {
                        bound.plan
                    } else {
                        crate::plan::LogicalPlan::Project {
                            input: Box::new(bound.plan),
                            exprs: vec![cast_to(probe, t)?],
                        }
                    };
                    let kind = super::SubqueryKind::In { needle, negated: *negated, op: CmpOp::Eq, all: false };
                    Ok(self.register_subquery(plan, kind, captures, DataType::Boolean))
                }
                _ => crate::unsupported!("IN UNNEST / IN table"),
            },
            A::Between { expr, negated, low, high } => {
                let x = self.expr(expr, cx)?;
                let lo = coerce::compare(CmpOp::GtEq, x.clone(), self.expr(low, cx)?)?;
                let hi = coerce::compare(CmpOp::LtEq, x, self.expr(high, cx)?)?;
                let both = Expr::And(Box::new(lo), Box::new(hi));
                Ok(if *negated { Expr::Not(Box::new(both)) } else { both })
            }
            A::Like { negated, expr, pattern, escape_char, any }
            | A::ILike { negated, expr, pattern, escape_char, any } => {
                if *any || escape_char.is_some() {
                    return crate::unsupported!("LIKE ANY / ESCAPE");
                }
                let s = self.expr(expr, cx)?;
                let p = self.expr(pattern, cx)?;
                let text = |x: Expr| -> Result<Expr> {
                    match x.data_type() {
                        DataType::Text => Ok(x),
                        DataType::Null => cast_to(x, DataType::Text),
                        t => crate::bind_err!("operator does not exist: {t} LIKE TEXT; add an explicit CAST"),
                    }
                };
                Ok(Expr::Like {
                    expr: Box::new(text(s)?),
                    pattern: Box::new(text(p)?),
                    negated: *negated,
                    case_insensitive: matches!(e, A::ILike { .. }),
                })
            }
            A::SimilarTo { negated, expr, pattern, escape_char } => {
                if escape_char.is_some() {
                    return crate::unsupported!("SIMILAR TO ... ESCAPE");
                }
                let args = vec![self.expr(expr, cx)?, self.expr(pattern, cx)?];
                let Ok(m) = scalar_call(ScalarFunction::SimilarTo, args) else {
                    return crate::bind_err!("SIMILAR TO needs text operands");
                };
                Ok(if *negated { Expr::Not(Box::new(m)) } else { m })
            }
            A::Cast { kind, expr, data_type, format } => {
                if format.is_some() || matches!(kind, ast::CastKind::TryCast | ast::CastKind::SafeCast) {
                    return crate::unsupported!("{e}");
                }
                let to = super::bind_type(data_type)?;
                let inner = self.expr(expr, cx)?;
                if !exec::kernels::cast::can_cast(inner.data_type(), to) {
                    return crate::bind_err!("cannot cast type {} to {to}", inner.data_type());
                }
                // `CAST('12' AS TEXT)` is typed text, no longer an untyped literal: keep the cast
                // so assignment rules see it (constant folding removes it later).
                if to == DataType::Text && super::coerce::is_untyped_literal(&inner) {
                    return Ok(Expr::Cast { expr: Box::new(inner), to });
                }
                cast_to(inner, to)
            }
            A::Case { operand, conditions, else_result, .. } => {
                self.case(operand.as_deref(), conditions, else_result.as_deref(), cx)
            }
            A::Function(f) => self.function(f, cx),
            A::Substring { expr, substring_from, substring_for, .. } => {
                let mut args = vec![self.expr(expr, cx)?];
                args.push(match substring_from {
                    Some(from) => self.expr(from, cx)?,
                    None => Expr::literal(Value::Integer(1)),
                });
                if let Some(len) = substring_for {
                    args.push(self.expr(len, cx)?);
                }
                scalar_call(ScalarFunction::Substring, args)
            }
            A::Trim { expr, trim_where, trim_what, trim_characters } => {
                if trim_characters.is_some() {
                    return crate::unsupported!("{e}");
                }
                let func = match trim_where {
                    Some(ast::TrimWhereField::Leading) => ScalarFunction::Ltrim,
                    Some(ast::TrimWhereField::Trailing) => ScalarFunction::Rtrim,
                    _ => ScalarFunction::Trim,
                };
                let mut args = vec![self.expr(expr, cx)?];
                if let Some(what) = trim_what {
                    args.push(self.expr(what, cx)?);
                }
                scalar_call(func, args)
            }
            A::Ceil { expr, field: ast::CeilFloorKind::DateTimeField(ast::DateTimeField::NoDateTime) }
            | A::Floor { expr, field: ast::CeilFloorKind::DateTimeField(ast::DateTimeField::NoDateTime) } => {
                let func = if matches!(e, A::Ceil { .. }) { ScalarFunction::Ceil } else { ScalarFunction::Floor };
                scalar_call(func, vec![self.expr(expr, cx)?])
            }
            A::Interval(iv) => {
                let text = match iv.value.as_ref() {
                    A::Value(v) => match &v.value {
                        ast::Value::SingleQuotedString(s) => s.clone(),
                        ast::Value::Number(n, _) => n.clone(),
                        other => return crate::unsupported!("interval value {other}"),
                    },
                    other => return crate::unsupported!("interval value {other}"),
                };
                let unit = iv.leading_field.as_ref().map(|f| f.to_string().to_lowercase());
                let parsed = exec::time::parse_interval(&text, unit.as_deref())?;
                Ok(Expr::literal(Value::Interval { months: parsed.months, days: parsed.days, micros: parsed.micros }))
            }
            A::Position { expr, r#in } => {
                let args = vec![self.expr(r#in, cx)?, self.expr(expr, cx)?];
                scalar_call(ScalarFunction::Strpos, args)
            }
            A::Extract { field, expr, .. } => {
                let field = Expr::literal(Value::Text(field.to_string().to_lowercase()));
                scalar_call(ScalarFunction::DatePart, vec![field, self.expr(expr, cx)?])
            }
            A::Subquery(q) => {
                let (bound, captures) = self.subquery(q, cx)?;
                let types = bound.types();
                if types.len() != 1 {
                    return crate::bind_err!("subquery must return only one column");
                }
                Ok(self.register_subquery(bound.plan, super::SubqueryKind::Scalar, captures, types[0]))
            }
            A::AnyOp { left, compare_op, right, .. } | A::AllOp { left, compare_op, right } => {
                let all = matches!(e, A::AllOp { .. });
                let op = match compare_op {
                    BinaryOperator::Eq => CmpOp::Eq,
                    BinaryOperator::NotEq => CmpOp::NotEq,
                    BinaryOperator::Lt => CmpOp::Lt,
                    BinaryOperator::LtEq => CmpOp::LtEq,
                    BinaryOperator::Gt => CmpOp::Gt,
                    BinaryOperator::GtEq => CmpOp::GtEq,
                    other => return crate::unsupported!("{other} with ANY/ALL"),
                };
                let q = match right.as_ref() {
                    A::Subquery(q) => q,
                    A::Nested(inner) => match inner.as_ref() {
                        A::Subquery(q) => q,
                        _ => return crate::unsupported!("ANY/ALL over anything but a subquery: {e}"),
                    },
                    _ => return crate::unsupported!("ANY/ALL over anything but a subquery: {e}"),
                };
                let needle = self.expr(left, cx)?;
                let (bound, captures) = self.subquery(q, cx)?;
                let types = bound.types();
                if types.len() != 1 {
                    return crate::bind_err!("subquery has too many columns");
                }
                let probe = Expr::Column { idx: 0, name: "?".into(), data_type: types[0] };
                let t = coerce::comparison_type(&needle, &probe, if all { "ALL" } else { "ANY" })?;
                let needle = cast_to(needle, t)?;
                let plan = if types[0] == t {
                    bound.plan
                } else {
                    crate::plan::LogicalPlan::Project { input: Box::new(bound.plan), exprs: vec![cast_to(probe, t)?] }
                };
                let kind = super::SubqueryKind::In { needle, negated: false, op, all };
                Ok(self.register_subquery(plan, kind, captures, DataType::Boolean))
            }
            A::Exists { subquery, negated } => {
                let (bound, captures) = self.subquery(subquery, cx)?;
                let e = self.register_subquery(bound.plan, super::SubqueryKind::Exists, captures, DataType::Boolean);
                Ok(if *negated { Expr::Not(Box::new(e)) } else { e })
            }
            other => Err(SqlError::NotSupported { message: format!("expression {other}"), pos: pos_of(other) }),
        }
    }

    /// Resolves a name that is not in the current scope against the enclosing query: it
    /// becomes an `OuterRef` whose value the subquery reads from the enclosing row.
    fn outer_reference(&self, name: &str, q: Option<&str>, id: &ast::Ident) -> Result<Option<Expr>> {
        let mut frames = self.frames.borrow_mut();
        let matches =
            |s: &Scope| s.columns.iter().position(|c| c.name == name && (q.is_none() || c.qualifier.as_deref() == q));
        let n = frames.len();
        let Some(frame) = frames.last_mut() else { return Ok(None) };
        if let Some(idx) = matches(&frame.scope) {
            let col = &frame.scope.columns[idx];
            let mut capture = Expr::Column { idx, name: col.name.clone(), data_type: col.data_type };
            if frame.in_aggregate {
                // The enclosing row is the aggregate's output: a group key is readable there
                // (at its position among the keys), any other column is not.
                let key = frame
                    .group_by
                    .as_ref()
                    .and_then(|keys| keys.iter().position(|k| matches!(k, Expr::Column { idx: i, .. } if *i == idx)));
                let Some(key) = key else {
                    return Err(match frame.group_by {
                        Some(_) => SqlError::Bind {
                            message: format!(
                                "subquery uses ungrouped column \"{name}\" from outer query: it must appear in the GROUP BY clause or be used in an aggregate function"
                            ),
                            pos: ident_pos(id),
                        },
                        None => SqlError::NotSupported {
                            message: format!("a correlated reference to \"{name}\" from inside a GROUPING SETS query's output"),
                            pos: ident_pos(id),
                        },
                    });
                };
                capture = Expr::Column { idx: key, name: col.name.clone(), data_type: col.data_type };
            }
            let data_type = col.data_type;
            let k = match frame.captures.iter().position(|c| *c == capture) {
                Some(k) => k,
                None => {
                    frame.captures.push(capture);
                    frame.captures.len() - 1
                }
            };
            return Ok(Some(Expr::OuterRef { idx: k, data_type }));
        }
        if frames[..n - 1].iter().any(|f| matches(&f.scope).is_some()) {
            return Err(SqlError::NotSupported {
                message: format!("a correlated reference to \"{name}\" two or more query levels up"),
                pos: ident_pos(id),
            });
        }
        Ok(None)
    }

    /// Binds a subquery with the current scope as its enclosing scope; returns the bound query
    /// and the outer expressions it captured.
    fn subquery(&self, q: &ast::Query, cx: &Cx) -> Result<(super::BoundQuery, Vec<Expr>)> {
        self.frames.borrow_mut().push(super::Frame {
            scope: cx.scope.clone(),
            captures: Vec::new(),
            in_aggregate: cx.agg.is_some(),
            group_by: cx.agg.as_ref().filter(|a| a.grouping_id.is_none()).map(|a| a.group_by.clone()),
        });
        let res = self.query(q);
        let frame = self.frames.borrow_mut().pop();
        Ok((res?, frame.map(|f| f.captures).unwrap_or_default()))
    }

    /// Records a subquery and returns its placeholder.
    fn register_subquery(
        &self,
        plan: crate::plan::LogicalPlan,
        kind: super::SubqueryKind,
        captures: Vec<Expr>,
        data_type: DataType,
    ) -> Expr {
        let mut subs = self.subqueries.borrow_mut();
        subs.push(super::Subquery { plan, kind, captures });
        Expr::Subquery { id: subs.len() - 1, data_type }
    }

    fn column(&self, qualifier: Option<&ast::Ident>, id: &ast::Ident, cx: &mut Cx) -> Result<Expr> {
        let name = normalize(id);
        let q = qualifier.map(normalize);
        let matches: Vec<usize> = cx
            .scope
            .columns
            .iter()
            .enumerate()
            .filter(|(_, c)| c.name == name && (q.is_none() || c.qualifier == q))
            .map(|(i, _)| i)
            .collect();
        let matches: Vec<usize> = if matches.len() > 1 && q.is_none() {
            matches.into_iter().filter(|&i| !cx.scope.columns[i].hidden).collect()
        } else {
            matches
        };
        let idx = match matches.as_slice() {
            [one] => *one,
            [] => {
                if q.is_none() {
                    if let Some((aliased, _)) = cx.aliases.iter().find(|(_, a)| a.as_deref() == Some(name.as_str())) {
                        // An alias cannot refer to itself or another alias.
                        let aliases = std::mem::take(&mut cx.aliases);
                        let bound = self.expr(aliased, cx);
                        cx.aliases = aliases;
                        return bound;
                    }
                }
                if let Some(outer) = self.outer_reference(&name, q.as_deref(), id)? {
                    return Ok(outer);
                }
                if let Some(q) = &q {
                    if !cx.scope.columns.iter().any(|c| c.qualifier.as_ref() == Some(q)) {
                        let quals: Vec<&str> = cx.scope.columns.iter().filter_map(|c| c.qualifier.as_deref()).collect();
                        return Err(unknown_name("table", q, quals, ident_pos(qualifier.unwrap_or(id))));
                    }
                }
                let names: Vec<&str> = cx.scope.columns.iter().map(|c| c.name.as_str()).collect();
                return Err(unknown_name("column", &name, names, ident_pos(id)));
            }
            _ => return Err(bind_error(format!("column reference \"{name}\" is ambiguous"), ident_pos(id))),
        };
        if cx.agg.is_some() {
            return Err(bind_error(
                format!("column \"{name}\" must appear in the GROUP BY clause or be used in an aggregate function"),
                ident_pos(id),
            ));
        }
        let col = &cx.scope.columns[idx];
        Ok(Expr::Column { idx, name: col.name.clone(), data_type: col.data_type })
    }

    /// The 0-based index of parameter `$n` / `?n`, which must have a value.
    fn param_number(&self, p: &str, pos: Option<Pos>) -> Result<usize> {
        let n: usize =
            p.trim_start_matches(['$', '?']).parse().map_err(|_| bind_error(format!("invalid parameter {p}"), pos))?;
        match n.checked_sub(1).filter(|&i| i < self.params.len()) {
            Some(i) => Ok(i),
            None => Err(bind_error(format!("no value supplied for parameter ${n} ({} given)", self.params.len()), pos)),
        }
    }

    fn value(&self, v: &ast::Value, pos: Option<Pos>) -> Result<Expr> {
        use ast::Value as V;
        Ok(Expr::literal(match v {
            V::Number(n, _) => number_literal(n)?,
            V::SingleQuotedString(s) | V::EscapedStringLiteral(s) | V::NationalStringLiteral(s) => {
                Value::Text(s.clone())
            }
            V::DollarQuotedString(s) => Value::Text(s.value.clone()),
            V::Boolean(b) => Value::Boolean(*b),
            V::Null => Value::Null,
            V::Placeholder(p) => {
                self.params_inlined.set(true);
                self.params[self.param_number(p, pos)?].clone()
            }
            other => return Err(SqlError::NotSupported { message: format!("literal {other}"), pos }),
        }))
    }

    fn binary(&self, op: &BinaryOperator, l: Expr, r: Expr) -> Result<Expr> {
        use BinaryOperator as B;
        let cmp = |c: CmpOp| coerce::compare(c, l.clone(), r.clone());
        let arith = |a: ArithOp| coerce::arith(a, l.clone(), r.clone());
        match op {
            B::Plus => arith(ArithOp::Add),
            B::Minus => arith(ArithOp::Sub),
            B::Multiply => arith(ArithOp::Mul),
            B::Divide => arith(ArithOp::Div),
            B::Modulo => arith(ArithOp::Mod),
            B::Eq => cmp(CmpOp::Eq),
            B::NotEq => cmp(CmpOp::NotEq),
            B::Lt => cmp(CmpOp::Lt),
            B::LtEq => cmp(CmpOp::LtEq),
            B::Gt => cmp(CmpOp::Gt),
            B::GtEq => cmp(CmpOp::GtEq),
            B::And => Ok(Expr::And(Box::new(coerce::boolean(l, "AND")?), Box::new(coerce::boolean(r, "AND")?))),
            B::Or => Ok(Expr::Or(Box::new(coerce::boolean(l, "OR")?), Box::new(coerce::boolean(r, "OR")?))),
            B::StringConcat => coerce::concat(l, r),
            // PostgreSQL's regular-expression match: `~`, `~*` (case-insensitive), `!~`, `!~*`.
            B::PGRegexMatch | B::PGRegexIMatch | B::PGRegexNotMatch | B::PGRegexNotIMatch => {
                let insensitive = matches!(op, B::PGRegexIMatch | B::PGRegexNotIMatch);
                let mut args = vec![l, r];
                if insensitive {
                    args.push(Expr::literal(Value::Text("i".into())));
                }
                let Ok(m) = scalar_call(ScalarFunction::RegexpMatches, args) else {
                    return crate::bind_err!("operator {op} needs text operands");
                };
                Ok(if matches!(op, B::PGRegexNotMatch | B::PGRegexNotIMatch) { Expr::Not(Box::new(m)) } else { m })
            }
            other => crate::unsupported!("operator {other}"),
        }
    }

    fn case(
        &self,
        operand: Option<&ast::Expr>,
        conditions: &[ast::CaseWhen],
        else_result: Option<&ast::Expr>,
        cx: &mut Cx,
    ) -> Result<Expr> {
        let operand = operand.map(|o| self.expr(o, cx)).transpose()?;
        let mut whens = Vec::with_capacity(conditions.len());
        for w in conditions {
            let cond = self.expr(&w.condition, cx)?;
            let cond = match &operand {
                Some(op) => coerce::compare(CmpOp::Eq, op.clone(), cond)?,
                None => coerce::boolean(cond, "CASE/WHEN")?,
            };
            whens.push((cond, self.expr(&w.result, cx)?));
        }
        let else_expr = else_result.map(|e| self.expr(e, cx)).transpose()?;
        let mut results: Vec<&Expr> = whens.iter().map(|(_, r)| r).collect();
        if let Some(e) = &else_expr {
            results.push(e);
        }
        let t = coerce::common_type(&results, "CASE")?;
        let t = if t == DataType::Null { DataType::Text } else { t };
        let whens = whens.into_iter().map(|(c, r)| Ok((c, cast_to(r, t)?))).collect::<Result<Vec<_>>>()?;
        let else_expr = else_expr.map(|e| cast_to(e, t).map(Box::new)).transpose()?;
        Ok(Expr::Case { whens, else_expr, data_type: t })
    }

    /// `GROUPING(k1, ..., kn)`: bit n-1-j is set where key kj is not grouped in the row's
    /// grouping set (always 0 without ROLLUP / CUBE / GROUPING SETS).
    fn grouping_call(&self, f: &ast::Function, cx: &mut Cx) -> Result<Expr> {
        let pos = pos_of(&f.name);
        let args: Vec<&ast::Expr> = match &f.args {
            FunctionArguments::List(list) if list.duplicate_treatment.is_none() && list.clauses.is_empty() => list
                .args
                .iter()
                .map(|a| match a {
                    FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Ok(e),
                    _ => Err(bind_error("GROUPING takes grouping expressions".into(), pos)),
                })
                .collect::<Result<_>>()?,
            _ => return Err(bind_error("GROUPING takes grouping expressions".into(), pos)),
        };
        if args.is_empty() || args.len() > 31 {
            return Err(bind_error("GROUPING takes between 1 and 31 arguments".into(), pos));
        }
        if cx.clause == PROBE {
            return Ok(Expr::literal(Value::Null));
        }
        let scope = cx.scope;
        let Some(agg) = cx.agg.as_deref_mut() else {
            return Err(bind_error(format!("GROUPING is not allowed in {} without GROUP BY", cx.clause), pos));
        };
        let mut keys = Vec::with_capacity(args.len());
        for a in &args {
            let bound = self.expr(a, &mut Cx::plain(scope, "GROUPING"))?;
            match agg.group_by.iter().position(|g| *g == bound).filter(|&k| Some(k) != agg.grouping_id) {
                Some(k) => keys.push(k),
                None => {
                    return Err(bind_error(
                        format!("arguments to GROUPING must be grouping expressions of the query: {a}"),
                        pos_of(*a),
                    ))
                }
            }
        }
        let Some(gid) = agg.grouping_id else { return Ok(Expr::literal(Value::Integer(0))) };
        let big = |v: i64| Expr::Literal { value: Value::BigInt(v), data_type: DataType::BigInt };
        let arith = |op, left: Expr, right: Expr| Expr::Arith {
            op,
            left: Box::new(left),
            right: Box::new(right),
            data_type: DataType::BigInt,
        };
        let id = Expr::Column { idx: gid, name: "grouping id".into(), data_type: DataType::BigInt };
        let n = keys.len();
        let mut sum: Option<Expr> = None;
        for (j, &k) in keys.iter().enumerate() {
            let bit = arith(exec::ArithOp::Mod, arith(exec::ArithOp::Div, id.clone(), big(1 << k)), big(2));
            let term = arith(exec::ArithOp::Mul, bit, big(1 << (n - 1 - j)));
            sum = Some(match sum {
                None => term,
                Some(s) => arith(exec::ArithOp::Add, s, term),
            });
        }
        let sum = sum.unwrap_or_else(|| big(0));
        super::coerce::cast_to(sum, DataType::Integer)
    }

    fn function(&self, f: &ast::Function, cx: &mut Cx) -> Result<Expr> {
        let name = match f.name.0.last() {
            Some(ast::ObjectNamePart::Identifier(id)) => id.value.to_lowercase(),
            _ => return crate::unsupported!("function {}", f.name),
        };
        let pos = pos_of(&f.name);
        if let Some(over) = &f.over {
            return self.window_call(&name, f, over, cx);
        }
        if name == "grouping" {
            return self.grouping_call(f, cx);
        }
        if (f.filter.is_some() || !f.within_group.is_empty()) && AggFunc::lookup(&name).is_none() {
            return Err(bind_error(format!("FILTER / WITHIN GROUP is only allowed for aggregates, not {name}()"), pos));
        }
        let mut order_by: &[ast::OrderByExpr] = &[];
        let (args, distinct) = match &f.args {
            FunctionArguments::None => (vec![], false),
            FunctionArguments::List(list) => {
                for clause in &list.clauses {
                    match clause {
                        ast::FunctionArgumentClause::OrderBy(keys) if AggFunc::lookup(&name).is_some() => {
                            order_by = keys
                        }
                        _ => return Err(SqlError::NotSupported { message: format!("{clause} in {name}()"), pos }),
                    }
                }
                (
                    list.args.iter().collect::<Vec<_>>(),
                    matches!(list.duplicate_treatment, Some(ast::DuplicateTreatment::Distinct)),
                )
            }
            FunctionArguments::Subquery(_) => return crate::unsupported!("subquery as function argument"),
        };
        if let Some(func) = AggFunc::lookup(&name) {
            if cx.clause == PROBE {
                cx.found_aggregate = true;
                return Ok(Expr::literal(Value::Null));
            }
            // `agg(x ORDER BY k)`: only string_agg depends on the order. Its input is sorted
            // before aggregation, so one query can order its aggregates one way only.
            if !order_by.is_empty() && func == AggFunc::StringAgg {
                let mut keys = Vec::with_capacity(order_by.len());
                for ob in order_by {
                    let k = self.expr(&ob.expr, &mut Cx::plain(cx.scope, "aggregate argument"))?;
                    keys.push(super::query::sort_key(k, ob)?);
                }
                if let Some(agg) = cx.agg.as_deref_mut() {
                    match &agg.input_order {
                        Some(existing) if *existing != keys => {
                            return Err(SqlError::NotSupported {
                                message: "aggregates ordered in different ways in one query".into(),
                                pos,
                            })
                        }
                        _ => agg.input_order = Some(keys),
                    }
                }
            }
            let Some(agg) = cx.agg.as_deref_mut() else {
                let message = if cx.clause == "aggregate argument" {
                    "aggregate function calls cannot be nested".to_string()
                } else {
                    format!("aggregate functions are not allowed in {}", cx.clause)
                };
                return Err(bind_error(message, pos));
            };
            let mut extra = None;
            let arg_expr = |a: &FunctionArg| match a {
                FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Some(e.clone()),
                _ => None,
            };
            let (func, arg) = if matches!(func, AggFunc::PercentileCont | AggFunc::PercentileDisc) {
                // percentile_cont(f) WITHIN GROUP (ORDER BY x), or median(x).
                let (fraction, target, descending) = if name == "median" {
                    match args.as_slice() {
                        [a] => (Value::Double(0.5), arg_expr(a), false),
                        _ => return Err(bind_error("median() takes exactly one argument".into(), pos)),
                    }
                } else {
                    match (args.as_slice(), f.within_group.as_slice()) {
                        ([a], [ob]) => {
                            let fraction = match arg_expr(a) {
                                Some(e) => self.constant(&e, "the percentile fraction")?,
                                None => Value::Null,
                            };
                            let desc = matches!(ob.options.sort, Some(ast::OrderBySort::Desc));
                            (fraction, Some(ob.expr.clone()), desc)
                        }
                        _ => {
                            return Err(bind_error(
                                format!("{name}() needs one fraction and WITHIN GROUP (ORDER BY expression)"),
                                pos,
                            ))
                        }
                    }
                };
                let fraction = match fraction.as_f64() {
                    Some(x) if (0.0..=1.0).contains(&x) => x,
                    _ => return Err(bind_error(format!("percentile value {fraction} is not between 0 and 1"), pos)),
                };
                extra = Some(Value::Double(if descending { 1.0 - fraction } else { fraction }));
                let target = target.ok_or_else(|| bind_error(format!("invalid argument to {name}()"), pos))?;
                (func, Some(self.expr(&target, &mut Cx::plain(cx.scope, "aggregate argument"))?))
            } else if func == AggFunc::Mode {
                // mode() WITHIN GROUP (ORDER BY x) (PostgreSQL), or mode(x) (DuckDB).
                let target = match (args.as_slice(), f.within_group.as_slice()) {
                    ([], [ob]) => Some(ob.expr.clone()),
                    ([a], []) => arg_expr(a),
                    _ => None,
                };
                let target = target.ok_or_else(|| {
                    bind_error("mode() needs WITHIN GROUP (ORDER BY expression) or one argument".into(), pos)
                })?;
                (func, Some(self.expr(&target, &mut Cx::plain(cx.scope, "aggregate argument"))?))
            } else {
                if !f.within_group.is_empty() {
                    return Err(bind_error(format!("WITHIN GROUP is not allowed for {name}()"), pos));
                }
                match args.as_slice() {
                    [] | [FunctionArg::Unnamed(FunctionArgExpr::Wildcard)] if func == AggFunc::Count && !distinct => {
                        (AggFunc::CountStar, None)
                    }
                    [FunctionArg::Unnamed(FunctionArgExpr::Expr(a))] if func != AggFunc::StringAgg => {
                        let bound = self.expr(a, &mut Cx::plain(cx.scope, "aggregate argument"))?;
                        (func, Some(bound))
                    }
                    [FunctionArg::Unnamed(FunctionArgExpr::Expr(a)), FunctionArg::Unnamed(FunctionArgExpr::Expr(sep))]
                        if func == AggFunc::StringAgg =>
                    {
                        extra = Some(match self.constant(sep, "the string_agg separator")? {
                            Value::Null => Value::Text(String::new()),
                            v => v,
                        });
                        let bound = self.expr(a, &mut Cx::plain(cx.scope, "aggregate argument"))?;
                        let bound =
                            if bound.data_type() == DataType::Text { bound } else { cast_to(bound, DataType::Text)? };
                        (func, Some(bound))
                    }
                    _ if func == AggFunc::StringAgg => {
                        return Err(bind_error("string_agg() takes an expression and a separator".into(), pos))
                    }
                    _ => return Err(bind_error(format!("{name}() takes exactly one argument"), pos)),
                }
            };
            let filter = match &f.filter {
                Some(cond) => {
                    let bound = self.expr(cond, &mut Cx::plain(cx.scope, "FILTER"))?;
                    Some(coerce::boolean(bound, "FILTER")?)
                }
                None => None,
            };
            let input_type = arg.as_ref().map_or(DataType::BigInt, Expr::data_type);
            let data_type = func.return_type(input_type).map_err(|m| bind_error(m, pos))?;
            let call = AggregateExpr { func, arg, distinct, data_type, extra, filter };
            let slot = match agg.aggregates.iter().position(|a| *a == call) {
                Some(k) => k,
                None => {
                    agg.aggregates.push(call);
                    agg.aggregates.len() - 1
                }
            };
            return Ok(Expr::Column { idx: agg.group_by.len() + slot, name, data_type });
        }
        if matches!(name.as_str(), "generate_series" | "range" | "unnest") {
            return Err(bind_error(
                format!("{name}() returns a set of rows: use it in FROM, as in SELECT * FROM {name}(1, 10)"),
                pos,
            ));
        }
        let Some(func) = ScalarFunction::lookup(&name) else {
            const KNOWN: &[&str] = &[
                "abs",
                "coalesce",
                "nullif",
                "lower",
                "upper",
                "length",
                "round",
                "floor",
                "ceil",
                "sqrt",
                "power",
                "concat",
                "substring",
                "trim",
                "ltrim",
                "rtrim",
                "replace",
                "greatest",
                "least",
                "ln",
                "log",
                "exp",
                "mod",
                "sign",
                "trunc",
                "strpos",
                "split_part",
                "left",
                "right",
                "starts_with",
                "reverse",
                "repeat",
                "lpad",
                "rpad",
                "date_trunc",
                "date_part",
                "date_diff",
                "time_bucket",
                "date_bin",
                "make_date",
                "make_timestamp",
                "strftime",
                "epoch",
                "now",
                "regexp_matches",
                "regexp_replace",
                "regexp_extract",
                "regexp_full_match",
                "count",
                "sum",
                "avg",
                "min",
                "max",
            ];
            return Err(unknown_name("function", &name, KNOWN.iter().copied(), pos));
        };
        if distinct {
            return Err(bind_error(format!("DISTINCT is only allowed in aggregate functions, not {name}()"), pos));
        }
        let mut bound = Vec::with_capacity(args.len());
        for a in args {
            match a {
                FunctionArg::Unnamed(FunctionArgExpr::Expr(a)) => bound.push(self.expr(a, cx)?),
                other => return Err(SqlError::NotSupported { message: format!("argument {other} of {name}()"), pos }),
            }
        }
        scalar_call(func, bound).map_err(|e| match e {
            SqlError::Bind { message, pos: None } => SqlError::Bind { message, pos },
            e => e,
        })
    }
}

/// `e0 OR e1 OR ...` as a tree of depth log2(n); FALSE for none.
fn balanced_or(mut parts: Vec<Expr>) -> Expr {
    match parts.len() {
        0 => Expr::literal(Value::Boolean(false)),
        1 => parts.pop().unwrap_or_else(|| Expr::literal(Value::Boolean(false))),
        n => {
            let right = parts.split_off(n / 2);
            Expr::Or(Box::new(balanced_or(parts)), Box::new(balanced_or(right)))
        }
    }
}

/// A scalar function call with its arguments cast to the function's signature.
fn scalar_call(func: ScalarFunction, args: Vec<Expr>) -> Result<Expr> {
    let types: Vec<DataType> = args
        .iter()
        .map(|a| {
            if coerce::is_untyped_literal(a) && a.data_type() == DataType::Text {
                DataType::Null
            } else {
                a.data_type()
            }
        })
        .collect();
    let mut sig = func.signature(&types).map_err(|m| bind_error(m, None))?;
    // Only quoted literals: they are text (`coalesce('a')`, `greatest('a', 'b')`).
    if sig.return_type == DataType::Null && args.iter().any(|a| a.data_type() == DataType::Text) {
        let types: Vec<DataType> =
            args.iter().map(|a| if a.data_type() == DataType::Text { DataType::Text } else { a.data_type() }).collect();
        sig = func.signature(&types).map_err(|m| bind_error(m, None))?;
    }
    let args = args.into_iter().zip(&sig.arg_types).map(|(a, t)| cast_to(a, *t)).collect::<Result<Vec<_>>>()?;
    Ok(Expr::Function { func, args, data_type: sig.return_type })
}

/// `a IS DISTINCT FROM b`: like `<>`, but NULL equals NULL and the result is never NULL.
fn distinct_from(a: Expr, b: Expr) -> Result<Expr> {
    let a_null = Expr::IsNull { expr: Box::new(a.clone()), negated: false };
    let b_null = Expr::IsNull { expr: Box::new(b.clone()), negated: false };
    let ne = coerce::compare(CmpOp::NotEq, a, b)?;
    Ok(Expr::Case {
        whens: vec![
            (Expr::And(Box::new(a_null.clone()), Box::new(b_null.clone())), Expr::literal(Value::Boolean(false))),
            (Expr::Or(Box::new(a_null), Box::new(b_null)), Expr::literal(Value::Boolean(true))),
        ],
        else_expr: Some(Box::new(ne)),
        data_type: DataType::Boolean,
    })
}
