//! HashAggregateExec: GROUP BY with COUNT / SUM / AVG / MIN / MAX, each optionally DISTINCT.
//!
//! Group keys are encoded into byte strings ([`crate::row_key`]) and mapped to dense group
//! ids; accumulators keep one slot per group and are updated a batch at a time.

use super::group_table::{valid_range, DenseSlots, GroupTable};
use super::{Flow, Sink};
use crate::error::{ExecError, Result};
use crate::expr::{take_array, Expr};
use crate::kernels::as_prim;
use crate::kernels::simd::{self, F64Lanes};
use crate::row_key::{FastSet, RowKeys};
use arrow::array::{Array, PrimitiveArray};
use arrow::types::NativeType;
use std::fmt;
use storage::value::values_to_array;
use storage::{ArrayRef, Batch, DataType, Value};

/// An aggregate function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AggFunc {
    CountStar,
    Count,
    Sum,
    Avg,
    Min,
    Max,
    StddevSamp,
    StddevPop,
    VarSamp,
    VarPop,
    /// `percentile_cont(f) WITHIN GROUP (ORDER BY x)`; `f` is in [`AggregateExpr::extra`].
    PercentileCont,
    PercentileDisc,
    /// `string_agg(x, sep)`; `sep` is in [`AggregateExpr::extra`].
    StringAgg,
    BoolAnd,
    BoolOr,
    /// The most frequent non-NULL value (the smallest among equally frequent ones):
    /// `mode(x)` or `mode() WITHIN GROUP (ORDER BY x)`.
    Mode,
}

impl AggFunc {
    pub fn lookup(name: &str) -> Option<AggFunc> {
        Some(match name {
            "count" => AggFunc::Count,
            "sum" => AggFunc::Sum,
            "avg" | "mean" => AggFunc::Avg,
            "min" => AggFunc::Min,
            "max" => AggFunc::Max,
            "stddev" | "stddev_samp" => AggFunc::StddevSamp,
            "stddev_pop" => AggFunc::StddevPop,
            "variance" | "var_samp" => AggFunc::VarSamp,
            "var_pop" => AggFunc::VarPop,
            "percentile_cont" | "median" => AggFunc::PercentileCont,
            "percentile_disc" => AggFunc::PercentileDisc,
            "string_agg" => AggFunc::StringAgg,
            "bool_and" | "every" => AggFunc::BoolAnd,
            "bool_or" => AggFunc::BoolOr,
            "mode" => AggFunc::Mode,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            AggFunc::CountStar | AggFunc::Count => "count",
            AggFunc::Sum => "sum",
            AggFunc::Avg => "avg",
            AggFunc::Min => "min",
            AggFunc::Max => "max",
            AggFunc::StddevSamp => "stddev_samp",
            AggFunc::StddevPop => "stddev_pop",
            AggFunc::VarSamp => "var_samp",
            AggFunc::VarPop => "var_pop",
            AggFunc::PercentileCont => "percentile_cont",
            AggFunc::PercentileDisc => "percentile_disc",
            AggFunc::StringAgg => "string_agg",
            AggFunc::BoolAnd => "bool_and",
            AggFunc::BoolOr => "bool_or",
            AggFunc::Mode => "mode",
        }
    }

    /// The result type for an argument of type `input`, or why the call is invalid.
    pub fn return_type(self, input: DataType) -> std::result::Result<DataType, String> {
        match self {
            AggFunc::CountStar | AggFunc::Count => Ok(DataType::BigInt),
            AggFunc::Sum | AggFunc::Avg => match input {
                t if t.is_integer() && self == AggFunc::Sum => Ok(DataType::BigInt),
                DataType::Interval => Ok(DataType::Interval),
                t if t.is_numeric() => Ok(DataType::Double),
                DataType::Null => Ok(if self == AggFunc::Sum { DataType::BigInt } else { DataType::Double }),
                t => Err(format!("function {}({t}) does not exist: it needs a number", self.name())),
            },
            AggFunc::Min | AggFunc::Max | AggFunc::PercentileDisc | AggFunc::Mode => Ok(input),
            AggFunc::StddevSamp | AggFunc::StddevPop | AggFunc::VarSamp | AggFunc::VarPop | AggFunc::PercentileCont => {
                match input {
                    t if t.is_numeric() || t == DataType::Null => Ok(DataType::Double),
                    t => Err(format!("function {}({t}) does not exist: it needs a number", self.name())),
                }
            }
            AggFunc::StringAgg => match input {
                DataType::Text | DataType::Null => Ok(DataType::Text),
                t => Err(format!("function string_agg({t}) does not exist: it needs text")),
            },
            AggFunc::BoolAnd | AggFunc::BoolOr => match input {
                DataType::Boolean | DataType::Null => Ok(DataType::Boolean),
                t => Err(format!("function {}({t}) does not exist: it needs a boolean", self.name())),
            },
        }
    }
}

/// One aggregate call in a plan.
#[derive(Debug, Clone, PartialEq)]
pub struct AggregateExpr {
    pub func: AggFunc,
    /// `None` only for `COUNT(*)`.
    pub arg: Option<Expr>,
    pub distinct: bool,
    pub data_type: DataType,
    /// The constant parameter of `percentile_*` (the fraction) and `string_agg` (the separator).
    pub extra: Option<Value>,
    /// `FILTER (WHERE ...)`: only rows where this is true are aggregated.
    pub filter: Option<Expr>,
}

impl AggregateExpr {
    /// A plain call: no parameter, no filter.
    pub fn new(func: AggFunc, arg: Option<Expr>, distinct: bool, data_type: DataType) -> AggregateExpr {
        AggregateExpr { func, arg, distinct, data_type, extra: None, filter: None }
    }

    /// The expressions the call reads (argument and filter).
    pub fn exprs_mut(&mut self) -> impl Iterator<Item = &mut Expr> {
        self.arg.iter_mut().chain(self.filter.iter_mut())
    }
}

impl fmt::Display for AggregateExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.arg {
            None => write!(f, "count(*)")?,
            Some(a) => write!(f, "{}({}{a})", self.func.name(), if self.distinct { "DISTINCT " } else { "" })?,
        }
        if let Some(x) = &self.extra {
            write!(f, "[{x}]")?;
        }
        match &self.filter {
            Some(c) => write!(f, " FILTER (WHERE {c})"),
            None => Ok(()),
        }
    }
}

/// Per-group state of one aggregate.
pub(super) trait Accumulator: Send {
    /// Adds row `k` of `input` to group `groups[k]`; `n_groups` is the number of groups so far.
    fn update(&mut self, groups: &[u32], n_groups: usize, input: Option<&dyn Array>) -> Result<()>;
    fn finish(&mut self, n_groups: usize) -> Result<ArrayRef>;
    /// Adds the state of `other`, an accumulator of the same aggregate that another worker of
    /// a parallel pipeline filled: its group `g` is this one's group `map[g]`, and this one now
    /// has `n_groups` groups. Only for the aggregates [`mergeable`] accepts.
    fn merge(&mut self, _other: &mut dyn std::any::Any, _map: &[u32], _n_groups: usize) -> Result<()> {
        Err(ExecError::Internal("this aggregate cannot merge partial states".into()))
    }
    fn as_any_mut(&mut self) -> &mut dyn std::any::Any;
    /// Its own result followed by the results of `others`, aggregates whose input it shares
    /// ([`shares_input`]): for the percentiles, all fractions from one selection per group;
    /// for SUM and AVG, both from the same sums and counts.
    fn finish_shared(&mut self, _others: &[&AggregateExpr], _n_groups: usize) -> Result<Vec<ArrayRef>> {
        Err(ExecError::Internal("this aggregate keeps no values to answer another".into()))
    }
}

/// Whether `later` can be answered from the accumulator of `earlier` (see
/// [`Accumulator::finish_shared`]), both without DISTINCT, over the same argument and FILTER:
/// the same percentile function differing only in the fraction, as in `percentile_cont(0.5)
/// ..., percentile_cont(0.99) ...`, or SUM and AVG (in any mix) of the same non-interval values.
pub(super) fn shares_input(earlier: &AggregateExpr, later: &AggregateExpr) -> bool {
    let same_call = !earlier.distinct && !later.distinct && earlier.arg == later.arg && earlier.filter == later.filter;
    let percentiles = matches!(later.func, AggFunc::PercentileCont | AggFunc::PercentileDisc)
        && earlier.func == later.func
        && earlier.data_type == later.data_type;
    let sums = [earlier, later]
        .iter()
        .all(|a| matches!(a.func, AggFunc::Sum | AggFunc::Avg) && a.data_type != DataType::Interval);
    same_call && (percentiles || sums)
}

/// For `SUM(CASE WHEN c THEN 1 ELSE 0 END)` in a grouped aggregate without FILTER: the
/// condition `c`. Such a sum is the number of the group's rows where `c` is true (a
/// [`CountAcc`] `of_true`): every group has at least one row, so the sum is never NULL.
/// (Without GROUP BY the one group may have no rows, where SUM is NULL and a count 0.)
pub(super) fn counted_condition(agg: &AggregateExpr, grouped: bool) -> Option<&Expr> {
    let is_int = |e: &Expr, want: i64| match e {
        Expr::Literal { value, .. } => {
            matches!(value.data_type(), DataType::SmallInt | DataType::Integer | DataType::BigInt)
                && value.as_i64() == Some(want)
        }
        _ => false,
    };
    match &agg.arg {
        Some(Expr::Case { whens, else_expr: Some(else_expr), .. })
            if grouped
                && agg.func == AggFunc::Sum
                && !agg.distinct
                && agg.filter.is_none()
                && agg.data_type == DataType::BigInt
                && whens.len() == 1
                && is_int(&whens[0].1, 1)
                && is_int(else_expr, 0) =>
        {
            Some(&whens[0].0)
        }
        _ => None,
    }
}

/// `other` as the accumulator type `T` (the same aggregate's accumulator, from another worker).
pub(super) fn same_kind<T: 'static>(other: &mut dyn std::any::Any) -> Result<&mut T> {
    other.downcast_mut::<T>().ok_or_else(|| ExecError::Internal("merging different accumulators".into()))
}

/// Whether partial states of `agg` can be merged (so a parallel pipeline may compute it):
/// every aggregate but string_agg (its order is the input's) and DISTINCT ones other than
/// COUNT, MIN and MAX.
pub(super) fn mergeable(agg: &AggregateExpr) -> bool {
    agg.func != AggFunc::StringAgg
        && (!agg.distinct || matches!(agg.func, AggFunc::Count | AggFunc::CountStar | AggFunc::Min | AggFunc::Max))
}

/// COUNT, and (`of_true`) `SUM(CASE WHEN c THEN 1 ELSE 0 END)` as the count of rows where
/// `c`, its input, is true (see [`counted_condition`]): the mask is counted a word at a time,
/// where the CASE would build a column of ones and zeros and sum it in i128.
struct CountAcc {
    counts: Vec<i64>,
    of_true: bool,
}

impl Accumulator for CountAcc {
    fn update(&mut self, groups: &[u32], n_groups: usize, input: Option<&dyn Array>) -> Result<()> {
        self.counts.resize(n_groups, 0);
        match input {
            Some(a) if self.of_true && a.data_type() != &arrow::datatypes::DataType::Null => {
                let mask = crate::kernels::boolean::true_mask(crate::kernels::compare::downcast_bool(a)?);
                simd::count_grouped(groups, &mask, &mut self.counts);
            }
            Some(a) if a.data_type() == &arrow::datatypes::DataType::Null => {}
            Some(a) if a.null_count() > 0 && n_groups == 1 => self.counts[0] += (a.len() - a.null_count()) as i64,
            // (An array with NULLs has a bitmap; the null type, which has none, is above.)
            Some(a) if a.null_count() > 0 => {
                if let Some(valid) = a.validity() {
                    simd::count_grouped(groups, valid, &mut self.counts)
                }
            }
            _ if n_groups == 1 => self.counts[0] += groups.len() as i64,
            _ if n_groups <= simd::FEW_GROUPS => simd::count_grouped_few(groups, &mut self.counts),
            _ => groups.iter().for_each(|g| self.counts[*g as usize] += 1),
        }
        Ok(())
    }

    fn as_any_mut(&mut self) -> &mut dyn std::any::Any {
        self
    }

    fn merge(&mut self, other: &mut dyn std::any::Any, map: &[u32], n_groups: usize) -> Result<()> {
        let other = same_kind::<CountAcc>(other)?;
        self.counts.resize(n_groups, 0);
        for (g, &c) in other.counts.iter().enumerate() {
            self.counts[map[g] as usize] += c;
        }
        Ok(())
    }

    fn finish(&mut self, n_groups: usize) -> Result<ArrayRef> {
        self.counts.resize(n_groups, 0);
        Ok(PrimitiveArray::<i64>::from_vec(std::mem::take(&mut self.counts)).boxed())
    }
}

/// SUM and AVG: exact i128 sums for integers, f64 sums for floats.
struct SumAvgAcc {
    avg: bool,
    out: DataType,
    ints: Vec<i128>,
    floats: Vec<f64>,
    counts: Vec<i64>,
    /// Without GROUP BY: the float sum in four lanes (see [`F64Lanes`]), added to
    /// `floats[0]` at the end; `None` with GROUP BY (see [`sum_into`]).
    lanes: Option<F64Lanes>,
}

/// Adds each valid value of `a` (converted by `conv`) to its group's sum and count.
fn sum_into<T: NativeType, S: Copy + Default + std::ops::AddAssign>(
    a: &PrimitiveArray<T>,
    groups: &[u32],
    sums: &mut [S],
    counts: &mut [i64],
    conv: impl Fn(T) -> S,
) {
    let values = a.values().as_slice();
    match a.validity().filter(|v| v.unset_bits() > 0) {
        None if sums.len() == 1 => {
            // One group (no GROUP BY): a plain fold, in row order.
            let mut acc = sums[0];
            for &v in values {
                acc += conv(v);
            }
            sums[0] = acc;
            counts[0] += values.len() as i64;
        }
        None if sums.len() <= simd::FEW_GROUPS => simd::sum_grouped_few(values, groups, sums, counts, conv),
        None => simd::sum_grouped_scalar(values, groups, sums, counts, conv),
        Some(validity) => simd::blocks(values, Some(validity), |offset, block, mut bits| {
            let groups = &groups[offset..offset + block.len()];
            if bits == u64::MAX {
                for (&v, &g) in block.iter().zip(groups) {
                    sums[g as usize] += conv(v);
                    counts[g as usize] += 1;
                }
            } else {
                while bits != 0 {
                    let i = bits.trailing_zeros() as usize;
                    sums[groups[i] as usize] += conv(block[i]);
                    counts[groups[i] as usize] += 1;
                    bits &= bits - 1;
                }
            }
        }),
    }
}

/// Without GROUP BY: adds the valid values of `input` to the one group's sums with the
/// SIMD kernels; false for types they do not cover.
fn sum_ungrouped(input: &dyn Array, ints: &mut i128, lanes: &mut F64Lanes, count: &mut i64) -> Result<bool> {
    fn add((sum, n): (i128, i64), ints: &mut i128, count: &mut i64) {
        *ints += sum;
        *count += n;
    }
    match DataType::from_arrow(input.data_type()) {
        Some(DataType::SmallInt) => {
            let a = as_prim::<i16>(input)?;
            add(simd::sum_i16(a.values(), a.validity()), ints, count);
        }
        Some(DataType::Integer) => {
            let a = as_prim::<i32>(input)?;
            add(simd::sum_i32(a.values(), a.validity()), ints, count);
        }
        Some(DataType::BigInt) => {
            let a = as_prim::<i64>(input)?;
            add(simd::sum_i64(a.values(), a.validity()), ints, count);
        }
        Some(DataType::Double) => {
            let a = as_prim::<f64>(input)?;
            *count += simd::sum_f64(a.values(), a.validity(), lanes);
        }
        _ => return Ok(false),
    }
    Ok(true)
}

impl SumAvgAcc {
    /// Moves the lane sum into `floats[0]` (lanes continue from zero).
    fn fold_lanes(&mut self) {
        if let Some(lanes) = &mut self.lanes {
            if let Some(f) = self.floats.first_mut() {
                *f += lanes.total();
                *lanes = F64Lanes { phase: lanes.phase, ..F64Lanes::default() };
            }
        }
    }
}

