//! Date and time arithmetic behind date_trunc, EXTRACT / date_part, interval literals and
//! `timestamp ± interval`, and the SQLite spellings `datetime('now', '-1 day')` / `date(x)`.
//! Timestamps are microseconds since 1970-01-01 00:00:00 (no time zone).

use crate::error::{ExecError, Result};
use storage::datetime::{civil_from_days, days_from_civil, days_in_month, parse_timestamp, MICROS_PER_DAY};

pub(crate) const MICROS_PER_HOUR: i64 = 3_600_000_000;
pub(crate) const MICROS_PER_MINUTE: i64 = 60_000_000;
pub(crate) const MICROS_PER_SECOND: i64 = 1_000_000;

/// An interval: months, days and microseconds, kept apart as PostgreSQL does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Interval {
    pub months: i32,
    pub days: i32,
    pub micros: i64,
}

fn bad_interval(text: &str) -> ExecError {
    ExecError::InvalidCast { value: text.to_string(), to: storage::DataType::Interval }
}

/// Parses PostgreSQL interval text: `1 day`, `-2 hours 30 minutes`, `1 year 2 mons`,
/// `3 days 04:05:06.5`, `90 minutes`. A bare number takes `default_unit` (or seconds).
pub fn parse_interval(text: &str, default_unit: Option<&str>) -> Result<Interval> {
    let mut out = Interval::default();
    let tokens: Vec<&str> = text.split_whitespace().collect();
    if tokens.is_empty() {
        return Err(bad_interval(text));
    }
    let mut idx = 0;
    while idx < tokens.len() {
        let tok = tokens[idx];
        if tok.contains(':') {
            let (neg, body) = match tok.strip_prefix('-') {
                Some(b) => (true, b),
                None => (false, tok.strip_prefix('+').unwrap_or(tok)),
            };
            let parts: Vec<&str> = body.split(':').collect();
            let num = |s: &str| s.parse::<f64>().map_err(|_| bad_interval(text));
            let (h, m, s) = match parts.as_slice() {
                [h, m] => (num(h)?, num(m)?, 0.0),
                [h, m, s] => (num(h)?, num(m)?, num(s)?),
                _ => return Err(bad_interval(text)),
            };
            let micros = ((h * 3600.0 + m * 60.0 + s) * 1e6).round() as i64;
            out.micros += if neg { -micros } else { micros };
            idx += 1;
            continue;
        }
        let value: f64 = tok.parse().map_err(|_| bad_interval(text))?;
        let unit = match tokens.get(idx + 1) {
            Some(u) if u.parse::<f64>().is_err() && !u.contains(':') => {
                idx += 2;
                u.to_ascii_lowercase()
            }
            _ => {
                idx += 1;
                default_unit.unwrap_or("second").to_string()
            }
        };
        add_unit(&mut out, value, unit.trim_end_matches(','), text)?;
    }
    Ok(out)
}

fn add_unit(out: &mut Interval, value: f64, unit: &str, text: &str) -> Result<()> {
    let unit = match unit {
        "s" | "ms" | "us" => unit,
        u => u.strip_suffix('s').unwrap_or(u),
    };
    let whole_months = |m: f64| -> Result<i32> {
        let r = m.round();
        if (r - m).abs() > 1e-9 {
            return Err(bad_interval(text));
        }
        i32::try_from(r as i64).map_err(|_| ExecError::Overflow("interval"))
    };
    match unit {
        "microsecond" | "us" | "usec" => out.micros += value.round() as i64,
        "millisecond" | "ms" | "msec" => out.micros += (value * 1e3).round() as i64,
        "second" | "sec" | "s" => out.micros += (value * 1e6).round() as i64,
        "minute" | "min" | "m" => out.micros += (value * 6e7).round() as i64,
        "hour" | "hr" | "h" => out.micros += (value * 3.6e9).round() as i64,
        "day" | "d" => {
            out.days += value.trunc() as i32;
            out.micros += (value.fract() * MICROS_PER_DAY as f64).round() as i64;
        }
        "week" | "w" => {
            let days = value * 7.0;
            out.days += days.trunc() as i32;
            out.micros += (days.fract() * MICROS_PER_DAY as f64).round() as i64;
        }
        "mon" | "month" => out.months += whole_months(value)?,
        "year" | "y" | "yr" => out.months += whole_months(value * 12.0)?,
        "decade" => out.months += whole_months(value * 120.0)?,
        "century" | "centurie" => out.months += whole_months(value * 1200.0)?,
        _ => return Err(bad_interval(text)),
    }
    Ok(())
}

