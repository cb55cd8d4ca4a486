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
    /// Whether `needle` equals one of its values, with SQL's NULL semantics.
    In { needle: Expr },
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
        if let CorrelatedKind::In { needle } = &self.kind {
            v.push(needle);
        }
        v
    }

    pub(crate) fn children_mut(&mut self) -> Vec<&mut Expr> {
        let mut v: Vec<&mut Expr> = self.captures.iter_mut().collect();
        if let CorrelatedKind::In { needle } = &mut self.kind {
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
            CorrelatedKind::In { needle } => Some(needle.evaluate(batch)?),
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
                CorrelatedKind::In { .. } => {
                    let n = needle.as_ref().map_or(Value::Null, |a| Value::from_array(a.as_ref(), row_idx));
                    in_list(&n, values)
                }
            });
        }
        Ok(values_to_array(self.data_type, &out))
    }
}

/// `needle IN (values)` with three-valued logic.
fn in_list(needle: &Value, values: &[Value]) -> Value {
    if values.is_empty() {
        return Value::Boolean(false);
    }
    if needle.is_null() {
        return Value::Null;
    }
    let mut saw_null = false;
    for v in values {
        if v.is_null() {
            saw_null = true;
        } else if v.total_cmp(needle).is_eq() || (v.as_f64().is_some() && v.as_f64() == needle.as_f64()) {
            return Value::Boolean(true);
        }
    }
    if saw_null {
        Value::Null
    } else {
        Value::Boolean(false)
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
