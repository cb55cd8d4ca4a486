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

use super::aggregate::{is_int_like, mergeable, AggFunc, HashAggregate};
use super::filter::FilterSink;
use super::group_table::GroupTable;
use super::join::{build_side, gather, keeps_unmatched_build, probe_sink, unmatched_build, Flags, JoinBuild, JoinSpec};
use super::project::ProjectSink;
use super::scan::PartScan;
use super::sort::{merge_runs, RunBuilder, SortKey};
use super::{AggregateExpr, Flow, PhysicalPlan, Sink};
use crate::error::{ExecError, Result};
use crate::expr::{take_array, Expr};
use arrow::array::PrimitiveArray;
use arrow::bitmap::Bitmap;
use std::borrow::Cow;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use storage::{ArrayRef, Batch, DataType};

/// One streaming step above the scan.
enum Stage<'a> {
    Filter(&'a Expr),
    Project(Cow<'a, [Expr]>),
    /// `flags` when the workers flag the build rows their probes match: a join that keeps its
    /// unmatched build rows (`keeps_build`), or one whose matched build rows answer aggregates
    /// ([`answer_on_build`]).
    Probe {
        join: JoinBuild,
        probe_keys: &'a [Expr],
        build_left: bool,
        spec: Cow<'a, JoinSpec>,
        keeps_build: bool,
        flags: bool,
    },
}

impl Stage<'_> {
    /// A worker's fresh flags of the build rows its probes match: one per build row when this
    /// stage is a join that flags them, else none.
    fn matched_flags(&self) -> Flags {
        match self {
            Stage::Probe { join, flags: true, .. } => Flags::new(join.build.n_rows),
            _ => Flags::default(),
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
                flags: keeps_build,
            });
            Ok(source)
        }
        _ => Err(ExecError::Internal("not a parallel pipeline".into())),
    }
}

