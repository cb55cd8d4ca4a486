//! Physical operators and the push-based driver.
//!
//! A [`PhysicalPlan`] is run by [`execute`]: sources (scans, VALUES) push batches into a chain
//! of [`Sink`]s. Streaming operators (filter, projection, limit) are sinks that transform a
//! batch and push it on; pipeline breakers (aggregate, sort) are sinks that absorb their whole
//! input, then become sources for the rest of the plan. A sink answers [`Flow::Stop`] when it
//! needs no more input (a satisfied LIMIT), and sources stop early.

mod accumulate;
mod aggregate;
pub mod filter;
mod group_table;
mod join;
mod limit;
mod parallel;
mod percentile;
mod project;
mod prune;
mod recursive;
mod scan;
mod series;
mod setop;
mod sort;
mod sort_key;
mod window;
mod word_map;

pub use aggregate::{AggFunc, AggregateExpr};
pub use join::{JoinKind, JoinSpec};
pub use percentile::release_spare_chunks;
pub use recursive::WorkingTable;
pub use setop::SetOpKind;
pub use sort::{concat_batches, SortKey};
pub use window::{FrameBound, FrameUnits, WindowExpr, WindowFrame, WindowFunc};

use crate::error::Result;
use crate::expr::Expr;
use std::fmt::Write;
use std::sync::Arc;
use storage::{Batch, DataType};

/// Whether a sink wants more input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Continue,
    Stop,
}

/// Receives batches pushed by the operator below it.
pub trait Sink {
    fn push(&mut self, batch: Batch) -> Result<Flow>;
}

/// A sink that keeps every batch: the end of every pipeline that returns rows.
#[derive(Debug, Default)]
pub struct CollectSink {
    pub batches: Vec<Batch>,
}

impl Sink for CollectSink {
    fn push(&mut self, batch: Batch) -> Result<Flow> {
        if batch.n_rows > 0 {
            self.batches.push(batch);
        }
        Ok(Flow::Continue)
    }
}

/// An executable plan.
#[derive(Debug, Clone)]
pub enum PhysicalPlan {
    /// The rows of a table visible to `snapshot`, projected to `columns`, optionally filtered.
    Scan {
        table: Arc<mvcc::Table>,
        snapshot: mvcc::Snapshot,
        columns: Vec<usize>,
        filter: Option<Expr>,
    },
    /// Literal rows; each expression is constant. One row of no columns drives `SELECT 1`.
    Values {
        rows: Vec<Vec<Expr>>,
        types: Vec<DataType>,
    },
    /// `generate_series(start, stop [, step])` (`inclusive`) or `range(...)`: BIGINT, or
    /// TIMESTAMP stepped by an INTERVAL. Each argument is constant.
    Series {
        args: Vec<Expr>,
        inclusive: bool,
        data_type: DataType,
    },
    Filter {
        input: Box<PhysicalPlan>,
        predicate: Expr,
    },
    Project {
        input: Box<PhysicalPlan>,
        exprs: Vec<Expr>,
    },
    /// Output: the group keys, then the aggregates.
    Aggregate {
        input: Box<PhysicalPlan>,
        group_by: Vec<Expr>,
        aggregates: Vec<AggregateExpr>,
    },
    /// Sorts; with `fetch`, keeps only the first `fetch` rows (top-N).
    Sort {
        input: Box<PhysicalPlan>,
        keys: Vec<SortKey>,
        fetch: Option<usize>,
    },
    Limit {
        input: Box<PhysicalPlan>,
        limit: Option<usize>,
        offset: usize,
    },
    /// WITH RECURSIVE: `anchor`, then `recursive` over the previous step's rows (read through
    /// `slot` by a `WorkingTable` node) until a step adds nothing.
    RecursiveCte {
        slot: Arc<WorkingTable>,
        anchor: Box<PhysicalPlan>,
        recursive: Box<PhysicalPlan>,
        /// UNION (not UNION ALL): rows already produced are dropped.
        distinct: bool,
    },
    /// The rows of the current recursive step.
    WorkingTable {
        slot: Arc<WorkingTable>,
    },
    /// Output: the input's columns, then one column per window function.
    Window {
        input: Box<PhysicalPlan>,
        windows: Vec<WindowExpr>,
    },
    /// Equi-join on `left_keys[k] = right_keys[k]`; builds a hash table on one side.
    HashJoin {
        left: Box<PhysicalPlan>,
        right: Box<PhysicalPlan>,
        left_keys: Vec<Expr>,
        right_keys: Vec<Expr>,
        build_left: bool,
        spec: JoinSpec,
    },
    /// Every pair of rows, filtered.
    NestedLoopJoin {
        left: Box<PhysicalPlan>,
        right: Box<PhysicalPlan>,
        spec: JoinSpec,
    },
    /// UNION ALL: the inputs' rows one input after another.
    Union {
        inputs: Vec<PhysicalPlan>,
    },
    /// INTERSECT / EXCEPT, with or without ALL.
    SetOp {
        left: Box<PhysicalPlan>,
        right: Box<PhysicalPlan>,
        kind: SetOpKind,
        all: bool,
    },
    /// `input`, run on first use and replayed from memory afterwards: a part of a correlated
    /// subquery's plan that reads no outer value (see `crate::correlated`). Copies of the plan
    /// share the rows.
    Cached {
        input: Box<PhysicalPlan>,
        rows: Arc<CachedRows>,
    },
}

