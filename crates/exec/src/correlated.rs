//! Correlated subqueries, evaluated by re-running the subquery's plan for each distinct
//! combination of the outer values it reads. Results are memoized by those values for the
//! whole statement, and the parts of the plan that read no outer value (a join or an
//! aggregate under the correlated filter, say) run once and are replayed from memory
//! ([`PhysicalPlan::Cached`]).

use crate::error::{ExecError, Result};
use crate::expr::Expr;
use crate::operator::{collect, PhysicalPlan};
use crate::row_key::encode_rows;
use arrow::array::Array;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use storage::value::values_to_array;
use storage::{ArrayRef, Batch, DataType, Value};

/// What the subquery's rows mean to the enclosing expression.
#[derive(Debug, Clone, PartialEq)]
pub enum CorrelatedKind {
    /// Its single value, NULL for no rows.
    Scalar,
    /// Whether it returns any row.
    Exists,
    /// `needle op ANY (values)` (`all: false`; `=` is IN) or `needle op ALL (values)`, with
    /// SQL's NULL semantics.
    In { needle: Expr, op: crate::CmpOp, all: bool },
}

/// A correlated subquery expression.
#[derive(Debug, Clone)]
pub struct Correlated {
    pub plan: Arc<PhysicalPlan>,
    /// Expressions over the enclosing row; value k replaces `OuterRef { idx: k }`.
    pub captures: Vec<Expr>,
    pub kind: CorrelatedKind,
    pub data_type: DataType,
    /// Results by the encoded values of `captures`: the row count and the first column.
    /// Shared by copies of the expression, so it lasts for the whole statement. The plan
    /// reads the outer row only through `captures` (a nested subquery's plan reads *its*
    /// enclosing row through its own captures), so the key determines the result.
    memo: Arc<Mutex<HashMap<Vec<u8>, Arc<Answer>>>>,
}

/// What one run of the subquery returned.
#[derive(Debug)]
struct Answer {
    n_rows: usize,
    /// The first column's values (empty for EXISTS).
    values: Vec<Value>,
}

impl PartialEq for Correlated {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.plan, &other.plan) && self.captures == other.captures && self.kind == other.kind
    }
}

impl Correlated {
    /// A correlated subquery over `plan`; the parts of the plan that read no outer value are
    /// computed at most once (see [`cache_invariant`]).
    pub fn new(plan: PhysicalPlan, captures: Vec<Expr>, kind: CorrelatedKind, data_type: DataType) -> Correlated {
        Correlated { plan: Arc::new(cache_invariant(plan)), captures, kind, data_type, memo: Arc::default() }
    }

    pub(crate) fn children(&self) -> Vec<&Expr> {
        let mut v: Vec<&Expr> = self.captures.iter().collect();
        if let CorrelatedKind::In { needle, .. } = &self.kind {
            v.push(needle);
        }
        v
    }

    pub(crate) fn children_mut(&mut self) -> Vec<&mut Expr> {
        let mut v: Vec<&mut Expr> = self.captures.iter_mut().collect();
        if let CorrelatedKind::In { needle, .. } = &mut self.kind {
            v.push(needle);
        }
        v
    }

    fn run_once(&self, outer: &[Value]) -> Result<Vec<Batch>> {
        crate::interrupt::check()?;
        let bind = |e: &mut Expr| bind_outer(e, outer);
        collect(&self.plan.map_exprs(&bind))
    }

    /// The subquery's answer for one combination of outer values, from the memo or by
    /// running the plan.
    fn answer(&self, key: &[u8], outer: impl FnOnce() -> Vec<Value>) -> Result<Arc<Answer>> {
        if let Some(a) = self.memo.lock().unwrap_or_else(|e| e.into_inner()).get(key) {
            return Ok(a.clone());
        }
        let batches = self.run_once(&outer())?;
        let n_rows = batches.iter().map(|b| b.n_rows).sum();
        let values = if matches!(self.kind, CorrelatedKind::Exists) {
            Vec::new()
        } else {
            batches.iter().flat_map(|b| (0..b.n_rows).map(move |r| Value::from_array(b.column(0), r))).collect()
        };
        let answer = Arc::new(Answer { n_rows, values });
        self.memo.lock().unwrap_or_else(|e| e.into_inner()).insert(key.to_vec(), answer.clone());
        Ok(answer)
    }

