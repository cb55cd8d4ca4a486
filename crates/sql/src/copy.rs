//! `COPY table [(columns)] FROM 'file'` and `COPY {table | (query)} TO 'file'`: delimited text
//! and parquet in and out.
//!
//! Parquet (the default for `.parquet` files, or `FORMAT parquet`) is read and written by
//! `storage::parquet`: file columns match the target columns by position, types load where no
//! value changes, and an error names the file, column, row and row group.
//!
//! Formats: `csv` (the default for `.csv` files: quoting with `"`, an unquoted empty field is
//! NULL, a quoted one the empty string) and `text` (PostgreSQL's: tab-delimited, `\N` is NULL,
//! no quoting). `DELIMITER`, `NULL`, `HEADER` and `QUOTE` options as in PostgreSQL. A line with
//! one field too many whose last field is empty (`1|a|` in TPC-H `.tbl` files) is accepted.
//!
//! CSV and text files take the fast path of `csv_import` (typed parsers straight into arrow2
//! buffers, pieces of the file on several threads) unless the delimiter or quote is not ASCII.
//!
//! An import is one commit: every value is checked first, and a bad one aborts the import
//! naming the file, the line and the column, with nothing imported.
//!
//! `COPY ... FROM` reports its progress (bytes of the file) to the session's progress
//! handler, if any (`crate::progress`).

use crate::binder::{normalize, Binder};
use crate::error::{Result, SqlError};
use crate::optimizer::optimize;
use crate::progress::{ProgressHandler, Tracker};
use exec::kernels::cast::cast_value;
use sqlparser::ast;
use std::io::Write;
use std::sync::Arc;
use storage::value::values_to_array;
use storage::{Batch, DataType, Value};

/// Rows per batch of an import.
const BATCH_ROWS: usize = 65_536;

#[derive(Debug, Clone)]
struct Format {
    parquet: bool,
    csv: bool,
    delimiter: char,
    quote: char,
    null: String,
    header: bool,
}

impl Format {
    fn new(path: &str, options: &[ast::CopyOption], legacy: &[ast::CopyLegacyOption]) -> Result<Format> {
        let lower = path.to_ascii_lowercase();
        let mut csv = lower.ends_with(".csv");
        let mut parquet = lower.ends_with(".parquet");
        let (mut delimiter, mut quote, mut null, mut header) = (None, '"', None, false);
        let mut text_options = Vec::new();
        for o in options {
            if !matches!(o, ast::CopyOption::Format(_)) {
                text_options.push(o.to_string());
            }
            match o {
                ast::CopyOption::Format(f) => match f.value.to_ascii_lowercase().as_str() {
                    "csv" => (csv, parquet) = (true, false),
                    "text" => (csv, parquet) = (false, false),
                    "parquet" => (csv, parquet) = (false, true),
                    other => return crate::unsupported!("COPY format {other} (csv, text and parquet are supported)"),
                },
                ast::CopyOption::Delimiter(c) => delimiter = Some(*c),
                ast::CopyOption::Null(s) => null = Some(s.clone()),
                ast::CopyOption::Header(h) => header = *h,
                ast::CopyOption::Quote(c) => quote = *c,
                ast::CopyOption::Encoding(e) if e.eq_ignore_ascii_case("utf8") || e.eq_ignore_ascii_case("utf-8") => {}
                other => return crate::unsupported!("COPY option {other}"),
            }
        }
        for o in legacy {
            text_options.push(o.to_string());
            match o {
                ast::CopyLegacyOption::Delimiter(c) => delimiter = Some(*c),
                ast::CopyLegacyOption::Null(s) => null = Some(s.clone()),
                ast::CopyLegacyOption::Csv(csv_opts) => {
                    csv = true;
                    for c in csv_opts {
                        match c {
                            ast::CopyLegacyCsvOption::Header => header = true,
                            ast::CopyLegacyCsvOption::Quote(q) => quote = *q,
                            other => return crate::unsupported!("COPY option {other}"),
                        }
                    }
                }
                other => return crate::unsupported!("COPY option {other}"),
            }
        }
        if parquet {
            if let Some(first) = text_options.first() {
                return crate::unsupported!("COPY option {first} with FORMAT parquet");
            }
        }
        Ok(Format {
            parquet,
            csv,
            delimiter: delimiter.unwrap_or(if csv { ',' } else { '\t' }),
            quote,
            null: null.unwrap_or_else(|| if csv { String::new() } else { "\\N".into() }),
            header,
        })
    }
}

