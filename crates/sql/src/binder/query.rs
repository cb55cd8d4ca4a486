//! Binding queries: FROM, WHERE, GROUP BY, HAVING, SELECT, DISTINCT, ORDER BY, LIMIT/OFFSET,
//! and VALUES lists.

use super::coerce::{self, cast_to};
use super::expr::{AggState, Cx};
use super::{normalize, pos_of, Binder, Scope, ScopeColumn};
use crate::error::{Result, SqlError};
use crate::plan::LogicalPlan;
use exec::{Expr, JoinKind, SetOpKind, SortKey};
use sqlparser::ast::{self, SelectItem, SetExpr, TableFactor};
use storage::{DataType, Value};

/// A bound query: its plan and the names of its output columns.
#[derive(Debug, Clone)]
pub struct BoundQuery {
    pub plan: LogicalPlan,
    pub names: Vec<String>,
}

impl BoundQuery {
    pub fn types(&self) -> Vec<DataType> {
        self.plan.output_types()
    }
}

/// ORDER BY and LIMIT/OFFSET of a query, applied after its body.
struct Tail<'q> {
    order_by: &'q [ast::OrderByExpr],
    limit: Option<usize>,
    offset: usize,
}

/// The name PostgreSQL gives an unaliased output column.
fn output_name(e: &ast::Expr) -> String {
    match e {
        ast::Expr::Identifier(id) => normalize(id),
        ast::Expr::CompoundIdentifier(ids) => ids.last().map(normalize).unwrap_or_default(),
        ast::Expr::Function(f) => f.name.0.last().map(|p| p.to_string().to_lowercase()).unwrap_or_default(),
        ast::Expr::Cast { expr, .. } | ast::Expr::Nested(expr) => match expr.as_ref() {
            ast::Expr::Identifier(_) | ast::Expr::CompoundIdentifier(_) | ast::Expr::Function(_) => output_name(expr),
            _ => "?column?".into(),
        },
        ast::Expr::Case { .. } => "case".into(),
        _ => "?column?".into(),
    }
}

