//! The fast path of `COPY ... FROM` for delimited text: fields are split straight from the
//! file's bytes and parsed by a typed parser per column into arrow2 buffers (no `Value` or
//! `String` per field). The file is cut at line breaks into one piece per thread; each piece
//! is parsed on its own, assuming it starts at a record; when a piece before the last ends
//! inside a quoted field (the cut fell in a quoted line break) the file is parsed again in
//! one piece. A value the fast parsers do not recognise goes through `cast_value`, so the
//! accepted spellings and the error messages are the same as for a CAST.

use crate::error::{Result, SqlError};
use crate::progress::Tracker;
use arrow::array::{BooleanArray, PrimitiveArray, Utf8Array};
use arrow::bitmap::MutableBitmap;
use exec::kernels::cast::cast_value;
use storage::datetime::{days_from_civil, days_in_month, MICROS_PER_DAY, MICROS_PER_SECOND};
use storage::value::values_to_array;
use storage::{ArrayRef, Batch, DataType, TableSchema, Value};

/// How the text is split.
#[derive(Debug, Clone)]
pub(crate) struct Dialect {
    /// Quotes are recognised (csv), or not (text).
    pub csv: bool,
    pub delimiter: u8,
    pub quote: u8,
    pub null: Vec<u8>,
    pub header: bool,
}

/// Rows per batch.
const BATCH_ROWS: usize = 65_536;

/// Pieces smaller than this are not worth a thread.
const MIN_PIECE_BYTES: usize = 1 << 20;

enum Values {
    I16(Vec<i16>),
    I32(Vec<i32>),
    I64(Vec<i64>),
    F32(Vec<f32>),
    F64(Vec<f64>),
    Bool(MutableBitmap),
    Text {
        offsets: Vec<i32>,
        bytes: Vec<u8>,
    },
    /// Date (days) with its own fast parser.
    Date(Vec<i32>),
    /// Timestamp (microseconds) with its own fast parser.
    Ts(Vec<i64>),
    /// Anything else: one `Value` per row.
    Other(Vec<Value>),
}

struct Column {
    ty: DataType,
    values: Values,
    validity: MutableBitmap,
    nulls: usize,
}

impl Column {
    fn new(ty: DataType) -> Column {
        let values = match ty {
            DataType::SmallInt => Values::I16(Vec::new()),
            DataType::Integer => Values::I32(Vec::new()),
            DataType::BigInt => Values::I64(Vec::new()),
            DataType::Real => Values::F32(Vec::new()),
            DataType::Double => Values::F64(Vec::new()),
            DataType::Boolean => Values::Bool(MutableBitmap::new()),
            DataType::Text => Values::Text { offsets: vec![0], bytes: Vec::new() },
            DataType::Date => Values::Date(Vec::new()),
            DataType::Timestamp => Values::Ts(Vec::new()),
            _ => Values::Other(Vec::new()),
        };
        Column { ty, values, validity: MutableBitmap::new(), nulls: 0 }
    }

    fn push_null(&mut self) {
        self.validity.push(false);
        self.nulls += 1;
        match &mut self.values {
            Values::I16(v) => v.push(0),
            Values::I32(v) | Values::Date(v) => v.push(0),
            Values::I64(v) | Values::Ts(v) => v.push(0),
            Values::F32(v) => v.push(0.0),
            Values::F64(v) => v.push(0.0),
            Values::Bool(v) => v.push(false),
            Values::Text { offsets, bytes } => offsets.push(bytes.len() as i32),
            Values::Other(v) => v.push(Value::Null),
        }
    }

