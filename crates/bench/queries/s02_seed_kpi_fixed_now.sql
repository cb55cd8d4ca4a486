-- Seed dialect: q01's KPI cards with SQLite's datetime() relative to the workload's fixed NOW
-- (2025-11-30 00:00:00) instead of the wall clock; the answer equals q01's.
SELECT SUM(amount) AS total_revenue,
       AVG(amount) AS avg_order_value,
       COUNT(*) AS total_orders,
       COUNT(DISTINCT CASE WHEN is_new_customer THEN customer_id END) AS new_customers
FROM orders
WHERE timestamp > datetime('2025-11-30 00:00:00', '-1 day');
