"""Writes on the embedded SQLite warehouse: one transaction per page batch."""

from titan_dagster.warehouse.batch import Batch
from titan_dagster.warehouse.sqlite_time import iso_from_ms

_UPSERT = """
INSERT INTO ohlcv (exchange, symbol, timeframe, ts, open, high, low, close, volume, closed)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (exchange, symbol, timeframe, ts) DO UPDATE
SET open = excluded.open, high = excluded.high, low = excluded.low,
    close = excluded.close, volume = excluded.volume, closed = excluded.closed
WHERE ohlcv.open IS NOT excluded.open OR ohlcv.high IS NOT excluded.high
   OR ohlcv.low IS NOT excluded.low OR ohlcv.close IS NOT excluded.close
   OR ohlcv.volume IS NOT excluded.volume OR ohlcv.closed IS NOT excluded.closed
"""

_MARK_DAYS = """
INSERT INTO ohlcv_complete_days (exchange, symbol, timeframe, day, candles)
VALUES (?, ?, ?, ?, ?)
ON CONFLICT (exchange, symbol, timeframe, day)
DO UPDATE SET candles = excluded.candles,
              completed_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')
"""


_REJECT = """
INSERT INTO ohlcv_rejects (exchange, symbol, timeframe, day, ts_ms, open, high, low, close,
                           volume, rule, run_id)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
"""

_GAP = """
INSERT INTO ohlcv_gaps (exchange, symbol, timeframe, start_ts, end_ts, candles)
VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (exchange, symbol, timeframe, start_ts)
DO UPDATE SET end_ts = excluded.end_ts, candles = excluded.candles,
              confirmed_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')
"""

_UNSERVED = """
INSERT INTO ohlcv_unserved (exchange, symbol, timeframe, day, start_ts, end_ts, candles)
VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (exchange, symbol, timeframe, day, start_ts)
DO UPDATE SET end_ts = excluded.end_ts, candles = excluded.candles
"""


def write_sqlite(conn, key: tuple[str, str, str], batch: Batch) -> None:
    try:
        conn.executemany(_UPSERT, [(*key, iso_from_ms(ts), *values, closed)
                                   for candles, closed in ((batch.candles, 1),
                                                           (batch.open_candles, 0))
                                   for ts, *values in candles])
        conn.executemany(_REJECT, [(*key, day.isoformat(), r.ts, *r.values, r.rule,
                                    batch.run_id) for day, r in batch.rejects])
        conn.executemany(_GAP, [(*key, iso_from_ms(a), iso_from_ms(b), n)
                                for a, b, n in batch.exchange_gaps])
        conn.executemany(_MARK_DAYS, [(*key, day.isoformat(), n)
                                      for day, n in batch.complete_days])
        conn.executemany(_UNSERVED, [(*key, day.isoformat(), iso_from_ms(a), iso_from_ms(b), n)
                                     for day, a, b, n in batch.unserved])
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