    /// Parses `field` (valid UTF-8) into the column; the error is `cast_value`'s.
    fn push(&mut self, field: &[u8]) -> std::result::Result<(), exec::ExecError> {
        let fast = match &mut self.values {
            Values::Text { offsets, bytes } => {
                bytes.extend_from_slice(field);
                offsets.push(i32::try_from(bytes.len()).map_err(|_| exec::ExecError::Overflow("text column"))?);
                true
            }
            Values::I64(v) => parse_int(field).map(|x| v.push(x)).is_some(),
            Values::I32(v) => parse_int(field).and_then(|x| i32::try_from(x).ok()).map(|x| v.push(x)).is_some(),
            Values::I16(v) => parse_int(field).and_then(|x| i16::try_from(x).ok()).map(|x| v.push(x)).is_some(),
            Values::F64(v) => parse_float(field).map(|x| v.push(x)).is_some(),
            Values::F32(v) => parse_float(field).map(|x| v.push(x as f32)).is_some(),
            Values::Bool(v) => parse_bool(field).map(|x| v.push(x)).is_some(),
            Values::Date(v) => parse_date(field).map(|x| v.push(x)).is_some(),
            Values::Ts(v) => parse_timestamp(field).map(|x| v.push(x)).is_some(),
            Values::Other(_) => false,
        };
        if !fast {
            // The general path: exactly what CAST accepts, and its error.
            let text = String::from_utf8_lossy(field).into_owned();
            let value = cast_value(&Value::Text(text), self.ty)?;
            match (&mut self.values, value) {
                (Values::I16(v), Value::SmallInt(x)) => v.push(x),
                (Values::I32(v), Value::Integer(x)) | (Values::Date(v), Value::Date(x)) => v.push(x),
                (Values::I64(v), Value::BigInt(x)) | (Values::Ts(v), Value::Timestamp(x)) => v.push(x),
                (Values::F32(v), Value::Real(x)) => v.push(x),
                (Values::F64(v), Value::Double(x)) => v.push(x),
                (Values::Bool(v), Value::Boolean(x)) => v.push(x),
                (Values::Other(v), x) => v.push(x),
                (_, other) => {
                    return Err(exec::ExecError::Internal(format!("cast to {} gave {other:?}", self.ty.sql_name())))
                }
            }
        }
        self.validity.push(true);
        Ok(())
    }

    /// The finished array; the column starts over.
    fn finish(&mut self) -> ArrayRef {
        let fresh = Column::new(self.ty);
        let old = std::mem::replace(self, fresh);
        let validity = if old.nulls > 0 { Some(old.validity.into()) } else { None };
        let arrow_type = old.ty.to_arrow();
        match old.values {
            Values::I16(v) => PrimitiveArray::new(arrow_type, v.into(), validity).boxed(),
            Values::I32(v) | Values::Date(v) => PrimitiveArray::new(arrow_type, v.into(), validity).boxed(),
            Values::I64(v) | Values::Ts(v) => PrimitiveArray::new(arrow_type, v.into(), validity).boxed(),
            Values::F32(v) => PrimitiveArray::new(arrow_type, v.into(), validity).boxed(),
            Values::F64(v) => PrimitiveArray::new(arrow_type, v.into(), validity).boxed(),
            Values::Bool(v) => BooleanArray::new(arrow_type, v.into(), validity).boxed(),
            Values::Text { offsets, bytes } => {
                // The offsets grow from 0 and every field is a slice of a UTF-8 file cut at
                // ASCII bytes: these cannot fail.
                let offsets = arrow::offset::OffsetsBuffer::try_from(offsets).expect("monotonic offsets");
                Utf8Array::<i32>::try_new(arrow_type, offsets, bytes.into(), validity)
                    .expect("fields of a UTF-8 file cut at ASCII bytes are UTF-8")
                    .boxed()
            }
            Values::Other(v) => values_to_array(old.ty, &v),
        }
    }
}

fn trim(b: &[u8]) -> &[u8] {
    let start = b.iter().position(|c| !c.is_ascii_whitespace()).unwrap_or(b.len());
    let end = b.iter().rposition(|c| !c.is_ascii_whitespace()).map_or(start, |e| e + 1);
    &b[start..end]
}

fn parse_int(b: &[u8]) -> Option<i64> {
    let b = trim(b);
    let (neg, digits) = match b.first()? {
        b'-' => (true, &b[1..]),
        b'+' => (false, &b[1..]),
        _ => (false, b),
    };
    if digits.is_empty() || digits.len() > 19 {
        return None;
    }
    let mut v: i64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_sub((d - b'0') as i64)?;
    }
    if neg {
        Some(v)
    } else {
        v.checked_neg()
    }
}

