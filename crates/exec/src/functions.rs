//! Scalar functions: name lookup, argument typing, and row-at-a-time evaluation.
//!
//! These run one row at a time over [`Value`]s; hot functions get vectorized kernels when a
//! benchmark asks for them.

use crate::error::{ExecError, Result};
use storage::{DataType, Value};

/// A built-in scalar function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScalarFunction {
    Abs,
    Coalesce,
    NullIf,
    Lower,
    Upper,
    Length,
    Round,
    Floor,
    Ceil,
    Sqrt,
    Power,
    Concat,
    Substring,
    Trim,
    Ltrim,
    Rtrim,
    Replace,
    Greatest,
    Least,
    /// The `||` operator: like concat() but NULL if either side is NULL.
    ConcatOp,
    DateTrunc,
    DatePart,
    /// `timestamp + interval` (operator only).
    AddInterval,
    /// `timestamp - interval` (operator only).
    SubInterval,
    /// `timestamp - timestamp` (operator only).
    TimestampDiff,
    /// `interval + interval` (operator only).
    IntervalAdd,
    /// `interval - interval` (operator only).
    IntervalSub,
    /// `interval * number` and `number * interval` (operator only).
    IntervalMul,
    /// `interval / number` (operator only).
    IntervalDiv,
    Now,
    CurrentDate,
    /// SQLite's `datetime(time, modifier...)`.
    SqliteDatetime,
    /// SQLite's `date(time, modifier...)`.
    SqliteDate,
    ToTimestamp,
    Ln,
    /// `log(x)` is base 10; `log(b, x)` is base `b`.
    Log,
    Log2,
    Exp,
    Mod,
    Sign,
    Trunc,
    Pi,
    /// `strpos(s, sub)` and `position(sub IN s)`: 1-based, 0 when absent.
    Strpos,
    SplitPart,
    Left,
    Right,
    StartsWith,
    Reverse,
    Repeat,
    Lpad,
    Rpad,
    /// `date_diff(unit, start, end)` / `datediff`: unit boundaries from start to end (DuckDB).
    DateDiff,
    /// `time_bucket(width, ts [, origin])` (DuckDB): the start of ts's bucket.
    TimeBucket,
    /// `date_bin(stride, ts, origin)` (PostgreSQL).
    DateBin,
    MakeDate,
    MakeTimestamp,
    /// `strftime(ts, format)` (DuckDB) or `strftime(format, time, modifier...)` (SQLite).
    Strftime,
    /// Seconds since 1970 as a double.
    Epoch,
    /// Milliseconds since 1970.
    EpochMs,
    Cbrt,
    /// `regexp_matches(s, p [, flags])` (DuckDB: true when `p` matches part of `s`), also
    /// `regexp_like` and the `~` operators.
    RegexpMatches,
    /// PostgreSQL's `to_char(timestamp, template)`.
    ToChar,
    /// `age(a, b)` / `age(a)`: a symbolic years-months-days difference (PostgreSQL).
    Age,
    RegexpFullMatch,
    /// `s SIMILAR TO p`: SQL's regular expressions (`%`, `_`, `|`, `*`, `+`, `()`, `[]`),
    /// matching the whole string.
    SimilarTo,
    RegexpReplace,
    RegexpExtract,
}

/// What the binder must do with a call's arguments: the types to cast them to, and the
/// result type.
#[derive(Debug, Clone, PartialEq)]
pub struct Signature {
    pub arg_types: Vec<DataType>,
    pub return_type: DataType,
}

/// The common type of several argument types, PostgreSQL style: numbers widen, NULL adapts,
/// anything else must match exactly.
pub fn common_type(types: &[DataType]) -> Option<DataType> {
    let mut acc = DataType::Null;
    for &t in types {
        acc = match (acc, t) {
            (DataType::Null, t) | (t, DataType::Null) => t,
            (a, b) if a == b => a,
            (a, b) if a.is_numeric() && b.is_numeric() => {
                if a.numeric_rank() >= b.numeric_rank() {
                    a
                } else {
                    b
                }
            }
            (DataType::Date, DataType::Timestamp) | (DataType::Timestamp, DataType::Date) => DataType::Timestamp,
            _ => return None,
        };
    }
    Some(acc)
}

