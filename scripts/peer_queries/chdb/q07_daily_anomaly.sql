-- chDB's spelling of q07_daily_anomaly (scripts/bench_peers.py runs it instead of the workload's).
-- ClickHouse's sample standard deviation of a single value is nan where SQL's is NULL, so the
-- first day's one-row window is made NULL explicitly; everything else is the workload's query.
SELECT day, daily_revenue, avg_7_day, stddev_7_day,
       CASE WHEN ABS(daily_revenue - avg_7_day) > 2 * stddev_7_day THEN 'ANOMALY' ELSE 'NORMAL' END AS status
FROM (
    SELECT CAST(timestamp AS DATE) AS day,
           SUM(amount) AS daily_revenue,
           AVG(SUM(amount)) OVER (ORDER BY CAST(timestamp AS DATE) ROWS BETWEEN 7 PRECEDING AND CURRENT ROW) AS avg_7_day,
           CASE WHEN COUNT(*) OVER (ORDER BY CAST(timestamp AS DATE) ROWS BETWEEN 7 PRECEDING AND CURRENT ROW) > 1
                THEN STDDEV(SUM(amount)) OVER (ORDER BY CAST(timestamp AS DATE) ROWS BETWEEN 7 PRECEDING AND CURRENT ROW)
           END AS stddev_7_day
    FROM orders
    GROUP BY CAST(timestamp AS DATE)
) AS daily
ORDER BY day DESC;
