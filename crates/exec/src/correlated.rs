//! Correlated subqueries, evaluated by re-running the subquery's plan for each distinct
//! combination of the outer values it reads (memoized per batch).

use crate::error::{ExecError, Result};
use crate::expr::Expr;
use crate::operator::{collect, PhysicalPlan};
use crate::row_key::encode_rows;
use arrow::array::Array;
use std::collections::HashMap;
use std::sync::Arc;
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
}

impl PartialEq for Correlated {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.plan, &other.plan) && self.captures == other.captures && self.kind == other.kind
    }
}

impl Correlated {
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
        let bind = |e: &mut Expr| bind_outer(e, outer);
        collect(&self.plan.map_exprs(&bind))
    }

    pub(crate) fn evaluate(&self, batch: &Batch) -> Result<ArrayRef> {
        let captured = self.captures.iter().map(|c| c.evaluate(batch)).collect::<Result<Vec<_>>>()?;
        let refs: Vec<&dyn Array> = captured.iter().map(|a| a.as_ref()).collect();
        let keys = encode_rows(&refs, batch.n_rows)?;
        let needle = match &self.kind {
            CorrelatedKind::In { needle, .. } => Some(needle.evaluate(batch)?),
            _ => None,
        };
        // Subquery results by outer values: the rows' first column (or the row count).
        let mut memo: HashMap<Vec<u8>, (usize, Vec<Value>)> = HashMap::new();
        let mut out = Vec::with_capacity(batch.n_rows);
        for (row_idx, key) in keys.into_iter().enumerate() {
            if !memo.contains_key(&key) {
                let outer: Vec<Value> = refs.iter().map(|a| Value::from_array(*a, row_idx)).collect();
                let batches = self.run_once(&outer)?;
                let n_rows = batches.iter().map(|b| b.n_rows).sum();
                let values = if matches!(self.kind, CorrelatedKind::Exists) {
                    Vec::new()
                } else {
                    batches.iter().flat_map(|b| (0..b.n_rows).map(move |r| Value::from_array(b.column(0), r))).collect()
                };
                memo.insert(key.clone(), (n_rows, values));
            }
            let (n_rows, values) = &memo[&key];
            out.push(match &self.kind {
                CorrelatedKind::Scalar => {
                    if *n_rows > 1 {
                        return Err(ExecError::InvalidArgument(
                            "more than one row returned by a subquery used as an expression".into(),
                        ));
                    }
                    values.first().cloned().unwrap_or(Value::Null)
                }
                CorrelatedKind::Exists => Value::Boolean(*n_rows > 0),
                CorrelatedKind::In { op, all, .. } => {
                    let n = needle.as_ref().map_or(Value::Null, |a| Value::from_array(a.as_ref(), row_idx));
                    quantified(&n, values, *op, *all)
                }
            });
        }
        Ok(values_to_array(self.data_type, &out))
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
