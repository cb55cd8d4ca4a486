//! Rule-based rewrites of a [`LogicalPlan`]:
//! - constant folding: constant subexpressions become literals (an expression that fails to
//!   fold, such as `1 / 0` in a branch that may never run, is left for run time);
//! - predicate pushdown: filters move into scans, and through joins to the side they read
//!   (WHERE conditions over an inner join become join conditions, so `FROM a, b WHERE a.x = b.y`
//!   runs as a hash join);
//! - projection pushdown: a scan reads only the columns the plan above it uses.

use crate::plan::{column_span, conjoin, conjuncts, LogicalPlan};
use exec::{Expr, JoinKind};

/// Applies every rule.
pub fn optimize(plan: LogicalPlan) -> LogicalPlan {
    let plan = map_exprs(plan, &fold);
    let plan = push_filters(plan);
    let plan = reorder_joins(plan);
    prune_columns(plan)
}

/// Row estimates for join ordering count every committed row.
fn estimate(plan: &LogicalPlan) -> usize {
    plan.estimated_rows(mvcc::Snapshot::at(mvcc::Timestamp(u64::MAX >> 1)))
}

/// Collects the inputs of a tree of inner joins (in output-column order) and their
/// conditions, which refer to the concatenation of the inputs' columns.
fn flatten_inner(plan: LogicalPlan, offset: usize, rels: &mut Vec<LogicalPlan>, preds: &mut Vec<Expr>) {
    match plan {
        LogicalPlan::Join { left, right, kind: JoinKind::Inner, on } => {
            let n_left = left.output_types().len();
            flatten_inner(*left, offset, rels, preds);
            flatten_inner(*right, offset + n_left, rels, preds);
            for mut c in on.map(conjuncts).unwrap_or_default() {
                c.remap_columns(&|col| col + offset);
                preds.push(c);
            }
        }
        other => rels.push(other),
    }
}

/// Orders a tree of three or more inner joins greedily: start from the smallest input, then
/// repeatedly join the smallest input connected to what is joined so far by a condition
/// (a cross product only when nothing is connected), applying each condition as soon as its
/// columns are there. A projection restores the original column order.
fn reorder_joins(plan: LogicalPlan) -> LogicalPlan {
    let rec = |p: Box<LogicalPlan>| Box::new(reorder_joins(*p));
    match plan {
        join @ LogicalPlan::Join { kind: JoinKind::Inner, .. } => {
            let (mut rels, mut preds) = (Vec::new(), Vec::new());
            flatten_inner(join, 0, &mut rels, &mut preds);
            let rels: Vec<LogicalPlan> = rels.into_iter().map(reorder_joins).collect();
            if rels.len() < 3 {
                return rebuild_in_order(rels, preds);
            }
            greedy_join(rels, preds)
        }
        LogicalPlan::Join { left, right, kind, on } => {
            LogicalPlan::Join { left: rec(left), right: rec(right), kind, on }
        }
        LogicalPlan::Filter { input, predicate } => LogicalPlan::Filter { input: rec(input), predicate },
        LogicalPlan::Project { input, exprs } => LogicalPlan::Project { input: rec(input), exprs },
        LogicalPlan::Aggregate { input, group_by, aggregates } => {
            LogicalPlan::Aggregate { input: rec(input), group_by, aggregates }
        }
        LogicalPlan::Window { input, windows } => LogicalPlan::Window { input: rec(input), windows },
        LogicalPlan::Sort { input, keys, fetch } => LogicalPlan::Sort { input: rec(input), keys, fetch },
        LogicalPlan::Limit { input, limit, offset } => LogicalPlan::Limit { input: rec(input), limit, offset },
        LogicalPlan::Union { inputs } => LogicalPlan::Union { inputs: inputs.into_iter().map(reorder_joins).collect() },
        LogicalPlan::SetOp { left, right, kind, all } => {
            LogicalPlan::SetOp { left: rec(left), right: rec(right), kind, all }
        }
        LogicalPlan::RecursiveCte { slot, anchor, recursive, distinct } => {
            LogicalPlan::RecursiveCte { slot, anchor: rec(anchor), recursive: rec(recursive), distinct }
        }
        LogicalPlan::Cte { name, input, rows } => LogicalPlan::Cte { name, input: rec(input), rows },
        leaf => leaf,
    }
}

