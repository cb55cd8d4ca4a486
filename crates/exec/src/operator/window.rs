//! WindowExec: window functions (`f(...) OVER (PARTITION BY ... ORDER BY ... frame)`).
//!
//! The operator is a pipeline breaker: it gathers its whole input, and for every distinct
//! (PARTITION BY, ORDER BY) pair sorts the rows once, finds the partitions and peer groups,
//! and computes each window function of that pair. The output is the input's columns followed
//! by one column per window function, in the input's row order.
//!
//! Aggregates over a frame pick the cheapest of three strategies, decided from the frames
//! themselves: one accumulator group per partition when every frame is the whole partition;
//! a running state when every frame starts at the partition start and only grows (the default
//! frame with ORDER BY: running totals); otherwise each row's frame is gathered into a group
//! of its own, a chunk of rows at a time.

// Sorted positions index several parallel arrays (permutation, peers, frames) at once.
#![allow(clippy::needless_range_loop)]

use super::aggregate::{make_accumulator, AggFunc, AggregateExpr};
use super::sort::SortKey;
use crate::error::{ExecError, Result};
use crate::expr::{take_array, Expr};
use crate::kernels::boolean::true_mask;
use crate::kernels::compare::downcast_bool;
use crate::row_key::encode_rows;
use arrow::array::Array;
use arrow::compute::sort::{SortColumn, SortOptions};
use std::cmp::Ordering;
use std::fmt;
use storage::value::values_to_array;
use storage::{ArrayRef, Batch, DataType, Value};

/// The functions that can run over a window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowFunc {
    RowNumber,
    Rank,
    DenseRank,
    PercentRank,
    CumeDist,
    Ntile,
    Lag,
    Lead,
    FirstValue,
    LastValue,
    NthValue,
    /// Any aggregate function, computed over the frame.
    Aggregate(AggFunc),
}

impl WindowFunc {
    /// The window-only functions (aggregates are looked up with [`AggFunc::lookup`]).
    pub fn lookup(name: &str) -> Option<WindowFunc> {
        Some(match name {
            "row_number" => WindowFunc::RowNumber,
            "rank" => WindowFunc::Rank,
            "dense_rank" => WindowFunc::DenseRank,
            "percent_rank" => WindowFunc::PercentRank,
            "cume_dist" => WindowFunc::CumeDist,
            "ntile" => WindowFunc::Ntile,
            "lag" => WindowFunc::Lag,
            "lead" => WindowFunc::Lead,
            "first_value" => WindowFunc::FirstValue,
            "last_value" => WindowFunc::LastValue,
            "nth_value" => WindowFunc::NthValue,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            WindowFunc::RowNumber => "row_number",
            WindowFunc::Rank => "rank",
            WindowFunc::DenseRank => "dense_rank",
            WindowFunc::PercentRank => "percent_rank",
            WindowFunc::CumeDist => "cume_dist",
            WindowFunc::Ntile => "ntile",
            WindowFunc::Lag => "lag",
            WindowFunc::Lead => "lead",
            WindowFunc::FirstValue => "first_value",
            WindowFunc::LastValue => "last_value",
            WindowFunc::NthValue => "nth_value",
            WindowFunc::Aggregate(a) => a.name(),
        }
    }
}

/// ROWS counts rows; RANGE measures the distance in the ORDER BY value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameUnits {
    Rows,
    Range,
}

/// One end of a frame. Offsets are non-negative constants: a row count for ROWS, a distance
/// in the ORDER BY key's unit for RANGE (a number, or an INTERVAL for dates and timestamps).
#[derive(Debug, Clone, PartialEq)]
pub enum FrameBound {
    UnboundedPreceding,
    Preceding(Value),
    CurrentRow,
    Following(Value),
    UnboundedFollowing,
}

