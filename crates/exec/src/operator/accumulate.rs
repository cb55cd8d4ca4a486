//! Accumulators for the statistical and collecting aggregates: variance and standard
//! deviation (Welford's method), percentiles, string_agg, bool_and / bool_or, and SUM / AVG
//! of intervals.

use super::aggregate::{same_kind, Accumulator, AggregateExpr};
use super::percentile::KeyChunks;
use crate::error::{ExecError, Result};
use crate::kernels::cast::cast_value;
use crate::kernels::compare::cmp_f64;
use arrow::array::Array;
use storage::value::values_to_array;
use storage::{ArrayRef, DataType, Value};

use super::AggFunc;

fn number(input: &dyn Array, row_idx: usize) -> Option<f64> {
    if input.is_null(row_idx) {
        return None;
    }
    Value::from_array(input, row_idx).as_f64()
}

/// SUM and AVG of intervals, as PostgreSQL computes them: months, days and microseconds are
/// summed separately, and AVG divides that sum by the count like `interval / number`.
pub(super) struct IntervalSumAcc {
    avg: bool,
    sums: Vec<(i64, i64, i128)>,
    counts: Vec<i64>,
}

impl IntervalSumAcc {
    pub fn new(avg: bool) -> IntervalSumAcc {
        IntervalSumAcc { avg, sums: vec![], counts: vec![] }
    }
}

impl Accumulator for IntervalSumAcc {
    fn update(&mut self, groups: &[u32], n_groups: usize, input: Option<&dyn Array>) -> Result<()> {
        self.sums.resize(n_groups, (0, 0, 0));
        self.counts.resize(n_groups, 0);
        let input = input.ok_or_else(|| ExecError::Internal("SUM without argument".into()))?;
        for (row_idx, g) in groups.iter().enumerate() {
            if let Value::Interval { months, days, micros } = Value::from_array(input, row_idx) {
                let (m, d, u) = &mut self.sums[*g as usize];
                *m += months as i64;
                *d += days as i64;
                *u += micros as i128;
                self.counts[*g as usize] += 1;
            }
        }
        Ok(())
    }

    fn as_any_mut(&mut self) -> &mut dyn std::any::Any {
        self
    }

    fn merge(&mut self, other: &mut dyn std::any::Any, map: &[u32], n_groups: usize) -> Result<()> {
        let other = same_kind::<IntervalSumAcc>(other)?;
        self.sums.resize(n_groups, (0, 0, 0));
        self.counts.resize(n_groups, 0);
        for (g, (&(m, d, u), &n)) in other.sums.iter().zip(&other.counts).enumerate() {
            let to = map[g] as usize;
            let (sm, sd, su) = &mut self.sums[to];
            *sm += m;
            *sd += d;
            *su += u;
            self.counts[to] += n;
        }
        Ok(())
    }

    fn finish(&mut self, n_groups: usize) -> Result<ArrayRef> {
        self.sums.resize(n_groups, (0, 0, 0));
        self.counts.resize(n_groups, 0);
        let overflow = || ExecError::Overflow("interval");
        let mut values = Vec::with_capacity(n_groups);
        for (&(m, d, u), &n) in self.sums.iter().zip(&self.counts) {
            if n == 0 {
                values.push(Value::Null);
                continue;
            }
            let sum = crate::time::Interval {
                months: i32::try_from(m).map_err(|_| overflow())?,
                days: i32::try_from(d).map_err(|_| overflow())?,
                micros: i64::try_from(u).map_err(|_| overflow())?,
            };
            let iv = if self.avg { crate::time::interval_scale(sum, n as f64, true)? } else { sum };
            values.push(Value::Interval { months: iv.months, days: iv.days, micros: iv.micros });
        }
        Ok(values_to_array(DataType::Interval, &values))
    }
}

/// Variance and standard deviation, sample or population, by Welford's online method.
pub(super) struct VarianceAcc {
    func: AggFunc,
    n: Vec<u64>,
    mean: Vec<f64>,
    m2: Vec<f64>,
}

