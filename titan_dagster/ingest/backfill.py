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
from titan_dagster.ingest.day_ledger import DayLedger, DayRecord
from titan_dagster.ingest.pages import Page, fetch_span, fetch_window
from titan_dagster.quality.ranges import slots_to_ranges
from titan_dagster.quality.validation import CheckedRows, check_rows
from titan_dagster.timeframes import (
    DAY_MS,
    day_of_ms,
    day_start_ms,
    days_between,
    floor_ms,
    now_ms,
    timeframe_ms,
)
from titan_dagster.warehouse import Warehouse
from titan_dagster.warehouse.batch import Batch

# A candle is only taken as final a few seconds after it closes: exchanges publish the
# closing values with a small lag.
SETTLE_MS = 5_000


def settle_wait_s(now: int, step: int, last_day: date) -> float:
    """How long to wait before fetching up to `last_day`, so that the candle which closed
    moments ago is fetched as closed. A refresh ticks right at the close: without the wait a
    fast run would store that candle as open and the newest closed one would be a whole
    candle old, the faster the run the staler the warehouse."""
    since_close = now % step
    just_closed_open = now - since_close - step
    if since_close >= SETTLE_MS or just_closed_open >= day_start_ms(last_day) + DAY_MS:
        return 0.0
    return (SETTLE_MS - since_close) / 1000


@dataclass
class TimeframeOutcome:
    requests: int = 0
    candles_written: int = 0
    days_skipped: int = 0
    days_completed: int = 0
    invalid_rows: int = 0
    exchange_gap_candles: int = 0
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
                   *, max_concurrent_symbols: int = 8,
                   run_id: str | None = None) -> AsyncIterator[SymbolOutcome]:
    """Yields each symbol's outcome as soon as it is stored, while others are still fetched.
    A symbol that fails (unknown to the exchange, exchange unreachable) reports its error and
    does not stop the others."""
    timeframes = tuple(timeframes)
    slots = asyncio.Semaphore(max_concurrent_symbols)

    async def one(symbol: str) -> SymbolOutcome:
        async with slots:
            return await backfill_symbol(client, warehouse, symbol, timeframes, first_day,
                                         last_day, run_id)

    tasks = [asyncio.create_task(one(symbol)) for symbol in symbols]
    try:
        for finished in asyncio.as_completed(tasks):
            yield await finished
    finally:
        for task in tasks:
            task.cancel()


async def backfill_symbol(client: ExchangeClient, warehouse: Warehouse, symbol: str,
                          timeframes: tuple[str, ...], first_day: date,
                          last_day: date, run_id: str | None = None) -> SymbolOutcome:
    outcome = SymbolOutcome(symbol)
    try:
        client.check_symbol(symbol)
        for timeframe in timeframes:
            outcome.timeframes[timeframe] = await backfill_timeframe(
                client, warehouse, symbol, timeframe, first_day, last_day, run_id)
    except ExchangeAccessError as error:
        outcome.error = error
    return outcome


async def backfill_timeframe(client: ExchangeClient, warehouse: Warehouse, symbol: str,
                             timeframe: str, first_day: date, last_day: date,
                             run_id: str | None = None) -> TimeframeOutcome:
    step = timeframe_ms(timeframe)
    await asyncio.sleep(settle_wait_s(now_ms(), step, last_day))
    closed_until = floor_ms(now_ms() - SETTLE_MS, step)
    requests_before = client.requests[(symbol, timeframe)]
    done = await asyncio.to_thread(warehouse.complete_days, client.name, symbol, timeframe,
                                   first_day, last_day)
    todo = [day for day in days_between(first_day, last_day) if day not in done]
    outcome = TimeframeOutcome(days_skipped=(last_day - first_day).days + 1 - len(todo))
    for run_first, run_last in contiguous_runs(todo):
        start = day_start_ms(run_first)
        end = min(day_start_ms(run_last) + DAY_MS, closed_until)
        reaches_now = end == closed_until
        if end < start or (end == start and not reaches_now):
            continue
        await asyncio.to_thread(warehouse.clear_rejects, client.name, symbol, timeframe,
                                run_first, run_last)
        window = _Window(client, symbol, timeframe, end)
        ledger = DayLedger(start)
        async for page in fetch_window(client, symbol, timeframe, start, end,
                                       with_open=reaches_now):
            if window.history_from is None:
                window.history_from = await _history_start(warehouse, client.name, symbol,
                                                           timeframe, start, end, page)
                if outcome.first_seen is None:
                    outcome.first_seen = page.first_seen
            batch = Batch(run_id=run_id)
            checked = window.check_into(batch, page.rows + page.future, start, end)
            window.check_open_into(batch, page.unsettled)
            ledger.add([c[0] for c in checked.valid],
                       [(window.day_of(r.ts, start, end), window.slot_of(r.ts, start, end))
                        for r in checked.rejects])
            for day in ledger.close_through(page.covered_until):
                await window.settle(batch, day)
            await asyncio.to_thread(warehouse.write, client.name, symbol, timeframe, batch)
            outcome.candles_written += len(batch.candles)
            outcome.invalid_rows += len(batch.rejects)
            outcome.exchange_gap_candles += sum(n for _, _, n in batch.exchange_gaps)
            outcome.days_completed += len(batch.complete_days)
    outcome.requests = client.requests[(symbol, timeframe)] - requests_before
    return outcome


