//! Morsel-driven parallelism: an aggregate over a pipeline of scan -> (filter | project |
//! hash-join probe)* runs on [`crate::threads`] worker threads. The scan's parts are the
//! morsels; workers take the next one from a shared atomic counter, push its rows through
//! their own copy of the pipeline into their own partial [`HashAggregate`], and the partials
//! are merged and finished once. Join build sides are built once, before the workers start,
//! and shared read-only. A join that keeps its unmatched build rows (LEFT JOIN building the
//! left side, RIGHT or FULL JOIN building the right side) runs too: each worker flags the build
//! rows its probes matched, the flags are OR-ed after the workers finish, and the unmatched
//! build rows then go through the rest of the pipeline into the merged aggregate, as the
//! single-threaded join emits them after its probe.
//!
//! Results equal the single-threaded run's: each partial aggregate records the input
//! position (part index, row within the part's output) of every group's first row, and the
//! merged output lists groups by that position. Only floating-point sums may differ in their
//! last bits (they are added in another order).
//!
//! A sort over such a pipeline runs the same way ([`try_parallel_sort`]): each worker gathers
//! its parts' rows into a [`RunBuilder`] (keeping its best `fetch` rows for a top-N) and
//! sorts them on its thread; the main thread merges the runs, breaking ties by part index, so
//! the rows come out exactly as one thread's stable sort gives them. Both share
//! [`run_workers`].

use super::aggregate::{mergeable, HashAggregate};
use super::filter::FilterSink;
use super::group_table::GroupTable;
use super::join::{build_side, keeps_unmatched_build, probe_sink, unmatched_build, JoinBuild, JoinSpec};
use super::project::ProjectSink;
use super::scan::PartScan;
use super::sort::{merge_runs, RunBuilder, SortKey};
use super::{AggregateExpr, Flow, PhysicalPlan, Sink};
use crate::error::{ExecError, Result};
use crate::expr::Expr;
use std::borrow::Cow;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use storage::{Batch, DataType, Value};

/// One streaming step above the scan.
enum Stage<'a> {
    Filter(&'a Expr),
    Project(Cow<'a, [Expr]>),
    Probe { join: JoinBuild, probe_keys: &'a [Expr], build_left: bool, spec: Cow<'a, JoinSpec>, keeps_build: bool },
}

impl Stage<'_> {
    /// A worker's fresh flags of the build rows its probes match: one per build row when this
    /// stage is a join that keeps its unmatched build rows, else none.
    fn matched_flags(&self) -> Vec<bool> {
        match self {
            Stage::Probe { join, keeps_build: true, .. } => vec![false; join.build.n_rows],
            _ => Vec::new(),
        }
    }
}

/// The scan at the bottom of a parallel pipeline.
struct Source<'a> {
    columns: &'a [usize],
    filter: Option<&'a Expr>,
}

/// Whether `plan` is a pipeline workers can run: filters, projections and hash-join probes
/// over one scan (checked without running anything).
fn is_pipeline(plan: &PhysicalPlan) -> bool {
    match plan {
        PhysicalPlan::Scan { .. } => true,
        PhysicalPlan::Filter { input, .. } | PhysicalPlan::Project { input, .. } => is_pipeline(input),
        PhysicalPlan::HashJoin { left, right, build_left, .. } => is_pipeline(if *build_left { right } else { left }),
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
            stages.push(Stage::Project(Cow::Borrowed(exprs)));
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
            let keeps_build = keeps_unmatched_build(*build_left, spec.kind);
            stages.push(Stage::Probe {
                join,
                probe_keys,
                build_left: *build_left,
                spec: Cow::Borrowed(spec),
                keeps_build,
            });
            Ok(source)
        }
        _ => Err(ExecError::Internal("not a parallel pipeline".into())),
    }
}