impl Accumulator for SumAvgAcc {
    fn update(&mut self, groups: &[u32], n_groups: usize, input: Option<&dyn Array>) -> Result<()> {
        self.ints.resize(n_groups, 0);
        self.floats.resize(n_groups, 0.0);
        self.counts.resize(n_groups, 0);
        let input = input.ok_or_else(|| ExecError::Internal("SUM without argument".into()))?;
        if let Some(lanes) = &mut self.lanes {
            if sum_ungrouped(input, &mut self.ints[0], lanes, &mut self.counts[0])? {
                return Ok(());
            }
        }
        let (ints, floats, counts) = (&mut self.ints[..], &mut self.floats[..], &mut self.counts[..]);
        match DataType::from_arrow(input.data_type()) {
            Some(DataType::SmallInt) => sum_into(as_prim::<i16>(input)?, groups, ints, counts, |v| v as i128),
            Some(DataType::Integer) => sum_into(as_prim::<i32>(input)?, groups, ints, counts, |v| v as i128),
            Some(DataType::BigInt) => sum_into(as_prim::<i64>(input)?, groups, ints, counts, |v| v as i128),
            Some(DataType::Real) => sum_into(as_prim::<f32>(input)?, groups, floats, counts, |v| v as f64),
            Some(DataType::Double) => sum_into(as_prim::<f64>(input)?, groups, floats, counts, |v| v),
            Some(DataType::Null) => {}
            _ => return Err(ExecError::Internal(format!("SUM/AVG over {:?}", input.data_type()))),
        }
        Ok(())
    }

    fn as_any_mut(&mut self) -> &mut dyn std::any::Any {
        self
    }

    fn merge(&mut self, other: &mut dyn std::any::Any, map: &[u32], n_groups: usize) -> Result<()> {
        let other = same_kind::<SumAvgAcc>(other)?;
        other.fold_lanes();
        self.ints.resize(n_groups, 0);
        self.floats.resize(n_groups, 0.0);
        self.counts.resize(n_groups, 0);
        for (g, &to) in map.iter().enumerate().take(other.counts.len()) {
            let to = to as usize;
            self.ints[to] += other.ints[g];
            self.floats[to] += other.floats[g];
            self.counts[to] += other.counts[g];
        }
        Ok(())
    }

    fn finish(&mut self, n_groups: usize) -> Result<ArrayRef> {
        self.result(self.avg, self.out, n_groups)
    }

    fn finish_shared(&mut self, others: &[&AggregateExpr], n_groups: usize) -> Result<Vec<ArrayRef>> {
        std::iter::once((self.avg, self.out))
            .chain(others.iter().map(|a| (a.func == AggFunc::Avg, a.data_type)))
            .map(|(avg, out)| self.result(avg, out, n_groups))
            .collect()
    }
}

impl SumAvgAcc {
    /// The sums (or averages, for `avg`) of the `n_groups` groups as `out` values.
    fn result(&mut self, avg: bool, out: DataType, n_groups: usize) -> Result<ArrayRef> {
        self.ints.resize(n_groups, 0);
        self.floats.resize(n_groups, 0.0);
        self.counts.resize(n_groups, 0);
        self.fold_lanes();
        let mut values = Vec::with_capacity(n_groups);
        for g in 0..n_groups {
            let n = self.counts[g];
            values.push(if n == 0 {
                Value::Null
            } else if avg {
                Value::Double((self.ints[g] as f64 + self.floats[g]) / n as f64)
            } else if out == DataType::BigInt {
                Value::BigInt(i64::try_from(self.ints[g]).map_err(|_| ExecError::Overflow("bigint"))?)
            } else {
                Value::Double(self.ints[g] as f64 + self.floats[g])
            });
        }
        Ok(values_to_array(out, &values))
    }
}

/// MIN and MAX over any orderable type: integer-like types (SMALLINT, INTEGER, DATE,
/// BIGINT, TIMESTAMP) keep an i64 per group, floats an f64 per group, others a [`Value`].
struct MinMaxAcc {
    is_min: bool,
    out: DataType,
    best: Best,
}

/// The per-group best values of a [`MinMaxAcc`]; `has[g]` is false while group `g` has seen
/// no non-NULL value.
enum Best {
    Ints { best: Vec<i64>, has: Vec<bool> },
    Floats { best: Vec<f64>, has: Vec<bool> },
    Values(Vec<Value>),
}

impl MinMaxAcc {
    fn new(is_min: bool, out: DataType) -> MinMaxAcc {
        let best = match out {
            t if is_int_like(t) => Best::Ints { best: vec![], has: vec![] },
            DataType::Real | DataType::Double => Best::Floats { best: vec![], has: vec![] },
            _ => Best::Values(vec![]),
        };
        MinMaxAcc { is_min, out, best }
    }

    fn resize(&mut self, n_groups: usize) {
        let fill = if self.is_min { i64::MAX } else { i64::MIN };
        match &mut self.best {
            Best::Ints { best, has } => {
                best.resize(n_groups, fill);
                has.resize(n_groups, false);
            }
            Best::Floats { best, has } => {
                best.resize(n_groups, 0.0);
                has.resize(n_groups, false);
            }
            Best::Values(best) => best.resize(n_groups, Value::Null),
        }
    }
}

/// Whether the non-NULL `v` replaces `slot` (MIN when `is_min`, else MAX).
fn better_value(is_min: bool, v: &Value, slot: &Value) -> bool {
    slot.is_null() || {
        let ord = if matches!(v, Value::Real(_) | Value::Double(_)) {
            crate::kernels::compare::cmp_f64(v.as_f64().unwrap_or(0.0), slot.as_f64().unwrap_or(0.0))
        } else {
            v.total_cmp(slot)
        };
        if is_min {
            ord.is_lt()
        } else {
            ord.is_gt()
        }
    }
}

/// Whether float `v` replaces `slot` (PostgreSQL order; the first of equal values stays).
#[inline]
fn better_f64(is_min: bool, v: f64, slot: f64) -> bool {
    let ord = crate::kernels::compare::cmp_f64(v, slot);
    if is_min {
        ord.is_lt()
    } else {
        ord.is_gt()
    }
}

/// Folds each valid value of `a` into its group's slot with `pick` (min or max); one group
/// takes the SIMD reduction `reduce`.
fn min_max_ints<T: NativeType + Into<i64>>(
    a: &PrimitiveArray<T>,
    groups: &[u32],
    best: &mut [i64],
    has: &mut [bool],
    pick: impl Fn(i64, i64) -> i64,
    reduce: impl Fn(&[T], Option<&arrow::bitmap::Bitmap>) -> Option<T>,
) {
    let values = a.values().as_slice();
    if best.len() == 1 {
        if let Some(v) = reduce(values, a.validity()) {
            best[0] = pick(best[0], v.into());
            has[0] = true;
        }
        return;
    }
    simd::blocks(values, a.validity(), |offset, block, mut bits| {
        let groups = &groups[offset..offset + block.len()];
        if bits == u64::MAX {
            for (&v, &g) in block.iter().zip(groups) {
                let g = g as usize;
                best[g] = pick(best[g], v.into());
                has[g] = true;
            }
        } else {
            while bits != 0 {
                let i = bits.trailing_zeros() as usize;
                let g = groups[i] as usize;
                best[g] = pick(best[g], block[i].into());
                has[g] = true;
                bits &= bits - 1;
            }
        }
    });
}

/// [`min_max_ints`] for floats in PostgreSQL's order, keeping the first of equal values.
fn min_max_floats<T: NativeType + Into<f64>>(
    a: &PrimitiveArray<T>,
    groups: &[u32],
    best: &mut [f64],
    has: &mut [bool],
    is_min: bool,
) {
    let values = a.values().as_slice();
    let mut add = |g: usize, v: f64| {
        if !has[g] || better_f64(is_min, v, best[g]) {
            best[g] = v;
            has[g] = true;
        }
    };
    simd::blocks(values, a.validity(), |offset, block, mut bits| {
        let groups = &groups[offset..offset + block.len()];
        while bits != 0 {
            let i = bits.trailing_zeros() as usize;
            add(groups[i] as usize, block[i].into());
            bits &= bits - 1;
        }
    });
}