/// Adds `months` to a timestamp, clamping the day to the target month's length.
fn add_months(ts: i64, months: i32) -> Option<i64> {
    if months == 0 {
        return Some(ts);
    }
    let days = ts.div_euclid(MICROS_PER_DAY);
    let time = ts.rem_euclid(MICROS_PER_DAY);
    let (y, m, d) = civil_from_days(days);
    let total = y.checked_mul(12)? + (m as i64 - 1) + months as i64;
    let (ny, nm) = (total.div_euclid(12), (total.rem_euclid(12) + 1) as u32);
    let nd = d.min(days_in_month(ny, nm));
    days_from_civil(ny, nm, nd).checked_mul(MICROS_PER_DAY)?.checked_add(time)
}

/// `ts + sign * interval`.
pub fn add_interval(ts: i64, iv: Interval, sign: i64) -> Result<i64> {
    let overflow = || ExecError::Overflow("timestamp");
    let ts = add_months(ts, (iv.months as i64 * sign) as i32).ok_or_else(overflow)?;
    let delta = (iv.days as i64 * sign)
        .checked_mul(MICROS_PER_DAY)
        .and_then(|d| d.checked_add(iv.micros.checked_mul(sign)?))
        .ok_or_else(overflow)?;
    ts.checked_add(delta).ok_or_else(overflow)
}

/// `a + sign * b`, field by field, as PostgreSQL adds intervals (`1 mon` + `-30 days` stays
/// `1 mon -30 days`).
pub fn interval_add(a: Interval, b: Interval, sign: i32) -> Result<Interval> {
    let overflow = || ExecError::Overflow("interval");
    Ok(Interval {
        months: b.months.checked_mul(sign).and_then(|m| a.months.checked_add(m)).ok_or_else(overflow)?,
        days: b.days.checked_mul(sign).and_then(|d| a.days.checked_add(d)).ok_or_else(overflow)?,
        micros: b.micros.checked_mul(sign as i64).and_then(|u| a.micros.checked_add(u)).ok_or_else(overflow)?,
    })
}

/// `iv * factor` (`divide` false) or `iv / factor` (`divide` true), as PostgreSQL's
/// `interval_mul` / `interval_div` do it: each field is scaled and truncated, a fractional
/// month spills into days (30 to a month) and a fractional day into time (24 hours to a day).
pub fn interval_scale(iv: Interval, factor: f64, divide: bool) -> Result<Interval> {
    if divide && factor == 0.0 {
        return Err(ExecError::DivisionByZero);
    }
    let overflow = || ExecError::Overflow("interval");
    let scale = |x: f64| if divide { x / factor } else { x * factor };
    let to_i32 = |x: f64| {
        if x.is_nan() || x > i32::MAX as f64 || x < i32::MIN as f64 {
            Err(overflow())
        } else {
            Ok(x as i32)
        }
    };
    // PostgreSQL's TSROUND: round to microseconds, ties to even (C's rint).
    let ts_round = |x: f64| (x * 1e6).round_ties_even() / 1e6;
    let months = to_i32(scale(iv.months as f64))?;
    let mut days = to_i32(scale(iv.days as f64))?;
    let month_remainder_days = ts_round((scale(iv.months as f64) - months as f64) * 30.0);
    let mut sec_remainder = ts_round(
        (scale(iv.days as f64) - days as f64 + month_remainder_days - month_remainder_days.trunc()) * 86_400.0,
    );
    if sec_remainder.abs() >= 86_400.0 {
        let whole_days = (sec_remainder / 86_400.0).trunc();
        days = days.checked_add(whole_days as i32).ok_or_else(overflow)?;
        sec_remainder -= whole_days * 86_400.0;
    }
    days = days.checked_add(month_remainder_days.trunc() as i32).ok_or_else(overflow)?;
    let micros = (scale(iv.micros as f64) + sec_remainder * 1e6).round_ties_even();
    // i64::MAX as f64 is 2^63 exactly, the first value past the range.
    if micros.is_nan() || micros >= i64::MAX as f64 || micros < i64::MIN as f64 {
        return Err(overflow());
    }
    Ok(Interval { months, days, micros: micros as i64 })
}

/// EXTRACT(field FROM interval): the fields as the interval holds them, PostgreSQL style
/// (hours are not folded into days, nor days into months).
pub fn interval_part(field: &str, iv: Interval) -> Result<f64> {
    let field = field.to_ascii_lowercase();
    let (years, months) = (iv.months / 12, iv.months % 12);
    let hours = iv.micros / MICROS_PER_HOUR;
    let minutes = iv.micros % MICROS_PER_HOUR / MICROS_PER_MINUTE;
    let sec_micros = iv.micros % MICROS_PER_MINUTE;
    Ok(match field.as_str() {
        "microsecond" | "microseconds" => sec_micros as f64,
        "millisecond" | "milliseconds" => sec_micros as f64 / 1e3,
        "second" | "seconds" => sec_micros as f64 / 1e6,
        "minute" | "minutes" => minutes as f64,
        "hour" | "hours" => hours as f64,
        "day" | "days" => iv.days as f64,
        "month" | "months" => months as f64,
        "quarter" => (months / 3 + 1) as f64,
        "year" | "years" => years as f64,
        "decade" => (years / 10) as f64,
        "century" => (years / 100) as f64,
        "millennium" => (years / 1000) as f64,
        // A year is 365.25 days and a month 30 days here.
        "epoch" => {
            iv.micros as f64 / 1e6
                + 365.25 * 86_400.0 * years as f64
                + 30.0 * 86_400.0 * months as f64
                + 86_400.0 * iv.days as f64
        }
        _ => return Err(ExecError::InvalidArgument(format!("unit \"{field}\" not supported for type interval"))),
    })
}

