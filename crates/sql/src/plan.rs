//! [`LogicalPlan`]: what a query computes, before the optimizer and the physical planner.
//! Every node's expressions refer to the output columns of its input by position.

use exec::{AggregateExpr, CmpOp, Expr, JoinKind, JoinSpec, SetOpKind, SortKey, WindowExpr};
use std::sync::Arc;
use storage::DataType;

/// A relational operator tree.
#[derive(Debug, Clone)]
pub enum LogicalPlan {
    /// A table's columns (`columns` are table column indexes), optionally filtered.
    Scan {
        table: Arc<mvcc::Table>,
        columns: Vec<usize>,
        filter: Option<Expr>,
    },
    /// Constant rows.
    Values {
        rows: Vec<Vec<Expr>>,
        types: Vec<DataType>,
    },
    /// `generate_series` / `range` in FROM (see `PhysicalPlan::Series`).
    Series {
        args: Vec<Expr>,
        inclusive: bool,
        data_type: DataType,
    },
    Filter {
        input: Box<LogicalPlan>,
        predicate: Expr,
    },
    Project {
        input: Box<LogicalPlan>,
        exprs: Vec<Expr>,
    },
    /// Output columns: group keys, then aggregates.
    Aggregate {
        input: Box<LogicalPlan>,
        group_by: Vec<Expr>,
        aggregates: Vec<AggregateExpr>,
    },
    /// Output columns: the input's, then one per window function.
    Window {
        input: Box<LogicalPlan>,
        windows: Vec<WindowExpr>,
    },
    Sort {
        input: Box<LogicalPlan>,
        keys: Vec<SortKey>,
        fetch: Option<usize>,
    },
    Limit {
        input: Box<LogicalPlan>,
        limit: Option<usize>,
        offset: usize,
    },
    /// Output: the left input's columns, then the right's. `on` refers to that joined row.
    Join {
        left: Box<LogicalPlan>,
        right: Box<LogicalPlan>,
        kind: JoinKind,
        on: Option<Expr>,
    },
    /// WITH RECURSIVE: `anchor`, then `recursive` (which reads the previous step through a
    /// `WorkingTable` sharing `slot`) until a step adds no rows.
    RecursiveCte {
        slot: Arc<exec::WorkingTable>,
        anchor: Box<LogicalPlan>,
        recursive: Box<LogicalPlan>,
        distinct: bool,
    },
    /// The previous step's rows inside a recursive CTE.
    WorkingTable {
        slot: Arc<exec::WorkingTable>,
        types: Vec<DataType>,
    },
    /// UNION ALL of inputs with identical column types.
    Union {
        inputs: Vec<LogicalPlan>,
    },
    SetOp {
        left: Box<LogicalPlan>,
        right: Box<LogicalPlan>,
        kind: SetOpKind,
        all: bool,
    },
    /// A common table expression referenced more than once (or declared `AS MATERIALIZED`):
    /// every reference is a copy of this node sharing `rows`, so the body runs once per
    /// statement and the other references replay its rows (`PhysicalPlan::Cached`). Filters
    /// and column pruning stop at it: every copy keeps the whole body, so all compute the same
    /// columns. The binder inlines a CTE referenced once (see `binder::cte`), and
    /// `subquery::resolve` gives each run of a statement fresh `rows`.
    Cte {
        name: String,
        input: Box<LogicalPlan>,
        rows: Arc<exec::CachedRows>,
    },
}

/// Splits a predicate into its AND-ed parts.
pub fn conjuncts(e: Expr) -> Vec<Expr> {
    match e {
        Expr::And(l, r) => {
            let mut v = conjuncts(*l);
            v.extend(conjuncts(*r));
            v
        }
        other => vec![other],
    }
}

/// Joins predicates with AND; `None` for none.
pub fn conjoin(parts: Vec<Expr>) -> Option<Expr> {
    parts.into_iter().reduce(|a, b| Expr::And(Box::new(a), Box::new(b)))
}

/// The range of input columns an expression reads: (min, max), or None if it reads none.
pub fn column_span(e: &Expr) -> Option<(usize, usize)> {
    let mut span: Option<(usize, usize)> = None;
    e.visit_columns(&mut |c| {
        span = Some(match span {
            None => (c, c),
            Some((lo, hi)) => (lo.min(c), hi.max(c)),
        })
    });
    span
}

