-- Seed dialect: a daily series grouped by SQLite's DATE(timestamp), last 7 days before NOW.
SELECT DATE(timestamp) AS day,
       COUNT(*) AS order_lines,
       SUM(amount) AS revenue,
       COUNT(DISTINCT customer_id) AS customers
FROM orders
WHERE timestamp >= datetime('2025-11-30 00:00:00', '-7 days')
GROUP BY DATE(timestamp)
ORDER BY day DESC;
