"""The warehouse as the rest of the project sees it: write candle batches, know which days
are complete, read candles back exactly."""

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from functools import partial
from typing import Any

import pandas as pd
import pyarrow as pa
import sqlalchemy as sa

from titan_dagster.calendars import calendar_of
from titan_dagster.ingest.candles import VALUE_COLUMNS
from titan_dagster.timeframes import timeframe_ms, to_datetime, to_ms
from titan_dagster.warehouse.batch import Batch
from titan_dagster.warehouse.candle_arrow import parse_candles
from titan_dagster.warehouse.candle_frame import candle_frame, frame_columns, value_type
from titan_dagster.warehouse.candle_slices import (
    READERS,
    SLICE_CANDLES,
    in_order,
    slice_bounds,
)
from titan_dagster.warehouse.candle_text_sql import candle_text_sql
from titan_dagster.warehouse.database import (
    create_warehouse_engine,
    default_database_url,
    masked,
    parse_database_url,
)
from titan_dagster.warehouse.gap_sql import gaps_between_candles
from titan_dagster.warehouse.migrations import apply_migrations
from titan_dagster.warehouse.outlier_sql import price_outliers_sql
from titan_dagster.warehouse.postgres_writer import write_postgres
from titan_dagster.warehouse.reconnect import reconnecting, transient
from titan_dagster.warehouse.sqlite_time import iso_from_ms, stored_ms
from titan_dagster.warehouse.sqlite_writer import write_sqlite


@dataclass(frozen=True)
class TimeframeSummary:
    candles: int
    first_ms: int | None
    last_ms: int | None