impl LogicalPlan {
    /// The inputs of this node.
    pub fn children(&self) -> Vec<&LogicalPlan> {
        match self {
            LogicalPlan::Scan { .. }
            | LogicalPlan::Values { .. }
            | LogicalPlan::Series { .. }
            | LogicalPlan::WorkingTable { .. } => vec![],
            LogicalPlan::Filter { input, .. }
            | LogicalPlan::Project { input, .. }
            | LogicalPlan::Aggregate { input, .. }
            | LogicalPlan::Window { input, .. }
            | LogicalPlan::Sort { input, .. }
            | LogicalPlan::Limit { input, .. }
            | LogicalPlan::Cte { input, .. } => vec![input],
            LogicalPlan::Join { left, right, .. } | LogicalPlan::SetOp { left, right, .. } => vec![left, right],
            LogicalPlan::RecursiveCte { anchor, recursive, .. } => vec![anchor, recursive],
            LogicalPlan::Union { inputs } => inputs.iter().collect(),
        }
    }

    /// The node with `f` applied to each of its inputs (in `children` order).
    pub fn map_children(self, mut f: impl FnMut(LogicalPlan) -> LogicalPlan) -> LogicalPlan {
        let mut rec = |p: Box<LogicalPlan>| Box::new(f(*p));
        match self {
            leaf @ (LogicalPlan::Scan { .. }
            | LogicalPlan::Values { .. }
            | LogicalPlan::Series { .. }
            | LogicalPlan::WorkingTable { .. }) => leaf,
            LogicalPlan::Filter { input, predicate } => LogicalPlan::Filter { input: rec(input), predicate },
            LogicalPlan::Project { input, exprs } => LogicalPlan::Project { input: rec(input), exprs },
            LogicalPlan::Aggregate { input, group_by, aggregates } => {
                LogicalPlan::Aggregate { input: rec(input), group_by, aggregates }
            }
            LogicalPlan::Window { input, windows } => LogicalPlan::Window { input: rec(input), windows },
            LogicalPlan::Sort { input, keys, fetch } => LogicalPlan::Sort { input: rec(input), keys, fetch },
            LogicalPlan::Limit { input, limit, offset } => LogicalPlan::Limit { input: rec(input), limit, offset },
            LogicalPlan::Join { left, right, kind, on } => {
                let left = rec(left);
                LogicalPlan::Join { left, right: rec(right), kind, on }
            }
            LogicalPlan::RecursiveCte { slot, anchor, recursive, distinct } => {
                let anchor = rec(anchor);
                LogicalPlan::RecursiveCte { slot, anchor, recursive: rec(recursive), distinct }
            }
            LogicalPlan::Union { inputs } => LogicalPlan::Union { inputs: inputs.into_iter().map(f).collect() },
            LogicalPlan::SetOp { left, right, kind, all } => {
                let left = rec(left);
                LogicalPlan::SetOp { left, right: rec(right), kind, all }
            }
            LogicalPlan::Cte { name, input, rows } => LogicalPlan::Cte { name, input: rec(input), rows },
        }
    }

    /// Calls `f` on each expression of this node (not of its inputs).
    pub fn for_each_expr(&self, f: &mut dyn FnMut(&Expr)) {
        match self {
            LogicalPlan::Scan { filter, .. } => filter.iter().for_each(f),
            LogicalPlan::Values { rows, .. } => rows.iter().flatten().for_each(f),
            LogicalPlan::Series { args, .. } => args.iter().for_each(f),
            LogicalPlan::Filter { predicate, .. } => f(predicate),
            LogicalPlan::Project { exprs, .. } => exprs.iter().for_each(f),
            LogicalPlan::Aggregate { group_by, aggregates, .. } => {
                group_by.iter().for_each(&mut *f);
                aggregates.iter().flat_map(|a| a.arg.iter().chain(a.filter.iter())).for_each(f);
            }
            LogicalPlan::Window { windows, .. } => windows.iter().flat_map(|w| w.exprs()).for_each(f),
            LogicalPlan::Sort { keys, .. } => keys.iter().for_each(|k| f(&k.expr)),
            LogicalPlan::Join { on, .. } => on.iter().for_each(f),
            LogicalPlan::Limit { .. }
            | LogicalPlan::RecursiveCte { .. }
            | LogicalPlan::WorkingTable { .. }
            | LogicalPlan::Union { .. }
            | LogicalPlan::SetOp { .. }
            | LogicalPlan::Cte { .. } => {}
        }
    }

