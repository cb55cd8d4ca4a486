//! UPDATE, DELETE and `INSERT ... ON CONFLICT`: statements that change existing rows.
//!
//! Both UPDATE and DELETE first run a query over the table's scan with its row-id column
//! ([`mvcc::ROW_ID`]): `SELECT rowid, <old key columns>, <new row> FROM t WHERE ...`, through
//! the ordinary planner (so WHERE may hold subqueries, correlated or not). Then the
//! transaction deletes the matched row ids and, for UPDATE, appends the new versions. All of
//! it reads one snapshot, so an UPDATE never sees its own output (no Halloween problem).
//!
//! `UPDATE t SET ... FROM s WHERE ...` and `DELETE FROM t USING s WHERE ...` (PostgreSQL) join
//! the scan with the other tables first; a target row that joins several rows is changed once,
//! with the first joined row's values (PostgreSQL leaves which one unspecified).

use crate::binder::{assign_to, expr_cx, ident_pos, normalize, object_name, unknown_name, Binder, Scope, ScopeColumn};
use crate::dml::{append_batches, primary_keys};
use crate::error::{Result, SqlError};
use crate::optimizer::optimize;
use crate::plan::LogicalPlan;
use arrow::array::{Array, BooleanArray, PrimitiveArray};
use exec::kernels::compare::downcast_bool;
use exec::Expr;
use sqlparser::ast;
use std::collections::HashSet;
use std::sync::Arc;
use storage::{Batch, DataType};

/// Rows a statement's RETURNING clause produced: column names and types, and the batches.
pub type Returned = (Vec<(String, DataType)>, Vec<Batch>);

/// What INSERT, UPDATE or DELETE did: the rows it touched, and the RETURNING rows if asked.
pub struct WriteOutcome {
    pub affected: u64,
    pub returned: Option<Returned>,
}

/// Binds a RETURNING list over the table's row (`*` is every column); `None` without one.
pub fn bind_returning(
    binder: &Binder,
    scope: &Scope,
    items: Option<&Vec<ast::SelectItem>>,
) -> Result<Option<(Vec<Expr>, Vec<String>)>> {
    let Some(items) = items else { return Ok(None) };
    let first_subquery = binder.subqueries.borrow().len();
    let mut exprs = Vec::new();
    let mut names = Vec::new();
    for item in items {
        match item {
            ast::SelectItem::UnnamedExpr(e) | ast::SelectItem::ExprWithAlias { expr: e, .. } => {
                exprs.push(binder.expr(e, &mut expr_cx(scope, "RETURNING"))?);
                names.push(match item {
                    ast::SelectItem::ExprWithAlias { alias, .. } => normalize(alias),
                    _ => match e {
                        ast::Expr::Identifier(id) => normalize(id),
                        ast::Expr::CompoundIdentifier(ids) => ids.last().map(normalize).unwrap_or_default(),
                        other => other.to_string(),
                    },
                });
            }
            ast::SelectItem::Wildcard(_) | ast::SelectItem::QualifiedWildcard(..) => {
                // `t.*`: the columns of t (the target, or a FROM / USING item).
                let qualifier = match item {
                    ast::SelectItem::QualifiedWildcard(ast::SelectItemQualifiedWildcardKind::ObjectName(name), _) => {
                        Some(object_name(name)?.0)
                    }
                    ast::SelectItem::QualifiedWildcard(kind, _) => {
                        return crate::unsupported!("RETURNING item {kind}.*")
                    }
                    _ => None,
                };
                let before = exprs.len();
                for (idx, c) in scope.columns.iter().enumerate() {
                    if c.hidden || qualifier.as_ref().is_some_and(|q| c.qualifier.as_ref() != Some(q)) {
                        continue;
                    }
                    exprs.push(Expr::Column { idx, name: c.name.clone(), data_type: c.data_type });
                    names.push(c.name.clone());
                }
                if let (Some(q), true) = (&qualifier, exprs.len() == before) {
                    return crate::bind_err!("missing FROM-clause entry for table \"{q}\"");
                }
            }
            other => return crate::unsupported!("RETURNING item {other}"),
        }
    }
    if binder.subqueries.borrow().len() > first_subquery {
        return crate::unsupported!("subqueries in RETURNING");
    }
    Ok(Some((exprs, names)))
}