/// `a - b` for timestamps, as days and microseconds (PostgreSQL's justified form).
pub fn timestamp_diff(a: i64, b: i64) -> Result<Interval> {
    let d = a.checked_sub(b).ok_or(ExecError::Overflow("interval"))?;
    Ok(Interval { months: 0, days: (d / MICROS_PER_DAY) as i32, micros: d % MICROS_PER_DAY })
}

fn unknown_unit(unit: &str) -> ExecError {
    ExecError::InvalidArgument(format!("unit \"{unit}\" not recognized for timestamps"))
}

/// `age(a, b)`: `a - b` as years, months and days plus a time (PostgreSQL's `timestamp_age`):
/// fields subtracted one by one, borrowing from the next larger one, a month borrowed as the
/// length of the earlier timestamp's month; negative when `a < b`.
pub fn age(a: i64, b: i64) -> Result<Interval> {
    let (hi, lo, sign): (i64, i64, i32) = if a >= b { (a, b, 1) } else { (b, a, -1) };
    let fields = |t: i64| {
        let days = t.div_euclid(MICROS_PER_DAY);
        let (y, m, d) = civil_from_days(days);
        (y, m as i64, d as i64, t.rem_euclid(MICROS_PER_DAY))
    };
    let (y1, m1, d1, t1) = fields(hi);
    let (y2, m2, d2, t2) = fields(lo);
    let (mut years, mut months, mut days, mut micros) = (y1 - y2, m1 - m2, d1 - d2, t1 - t2);
    if micros < 0 {
        micros += MICROS_PER_DAY;
        days -= 1;
    }
    if days < 0 {
        days += days_in_month(y2, m2 as u32) as i64;
        months -= 1;
    }
    if months < 0 {
        months += 12;
        years -= 1;
    }
    let months = i32::try_from(years * 12 + months).map_err(|_| ExecError::Overflow("interval"))?;
    Ok(Interval { months: sign * months, days: sign * days as i32, micros: i64::from(sign) * micros })
}

/// date_trunc(unit, ts).
pub fn date_trunc(unit: &str, ts: i64) -> Result<i64> {
    let unit = unit.to_ascii_lowercase();
    let days = ts.div_euclid(MICROS_PER_DAY);
    let floor = |step: i64| ts.div_euclid(step) * step;
    let (y, m, _) = civil_from_days(days);
    let at = |y: i64, m: u32| days_from_civil(y, m, 1) * MICROS_PER_DAY;
    Ok(match unit.trim_end_matches('s') {
        "microsecond" => ts,
        "millisecond" => floor(1000),
        "second" => floor(MICROS_PER_SECOND),
        "minute" => floor(MICROS_PER_MINUTE),
        "hour" => floor(MICROS_PER_HOUR),
        "day" => floor(MICROS_PER_DAY),
        "week" => {
            // ISO weeks start on Monday; 1970-01-01 was a Thursday.
            let monday = days - (days + 3).rem_euclid(7);
            monday * MICROS_PER_DAY
        }
        "month" => at(y, m),
        "quarter" => at(y, (m - 1) / 3 * 3 + 1),
        "year" => at(y, 1),
        "decade" => at(y.div_euclid(10) * 10, 1),
        "century" => at((y - 1).div_euclid(100) * 100 + 1, 1),
        "millennium" => at((y - 1).div_euclid(1000) * 1000 + 1, 1),
        _ => return Err(unknown_unit(&unit)),
    })
}

