"""Backfill: for each symbol and timeframe, fetch the days not yet complete and store them.

Plain asyncio, no Dagster: the assets call this, and so can a script or a test. Days already
recorded complete cost no request; the others are fetched as contiguous windows, page by
page, and each page is committed together with the days it completed, so a crash at any
point loses at most the pages in flight and leaves no day marked complete without its data.
"""

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

from titan_dagster.calendars import calendar_of, has_volume
from titan_dagster.exchange.errors import ExchangeAccessError
from titan_dagster.ingest.archive_check import SAMPLE_DAYS, compare_with_rest, sample
from titan_dagster.ingest.archived import archived_pages
from titan_dagster.ingest.day_ledger import DayLedger, DayRecord
from titan_dagster.ingest.pages import Page, fetch_span, fetch_window
from titan_dagster.ingest.source import Source
from titan_dagster.quality.validation import CheckedRows, check_rows
from titan_dagster.ranges import slots_to_ranges
from titan_dagster.sources.binance_archive.decode import CandleRules
from titan_dagster.sources.binance_archive.download import ArchiveDownloads
from titan_dagster.timeframes import (
    DAY_MS,
    day_start_ms,
    days_between,
    floor_ms,
    now_ms,
    timeframe_ms,
    to_datetime,
)
from titan_dagster.warehouse import Warehouse
from titan_dagster.warehouse.batch import ArchiveComparison, Batch

# A candle is only taken as final a few seconds after it closes: exchanges publish the
# closing values with a small lag.
SETTLE_MS = 5_000


def settle_wait_s(now: int, step: int, last_day: date, offset: int = 0) -> float:
    """How long to wait before fetching up to `last_day`, so that the candle which closed
    moments ago is fetched as closed. A refresh ticks right at the close: without the wait a
    fast run would store that candle as open and the newest closed one would be a whole
    candle old, the faster the run the staler the warehouse. `offset`: the slot grid's."""
    since_close = (now - offset) % step
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
    unserved_candles: int = 0  # slots beyond what the exchange's REST API still serves
    archived_days: list[date] = field(default_factory=list)  # completed from archive files
    archive_checks: list[ArchiveComparison] = field(default_factory=list)
    write_s: float = 0.0  # in warehouse writes

    def add(self, batch: Batch) -> None:
        self.candles_written += len(batch.candles)
        self.invalid_rows += len(batch.rejects)
        self.exchange_gap_candles += sum(n for _, _, n in batch.exchange_gaps)
        self.unserved_candles += sum(n for *_, n in batch.unserved)
        self.days_completed += len(batch.complete_days)
        self.archived_days.extend(day for day, *_ in batch.archived_days)


@dataclass(frozen=True)
class Archive:
    """Where a backfill takes closed days from before asking REST: an exchange's kline
    archive, the market ids its files are named by, and how many archived days per symbol
    and timeframe a run re-fetches over REST to compare."""
    downloads: ArchiveDownloads
    market_id: Callable[[str], str]
    sample_days: int = SAMPLE_DAYS


@dataclass
class SymbolOutcome:
    exchange: str
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


async def backfill(client: Source, warehouse: Warehouse, symbols: Iterable[str],
                   timeframes: Iterable[str], first_day: date, last_day: date,
                   *, max_concurrent_symbols: int = 8, run_id: str | None = None,
                   archive: Archive | None = None) -> AsyncIterator[SymbolOutcome]:
    """Yields each symbol's outcome as soon as it is stored, while others are still fetched.
    A symbol that fails (unknown to the exchange, exchange unreachable) reports its error and
    does not stop the others."""
    timeframes = tuple(timeframes)
    slots = asyncio.Semaphore(max_concurrent_symbols)

    async def one(symbol: str) -> SymbolOutcome:
        async with slots:
            return await backfill_symbol(client, warehouse, symbol, timeframes, first_day,
                                         last_day, run_id, archive)

    tasks = [asyncio.create_task(one(symbol)) for symbol in symbols]
    try:
        for finished in asyncio.as_completed(tasks):
            yield await finished
    finally:
        for task in tasks:
            task.cancel()