impl fmt::Display for FrameBound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameBound::UnboundedPreceding => write!(f, "UNBOUNDED PRECEDING"),
            FrameBound::Preceding(v) => write!(f, "{v} PRECEDING"),
            FrameBound::CurrentRow => write!(f, "CURRENT ROW"),
            FrameBound::Following(v) => write!(f, "{v} FOLLOWING"),
            FrameBound::UnboundedFollowing => write!(f, "UNBOUNDED FOLLOWING"),
        }
    }
}

/// The rows of its partition a window function sees for one row.
#[derive(Debug, Clone, PartialEq)]
pub struct WindowFrame {
    pub units: FrameUnits,
    pub start: FrameBound,
    pub end: FrameBound,
}

impl WindowFrame {
    /// The SQL default: `RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW`, which is the
    /// whole partition when there is no ORDER BY (every row is a peer of every other).
    pub fn default_frame() -> WindowFrame {
        WindowFrame { units: FrameUnits::Range, start: FrameBound::UnboundedPreceding, end: FrameBound::CurrentRow }
    }
}

impl fmt::Display for WindowFrame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let units = if self.units == FrameUnits::Rows { "ROWS" } else { "RANGE" };
        write!(f, "{units} BETWEEN {} AND {}", self.start, self.end)
    }
}

/// One window function call in a plan.
#[derive(Debug, Clone, PartialEq)]
pub struct WindowExpr {
    pub func: WindowFunc,
    pub args: Vec<Expr>,
    /// `count(DISTINCT x) OVER (...)`.
    pub distinct: bool,
    /// `FILTER (WHERE ...)` of an aggregate.
    pub filter: Option<Expr>,
    /// The constant parameter of `percentile_*` and `string_agg`, as in [`AggregateExpr`].
    pub extra: Option<Value>,
    pub partition_by: Vec<Expr>,
    pub order_by: Vec<SortKey>,
    pub frame: WindowFrame,
    pub data_type: DataType,
}

impl WindowExpr {
    /// Every expression the call reads.
    pub fn exprs_mut(&mut self) -> impl Iterator<Item = &mut Expr> {
        self.args
            .iter_mut()
            .chain(self.filter.iter_mut())
            .chain(self.partition_by.iter_mut())
            .chain(self.order_by.iter_mut().map(|k| &mut k.expr))
    }

    /// Every expression the call reads.
    pub fn exprs(&self) -> impl Iterator<Item = &Expr> {
        self.args
            .iter()
            .chain(self.filter.iter())
            .chain(self.partition_by.iter())
            .chain(self.order_by.iter().map(|k| &k.expr))
    }
}

impl fmt::Display for WindowExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let args: Vec<String> = self.args.iter().map(|a| a.to_string()).collect();
        let star = matches!(self.func, WindowFunc::Aggregate(AggFunc::CountStar));
        write!(
            f,
            "{}({}{})",
            self.func.name(),
            if self.distinct { "DISTINCT " } else { "" },
            if star { "*".to_string() } else { args.join(", ") }
        )?;
        if let Some(filter) = &self.filter {
            write!(f, " FILTER (WHERE {filter})")?;
        }
        write!(f, " OVER (")?;
        let mut sep = "";
        if !self.partition_by.is_empty() {
            let p: Vec<String> = self.partition_by.iter().map(|e| e.to_string()).collect();
            write!(f, "PARTITION BY {}", p.join(", "))?;
            sep = " ";
        }
        if !self.order_by.is_empty() {
            let o: Vec<String> = self.order_by.iter().map(|k| k.to_string()).collect();
            write!(f, "{sep}ORDER BY {}", o.join(", "))?;
            sep = " ";
        }
        write!(f, "{sep}{})", self.frame)
    }
}

