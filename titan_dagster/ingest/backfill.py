"""Backfill: for each symbol and timeframe, fetch the days not yet complete and store them.

Plain asyncio, no Dagster: the assets call this, and so can a script or a test. Days already
recorded complete cost no request; the others are fetched as contiguous windows, page by
page, and each page is committed together with the days it completed, so a crash at any
point loses at most the pages in flight and leaves no day marked complete without its data.
"""

import asyncio
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

from titan_dagster.exchange.client import ExchangeClient
from titan_dagster.exchange.errors import ExchangeAccessError
from titan_dagster.ingest.candles import InvalidCandle, normalize
from titan_dagster.ingest.day_ledger import DayLedger
from titan_dagster.ingest.pages import fetch_window
from titan_dagster.timeframes import (
    DAY_MS,
    day_start_ms,
    days_between,
    floor_ms,
    now_ms,
    timeframe_ms,
)
from titan_dagster.warehouse import Warehouse

# A candle is only taken as final a few seconds after it closes: exchanges publish the
# closing values with a small lag.
SETTLE_MS = 5_000


@dataclass
class TimeframeOutcome:
    requests: int = 0
    candles_written: int = 0
    days_skipped: int = 0
    days_completed: int = 0
    first_seen: int | None = None  # the first candle at or after the first window fetched


@dataclass
class SymbolOutcome:
    symbol: str
    timeframes: dict[str, TimeframeOutcome] = field(default_factory=dict)
    error: Exception | None = None

    @property
    def requests(self) -> int:
        return sum(t.requests for t in self.timeframes.values())

    @property
    def first_seen(self) -> int | None:
        seen = [t.first_seen for t in self.timeframes.values() if t.first_seen is not None]
        return min(seen, default=None)


async def backfill(client: ExchangeClient, warehouse: Warehouse, symbols: Iterable[str],
                   timeframes: Iterable[str], first_day: date, last_day: date,
                   *, max_concurrent_symbols: int = 8) -> AsyncIterator[SymbolOutcome]:
    """Yields each symbol's outcome as soon as it is stored, while others are still fetched.
    A symbol that fails (unknown to the exchange, exchange unreachable) reports its error and
    does not stop the others."""
    timeframes = tuple(timeframes)
    slots = asyncio.Semaphore(max_concurrent_symbols)

    async def one(symbol: str) -> SymbolOutcome:
        async with slots:
            return await backfill_symbol(client, warehouse, symbol, timeframes, first_day,
                                         last_day)

    tasks = [asyncio.create_task(one(symbol)) for symbol in symbols]
    try:
        for finished in asyncio.as_completed(tasks):
            yield await finished
    finally:
        for task in tasks:
            task.cancel()


async def backfill_symbol(client: ExchangeClient, warehouse: Warehouse, symbol: str,
                          timeframes: tuple[str, ...], first_day: date,
                          last_day: date) -> SymbolOutcome:
    outcome = SymbolOutcome(symbol)
    try:
        client.check_symbol(symbol)
        for timeframe in timeframes:
            outcome.timeframes[timeframe] = await backfill_timeframe(
                client, warehouse, symbol, timeframe, first_day, last_day)
    except (ExchangeAccessError, InvalidCandle) as error:
        outcome.error = error
    return outcome


async def backfill_timeframe(client: ExchangeClient, warehouse: Warehouse, symbol: str,
                             timeframe: str, first_day: date,
                             last_day: date) -> TimeframeOutcome:
    step = timeframe_ms(timeframe)
    closed_until = floor_ms(now_ms() - SETTLE_MS, step)
    requests_before = client.requests[(symbol, timeframe)]
    done = await asyncio.to_thread(warehouse.complete_days, client.name, symbol, timeframe,
                                   first_day, last_day)
    todo = [day for day in days_between(first_day, last_day) if day not in done]
    outcome = TimeframeOutcome(days_skipped=(last_day - first_day).days + 1 - len(todo))
    for run_first, run_last in contiguous_runs(todo):
        start = day_start_ms(run_first)
        end = min(day_start_ms(run_last) + DAY_MS, closed_until)
        if end <= start:
            continue
        ledger = DayLedger(start)
        async for page in fetch_window(client, symbol, timeframe, start, end):
            candles = normalize(symbol, timeframe, page.rows)
            ledger.add(candles)
            if outcome.first_seen is None:
                outcome.first_seen = page.first_seen
            completed = ledger.close_through(page.covered_until)
            await asyncio.to_thread(warehouse.write, client.name, symbol, timeframe, candles,
                                    completed)
            outcome.candles_written += len(candles)
            outcome.days_completed += len(completed)
    outcome.requests = client.requests[(symbol, timeframe)] - requests_before
    return outcome


def contiguous_runs(days: list[date]) -> list[tuple[date, date]]:
    """[d1, d2, d3, d7, d8] -> [(d1, d3), (d7, d8)] for sorted, distinct days."""
    runs: list[tuple[date, date]] = []
    for day in days:
        if runs and runs[-1][1] + timedelta(days=1) == day:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs
