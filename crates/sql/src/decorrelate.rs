//! Subquery decorrelation: `WHERE [NOT] EXISTS (SELECT ... WHERE inner = outer ...)` and
//! `WHERE x IN (SELECT y ...)` become hash semi and anti joins, instead of running the
//! subquery once per distinct outer row (or, for IN, comparing with every value). A scalar
//! aggregate subquery correlated by equalities, in a SELECT list or a WHERE clause
//! (`(SELECT avg(x) FROM t WHERE t.k = o.k)`), becomes a left join with the aggregate grouped
//! by the inner keys; an outer row with no match gets the aggregate's value over no rows
//! (0 for COUNT).
//!
//! Only a top-level conjunct of a WHERE filter is rewritten, and only when the rewrite is
//! exact: the subquery is `[Project] [Filter] X` where `X` reads no outer column and the
//! filter's outer references sit in equalities with an inner side (those become the hash
//! keys) or in other conditions (which stay as the join's residual condition). NOT IN is left
//! alone: its NULL semantics differ from an anti join's.

use crate::binder::{Subquery, SubqueryKind};
use crate::optimizer::map_exprs;
use crate::plan::{conjoin, conjuncts, LogicalPlan};
use exec::{AggFunc, CmpOp, Expr, JoinKind};
use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};
use storage::{DataType, Value};

/// Rewrites the subqueries of `plan` that can run as joins; the subqueries used up are
/// replaced by empty plans in `subqueries` (their ids stay valid).
pub fn decorrelate(plan: LogicalPlan, subqueries: &mut [Subquery]) -> LogicalPlan {
    if subqueries.is_empty() {
        return plan;
    }
    let (plan, once) = used_once(plan, subqueries);
    rewrite(plan, subqueries, &once)
}

/// The ids of the subqueries whose placeholder appears exactly once (in the plan, in another
/// subquery's plan, captures or needle): only those may be replaced in place.
fn used_once(plan: LogicalPlan, subqueries: &mut [Subquery]) -> (LogicalPlan, HashSet<usize>) {
    fn count(e: &Expr, counts: &mut HashMap<usize, usize>) {
        if let Expr::Subquery { id, .. } = e {
            *counts.entry(*id).or_default() += 1;
        }
        e.children().into_iter().for_each(|c| count(c, counts));
    }
    let counts = RefCell::new(HashMap::new());
    let plan = map_exprs(plan, &|e| count(e, &mut counts.borrow_mut()));
    for sub in subqueries.iter_mut() {
        let p = std::mem::replace(&mut sub.plan, LogicalPlan::Values { rows: vec![], types: vec![] });
        sub.plan = map_exprs(p, &|e| count(e, &mut counts.borrow_mut()));
        sub.captures.iter().for_each(|e| count(e, &mut counts.borrow_mut()));
        if let SubqueryKind::In { needle, .. } = &sub.kind {
            count(needle, &mut counts.borrow_mut());
        }
    }
    let once = counts.into_inner().into_iter().filter(|&(_, n)| n == 1).map(|(id, _)| id).collect();
    (plan, once)
}

