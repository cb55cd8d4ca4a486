//! [`Expr`]: a bound, typed scalar expression, evaluated a batch at a time.
//!
//! Column references are positions in the input batch; every operand already has the type
//! its operator needs (the binder inserted the casts), so evaluation never coerces.

use crate::error::{ExecError, Result};
use crate::functions::ScalarFunction;
use crate::kernels::arith::{self, ArithOp};
use crate::kernels::boolean::{and_kleene, not, or_kleene, true_mask};
use crate::kernels::cast::cast;
use crate::kernels::compare::{compare, downcast_bool, downcast_utf8, CmpOp};
use crate::kernels::like::LikePattern;
use arrow::array::{new_null_array, Array, BooleanArray, PrimitiveArray};
use arrow::bitmap::Bitmap;
use std::fmt;
use storage::value::values_to_array;
use storage::{ArrayRef, Batch, DataType, Value};

/// Date arithmetic variants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateOp {
    /// `date + integer`
    AddDays,
    /// `date - integer`
    SubDays,
    /// `date - date`
    DiffDays,
}

/// A bound scalar expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Column {
        idx: usize,
        name: String,
        data_type: DataType,
    },
    Literal {
        value: Value,
        data_type: DataType,
    },
    Arith {
        op: ArithOp,
        left: Box<Expr>,
        right: Box<Expr>,
        data_type: DataType,
    },
    DateArith {
        op: DateOp,
        left: Box<Expr>,
        right: Box<Expr>,
    },
    Compare {
        op: CmpOp,
        left: Box<Expr>,
        right: Box<Expr>,
    },
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Negate(Box<Expr>),
    IsNull {
        expr: Box<Expr>,
        negated: bool,
    },
    /// `IS [NOT] TRUE` / `IS [NOT] FALSE`: never NULL.
    IsBool {
        expr: Box<Expr>,
        value: bool,
        negated: bool,
    },
    Cast {
        expr: Box<Expr>,
        to: DataType,
    },
    /// Searched CASE; the simple form is rewritten into this by the binder.
    Case {
        whens: Vec<(Expr, Expr)>,
        else_expr: Option<Box<Expr>>,
        data_type: DataType,
    },
    Like {
        expr: Box<Expr>,
        pattern: Box<Expr>,
        negated: bool,
        case_insensitive: bool,
    },
    Function {
        func: ScalarFunction,
        args: Vec<Expr>,
        data_type: DataType,
    },
    /// The result of subquery number `id`, substituted by the planner before execution.
    Subquery {
        id: usize,
        data_type: DataType,
    },
    /// Parameter `$idx+1` of a prepared statement, replaced by its value before each run.
    Param {
        idx: usize,
        data_type: DataType,
    },
    /// A value of the enclosing row, inside a correlated subquery's plan; replaced by a literal
    /// each time the subquery runs.
    OuterRef {
        idx: usize,
        data_type: DataType,
    },
    /// A correlated subquery: runs `plan` once per distinct value of `captures` (expressions
    /// over this row whose values replace `OuterRef { idx }` in the plan).
    Correlated(Box<crate::correlated::Correlated>),
}

impl Expr {
    pub fn literal(value: Value) -> Expr {
        Expr::Literal { data_type: value.data_type(), value }
    }

    /// The type of the values this expression produces.
    pub fn data_type(&self) -> DataType {
        match self {
            Expr::Column { data_type, .. }
            | Expr::Literal { data_type, .. }
            | Expr::Arith { data_type, .. }
            | Expr::Case { data_type, .. }
            | Expr::Function { data_type, .. }
            | Expr::Subquery { data_type, .. }
            | Expr::Param { data_type, .. }
            | Expr::OuterRef { data_type, .. } => *data_type,
            Expr::Correlated(c) => c.data_type,
            Expr::DateArith { op: DateOp::DiffDays, .. } => DataType::Integer,
            Expr::DateArith { .. } => DataType::Date,
            Expr::Compare { .. }
            | Expr::And(..)
            | Expr::Or(..)
            | Expr::Not(_)
            | Expr::IsNull { .. }
            | Expr::IsBool { .. }
            | Expr::Like { .. } => DataType::Boolean,
            Expr::Negate(e) => e.data_type(),
            Expr::Cast { to, .. } => *to,
        }
    }

