//! The benchmark gates (`crates/bench/gates.toml`): per row-count tier, the largest allowed
//! ratio of HeliosDB's median time to DuckDB's, per query and for the geometric mean.
//!
//! The file is a small subset of TOML, parsed here without a TOML library:
//!
//! ```toml
//! # comment
//! [10m]            # a tier: the row count as `--rows` spells it (1m, 10m, 100m, 2500k, 12345)
//! geomean = 3.5    # the geometric mean of the per-query ratios
//! q01 = 6.0        # a query, by its number (or its whole name)
//! ```

use anyhow::{bail, Result};
use std::collections::BTreeMap;

/// The gates of one tier.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tier {
    pub geomean: Option<f64>,
    /// Query key (`q01` or a whole name) -> maximum ratio.
    pub queries: BTreeMap<String, f64>,
}

impl Tier {
    /// The gate of a query, by whole name or by the part before its first `_`.
    pub fn query(&self, name: &str) -> Option<f64> {
        let prefix = name.split('_').next().unwrap_or(name);
        self.queries.get(name).or_else(|| self.queries.get(prefix)).copied()
    }
}

/// Every tier in a gates file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Gates {
    pub tiers: BTreeMap<String, Tier>,
}

/// The tier name of a row count: `10m` for 10,000,000, `250k` for 250,000, else the number.
pub fn tier_name(rows: u64) -> String {
    if rows >= 1_000_000 && rows.is_multiple_of(1_000_000) {
        format!("{}m", rows / 1_000_000)
    } else if rows >= 1_000 && rows.is_multiple_of(1_000) {
        format!("{}k", rows / 1_000)
    } else {
        rows.to_string()
    }
}

fn bare_key(key: &str) -> bool {
    !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

impl Gates {
    pub fn parse(text: &str) -> Result<Gates> {
        let mut gates = Gates::default();
        let mut tier: Option<String> = None;
        for (line_idx, raw) in text.lines().enumerate() {
            let line = raw.split('#').next().unwrap_or_default().trim();
            if line.is_empty() {
                continue;
            }
            let at = || format!("line {}: {raw:?}", line_idx + 1);
            if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                let name = name.trim().trim_matches('"');
                if !bare_key(name) {
                    bail!("{}: a tier is [NAME], e.g. [10m]", at());
                }
                if gates.tiers.insert(name.to_string(), Tier::default()).is_some() {
                    bail!("{}: tier [{name}] appears twice", at());
                }
                tier = Some(name.to_string());
                continue;
            }
            let Some((key, value)) = line.split_once('=') else {
                bail!("{}: expected `key = number` or `[tier]`", at());
            };
            let key = key.trim().trim_matches('"');
            let value: f64 = match value.trim().parse() {
                Ok(v) if f64::is_finite(v) && v > 0.0 => v,
                _ => bail!("{}: a gate is a positive number", at()),
            };
            if !bare_key(key) {
                bail!("{}: bad key {key:?}", at());
            }
            let Some(tier) = tier.as_ref() else {
                bail!("{}: a gate outside any [tier]", at());
            };
            let entry = gates.tiers.get_mut(tier).expect("the tier was inserted with its header");
            let duplicate = if key == "geomean" {
                entry.geomean.replace(value).is_some()
            } else {
                entry.queries.insert(key.to_string(), value).is_some()
            };
            if duplicate {
                bail!("{}: {key} is gated twice in [{tier}]", at());
            }
        }
        Ok(gates)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_tiers() {
        let g = Gates::parse(
            "# gates\n[10m]\ngeomean = 3.5 # the mean\nq01 = 6\nq02_totals = 2.5\n\n[\"1m\"]\nq01 = 1.5\n",
        )
        .unwrap();
        let t = &g.tiers["10m"];
        assert_eq!(t.geomean, Some(3.5));
        assert_eq!(t.query("q01_kpi_last_day"), Some(6.0));
        assert_eq!(t.query("q02_totals"), Some(2.5));
        assert_eq!(t.query("q03_revenue"), None);
        assert_eq!(g.tiers["1m"].query("q01"), Some(1.5));
    }

    #[test]
    fn rejects_bad_files() {
        assert!(Gates::parse("q01 = 1\n").is_err());
        assert!(Gates::parse("[10m]\nq01 = fast\n").is_err());
        assert!(Gates::parse("[10m]\nq01 = -1\n").is_err());
        assert!(Gates::parse("[10m]\nq01 = 1\nq01 = 2\n").is_err());
        assert!(Gates::parse("[10m]\n[10m]\n").is_err());
        assert!(Gates::parse("[10m]\nq01\n").is_err());
    }

    #[test]
    fn names_tiers() {
        assert_eq!(tier_name(10_000_000), "10m");
        assert_eq!(tier_name(2_500_000), "2500k");
        assert_eq!(tier_name(12_345), "12345");
    }
}
