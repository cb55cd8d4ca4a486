//! A grammar-based random SQL generator in the spirit of SQLsmith: statements are built
//! top-down from the fuzz schema with their types tracked, so most of them bind and run.
//!
//! Case `k` of seed `s` is a pure function of `(s, k)` ([`statement`]): a failure report's
//! seed and case number regenerate the statement. Expressions carry a depth limit and the
//! statement a node budget, so the generator itself never recurses deeply; the deliberately
//! deep statements of `stress.rs` are built iteratively.
//!
//! ```text
//! statement ─► query (WITH, set operations, ORDER BY / LIMIT)      query.rs
//!          │     └► select (FROM + joins, WHERE, GROUP BY, HAVING, windows)
//!          │           └► expressions of a wanted type             expr.rs
//!          │                 └► aggregate and window calls         calls.rs
//!          ├► INSERT INTO scratch ... SELECT / VALUES              query.rs
//!          ├► a broken variant of any of these                     ../mutate.rs
//!          └► a deeply nested or very long statement               stress.rs
//! ```

mod calls;
mod expr;
mod literal;
mod query;
mod stress;

use super::rng::Rng;
use super::schema::TABLES;

/// The SQL types the generator tracks. Numbers are tracked by class (an `Int` request may
/// give any integer type, a `Double` request any number), which is all binding needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ty {
    Bool,
    SmallInt,
    Int,
    BigInt,
    Real,
    Double,
    Text,
    Date,
    Timestamp,
    Interval,
}

impl Ty {
    pub const ALL: [Ty; 10] = [
        Ty::Bool,
        Ty::SmallInt,
        Ty::Int,
        Ty::BigInt,
        Ty::Real,
        Ty::Double,
        Ty::Text,
        Ty::Date,
        Ty::Timestamp,
        Ty::Interval,
    ];

    pub fn is_integer(self) -> bool {
        matches!(self, Ty::SmallInt | Ty::Int | Ty::BigInt)
    }

    pub fn is_numeric(self) -> bool {
        matches!(self, Ty::SmallInt | Ty::Int | Ty::BigInt | Ty::Real | Ty::Double)
    }

    pub fn is_temporal(self) -> bool {
        matches!(self, Ty::Date | Ty::Timestamp)
    }

    /// The type name in SQL.
    pub fn sql(self) -> &'static str {
        match self {
            Ty::Bool => "BOOLEAN",
            Ty::SmallInt => "SMALLINT",
            Ty::Int => "INTEGER",
            Ty::BigInt => "BIGINT",
            Ty::Real => "REAL",
            Ty::Double => "DOUBLE",
            Ty::Text => "TEXT",
            Ty::Date => "DATE",
            Ty::Timestamp => "TIMESTAMP",
            Ty::Interval => "INTERVAL",
        }
    }

    /// Whether a value of type `self` can stand where `want` was asked for: the same class.
    pub fn fits(self, want: Ty) -> bool {
        match want {
            _ if want.is_integer() => self.is_integer(),
            Ty::Real | Ty::Double => self.is_numeric(),
            Ty::Timestamp => self.is_temporal(),
            _ => self == want,
        }
    }
}

/// A column visible to an expression: `qual.name` of type `ty`.
#[derive(Debug, Clone)]
pub struct Col {
    pub qual: String,
    pub name: String,
    pub ty: Ty,
    /// No other visible column has this name, so it may be written unqualified.
    pub unique: bool,
}

/// Marks the columns whose name is unique in `cols`.
fn mark_unique(cols: &mut [Col]) {
    let names: Vec<String> = cols.iter().map(|c| c.name.clone()).collect();
    for c in cols.iter_mut() {
        c.unique = names.iter().filter(|n| **n == c.name).count() == 1;
    }
}

/// A relation a FROM clause can name: a table, a CTE, or (built on the spot) a derived table.
#[derive(Debug, Clone)]
pub struct Rel {
    pub name: String,
    pub cols: Vec<(String, Ty)>,
    /// Rough row count, to keep joins from exploding.
    pub rows: usize,
}

/// What kind of statement a case produced, for the per-kind figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Query,
    Insert,
    Explain,
    Broken,
    Stress,
}

impl Kind {
    #[cfg(test)]
    pub const ALL: [Kind; 5] = [Kind::Query, Kind::Insert, Kind::Explain, Kind::Broken, Kind::Stress];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Query => "query",
            Kind::Insert => "insert",
            Kind::Explain => "explain",
            Kind::Broken => "broken",
            Kind::Stress => "stress",
        }
    }

    /// Statements written to be valid (the ok rate is measured over these).
    pub fn meant_valid(self) -> bool {
        matches!(self, Kind::Query | Kind::Insert | Kind::Explain)
    }
}