/// The rows of a [`PhysicalPlan::Cached`] node once computed.
#[derive(Debug, Default)]
pub struct CachedRows {
    rows: std::sync::Mutex<Option<Arc<Vec<Batch>>>>,
    /// The common table expression these rows are (EXPLAIN names it), if any.
    cte: Option<String>,
    /// How many times the input ran to completion (1 once computed; tests check it).
    runs: std::sync::atomic::AtomicUsize,
}

impl CachedRows {
    /// An empty cache for the rows of the common table expression `name`.
    pub fn for_cte(name: &str) -> CachedRows {
        CachedRows { cte: Some(name.to_string()), ..CachedRows::default() }
    }

    /// The common table expression these rows are, if any.
    pub fn cte(&self) -> Option<&str> {
        self.cte.as_deref()
    }

    /// The input's rows, running it if no earlier run succeeded.
    fn get(&self, input: &PhysicalPlan) -> Result<Arc<Vec<Batch>>> {
        // A poisoned lock only means another thread panicked while computing: recompute.
        let mut slot = self.rows.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(rows) = slot.as_ref() {
            return Ok(rows.clone());
        }
        let rows = Arc::new(collect(input)?);
        self.runs.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        *slot = Some(rows.clone());
        Ok(rows)
    }

    /// The number of rows computed so far (`None` before the first successful run).
    pub fn computed_rows(&self) -> Option<usize> {
        let slot = self.rows.lock().unwrap_or_else(|e| e.into_inner());
        slot.as_ref().map(|rows| rows.iter().map(|b| b.n_rows).sum())
    }