impl ScalarFunction {
    /// The function called `name` (lower case), if there is one.
    pub fn lookup(name: &str) -> Option<ScalarFunction> {
        use ScalarFunction::*;
        Some(match name {
            "abs" => Abs,
            "coalesce" | "ifnull" => Coalesce,
            "nullif" => NullIf,
            "lower" => Lower,
            "upper" => Upper,
            "length" | "char_length" | "character_length" => Length,
            "round" => Round,
            "floor" => Floor,
            "ceil" | "ceiling" => Ceil,
            "sqrt" => Sqrt,
            "power" | "pow" => Power,
            "concat" => Concat,
            "substring" | "substr" => Substring,
            "trim" | "btrim" => Trim,
            "ltrim" => Ltrim,
            "rtrim" => Rtrim,
            "replace" => Replace,
            "greatest" => Greatest,
            "least" => Least,
            "date_trunc" => DateTrunc,
            "date_part" | "datepart" => DatePart,
            "now" | "current_timestamp" | "localtimestamp" | "transaction_timestamp" => Now,
            "current_date" | "today" => CurrentDate,
            "datetime" => SqliteDatetime,
            "date" => SqliteDate,
            "to_timestamp" => ToTimestamp,
            "ln" => Ln,
            "log" | "log10" => Log,
            "log2" => Log2,
            "exp" => Exp,
            "mod" => Mod,
            "sign" => Sign,
            "trunc" | "truncate" => Trunc,
            "pi" => Pi,
            "strpos" | "position" | "instr" => Strpos,
            "split_part" => SplitPart,
            "left" => Left,
            "right" => Right,
            "starts_with" => StartsWith,
            "reverse" => Reverse,
            "repeat" => Repeat,
            "lpad" => Lpad,
            "rpad" => Rpad,
            "date_diff" | "datediff" => DateDiff,
            "time_bucket" => TimeBucket,
            "date_bin" => DateBin,
            "make_date" => MakeDate,
            "make_timestamp" => MakeTimestamp,
            "strftime" => Strftime,
            "epoch" => Epoch,
            "epoch_ms" => EpochMs,
            "cbrt" => Cbrt,
            "regexp_matches" | "regexp_like" => RegexpMatches,
            "regexp_full_match" => RegexpFullMatch,
            "to_char" => ToChar,
            "age" => Age,
            "regexp_replace" => RegexpReplace,
            "regexp_extract" | "regexp_substr" => RegexpExtract,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        use ScalarFunction::*;
        match self {
            Abs => "abs",
            Coalesce => "coalesce",
            NullIf => "nullif",
            Lower => "lower",
            Upper => "upper",
            Length => "length",
            Round => "round",
            Floor => "floor",
            Ceil => "ceil",
            Sqrt => "sqrt",
            Power => "power",
            Concat => "concat",
            Substring => "substring",
            Trim => "trim",
            Ltrim => "ltrim",
            Rtrim => "rtrim",
            Replace => "replace",
            Greatest => "greatest",
            Least => "least",
            ConcatOp => "||",
            DateTrunc => "date_trunc",
            DatePart => "date_part",
            AddInterval => "+",
            SubInterval => "-",
            TimestampDiff => "-",
            Ln => "ln",
            Log => "log",
            Log2 => "log2",
            Exp => "exp",
            Mod => "mod",
            Sign => "sign",
            Trunc => "trunc",
            Pi => "pi",
            Strpos => "strpos",
            SplitPart => "split_part",
            Left => "left",
            Right => "right",
            StartsWith => "starts_with",
            Reverse => "reverse",
            Repeat => "repeat",
            Lpad => "lpad",
            Rpad => "rpad",
            DateDiff => "date_diff",
            TimeBucket => "time_bucket",
            DateBin => "date_bin",
            MakeDate => "make_date",
            MakeTimestamp => "make_timestamp",
            Strftime => "strftime",
            Epoch => "epoch",
            EpochMs => "epoch_ms",
            Cbrt => "cbrt",
            RegexpMatches => "regexp_matches",
            RegexpFullMatch => "regexp_full_match",
            SimilarTo => "similar_to",
            ToChar => "to_char",
            Age => "age",
            RegexpReplace => "regexp_replace",
            RegexpExtract => "regexp_extract",
            IntervalAdd => "+",
            IntervalSub => "-",
            IntervalMul => "*",
            IntervalDiv => "/",
            Now => "now",
            CurrentDate => "current_date",
            SqliteDatetime => "datetime",
            SqliteDate => "date",
            ToTimestamp => "to_timestamp",
        }
    }

    /// Types the arguments and the result, or says why the call is invalid.
    pub fn signature(self, args: &[DataType]) -> std::result::Result<Signature, String> {
        use DataType as T;
        use ScalarFunction::*;
        let n = args.len();
        let arity = |ok: bool, expected: &str| {
            if ok {
                Ok(())
            } else {
                Err(format!("function {}() takes {expected} argument(s), got {n}", self.name()))
            }
        };
        let numeric = |t: DataType| -> std::result::Result<DataType, String> {
            if t.is_numeric() {
                Ok(t)
            } else if t == T::Null {
                Ok(T::Double)
            } else {
                Err(format!("function {}({t}) does not exist: it needs a number", self.name()))
            }
        };
        let text = |t: DataType| -> std::result::Result<DataType, String> {
            if t == T::Text || t == T::Null {
                Ok(T::Text)
            } else {
                Err(format!("function {}({t}) does not exist: it needs text", self.name()))
            }
        };
        let int = |t: DataType| -> std::result::Result<DataType, String> {
            if t.is_integer() || t == T::Null {
                Ok(T::BigInt)
            } else {
                Err(format!("function {}() needs an integer argument, got {t}", self.name()))
            }
        };
        let timestamp = |t: DataType| -> std::result::Result<DataType, String> {
            if matches!(t, T::Date | T::Timestamp | T::Null) {
                Ok(T::Timestamp)
            } else {
                Err(format!("function {}() needs a date or timestamp, got {t}", self.name()))
            }
        };
        let sig = |arg_types: Vec<DataType>, return_type| Ok(Signature { arg_types, return_type });
        match self {
            Abs => {
                arity(n == 1, "1")?;
                let t = numeric(args[0])?;
                sig(vec![t], t)
            }
            Floor | Ceil => {
                arity(n == 1, "1")?;
                let t = numeric(args[0])?;
                let t = if t.is_integer() { t } else { T::Double };
                sig(vec![t], t)
            }
            Sqrt => {
                arity(n == 1, "1")?;
                numeric(args[0])?;
                sig(vec![T::Double], T::Double)
            }
            Power => {
                arity(n == 2, "2")?;
                numeric(args[0])?;
                numeric(args[1])?;
                sig(vec![T::Double, T::Double], T::Double)
            }
            Round => {
                arity(n == 1 || n == 2, "1 or 2")?;
                let t = numeric(args[0])?;
                let t = if t.is_integer() { t } else { T::Double };
                let mut types = vec![t];
                if n == 2 {
                    types.push(int(args[1])?);
                }
                sig(types, t)
            }
            Coalesce | Greatest | Least => {
                arity(n >= 1, "at least 1")?;
                let t = common_type(args).ok_or_else(|| {
                    let names: Vec<String> = args.iter().map(|t| t.to_string()).collect();
                    format!("{}() arguments have no common type: {}", self.name(), names.join(", "))
                })?;
                sig(vec![t; n], t)
            }
            NullIf => {
                arity(n == 2, "2")?;
                let t =
                    common_type(args).ok_or_else(|| format!("nullif() cannot compare {} with {}", args[0], args[1]))?;
                sig(vec![t, t], t)
            }
            Lower | Upper | Trim | Ltrim | Rtrim => {
                arity(n == 1 || (n == 2 && !matches!(self, Lower | Upper)), "1")?;
                let mut types = vec![text(args[0])?];
                if n == 2 {
                    types.push(text(args[1])?);
                }
                sig(types, T::Text)
            }
            Length => {
                arity(n == 1, "1")?;
                text(args[0])?;
                sig(vec![T::Text], T::Integer)
            }
            Concat => sig(vec![T::Text; n], T::Text),
            ConcatOp => {
                arity(n == 2, "2")?;
                sig(vec![T::Text; 2], T::Text)
            }
            DateTrunc | DatePart => {
                arity(n == 2, "2")?;
                text(args[0])?;
                let ts = match args[1] {
                    T::Date | T::Timestamp | T::Null => T::Timestamp,
                    T::Interval if self == DatePart => T::Interval,
                    t => {
                        return Err(format!("function {}(TEXT, {t}) does not exist: it needs a timestamp", self.name()))
                    }
                };
                sig(vec![T::Text, ts], if self == DateTrunc { T::Timestamp } else { T::Double })
            }
            AddInterval | SubInterval => sig(vec![T::Timestamp, T::Interval], T::Timestamp),
            TimestampDiff => sig(vec![T::Timestamp, T::Timestamp], T::Interval),
            IntervalAdd | IntervalSub => sig(vec![T::Interval, T::Interval], T::Interval),
            IntervalMul | IntervalDiv => sig(vec![T::Interval, T::Double], T::Interval),
            Now => {
                arity(n == 0, "0")?;
                sig(vec![], T::Timestamp)
            }
            CurrentDate => {
                arity(n == 0, "0")?;
                sig(vec![], T::Date)
            }
            SqliteDatetime | SqliteDate => {
                arity(n >= 1, "at least 1")?;
                let first = match args[0] {
                    T::Date | T::Timestamp => T::Timestamp,
                    _ => T::Text,
                };
                let mut types = vec![first];
                types.extend(std::iter::repeat_n(T::Text, n - 1));
                sig(types, if self == SqliteDate { T::Date } else { T::Timestamp })
            }
            ToTimestamp => {
                arity(n == 1, "1")?;
                numeric(args[0])?;
                sig(vec![T::Double], T::Timestamp)
            }
            Substring => {
                arity(n == 2 || n == 3, "2 or 3")?;
                let mut types = vec![text(args[0])?];
                for t in &args[1..] {
                    types.push(int(*t)?);
                }
                sig(types, T::Text)
            }
            Replace => {
                arity(n == 3, "3")?;
                for t in args {
                    text(*t)?;
                }
                sig(vec![T::Text; 3], T::Text)
            }
            SimilarTo => {
                arity(n == 2, "2")?;
                sig(vec![text(args[0])?, text(args[1])?], T::Boolean)
            }
            RegexpMatches | RegexpFullMatch => {
                arity(n == 2 || n == 3, "2 or 3")?;
                for t in args {
                    text(*t)?;
                }
                sig(vec![T::Text; n], T::Boolean)
            }
            RegexpReplace => {
                arity(n == 3 || n == 4, "3 or 4")?;
                for t in args {
                    text(*t)?;
                }
                sig(vec![T::Text; n], T::Text)
            }
            RegexpExtract => {
                arity(n == 2 || n == 3, "2 or 3")?;
                let mut types = vec![text(args[0])?, text(args[1])?];
                if n == 3 {
                    types.push(int(args[2])?);
                }
                sig(types, T::Text)
            }
            Ln | Log2 | Exp => {
                arity(n == 1, "1")?;
                numeric(args[0])?;
                sig(vec![T::Double], T::Double)
            }
            Log => {
                arity(n == 1 || n == 2, "1 or 2")?;
                for t in args {
                    numeric(*t)?;
                }
                sig(vec![T::Double; n], T::Double)
            }
            Pi => {
                arity(n == 0, "0")?;
                sig(vec![], T::Double)
            }
            Sign => {
                arity(n == 1, "1")?;
                numeric(args[0])?;
                sig(vec![T::Double], T::Double)
            }
            Mod => {
                arity(n == 2, "2")?;
                numeric(args[0])?;
                numeric(args[1])?;
                let t = common_type(args).unwrap_or(T::Double);
                sig(vec![t, t], t)
            }
            Trunc => {
                arity(n == 1 || n == 2, "1 or 2")?;
                numeric(args[0])?;
                let mut types = vec![T::Double];
                if n == 2 {
                    types.push(int(args[1])?);
                }
                sig(types, T::Double)
            }
            Strpos | StartsWith => {
                arity(n == 2, "2")?;
                text(args[0])?;
                text(args[1])?;
                sig(vec![T::Text, T::Text], if self == Strpos { T::Integer } else { T::Boolean })
            }
            SplitPart => {
                arity(n == 3, "3")?;
                text(args[0])?;
                text(args[1])?;
                sig(vec![T::Text, T::Text, int(args[2])?], T::Text)
            }
            Left | Right | Repeat => {
                arity(n == 2, "2")?;
                sig(vec![text(args[0])?, int(args[1])?], T::Text)
            }
            Reverse => {
                arity(n == 1, "1")?;
                sig(vec![text(args[0])?], T::Text)
            }
            Lpad | Rpad => {
                arity(n == 2 || n == 3, "2 or 3")?;
                let mut types = vec![text(args[0])?, int(args[1])?];
                if n == 3 {
                    types.push(text(args[2])?);
                }
                sig(types, T::Text)
            }
            DateDiff => {
                arity(n == 3, "3")?;
                text(args[0])?;
                let mut types = vec![T::Text];
                for &t in &args[1..] {
                    types.push(timestamp(t)?);
                }
                sig(types, T::BigInt)
            }
            TimeBucket | DateBin => {
                arity(
                    if self == DateBin { n == 3 } else { n == 2 || n == 3 },
                    if self == DateBin { "3" } else { "2 or 3" },
                )?;
                if !matches!(args[0], T::Interval | T::Null) {
                    return Err(format!(
                        "function {}() needs an interval as its first argument, got {}",
                        self.name(),
                        args[0]
                    ));
                }
                let mut types = vec![T::Interval, timestamp(args[1])?];
                if n == 3 {
                    types.push(timestamp(args[2])?);
                }
                let result = if args[1] == T::Date && self == TimeBucket { T::Date } else { T::Timestamp };
                sig(types, result)
            }
            MakeDate => {
                arity(n == 3, "3")?;
                let types = args.iter().map(|&t| int(t)).collect::<std::result::Result<Vec<_>, _>>()?;
                sig(types, T::Date)
            }
            MakeTimestamp => {
                arity(n == 6, "6")?;
                let mut types = args[..5].iter().map(|&t| int(t)).collect::<std::result::Result<Vec<_>, _>>()?;
                numeric(args[5])?;
                types.push(T::Double);
                sig(types, T::Timestamp)
            }
            Strftime => {
                arity(n >= 2, "at least 2")?;
                if matches!(args[0], T::Date | T::Timestamp) {
                    // DuckDB: strftime(time, format).
                    arity(n == 2, "2")?;
                    sig(vec![T::Timestamp, text(args[1])?], T::Text)
                } else {
                    // SQLite: strftime(format, time, modifier...).
                    let mut types = vec![text(args[0])?];
                    types.push(if matches!(args[1], T::Date | T::Timestamp) { T::Timestamp } else { text(args[1])? });
                    for &t in &args[2..] {
                        types.push(text(t)?);
                    }
                    sig(types, T::Text)
                }
            }
            ToChar => {
                arity(n == 2, "2")?;
                if args[0].is_numeric() {
                    return Err("to_char() of a number is not supported: use round() and CAST(... AS TEXT)".into());
                }
                sig(vec![timestamp(args[0])?, text(args[1])?], T::Text)
            }
            Age => {
                arity(n == 1 || n == 2, "1 or 2")?;
                let types = args.iter().map(|t| timestamp(*t)).collect::<std::result::Result<Vec<_>, _>>()?;
                sig(types, T::Interval)
            }
            Epoch | EpochMs => {
                arity(n == 1, "1")?;
                sig(vec![timestamp(args[0])?], if self == Epoch { T::Double } else { T::BigInt })
            }
            Cbrt => {
                arity(n == 1, "1")?;
                numeric(args[0])?;
                sig(vec![T::Double], T::Double)
            }
        }
    }

    /// Whether a NULL argument makes the result NULL without calling the function.
    pub fn null_propagating(self) -> bool {
        !matches!(
            self,
            ScalarFunction::Coalesce
                | ScalarFunction::NullIf
                | ScalarFunction::Concat
                | ScalarFunction::Greatest
                | ScalarFunction::Least
        )
    }

    /// Evaluates the function on one row of already-cast arguments.
    pub fn eval(self, args: &[Value], return_type: DataType) -> Result<Value> {
        use ScalarFunction::*;
        if self.null_propagating() && args.iter().any(Value::is_null) {
            return Ok(Value::Null);
        }
        let text = |v: &Value| match v {
            Value::Text(s) => s.clone(),
            other => other.to_string(),
        };
        let f = |v: &Value| v.as_f64().unwrap_or(0.0);
        let i = |v: &Value| v.as_i64().unwrap_or(0);
        Ok(match self {
            Abs => match &args[0] {
                Value::SmallInt(v) => Value::SmallInt(v.checked_abs().ok_or(ExecError::Overflow("smallint"))?),
                Value::Integer(v) => Value::Integer(v.checked_abs().ok_or(ExecError::Overflow("integer"))?),
                Value::BigInt(v) => Value::BigInt(v.checked_abs().ok_or(ExecError::Overflow("bigint"))?),
                Value::Real(v) => Value::Real(v.abs()),
                other => Value::Double(f(other).abs()),
            },
            Floor | Ceil | Round if return_type.is_integer() => args[0].clone(),
            Floor => Value::Double(f(&args[0]).floor()),
            Ceil => Value::Double(f(&args[0]).ceil()),
            Round => {
                let x = f(&args[0]);
                let digits = args.get(1).map_or(0, i).clamp(-300, 300) as i32;
                let scale = 10f64.powi(digits);
                let r = (x * scale).round() / scale;
                Value::Double(if r.is_finite() { r } else { x })
            }
            Sqrt => {
                let x = f(&args[0]);
                if x < 0.0 {
                    return Err(ExecError::InvalidArgument("cannot take square root of a negative number".into()));
                }
                Value::Double(x.sqrt())
            }
            Power => Value::Double(f(&args[0]).powf(f(&args[1]))),
            Coalesce => args.iter().find(|v| !v.is_null()).cloned().unwrap_or(Value::Null),
            NullIf => {
                if !args[0].is_null() && !args[1].is_null() && args[0].total_cmp(&args[1]).is_eq() {
                    Value::Null
                } else {
                    args[0].clone()
                }
            }
            Greatest | Least => {
                let mut best: Option<&Value> = None;
                for v in args.iter().filter(|v| !v.is_null()) {
                    best = match best {
                        None => Some(v),
                        Some(b) => {
                            let ord = v.total_cmp(b);
                            if (self == Greatest && ord.is_gt()) || (self == Least && ord.is_lt()) {
                                Some(v)
                            } else {
                                Some(b)
                            }
                        }
                    };
                }
                best.cloned().unwrap_or(Value::Null)
            }
            Lower => Value::Text(text(&args[0]).to_lowercase()),
            Upper => Value::Text(text(&args[0]).to_uppercase()),
            Length => Value::Integer(text(&args[0]).chars().count() as i32),
            Concat | ConcatOp => Value::Text(args.iter().filter(|v| !v.is_null()).map(text).collect()),
            DateTrunc | DatePart | AddInterval | SubInterval | TimestampDiff | IntervalAdd | IntervalSub
            | IntervalMul | IntervalDiv | Now | CurrentDate | SqliteDatetime | SqliteDate | ToTimestamp | DateDiff
            | TimeBucket | DateBin | MakeDate | MakeTimestamp | Strftime | Epoch | EpochMs | ToChar | Age => {
                return time_eval(self, args, return_type)
            }
            Cbrt => Value::Double(f(&args[0]).cbrt()),
            Substring => {
                let s: Vec<char> = text(&args[0]).chars().collect();
                let start = i(&args[1]);
                let (from, to) = match args.get(2) {
                    Some(len) => {
                        let len = i(len);
                        if len < 0 {
                            return Err(ExecError::InvalidArgument("negative substring length not allowed".into()));
                        }
                        (start, start.saturating_add(len))
                    }
                    None => (start, i64::MAX),
                };
                let from = from.max(1) as usize - 1;
                let to = to.clamp(1, s.len() as i64 + 1) as usize - 1;
                Value::Text(if from < to { s[from..to].iter().collect() } else { String::new() })
            }
            Trim | Ltrim | Rtrim => {
                let s = text(&args[0]);
                let chars: Vec<char> = args.get(1).map_or(vec![' '], |c| text(c).chars().collect());
                let pred = |c: char| chars.contains(&c);
                Value::Text(match self {
                    Trim => s.trim_matches(pred).to_string(),
                    Ltrim => s.trim_start_matches(pred).to_string(),
                    _ => s.trim_end_matches(pred).to_string(),
                })
            }
            RegexpMatches | RegexpFullMatch => {
                let s = text(&args[0]);
                let flags = args.get(2).map(text).unwrap_or_default();
                let anchored = self == RegexpFullMatch;
                Value::Boolean(regex_cached(&text(&args[1]), &flags, anchored, |re| re.is_match(&s))?)
            }
            SimilarTo => {
                let s = text(&args[0]);
                Value::Boolean(regex_cached(&similar_to_regex(&text(&args[1])), "s", true, |re| re.is_match(&s))?)
            }
            RegexpReplace => {
                let s = text(&args[0]);
                let flags = args.get(3).map(text).unwrap_or_default();
                let replacement = regex_replacement(&text(&args[2]));
                let global = flags.contains('g');
                let flags: String = flags.chars().filter(|c| *c != 'g').collect();
                Value::Text(regex_cached(&text(&args[1]), &flags, false, |re| {
                    if global {
                        re.replace_all(&s, replacement.as_str()).into_owned()
                    } else {
                        re.replace(&s, replacement.as_str()).into_owned()
                    }
                })?)
            }
            RegexpExtract => {
                let s = text(&args[0]);
                let group = args.get(2).map_or(0, i);
                let found = regex_cached(&text(&args[1]), "", false, |re| {
                    let group = usize::try_from(group).ok()?;
                    re.captures(&s).and_then(|c| c.get(group)).map(|m| m.as_str().to_string())
                })?;
                // DuckDB's regexp_extract gives '' where nothing matches (or no such group).
                Value::Text(found.unwrap_or_default())
            }
            Replace => {
                let from = text(&args[1]);
                let s = text(&args[0]);
                Value::Text(if from.is_empty() { s } else { s.replace(&from, &text(&args[2])) })
            }
            Ln | Log | Log2 => {
                let (base, x) = match (self, args) {
                    (Log, [b, x]) => (Some(f(b)), f(x)),
                    (Log, [x]) => (Some(10.0), f(x)),
                    (Log2, [x]) => (Some(2.0), f(x)),
                    (_, [x, ..]) => (None, f(x)),
                    _ => return Err(ExecError::Internal("log without arguments".into())),
                };
                if x == 0.0 {
                    return Err(ExecError::InvalidArgument("cannot take logarithm of zero".into()));
                }
                if x < 0.0 {
                    return Err(ExecError::InvalidArgument("cannot take logarithm of a negative number".into()));
                }
                match base {
                    None => Value::Double(x.ln()),
                    Some(b) if b <= 0.0 || b == 1.0 => {
                        return Err(ExecError::InvalidArgument(format!("invalid logarithm base {b}")))
                    }
                    Some(10.0) => Value::Double(x.log10()),
                    Some(2.0) => Value::Double(x.log2()),
                    Some(b) => Value::Double(x.ln() / b.ln()),
                }
            }
            Exp => {
                let r = f(&args[0]).exp();
                if r.is_infinite() {
                    return Err(ExecError::Overflow("double precision"));
                }
                Value::Double(r)
            }
            Pi => Value::Double(std::f64::consts::PI),
            Sign => {
                let x = f(&args[0]);
                Value::Double(if x == 0.0 || x.is_nan() { x } else { x.signum() })
            }
            Mod => match (&args[0], &args[1]) {
                (a, b) if return_type.is_integer() => {
                    let (a, b) = (i(a), i(b));
                    if b == 0 {
                        return Err(ExecError::DivisionByZero);
                    }
                    let r = a.checked_rem(b).unwrap_or(0);
                    match return_type {
                        DataType::SmallInt => Value::SmallInt(r as i16),
                        DataType::Integer => Value::Integer(r as i32),
                        _ => Value::BigInt(r),
                    }
                }
                (a, b) => {
                    let b = f(b);
                    if b == 0.0 {
                        return Err(ExecError::DivisionByZero);
                    }
                    let r = f(a) % b;
                    if return_type == DataType::Real {
                        Value::Real(r as f32)
                    } else {
                        Value::Double(r)
                    }
                }
            },
            Trunc => {
                let x = f(&args[0]);
                let digits = args.get(1).map_or(0, i).clamp(-300, 300) as i32;
                let scale = 10f64.powi(digits);
                let r = (x * scale).trunc() / scale;
                Value::Double(if r.is_finite() { r } else { x })
            }
            Strpos => {
                let (s, sub) = (text(&args[0]), text(&args[1]));
                Value::Integer(match s.find(&sub) {
                    Some(byte) => s[..byte].chars().count() as i32 + 1,
                    None => 0,
                })
            }
            StartsWith => Value::Boolean(text(&args[0]).starts_with(&text(&args[1]))),
            SplitPart => {
                let (s, delim, k) = (text(&args[0]), text(&args[1]), i(&args[2]));
                if k == 0 {
                    return Err(ExecError::InvalidArgument("field position must not be zero".into()));
                }
                let parts: Vec<&str> =
                    if delim.is_empty() { vec![s.as_str()] } else { s.split(delim.as_str()).collect() };
                let idx = if k > 0 {
                    usize::try_from(k - 1).ok()
                } else {
                    parts.len().checked_sub(k.unsigned_abs() as usize)
                };
                Value::Text(idx.and_then(|k| parts.get(k)).map_or(String::new(), |p| p.to_string()))
            }
            Left | Right => {
                let chars: Vec<char> = text(&args[0]).chars().collect();
                let len = chars.len() as i64;
                let k = i(&args[1]);
                // A negative count keeps all but |k| characters from the other end.
                let take = if k >= 0 { k.min(len) } else { (len + k).max(0) } as usize;
                Value::Text(if self == Left {
                    chars[..take].iter().collect()
                } else {
                    chars[chars.len() - take..].iter().collect()
                })
            }
            Reverse => Value::Text(text(&args[0]).chars().rev().collect()),
            Repeat => {
                let s = text(&args[0]);
                let k = i(&args[1]).max(0) as usize;
                if s.len().saturating_mul(k) > 1 << 30 {
                    return Err(ExecError::InvalidArgument("requested length too large".into()));
                }
                Value::Text(s.repeat(k))
            }
            Lpad | Rpad => {
                let s: Vec<char> = text(&args[0]).chars().collect();
                let len = i(&args[1]);
                if len > 1 << 28 {
                    return Err(ExecError::InvalidArgument("requested length too large".into()));
                }
                let len = len.max(0) as usize;
                let fill: Vec<char> = args.get(2).map_or(vec![' '], |v| text(v).chars().collect());
                if s.len() >= len || fill.is_empty() {
                    return Ok(Value::Text(s[..len.min(s.len())].iter().collect()));
                }
                let pad: String = fill.iter().cycle().take(len - s.len()).collect();
                let s: String = s.iter().collect();
                Value::Text(if self == Lpad { pad + &s } else { s + &pad })
            }
        })
    }
}

/// Runs `f` on the compiled form of `pattern` with `flags` (`i` case-insensitive, `c`
/// case-sensitive, `s` dot matches newline, `m`/`n` multi-line), compiled once per thread for
/// the recent patterns. `anchored` matches the whole string.
fn regex_cached<T>(pattern: &str, flags: &str, anchored: bool, f: impl FnOnce(&regex::Regex) -> T) -> Result<T> {
    use std::cell::RefCell;
    // (pattern, flags, anchored, compiled): looked up by borrowed strings, so a call for
    // each row allocates nothing once its pattern is compiled.
    type Entry = (String, String, bool, regex::Regex);
    thread_local! {
        static CACHE: RefCell<Vec<Entry>> = const { RefCell::new(Vec::new()) };
    }
    let hit = CACHE
        .with(|c| c.borrow().iter().find(|e| e.0 == pattern && e.1 == flags && e.2 == anchored).map(|e| e.3.clone()));
    if let Some(re) = hit {
        return Ok(f(&re));
    }
    let source = if anchored { format!("^(?:{pattern})$") } else { pattern.to_string() };
    let mut builder = regex::RegexBuilder::new(&source);
    // Bounded compile size: a pattern cannot take the process's memory.
    builder.size_limit(1 << 22).dfa_size_limit(1 << 22);
    for flag in flags.chars() {
        match flag {
            'i' => builder.case_insensitive(true),
            'c' => builder.case_insensitive(false),
            's' => builder.dot_matches_new_line(true),
            'm' | 'n' => builder.multi_line(true),
            other => return Err(ExecError::InvalidArgument(format!("invalid regular expression option: \"{other}\""))),
        };
    }
    let re = builder
        .build()
        .map_err(|e| ExecError::InvalidArgument(format!("invalid regular expression \"{pattern}\": {e}")))?;
    let out = f(&re);
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() >= 64 {
            c.clear();
        }
        c.push((pattern.to_string(), flags.to_string(), anchored, re));
    });
    Ok(out)
}