    /// Child expressions, in order.
    pub fn children(&self) -> Vec<&Expr> {
        match self {
            Expr::Column { .. }
            | Expr::Literal { .. }
            | Expr::Subquery { .. }
            | Expr::OuterRef { .. }
            | Expr::Param { .. } => vec![],
            Expr::Correlated(c) => c.children(),
            Expr::Arith { left, right, .. }
            | Expr::DateArith { left, right, .. }
            | Expr::Compare { left, right, .. }
            | Expr::And(left, right)
            | Expr::Or(left, right) => vec![left, right],
            Expr::Not(e) | Expr::Negate(e) => vec![e],
            Expr::IsNull { expr, .. } | Expr::IsBool { expr, .. } | Expr::Cast { expr, .. } => {
                vec![expr]
            }
            Expr::Case { whens, else_expr, .. } => {
                let mut v: Vec<&Expr> = whens.iter().flat_map(|(c, r)| [c, r]).collect();
                if let Some(e) = else_expr {
                    v.push(e);
                }
                v
            }
            Expr::Like { expr, pattern, .. } => vec![expr, pattern],
            Expr::Function { args, .. } => args.iter().collect(),
        }
    }

    /// Mutable child expressions, in order.
    pub fn children_mut(&mut self) -> Vec<&mut Expr> {
        match self {
            Expr::Column { .. }
            | Expr::Literal { .. }
            | Expr::Subquery { .. }
            | Expr::OuterRef { .. }
            | Expr::Param { .. } => vec![],
            Expr::Correlated(c) => c.children_mut(),
            Expr::Arith { left, right, .. }
            | Expr::DateArith { left, right, .. }
            | Expr::Compare { left, right, .. }
            | Expr::And(left, right)
            | Expr::Or(left, right) => vec![left, right],
            Expr::Not(e) | Expr::Negate(e) => vec![e],
            Expr::IsNull { expr, .. } | Expr::IsBool { expr, .. } | Expr::Cast { expr, .. } => {
                vec![expr]
            }
            Expr::Case { whens, else_expr, .. } => {
                let mut v: Vec<&mut Expr> = whens.iter_mut().flat_map(|(c, r)| [c, r]).collect();
                if let Some(e) = else_expr {
                    v.push(e);
                }
                v
            }
            Expr::Like { expr, pattern, .. } => vec![expr, pattern],
            Expr::Function { args, .. } => args.iter_mut().collect(),
        }
    }

    /// Whether the expression reads no column (so it can be folded to a literal).
    pub fn is_constant(&self) -> bool {
        !matches!(
            self,
            Expr::Column { .. }
                | Expr::Subquery { .. }
                | Expr::OuterRef { .. }
                | Expr::Correlated(_)
                | Expr::Param { .. }
        ) && self.children().iter().all(|c| c.is_constant())
    }

    /// Calls `f` on every column index the expression reads.
    pub fn visit_columns(&self, f: &mut impl FnMut(usize)) {
        if let Expr::Column { idx, .. } = self {
            f(*idx);
        }
        for c in self.children() {
            c.visit_columns(f);
        }
    }

    /// Rewrites every column index through `map`.
    pub fn remap_columns(&mut self, map: &impl Fn(usize) -> usize) {
        if let Expr::Column { idx, .. } = self {
            *idx = map(*idx);
        }
        for c in self.children_mut() {
            c.remap_columns(map);
        }
    }

    /// Evaluates a constant expression to a single value.
    pub fn evaluate_constant(&self) -> Result<Value> {
        let array = self.evaluate(&Batch::empty_with_rows(1))?;
        Ok(Value::from_array(array.as_ref(), 0))
    }