/// Evaluates RETURNING expressions over batches of the table's full rows.
pub fn returning_rows(exprs: &[Expr], names: &[String], batches: &[Batch]) -> Result<Returned> {
    let mut out = Vec::with_capacity(batches.len());
    for b in batches {
        let columns = exprs.iter().map(|e| e.evaluate(b)).collect::<std::result::Result<Vec<_>, _>>()?;
        out.push(Batch { columns, n_rows: b.n_rows });
    }
    let columns = names.iter().cloned().zip(exprs.iter().map(Expr::data_type)).collect();
    Ok((columns, out))
}

/// The target table of UPDATE or DELETE and the scope its expressions see.
fn target(binder: &Binder, relation: &ast::TableFactor) -> Result<(Arc<mvcc::Table>, Scope)> {
    let ast::TableFactor::Table { name, alias, args: None, .. } = relation else {
        return crate::unsupported!("UPDATE or DELETE of {relation}");
    };
    let table = binder.table(name)?;
    let qualifier = match alias {
        Some(a) if !a.columns.is_empty() => return crate::unsupported!("column aliases on the target table"),
        Some(a) => normalize(&a.name),
        None => object_name(name)?.0,
    };
    let scope = Scope {
        columns: table
            .schema()
            .columns
            .iter()
            .map(|c| ScopeColumn::new(Some(qualifier.clone()), c.name.clone(), c.data_type))
            .collect(),
    };
    Ok((table, scope))
}

/// What UPDATE and DELETE read: the table's scan with its row id (column `n`, after the
/// table's `n` columns), joined with the FROM (UPDATE) or USING (DELETE) items if any; and the
/// scope of those columns (the row id a hidden column no name reaches).
fn source(
    binder: &Binder,
    table: &Arc<mvcc::Table>,
    target: &Scope,
    from: Option<&[ast::TableWithJoins]>,
) -> Result<(LogicalPlan, Scope)> {
    let n = table.schema().columns.len();
    let mut columns: Vec<usize> = (0..n).collect();
    columns.push(mvcc::ROW_ID);
    let plan = LogicalPlan::Scan { table: table.clone(), columns, filter: None };
    let mut scope = target.clone();
    scope.columns.push(ScopeColumn { hidden: true, ..ScopeColumn::new(None, "\0rowid".into(), DataType::BigInt) });
    let Some(items) = from.filter(|f| !f.is_empty()) else { return Ok((plan, scope)) };
    let (other, other_scope) = binder.from(items)?;
    crate::binder::query::check_distinct_names(&scope, &other_scope)?;
    scope.columns.extend(other_scope.columns);
    let plan =
        LogicalPlan::Join { left: Box::new(plan), right: Box::new(other), kind: exec::JoinKind::Inner, on: None };
    Ok((plan, scope))
}

/// Runs `SELECT rowid, <old primary key columns>, <exprs> FROM <source> WHERE selection` at
/// the transaction's snapshot (`source` from [`source`]; `joined` when it joins other tables:
/// each row id is then kept once, its first row).
#[allow(clippy::too_many_arguments)]
fn matching_rows(
    binder: &Binder,
    txn: &mvcc::Transaction,
    table: &Arc<mvcc::Table>,
    (plan, scope): (LogicalPlan, &Scope),
    joined: bool,
    selection: Option<&ast::Expr>,
    exprs: Vec<Expr>,
) -> Result<Vec<Batch>> {
    let n = table.schema().columns.len();
    let mut plan = plan;
    let mut predicate = None;
    if let Some(w) = selection {
        let pred = binder.expr(w, &mut expr_cx(scope, "WHERE"))?;
        let pred = crate::binder::coerce_boolean(pred, "WHERE")?;
        predicate = Some(pred.clone());
        plan = LogicalPlan::Filter { input: Box::new(plan), predicate: pred };
    }
    let mut out = vec![Expr::Column { idx: n, name: "rowid".into(), data_type: DataType::BigInt }];
    for &c in &table.schema().primary_key {
        let def = &table.schema().columns[c];
        out.push(Expr::Column { idx: c, name: def.name.clone(), data_type: def.data_type });
    }
    out.extend(exprs);
    let snapshot = txn.snapshot();
    if !joined && binder.subqueries.borrow().is_empty() {
        if let Some(id) = predicate.as_ref().and_then(|p| key_lookup(table, snapshot, p)) {
            return point_rows(table, snapshot, id, predicate.as_ref(), &out);
        }
    }
    let plan = LogicalPlan::Project { input: Box::new(plan), exprs: out };
    let plan = optimize(crate::subquery::resolve(plan, binder.subqueries.take(), snapshot)?);
    let batches = exec::collect(&plan.to_physical(snapshot))?;
    if !joined {
        return Ok(batches);
    }
    // A target row joined with several rows: keep its first.
    let mut seen = HashSet::new();
    let mut kept = Vec::with_capacity(batches.len());
    for b in batches {
        let ids = b.columns[0]
            .as_any()
            .downcast_ref::<PrimitiveArray<i64>>()
            .ok_or_else(|| SqlError::Internal("row ids are not BIGINT".into()))?;
        let keep: Vec<bool> = ids.values().iter().map(|&id| seen.insert(id)).collect();
        if keep.iter().all(|&k| k) {
            kept.push(b);
        } else {
            let mask = BooleanArray::from_slice(keep);
            kept.push(exec::operator::filter::filter_batch(&b, &mask)?);
        }
    }
    Ok(kept)
}

