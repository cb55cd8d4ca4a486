//! [`LogicalPlan`]: what a query computes, before the optimizer and the physical planner.
//! Every node's expressions refer to the output columns of its input by position.

use exec::{AggregateExpr, Expr, SortKey};
use std::sync::Arc;
use storage::DataType;

/// A relational operator tree.
#[derive(Debug, Clone)]
pub enum LogicalPlan {
    /// A table's columns (`columns` are table column indexes), optionally filtered.
    Scan {
        table: Arc<mvcc::Table>,
        columns: Vec<usize>,
        filter: Option<Expr>,
    },
    /// Constant rows.
    Values {
        rows: Vec<Vec<Expr>>,
        types: Vec<DataType>,
    },
    Filter {
        input: Box<LogicalPlan>,
        predicate: Expr,
    },
    Project {
        input: Box<LogicalPlan>,
        exprs: Vec<Expr>,
    },
    /// Output columns: group keys, then aggregates.
    Aggregate {
        input: Box<LogicalPlan>,
        group_by: Vec<Expr>,
        aggregates: Vec<AggregateExpr>,
    },
    Sort {
        input: Box<LogicalPlan>,
        keys: Vec<SortKey>,
        fetch: Option<usize>,
    },
    Limit {
        input: Box<LogicalPlan>,
        limit: Option<usize>,
        offset: usize,
    },
}

impl LogicalPlan {
    /// The types of the output columns.
    pub fn output_types(&self) -> Vec<DataType> {
        match self {
            LogicalPlan::Scan { table, columns, .. } => columns
                .iter()
                .map(|&c| table.schema().columns[c].data_type)
                .collect(),
            LogicalPlan::Values { types, .. } => types.clone(),
            LogicalPlan::Filter { input, .. }
            | LogicalPlan::Sort { input, .. }
            | LogicalPlan::Limit { input, .. } => input.output_types(),
            LogicalPlan::Project { exprs, .. } => exprs.iter().map(Expr::data_type).collect(),
            LogicalPlan::Aggregate {
                group_by,
                aggregates,
                ..
            } => group_by
                .iter()
                .map(Expr::data_type)
                .chain(aggregates.iter().map(|a| a.data_type))
                .collect(),
        }
    }

    /// Lowers the plan to an executable one that reads at `snapshot`.
    pub fn to_physical(&self, snapshot: mvcc::Snapshot) -> exec::PhysicalPlan {
        use exec::PhysicalPlan as P;
        let lower = |p: &LogicalPlan| Box::new(p.to_physical(snapshot));
        match self {
            LogicalPlan::Scan {
                table,
                columns,
                filter,
            } => P::Scan {
                table: table.clone(),
                snapshot,
                columns: columns.clone(),
                filter: filter.clone(),
            },
            LogicalPlan::Values { rows, types } => P::Values {
                rows: rows.clone(),
                types: types.clone(),
            },
            LogicalPlan::Filter { input, predicate } => P::Filter {
                input: lower(input),
                predicate: predicate.clone(),
            },
            LogicalPlan::Project { input, exprs } => P::Project {
                input: lower(input),
                exprs: exprs.clone(),
            },
            LogicalPlan::Aggregate {
                input,
                group_by,
                aggregates,
            } => P::Aggregate {
                input: lower(input),
                group_by: group_by.clone(),
                aggregates: aggregates.clone(),
            },
            LogicalPlan::Sort { input, keys, fetch } => P::Sort {
                input: lower(input),
                keys: keys.clone(),
                fetch: *fetch,
            },
            LogicalPlan::Limit {
                input,
                limit,
                offset,
            } => P::Limit {
                input: lower(input),
                limit: *limit,
                offset: *offset,
            },
        }
    }
}
