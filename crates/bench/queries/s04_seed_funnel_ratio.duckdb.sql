-- DuckDB's spelling of s04_seed_funnel_ratio.sql: DuckDB's FLOAT is a 4-byte REAL, so the
-- PostgreSQL `::float` (8 bytes) is `::DOUBLE` here.
WITH events AS (
    SELECT 'visit' AS stage, session_id
    FROM pageviews WHERE timestamp > TIMESTAMP '2025-11-30 00:00:00' - INTERVAL 1 DAY
    UNION ALL
    SELECT 'add_to_cart' AS stage, session_id
    FROM cart_events WHERE timestamp > TIMESTAMP '2025-11-30 00:00:00' - INTERVAL 1 DAY
    UNION ALL
    SELECT 'purchase' AS stage, order_id AS session_id
    FROM orders WHERE timestamp > TIMESTAMP '2025-11-30 00:00:00' - INTERVAL 1 DAY
)
SELECT stage,
       COUNT(DISTINCT session_id) AS sessions,
       COUNT(DISTINCT session_id)::DOUBLE / MAX(COUNT(DISTINCT session_id)) OVER () AS conversion_rate
FROM events
GROUP BY stage
ORDER BY sessions DESC, stage;
