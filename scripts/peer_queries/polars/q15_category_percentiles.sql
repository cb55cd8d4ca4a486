-- Polars' spelling of q15_category_percentiles (scripts/bench_peers.py runs it instead of the
-- workload's). Polars SQL has no percentile_cont(p) WITHIN GROUP (ORDER BY x); its
-- QUANTILE_CONT(x, p) interpolates linearly between the closest ranks, percentile_cont's
-- definition.
SELECT p.category,
       COUNT(*) AS order_lines,
       QUANTILE_CONT(o.amount, 0.5) AS median_amount,
       QUANTILE_CONT(o.amount, 0.99) AS p99_amount
FROM orders o
JOIN products p ON p.product_id = o.product_id
GROUP BY p.category
ORDER BY p.category;
