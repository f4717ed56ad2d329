"""Writes on the embedded SQLite warehouse: one transaction per page batch."""

from datetime import date

from titan_dagster.ingest.candles import Candle
from titan_dagster.warehouse.sqlite_time import iso_from_ms

_UPSERT = """
INSERT INTO ohlcv (exchange, symbol, timeframe, ts, open, high, low, close, volume)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (exchange, symbol, timeframe, ts) DO UPDATE
SET open = excluded.open, high = excluded.high, low = excluded.low,
    close = excluded.close, volume = excluded.volume
WHERE ohlcv.open IS NOT excluded.open OR ohlcv.high IS NOT excluded.high
   OR ohlcv.low IS NOT excluded.low OR ohlcv.close IS NOT excluded.close
   OR ohlcv.volume IS NOT excluded.volume
"""

_MARK_DAYS = """
INSERT INTO ohlcv_complete_days (exchange, symbol, timeframe, day, candles)
VALUES (?, ?, ?, ?, ?)
ON CONFLICT (exchange, symbol, timeframe, day)
DO UPDATE SET candles = excluded.candles,
              completed_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')
"""


def write_sqlite(conn, key: tuple[str, str, str], candles: list[Candle],
                 days: list[tuple[date, int]]) -> None:
    try:
        conn.executemany(_UPSERT, [(*key, iso_from_ms(ts), *values) for ts, *values in candles])
        conn.executemany(_MARK_DAYS, [(*key, day.isoformat(), count) for day, count in days])
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