/// The row `WHERE pk = <constant>` matches, found through the table's key index instead of a
/// scan, when the table has a one-column primary key and the snapshot sees a row with that
/// key. `None` (take the scan) otherwise: no such row visible, or a newer version committed
/// after the snapshot (the scan then finds the old version and the delete reports the
/// conflict).
fn key_lookup(table: &mvcc::Table, snapshot: mvcc::Snapshot, predicate: &Expr) -> Option<u64> {
    let [pk] = table.schema().primary_key[..] else { return None };
    let Expr::Compare { op: exec::CmpOp::Eq, left, right } = predicate else { return None };
    let value = match (left.as_ref(), right.as_ref()) {
        (Expr::Column { idx, .. }, v) | (v, Expr::Column { idx, .. }) if *idx == pk && v.is_constant() => v,
        _ => return None,
    };
    if value.data_type() != table.schema().columns[pk].data_type {
        return None;
    }
    let array = value.evaluate(&Batch::empty_with_rows(1)).ok()?;
    if array.len() != 1 || array.is_null(0) {
        return None;
    }
    let key = exec::row_key::encode_rows(&[array.as_ref()], 1).ok()?.pop()?;
    match table.lookup_key(snapshot, &key) {
        mvcc::KeyLookup::Visible(id) => Some(id),
        mvcc::KeyLookup::Absent | mvcc::KeyLookup::Concurrent => None,
    }
}

/// `out` over row `id` (with its row id as column `n_columns`), if `predicate` holds for it:
/// what the scan plan of [`matching_rows`] returns for a one-row match.
fn point_rows(
    table: &mvcc::Table,
    snapshot: mvcc::Snapshot,
    id: u64,
    predicate: Option<&Expr>,
    out: &[Expr],
) -> Result<Vec<Batch>> {
    let mut row = table.fetch(snapshot, &[id])?;
    row.columns.push(arrow::array::Int64Array::from_slice([id as i64]).boxed());
    if let Some(p) = predicate {
        let keep = p.evaluate(&row)?;
        let keep = downcast_bool(keep.as_ref())?;
        if !(keep.is_valid(0) && keep.value(0)) {
            return Ok(Vec::new());
        }
    }
    let columns = out.iter().map(|e| e.evaluate(&row)).collect::<std::result::Result<Vec<_>, _>>()?;
    Ok(vec![Batch { columns, n_rows: 1 }])
}

/// Row ids (column 0) and encoded old primary keys (the next columns) of matched rows.
fn ids_and_keys(table: &mvcc::Table, batch: &Batch) -> Result<(Vec<u64>, Vec<Vec<u8>>)> {
    let ids = batch.columns[0]
        .as_any()
        .downcast_ref::<PrimitiveArray<i64>>()
        .ok_or_else(|| SqlError::Internal("row ids are not BIGINT".into()))?;
    let ids: Vec<u64> = ids.values().iter().map(|&v| v as u64).collect();
    let pk = &table.schema().primary_key;
    let keys = if pk.is_empty() {
        Vec::new()
    } else {
        let cols: Vec<&dyn Array> = (1..=pk.len()).map(|k| batch.columns[k].as_ref()).collect();
        exec::row_key::encode_rows(&cols, batch.n_rows)?
    };
    Ok((ids, keys))
}