fn rewrite(plan: LogicalPlan, subqueries: &mut [Subquery], once: &HashSet<usize>) -> LogicalPlan {
    let rec = |p: Box<LogicalPlan>, subs: &mut [Subquery]| Box::new(rewrite(*p, subs, once));
    match plan {
        LogicalPlan::Filter { input, predicate } => {
            let mut input = rewrite(*input, subqueries, once);
            let mut kept = Vec::new();
            for c in conjuncts(predicate) {
                match as_join(&c, &input, subqueries) {
                    Some((id, kind, right, on)) => {
                        input = LogicalPlan::Join { left: Box::new(input), right: Box::new(right), kind, on: Some(on) };
                        let types = subqueries[id].plan.output_types();
                        subqueries[id].plan = LogicalPlan::Values { rows: vec![], types };
                        subqueries[id].captures.clear();
                    }
                    None => kept.push(c),
                }
            }
            let n_cols = input.output_types().len();
            let (input, kept) = scalar_joins(input, kept, subqueries, once);
            let filtered = match conjoin(kept) {
                Some(predicate) => LogicalPlan::Filter { input: Box::new(input), predicate },
                None => input,
            };
            // A filter passes its input's columns through: drop the joined ones.
            let types = filtered.output_types();
            if types.len() == n_cols {
                return filtered;
            }
            let exprs = types[..n_cols]
                .iter()
                .enumerate()
                .map(|(idx, &data_type)| Expr::Column { idx, name: format!("#{idx}"), data_type })
                .collect();
            LogicalPlan::Project { input: Box::new(filtered), exprs }
        }
        LogicalPlan::Project { input, exprs } => {
            let input = rewrite(*input, subqueries, once);
            let (input, exprs) = scalar_joins(input, exprs, subqueries, once);
            LogicalPlan::Project { input: Box::new(input), exprs }
        }
        LogicalPlan::Aggregate { input, group_by, aggregates } => {
            LogicalPlan::Aggregate { input: rec(input, subqueries), group_by, aggregates }
        }
        LogicalPlan::Window { input, windows } => LogicalPlan::Window { input: rec(input, subqueries), windows },
        LogicalPlan::Sort { input, keys, fetch } => LogicalPlan::Sort { input: rec(input, subqueries), keys, fetch },
        LogicalPlan::Limit { input, limit, offset } => {
            LogicalPlan::Limit { input: rec(input, subqueries), limit, offset }
        }
        LogicalPlan::Join { left, right, kind, on } => {
            let left = rec(left, subqueries);
            LogicalPlan::Join { left, right: rec(right, subqueries), kind, on }
        }
        LogicalPlan::Union { inputs } => {
            LogicalPlan::Union { inputs: inputs.into_iter().map(|i| rewrite(i, subqueries, once)).collect() }
        }
        LogicalPlan::SetOp { left, right, kind, all } => {
            let left = rec(left, subqueries);
            LogicalPlan::SetOp { left, right: rec(right, subqueries), kind, all }
        }
        leaf => leaf,
    }
}

fn has_outer_ref(e: &Expr) -> bool {
    matches!(e, Expr::OuterRef { .. }) || e.children().into_iter().any(has_outer_ref)
}

fn has_subquery(e: &Expr) -> bool {
    matches!(e, Expr::Subquery { .. }) || e.children().into_iter().any(has_subquery)
}

/// Whether `e` holds a nested subquery whose comparison side (an IN needle, bound in the
/// scope of the subquery being rewritten) reads the outer row: the placeholder hides it from
/// `has_outer_ref`, and a join would leave it unbound.
fn hides_outer_ref(e: &Expr, subqueries: &[Subquery]) -> bool {
    if let Expr::Subquery { id, .. } = e {
        return match subqueries.get(*id).map(|s| &s.kind) {
            Some(SubqueryKind::In { needle, .. }) => has_outer_ref(needle) || hides_outer_ref(needle, subqueries),
            _ => false,
        };
    }
    e.children().into_iter().any(|c| hides_outer_ref(c, subqueries))
}

fn reads_columns(e: &Expr) -> bool {
    let mut any = false;
    e.visit_columns(&mut |_| any = true);
    any
}

/// Whether any expression of `plan` reads an outer column.
fn plan_has_outer_ref(plan: LogicalPlan) -> (LogicalPlan, bool) {
    let found = Cell::new(false);
    let plan = map_exprs(plan, &|e| {
        if has_outer_ref(e) {
            found.set(true);
        }
    });
    (plan, found.get())
}

/// Replaces `OuterRef { k }` with the outer expression `captures[k]`.
fn bind_outer(e: &mut Expr, captures: &[Expr]) {
    if let Expr::OuterRef { idx, .. } = e {
        if let Some(c) = captures.get(*idx) {
            *e = c.clone();
        }
        return;
    }
    for child in e.children_mut() {
        bind_outer(child, captures);
    }
}