    /// The types of the output columns.
    pub fn output_types(&self) -> Vec<DataType> {
        match self {
            LogicalPlan::Scan { table, columns, .. } => columns.iter().map(|&c| table.column_type(c)).collect(),
            LogicalPlan::Values { types, .. } => types.clone(),
            LogicalPlan::Series { data_type, .. } => vec![*data_type],
            LogicalPlan::Filter { input, .. }
            | LogicalPlan::Sort { input, .. }
            | LogicalPlan::Limit { input, .. }
            | LogicalPlan::Cte { input, .. } => input.output_types(),
            LogicalPlan::Project { exprs, .. } => exprs.iter().map(Expr::data_type).collect(),
            LogicalPlan::Aggregate { group_by, aggregates, .. } => {
                group_by.iter().map(Expr::data_type).chain(aggregates.iter().map(|a| a.data_type)).collect()
            }
            LogicalPlan::Window { input, windows } => {
                let mut t = input.output_types();
                t.extend(windows.iter().map(|w| w.data_type));
                t
            }
            LogicalPlan::Join { left, right, kind, .. } => {
                let mut t = left.output_types();
                if !kind.left_only() {
                    t.extend(right.output_types());
                }
                t
            }
            LogicalPlan::Union { inputs } => inputs.first().map(|i| i.output_types()).unwrap_or_default(),
            LogicalPlan::SetOp { left, .. } => left.output_types(),
            LogicalPlan::RecursiveCte { anchor, .. } => anchor.output_types(),
            LogicalPlan::WorkingTable { types, .. } => types.clone(),
        }
    }

    /// A rough row count, used to pick the build side of a hash join.
    pub fn estimated_rows(&self, snapshot: mvcc::Snapshot) -> usize {
        match self {
            LogicalPlan::Scan { table, filter, .. } => {
                let n = table.n_rows(snapshot);
                if filter.is_some() {
                    n / 4
                } else {
                    n
                }
            }
            LogicalPlan::Values { rows, .. } => rows.len(),
            LogicalPlan::Series { .. } => 1000,
            LogicalPlan::Filter { input, .. } => input.estimated_rows(snapshot) / 4,
            LogicalPlan::Project { input, .. }
            | LogicalPlan::Sort { input, .. }
            | LogicalPlan::Window { input, .. }
            | LogicalPlan::Cte { input, .. } => input.estimated_rows(snapshot),
            LogicalPlan::Aggregate { input, group_by, .. } => {
                if group_by.is_empty() {
                    1
                } else {
                    input.estimated_rows(snapshot) / 10 + 1
                }
            }
            LogicalPlan::Limit { input, limit, .. } => {
                let n = input.estimated_rows(snapshot);
                limit.map_or(n, |l| l.min(n))
            }
            LogicalPlan::Join { left, right, .. } => left.estimated_rows(snapshot).max(right.estimated_rows(snapshot)),
            LogicalPlan::Union { inputs } => inputs.iter().map(|i| i.estimated_rows(snapshot)).sum(),
            LogicalPlan::SetOp { left, .. } => left.estimated_rows(snapshot),
            LogicalPlan::RecursiveCte { anchor, .. } => anchor.estimated_rows(snapshot).saturating_mul(10),
            LogicalPlan::WorkingTable { .. } => 100,
        }
    }