async def backfill_symbol(client: Source, warehouse: Warehouse, symbol: str,
                          timeframes: tuple[str, ...], first_day: date,
                          last_day: date, run_id: str | None = None,
                          archive: Archive | None = None) -> SymbolOutcome:
    outcome = SymbolOutcome(client.name, symbol)
    try:
        client.check_symbol(symbol)
        for timeframe in timeframes:
            outcome.timeframes[timeframe] = await backfill_timeframe(
                client, warehouse, symbol, timeframe, first_day, last_day, run_id, archive)
    except ExchangeAccessError as error:
        outcome.error = error
    return outcome


async def backfill_timeframe(client: Source, warehouse: Warehouse, symbol: str,
                             timeframe: str, first_day: date, last_day: date,
                             run_id: str | None = None,
                             archive: Archive | None = None) -> TimeframeOutcome:
    step = timeframe_ms(timeframe)
    offset = calendar_of(client.name, symbol).offset(step)
    await asyncio.sleep(settle_wait_s(now_ms(), step, last_day, offset))
    closed_until = floor_ms(now_ms() - SETTLE_MS, step, offset)
    requests_before = client.requests[(symbol, timeframe)]
    done = await asyncio.to_thread(warehouse.settled_days, client.name, symbol, timeframe,
                                   first_day, last_day)
    todo = [day for day in days_between(first_day, last_day) if day not in done]
    outcome = TimeframeOutcome(days_skipped=(last_day - first_day).days + 1 - len(todo))
    for run_first, run_last in contiguous_runs(todo):
        start = day_start_ms(run_first)
        end = min(day_start_ms(run_last) + DAY_MS, closed_until)
        # Only where the source serves the candle still forming is it asked for.
        reaches_now = end == closed_until and client.paging.open_candles
        if end < start or (end == start and not reaches_now):
            continue
        await asyncio.to_thread(warehouse.clear_rejects, client.name, symbol, timeframe,
                                run_first, run_last)
        window = _Window(client, symbol, timeframe, end, served_from(client, step, now_ms()),
                         archive)
        if window.served_from > start:
            window.stored_before = await asyncio.to_thread(
                warehouse.candle_times, client.name, symbol, timeframe, start,
                min(window.served_from, end))
        await window.fetch(warehouse, start, end, reaches_now, outcome, run_id)
    if archive is not None:
        rules = CandleRules(step, offset, has_volume(client.name, symbol))
        for day in sample(outcome.archived_days, archive.sample_days, f"{run_id}{symbol}"):
            outcome.archive_checks.append(await compare_with_rest(
                client, warehouse, symbol, timeframe, rules, day, run_id))
    outcome.requests = client.requests[(symbol, timeframe)] - requests_before
    return outcome


def served_from(client: Source, step: int, now: int) -> int:
    """The oldest open time the exchange's REST API still serves (0: all of history).
    Kraken serves only its last `reach` candles; a margin keeps a run that takes a while
    from asking for a slot that slipped out of reach meanwhile."""
    reach = client.paging.reach
    if reach is None:
        return 0
    return floor_ms(now, step) - (reach - 1 - REACH_MARGIN) * step


# Candles at the edge of a limited reach that are left alone (see served_from).
REACH_MARGIN = 10


