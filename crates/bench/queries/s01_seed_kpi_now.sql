-- Seed dialect: q01's KPI cards with SQLite's relative time against the wall clock.
-- The data ends at NOW = 2025-11-30, so with any clock after 2025-12-01 the last day holds no
-- rows: this checks that datetime('now', '-1 day') parses, binds and compares with a TIMESTAMP
-- column, and the aggregates over no rows (NULL sum and average, zero counts).
SELECT SUM(amount) AS total_revenue,
       AVG(amount) AS avg_order_value,
       COUNT(*) AS total_orders,
       COUNT(DISTINCT CASE WHEN is_new_customer THEN customer_id END) AS new_customers
FROM orders
WHERE timestamp > datetime('now', '-1 day');