/// Pushes a batch through `stages` into `sink`; `matched[i]` are the worker's flags of stage
/// `i`'s build rows (see [`Stage::matched_flags`]).
fn push_through(stages: &[Stage], matched: &mut [Flags], batch: Batch, sink: &mut dyn Sink) -> Result<Flow> {
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
    matched: &'s mut [Flags],
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

/// Whether `e` computes its value from its row alone: no subquery, parameter or outer value.
fn row_function(e: &Expr) -> bool {
    !matches!(e, Expr::Subquery { .. } | Expr::Param { .. } | Expr::OuterRef { .. } | Expr::Correlated(_))
        && e.children().into_iter().all(row_function)
}

/// GROUP BY keys computed from build-side columns of the pipeline's topmost join (q08's
/// `c.segment`, q15's `p.category`, q09's `CAST(c.registration_date AS DATE)`): instead of
/// gathering the build values of every joined row and evaluating and hashing the keys per
/// joined row, the keys are evaluated once over the build rows and each distinct key gets a
/// code (its group id there, in order of first appearance). One build column read by the keys
/// is replaced by the SMALLINT (or INTEGER) code, the others are left unread, the aggregate
/// groups by the code and [`decode_keys`] turns the codes of the output back into the keys. A
/// build row whose keys are all NULL gets a NULL code, the group of the NULL-extended rows of
/// an outer join too.
///
/// Applies only when nothing else reads the key columns (no aggregate, filter, residual join
/// condition or other projection), when a join that keeps unmatched probe rows groups by plain
/// columns (which are NULL on those rows), and when evaluating the keys over every build row
/// succeeds (a row no probe row matches must not raise an error the join would not).
fn code_group_keys(group_by: &[Expr], aggregates: &[AggregateExpr], stages: &mut [Stage]) -> Option<Coded> {
    // One integer-like column is narrow and dense already: coding it gains little.
    if group_by.is_empty()
        || matches!(group_by, [Expr::Column { data_type, .. }] if is_int_like(*data_type))
        || !group_by.iter().all(row_function)
    {
        return None;
    }
    let mut cols: Vec<usize> = Vec::new();
    for e in group_by {
        e.visit_columns(&mut |c| {
            if !cols.contains(&c) {
                cols.push(c)
            }
        });
    }
    if cols.is_empty()
        || aggregates.iter().any(|a| a.arg.iter().chain(a.filter.iter()).any(|e| cols.iter().any(|&c| reads(e, c))))
    {
        return None;
    }
    let at = stages.iter().rposition(|s| matches!(s, Stage::Probe { .. }))?;
    let Stage::Probe { build_left, spec, .. } = &stages[at] else { return None };
    if spec.kind.left_only() || spec.filter.is_some() {
        return None;
    }
    let (build_left, left_len) = (*build_left, spec.left_types.len());
    // Each key column's build column, and its position at the output of each stage above the
    // join, top down.
    let mut build_cols = Vec::with_capacity(cols.len());
    let mut paths = Vec::with_capacity(cols.len());
    for &top in &cols {
        let mut c = top;
        let mut path = Vec::new();
        for (i, stage) in stages.iter().enumerate().skip(at + 1).rev() {
            path.push((i, c));
            match stage {
                Stage::Filter(predicate) if reads(predicate, c) => return None,
                Stage::Filter(_) | Stage::Probe { .. } => {}
                Stage::Project(exprs) => {
                    let Some(Expr::Column { idx: below, .. }) = exprs.get(c) else { return None };
                    if exprs.iter().enumerate().any(|(k, e)| k != c && reads(e, *below)) {
                        return None;
                    }
                    c = *below;
                }
            }
        }
        build_cols.push(if build_left { (c < left_len).then_some(c) } else { c.checked_sub(left_len) }?);
        paths.push(path);
    }
    let Stage::Probe { join, spec, .. } = &mut stages[at] else { return None };
    let keeps_probe = if build_left { spec.kind.keeps_unmatched_right() } else { spec.kind.keeps_unmatched_left() };
    if keeps_probe && !group_by.iter().all(|e| matches!(e, Expr::Column { .. })) {
        return None;
    }
    // The column to carry the codes: not a join key the probe supplies for matched pairs.
    let replaced = (0..cols.len()).find(|&k| !join.aliases.iter().any(|&(col, _)| col == build_cols[k]))?;
    let on_build: Vec<Expr> = group_by
        .iter()
        .map(|e| {
            let mut e = e.clone();
            e.remap_columns(&|c| cols.iter().position(|&k| k == c).map_or(c, |k| build_cols[k]));
            e
        })
        .collect();
    let keys: Vec<ArrayRef> = on_build.iter().map(|e| e.evaluate(&join.build)).collect::<Result<_>>().ok()?;
    let n = join.build.n_rows;
    let mut table = GroupTable::new(&on_build);
    let (mut n_codes, mut codes, mut first_rows) = (0u32, Vec::with_capacity(n), Vec::new());
    table.group_ids(&keys, n, &mut n_codes, &mut codes, &mut first_rows).ok()?;
    drop(table);
    let first_rows: Vec<u32> = first_rows.into_iter().map(|r| r as u32).collect();
    let dict: Vec<ArrayRef> = keys.iter().map(|k| take_array(k.as_ref(), &first_rows)).collect::<Result<_>>().ok()?;
    // NULL where every key is NULL: the OR of the keys' validities, when each has a NULL.
    let validity = if keys.iter().all(|k| k.null_count() > 0) {
        keys.iter()
            .filter_map(|k| k.validity())
            .fold(None::<Bitmap>, |acc, v| Some(acc.map_or_else(|| v.clone(), |acc| &acc | v)))
    } else {
        None
    };
    // The narrowest integer that holds every code: the probe gathers a code per probe row
    // from random build rows, and a dimension's codes as SMALLINT are a quarter of BIGINT
    // (5M customers: 10 MB, inside the last-level cache, against 40 MB).
    let (array, code_type) = if n_codes <= i16::MAX as u32 + 1 {
        let narrow: Vec<i16> = codes.iter().map(|&c| c as i16).collect();
        (PrimitiveArray::<i16>::new(DataType::SmallInt.to_arrow(), narrow.into(), validity).boxed(), DataType::SmallInt)
    } else if n_codes <= i32::MAX as u32 {
        let wide: Vec<i32> = codes.iter().map(|&c| c as i32).collect();
        (PrimitiveArray::<i32>::new(DataType::Integer.to_arrow(), wide.into(), validity).boxed(), DataType::Integer)
    } else {
        return None;
    };
    let build_col = build_cols[replaced];
    join.build.columns[build_col] = array;
    join.packed = super::join::PackedCodes::new(&join.build, build_col);
    let spec = spec.to_mut();
    let offset = if build_left { 0 } else { left_len };
    let types = if build_left { &mut spec.left_types } else { &mut spec.right_types };
    types[build_col] = code_type;
    // The other key columns are read by nothing now.
    if spec.unread.is_empty() {
        spec.unread = vec![false; spec.left_types.len() + spec.right_types.len()];
    }
    for (k, &b) in build_cols.iter().enumerate() {
        if k != replaced {
            spec.unread[offset + b] = true;
        }
    }
    // The stages above the join now carry codes in the column: their plain column references
    // say so.
    for &(i, c) in &paths[replaced] {
        if let Stage::Project(exprs) = &mut stages[i] {
            if let Some(Expr::Column { data_type, .. }) = exprs.to_mut().get_mut(c) {
                *data_type = code_type;
            }
        }
    }
    let code = Expr::Column { idx: cols[replaced], name: "group code".into(), data_type: code_type };
    Some(Coded { group_by: vec![code], dict, at, build_col, code_type })
}

/// GROUP BY keys coded on a join's build side ([`code_group_keys`]).
struct Coded {
    /// The group-by to aggregate by: the code column.
    group_by: Vec<Expr>,
    /// The keys of each code: key `k` of code `c` is `dict[k][c]`.
    dict: Vec<ArrayRef>,
    /// The stage of the join.
    at: usize,
    /// The build column that holds the codes, and their type.
    build_col: usize,
    code_type: DataType,
}

/// Aggregates over a join's build-side columns that duplicate rows do not change (DISTINCT
/// ones, MIN, MAX, bool_and, bool_or), when the GROUP BY keys are coded on the build side
/// ([`Coded`]): q09's `COUNT(DISTINCT c.customer_id)` per cohort. Every joined row carries the
/// values of one build row and its group is that build row's code, so such an aggregate of a
/// group over the joined rows equals the aggregate over the build rows of the group that
/// reach the aggregate at least once: every build row of a join that keeps its unmatched
/// build rows, else the matched ones. [`answer_on_build`] computes them once over those build
/// rows after the probes, instead of per joined row (a random read and write per probe row
/// into a table as large as the build side).
///
/// Applies when the stages above the join only project (a filter there could drop some of a
/// build row's joined rows but not others) and the join adds no NULL-extended probe rows.
struct OnBuild {
    /// The position among the aggregates of each call answered on the build side, with the
    /// call over the build columns.
    calls: Vec<(usize, AggregateExpr)>,
    /// The aggregates the pipeline computes.
    rest: Vec<AggregateExpr>,
}

/// The build column under column `c` at the top of `stages`, seen through plain column
/// projections only, of the join at stage `at` (the topmost); `None` when a filter lies above
/// the join, a projection computes `c`, or `c` is a probe column.
fn build_column_under(stages: &[Stage], at: usize, mut c: usize) -> Option<usize> {
    for stage in stages[at + 1..].iter().rev() {
        let Stage::Project(exprs) = stage else { return None };
        let Some(Expr::Column { idx, .. }) = exprs.get(c) else { return None };
        c = *idx;
    }
    let Stage::Probe { build_left, spec, .. } = &stages[at] else { return None };
    let left_len = spec.left_types.len();
    if *build_left {
        (c < left_len).then_some(c)
    } else {
        c.checked_sub(left_len)
    }
}

/// Splits the aggregates answered on the build side from the rest (see [`OnBuild`]), and
/// makes the join flag its matched build rows when it does not keep its unmatched ones.
fn aggregates_on_build(aggregates: &[AggregateExpr], stages: &mut [Stage], coded: &Coded) -> Option<OnBuild> {
    let at = coded.at;
    let Stage::Probe { build_left, spec, .. } = &stages[at] else { return None };
    let keeps_probe = if *build_left { spec.kind.keeps_unmatched_right() } else { spec.kind.keeps_unmatched_left() };
    if keeps_probe {
        return None;
    }
    let mut calls = Vec::new();
    let mut rest = Vec::new();
    for (j, agg) in aggregates.iter().enumerate() {
        let duplicates_free =
            agg.distinct || matches!(agg.func, AggFunc::Min | AggFunc::Max | AggFunc::BoolAnd | AggFunc::BoolOr);
        let on_build = duplicates_free
            && agg.arg.is_some()
            && agg.arg.iter().chain(agg.filter.iter()).all(|e| {
                let mut all = row_function(e);
                e.visit_columns(&mut |c| all &= build_column_under(stages, at, c).is_some());
                all
            });
        if !on_build {
            rest.push(agg.clone());
            continue;
        }
        let mut call = agg.clone();
        for e in call.exprs_mut() {
            // Every column maps (checked above).
            e.remap_columns(&|c| build_column_under(stages, at, c).unwrap_or(c));
        }
        calls.push((j, call));
    }
    if calls.is_empty() {
        return None;
    }
    if let Stage::Probe { flags, .. } = &mut stages[at] {
        *flags = true;
    }
    Some(OnBuild { calls, rest })
}

/// The aggregates of `on_build` per group code over the build rows of the join at
/// `coded.at` that reach the aggregate (`matched`, OR-ed over the workers, unless the join
/// keeps every build row): a batch of the code column, then one column per call.
fn answer_on_build(stages: &[Stage], matched: &[Flags], coded: &Coded, on_build: &OnBuild) -> Result<Batch> {
    let Stage::Probe { join, keeps_build, .. } = &stages[coded.at] else {
        return Err(ExecError::Internal("aggregates on a build side without a join".into()));
    };
    // Only the columns the calls read, the codes first.
    let mut cols = vec![coded.build_col];
    for (_, call) in &on_build.calls {
        for e in call.arg.iter().chain(call.filter.iter()) {
            e.visit_columns(&mut |c| {
                if !cols.contains(&c) {
                    cols.push(c)
                }
            });
        }
    }
    let calls: Vec<AggregateExpr> = on_build
        .calls
        .iter()
        .map(|(_, call)| {
            let mut call = call.clone();
            for e in call.exprs_mut() {
                e.remap_columns(&|c| cols.iter().position(|&k| k == c).unwrap_or(c));
            }
            call
        })
        .collect();
    let mut batch =
        Batch { columns: cols.iter().map(|&c| join.build.columns[c].clone()).collect(), n_rows: join.build.n_rows };
    if !keeps_build {
        let flags = matched.get(coded.at).ok_or_else(|| ExecError::Internal("matched flags".into()))?;
        let rows: Vec<u32> = flags.indexes(true).collect();
        batch = crate::expr::take_rows(&batch, &rows)?;
    }
    let group_by = [Expr::Column { idx: 0, name: "group code".into(), data_type: coded.code_type }];
    let mut agg = HashAggregate::new(&group_by, &calls)?;
    if batch.n_rows > 0 {
        agg.push(batch)?;
    }
    let mut out = agg.finish()?;
    match out.len() {
        1 => Ok(out.remove(0)),
        _ => Err(ExecError::Internal("one batch of build-side aggregates".into())),
    }
}

/// Inserts the build-side answers (`side`, from [`answer_on_build`]) into the aggregate's
/// output by the group code in its first column, each at its call's position.
fn splice_on_build(batches: &mut [Batch], side: &Batch, on_build: &OnBuild) -> Result<()> {
    let side_codes = super::aggregate::int_values(side.columns[0].as_ref())
        .ok_or_else(|| ExecError::Internal(format!("group codes of {:?}", side.columns[0].data_type())))?;
    // The side row of each code; the last slot is the NULL code's.
    let top = side_codes.iter().copied().max().unwrap_or(0).max(0) as usize + 1;
    let mut slot = vec![u32::MAX; top + 1];
    for (row, &k) in side_codes.iter().enumerate() {
        slot[if side.columns[0].is_null(row) { top } else { k.max(0) as usize }] = row as u32;
    }
    for batch in batches {
        if batch.n_rows == 0 {
            continue;
        }
        let column = &batch.columns[0];
        let codes = super::aggregate::int_values(column.as_ref())
            .ok_or_else(|| ExecError::Internal(format!("group codes of {:?}", column.data_type())))?;
        let indices = codes
            .iter()
            .enumerate()
            .map(|(row, &k)| {
                let at = if column.is_null(row) { top } else { usize::try_from(k).unwrap_or(top).min(top) };
                match slot[at] {
                    u32::MAX => Err(ExecError::Internal("a group without build rows".into())),
                    r => Ok(Some(r)),
                }
            })
            .collect::<Result<Vec<_>>>()?;
        for (k, (j, _)) in on_build.calls.iter().enumerate() {
            batch.columns.insert(1 + j, gather(side.columns[1 + k].as_ref(), &indices)?);
        }
    }
    Ok(())
}

/// Replaces the codes in the first column of the aggregate's output by the keys they stand
/// for (see [`code_group_keys`]).
fn decode_keys(batches: &mut [Batch], dict: &[ArrayRef]) -> Result<()> {
    for batch in batches {
        if batch.columns.is_empty() {
            continue;
        }
        let column = batch.columns.remove(0);
        let codes = super::aggregate::int_values(column.as_ref())
            .ok_or_else(|| ExecError::Internal(format!("group codes of {:?}", column.data_type())))?;
        let indices: Vec<Option<u32>> =
            codes.iter().enumerate().map(|(row, &k)| (!column.is_null(row)).then_some(k as u32)).collect();
        let keys = dict.iter().map(|d| gather(d.as_ref(), &indices)).collect::<Result<Vec<_>>>()?;
        batch.columns.splice(0..0, keys);
    }
    Ok(())
}

/// After the probes: for each join that keeps its unmatched build rows, bottom-up, pushes the
/// build rows no worker matched (`matched`, OR-ed over the workers) through the stages above
/// it into `sink`, at input positions after every part's (`first_unmatched_pos` on), in the
/// order the single-threaded run emits them.
fn emit_unmatched(stages: &[Stage], matched: &mut [Flags], sink: &mut dyn Positioned, first_pos: u64) -> Result<()> {
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
    let coded = code_group_keys(group_by, aggregates, &mut stages);
    let on_build = coded.as_ref().and_then(|coded| aggregates_on_build(aggregates, &mut stages, coded));
    let group_by = coded.as_ref().map_or(group_by, |coded| coded.group_by.as_slice());
    let aggregates = on_build.as_ref().map_or(aggregates, |on_build| on_build.rest.as_slice());
    // After the probes and the unmatched build rows (which may match a join above them).
    let finish = |agg: HashAggregate, matched: &[Flags]| -> Result<Option<Vec<Batch>>> {
        let mut out = agg.finish()?;
        if let Some(coded) = &coded {
            if let Some(on_build) = &on_build {
                let side = answer_on_build(&stages, matched, coded, on_build)?;
                splice_on_build(&mut out, &side, on_build)?;
            }
            decode_keys(&mut out, &coded.dict)?;
        }
        Ok(Some(out))
    };
    let scan = PartScan::new(source.columns, source.filter);
    // Parts the zone maps skip are no work: threads only pay off for two parts or more.
    parts.retain(|p| !scan.skips(p));
    let unmatched_pos = (parts.len() as u64) << 32;
    if parts.len() < 2 {
        let mut agg = HashAggregate::new(group_by, aggregates)?;
        let mut matched: Vec<Flags> = stages.iter().map(Stage::matched_flags).collect();
        let mut cache = mvcc::ReadCache::default();
        for part in &parts {
            scan.run(part, &mut cache, &mut Rest { stages: &stages, matched: &mut matched, sink: &mut agg })?;
        }
        emit_unmatched(&stages, &mut matched, &mut agg, unmatched_pos)?;
        return finish(agg, &matched);
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
    finish(total, &matched)
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
) -> Result<(Vec<R>, Vec<Flags>)> {
    let next_part = AtomicUsize::new(0);
    let first_error: Mutex<Option<(usize, ExecError)>> = Mutex::new(None);
    let scope = crate::interrupt::current();
    let results: Vec<Result<(R, Vec<Flags>)>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                s.spawn(|| -> Result<(R, Vec<Flags>)> {
                    // The statement's interrupt flag and deadline reach the worker.
                    let _scope = scope.clone().map(crate::interrupt::Scope::enter);
                    // Nested plans (correlated subqueries) run on the worker itself.
                    let _one = crate::ThreadsGuard::set(Some(1));
                    let mut sink = make()?;
                    let mut matched: Vec<Flags> = stages.iter().map(Stage::matched_flags).collect();
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
    let mut matched: Vec<Flags> = stages.iter().map(Stage::matched_flags).collect();
    for result in results {
        let (r, flags) = result?;
        out.push(r);
        for (mine, theirs) in matched.iter_mut().zip(flags) {
            mine.or(&theirs);
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
        let mut matched: Vec<Flags> = stages.iter().map(Stage::matched_flags).collect();
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