class Warehouse:
    def __init__(self, url: str | None = None, reconnect_timeout_s: float = 60.0):
        """`reconnect_timeout_s`: how long PostgreSQL may be unreachable (a restart, a
        failover) before an operation gives up with WarehouseUnavailable."""
        self.url = parse_database_url(url or default_database_url())
        self.reconnect_timeout_s = reconnect_timeout_s
        self.backend = self.url.get_backend_name()
        self.engine = create_warehouse_engine(self.url)
        # SQLite allows one writer; serialising here beats its busy-wait.
        self._write_lock = threading.Lock() if self.backend == "sqlite" else None

    @property
    def display_url(self) -> str:
        return masked(self.url)

    @reconnecting
    def migrate(self) -> list[str]:
        return apply_migrations(self.engine)

    def dispose(self) -> None:
        self.engine.dispose()

    @reconnecting
    def write(self, exchange: str, symbol: str, timeframe: str, batch: Batch) -> None:
        """Upsert candles, quarantine rejects, record exchange gaps and complete days, all in
        one transaction: a day is never complete without its candles."""
        if not batch:
            return
        key = (exchange, symbol, timeframe)
        with self._raw() as conn:
            if self.backend == "postgresql":
                write_postgres(conn, key, batch)
            else:
                with self._write_lock:
                    write_sqlite(conn, key, batch)

    @reconnecting
    def clear_rejects(self, exchange: str, symbol: str, timeframe: str, first: date,
                      last: date) -> None:
        """Forget the rejects of days about to be fetched again: what the exchange serves
        now decides."""
        with self.engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM ohlcv_rejects WHERE exchange = :e AND symbol = :s "
                                 "AND timeframe = :tf AND day BETWEEN :a AND :b"),
                         {"e": exchange, "s": symbol, "tf": timeframe, "a": self._day(first),
                          "b": self._day(last)})

    @reconnecting
    def rejects(self, exchange: str, symbol: str, first: date, last: date) -> pd.DataFrame:
        """Quarantined rows of a symbol fetched for days first..last, oldest first."""
        return self._rows_of_days("ohlcv_rejects", ["timeframe", "day", "ts_ms", *VALUE_COLUMNS,
                                                    "rule", "rejected_at", "run_id"],
                                  exchange, symbol, first, last, "ts_ms")

    def _rows_of_days(self, table: str, columns: list[str], exchange: str, symbol: str,
                      first: date, last: date, order_by: str) -> pd.DataFrame:
        """`columns` of a symbol's rows in a table keyed by day, for days first..last."""
        query = sa.text(f"SELECT {', '.join(columns)} FROM {table} WHERE exchange = :e AND "
                        f"symbol = :s AND day BETWEEN :a AND :b ORDER BY {order_by}")
        with self.engine.connect() as conn:
            rows = conn.execute(query, {"e": exchange, "s": symbol, "a": self._day(first),
                                        "b": self._day(last)}).all()
        return pd.DataFrame(rows, columns=columns)

    @reconnecting
    def exchange_gaps(self, exchange: str, symbol: str, timeframe: str, start_ms: int,
                      end_ms: int) -> list[tuple[int, int]]:
        """Confirmed exchange-side gaps overlapping [start_ms, end_ms), as [start, end) ms."""
        return self._ranges("ohlcv_gaps", exchange, symbol, timeframe, start_ms, end_ms)

    @reconnecting
    def missing_ranges(self, exchange: str, symbol: str, timeframe: str, start_ms: int,
                       end_ms: int) -> list[tuple[int, int]]:
        """Open-time ranges [a, b) in [start_ms, end_ms) where the market's calendar expects a
        candle and none is stored, ignoring everything before the first stored candle of the
        timeframe (not listed yet). A closed market's hours are never missing."""
        step = timeframe_ms(timeframe)
        first = self.first_candle_ms(exchange, symbol, timeframe)
        if first is None or max(start_ms, first) >= end_ms:
            return []
        start_ms = max(start_ms, first)
        params = {"e": exchange, "s": symbol, "tf": timeframe, "step_s": step // 1000,
                  "a": self._ts(to_datetime(start_ms)), "b": self._ts(to_datetime(end_ms))}
        with self.engine.connect() as conn:
            edges = conn.execute(sa.text(
                "SELECT min(ts), max(ts) FROM ohlcv WHERE exchange = :e AND symbol = :s AND "
                "timeframe = :tf AND ts >= :a AND ts < :b AND closed = TRUE"), params).one()
            inner = conn.execute(sa.text(gaps_between_candles(self.backend)), params).all()
        if edges[0] is None:
            ranges = [(start_ms, end_ms)]
        else:
            lo, hi = self._ms(edges[0]), self._ms(edges[1])
            ranges = [(self._ms(a) + step, self._ms(b)) for *_, a, b in inner]
            if lo > start_ms:
                ranges.insert(0, (start_ms, lo))
            if hi + step < end_ms:
                ranges.append((hi + step, end_ms))
        calendar = calendar_of(exchange, symbol)
        return [expected for a, b in ranges for expected in calendar.expected(a, b, step)]

    @reconnecting
    def price_outliers(self, exchange: str, symbol: str, timeframe: str, start: datetime,
                       end: datetime, threshold: float) -> list[tuple]:
        """(ts_ms, open, close, previous_close, is_jump, is_spike) of the closed candles in
        [start, end) whose prices move by more than `threshold` (see outlier_sql)."""
        where, params = self._key_filter(exchange, symbol, timeframe, start, end)
        with self.engine.connect() as conn:
            rows = conn.execute(sa.text(price_outliers_sql(self.backend, where)),
                                {**params, "t": threshold}).all()
        return [(self._ms(ts), o, c, p, bool(jump), bool(spike))
                for ts, o, c, p, jump, spike in rows]

    @reconnecting
    def complete_days(self, exchange: str, symbol: str, timeframe: str, first: date,
                      last: date) -> set[date]:
        return self._days(("ohlcv_complete_days",), exchange, symbol, timeframe, first, last)

    @reconnecting
    def settled_days(self, exchange: str, symbol: str, timeframe: str, first: date,
                     last: date) -> set[date]:
        """Days a fetch has nothing left to do for: complete, or holding slots the exchange
        no longer serves."""
        return self._days(("ohlcv_complete_days", "ohlcv_unserved"), exchange, symbol,
                          timeframe, first, last)

    @reconnecting
    def settled_day_counts(self, first: date, last: date) -> dict[tuple[str, str, str], int]:
        """Per (exchange, symbol, timeframe): how many days of first..last are settled."""
        query = sa.text(
            "SELECT exchange, symbol, timeframe, count(DISTINCT day) FROM (SELECT exchange, "
            "symbol, timeframe, day FROM ohlcv_complete_days WHERE day BETWEEN :a AND :b "
            "UNION ALL SELECT exchange, symbol, timeframe, day FROM ohlcv_unserved WHERE day "
            "BETWEEN :a AND :b) AS settled GROUP BY exchange, symbol, timeframe")
        with self.engine.connect() as conn:
            rows = conn.execute(query, {"a": self._day(first), "b": self._day(last)}).all()
        return {(exchange, symbol, tf): n for exchange, symbol, tf, n in rows}

    def _days(self, tables: tuple[str, ...], exchange: str, symbol: str, timeframe: str,
              first: date, last: date) -> set[date]:
        where = "exchange = :e AND symbol = :s AND timeframe = :tf AND day BETWEEN :a AND :b"
        query = sa.text(" UNION ".join(f"SELECT day FROM {table} WHERE {where}"
                                       for table in tables))
        params = {"e": exchange, "s": symbol, "tf": timeframe, "a": self._day(first),
                  "b": self._day(last)}
        with self.engine.connect() as conn:
            days = conn.execute(query, params).scalars().all()
        return {day if isinstance(day, date) else date.fromisoformat(day) for day in days}

    @reconnecting
    def archive_days(self, exchange: str, symbol: str, first: date,
                     last: date) -> pd.DataFrame:
        """Days stored from archive files, first..last: timeframe, day, file, and what the
        REST comparison found (rest_candles and rest_differences NULL where not compared)."""
        return self._rows_of_days("ohlcv_archive_days", ["timeframe", "day", "file",
                                                         "rest_candles", "rest_differences"],
                                  exchange, symbol, first, last, "timeframe, day")

    @reconnecting
    def archive_differences(self, exchange: str, symbol: str, start: datetime, end: datetime,
                            limit: int) -> list[dict]:
        """Candles on which archive and REST disagreed, open time in [start, end)."""
        sides = [f"{side}_{name}" for side in ("archive", "rest") for name in VALUE_COLUMNS]
        query = sa.text(f"SELECT timeframe, ts, {', '.join(sides)} FROM "
                        "ohlcv_archive_differences WHERE exchange = :e AND symbol = :s AND "
                        "ts >= :a AND ts < :b ORDER BY ts LIMIT :n")
        with self.engine.connect() as conn:
            rows = conn.execute(query, {"e": exchange, "s": symbol, "a": self._ts(start),
                                        "b": self._ts(end), "n": limit}).all()
        return [{"timeframe": tf, "ts": str(to_datetime(self._ms(ts))),
                 **{name: "" if value is None else str(value)
                    for name, value in zip(sides, values, strict=True)}}
                for tf, ts, *values in rows]

    @reconnecting
    def unserved_ranges(self, exchange: str, symbol: str, timeframe: str, start_ms: int,
                        end_ms: int) -> list[tuple[int, int]]:
        """Slots recorded as beyond the exchange's reach overlapping [start_ms, end_ms)."""
        return self._ranges("ohlcv_unserved", exchange, symbol, timeframe, start_ms, end_ms)

    def _ranges(self, table: str, exchange: str, symbol: str, timeframe: str, start_ms: int,
                end_ms: int) -> list[tuple[int, int]]:
        """[start_ts, end_ts) ranges of a range table overlapping [start_ms, end_ms)."""
        query = sa.text(f"SELECT start_ts, end_ts FROM {table} WHERE exchange = :e AND "
                        "symbol = :s AND timeframe = :tf AND start_ts < :b AND end_ts > :a "
                        "ORDER BY start_ts")
        params = {"e": exchange, "s": symbol, "tf": timeframe,
                  "a": self._ts(to_datetime(start_ms)), "b": self._ts(to_datetime(end_ms))}
        with self.engine.connect() as conn:
            return [(self._ms(a), self._ms(b)) for a, b in conn.execute(query, params).all()]

    @reconnecting
    def candle_times(self, exchange: str, symbol: str, timeframe: str, start_ms: int,
                     end_ms: int) -> set[int]:
        """Open times of the closed candles stored in [start_ms, end_ms)."""
        clauses, params = self._key_filter(exchange, symbol, timeframe, to_datetime(start_ms),
                                           to_datetime(end_ms))
        with self.engine.connect() as conn:
            rows = conn.execute(sa.text(f"SELECT ts FROM ohlcv WHERE {clauses}"), params)
            return {self._ms(ts) for ts in rows.scalars()}

    @reconnecting
    def day_complete(self, exchange: str, symbols, timeframes, day: date) -> bool:
        """Whether every symbol and timeframe has `day` recorded complete."""
        query = sa.text("SELECT symbol, timeframe FROM ohlcv_complete_days WHERE "
                        "exchange = :e AND day = :d")
        with self.engine.connect() as conn:
            done = set(conn.execute(query, {"e": exchange, "d": self._day(day)}).all())
        return all((s, tf) in done for s in symbols for tf in timeframes)

    @reconnecting
    def credits_used(self, source: str, day: date) -> int:
        """Credits a metered source charged on a UTC day, by every run."""
        used = self._scalar("SELECT used FROM source_credits WHERE source = :s AND day = :d",
                            {"s": source, "d": self._day(day)})
        return int(used or 0)

    @reconnecting
    def spend_credit(self, source: str, day: date, limit: int) -> bool:
        """Reserves one credit of the day unless `limit` are used: one atomic statement, so
        runs in separate processes never overspend together."""
        query = sa.text("INSERT INTO source_credits (source, day, used) VALUES (:s, :d, 1) "
                        "ON CONFLICT (source, day) DO UPDATE SET used = source_credits.used + 1 "
                        "WHERE source_credits.used < :limit RETURNING used")
        with self.engine.begin() as conn:
            if limit < 1:
                return False
            return conn.execute(query, {"s": source, "d": self._day(day),
                                        "limit": limit}).first() is not None

    def read_candles(self, exchange: str, symbol: str, timeframe: str,
                     start: datetime | None = None, end: datetime | None = None,
                     include_open: bool = False, exact: bool = True) -> pd.DataFrame:
        """Closed candles with open time in [start, end), oldest first: `ts` as UTC
        timestamps and prices and volumes as exact Decimal values (float64 with
        `exact=False`, several times faster for analytics). With `include_open`, the
        still-open candle too, and a boolean `closed` column."""
        slices = self.candle_tables(exchange, symbol, timeframe, start, end, include_open,
                                    [value_type(exact)] * len(VALUE_COLUMNS),
                                    convert=partial(frame_columns, exact=exact))
        return candle_frame(list(slices), include_open, exact)

    def candle_tables(self, exchange: str, symbol: str, timeframe: str,
                      start: datetime | None, end: datetime | None, include_open: bool,
                      value_types: list[pa.DataType],
                      convert: Callable[[pa.Table], Any] = lambda table: table) -> Iterator:
        """The candles of read_candles as Arrow tables (see candle_arrow.parse_candles for
        their columns, `value_types` for open..volume), one per time slice holding any,
        oldest first, each passed through `convert` in the thread that fetched it."""
        def fetch(bounds: tuple[int, int]):
            text = self._candle_text(exchange, symbol, timeframe, *bounds, include_open)
            return None if text is None else convert(parse_candles(text, value_types,
                                                                   include_open))

        step = timeframe_ms(timeframe)
        if start is not None and end is not None \
                and to_ms(end) - to_ms(start) <= SLICE_CANDLES * step:
            slices = [(to_ms(start), to_ms(end))]  # one query: most reads are this small
        else:
            span = self._candle_span(exchange, symbol, timeframe, start, end, include_open)
            slices = [] if span is None else slice_bounds(*span, step)
        readers = READERS if self.backend == "postgresql" else 1
        for part in in_order(fetch, slices, readers):
            if part is not None:
                yield part

    @reconnecting
    def _candle_span(self, exchange: str, symbol: str, timeframe: str,
                     start: datetime | None, end: datetime | None,
                     include_open: bool) -> tuple[int, int] | None:
        """The first and last open time (ms) of the candles a read selects. Two index
        probes, whatever the statistics: without them (a table just filled) PostgreSQL
        plans min(ts), max(ts) as a scan of the whole range."""
        clauses, params = self._key_filter(exchange, symbol, timeframe, start, end,
                                           closed_only=not include_open)
        edge = f"SELECT ts FROM ohlcv WHERE {clauses} ORDER BY ts {{}} LIMIT 1"
        with self.engine.connect() as conn:
            first, last = conn.execute(sa.text(f"SELECT ({edge.format('ASC')}), "
                                               f"({edge.format('DESC')})"), params).one()
        return None if first is None else (self._ms(first), self._ms(last))

    @reconnecting
    def _candle_text(self, exchange: str, symbol: str, timeframe: str, start_ms: int,
                     end_ms: int, include_open: bool) -> bytes | None:
        """One slice as candle_text_sql's lines, None if it holds no candle."""
        bounds = to_datetime(start_ms), to_datetime(end_ms)
        if self.backend == "postgresql":
            clauses, params = self._key_filter(exchange, symbol, timeframe, *bounds,
                                               closed_only=not include_open,
                                               placeholder="%({})s")
            query = candle_text_sql(self.backend, clauses, include_open)
            # Binary results: the bytea arrives as it is, not hex-encoded and decoded.
            with self._raw() as conn, conn.cursor(binary=True) as cur:
                return cur.execute(query, params).fetchone()[0]
        clauses, params = self._key_filter(exchange, symbol, timeframe, *bounds,
                                           closed_only=not include_open)
        with self.engine.connect() as conn:
            return conn.execute(sa.text(candle_text_sql(self.backend, clauses, include_open)),
                                params).scalar()

    @reconnecting
    def summarize(self, exchange: str, symbol: str, start: datetime,
                  end: datetime) -> dict[str, TimeframeSummary]:
        """Candle count, first and last open time per timeframe in [start, end)."""
        clauses, params = self._key_filter(exchange, symbol, None, start, end)
        query = sa.text(f"SELECT timeframe, count(*), min(ts), max(ts) FROM ohlcv WHERE {clauses} "
                        "GROUP BY timeframe")
        with self.engine.connect() as conn:
            rows = conn.execute(query, params).all()
        return {tf: TimeframeSummary(n, self._ms(first), self._ms(last))
                for tf, n, first, last in rows}

    @reconnecting
    def first_candle_ms(self, exchange: str, symbol: str, timeframe: str | None = None
                        ) -> int | None:
        """The oldest candle stored for a symbol, of one timeframe or of any."""
        clauses, params = self._key_filter(exchange, symbol, timeframe, None, None)
        return self._ms(self._scalar(f"SELECT min(ts) FROM ohlcv WHERE {clauses}", params))

    @reconnecting
    def last_candle_ms(self, exchange: str, symbol: str, timeframe: str) -> int | None:
        clauses, params = self._key_filter(exchange, symbol, timeframe, None, None)
        return self._ms(self._scalar(f"SELECT max(ts) FROM ohlcv WHERE {clauses}", params))

    def _scalar(self, query: str, params: dict):
        with self.engine.connect() as conn:
            return conn.execute(sa.text(query), params).scalar()

    @contextmanager
    def _raw(self) -> Iterator:
        raw = self.engine.raw_connection()
        try:
            yield raw.driver_connection
        except Exception as error:
            if transient(error):
                raw.invalidate()  # a broken connection must not go back to the pool
            raise
        finally:
            raw.close()

    def _key_filter(self, exchange: str, symbol: str, timeframe: str | None,
                    start: datetime | None, end: datetime | None,
                    closed_only: bool = True, placeholder: str = ":{}") -> tuple[str, dict]:
        """SQL conditions and their parameters; `placeholder` formats a parameter's name
        (SQLAlchemy's :name, or psycopg's %(name)s for the bulk reader)."""
        bind = placeholder.format
        clauses = [f"exchange = {bind('exchange')}", f"symbol = {bind('symbol')}"]
        if closed_only:
            clauses.append("closed = TRUE")
        params: dict = {"exchange": exchange, "symbol": symbol}
        if timeframe is not None:
            clauses.append(f"timeframe = {bind('timeframe')}")
            params["timeframe"] = timeframe
        if start is not None:
            clauses.append(f"ts >= {bind('start')}")
            params["start"] = self._ts(start)
        if end is not None:
            clauses.append(f"ts < {bind('end')}")
            params["end"] = self._ts(end)
        return " AND ".join(clauses), params

    def _ts(self, moment: datetime):
        return iso_from_ms(to_ms(moment)) if self.backend == "sqlite" else moment

    def _day(self, day: date):
        return day.isoformat() if self.backend == "sqlite" else day

    _ms = staticmethod(stored_ms)