impl Binder<'_> {
    fn limit_value(&self, e: &ast::Expr, clause: &'static str) -> Result<Option<usize>> {
        match self.constant(e, clause)? {
            Value::Null => Ok(None),
            v => match v.as_i64() {
                Some(n) if n >= 0 => Ok(Some(n as usize)),
                Some(_) => crate::bind_err!("{clause} must not be negative"),
                None => crate::bind_err!("argument of {clause} must be an integer, not {}", v.data_type()),
            },
        }
    }

    /// Binds a whole query.
    pub fn query(&self, q: &ast::Query) -> Result<BoundQuery> {
        if !q.locks.is_empty() {
            return crate::unsupported!("FOR UPDATE / FOR SHARE");
        }
        if q.fetch.as_ref().is_some_and(|f| f.with_ties || f.percent) {
            return crate::unsupported!("FETCH ... WITH TIES / PERCENT");
        }
        let n_ctes = self.ctes.borrow().len();
        let res = self.query_with_ctes(q);
        self.ctes.borrow_mut().truncate(n_ctes);
        res
    }

    fn query_with_ctes(&self, q: &ast::Query) -> Result<BoundQuery> {
        let mut defined = Vec::new();
        if let Some(with) = &q.with {
            // Names must be unique within one WITH; a nested WITH may shadow an outer CTE.
            let outer_ctes = self.ctes.borrow().len();
            for cte in &with.cte_tables {
                let name = normalize(&cte.alias.name);
                let mut bound = if with.recursive { self.recursive_cte(&name, cte)? } else { self.query(&cte.query)? };
                if !cte.alias.columns.is_empty() {
                    if cte.alias.columns.len() > bound.names.len() {
                        return crate::bind_err!(
                            "WITH query \"{name}\" has {} columns available but {} columns specified",
                            bound.names.len(),
                            cte.alias.columns.len()
                        );
                    }
                    for (slot, c) in bound.names.iter_mut().zip(&cte.alias.columns) {
                        *slot = normalize(&c.name);
                    }
                }
                if self.ctes.borrow()[outer_ctes..].iter().any(|(n, _)| *n == name) {
                    return crate::bind_err!("WITH query name \"{name}\" specified more than once");
                }
                bound.plan = self.share_cte(&name, bound.plan, cte.materialized, &mut defined);
                self.ctes.borrow_mut().push((name, std::rc::Rc::new(bound)));
            }
        }
        let (mut limit, mut offset) = (None, 0);
        match &q.limit_clause {
            None => {}
            Some(ast::LimitClause::LimitOffset { limit: l, offset: o, limit_by }) => {
                if !limit_by.is_empty() {
                    return crate::unsupported!("LIMIT BY");
                }
                if let Some(l) = l {
                    limit = self.limit_value(l, "LIMIT")?;
                }
                if let Some(o) = o {
                    offset = self.limit_value(&o.value, "OFFSET")?.unwrap_or(0);
                }
            }
            Some(ast::LimitClause::OffsetCommaLimit { offset: o, limit: l }) => {
                limit = self.limit_value(l, "LIMIT")?;
                offset = self.limit_value(o, "OFFSET")?.unwrap_or(0);
            }
        }
        // FETCH FIRST n ROWS ONLY is the standard spelling of LIMIT n (n defaults to 1).
        if let Some(fetch) = &q.fetch {
            if limit.is_some() {
                return crate::bind_err!("LIMIT and FETCH cannot both be given");
            }
            limit = match &fetch.quantity {
                Some(n) => self.limit_value(n, "FETCH FIRST")?,
                None => Some(1),
            };
        }
        let order_by: &[ast::OrderByExpr] = match &q.order_by {
            None => &[],
            Some(ob) => match &ob.kind {
                ast::OrderByKind::Expressions(exprs) => exprs,
                ast::OrderByKind::All(_) => return crate::unsupported!("ORDER BY ALL"),
            },
        };
        let tail = Tail { order_by, limit, offset };
        let mut bound = self.query_body(q, tail)?;
        bound.plan = self.settle_ctes(bound.plan, &defined);
        Ok(bound)
    }

    fn query_body(&self, q: &ast::Query, tail: Tail<'_>) -> Result<BoundQuery> {
        let order_by = tail.order_by;
        match q.body.as_ref() {
            SetExpr::Select(select) => self.select(select, tail),
            body => {
                // PostgreSQL sorts a UNION / INTERSECT / EXCEPT only by output names or positions.
                if matches!(body, SetExpr::SetOperation { .. }) {
                    for ob in order_by {
                        if !matches!(&ob.expr, ast::Expr::Identifier(_) | ast::Expr::Value(_)) {
                            return crate::bind_err!(
                                "invalid UNION/INTERSECT/EXCEPT ORDER BY clause: only result column names can be used, not expressions"
                            );
                        }
                    }
                }
                let bound = self.set_expr(body)?;
                self.finish_simple(bound, tail)
            }
        }
    }

    /// A query body without ORDER BY / LIMIT of its own.
    /// A CTE of a WITH RECURSIVE: `anchor UNION [ALL] step`, where `step` may read the CTE
    /// itself (the previous step's rows). Any other form is an ordinary CTE.
    fn recursive_cte(&self, name: &str, cte: &ast::Cte) -> Result<BoundQuery> {
        let q = &cte.query;
        let (left, right, all) = match q.body.as_ref() {
            SetExpr::SetOperation { op: ast::SetOperator::Union, set_quantifier, left, right }
                if q.order_by.is_none() && q.limit_clause.is_none() && q.with.is_none() =>
            {
                (left, right, matches!(set_quantifier, ast::SetQuantifier::All))
            }
            _ => return self.query(q),
        };
        let mut anchor = self.set_expr(left)?;
        for (slot, c) in anchor.names.iter_mut().zip(&cte.alias.columns) {
            *slot = normalize(&c.name);
        }
        let types = anchor.types();
        let slot = std::sync::Arc::new(exec::WorkingTable::default());
        let working = BoundQuery {
            plan: LogicalPlan::WorkingTable { slot: slot.clone(), types: types.clone() },
            names: anchor.names.clone(),
        };
        let n = self.ctes.borrow().len();
        self.ctes.borrow_mut().push((name.to_string(), std::rc::Rc::new(working)));
        let step = self.set_expr(right);
        self.ctes.borrow_mut().truncate(n);
        let step = step?;
        let step_types = step.types();
        if step_types.len() != types.len() {
            return crate::bind_err!("each UNION query must have the same number of columns");
        }
        // The step's columns take the anchor's types.
        let step_plan = if step_types == types {
            step.plan
        } else {
            let exprs = step_types
                .iter()
                .zip(&types)
                .enumerate()
                .map(|(idx, (from, to))| {
                    let col = Expr::Column { idx, name: anchor.names[idx].clone(), data_type: *from };
                    coerce::cast_to(col, *to)
                })
                .collect::<Result<Vec<_>>>()?;
            LogicalPlan::Project { input: Box::new(step.plan), exprs }
        };
        fn reads(plan: &LogicalPlan, slot: &std::sync::Arc<exec::WorkingTable>) -> bool {
            match plan {
                LogicalPlan::WorkingTable { slot: s, .. } => std::sync::Arc::ptr_eq(s, slot),
                other => other.children().into_iter().any(|c| reads(c, slot)),
            }
        }
        let plan = if reads(&step_plan, &slot) {
            LogicalPlan::RecursiveCte {
                slot,
                anchor: Box::new(anchor.plan),
                recursive: Box::new(step_plan),
                distinct: !all,
            }
        } else {
            let union = LogicalPlan::Union { inputs: vec![anchor.plan, step_plan] };
            if all {
                union
            } else {
                distinct_of(union, &types)
            }
        };
        Ok(BoundQuery { plan, names: anchor.names })
    }

    fn set_expr(&self, body: &SetExpr) -> Result<BoundQuery> {
        match body {
            SetExpr::Select(select) => self.select(select, Tail { order_by: &[], limit: None, offset: 0 }),
            SetExpr::Values(values) => self.values(values),
            SetExpr::Query(inner) => self.query(inner),
            SetExpr::SetOperation { op, set_quantifier, left, right } => {
                let all = match set_quantifier {
                    ast::SetQuantifier::All => true,
                    ast::SetQuantifier::Distinct | ast::SetQuantifier::None => false,
                    other => return crate::unsupported!("set quantifier {other}"),
                };
                let l = self.set_expr(left)?;
                let r = self.set_expr(right)?;
                let (lt, rt) = (l.types(), r.types());
                if lt.len() != rt.len() {
                    return crate::bind_err!("each {op} query must have the same number of columns");
                }
                let mut types = Vec::with_capacity(lt.len());
                for (a, b) in lt.iter().zip(&rt) {
                    let t = exec::functions::common_type(&[*a, *b]).ok_or_else(|| SqlError::Bind {
                        message: format!("{op} types {a} and {b} cannot be matched"),
                        pos: None,
                    })?;
                    types.push(if t == DataType::Null { DataType::Text } else { t });
                }
                let cast_side = |plan: LogicalPlan, have: &[DataType]| -> Result<LogicalPlan> {
                    if have == types.as_slice() {
                        return Ok(plan);
                    }
                    let exprs = have
                        .iter()
                        .zip(&types)
                        .enumerate()
                        .map(|(idx, (h, t))| cast_to(Expr::Column { idx, name: format!("#{idx}"), data_type: *h }, *t))
                        .collect::<Result<Vec<_>>>()?;
                    Ok(LogicalPlan::Project { input: Box::new(plan), exprs })
                };
                let lp = cast_side(l.plan, &lt)?;
                let rp = cast_side(r.plan, &rt)?;
                let plan = match op {
                    ast::SetOperator::Union => {
                        let union = LogicalPlan::Union { inputs: vec![lp, rp] };
                        if all {
                            union
                        } else {
                            distinct_of(union, &types)
                        }
                    }
                    ast::SetOperator::Intersect => {
                        LogicalPlan::SetOp { left: Box::new(lp), right: Box::new(rp), kind: SetOpKind::Intersect, all }
                    }
                    ast::SetOperator::Except | ast::SetOperator::Minus => {
                        LogicalPlan::SetOp { left: Box::new(lp), right: Box::new(rp), kind: SetOpKind::Except, all }
                    }
                };
                Ok(BoundQuery { plan, names: l.names })
            }
            other => crate::unsupported!("query body {other}"),
        }
    }

    /// ORDER BY (by output name or position) and LIMIT over a body without its own scope.
    fn finish_simple(&self, body: BoundQuery, tail: Tail) -> Result<BoundQuery> {
        let BoundQuery { mut plan, names } = body;
        let types = plan.output_types();
        if !tail.order_by.is_empty() {
            let scope = Scope {
                columns: names.iter().zip(&types).map(|(n, t)| ScopeColumn::new(None, n.clone(), *t)).collect(),
            };
            let mut keys = Vec::new();
            for ob in tail.order_by {
                let expr = match self.position_ref(&ob.expr, &scope)? {
                    Some(e) => e,
                    None => self.expr(&ob.expr, &mut Cx::plain(&scope, "ORDER BY"))?,
                };
                keys.push(sort_key(expr, ob)?);
            }
            plan = LogicalPlan::Sort { input: Box::new(plan), keys, fetch: None };
        }
        Ok(BoundQuery { plan: apply_limit(plan, tail.limit, tail.offset), names })
    }

    /// `ORDER BY 2`: a reference to the second output column.
    fn position_ref(&self, e: &ast::Expr, scope: &Scope) -> Result<Option<Expr>> {
        if let ast::Expr::Value(v) = e {
            if let ast::Value::Number(n, _) = &v.value {
                let k: usize = n.parse().map_err(|_| SqlError::Bind {
                    message: format!("non-integer constant {n} in ORDER BY"),
                    pos: pos_of(v),
                })?;
                if k == 0 || k > scope.columns.len() {
                    return Err(SqlError::Bind {
                        message: format!("ORDER BY position {k} is not in select list"),
                        pos: pos_of(v),
                    });
                }
                let col = &scope.columns[k - 1];
                return Ok(Some(Expr::Column { idx: k - 1, name: col.name.clone(), data_type: col.data_type }));
            }
        }
        Ok(None)
    }

    /// A standalone `VALUES (...), (...)` list: columns get the common type of their rows.
    pub fn values(&self, values: &ast::Values) -> Result<BoundQuery> {
        let scope = Scope::default();
        let mut rows: Vec<Vec<Expr>> = Vec::with_capacity(values.rows.len());
        for row in &values.rows {
            let exprs =
                row.iter().map(|e| self.expr(e, &mut Cx::plain(&scope, "VALUES"))).collect::<Result<Vec<_>>>()?;
            if let Some(first) = rows.first() {
                if first.len() != exprs.len() {
                    return crate::bind_err!("VALUES lists must all be the same length");
                }
            }
            rows.push(exprs);
        }
        let n_cols = rows.first().map_or(0, Vec::len);
        let mut types = Vec::with_capacity(n_cols);
        for col_idx in 0..n_cols {
            let column: Vec<&Expr> = rows.iter().map(|r| &r[col_idx]).collect();
            let t = coerce::common_type(&column, "VALUES")?;
            types.push(if t == DataType::Null { DataType::Text } else { t });
        }
        for row in &mut rows {
            for (col_idx, e) in row.iter_mut().enumerate() {
                *e = cast_to(e.clone(), types[col_idx])?;
            }
        }
        let names = (1..=n_cols).map(|k| format!("column{k}")).collect();
        Ok(BoundQuery { plan: LogicalPlan::Values { rows, types }, names })
    }

    /// The FROM clause: its plan and the columns it makes visible. Several items are a cross
    /// join (a WHERE equality then turns it into a hash join).
    pub(crate) fn from(&self, from: &[ast::TableWithJoins]) -> Result<(LogicalPlan, Scope)> {
        let mut acc: Option<(LogicalPlan, Scope)> = None;
        for item in from {
            let next = self.table_with_joins(item)?;
            if let Some(left) = &acc {
                check_distinct_names(&left.1, &next.1)?;
            }
            acc = Some(match acc {
                None => next,
                Some(left) => join_plans(left, next, JoinKind::Inner, None),
            });
        }
        Ok(acc.unwrap_or_else(|| (LogicalPlan::Values { rows: vec![vec![]], types: vec![] }, Scope::default())))
    }

    fn table_with_joins(&self, twj: &ast::TableWithJoins) -> Result<(LogicalPlan, Scope)> {
        let mut acc = self.relation(&twj.relation)?;
        for join in &twj.joins {
            use ast::JoinOperator as J;
            let (kind, constraint) = match &join.join_operator {
                J::Join(c) | J::Inner(c) => (JoinKind::Inner, Some(c)),
                J::Left(c) | J::LeftOuter(c) => (JoinKind::Left, Some(c)),
                J::Right(c) | J::RightOuter(c) => (JoinKind::Right, Some(c)),
                J::FullOuter(c) => (JoinKind::Full, Some(c)),
                J::CrossJoin(c) => (JoinKind::Inner, Some(c)),
                J::Semi(c) | J::LeftSemi(c) => (JoinKind::Semi, Some(c)),
                J::Anti(c) | J::LeftAnti(c) => (JoinKind::Anti, Some(c)),
                _ => return crate::unsupported!("join kind in \"{}\"", join.to_string().trim()),
            };
            let right = self.relation(&join.relation)?;
            check_distinct_names(&acc.1, &right.1)?;
            let n_left = acc.1.columns.len();
            // The combined scope, for binding ON.
            let mut scope = acc.1.clone();
            scope.columns.extend(right.1.columns.iter().cloned());
            let mut using: Vec<(String, Option<crate::error::Pos>)> = Vec::new();
            // (name, left column, right column) of each USING column.
            let mut pairs: Vec<(String, usize, usize)> = Vec::new();
            let on = match constraint {
                Some(ast::JoinConstraint::On(e)) => {
                    let cond = self.expr(e, &mut Cx::plain(&scope, "JOIN/ON"))?;
                    Some(coerce::boolean(cond, "JOIN/ON")?)
                }
                Some(ast::JoinConstraint::Using(cols)) => {
                    for c in cols {
                        using.push(super::object_name(c)?);
                    }
                    None
                }
                Some(ast::JoinConstraint::Natural) => {
                    for c in &acc.1.columns {
                        if !c.hidden && right.1.columns.iter().any(|r| r.name == c.name && !r.hidden) {
                            using.push((c.name.clone(), None));
                        }
                    }
                    None
                }
                Some(ast::JoinConstraint::None) | None => None,
                Some(other) => return crate::unsupported!("join constraint {other:?}"),
            };
            let on = if using.is_empty() {
                on
            } else {
                let mut parts = Vec::new();
                for (name, pos) in &using {
                    let find = |cols: &[ScopeColumn], offset: usize, side: &str| -> Result<usize> {
                        let hits: Vec<usize> = cols
                            .iter()
                            .enumerate()
                            .filter(|(_, c)| c.name == *name && !c.hidden)
                            .map(|(i, _)| i + offset)
                            .collect();
                        match hits.as_slice() {
                            [one] => Ok(*one),
                            [] => Err(SqlError::Bind {
                                message: format!(
                                    "column \"{name}\" specified in USING clause does not exist in {side} table"
                                ),
                                pos: *pos,
                            }),
                            _ => Err(SqlError::Bind {
                                message: format!(
                                    "common column name \"{name}\" appears more than once in {side} table"
                                ),
                                pos: *pos,
                            }),
                        }
                    };
                    let l = find(&acc.1.columns, 0, "left")?;
                    let r = find(&right.1.columns, n_left, "right")?;
                    let col = |idx: usize| {
                        let c = &scope.columns[idx];
                        Expr::Column { idx, name: c.name.clone(), data_type: c.data_type }
                    };
                    parts.push(coerce::compare(exec::CmpOp::Eq, col(l), col(r))?);
                    pairs.push((name.clone(), l, r));
                }
                crate::plan::conjoin(parts)
            };
            let left_scope = acc.1.clone();
            let (mut plan, _) = join_plans(acc, right, kind, on);
            if kind.left_only() {
                // SEMI / ANTI JOIN: only the left side's columns come out.
                scope = left_scope;
            } else if !pairs.is_empty() {
                // As in PostgreSQL, a USING column appears once, first, as the left copy (the
                // right one for RIGHT JOIN, COALESCE of both for FULL JOIN); the two copies
                // stay reachable by qualified name only.
                let col = |idx: usize| {
                    let c = &scope.columns[idx];
                    Expr::Column { idx, name: c.name.clone(), data_type: c.data_type }
                };
                let mut exprs = Vec::new();
                let mut columns = Vec::new();
                for (name, l, r) in &pairs {
                    let merged = match kind {
                        JoinKind::Inner | JoinKind::Left | JoinKind::Semi | JoinKind::Anti => col(*l),
                        JoinKind::Right => col(*r),
                        JoinKind::Full => {
                            let t = coerce::common_type(&[&col(*l), &col(*r)], "JOIN/USING")?;
                            exec::Expr::Function {
                                func: exec::ScalarFunction::Coalesce,
                                args: vec![coerce::cast_to(col(*l), t)?, coerce::cast_to(col(*r), t)?],
                                data_type: t,
                            }
                        }
                    };
                    columns.push(ScopeColumn::new(None, name.clone(), merged.data_type()));
                    exprs.push(merged);
                }
                for (idx, c) in scope.columns.iter().enumerate() {
                    let mut c = c.clone();
                    c.hidden |= pairs.iter().any(|(_, l, r)| *l == idx || *r == idx);
                    exprs.push(col(idx));
                    columns.push(c);
                }
                plan = LogicalPlan::Project { input: Box::new(plan), exprs };
                scope = Scope { columns };
            }
            acc = (plan, scope);
        }
        Ok(acc)
    }

    /// One FROM item: a table, a CTE, a derived table or a parenthesized join.
    fn relation(&self, tf: &TableFactor) -> Result<(LogicalPlan, Scope)> {
        let rename = |alias: &Option<ast::TableAlias>,
                      default: String,
                      mut names: Vec<String>|
         -> Result<(String, Vec<String>)> {
            match alias {
                Some(a) => {
                    if a.columns.len() > names.len() {
                        return crate::bind_err!(
                            "table \"{}\" has {} columns available but {} columns specified",
                            normalize(&a.name),
                            names.len(),
                            a.columns.len()
                        );
                    }
                    for (slot, c) in names.iter_mut().zip(&a.columns) {
                        *slot = normalize(&c.name);
                    }
                    Ok((normalize(&a.name), names))
                }
                None => Ok((default, names)),
            }
        };
        let scope_of = |qualifier: String, names: Vec<String>, types: Vec<DataType>| Scope {
            columns: names
                .into_iter()
                .zip(types)
                .map(|(name, t)| ScopeColumn::new(Some(qualifier.clone()), name, t))
                .collect(),
        };
        match tf {
            TableFactor::Table { name, alias, args: None, .. } => {
                let (table_name, _) = super::object_name(name)?;
                let cte = if name.0.len() == 1 {
                    self.ctes.borrow().iter().rev().find(|(n, _)| *n == table_name).map(|(_, q)| q.clone())
                } else {
                    None
                };
                if let Some(cte) = cte {
                    let (qualifier, names) = rename(alias, table_name, cte.names.clone())?;
                    return Ok((cte.plan.clone(), scope_of(qualifier, names, cte.types())));
                }
                let table = self.table(name)?;
                let names = table.schema().columns.iter().map(|c| c.name.clone()).collect();
                let types = table.schema().columns.iter().map(|c| c.data_type).collect();
                let (qualifier, names) = rename(alias, table_name, names)?;
                let columns = (0..table.schema().columns.len()).collect();
                Ok((LogicalPlan::Scan { table, columns, filter: None }, scope_of(qualifier, names, types)))
            }
            TableFactor::Table { name, alias, args: Some(args), .. } => {
                let (fname, _) = super::object_name(name)?;
                let (plan, column) = self.table_function(&fname, name, &args.args)?;
                let types = plan.output_types();
                // `FROM generate_series(1, 3) AS t` names the column t too (PostgreSQL, DuckDB).
                let column = match alias {
                    Some(a) if a.columns.is_empty() => normalize(&a.name),
                    _ => column,
                };
                let (qualifier, names) = rename(alias, fname, vec![column])?;
                Ok((plan, scope_of(qualifier, names, types)))
            }
            TableFactor::Derived { lateral, subquery, alias, .. } => {
                if *lateral {
                    return crate::unsupported!("LATERAL");
                }
                let bound = self.query(subquery)?;
                let types = bound.types();
                let (qualifier, names) = rename(alias, "subquery".to_string(), bound.names)?;
                let mut scope = scope_of(qualifier, names, types);
                if alias.is_none() {
                    // An unnamed derived table (allowed, as in PostgreSQL 16) has no qualifier.
                    scope.columns.iter_mut().for_each(|c| c.qualifier = None);
                }
                Ok((bound.plan, scope))
            }
            TableFactor::NestedJoin { table_with_joins, alias } => {
                if alias.is_some() {
                    return crate::unsupported!("an alias on a parenthesized join");
                }
                self.table_with_joins(table_with_joins)
            }
            other => crate::unsupported!("FROM {other}"),
        }
    }

    /// A function in FROM: `generate_series(start, stop [, step])` (stop included) and
    /// `range(start, stop [, step])` (stop excluded), over integers or over timestamps with an
    /// INTERVAL step. Returns the plan and its column's name.
    fn table_function(
        &self,
        fname: &str,
        name: &ast::ObjectName,
        args: &[ast::FunctionArg],
    ) -> Result<(LogicalPlan, String)> {
        let inclusive = match fname {
            "generate_series" => true,
            "range" => false,
            _ => {
                return Err(SqlError::Bind {
                    message: format!(
                        "table function \"{fname}\" does not exist (table functions: generate_series, range)"
                    ),
                    pos: pos_of(name),
                })
            }
        };
        let arity_ok = match args.len() {
            2 | 3 => true,
            1 => !inclusive,
            _ => false,
        };
        if !arity_ok {
            let wanted = if inclusive { "2 or 3" } else { "1 to 3" };
            return crate::bind_err!("{fname}() takes {wanted} arguments, got {}", args.len());
        }
        let empty = Scope::default();
        let mut bound = Vec::with_capacity(args.len());
        for a in args {
            let e = match a {
                ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(e)) => e,
                other => return crate::unsupported!("{fname}() argument {other}"),
            };
            bound.push(self.expr(e, &mut Cx::plain(&empty, "FROM"))?);
        }
        // range(n) is range(0, n).
        if bound.len() == 1 {
            bound.insert(0, Expr::literal(Value::BigInt(0)));
        }
        let types: Vec<DataType> = bound.iter().map(Expr::data_type).collect();
        let is_time = |t: DataType| matches!(t, DataType::Date | DataType::Timestamp);
        let timestamps = types[..2].iter().any(|t| is_time(*t))
            || (types.len() == 3 && types[2] == DataType::Interval && types[..2].iter().all(|t| !t.is_numeric()));
        let data_type = if timestamps { DataType::Timestamp } else { DataType::BigInt };
        let mut typed = Vec::with_capacity(bound.len());
        for (k, e) in bound.into_iter().enumerate() {
            let t = e.data_type();
            let want = if k == 2 && timestamps { DataType::Interval } else { data_type };
            let ok = t == DataType::Null
                || t == want
                || (want == DataType::BigInt && t.is_integer())
                || (want == DataType::Timestamp && (is_time(t) || t == DataType::Text));
            if !ok {
                let names: Vec<String> = types.iter().map(|t| t.to_string()).collect();
                return crate::bind_err!(
                    "function {fname}({}) does not exist: it takes integers, or timestamps with an INTERVAL step",
                    names.join(", ")
                );
            }
            typed.push(cast_to(e, want)?);
        }
        if timestamps && typed.len() == 2 {
            return crate::bind_err!("{fname}() over timestamps needs an INTERVAL step");
        }
        Ok((LogicalPlan::Series { args: typed, inclusive, data_type }, fname.to_string()))
    }

    fn select(&self, s: &ast::Select, tail: Tail) -> Result<BoundQuery> {
        if s.top.is_some() || s.into.is_some() || !s.lateral_views.is_empty() {
            return crate::unsupported!("this SELECT form");
        }
        // Window calls and named windows belong to this SELECT only: a subquery met while
        // binding it keeps its own.
        let mut named = Vec::new();
        for ast::NamedWindowDefinition(name, def) in &s.named_window {
            let spec = match def {
                ast::NamedWindowExpr::WindowSpec(spec) => spec.clone(),
                ast::NamedWindowExpr::NamedWindow(other) => {
                    match named.iter().find(|(n, _): &&(String, ast::WindowSpec)| *n == normalize(other)) {
                        Some((_, spec)) => spec.clone(),
                        None => return crate::bind_err!("window \"{}\" does not exist", normalize(other)),
                    }
                }
            };
            if named.iter().any(|(n, _)| *n == normalize(name)) {
                return crate::bind_err!("window \"{}\" is already defined", normalize(name));
            }
            named.push((normalize(name), spec));
        }
        let saved_windows = self.windows.replace(Vec::new());
        let saved_named = self.named_windows.replace(named);
        let result = self.select_inner(s, tail);
        self.windows.replace(saved_windows);
        self.named_windows.replace(saved_named);
        result
    }

    /// Binds one GROUP BY key (an expression, an output position or an output alias) into
    /// `agg.group_by` once; returns its index there.
    fn group_key(
        &self,
        g: &ast::Expr,
        select_asts: &[(&ast::Expr, Option<String>)],
        scope: &Scope,
        agg: &mut AggState,
    ) -> Result<usize> {
        let target = match g {
            ast::Expr::Value(v) if matches!(v.value, ast::Value::Number(..)) => {
                let k = self.constant(g, "GROUP BY")?.as_i64().unwrap_or(0);
                match usize::try_from(k).ok().and_then(|k| k.checked_sub(1)).and_then(|k| select_asts.get(k)) {
                    Some((e, _)) => *e,
                    None => {
                        return Err(SqlError::Bind {
                            message: format!("GROUP BY position {k} is not in select list"),
                            pos: pos_of(v),
                        })
                    }
                }
            }
            ast::Expr::Identifier(id) if !scope.columns.iter().any(|c| c.name == normalize(id)) => {
                match select_asts.iter().find(|(_, alias)| alias.as_deref() == Some(&normalize(id))) {
                    Some((e, _)) => *e,
                    None => g,
                }
            }
            _ => g,
        };
        if self.contains_aggregate(target, scope) {
            return crate::bind_err!("aggregate functions are not allowed in GROUP BY");
        }
        let bound = self.expr(target, &mut Cx::plain(scope, "GROUP BY"))?;
        Ok(match agg.group_by.iter().position(|k| *k == bound) {
            Some(k) => k,
            None => {
                agg.group_by.push(bound);
                agg.group_by.len() - 1
            }
        })
    }

    fn select_inner(&self, s: &ast::Select, tail: Tail) -> Result<BoundQuery> {
        let first_subquery = self.subqueries.borrow().len();
        let (mut plan, scope) = self.from(&s.from)?;
        if let Some(w) = &s.selection {
            let pred = self.expr(w, &mut Cx::plain(&scope, "WHERE"))?;
            let pred = coerce::boolean(pred, "WHERE")?;
            plan = LogicalPlan::Filter { input: Box::new(plan), predicate: pred };
        }

        let select_asts: Vec<(&ast::Expr, Option<String>)> = s
            .projection
            .iter()
            .filter_map(|item| match item {
                SelectItem::UnnamedExpr(e) => Some((e, None)),
                SelectItem::ExprWithAlias { expr, alias } => Some((expr, Some(normalize(alias)))),
                _ => None,
            })
            .collect();
        let group_all: Vec<ast::Expr>;
        let group_exprs: &[ast::Expr] = match &s.group_by {
            ast::GroupByExpr::Expressions(exprs, modifiers) => {
                if !modifiers.is_empty() {
                    return crate::unsupported!("GROUP BY modifiers");
                }
                exprs
            }
            ast::GroupByExpr::All(modifiers) => {
                if !modifiers.is_empty() {
                    return crate::unsupported!("GROUP BY ALL with modifiers");
                }
                // DuckDB's GROUP BY ALL: every select item without an aggregate is a key.
                if s.projection
                    .iter()
                    .any(|i| !matches!(i, SelectItem::UnnamedExpr(_) | SelectItem::ExprWithAlias { .. }))
                {
                    return crate::unsupported!("GROUP BY ALL with * in the select list");
                }
                group_all = select_asts
                    .iter()
                    // A literal key groups nothing (and `5` would read as a position).
                    .filter(|(e, _)| !matches!(e, ast::Expr::Value(_)) && !self.contains_aggregate(e, &scope))
                    .map(|(e, _)| (*e).clone())
                    .collect();
                &group_all
            }
        };
        let is_aggregate = !group_exprs.is_empty()
            || matches!(s.group_by, ast::GroupByExpr::All(_))
            || s.having.is_some()
            || select_asts.iter().any(|(e, _)| self.contains_aggregate(e, &scope))
            || tail.order_by.iter().any(|o| self.contains_aggregate(&o.expr, &scope));

        let mut agg_state = AggState::default();
        // Grouping sets (ROLLUP, CUBE, GROUPING SETS): for each set, which keys it groups by.
        let mut grouping_sets: Option<Vec<Vec<bool>>> = None;
        if is_aggregate {
            // Each GROUP BY item contributes a list of key lists; the query's grouping sets are
            // their cartesian product (`GROUP BY a, ROLLUP (b, c)` = (a,b,c), (a,b), (a)).
            let mut items: Vec<Vec<Vec<usize>>> = Vec::new();
            for g in group_exprs {
                let lists: Vec<Vec<&ast::Expr>> = match g {
                    ast::Expr::Rollup(parts) => {
                        (0..=parts.len()).rev().map(|n| parts[..n].iter().flatten().collect()).collect()
                    }
                    ast::Expr::Cube(parts) => {
                        if parts.len() > 12 {
                            return crate::unsupported!("CUBE of more than 12 elements");
                        }
                        // Larger sets first, as PostgreSQL lists them.
                        let mut masks: Vec<u32> = (0..1u32 << parts.len()).collect();
                        masks.sort_by_key(|m| std::cmp::Reverse(m.count_ones()));
                        masks
                            .iter()
                            .map(|m| {
                                parts
                                    .iter()
                                    .enumerate()
                                    .filter(|(i, _)| m & (1 << (parts.len() - 1 - i)) != 0)
                                    .flat_map(|(_, p)| p.iter())
                                    .collect()
                            })
                            .collect()
                    }
                    ast::Expr::GroupingSets(sets) => sets.iter().map(|set| set.iter().collect()).collect(),
                    other => vec![vec![other]],
                };
                let mut item = Vec::with_capacity(lists.len());
                for list in lists {
                    let mut keys = Vec::with_capacity(list.len());
                    for g in list {
                        if matches!(g, ast::Expr::Rollup(_) | ast::Expr::Cube(_) | ast::Expr::GroupingSets(_)) {
                            return crate::unsupported!("nested grouping sets: {g}");
                        }
                        keys.push(self.group_key(g, &select_asts, &scope, &mut agg_state)?);
                    }
                    item.push(keys);
                }
                items.push(item);
            }
            if items.iter().any(|lists| lists.len() != 1) {
                let mut sets: Vec<Vec<usize>> = vec![vec![]];
                for lists in &items {
                    sets = sets
                        .iter()
                        .flat_map(|set| lists.iter().map(move |l| set.iter().chain(l).copied().collect()))
                        .collect();
                    if sets.len() > 4096 {
                        return crate::unsupported!("more than 4096 grouping sets");
                    }
                }
                let n_keys = agg_state.group_by.len();
                if n_keys > 62 {
                    return crate::unsupported!("grouping sets over more than 62 keys");
                }
                grouping_sets = Some(sets.iter().map(|set| (0..n_keys).map(|k| set.contains(&k)).collect()).collect());
                // A hidden key tells the sets apart: bit k is set where key k is not grouped.
                agg_state.grouping_id = Some(agg_state.group_by.len());
                agg_state.group_by.push(GROUPING_ID_PLACEHOLDER.clone());
            }
        }

        // The SELECT list, bound against the FROM scope or the aggregate output.
        let mut exprs = Vec::new();
        let mut names = Vec::new();
        for item in &s.projection {
            match item {
                SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => {
                    let mut cx = Cx::aggregate(&scope, is_aggregate.then_some(&mut agg_state), "SELECT");
                    exprs.push(self.expr(e, &mut cx)?);
                    names.push(match item {
                        SelectItem::ExprWithAlias { alias, .. } => normalize(alias),
                        _ => output_name(e),
                    });
                }
                SelectItem::Wildcard(_) | SelectItem::QualifiedWildcard(..) => {
                    let qualifier = match item {
                        SelectItem::QualifiedWildcard(ast::SelectItemQualifiedWildcardKind::ObjectName(n), _) => {
                            Some(super::object_name(n)?.0)
                        }
                        SelectItem::QualifiedWildcard(..) => return crate::unsupported!("{item}"),
                        _ => None,
                    };
                    if scope.columns.is_empty() {
                        return crate::bind_err!("SELECT * with no tables specified is not valid");
                    }
                    let mut any = false;
                    for (idx, c) in scope.columns.iter().enumerate() {
                        if (qualifier.is_none() && !c.hidden) || (qualifier.is_some() && c.qualifier == qualifier) {
                            let col = Expr::Column { idx, name: c.name.clone(), data_type: c.data_type };
                            // With GROUP BY, `*` is fine when every column it names is grouped.
                            let col = if is_aggregate {
                                match agg_state.group_by.iter().position(|g| *g == col) {
                                    Some(k) => Expr::Column { idx: k, name: c.name.clone(), data_type: c.data_type },
                                    None => {
                                        return crate::bind_err!(
                                            "column \"{}\" must appear in the GROUP BY clause or be used in an aggregate function",
                                            c.name
                                        )
                                    }
                                }
                            } else {
                                col
                            };
                            exprs.push(col);
                            names.push(c.name.clone());
                            any = true;
                        }
                    }
                    if !any {
                        return crate::bind_err!(
                            "missing FROM-clause entry for table \"{}\"",
                            qualifier.unwrap_or_default()
                        );
                    }
                }
                other => return crate::unsupported!("select item {other}"),
            }
        }

        let having = match &s.having {
            Some(h) => {
                let mut cx = Cx::aggregate(&scope, Some(&mut agg_state), "HAVING").with_aliases(&select_asts);
                Some(coerce::boolean(self.expr(h, &mut cx)?, "HAVING")?)
            }
            None => None,
        };

        // QUALIFY filters on window results (and anything else the SELECT list may read).
        let mut qualify = match &s.qualify {
            Some(q) => {
                let mut cx =
                    Cx::aggregate(&scope, is_aggregate.then_some(&mut agg_state), "QUALIFY").with_aliases(&select_asts);
                Some(coerce::boolean(self.expr(q, &mut cx)?, "QUALIFY")?)
            }
            None => None,
        };

        // ORDER BY: an output name or position, an output expression, or a hidden column.
        let n_visible = exprs.len();
        let out_scope = Scope {
            columns: names.iter().zip(&exprs).map(|(n, e)| ScopeColumn::new(None, n.clone(), e.data_type())).collect(),
        };
        let (distinct, distinct_on) = match &s.distinct {
            None | Some(ast::Distinct::All) => (false, None),
            Some(ast::Distinct::Distinct) => (true, None),
            Some(ast::Distinct::On(on)) => (false, Some(on)),
        };
        // An ORDER BY or DISTINCT ON key: an output column, or a hidden column added to `exprs`.
        let mut output_key = |e: &ast::Expr, exprs: &mut Vec<Expr>, clause: &'static str| -> Result<Expr> {
            let by_output = match e {
                ast::Expr::Identifier(id) => {
                    let name = normalize(id);
                    let hits: Vec<usize> =
                        names.iter().enumerate().filter(|(_, n)| **n == name).map(|(i, _)| i).collect();
                    match hits.as_slice() {
                        [k] => Some(Expr::Column { idx: *k, name, data_type: exprs[*k].data_type() }),
                        // Several output columns with this name: fine if they are the same expression.
                        [k, rest @ ..] if rest.iter().all(|r| exprs[*r] == exprs[*k]) => {
                            Some(Expr::Column { idx: *k, name, data_type: exprs[*k].data_type() })
                        }
                        [_, _, ..] => {
                            return Err(SqlError::Bind {
                                message: format!("ORDER BY \"{name}\" is ambiguous"),
                                pos: super::ident_pos(id),
                            })
                        }
                        [] => None,
                    }
                }
                _ => self.position_ref(e, &out_scope)?,
            };
            Ok(match by_output {
                Some(e) => e,
                None => {
                    let mut cx = Cx::aggregate(&scope, is_aggregate.then_some(&mut agg_state), clause)
                        .with_aliases(&select_asts);
                    let bound = self.expr(e, &mut cx)?;
                    match exprs.iter().position(|x| *x == bound) {
                        Some(k) => Expr::Column {
                            idx: k,
                            name: names.get(k).cloned().unwrap_or_else(|| e.to_string()),
                            data_type: bound.data_type(),
                        },
                        None if distinct => {
                            return crate::bind_err!(
                                "for SELECT DISTINCT, ORDER BY expressions must appear in select list"
                            )
                        }
                        None => {
                            exprs.push(bound.clone());
                            Expr::Column { idx: exprs.len() - 1, name: e.to_string(), data_type: bound.data_type() }
                        }
                    }
                }
            })
        };
        let mut keys = Vec::new();
        // DuckDB's ORDER BY ALL: every output column, left to right (unless a column is "all").
        let order_all = match tail.order_by {
            [ob] => matches!(&ob.expr, ast::Expr::Identifier(id) if id.quote_style.is_none()
                && id.value.eq_ignore_ascii_case("all")
                && !names.iter().any(|n| n == "all")
                && !scope.columns.iter().any(|c| c.name == "all")),
            _ => false,
        };
        if order_all {
            for (idx, name) in names.iter().enumerate() {
                let col = Expr::Column { idx, name: name.clone(), data_type: exprs[idx].data_type() };
                keys.push(sort_key(col, &tail.order_by[0])?);
            }
        } else {
            for ob in tail.order_by {
                let key_expr = output_key(&ob.expr, &mut exprs, "ORDER BY")?;
                keys.push(sort_key(key_expr, ob)?);
            }
        }
        let mut on_keys = Vec::new();
        for e in distinct_on.into_iter().flatten() {
            on_keys.push(output_key(e, &mut exprs, "DISTINCT ON")?);
        }

        // Window results follow the columns of the Window node's input.
        let windows = self.windows.take();
        if qualify.is_some() && windows.is_empty() {
            // As DuckDB: without a window, QUALIFY would only be a misplaced WHERE or HAVING.
            return crate::bind_err!(
                "QUALIFY needs a window function in the SELECT list or in QUALIFY (use WHERE or HAVING)"
            );
        }
        if !windows.is_empty() {
            let base =
                if is_aggregate { agg_state.group_by.len() + agg_state.aggregates.len() } else { scope.columns.len() };
            let renumber =
                |c: usize| if c >= super::window::WINDOW_BASE { c - super::window::WINDOW_BASE + base } else { c };
            exprs.iter_mut().for_each(|e| e.remap_columns(&renumber));
            if let Some(q) = &mut qualify {
                q.remap_columns(&renumber);
            }
            // `row_number() OVER () IN (SELECT ...)`: the IN operand lives with the subquery.
            for sub in self.subqueries.borrow_mut().iter_mut().skip(first_subquery) {
                if let super::SubqueryKind::In { needle, .. } = &mut sub.kind {
                    needle.remap_columns(&renumber);
                }
            }
        }
        if is_aggregate {
            if let Some(keys) = agg_state.input_order.take() {
                plan = LogicalPlan::Sort { input: Box::new(plan), keys, fetch: None };
            }
            plan = match grouping_sets {
                None => LogicalPlan::Aggregate {
                    input: Box::new(plan),
                    group_by: agg_state.group_by,
                    aggregates: agg_state.aggregates,
                },
                Some(sets) => grouping_sets_plan(plan, &agg_state.group_by, &agg_state.aggregates, &sets),
            };
            if let Some(h) = having {
                plan = LogicalPlan::Filter { input: Box::new(plan), predicate: h };
            }
        }
        if !windows.is_empty() {
            plan = LogicalPlan::Window { input: Box::new(plan), windows };
        }
        if let Some(q) = qualify {
            plan = LogicalPlan::Filter { input: Box::new(plan), predicate: q };
        }
        plan = LogicalPlan::Project { input: Box::new(plan), exprs: exprs.clone() };
        if distinct_on.is_some() {
            // DISTINCT ON (k): the first row of each k in ORDER BY order, as
            // `row_number() OVER (PARTITION BY k ORDER BY ...) = 1`.
            let rn = Expr::Column { idx: exprs.len(), name: "row_number".into(), data_type: DataType::BigInt };
            let window = exec::WindowExpr {
                func: exec::WindowFunc::RowNumber,
                args: vec![],
                distinct: false,
                filter: None,
                extra: None,
                partition_by: on_keys,
                order_by: keys.clone(),
                frame: exec::WindowFrame::default_frame(),
                data_type: DataType::BigInt,
            };
            plan = LogicalPlan::Window { input: Box::new(plan), windows: vec![window] };
            let first = Expr::Compare {
                op: exec::CmpOp::Eq,
                left: Box::new(rn),
                right: Box::new(Expr::Literal { value: Value::BigInt(1), data_type: DataType::BigInt }),
            };
            plan = LogicalPlan::Filter { input: Box::new(plan), predicate: first };
        }
        if distinct {
            let group_by = exprs
                .iter()
                .enumerate()
                .map(|(idx, e)| Expr::Column { idx, name: names[idx].clone(), data_type: e.data_type() })
                .collect();
            plan = LogicalPlan::Aggregate { input: Box::new(plan), group_by, aggregates: vec![] };
        }
        if !keys.is_empty() {
            plan = LogicalPlan::Sort { input: Box::new(plan), keys, fetch: None };
        }
        plan = apply_limit(plan, tail.limit, tail.offset);
        if exprs.len() > n_visible || distinct_on.is_some() {
            let visible = (0..n_visible)
                .map(|idx| Expr::Column { idx, name: names[idx].clone(), data_type: exprs[idx].data_type() })
                .collect();
            plan = LogicalPlan::Project { input: Box::new(plan), exprs: visible };
        }
        Ok(BoundQuery { plan, names })
    }
}