/// `DELETE FROM t [WHERE ...]`.
pub fn delete(binder: &Binder, txn: &mut mvcc::Transaction, del: &ast::Delete) -> Result<WriteOutcome> {
    if !del.tables.is_empty() || del.limit.is_some() {
        return crate::unsupported!("DELETE with LIMIT or of several tables");
    }
    let from = match &del.from {
        ast::FromTable::WithFromKeyword(f) | ast::FromTable::WithoutKeyword(f) => f,
    };
    let [twj] = from.as_slice() else {
        return crate::unsupported!("DELETE from several tables");
    };
    if !twj.joins.is_empty() {
        return crate::unsupported!("DELETE with JOIN");
    }
    let (table, target_scope) = target(binder, &twj.relation)?;
    let using = del.using.as_deref();
    let (plan, scope) = source(binder, &table, &target_scope, using)?;
    let returning = bind_returning(binder, &scope, del.returning.as_ref())?;
    let extra = returning.as_ref().map(|(e, _)| e.clone()).unwrap_or_default();
    let joined = using.is_some_and(|u| !u.is_empty());
    let batches = matching_rows(binder, txn, &table, (plan, &scope), joined, del.selection.as_ref(), extra)?;
    let first_returned = 1 + table.schema().primary_key.len();
    let mut n = 0;
    for b in &batches {
        let (ids, keys) = ids_and_keys(&table, b)?;
        n += txn.delete(&table, &ids, keys)? as u64;
    }
    let returned = returning.map(|(exprs, names)| {
        let columns = names.into_iter().zip(exprs.iter().map(Expr::data_type)).collect();
        let rows = batches.iter().map(|b| Batch { columns: b.columns[first_returned..].to_vec(), n_rows: b.n_rows });
        (columns, rows.collect())
    });
    Ok(WriteOutcome { affected: n, returned })
}

/// Binds SET assignments: for each table column, its new value (the assigned expression cast
/// to the column type, or the column itself).
fn bind_assignments(
    binder: &Binder,
    table: &mvcc::Table,
    scope: &Scope,
    assignments: &[ast::Assignment],
) -> Result<Vec<Expr>> {
    let schema = table.schema();
    let mut new_values: Vec<Option<Expr>> = vec![None; schema.columns.len()];
    for a in assignments {
        let ast::AssignmentTarget::ColumnName(name) = &a.target else {
            return crate::unsupported!("assigning a tuple of columns");
        };
        let Some(ast::ObjectNamePart::Identifier(id)) = name.0.last() else {
            return crate::unsupported!("column name {name}");
        };
        let (col_name, pos) = (normalize(id), ident_pos(id));
        let idx = schema.column_index(&col_name).ok_or_else(|| {
            unknown_name(
                &format!("column of relation \"{}\":", schema.name),
                &col_name,
                schema.columns.iter().map(|c| c.name.as_str()),
                pos,
            )
        })?;
        if new_values[idx].is_some() {
            return Err(SqlError::Bind { message: format!("multiple assignments to same column \"{col_name}\""), pos });
        }
        let def = &schema.columns[idx];
        let value = binder.expr(&a.value, &mut expr_cx(scope, "UPDATE"))?;
        new_values[idx] = Some(assign_to(value, def.data_type, &def.name)?);
    }
    Ok(new_values
        .into_iter()
        .enumerate()
        .map(|(c, v)| {
            v.unwrap_or_else(|| {
                let def = &schema.columns[c];
                Expr::Column { idx: c, name: def.name.clone(), data_type: def.data_type }
            })
        })
        .collect())
}

