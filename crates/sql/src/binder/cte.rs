//! Common table expressions that run once per statement.
//!
//! Each CTE of a WITH is bound once and wrapped in a [`LogicalPlan::Cte`] node; every
//! reference copies that node, and the copies share one `exec::CachedRows`, so whichever
//! reference runs first computes the rows and the others replay them (in the main plan and in
//! subqueries alike: `(SELECT sum(x) FROM c)` next to `FROM c` runs `c` once). Once the whole
//! query is bound, [`Binder::settle_ctes`] inlines again each CTE that gains nothing from
//! being shared, so that filters still reach into it and its scans still run in parallel
//! pipelines:
//! - one referenced at most once (unless declared `AS MATERIALIZED`), or declared
//!   `AS NOT MATERIALIZED`;
//! - one whose body reads a value of an enclosing query (a CTE inside a correlated subquery)
//!   or the working table of a recursive CTE it is part of: its rows differ from run to run.
//!
//! Sharing follows PostgreSQL, which also computes a CTE referenced more than once a single
//! time: a volatile function such as `random()` in its body gives every reference the same
//! values (`now()` is fixed for the statement either way).

use super::Binder;
use crate::plan::LogicalPlan;
use exec::{CachedRows, Expr};
use sqlparser::ast::CteAsMaterialized;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// A CTE defined by the WITH being bound: its shared rows and its MATERIALIZED hint.
pub(super) struct Defined {
    pub rows: Arc<CachedRows>,
    pub hint: Option<CteAsMaterialized>,
}

type Key = *const CachedRows;

/// Counts the references to each shared CTE: a body is counted once however many copies of
/// its node there are, since it runs once.
fn count(plan: &LogicalPlan, counts: &mut HashMap<Key, usize>, bodies: &mut HashSet<Key>) {
    if let LogicalPlan::Cte { input, rows, .. } = plan {
        let key = Arc::as_ptr(rows);
        *counts.entry(key).or_default() += 1;
        if bodies.insert(key) {
            count(input, counts, bodies);
        }
        return;
    }
    for child in plan.children() {
        count(child, counts, bodies);
    }
}

fn reads_outer_ref(e: &Expr) -> bool {
    matches!(e, Expr::OuterRef { .. }) || e.children().into_iter().any(reads_outer_ref)
}

/// Whether the rows of `plan` may differ between two runs in one statement: it reads a value
/// of an enclosing query, or a recursive CTE's working table it does not define itself.
fn varies(plan: &LogicalPlan) -> bool {
    fn walk(
        plan: &LogicalPlan,
        defined: &mut Vec<*const exec::WorkingTable>,
        read: &mut Vec<*const exec::WorkingTable>,
    ) -> bool {
        let mut outer = false;
        plan.for_each_expr(&mut |e| outer |= reads_outer_ref(e));
        match plan {
            LogicalPlan::RecursiveCte { slot, .. } => defined.push(Arc::as_ptr(slot)),
            LogicalPlan::WorkingTable { slot, .. } => read.push(Arc::as_ptr(slot)),
            _ => {}
        }
        outer || plan.children().into_iter().any(|c| walk(c, defined, read))
    }
    let (mut defined, mut read) = (Vec::new(), Vec::new());
    walk(plan, &mut defined, &mut read) || read.iter().any(|s| !defined.contains(s))
}

/// Replaces the CTE nodes whose rows are in `inline` by their bodies.
fn inline(plan: LogicalPlan, keys: &HashSet<Key>) -> LogicalPlan {
    match plan {
        LogicalPlan::Cte { input, rows, .. } if keys.contains(&Arc::as_ptr(&rows)) => inline(*input, keys),
        other => other.map_children(|c| inline(c, keys)),
    }
}