    pub(crate) fn evaluate(&self, batch: &Batch) -> Result<ArrayRef> {
        let captured = self.captures.iter().map(|c| c.evaluate(batch)).collect::<Result<Vec<_>>>()?;
        let refs: Vec<&dyn Array> = captured.iter().map(|a| a.as_ref()).collect();
        let keys = encode_rows(&refs, batch.n_rows)?;
        let needle = match &self.kind {
            CorrelatedKind::In { needle, .. } => Some(needle.evaluate(batch)?),
            _ => None,
        };
        let mut out = Vec::with_capacity(batch.n_rows);
        for (row_idx, key) in keys.iter().enumerate() {
            let answer = self.answer(key, || refs.iter().map(|a| Value::from_array(*a, row_idx)).collect())?;
            out.push(match &self.kind {
                CorrelatedKind::Scalar => {
                    if answer.n_rows > 1 {
                        return Err(ExecError::InvalidArgument(
                            "more than one row returned by a subquery used as an expression".into(),
                        ));
                    }
                    answer.values.first().cloned().unwrap_or(Value::Null)
                }
                CorrelatedKind::Exists => Value::Boolean(answer.n_rows > 0),
                CorrelatedKind::In { op, all, .. } => {
                    let n = needle.as_ref().map_or(Value::Null, |a| Value::from_array(a.as_ref(), row_idx));
                    quantified(&n, &answer.values, *op, *all)
                }
            });
        }
        Ok(values_to_array(self.data_type, &out))
    }
}

/// Replaces each largest part of `plan` that reads no outer value and does real work (a
/// join, aggregate, sort, window or set operation somewhere inside) with a
/// [`PhysicalPlan::Cached`] node, so a subquery run per outer row repeats only the work that
/// depends on the row. Bare scans stay as they are: re-reading them costs little and keeps
/// memory bounded (a scan's filter may read the outer row and prune by zone maps).
pub fn cache_invariant(plan: PhysicalPlan) -> PhysicalPlan {
    if !reads_outer(&plan) {
        // The whole plan is invariant (the outer values are used only above it, e.g. in a
        // needle): nothing to gain from caching the root itself beyond the memo.
        return plan;
    }
    cache_below(plan)
}

fn cache_below(plan: PhysicalPlan) -> PhysicalPlan {
    use PhysicalPlan as P;
    let fix = |p: Box<PhysicalPlan>| -> Box<PhysicalPlan> {
        if !reads_outer(&p) {
            if does_work(&p) {
                return Box::new(P::Cached { input: p, rows: Arc::default() });
            }
            return p;
        }
        Box::new(cache_below(*p))
    };
    match plan {
        P::Filter { input, predicate } => P::Filter { input: fix(input), predicate },
        P::Project { input, exprs } => P::Project { input: fix(input), exprs },
        P::Aggregate { input, group_by, aggregates } => P::Aggregate { input: fix(input), group_by, aggregates },
        P::Sort { input, keys, fetch } => P::Sort { input: fix(input), keys, fetch },
        P::Limit { input, limit, offset } => P::Limit { input: fix(input), limit, offset },
        P::Window { input, windows } => P::Window { input: fix(input), windows },
        P::HashJoin { left, right, left_keys, right_keys, build_left, spec } => {
            P::HashJoin { left: fix(left), right: fix(right), left_keys, right_keys, build_left, spec }
        }
        P::NestedLoopJoin { left, right, spec } => P::NestedLoopJoin { left: fix(left), right: fix(right), spec },
        P::SetOp { left, right, kind, all } => P::SetOp { left: fix(left), right: fix(right), kind, all },
        P::Union { inputs } => P::Union { inputs: inputs.into_iter().map(|i| *fix(Box::new(i))).collect() },
        // A recursive step reads its working table, which changes between steps: leave it.
        other @ (P::RecursiveCte { .. }
        | P::WorkingTable { .. }
        | P::Scan { .. }
        | P::Values { .. }
        | P::Series { .. }
        | P::Cached { .. }) => other,
    }
}