/// The join a WHERE conjunct can become: (subquery id, kind, right input, join condition).
fn as_join(c: &Expr, input: &LogicalPlan, subqueries: &[Subquery]) -> Option<(usize, JoinKind, LogicalPlan, Expr)> {
    let (id, negated) = match c {
        Expr::Subquery { id, .. } => (*id, false),
        Expr::Not(inner) => match inner.as_ref() {
            Expr::Subquery { id, .. } => (*id, true),
            _ => return None,
        },
        _ => return None,
    };
    let sub = subqueries.get(id)?;
    // A nested subquery that reads the outer row through its needle keeps this one correlated.
    let hidden = Cell::new(false);
    let _ = map_exprs(sub.plan.clone(), &|e| {
        if hides_outer_ref(e, subqueries) {
            hidden.set(true);
        }
    });
    if hidden.get() {
        return None;
    }
    let n_left = input.output_types().len();
    // The subquery's output expression (for IN) over the input of its projections.
    let mut plan = sub.plan.clone();
    let mut output: Option<Expr> = None;
    while let LogicalPlan::Project { input, exprs } = plan {
        output = Some(match output {
            None => exprs.first()?.clone(),
            Some(mut e) => {
                crate::optimizer::inline_columns(&mut e, &exprs);
                e
            }
        });
        plan = *input;
    }
    let (kind, needle) = match &sub.kind {
        SubqueryKind::Exists => (if negated { JoinKind::Anti } else { JoinKind::Semi }, None),
        SubqueryKind::In { needle, negated: false, op: CmpOp::Eq, all: false } if !negated => {
            let value =
                output.clone().unwrap_or(Expr::Column { idx: 0, name: "?".into(), data_type: needle.data_type() });
            (JoinKind::Semi, Some((needle.clone(), value)))
        }
        _ => return None,
    };
    if let Some((_, value)) = &needle {
        // Nested subqueries keep their captures as ids the join's column shift cannot reach.
        if has_outer_ref(value) || has_subquery(value) {
            return None;
        }
    }
    // Correlation lives in a filter right under the projections.
    let (x, predicate) = match plan {
        LogicalPlan::Filter { input, predicate } if has_outer_ref(&predicate) => (*input, Some(predicate)),
        other => (other, None),
    };
    let (x, outer_below) = plan_has_outer_ref(x);
    if outer_below || (predicate.is_none() && needle.is_none()) {
        return None;
    }
    let shift = |e: &mut Expr| e.remap_columns(&|col| col + n_left);
    let mut on = Vec::new();
    let mut inner_filter = Vec::new();
    let mut keys = 0;
    if let Some((mut outer, mut inner)) = needle {
        bind_outer(&mut outer, &sub.captures);
        shift(&mut inner);
        on.push(Expr::Compare { op: CmpOp::Eq, left: Box::new(outer), right: Box::new(inner) });
        keys += 1;
    }
    for part in predicate.map(conjuncts).unwrap_or_default() {
        if !has_outer_ref(&part) {
            inner_filter.push(part);
            continue;
        }
        if has_subquery(&part) {
            return None;
        }
        if let Expr::Compare { op: CmpOp::Eq, left, right } = &part {
            let outer_only = |e: &Expr| !reads_columns(e) && has_outer_ref(e);
            let inner_only = |e: &Expr| !has_outer_ref(e) && reads_columns(e);
            let pair = if outer_only(left) && inner_only(right) {
                Some(((**left).clone(), (**right).clone()))
            } else if outer_only(right) && inner_only(left) {
                Some(((**right).clone(), (**left).clone()))
            } else {
                None
            };
            if let Some((mut outer, mut inner)) = pair {
                bind_outer(&mut outer, &sub.captures);
                shift(&mut inner);
                on.push(Expr::Compare { op: CmpOp::Eq, left: Box::new(outer), right: Box::new(inner) });
                keys += 1;
                continue;
            }
        }
        // Any other condition is checked on each matching pair.
        let mut residual = part;
        shift(&mut residual);
        bind_outer(&mut residual, &sub.captures);
        on.push(residual);
    }
    if keys == 0 {
        return None;
    }
    let right = match conjoin(inner_filter) {
        Some(predicate) => LogicalPlan::Filter { input: Box::new(x), predicate },
        None => x,
    };
    Some((id, kind, right, conjoin(on)?))
}