fn copy_error(message: String) -> SqlError {
    SqlError::Exec(exec::ExecError::InvalidArgument(message))
}

fn io_error(path: &str, e: std::io::Error) -> SqlError {
    copy_error(format!("could not open file \"{path}\": {e}"))
}

/// Splits `text` into records of fields; `None` is NULL. Quoted fields may hold delimiters
/// and newlines. Returns each record with the line it starts on.
fn records(text: &str, f: &Format, path: &str) -> Result<Vec<(usize, Vec<Option<String>>)>> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    let mut line = 1;
    while chars.peek().is_some() {
        let start_line = line;
        let mut fields = Vec::new();
        let mut field = String::new();
        let mut quoted = false;
        let mut any = false;
        while let Some(c) = chars.next() {
            any = true;
            if f.csv && c == f.quote && field.is_empty() && !quoted {
                // A quoted field: up to the closing quote, "" is a quote.
                quoted = true;
                loop {
                    match chars.next() {
                        Some(q) if q == f.quote => {
                            if chars.peek() == Some(&f.quote) {
                                chars.next();
                                field.push(f.quote);
                            } else {
                                break;
                            }
                        }
                        Some(ch) => {
                            if ch == '\n' {
                                line += 1;
                            }
                            field.push(ch);
                        }
                        None => return Err(copy_error(format!("{path}:{start_line}: unterminated quoted field"))),
                    }
                }
                continue;
            }
            if c == f.delimiter {
                fields.push(finish_field(std::mem::take(&mut field), quoted, f));
                quoted = false;
                continue;
            }
            if c == '\n' || c == '\r' {
                if c == '\r' && chars.peek() == Some(&'\n') {
                    chars.next();
                }
                line += 1;
                break;
            }
            field.push(c);
        }
        if any {
            // A line with nothing on it is skipped.
            let blank = fields.is_empty() && field.is_empty() && !quoted;
            if !blank {
                fields.push(finish_field(field, quoted, f));
                out.push((start_line, fields));
            }
        }
    }
    Ok(out)
}

fn finish_field(field: String, quoted: bool, f: &Format) -> Option<String> {
    if !quoted && field == f.null {
        None
    } else {
        Some(field)
    }
}

