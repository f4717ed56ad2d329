"""Pages of a backfill window taken from Binance's kline archive where it has the files,
and from the REST API everywhere else, in time order, so that the window settles days the
same way whichever answered.

A file answers for its whole period the way a forward REST page answers for the stretch up
to its last candle: every slot it leaves empty inside a known history is a hole, which the
window re-requests over REST before a day is recorded complete. Before a symbol's history is
known, a file that starts after its period's start does not by itself say the market had no
candle there: one REST request over that stretch confirms it (or finds what the file lacks).
"""

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable

from titan_dagster.ingest.pages import Page
from titan_dagster.sources.binance_archive.decode import CandleRules, Decoded
from titan_dagster.sources.binance_archive.download import UNUSABLE, ArchiveDownloads
from titan_dagster.sources.binance_archive.layout import ArchiveFile, plan
from titan_dagster.timeframes import DAY_MS, now_ms

# Files downloaded ahead of the one being stored, per window: downloading, parsing and
# writing overlap, and memory holds at most this many files' candles per window.
PREFETCH = 2

RestPages = Callable[[int, int], AsyncIterator[Page]]
# A monthly file missing this long after its month ended is not coming (Binance publishes
# them in the first days of the next month): its days' files are not asked for one by one,
# and one REST request answers for a month before a symbol's listing.
MONTHLY_PUBLICATION_MS = 14 * DAY_MS


async def archived_pages(downloads: ArchiveDownloads, market_id: str, timeframe: str,
                         rules: CandleRules, start: int, end: int, rest: RestPages,
                         rest_tail: RestPages,
                         history_known: Callable[[], bool]) -> AsyncIterator[Page]:
    """Pages covering [start, end): from the files the archive has published by now, from
    `rest` for what the files could not give (consecutive stretches asked as one), and from
    `rest_tail` after the last file (today, where the refresh's open candles come from)."""
    files = plan(market_id, timeframe, start, end, now_ms())
    gap: tuple[int, int] | None = None  # for REST, not asked yet
    async for item in _from_files(downloads, files, rules, start, end, history_known):
        if isinstance(item, tuple):
            gap = (gap[0] if gap else item[0], item[1])
            continue
        if gap:
            async for page in rest(*gap):
                yield page
            gap = None
        yield item
    covered = min(max(start, files[-1].end_ms), end) if files else start
    async for page in rest_tail(gap[0] if gap else covered, end):
        yield page


async def _from_files(downloads: ArchiveDownloads, files: Iterable[ArchiveFile],
                      rules: CandleRules, start: int, end: int,
                      history_known: Callable[[], bool]) -> AsyncIterator[Page | tuple[int, int]]:
    """Pages of the files' candles, in time order, and the stretches [lo, hi) they leave to
    REST."""
    queue = iter(files)
    pending: deque[tuple[ArchiveFile, int, int, asyncio.Task]] = deque()

    def top_up() -> None:
        while len(pending) < PREFETCH and (file := next(queue, None)) is not None:
            lo, hi = max(file.start_ms, start), min(file.end_ms, end)
            pending.append((file, lo, hi,
                            asyncio.create_task(downloads.candles(file, lo, hi, rules))))

    try:
        top_up()
        while pending:
            file, lo, hi, task = pending.popleft()
            got = await task
            top_up()
            if isinstance(got, Decoded):
                first = hi if got.first_seen is None else got.first_seen
                if first > lo and not history_known():
                    yield lo, first  # confirmed over REST before the file is believed
                yield Page([], hi, got.first_seen, archived=got)
            elif file.day is None and (got is UNUSABLE
                                       or now_ms() < file.end_ms + MONTHLY_PUBLICATION_MS):
                # A month not published yet, or unusable: its days' files.
                days = [day for day in file.days() if day.start_ms < hi and lo < day.end_ms]
                async for item in _from_files(downloads, days, rules, lo, hi, history_known):
                    yield item
            else:
                yield lo, hi
    finally:
        for *_, task in pending:
            task.cancel()