/// Subquery placeholder ids inside `e`, in order.
fn subquery_ids(e: &Expr, out: &mut Vec<usize>) {
    if let Expr::Subquery { id, .. } = e {
        out.push(*id);
    }
    e.children().into_iter().for_each(|c| subquery_ids(c, out));
}

/// Replaces the placeholder of subquery `id` with `value`.
fn replace_subquery(e: &mut Expr, id: usize, value: &Expr) {
    if matches!(e, Expr::Subquery { id: i, .. } if *i == id) {
        *e = value.clone();
        return;
    }
    e.children_mut().into_iter().for_each(|c| replace_subquery(c, id, value));
}

/// Left-joins `input` with each scalar subquery of `exprs` (expressions over `input`'s row)
/// that [`scalar_join`] can rewrite, and puts the joined value in the placeholder's place.
/// The joined columns come after `input`'s, so `exprs`' own column references stay valid.
fn scalar_joins(
    mut input: LogicalPlan,
    mut exprs: Vec<Expr>,
    subqueries: &mut [Subquery],
    once: &HashSet<usize>,
) -> (LogicalPlan, Vec<Expr>) {
    let mut ids = Vec::new();
    exprs.iter().for_each(|e| subquery_ids(e, &mut ids));
    for id in ids {
        if !once.contains(&id) {
            continue;
        }
        let n_left = input.output_types().len();
        let Some((right, on, value)) = scalar_join(id, n_left, subqueries) else { continue };
        input = LogicalPlan::Join { left: Box::new(input), right: Box::new(right), kind: JoinKind::Left, on: Some(on) };
        exprs.iter_mut().for_each(|e| replace_subquery(e, id, &value));
        let types = subqueries[id].plan.output_types();
        subqueries[id].plan = LogicalPlan::Values { rows: vec![], types };
        subqueries[id].captures.clear();
    }
    (input, exprs)
}

/// The value of an aggregate over no rows: 0 for the counts, NULL otherwise.
fn empty_aggregate(func: AggFunc, data_type: DataType) -> Expr {
    match func {
        AggFunc::Count | AggFunc::CountStar => Expr::Literal { value: Value::BigInt(0), data_type },
        _ => Expr::Literal { value: Value::Null, data_type },
    }
}