    /// Evaluates the expression on every row of `batch`.
    pub fn evaluate(&self, batch: &Batch) -> Result<ArrayRef> {
        let n_rows = batch.n_rows;
        match self {
            Expr::Column { idx, .. } => batch
                .columns
                .get(*idx)
                .cloned()
                .ok_or_else(|| ExecError::Internal(format!("column #{idx} is not in the input"))),
            Expr::Literal { value, data_type } => {
                if value.is_null() {
                    Ok(new_null_array(data_type.to_arrow(), n_rows))
                } else {
                    Ok(values_to_array(*data_type, &vec![value.clone(); n_rows]))
                }
            }
            Expr::Arith { op, left, right, data_type } => {
                let (l, r) = (left.evaluate(batch)?, right.evaluate(batch)?);
                arith::arith(*op, l.as_ref(), r.as_ref(), *data_type)
            }
            Expr::DateArith { op, left, right } => {
                let (l, r) = (left.evaluate(batch)?, right.evaluate(batch)?);
                match op {
                    DateOp::AddDays => arith::date_add_days(l.as_ref(), r.as_ref(), false),
                    DateOp::SubDays => arith::date_add_days(l.as_ref(), r.as_ref(), true),
                    DateOp::DiffDays => arith::date_diff(l.as_ref(), r.as_ref()),
                }
            }
            Expr::Compare { op, left, right } => {
                // Column against a constant: compare with the value, not a repeated array.
                let scalar = match (left.as_ref(), right.as_ref()) {
                    (e, Expr::Literal { value, .. }) if !value.is_null() => Some((*op, e, value)),
                    (Expr::Literal { value, .. }, e) if !value.is_null() => Some((op.flip(), e, value)),
                    _ => None,
                };
                if let Some((op, e, value)) = scalar {
                    let a = e.evaluate(batch)?;
                    if let Some(out) = crate::kernels::compare::compare_scalar(op, a.as_ref(), value)? {
                        return Ok(out.boxed());
                    }
                }
                let (l, r) = (left.evaluate(batch)?, right.evaluate(batch)?);
                Ok(compare(*op, l.as_ref(), r.as_ref(), left.data_type())?.boxed())
            }
            Expr::And(left, right) => {
                let (l, r) = (left.evaluate(batch)?, right.evaluate(batch)?);
                Ok(and_kleene(bool_of(&l)?, bool_of(&r)?).boxed())
            }
            Expr::Or(left, right) => {
                let (l, r) = (left.evaluate(batch)?, right.evaluate(batch)?);
                Ok(or_kleene(bool_of(&l)?, bool_of(&r)?).boxed())
            }
            Expr::Not(e) => Ok(not(bool_of(&e.evaluate(batch)?)?).boxed()),
            Expr::Negate(e) => arith::negate(e.evaluate(batch)?.as_ref(), e.data_type()),
            Expr::IsNull { expr, negated } => {
                let a = expr.evaluate(batch)?;
                let valid = validity_bits(a.as_ref());
                let bits = if *negated { valid } else { !&valid };
                Ok(BooleanArray::new(arrow::datatypes::DataType::Boolean, bits, None).boxed())
            }
            Expr::IsBool { expr, value, negated } => {
                let a = expr.evaluate(batch)?;
                let b = bool_of(&a)?;
                let hits = if *value { true_mask(b) } else { true_mask(&not(b)) };
                let bits = if *negated { !&hits } else { hits };
                Ok(BooleanArray::new(arrow::datatypes::DataType::Boolean, bits, None).boxed())
            }
            Expr::Cast { expr, to } => cast(expr.evaluate(batch)?.as_ref(), *to),
            Expr::Case { whens, else_expr, data_type } => evaluate_case(batch, whens, else_expr.as_deref(), *data_type),
            Expr::Like { expr, pattern, negated, case_insensitive } => {
                let s = expr.evaluate(batch)?;
                let p = pattern.evaluate(batch)?;
                let (s, p) = (downcast_utf8(s.as_ref())?, downcast_utf8(p.as_ref())?);
                let constant = if pattern.is_constant() && n_rows > 0 && p.is_valid(0) {
                    Some(LikePattern::new(p.value(0), *case_insensitive))
                } else {
                    None
                };
                let out: BooleanArray = (0..n_rows)
                    .map(|row_idx| {
                        if s.is_null(row_idx) || p.is_null(row_idx) {
                            return None;
                        }
                        let m = match &constant {
                            Some(pat) => pat.matches(s.value(row_idx)),
                            None => LikePattern::new(p.value(row_idx), *case_insensitive).matches(s.value(row_idx)),
                        };
                        Some(m != *negated)
                    })
                    .collect();
                Ok(out.boxed())
            }
            Expr::Subquery { id, .. } => Err(ExecError::Internal(format!("subquery #{id} was not resolved"))),
            Expr::Param { idx, .. } => Err(ExecError::Internal(format!("parameter ${} has no value", idx + 1))),
            Expr::OuterRef { idx, .. } => Err(ExecError::Internal(format!("outer reference #{idx} was not bound"))),
            Expr::Correlated(c) => c.evaluate(batch),
            Expr::Function { func, args, data_type } => {
                if let Some(out) = date_trunc_fixed(*func, args, batch)? {
                    return Ok(out);
                }
                let arrays: Vec<ArrayRef> = args.iter().map(|a| a.evaluate(batch)).collect::<Result<_>>()?;
                let mut out = Vec::with_capacity(n_rows);
                let mut row = Vec::with_capacity(arrays.len());
                for row_idx in 0..n_rows {
                    row.clear();
                    row.extend(arrays.iter().map(|a| Value::from_array(a.as_ref(), row_idx)));
                    let v = func.eval(&row, *data_type)?;
                    // Functions may return a narrower numeric type than declared; cast it.
                    let v = if v.is_null() || v.data_type() == *data_type {
                        v
                    } else {
                        crate::kernels::cast::cast_value(&v, *data_type)?
                    };
                    out.push(v);
                }
                Ok(values_to_array(*data_type, &out))
            }
        }
    }
}