/// Computes `windows` over all rows of `input`; the result is `input`'s columns followed by
/// one column per window expression.
pub fn compute_windows(input: Batch, windows: &[WindowExpr]) -> Result<Batch> {
    let mut results: Vec<Option<ArrayRef>> = vec![None; windows.len()];
    for i in 0..windows.len() {
        if results[i].is_some() {
            continue;
        }
        let layout = Layout::new(&input, &windows[i].partition_by, &windows[i].order_by)?;
        for j in i..windows.len() {
            // (`j == i` explicitly: a NaN literal in a key makes the spec unequal to itself.)
            if results[j].is_none()
                && (j == i
                    || (windows[j].partition_by == windows[i].partition_by
                        && windows[j].order_by == windows[i].order_by))
            {
                results[j] = Some(evaluate(&input, &layout, &windows[j])?);
            }
        }
    }
    let mut columns = input.columns;
    for r in results {
        columns.push(r.ok_or_else(|| ExecError::Internal("a window function was not computed".into()))?);
    }
    Ok(Batch { columns, n_rows: input.n_rows })
}

/// The rows sorted by partition and order keys, with partition and peer-group boundaries.
struct Layout {
    /// Sorted position -> input row.
    perm: Vec<u32>,
    /// `[start, end)` of each partition, in sorted positions.
    partitions: Vec<(usize, usize)>,
    /// For each sorted position, the `[start, end)` of its peer group (rows equal in ORDER BY).
    peers: Vec<(usize, usize)>,
    /// The first ORDER BY key at each sorted position, for RANGE offsets.
    range_key: Option<RangeKey>,
}

/// The first ORDER BY key as numbers on which "preceding" means "smaller".
struct RangeKey {
    values: Vec<Option<f64>>,
    data_type: DataType,
}

fn same_key(keys: &[Vec<u8>], a: u32, b: u32) -> bool {
    keys.is_empty() || keys[a as usize] == keys[b as usize]
}

impl Layout {
    fn new(input: &Batch, partition_by: &[Expr], order_by: &[SortKey]) -> Result<Layout> {
        let n = input.n_rows;
        // Intervals have no order in arrow2's sort: partition and sort by their ranks
        // (`order_arrays` keeps the values for RANGE frames).
        let sortable = |a: ArrayRef| -> Result<ArrayRef> {
            if a.data_type() == &DataType::Interval.to_arrow() {
                super::sort::interval_ranks(a.as_ref())
            } else {
                Ok(a)
            }
        };
        let part_arrays =
            partition_by.iter().map(|e| e.evaluate(input).and_then(sortable)).collect::<Result<Vec<_>>>()?;
        let order_arrays = order_by.iter().map(|k| k.expr.evaluate(input)).collect::<Result<Vec<_>>>()?;
        let order_sort = order_arrays.iter().map(|a| sortable(a.clone())).collect::<Result<Vec<_>>>()?;
        let mut columns = Vec::new();
        for a in &part_arrays {
            if a.data_type() != &arrow::datatypes::DataType::Null {
                columns.push(SortColumn {
                    values: a.as_ref(),
                    options: Some(SortOptions { descending: false, nulls_first: true }),
                });
            }
        }
        for (a, k) in order_sort.iter().zip(order_by) {
            if a.data_type() != &arrow::datatypes::DataType::Null {
                columns.push(SortColumn {
                    values: a.as_ref(),
                    options: Some(SortOptions { descending: k.descending, nulls_first: k.nulls_first }),
                });
            }
        }
        let perm: Vec<u32> =
            if columns.is_empty() || n == 0 { (0..n as u32).collect() } else { super::sort::lexsort(&columns, None)? };
        let encode = |arrays: &[ArrayRef]| -> Result<Vec<Vec<u8>>> {
            if arrays.is_empty() {
                return Ok(vec![]);
            }
            let refs: Vec<&dyn Array> = arrays.iter().map(|a| a.as_ref()).collect();
            encode_rows(&refs, n)
        };
        let part_keys = encode(&part_arrays)?;
        let order_keys = encode(&order_sort)?;
        let mut partitions = Vec::new();
        let mut peers = vec![(0, 0); n];
        let mut start = 0;
        for j in 1..=n {
            if j == n || !same_key(&part_keys, perm[j - 1], perm[j]) {
                partitions.push((start, j));
                start = j;
            }
        }
        for &(ps, pe) in &partitions {
            let mut g = ps;
            for j in ps + 1..=pe {
                if j == pe || !same_key(&order_keys, perm[j - 1], perm[j]) {
                    for p in &mut peers[g..j] {
                        *p = (g, j);
                    }
                    g = j;
                }
            }
        }
        let range_key = match (order_by.first(), order_arrays.first()) {
            (Some(k), Some(a)) => {
                let sign = if k.descending { -1.0 } else { 1.0 };
                let values = perm
                    .iter()
                    .map(|&r| {
                        let v = Value::from_array(a.as_ref(), r as usize);
                        let x = match v {
                            Value::Date(d) => Some(f64::from(d)),
                            Value::Timestamp(t) => Some(t as f64),
                            other => other.as_f64(),
                        };
                        x.map(|x| x * sign)
                    })
                    .collect();
                Some(RangeKey { values, data_type: k.expr.data_type() })
            }
            _ => None,
        };
        Ok(Layout { perm, partitions, peers, range_key })
    }