/// EXTRACT(field FROM ts) / date_part(field, ts).
pub fn date_part(field: &str, ts: i64) -> Result<f64> {
    let field = field.to_ascii_lowercase();
    let days = ts.div_euclid(MICROS_PER_DAY);
    let time = ts.rem_euclid(MICROS_PER_DAY);
    let (y, m, d) = civil_from_days(days);
    let doy = days - days_from_civil(y, 1, 1) + 1;
    let dow = (days + 4).rem_euclid(7); // 0 = Sunday
    Ok(match field.as_str() {
        "year" | "years" => y as f64,
        "month" | "months" => m as f64,
        "day" | "days" => d as f64,
        "hour" | "hours" => (time / MICROS_PER_HOUR) as f64,
        "minute" | "minutes" => (time / MICROS_PER_MINUTE % 60) as f64,
        "second" | "seconds" => (time % MICROS_PER_MINUTE) as f64 / 1e6,
        "millisecond" | "milliseconds" => (time % MICROS_PER_MINUTE) as f64 / 1e3,
        "microsecond" | "microseconds" => (time % MICROS_PER_MINUTE) as f64,
        "dow" | "dayofweek" => dow as f64,
        "isodow" => (if dow == 0 { 7 } else { dow }) as f64,
        "doy" | "dayofyear" => doy as f64,
        "quarter" => ((m - 1) / 3 + 1) as f64,
        "week" | "isoweek" => {
            // ISO week number: the week with the year's first Thursday is week 1.
            let thursday = days - (days + 3).rem_euclid(7) + 3;
            let (ty, _, _) = civil_from_days(thursday);
            ((thursday - days_from_civil(ty, 1, 1)) / 7 + 1) as f64
        }
        "epoch" => ts as f64 / 1e6,
        "decade" => y.div_euclid(10) as f64,
        "century" => ((y - 1).div_euclid(100) + 1) as f64,
        "millennium" => ((y - 1).div_euclid(1000) + 1) as f64,
        _ => return Err(ExecError::InvalidArgument(format!("unit \"{field}\" not recognized for EXTRACT"))),
    })
}

/// `date_diff(unit, a, b)` as DuckDB counts it: the number of unit boundaries from `a` to
/// `b` (calendar units by their fields, `week` as whole 7-day spans of days).
pub fn date_diff(unit: &str, a: i64, b: i64) -> Result<i64> {
    let unit = unit.to_ascii_lowercase();
    let (da, db) = (a.div_euclid(MICROS_PER_DAY), b.div_euclid(MICROS_PER_DAY));
    let (ya, ma, _) = civil_from_days(da);
    let (yb, mb, _) = civil_from_days(db);
    let months = |y: i64, m: u32| y * 12 + m as i64 - 1;
    let floor_diff = |step: i64| b.div_euclid(step) - a.div_euclid(step);
    Ok(match unit.trim_end_matches('s') {
        "microsecond" | "us" => b - a,
        "millisecond" | "m" => floor_diff(1000),
        "second" => floor_diff(MICROS_PER_SECOND),
        "minute" => floor_diff(MICROS_PER_MINUTE),
        "hour" => floor_diff(MICROS_PER_HOUR),
        "day" => db - da,
        "week" => (db - da) / 7,
        "month" => months(yb, mb) - months(ya, ma),
        "quarter" => months(yb, mb).div_euclid(3) - months(ya, ma).div_euclid(3),
        "year" => yb - ya,
        "decade" => yb.div_euclid(10) - ya.div_euclid(10),
        "century" => (yb - 1).div_euclid(100) - (ya - 1).div_euclid(100),
        "millennium" => (yb - 1).div_euclid(1000) - (ya - 1).div_euclid(1000),
        _ => return Err(unknown_unit(&unit)),
    })
}

/// The start of the bucket of width `width` that holds `ts`, buckets being counted from
/// `origin` (default 2000-01-03, a Monday, or 2000-01-01 for widths in months), as DuckDB's
/// time_bucket and PostgreSQL's date_bin do.
pub fn time_bucket(width: Interval, ts: i64, origin: Option<i64>) -> Result<i64> {
    let invalid = |m: &str| ExecError::InvalidArgument(m.to_string());
    if width.months != 0 {
        if width.days != 0 || width.micros != 0 {
            return Err(invalid("a bucket width cannot mix months with days or time"));
        }
        if width.months < 0 {
            return Err(invalid("a bucket width must be positive"));
        }
        let origin = origin.unwrap_or(days_from_civil(2000, 1, 1) * MICROS_PER_DAY);
        let month_of = |t: i64| {
            let (y, m, _) = civil_from_days(t.div_euclid(MICROS_PER_DAY));
            y * 12 + m as i64 - 1
        };
        let w = width.months as i64;
        let mut k = (month_of(ts) - month_of(origin)).div_euclid(w);
        let at = |k: i64| i32::try_from(k * w).ok().and_then(|m| add_months(origin, m));
        let overflow = || ExecError::Overflow("timestamp");
        let mut start = at(k).ok_or_else(overflow)?;
        if start > ts {
            k -= 1;
            start = at(k).ok_or_else(overflow)?;
        }
        return Ok(start);
    }
    let w = width.days as i128 * MICROS_PER_DAY as i128 + width.micros as i128;
    if w <= 0 {
        return Err(invalid("a bucket width must be positive"));
    }
    let origin = origin.unwrap_or(days_from_civil(2000, 1, 3) * MICROS_PER_DAY) as i128;
    let start = origin + (ts as i128 - origin).div_euclid(w) * w;
    i64::try_from(start).map_err(|_| ExecError::Overflow("timestamp"))
}

