"""The warehouse as the rest of the project sees it: write candle batches, know which days
are complete, read candles back exactly."""

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import pandas as pd
import sqlalchemy as sa

from titan_dagster.ingest.candles import Candle
from titan_dagster.timeframes import to_ms
from titan_dagster.warehouse.database import (
    create_warehouse_engine,
    default_database_url,
    masked,
    parse_database_url,
)
from titan_dagster.warehouse.migrations import apply_migrations
from titan_dagster.warehouse.postgres_writer import write_postgres
from titan_dagster.warehouse.sqlite_time import iso_from_ms, ms_from_iso
from titan_dagster.warehouse.sqlite_writer import write_sqlite

PRICE_COLUMNS = ["open", "high", "low", "close", "volume"]


@dataclass(frozen=True)
class TimeframeSummary:
    candles: int
    first_ms: int | None
    last_ms: int | None


class Warehouse:
    def __init__(self, url: str | None = None):
        self.url = parse_database_url(url or default_database_url())
        self.backend = self.url.get_backend_name()
        self.engine = create_warehouse_engine(self.url)
        # SQLite allows one writer; serialising here beats its busy-wait.
        self._write_lock = threading.Lock() if self.backend == "sqlite" else None

    @property
    def display_url(self) -> str:
        return masked(self.url)

    def migrate(self) -> list[str]:
        return apply_migrations(self.engine)

    def dispose(self) -> None:
        self.engine.dispose()

    def write(self, exchange: str, symbol: str, timeframe: str, candles: list[Candle],
              complete_days: list[tuple[date, int]]) -> None:
        """Upsert candles and record days complete, in one transaction."""
        if not candles and not complete_days:
            return
        key = (exchange, symbol, timeframe)
        with self._raw() as conn:
            if self.backend == "postgresql":
                write_postgres(conn, key, candles, complete_days)
            else:
                with self._write_lock:
                    write_sqlite(conn, key, candles, complete_days)

    def complete_days(self, exchange: str, symbol: str, timeframe: str, first: date,
                      last: date) -> set[date]:
        query = sa.text("SELECT day FROM ohlcv_complete_days WHERE exchange = :exchange AND "
                        "symbol = :symbol AND timeframe = :timeframe AND day BETWEEN :a AND :b")
        params = {"exchange": exchange, "symbol": symbol, "timeframe": timeframe,
                  "a": self._day(first), "b": self._day(last)}
        with self.engine.connect() as conn:
            days = conn.execute(query, params).scalars().all()
        return {day if isinstance(day, date) else date.fromisoformat(day) for day in days}

    def read_candles(self, exchange: str, symbol: str, timeframe: str,
                     start: datetime | None = None, end: datetime | None = None) -> pd.DataFrame:
        """Candles with open time in [start, end), oldest first: `ts` as UTC timestamps and
        prices and volumes as exact Decimal values."""
        clauses, params = self._key_filter(exchange, symbol, timeframe, start, end)
        query = sa.text(f"SELECT ts, open, high, low, close, volume FROM ohlcv WHERE {clauses} "
                        "ORDER BY ts")
        with self.engine.connect() as conn:
            rows = conn.execute(query, params).all()
        frame = pd.DataFrame(rows, columns=["ts", *PRICE_COLUMNS])
        frame["ts"] = pd.to_datetime(frame["ts"], utc=True, format="ISO8601")
        if self.backend == "sqlite":
            for column in PRICE_COLUMNS:
                frame[column] = frame[column].map(Decimal)
        return frame

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

    def first_candle_ms(self, exchange: str, symbol: str) -> int | None:
        """The oldest candle stored for a symbol, of any timeframe."""
        query = sa.text("SELECT min(ts) FROM ohlcv WHERE exchange = :exchange AND symbol = :symbol")
        with self.engine.connect() as conn:
            first = conn.execute(query, {"exchange": exchange, "symbol": symbol}).scalar()
        return self._ms(first)

    @contextmanager
    def _raw(self) -> Iterator:
        raw = self.engine.raw_connection()
        try:
            yield raw.driver_connection
        finally:
            raw.close()

    def _key_filter(self, exchange: str, symbol: str, timeframe: str | None,
                    start: datetime | None, end: datetime | None) -> tuple[str, dict]:
        clauses = ["exchange = :exchange", "symbol = :symbol"]
        params: dict = {"exchange": exchange, "symbol": symbol}
        if timeframe is not None:
            clauses.append("timeframe = :timeframe")
            params["timeframe"] = timeframe
        if start is not None:
            clauses.append("ts >= :start")
            params["start"] = self._ts(start)
        if end is not None:
            clauses.append("ts < :end")
            params["end"] = self._ts(end)
        return " AND ".join(clauses), params

    def _ts(self, moment: datetime):
        return iso_from_ms(to_ms(moment)) if self.backend == "sqlite" else moment

    def _day(self, day: date):
        return day.isoformat() if self.backend == "sqlite" else day

    def _ms(self, value) -> int | None:
        if value is None:
            return None
        return ms_from_iso(value) if isinstance(value, str) else to_ms(value)