/// `(SELECT f(aggs) FROM x WHERE inner_k = outer_k AND ...)`, a scalar subquery whose only
/// correlation is equalities between inner and outer expressions in the filter under its
/// aggregate, as the right side of a left join on those keys: (right plan, join condition,
/// the subquery's value over the joined row). The right side is the aggregate grouped by the
/// inner keys, so each outer row meets at most one row; it outputs the keys, the value and a
/// TRUE marker, which is NULL for an outer row no group matched: that row gets the value of
/// the aggregate over no rows.
fn scalar_join(id: usize, n_left: usize, subqueries: &[Subquery]) -> Option<(LogicalPlan, Expr, Expr)> {
    let sub = subqueries.get(id)?;
    if !matches!(sub.kind, SubqueryKind::Scalar) || sub.captures.is_empty() {
        return None;
    }
    let hidden = Cell::new(false);
    let _ = map_exprs(sub.plan.clone(), &|e| {
        if hides_outer_ref(e, subqueries) || has_subquery(e) {
            hidden.set(true);
        }
    });
    if hidden.get() {
        return None;
    }
    // Projections (and an ORDER BY or LIMIT, which do nothing to one row) over the aggregate.
    let mut plan = sub.plan.clone();
    let mut output: Option<Expr> = None;
    let plan = loop {
        plan = match plan {
            LogicalPlan::Project { input, exprs } => {
                output = Some(match output {
                    None => exprs.first()?.clone(),
                    Some(mut e) => {
                        crate::optimizer::inline_columns(&mut e, &exprs);
                        e
                    }
                });
                *input
            }
            LogicalPlan::Sort { input, .. } => *input,
            LogicalPlan::Limit { input, limit, offset: 0 } if limit != Some(0) => *input,
            other => break other,
        }
    };
    let LogicalPlan::Aggregate { input, group_by, aggregates } = plan else { return None };
    if !group_by.is_empty() {
        return None;
    }
    let output = output.unwrap_or(Expr::Column { idx: 0, name: "?".into(), data_type: aggregates.first()?.data_type });
    if has_outer_ref(&output)
        || aggregates
            .iter()
            .any(|a| a.arg.as_ref().is_some_and(has_outer_ref) || a.filter.as_ref().is_some_and(has_outer_ref))
    {
        return None;
    }
    let LogicalPlan::Filter { input: x, predicate } = *input else { return None };
    let (x, outer_below) = plan_has_outer_ref(*x);
    if outer_below {
        return None;
    }
    let mut inner_filter = Vec::new();
    let mut outer_keys = Vec::new();
    let mut inner_keys = Vec::new();
    for part in conjuncts(predicate) {
        if !has_outer_ref(&part) {
            inner_filter.push(part);
            continue;
        }
        let Expr::Compare { op: CmpOp::Eq, left, right } = &part else { return None };
        let outer_only = |e: &Expr| !reads_columns(e) && has_outer_ref(e);
        let inner_only = |e: &Expr| !has_outer_ref(e) && reads_columns(e);
        let (mut outer, inner) = if outer_only(left) && inner_only(right) {
            ((**left).clone(), (**right).clone())
        } else if outer_only(right) && inner_only(left) {
            ((**right).clone(), (**left).clone())
        } else {
            return None;
        };
        // Grouping keeps 0.0 and -0.0 (and NaNs) apart where `=` may not: floats stay correlated.
        if matches!(inner.data_type(), DataType::Double | DataType::Real) {
            return None;
        }
        bind_outer(&mut outer, &sub.captures);
        outer_keys.push(outer);
        inner_keys.push(inner);
    }
    if inner_keys.is_empty() {
        return None;
    }
    // The value over no rows; a subquery whose value there is an error stays correlated.
    let mut empty = output.clone();
    let empties: Vec<Expr> = aggregates.iter().map(|a| empty_aggregate(a.func, a.data_type)).collect();
    crate::optimizer::inline_columns(&mut empty, &empties);
    let empty = empty.evaluate_constant().ok()?;
    let n_keys = inner_keys.len();
    let key_types: Vec<DataType> = inner_keys.iter().map(Expr::data_type).collect();
    let filtered = match conjoin(inner_filter) {
        Some(predicate) => LogicalPlan::Filter { input: Box::new(x), predicate },
        None => x,
    };
    let grouped = LogicalPlan::Aggregate { input: Box::new(filtered), group_by: inner_keys, aggregates };
    let mut value = output;
    value.remap_columns(&|c| c + n_keys);
    let value_type = value.data_type();
    let mut exprs: Vec<Expr> = key_types
        .iter()
        .enumerate()
        .map(|(idx, &data_type)| Expr::Column { idx, name: format!("#{idx}"), data_type })
        .collect();
    exprs.push(value);
    exprs.push(Expr::literal(Value::Boolean(true)));
    let right = LogicalPlan::Project { input: Box::new(grouped), exprs };
    let on = outer_keys
        .into_iter()
        .zip(key_types)
        .enumerate()
        .map(|(k, (outer, data_type))| Expr::Compare {
            op: CmpOp::Eq,
            left: Box::new(outer),
            right: Box::new(Expr::Column { idx: n_left + k, name: format!("#{k}"), data_type }),
        })
        .reduce(|a, b| Expr::And(Box::new(a), Box::new(b)))?;
    let joined = Expr::Column { idx: n_left + n_keys, name: "?".into(), data_type: value_type };
    let value = if empty.is_null() {
        joined
    } else {
        let marker = Expr::Column { idx: n_left + n_keys + 1, name: "?".into(), data_type: DataType::Boolean };
        Expr::Case {
            whens: vec![(
                Expr::IsNull { expr: Box::new(marker), negated: false },
                Expr::Literal { value: empty, data_type: value_type },
            )],
            else_expr: Some(Box::new(joined)),
            data_type: value_type,
        }
    };
    Some((right, on, value))
}
