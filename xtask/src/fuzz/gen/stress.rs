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
    pub(super) fn stress(&mut self) -> String {
        let sizes: Vec<usize> = LADDER.iter().copied().filter(|&n| n <= self.config.max_stress.max(10)).collect();
        let n = *self.rng.pick(&sizes);
        // Statements that build a plan node per level are capped lower: they are slow, not deep.
        let heavy = n.min(1_000);
        let rep = |s: &str, k: usize| s.repeat(k);
        match self.rng.below(17) {
            0 => format!("SELECT {}1{}", rep("(", n), rep(")", n)),
            1 => format!("SELECT 1{}", rep(" + 1", n)),
            2 => format!("SELECT count(*) FROM orders WHERE amount > 0{}", rep(" AND quantity > 0", n)),
            3 => format!("SELECT {}TRUE", rep("NOT ", n)),
            4 => format!("SELECT {}-1{}", rep("abs(", n), rep(")", n)),
            5 => format!("SELECT {}1{}", rep("CASE WHEN TRUE THEN ", n), rep(" END", n)),
            6 => format!("SELECT {}1{}", rep("(SELECT ", heavy), rep(")", heavy)),
            7 => {
                let mut sql = String::from("orders");
                for k in 0..heavy {
                    sql = format!("(SELECT * FROM {sql}) AS x{k}");
                }
                format!("SELECT count(*) FROM {sql}")
            }
            8 => format!("SELECT 1{}", rep(" UNION ALL SELECT 1", heavy)),
            9 => {
                let items: Vec<String> = (0..n).map(|k| k.to_string()).collect();
                format!("SELECT count(*) FROM orders WHERE product_id IN ({})", items.join(", "))
            }
            10 => {
                let mut defs = vec!["c0 AS (SELECT 1 AS x)".to_string()];
                for k in 1..heavy {
                    defs.push(format!("c{k} AS (SELECT x + 1 AS x FROM c{})", k - 1));
                }
                format!("WITH {} SELECT x FROM c{}", defs.join(", "), heavy - 1)
            }
            11 => format!("SELECT 'a'{}", rep(" || 'a'", n)),
            12 => format!("SELECT {}1", rep("- ", n)),
            13 => {
                let ors: Vec<String> = (0..n).map(|k| format!("product_id = {k}")).collect();
                format!("SELECT count(*) FROM orders WHERE {}", ors.join(" OR "))
            }
            14 => {
                let items: Vec<String> = (0..heavy).map(|k| format!("{k} AS c{k}")).collect();
                format!("SELECT {}", items.join(", "))
            }
            15 => {
                let joins: String =
                    (1..heavy.min(300)).map(|k| format!(" JOIN misc AS m{k} ON m{k}.id = m{}.id", k - 1)).collect();
                format!("SELECT count(*) FROM misc AS m0{joins}")
            }
            _ => format!("SELECT {}1{}", rep("coalesce(NULL, ", n), rep(")", n)),
        }
    }
}
