-- Seed dialect: daily sessions over the last 7 days before NOW by DATE(timestamp), each day as a
-- share of the busiest day (COUNT(DISTINCT session_id)::float / MAX(...) OVER ()).
SELECT DATE(timestamp) AS day,
       COUNT(DISTINCT session_id) AS sessions,
       COUNT(DISTINCT session_id)::float / MAX(COUNT(DISTINCT session_id)) OVER () AS share_of_peak
FROM pageviews
WHERE timestamp > datetime('2025-11-30 00:00:00', '-7 days')
GROUP BY DATE(timestamp)
ORDER BY day;