/// Days since 1970 of a valid calendar date.
pub fn make_date(year: i64, month: i64, day: i64) -> Result<i64> {
    let valid = (-9999..=9999).contains(&year)
        && (1..=12).contains(&month)
        && day >= 1
        && day <= days_in_month(year, month as u32) as i64;
    if !valid {
        return Err(ExecError::InvalidArgument(format!("date field value out of range: {year}-{month:02}-{day:02}")));
    }
    Ok(days_from_civil(year, month as u32, day as u32))
}

const DAY_NAMES: [&str; 7] = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const MONTH_NAMES: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// Formats a timestamp with strftime specifiers (%Y %m %d %H %M %S %f %y %j %a %A %b %B %e
/// %I %p %w %u %W %s %F %T %%; `%-d` drops the padding).
pub fn strftime(format: &str, ts: i64) -> Result<String> {
    let days = ts.div_euclid(MICROS_PER_DAY);
    let time = ts.rem_euclid(MICROS_PER_DAY);
    let (y, m, d) = civil_from_days(days);
    let (hour, minute) = (time / MICROS_PER_HOUR, time / MICROS_PER_MINUTE % 60);
    let (second, micros) = (time / MICROS_PER_SECOND % 60, time % MICROS_PER_SECOND);
    let dow = (days + 4).rem_euclid(7) as usize; // 0 = Sunday
    let doy = days - days_from_civil(y, 1, 1) + 1;
    let mut out = String::with_capacity(format.len() + 8);
    let mut chars = format.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut spec = chars.next();
        let unpadded = spec == Some('-');
        if unpadded {
            spec = chars.next();
        }
        let num = |out: &mut String, v: i64, width: usize| {
            if unpadded {
                out.push_str(&v.to_string());
            } else {
                out.push_str(&format!("{v:0width$}"));
            }
        };
        match spec {
            Some('Y') => num(&mut out, y, 4),
            Some('y') => num(&mut out, y.rem_euclid(100), 2),
            Some('m') => num(&mut out, m as i64, 2),
            Some('d') => num(&mut out, d as i64, 2),
            Some('e') => out.push_str(&format!("{d:>2}")),
            Some('H') => num(&mut out, hour, 2),
            Some('I') => num(&mut out, (hour + 11) % 12 + 1, 2),
            Some('p') => out.push_str(if hour < 12 { "AM" } else { "PM" }),
            Some('M') => num(&mut out, minute, 2),
            Some('S') => num(&mut out, second, 2),
            Some('f') => out.push_str(&format!("{micros:06}")),
            Some('j') => num(&mut out, doy, 3),
            Some('a') => out.push_str(&DAY_NAMES[dow][..3]),
            Some('A') => out.push_str(DAY_NAMES[dow]),
            Some('b') | Some('h') => out.push_str(&MONTH_NAMES[m as usize - 1][..3]),
            Some('B') => out.push_str(MONTH_NAMES[m as usize - 1]),
            Some('w') => out.push_str(&dow.to_string()),
            Some('u') => out.push_str(&(if dow == 0 { 7 } else { dow }).to_string()),
            // Week of the year, weeks starting on Monday; days before the first Monday are week 0.
            Some('W') => num(&mut out, (doy + 6 - ((dow as i64 + 6) % 7)) / 7, 2),
            Some('s') => out.push_str(&ts.div_euclid(MICROS_PER_SECOND).to_string()),
            Some('F') => out.push_str(&format!("{y:04}-{m:02}-{d:02}")),
            Some('T') => out.push_str(&format!("{hour:02}:{minute:02}:{second:02}")),
            Some('%') => out.push('%'),
            Some(other) => {
                return Err(ExecError::InvalidArgument(format!("strftime: unknown format specifier %{other}")))
            }
            None => return Err(ExecError::InvalidArgument("strftime: format ends with %".into())),
        }
    }
    Ok(out)
}

/// ISO 8601 week-numbering year and week of a day (weeks start on Monday; week 1 holds the
/// year's first Thursday).
fn iso_week(days: i64) -> (i64, i64) {
    let iso_dow = (days + 3).rem_euclid(7); // 0 = Monday
    let thursday = days - iso_dow + 3;
    let (year, _, _) = civil_from_days(thursday);
    let week = (thursday - days_from_civil(year, 1, 1)) / 7 + 1;
    (year, week)
}