impl VarianceAcc {
    pub fn new(func: AggFunc) -> VarianceAcc {
        VarianceAcc { func, n: vec![], mean: vec![], m2: vec![] }
    }

    fn resize(&mut self, n_groups: usize) {
        self.n.resize(n_groups, 0);
        self.mean.resize(n_groups, 0.0);
        self.m2.resize(n_groups, 0.0);
    }
}

impl Accumulator for VarianceAcc {
    fn update(&mut self, groups: &[u32], n_groups: usize, input: Option<&dyn Array>) -> Result<()> {
        self.resize(n_groups);
        let input = input.ok_or_else(|| ExecError::Internal("variance without argument".into()))?;
        for (row_idx, g) in groups.iter().enumerate() {
            if let Some(x) = number(input, row_idx) {
                let g = *g as usize;
                self.n[g] += 1;
                let delta = x - self.mean[g];
                self.mean[g] += delta / self.n[g] as f64;
                self.m2[g] += delta * (x - self.mean[g]);
            }
        }
        Ok(())
    }

    fn as_any_mut(&mut self) -> &mut dyn std::any::Any {
        self
    }

    /// Chan et al.'s pairwise combination of two (count, mean, M2) states.
    fn merge(&mut self, other: &mut dyn std::any::Any, map: &[u32], n_groups: usize) -> Result<()> {
        let other = same_kind::<VarianceAcc>(other)?;
        self.resize(n_groups);
        for (g, &to) in map.iter().enumerate().take(other.n.len()) {
            let (nb, to) = (other.n[g], to as usize);
            if nb == 0 {
                continue;
            }
            let na = self.n[to];
            let n = na + nb;
            let delta = other.mean[g] - self.mean[to];
            self.mean[to] += delta * nb as f64 / n as f64;
            self.m2[to] += other.m2[g] + delta * delta * (na as f64) * (nb as f64) / n as f64;
            self.n[to] = n;
        }
        Ok(())
    }

    fn finish(&mut self, n_groups: usize) -> Result<ArrayRef> {
        self.resize(n_groups);
        let values: Vec<Value> = (0..n_groups)
            .map(|g| {
                let n = self.n[g];
                let sample = matches!(self.func, AggFunc::StddevSamp | AggFunc::VarSamp);
                let denom = if sample { n.saturating_sub(1) } else { n };
                if denom == 0 {
                    return Value::Null;
                }
                let var = (self.m2[g] / denom as f64).max(0.0);
                Value::Double(if matches!(self.func, AggFunc::StddevSamp | AggFunc::StddevPop) {
                    var.sqrt()
                } else {
                    var
                })
            })
            .collect();
        Ok(values_to_array(DataType::Double, &values))
    }
}

/// percentile_cont (linear interpolation) and percentile_disc (first value whose cumulative
/// distribution reaches the fraction), over the non-NULL values of each group.
/// percentile_cont keeps each value as an order key ([`KeyChunks`]) and selects the one or
/// two it needs instead of sorting each group.
pub(super) struct PercentileAcc {
    continuous: bool,
    fraction: f64,
    out: DataType,
    values: Vec<Vec<Value>>,
    /// percentile_cont's values per group, as [`order_key`]s.
    numbers: Vec<KeyChunks>,
}

impl PercentileAcc {
    pub fn new(continuous: bool, fraction: f64, out: DataType) -> PercentileAcc {
        PercentileAcc { continuous, fraction, out, values: vec![], numbers: vec![] }
    }
}