    /// How many times the input ran to completion: 0 before the first use, then 1.
    pub fn runs(&self) -> usize {
        self.runs.load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// Runs `plan`, pushing its output into `sink`.
pub fn execute(plan: &PhysicalPlan, sink: &mut dyn Sink) -> Result<Flow> {
    match plan {
        PhysicalPlan::Scan { table, snapshot, columns, filter } => {
            scan::run_scan(table, *snapshot, columns, filter.as_ref(), sink)
        }
        PhysicalPlan::Values { rows, types } => scan::run_values(rows, types, sink),
        PhysicalPlan::Series { args, inclusive, data_type } => series::run_series(args, *inclusive, *data_type, sink),
        PhysicalPlan::Filter { input, predicate } => execute(input, &mut filter::FilterSink { predicate, next: sink }),
        PhysicalPlan::Project { input, exprs } => execute(input, &mut project::ProjectSink { exprs, next: sink }),
        PhysicalPlan::Aggregate { input, group_by, aggregates } => {
            if let Some(out) = parallel::try_parallel_aggregate(input, group_by, aggregates)? {
                return push_all(out, sink);
            }
            let mut agg = aggregate::HashAggregate::new(group_by, aggregates)?;
            execute(input, &mut agg)?;
            push_all(agg.finish()?, sink)
        }
        PhysicalPlan::Sort { input, keys, fetch } => {
            if let Some(out) = parallel::try_parallel_sort(input, keys, *fetch)? {
                return push_all(out, sink);
            }
            let mut run = sort::RunBuilder::new(keys, *fetch);
            execute(input, &mut run)?;
            push_all(sort::merge_runs(vec![run.finish()?], *fetch)?, sink)
        }
        PhysicalPlan::RecursiveCte { slot, anchor, recursive, distinct } => {
            recursive::run_recursive(slot, anchor, recursive, *distinct, sink)
        }
        PhysicalPlan::WorkingTable { slot } => push_all(slot.rows(), sink),
        PhysicalPlan::Window { input, windows } => {
            let batches = collect(input)?;
            if batches.iter().all(|b| b.n_rows == 0) {
                return Ok(Flow::Continue);
            }
            let all = sort::concat_batches(&batches)?;
            push_all(vec![window::compute_windows(all, windows)?], sink)
        }
        PhysicalPlan::HashJoin { left, right, left_keys, right_keys, build_left, spec } => {
            join::run_hash_join(left, right, left_keys, right_keys, *build_left, spec, sink)
        }
        PhysicalPlan::NestedLoopJoin { left, right, spec } => join::run_nested_loop_join(left, right, spec, sink),
        PhysicalPlan::Union { inputs } => setop::run_union(inputs, sink),
        PhysicalPlan::SetOp { left, right, kind, all } => setop::run_set_op(left, right, *kind, *all, sink),
        PhysicalPlan::Cached { input, rows } => push_all(rows.get(input)?.as_ref().clone(), sink),
        PhysicalPlan::Limit { input, limit, offset } => {
            if *limit == Some(0) {
                return Ok(Flow::Continue);
            }
            execute(input, &mut limit::LimitSink { skip: *offset, remaining: *limit, next: sink })?;
            Ok(Flow::Continue)
        }
    }
}

/// Runs `plan` and returns all its output batches.
pub fn collect(plan: &PhysicalPlan) -> Result<Vec<Batch>> {
    let mut sink = CollectSink::default();
    execute(plan, &mut sink)?;
    Ok(sink.batches)
}

/// Pushes batches in pieces of at most [`crate::batch_size`] rows until the sink stops.
fn push_all(batches: Vec<Batch>, sink: &mut dyn Sink) -> Result<Flow> {
    let size = crate::batch_size();
    for batch in batches {
        let mut offset = 0;
        while offset < batch.n_rows {
            crate::interrupt::check()?;
            let len = size.min(batch.n_rows - offset);
            if sink.push(batch.slice(offset, len))? == Flow::Stop {
                return Ok(Flow::Stop);
            }
            offset += len;
        }
    }
    Ok(Flow::Continue)
}

impl PhysicalPlan {
    /// A copy of the plan with `f` applied to every expression (used to bind the outer values
    /// of a correlated subquery).
    pub fn map_exprs(&self, f: &impl Fn(&mut Expr)) -> PhysicalPlan {
        let map = |e: &Expr| {
            let mut e = e.clone();
            f(&mut e);
            e
        };
        let rec = |p: &PhysicalPlan| Box::new(p.map_exprs(f));
        let spec = |s: &JoinSpec| JoinSpec { filter: s.filter.as_ref().map(map), ..s.clone() };
        match self {
            PhysicalPlan::Scan { table, snapshot, columns, filter } => PhysicalPlan::Scan {
                table: table.clone(),
                snapshot: *snapshot,
                columns: columns.clone(),
                filter: filter.as_ref().map(map),
            },
            PhysicalPlan::Values { rows, types } => PhysicalPlan::Values {
                rows: rows.iter().map(|r| r.iter().map(map).collect()).collect(),
                types: types.clone(),
            },
            PhysicalPlan::Series { args, inclusive, data_type } => PhysicalPlan::Series {
                args: args.iter().map(map).collect(),
                inclusive: *inclusive,
                data_type: *data_type,
            },
            PhysicalPlan::Filter { input, predicate } => {
                PhysicalPlan::Filter { input: rec(input), predicate: map(predicate) }
            }
            PhysicalPlan::Project { input, exprs } => {
                PhysicalPlan::Project { input: rec(input), exprs: exprs.iter().map(map).collect() }
            }
            PhysicalPlan::Aggregate { input, group_by, aggregates } => PhysicalPlan::Aggregate {
                input: rec(input),
                group_by: group_by.iter().map(map).collect(),
                aggregates: aggregates
                    .iter()
                    .map(|a| AggregateExpr {
                        arg: a.arg.as_ref().map(map),
                        filter: a.filter.as_ref().map(map),
                        ..a.clone()
                    })
                    .collect(),
            },
            PhysicalPlan::Sort { input, keys, fetch } => PhysicalPlan::Sort {
                input: rec(input),
                keys: keys.iter().map(|k| SortKey { expr: map(&k.expr), ..k.clone() }).collect(),
                fetch: *fetch,
            },
            PhysicalPlan::Limit { input, limit, offset } => {
                PhysicalPlan::Limit { input: rec(input), limit: *limit, offset: *offset }
            }
            PhysicalPlan::RecursiveCte { slot, anchor, recursive, distinct } => PhysicalPlan::RecursiveCte {
                slot: slot.clone(),
                anchor: rec(anchor),
                recursive: rec(recursive),
                distinct: *distinct,
            },
            PhysicalPlan::WorkingTable { slot } => PhysicalPlan::WorkingTable { slot: slot.clone() },
            PhysicalPlan::Window { input, windows } => PhysicalPlan::Window {
                input: rec(input),
                windows: windows
                    .iter()
                    .map(|w| {
                        let mut w = w.clone();
                        w.exprs_mut().for_each(f);
                        w
                    })
                    .collect(),
            },
            PhysicalPlan::HashJoin { left, right, left_keys, right_keys, build_left, spec: s } => {
                PhysicalPlan::HashJoin {
                    left: rec(left),
                    right: rec(right),
                    left_keys: left_keys.iter().map(map).collect(),
                    right_keys: right_keys.iter().map(map).collect(),
                    build_left: *build_left,
                    spec: spec(s),
                }
            }
            PhysicalPlan::NestedLoopJoin { left, right, spec: s } => {
                PhysicalPlan::NestedLoopJoin { left: rec(left), right: rec(right), spec: spec(s) }
            }
            PhysicalPlan::Union { inputs } => {
                PhysicalPlan::Union { inputs: inputs.iter().map(|i| i.map_exprs(f)).collect() }
            }
            PhysicalPlan::SetOp { left, right, kind, all } => {
                PhysicalPlan::SetOp { left: rec(left), right: rec(right), kind: *kind, all: *all }
            }
            // Reads no outer value by construction; copies share the computed rows.
            PhysicalPlan::Cached { input, rows } => PhysicalPlan::Cached { input: input.clone(), rows: rows.clone() },
        }
    }

    /// The inputs of this node.
    pub fn children(&self) -> Vec<&PhysicalPlan> {
        match self {
            PhysicalPlan::Filter { input, .. }
            | PhysicalPlan::Project { input, .. }
            | PhysicalPlan::Aggregate { input, .. }
            | PhysicalPlan::Sort { input, .. }
            | PhysicalPlan::Limit { input, .. }
            | PhysicalPlan::Window { input, .. }
            | PhysicalPlan::Cached { input, .. } => vec![input],
            PhysicalPlan::RecursiveCte { anchor, recursive, .. } => vec![anchor, recursive],
            PhysicalPlan::HashJoin { left, right, .. }
            | PhysicalPlan::NestedLoopJoin { left, right, .. }
            | PhysicalPlan::SetOp { left, right, .. } => vec![left, right],
            PhysicalPlan::Union { inputs } => inputs.iter().collect(),
            PhysicalPlan::Scan { .. }
            | PhysicalPlan::Values { .. }
            | PhysicalPlan::Series { .. }
            | PhysicalPlan::WorkingTable { .. } => vec![],
        }
    }

    /// An indented tree, one operator per line.
    pub fn display_tree(&self) -> String {
        let mut out = String::new();
        self.fmt_tree(0, &mut out, &mut Vec::new());
        out
    }

    fn fmt_tree(&self, depth: usize, out: &mut String, seen: &mut Vec<Arc<CachedRows>>) {
        let pad = "  ".repeat(depth);
        let join = |v: &[Expr]| v.iter().map(|e| e.to_string()).collect::<Vec<_>>().join(", ");
        let _ = match self {
            PhysicalPlan::Scan { table, columns, filter, .. } => {
                let names: Vec<&str> = columns.iter().map(|&c| table.column_name(c)).collect();
                write!(out, "{pad}ScanExec: {} [{}]", table.schema().name, names.join(", ")).and_then(
                    |_| match filter {
                        Some(f) => write!(out, " filter={f}"),
                        None => Ok(()),
                    },
                )
            }
            PhysicalPlan::Values { rows, .. } => {
                write!(out, "{pad}ValuesExec: {} row(s)", rows.len())
            }
            PhysicalPlan::Series { args, inclusive, .. } => {
                let name = if *inclusive { "generate_series" } else { "range" };
                write!(out, "{pad}SeriesExec: {name}({})", join(args))
            }
            PhysicalPlan::Filter { predicate, .. } => write!(out, "{pad}FilterExec: {predicate}"),
            PhysicalPlan::Project { exprs, .. } => write!(out, "{pad}ProjectExec: {}", join(exprs)),
            PhysicalPlan::Aggregate { group_by, aggregates, .. } => {
                let aggs: Vec<String> = aggregates.iter().map(|a| a.to_string()).collect();
                write!(out, "{pad}HashAggregateExec: keys=[{}] aggs=[{}]", join(group_by), aggs.join(", "))
            }
            PhysicalPlan::Sort { keys, fetch, .. } => {
                let keys: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
                write!(out, "{pad}SortExec: [{}]", keys.join(", ")).and_then(|_| match fetch {
                    Some(n) => write!(out, " fetch={n}"),
                    None => Ok(()),
                })
            }
            PhysicalPlan::Limit { limit, offset, .. } => {
                write!(out, "{pad}LimitExec: limit={} offset={offset}", limit.map_or("none".into(), |l| l.to_string()))
            }
            PhysicalPlan::RecursiveCte { distinct, .. } => {
                write!(out, "{pad}RecursiveCteExec: UNION{}", if *distinct { "" } else { " ALL" })
            }
            PhysicalPlan::WorkingTable { .. } => write!(out, "{pad}WorkingTableExec"),
            PhysicalPlan::Window { windows, .. } => {
                let w: Vec<String> = windows.iter().map(|w| w.to_string()).collect();
                write!(out, "{pad}WindowExec: {}", w.join(", "))
            }
            PhysicalPlan::HashJoin { left_keys, right_keys, build_left, spec, .. } => {
                let on: Vec<String> = left_keys.iter().zip(right_keys).map(|(l, r)| format!("{l} = {r}")).collect();
                write!(
                    out,
                    "{pad}HashJoinExec: {:?} on [{}] build={}",
                    spec.kind,
                    on.join(", "),
                    if *build_left { "left" } else { "right" }
                )
                .and_then(|_| match &spec.filter {
                    Some(f) => write!(out, " filter={f}"),
                    None => Ok(()),
                })
                .and_then(|_| {
                    // Output columns (by position) left NULL in matched rows: nothing reads them.
                    let unread: Vec<String> =
                        spec.unread.iter().enumerate().filter(|(_, u)| **u).map(|(k, _)| k.to_string()).collect();
                    if unread.is_empty() {
                        Ok(())
                    } else {
                        write!(out, " unread=[{}]", unread.join(", "))
                    }
                })
            }
            PhysicalPlan::NestedLoopJoin { spec, .. } => write!(out, "{pad}NestedLoopJoinExec: {:?}", spec.kind)
                .and_then(|_| match &spec.filter {
                    Some(f) => write!(out, " filter={f}"),
                    None => Ok(()),
                }),
            PhysicalPlan::Union { inputs } => write!(out, "{pad}UnionExec: {} inputs", inputs.len()),
            PhysicalPlan::SetOp { kind, all, .. } => {
                write!(out, "{pad}SetOpExec: {kind:?}{}", if *all { " ALL" } else { "" })
            }
            PhysicalPlan::Cached { rows, .. } => match rows.cte() {
                Some(name) if seen.iter().any(|s| Arc::ptr_eq(s, rows)) => {
                    write!(out, "{pad}CachedExec: CTE {name} (computed once, above)")
                }
                Some(name) => write!(out, "{pad}CachedExec: CTE {name} computed once"),
                None => write!(out, "{pad}CachedExec: computed once"),
            },
        };
        out.push('\n');
        if let PhysicalPlan::Cached { rows, .. } = self {
            // A CTE's body is shown at its first reference only.
            if rows.cte().is_some() {
                if seen.iter().any(|s| Arc::ptr_eq(s, rows)) {
                    return;
                }
                seen.push(rows.clone());
            }
        }
        for child in self.children() {
            child.fmt_tree(depth + 1, out, seen);
        }
    }
}