fn bool_of(array: &ArrayRef) -> Result<&BooleanArray> {
    downcast_bool(array.as_ref())
}

/// One bit per row: set where the value is not NULL.
fn validity_bits(array: &dyn Array) -> Bitmap {
    if array.data_type() == &arrow::datatypes::DataType::Null {
        return Bitmap::new_zeroed(array.len());
    }
    match array.validity() {
        Some(v) => v.clone(),
        None => !&Bitmap::new_zeroed(array.len()),
    }
}

/// Evaluates a searched CASE lazily: each THEN (and the ELSE) is evaluated only on the rows
/// that reach it, so `CASE WHEN x = 0 THEN 0 ELSE 1 / x END` never divides by zero.
fn evaluate_case(
    batch: &Batch,
    whens: &[(Expr, Expr)],
    else_expr: Option<&Expr>,
    data_type: DataType,
) -> Result<ArrayRef> {
    if let Some(array) = case_of_constants(batch, whens, else_expr, data_type)? {
        return Ok(array);
    }
    let n_rows = batch.n_rows;
    // Only the columns some branch reads are gathered for the rows a branch sees.
    let mut needed = vec![false; batch.columns.len()];
    let mut mark = |idx: usize| {
        if let Some(n) = needed.get_mut(idx) {
            *n = true;
        }
    };
    for (c, t) in whens {
        c.visit_columns(&mut mark);
        t.visit_columns(&mut mark);
    }
    if let Some(e) = else_expr {
        e.visit_columns(&mut mark);
    }
    // Rows (as indices into `batch`, ascending) not yet claimed by a branch.
    let mut remaining: Vec<u32> = (0..n_rows as u32).collect();
    // For each row: (branch result index, row within that result).
    let mut source: Vec<Option<(usize, u32)>> = vec![None; n_rows];
    let mut results: Vec<ArrayRef> = Vec::new();
    for (cond, then) in whens {
        if remaining.is_empty() {
            break;
        }
        let sub = take_needed(batch, &remaining, &needed)?;
        let c = cond.evaluate(&sub)?;
        let mask = true_mask(bool_of(&c)?);
        let (hit, miss): (Vec<(usize, u32)>, Vec<(usize, u32)>) =
            remaining.iter().copied().enumerate().partition(|(pos, _)| mask.get_bit(*pos));
        if !hit.is_empty() {
            let hit_pos: Vec<u32> = hit.iter().map(|(pos, _)| *pos as u32).collect();
            let values = then.evaluate(&take_needed(&sub, &hit_pos, &needed)?)?;
            for (k, (_, row)) in hit.iter().enumerate() {
                source[*row as usize] = Some((results.len(), k as u32));
            }
            results.push(values);
        }
        remaining = miss.into_iter().map(|(_, row)| row).collect();
    }
    if let (Some(e), false) = (else_expr, remaining.is_empty()) {
        let values = e.evaluate(&take_needed(batch, &remaining, &needed)?)?;
        for (k, row) in remaining.iter().enumerate() {
            source[*row as usize] = Some((results.len(), k as u32));
        }
        results.push(values);
    }
    // Every row took one branch: its result is the answer as it stands.
    if results.len() == 1 && results[0].len() == n_rows && source.iter().all(|s| s.is_some()) {
        return Ok(results.pop().expect("one result"));
    }
    // Concatenate branch results (plus one NULL for unmatched rows), then gather.
    let mut offsets = Vec::with_capacity(results.len());
    let mut total = 0u32;
    for r in &results {
        offsets.push(total);
        total += r.len() as u32;
    }
    let null_slot = new_null_array(data_type.to_arrow(), 1);
    let mut parts: Vec<&dyn Array> = results.iter().map(|r| r.as_ref()).collect();
    parts.push(null_slot.as_ref());
    let all =
        arrow::compute::concatenate::concatenate(&parts).map_err(|e| ExecError::Internal(format!("CASE: {e}")))?;
    let indices: Vec<u32> = source.iter().map(|s| s.map_or(total, |(branch, k)| offsets[branch] + k)).collect();
    take_array(all.as_ref(), &indices)
}

