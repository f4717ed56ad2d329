"""Bulk writes on PostgreSQL: one COPY per page batch.

New candles (the usual case in a backfill: nothing stored yet in the batch's time range) are
copied straight into ohlcv, as fast as PostgreSQL loads rows. When the range already holds
rows (a re-fetch, a correction, the minute refresh) or a concurrent writer stored some first,
the batch goes through a staging table and one upsert that rewrites only changed candles.
"""

from collections.abc import Sequence

import numpy as np
import psycopg

from titan_dagster.ingest.candles import Candle
from titan_dagster.timeframes import to_datetime
from titan_dagster.warehouse.batch import Batch, difference_rows

_COLUMNS = "ts, open, high, low, close, volume, closed"

_STAGING = """
CREATE TEMP TABLE IF NOT EXISTS ohlcv_staging (
    ts timestamptz, open numeric, high numeric, low numeric, close numeric, volume numeric,
    closed boolean
) ON COMMIT DELETE ROWS
"""

_ANY_STORED = """
SELECT EXISTS (SELECT 1 FROM ohlcv WHERE exchange = %s AND symbol = %s AND timeframe = %s
                                     AND ts BETWEEN %s AND %s)
"""

# DISTINCT ON: a page that repeats a candle must not abort the upsert ("cannot affect row
# a second time"). IS DISTINCT FROM: an unchanged candle is not rewritten.
_UPSERT = f"""
INSERT INTO ohlcv AS o (exchange, symbol, timeframe, {_COLUMNS})
SELECT DISTINCT ON (ts) %(exchange)s, %(symbol)s, %(timeframe)s, {_COLUMNS}
FROM ohlcv_staging
ORDER BY ts, closed DESC
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

_UNSERVED = """
INSERT INTO ohlcv_unserved (exchange, symbol, timeframe, day, start_ts, end_ts, candles)
VALUES (%s, %s, %s, %s, to_timestamp(%s / 1000.0), to_timestamp(%s / 1000.0), %s)
ON CONFLICT (exchange, symbol, timeframe, day, start_ts)
DO UPDATE SET end_ts = EXCLUDED.end_ts, candles = EXCLUDED.candles
"""


_ARCHIVED = """
INSERT INTO ohlcv_archive_days (exchange, symbol, timeframe, day, file, sha256)
VALUES (%s, %s, %s, %s, %s, %s)
ON CONFLICT (exchange, symbol, timeframe, day)
DO UPDATE SET file = EXCLUDED.file, sha256 = EXCLUDED.sha256, stored_at = now(),
              rest_checked_at = NULL, rest_candles = NULL, rest_differences = NULL
"""

_ARCHIVE_CHECKED = """
UPDATE ohlcv_archive_days SET rest_checked_at = now(), rest_candles = %s, rest_differences = %s
WHERE exchange = %s AND symbol = %s AND timeframe = %s AND day = %s
"""

_ARCHIVE_DIFFERENCE = """
INSERT INTO ohlcv_archive_differences (exchange, symbol, timeframe, ts, archive_open,
    archive_high, archive_low, archive_close, archive_volume, rest_open, rest_high, rest_low,
    rest_close, rest_volume)
VALUES (%s, %s, %s, to_timestamp(%s / 1000.0), %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (exchange, symbol, timeframe, ts) DO UPDATE
SET archive_open = EXCLUDED.archive_open, archive_high = EXCLUDED.archive_high,
    archive_low = EXCLUDED.archive_low, archive_close = EXCLUDED.archive_close,
    archive_volume = EXCLUDED.archive_volume, rest_open = EXCLUDED.rest_open,
    rest_high = EXCLUDED.rest_high, rest_low = EXCLUDED.rest_low,
    rest_close = EXCLUDED.rest_close, rest_volume = EXCLUDED.rest_volume, found_at = now()
"""


def write_postgres(conn: psycopg.Connection, key: tuple[str, str, str], batch: Batch) -> None:
    with conn.cursor() as cur:
        if batch.candles or batch.open_candles:
            _store_candles(cur, key, batch)
        if batch.rejects:
            cur.executemany(_REJECT, [(*key, day, r.ts, *r.values, r.rule, batch.run_id)
                                      for day, r in batch.rejects])
        if batch.exchange_gaps:
            cur.executemany(_GAP, [(*key, *gap) for gap in batch.exchange_gaps])
        if batch.complete_days:
            cur.executemany(_MARK_DAYS, [(*key, day, n) for day, n in batch.complete_days])
        if batch.unserved:
            cur.executemany(_UNSERVED, [(*key, *unserved) for unserved in batch.unserved])
        if batch.archived_days:
            cur.executemany(_ARCHIVED, [(*key, *archived) for archived in batch.archived_days])
        for check in batch.archive_checks:
            cur.execute(_ARCHIVE_CHECKED, (check.rest_candles, len(check.differences), *key,
                                           check.day))
            cur.executemany(_ARCHIVE_DIFFERENCE, difference_rows(key, check))
    conn.commit()


def _store_candles(cur: psycopg.Cursor, key: tuple[str, str, str], batch: Batch) -> None:
    candles = batch.candles
    if not batch.open_candles and _ascending(candles) and not cur.execute(
            _ANY_STORED, (*key, to_datetime(candles[0][0]),
                          to_datetime(candles[-1][0]))).fetchone()[0]:
        try:
            # In a savepoint: the fallback needs the rest of the transaction.
            with cur.connection.transaction(), cur.copy(
                    f"COPY ohlcv (exchange, symbol, timeframe, {_COLUMNS}) FROM STDIN") as copy:
                copy.write(_copy_lines(candles, "t", _copy_prefix(key)))
            return
        except psycopg.errors.UniqueViolation:
            pass  # a concurrent writer stored some of them meanwhile
    exchange, symbol, timeframe = key
    cur.execute(_STAGING)
    with cur.copy(f"COPY ohlcv_staging ({_COLUMNS}) FROM STDIN") as copy:
        copy.write(_copy_lines(candles, "t") + _copy_lines(batch.open_candles, "f"))
    cur.execute(_UPSERT, {"exchange": exchange, "symbol": symbol, "timeframe": timeframe})


def _ascending(candles: Sequence[Candle]) -> bool:
    ts = np.fromiter((c[0] for c in candles), dtype=np.int64, count=len(candles))
    return bool(len(ts)) and bool(np.all(ts[1:] > ts[:-1]))


def _copy_prefix(key: tuple[str, str, str]) -> str:
    """The key columns in COPY's text format: names may hold anything, even tabs."""
    escaped = (part.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
               .replace("\r", "\\r") for part in key)
    return "\t".join(escaped) + "\t"


def _copy_lines(candles: Sequence[Candle], closed: str, prefix: str = "") -> str:
    """COPY text rows; the values are validated decimal text, safe as they are. Open times
    are formatted by numpy in one call rather than per row."""
    if not candles:
        return ""
    times = np.datetime_as_string(np.array([c[0] for c in candles], dtype="datetime64[ms]"))
    return "".join(
        f"{prefix}{t}+00\t{o}\t{h}\t{lo}\t{c}\t{_NULL if v is None else v}\t{closed}\n"
        for t, (_, o, h, lo, c, v) in zip(times.tolist(), candles, strict=True))


_NULL = "\\N"  # COPY's NULL: a series without volume
