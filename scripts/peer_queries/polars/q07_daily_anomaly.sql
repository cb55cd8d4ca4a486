-- Polars' spelling of q07_daily_anomaly (scripts/bench_peers.py runs it instead of the
-- workload's). Polars SQL runs AVG over a ROWS frame but not STDDEV ("STDDEV with a window
-- frame is not supported yet"), so each day's window of itself and the 7 days before it is
-- joined explicitly: every day paired with the days numbered rn - 7 .. rn, then AVG and the
-- sample STDDEV over each day's pairs (NULL for the first day's single value, as in SQL).
WITH daily AS (
    SELECT CAST(timestamp AS DATE) AS day, SUM(amount) AS daily_revenue
    FROM orders
    GROUP BY CAST(timestamp AS DATE)
), numbered AS (
    SELECT day, daily_revenue, ROW_NUMBER() OVER (ORDER BY day) AS rn FROM daily
), windowed AS (
    SELECT cur.day AS day,
           cur.daily_revenue AS daily_revenue,
           AVG(prev.daily_revenue) AS avg_7_day,
           STDDEV(prev.daily_revenue) AS stddev_7_day
    FROM numbered cur
    CROSS JOIN numbered prev
    WHERE prev.rn BETWEEN cur.rn - 7 AND cur.rn
    GROUP BY cur.day, cur.daily_revenue
)
SELECT day, daily_revenue, avg_7_day, stddev_7_day,
       CASE WHEN ABS(daily_revenue - avg_7_day) > 2 * stddev_7_day THEN 'ANOMALY' ELSE 'NORMAL' END AS status
FROM windowed
ORDER BY day DESC;