/// Whether any expression of the plan reads a value of the enclosing row (a working table of
/// a recursive CTE counts too: its rows change from step to step).
fn reads_outer(plan: &PhysicalPlan) -> bool {
    use PhysicalPlan as P;
    let e = |x: &Expr| expr_reads_outer(x);
    let any = |v: &[Expr]| v.iter().any(e);
    let spec = |s: &crate::operator::JoinSpec| s.filter.as_ref().is_some_and(e);
    match plan {
        P::Scan { filter, .. } => filter.as_ref().is_some_and(e),
        P::Values { rows, .. } => rows.iter().any(|r| any(r)),
        P::Series { args, .. } => any(args),
        P::Filter { input, predicate } => e(predicate) || reads_outer(input),
        P::Project { input, exprs } => any(exprs) || reads_outer(input),
        P::Aggregate { input, group_by, aggregates } => {
            any(group_by)
                || aggregates.iter().any(|a| a.arg.as_ref().is_some_and(e) || a.filter.as_ref().is_some_and(e))
                || reads_outer(input)
        }
        P::Sort { input, keys, .. } => keys.iter().any(|k| e(&k.expr)) || reads_outer(input),
        P::Limit { input, .. } => reads_outer(input),
        P::Window { input, windows } => windows.iter().any(|w| w.exprs().any(expr_reads_outer)) || reads_outer(input),
        P::HashJoin { left, right, left_keys, right_keys, spec: s, .. } => {
            any(left_keys) || any(right_keys) || spec(s) || reads_outer(left) || reads_outer(right)
        }
        P::NestedLoopJoin { left, right, spec: s } => spec(s) || reads_outer(left) || reads_outer(right),
        P::SetOp { left, right, .. } => reads_outer(left) || reads_outer(right),
        P::Union { inputs } => inputs.iter().any(reads_outer),
        P::RecursiveCte { .. } | P::WorkingTable { .. } => true,
        P::Cached { .. } => false,
    }
}

fn expr_reads_outer(e: &Expr) -> bool {
    matches!(e, Expr::OuterRef { .. } | Expr::Param { .. }) || e.children().into_iter().any(expr_reads_outer)
}

/// Whether running the plan does more than read a table or literal rows (and filter and
/// project them): worth keeping its rows instead of running it again.
fn does_work(plan: &PhysicalPlan) -> bool {
    use PhysicalPlan as P;
    match plan {
        P::Scan { .. } | P::Values { .. } | P::WorkingTable { .. } | P::Cached { .. } => false,
        P::Filter { input, .. } | P::Project { input, .. } | P::Limit { input, .. } => does_work(input),
        _ => true,
    }
}

/// Whether `op` holds between two values of one type.
pub fn holds(op: crate::CmpOp, a: &Value, b: &Value) -> bool {
    use crate::CmpOp as C;
    let ord = match (a.as_f64(), b.as_f64()) {
        // Numbers of different widths compare by value.
        (Some(x), Some(y)) if a.data_type() != b.data_type() => x.total_cmp(&y),
        _ => a.total_cmp(b),
    };
    match op {
        C::Eq => ord.is_eq(),
        C::NotEq => ord.is_ne(),
        C::Lt => ord.is_lt(),
        C::LtEq => ord.is_le(),
        C::Gt => ord.is_gt(),
        C::GtEq => ord.is_ge(),
    }
}

/// `needle op ANY (values)` or, with `all`, `needle op ALL (values)`, with three-valued logic:
/// ANY is true if some comparison is true, ALL false if some is false; otherwise a NULL on
/// either side makes the answer NULL. Over no values ANY is false and ALL true.
pub fn quantified(needle: &Value, values: &[Value], op: crate::CmpOp, all: bool) -> Value {
    if values.is_empty() {
        return Value::Boolean(all);
    }
    if needle.is_null() {
        return Value::Null;
    }
    let mut saw_null = false;
    for v in values {
        if v.is_null() {
            saw_null = true;
        } else if holds(op, needle, v) != all {
            return Value::Boolean(!all);
        }
    }
    if saw_null {
        Value::Null
    } else {
        Value::Boolean(all)
    }
}

