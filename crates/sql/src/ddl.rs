//! CREATE TABLE and DROP TABLE.

use crate::binder::{bind_type, ident_pos, normalize, object_name, unknown_name};
use crate::error::{Result, SqlError};
use sqlparser::ast::{self, ColumnOption, TableConstraint};
use storage::{ColumnDef, Compression, DataType, TableSchema};

fn index_columns(cols: &[ast::IndexColumn], schema: &TableSchema) -> Result<Vec<usize>> {
    cols.iter()
        .map(|c| match &c.column.expr {
            ast::Expr::Identifier(id) => {
                let name = normalize(id);
                schema.column_index(&name).ok_or_else(|| {
                    unknown_name("column", &name, schema.columns.iter().map(|c| c.name.as_str()), ident_pos(id))
                })
            }
            other => crate::unsupported!("key expression {other}"),
        })
        .collect()
}

/// The table options of CREATE TABLE: `WITH (compression = 'lz4' | 'zstd' | 'none')` chooses
/// the block compression of the table's column files (lz4 when not given).
pub fn table_compression(ct: &ast::CreateTable) -> Result<Compression> {
    let options = match &ct.table_options {
        ast::CreateTableOptions::None => return Ok(Compression::default()),
        ast::CreateTableOptions::With(options) => options,
        other => return crate::unsupported!("table options {other}"),
    };
    let mut compression = Compression::default();
    for option in options {
        let ast::SqlOption::KeyValue { key, value } = option else {
            return crate::unsupported!("table option {option}");
        };
        if key.to_string().to_lowercase() != "compression" {
            return crate::unsupported!("table option {key} (only compression is known)");
        }
        let name = match value {
            ast::Expr::Value(v) => match &v.value {
                ast::Value::SingleQuotedString(s) => s.clone(),
                other => other.to_string(),
            },
            ast::Expr::Identifier(id) => id.value.clone(),
            other => other.to_string(),
        };
        compression = match name.to_lowercase().as_str() {
            "lz4" => Compression::Lz4,
            "zstd" => Compression::Zstd,
            "none" | "uncompressed" => Compression::None,
            _ => return crate::bind_err!("unknown compression \"{name}\" (use 'lz4', 'zstd' or 'none')"),
        };
    }
    Ok(compression)
}

/// Turns a CREATE TABLE statement into a table definition.
pub fn table_schema(ct: &ast::CreateTable) -> Result<TableSchema> {
    if ct.query.is_some() {
        return crate::unsupported!("CREATE TABLE ... AS");
    }
    let (name, _) = object_name(&ct.name)?;
    let mut schema = TableSchema { name, columns: Vec::new(), primary_key: Vec::new() };
    let mut primary_key: Option<Vec<usize>> = None;
    for col in &ct.columns {
        let col_name = normalize(&col.name);
        if schema.column_index(&col_name).is_some() {
            return Err(SqlError::Bind {
                message: format!("column \"{col_name}\" specified more than once"),
                pos: ident_pos(&col.name),
            });
        }
        let data_type = bind_type(&col.data_type)?;
        if data_type == DataType::Interval {
            return crate::unsupported!("INTERVAL columns (intervals are only computed in queries)");
        }
        let mut nullable = true;
        for opt in &col.options {
            match &opt.option {
                ColumnOption::Null => nullable = true,
                ColumnOption::NotNull => nullable = false,
                ColumnOption::PrimaryKey(_) => {
                    if primary_key.is_some() {
                        return crate::bind_err!("multiple primary keys for table \"{}\" are not allowed", schema.name);
                    }
                    primary_key = Some(vec![schema.columns.len()]);
                }
                other => return crate::unsupported!("column option {other}"),
            }
        }
        schema.columns.push(ColumnDef { name: col_name, data_type, nullable });
    }
    for constraint in &ct.constraints {
        match constraint {
            TableConstraint::PrimaryKey(pk) => {
                if primary_key.is_some() {
                    return crate::bind_err!("multiple primary keys for table \"{}\" are not allowed", schema.name);
                }
                primary_key = Some(index_columns(&pk.columns, &schema)?);
            }
            other => return crate::unsupported!("table constraint {other}"),
        }
    }
    if schema.columns.is_empty() {
        return crate::bind_err!("a table needs at least one column");
    }
    if let Some(pk) = primary_key {
        // PRIMARY KEY implies NOT NULL.
        for &c in &pk {
            schema.columns[c].nullable = false;
        }
        schema.primary_key = pk;
    }
    Ok(schema)
}