/// `CASE WHEN c THEN x [ELSE y] END` with constant `x` and `y` (q09's `SUM(CASE WHEN ... THEN 1
/// ELSE 0 END)`) of an integer or float type: the condition over every row (the general path
/// evaluates the first condition over every row too), then one pass choosing between the two
/// constants by its mask, instead of gathering rows per branch and concatenating. `None` for
/// any other CASE.
fn case_of_constants(
    batch: &Batch,
    whens: &[(Expr, Expr)],
    else_expr: Option<&Expr>,
    data_type: DataType,
) -> Result<Option<ArrayRef>> {
    let [(cond, then)] = whens else { return Ok(None) };
    let constant = |e: Option<&Expr>| match e {
        None => Some(Value::Null),
        Some(Expr::Literal { value, data_type: t }) if value.is_null() || *t == data_type => Some(value.clone()),
        _ => None,
    };
    let (Some(then), Some(other)) = (constant(Some(then)), constant(else_expr)) else { return Ok(None) };
    fn pick<T: arrow::types::NativeType + Default>(
        mask: &Bitmap,
        then: Option<T>,
        other: Option<T>,
        arrow_type: arrow::datatypes::DataType,
    ) -> ArrayRef {
        let (t, o) = (then.unwrap_or_default(), other.unwrap_or_default());
        let values: Vec<T> = mask.iter().map(|hit| if hit { t } else { o }).collect();
        let validity = match (then.is_some(), other.is_some()) {
            (true, true) => None,
            (true, false) => Some(mask.clone()),
            (false, true) => Some(!mask),
            (false, false) => Some(Bitmap::new_zeroed(mask.len())),
        };
        PrimitiveArray::<T>::new(arrow_type, values.into(), validity).boxed()
    }
    let arrow_type = data_type.to_arrow();
    macro_rules! choose {
        ($variant:ident, $t:ty) => {{
            let get = |v: &Value| match v {
                Value::$variant(x) => Some(*x),
                _ => None,
            };
            let mask = true_mask(bool_of(&cond.evaluate(batch)?)?);
            Ok(Some(pick::<$t>(&mask, get(&then), get(&other), arrow_type)))
        }};
    }
    match data_type {
        DataType::SmallInt => choose!(SmallInt, i16),
        DataType::Integer => choose!(Integer, i32),
        DataType::BigInt => choose!(BigInt, i64),
        DataType::Double => choose!(Double, f64),
        _ => Ok(None),
    }
}

/// Gathers `indices` from an array.
pub fn take_array(array: &dyn Array, indices: &[u32]) -> Result<ArrayRef> {
    // Text arrays address their bytes with 32-bit offsets: refuse a result past 2 GiB (arrow2
    // would panic) with an error instead.
    if let Some(text) = array.as_any().downcast_ref::<arrow::array::Utf8Array<i32>>() {
        let offsets = text.offsets().buffer();
        let total: u64 = indices
            .iter()
            .filter_map(|&i| {
                let i = i as usize;
                Some((offsets.get(i + 1)? - offsets.get(i)?) as u64)
            })
            .sum();
        if total > i32::MAX as u64 {
            return Err(ExecError::InvalidArgument(format!(
                "a text column of {total} bytes is too large (the limit is 2 GiB per batch)"
            )));
        }
    }
    let idx = PrimitiveArray::<u32>::from_vec(indices.to_vec());
    arrow::compute::take::take(array, &idx).map_err(|e| ExecError::Internal(format!("take: {e}")))
}