    /// Lowers the plan like [`LogicalPlan::to_physical`], where only the output columns that
    /// `exprs` read are used by the parent: a join then need not gather the others.
    fn lower_read_by<'e>(&self, exprs: impl Iterator<Item = &'e Expr>, snapshot: mvcc::Snapshot) -> exec::PhysicalPlan {
        match self {
            LogicalPlan::Join { left, right, kind, on } => {
                let mut read = vec![false; self.output_types().len()];
                crate::optimizer::mark(&mut read, exprs);
                lower_join(left, right, *kind, on.as_ref(), Some(read), snapshot)
            }
            _ => self.to_physical(snapshot),
        }
    }

    /// Lowers the plan to an executable one that reads at `snapshot`.
    pub fn to_physical(&self, snapshot: mvcc::Snapshot) -> exec::PhysicalPlan {
        use exec::PhysicalPlan as P;
        let lower = |p: &LogicalPlan| Box::new(p.to_physical(snapshot));
        match self {
            LogicalPlan::Scan { table, columns, filter } => {
                P::Scan { table: table.clone(), snapshot, columns: columns.clone(), filter: filter.clone() }
            }
            LogicalPlan::Values { rows, types } => P::Values { rows: rows.clone(), types: types.clone() },
            LogicalPlan::Series { args, inclusive, data_type } => {
                P::Series { args: args.clone(), inclusive: *inclusive, data_type: *data_type }
            }
            LogicalPlan::Filter { input, predicate } => P::Filter { input: lower(input), predicate: predicate.clone() },
            LogicalPlan::Project { input, exprs } => {
                P::Project { input: Box::new(input.lower_read_by(exprs.iter(), snapshot)), exprs: exprs.clone() }
            }
            LogicalPlan::Aggregate { input, group_by, aggregates } => {
                let read = group_by.iter().chain(aggregates.iter().flat_map(|a| a.arg.iter().chain(a.filter.iter())));
                P::Aggregate {
                    input: Box::new(input.lower_read_by(read, snapshot)),
                    group_by: group_by.clone(),
                    aggregates: aggregates.clone(),
                }
            }
            LogicalPlan::Window { input, windows } => P::Window { input: lower(input), windows: windows.clone() },
            LogicalPlan::Sort { input, keys, fetch } => {
                P::Sort { input: lower(input), keys: keys.clone(), fetch: *fetch }
            }
            LogicalPlan::Limit { input, limit, offset } => {
                P::Limit { input: lower(input), limit: *limit, offset: *offset }
            }
            LogicalPlan::Join { left, right, kind, on } => lower_join(left, right, *kind, on.as_ref(), None, snapshot),
            LogicalPlan::Union { inputs } => {
                P::Union { inputs: inputs.iter().map(|i| i.to_physical(snapshot)).collect() }
            }
            LogicalPlan::SetOp { left, right, kind, all } => {
                P::SetOp { left: lower(left), right: lower(right), kind: *kind, all: *all }
            }
            LogicalPlan::RecursiveCte { slot, anchor, recursive, distinct } => P::RecursiveCte {
                slot: slot.clone(),
                anchor: lower(anchor),
                recursive: lower(recursive),
                distinct: *distinct,
            },
            LogicalPlan::WorkingTable { slot, .. } => P::WorkingTable { slot: slot.clone() },
            LogicalPlan::Cte { input, rows, .. } => P::Cached { input: lower(input), rows: rows.clone() },
        }
    }
}

/// Picks a hash join when the condition has equalities between a left-only and a right-only
/// expression (the rest stays a residual filter), a nested-loop join otherwise. The smaller
/// input (by estimate) is the build side.
fn lower_join(
    left: &LogicalPlan,
    right: &LogicalPlan,
    kind: JoinKind,
    on: Option<&Expr>,
    read: Option<Vec<bool>>,
    snapshot: mvcc::Snapshot,
) -> exec::PhysicalPlan {
    use exec::PhysicalPlan as P;
    let n_left = left.output_types().len();
    let spec = |filter: Option<Expr>| {
        // Columns the residual filter reads are read too; semi and anti joins output their
        // left rows whole.
        let unread = match read.clone() {
            Some(mut read) if !kind.left_only() => {
                crate::optimizer::mark(&mut read, filter.iter());
                read.iter().map(|r| !r).collect()
            }
            _ => vec![],
        };
        JoinSpec { kind, left_types: left.output_types(), right_types: right.output_types(), filter, unread }
    };
    let side = |e: &Expr| match column_span(e) {
        Some((_, hi)) if hi < n_left => Some(true),
        Some((lo, _)) if lo >= n_left => Some(false),
        _ => None,
    };
    let (mut left_keys, mut right_keys, mut residual) = (Vec::new(), Vec::new(), Vec::new());
    for c in on.cloned().map(conjuncts).unwrap_or_default() {
        if let Expr::Compare { op: CmpOp::Eq, left: l, right: r } = &c {
            let pair = match (side(l), side(r)) {
                (Some(true), Some(false)) => Some(((**l).clone(), (**r).clone())),
                (Some(false), Some(true)) => Some(((**r).clone(), (**l).clone())),
                _ => None,
            };
            if let Some((lk, mut rk)) = pair {
                rk.remap_columns(&|c| c - n_left);
                left_keys.push(lk);
                right_keys.push(rk);
                continue;
            }
        }
        residual.push(c);
    }
    let (l, r) = (Box::new(left.to_physical(snapshot)), Box::new(right.to_physical(snapshot)));
    if left_keys.is_empty() {
        P::NestedLoopJoin { left: l, right: r, spec: spec(on.cloned()) }
    } else {
        // Semi and anti joins probe with the left rows, which they emit.
        let build_left = !kind.left_only() && left.estimated_rows(snapshot) < right.estimated_rows(snapshot);
        P::HashJoin { left: l, right: r, left_keys, right_keys, build_left, spec: spec(conjoin(residual)) }
    }
}