/// One generated statement.
#[derive(Debug, Clone)]
pub struct Statement {
    pub sql: String,
    pub kind: Kind,
    /// The shape of a stress statement, else empty.
    pub shape: &'static str,
}

/// Knobs of the generator.
#[derive(Debug, Clone, Copy)]
pub struct Config {
    /// Upper bound of a stress statement's nesting depth or length (the ladder stops here).
    pub max_stress: usize,
}

impl Default for Config {
    fn default() -> Config {
        Config { max_stress: 100_000 }
    }
}

/// The generator's state while building one statement.
pub struct Gen {
    rng: Rng,
    config: Config,
    /// Expression nodes left for this statement; at zero only leaves are made.
    budget: usize,
    /// Query nesting (subqueries, derived tables, CTE bodies) so far.
    query_depth: u32,
    next_alias: usize,
    /// Building a correlated subquery: subqueries inside it do not correlate again and its
    /// FROM clause stays small, since it may run once per outer row.
    in_correlated: bool,
    /// Named windows of the SELECTs being built, innermost last.
    named_windows: Vec<Vec<(String, String)>>,
}

/// Generates case `case` of the run seeded with `seed`.
pub fn statement(seed: u64, case: u64, config: Config) -> Statement {
    let mut g = Gen::new(Rng::for_case(seed, case), config);
    g.statement()
}

impl Gen {
    fn new(rng: Rng, config: Config) -> Gen {
        Gen { rng, config, budget: 0, query_depth: 0, next_alias: 0, in_correlated: false, named_windows: Vec::new() }
    }

    fn statement(&mut self) -> Statement {
        self.budget = *self.rng.pick(&[20, 40, 80, 150, 300]);
        // Query, INSERT ... SELECT, INSERT ... VALUES, EXPLAIN, broken, stress. The stress
        // statements are few distinct ones (shape x size), so they come up rarely.
        match self.rng.weighted(&[73, 7, 3, 2, 13, 2]) {
            0 => Statement { sql: self.top_query(), kind: Kind::Query, shape: "" },
            1 => Statement { sql: self.insert_select(), kind: Kind::Insert, shape: "" },
            2 => Statement { sql: self.insert_values(), kind: Kind::Insert, shape: "" },
            3 => Statement { sql: format!("EXPLAIN {}", self.top_query()), kind: Kind::Explain, shape: "" },
            4 => {
                let valid = match self.rng.below(6) {
                    0 => self.insert_select(),
                    _ => self.top_query(),
                };
                Statement { sql: super::mutate::mutate(&valid, &mut self.rng), kind: Kind::Broken, shape: "" }
            }
            _ => {
                let (shape, sql) = self.stress();
                Statement { sql, kind: Kind::Stress, shape }
            }
        }
    }

    fn alias(&mut self, prefix: &str) -> String {
        self.next_alias += 1;
        format!("{prefix}{}", self.next_alias)
    }

    /// The tables of the fuzz schema as relations.
    fn tables() -> Vec<Rel> {
        TABLES
            .iter()
            .map(|t| Rel {
                name: t.name.to_string(),
                cols: t.columns.iter().map(|c| (c.name.to_string(), c.ty)).collect(),
                rows: t.rows,
            })
            .collect()
    }

    /// A random type, weighted towards the common ones.
    fn any_type(&mut self) -> Ty {
        const WEIGHTS: [u32; 10] = [12, 3, 16, 8, 2, 14, 16, 4, 7, 2];
        Ty::ALL[self.rng.weighted(&WEIGHTS)]
    }

    /// A type that can be compared and sorted.
    fn comparable_type(&mut self) -> Ty {
        *self.rng.pick(&[
            Ty::Int,
            Ty::Int,
            Ty::BigInt,
            Ty::Double,
            Ty::Double,
            Ty::Text,
            Ty::Text,
            Ty::Date,
            Ty::Timestamp,
            Ty::Bool,
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_statements() {
        for case in 0..200 {
            let a = statement(11, case, Config::default());
            let b = statement(11, case, Config::default());
            assert_eq!(a.sql, b.sql);
        }
        assert_ne!(statement(11, 0, Config::default()).sql, statement(12, 0, Config::default()).sql);
    }

    #[test]
    fn every_kind_comes_up() {
        let mut seen = std::collections::HashSet::new();
        for case in 0..500 {
            seen.insert(statement(5, case, Config::default()).kind);
        }
        assert_eq!(seen.len(), Kind::ALL.len(), "{seen:?}");
    }
}