/// A SIMILAR TO pattern as a regex: `%` is `.*`, `_` is `.`, `\\x` is a literal x, other
/// characters that are special to the regex crate but not to SQL (`.`, `^`, `$`, `\\`) are
/// escaped; `| * + ? {} () []` keep their meaning.
fn similar_to_regex(p: &str) -> String {
    let mut out = String::with_capacity(p.len() + 8);
    let mut chars = p.chars();
    while let Some(c) = chars.next() {
        match c {
            '%' => out.push_str(".*"),
            '_' => out.push('.'),
            '\\' => match chars.next() {
                Some(x) => out.push_str(&regex::escape(&x.to_string())),
                None => out.push_str("\\\\"),
            },
            '.' | '^' | '$' => {
                out.push('\\');
                out.push(c);
            }
            other => out.push(other),
        }
    }
    out
}

/// A PostgreSQL/DuckDB replacement string (`\1` a group, `\&` or `\0` the match, `\\` a
/// backslash) in the regex crate's syntax (`${1}`, `$$` for a dollar).
fn regex_replacement(r: &str) -> String {
    let mut out = String::with_capacity(r.len());
    let mut chars = r.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.peek().copied() {
                Some(d) if d.is_ascii_digit() => {
                    chars.next();
                    out.push_str(&format!("${{{d}}}"));
                }
                Some('&') => {
                    chars.next();
                    out.push_str("${0}");
                }
                Some('\\') => {
                    chars.next();
                    out.push('\\');
                }
                _ => out.push('\\'),
            },
            '$' => out.push_str("$$"),
            other => out.push(other),
        }
    }
    out
}