    /// Each sorted position's frame `[start, end)` (empty when `start >= end`).
    fn frames(&self, frame: &WindowFrame) -> Result<Vec<(usize, usize)>> {
        let n = self.perm.len();
        let mut out = vec![(0, 0); n];
        for &(ps, pe) in &self.partitions {
            for j in ps..pe {
                let (s, e) = match frame.units {
                    FrameUnits::Rows => rows_frame(frame, j, ps, pe)?,
                    FrameUnits::Range => self.range_frame(frame, j, ps, pe)?,
                };
                out[j] = if s < e { (s, e) } else { (j, j) };
            }
        }
        Ok(out)
    }

    fn range_frame(&self, frame: &WindowFrame, j: usize, ps: usize, pe: usize) -> Result<(usize, usize)> {
        let needs_key = matches!(frame.start, FrameBound::Preceding(_) | FrameBound::Following(_))
            || matches!(frame.end, FrameBound::Preceding(_) | FrameBound::Following(_));
        let (peer_s, peer_e) = self.peers[j];
        if !needs_key {
            let s = match frame.start {
                FrameBound::UnboundedPreceding => ps,
                FrameBound::UnboundedFollowing => pe,
                _ => peer_s,
            };
            let e = match frame.end {
                FrameBound::UnboundedFollowing => pe,
                FrameBound::UnboundedPreceding => ps,
                _ => peer_e,
            };
            return Ok((s, e));
        }
        let key = self.range_key.as_ref().ok_or_else(|| {
            ExecError::InvalidArgument("RANGE with an offset needs exactly one ORDER BY column".into())
        })?;
        let Some(v) = key.values[j] else {
            // A NULL key's frame is its peers (the other NULLs), as in PostgreSQL.
            let s = if frame.start == FrameBound::UnboundedPreceding { ps } else { peer_s };
            let e = if frame.end == FrameBound::UnboundedFollowing { pe } else { peer_e };
            return Ok((s, e));
        };
        // The non-NULL keys of the partition form one sorted run.
        let keys = &key.values[ps..pe];
        let nn_start = ps + keys.iter().position(Option::is_some).unwrap_or(keys.len());
        let nn_end = ps + keys.iter().rposition(Option::is_some).map_or(0, |p| p + 1);
        let run = &key.values[nn_start..nn_end.max(nn_start)];
        // First position in the run whose key is >= x (or > x when `strict`).
        let first = |x: f64, strict: bool| {
            nn_start
                + run.partition_point(|k| {
                    let k = k.unwrap_or(f64::NEG_INFINITY);
                    if strict {
                        k <= x
                    } else {
                        k < x
                    }
                })
        };
        let offset = |o: &Value| range_offset(o, key.data_type);
        let s = match &frame.start {
            FrameBound::UnboundedPreceding => ps,
            FrameBound::Preceding(o) => first(v - offset(o)?, false),
            FrameBound::CurrentRow => peer_s,
            FrameBound::Following(o) => first(v + offset(o)?, false),
            FrameBound::UnboundedFollowing => pe,
        };
        let e = match &frame.end {
            FrameBound::UnboundedPreceding => ps,
            FrameBound::Preceding(o) => first(v - offset(o)?, true),
            FrameBound::CurrentRow => peer_e,
            FrameBound::Following(o) => first(v + offset(o)?, true),
            FrameBound::UnboundedFollowing => pe,
        };
        Ok((s, e))
    }

