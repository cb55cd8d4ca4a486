//! INSERT and bulk append: shape the incoming rows to the table, check constraints, and
//! commit them atomically.

use crate::binder::{ident_pos, normalize, unknown_name, Binder};
use crate::error::{Result, SqlError};
use crate::optimizer::optimize;
use exec::kernels::cast::cast;
use exec::row_key::encode_rows;
use exec::{ExecError, Expr, PhysicalPlan};
use sqlparser::ast;
use std::sync::Arc;
use storage::{Batch, DataType};

/// Checks NOT NULL, computes primary keys, and buffers `batches` for `table` in `txn`
/// (key uniqueness is checked when `txn` commits).
pub fn append_batches(txn: &mut mvcc::Transaction, table: &Arc<mvcc::Table>, batches: Vec<Batch>) -> Result<u64> {
    let schema = table.schema();
    let mut checked = Vec::with_capacity(batches.len());
    let mut n_rows = 0u64;
    for batch in batches {
        for (col, def) in batch.columns.iter().zip(&schema.columns) {
            let has_null = col.data_type() == &arrow::datatypes::DataType::Null || col.null_count() > 0;
            if !def.nullable && has_null && batch.n_rows > 0 {
                return Err(ExecError::NotNull { table: schema.name.clone(), column: def.name.clone() }.into());
            }
        }
        let keys = primary_keys(table, &batch, 0)?;
        n_rows += batch.n_rows as u64;
        checked.push((batch, keys));
    }
    // Only after every batch passed: a failing statement buffers nothing.
    for (batch, keys) in checked {
        txn.append(table.clone(), batch, keys);
    }
    Ok(n_rows)
}

/// The encoded primary keys of `batch`'s rows, whose table columns start at column `first`
/// (empty when the table has no primary key).
pub fn primary_keys(table: &mvcc::Table, batch: &Batch, first: usize) -> Result<Vec<Vec<u8>>> {
    let pk = &table.schema().primary_key;
    if pk.is_empty() {
        return Ok(Vec::new());
    }
    let cols: Vec<&dyn arrow::array::Array> = pk.iter().map(|&c| batch.column(first + c)).collect();
    Ok(encode_rows(&cols, batch.n_rows)?)
}

/// Runs INSERT: binds the source, casts it to the target columns, fills the others with NULL,
/// and appends everything in one commit. Any failure leaves the table unchanged.
pub fn insert(binder: &Binder, txn: &mut mvcc::Transaction, ins: &ast::Insert) -> Result<crate::write::WriteOutcome> {
    if ins.ignore || ins.overwrite {
        return crate::unsupported!("INSERT with IGNORE / OVERWRITE");
    }
    let table = match &ins.table {
        ast::TableObject::TableName(name) => binder.table(name)?,
        other => return crate::unsupported!("INSERT INTO {other}"),
    };
    let schema = table.schema();
    // Target columns: the listed ones, or all in order.
    let implicit_targets = ins.columns.is_empty();
    let mut targets: Vec<usize> = if implicit_targets {
        (0..schema.columns.len()).collect()
    } else {
        let mut t = Vec::new();
        for c in &ins.columns {
            let (name, pos) = match c.0.last() {
                Some(ast::ObjectNamePart::Identifier(id)) => (normalize(id), ident_pos(id)),
                _ => return crate::unsupported!("column name {c}"),
            };
            let idx = schema.column_index(&name).ok_or_else(|| {
                unknown_name(
                    &format!("column of relation \"{}\":", schema.name),
                    &name,
                    schema.columns.iter().map(|c| c.name.as_str()),
                    pos,
                )
            })?;
            if t.contains(&idx) {
                return Err(SqlError::Bind { message: format!("column \"{name}\" specified more than once"), pos });
            }
            t.push(idx);
        }
        t
    };
    let Some(source) = &ins.source else {
        return crate::unsupported!("INSERT without a source");
    };
    // VALUES rows are cast per target column; a query's output columns likewise.
    let plan = match source.body.as_ref() {
        ast::SetExpr::Values(values) if source.order_by.is_none() && source.limit_clause.is_none() => {
            let scope = crate::binder::Scope::default();
            let width = values.rows.first().map_or(0, |r| r.len());
            if values.rows.iter().any(|r| r.len() != width) {
                return crate::bind_err!("VALUES lists must all be the same length");
            }
            // Without a column list, a short row fills the leading columns (the rest get NULL).
            if implicit_targets && width < targets.len() {
                targets.truncate(width);
            }
            let mut rows = Vec::with_capacity(values.rows.len());
            for row in &values.rows {
                if row.len() != targets.len() {
                    return crate::bind_err!(
                        "INSERT has {} target columns but a VALUES row has {} expressions",
                        targets.len(),
                        row.len()
                    );
                }
                let mut bound = Vec::with_capacity(row.len());
                for (e, &t) in row.iter().zip(&targets) {
                    let def = &schema.columns[t];
                    let mut cx = crate::binder::expr_cx(&scope, "VALUES");
                    let expr = binder.expr(e, &mut cx)?;
                    bound.push(crate::binder::assign_to(expr, def.data_type, &def.name)?);
                }
                rows.push(bound);
            }
            let types = targets.iter().map(|&t| schema.columns[t].data_type).collect();
            crate::plan::LogicalPlan::Values { rows, types }
        }
        _ => {
            let bound = binder.query(source)?;
            let types = bound.types();
            if implicit_targets && types.len() < targets.len() {
                targets.truncate(types.len());
            }
            if types.len() != targets.len() {
                return crate::bind_err!(
                    "INSERT has {} target columns but the query returns {}",
                    targets.len(),
                    types.len()
                );
            }
            let exprs = types
                .iter()
                .zip(&targets)
                .enumerate()
                .map(|(idx, (t, &target))| {
                    let def = &schema.columns[target];
                    crate::binder::assign_to(
                        Expr::Column { idx, name: def.name.clone(), data_type: *t },
                        def.data_type,
                        &def.name,
                    )
                })
                .collect::<Result<Vec<_>>>()?;
            crate::plan::LogicalPlan::Project { input: Box::new(bound.plan), exprs }
        }
    };
    let snapshot = txn.snapshot();
    let plan = optimize(crate::subquery::resolve(plan, binder.subqueries.take(), snapshot)?);
    let physical: PhysicalPlan = plan.to_physical(snapshot);
    let produced = exec::collect(&physical)?;
    // Widen to the full table row: target columns from the source, NULL elsewhere.
    let mut batches = Vec::with_capacity(produced.len());
    for b in produced {
        let mut columns = Vec::with_capacity(schema.columns.len());
        for (col_idx, def) in schema.columns.iter().enumerate() {
            columns.push(match targets.iter().position(|&t| t == col_idx) {
                Some(src) => {
                    let c = &b.columns[src];
                    if DataType::from_arrow(c.data_type()) == Some(def.data_type) {
                        c.clone()
                    } else {
                        cast(c.as_ref(), def.data_type)?
                    }
                }
                None => arrow::array::new_null_array(def.data_type.to_arrow(), b.n_rows),
            });
        }
        batches.push(Batch { columns, n_rows: b.n_rows });
    }
    let returning =
        crate::write::bind_returning(binder, &crate::binder::Scope::of_table(&table), ins.returning.as_ref())?;
    let affected = match crate::write::on_conflict(binder, &table, ins)? {
        Some(_) if returning.is_some() => return crate::unsupported!("RETURNING with ON CONFLICT"),
        Some(action) => crate::write::upsert(txn, &table, batches, action)?,
        None => {
            let returned = match &returning {
                Some((exprs, names)) => Some(crate::write::returning_rows(exprs, names, &batches)?),
                None => None,
            };
            let n = append_batches(txn, &table, batches)?;
            return Ok(crate::write::WriteOutcome { affected: n, returned });
        }
    };
    Ok(crate::write::WriteOutcome { affected, returned: None })
}

