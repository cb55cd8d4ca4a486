-- chDB's spelling of q15_category_percentiles (scripts/bench_peers.py runs it instead of the
-- workload's). ClickHouse has no percentile_cont(p) WITHIN GROUP (ORDER BY x); its exact
-- quantile with linear interpolation between the closest ranks (type R7, percentile_cont's
-- definition) is quantileExactInclusive(p)(x).
SELECT p.category,
       COUNT(*) AS order_lines,
       quantileExactInclusive(0.5)(o.amount) AS median_amount,
       quantileExactInclusive(0.99)(o.amount) AS p99_amount
FROM orders o
JOIN products p ON p.product_id = o.product_id
GROUP BY p.category
ORDER BY p.category;