fn parse_float(b: &[u8]) -> Option<f64> {
    let b = trim(b);
    // Only plain decimal spellings here; NaN, infinities and the rest go through CAST.
    if b.is_empty() || !b.iter().all(|c| c.is_ascii_digit() || matches!(c, b'-' | b'+' | b'.' | b'e' | b'E')) {
        return None;
    }
    std::str::from_utf8(b).ok()?.parse().ok()
}

fn parse_bool(b: &[u8]) -> Option<bool> {
    match trim(b) {
        b"true" | b"t" => Some(true),
        b"false" | b"f" => Some(false),
        _ => None,
    }
}

fn digits(b: &[u8]) -> Option<u32> {
    let mut v = 0u32;
    for &d in b {
        if !d.is_ascii_digit() {
            return None;
        }
        v = v * 10 + (d - b'0') as u32;
    }
    Some(v)
}

/// `YYYY-MM-DD` exactly.
fn parse_date(b: &[u8]) -> Option<i32> {
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (y, m, d) = (digits(&b[..4])?, digits(&b[5..7])?, digits(&b[8..10])?);
    if !(1..=12).contains(&m) || d == 0 || d > days_in_month(y as i64, m) {
        return None;
    }
    i32::try_from(days_from_civil(y as i64, m, d)).ok()
}

/// `YYYY-MM-DD HH:MM:SS` with up to six fraction digits, exactly.
fn parse_timestamp(b: &[u8]) -> Option<i64> {
    if b.len() < 19 || !matches!(b[10], b' ' | b'T') || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let days = parse_date(&b[..10])? as i64;
    let (h, mi, s) = (digits(&b[11..13])?, digits(&b[14..16])?, digits(&b[17..19])?);
    if h > 23 || mi > 59 || s > 60 {
        return None;
    }
    let mut frac = 0i64;
    if b.len() > 19 {
        let f = &b[20..];
        if b[19] != b'.' || f.is_empty() || f.len() > 6 {
            return None;
        }
        frac = digits(f)? as i64 * 10i64.pow(6 - f.len() as u32);
    }
    Some(days * MICROS_PER_DAY + (h as i64 * 3600 + mi as i64 * 60 + s as i64) * MICROS_PER_SECOND + frac)
}

/// A parse error at a line counted from the start of the piece (1-based).
struct PieceError {
    line: usize,
    message: String,
    /// The piece ended inside a quoted field.
    unterminated: bool,
}

struct Piece {
    batches: Vec<Batch>,
    /// Line breaks consumed (the next piece's first line is this many lines further).
    lines: usize,
}