impl Accumulator for MinMaxAcc {
    fn update(&mut self, groups: &[u32], n_groups: usize, input: Option<&dyn Array>) -> Result<()> {
        self.resize(n_groups);
        let input = input.ok_or_else(|| ExecError::Internal("MIN without argument".into()))?;
        let is_min = self.is_min;
        let dt = DataType::from_arrow(input.data_type());
        match (&mut self.best, dt) {
            (Best::Ints { best, has }, Some(DataType::SmallInt)) => {
                let a = as_prim::<i16>(input)?;
                if is_min {
                    min_max_ints(a, groups, best, has, i64::min, simd::min_i16)
                } else {
                    min_max_ints(a, groups, best, has, i64::max, simd::max_i16)
                }
            }
            (Best::Ints { best, has }, Some(DataType::Integer | DataType::Date)) => {
                let a = as_prim::<i32>(input)?;
                if is_min {
                    min_max_ints(a, groups, best, has, i64::min, simd::min_i32)
                } else {
                    min_max_ints(a, groups, best, has, i64::max, simd::max_i32)
                }
            }
            (Best::Ints { best, has }, Some(DataType::BigInt | DataType::Timestamp)) => {
                let a = as_prim::<i64>(input)?;
                if is_min {
                    min_max_ints(a, groups, best, has, i64::min, simd::min_i64)
                } else {
                    min_max_ints(a, groups, best, has, i64::max, simd::max_i64)
                }
            }
            (Best::Floats { best, has }, Some(DataType::Double)) if n_groups == 1 => {
                let a = as_prim::<f64>(input)?;
                if let Some(v) = simd::min_max_f64(a.values(), a.validity(), is_min) {
                    if !has[0] || better_f64(is_min, v, best[0]) {
                        best[0] = v;
                        has[0] = true;
                    }
                }
            }
            (Best::Floats { best, has }, Some(DataType::Double)) => {
                min_max_floats(as_prim::<f64>(input)?, groups, best, has, is_min)
            }
            (Best::Floats { best, has }, Some(DataType::Real)) => {
                min_max_floats(as_prim::<f32>(input)?, groups, best, has, is_min)
            }
            (Best::Values(best), _) => {
                for (row_idx, g) in groups.iter().enumerate() {
                    if input.is_null(row_idx) {
                        continue;
                    }
                    let v = Value::from_array(input, row_idx);
                    if better_value(is_min, &v, &best[*g as usize]) {
                        best[*g as usize] = v;
                    }
                }
            }
            (_, Some(DataType::Null)) => {}
            _ => return Err(ExecError::Internal(format!("MIN/MAX of {:?} into {}", input.data_type(), self.out))),
        }
        Ok(())
    }

    fn as_any_mut(&mut self) -> &mut dyn std::any::Any {
        self
    }

    fn merge(&mut self, other: &mut dyn std::any::Any, map: &[u32], n_groups: usize) -> Result<()> {
        let other = same_kind::<MinMaxAcc>(other)?;
        self.resize(n_groups);
        let is_min = self.is_min;
        match (&mut self.best, &mut other.best) {
            (Best::Ints { best, has }, Best::Ints { best: theirs, has: their_has }) => {
                for (g, (&v, &ok)) in theirs.iter().zip(their_has.iter()).enumerate() {
                    if ok {
                        let to = map[g] as usize;
                        best[to] = if is_min { best[to].min(v) } else { best[to].max(v) };
                        has[to] = true;
                    }
                }
            }
            (Best::Floats { best, has }, Best::Floats { best: theirs, has: their_has }) => {
                for (g, (&v, &ok)) in theirs.iter().zip(their_has.iter()).enumerate() {
                    let to = map[g] as usize;
                    if ok && (!has[to] || better_f64(is_min, v, best[to])) {
                        best[to] = v;
                        has[to] = true;
                    }
                }
            }
            (Best::Values(best), Best::Values(theirs)) => {
                for (g, v) in std::mem::take(theirs).into_iter().enumerate() {
                    let to = map[g] as usize;
                    if !v.is_null() && better_value(is_min, &v, &best[to]) {
                        best[to] = v;
                    }
                }
            }
            _ => return Err(ExecError::Internal("merging different MIN/MAX states".into())),
        }
        Ok(())
    }

    fn finish(&mut self, n_groups: usize) -> Result<ArrayRef> {
        self.resize(n_groups);
        let out = self.out;
        let values: Vec<Value> = match &self.best {
            Best::Ints { best, has } => best
                .iter()
                .zip(has.iter())
                .map(|(&v, &ok)| match (ok, out) {
                    (false, _) => Value::Null,
                    (true, DataType::SmallInt) => Value::SmallInt(v as i16),
                    (true, DataType::Integer) => Value::Integer(v as i32),
                    (true, DataType::Date) => Value::Date(v as i32),
                    (true, DataType::Timestamp) => Value::Timestamp(v),
                    (true, _) => Value::BigInt(v),
                })
                .collect(),
            Best::Floats { best, has } => best
                .iter()
                .zip(has.iter())
                .map(|(&v, &ok)| match (ok, out) {
                    (false, _) => Value::Null,
                    (true, DataType::Real) => Value::Real(v as f32),
                    (true, _) => Value::Double(v),
                })
                .collect(),
            Best::Values(best) => return Ok(values_to_array(out, best)),
        };
        Ok(values_to_array(out, &values))
    }
}

/// Feeds each (group, value) pair to the inner accumulator only the first time it is seen.
/// Integer values of a single group (no GROUP BY) are kept in a bitmap while their range is
/// small ([`DenseInts`]); other integer values as `(group, value)` pairs; others by their
/// row-key bytes.
struct DistinctAcc {
    inner: Box<dyn Accumulator>,
    /// Group 0's integer values while there is one group and their range fits; `None` once
    /// they moved to `seen_ints`.
    dense: Option<DenseInts>,
    seen_ints: FastSet<(u32, i64)>,
    /// With several groups, while the integer values span at most [`DISTINCT_OWNER_SLOTS`]:
    /// per value, the group it was seen in ([`Owners`]). A value seen in one group only (a
    /// customer in its cohort) never reaches `seen_ints`; one seen in several groups has all
    /// its pairs there, and its slot caches the last of them.
    owners: Option<DenseSlots>,
    /// Whether the values outgrew `owners` (its pairs moved to `seen_ints` for good).
    owners_gone: bool,
    seen: FastSet<Box<[u8]>>,
}

/// A set of integers as a bitmap over `[base, base + 64 * words.len())` (`base` a multiple of
/// 64): COUNT(DISTINCT id) over a compact id range sets bits instead of hashing, and partial
/// states of a parallel pipeline merge by OR.
#[derive(Default)]
struct DenseInts {
    base: i64,
    words: Vec<u64>,
}

/// The largest bitmap [`DenseInts`] grows to: 2^24 values (2 MiB).
const DENSE_MAX_WORDS: i64 = 1 << 18;

impl DenseInts {
    /// Widens the range to cover `lo..=hi`; false (and unchanged) when the bitmap would
    /// exceed [`DENSE_MAX_WORDS`].
    fn cover(&mut self, lo: i64, hi: i64) -> bool {
        let (lo_w, hi_w) = (lo.div_euclid(64), hi.div_euclid(64));
        let (new_lo, new_hi) = if self.words.is_empty() {
            (lo_w, hi_w)
        } else {
            let cur_lo = self.base.div_euclid(64);
            let cur_hi = cur_lo + self.words.len() as i64 - 1;
            (lo_w.min(cur_lo), hi_w.max(cur_hi))
        };
        // Word indexes lie within i64::MIN / 64 ..= i64::MAX / 64: the difference fits.
        if new_hi - new_lo + 1 > DENSE_MAX_WORDS {
            return false;
        }
        if self.words.is_empty() {
            self.words = vec![0; (new_hi - new_lo + 1) as usize];
        } else {
            let cur_lo = self.base.div_euclid(64);
            if new_lo < cur_lo {
                let extra = (cur_lo - new_lo) as usize;
                self.words.splice(0..0, std::iter::repeat_n(0, extra));
            }
            self.words.resize((new_hi - new_lo + 1) as usize, 0);
        }
        self.base = new_lo * 64;
        true
    }

    /// Adds `v` (inside the covered range); whether it was new.
    fn insert(&mut self, v: i64) -> bool {
        let offset = v.wrapping_sub(self.base) as u64;
        let (word, bit) = ((offset >> 6) as usize, 1u64 << (offset & 63));
        let fresh = self.words[word] & bit == 0;
        self.words[word] |= bit;
        fresh
    }

    /// Adds every value of `other`; how many were new. False when the range would not fit.
    fn union(&mut self, other: &DenseInts) -> Option<usize> {
        if other.words.is_empty() {
            return Some(0);
        }
        if !self.cover(other.base, other.base + (other.words.len() as i64 * 64 - 1)) {
            return None;
        }
        let start = ((other.base - self.base) / 64) as usize;
        let mut fresh = 0;
        for (mine, &theirs) in self.words[start..].iter_mut().zip(&other.words) {
            fresh += (theirs & !*mine).count_ones() as usize;
            *mine |= theirs;
        }
        Some(fresh)
    }

