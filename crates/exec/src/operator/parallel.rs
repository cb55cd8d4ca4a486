//! Morsel-driven parallelism: an aggregate over a pipeline of scan -> (filter | project |
//! hash-join probe)* runs on [`crate::threads`] worker threads. The scan's parts are the
//! morsels; workers take the next one from a shared atomic counter, push its rows through
//! their own copy of the pipeline into their own partial [`HashAggregate`], and the partials
//! are merged and finished once. Join build sides are built once, before the workers start,
//! and shared read-only.
//!
//! Results equal the single-threaded run's: each partial aggregate records the input
//! position (part index, row within the part's output) of every group's first row, and the
//! merged output lists groups by that position. Only floating-point sums may differ in their
//! last bits (they are added in another order).

use super::aggregate::{mergeable, HashAggregate};
use super::filter::FilterSink;
use super::join::{build_side, keeps_unmatched_build, probe_sink, JoinBuild, JoinSpec};
use super::project::ProjectSink;
use super::scan::PartScan;
use super::{AggregateExpr, Flow, PhysicalPlan, Sink};
use crate::error::{ExecError, Result};
use crate::expr::Expr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use storage::Batch;

/// One streaming step above the scan.
enum Stage<'a> {
    Filter(&'a Expr),
    Project(&'a [Expr]),
    Probe { join: JoinBuild, probe_keys: &'a [Expr], build_left: bool, spec: &'a JoinSpec },
}

/// The scan at the bottom of a parallel pipeline.
struct Source<'a> {
    columns: &'a [usize],
    filter: Option<&'a Expr>,
}

/// Whether `plan` is a pipeline workers can run: filters, projections and inner/probe-side
/// hash joins over one scan (checked without running anything).
fn is_pipeline(plan: &PhysicalPlan) -> bool {
    match plan {
        PhysicalPlan::Scan { .. } => true,
        PhysicalPlan::Filter { input, .. } | PhysicalPlan::Project { input, .. } => is_pipeline(input),
        PhysicalPlan::HashJoin { left, right, build_left, spec, .. } => {
            !keeps_unmatched_build(*build_left, spec.kind) && is_pipeline(if *build_left { right } else { left })
        }
        _ => false,
    }
}

/// The table and snapshot of the pipeline's scan.
fn scan_of(plan: &PhysicalPlan) -> Option<(&mvcc::Table, mvcc::Snapshot)> {
    match plan {
        PhysicalPlan::Scan { table, snapshot, .. } => Some((table, *snapshot)),
        PhysicalPlan::Filter { input, .. } | PhysicalPlan::Project { input, .. } => scan_of(input),
        PhysicalPlan::HashJoin { left, right, build_left, .. } => scan_of(if *build_left { right } else { left }),
        _ => None,
    }
}

/// Splits a pipeline into its source and its stages (bottom-up), building join tables.
fn split<'a>(plan: &'a PhysicalPlan, stages: &mut Vec<Stage<'a>>) -> Result<Source<'a>> {
    match plan {
        PhysicalPlan::Scan { columns, filter, .. } => Ok(Source { columns, filter: filter.as_ref() }),
        PhysicalPlan::Filter { input, predicate } => {
            let source = split(input, stages)?;
            stages.push(Stage::Filter(predicate));
            Ok(source)
        }
        PhysicalPlan::Project { input, exprs } => {
            let source = split(input, stages)?;
            stages.push(Stage::Project(exprs));
            Ok(source)
        }
        PhysicalPlan::HashJoin { left, right, left_keys, right_keys, build_left, spec } => {
            let (build_plan, probe_plan, build_keys, probe_keys) =
                if *build_left { (left, right, left_keys, right_keys) } else { (right, left, right_keys, left_keys) };
            // The single-threaded join builds first too: errors come in the same order.
            let join = build_side(
                build_plan,
                build_keys,
                probe_keys,
                if *build_left { &spec.left_types } else { &spec.right_types },
            )?;
            let source = split(probe_plan, stages)?;
            stages.push(Stage::Probe { join, probe_keys, build_left: *build_left, spec });
            Ok(source)
        }
        _ => Err(ExecError::Internal("not a parallel pipeline".into())),
    }
}