impl Binder<'_> {
    /// Wraps the bound body of the CTE `name` in its shared node.
    pub(super) fn share_cte(
        &self,
        name: &str,
        body: LogicalPlan,
        hint: Option<CteAsMaterialized>,
        defined: &mut Vec<Defined>,
    ) -> LogicalPlan {
        let rows = Arc::new(CachedRows::for_cte(name));
        defined.push(Defined { rows: rows.clone(), hint });
        LogicalPlan::Cte { name: name.to_string(), input: Box::new(body), rows }
    }

    /// After the query under a WITH is bound: keeps shared the CTEs of `defined` that are
    /// worth it and inlines the others, in `plan` and in every subquery registered so far.
    pub(super) fn settle_ctes(&self, plan: LogicalPlan, defined: &[Defined]) -> LogicalPlan {
        if defined.is_empty() {
            return plan;
        }
        let mut counts = HashMap::new();
        let mut bodies = HashSet::new();
        count(&plan, &mut counts, &mut bodies);
        for sub in self.subqueries.borrow().iter() {
            count(&sub.plan, &mut counts, &mut bodies);
        }
        // The bodies, found in the plans (a CTE never referenced has no node anywhere).
        fn body_of(plan: &LogicalPlan, key: Key) -> Option<&LogicalPlan> {
            match plan {
                LogicalPlan::Cte { input, rows, .. } if Arc::as_ptr(rows) == key => Some(input),
                other => other.children().into_iter().find_map(|c| body_of(c, key)),
            }
        }
        let subqueries = self.subqueries.borrow();
        let keys: HashSet<Key> = defined
            .iter()
            .filter(|d| {
                let key = Arc::as_ptr(&d.rows);
                let n = counts.get(&key).copied().unwrap_or(0);
                let wanted = match d.hint {
                    Some(CteAsMaterialized::NotMaterialized) => false,
                    Some(CteAsMaterialized::Materialized) => n >= 1,
                    None => n >= 2,
                };
                let body = body_of(&plan, key).or_else(|| subqueries.iter().find_map(|s| body_of(&s.plan, key)));
                !wanted || body.is_none_or(varies)
            })
            .map(|d| Arc::as_ptr(&d.rows))
            .collect();
        drop(subqueries);
        if keys.is_empty() {
            return plan;
        }
        for sub in self.subqueries.borrow_mut().iter_mut() {
            let p = std::mem::replace(&mut sub.plan, LogicalPlan::Values { rows: vec![], types: vec![] });
            sub.plan = inline(p, &keys);
        }
        inline(plan, &keys)
    }
}

/// Gives every shared CTE of a statement (its main plan and subqueries) fresh rows, so a plan
/// bound once and run again (a prepared statement) computes them again.
pub fn fresh_rows(plan: LogicalPlan, subqueries: &mut [super::Subquery]) -> LogicalPlan {
    // The old rows stay in the map so no address is reused while it is being filled.
    let mut fresh: HashMap<Key, (Arc<CachedRows>, Arc<CachedRows>)> = HashMap::new();
    fn renew(plan: LogicalPlan, fresh: &mut HashMap<Key, (Arc<CachedRows>, Arc<CachedRows>)>) -> LogicalPlan {
        match plan {
            LogicalPlan::Cte { name, input, rows } => {
                let entry = fresh.entry(Arc::as_ptr(&rows)).or_insert_with(|| {
                    let new = Arc::new(CachedRows::for_cte(&name));
                    (rows.clone(), new)
                });
                let rows = entry.1.clone();
                LogicalPlan::Cte { name, input: Box::new(renew(*input, fresh)), rows }
            }
            other => other.map_children(|c| renew(c, fresh)),
        }
    }
    let plan = renew(plan, &mut fresh);
    for sub in subqueries.iter_mut() {
        let p = std::mem::replace(&mut sub.plan, LogicalPlan::Values { rows: vec![], types: vec![] });
        sub.plan = renew(p, &mut fresh);
    }
    plan
}

#[cfg(test)]
mod tests {
    use crate::binder::Binder;
    use crate::optimizer::optimize;
    use crate::session::{Engine, QueryOutput, Session};
    use exec::{CachedRows, PhysicalPlan};
    use sqlparser::ast::Statement;
    use std::sync::Arc;
    use storage::Value;

    fn session() -> Session {
        let mut s = Session::new(Engine::new());
        s.execute_one("CREATE TABLE t (k INTEGER, v INTEGER)", &[]).unwrap();
        s.execute_one("INSERT INTO t VALUES (1, 10), (1, 20), (2, 30), (3, NULL), (NULL, 5)", &[]).unwrap();
        s
    }

    /// The query's physical plan as a run builds it: bound, its subqueries run (which may
    /// already compute a shared CTE), optimized and lowered.
    fn physical(s: &Session, sql: &str) -> PhysicalPlan {
        let catalog = s.engine().catalog().clone();
        let Statement::Query(q) = crate::parser::parse_one(sql).unwrap() else { panic!("not a query: {sql}") };
        let binder = Binder::new(&catalog, &[]);
        let bound = binder.query(&q).unwrap();
        let snapshot = catalog.snapshot();
        let plan = crate::subquery::resolve(bound.plan, binder.subqueries.take(), snapshot).unwrap();
        optimize(plan).to_physical(snapshot)
    }

    /// The CTE caches of a physical plan, one per reference.
    fn caches(plan: &PhysicalPlan, out: &mut Vec<Arc<CachedRows>>) {
        if let PhysicalPlan::Cached { rows, .. } = plan {
            out.push(rows.clone());
        }
        plan.children().into_iter().for_each(|c| caches(c, out));
    }