/// Parses one piece of the file, which starts at a record boundary.
fn parse_piece(
    data: &[u8],
    d: &Dialect,
    schema: &TableSchema,
    targets: &[usize],
    skip_first: bool,
    progress: &Tracker,
) -> std::result::Result<Piece, PieceError> {
    let n = targets.len();
    let mut cols: Vec<Column> = targets.iter().map(|&c| Column::new(schema.columns[c].data_type)).collect();
    let mut batches = Vec::new();
    let mut rows = 0usize;
    let mut skip = skip_first;
    let mut line = 1usize;
    let mut pos = 0usize;
    // Bytes reported to `progress` so far.
    let mut reported = 0usize;
    // Per record: (start, end, quoted, in_scratch) of each field.
    let mut fields: Vec<(usize, usize, bool, bool)> = Vec::with_capacity(n + 1);
    let mut scratch: Vec<u8> = Vec::new();
    let len = data.len();
    let flush = |cols: &mut Vec<Column>, rows: usize, batches: &mut Vec<Batch>| {
        let mut arrays: Vec<Option<ArrayRef>> = (0..schema.columns.len()).map(|_| None).collect();
        for (col, &c) in cols.iter_mut().zip(targets) {
            arrays[c] = Some(col.finish());
        }
        let columns = arrays
            .into_iter()
            .zip(&schema.columns)
            .map(|(a, def)| a.unwrap_or_else(|| arrow::array::new_null_array(def.data_type.to_arrow(), rows)))
            .collect();
        batches.push(Batch { columns, n_rows: rows });
    };
    while pos < len {
        let start_line = line;
        fields.clear();
        scratch.clear();
        // One record.
        let mut at_end_of_record = false;
        while !at_end_of_record {
            if d.csv && pos < len && data[pos] == d.quote {
                // A quoted field: up to the closing quote; a doubled quote is a quote.
                pos += 1;
                let field_start = pos;
                let mut in_scratch = false;
                let scratch_start = scratch.len();
                loop {
                    let Some(off) = data[pos..].iter().position(|&c| c == d.quote || c == b'\n') else {
                        return Err(PieceError {
                            line: start_line,
                            message: "unterminated quoted field".into(),
                            unterminated: true,
                        });
                    };
                    let at = pos + off;
                    if data[at] == b'\n' {
                        line += 1;
                        if in_scratch {
                            scratch.extend_from_slice(&data[pos..=at]);
                        }
                        pos = at + 1;
                        continue;
                    }
                    if at + 1 < len && data[at + 1] == d.quote {
                        if !in_scratch {
                            in_scratch = true;
                            scratch.extend_from_slice(&data[field_start..at]);
                        } else {
                            scratch.extend_from_slice(&data[pos..at]);
                        }
                        scratch.push(d.quote);
                        pos = at + 2;
                        continue;
                    }
                    if in_scratch {
                        scratch.extend_from_slice(&data[pos..at]);
                        fields.push((scratch_start, scratch.len(), true, true));
                    } else {
                        fields.push((field_start, at, true, false));
                    }
                    pos = at + 1;
                    break;
                }
                // After the closing quote: more text joins the field as in the old parser
                // only up to the delimiter; we accept the delimiter or the end of the line.
                match data.get(pos) {
                    None => at_end_of_record = true,
                    Some(&c) if c == d.delimiter => {
                        pos += 1;
                        if pos >= len {
                            // A trailing delimiter at the end of the file: one more empty field.
                            fields.push((len, len, false, false));
                            at_end_of_record = true;
                        }
                    }
                    Some(b'\n') => {
                        pos += 1;
                        line += 1;
                        at_end_of_record = true;
                    }
                    Some(b'\r') => {
                        pos += if data.get(pos + 1) == Some(&b'\n') { 2 } else { 1 };
                        line += 1;
                        at_end_of_record = true;
                    }
                    Some(_) => {
                        return Err(PieceError {
                            line: start_line,
                            message: "text after a closing quote".into(),
                            unterminated: false,
                        })
                    }
                }
                continue;
            }
            let field_start = pos;
            let off = data[pos..].iter().position(|&c| c == d.delimiter || c == b'\n' || c == b'\r');
            match off {
                None => {
                    fields.push((field_start, len, false, false));
                    pos = len;
                    at_end_of_record = true;
                }
                Some(off) => {
                    let at = pos + off;
                    fields.push((field_start, at, false, false));
                    let c = data[at];
                    if c == d.delimiter {
                        pos = at + 1;
                        if pos >= len {
                            // A trailing delimiter at the end of the file: one more empty field.
                            fields.push((len, len, false, false));
                            at_end_of_record = true;
                        }
                    } else {
                        pos = at + if c == b'\r' && data.get(at + 1) == Some(&b'\n') { 2 } else { 1 };
                        line += 1;
                        at_end_of_record = true;
                    }
                }
            }
        }
        // A line with nothing on it is skipped.
        if fields.len() == 1 && !fields[0].2 && fields[0].0 == fields[0].1 {
            continue;
        }
        if skip {
            skip = false;
            continue;
        }
        let field = |f: &(usize, usize, bool, bool)| -> &[u8] {
            if f.3 {
                &scratch[f.0..f.1]
            } else {
                &data[f.0..f.1]
            }
        };
        let k = fields.len();
        // One field too many is accepted when it is empty (a trailing delimiter).
        if k != n && !(k == n + 1 && field(&fields[n]).is_empty()) {
            return Err(PieceError {
                line: start_line,
                message: format!("expected {n} fields, found {k}"),
                unterminated: false,
            });
        }
        let used = n;
        for (f, (col, &c)) in fields[..used].iter().zip(cols.iter_mut().zip(targets)) {
            let bytes = field(f);
            if !f.2 && bytes == d.null.as_slice() {
                col.push_null();
            } else if let Err(e) = col.push(bytes) {
                return Err(PieceError {
                    line: start_line,
                    message: format!("column \"{}\": {e}", schema.columns[c].name),
                    unterminated: false,
                });
            }
        }
        rows += 1;
        if rows == BATCH_ROWS {
            flush(&mut cols, rows, &mut batches);
            rows = 0;
            progress.advance((pos - reported) as u64);
            reported = pos;
        }
    }
    if rows > 0 {
        flush(&mut cols, rows, &mut batches);
    }
    progress.advance((len - reported) as u64);
    Ok(Piece { batches, lines: line - 1 })
}

