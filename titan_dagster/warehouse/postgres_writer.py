"""Bulk writes on PostgreSQL: COPY a page batch into a staging table, then one upsert."""

from datetime import date

from titan_dagster.ingest.candles import Candle

_STAGING = """
CREATE TEMP TABLE IF NOT EXISTS ohlcv_staging (
    ts_ms bigint, open numeric, high numeric, low numeric, close numeric, volume numeric
) ON COMMIT DELETE ROWS
"""

# DISTINCT ON: a page that repeats a candle must not abort the upsert ("cannot affect row
# a second time"). IS DISTINCT FROM: an unchanged candle is not rewritten.
_UPSERT = """
INSERT INTO ohlcv AS o (exchange, symbol, timeframe, ts, open, high, low, close, volume)
SELECT DISTINCT ON (ts_ms) %(exchange)s, %(symbol)s, %(timeframe)s,
       to_timestamp(ts_ms / 1000.0), open, high, low, close, volume
FROM ohlcv_staging
ORDER BY ts_ms
ON CONFLICT (exchange, symbol, timeframe, ts) DO UPDATE
SET open = EXCLUDED.open, high = EXCLUDED.high, low = EXCLUDED.low,
    close = EXCLUDED.close, volume = EXCLUDED.volume
WHERE (o.open, o.high, o.low, o.close, o.volume)
      IS DISTINCT FROM (EXCLUDED.open, EXCLUDED.high, EXCLUDED.low, EXCLUDED.close, EXCLUDED.volume)
"""

_MARK_DAYS = """
INSERT INTO ohlcv_complete_days (exchange, symbol, timeframe, day, candles)
VALUES (%s, %s, %s, %s, %s)
ON CONFLICT (exchange, symbol, timeframe, day)
DO UPDATE SET candles = EXCLUDED.candles, completed_at = now()
"""


def write_postgres(conn, key: tuple[str, str, str], candles: list[Candle],
                   days: list[tuple[date, int]]) -> None:
    exchange, symbol, timeframe = key
    with conn.cursor() as cur:
        if candles:
            cur.execute(_STAGING)
            with cur.copy("COPY ohlcv_staging (ts_ms, open, high, low, close, volume) "
                          "FROM STDIN") as copy:
                for candle in candles:
                    copy.write_row(candle)
            cur.execute(_UPSERT, {"exchange": exchange, "symbol": symbol,
                                  "timeframe": timeframe})
        if days:
            cur.executemany(_MARK_DAYS, [(*key, day, count) for day, count in days])
    conn.commit()