/// The inputs joined left-deep in their original order (for two inputs the physical planner
/// already picks the build side).
fn rebuild_in_order(rels: Vec<LogicalPlan>, preds: Vec<Expr>) -> LogicalPlan {
    let order: Vec<usize> = (0..rels.len()).collect();
    join_in_order(rels, preds, &order)
}

fn greedy_join(rels: Vec<LogicalPlan>, preds: Vec<Expr>) -> LogicalPlan {
    let n = rels.len();
    let widths: Vec<usize> = rels.iter().map(|r| r.output_types().len()).collect();
    let starts: Vec<usize> = widths.iter().scan(0, |acc, w| Some(std::mem::replace(acc, *acc + w))).collect();
    let rel_of = |col: usize| starts.iter().rposition(|&s| s <= col).unwrap_or(0);
    // The inputs each condition reads.
    let pred_rels: Vec<Vec<usize>> = preds
        .iter()
        .map(|p| {
            let mut rs = Vec::new();
            p.visit_columns(&mut |c| {
                let r = rel_of(c);
                if !rs.contains(&r) {
                    rs.push(r);
                }
            });
            rs
        })
        .collect();
    let sizes: Vec<usize> = rels.iter().map(estimate).collect();
    let mut order: Vec<usize> = Vec::with_capacity(n);
    let mut joined = vec![false; n];
    while order.len() < n {
        let connected = |r: usize| {
            pred_rels.iter().any(|rs| rs.len() >= 2 && rs.contains(&r) && rs.iter().any(|&o| o != r && joined[o]))
        };
        let candidates: Vec<usize> = (0..n).filter(|&r| !joined[r]).collect();
        let linked: Vec<usize> = candidates.iter().copied().filter(|&r| connected(r)).collect();
        let pool = if order.is_empty() || linked.is_empty() { &candidates } else { &linked };
        let next = pool.iter().copied().min_by_key(|&r| (sizes[r], r)).unwrap_or(candidates[0]);
        joined[next] = true;
        order.push(next);
    }
    join_in_order(rels, preds, &order)
}

/// Joins `rels` left-deep in `order`, placing each condition at the first join that has all
/// its columns, and restores the original column order on top if it changed.
fn join_in_order(rels: Vec<LogicalPlan>, preds: Vec<Expr>, order: &[usize]) -> LogicalPlan {
    let widths: Vec<usize> = rels.iter().map(|r| r.output_types().len()).collect();
    let types: Vec<storage::DataType> = rels.iter().flat_map(|r| r.output_types()).collect();
    let starts: Vec<usize> = widths.iter().scan(0, |acc, w| Some(std::mem::replace(acc, *acc + w))).collect();
    let mut slots: Vec<Option<LogicalPlan>> = rels.into_iter().map(Some).collect();
    // new_pos[original column] = its position in the reordered output, once joined.
    let mut new_pos = vec![usize::MAX; types.len()];
    let mut pending: Vec<Option<Expr>> = preds.into_iter().map(Some).collect();
    let mut plan: Option<LogicalPlan> = None;
    let mut width = 0;
    for &r in order {
        for k in 0..widths[r] {
            new_pos[starts[r] + k] = width + k;
        }
        width += widths[r];
        let Some(rel) = slots[r].take() else { continue };
        let mut ready = Vec::new();
        for p in pending.iter_mut() {
            let mut all_there = true;
            if let Some(e) = p {
                e.visit_columns(&mut |c| all_there &= new_pos.get(c).is_some_and(|&x| x != usize::MAX));
            }
            if all_there {
                if let Some(mut e) = p.take() {
                    e.remap_columns(&|c| new_pos[c]);
                    ready.push(e);
                }
            }
        }
        plan = Some(match plan {
            None => match conjoin(ready) {
                Some(predicate) => LogicalPlan::Filter { input: Box::new(rel), predicate },
                None => rel,
            },
            Some(left) => LogicalPlan::Join {
                left: Box::new(left),
                right: Box::new(rel),
                kind: JoinKind::Inner,
                on: conjoin(ready),
            },
        });
    }
    let plan = plan.unwrap_or(LogicalPlan::Values { rows: vec![vec![]], types: vec![] });
    if new_pos.iter().enumerate().all(|(i, &p)| i == p) {
        return plan;
    }
    let exprs = types
        .iter()
        .enumerate()
        .map(|(i, t)| Expr::Column { idx: new_pos[i], name: format!("#{i}"), data_type: *t })
        .collect();
    LogicalPlan::Project { input: Box::new(plan), exprs }
}

