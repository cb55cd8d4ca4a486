//! Subquery decorrelation: `WHERE [NOT] EXISTS (SELECT ... WHERE inner = outer ...)` and
//! `WHERE x IN (SELECT y ...)` become hash semi and anti joins, instead of running the
//! subquery once per distinct outer row (or, for IN, comparing with every value).
//!
//! Only a top-level conjunct of a WHERE filter is rewritten, and only when the rewrite is
//! exact: the subquery is `[Project] [Filter] X` where `X` reads no outer column and the
//! filter's outer references sit in equalities with an inner side (those become the hash
//! keys) or in other conditions (which stay as the join's residual condition). NOT IN is left
//! alone: its NULL semantics differ from an anti join's.

use crate::binder::{Subquery, SubqueryKind};
use crate::optimizer::map_exprs;
use crate::plan::{conjoin, conjuncts, LogicalPlan};
use exec::{CmpOp, Expr, JoinKind};
use std::cell::Cell;

/// Rewrites the WHERE subqueries of `plan` that can run as joins; the subqueries used up are
/// replaced by empty plans in `subqueries` (their ids stay valid).
pub fn decorrelate(plan: LogicalPlan, subqueries: &mut [Subquery]) -> LogicalPlan {
    if subqueries.is_empty() {
        return plan;
    }
    let rec = |p: Box<LogicalPlan>, subs: &mut [Subquery]| Box::new(decorrelate(*p, subs));
    match plan {
        LogicalPlan::Filter { input, predicate } => {
            let mut input = decorrelate(*input, subqueries);
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
            match conjoin(kept) {
                Some(predicate) => LogicalPlan::Filter { input: Box::new(input), predicate },
                None => input,
            }
        }
        LogicalPlan::Project { input, exprs } => LogicalPlan::Project { input: rec(input, subqueries), exprs },
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
            LogicalPlan::Union { inputs: inputs.into_iter().map(|i| decorrelate(i, subqueries)).collect() }
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

/// Replaces each column of `e` by the expression it names in `exprs`.
fn inline_columns(e: &mut Expr, exprs: &[Expr]) {
    if let Expr::Column { idx, .. } = e {
        if let Some(x) = exprs.get(*idx) {
            *e = x.clone();
        }
        return;
    }
    for child in e.children_mut() {
        inline_columns(child, exprs);
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
                inline_columns(&mut e, &exprs);
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