    fn rows(s: &mut Session, sql: &str) -> Vec<String> {
        match s.execute_one(sql, &[]).unwrap() {
            QueryOutput::Rows { batches, .. } => batches
                .iter()
                .flat_map(|b| {
                    (0..b.n_rows).map(move |r| {
                        (0..b.columns.len())
                            .map(|c| Value::from_array(b.column(c), r).to_string())
                            .collect::<Vec<_>>()
                            .join(" ")
                    })
                })
                .collect(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_cte_in_from_and_in_a_scalar_subquery_runs_once() {
        let s = session();
        let sql = "WITH c AS (SELECT k, sum(v) AS s FROM t GROUP BY k)
                   SELECT a.k, a.s, (SELECT sum(s) FROM c) FROM c a JOIN c b ON a.k = b.k ORDER BY a.k";
        let plan = physical(&s, sql);
        let mut found = Vec::new();
        caches(&plan, &mut found);
        assert_eq!(found.len(), 2, "{}", plan.display_tree());
        assert!(Arc::ptr_eq(&found[0], &found[1]), "the two references share their rows");
        assert_eq!(found[0].cte(), Some("c"));
        let tree = plan.display_tree();
        assert_eq!(tree.matches("CachedExec: CTE c computed once").count(), 1, "{tree}");
        assert_eq!(tree.matches("CachedExec: CTE c (computed once, above)").count(), 1, "{tree}");
        assert_eq!(tree.matches("HashAggregateExec").count(), 1, "the body is shown once: {tree}");
        // The scalar subquery ran before the main plan and computed the CTE's 4 groups.
        assert_eq!((found[0].runs(), found[0].computed_rows()), (1, Some(4)));
        let batches = exec::collect(&plan).unwrap();
        assert_eq!(batches.iter().map(|b| b.n_rows).sum::<usize>(), 3);
        assert_eq!(found[0].runs(), 1, "the main plan replays the rows");
    }

    #[test]
    fn a_cte_referenced_once_is_inlined() {
        let s = session();
        let plan = physical(&s, "WITH c AS (SELECT k, v FROM t) SELECT * FROM c WHERE k = 1");
        let mut found = Vec::new();
        caches(&plan, &mut found);
        assert!(found.is_empty(), "{}", plan.display_tree());
        // The filter reaches the scan.
        assert!(plan.display_tree().contains("filter=(k = 1)"), "{}", plan.display_tree());
        // NOT MATERIALIZED inlines a CTE used twice; MATERIALIZED keeps one used once.
        let plan = physical(&s, "WITH c AS NOT MATERIALIZED (SELECT k FROM t) SELECT count(*) FROM c a, c b");
        let mut found = Vec::new();
        caches(&plan, &mut found);
        assert!(found.is_empty(), "{}", plan.display_tree());
        let plan = physical(&s, "WITH c AS MATERIALIZED (SELECT k FROM t) SELECT count(*) FROM c WHERE k > 1");
        let mut found = Vec::new();
        caches(&plan, &mut found);
        assert_eq!(found.len(), 1, "{}", plan.display_tree());
    }

    #[test]
    fn a_cte_reading_an_outer_value_is_inlined() {
        let s = session();
        let catalog = s.engine().catalog().clone();
        let sql = "SELECT k, (WITH c AS (SELECT v FROM t WHERE t.k = o.k) SELECT count(*) FROM c x, c y)
                   FROM (SELECT DISTINCT k FROM t) o";
        let Statement::Query(q) = crate::parser::parse_one(sql).unwrap() else { unreachable!() };
        let binder = Binder::new(&catalog, &[]);
        binder.query(&q).unwrap();
        let subs = binder.subqueries.take();
        fn has_cte(p: &crate::plan::LogicalPlan) -> bool {
            matches!(p, crate::plan::LogicalPlan::Cte { .. }) || p.children().into_iter().any(has_cte)
        }
        assert_eq!(subs.len(), 1);
        assert!(!has_cte(&subs[0].plan), "{:?}", subs[0].plan);
    }

    #[test]
    fn each_run_of_a_prepared_statement_computes_its_ctes_again() {
        let mut s = session();
        let p = s
            .prepare("WITH c AS (SELECT k FROM t WHERE v > $1) SELECT count(*) FROM c a JOIN c b ON a.k = b.k")
            .unwrap();
        let run = |s: &mut Session, v: i32| match s.execute_prepared(&p, &[Value::Integer(v)]).unwrap() {
            QueryOutput::Rows { batches, .. } => Value::from_array(batches[0].column(0), 0).to_string(),
            other => panic!("{other:?}"),
        };
        assert_eq!(run(&mut s, 0), "5");
        assert_eq!(run(&mut s, 15), "2");
        s.execute_one("INSERT INTO t VALUES (2, 40)", &[]).unwrap();
        assert_eq!(run(&mut s, 15), "5");
        assert_eq!(
            rows(&mut s, "WITH c AS (SELECT k FROM t WHERE v > 15) SELECT count(*) FROM c a JOIN c b ON a.k = b.k"),
            ["5"]
        );
    }
}
