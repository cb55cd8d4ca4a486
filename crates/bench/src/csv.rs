//! Writing the workload as CSV for other engines (DuckDB's `COPY ... FROM` or `read_csv`).
//!
//! The CSV is written from the same chunks `Connection::append` loads, so every engine reads
//! identical data. One header line with the column names, then one line per row: integers in
//! base 10, doubles as the shortest text that reads back as the same double (Rust's `{}`),
//! booleans `true`/`false`, timestamps `YYYY-MM-DD HH:MM:SS[.ffffff]` (no zone), text as is
//! (quoted only if it holds a comma, quote or line break; the workload's never do).

use crate::chunks::ArrowChunk;
use crate::gen::{Table, Workload};
use arrow::array::{Array, BooleanArray, PrimitiveArray, Utf8Array};
use arrow::datatypes::DataType;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian calendar
/// (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Formats microseconds since 1970-01-01 as `YYYY-MM-DD HH:MM:SS`, plus `.ffffff` with trailing
/// zeros trimmed when the fraction is not zero (the project's FORMAT.md form).
pub fn format_timestamp(micros: i64, out: &mut impl io::Write) -> io::Result<()> {
    const MICROS_PER_DAY: i64 = 86_400_000_000;
    let days = micros.div_euclid(MICROS_PER_DAY);
    let in_day = micros.rem_euclid(MICROS_PER_DAY);
    let (year, month, day) = civil_from_days(days);
    let secs = in_day / 1_000_000;
    let frac = in_day % 1_000_000;
    write!(out, "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60)?;
    if frac != 0 {
        let digits = format!("{frac:06}");
        write!(out, ".{}", digits.trim_end_matches('0'))?;
    }
    Ok(())
}

fn write_text(value: &str, out: &mut impl Write) -> io::Result<()> {
    if value.contains([',', '"', '\n', '\r']) {
        write!(out, "\"{}\"", value.replace('"', "\"\""))
    } else {
        out.write_all(value.as_bytes())
    }
}

fn write_cell(array: &dyn Array, row_idx: usize, out: &mut impl Write) -> io::Result<()> {
    if array.is_null(row_idx) {
        return Ok(());
    }
    let any = array.as_any();
    match array.data_type() {
        DataType::Int32 => write!(out, "{}", any.downcast_ref::<PrimitiveArray<i32>>().unwrap().value(row_idx)),
        DataType::Int64 => write!(out, "{}", any.downcast_ref::<PrimitiveArray<i64>>().unwrap().value(row_idx)),
        DataType::Float64 => write!(out, "{}", any.downcast_ref::<PrimitiveArray<f64>>().unwrap().value(row_idx)),
        DataType::Boolean => write!(out, "{}", any.downcast_ref::<BooleanArray>().unwrap().value(row_idx)),
        DataType::Utf8 => write_text(any.downcast_ref::<Utf8Array<i32>>().unwrap().value(row_idx), out),
        DataType::Timestamp(_, None) => {
            format_timestamp(any.downcast_ref::<PrimitiveArray<i64>>().unwrap().value(row_idx), out)
        }
        other => Err(io::Error::new(io::ErrorKind::InvalidInput, format!("no CSV form for arrow type {other:?}"))),
    }
}

/// Writes one chunk's rows (no header).
pub fn write_chunk(chunk: &ArrowChunk, out: &mut impl Write) -> io::Result<()> {
    let arrays = chunk.arrays();
    for row_idx in 0..chunk.len() {
        for (col_idx, array) in arrays.iter().enumerate() {
            if col_idx > 0 {
                out.write_all(b",")?;
            }
            write_cell(array.as_ref(), row_idx, out)?;
        }
        out.write_all(b"\n")?;
    }
    Ok(())
}

/// Writes all of `table` as CSV with a header line.
pub fn write_table(workload: &Workload, table: Table, batch_rows: usize, out: &mut impl Write) -> io::Result<()> {
    writeln!(out, "{}", table.columns().join(","))?;
    for chunk in workload.chunks(table, batch_rows) {
        write_chunk(&chunk, out)?;
    }
    Ok(())
}

/// Writes every table to `dir/<table>.csv` (creating `dir`); returns the files written.
pub fn write_dir(workload: &Workload, dir: &Path, batch_rows: usize) -> io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let mut files = Vec::new();
    for table in Table::ALL {
        let path = dir.join(format!("{}.csv", table.name()));
        let mut out = BufWriter::with_capacity(1 << 20, std::fs::File::create(&path)?);
        write_table(workload, table, batch_rows, &mut out)?;
        out.flush()?;
        files.push(path);
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(micros: i64) -> String {
        let mut out = Vec::new();
        format_timestamp(micros, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn timestamps() {
        assert_eq!(ts(0), "1970-01-01 00:00:00");
        assert_eq!(ts(crate::gen::BASE_MICROS), "2025-09-01 00:00:00");
        assert_eq!(ts(crate::gen::NOW_MICROS - 7_776_000), "2025-11-29 23:59:52.224");
        assert_eq!(ts(951_782_400_000_000 + 1), "2000-02-29 00:00:00.000001");
        assert_eq!(ts(-1), "1969-12-31 23:59:59.999999");
    }

    #[test]
    fn rows() {
        let w = Workload::new(1_000);
        let mut out = Vec::new();
        write_table(&w, Table::Orders, 2, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().take(2).collect();
        assert_eq!(
            lines,
            [
                "order_id,customer_id,product_id,product_name,quantity,amount,country,is_new_customer,timestamp",
                "0,7,547,product-547,4,8.71,BR,false,2025-09-01 00:00:00"
            ]
        );
        assert_eq!(text.lines().count(), 1_001);
    }
}