/// Rows `indices` (ascending) of a batch, gathering only the `needed` columns: the others are
/// cut to the right length but hold other rows, so they must not be read. All rows in order
/// is the batch itself, without copying.
fn take_needed(batch: &Batch, indices: &[u32], needed: &[bool]) -> Result<Batch> {
    if indices.len() == batch.n_rows {
        return Ok(batch.clone());
    }
    let columns = batch
        .columns
        .iter()
        .zip(needed)
        .map(|(c, &needed)| if needed { take_array(c.as_ref(), indices) } else { Ok(c.sliced(0, indices.len())) })
        .collect::<Result<_>>()?;
    Ok(Batch { columns, n_rows: indices.len() })
}

/// Gathers rows `indices` of a batch.
pub fn take_rows(batch: &Batch, indices: &[u32]) -> Result<Batch> {
    let columns = batch.columns.iter().map(|c| take_array(c.as_ref(), indices)).collect::<Result<_>>()?;
    Ok(Batch { columns, n_rows: indices.len() })
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Column { name, .. } => f.write_str(name),
            Expr::Literal { value: Value::Text(s), .. } => write!(f, "'{}'", s.replace('\'', "''")),
            Expr::Literal { value, .. } => write!(f, "{value}"),
            Expr::Arith { op, left, right, .. } => write!(f, "({left} {} {right})", op.symbol()),
            Expr::DateArith { op, left, right } => {
                let sym = if *op == DateOp::AddDays { "+" } else { "-" };
                write!(f, "({left} {sym} {right})")
            }
            Expr::Compare { op, left, right } => write!(f, "({left} {} {right})", op.symbol()),
            Expr::And(l, r) => write!(f, "({l} AND {r})"),
            Expr::Or(l, r) => write!(f, "({l} OR {r})"),
            Expr::Not(e) => write!(f, "(NOT {e})"),
            Expr::Negate(e) => write!(f, "(- {e})"),
            Expr::IsNull { expr, negated } => {
                write!(f, "({expr} IS {}NULL)", if *negated { "NOT " } else { "" })
            }
            Expr::IsBool { expr, value, negated } => {
                write!(f, "({expr} IS {}{})", if *negated { "NOT " } else { "" }, if *value { "TRUE" } else { "FALSE" })
            }
            Expr::Cast { expr, to } => write!(f, "CAST({expr} AS {to})"),
            Expr::Case { whens, else_expr, .. } => {
                f.write_str("CASE")?;
                for (c, r) in whens {
                    write!(f, " WHEN {c} THEN {r}")?;
                }
                if let Some(e) = else_expr {
                    write!(f, " ELSE {e}")?;
                }
                f.write_str(" END")
            }
            Expr::Like { expr, pattern, negated, case_insensitive } => {
                let kw = if *case_insensitive { "ILIKE" } else { "LIKE" };
                write!(f, "({expr} {}{kw} {pattern})", if *negated { "NOT " } else { "" })
            }
            Expr::Function { func, args, .. } => {
                let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
                write!(f, "{}({})", func.name(), args.join(", "))
            }
            Expr::Subquery { id, .. } => write!(f, "subquery#{id}"),
            Expr::Param { idx, .. } => write!(f, "${}", idx + 1),
            Expr::OuterRef { idx, .. } => write!(f, "outer#{idx}"),
            Expr::Correlated(c) => write!(f, "correlated({:?})", c.kind),
        }
    }
}