/// The hidden grouping-id key of a query with grouping sets, before each set's plan gives it
/// a value (no expression a query can write binds to it).
static GROUPING_ID_PLACEHOLDER: std::sync::LazyLock<Expr> = std::sync::LazyLock::new(|| Expr::Column {
    idx: usize::MAX,
    name: "grouping id".into(),
    data_type: storage::DataType::BigInt,
});

/// `UNION ALL` over the grouping sets of one aggregate: each set aggregates the same input by
/// its own keys, and the keys it does not group by are NULL in its rows. The last key is the
/// grouping id (bit k set where key k is not grouped), which `GROUPING()` reads.
fn grouping_sets_plan(
    input: LogicalPlan,
    group_by: &[Expr],
    aggregates: &[exec::AggregateExpr],
    sets: &[Vec<bool>],
) -> LogicalPlan {
    let n_keys = group_by.len() - 1;
    let inputs = sets
        .iter()
        .map(|set| {
            let present: Vec<usize> = (0..n_keys).filter(|&k| set[k]).collect();
            let agg = LogicalPlan::Aggregate {
                input: Box::new(input.clone()),
                group_by: present.iter().map(|&k| group_by[k].clone()).collect(),
                aggregates: aggregates.to_vec(),
            };
            let types = agg.output_types();
            let grouping_id: i64 = (0..n_keys).filter(|&k| !set[k]).map(|k| 1i64 << k).sum();
            let mut exprs: Vec<Expr> = Vec::with_capacity(group_by.len() + aggregates.len());
            for (k, key) in group_by[..n_keys].iter().enumerate() {
                exprs.push(match present.iter().position(|&p| p == k) {
                    Some(pos) => Expr::Column { idx: pos, name: key.to_string(), data_type: key.data_type() },
                    None => Expr::Literal { value: storage::Value::Null, data_type: key.data_type() },
                });
            }
            exprs.push(Expr::Literal {
                value: storage::Value::BigInt(grouping_id),
                data_type: storage::DataType::BigInt,
            });
            for (a, data_type) in types.iter().enumerate().skip(present.len()) {
                exprs.push(Expr::Column { idx: a, name: format!("agg{a}"), data_type: *data_type });
            }
            LogicalPlan::Project { input: Box::new(agg), exprs }
        })
        .collect();
    LogicalPlan::Union { inputs }
}