/// PostgreSQL's `to_char(timestamp, template)`: `YYYY`, `MM`, `DD`, `HH24`, `MI`, `SS`, `Month`,
/// `Dy`, `Q`, `IW`, ... with the `FM` (no padding) prefix, the `TH` suffix and `"quoted"`
/// literal text; anything else is copied.
pub fn to_char(ts: i64, template: &str) -> Result<String> {
    let days = ts.div_euclid(MICROS_PER_DAY);
    let time = ts.rem_euclid(MICROS_PER_DAY);
    let (y, m, d) = civil_from_days(days);
    let (hour, minute) = (time / MICROS_PER_HOUR, time / MICROS_PER_MINUTE % 60);
    let (second, micros) = (time / MICROS_PER_SECOND % 60, time % MICROS_PER_SECOND);
    let dow = (days + 4).rem_euclid(7); // 0 = Sunday
    let doy = days - days_from_civil(y, 1, 1) + 1;
    let (iso_year, iso_wk) = iso_week(days);
    let chars: Vec<char> = template.chars().collect();
    let mut out = String::with_capacity(template.len() + 8);
    let mut i = 0;
    // Numeric fields: (pattern, value, width). Longest first where one is a prefix of another.
    let numeric: [(&str, i64, usize); 27] = [
        ("HH24", hour, 2),
        ("HH12", (hour + 11) % 12 + 1, 2),
        ("HH", (hour + 11) % 12 + 1, 2),
        ("MI", minute, 2),
        ("SSSSS", time / MICROS_PER_SECOND, 1),
        ("SSSS", time / MICROS_PER_SECOND, 1),
        ("SS", second, 2),
        ("MS", micros / 1000, 3),
        ("US", micros, 6),
        ("IYYY", iso_year, 4),
        ("IYY", iso_year.rem_euclid(1000), 3),
        ("IY", iso_year.rem_euclid(100), 2),
        ("IW", iso_wk, 2),
        ("ID", if dow == 0 { 7 } else { dow }, 1),
        ("YYYY", y, 4),
        ("YYY", y.rem_euclid(1000), 3),
        ("YY", y.rem_euclid(100), 2),
        ("Y", y.rem_euclid(10), 1),
        ("MM", m as i64, 2),
        ("DDD", doy, 3),
        ("DD", d as i64, 2),
        ("D", dow + 1, 1),
        ("WW", (doy - 1) / 7 + 1, 2),
        ("W", (d as i64 - 1) / 7 + 1, 1),
        ("CC", if y > 0 { (y - 1) / 100 + 1 } else { y / 100 - 1 }, 2),
        ("Q", (m as i64 - 1) / 3 + 1, 1),
        ("J", days + 2_440_588, 1),
    ];
    let starts = |i: usize, pat: &str, case_sensitive: bool| -> bool {
        let p: Vec<char> = pat.chars().collect();
        i + p.len() <= chars.len()
            && chars[i..i + p.len()]
                .iter()
                .zip(&p)
                .all(|(a, b)| if case_sensitive { a == b } else { a.eq_ignore_ascii_case(b) })
    };
    let cased = |word: &str, pattern: &[char]| -> String {
        // MONTH -> upper case, Month -> capitalized, month -> lower case.
        if pattern.len() > 1 && pattern[1].is_ascii_uppercase() {
            word.to_uppercase()
        } else if pattern[0].is_ascii_uppercase() {
            word.to_string()
        } else {
            word.to_lowercase()
        }
    };
    while i < chars.len() {
        let mut fill = true;
        if starts(i, "FM", false) {
            fill = false;
            i += 2;
        }
        if i >= chars.len() {
            break;
        }
        if chars[i] == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' && i + 1 < chars.len() {
                    i += 1;
                }
                out.push(chars[i]);
                i += 1;
            }
            i += 1;
            continue;
        }
        if chars[i] == '\\' && i + 1 < chars.len() {
            out.push(chars[i + 1]);
            i += 2;
            continue;
        }
        // Names: MONTH, Month, month, MON, Mon, mon, DAY, Day, day, DY, Dy, dy.
        let mut matched = false;
        for (pat, full, width) in [("MONTH", true, 9), ("MON", false, 3), ("DAY", true, 9), ("DY", false, 3)] {
            if starts(i, pat, false) {
                let name = if pat.starts_with('M') { MONTH_NAMES[m as usize - 1] } else { DAY_NAMES[dow as usize] };
                let name = if full { name.to_string() } else { name[..3].to_string() };
                let text = cased(&name, &chars[i..i + pat.len()]);
                if fill && full {
                    out.push_str(&format!("{text:<width$}"));
                } else {
                    out.push_str(&text);
                }
                i += pat.len();
                matched = true;
                break;
            }
        }
        if matched {
            continue;
        }
        for (pat, upper, dotted) in [
            ("A.M.", true, true),
            ("P.M.", true, true),
            ("a.m.", false, true),
            ("p.m.", false, true),
            ("AM", true, false),
            ("PM", true, false),
            ("am", false, false),
            ("pm", false, false),
        ] {
            if starts(i, pat, true) {
                let text = match (hour < 12, dotted) {
                    (true, true) => "a.m.",
                    (false, true) => "p.m.",
                    (true, false) => "am",
                    (false, false) => "pm",
                };
                out.push_str(&if upper { text.to_uppercase() } else { text.to_string() });
                i += pat.len();
                matched = true;
                break;
            }
        }
        if matched {
            continue;
        }
        if starts(i, "Y,YYY", false) {
            let text = format!("{},{:03}", y / 1000, y.rem_euclid(1000));
            out.push_str(&text);
            i += 5;
            continue;
        }
        for (pat, value, width) in numeric {
            if starts(i, pat, false) {
                if fill {
                    out.push_str(&format!("{value:0width$}"));
                } else {
                    out.push_str(&value.to_string());
                }
                i += pat.len();
                // The ordinal suffix: 1st, 2nd, 3rd, 4th (TH upper case, th lower case).
                if starts(i, "TH", false) {
                    let suffix = match (value % 100, value % 10) {
                        (11..=13, _) => "th",
                        (_, 1) => "st",
                        (_, 2) => "nd",
                        (_, 3) => "rd",
                        _ => "th",
                    };
                    out.push_str(&if chars[i] == 'T' { suffix.to_uppercase() } else { suffix.to_string() });
                    i += 2;
                }
                matched = true;
                break;
            }
        }
        if !matched {
            out.push(chars[i]);
            i += 1;
        }
    }
    Ok(out)
}