/// Calls `f(row_idx, x)` for each valid row of a numeric array, as f64.
fn each_f64(input: &dyn Array, mut f: impl FnMut(usize, f64)) -> Result<()> {
    fn walk<T: arrow::types::NativeType>(
        input: &dyn Array,
        conv: impl Fn(T) -> f64,
        f: &mut impl FnMut(usize, f64),
    ) -> Result<()> {
        let a = crate::kernels::as_prim::<T>(input)?;
        let validity = a.validity().filter(|v| v.unset_bits() > 0);
        for (row_idx, &v) in a.values().iter().enumerate() {
            if validity.is_none_or(|b| b.get_bit(row_idx)) {
                f(row_idx, conv(v));
            }
        }
        Ok(())
    }
    match DataType::from_arrow(input.data_type()) {
        Some(DataType::Double) => walk::<f64>(input, |v| v, &mut f),
        Some(DataType::Real) => walk::<f32>(input, |v| v as f64, &mut f),
        Some(DataType::BigInt) => walk::<i64>(input, |v| v as f64, &mut f),
        Some(DataType::Integer) => walk::<i32>(input, |v| v as f64, &mut f),
        Some(DataType::SmallInt) => walk::<i16>(input, |v| v as f64, &mut f),
        Some(DataType::Null) => Ok(()),
        _ => {
            for row_idx in 0..input.len() {
                if let Some(x) = number(input, row_idx) {
                    f(row_idx, x);
                }
            }
            Ok(())
        }
    }
}

/// A key whose unsigned integer order is SQL's float order (see `cmp_f64`): -0 and 0 are
/// one key, every NaN is one key above infinity. Selecting over these keys compares integers
/// instead of calling a float comparator.
#[inline]
pub(super) fn order_key(x: f64) -> u64 {
    let x = if x.is_nan() {
        f64::NAN
    } else if x == 0.0 {
        0.0
    } else {
        x
    };
    let bits = x.to_bits();
    if bits >> 63 == 1 {
        !bits
    } else {
        bits | (1 << 63)
    }
}

/// The float of an [`order_key`].
#[inline]
fn from_order_key(k: u64) -> f64 {
    f64::from_bits(if k >> 63 == 1 { k & !(1 << 63) } else { !k })
}

/// percentile_cont of `keys` ([`order_key`]s, not empty) at each of `fractions`: linear
/// interpolation between the values at the fraction's position in SQL float order. All the
/// ranks are selected together.
fn percentile_cont(keys: &KeyChunks, fractions: &[f64]) -> Vec<f64> {
    let last = keys.len() - 1;
    let positions: Vec<(f64, usize, usize)> = fractions
        .iter()
        .map(|f| {
            let pos = f * last as f64;
            (pos, pos.floor() as usize, (pos.ceil() as usize).min(last))
        })
        .collect();
    let ranks: Vec<usize> = positions.iter().flat_map(|&(_, lo, hi)| [lo, hi]).collect();
    let found = keys.select(&ranks);
    positions
        .iter()
        .zip(found.chunks_exact(2))
        .map(|(&(pos, lo, hi), pair)| {
            let (lo_v, hi_v) = (from_order_key(pair[0]), from_order_key(pair[1]));
            if hi == lo {
                lo_v
            } else {
                lo_v + (hi_v - lo_v) * (pos - lo as f64)
            }
        })
        .collect()
}

/// Below this many values in all, percentile_cont's groups are selected on this thread.
const PARALLEL_SELECT_MIN: usize = 1 << 20;

/// percentile_cont at each of `fractions` (the outer vector) of each group (`None` for no
/// values). Groups are read only, so with many values they are shared out to
/// `exec::threads()` scoped threads, group by group.
fn percentiles_cont(groups: &[KeyChunks], fractions: &[f64]) -> Vec<Vec<Option<f64>>> {
    let per_group = each_group(groups, |keys| (keys.len() > 0).then(|| percentile_cont(keys, fractions)));
    (0..fractions.len()).map(|f| per_group.iter().map(|g| g.as_ref().map(|xs| xs[f])).collect()).collect()
}

/// `one` of each group, in group order; on `exec::threads()` scoped threads taking groups
/// one at a time when the groups hold [`PARALLEL_SELECT_MIN`] values in all.
fn each_group<R: Send + Clone>(groups: &[KeyChunks], one: impl Fn(&KeyChunks) -> Option<R> + Sync) -> Vec<Option<R>> {
    let total: usize = groups.iter().map(KeyChunks::len).sum();
    let workers = crate::threads().min(groups.len());
    if workers < 2 || total < PARALLEL_SELECT_MIN {
        return groups.iter().map(one).collect();
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut answers = vec![None; groups.len()];
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                s.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let g = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(keys) = groups.get(g) else { break };
                        mine.push((g, one(keys)));
                    }
                    mine
                })
            })
            .collect();
        for handle in handles {
            // A worker's panic is the query's, as it would be on this thread.
            let found = handle.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            for (g, x) in found {
                answers[g] = x;
            }
        }
    });
    answers
}