/// Folds constant subexpressions of `e`.
pub fn fold(e: &mut Expr) {
    if matches!(e, Expr::Literal { .. }) {
        return;
    }
    if e.is_constant() {
        if let Ok(value) = e.evaluate_constant() {
            *e = Expr::Literal { value, data_type: e.data_type() };
            return;
        }
    }
    // CASE branches must stay lazy: only fold inside them, never hoist.
    for child in e.children_mut() {
        fold(child);
    }
}

/// Applies `f` to every expression of every node.
pub fn map_exprs(plan: LogicalPlan, f: &impl Fn(&mut Expr)) -> LogicalPlan {
    let rec = |p: Box<LogicalPlan>| Box::new(map_exprs(*p, f));
    match plan {
        LogicalPlan::Scan { table, columns, mut filter } => {
            filter.iter_mut().for_each(f);
            LogicalPlan::Scan { table, columns, filter }
        }
        LogicalPlan::Values { mut rows, types } => {
            rows.iter_mut().flatten().for_each(f);
            LogicalPlan::Values { rows, types }
        }
        LogicalPlan::Series { mut args, inclusive, data_type } => {
            args.iter_mut().for_each(f);
            LogicalPlan::Series { args, inclusive, data_type }
        }
        LogicalPlan::Filter { input, mut predicate } => {
            f(&mut predicate);
            LogicalPlan::Filter { input: rec(input), predicate }
        }
        LogicalPlan::Project { input, mut exprs } => {
            exprs.iter_mut().for_each(f);
            LogicalPlan::Project { input: rec(input), exprs }
        }
        LogicalPlan::Aggregate { input, mut group_by, mut aggregates } => {
            group_by.iter_mut().for_each(f);
            aggregates.iter_mut().flat_map(|a| a.exprs_mut()).for_each(f);
            LogicalPlan::Aggregate { input: rec(input), group_by, aggregates }
        }
        LogicalPlan::Window { input, mut windows } => {
            windows.iter_mut().flat_map(|w| w.exprs_mut()).for_each(f);
            LogicalPlan::Window { input: rec(input), windows }
        }
        LogicalPlan::Sort { input, mut keys, fetch } => {
            keys.iter_mut().for_each(|k| f(&mut k.expr));
            LogicalPlan::Sort { input: rec(input), keys, fetch }
        }
        LogicalPlan::Limit { input, limit, offset } => LogicalPlan::Limit { input: rec(input), limit, offset },
        LogicalPlan::Join { left, right, kind, mut on } => {
            on.iter_mut().for_each(f);
            LogicalPlan::Join { left: rec(left), right: rec(right), kind, on }
        }
        LogicalPlan::Union { inputs } => {
            LogicalPlan::Union { inputs: inputs.into_iter().map(|i| map_exprs(i, f)).collect() }
        }
        LogicalPlan::SetOp { left, right, kind, all } => {
            LogicalPlan::SetOp { left: rec(left), right: rec(right), kind, all }
        }
        LogicalPlan::RecursiveCte { slot, anchor, recursive, distinct } => {
            LogicalPlan::RecursiveCte { slot, anchor: rec(anchor), recursive: rec(recursive), distinct }
        }
        LogicalPlan::Cte { name, input, rows } => LogicalPlan::Cte { name, input: rec(input), rows },
        leaf @ LogicalPlan::WorkingTable { .. } => leaf,
    }
}