    fn partition_of(&self) -> Vec<u32> {
        let mut out = vec![0u32; self.perm.len()];
        for (k, &(ps, pe)) in self.partitions.iter().enumerate() {
            for j in ps..pe {
                out[self.perm[j] as usize] = k as u32;
            }
        }
        out
    }
}

/// A RANGE offset in the unit of the ORDER BY key (days for DATE, microseconds for TIMESTAMP).
fn range_offset(o: &Value, key_type: DataType) -> Result<f64> {
    const MICROS_PER_DAY: f64 = 86_400_000_000.0;
    let x = match (o, key_type) {
        (Value::Interval { months: 0, days, micros }, DataType::Timestamp) => {
            f64::from(*days) * MICROS_PER_DAY + *micros as f64
        }
        (Value::Interval { months: 0, days, micros: 0 }, DataType::Date) => f64::from(*days),
        (Value::Interval { .. }, _) => {
            return Err(ExecError::InvalidArgument(format!(
                "RANGE offset {o} is not supported for ORDER BY of type {key_type} (use days or smaller units)"
            )))
        }
        (v, _) => v.as_f64().ok_or_else(|| ExecError::InvalidArgument(format!("invalid RANGE offset {v}")))?,
    };
    if x < 0.0 || x.is_nan() {
        return Err(ExecError::InvalidArgument("frame offset must not be negative".into()));
    }
    Ok(x)
}

fn row_offset(o: &Value) -> Result<usize> {
    match o.as_i64() {
        Some(k) if k >= 0 => Ok(usize::try_from(k).unwrap_or(usize::MAX)),
        Some(_) => Err(ExecError::InvalidArgument("frame offset must not be negative".into())),
        None => Err(ExecError::InvalidArgument(format!("invalid ROWS offset {o}"))),
    }
}

fn rows_frame(frame: &WindowFrame, j: usize, ps: usize, pe: usize) -> Result<(usize, usize)> {
    let back = |k: usize| j.saturating_sub(k).max(ps);
    let fwd = |k: usize| j.saturating_add(k).min(pe);
    let s = match &frame.start {
        FrameBound::UnboundedPreceding => ps,
        FrameBound::Preceding(o) => back(row_offset(o)?),
        FrameBound::CurrentRow => j,
        FrameBound::Following(o) => fwd(row_offset(o)?),
        FrameBound::UnboundedFollowing => pe,
    };
    let e = match &frame.end {
        FrameBound::UnboundedPreceding => ps,
        FrameBound::Preceding(o) => {
            let k = row_offset(o)?;
            if k > j - ps {
                ps
            } else {
                j - k + 1
            }
        }
        FrameBound::CurrentRow => j + 1,
        FrameBound::Following(o) => fwd(row_offset(o)?.saturating_add(1)),
        FrameBound::UnboundedFollowing => pe,
    };
    Ok((s, e))
}

/// Values by input row, built up in any order.
fn finish_values(data_type: DataType, values: Vec<Value>) -> ArrayRef {
    values_to_array(data_type, &values)
}

