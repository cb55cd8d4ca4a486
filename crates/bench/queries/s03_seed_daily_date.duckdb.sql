-- DuckDB's spelling of s03_seed_daily_date.sql (CAST for DATE(), an interval for datetime()).
SELECT CAST(timestamp AS DATE) AS day,
       COUNT(*) AS order_lines,
       SUM(amount) AS revenue,
       COUNT(DISTINCT customer_id) AS customers
FROM orders
WHERE timestamp >= TIMESTAMP '2025-11-30 00:00:00' - INTERVAL 7 DAY
GROUP BY CAST(timestamp AS DATE)
ORDER BY day DESC;