pub(super) fn sort_key(expr: Expr, ob: &ast::OrderByExpr) -> Result<SortKey> {
    let descending = match &ob.options.sort {
        None | Some(ast::OrderBySort::Asc) => false,
        Some(ast::OrderBySort::Desc) => true,
        Some(_) => return crate::unsupported!("ORDER BY ... USING"),
    };
    if ob.with_fill.is_some() {
        return crate::unsupported!("WITH FILL");
    }
    // PostgreSQL: NULLs sort as if larger than every value unless told otherwise.
    let nulls_first = ob.options.nulls_first.unwrap_or(descending);
    Ok(SortKey { expr, descending, nulls_first })
}

/// Two relations of one FROM clause may not share a name (`FROM t, t` needs an alias).
pub(crate) fn check_distinct_names(left: &Scope, right: &Scope) -> Result<()> {
    let taken: std::collections::HashSet<&str> = left.columns.iter().filter_map(|c| c.qualifier.as_deref()).collect();
    match right.columns.iter().filter_map(|c| c.qualifier.as_deref()).find(|q| taken.contains(q)) {
        Some(name) => crate::bind_err!("table name \"{name}\" specified more than once; give one of them an alias"),
        None => Ok(()),
    }
}

/// Joins two FROM items; the scope is the left's columns followed by the right's.
fn join_plans(
    left: (LogicalPlan, Scope),
    right: (LogicalPlan, Scope),
    kind: JoinKind,
    on: Option<Expr>,
) -> (LogicalPlan, Scope) {
    let mut scope = left.1;
    scope.columns.extend(right.1.columns);
    (LogicalPlan::Join { left: Box::new(left.0), right: Box::new(right.0), kind, on }, scope)
}

/// `SELECT DISTINCT *` over a plan: group by every column.
pub fn distinct_of(plan: LogicalPlan, types: &[DataType]) -> LogicalPlan {
    let group_by =
        types.iter().enumerate().map(|(idx, t)| Expr::Column { idx, name: format!("#{idx}"), data_type: *t }).collect();
    LogicalPlan::Aggregate { input: Box::new(plan), group_by, aggregates: vec![] }
}

/// Adds LIMIT/OFFSET, turning a sort directly below into a top-N sort.
fn apply_limit(plan: LogicalPlan, limit: Option<usize>, offset: usize) -> LogicalPlan {
    if limit.is_none() && offset == 0 {
        return plan;
    }
    let plan = match (plan, limit) {
        (LogicalPlan::Sort { input, keys, fetch: None }, Some(l)) => {
            LogicalPlan::Sort { input, keys, fetch: Some(l.saturating_add(offset)) }
        }
        (plan, _) => plan,
    };
    LogicalPlan::Limit { input: Box::new(plan), limit, offset }
}