fn interval_value(iv: crate::time::Interval) -> Value {
    Value::Interval { months: iv.months, days: iv.days, micros: iv.micros }
}

/// The date and time functions.
fn time_eval(func: ScalarFunction, args: &[Value], return_type: DataType) -> Result<Value> {
    use crate::time;
    use ScalarFunction::*;
    let ts = |v: &Value| match v {
        Value::Timestamp(t) => Ok(*t),
        other => Err(ExecError::Internal(format!("expected a timestamp, got {other:?}"))),
    };
    let interval = |v: &Value| match v {
        Value::Interval { months, days, micros } => {
            Ok(time::Interval { months: *months, days: *days, micros: *micros })
        }
        other => Err(ExecError::Internal(format!("expected an interval, got {other:?}"))),
    };
    let text = |v: &Value| match v {
        Value::Text(s) => s.clone(),
        other => other.to_string(),
    };
    Ok(match func {
        DateTrunc => Value::Timestamp(time::date_trunc(&text(&args[0]), ts(&args[1])?)?),
        DatePart => match &args[1] {
            Value::Interval { .. } => Value::Double(time::interval_part(&text(&args[0]), interval(&args[1])?)?),
            other => Value::Double(time::date_part(&text(&args[0]), ts(other)?)?),
        },
        AddInterval => Value::Timestamp(time::add_interval(ts(&args[0])?, interval(&args[1])?, 1)?),
        SubInterval => Value::Timestamp(time::add_interval(ts(&args[0])?, interval(&args[1])?, -1)?),
        TimestampDiff => interval_value(time::timestamp_diff(ts(&args[0])?, ts(&args[1])?)?),
        IntervalAdd | IntervalSub => {
            let sign = if func == IntervalAdd { 1 } else { -1 };
            interval_value(time::interval_add(interval(&args[0])?, interval(&args[1])?, sign)?)
        }
        IntervalMul | IntervalDiv => {
            let factor = args[1].as_f64().ok_or_else(|| ExecError::Internal("expected a number".into()))?;
            interval_value(time::interval_scale(interval(&args[0])?, factor, func == IntervalDiv)?)
        }
        Now => Value::Timestamp(time::now_micros()),
        CurrentDate => Value::Date(time::now_micros().div_euclid(storage::datetime::MICROS_PER_DAY) as i32),
        SqliteDatetime | SqliteDate => {
            let modifiers: Vec<String> = args[1..].iter().map(text).collect();
            let t = match &args[0] {
                Value::Timestamp(t) => time::sqlite_datetime(Some(*t), None, &modifiers)?,
                other => time::sqlite_datetime(None, Some(&text(other)), &modifiers)?,
            };
            if func == SqliteDate {
                Value::Date(t.div_euclid(storage::datetime::MICROS_PER_DAY) as i32)
            } else {
                Value::Timestamp(t)
            }
        }
        ToTimestamp => {
            let secs = args[0].as_f64().unwrap_or(0.0);
            let micros = (secs * 1e6).round();
            if !micros.is_finite() || micros.abs() > 9.2e18 {
                return Err(ExecError::Overflow("timestamp"));
            }
            Value::Timestamp(micros as i64)
        }
        DateDiff => Value::BigInt(time::date_diff(&text(&args[0]), ts(&args[1])?, ts(&args[2])?)?),
        TimeBucket | DateBin => {
            let origin = args.get(2).map(ts).transpose()?;
            let bucket = time::time_bucket(interval(&args[0])?, ts(&args[1])?, origin)?;
            if return_type == DataType::Date {
                Value::Date(bucket.div_euclid(storage::datetime::MICROS_PER_DAY) as i32)
            } else {
                Value::Timestamp(bucket)
            }
        }
        MakeDate => {
            let p = |k: usize| args[k].as_i64().unwrap_or(0);
            Value::Date(time::make_date(p(0), p(1), p(2))? as i32)
        }
        MakeTimestamp => {
            let p = |k: usize| args[k].as_i64().unwrap_or(0);
            let days = time::make_date(p(0), p(1), p(2))?;
            let secs = args[5].as_f64().unwrap_or(0.0);
            let (h, mi) = (p(3), p(4));
            if !(0..24).contains(&h) || !(0..60).contains(&mi) || !(0.0..60.0).contains(&secs) {
                return Err(ExecError::InvalidArgument(format!("time field value out of range: {h}:{mi}:{secs}")));
            }
            let micros = days * storage::datetime::MICROS_PER_DAY
                + h * 3_600_000_000
                + mi * 60_000_000
                + (secs * 1e6).round() as i64;
            Value::Timestamp(micros)
        }
        Age => {
            // age(x) is age(current_date, x): from midnight of today.
            let today =
                time::now_micros().div_euclid(storage::datetime::MICROS_PER_DAY) * storage::datetime::MICROS_PER_DAY;
            let (a, b) = match args {
                [x] => (today, ts(x)?),
                [a, b, ..] => (ts(a)?, ts(b)?),
                [] => return Err(ExecError::Internal("age() without arguments".into())),
            };
            interval_value(time::age(a, b)?)
        }
        ToChar => match &args[0] {
            Value::Timestamp(t) => Value::Text(time::to_char(*t, &text(&args[1]))?),
            other => return Err(ExecError::Internal(format!("to_char of {other:?}"))),
        },
        Strftime => {
            let (format, at) = match (&args[0], &args[1]) {
                (Value::Timestamp(t), f) => (text(f), *t),
                (f, Value::Timestamp(t)) => {
                    let modifiers: Vec<String> = args[2..].iter().map(text).collect();
                    (text(f), time::sqlite_datetime(Some(*t), None, &modifiers)?)
                }
                (f, other) => {
                    let modifiers: Vec<String> = args[2..].iter().map(text).collect();
                    (text(f), time::sqlite_datetime(None, Some(&text(other)), &modifiers)?)
                }
            };
            Value::Text(time::strftime(&format, at)?)
        }
        Epoch => Value::Double(ts(&args[0])? as f64 / 1e6),
        EpochMs => Value::BigInt(ts(&args[0])?.div_euclid(1000)),
        other => return Err(ExecError::Internal(format!("{} is not a time function", other.name()))),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_and_eval() {
        let f = ScalarFunction::lookup("coalesce").unwrap();
        let sig = f.signature(&[DataType::Null, DataType::Integer, DataType::Double]).unwrap();
        assert_eq!(sig.return_type, DataType::Double);
        assert_eq!(f.eval(&[Value::Null, Value::Double(2.0)], DataType::Double).unwrap(), Value::Double(2.0));
        assert!(ScalarFunction::Abs.signature(&[DataType::Text]).is_err());
        let sub = ScalarFunction::Substring;
        assert_eq!(
            sub.eval(&[Value::from("hello"), Value::BigInt(2), Value::BigInt(3)], DataType::Text).unwrap(),
            Value::from("ell")
        );
        assert_eq!(
            sub.eval(&[Value::from("hello"), Value::BigInt(0), Value::BigInt(2)], DataType::Text).unwrap(),
            Value::from("h")
        );
        assert_eq!(
            ScalarFunction::Abs.eval(&[Value::Integer(i32::MIN)], DataType::Integer),
            Err(ExecError::Overflow("integer"))
        );
        assert_eq!(
            ScalarFunction::NullIf.eval(&[Value::Integer(1), Value::Integer(1)], DataType::Integer).unwrap(),
            Value::Null
        );
    }
}