    fn values(&self) -> impl Iterator<Item = i64> + '_ {
        self.words.iter().enumerate().flat_map(move |(w, &bits)| {
            let base = self.base + w as i64 * 64;
            (0..64).filter(move |b| bits & (1u64 << b) != 0).map(move |b| base + b)
        })
    }
}

impl DistinctAcc {
    /// Moves the bitmap's values (all of group 0, counted already) to the owner slots or
    /// `seen_ints`.
    fn spill_dense(&mut self) {
        if let Some(dense) = self.dense.take() {
            if let (Some(lo), Some(hi)) = (dense.values().next(), dense.values().last()) {
                self.cover_owners(lo, hi);
            }
            for v in dense.values() {
                self.see_int(0, v);
            }
        }
    }

    /// Makes `owners` cover `lo..=hi`, or moves its pairs to `seen_ints` for good when the
    /// values span too much.
    fn cover_owners(&mut self, lo: i64, hi: i64) {
        if !self.owners_gone && !DenseSlots::cover(&mut self.owners, lo, hi, DISTINCT_OWNER_SLOTS) {
            self.spill_owners();
        }
    }

    /// Records value `v` in group `g` outside a batch (merging partial states); whether the
    /// pair is new.
    fn see_int(&mut self, g: u32, v: i64) -> bool {
        self.cover_owners(v, v);
        match self.owners.as_mut() {
            Some(owners) => owners::see(owners.slot(v), &mut self.seen_ints, g, v),
            None => self.seen_ints.insert((g, v)),
        }
    }

    fn spill_owners(&mut self) {
        if let Some(owners) = self.owners.take() {
            self.seen_ints.extend(owners::pairs(&owners).filter(|&(_, _, single)| single).map(|(g, v, _)| (g, v)));
        }
        self.owners_gone = true;
    }
}

/// The most values the per-value group slots of a grouped integer DISTINCT span: 2^24 (64
/// MiB of `u32` per partial aggregate), enough for the ids of a 16M-row dimension table.
const DISTINCT_OWNER_SLOTS: usize = 1 << 24;

/// The per-value group slots of a grouped integer DISTINCT ([`DistinctAcc::owners`]). A slot
/// holds `u32::MAX` while its value is unseen, the group while it was seen in one group only,
/// and [`owners::SHARED`] plus the last group once it was seen in several (then `seen_ints`
/// holds each of its pairs).
mod owners {
    use super::{DenseSlots, FastSet};

    pub(super) const SHARED: u32 = 1 << 31;

    /// Records value `v` in group `g`; whether the pair is new.
    #[inline]
    pub(super) fn see(slot: &mut u32, seen: &mut FastSet<(u32, i64)>, g: u32, v: i64) -> bool {
        let s = *slot;
        if s == u32::MAX {
            *slot = g;
            return true;
        }
        if s & !SHARED == g {
            return false;
        }
        if s & SHARED == 0 {
            // A second group: both pairs go to the set from now on.
            seen.insert((s, v));
        }
        *slot = g | SHARED;
        seen.insert((g, v))
    }

    /// Every value's (last) group: `(group, value, seen in that group only)`.
    pub(super) fn pairs(owners: &DenseSlots) -> impl Iterator<Item = (u32, i64, bool)> + '_ {
        owners
            .slots
            .iter()
            .enumerate()
            .filter(|&(_, &s)| s != u32::MAX)
            .map(|(i, &s)| (s & !SHARED, owners.min.wrapping_add(i as i64), s & SHARED == 0))
    }
}

/// The values of an integer-like array (SMALLINT, INTEGER, DATE, BIGINT, TIMESTAMP) as i64,
/// or `None` for other types.
pub(super) fn int_values(array: &dyn Array) -> Option<std::borrow::Cow<'_, [i64]>> {
    fn widen<T: NativeType + Into<i64>>(a: &dyn Array) -> Option<std::borrow::Cow<'_, [i64]>> {
        let a = a.as_any().downcast_ref::<PrimitiveArray<T>>()?;
        Some(a.values().iter().map(|&v| v.into()).collect::<Vec<i64>>().into())
    }
    match DataType::from_arrow(array.data_type())? {
        DataType::BigInt | DataType::Timestamp => {
            Some(array.as_any().downcast_ref::<PrimitiveArray<i64>>()?.values().as_slice().into())
        }
        DataType::Integer | DataType::Date => widen::<i32>(array),
        DataType::SmallInt => widen::<i16>(array),
        _ => None,
    }
}

impl Accumulator for DistinctAcc {
    fn update(&mut self, groups: &[u32], n_groups: usize, input: Option<&dyn Array>) -> Result<()> {
        let input = input.ok_or_else(|| ExecError::Internal("DISTINCT without argument".into()))?;
        let mut fresh_rows = Vec::new();
        let mut fresh_groups = Vec::new();
        if let Some(values) = int_values(input) {
            let validity = input.validity().filter(|v| v.unset_bits() > 0);
            let valid = |row_idx: usize| validity.is_none_or(|b| b.get_bit(row_idx));
            if n_groups == 1 && self.dense.is_some() {
                let fits = match (valid_range(&values, validity), self.dense.as_mut()) {
                    (None, _) => true,
                    (Some((lo, hi)), Some(dense)) => dense.cover(lo, hi),
                    (Some(_), None) => false,
                };
                if !fits {
                    self.spill_dense();
                }
            } else {
                self.spill_dense();
            }
            if let Some(dense) = self.dense.as_mut() {
                for (row_idx, &v) in values.iter().enumerate() {
                    if valid(row_idx) && dense.insert(v) {
                        fresh_rows.push(row_idx as u32);
                        fresh_groups.push(0);
                    }
                }
            } else {
                if n_groups >= (owners::SHARED - 1) as usize {
                    // Group ids would collide with the slots' flag.
                    self.spill_owners();
                } else if let Some((lo, hi)) = valid_range(&values, validity) {
                    self.cover_owners(lo, hi);
                }
                match self.owners.as_mut() {
                    Some(owners) => {
                        for (row_idx, (&v, &g)) in values.iter().zip(groups).enumerate() {
                            // In range: `cover_owners` took this batch's range.
                            if valid(row_idx) && owners::see(owners.slot(v), &mut self.seen_ints, g, v) {
                                fresh_rows.push(row_idx as u32);
                                fresh_groups.push(g);
                            }
                        }
                    }
                    None => {
                        for (row_idx, (&v, &g)) in values.iter().zip(groups).enumerate() {
                            if valid(row_idx) && self.seen_ints.insert((g, v)) {
                                fresh_rows.push(row_idx as u32);
                                fresh_groups.push(g);
                            }
                        }
                    }
                }
            }
        } else {
            let keys = RowKeys::encode(&[input], groups.len())?;
            let mut key = Vec::new();
            for (row_idx, &g) in groups.iter().enumerate() {
                if !input.is_valid(row_idx) {
                    continue;
                }
                key.clear();
                key.extend_from_slice(&g.to_le_bytes());
                key.extend_from_slice(keys.get(row_idx));
                if !self.seen.contains(key.as_slice()) {
                    self.seen.insert(key.as_slice().into());
                    fresh_rows.push(row_idx as u32);
                    fresh_groups.push(g);
                }
            }
        }
        if fresh_rows.len() == groups.len() {
            return self.inner.update(&fresh_groups, n_groups, Some(input));
        }
        let taken = take_array(input, &fresh_rows)?;
        self.inner.update(&fresh_groups, n_groups, Some(taken.as_ref()))
    }

    fn as_any_mut(&mut self) -> &mut dyn std::any::Any {
        self
    }

