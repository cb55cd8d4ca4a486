//! Running uncorrelated subqueries before the main plan and substituting their results:
//! a scalar subquery becomes a literal, EXISTS a boolean, and `x IN (SELECT ...)` a balanced
//! OR of equalities (so NULL semantics match `x IN (list)` exactly).

use crate::binder::{Subquery, SubqueryKind};
use crate::error::Result;
use crate::optimizer::{map_exprs, optimize};
use crate::plan::LogicalPlan;
use exec::correlated::{Correlated, CorrelatedKind};
use exec::{CmpOp, Expr};
use std::collections::HashSet;
use storage::Value;

/// Replaces resolved subquery placeholders inside `e`.
fn substitute(e: &mut Expr, resolved: &[Option<Expr>]) {
    if let Expr::Subquery { id, .. } = e {
        if let Some(Some(value)) = resolved.get(*id) {
            *e = value.clone();
        }
        return;
    }
    for child in e.children_mut() {
        substitute(child, resolved);
    }
}

fn substitute_plan(plan: LogicalPlan, resolved: &[Option<Expr>]) -> LogicalPlan {
    map_exprs(plan, &|e| substitute(e, resolved))
}

/// `needle op v0 OR needle op v1 OR ...` (AND for ALL) as a balanced tree (depth log2 n),
/// which has exactly the NULL semantics of a quantified comparison.
fn quantified(needle: &Expr, values: &[Value], op: CmpOp, all: bool) -> Expr {
    match values {
        [] => Expr::literal(Value::Boolean(all)),
        [one] => Expr::Compare {
            op,
            left: Box::new(needle.clone()),
            right: Box::new(Expr::Literal { value: one.clone(), data_type: needle.data_type() }),
        },
        _ => {
            let (a, b) = values.split_at(values.len() / 2);
            let (l, r) = (Box::new(quantified(needle, a, op, all)), Box::new(quantified(needle, b, op, all)));
            if all {
                Expr::And(l, r)
            } else {
                Expr::Or(l, r)
            }
        }
    }
}

/// A correlated subquery: planned now, run per distinct outer row by the executor.
fn correlated(
    plan: LogicalPlan,
    kind: SubqueryKind,
    mut captures: Vec<Expr>,
    data_type: storage::DataType,
    resolved: &[Option<Expr>],
    snapshot: mvcc::Snapshot,
) -> Expr {
    for c in &mut captures {
        substitute(c, resolved);
    }
    let physical = optimize(plan).to_physical(snapshot);
    let (kind, negated, data_type) = match kind {
        SubqueryKind::Scalar => (CorrelatedKind::Scalar, false, data_type),
        SubqueryKind::Exists => (CorrelatedKind::Exists, false, storage::DataType::Boolean),
        SubqueryKind::In { mut needle, negated, op, all } => {
            substitute(&mut needle, resolved);
            (CorrelatedKind::In { needle, op, all }, negated, storage::DataType::Boolean)
        }
    };
    let e = Expr::Correlated(Box::new(Correlated::new(physical, captures, kind, data_type)));
    if negated {
        Expr::Not(Box::new(e))
    } else {
        e
    }
}

/// Runs every subquery (inner ones first, as they were registered) and returns `plan` with
/// their results in place. Shared CTEs (`LogicalPlan::Cte`) get fresh rows first.
pub fn resolve(plan: LogicalPlan, mut subqueries: Vec<Subquery>, snapshot: mvcc::Snapshot) -> Result<LogicalPlan> {
    // Every run computes its shared CTEs anew (a prepared statement's plan is bound once).
    let plan = crate::binder::cte::fresh_rows(plan, &mut subqueries);
    if subqueries.is_empty() {
        return Ok(plan);
    }
    let plan = crate::decorrelate::decorrelate(plan, &mut subqueries);
    let mut resolved: Vec<Option<Expr>> = vec![None; subqueries.len()];
    for (id, sub) in subqueries.into_iter().enumerate() {
        let mut sub_plan = substitute_plan(sub.plan, &resolved);
        if matches!(sub.kind, SubqueryKind::Exists) {
            sub_plan = LogicalPlan::Limit { input: Box::new(sub_plan), limit: Some(1), offset: 0 };
        }
        let data_type = sub_plan.output_types().first().copied().unwrap_or(storage::DataType::Null);
        if !sub.captures.is_empty() {
            resolved[id] = Some(correlated(sub_plan, sub.kind, sub.captures, data_type, &resolved, snapshot));
            continue;
        }
        let batches = exec::collect(&optimize(sub_plan).to_physical(snapshot))?;
        let n_rows: usize = batches.iter().map(|b| b.n_rows).sum();
        let values = || batches.iter().flat_map(|b| (0..b.n_rows).map(move |r| Value::from_array(b.column(0), r)));
        let value = match sub.kind {
            SubqueryKind::Scalar => {
                if n_rows > 1 {
                    return Err(exec::ExecError::InvalidArgument(
                        "more than one row returned by a subquery used as an expression".into(),
                    )
                    .into());
                }
                Expr::Literal { value: values().next().unwrap_or(Value::Null), data_type }
            }
            SubqueryKind::Exists => Expr::literal(Value::Boolean(n_rows > 0)),
            SubqueryKind::In { mut needle, negated, op, all } => {
                substitute(&mut needle, &resolved);
                // Duplicates do not change the answer; keep the first of each.
                let mut seen = HashSet::new();
                let distinct: Vec<Value> = values().filter(|v| seen.insert(format!("{v:?}"))).collect();
                let any = quantified(&needle, &distinct, op, all);
                if negated {
                    Expr::Not(Box::new(any))
                } else {
                    any
                }
            }
        };
        resolved[id] = Some(value);
    }
    Ok(substitute_plan(plan, &resolved))
}
