-- DuckDB's spelling of s02_seed_kpi_fixed_now.sql.
SELECT SUM(amount) AS total_revenue,
       AVG(amount) AS avg_order_value,
       COUNT(*) AS total_orders,
       COUNT(DISTINCT CASE WHEN is_new_customer THEN customer_id END) AS new_customers
FROM orders
WHERE timestamp > TIMESTAMP '2025-11-30 00:00:00' - INTERVAL 1 DAY;