/// Pushes a batch through `stages` into `sink`; `matched[i]` are the worker's flags of stage
/// `i`'s build rows (see [`Stage::matched_flags`]).
fn push_through(stages: &[Stage], matched: &mut [Vec<bool>], batch: Batch, sink: &mut dyn Sink) -> Result<Flow> {
    let (Some((stage, rest)), Some((flags, rest_flags))) = (stages.split_first(), matched.split_first_mut()) else {
        return sink.push(batch);
    };
    let mut next = Rest { stages: rest, matched: rest_flags, sink };
    match stage {
        Stage::Filter(predicate) => FilterSink { predicate, next: &mut next }.push(batch),
        Stage::Project(exprs) => ProjectSink { exprs, next: &mut next }.push(batch),
        Stage::Probe { join, probe_keys, build_left, spec, .. } => {
            let mut probe = probe_sink(join, probe_keys, *build_left, spec, std::mem::take(flags), &mut next);
            let flow = probe.push(batch);
            *flags = probe.take_matched();
            flow
        }
    }
}

struct Rest<'s, 'a> {
    stages: &'s [Stage<'a>],
    matched: &'s mut [Vec<bool>],
    sink: &'s mut dyn Sink,
}

impl Sink for Rest<'_, '_> {
    fn push(&mut self, batch: Batch) -> Result<Flow> {
        push_through(self.stages, self.matched, batch, self.sink)
    }
}

/// Whether `e` reads column `c`.
fn reads(e: &Expr, c: usize) -> bool {
    let mut hit = false;
    e.visit_columns(&mut |i| hit |= i == c);
    hit
}

/// GROUP BY one text column that comes from the build side of the pipeline's topmost join
/// (q08's `c.segment`, q15's `p.category`): instead of gathering the text of every joined row
/// and hashing it, the build column is replaced by a SMALLINT (or INTEGER) code per distinct
/// value (computed once over the build rows), the aggregate groups by the code, and
/// [`decode_keys`] turns the codes of the output back into text. Applies only when nothing
/// else reads the column: no aggregate, filter, residual join condition or other projection;
/// returns the group-by to aggregate by and the distinct values, code `k` being `values[k]`.
fn code_group_key(
    group_by: &[Expr],
    aggregates: &[AggregateExpr],
    stages: &mut [Stage],
) -> Option<(Vec<Expr>, Vec<Value>)> {
    let [Expr::Column { idx, name, data_type: DataType::Text }] = group_by else { return None };
    if aggregates.iter().any(|a| a.arg.iter().chain(a.filter.iter()).any(|e| reads(e, *idx))) {
        return None;
    }
    let mut c = *idx;
    // The column's position at the output of each stage, top down, until the join.
    let mut path = Vec::new();
    let mut found = None;
    for (i, stage) in stages.iter().enumerate().rev() {
        path.push((i, c));
        match stage {
            Stage::Filter(predicate) if reads(predicate, c) => return None,
            Stage::Filter(_) => {}
            Stage::Project(exprs) => {
                let Some(Expr::Column { idx: below, .. }) = exprs.get(c) else { return None };
                if exprs.iter().enumerate().any(|(k, e)| k != c && reads(e, *below)) {
                    return None;
                }
                c = *below;
            }
            Stage::Probe { build_left, spec, .. } => {
                if spec.kind.left_only() || spec.filter.is_some() {
                    return None;
                }
                let left_len = spec.left_types.len();
                let build_col = if *build_left { (c < left_len).then_some(c) } else { c.checked_sub(left_len) };
                found = Some((i, build_col?));
                break;
            }
        }
    }
    let (at, build_col) = found?;
    let Stage::Probe { join, build_left, spec, .. } = &mut stages[at] else { return None };
    let column = join.build.columns.get(build_col)?;
    let text = column.as_any().downcast_ref::<arrow::array::Utf8Array<i32>>()?;
    // Codes are group ids in order of first appearance, from the aggregate's own text table
    // (short values packed in a word, see `GroupTable::Text`). A NULL row's code is never read:
    // the validity below says NULL.
    let mut table = GroupTable::new(&group_by[..1]);
    let (mut n_codes, mut codes, mut first_rows) = (0u32, Vec::with_capacity(text.len()), Vec::new());
    table.group_ids(&[column.clone()], text.len(), &mut n_codes, &mut codes, &mut first_rows).ok()?;
    drop(table);
    let values: Vec<Value> =
        first_rows
            .iter()
            .map(|&row| {
                if arrow::array::Array::is_null(text, row) {
                    Value::Null
                } else {
                    Value::Text(text.value(row).into())
                }
            })
            .collect();
    if values.len() > i32::MAX as usize {
        return None;
    }
    let validity = text.validity().filter(|v| v.unset_bits() > 0).cloned();
    // The narrowest integer that holds every code: the probe gathers a code per probe row
    // from random build rows, and a dimension's codes as SMALLINT are a quarter of BIGINT
    // (5M customers: 10 MB, inside the last-level cache, against 40 MB).
    let (array, code_type) = if values.len() <= i16::MAX as usize + 1 {
        let narrow: Vec<i16> = codes.iter().map(|&c| c as i16).collect();
        (
            arrow::array::PrimitiveArray::<i16>::new(DataType::SmallInt.to_arrow(), narrow.into(), validity).boxed(),
            DataType::SmallInt,
        )
    } else {
        (
            arrow::array::PrimitiveArray::<i32>::new(
                DataType::Integer.to_arrow(),
                codes.iter().map(|&c| c as i32).collect::<Vec<_>>().into(),
                validity,
            )
            .boxed(),
            DataType::Integer,
        )
    };
    join.build.columns[build_col] = array;
    let types = if *build_left { &mut spec.to_mut().left_types } else { &mut spec.to_mut().right_types };
    types[build_col] = code_type;
    // The stages above the join now carry codes in the column: their plain column references
    // say so.
    for &(i, c) in &path {
        if let Stage::Project(exprs) = &mut stages[i] {
            if let Some(Expr::Column { data_type, .. }) = exprs.to_mut().get_mut(c) {
                *data_type = code_type;
            }
        }
    }
    Some((vec![Expr::Column { idx: *idx, name: name.clone(), data_type: code_type }], values))
}