impl Accumulator for PercentileAcc {
    fn update(&mut self, groups: &[u32], n_groups: usize, input: Option<&dyn Array>) -> Result<()> {
        let input = input.ok_or_else(|| ExecError::Internal("percentile without argument".into()))?;
        if self.continuous {
            self.numbers.resize_with(n_groups, KeyChunks::default);
            let numbers = &mut self.numbers;
            return each_f64(input, |row_idx, x| numbers[groups[row_idx] as usize].push(order_key(x)));
        }
        self.values.resize_with(n_groups, Vec::new);
        for (row_idx, g) in groups.iter().enumerate() {
            if input.is_valid(row_idx) {
                self.values[*g as usize].push(Value::from_array(input, row_idx));
            }
        }
        Ok(())
    }

    fn as_any_mut(&mut self) -> &mut dyn std::any::Any {
        self
    }

    fn merge(&mut self, other: &mut dyn std::any::Any, map: &[u32], n_groups: usize) -> Result<()> {
        let other = same_kind::<PercentileAcc>(other)?;
        self.numbers.resize_with(n_groups, KeyChunks::default);
        self.values.resize_with(n_groups, Vec::new);
        for (g, xs) in std::mem::take(&mut other.numbers).into_iter().enumerate() {
            self.numbers[map[g] as usize].append(xs);
        }
        for (g, vs) in std::mem::take(&mut other.values).into_iter().enumerate() {
            self.values[map[g] as usize].extend(vs);
        }
        Ok(())
    }

    fn finish(&mut self, n_groups: usize) -> Result<ArrayRef> {
        let mut columns = self.finish_shared(&[], n_groups)?;
        columns.pop().ok_or_else(|| ExecError::Internal("percentile without a result".into()))
    }

    fn finish_shared(&mut self, others: &[&AggregateExpr], n_groups: usize) -> Result<Vec<ArrayRef>> {
        let fractions: Vec<f64> = std::iter::once(self.fraction)
            .chain(others.iter().map(|a| a.extra.as_ref().and_then(Value::as_f64).unwrap_or(0.5)))
            .collect();
        if self.continuous {
            self.numbers.resize_with(n_groups, KeyChunks::default);
            return Ok(percentiles_cont(&self.numbers, &fractions)
                .into_iter()
                .map(|answers| {
                    let values: Vec<Value> =
                        answers.into_iter().map(|x| x.map_or(Value::Null, Value::Double)).collect();
                    values_to_array(self.out, &values)
                })
                .collect());
        }
        self.values.resize_with(n_groups, Vec::new);
        let mut out = vec![Vec::with_capacity(n_groups); fractions.len()];
        for vals in &mut self.values {
            vals.retain(|v| !v.is_null());
            vals.sort_by(|a, b| match (a.as_f64(), b.as_f64()) {
                (Some(x), Some(y)) => cmp_f64(x, y),
                _ => a.total_cmp(b),
            });
            for (fraction, out) in fractions.iter().zip(&mut out) {
                if vals.is_empty() {
                    out.push(Value::Null);
                    continue;
                }
                let k = ((fraction * vals.len() as f64).ceil() as usize).clamp(1, vals.len());
                out.push(cast_value(&vals[k - 1], self.out)?);
            }
        }
        Ok(out.iter().map(|values| values_to_array(self.out, values)).collect())
    }
}

/// string_agg: the non-NULL values of each group joined by a separator, in input order.
pub(super) struct StringAggAcc {
    separator: String,
    parts: Vec<Option<String>>,
}