    /// Only COUNT(DISTINCT) merges ([`mergeable`]): the inner count gets the pairs new here.
    fn merge(&mut self, other: &mut dyn std::any::Any, map: &[u32], n_groups: usize) -> Result<()> {
        let other = same_kind::<DistinctAcc>(other)?;
        let mut fresh = Vec::new();
        // Both bitmaps hold all their values (integers never also fill `seen`).
        if n_groups == 1 && other.seen.is_empty() {
            if let (Some(mine), Some(theirs)) = (self.dense.as_mut(), other.dense.as_ref()) {
                if let Some(n) = mine.union(theirs) {
                    fresh.resize(n, 0);
                    return self.inner.update(&fresh, n_groups, None);
                }
            }
        }
        self.spill_dense();
        other.spill_dense();
        if let Some(theirs) = other.owners.take() {
            // Their values seen in one group; the others are in their `seen_ints`. The range
            // of their values, not of their slots: slots grow past the values (doubling), and
            // two partial states' slack could add up to more than the slots may span.
            if let Some((first, last)) = theirs.used() {
                self.cover_owners(theirs.min.saturating_add(first as i64), theirs.min.saturating_add(last as i64));
            }
            for (g, v, single) in owners::pairs(&theirs) {
                if single && self.see_int(map[g as usize], v) {
                    fresh.push(map[g as usize]);
                }
            }
        }
        for (g, v) in std::mem::take(&mut other.seen_ints) {
            let to = map[g as usize];
            if self.see_int(to, v) {
                fresh.push(to);
            }
        }
        for key in std::mem::take(&mut other.seen) {
            let mut g = [0u8; 4];
            g.copy_from_slice(&key[..4]);
            let to = map[u32::from_le_bytes(g) as usize];
            let mut mapped = key.into_vec();
            mapped[..4].copy_from_slice(&to.to_le_bytes());
            if self.seen.insert(mapped.into()) {
                fresh.push(to);
            }
        }
        self.inner.update(&fresh, n_groups, None)
    }

    fn finish(&mut self, n_groups: usize) -> Result<ArrayRef> {
        self.inner.finish(n_groups)
    }
}

pub(super) fn make_accumulator(agg: &AggregateExpr) -> Box<dyn Accumulator> {
    make_accumulator_for(agg, false)
}

/// The accumulator of `agg`; `ungrouped` when the aggregate has no GROUP BY (one group, so
/// float sums may use the lane kernels).
fn make_accumulator_for(agg: &AggregateExpr, ungrouped: bool) -> Box<dyn Accumulator> {
    let inner: Box<dyn Accumulator> = match agg.func {
        AggFunc::CountStar | AggFunc::Count => Box::new(CountAcc { counts: vec![], of_true: false }),
        AggFunc::Sum | AggFunc::Avg if agg.data_type == DataType::Interval => {
            Box::new(super::accumulate::IntervalSumAcc::new(agg.func == AggFunc::Avg))
        }
        AggFunc::Sum | AggFunc::Avg => Box::new(SumAvgAcc {
            avg: agg.func == AggFunc::Avg,
            out: agg.data_type,
            ints: vec![],
            floats: vec![],
            counts: vec![],
            lanes: ungrouped.then(F64Lanes::default),
        }),
        AggFunc::Min | AggFunc::Max => Box::new(MinMaxAcc::new(agg.func == AggFunc::Min, agg.data_type)),
        AggFunc::StddevSamp | AggFunc::StddevPop | AggFunc::VarSamp | AggFunc::VarPop => {
            Box::new(super::accumulate::VarianceAcc::new(agg.func))
        }
        AggFunc::PercentileCont | AggFunc::PercentileDisc => Box::new(super::accumulate::PercentileAcc::new(
            agg.func == AggFunc::PercentileCont,
            agg.extra.as_ref().and_then(Value::as_f64).unwrap_or(0.5),
            agg.data_type,
        )),
        AggFunc::StringAgg => Box::new(super::accumulate::StringAggAcc::new(match &agg.extra {
            Some(Value::Text(sep)) => sep.clone(),
            _ => String::new(),
        })),
        AggFunc::BoolAnd | AggFunc::BoolOr => Box::new(super::accumulate::BoolAcc::new(agg.func == AggFunc::BoolAnd)),
        AggFunc::Mode => Box::new(super::accumulate::ModeAcc::new(agg.data_type)),
    };
    // DISTINCT does not change MIN and MAX.
    if agg.distinct && !matches!(agg.func, AggFunc::Min | AggFunc::Max) {
        Box::new(DistinctAcc {
            inner,
            dense: Some(DenseInts::default()),
            seen_ints: FastSet::default(),
            owners: None,
            owners_gone: false,
            seen: FastSet::default(),
        })
    } else {
        inner
    }
}

/// The hash-aggregation sink.
pub(super) struct HashAggregate<'a> {
    group_by: &'a [Expr],
    aggregates: &'a [AggregateExpr],
    accumulators: Vec<Box<dyn Accumulator>>,
    /// `Some(i)` for an aggregate answered from aggregate `i`'s accumulator, which holds the
    /// same values ([`shares_input`]): its own accumulator stays empty.
    answered_by: Vec<Option<usize>>,
    /// What each aggregate's accumulator reads: its argument, or the condition of a counted
    /// CASE ([`counted_condition`]); `None` for `COUNT(*)`.
    inputs: Vec<Option<&'a Expr>>,
    groups: GroupTable,
    /// The key values of each group, one vector per key column.
    key_values: Vec<Vec<Value>>,
    n_groups: usize,
    /// In a worker of a parallel pipeline: the input position of each group's first row
    /// (see [`HashAggregate::set_position`]), so the merged output lists groups in the order
    /// the single-threaded run finds them.
    first_pos: Option<Vec<u64>>,
    /// The input position of the next row pushed.
    pos: u64,
}

impl<'a> HashAggregate<'a> {
    pub fn new(group_by: &'a [Expr], aggregates: &'a [AggregateExpr]) -> Result<Self> {
        let grouped = !group_by.is_empty();
        let counted: Vec<Option<&Expr>> = aggregates.iter().map(|a| counted_condition(a, grouped)).collect();
        Ok(HashAggregate {
            group_by,
            aggregates,
            accumulators: aggregates
                .iter()
                .zip(&counted)
                .map(|(a, c)| match c {
                    Some(_) => Box::new(CountAcc { counts: vec![], of_true: true }),
                    None => make_accumulator_for(a, !grouped),
                })
                .collect(),
            inputs: aggregates.iter().zip(&counted).map(|(a, c)| c.or(a.arg.as_ref())).collect(),
            answered_by: aggregates
                .iter()
                .enumerate()
                .map(|(j, later)| aggregates[..j].iter().position(|earlier| shares_input(earlier, later)))
                .collect(),
            groups: GroupTable::new(group_by),
            key_values: vec![Vec::new(); group_by.len()],
            // Without GROUP BY there is exactly one group, even over no rows.
            n_groups: usize::from(group_by.is_empty()),
            first_pos: None,
            pos: 0,
        })
    }

    /// A partial aggregate of a parallel pipeline's worker: it records where each group first
    /// appears, positions being set by [`HashAggregate::set_position`].
    pub fn new_partial(group_by: &'a [Expr], aggregates: &'a [AggregateExpr]) -> Result<Self> {
        let mut agg = HashAggregate::new(group_by, aggregates)?;
        agg.first_pos = Some(vec![0; agg.n_groups]);
        Ok(agg)
    }

    /// The input position of the next row pushed (rows after it count up from it).
    pub fn set_position(&mut self, pos: u64) {
        self.pos = pos;
    }

    /// Adds another worker's partial aggregate of the same plan.
    pub fn merge(&mut self, mut other: HashAggregate<'_>) -> Result<()> {
        let other_pos = other.first_pos.take().unwrap_or_default();
        let mut map: Vec<u32> = vec![u32::MAX; other.n_groups];
        let mut fresh: Vec<usize> = Vec::new();
        self.groups.merge(&other.groups, self.n_groups, &mut map, &mut fresh)?;
        for &g in &fresh {
            for (mine, theirs) in self.key_values.iter_mut().zip(&other.key_values) {
                mine.push(theirs[g].clone());
            }
        }
        self.n_groups += fresh.len();
        if let Some(pos) = &mut self.first_pos {
            pos.resize(self.n_groups, u64::MAX);
            for (g, &to) in map.iter().enumerate() {
                let p = other_pos.get(g).copied().unwrap_or(u64::MAX);
                pos[to as usize] = pos[to as usize].min(p);
            }
        }
        for ((mine, theirs), answered_by) in
            self.accumulators.iter_mut().zip(&mut other.accumulators).zip(&self.answered_by)
        {
            if answered_by.is_none() {
                mine.merge(theirs.as_any_mut(), &map, self.n_groups)?;
            }
        }
        Ok(())
    }