/// Replaces the codes in the first column of the aggregate's output by their text (see
/// [`code_group_key`]).
fn decode_keys(batches: &mut [Batch], values: &[Value]) -> Result<()> {
    for batch in batches {
        let Some(column) = batch.columns.first_mut() else { continue };
        let codes = super::aggregate::int_values(column.as_ref())
            .ok_or_else(|| ExecError::Internal(format!("group codes of {:?}", column.data_type())))?;
        let text: Vec<Value> = codes
            .iter()
            .enumerate()
            .map(|(row, &k)| {
                if column.is_null(row) {
                    Ok(Value::Null)
                } else {
                    values.get(k as usize).cloned().ok_or_else(|| ExecError::Internal("group code".into()))
                }
            })
            .collect::<Result<_>>()?;
        *column = storage::value::values_to_array(DataType::Text, &text);
    }
    Ok(())
}

/// After the probes: for each join that keeps its unmatched build rows, bottom-up, pushes the
/// build rows no worker matched (`matched`, OR-ed over the workers) through the stages above
/// it into `sink`, at input positions after every part's (`first_unmatched_pos` on), in the
/// order the single-threaded run emits them.
fn emit_unmatched(
    stages: &[Stage],
    matched: &mut [Vec<bool>],
    sink: &mut dyn Positioned,
    first_pos: u64,
) -> Result<()> {
    for (i, stage) in stages.iter().enumerate() {
        let Stage::Probe { join, build_left, spec, keeps_build: true, .. } = stage else { continue };
        let (flags, rest_flags) = matched[i..].split_first_mut().ok_or_else(|| ExecError::Internal("flags".into()))?;
        if let Some(batch) = unmatched_build(join, *build_left, spec, flags)? {
            sink.set_position(first_pos + ((i as u64) << 32));
            push_through(&stages[i + 1..], rest_flags, batch, sink)?;
        }
    }
    Ok(())
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
    let coded = code_group_key(group_by, aggregates, &mut stages);
    let group_by = coded.as_ref().map_or(group_by, |(keys, _)| keys.as_slice());
    let finish = |agg: HashAggregate| -> Result<Option<Vec<Batch>>> {
        let mut out = agg.finish()?;
        if let Some((_, values)) = &coded {
            decode_keys(&mut out, values)?;
        }
        Ok(Some(out))
    };
    let scan = PartScan::new(source.columns, source.filter);
    // Parts the zone maps skip are no work: threads only pay off for two parts or more.
    parts.retain(|p| !scan.skips(p));
    let unmatched_pos = (parts.len() as u64) << 32;
    if parts.len() < 2 {
        let mut agg = HashAggregate::new(group_by, aggregates)?;
        let mut matched: Vec<Vec<bool>> = stages.iter().map(Stage::matched_flags).collect();
        let mut cache = mvcc::ReadCache::default();
        for part in &parts {
            scan.run(part, &mut cache, &mut Rest { stages: &stages, matched: &mut matched, sink: &mut agg })?;
        }
        emit_unmatched(&stages, &mut matched, &mut agg, unmatched_pos)?;
        return finish(agg);
    }
    let workers = threads.min(parts.len());
    let (partials, mut matched) =
        run_workers(&stages, &scan, &parts, workers, &|| HashAggregate::new_partial(group_by, aggregates), &Ok)?;
    let mut partials = partials.into_iter();
    let mut total = partials.next().ok_or_else(|| ExecError::Internal("no worker ran".into()))?;
    for agg in partials {
        total.merge(agg)?;
    }
    emit_unmatched(&stages, &mut matched, &mut total, unmatched_pos)?;
    finish(total)
}

