//! Zone-map pruning: a scan skips a row group of a column file when its min/max/NULL count
//! prove that the scan's filter is not true for any row.
//!
//! Only the filter's top-level conjuncts of the forms `column op literal`, `literal op column`
//! (same types on both sides, as the binder leaves them when no cast is needed) and
//! `column IS [NOT] NULL` are used; anything else never skips.

use crate::expr::Expr;
use crate::kernels::compare::CmpOp;
use std::cmp::Ordering;
use storage::{Value, ZoneMap};

#[derive(Debug)]
enum Test {
    Cmp { col: usize, op: CmpOp, value: Value },
    IsNull { col: usize, negated: bool },
}

/// The prunable conjuncts of a scan filter, with table column indexes.
#[derive(Debug)]
pub(super) struct RowGroupFilter {
    tests: Vec<Test>,
}

fn flip(op: CmpOp) -> CmpOp {
    match op {
        CmpOp::Lt => CmpOp::Gt,
        CmpOp::LtEq => CmpOp::GtEq,
        CmpOp::Gt => CmpOp::Lt,
        CmpOp::GtEq => CmpOp::LtEq,
        other => other,
    }
}

impl RowGroupFilter {
    /// `filter` refers to the scan's output columns; `columns[i]` is the table column of
    /// output column `i`.
    pub(super) fn new(filter: &Expr, columns: &[usize]) -> RowGroupFilter {
        let mut tests = Vec::new();
        collect(filter, columns, &mut tests);
        RowGroupFilter { tests }
    }

    /// Whether no row of `part` can pass the filter.
    pub(super) fn skips(&self, part: &mvcc::ScanPart) -> bool {
        self.tests.iter().any(|test| match test {
            Test::Cmp { col, op, value } => part.zone_map(*col).is_some_and(|zm| cannot_hold(zm, *op, value)),
            Test::IsNull { col, negated } => {
                part.zone_map(*col).is_some_and(|zm| if *negated { zm.all_null() } else { zm.null_count == 0 })
            }
        })
    }
}

fn collect(e: &Expr, columns: &[usize], out: &mut Vec<Test>) {
    match e {
        Expr::And(a, b) => {
            collect(a, columns, out);
            collect(b, columns, out);
        }
        Expr::Compare { op, left, right } => {
            let (col, op, value, data_type) = match (left.as_ref(), right.as_ref()) {
                (Expr::Column { idx, data_type, .. }, Expr::Literal { value, .. }) => (*idx, *op, value, *data_type),
                (Expr::Literal { value, .. }, Expr::Column { idx, data_type, .. }) => {
                    (*idx, flip(*op), value, *data_type)
                }
                _ => return,
            };
            if value.is_null() || value.data_type() != data_type {
                return;
            }
            if let Some(&col) = columns.get(col) {
                out.push(Test::Cmp { col, op, value: value.clone() });
            }
        }
        Expr::IsNull { expr, negated } => {
            if let Expr::Column { idx, .. } = expr.as_ref() {
                if let Some(&col) = columns.get(*idx) {
                    out.push(Test::IsNull { col, negated: *negated });
                }
            }
        }
        _ => {}
    }
}

/// SQL order of two non-NULL values of one type: doubles numerically (`-0.0 = 0.0`) with NaN
/// above everything, as the comparison kernels order them.
fn sql_cmp(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Double(_) | Value::Real(_), Value::Double(_) | Value::Real(_)) => {
            let (x, y) = (a.as_f64()?, b.as_f64()?);
            Some(match (x.is_nan(), y.is_nan()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                (false, false) => x.partial_cmp(&y)?,
            })
        }
        (Value::Interval { .. }, _) | (_, Value::Interval { .. }) => None,
        _ if a.data_type() == b.data_type() => Some(a.total_cmp(b)),
        _ => None,
    }
}

/// Whether `column op value` is true for no row of a chunk with zone map `zm`.
fn cannot_hold(zm: &ZoneMap, op: CmpOp, value: &Value) -> bool {
    if zm.n_rows == 0 || zm.all_null() {
        // Comparisons with NULL are never true.
        return true;
    }
    if zm.min.is_null() || zm.max.is_null() {
        return false;
    }
    let (Some(vs_min), Some(vs_max)) = (sql_cmp(value, &zm.min), sql_cmp(value, &zm.max)) else {
        return false;
    };
    match op {
        CmpOp::Eq => vs_min == Ordering::Less || vs_max == Ordering::Greater,
        CmpOp::Lt => vs_min != Ordering::Greater, // value <= min: no row below it
        CmpOp::LtEq => vs_min == Ordering::Less,  // value < min
        CmpOp::Gt => vs_max != Ordering::Less,    // value >= max
        CmpOp::GtEq => vs_max == Ordering::Greater, // value > max
        CmpOp::NotEq => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zm(min: Value, max: Value, null_count: u64) -> ZoneMap {
        ZoneMap { min, max, null_count, n_rows: 10 }
    }

    #[test]
    fn bounds_decide() {
        let z = zm(Value::BigInt(10), Value::BigInt(20), 0);
        let b = Value::BigInt;
        assert!(cannot_hold(&z, CmpOp::Eq, &b(9)));
        assert!(!cannot_hold(&z, CmpOp::Eq, &b(10)));
        assert!(cannot_hold(&z, CmpOp::Lt, &b(10)));
        assert!(!cannot_hold(&z, CmpOp::Lt, &b(11)));
        assert!(cannot_hold(&z, CmpOp::LtEq, &b(9)));
        assert!(!cannot_hold(&z, CmpOp::LtEq, &b(10)));
        assert!(cannot_hold(&z, CmpOp::Gt, &b(20)));
        assert!(!cannot_hold(&z, CmpOp::Gt, &b(19)));
        assert!(cannot_hold(&z, CmpOp::GtEq, &b(21)));
        assert!(!cannot_hold(&z, CmpOp::GtEq, &b(20)));
        assert!(!cannot_hold(&z, CmpOp::NotEq, &b(15)));
        assert!(cannot_hold(&zm(Value::Null, Value::Null, 10), CmpOp::Eq, &b(1)), "all NULL");
        // Doubles: -0 equals 0; NaN is the largest value.
        let d = zm(Value::Double(-0.0), Value::Double(f64::NAN), 0);
        assert!(!cannot_hold(&d, CmpOp::Eq, &Value::Double(0.0)));
        assert!(!cannot_hold(&d, CmpOp::Eq, &Value::Double(f64::NAN)));
        assert!(!cannot_hold(&d, CmpOp::Gt, &Value::Double(1e300)));
        assert!(cannot_hold(&zm(Value::Double(1.0), Value::Double(2.0), 0), CmpOp::Eq, &Value::Double(f64::NAN)));
        // Text bounds are prefixes: still bounds.
        let t = zm(Value::Text("apple".into()), Value::Text("banana".into()), 0);
        assert!(cannot_hold(&t, CmpOp::Eq, &Value::Text("cherry".into())));
        assert!(!cannot_hold(&t, CmpOp::Eq, &Value::Text("avocado".into())));
    }

    #[test]
    fn only_plain_conjuncts_are_used() {
        let col = |idx: usize| Expr::Column { idx, name: "c".into(), data_type: storage::DataType::BigInt };
        let lit = |v: i64| Expr::literal(Value::BigInt(v));
        let cmp = |op, l: Expr, r: Expr| Expr::Compare { op, left: Box::new(l), right: Box::new(r) };
        let filter = Expr::And(
            Box::new(cmp(CmpOp::Gt, lit(5), col(0))),
            Box::new(Expr::Or(Box::new(cmp(CmpOp::Eq, col(1), lit(1))), Box::new(cmp(CmpOp::Eq, col(1), lit(2))))),
        );
        let f = RowGroupFilter::new(&filter, &[3, 4]);
        assert_eq!(f.tests.len(), 1);
        assert!(matches!(f.tests[0], Test::Cmp { col: 3, op: CmpOp::Lt, .. }));
    }
}