class _Window:
    """One contiguous run of days being fetched: validates what arrives and settles each day
    once it is covered."""

    def __init__(self, client: ExchangeClient, symbol: str, timeframe: str, end: int):
        self.client, self.symbol, self.timeframe = client, symbol, timeframe
        self.step = timeframe_ms(timeframe)
        self.end = end
        self.history_from: int | None = None  # no candle is expected before this

    def check_into(self, batch: Batch, rows: list[list], start: int, end: int) -> CheckedRows:
        """Valid rows into the batch as candles, the others into quarantine."""
        checked = check_rows(rows, self.step, start, end, now_ms())
        batch.candles.extend(checked.valid)
        batch.rejects.extend((day_of_ms(self.day_of(r.ts, start, end)), r)
                             for r in checked.rejects)
        return checked

    def check_open_into(self, batch: Batch, rows: list[list]) -> None:
        """Candles not closed yet are stored as open; an invalid one is simply not stored
        (it will be checked again once closed)."""
        for row in rows:
            checked = check_rows([row], self.step, row[0], row[0] + self.step, now_ms())
            batch.open_candles.extend(checked.valid)

    @staticmethod
    def day_of(ts: int | None, start: int, end: int) -> int:
        """The fetched day a rejected row is charged to: a row opened outside the span (in
        the future, say) counts against the span's nearest day, so that day stays
        incomplete and its check fails until the exchange stops serving it."""
        return start if ts is None else min(max(ts, start), end - 1)

    def slot_of(self, ts: int | None, start: int, end: int) -> int | None:
        """The candle slot a rejected row occupies, if it has one in the span."""
        if ts is None or not start <= ts < end or ts % self.step:
            return None
        return ts

    async def settle(self, batch: Batch, day: DayRecord) -> None:
        """A covered day: re-request each hole once with a targeted request; what the
        exchange still lacks is an exchange-side gap. Complete unless a row was rejected."""
        first = max(day.start_ms, self.history_from)
        expected = range(first + (-first) % self.step, min(day.start_ms + DAY_MS, self.end),
                         self.step)
        holes = slots_to_ranges((ts for ts in expected if ts not in day.seen), self.step)
        for hole_start, hole_end in holes:
            page = await fetch_span(self.client, self.symbol, self.timeframe, hole_start,
                                    hole_end)
            checked = self.check_into(batch, page.rows, hole_start, hole_end)
            found = {candle[0] for candle in checked.valid}
            served = found | {reject.ts for reject in checked.rejects}
            day.valid += len(found)
            day.rejected += len(checked.rejects)
            still = [ts for ts in range(hole_start, hole_end, self.step) if ts not in served]
            batch.exchange_gaps.extend((a, b, (b - a) // self.step)
                                       for a, b in slots_to_ranges(still, self.step))
        if not day.rejected:
            batch.complete_days.append((day.day, day.valid))


async def _history_start(warehouse: Warehouse, exchange: str, symbol: str, timeframe: str,
                         start: int, end: int, first_page: Page) -> int:
    """Where candles are expected from. The first page of a window that precedes a symbol's
    first candle begins at that candle; unless older candles are stored, the stretch before
    it is the time before listing, not a gap."""
    if first_page.first_seen is None:
        return end
    if first_page.first_seen <= start:
        return start
    first_stored = await asyncio.to_thread(warehouse.first_candle_ms, exchange, symbol,
                                           timeframe)
    if first_stored is not None and first_stored < start:
        return start
    return first_page.first_seen


def contiguous_runs(days: list[date]) -> list[tuple[date, date]]:
    """[d1, d2, d3, d7, d8] -> [(d1, d3), (d7, d8)] for sorted, distinct days."""
    runs: list[tuple[date, date]] = []
    for day in days:
        if runs and runs[-1][1] + timedelta(days=1) == day:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs
