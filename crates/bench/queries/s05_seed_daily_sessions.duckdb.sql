-- DuckDB's spelling of s05_seed_daily_sessions.sql.
SELECT CAST(timestamp AS DATE) AS day,
       COUNT(DISTINCT session_id) AS sessions,
       COUNT(DISTINCT session_id)::DOUBLE / MAX(COUNT(DISTINCT session_id)) OVER () AS share_of_peak
FROM pageviews
WHERE timestamp > TIMESTAMP '2025-11-30 00:00:00' - INTERVAL 7 DAY
GROUP BY CAST(timestamp AS DATE)
ORDER BY day;