/// The current time as a timestamp.
pub fn now_micros() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_micros() as i64).unwrap_or(0)
}

/// SQLite's `datetime(time, modifier...)`: 'now' or a timestamp, then modifiers like
/// `'-1 day'`, `'+3 hours'`, `'start of month'`.
pub fn sqlite_datetime(base: Option<i64>, base_text: Option<&str>, modifiers: &[String]) -> Result<i64> {
    let mut ts = match (base, base_text) {
        (Some(ts), _) => ts,
        (None, Some(t)) if t.trim().eq_ignore_ascii_case("now") => now_micros(),
        (None, Some(t)) => parse_timestamp(t)
            .ok_or_else(|| ExecError::InvalidCast { value: t.to_string(), to: storage::DataType::Timestamp })?,
        (None, None) => now_micros(),
    };
    for m in modifiers {
        let lower = m.trim().to_ascii_lowercase();
        ts = match lower.as_str() {
            "start of day" => date_trunc("day", ts)?,
            "start of month" => date_trunc("month", ts)?,
            "start of year" => date_trunc("year", ts)?,
            "utc" | "localtime" => ts,
            _ => add_interval(ts, parse_interval(&lower, None)?, 1)?,
        };
    }
    Ok(ts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use storage::datetime::format_timestamp;

    fn ts(s: &str) -> i64 {
        parse_timestamp(s).unwrap()
    }

    #[test]
    fn interval_arithmetic_matches_postgres() {
        let iv = |months, days, micros| Interval { months, days, micros };
        assert_eq!(interval_add(iv(1, 0, 0), iv(0, 31, 0), -1).unwrap(), iv(1, -31, 0));
        // '1 month' * 1.5 = '1 mon 15 days'; '1 year' / 7 = '1 mon 21 days 10:17:08.5344'
        assert_eq!(interval_scale(iv(1, 0, 0), 1.5, false).unwrap(), iv(1, 15, 0));
        assert_eq!(interval_scale(iv(12, 0, 0), 7.0, true).unwrap(), iv(1, 21, 37_028_534_400));
        // '1 day' / 3 keeps the day fraction as time: '08:00:00'
        assert_eq!(interval_scale(iv(0, 1, 0), 3.0, true).unwrap(), iv(0, 0, 8 * MICROS_PER_HOUR));
        assert_eq!(interval_scale(iv(0, 1, 0), 0.0, true), Err(ExecError::DivisionByZero));
        assert!(interval_scale(iv(i32::MAX, 0, 0), 2.0, false).is_err());
        assert_eq!(interval_part("hour", iv(0, 3, 27 * MICROS_PER_HOUR)).unwrap(), 27.0);
        assert_eq!(interval_part("minute", iv(0, 0, -90 * MICROS_PER_MINUTE)).unwrap(), -30.0);
        assert_eq!(interval_part("epoch", iv(13, 1, 1_000_000)).unwrap(), 34_236_001.0);
        assert!(interval_part("dow", iv(0, 1, 0)).is_err());
    }

    #[test]
    fn intervals() {
        assert_eq!(parse_interval("1 day", None).unwrap(), Interval { months: 0, days: 1, micros: 0 });
        assert_eq!(
            parse_interval("-2 hours 30 minutes", None).unwrap().micros,
            -2 * MICROS_PER_HOUR + 30 * MICROS_PER_MINUTE
        );
        assert_eq!(parse_interval("1 year 2 mons", None).unwrap().months, 14);
        assert_eq!(parse_interval("3 days 04:05:06.5", None).unwrap().micros, 14_706_500_000);
        assert_eq!(parse_interval("7", Some("day")).unwrap().days, 7);
        assert!(parse_interval("soon", None).is_err());
        let jan31 = ts("2024-01-31 10:00:00");
        let one_month = parse_interval("1 month", None).unwrap();
        assert_eq!(format_timestamp(add_interval(jan31, one_month, 1).unwrap()), "2024-02-29 10:00:00");
        assert_eq!(
            format_timestamp(add_interval(jan31, parse_interval("1 day", None).unwrap(), -1).unwrap()),
            "2024-01-30 10:00:00"
        );
    }

    #[test]
    fn trunc_and_part() {
        let t = ts("2025-11-29 13:45:12.5");
        assert_eq!(format_timestamp(date_trunc("hour", t).unwrap()), "2025-11-29 13:00:00");
        assert_eq!(format_timestamp(date_trunc("month", t).unwrap()), "2025-11-01 00:00:00");
        assert_eq!(format_timestamp(date_trunc("week", t).unwrap()), "2025-11-24 00:00:00");
        assert_eq!(format_timestamp(date_trunc("quarter", t).unwrap()), "2025-10-01 00:00:00");
        assert!(date_trunc("fortnight", t).is_err());
        assert_eq!(date_part("year", t).unwrap(), 2025.0);
        assert_eq!(date_part("second", t).unwrap(), 12.5);
        assert_eq!(date_part("dow", t).unwrap(), 6.0);
        assert_eq!(date_part("doy", t).unwrap(), 333.0);
        assert_eq!(date_part("week", ts("2021-01-03")).unwrap(), 53.0);
    }

    #[test]
    fn diff_bucket_and_format() {
        assert_eq!(date_diff("month", ts("2025-01-31"), ts("2025-02-01")).unwrap(), 1);
        assert_eq!(date_diff("year", ts("2024-12-31 23:59:59"), ts("2025-01-01")).unwrap(), 1);
        assert_eq!(date_diff("day", ts("2025-01-02 01:00:00"), ts("2025-01-01 23:00:00")).unwrap(), -1);
        assert_eq!(date_diff("week", ts("2025-01-05"), ts("2025-01-06")).unwrap(), 0);
        assert_eq!(date_diff("quarter", ts("2025-03-31"), ts("2025-04-01")).unwrap(), 1);
        assert!(date_diff("fortnight", 0, 0).is_err());
        let quarter_hour = Interval { months: 0, days: 0, micros: 15 * MICROS_PER_MINUTE };
        assert_eq!(time_bucket(quarter_hour, ts("2025-10-15 10:17:00"), None).unwrap(), ts("2025-10-15 10:15:00"));
        let week = Interval { months: 0, days: 7, micros: 0 };
        assert_eq!(time_bucket(week, ts("2025-10-15 10:17:00"), None).unwrap(), ts("2025-10-13"));
        let two_hours = Interval { months: 0, days: 0, micros: 2 * MICROS_PER_HOUR };
        let origin = Some(ts("2025-10-15 00:30:00"));
        assert_eq!(time_bucket(two_hours, ts("2025-10-15 11:17:00"), origin).unwrap(), ts("2025-10-15 10:30:00"));
        let quarter = Interval { months: 3, days: 0, micros: 0 };
        assert_eq!(time_bucket(quarter, ts("2025-08-15"), None).unwrap(), ts("2025-07-01"));
        assert_eq!(time_bucket(quarter, ts("1999-12-31"), None).unwrap(), ts("1999-10-01"));
        assert!(time_bucket(Interval::default(), 0, None).is_err());
        assert_eq!(
            strftime("%Y-%m-%d %H:%M:%S %a %b %j %-d/%-m %I%p %%", ts("2025-10-05 13:07:05")).unwrap(),
            "2025-10-05 13:07:05 Sun Oct 278 5/10 01PM %"
        );
        assert!(strftime("%Q", 0).is_err());
        assert!(make_date(2025, 2, 29).is_err());
        assert_eq!(make_date(2024, 2, 29).unwrap(), ts("2024-02-29") / MICROS_PER_DAY);
    }

    #[test]
    fn sqlite_modifiers() {
        let base = ts("2025-11-30 00:00:00");
        let got = sqlite_datetime(Some(base), None, &["-1 day".into(), "start of month".into()]).unwrap();
        assert_eq!(format_timestamp(got), "2025-11-01 00:00:00");
    }
}