/// A sink that takes the input position of the rows pushed next: a part's index in the high
/// 32 bits (see [`try_parallel_aggregate`]).
pub(super) trait Positioned: Sink {
    fn set_position(&mut self, pos: u64);
}

impl Positioned for HashAggregate<'_> {
    fn set_position(&mut self, pos: u64) {
        HashAggregate::set_position(self, pos)
    }
}

impl Positioned for RunBuilder {
    fn set_position(&mut self, pos: u64) {
        RunBuilder::set_position(self, pos)
    }
}

/// Runs the scan's `parts` through `stages` on `workers` scoped threads: each takes the next
/// part from a shared counter and pushes its rows into its own sink (made by `make`), which
/// `done` turns into the worker's result on its thread. Returns the results and the OR of the
/// workers' matched flags (see [`Stage::matched_flags`]); on errors, the earliest part's, as
/// one thread would report it.
fn run_workers<S: Positioned, R: Send>(
    stages: &[Stage],
    scan: &PartScan,
    parts: &[mvcc::ScanPart],
    workers: usize,
    make: &(dyn Fn() -> Result<S> + Sync),
    done: &(dyn Fn(S) -> Result<R> + Sync),
) -> Result<(Vec<R>, Vec<Vec<bool>>)> {
    let next_part = AtomicUsize::new(0);
    let first_error: Mutex<Option<(usize, ExecError)>> = Mutex::new(None);
    let scope = crate::interrupt::current();
    let results: Vec<Result<(R, Vec<Vec<bool>>)>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                s.spawn(|| -> Result<(R, Vec<Vec<bool>>)> {
                    // The statement's interrupt flag and deadline reach the worker.
                    let _scope = scope.clone().map(crate::interrupt::Scope::enter);
                    // Nested plans (correlated subqueries) run on the worker itself.
                    let _one = crate::ThreadsGuard::set(Some(1));
                    let mut sink = make()?;
                    let mut matched: Vec<Vec<bool>> = stages.iter().map(Stage::matched_flags).collect();
                    let mut cache = mvcc::ReadCache::default();
                    loop {
                        let idx = next_part.fetch_add(1, Ordering::Relaxed);
                        let Some(part) = parts.get(idx) else { break };
                        if first_error.lock().unwrap_or_else(|p| p.into_inner()).as_ref().is_some_and(|(i, _)| *i < idx)
                        {
                            break;
                        }
                        sink.set_position((idx as u64) << 32);
                        let mut rest = Rest { stages, matched: &mut matched, sink: &mut sink };
                        if let Err(e) = scan.run(part, &mut cache, &mut rest) {
                            // Keep the error of the earliest part, as one thread would report.
                            let mut slot = first_error.lock().unwrap_or_else(|p| p.into_inner());
                            if slot.as_ref().is_none_or(|(i, _)| idx < *i) {
                                *slot = Some((idx, e));
                            }
                            break;
                        }
                    }
                    if first_error.lock().unwrap_or_else(|p| p.into_inner()).is_some() {
                        return Err(ExecError::Internal("another part failed".into()));
                    }
                    Ok((done(sink)?, matched))
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
    let mut out = Vec::with_capacity(workers);
    let mut matched: Vec<Vec<bool>> = stages.iter().map(Stage::matched_flags).collect();
    for result in results {
        let (r, flags) = result?;
        out.push(r);
        for (mine, theirs) in matched.iter_mut().zip(flags) {
            mine.iter_mut().zip(theirs).for_each(|(m, t)| *m |= t);
        }
    }
    Ok((out, matched))
}

/// Rows below which a sort runs on one thread (starting workers costs more than it saves):
/// four batches, so CI's batches of 2 rows run nearly every sort in parallel.
fn parallel_sort_rows() -> usize {
    4 * crate::batch_size()
}

/// Runs `Sort { input, keys, fetch }` on worker threads when the input is a parallel pipeline
/// of enough rows; `None` when the caller should run it on this thread. Each worker sorts the
/// rows of its parts into a run (its best `fetch` with a fetch), and the runs are merged with
/// ties in input position order, so the rows and their order equal the single-threaded run's.
pub(super) fn try_parallel_sort(
    input: &PhysicalPlan,
    keys: &[SortKey],
    fetch: Option<usize>,
) -> Result<Option<Vec<Batch>>> {
    let threads = crate::threads();
    if threads < 2 || !is_pipeline(input) {
        return Ok(None);
    }
    let Some((table, snapshot)) = scan_of(input) else { return Ok(None) };
    let mut parts = table.scan(snapshot);
    if parts.len() < 2 || parts.iter().map(|p| p.n_rows).sum::<usize>() < parallel_sort_rows() {
        return Ok(None);
    }
    let mut stages = Vec::new();
    let source = split(input, &mut stages)?;
    let scan = PartScan::new(source.columns, source.filter);
    parts.retain(|p| !scan.skips(p));
    let unmatched_pos = (parts.len() as u64) << 32;
    let (mut runs, mut matched) = if parts.len() < 2 {
        // One part left: this thread sorts it (the join tables are built already).
        let mut run = RunBuilder::new(keys, fetch);
        let mut matched: Vec<Vec<bool>> = stages.iter().map(Stage::matched_flags).collect();
        let mut cache = mvcc::ReadCache::default();
        for part in &parts {
            scan.run(part, &mut cache, &mut Rest { stages: &stages, matched: &mut matched, sink: &mut run })?;
        }
        (vec![run.finish()?], matched)
    } else {
        let workers = threads.min(parts.len());
        run_workers(&stages, &scan, &parts, workers, &|| Ok(RunBuilder::new(keys, fetch)), &RunBuilder::finish)?
    };
    if stages.iter().any(|s| matches!(s, Stage::Probe { keeps_build: true, .. })) {
        let mut unmatched = RunBuilder::new(keys, fetch);
        emit_unmatched(&stages, &mut matched, &mut unmatched, unmatched_pos)?;
        runs.push(unmatched.finish()?);
    }
    Ok(Some(merge_runs(runs, fetch)?))
}