/// Cuts `data` into up to `pieces` parts at line breaks.
fn cut(data: &[u8], pieces: usize) -> Vec<&[u8]> {
    let mut out = Vec::with_capacity(pieces);
    let mut start = 0;
    for i in 1..pieces {
        let target = (data.len() * i / pieces).max(start);
        match data[target..].iter().position(|&c| c == b'\n') {
            Some(off) if target + off + 1 < data.len() => {
                out.push(&data[start..target + off + 1]);
                start = target + off + 1;
            }
            _ => break,
        }
    }
    out.push(&data[start..]);
    out
}

/// Parses the whole of `data` (a UTF-8 file) into batches of the table's columns, the file's
/// fields going to `targets`. Errors name `path`, the line and the column. Bytes parsed are
/// reported to `progress` (whose total is `data.len()`) after every batch.
pub(crate) fn parse(
    data: &[u8],
    d: &Dialect,
    schema: &TableSchema,
    targets: &[usize],
    path: &str,
    threads: usize,
    progress: &Tracker,
) -> Result<Vec<Batch>> {
    parse_pieces(data, d, schema, targets, path, threads, MIN_PIECE_BYTES, progress)
}

#[allow(clippy::too_many_arguments)]
fn parse_pieces(
    data: &[u8],
    d: &Dialect,
    schema: &TableSchema,
    targets: &[usize],
    path: &str,
    threads: usize,
    min_piece: usize,
    progress: &Tracker,
) -> Result<Vec<Batch>> {
    let err = |line: usize, message: &str| {
        SqlError::Exec(exec::ExecError::InvalidArgument(format!("{path}:{line}: {message}")))
    };
    let pieces = threads.min(data.len() / min_piece.max(1)).max(1);
    if pieces > 1 {
        let parts = cut(data, pieces);
        let results: Vec<std::result::Result<Piece, PieceError>> = std::thread::scope(|scope| {
            let handles: Vec<_> = parts
                .iter()
                .enumerate()
                .map(|(i, part)| {
                    scope.spawn(move || parse_piece(part, d, schema, targets, d.header && i == 0, progress))
                })
                .collect();
            handles.into_iter().map(|h| h.join().expect("a CSV piece parser panicked")).collect()
        });
        let mut line = 1;
        let mut batches = Vec::new();
        let last = results.len() - 1;
        let mut cut_in_quotes = false;
        for (i, r) in results.into_iter().enumerate() {
            match r {
                Ok(piece) => {
                    line += piece.lines;
                    batches.extend(piece.batches);
                }
                Err(e) if e.unterminated && i < last => {
                    cut_in_quotes = true;
                    break;
                }
                Err(e) => return Err(err(line + e.line - 1, &e.message)),
            }
        }
        if !cut_in_quotes {
            return Ok(batches);
        }
    }
    // A second pass over the whole file (a cut fell inside a quoted field).
    progress.restart();
    match parse_piece(data, d, schema, targets, d.header, progress) {
        Ok(piece) => Ok(piece.batches),
        Err(e) => Err(err(e.line, &e.message)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_parsers_agree_with_cast() {
        for s in ["0", "-12", "+7", " 42 ", "9223372036854775807", "-9223372036854775808"] {
            let want = cast_value(&Value::from(s), DataType::BigInt).unwrap();
            assert_eq!(parse_int(s.as_bytes()).map(Value::BigInt), Some(want), "{s}");
        }
        for s in ["9223372036854775808", "1.5", "", "-", "1e3"] {
            assert_eq!(parse_int(s.as_bytes()), None, "{s}");
        }
        for s in ["1.5", "-0.125", "1e300", "3", ".5", "2.5E-3"] {
            assert_eq!(
                parse_float(s.as_bytes()).map(Value::Double),
                Some(cast_value(&Value::from(s), DataType::Double).unwrap())
            );
        }
        for s in ["2024-02-29 03:04:05.25", "1969-12-31 23:59:59.999999", "2024-01-01T00:00:00", "2000-01-01 00:00:00"]
        {
            let want = cast_value(&Value::from(s), DataType::Timestamp).unwrap();
            assert_eq!(parse_timestamp(s.as_bytes()).map(Value::Timestamp), Some(want), "{s}");
        }
        for s in ["2023-02-29 00:00:00", "2024-01-01 24:00:00", "2024-01-01 00:00:00.1234567", "2024-01-01 00:00"] {
            assert_eq!(parse_timestamp(s.as_bytes()), None, "{s}");
        }
        assert_eq!(
            parse_date(b"2024-02-29").map(Value::Date),
            Some(cast_value(&Value::from("2024-02-29"), DataType::Date).unwrap())
        );
        assert_eq!(parse_date(b"2023-02-29"), None);
    }

    fn schema() -> TableSchema {
        let col = |name: &str, data_type| storage::ColumnDef { name: name.into(), data_type, nullable: true };
        TableSchema {
            name: "t".into(),
            columns: vec![col("id", DataType::Integer), col("s", DataType::Text), col("at", DataType::Timestamp)],
            primary_key: vec![],
        }
    }

    fn rows(batches: &[Batch]) -> Vec<Vec<Value>> {
        let mut out = Vec::new();
        for b in batches {
            for r in 0..b.n_rows {
                out.push(b.columns.iter().map(|c| Value::from_array(c.as_ref(), r)).collect());
            }
        }
        out
    }

    #[test]
    fn pieces_parse_like_one_whatever_the_cuts() {
        let d = Dialect { csv: true, delimiter: b',', quote: b'"', null: Vec::new(), header: true };
        let data =
            "id,s,at\n1,\"multi\nline, \"\"quoted\"\"\",2024-01-01 00:00:00\n\n2,,\r\n3,\"\",1999-12-31 23:59:59.5\n\
                    4,plain,2000-01-01T00:00:00.000001\n5,\"a\nb\nc\",\n6,x,\n";
        let schema = schema();
        let one = rows(&parse_pieces(data.as_bytes(), &d, &schema, &[0, 1, 2], "f", 1, 1, &Tracker::none()).unwrap());
        assert_eq!(one.len(), 6);
        assert_eq!(one[0][1], Value::from("multi\nline, \"quoted\""));
        assert_eq!(one[1][1], Value::Null);
        assert_eq!(one[2][1], Value::from(""));
        for threads in 2..12 {
            let many = rows(
                &parse_pieces(data.as_bytes(), &d, &schema, &[0, 1, 2], "f", threads, 1, &Tracker::none()).unwrap(),
            );
            assert_eq!(many, one, "{threads} pieces");
        }
        // An error in a later piece names the line in the whole file.
        let bad = format!("{data}7,y,not a time\n");
        for threads in 1..8 {
            let err = parse_pieces(bad.as_bytes(), &d, &schema, &[0, 1, 2], "f", threads, 1, &Tracker::none())
                .unwrap_err()
                .to_string();
            assert!(err.starts_with("f:12: column \"at\""), "{threads}: {err}");
        }
        let open = format!("{data}8,\"open\n");
        for threads in 1..8 {
            let err = parse_pieces(open.as_bytes(), &d, &schema, &[0, 1, 2], "f", threads, 1, &Tracker::none())
                .unwrap_err()
                .to_string();
            assert_eq!(err, "f:12: unterminated quoted field", "{threads}");
        }
    }

    #[test]
    fn cuts_fall_on_line_breaks() {
        let data = b"1,a\n2,b\n3,c\n4,d\n";
        for pieces in 1..6 {
            let parts = cut(data, pieces);
            assert_eq!(parts.concat(), data.to_vec());
            assert!(parts.iter().all(|p| p.ends_with(b"\n")));
        }
    }
}