/// `date_trunc('<unit>', timestamp)` with a constant unit of fixed length (microsecond to day):
/// a floor over the whole array, the same values [`crate::time::date_trunc`] gives row by row.
/// `None` for anything else.
fn date_trunc_fixed(func: crate::ScalarFunction, args: &[Expr], batch: &Batch) -> Result<Option<ArrayRef>> {
    use crate::time::{MICROS_PER_HOUR, MICROS_PER_MINUTE, MICROS_PER_SECOND};
    use storage::datetime::MICROS_PER_DAY;
    let (crate::ScalarFunction::DateTrunc, [Expr::Literal { value: Value::Text(unit), .. }, ts]) = (func, args) else {
        return Ok(None);
    };
    if ts.data_type() != DataType::Timestamp {
        return Ok(None);
    }
    let step = match unit.to_ascii_lowercase().trim_end_matches('s') {
        "microsecond" => 1,
        "millisecond" => 1000,
        "second" => MICROS_PER_SECOND,
        "minute" => MICROS_PER_MINUTE,
        "hour" => MICROS_PER_HOUR,
        "day" => MICROS_PER_DAY,
        _ => return Ok(None),
    };
    let array = ts.evaluate(batch)?;
    let a = crate::kernels::as_prim::<i64>(array.as_ref())?;
    let values: Vec<i64> = a.values().iter().map(|&t| t.div_euclid(step) * step).collect();
    Ok(Some(
        arrow::array::PrimitiveArray::<i64>::new(DataType::Timestamp.to_arrow(), values.into(), a.validity().cloned())
            .boxed(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::Int32Array;

    fn col(idx: usize) -> Expr {
        Expr::Column { idx, name: format!("c{idx}"), data_type: DataType::Integer }
    }

    #[test]
    fn case_is_lazy() {
        let batch = Batch::new(vec![Int32Array::from([Some(0), Some(2), None]).boxed()]);
        let div = Expr::Arith {
            op: ArithOp::Div,
            left: Box::new(Expr::literal(Value::Integer(10))),
            right: Box::new(col(0)),
            data_type: DataType::Integer,
        };
        let case = Expr::Case {
            whens: vec![(
                Expr::Compare {
                    op: CmpOp::Eq,
                    left: Box::new(col(0)),
                    right: Box::new(Expr::literal(Value::Integer(0))),
                },
                Expr::literal(Value::Integer(-1)),
            )],
            else_expr: Some(Box::new(div.clone())),
            data_type: DataType::Integer,
        };
        let out = case.evaluate(&batch).unwrap();
        assert_eq!(out.as_any().downcast_ref::<Int32Array>().unwrap(), &Int32Array::from([Some(-1), Some(5), None]));
        assert_eq!(div.evaluate(&batch).unwrap_err(), ExecError::DivisionByZero);
    }

    #[test]
    fn is_null_and_is_true() {
        let batch = Batch::new(vec![BooleanArray::from([Some(true), Some(false), None]).boxed()]);
        let c = Expr::Column { idx: 0, name: "b".into(), data_type: DataType::Boolean };
        let is_null = Expr::IsNull { expr: Box::new(c.clone()), negated: false }.evaluate(&batch).unwrap();
        assert_eq!(
            is_null.as_any().downcast_ref::<BooleanArray>().unwrap(),
            &BooleanArray::from_slice([false, false, true])
        );
        let is_not_true =
            Expr::IsBool { expr: Box::new(c.clone()), value: true, negated: true }.evaluate(&batch).unwrap();
        assert_eq!(
            is_not_true.as_any().downcast_ref::<BooleanArray>().unwrap(),
            &BooleanArray::from_slice([false, true, true])
        );
        let is_false = Expr::IsBool { expr: Box::new(c), value: false, negated: false }.evaluate(&batch).unwrap();
        assert_eq!(
            is_false.as_any().downcast_ref::<BooleanArray>().unwrap(),
            &BooleanArray::from_slice([false, true, false])
        );
    }
}

#[cfg(test)]
mod date_trunc_tests {
    use super::*;

    /// The whole-array date_trunc equals the row-by-row one, NULLs and negative times included.
    #[test]
    fn fixed_unit_date_trunc_matches_row_by_row() {
        let ts = [Some(0i64), Some(-1), Some(1_764_000_123_456_789), None, Some(-86_400_000_001), Some(59_999_999)];
        let array = PrimitiveArray::<i64>::from(ts).to(DataType::Timestamp.to_arrow()).boxed();
        let batch = Batch { columns: vec![array], n_rows: ts.len() };
        let col = Expr::Column { idx: 0, data_type: DataType::Timestamp, name: "t".into() };
        for unit in ["microseconds", "millisecond", "second", "MINUTE", "hour", "day"] {
            let args = vec![Expr::literal(Value::Text(unit.into())), col.clone()];
            let got = date_trunc_fixed(ScalarFunction::DateTrunc, &args, &batch).unwrap().expect("fixed unit");
            for (row_idx, t) in ts.iter().enumerate() {
                let want = match t {
                    Some(t) => Value::Timestamp(crate::time::date_trunc(unit, *t).unwrap()),
                    None => Value::Null,
                };
                assert_eq!(Value::from_array(got.as_ref(), row_idx), want, "{unit} {t:?}");
            }
        }
        let month = vec![Expr::literal(Value::Text("month".into())), col];
        assert!(date_trunc_fixed(ScalarFunction::DateTrunc, &month, &batch).unwrap().is_none());
    }
}