/// `COPY ... FROM 'file'`: returns the number of rows imported.
fn copy_from(
    txn: &mut mvcc::Transaction,
    table: &Arc<mvcc::Table>,
    columns: &[ast::Ident],
    path: &str,
    format: &Format,
    progress: Option<ProgressHandler>,
) -> Result<u64> {
    let schema = table.schema();
    let targets: Vec<usize> = if columns.is_empty() {
        (0..schema.columns.len()).collect()
    } else {
        columns
            .iter()
            .map(|c| {
                let name = normalize(c);
                schema.column_index(&name).ok_or_else(|| {
                    crate::binder::unknown_name(
                        &format!("column of relation \"{}\":", schema.name),
                        &name,
                        schema.columns.iter().map(|c| c.name.as_str()),
                        crate::binder::ident_pos(c),
                    )
                })
            })
            .collect::<Result<_>>()?
    };
    if format.parquet {
        return copy_from_parquet(txn, table, &targets, path, progress);
    }
    if format.delimiter.is_ascii() && format.quote.is_ascii() {
        let data = std::fs::read(path).map_err(|e| io_error(path, e))?;
        let tracker = Tracker::new(progress, data.len() as u64);
        if let Err(e) = std::str::from_utf8(&data) {
            return Err(io_error(path, std::io::Error::new(std::io::ErrorKind::InvalidData, e)));
        }
        let dialect = crate::csv_import::Dialect {
            csv: format.csv,
            delimiter: format.delimiter as u8,
            quote: format.quote as u8,
            null: format.null.as_bytes().to_vec(),
            header: format.header,
        };
        let batches = crate::csv_import::parse(&data, &dialect, schema, &targets, path, import_threads(), &tracker)?;
        tracker.finish();
        exec::interrupt::check()?;
        return crate::dml::append_batches(txn, table, batches);
    }
    // Delimiters or quotes beyond ASCII: the general path, one `Value` per field.
    let text = std::fs::read_to_string(path).map_err(|e| io_error(path, e))?;
    let tracker = Tracker::new(progress, text.len() as u64);
    let mut recs = records(&text, format, path)?;
    if format.header && !recs.is_empty() {
        recs.remove(0);
    }
    let n = targets.len();
    let mut batches = Vec::new();
    for (i, chunk) in recs.chunks(BATCH_ROWS).enumerate() {
        let mut values: Vec<Vec<Value>> = vec![Vec::with_capacity(chunk.len()); schema.columns.len()];
        for (line, fields) in chunk {
            let fields = match fields.len() {
                k if k == n => &fields[..],
                // A trailing delimiter (TPC-H .tbl files).
                k if k == n + 1 && fields[n].as_deref().is_none_or(str::is_empty) => &fields[..n],
                k => return Err(copy_error(format!("{path}:{line}: expected {n} fields, found {k}"))),
            };
            for (field, &col) in fields.iter().zip(&targets) {
                let def = &schema.columns[col];
                let v = match field {
                    None => Value::Null,
                    Some(s) if def.data_type == DataType::Text => Value::Text(s.clone()),
                    Some(s) => cast_value(&Value::Text(s.clone()), def.data_type)
                        .map_err(|e| copy_error(format!("{path}:{line}: column \"{}\": {e}", def.name)))?,
                };
                values[col].push(v);
            }
            for (col, vals) in values.iter_mut().enumerate() {
                if !targets.contains(&col) {
                    vals.push(Value::Null);
                }
            }
        }
        let columns = schema.columns.iter().zip(&values).map(|(d, v)| values_to_array(d.data_type, v)).collect();
        batches.push(Batch { columns, n_rows: chunk.len() });
        // Records are not tied to byte offsets here: their share of the file stands in.
        let start = i * BATCH_ROWS;
        tracker.advance(records_share(text.len() as u64, start, start + chunk.len(), recs.len()));
    }
    tracker.finish();
    exec::interrupt::check()?;
    crate::dml::append_batches(txn, table, batches)
}

/// The bytes of a `total`-byte file that records `start..end` of its `of` records stand for.
fn records_share(total: u64, start: usize, end: usize, of: usize) -> u64 {
    let at = |k: usize| (total as u128 * k.min(of) as u128 / of.max(1) as u128) as u64;
    at(end) - at(start)
}

/// Threads an import may use.
fn import_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get()).min(8)
}

/// Imports a parquet file into the `targets` columns of `table` (the others are NULL), a few
/// row groups at a time: the file's bytes are never all in memory, only the decoded rows
/// (which the transaction buffers until its one commit).
fn copy_from_parquet(
    txn: &mut mvcc::Transaction,
    table: &Arc<mvcc::Table>,
    targets: &[usize],
    path: &str,
    progress: Option<ProgressHandler>,
) -> Result<u64> {
    let schema = table.schema();
    let storage_err = |e: storage::StorageError| copy_error(e.to_string());
    let file = storage::parquet::ParquetFile::open(std::path::Path::new(path)).map_err(storage_err)?;
    let wanted: Vec<(String, DataType)> =
        targets.iter().map(|&c| (schema.columns[c].name.clone(), schema.columns[c].data_type)).collect();
    file.check(&wanted).map_err(storage_err)?;
    let n_groups = file.num_row_groups();
    let tracker = Tracker::new(progress, (0..n_groups).map(|rg| file.row_group_bytes(rg)).sum());
    let threads = import_threads();
    let step = file.row_groups_per_read(threads);
    let mut batches = Vec::new();
    for first in (0..n_groups).step_by(step) {
        let groups = first..(first + step).min(n_groups);
        let read =
            file.read_row_groups(groups, &wanted, threads, &|bytes| tracker.advance(bytes)).map_err(storage_err)?;
        batches.extend(read.into_iter().map(|b| {
            let mut columns: Vec<Option<storage::ArrayRef>> = (0..schema.columns.len()).map(|_| None).collect();
            for (array, &c) in b.columns.into_iter().zip(targets) {
                columns[c] = Some(array);
            }
            let columns = columns
                .into_iter()
                .zip(&schema.columns)
                .map(|(a, def)| a.unwrap_or_else(|| arrow::array::new_null_array(def.data_type.to_arrow(), b.n_rows)))
                .collect();
            Batch { columns, n_rows: b.n_rows }
        }));
    }
    tracker.finish();
    exec::interrupt::check()?;
    crate::dml::append_batches(txn, table, batches)
}

