"""Writes on the embedded SQLite warehouse: one transaction per page batch."""

from titan_dagster.warehouse.batch import Batch, difference_rows
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

_ARCHIVED = """
INSERT INTO ohlcv_archive_days (exchange, symbol, timeframe, day, file, sha256)
VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (exchange, symbol, timeframe, day)
DO UPDATE SET file = excluded.file, sha256 = excluded.sha256,
              stored_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), rest_checked_at = NULL,
              rest_candles = NULL, rest_differences = NULL
"""

_ARCHIVE_CHECKED = """
UPDATE ohlcv_archive_days SET rest_checked_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now'),
                              rest_candles = ?, rest_differences = ?
WHERE exchange = ? AND symbol = ? AND timeframe = ? AND day = ?
"""

_ARCHIVE_DIFFERENCE = """
INSERT OR REPLACE INTO ohlcv_archive_differences (exchange, symbol, timeframe, ts,
    archive_open, archive_high, archive_low, archive_close, archive_volume, rest_open,
    rest_high, rest_low, rest_close, rest_volume)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
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
        conn.executemany(_ARCHIVED, [(*key, day.isoformat(), name, sha256)
                                     for day, name, sha256 in batch.archived_days])
        for check in batch.archive_checks:
            conn.execute(_ARCHIVE_CHECKED, (check.rest_candles, len(check.differences), *key,
                                            check.day.isoformat()))
            conn.executemany(_ARCHIVE_DIFFERENCE,
                             [(*row[:3], iso_from_ms(row[3]), *row[4:])
                              for row in difference_rows(key, check)])
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
