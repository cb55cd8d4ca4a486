//! Deliberately deep or long statements: nested parentheses, operator chains, nested CASE,
//! function calls, subqueries, derived tables and CTEs, long set-operation chains, huge IN
//! lists and select lists. The engine must answer each with a result or a clean error
//! ("nested too deeply"), never a stack overflow.
//!
//! The text is built with loops, so the generator itself never recurses. Sizes climb a
//! ladder from 10 to `Config::max_stress`.

use super::Gen;

/// Sizes tried, smallest first.
const LADDER: &[usize] = &[10, 30, 100, 300, 1_000, 3_000, 10_000, 30_000, 100_000];

impl Gen {
    /// A stress statement and the name of its shape (failures are grouped by shape: every
    /// stack overflow looks the same from outside the process).
    pub(super) fn stress(&mut self) -> (&'static str, String) {
        let sizes: Vec<usize> = LADDER.iter().copied().filter(|&n| n <= self.config.max_stress.max(10)).collect();
        let n = *self.rng.pick(&sizes);
        // Statements that build a plan node per level are capped lower: they are slow, not deep.
        let heavy = n.min(1_000);
        let rep = |s: &str, k: usize| s.repeat(k);
        match self.rng.below(17) {
            0 => ("nested parentheses", format!("SELECT {}1{}", rep("(", n), rep(")", n))),
            1 => ("+ chain", format!("SELECT 1{}", rep(" + 1", n))),
            2 => ("AND chain", format!("SELECT count(*) FROM orders WHERE amount > 0{}", rep(" AND quantity > 0", n))),
            3 => ("NOT chain", format!("SELECT {}TRUE", rep("NOT ", n))),
            4 => ("nested abs()", format!("SELECT {}-1{}", rep("abs(", n), rep(")", n))),
            5 => ("nested CASE", format!("SELECT {}1{}", rep("CASE WHEN TRUE THEN ", n), rep(" END", n))),
            6 => ("nested scalar subqueries", format!("SELECT {}1{}", rep("(SELECT ", heavy), rep(")", heavy))),
            7 => {
                let mut sql = String::from("orders");
                for k in 0..heavy {
                    sql = format!("(SELECT * FROM {sql}) AS x{k}");
                }
                ("nested derived tables", format!("SELECT count(*) FROM {sql}"))
            }
            8 => ("UNION ALL chain", format!("SELECT 1{}", rep(" UNION ALL SELECT 1", heavy))),
            9 => {
                let items: Vec<String> = (0..n).map(|k| k.to_string()).collect();
                ("long IN list", format!("SELECT count(*) FROM orders WHERE product_id IN ({})", items.join(", ")))
            }
            10 => {
                let mut defs = vec!["c0 AS (SELECT 1 AS x)".to_string()];
                for k in 1..heavy {
                    defs.push(format!("c{k} AS (SELECT x + 1 AS x FROM c{})", k - 1));
                }
                ("CTE chain", format!("WITH {} SELECT x FROM c{}", defs.join(", "), heavy - 1))
            }
            11 => ("|| chain", format!("SELECT 'a'{}", rep(" || 'a'", n))),
            12 => ("unary minus chain", format!("SELECT {}1", rep("- ", n))),
            13 => {
                let ors: Vec<String> = (0..n).map(|k| format!("product_id = {k}")).collect();
                ("OR chain", format!("SELECT count(*) FROM orders WHERE {}", ors.join(" OR ")))
            }
            14 => {
                let items: Vec<String> = (0..heavy).map(|k| format!("{k} AS c{k}")).collect();
                ("wide select list", format!("SELECT {}", items.join(", ")))
            }
            15 => {
                let joins: String =
                    (1..heavy.min(300)).map(|k| format!(" JOIN misc AS m{k} ON m{k}.id = m{}.id", k - 1)).collect();
                ("many joins", format!("SELECT count(*) FROM misc AS m0{joins}"))
            }
            _ => ("nested coalesce()", format!("SELECT {}1{}", rep("coalesce(NULL, ", n), rep(")", n))),
        }
    }
}
