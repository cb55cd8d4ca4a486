//! The binder: resolves names and types in a sqlparser AST and produces a [`LogicalPlan`]
//! whose expressions are typed `exec::Expr`s. It is the only code that reads an AST.

mod coerce;
pub(crate) mod cte;
mod expr;
pub(crate) mod query;
mod window;

pub use coerce::{assign_to, boolean as coerce_boolean};
pub use expr::Cx;
pub use query::BoundQuery;

/// A context for binding an expression that may only name columns of `scope`.
pub fn expr_cx<'s>(scope: &'s Scope, clause: &'static str) -> Cx<'s> {
    Cx::plain(scope, clause)
}

use crate::error::{Pos, Result, SqlError};
use sqlparser::ast::{self, Ident, ObjectName, ObjectNamePart, Spanned};
use std::sync::Arc;
use storage::{DataType, Value};

/// A column visible to expressions: its (table or alias) qualifier, name and type.
#[derive(Debug, Clone)]
pub struct ScopeColumn {
    pub qualifier: Option<String>,
    pub name: String,
    pub data_type: DataType,
    /// Left out of `*` and of unqualified lookups that would otherwise be ambiguous (the right
    /// side's copy of a `USING` column).
    pub hidden: bool,
}

impl ScopeColumn {
    pub fn new(qualifier: Option<String>, name: String, data_type: DataType) -> ScopeColumn {
        ScopeColumn { qualifier, name, data_type, hidden: false }
    }
}

impl Scope {
    /// The columns of one table, qualified by its name.
    pub fn of_table(table: &mvcc::Table) -> Scope {
        let schema = table.schema();
        Scope {
            columns: schema
                .columns
                .iter()
                .map(|c| ScopeColumn::new(Some(schema.name.clone()), c.name.clone(), c.data_type))
                .collect(),
        }
    }
}

/// What a subquery inside an expression computes once its plan has run.
#[derive(Debug, Clone)]
pub enum SubqueryKind {
    /// `(SELECT x ...)`: the single value (NULL for no rows).
    Scalar,
    /// `EXISTS (SELECT ...)`.
    Exists,
    /// `needle [NOT] IN (SELECT x ...)` (`op` is `=`, `all` false) and the quantified
    /// comparisons `needle op ANY|ALL (SELECT x ...)`, compared in a common type.
    In { needle: exec::Expr, negated: bool, op: exec::CmpOp, all: bool },
}

/// A subquery found while binding; the session runs it (once, or per outer row when it is
/// correlated) before or while the main plan runs.
#[derive(Debug, Clone)]
pub struct Subquery {
    pub plan: crate::plan::LogicalPlan,
    pub kind: SubqueryKind,
    /// Expressions over the enclosing row that the plan reads as `OuterRef { idx }`; empty for
    /// an uncorrelated subquery.
    pub captures: Vec<exec::Expr>,
}

/// The enclosing query of a subquery being bound: its scope and the outer columns captured.
#[derive(Debug, Clone)]
pub struct Frame {
    pub scope: Scope,
    pub captures: Vec<exec::Expr>,
    /// The enclosing expression is bound against an aggregate's output.
    pub in_aggregate: bool,
    /// That aggregate's group keys (over the scope's columns), whose output positions the
    /// subquery may read; `None` with grouping sets.
    pub group_by: Option<Vec<exec::Expr>>,
}

/// The columns an expression may name, in input order.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    pub columns: Vec<ScopeColumn>,
}

/// Binds statements against a catalog, with the statement's parameter values.
pub struct Binder<'a> {
    pub catalog: &'a mvcc::Catalog,
    pub params: &'a [Value],
    /// Common table expressions in scope, innermost last.
    pub ctes: std::cell::RefCell<Vec<(String, std::rc::Rc<query::BoundQuery>)>>,
    /// Subqueries met so far; `exec::Expr::Subquery { id }` indexes this list.
    pub subqueries: std::cell::RefCell<Vec<Subquery>>,
    /// The enclosing queries while a subquery is bound, innermost last.
    pub frames: std::cell::RefCell<Vec<Frame>>,
    /// The window function calls of the SELECT being bound (see [`window::WINDOW_BASE`]).
    pub windows: std::cell::RefCell<Vec<exec::WindowExpr>>,
    /// The WINDOW clause of the SELECT being bound.
    pub named_windows: std::cell::RefCell<Vec<(String, sqlparser::ast::WindowSpec)>>,
    /// Bind parameters as [`exec::Expr::Param`] (typed by the values in `params`) instead of
    /// their values, so the plan can run again with other values (prepared statements).
    pub keep_params: std::cell::Cell<bool>,
    /// Set when a parameter's value was bound into the plan (always, unless `keep_params`;
    /// with it, where a constant is needed, as in LIMIT $1).
    pub params_inlined: std::cell::Cell<bool>,
    /// The nesting depth of the expression being bound.
    pub depth: std::cell::Cell<usize>,
}

/// The position of an AST node, when sqlparser knows it.
pub fn pos_of(node: &impl Spanned) -> Option<Pos> {
    let span = node.span();
    (span.start.line > 0).then_some(Pos { line: span.start.line, column: span.start.column })
}

/// The position of an identifier.
pub fn ident_pos(id: &Ident) -> Option<Pos> {
    (id.span.start.line > 0).then_some(Pos { line: id.span.start.line, column: id.span.start.column })
}