    /// The output: one row per group, keys then aggregates.
    pub fn finish(mut self) -> Result<Vec<Batch>> {
        let mut columns: Vec<ArrayRef> = self
            .group_by
            .iter()
            .zip(&self.key_values)
            .map(|(e, values)| values_to_array(e.data_type(), values))
            .collect();
        let mut results: Vec<Option<ArrayRef>> = vec![None; self.accumulators.len()];
        for j in 0..self.accumulators.len() {
            if self.answered_by[j].is_some() {
                continue;
            }
            let answered: Vec<usize> =
                (j + 1..self.accumulators.len()).filter(|&k| self.answered_by[k] == Some(j)).collect();
            if answered.is_empty() {
                results[j] = Some(self.accumulators[j].finish(self.n_groups)?);
                continue;
            }
            let others: Vec<&AggregateExpr> = answered.iter().map(|&k| &self.aggregates[k]).collect();
            let mut shared = self.accumulators[j].finish_shared(&others, self.n_groups)?.into_iter();
            for k in std::iter::once(j).chain(answered) {
                results[k] = shared.next();
            }
        }
        for result in results {
            columns.push(result.ok_or_else(|| ExecError::Internal("an aggregate without a result".into()))?);
        }
        let batch = Batch { columns, n_rows: self.n_groups };
        match &self.first_pos {
            Some(pos) if self.n_groups > 1 => {
                // Groups in order of first appearance in the input, as one thread finds them.
                let mut order: Vec<u32> = (0..self.n_groups as u32).collect();
                order.sort_unstable_by_key(|&g| pos[g as usize]);
                Ok(vec![crate::expr::take_rows(&batch, &order)?])
            }
            _ => Ok(vec![batch]),
        }
    }
}

pub(super) fn is_int_like(t: DataType) -> bool {
    matches!(t, DataType::SmallInt | DataType::Integer | DataType::Date | DataType::BigInt | DataType::Timestamp)
}

impl HashAggregate<'_> {
    /// The group id of every row of `keys` (the evaluated key columns), creating groups as
    /// they first appear.
    fn group_ids(&mut self, keys: &[ArrayRef], n_rows: usize) -> Result<Vec<u32>> {
        let mut ids = Vec::with_capacity(n_rows);
        let mut new_rows = Vec::new();
        let mut n_groups = self.n_groups as u32;
        self.groups.group_ids(keys, n_rows, &mut n_groups, &mut ids, &mut new_rows)?;
        self.n_groups = n_groups as usize;
        if let Some(pos) = &mut self.first_pos {
            pos.extend(new_rows.iter().map(|&r| self.pos + r as u64));
        }
        self.pos += n_rows as u64;
        for row_idx in new_rows {
            for (col, values) in keys.iter().zip(&mut self.key_values) {
                values.push(Value::from_array(col.as_ref(), row_idx));
            }
        }
        Ok(ids)
    }
}

