-- DuckDB's spelling of s01_seed_kpi_now.sql (DuckDB has no SQLite datetime()).
SELECT SUM(amount) AS total_revenue,
       AVG(amount) AS avg_order_value,
       COUNT(*) AS total_orders,
       COUNT(DISTINCT CASE WHEN is_new_customer THEN customer_id END) AS new_customers
FROM orders
WHERE timestamp > CAST(now() AS TIMESTAMP) - INTERVAL 1 DAY;
