"""Bulk writes on PostgreSQL: COPY a page batch into a staging table, then one upsert."""

from titan_dagster.warehouse.batch import Batch

_STAGING = """
CREATE TEMP TABLE IF NOT EXISTS ohlcv_staging (
    ts_ms bigint, open numeric, high numeric, low numeric, close numeric, volume numeric,
    closed boolean
) ON COMMIT DELETE ROWS
"""

# DISTINCT ON: a page that repeats a candle must not abort the upsert ("cannot affect row
# a second time"). IS DISTINCT FROM: an unchanged candle is not rewritten.
_UPSERT = """
INSERT INTO ohlcv AS o (exchange, symbol, timeframe, ts, open, high, low, close, volume,
                        closed)
SELECT DISTINCT ON (ts_ms) %(exchange)s, %(symbol)s, %(timeframe)s,
       to_timestamp(ts_ms / 1000.0), open, high, low, close, volume, closed
FROM ohlcv_staging
ORDER BY ts_ms, closed DESC
ON CONFLICT (exchange, symbol, timeframe, ts) DO UPDATE
SET open = EXCLUDED.open, high = EXCLUDED.high, low = EXCLUDED.low,
    close = EXCLUDED.close, volume = EXCLUDED.volume, closed = EXCLUDED.closed
WHERE (o.open, o.high, o.low, o.close, o.volume, o.closed)
      IS DISTINCT FROM (EXCLUDED.open, EXCLUDED.high, EXCLUDED.low, EXCLUDED.close,
                        EXCLUDED.volume, EXCLUDED.closed)
"""

_MARK_DAYS = """
INSERT INTO ohlcv_complete_days (exchange, symbol, timeframe, day, candles)
VALUES (%s, %s, %s, %s, %s)
ON CONFLICT (exchange, symbol, timeframe, day)
DO UPDATE SET candles = EXCLUDED.candles, completed_at = now()
"""


_REJECT = """
INSERT INTO ohlcv_rejects (exchange, symbol, timeframe, day, ts_ms, open, high, low, close,
                           volume, rule, run_id)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
"""

_GAP = """
INSERT INTO ohlcv_gaps (exchange, symbol, timeframe, start_ts, end_ts, candles)
VALUES (%s, %s, %s, to_timestamp(%s / 1000.0), to_timestamp(%s / 1000.0), %s)
ON CONFLICT (exchange, symbol, timeframe, start_ts)
DO UPDATE SET end_ts = EXCLUDED.end_ts, candles = EXCLUDED.candles, confirmed_at = now()
"""


def write_postgres(conn, key: tuple[str, str, str], batch: Batch) -> None:
    exchange, symbol, timeframe = key
    with conn.cursor() as cur:
        if batch.candles or batch.open_candles:
            cur.execute(_STAGING)
            with cur.copy("COPY ohlcv_staging (ts_ms, open, high, low, close, volume, closed) "
                          "FROM STDIN") as copy:
                for candle in batch.candles:
                    copy.write_row((*candle, True))
                for candle in batch.open_candles:
                    copy.write_row((*candle, False))
            cur.execute(_UPSERT, {"exchange": exchange, "symbol": symbol,
                                  "timeframe": timeframe})
        if batch.rejects:
            cur.executemany(_REJECT, [(*key, day, r.ts, *r.values, r.rule, batch.run_id)
                                      for day, r in batch.rejects])
        if batch.exchange_gaps:
            cur.executemany(_GAP, [(*key, *gap) for gap in batch.exchange_gaps])
        if batch.complete_days:
            cur.executemany(_MARK_DAYS, [(*key, day, n) for day, n in batch.complete_days])
    conn.commit()