fn csv_field(v: &Value, f: &Format) -> String {
    match v {
        Value::Null => f.null.clone(),
        Value::Text(s) if f.csv => {
            let special = s.is_empty()
                || *s == f.null
                || s.contains(f.delimiter)
                || s.contains(f.quote)
                || s.contains('\n')
                || s.contains('\r');
            if special {
                let q = f.quote.to_string();
                format!("{q}{}{q}", s.replace(&q, &format!("{q}{q}")))
            } else {
                s.clone()
            }
        }
        Value::Text(s) => {
            let mut out = String::with_capacity(s.len());
            for c in s.chars() {
                match c {
                    '\\' => out.push_str("\\\\"),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    '\t' if f.delimiter == '\t' => out.push_str("\\t"),
                    c => out.push(c),
                }
            }
            out
        }
        other => other.to_string(),
    }
}

/// `COPY ... TO 'file'`: returns the number of rows written.
fn copy_to(names: &[String], batches: &[Batch], path: &str, f: &Format) -> Result<u64> {
    let file = std::fs::File::create(path).map_err(|e| io_error(path, e))?;
    let mut w = std::io::BufWriter::new(file);
    let write_err = |e: std::io::Error| copy_error(format!("could not write file \"{path}\": {e}"));
    let sep = f.delimiter.to_string();
    if f.header {
        let header: Vec<String> = names.iter().map(|n| csv_field(&Value::Text(n.clone()), f)).collect();
        writeln!(w, "{}", header.join(&sep)).map_err(write_err)?;
    }
    let mut n = 0u64;
    for b in batches {
        for r in 0..b.n_rows {
            let row: Vec<String> = b.columns.iter().map(|c| csv_field(&Value::from_array(c.as_ref(), r), f)).collect();
            writeln!(w, "{}", row.join(&sep)).map_err(write_err)?;
            n += 1;
        }
    }
    w.flush().map_err(write_err)?;
    Ok(n)
}

/// Runs a COPY statement.
pub fn copy(
    binder: &Binder,
    txn: &mut mvcc::Transaction,
    source: &ast::CopySource,
    to: bool,
    target: &ast::CopyTarget,
    options: &[ast::CopyOption],
    legacy: &[ast::CopyLegacyOption],
    progress: Option<ProgressHandler>,
) -> Result<u64> {
    let path = match target {
        ast::CopyTarget::File { filename } => filename.as_str(),
        _ => return crate::unsupported!("COPY with STDIN, STDOUT or PROGRAM (give a file name)"),
    };
    let format = Format::new(path, options, legacy)?;
    match (source, to) {
        (ast::CopySource::Table { table_name, columns }, false) => {
            let table = binder.table(table_name)?;
            copy_from(txn, &table, columns, path, &format, progress)
        }
        (ast::CopySource::Query(_), false) => crate::bind_err!("COPY FROM needs a table, not a query"),
        (source, true) => {
            let query = match source {
                ast::CopySource::Table { table_name, columns } => {
                    let cols = if columns.is_empty() {
                        "*".to_string()
                    } else {
                        columns.iter().map(|c| c.to_string()).collect::<Vec<_>>().join(", ")
                    };
                    crate::parser::parse_one(&format!("SELECT {cols} FROM {table_name}"))?
                }
                ast::CopySource::Query(q) => ast::Statement::Query(q.clone()),
            };
            let ast::Statement::Query(q) = query else {
                return crate::unsupported!("COPY source");
            };
            let bound = binder.query(&q)?;
            let types = bound.types();
            let snapshot = txn.snapshot();
            let plan = optimize(crate::subquery::resolve(bound.plan, binder.subqueries.take(), snapshot)?);
            let batches = exec::collect(&plan.to_physical(snapshot))?;
            if format.parquet {
                return storage::parquet::write(std::path::Path::new(path), &bound.names, &types, &batches)
                    .map_err(|e| copy_error(e.to_string()));
            }
            copy_to(&bound.names, &batches, path, &format)
        }
    }
}
