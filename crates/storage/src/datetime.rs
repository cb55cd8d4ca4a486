//! Calendar arithmetic for DATE (days since the epoch) and TIMESTAMP (microseconds since the
//! epoch): parsing and printing in ISO form, and splitting into civil fields.
//!
//! The conversions use Howard Hinnant's `days_from_civil` / `civil_from_days` algorithms, which
//! are exact over the whole proleptic Gregorian calendar.

pub const MICROS_PER_SECOND: i64 = 1_000_000;
pub const MICROS_PER_DAY: i64 = 86_400 * MICROS_PER_SECOND;

/// Days since 1970-01-01 of a civil date.
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = month as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + day as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date (year, month, day) of a day number.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

pub fn is_leap_year(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

pub fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if is_leap_year(year) => 29,
        _ => 28,
    }
}

/// Formats a day number as `YYYY-MM-DD`.
pub fn format_date(days: i32) -> String {
    let (y, m, d) = civil_from_days(days as i64);
    if y < 0 {
        format!("{:04}-{:02}-{:02} BC", 1 - y, m, d)
    } else {
        format!("{y:04}-{m:02}-{d:02}")
    }
}

/// Formats microseconds since the epoch as `YYYY-MM-DD HH:MM:SS[.ffffff]`, trailing zeros of the
/// fraction trimmed.
pub fn format_timestamp(micros: i64) -> String {
    let days = micros.div_euclid(MICROS_PER_DAY);
    let rem = micros.rem_euclid(MICROS_PER_DAY);
    let date = format_date(days as i32);
    let secs = rem / MICROS_PER_SECOND;
    let frac = rem % MICROS_PER_SECOND;
    let (h, mi, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    if frac == 0 {
        format!("{date} {h:02}:{mi:02}:{s:02}")
    } else {
        let frac = format!("{frac:06}");
        format!("{date} {h:02}:{mi:02}:{s:02}.{}", frac.trim_end_matches('0'))
    }
}

fn parse_u32(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Parses `YYYY-MM-DD` or `YYYYMMDD` (surrounding whitespace allowed) into a day number.
pub fn parse_date(s: &str) -> Option<i32> {
    let s = s.trim();
    if s.len() == 8 && s.bytes().all(|b| b.is_ascii_digit()) {
        return parse_date(&format!("{}-{}-{}", &s[..4], &s[4..6], &s[6..]));
    }
    let mut parts = s.splitn(3, '-');
    let y: i64 = parse_u32(parts.next()?)? as i64;
    let m = parse_u32(parts.next()?)?;
    let d = parse_u32(parts.next()?)?;
    if !(1..=12).contains(&m) || d == 0 || d > days_in_month(y, m) {
        return None;
    }
    i32::try_from(days_from_civil(y, m, d)).ok()
}

/// Parses `YYYY-MM-DD[( |T)HH:MM[:SS[.ffffff]]]` into microseconds since the epoch.
pub fn parse_timestamp(s: &str) -> Option<i64> {
    let s = s.trim();
    let (date_part, time_part) = match s.find([' ', 'T']) {
        Some(pos) => (&s[..pos], s[pos + 1..].trim()),
        None => (s, ""),
    };
    let days = parse_date(date_part)? as i64;
    let mut micros = days * MICROS_PER_DAY;
    if !time_part.is_empty() {
        let (hms, frac) = match time_part.split_once('.') {
            Some((a, b)) => (a, Some(b)),
            None => (time_part, None),
        };
        let mut fields = hms.split(':');
        let h = parse_u32(fields.next()?)?;
        let mi = parse_u32(fields.next()?)?;
        let sec = match fields.next() {
            Some(x) => parse_u32(x)?,
            None => 0,
        };
        if fields.next().is_some() || h > 23 || mi > 59 || sec > 60 {
            return None;
        }
        let mut frac_micros = 0i64;
        if let Some(frac) = frac {
            if frac.is_empty() || !frac.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            // Digits past the microsecond round it, as in PostgreSQL (`.1234567` -> `.123457`).
            let mut digits = frac[..frac.len().min(6)].to_string();
            while digits.len() < 6 {
                digits.push('0');
            }
            frac_micros = digits.parse().ok()?;
            if frac.as_bytes().get(6).is_some_and(|&b| b >= b'5') {
                frac_micros += 1;
            }
        }
        micros += (h as i64 * 3600 + mi as i64 * 60 + sec as i64) * MICROS_PER_SECOND + frac_micros;
    }
    Some(micros)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trip() {
        for days in [-800_000i64, -1, 0, 1, 365, 19_000, 20_000, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
    }

    #[test]
    fn parse_and_format() {
        assert_eq!(format_date(parse_date("2024-02-29").unwrap()), "2024-02-29");
        assert_eq!(parse_date("2023-02-29"), None);
        assert_eq!(parse_date("2023-13-01"), None);
        assert_eq!(parse_date("hello"), None);
        let ts = parse_timestamp("2024-02-29 12:00:00.25").unwrap();
        assert_eq!(format_timestamp(ts), "2024-02-29 12:00:00.25");
        assert_eq!(format_timestamp(parse_timestamp("2025-09-01").unwrap()), "2025-09-01 00:00:00");
        assert_eq!(format_timestamp(-1), "1969-12-31 23:59:59.999999");
        assert_eq!(parse_timestamp("2025-09-01T10:11"), parse_timestamp("2025-09-01 10:11:00"));
        assert_eq!(parse_timestamp("2025-09-01 25:00:00"), None);
        assert_eq!(parse_date("20240105"), parse_date("2024-01-05"));
        assert_eq!(parse_date("20230229"), None);
        let rounded = parse_timestamp("2024-01-01 00:00:00.123456789").unwrap();
        assert_eq!(format_timestamp(rounded), "2024-01-01 00:00:00.123457");
        let carried = parse_timestamp("2024-01-01 23:59:59.9999995").unwrap();
        assert_eq!(format_timestamp(carried), "2024-01-02 00:00:00");
    }
}