/// The error for a name that does not exist, with the closest candidate if one is close.
pub fn unknown_name<'c>(
    kind: &str,
    name: &str,
    candidates: impl IntoIterator<Item = &'c str>,
    pos: Option<Pos>,
) -> SqlError {
    let mut message = format!("{kind} \"{name}\" does not exist");
    if let Some(best) = closest(name, candidates) {
        message.push_str(&format!("; did you mean \"{best}\"?"));
    }
    SqlError::Bind { message, pos }
}

/// The candidate with the smallest edit distance to `name`, if it is close enough to be a typo.
pub fn closest<'c>(name: &str, candidates: impl IntoIterator<Item = &'c str>) -> Option<&'c str> {
    let lower = name.to_lowercase();
    candidates
        .into_iter()
        .map(|c| (edit_distance(&lower, &c.to_lowercase()), c))
        .filter(|(d, c)| *d <= (c.chars().count().max(name.chars().count()) / 3).max(2))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (row, ca) in a.chars().enumerate() {
        let mut cur = vec![row + 1; b.len() + 1];
        for (col, cb) in b.iter().enumerate() {
            cur[col + 1] = (prev[col] + usize::from(ca != *cb)).min(prev[col + 1] + 1).min(cur[col] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// An identifier as the catalog spells it: unquoted names fold to lower case.
pub fn normalize(ident: &Ident) -> String {
    if ident.quote_style.is_some() {
        ident.value.clone()
    } else {
        ident.value.to_lowercase()
    }
}

/// The last part of a possibly qualified object name (`schema.table` -> `table`).
pub fn object_name(name: &ObjectName) -> Result<(String, Option<Pos>)> {
    match name.0.last() {
        Some(ObjectNamePart::Identifier(id)) => Ok((normalize(id), ident_pos(id))),
        _ => crate::unsupported!("object name {name}"),
    }
}

impl<'a> Binder<'a> {
    pub fn new(catalog: &'a mvcc::Catalog, params: &'a [Value]) -> Binder<'a> {
        Binder {
            catalog,
            params,
            ctes: Default::default(),
            subqueries: Default::default(),
            frames: Default::default(),
            windows: Default::default(),
            named_windows: Default::default(),
            keep_params: Default::default(),
            params_inlined: Default::default(),
            depth: Default::default(),
        }
    }

    /// Looks up a table by name, suggesting the closest existing one.
    pub fn table(&self, name: &ObjectName) -> Result<Arc<mvcc::Table>> {
        let (table_name, pos) = object_name(name)?;
        if name.0.len() > 1 {
            let schema = name.0[0].to_string().to_lowercase();
            if schema != "main" && schema != "public" {
                return Err(SqlError::Bind { message: format!("schema \"{schema}\" does not exist"), pos });
            }
        }
        self.catalog.table(&table_name).ok_or_else(|| {
            let names = self.catalog.table_names();
            unknown_name("table", &table_name, names.iter().map(String::as_str), pos)
        })
    }
}

/// Maps a SQL type name to a logical type.
pub fn bind_type(dt: &ast::DataType) -> Result<DataType> {
    use ast::DataType as A;
    Ok(match dt {
        A::Boolean | A::Bool => DataType::Boolean,
        A::SmallInt(_) | A::Int2(_) | A::Int16 | A::TinyInt(_) => DataType::SmallInt,
        A::Int(_) | A::Integer(_) | A::Int4(_) | A::Int32 | A::MediumInt(_) | A::Signed | A::SignedInteger => {
            DataType::Integer
        }
        A::BigInt(_) | A::Int8(_) | A::Int64 => DataType::BigInt,
        A::Real | A::Float4 | A::Float32 => DataType::Real,
        A::Double(_) | A::DoublePrecision | A::Float8 | A::Float64 | A::Float(_) => DataType::Double,
        // Until DECIMAL arrives, exact numerics are stored as doubles.
        A::Numeric(_) | A::Decimal(_) | A::Dec(_) => DataType::Double,
        A::Text
        | A::Varchar(_)
        | A::CharacterVarying(_)
        | A::CharVarying(_)
        | A::Char(_)
        | A::Character(_)
        | A::String(_)
        | A::Nvarchar(_)
        | A::Clob(_) => DataType::Text,
        A::Date => DataType::Date,
        // Only plain INTERVAL: a field restriction (`INTERVAL HOUR TO MINUTE`) would truncate.
        A::Interval { fields: None, precision: None } => DataType::Interval,
        A::Timestamp(_, ast::TimezoneInfo::None | ast::TimezoneInfo::WithoutTimeZone) | A::Datetime(_) => {
            DataType::Timestamp
        }
        A::Custom(name, _) => match name.to_string().to_lowercase().as_str() {
            "string" => DataType::Text,
            "int" | "int4" => DataType::Integer,
            "long" | "int8" => DataType::BigInt,
            "float" | "float8" | "double" => DataType::Double,
            _ => return crate::unsupported!("type {dt}"),
        },
        other => return crate::unsupported!("type {other}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions() {
        assert_eq!(closest("nmae", ["name", "id"]), Some("name"));
        assert_eq!(closest("zzzzzz", ["name", "id"]), None);
        assert_eq!(closest("ORDERS", ["orders"]), Some("orders"));
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }
}