/// `CREATE TABLE t [(columns)] AS query`: the query runs first, so a failing query creates
/// nothing; the table's columns take the query's names and types (or the listed ones, whose
/// types may be given), and its rows arrive in one commit.
pub fn create_table_as(
    binder: &Binder,
    catalog: &Arc<mvcc::Catalog>,
    ct: &ast::CreateTable,
    durability: Option<mvcc::Durability>,
) -> Result<u64> {
    let Some(query) = &ct.query else {
        return crate::unsupported!("CREATE TABLE without AS");
    };
    if !ct.constraints.is_empty() || ct.columns.iter().any(|c| !c.options.is_empty()) {
        return crate::unsupported!("constraints in CREATE TABLE ... AS");
    }
    let (name, _) = crate::binder::object_name(&ct.name)?;
    if catalog.table(&name).is_some() {
        if ct.if_not_exists {
            return Ok(0);
        }
        return crate::bind_err!("relation \"{name}\" already exists");
    }
    let bound = binder.query(query)?;
    let types = bound.types();
    let mut columns: Vec<storage::ColumnDef> = Vec::with_capacity(types.len());
    if !ct.columns.is_empty() && ct.columns.len() != types.len() {
        return crate::bind_err!(
            "CREATE TABLE ... AS lists {} columns but the query returns {}",
            ct.columns.len(),
            types.len()
        );
    }
    for (k, t) in types.iter().enumerate() {
        let (col_name, data_type) = match ct.columns.get(k) {
            Some(c) if matches!(c.data_type, ast::DataType::Unspecified) => (normalize(&c.name), *t),
            Some(c) => (normalize(&c.name), crate::binder::bind_type(&c.data_type)?),
            None => (bound.names[k].clone(), *t),
        };
        // An untyped NULL column becomes TEXT, as in PostgreSQL.
        let data_type = if data_type == DataType::Null { DataType::Text } else { data_type };
        if data_type == DataType::Interval {
            return crate::unsupported!("INTERVAL columns (intervals are only computed in queries)");
        }
        if columns.iter().any(|c| c.name == col_name) {
            return crate::bind_err!("column \"{col_name}\" specified more than once");
        }
        columns.push(storage::ColumnDef { name: col_name, data_type, nullable: true });
    }
    let mut txn = catalog.begin();
    let snapshot = txn.snapshot();
    let plan = optimize(crate::subquery::resolve(bound.plan, binder.subqueries.take(), snapshot)?);
    let produced = exec::collect(&plan.to_physical(snapshot))?;
    let mut batches = Vec::with_capacity(produced.len());
    for b in produced {
        let mut cols = Vec::with_capacity(columns.len());
        for (c, def) in b.columns.iter().zip(&columns) {
            cols.push(if DataType::from_arrow(c.data_type()) == Some(def.data_type) {
                c.clone()
            } else {
                cast(c.as_ref(), def.data_type)?
            });
        }
        batches.push(Batch { columns: cols, n_rows: b.n_rows });
    }
    let schema = storage::TableSchema { name: name.clone(), columns, primary_key: Vec::new() };
    let table = catalog.create_table_with(schema, crate::ddl::table_compression(ct)?)?;
    txn.set_durability(durability);
    append_batches(&mut txn, &table, batches).and_then(|n| Ok(txn.commit().map(|_| n)?)).inspect_err(|_| {
        let _ = catalog.drop_table(&name);
    })
}