impl StringAggAcc {
    pub fn new(separator: String) -> StringAggAcc {
        StringAggAcc { separator, parts: vec![] }
    }
}

impl Accumulator for StringAggAcc {
    fn update(&mut self, groups: &[u32], n_groups: usize, input: Option<&dyn Array>) -> Result<()> {
        self.parts.resize(n_groups, None);
        let input = input.ok_or_else(|| ExecError::Internal("string_agg without argument".into()))?;
        for (row_idx, g) in groups.iter().enumerate() {
            if let Value::Text(s) = Value::from_array(input, row_idx) {
                match &mut self.parts[*g as usize] {
                    Some(acc) => {
                        acc.push_str(&self.separator);
                        acc.push_str(&s);
                    }
                    slot => *slot = Some(s),
                }
            }
        }
        Ok(())
    }

    fn as_any_mut(&mut self) -> &mut dyn std::any::Any {
        self
    }

    fn finish(&mut self, n_groups: usize) -> Result<ArrayRef> {
        self.parts.resize(n_groups, None);
        let values: Vec<Value> = self.parts.iter().map(|p| p.clone().map_or(Value::Null, Value::Text)).collect();
        Ok(values_to_array(DataType::Text, &values))
    }
}

/// mode: per group, each distinct non-NULL value (by its row key) with its count.
pub(super) struct ModeAcc {
    out: DataType,
    counts: Vec<crate::row_key::FastMap<Vec<u8>, (u64, Value)>>,
}

impl ModeAcc {
    pub fn new(out: DataType) -> ModeAcc {
        ModeAcc { out, counts: vec![] }
    }
}

impl Accumulator for ModeAcc {
    fn update(&mut self, groups: &[u32], n_groups: usize, input: Option<&dyn Array>) -> Result<()> {
        self.counts.resize_with(n_groups, Default::default);
        let input = input.ok_or_else(|| ExecError::Internal("mode without argument".into()))?;
        let keys = crate::row_key::RowKeys::encode(&[input], input.len())?;
        for (row_idx, g) in groups.iter().enumerate() {
            if input.is_null(row_idx) {
                continue;
            }
            let key = keys.get(row_idx);
            let counts = &mut self.counts[*g as usize];
            match counts.get_mut(key) {
                Some((n, _)) => *n += 1,
                None => {
                    counts.insert(key.to_vec(), (1, Value::from_array(input, row_idx)));
                }
            }
        }
        Ok(())
    }

    fn as_any_mut(&mut self) -> &mut dyn std::any::Any {
        self
    }

    fn merge(&mut self, other: &mut dyn std::any::Any, map: &[u32], n_groups: usize) -> Result<()> {
        let other = same_kind::<ModeAcc>(other)?;
        self.counts.resize_with(n_groups, Default::default);
        for (g, theirs) in std::mem::take(&mut other.counts).into_iter().enumerate() {
            let mine = &mut self.counts[map[g] as usize];
            for (key, (n, v)) in theirs {
                mine.entry(key).or_insert((0, v)).0 += n;
            }
        }
        Ok(())
    }

    fn finish(&mut self, n_groups: usize) -> Result<ArrayRef> {
        self.counts.resize_with(n_groups, Default::default);
        let values: Vec<Value> = self
            .counts
            .iter()
            .map(|counts| {
                counts
                    .values()
                    .max_by(|(n1, v1), (n2, v2)| n1.cmp(n2).then_with(|| v2.total_cmp(v1)))
                    .map_or(Value::Null, |(_, v)| v.clone())
            })
            .collect();
        Ok(values_to_array(self.out, &values))
    }
}

/// bool_and / bool_or over the non-NULL values.
pub(super) struct BoolAcc {
    is_and: bool,
    state: Vec<Option<bool>>,
}

impl BoolAcc {
    pub fn new(is_and: bool) -> BoolAcc {
        BoolAcc { is_and, state: vec![] }
    }
}

