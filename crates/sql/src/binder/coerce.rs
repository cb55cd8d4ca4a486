//! Implicit casts, PostgreSQL style: numbers widen (SMALLINT < INTEGER < BIGINT < REAL <
//! DOUBLE), NULL takes any type, and a quoted literal has no type until its context gives it
//! one (`'42' + 1` is 43; `'abc' + 1` is an invalid-input error). Anything else needs an
//! explicit CAST.

use crate::error::{Result, SqlError};
use exec::kernels::cast::{can_cast, cast_value};
use exec::{ArithOp, CmpOp, DateOp, Expr, ScalarFunction};
use storage::{DataType, Value};

/// Whether `e` is a quoted string literal, whose type the context decides.
pub fn is_untyped_literal(e: &Expr) -> bool {
    // `CAST(NULL AS INTEGER)` is a NULL of type INTEGER, not an untyped NULL.
    matches!(
        e,
        Expr::Literal { value: Value::Text(_), .. } | Expr::Literal { value: Value::Null, data_type: DataType::Null }
    )
}

/// Casts `e` to `to`. Literals are cast right away, so a bad literal is reported at bind time.
pub fn cast_to(e: Expr, to: DataType) -> Result<Expr> {
    if e.data_type() == to {
        return Ok(e);
    }
    if let Expr::Literal { value, .. } = &e {
        let value = cast_value(value, to)?;
        return Ok(Expr::Literal { value, data_type: to });
    }
    if !can_cast(e.data_type(), to) {
        return crate::bind_err!("cannot cast type {} to {to}", e.data_type());
    }
    Ok(Expr::Cast { expr: Box::new(e), to })
}

/// Casts for an assignment into a column of type `to` (INSERT): numbers convert with range
/// checks, anything converts to text, text literals parse; other mismatches are errors.
pub fn assign_to(e: Expr, to: DataType, column: &str) -> Result<Expr> {
    let from = e.data_type();
    let ok = from == to
        || from == DataType::Null
        || is_untyped_literal(&e)
        || (from.is_numeric() && to.is_numeric())
        || to == DataType::Text
        || (from.is_temporal() && to.is_temporal());
    if !ok {
        return crate::bind_err!(
            "column \"{column}\" is of type {to} but expression is of type {from}; add an explicit CAST"
        );
    }
    cast_to(e, to)
}

fn wider(a: DataType, b: DataType) -> DataType {
    if a.numeric_rank() >= b.numeric_rank() {
        a
    } else {
        b
    }
}

/// The type both sides of a comparison are cast to.
pub fn comparison_type(l: &Expr, r: &Expr, op: &str) -> Result<DataType> {
    let (lt, rt) = (l.data_type(), r.data_type());
    Ok(match (lt, rt) {
        _ if lt == rt => lt,
        (DataType::Null, t) | (t, DataType::Null) => t,
        _ if is_untyped_literal(l) => rt,
        _ if is_untyped_literal(r) => lt,
        _ if lt.is_numeric() && rt.is_numeric() => wider(lt, rt),
        _ if lt.is_temporal() && rt.is_temporal() => DataType::Timestamp,
        _ => return no_operator(lt, op, rt),
    })
}

fn no_operator<T>(lt: DataType, op: &str, rt: DataType) -> Result<T> {
    crate::bind_err!("operator does not exist: {lt} {op} {rt}; add an explicit CAST")
}

/// `l op r` for a comparison operator.
pub fn compare(op: CmpOp, l: Expr, r: Expr) -> Result<Expr> {
    let t = comparison_type(&l, &r, op.symbol())?;
    let t = if t == DataType::Null { DataType::Boolean } else { t };
    Ok(Expr::Compare { op, left: Box::new(cast_to(l, t)?), right: Box::new(cast_to(r, t)?) })
}

/// `l op r` for an arithmetic operator, including date arithmetic.
pub fn arith(op: ArithOp, l: Expr, r: Expr) -> Result<Expr> {
    let (mut lt, mut rt) = (l.data_type(), r.data_type());
    // An untyped literal takes the other side's type (or INTEGER next to a date).
    if is_untyped_literal(&l) && !is_untyped_literal(&r) {
        lt = if rt == DataType::Date && op == ArithOp::Sub {
            DataType::Date
        } else if rt.is_temporal() {
            DataType::Integer
        } else {
            rt
        };
    } else if is_untyped_literal(&r)
        && lt == DataType::Timestamp
        && matches!(r, Expr::Literal { value: Value::Text(_), .. })
    {
        rt = DataType::Interval;
    } else if is_untyped_literal(&r) && !is_untyped_literal(&l) {
        rt = if lt == DataType::Date && op == ArithOp::Sub && matches!(r, Expr::Literal { value: Value::Text(_), .. }) {
            DataType::Date
        } else if lt.is_temporal() {
            DataType::Integer
        } else {
            lt
        };
    } else if lt == DataType::Null && rt == DataType::Null {
        lt = DataType::Integer;
        rt = DataType::Integer;
    }
    match (lt, rt, op) {
        (DataType::Date, t, ArithOp::Add | ArithOp::Sub) if t.is_integer() => Ok(Expr::DateArith {
            op: if op == ArithOp::Add { DateOp::AddDays } else { DateOp::SubDays },
            left: Box::new(cast_to(l, DataType::Date)?),
            right: Box::new(cast_to(r, DataType::Integer)?),
        }),
        (t, DataType::Date, ArithOp::Add) if t.is_integer() => Ok(Expr::DateArith {
            op: DateOp::AddDays,
            left: Box::new(cast_to(r, DataType::Date)?),
            right: Box::new(cast_to(l, DataType::Integer)?),
        }),
        (DataType::Date | DataType::Timestamp, DataType::Interval, ArithOp::Add | ArithOp::Sub) => {
            let func = if op == ArithOp::Add { ScalarFunction::AddInterval } else { ScalarFunction::SubInterval };
            Ok(Expr::Function {
                func,
                args: vec![cast_to(l, DataType::Timestamp)?, cast_to(r, DataType::Interval)?],
                data_type: DataType::Timestamp,
            })
        }
        (DataType::Interval, DataType::Date | DataType::Timestamp, ArithOp::Add) => Ok(Expr::Function {
            func: ScalarFunction::AddInterval,
            args: vec![cast_to(r, DataType::Timestamp)?, cast_to(l, DataType::Interval)?],
            data_type: DataType::Timestamp,
        }),
        (DataType::Timestamp, DataType::Timestamp | DataType::Date, ArithOp::Sub)
        | (DataType::Date, DataType::Timestamp, ArithOp::Sub) => Ok(Expr::Function {
            func: ScalarFunction::TimestampDiff,
            args: vec![cast_to(l, DataType::Timestamp)?, cast_to(r, DataType::Timestamp)?],
            data_type: DataType::Interval,
        }),
        (DataType::Interval, DataType::Interval, ArithOp::Add | ArithOp::Sub) => Ok(Expr::Function {
            func: if op == ArithOp::Add { ScalarFunction::IntervalAdd } else { ScalarFunction::IntervalSub },
            args: vec![cast_to(l, DataType::Interval)?, cast_to(r, DataType::Interval)?],
            data_type: DataType::Interval,
        }),
        // An untyped NULL next to an interval took the interval's type above; here it is the factor.
        (DataType::Interval, t, ArithOp::Mul | ArithOp::Div)
            if t.is_numeric() || (t == DataType::Interval && is_untyped_literal(&r)) =>
        {
            Ok(Expr::Function {
                func: if op == ArithOp::Mul { ScalarFunction::IntervalMul } else { ScalarFunction::IntervalDiv },
                args: vec![l, cast_to(r, DataType::Double)?],
                data_type: DataType::Interval,
            })
        }
        (t, DataType::Interval, ArithOp::Mul)
            if t.is_numeric() || (t == DataType::Interval && is_untyped_literal(&l)) =>
        {
            Ok(Expr::Function {
                func: ScalarFunction::IntervalMul,
                args: vec![r, cast_to(l, DataType::Double)?],
                data_type: DataType::Interval,
            })
        }
        (DataType::Date, DataType::Date, ArithOp::Sub) => Ok(Expr::DateArith {
            op: DateOp::DiffDays,
            left: Box::new(cast_to(l, DataType::Date)?),
            right: Box::new(cast_to(r, DataType::Date)?),
        }),
        _ => {
            let t = match (lt, rt) {
                (DataType::Null, t) | (t, DataType::Null) if t.is_numeric() => t,
                _ if lt.is_numeric() && rt.is_numeric() => wider(lt, rt),
                _ => return no_operator(lt, op.symbol(), rt),
            };
            Ok(Expr::Arith { op, left: Box::new(cast_to(l, t)?), right: Box::new(cast_to(r, t)?), data_type: t })
        }
    }
}

/// `l || r`: both sides as text; NULL if either is NULL.
pub fn concat(l: Expr, r: Expr) -> Result<Expr> {
    Ok(Expr::Function {
        func: ScalarFunction::ConcatOp,
        args: vec![cast_to(l, DataType::Text)?, cast_to(r, DataType::Text)?],
        data_type: DataType::Text,
    })
}

/// Checks that `e` is a boolean (or NULL, which becomes a boolean NULL).
pub fn boolean(e: Expr, context: &str) -> Result<Expr> {
    match e.data_type() {
        DataType::Boolean => Ok(e),
        DataType::Null => cast_to(e, DataType::Boolean),
        DataType::Text if is_untyped_literal(&e) => cast_to(e, DataType::Boolean),
        t => Err(SqlError::Bind {
            message: format!("argument of {context} must be type BOOLEAN, not type {t}"),
            pos: None,
        }),
    }
}

/// The common type of CASE branches, VALUES columns, COALESCE arguments.
pub fn common_type(exprs: &[&Expr], context: &str) -> Result<DataType> {
    let typed: Vec<DataType> = exprs.iter().filter(|e| !is_untyped_literal(e)).map(|e| e.data_type()).collect();
    if typed.is_empty() {
        // Only untyped literals: text if any is a string, else NULL.
        return Ok(if exprs.iter().any(|e| e.data_type() == DataType::Text) { DataType::Text } else { DataType::Null });
    }
    exec::functions::common_type(&typed).ok_or_else(|| {
        let names: Vec<String> = typed.iter().map(|t| t.to_string()).collect();
        SqlError::Bind { message: format!("{context} types {} cannot be matched", names.join(" and ")), pos: None }
    })
}