fn evaluate(input: &Batch, layout: &Layout, w: &WindowExpr) -> Result<ArrayRef> {
    let n = input.n_rows;
    let args = w.args.iter().map(|a| a.evaluate(input)).collect::<Result<Vec<_>>>()?;
    let arg_value = |k: usize, row: u32| -> Value {
        match args.get(k) {
            Some(a) => Value::from_array(a.as_ref(), row as usize),
            None => Value::Null,
        }
    };
    let mut out = vec![Value::Null; n];
    let perm = &layout.perm;
    match w.func {
        WindowFunc::RowNumber => {
            for &(ps, pe) in &layout.partitions {
                for j in ps..pe {
                    out[perm[j] as usize] = Value::BigInt((j - ps + 1) as i64);
                }
            }
        }
        WindowFunc::Rank | WindowFunc::PercentRank => {
            for &(ps, pe) in &layout.partitions {
                for j in ps..pe {
                    let rank = (layout.peers[j].0 - ps + 1) as i64;
                    out[perm[j] as usize] = if w.func == WindowFunc::Rank {
                        Value::BigInt(rank)
                    } else if pe - ps <= 1 {
                        Value::Double(0.0)
                    } else {
                        Value::Double((rank - 1) as f64 / (pe - ps - 1) as f64)
                    };
                }
            }
        }
        WindowFunc::DenseRank => {
            for &(ps, pe) in &layout.partitions {
                let mut rank = 0i64;
                for j in ps..pe {
                    if layout.peers[j].0 == j {
                        rank += 1;
                    }
                    out[perm[j] as usize] = Value::BigInt(rank);
                }
            }
        }
        WindowFunc::CumeDist => {
            for &(ps, pe) in &layout.partitions {
                for j in ps..pe {
                    let upto = layout.peers[j].1 - ps;
                    out[perm[j] as usize] = Value::Double(upto as f64 / (pe - ps) as f64);
                }
            }
        }
        WindowFunc::Ntile => {
            for &(ps, pe) in &layout.partitions {
                let size = (pe - ps) as i64;
                for j in ps..pe {
                    let buckets = match arg_value(0, perm[j]) {
                        Value::Null => continue,
                        v => v.as_i64().unwrap_or(0),
                    };
                    if buckets <= 0 {
                        return Err(ExecError::InvalidArgument("argument of ntile must be greater than zero".into()));
                    }
                    // The first `size % buckets` buckets hold one row more than the others.
                    let (per, extra) = (size / buckets, size % buckets);
                    let i = (j - ps) as i64;
                    let bucket = if per == 0 {
                        i + 1
                    } else if i < extra * (per + 1) {
                        i / (per + 1) + 1
                    } else {
                        extra + (i - extra * (per + 1)) / per + 1
                    };
                    out[perm[j] as usize] = Value::BigInt(bucket);
                }
            }
        }
        WindowFunc::Lag | WindowFunc::Lead => {
            for &(ps, pe) in &layout.partitions {
                for j in ps..pe {
                    let row = perm[j];
                    let offset = if args.len() > 1 { arg_value(1, row).as_i64() } else { Some(1) };
                    let Some(offset) = offset else {
                        continue;
                    };
                    let target = if w.func == WindowFunc::Lag {
                        (j as i64).checked_sub(offset)
                    } else {
                        (j as i64).checked_add(offset)
                    };
                    out[row as usize] = match target {
                        Some(t) if t >= ps as i64 && t < pe as i64 => arg_value(0, perm[t as usize]),
                        _ => arg_value(2, row),
                    };
                }
            }
        }
        WindowFunc::FirstValue | WindowFunc::LastValue | WindowFunc::NthValue => {
            let frames = layout.frames(&w.frame)?;
            for (j, &(s, e)) in frames.iter().enumerate() {
                let row = perm[j];
                let pick = match w.func {
                    WindowFunc::FirstValue => (s < e).then_some(s),
                    WindowFunc::LastValue => (s < e).then(|| e - 1),
                    _ => match arg_value(1, row).as_i64() {
                        Some(k) if k <= 0 => {
                            return Err(ExecError::InvalidArgument(
                                "argument of nth_value must be greater than zero".into(),
                            ))
                        }
                        Some(k) => usize::try_from(k - 1).ok().and_then(|k| s.checked_add(k)).filter(|&p| p < e),
                        None => None,
                    },
                };
                if let Some(p) = pick {
                    out[row as usize] = arg_value(0, perm[p]);
                }
            }
        }
        WindowFunc::Aggregate(func) => return aggregate(input, layout, w, func, args.first()),
    }
    Ok(finish_values(w.data_type, out))
}