impl Accumulator for BoolAcc {
    fn update(&mut self, groups: &[u32], n_groups: usize, input: Option<&dyn Array>) -> Result<()> {
        self.state.resize(n_groups, None);
        let input = input.ok_or_else(|| ExecError::Internal("bool_and without argument".into()))?;
        for (row_idx, g) in groups.iter().enumerate() {
            if let Value::Boolean(b) = Value::from_array(input, row_idx) {
                let slot = &mut self.state[*g as usize];
                *slot = Some(match *slot {
                    None => b,
                    Some(acc) if self.is_and => acc && b,
                    Some(acc) => acc || b,
                });
            }
        }
        Ok(())
    }

    fn as_any_mut(&mut self) -> &mut dyn std::any::Any {
        self
    }

    fn merge(&mut self, other: &mut dyn std::any::Any, map: &[u32], n_groups: usize) -> Result<()> {
        let other = same_kind::<BoolAcc>(other)?;
        self.state.resize(n_groups, None);
        for (g, s) in other.state.iter().enumerate() {
            let slot = &mut self.state[map[g] as usize];
            *slot = match (*slot, *s) {
                (None, x) | (x, None) => x,
                (Some(a), Some(b)) => Some(if self.is_and { a && b } else { a || b }),
            };
        }
        Ok(())
    }

    fn finish(&mut self, n_groups: usize) -> Result<ArrayRef> {
        self.state.resize(n_groups, None);
        let values: Vec<Value> = self.state.iter().map(|s| s.map_or(Value::Null, Value::Boolean)).collect();
        Ok(values_to_array(DataType::Boolean, &values))
    }
}

#[cfg(test)]
mod order_key_tests {
    use super::*;

    #[test]
    fn groups_select_alike_on_one_thread_and_on_several() {
        // More values than PARALLEL_SELECT_MIN, over groups of different sizes and an empty one.
        let mut groups: Vec<KeyChunks> = (0..5).map(|_| KeyChunks::default()).collect();
        let mut state = 3u64;
        for i in 0..(PARALLEL_SELECT_MIN + 5000) {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let g = [0, 0, 0, 1, 3][i % 5];
            groups[g].push(order_key((state >> 40) as f64 / 8.0 - 1000.0));
        }
        let fractions = [0.0, 0.5, 0.99, 1.0];
        let serial = {
            let _one = crate::ThreadsGuard::set(Some(1));
            percentiles_cont(&groups, &fractions)
        };
        let parallel = {
            let _three = crate::ThreadsGuard::set(Some(3));
            percentiles_cont(&groups, &fractions)
        };
        assert_eq!(serial, parallel);
        for (k, &fraction) in fractions.iter().enumerate() {
            // Each fraction alone gives what it gives among the others.
            assert_eq!(percentiles_cont(&groups, &[fraction])[0], serial[k]);
            assert_eq!(serial[k].iter().map(Option::is_some).collect::<Vec<_>>(), [true, true, false, true, false]);
        }
    }

    #[test]
    fn order_keys_sort_as_sql_floats_and_round_trip() {
        let xs = [
            f64::NEG_INFINITY,
            -f64::MAX,
            -1.5,
            -f64::MIN_POSITIVE,
            -5e-324,
            -0.0,
            0.0,
            5e-324,
            f64::MIN_POSITIVE,
            1.0,
            2.5e300,
            f64::MAX,
            f64::INFINITY,
            f64::NAN,
            -f64::NAN,
        ];
        for &a in &xs {
            let back = from_order_key(order_key(a));
            assert!(back == a || (a.is_nan() && back.is_nan()), "{a} came back as {back}");
            for &b in &xs {
                assert_eq!(order_key(a).cmp(&order_key(b)), cmp_f64(a, b), "{a} vs {b}");
            }
        }
        let mut keys = KeyChunks::default();
        for x in [3.0, f64::NAN, -1.0, 0.0] {
            keys.push(order_key(x));
        }
        let [median, top, bottom] = percentile_cont(&keys, &[0.5, 1.0, 0.0])[..] else { panic!("three answers") };
        assert_eq!(median, 1.5);
        assert!(top.is_nan());
        assert_eq!(bottom, -1.0);
    }
}