/// Pushes a batch through `stages` into `sink`.
fn push_through(stages: &[Stage], batch: Batch, sink: &mut dyn Sink) -> Result<Flow> {
    let Some((stage, rest)) = stages.split_first() else {
        return sink.push(batch);
    };
    let mut next = Rest { stages: rest, sink };
    match stage {
        Stage::Filter(predicate) => FilterSink { predicate, next: &mut next }.push(batch),
        Stage::Project(exprs) => ProjectSink { exprs, next: &mut next }.push(batch),
        Stage::Probe { join, probe_keys, build_left, spec } => {
            probe_sink(join, probe_keys, *build_left, spec, &mut next).push(batch)
        }
    }
}

struct Rest<'s, 'a> {
    stages: &'s [Stage<'a>],
    sink: &'s mut dyn Sink,
}

impl Sink for Rest<'_, '_> {
    fn push(&mut self, batch: Batch) -> Result<Flow> {
        push_through(self.stages, batch, self.sink)
    }
}

/// Runs `Aggregate { input, group_by, aggregates }` on worker threads when it pays off and
/// the plan allows it; `None` when the caller should run it on this thread.
pub(super) fn try_parallel_aggregate(
    input: &PhysicalPlan,
    group_by: &[Expr],
    aggregates: &[AggregateExpr],
) -> Result<Option<Vec<Batch>>> {
    let threads = crate::threads();
    if threads < 2 || !aggregates.iter().all(mergeable) || !is_pipeline(input) {
        return Ok(None);
    }
    let Some((table, snapshot)) = scan_of(input) else { return Ok(None) };
    let mut parts = table.scan(snapshot);
    if parts.len() < 2 {
        return Ok(None);
    }
    let mut stages = Vec::new();
    let source = split(input, &mut stages)?;
    let scan = PartScan::new(source.columns, source.filter);
    // Parts the zone maps skip are no work: threads only pay off for two parts or more.
    parts.retain(|p| !scan.skips(p));
    let next_part = AtomicUsize::new(0);
    let first_error: Mutex<Option<(usize, ExecError)>> = Mutex::new(None);
    if parts.len() < 2 {
        let mut agg = HashAggregate::new(group_by, aggregates)?;
        let mut cache = mvcc::ReadCache::default();
        for part in &parts {
            scan.run(part, &mut cache, &mut Rest { stages: &stages, sink: &mut agg })?;
        }
        return Ok(Some(agg.finish()?));
    }
    let workers = threads.min(parts.len());
    let partials: Vec<Result<HashAggregate>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                s.spawn(|| -> Result<HashAggregate> {
                    // Nested plans (correlated subqueries) run on the worker itself.
                    let _one = crate::ThreadsGuard::set(Some(1));
                    let mut agg = HashAggregate::new_partial(group_by, aggregates)?;
                    let mut cache = mvcc::ReadCache::default();
                    loop {
                        let idx = next_part.fetch_add(1, Ordering::Relaxed);
                        let Some(part) = parts.get(idx) else { break };
                        if first_error.lock().unwrap_or_else(|p| p.into_inner()).as_ref().is_some_and(|(i, _)| *i < idx)
                        {
                            break;
                        }
                        agg.set_position((idx as u64) << 32);
                        let mut sink = Rest { stages: &stages, sink: &mut agg };
                        if let Err(e) = scan.run(part, &mut cache, &mut sink) {
                            // Keep the error of the earliest part, as one thread would report.
                            let mut slot = first_error.lock().unwrap_or_else(|p| p.into_inner());
                            if slot.as_ref().is_none_or(|(i, _)| idx < *i) {
                                *slot = Some((idx, e));
                            }
                            break;
                        }
                    }
                    Ok(agg)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err(ExecError::Internal("a worker thread panicked".into()))))
            .collect()
    });
    if let Some((_, e)) = first_error.into_inner().unwrap_or_else(|p| p.into_inner()) {
        return Err(e);
    }
    let mut partials = partials.into_iter();
    let mut total = partials.next().ok_or_else(|| ExecError::Internal("no worker ran".into()))??;
    for partial in partials {
        total.merge(partial?)?;
    }
    Ok(Some(total.finish()?))
}