/// The rows an aggregate may see: all, or those passing its FILTER.
fn filter_mask(input: &Batch, w: &WindowExpr) -> Result<Option<Vec<bool>>> {
    let Some(f) = &w.filter else {
        return Ok(None);
    };
    let mask = f.evaluate(input)?;
    let bits = true_mask(downcast_bool(mask.as_ref())?);
    Ok(Some((0..input.n_rows).map(|r| bits.get_bit(r)).collect()))
}

fn aggregate(
    input: &Batch,
    layout: &Layout,
    w: &WindowExpr,
    func: AggFunc,
    arg: Option<&ArrayRef>,
) -> Result<ArrayRef> {
    let n = input.n_rows;
    let frames = layout.frames(&w.frame)?;
    let mask = filter_mask(input, w)?;
    let passes = |row: u32| mask.as_ref().is_none_or(|m| m[row as usize]);
    let call = AggregateExpr {
        func,
        arg: None,
        distinct: w.distinct,
        data_type: w.data_type,
        extra: w.extra.clone(),
        filter: None,
    };

    // Every frame is its whole partition: one group per partition.
    let whole = layout.partitions.iter().all(|&(ps, pe)| frames[ps..pe].iter().all(|&f| f == (ps, pe)));
    if whole {
        let part = layout.partition_of();
        let rows: Vec<u32> = (0..n as u32).filter(|&r| passes(r)).collect();
        let groups: Vec<u32> = rows.iter().map(|&r| part[r as usize]).collect();
        let taken = arg.map(|a| take_array(a.as_ref(), &rows)).transpose()?;
        let mut acc = make_accumulator(&call);
        acc.update(&groups, layout.partitions.len(), taken.as_deref())?;
        let per_partition = acc.finish(layout.partitions.len())?;
        return take_array(per_partition.as_ref(), &part);
    }

    // Every frame starts at its partition's start and grows: keep a running state.
    let running_func = matches!(
        func,
        AggFunc::CountStar
            | AggFunc::Count
            | AggFunc::Sum
            | AggFunc::Avg
            | AggFunc::Min
            | AggFunc::Max
            | AggFunc::BoolAnd
            | AggFunc::BoolOr
    ) && !w.distinct;
    let running = running_func
        && layout.partitions.iter().all(|&(ps, pe)| {
            frames[ps..pe].iter().all(|&(s, e)| s == ps || s == e)
                && frames[ps..pe].windows(2).all(|f| f[0].1 <= f[1].1)
        });
    // Every frame ends at its partition's end and shrinks from the front: the same running
    // state, fed from the partition's end backwards (`ROWS BETWEEN 1 PRECEDING AND UNBOUNDED
    // FOLLOWING` in linear time instead of quadratic).
    let suffix = !running
        && running_func
        && layout.partitions.iter().all(|&(ps, pe)| {
            frames[ps..pe].iter().all(|&(s, e)| e == pe || s == e)
                && frames[ps..pe].windows(2).all(|f| f[0].0 <= f[1].0)
        });
    if running || suffix {
        let backwards = suffix;
        let mut out = vec![Value::Null; n];
        for &(ps, pe) in &layout.partitions {
            let mut state = Running::new(func, w.data_type);
            // Rows of the partition fed so far, counted from its start (from its end backwards).
            let mut fed = 0;
            for i in 0..pe - ps {
                let j = if backwards { pe - 1 - i } else { ps + i };
                let (s, e) = frames[j];
                let covered = if s == e {
                    0
                } else if backwards {
                    pe - s
                } else {
                    e - ps
                };
                while fed < covered {
                    let row = layout.perm[if backwards { pe - 1 - fed } else { ps + fed }];
                    if passes(row) {
                        let v = arg.map_or(Value::Null, |a| Value::from_array(a.as_ref(), row as usize));
                        state.add(&v)?;
                    }
                    fed += 1;
                }
                out[layout.perm[j] as usize] =
                    if covered == 0 { Running::new(func, w.data_type).value() } else { state.value() };
            }
        }
        return Ok(finish_values(w.data_type, out));
    }

    // General frames: each row's frame becomes a group of its own, a chunk of rows at a time.
    const CHUNK_ROWS: usize = 1 << 20;
    let mut out = vec![Value::Null; n];
    let mut j = 0;
    while j < n {
        // Frames may overlap (the work is up to quadratic): a statement can stop between chunks.
        crate::interrupt::check()?;
        let (mut rows, mut groups, mut owners) = (Vec::new(), Vec::new(), Vec::new());
        while j < n && (rows.len() < CHUNK_ROWS || owners.is_empty()) {
            let (s, e) = frames[j];
            let g = owners.len() as u32;
            for p in s..e {
                let row = layout.perm[p];
                if passes(row) {
                    rows.push(row);
                    groups.push(g);
                }
            }
            owners.push(layout.perm[j]);
            j += 1;
        }
        let taken = arg.map(|a| take_array(a.as_ref(), &rows)).transpose()?;
        let mut acc = make_accumulator(&call);
        acc.update(&groups, owners.len(), taken.as_deref())?;
        let result = acc.finish(owners.len())?;
        for (g, &row) in owners.iter().enumerate() {
            out[row as usize] = Value::from_array(result.as_ref(), g);
        }
    }
    Ok(finish_values(w.data_type, out))
}