class _Window:
    """One contiguous run of days being fetched: validates what arrives and settles each day
    once it is covered."""

    def __init__(self, client: Source, symbol: str, timeframe: str, end: int,
                 served_from: int, archive: Archive | None = None):
        self.client, self.symbol, self.timeframe = client, symbol, timeframe
        self.step = timeframe_ms(timeframe)
        self.calendar = calendar_of(client.name, symbol)
        self.offset = self.calendar.offset(self.step)
        self.volume_required = has_volume(client.name, symbol)
        self.end = end
        self.served_from = served_from  # older slots are beyond the exchange's reach
        self.stored_before: set[int] = set()  # candles stored from before, beyond reach now
        self.history_from: int | None = None  # no candle is expected before this
        self.archive = archive
        self.archived: dict[int, tuple[str, str]] = {}  # day start -> its file and SHA-256

    async def fetch(self, warehouse: Warehouse, start: int, end: int, reaches_now: bool,
                    outcome: TimeframeOutcome, run_id: str | None) -> None:
        ledger = DayLedger(start)
        fetch_from = max(start, self.served_from)
        first_stored = await asyncio.to_thread(warehouse.first_candle_ms, self.client.name,
                                               self.symbol, self.timeframe)
        if first_stored is not None and first_stored < start:
            # Candles are stored from before: the stretch is inside the history, where
            # every missing candle is a hole, never the time before listing.
            self.history_from = start
        async for page in self._sources(fetch_from, end, reaches_now):
            if self.history_from is None and page.first_seen is not None:
                # Before a symbol's first candle the pages are empty (window exchanges) or
                # begin at that candle (forward exchanges): the time before listing.
                self.history_from = max(start, page.first_seen)
            if outcome.first_seen is None:
                outcome.first_seen = page.first_seen
            if page.archived is not None:
                file = page.archived.file
                for day in range(max(file.start_ms, start), min(file.end_ms, end), DAY_MS):
                    self.archived[day] = (file.name, page.archived.sha256)
            batch = Batch(run_id=run_id)
            checked = self.check(page.rows + page.future, start, end) \
                if page.archived is None else page.archived.checked
            batch.candles.extend(checked.valid)
            self.check_open_into(batch, page.unsettled)
            ledger.add([c[0] for c in checked.valid],
                       [(self.day_of(r.ts, start, end), self.slot_of(r.ts, start, end), r)
                        for r in checked.rejects])
            for day in ledger.close_through(page.covered_until):
                await self.settle(batch, day)
            await self._write(warehouse, batch, outcome)
        # Days the run did not cover to their end (today) keep their quarantined rows
        # visible; they are settled by a later run.
        batch = Batch(run_id=run_id, rejects=[(day.day, reject) for day in ledger.unsettled()
                                              for reject in day.all_rejects])
        if not _fetches(fetch_from, end, reaches_now):
            # Nothing was asked (all beyond the exchange's reach): the days settle as they are.
            for day in ledger.close_through(end):
                await self.settle(batch, day)
        await self._write(warehouse, batch, outcome)

    async def _write(self, warehouse: Warehouse, batch: Batch, outcome: TimeframeOutcome) -> None:
        started = time.perf_counter()
        await asyncio.to_thread(warehouse.write, self.client.name, self.symbol, self.timeframe,
                                batch)
        outcome.write_s += time.perf_counter() - started
        outcome.add(batch)

    def _sources(self, fetch_from: int, end: int, reaches_now: bool) -> AsyncIterator[Page]:
        """The pages of [fetch_from, end): from the archive's files where there is an archive
        and they have the days, over REST everywhere else."""

        def rest(lo: int, hi: int, with_open: bool = False) -> AsyncIterator[Page]:
            return self._pages(lo, hi, with_open, listing_matters=self.history_from is None)

        if self.archive is None or fetch_from >= end:
            return rest(fetch_from, end, reaches_now)
        rules = CandleRules(self.step, self.offset, self.volume_required)
        return archived_pages(self.archive.downloads, self.archive.market_id(self.symbol),
                              self.timeframe, rules, fetch_from, end, rest,
                              lambda lo, hi: rest(lo, hi, reaches_now),
                              lambda: self.history_from is not None)

    async def _pages(self, fetch_from: int, end: int, reaches_now: bool,
                     listing_matters: bool) -> AsyncIterator[Page]:
        """The pages from `fetch_from`. Where the source gives a listing time, the requests
        before it are spared: a source's own first candle of the series (Twelve Data's
        /earliest_timestamp) answers for the time before it; an exchange's listing claim
        is checked by asking the window just before it, and believed only if that is empty.
        Inside a known history (candles stored before the span) the listing is not asked:
        for Twelve Data that spares the refresh a credit a run."""
        listed = None
        if self.client.paging.listing_time and listing_matters and fetch_from < end:
            listed = await self.client.listing_ms(self.symbol, self.timeframe)
        skip_to = None if listed is None else min(floor_ms(listed, self.step, self.offset), end)
        if skip_to is not None and skip_to > fetch_from and self.client.paging.trust_listing:
            yield Page([], skip_to)
            fetch_from = skip_to
        elif skip_to is not None and skip_to > fetch_from:
            probe_from = max(fetch_from, skip_to - self.client.page_limit * self.step)
            probe = await fetch_span(self.client, self.symbol, self.timeframe, probe_from,
                                     skip_to)
            if probe.first_seen is None:
                yield probe
                fetch_from = skip_to
            else:
                self.client.log.warning(
                    "%s: %s %s has candles before its listing time; fetching from %s",
                    self.client.name, self.symbol, self.timeframe, to_datetime(fetch_from))
        if _fetches(fetch_from, end, reaches_now):
            async for page in fetch_window(self.client, self.symbol, self.timeframe,
                                           fetch_from, end, with_open=reaches_now):
                yield page

    def check(self, rows: list[list], start: int, end: int) -> CheckedRows:
        return check_rows(rows, self.step, start, end, now_ms(), offset_ms=self.offset,
                          volume_required=self.volume_required)

    def check_open_into(self, batch: Batch, rows: list[list]) -> None:
        """Candles not closed yet are stored as open; an invalid one is simply not stored
        (it will be checked again once closed)."""
        for row in rows:
            batch.open_candles.extend(self.check([row], row[0], row[0] + self.step).valid)

    @staticmethod
    def day_of(ts: int | None, start: int, end: int) -> int:
        """The fetched day a rejected row is charged to: a row opened outside the span (in
        the future, say) counts against the span's nearest day, whose check then reports it
        until the exchange stops serving it."""
        return start if ts is None else min(max(ts, start), end - 1)

    def slot_of(self, ts: int | None, start: int, end: int) -> int | None:
        """The candle slot a rejected row occupies, if it has one in the span."""
        if ts is None or not start <= ts < end or (ts - self.offset) % self.step:
            return None
        return ts

    async def settle(self, batch: Batch, day: DayRecord) -> None:
        """A covered day. Each hole and each quarantined slot is re-requested once with a
        targeted request: what is then served valid is stored, what is still invalid stays
        quarantined, and what the exchange still lacks is an exchange-side gap. Slots beyond
        the exchange's reach that are not stored are "not served": the day is then not
        complete, and not fetched again either. Only the slots the market's calendar expects
        can be holes: a closed market's hours are not."""
        day_end = min(day.start_ms + DAY_MS, self.end)
        unreached = range(day.start_ms, min(day_end, self.served_from), self.step)
        unserved = [ts for ts in unreached if ts not in self.stored_before]
        day.valid += len(unreached) - len(unserved)
        if self.history_from is not None:
            first = max(day.start_ms, self.history_from, self.served_from)
            expected = (ts for a, b in self.calendar.expected(first, day_end, self.step)
                        for ts in range(a, b, self.step))
            holes = slots_to_ranges((ts for ts in expected if ts not in day.seen), self.step)
            for hole_start, hole_end in holes:
                await self._heal(batch, day, hole_start, hole_end)
        batch.rejects.extend((day.day, reject) for reject in day.all_rejects)
        archived = self.archived.pop(day.start_ms, None)
        if unserved:
            batch.unserved.extend((day.day, a, b, (b - a) // self.step)
                                  for a, b in slots_to_ranges(unserved, self.step))
        else:
            batch.complete_days.append((day.day, day.valid))
            if archived is not None:
                batch.archived_days.append((day.day, *archived))

    async def _heal(self, batch: Batch, day: DayRecord, hole_start: int, hole_end: int) -> None:
        # One candle more than the hole: ccxt cuts an answer to the candles asked for, which
        # would hide the second of two different rows served for one slot.
        page = await fetch_span(self.client, self.symbol, self.timeframe, hole_start, hole_end,
                                extra=1)
        checked = self.check(page.rows, hole_start, hole_end)
        batch.candles.extend(checked.valid)
        found = {candle[0] for candle in checked.valid}
        day.valid += len(found)
        slots = [self.slot_of(reject.ts, hole_start, hole_end) for reject in checked.rejects]
        # Served again, a slot keeps only its last answer: the candle, or the rows rejected.
        for slot in found | set(slots) - {None}:
            day.rejects.pop(slot, None)
        for slot, reject in zip(slots, checked.rejects, strict=True):
            day.reject(slot, reject)
        still = [ts for ts in range(hole_start, hole_end, self.step)
                 if ts not in found and ts not in day.rejects]
        batch.exchange_gaps.extend((a, b, (b - a) // self.step)
                                   for a, b in slots_to_ranges(still, self.step))


def _fetches(fetch_from: int, end: int, reaches_now: bool) -> bool:
    """Whether anything is asked: closed candles before `end`, or the open ones after it."""
    return fetch_from < end or (fetch_from == end and reaches_now)


def contiguous_runs(days: list[date]) -> list[tuple[date, date]]:
    """[d1, d2, d3, d7, d8] -> [(d1, d3), (d7, d8)] for sorted, distinct days."""
    runs: list[tuple[date, date]] = []
    for day in days:
        if runs and runs[-1][1] + timedelta(days=1) == day:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs
