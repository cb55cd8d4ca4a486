//! SeriesExec: `generate_series(start, stop [, step])` and `range(start, stop [, step])` as a
//! source of rows, produced a batch at a time so that `LIMIT` stops it early.

use super::{Flow, Sink};
use crate::error::{ExecError, Result};
use crate::expr::Expr;
use crate::time::{add_interval, Interval};
use arrow::array::PrimitiveArray;
use storage::{Batch, DataType, Value};

/// Integers (BIGINT) or timestamps stepped by an interval.
pub(super) fn run_series(args: &[Expr], inclusive: bool, data_type: DataType, sink: &mut dyn Sink) -> Result<Flow> {
    let values: Vec<Value> = args.iter().map(Expr::evaluate_constant).collect::<Result<_>>()?;
    // Any NULL argument: no rows, as in PostgreSQL and DuckDB.
    if values.iter().any(|v| matches!(v, Value::Null)) {
        return Ok(Flow::Continue);
    }
    let batch_size = crate::batch_size();
    match data_type {
        DataType::Timestamp => {
            let ts = |v: &Value| match v {
                Value::Timestamp(t) => Ok(*t),
                Value::Date(d) => Ok(*d as i64 * storage::datetime::MICROS_PER_DAY),
                other => Err(ExecError::Internal(format!("series bound {other:?} is not a timestamp"))),
            };
            let (start, stop) = (ts(&values[0])?, ts(&values[1])?);
            let step = match values.get(2) {
                Some(Value::Interval { months, days, micros }) => {
                    Interval { months: *months, days: *days, micros: *micros }
                }
                _ => return Err(ExecError::InvalidArgument("a timestamp series needs an INTERVAL step".into())),
            };
            // The sign of a step with mixed parts: the direction it moves a timestamp.
            let probe = add_interval(start, step, 1)?;
            if probe == start {
                return Err(ExecError::InvalidArgument("step size cannot equal zero".into()));
            }
            let up = probe > start;
            let within =
                |t: i64| if up { t < stop || (inclusive && t == stop) } else { t > stop || (inclusive && t == stop) };
            let mut current = Some(start);
            loop {
                let mut out = Vec::with_capacity(batch_size);
                while let Some(t) = current {
                    if !within(t) || out.len() == batch_size {
                        break;
                    }
                    out.push(t);
                    // Repeated additions, as PostgreSQL and DuckDB step (Jan 30 + 1 month is
                    // Feb 28, then Mar 28). Past the representable range the series ends.
                    // A step that stops moving in its direction (`1 month -30 days` in February)
                    // ends it too, so the series always ends.
                    current = add_interval(t, step, 1).ok().filter(|&n| if up { n > t } else { n < t });
                }
                if out.is_empty() {
                    return Ok(Flow::Continue);
                }
                let n = out.len();
                let array = PrimitiveArray::<i64>::from_vec(out).to(DataType::Timestamp.to_arrow());
                crate::interrupt::check()?;
                if let Flow::Stop = sink.push(Batch { columns: vec![Box::new(array)], n_rows: n })? {
                    return Ok(Flow::Stop);
                }
            }
        }
        _ => {
            let int = |v: &Value| match v {
                Value::SmallInt(i) => Ok(*i as i64),
                Value::Integer(i) => Ok(*i as i64),
                Value::BigInt(i) => Ok(*i),
                other => Err(ExecError::Internal(format!("series bound {other:?} is not an integer"))),
            };
            let (start, stop) = (int(&values[0])?, int(&values[1])?);
            let step = match values.get(2) {
                Some(v) => int(v)?,
                None => 1,
            };
            if step == 0 {
                return Err(ExecError::InvalidArgument("step size cannot equal zero".into()));
            }
            let mut current = Some(start);
            while let Some(first) = current {
                let mut out = Vec::with_capacity(batch_size);
                let mut next = Some(first);
                while let Some(v) = next {
                    let within = if step > 0 {
                        v < stop || (inclusive && v == stop)
                    } else {
                        v > stop || (inclusive && v == stop)
                    };
                    if !within || out.len() == batch_size {
                        break;
                    }
                    out.push(v);
                    next = v.checked_add(step);
                }
                current = next.filter(|_| out.len() == batch_size);
                if out.is_empty() {
                    break;
                }
                let n = out.len();
                let array = PrimitiveArray::<i64>::from_vec(out);
                crate::interrupt::check()?;
                if let Flow::Stop = sink.push(Batch { columns: vec![Box::new(array)], n_rows: n })? {
                    return Ok(Flow::Stop);
                }
            }
            Ok(Flow::Continue)
        }
    }
}