/// The running state of COUNT, SUM, AVG, MIN, MAX, BOOL_AND or BOOL_OR over a growing frame.
struct Running {
    func: AggFunc,
    out: DataType,
    count: i64,
    int_sum: i128,
    float_sum: f64,
    floats: bool,
    best: Value,
    any_true: bool,
    any_false: bool,
}

impl Running {
    fn new(func: AggFunc, out: DataType) -> Running {
        Running {
            func,
            out,
            count: 0,
            int_sum: 0,
            float_sum: 0.0,
            floats: false,
            best: Value::Null,
            any_true: false,
            any_false: false,
        }
    }

    fn add(&mut self, v: &Value) -> Result<()> {
        if self.func == AggFunc::CountStar {
            self.count += 1;
            return Ok(());
        }
        if v.is_null() {
            return Ok(());
        }
        self.count += 1;
        match self.func {
            AggFunc::Sum | AggFunc::Avg => match v {
                Value::Real(_) | Value::Double(_) => {
                    self.floats = true;
                    self.float_sum += v.as_f64().unwrap_or(0.0);
                }
                other => self.int_sum += i128::from(other.as_i64().unwrap_or(0)),
            },
            AggFunc::Min | AggFunc::Max => {
                let better = match self.best.total_cmp(v) {
                    Ordering::Greater => self.func == AggFunc::Min,
                    Ordering::Less => self.func == AggFunc::Max,
                    Ordering::Equal => false,
                };
                if self.best.is_null() || better {
                    self.best = v.clone();
                }
            }
            AggFunc::BoolAnd | AggFunc::BoolOr => match v {
                Value::Boolean(true) => self.any_true = true,
                Value::Boolean(false) => self.any_false = true,
                other => {
                    return Err(ExecError::Internal(format!("{:?} over a non-boolean value {other}", self.func)));
                }
            },
            _ => {}
        }
        Ok(())
    }

    fn value(&self) -> Value {
        match self.func {
            AggFunc::CountStar | AggFunc::Count => Value::BigInt(self.count),
            _ if self.count == 0 => Value::Null,
            AggFunc::BoolAnd => Value::Boolean(!self.any_false),
            AggFunc::BoolOr => Value::Boolean(self.any_true),
            AggFunc::Sum if self.floats => Value::Double(self.float_sum),
            AggFunc::Sum => match (self.out, i64::try_from(self.int_sum)) {
                (DataType::Double, _) => Value::Double(self.int_sum as f64),
                (_, Ok(v)) => Value::BigInt(v),
                (_, Err(_)) => Value::Double(self.int_sum as f64),
            },
            AggFunc::Avg => {
                let sum = if self.floats { self.float_sum } else { self.int_sum as f64 };
                Value::Double(sum / self.count as f64)
            }
            _ => self.best.clone(),
        }
    }
}
