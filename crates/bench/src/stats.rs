//! Summaries of repeated timings: median, nearest-rank percentiles, geometric mean.

/// A summary of one query's timed runs, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    pub runs: usize,
    pub median: f64,
    /// The nearest-rank 99th percentile: the `ceil(0.99 * runs)`-th fastest run, which is the
    /// slowest run whenever there are fewer than 100 runs.
    pub p99: f64,
    pub min: f64,
    pub max: f64,
}

/// The nearest-rank `pct`-th percentile (0 < pct <= 100) of sorted values.
fn nearest_rank(sorted: &[f64], pct: f64) -> f64 {
    let rank = ((pct / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Summarizes `times` (any order); `None` when there are none or one is not a finite number.
pub fn summarize(times: &[f64]) -> Option<Summary> {
    if times.is_empty() || times.iter().any(|t| !t.is_finite()) {
        return None;
    }
    let mut sorted = times.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    let median = if n % 2 == 1 { sorted[n / 2] } else { (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0 };
    Some(Summary { runs: n, median, p99: nearest_rank(&sorted, 99.0), min: sorted[0], max: sorted[n - 1] })
}

/// The geometric mean of positive values; `None` when there are none or one is not positive.
pub fn geomean(values: &[f64]) -> Option<f64> {
    if values.is_empty() || values.iter().any(|v| !(v.is_finite() && *v > 0.0)) {
        return None;
    }
    Some((values.iter().map(|v| v.ln()).sum::<f64>() / values.len() as f64).exp())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_and_p99() {
        let s = summarize(&[5.0, 1.0, 3.0, 2.0, 4.0]).unwrap();
        assert_eq!((s.runs, s.median, s.p99, s.min, s.max), (5, 3.0, 5.0, 1.0, 5.0));
        assert_eq!(summarize(&[4.0, 1.0, 3.0, 2.0]).unwrap().median, 2.5);
        let many: Vec<f64> = (1..=200).map(f64::from).collect();
        assert_eq!(summarize(&many).unwrap().p99, 198.0);
        assert_eq!(summarize(&[]), None);
        assert_eq!(summarize(&[1.0, f64::NAN]), None);
    }

    #[test]
    fn geometric_mean() {
        assert!((geomean(&[2.0, 8.0]).unwrap() - 4.0).abs() < 1e-12);
        assert_eq!(geomean(&[]), None);
        assert_eq!(geomean(&[1.0, 0.0]), None);
    }
}