/// Which side of a join an expression reads: `Some(true)` left only, `Some(false)` right only.
fn side(e: &Expr, n_left: usize) -> Option<bool> {
    match column_span(e) {
        Some((_, hi)) if hi < n_left => Some(true),
        Some((lo, _)) if lo >= n_left => Some(false),
        _ => None,
    }
}

/// Whether `e` runs a (correlated) subquery, which must not be duplicated or moved.
fn has_subquery(e: &Expr) -> bool {
    matches!(e, Expr::Correlated(_) | Expr::Subquery { .. }) || e.children().into_iter().any(has_subquery)
}

/// Replaces each column reference of `e` by the expression it names in `exprs`.
pub(crate) fn inline_columns(e: &mut Expr, exprs: &[Expr]) {
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

/// Wraps `plan` in a filter of `preds` (if any) and keeps pushing.
fn filtered(plan: LogicalPlan, preds: Vec<Expr>) -> LogicalPlan {
    match conjoin(preds) {
        Some(predicate) => push_filters(LogicalPlan::Filter { input: Box::new(plan), predicate }),
        None => plan,
    }
}

/// Distributes `preds` over a join: single-side conditions go to the side they read when the
/// join kind allows it; the rest stay in `stay`.
fn split_for_join(
    preds: Vec<Expr>,
    n_left: usize,
    to_left_ok: bool,
    to_right_ok: bool,
) -> (Vec<Expr>, Vec<Expr>, Vec<Expr>) {
    let (mut to_left, mut to_right, mut stay) = (Vec::new(), Vec::new(), Vec::new());
    for c in preds {
        match side(&c, n_left) {
            Some(true) if to_left_ok => to_left.push(c),
            Some(false) if to_right_ok => {
                let mut c = c;
                c.remap_columns(&|col| col - n_left);
                to_right.push(c)
            }
            _ => stay.push(c),
        }
    }
    (to_left, to_right, stay)
}

fn push_filters(plan: LogicalPlan) -> LogicalPlan {
    let rec = |p: Box<LogicalPlan>| Box::new(push_filters(*p));
    match plan {
        LogicalPlan::Filter { input, predicate } => match push_filters(*input) {
            LogicalPlan::Scan { table, columns, filter } => {
                let filter = Some(match filter {
                    Some(existing) => Expr::And(Box::new(existing), Box::new(predicate)),
                    None => predicate,
                });
                LogicalPlan::Scan { table, columns, filter }
            }
            LogicalPlan::Join { left, right, kind, on } => {
                let n_left = left.output_types().len();
                match kind {
                    JoinKind::Inner => {
                        // A WHERE over an inner join is part of the join condition.
                        let mut all = on.map(conjuncts).unwrap_or_default();
                        all.extend(conjuncts(predicate));
                        push_filters(LogicalPlan::Join { left, right, kind, on: conjoin(all) })
                    }
                    JoinKind::Left | JoinKind::Right => {
                        // Only conditions on the preserved side may move below an outer join.
                        let (to_left, to_right, stay) = split_for_join(
                            conjuncts(predicate),
                            n_left,
                            kind == JoinKind::Left,
                            kind == JoinKind::Right,
                        );
                        let join = LogicalPlan::Join {
                            left: Box::new(filtered(*left, to_left)),
                            right: Box::new(filtered(*right, to_right)),
                            kind,
                            on,
                        };
                        match conjoin(stay) {
                            Some(p) => LogicalPlan::Filter { input: Box::new(join), predicate: p },
                            None => join,
                        }
                    }
                    JoinKind::Full => {
                        LogicalPlan::Filter { input: Box::new(LogicalPlan::Join { left, right, kind, on }), predicate }
                    }
                    // The output is the left rows: every condition filters the left input.
                    JoinKind::Semi | JoinKind::Anti => {
                        LogicalPlan::Join { left: Box::new(filtered(*left, conjuncts(predicate))), right, kind, on }
                    }
                }
            }
            // Through a projection: the condition reads the projected expressions instead.
            LogicalPlan::Project { input, exprs } if !exprs.iter().any(has_subquery) => {
                let mut predicate = predicate;
                inline_columns(&mut predicate, &exprs);
                LogicalPlan::Project { input: Box::new(push_filters(LogicalPlan::Filter { input, predicate })), exprs }
            }
            other => LogicalPlan::Filter { input: Box::new(other), predicate },
        },
        LogicalPlan::Join { left, right, kind, on } => {
            let n_left = left.output_types().len();
            // Join conditions on one side only filter that side when it is not preserved.
            let (to_left, to_right, stay) = split_for_join(
                on.map(conjuncts).unwrap_or_default(),
                n_left,
                matches!(kind, JoinKind::Inner | JoinKind::Right | JoinKind::Semi),
                matches!(kind, JoinKind::Inner | JoinKind::Left | JoinKind::Semi | JoinKind::Anti),
            );
            LogicalPlan::Join {
                left: Box::new(filtered(push_filters(*left), to_left)),
                right: Box::new(filtered(push_filters(*right), to_right)),
                kind,
                on: conjoin(stay),
            }
        }
        LogicalPlan::Project { input, exprs } => LogicalPlan::Project { input: rec(input), exprs },
        LogicalPlan::Aggregate { input, group_by, aggregates } => {
            LogicalPlan::Aggregate { input: rec(input), group_by, aggregates }
        }
        LogicalPlan::Sort { input, keys, fetch } => LogicalPlan::Sort { input: rec(input), keys, fetch },
        LogicalPlan::Window { input, windows } => LogicalPlan::Window { input: rec(input), windows },
        LogicalPlan::Limit { input, limit, offset } => LogicalPlan::Limit { input: rec(input), limit, offset },
        LogicalPlan::Union { inputs } => LogicalPlan::Union { inputs: inputs.into_iter().map(push_filters).collect() },
        LogicalPlan::SetOp { left, right, kind, all } => {
            LogicalPlan::SetOp { left: rec(left), right: rec(right), kind, all }
        }
        LogicalPlan::RecursiveCte { slot, anchor, recursive, distinct } => {
            LogicalPlan::RecursiveCte { slot, anchor: rec(anchor), recursive: rec(recursive), distinct }
        }
        // A shared CTE's body is optimized on its own: a filter above one reference must not
        // change the rows the others replay.
        LogicalPlan::Cte { name, input, rows } => LogicalPlan::Cte { name, input: rec(input), rows },
        leaf => leaf,
    }
}

/// Projection pushdown: every node asks its inputs for the columns it reads, so scans (also
/// below joins, filters, sorts and windows) read only those, and projections drop outputs
/// nobody reads. The root keeps all its columns.
fn prune_columns(plan: LogicalPlan) -> LogicalPlan {
    // An unresolved subquery hides the columns it reads (its IN operand, its captures): such
    // a plan (EXPLAIN shows one) is left whole.
    let hidden = std::cell::Cell::new(false);
    fn placeholder(e: &Expr) -> bool {
        matches!(e, Expr::Subquery { .. }) || e.children().into_iter().any(placeholder)
    }
    let plan = map_exprs(plan, &|e| hidden.set(hidden.get() || placeholder(e)));
    if hidden.get() {
        return plan;
    }
    let width = plan.output_types().len();
    prune(plan, &vec![true; width]).0
}

/// Marks the columns `exprs` read in `need` (ignoring any beyond its length).
pub(crate) fn mark<'e>(need: &mut [bool], exprs: impl IntoIterator<Item = &'e Expr>) {
    for e in exprs {
        e.visit_columns(&mut |c| {
            if let Some(slot) = need.get_mut(c) {
                *slot = true;
            }
        });
    }
}