/// `UPDATE t SET col = expr, ... [WHERE ...]`: deletes each matched row and appends its new
/// version.
pub fn update(binder: &Binder, txn: &mut mvcc::Transaction, upd: &ast::Update) -> Result<WriteOutcome> {
    if upd.or.is_some() || upd.limit.is_some() {
        return crate::unsupported!("UPDATE with OR / LIMIT");
    }
    if !upd.table.joins.is_empty() {
        return crate::unsupported!("UPDATE with JOIN (use UPDATE ... FROM)");
    }
    let (table, target_scope) = target(binder, &upd.table.relation)?;
    let from = match &upd.from {
        Some(ast::UpdateTableFromKind::AfterSet(items) | ast::UpdateTableFromKind::BeforeSet(items)) => {
            Some(items.as_slice())
        }
        None => None,
    };
    let (plan, scope) = source(binder, &table, &target_scope, from)?;
    let joined = from.is_some_and(|f| !f.is_empty());
    let new_values = bind_assignments(binder, &table, &scope, &upd.assignments)?;
    let n_cols = new_values.len();
    let returning = bind_returning(binder, &scope, upd.returning.as_ref())?;
    let mut exprs = new_values.clone();
    if let Some((ret, _)) = &returning {
        // RETURNING sees the new row: its column references read the new values.
        for e in ret {
            let mut e = e.clone();
            crate::optimizer::inline_columns(&mut e, &new_values);
            exprs.push(e);
        }
    }
    let batches = matching_rows(binder, txn, &table, (plan, &scope), joined, upd.selection.as_ref(), exprs)?;
    let first_new = 1 + table.schema().primary_key.len();
    let mut n = 0;
    let mut new_rows = Vec::with_capacity(batches.len());
    let mut returned_rows = Vec::new();
    for b in batches {
        let (ids, keys) = ids_and_keys(&table, &b)?;
        n += txn.delete(&table, &ids, keys)? as u64;
        if returning.is_some() {
            returned_rows.push(Batch { columns: b.columns[first_new + n_cols..].to_vec(), n_rows: b.n_rows });
        }
        new_rows.push(Batch { columns: b.columns[first_new..first_new + n_cols].to_vec(), n_rows: b.n_rows });
    }
    append_batches(txn, &table, new_rows)?;
    let returned = returning
        .map(|(exprs, names)| (names.into_iter().zip(exprs.iter().map(Expr::data_type)).collect(), returned_rows));
    Ok(WriteOutcome { affected: n, returned })
}

/// What to do with an inserted row whose primary key is taken.
#[derive(Debug)]
pub enum ConflictAction {
    Nothing,
    /// New values of every column (over the existing row, then the `excluded` row) and the
    /// optional condition of `DO UPDATE ... WHERE`.
    Update {
        values: Vec<Expr>,
        condition: Option<Expr>,
    },
}

/// The ON CONFLICT clause of an INSERT (also SQLite's `INSERT OR IGNORE | REPLACE`), bound.
pub fn on_conflict(binder: &Binder, table: &mvcc::Table, ins: &ast::Insert) -> Result<Option<ConflictAction>> {
    let schema = table.schema();
    let all_excluded = || {
        (0..schema.columns.len())
            .map(|c| {
                let def = &schema.columns[c];
                Expr::Column { idx: schema.columns.len() + c, name: def.name.clone(), data_type: def.data_type }
            })
            .collect::<Vec<_>>()
    };
    let action = match (&ins.or, &ins.on) {
        (None, None) => return Ok(None),
        (Some(ast::SqliteOnConflict::Ignore), None) => ConflictAction::Nothing,
        (Some(ast::SqliteOnConflict::Replace), None) => {
            ConflictAction::Update { values: all_excluded(), condition: None }
        }
        (Some(other), _) => return crate::unsupported!("INSERT OR {other}"),
        (None, Some(ast::OnInsert::OnConflict(oc))) => {
            match &oc.conflict_target {
                None => {}
                Some(ast::ConflictTarget::Columns { columns, predicate: None }) => {
                    let named: HashSet<Option<usize>> =
                        columns.iter().map(|c| schema.column_index(&normalize(c))).collect();
                    let pk: HashSet<Option<usize>> = schema.primary_key.iter().map(|&c| Some(c)).collect();
                    if named != pk {
                        return crate::bind_err!(
                            "there is no unique or exclusion constraint matching the ON CONFLICT specification"
                        );
                    }
                }
                Some(other) => return crate::unsupported!("ON CONFLICT target {other}"),
            }
            match &oc.action {
                ast::OnConflictAction::DoNothing => ConflictAction::Nothing,
                ast::OnConflictAction::DoUpdate(du) => {
                    if oc.conflict_target.is_none() {
                        return crate::bind_err!(
                            "ON CONFLICT DO UPDATE requires inference specification or constraint name"
                        );
                    }
                    // The existing row under the table's name (or alias), then `excluded`.
                    let qualifier = match &ins.table_alias {
                        Some(a) => normalize(&a.alias),
                        None => schema.name.clone(),
                    };
                    let mut scope = Scope::default();
                    for q in [qualifier, "excluded".to_string()] {
                        for c in &schema.columns {
                            scope.columns.push(ScopeColumn::new(Some(q.clone()), c.name.clone(), c.data_type));
                        }
                    }
                    let values = bind_assignments(binder, table, &scope, &du.assignments)?;
                    let condition = match &du.selection {
                        Some(w) => Some(crate::binder::coerce_boolean(
                            binder.expr(w, &mut expr_cx(&scope, "WHERE"))?,
                            "WHERE",
                        )?),
                        None => None,
                    };
                    if !binder.subqueries.borrow().is_empty() {
                        return crate::unsupported!("subqueries in ON CONFLICT DO UPDATE");
                    }
                    ConflictAction::Update { values, condition }
                }
            }
        }
        (None, Some(other)) => return crate::unsupported!("INSERT ... {other}"),
    };
    if schema.primary_key.is_empty() {
        return crate::bind_err!(
            "there is no unique or exclusion constraint matching the ON CONFLICT specification \
             (table \"{}\" has no primary key)",
            schema.name
        );
    }
    Ok(Some(action))
}

/// Inserts `batches` (full table rows), resolving primary-key conflicts by `action`.
pub fn upsert(
    txn: &mut mvcc::Transaction,
    table: &Arc<mvcc::Table>,
    batches: Vec<Batch>,
    action: ConflictAction,
) -> Result<u64> {
    let snapshot = txn.snapshot();
    let n_cols = table.schema().columns.len();
    let mut inserted = Vec::new();
    let mut n = 0u64;
    // Keys this statement inserted or updated: a second row with one of them conflicts
    // with the first (DO NOTHING skips it; DO UPDATE may not touch a row twice).
    let mut touched: HashSet<Vec<u8>> = HashSet::new();
    for batch in batches {
        let keys = primary_keys(table, &batch, 0)?;
        let mut keep = vec![false; batch.n_rows];
        let mut conflicts: Vec<(usize, u64)> = Vec::new();
        for (k, key) in keys.iter().enumerate() {
            if !touched.insert(key.clone()) {
                match action {
                    ConflictAction::Nothing => continue,
                    ConflictAction::Update { .. } => {
                        return crate::bind_err!(
                            "ON CONFLICT DO UPDATE command cannot affect row a second time \
                             (a proposed row repeats a primary key of the same command)"
                        )
                    }
                }
            }
            match table.lookup_key(snapshot, key) {
                mvcc::KeyLookup::Absent => keep[k] = true,
                mvcc::KeyLookup::Visible(id) => conflicts.push((k, id)),
                mvcc::KeyLookup::Concurrent => {
                    return Err(mvcc::TxnError::SerializationFailure { table: table.schema().name.clone() }.into())
                }
            }
        }
        let mask: BooleanArray = keep.iter().map(|&b| Some(b)).collect();
        inserted.push(exec::operator::filter::filter_batch(&batch, &mask)?);
        let ConflictAction::Update { values, condition } = &action else {
            continue;
        };
        if conflicts.is_empty() {
            continue;
        }
        let ids: Vec<u64> = conflicts.iter().map(|&(_, id)| id).collect();
        let existing = table.fetch(snapshot, &ids)?;
        let rows: Vec<i64> = conflicts.iter().map(|&(k, _)| k as i64).collect();
        let picks = PrimitiveArray::<i64>::from_vec(rows);
        let mut columns = existing.columns.clone();
        for c in &batch.columns {
            columns
                .push(arrow::compute::take::take(c.as_ref(), &picks).map_err(|e| SqlError::Internal(e.to_string()))?);
        }
        let joined = Batch { columns, n_rows: ids.len() };
        let (joined, ids) = match condition {
            Some(cond) => {
                let mask = cond.evaluate(&joined)?;
                let mask = downcast_bool(mask.as_ref())?;
                let ids = ids
                    .iter()
                    .enumerate()
                    .filter(|(k, _)| mask.is_valid(*k) && mask.value(*k))
                    .map(|(_, &id)| id)
                    .collect();
                (exec::operator::filter::filter_batch(&joined, mask)?, ids)
            }
            None => (joined, ids),
        };
        let new_columns = values.iter().map(|v| v.evaluate(&joined)).collect::<exec::Result<Vec<_>>>()?;
        let old = Batch { columns: joined.columns[..n_cols].to_vec(), n_rows: joined.n_rows };
        let old_keys = primary_keys(table, &old, 0)?;
        txn.delete(table, &ids, old_keys)?;
        inserted.push(Batch { columns: new_columns, n_rows: joined.n_rows });
    }
    n += append_batches(txn, table, inserted)?;
    Ok(n)
}