/// Replaces `OuterRef { idx }` with the literal `outer[idx]`.
fn bind_outer(e: &mut Expr, outer: &[Value]) {
    if let Expr::OuterRef { idx, data_type } = e {
        if let Some(v) = outer.get(*idx) {
            *e = Expr::Literal { value: v.clone(), data_type: *data_type };
        }
        return;
    }
    // A nested correlated subquery's own plan refers to *its* enclosing row, not ours: only
    // its captures (expressions over our row) are bound here.
    for child in e.children_mut() {
        bind_outer(child, outer);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::operator::{JoinKind, JoinSpec};
    use arrow::array::{BooleanArray, Int64Array};

    fn int(v: i64) -> Expr {
        Expr::literal(Value::BigInt(v))
    }

    fn col(idx: usize) -> Expr {
        Expr::Column { idx, name: format!("c{idx}"), data_type: DataType::BigInt }
    }

    /// `EXISTS (SELECT * FROM (a CROSS JOIN b) WHERE a.x + b.y = outer.0)`, a = {1, 2}, b = {10, 20}.
    fn exists_sum() -> Correlated {
        let values = |vs: &[i64]| PhysicalPlan::Values {
            rows: vs.iter().map(|&v| vec![int(v)]).collect(),
            types: vec![DataType::BigInt],
        };
        let join = PhysicalPlan::NestedLoopJoin {
            left: Box::new(values(&[1, 2])),
            right: Box::new(values(&[10, 20])),
            spec: JoinSpec {
                kind: JoinKind::Inner,
                left_types: vec![DataType::BigInt],
                right_types: vec![DataType::BigInt],
                filter: None,
                unread: vec![],
            },
        };
        let sum = Expr::Arith {
            op: crate::kernels::arith::ArithOp::Add,
            left: Box::new(col(0)),
            right: Box::new(col(1)),
            data_type: DataType::BigInt,
        };
        let outer = Expr::OuterRef { idx: 0, data_type: DataType::BigInt };
        let plan = PhysicalPlan::Filter {
            input: Box::new(join),
            predicate: Expr::Compare { op: crate::CmpOp::Eq, left: Box::new(sum), right: Box::new(outer) },
        };
        Correlated::new(plan, vec![col(0)], CorrelatedKind::Exists, DataType::Boolean)
    }

    #[test]
    fn the_join_under_a_correlated_filter_is_cached_and_answers_stay_right() {
        let c = exists_sum();
        let PhysicalPlan::Filter { input, .. } = c.plan.as_ref() else { panic!("filter on top: {:?}", c.plan) };
        let PhysicalPlan::Cached { rows, .. } = input.as_ref() else { panic!("join not cached: {input:?}") };
        assert_eq!(rows.computed_rows(), None, "nothing computed before the first run");
        let batch = Batch { columns: vec![Int64Array::from_vec(vec![11, 5, 22, 11, 21]).boxed()], n_rows: 5 };
        let out = c.evaluate(&batch).unwrap();
        let out = out.as_any().downcast_ref::<BooleanArray>().unwrap();
        let got: Vec<bool> = (0..5).map(|i| out.value(i)).collect();
        assert_eq!(got, vec![true, false, true, true, true]);
        assert_eq!(rows.computed_rows(), Some(4));
        // Answers are memoized across batches: 4 distinct outer values so far.
        assert_eq!(c.memo.lock().unwrap().len(), 4);
        let again = c.evaluate(&Batch { columns: vec![Int64Array::from_vec(vec![12]).boxed()], n_rows: 1 }).unwrap();
        assert!(again.as_any().downcast_ref::<BooleanArray>().unwrap().value(0));
        assert_eq!(c.memo.lock().unwrap().len(), 5);
    }

    #[test]
    fn plans_that_read_no_outer_value_or_only_scan_are_left_alone() {
        let values = PhysicalPlan::Values { rows: vec![vec![int(1)]], types: vec![DataType::BigInt] };
        let filtered = PhysicalPlan::Filter {
            input: Box::new(values),
            predicate: Expr::Compare {
                op: crate::CmpOp::Eq,
                left: Box::new(col(0)),
                right: Box::new(Expr::OuterRef { idx: 0, data_type: DataType::BigInt }),
            },
        };
        let out = cache_invariant(filtered);
        let PhysicalPlan::Filter { input, .. } = out else { panic!() };
        assert!(matches!(*input, PhysicalPlan::Values { .. }));
    }
}