/// Renumbers the columns of `exprs` through `map` (old position -> new).
fn renumber<'e>(map: &[usize], exprs: impl IntoIterator<Item = &'e mut Expr>) {
    for e in exprs {
        e.remap_columns(&|old| map.get(old).copied().filter(|&n| n != usize::MAX).unwrap_or(old));
    }
}

/// Prunes `plan` to (at least) the output columns marked in `required`; returns the new plan
/// and where each old output column went (`usize::MAX` if dropped).
fn prune(plan: LogicalPlan, required: &[bool]) -> (LogicalPlan, Vec<usize>) {
    let identity = |n: usize| (0..n).collect::<Vec<_>>();
    match plan {
        LogicalPlan::Scan { table, columns, mut filter } => {
            let mut need = required.to_vec();
            need.resize(columns.len(), false);
            mark(&mut need, filter.iter());
            // Keep one column even if none is read (COUNT(*) still needs the row count).
            if !need.iter().any(|&n| n) && !need.is_empty() {
                need[0] = true;
            }
            let mut map = vec![usize::MAX; columns.len()];
            let mut kept = Vec::new();
            for (k, &col) in columns.iter().enumerate() {
                if need[k] {
                    map[k] = kept.len();
                    kept.push(col);
                }
            }
            renumber(&map, filter.iter_mut());
            (LogicalPlan::Scan { table, columns: kept, filter }, map)
        }
        LogicalPlan::Project { input, exprs } => {
            let keep: Vec<bool> = (0..exprs.len()).map(|k| required.get(k).copied().unwrap_or(false)).collect();
            let keep =
                if keep.iter().any(|&k| k) { keep } else { exprs.iter().enumerate().map(|(k, _)| k == 0).collect() };
            let mut kept: Vec<Expr> = Vec::new();
            let mut map = vec![usize::MAX; exprs.len()];
            for (k, e) in exprs.into_iter().enumerate() {
                if keep[k] {
                    map[k] = kept.len();
                    kept.push(e);
                }
            }
            let mut need = vec![false; input.output_types().len()];
            mark(&mut need, kept.iter());
            let (input, child_map) = prune(*input, &need);
            renumber(&child_map, kept.iter_mut());
            (LogicalPlan::Project { input: Box::new(input), exprs: kept }, map)
        }
        LogicalPlan::Filter { input, mut predicate } => {
            let mut need = required.to_vec();
            need.resize(input.output_types().len(), false);
            mark(&mut need, [&predicate]);
            let (input, map) = prune(*input, &need);
            renumber(&map, [&mut predicate]);
            (LogicalPlan::Filter { input: Box::new(input), predicate }, map)
        }
        LogicalPlan::Sort { input, mut keys, fetch } => {
            let mut need = required.to_vec();
            need.resize(input.output_types().len(), false);
            mark(&mut need, keys.iter().map(|k| &k.expr));
            let (input, map) = prune(*input, &need);
            renumber(&map, keys.iter_mut().map(|k| &mut k.expr));
            (LogicalPlan::Sort { input: Box::new(input), keys, fetch }, map)
        }
        LogicalPlan::Limit { input, limit, offset } => {
            let (input, map) = prune(*input, required);
            (LogicalPlan::Limit { input: Box::new(input), limit, offset }, map)
        }
        LogicalPlan::Aggregate { input, mut group_by, mut aggregates } => {
            let width = group_by.len() + aggregates.len();
            let mut need = vec![false; input.output_types().len()];
            mark(&mut need, group_by.iter());
            mark(&mut need, aggregates.iter().flat_map(|a| a.arg.iter().chain(a.filter.iter())));
            let (input, map) = prune(*input, &need);
            renumber(&map, group_by.iter_mut().chain(aggregates.iter_mut().flat_map(|a| a.exprs_mut())));
            (LogicalPlan::Aggregate { input: Box::new(input), group_by, aggregates }, identity(width))
        }
        LogicalPlan::Window { input, mut windows } => {
            let n_in = input.output_types().len();
            let mut need = required.to_vec();
            need.resize(n_in, false);
            mark(&mut need, windows.iter().flat_map(|w| w.exprs()));
            let (input, child_map) = prune(*input, &need);
            renumber(&child_map, windows.iter_mut().flat_map(|w| w.exprs_mut()));
            let new_in = input.output_types().len();
            let mut map = child_map;
            map.extend((0..windows.len()).map(|k| new_in + k));
            (LogicalPlan::Window { input: Box::new(input), windows }, map)
        }
        LogicalPlan::Join { left, right, kind, mut on } => {
            let (n_left, n_right) = (left.output_types().len(), right.output_types().len());
            let mut need_left = vec![false; n_left];
            let mut need_right = vec![false; n_right];
            for (k, &r) in required.iter().enumerate() {
                if r && k < n_left {
                    need_left[k] = true;
                } else if r && k - n_left < n_right && !kind.left_only() {
                    need_right[k - n_left] = true;
                }
            }
            if let Some(cond) = &on {
                cond.visit_columns(&mut |c| {
                    if c < n_left {
                        need_left[c] = true;
                    } else if c - n_left < n_right {
                        need_right[c - n_left] = true;
                    }
                });
            }
            let (left, left_map) = prune(*left, &need_left);
            let (right, right_map) = prune(*right, &need_right);
            let new_left = left.output_types().len();
            let mut map = left_map;
            map.extend(right_map.iter().map(|&m| if m == usize::MAX { m } else { m + new_left }));
            renumber(&map, on.iter_mut());
            if kind.left_only() {
                map.truncate(n_left);
            }
            (LogicalPlan::Join { left: Box::new(left), right: Box::new(right), kind, on }, map)
        }
        LogicalPlan::Union { inputs } => {
            let width = inputs.first().map_or(0, |i| i.output_types().len());
            (LogicalPlan::Union { inputs: inputs.into_iter().map(prune_columns).collect() }, identity(width))
        }
        LogicalPlan::SetOp { left, right, kind, all } => {
            let width = left.output_types().len();
            let (left, right) = (Box::new(prune_columns(*left)), Box::new(prune_columns(*right)));
            (LogicalPlan::SetOp { left, right, kind, all }, identity(width))
        }
        LogicalPlan::RecursiveCte { slot, anchor, recursive, distinct } => {
            let width = anchor.output_types().len();
            let (anchor, recursive) = (Box::new(prune_columns(*anchor)), Box::new(prune_columns(*recursive)));
            (LogicalPlan::RecursiveCte { slot, anchor, recursive, distinct }, identity(width))
        }
        // Every reference of a shared CTE computes all its columns (any of them may be the one
        // that runs); its body is pruned on its own.
        LogicalPlan::Cte { name, input, rows } => {
            let width = input.output_types().len();
            (LogicalPlan::Cte { name, input: Box::new(prune_columns(*input)), rows }, identity(width))
        }
        leaf @ (LogicalPlan::Values { .. } | LogicalPlan::Series { .. } | LogicalPlan::WorkingTable { .. }) => {
            let width = leaf.output_types().len();
            (leaf, identity(width))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use exec::{ArithOp, CmpOp};
    use storage::{DataType, Value};

    fn int(v: i32) -> Expr {
        Expr::literal(Value::Integer(v))
    }

    #[test]
    fn folds_constants_but_not_errors() {
        let mut e = Expr::Arith {
            op: ArithOp::Add,
            left: Box::new(int(1)),
            right: Box::new(int(2)),
            data_type: DataType::Integer,
        };
        fold(&mut e);
        assert_eq!(e, int(3));
        let mut div = Expr::Arith {
            op: ArithOp::Div,
            left: Box::new(int(1)),
            right: Box::new(int(0)),
            data_type: DataType::Integer,
        };
        let before = div.clone();
        fold(&mut div);
        assert_eq!(div, before);
        let mut cmp = Expr::Compare {
            op: CmpOp::Lt,
            left: Box::new(Expr::Column { idx: 0, name: "a".into(), data_type: DataType::Integer }),
            right: Box::new(Expr::Arith {
                op: ArithOp::Mul,
                left: Box::new(int(2)),
                right: Box::new(int(3)),
                data_type: DataType::Integer,
            }),
        };
        fold(&mut cmp);
        assert!(matches!(&cmp, Expr::Compare { right, .. } if **right == int(6)));
    }
}

#[cfg(test)]
mod join_order_tests {
    use crate::session::{Engine, QueryOutput, Session};
    use storage::Value;

    fn explain(s: &mut Session, sql: &str) -> String {
        match s.execute_one(&format!("EXPLAIN {sql}"), &[]).unwrap() {
            QueryOutput::Rows { batches, .. } => batches
                .iter()
                .flat_map(|b| (0..b.n_rows).map(move |r| Value::from_array(b.column(0), r).to_string()))
                .collect::<Vec<_>>()
                .join("\n"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn scans_below_joins_read_only_the_columns_used() {
        let mut s = Session::new(Engine::new());
        s.execute_one("CREATE TABLE o (id INTEGER, cust INTEGER, amount DOUBLE, note TEXT, day DATE)", &[]).unwrap();
        s.execute_one("CREATE TABLE c (id INTEGER, segment TEXT, name TEXT, since DATE)", &[]).unwrap();
        let plan = explain(&mut s, "SELECT c.segment, sum(o.amount) FROM o JOIN c ON o.cust = c.id GROUP BY c.segment");
        assert!(plan.contains("ScanExec: o [cust, amount]"), "{plan}");
        assert!(plan.contains("ScanExec: c [id, segment]"), "{plan}");
        let plan = explain(&mut s, "SELECT count(*) FROM o WHERE EXISTS (SELECT 1 FROM c WHERE c.id = o.cust)");
        assert!(plan.contains("ScanExec: o [cust]"), "{plan}");
        assert!(plan.contains("ScanExec: c [id]"), "{plan}");
    }

    #[test]
    fn comma_joins_are_ordered_by_conditions_and_size() {
        let mut s = Session::new(Engine::new());
        for (t, n) in [("a", 50), ("b", 5), ("c", 500)] {
            s.execute_one(&format!("CREATE TABLE {t} (id INTEGER, ref INTEGER)"), &[]).unwrap();
            let rows: Vec<String> = (0..n).map(|i| format!("({i}, {})", i % 5)).collect();
            s.execute_one(&format!("INSERT INTO {t} VALUES {}", rows.join(", ")), &[]).unwrap();
        }
        // Written so that a left-deep join in text order starts with a cross product a x c.
        let sql = "SELECT count(*) FROM a, c, b WHERE a.ref = b.id AND c.ref = b.id";
        let plan = explain(&mut s, sql);
        assert!(!plan.contains("NestedLoopJoin"), "{plan}");
        assert_eq!(plan.matches("HashJoinExec").count(), 2, "{plan}");
        // The answer is the same as with explicit joins in another order.
        let count = |s: &mut Session, sql: &str| match s.execute_one(sql, &[]).unwrap() {
            QueryOutput::Rows { batches, .. } => Value::from_array(batches[0].column(0), 0),
            other => panic!("{other:?}"),
        };
        let expected = count(&mut s, "SELECT count(*) FROM b JOIN a ON a.ref = b.id JOIN c ON c.ref = b.id");
        assert_eq!(count(&mut s, sql), expected);
        assert_eq!(expected, Value::BigInt(50 * 100));
        // Column order survives the reordering.
        let row = match s
            .execute_one("SELECT * FROM a, c, b WHERE a.ref = b.id AND c.ref = b.id AND a.id = 7 AND c.id = 2", &[])
            .unwrap()
        {
            QueryOutput::Rows { batches, .. } => {
                (0..6).map(|k| Value::from_array(batches[0].column(k), 0)).collect::<Vec<_>>()
            }
            other => panic!("{other:?}"),
        };
        assert_eq!(row, [7, 2, 2, 2, 2, 2].map(Value::Integer).to_vec());
    }
}