impl Sink for HashAggregate<'_> {
    fn push(&mut self, batch: Batch) -> Result<Flow> {
        let keys = self.group_by.iter().map(|e| e.evaluate(&batch)).collect::<Result<Vec<_>>>()?;
        let group_ids = self.group_ids(&keys, batch.n_rows)?;
        for (((agg, acc), answered_by), arg) in
            self.aggregates.iter().zip(&mut self.accumulators).zip(&self.answered_by).zip(&self.inputs)
        {
            if answered_by.is_some() {
                continue;
            }
            let input = arg.map(|a| a.evaluate(&batch)).transpose()?;
            match &agg.filter {
                None => acc.update(&group_ids, self.n_groups, input.as_deref())?,
                Some(f) => {
                    let mask = f.evaluate(&batch)?;
                    let bits =
                        crate::kernels::boolean::true_mask(crate::kernels::compare::downcast_bool(mask.as_ref())?);
                    let rows: Vec<u32> = (0..batch.n_rows as u32).filter(|&r| bits.get_bit(r as usize)).collect();
                    let groups: Vec<u32> = rows.iter().map(|&r| group_ids[r as usize]).collect();
                    let input = input.map(|a| take_array(a.as_ref(), &rows)).transpose()?;
                    acc.update(&groups, self.n_groups, input.as_deref())?;
                }
            }
        }
        Ok(Flow::Continue)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Float64Array, Int32Array};

    fn acc(func: AggFunc, dt: DataType, ungrouped: bool) -> Box<dyn Accumulator> {
        let arg = Expr::Literal { value: Value::Null, data_type: dt };
        make_accumulator_for(&AggregateExpr::new(func, Some(arg), false, dt), ungrouped)
    }

    /// Typed MIN/MAX per group (dates as i64 slots, NULLs skipped, an all-NULL group NULL),
    /// for one group (the SIMD reduction) and several, and across a merge.
    #[test]
    fn typed_min_max_per_group() {
        let dates = Int32Array::from([Some(5), None, Some(-3), Some(9), None, Some(7)]).to(DataType::Date.to_arrow());
        for (func, want) in [(AggFunc::Min, [Some(-3), Some(7), None]), (AggFunc::Max, [Some(9), Some(7), None])] {
            let mut a = acc(func, DataType::Date, false);
            a.update(&[0, 0, 0, 0, 2, 1], 3, Some(&dates)).unwrap();
            let want = Int32Array::from(want).to(DataType::Date.to_arrow());
            assert_eq!(a.finish(3).unwrap().as_ref(), &want as &dyn Array);
            let mut one = acc(func, DataType::Date, true);
            one.update(&[0; 6], 1, Some(&dates.clone().sliced(1, 5))).unwrap();
            let mut other = acc(func, DataType::Date, true);
            other.update(&[0], 1, Some(&dates.clone().sliced(0, 1))).unwrap();
            one.merge(other.as_any_mut(), &[0], 1).unwrap();
            let got = one.finish(1).unwrap();
            assert_eq!(Value::from_array(got.as_ref(), 0), Value::Date(if func == AggFunc::Min { -3 } else { 9 }));
        }
    }

    /// Float MIN keeps the first of -0 and 0 and skips NaN; MAX is NaN when one is there.
    #[test]
    fn typed_float_min_max_order() {
        let v = Float64Array::from([Some(0.0), Some(f64::NAN), None, Some(-0.0), Some(2.0)]);
        for ungrouped in [true, false] {
            let mut min = acc(AggFunc::Min, DataType::Double, ungrouped);
            min.update(&[0; 5], 1, Some(&v)).unwrap();
            let got = min.finish(1).unwrap();
            assert_eq!(Value::from_array(got.as_ref(), 0).as_f64().map(f64::to_bits), Some(0.0f64.to_bits()));
            let mut max = acc(AggFunc::Max, DataType::Double, ungrouped);
            max.update(&[0; 5], 1, Some(&v)).unwrap();
            let got = max.finish(1).unwrap();
            assert!(Value::from_array(got.as_ref(), 0).as_f64().is_some_and(f64::is_nan));
        }
    }

    /// The lane sum without GROUP BY does not depend on how rows are cut into batches, and
    /// integer sums stay exact past i64 until the final check.
    #[test]
    fn ungrouped_sums() {
        let values: Vec<f64> = (0..37).map(|i| 0.1 * i as f64 + 1e-9 * (i * i) as f64).collect();
        let whole = {
            let mut a = acc(AggFunc::Sum, DataType::Double, true);
            a.update(&[0; 37], 1, Some(&Float64Array::from_slice(&values))).unwrap();
            a.finish(1).unwrap()
        };
        for cut in [1, 2, 3, 5, 36] {
            let mut a = acc(AggFunc::Sum, DataType::Double, true);
            for part in values.chunks(cut) {
                a.update(&vec![0; part.len()], 1, Some(&Float64Array::from_slice(part))).unwrap();
            }
            assert_eq!(a.finish(1).unwrap(), whole, "batches of {cut}");
        }
        let mut a = acc(AggFunc::Sum, DataType::BigInt, true);
        let big = PrimitiveArray::<i64>::from_slice([i64::MAX, i64::MAX, -i64::MAX]);
        a.update(&[0; 3], 1, Some(&big)).unwrap();
        assert_eq!(Value::from_array(a.finish(1).unwrap().as_ref(), 0), Value::BigInt(i64::MAX));
        let mut a = acc(AggFunc::Sum, DataType::BigInt, true);
        a.update(&[0; 2], 1, Some(&big.sliced(0, 2))).unwrap();
        assert_eq!(a.finish(1).unwrap_err(), ExecError::Overflow("bigint"));
    }

    /// `COUNT(DISTINCT v)` over a BIGINT column 0.
    fn count_distinct_v() -> AggregateExpr {
        let v = Expr::Column { idx: 0, name: "v".into(), data_type: DataType::BigInt };
        AggregateExpr::new(AggFunc::Count, Some(v), true, DataType::BigInt)
    }

    /// A seeded generator of numbers below its argument.
    fn lcg(mut seed: u64) -> impl FnMut(u64) -> u64 {
        move |m| {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (seed >> 33) % m
        }
    }

    #[test]
    fn grouped_count_distinct_agrees_with_a_set_across_batches() {
        use arrow::array::Int64Array;
        let agg = count_distinct_v();
        // Values mostly in one group each, some in several, NULLs, and a late value far away
        // (the owner slots spill, counting goes on from the set).
        let mut next = lcg(7);
        let mut acc = make_accumulator(&agg);
        let mut reference: std::collections::HashSet<(u32, i64)> = Default::default();
        let n_groups = 5;
        for batch in 0..40 {
            let mut values = Vec::new();
            let mut groups = Vec::new();
            for _ in 0..37 {
                let v = next(300) as i64 - 100;
                let g = if next(10) == 0 { next(5) as u32 } else { (v.rem_euclid(5)) as u32 };
                let v = if batch == 30 && g == 2 { v + (1 << 40) } else { v };
                let value = if next(17) == 0 { None } else { Some(v) };
                if let Some(v) = value {
                    reference.insert((g, v));
                }
                values.push(value);
                groups.push(g);
            }
            let input = Int64Array::from(values);
            acc.update(&groups, n_groups, Some(&input)).unwrap();
        }
        let counts = acc.finish(n_groups).unwrap();
        let counts = counts.as_any().downcast_ref::<Int64Array>().unwrap();
        for g in 0..n_groups as u32 {
            let expected = reference.iter().filter(|(rg, _)| *rg == g).count() as i64;
            assert_eq!(counts.value(g as usize), expected, "group {g}");
        }
    }

    #[test]
    fn grouped_count_distinct_merges_partial_states() {
        use arrow::array::Int64Array;
        let agg = count_distinct_v();
        let mut next = lcg(11);
        let n_groups = 4;
        // Partial b numbers groups in reverse: its group g is the merged group 3 - g.
        let map: Vec<u32> = (0..n_groups as u32).rev().collect();
        // far: b's values reach past the owner slots' span, so b (or, after the merge, a)
        // keeps its pairs in the set.
        for far in [false, true] {
            let mut a = make_accumulator(&agg);
            let mut b = make_accumulator(&agg);
            let mut reference: std::collections::HashSet<(u32, i64)> = Default::default();
            // A first batch of group 0 alone (one group so far: a bitmap, spilled later).
            let first: Vec<i64> = (0..30).map(|_| next(200) as i64).collect();
            for &v in &first {
                reference.insert((0, v));
            }
            let input = Int64Array::from_slice(&first);
            a.update(&vec![0; first.len()], 1, Some(&input)).unwrap();
            b.update(&vec![0; first.len()], 1, Some(&input)).unwrap();
            for &v in &first {
                reference.insert((3, v));
            }
            let mut feed =
                |acc: &mut Box<dyn Accumulator>, remap: bool, shift: i64, next: &mut dyn FnMut(u64) -> u64| {
                    let mut values = Vec::new();
                    let mut groups = Vec::new();
                    for _ in 0..50 {
                        let v = next(200) as i64 + shift;
                        // Mostly one group per value, sometimes another.
                        let g = if next(8) == 0 { next(4) as u32 } else { (v.rem_euclid(4)) as u32 };
                        values.push(Some(v));
                        groups.push(g);
                        reference.insert((if remap { 3 - g } else { g }, v));
                    }
                    acc.update(&groups, n_groups, Some(&Int64Array::from(values))).unwrap();
                };
            for _ in 0..10 {
                feed(&mut a, false, 0, &mut next);
                feed(&mut b, true, 100, &mut next);
            }
            if far {
                feed(&mut b, true, DISTINCT_OWNER_SLOTS as i64 * 2, &mut next);
            }
            a.merge(b.as_any_mut(), &map, n_groups).unwrap();
            // Rows after the merge (the unmatched build rows of a parallel join).
            for _ in 0..5 {
                feed(&mut a, false, 50, &mut next);
            }
            let counts = a.finish(n_groups).unwrap();
            let counts = counts.as_any().downcast_ref::<Int64Array>().unwrap();
            for g in 0..n_groups as u32 {
                let expected = reference.iter().filter(|(rg, _)| *rg == g).count() as i64;
                assert_eq!(counts.value(g as usize), expected, "group {g}, far {far}");
            }
        }
    }

    /// Two partial states whose owner slots grew past their values, one downwards and one
    /// upwards, more than the slots may span together: the merge covers the values only and
    /// keeps the slots (no pair moves to the hash set).
    #[test]
    fn merging_owner_slots_ignores_their_slack() {
        use arrow::array::Int64Array;
        let agg = count_distinct_v();
        let span = DISTINCT_OWNER_SLOTS as i64 / 2 + 1000;
        let feed = |acc: &mut Box<dyn Accumulator>, values: &[i64]| {
            let groups: Vec<u32> = values.iter().map(|v| v.rem_euclid(2) as u32).collect();
            acc.update(&groups, 2, Some(&Int64Array::from_slice(values))).unwrap();
        };
        let (mut a, mut b) = (make_accumulator(&agg), make_accumulator(&agg));
        feed(&mut a, &[0, span]);
        feed(&mut a, &[-1]);
        feed(&mut b, &[0, span]);
        feed(&mut b, &[span + 1]);
        a.merge(b.as_any_mut(), &[0, 1], 2).unwrap();
        let merged = a.as_any_mut().downcast_mut::<DistinctAcc>().unwrap();
        assert!(merged.owners.is_some() && merged.seen_ints.is_empty(), "the owner slots spilled");
        let counts = a.finish(2).unwrap();
        let counts = counts.as_any().downcast_ref::<Int64Array>().unwrap();
        // Group 0: 0, span (even: 8389608); group 1: -1, span + 1.
        assert_eq!((counts.value(0), counts.value(1)), (2, 2));
    }

    #[test]
    fn owner_slots_count_each_pair_once() {
        let mut slot = u32::MAX;
        let mut seen = FastSet::default();
        assert!(owners::see(&mut slot, &mut seen, 3, 9));
        assert!(!owners::see(&mut slot, &mut seen, 3, 9));
        assert!(seen.is_empty(), "one group: no hashing");
        assert!(owners::see(&mut slot, &mut seen, 5, 9));
        assert_eq!(seen.len(), 2);
        assert!(!owners::see(&mut slot, &mut seen, 3, 9));
        assert!(!owners::see(&mut slot, &mut seen, 5, 9));
        assert!(owners::see(&mut slot, &mut seen, 0, 9));
        assert!(!owners::see(&mut slot, &mut seen, 0, 9));
        assert_eq!(seen.len(), 3);
    }

    #[test]
    fn dense_ints_cover_insert_union() {
        let mut a = DenseInts::default();
        assert!(a.cover(-70, 5));
        assert_eq!(a.base, -128);
        assert!(a.insert(-70) && a.insert(5) && !a.insert(5));
        // Widening below keeps the values.
        assert!(a.cover(-1000, 200));
        assert!(!a.insert(-70) && a.insert(-1000) && a.insert(200));
        assert_eq!(a.values().collect::<Vec<_>>(), [-1000, -70, 5, 200]);
        let mut b = DenseInts::default();
        assert!(b.cover(150, 5000));
        assert!(b.insert(200) && b.insert(4999));
        assert_eq!(a.union(&b), Some(1));
        assert_eq!(a.values().collect::<Vec<_>>(), [-1000, -70, 5, 200, 4999]);
        assert_eq!(a.union(&DenseInts::default()), Some(0));
        // A range past the cap leaves the set unchanged.
        assert!(!a.cover(0, DENSE_MAX_WORDS * 64 + 1));
        assert!(!a.cover(i64::MIN, i64::MAX));
        assert_eq!(a.values().count(), 5);
        let mut far = DenseInts::default();
        assert!(far.cover(i64::MAX - 10, i64::MAX));
        assert!(far.insert(i64::MAX));
        assert_eq!(a.union(&far), None);
        assert_eq!(far.values().collect::<Vec<_>>(), [i64::MAX]);
    }
}
