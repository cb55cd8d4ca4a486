//! Literals of every type: ordinary values, the edges of each range, empty strings, special
//! floats, dates far from today, and NULL (bare or cast to the type).

use super::{Gen, Ty};

const INTS: &[&str] = &["0", "1", "-1", "2", "3", "7", "10", "42", "100", "-17", "1000", "65536"];
const INT_EDGES: &[&str] = &["2147483647", "-2147483648", "32767", "-32768", "2147483648", "-2147483649"];
const BIGINTS: &[&str] =
    &["9223372036854775807", "-9223372036854775808", "4294967296", "-4294967297", "1000000000000", "123456789012"];
const DOUBLES: &[&str] =
    &["0.0", "1.5", "-2.25", "0.1", "3.14159", "100.0", "1e10", "-1e-10", "2.5e-3", "123456789.123", "0.5", "99.99"];
const DOUBLE_EDGES: &[&str] = &[
    "1e308",
    "-1e308",
    "1e-308",
    "4.9e-324",
    "'NaN'::DOUBLE",
    "'Infinity'::DOUBLE",
    "CAST('-Infinity' AS DOUBLE)",
    "-0.0",
    "1.7976931348623157e308",
    "99999999999999999999999999999",
];
const TEXTS: &[&str] = &[
    "''",
    "'a'",
    "'abc'",
    "'US'",
    "'DE'",
    "'books'",
    "'product-1'",
    "'product-42'",
    "'/p/7'",
    "' '",
    "'  x  '",
    "'consumer'",
    "'smb'",
    "'Zz'",
    "'42'",
    "'1.5'",
    "'true'",
    "'2025-09-15'",
];
const TEXT_EDGES: &[&str] = &[
    "'O''Brien'",
    "'%'",
    "'_'",
    "'\\'",
    "'ünïcødé'",
    "'日本語'",
    "'🦀'",
    "'a\nb'",
    "'NULL'",
    "'x_y%z'",
    "'                                        '",
];
const DATES: &[&str] =
    &["2025-09-01", "2025-11-30", "2025-10-15", "2024-09-01", "1970-01-01", "2000-02-29", "1999-12-31", "2026-01-01"];
const DATE_EDGES: &[&str] = &["0001-01-01", "9999-12-31", "1900-02-28", "2100-03-01", "4713-01-01"];
const TIMESTAMPS: &[&str] = &[
    "2025-09-01 00:00:00",
    "2025-11-30 00:00:00",
    "2025-10-01 12:30:00",
    "2025-09-15 23:59:59.999999",
    "2024-09-01 08:00:00",
    "1970-01-01 00:00:00",
    "2000-02-29 12:00:00.5",
];
const TIMESTAMP_EDGES: &[&str] = &["0001-01-01 00:00:00", "9999-12-31 23:59:59", "1900-01-01 00:00:00.000001"];
const INTERVALS: &[&str] = &[
    "1 day",
    "7 days",
    "30 days",
    "1 hour",
    "90 minutes",
    "1 month",
    "2 months",
    "1 year",
    "-3 days",
    "1 day 02:00:00",
    "00:00:01",
    "0 days",
    "1 week",
    "1.5 days",
    "100 years",
];
pub const DATE_PARTS: &[&str] =
    &["year", "month", "day", "hour", "minute", "second", "dow", "doy", "quarter", "week", "epoch", "isodow"];
pub const TRUNC_UNITS: &[&str] = &["year", "quarter", "month", "week", "day", "hour", "minute", "second"];

impl Gen {
    /// A literal of type `ty` (sometimes NULL).
    pub(super) fn literal(&mut self, ty: Ty) -> String {
        if self.rng.chance(6) {
            return self.null_literal(ty);
        }
        let edge = self.rng.chance(7);
        match ty {
            Ty::Bool => self.rng.pick(&["TRUE", "FALSE", "true", "'t'::BOOLEAN"]).to_string(),
            Ty::SmallInt => match self.rng.below(4) {
                0 => format!("CAST({} AS SMALLINT)", self.rng.pick(INTS)),
                1 if edge => format!("{}::SMALLINT", self.rng.pick(&["32767", "(-32768)", "0"])),
                _ => self.rng.pick(INTS).to_string(),
            },
            Ty::Int => {
                if edge {
                    self.rng.pick(INT_EDGES).to_string()
                } else {
                    self.rng.pick(INTS).to_string()
                }
            }
            Ty::BigInt => {
                if edge || self.rng.chance(40) {
                    self.rng.pick(BIGINTS).to_string()
                } else {
                    format!("CAST({} AS BIGINT)", self.rng.pick(INTS))
                }
            }
            Ty::Real => format!("CAST({} AS REAL)", self.rng.pick(DOUBLES)),
            Ty::Double => {
                if edge {
                    self.rng.pick(DOUBLE_EDGES).to_string()
                } else {
                    self.rng.pick(DOUBLES).to_string()
                }
            }
            Ty::Text => {
                if edge {
                    self.rng.pick(TEXT_EDGES).to_string()
                } else {
                    self.rng.pick(TEXTS).to_string()
                }
            }
            Ty::Date => {
                let d = if edge { self.rng.pick(DATE_EDGES) } else { self.rng.pick(DATES) };
                match self.rng.below(3) {
                    0 => format!("'{d}'::DATE"),
                    _ => format!("DATE '{d}'"),
                }
            }
            Ty::Timestamp => {
                let t = if edge { self.rng.pick(TIMESTAMP_EDGES) } else { self.rng.pick(TIMESTAMPS) };
                match self.rng.below(4) {
                    0 => format!("CAST('{t}' AS TIMESTAMP)"),
                    _ => format!("TIMESTAMP '{t}'"),
                }
            }
            Ty::Interval => {
                let iv = self.rng.pick(INTERVALS);
                // Casts to INTERVAL are not supported (yet): rarely, for the error path.
                if self.rng.chance(2) {
                    format!("'{iv}'::INTERVAL")
                } else {
                    format!("INTERVAL '{iv}'")
                }
            }
        }
    }

    fn null_literal(&mut self, ty: Ty) -> String {
        // A bare NULL next to a date is taken for a number of days, and next to a timestamp
        // for an interval: only typed NULLs there. INTERVAL casts are not supported.
        match (self.rng.below(3), ty) {
            (_, Ty::Interval) => "(NULL::TIMESTAMP - NULL::TIMESTAMP)".into(),
            (0, t) if !t.is_temporal() => "NULL".into(),
            (1, t) => format!("NULL::{}", t.sql()),
            (_, t) => format!("CAST(NULL AS {})", t.sql()),
        }
    }

    /// A small non-negative integer literal, for lengths, counts and offsets.
    pub(super) fn small_int(&mut self) -> String {
        self.rng.range(0, 6).to_string()
    }
}
