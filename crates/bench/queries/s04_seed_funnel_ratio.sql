-- Seed dialect: a conversion funnel over the last day before NOW, each stage's sessions as a
-- share of the widest stage with COUNT(DISTINCT ...)::float / MAX(COUNT(DISTINCT ...)) OVER ().
-- `::float` is PostgreSQL's float8 (DOUBLE), as in our engine.
WITH events AS (
    SELECT 'visit' AS stage, session_id
    FROM pageviews WHERE timestamp > datetime('2025-11-30 00:00:00', '-1 day')
    UNION ALL
    SELECT 'add_to_cart' AS stage, session_id
    FROM cart_events WHERE timestamp > datetime('2025-11-30 00:00:00', '-1 day')
    UNION ALL
    SELECT 'purchase' AS stage, order_id AS session_id
    FROM orders WHERE timestamp > datetime('2025-11-30 00:00:00', '-1 day')
)
SELECT stage,
       COUNT(DISTINCT session_id) AS sessions,
       COUNT(DISTINCT session_id)::float / MAX(COUNT(DISTINCT session_id)) OVER () AS conversion_rate
FROM events
GROUP BY stage
ORDER BY sessions DESC, stage;
